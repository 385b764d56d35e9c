"""The year a rating is for: years written in the rating's own clause (by the parse), the
document's ratings year for annual CCG ratings, and the year of an inspection report
described right after an undated rating."""

from __future__ import annotations

import re
from typing import NamedTuple

from spacy.tokens import Doc

from nlp.rating_text import RATING_YEAR_RE, RELATIVE_YEAR_RE, Mention, Unit
from nlp.text import published_date, shift_financial_year


class Dated(NamedTuple):
    """A rating's period and the rule that gave it (``why["period"]``)."""

    period: str | None
    source: str


NO_PERIOD = Dated(None, "none")
# a gerund after these tells an event of its own ("before leaving in 2018")
EVENT_PREPS = frozenset({"before", "after", "until"})


class PeriodResolver:
    """Resolves rating periods (mixin of :class:`nlp.ratings.RatingExtractor`)."""

    _date_month: int | None  # the month of the document's own date, set per document
    _dateline_end: int  # the character where a dateline opening the document ends (or -1)
    month_numbers: dict[str, int]
    report_words: set[str]
    rating_year_prepositions: set[str]
    full_date_re: re.Pattern[str]
    masthead_date_line_tokens: int

    def _years(self, doc: Doc, start: int, end: int) -> list[tuple[int, str, bool]]:
        """(token index, period, is_financial_year) of the years written in doc[start:end]."""
        if end <= start:
            return []
        base = doc[start].idx
        text = self._text[base : doc[end - 1].idx + len(doc[end - 1])]
        out = []
        for m in RATING_YEAR_RE.finditer(text):
            y1, y2 = m.group(1), m.group(2)
            tok = doc.char_span(base + m.start(), base + m.end(), alignment_mode="expand")
            idx = tok.start if tok is not None else start
            if y2:
                if (int(y1) + 1) % 100 != int(y2[-2:]):
                    continue
                out.append((idx, f"{y1}-{y2[-2:]}", True))
            else:
                out.append((idx, y1, False))
        return out

    def _ratings_year(self, doc: Doc, units: list[Unit]) -> str | None:
        """The financial year the document's annual ratings are for (first one named with a
        rating word)."""
        for unit in units:
            if any(t.lower_ in self.year_cues for t in doc[unit.start : unit.end]):
                fys = [p for _, p, fy in self._years(doc, unit.start, unit.end) if fy]
                if fys:
                    return fys[0]
        return None

    def _period(
        self,
        doc: Doc,
        unit: Unit,
        occ: Mention,
        occs: list[Mention],
        org_type: str,
        default_fy: str | None,
    ) -> Dated:
        """The rating's period and where it came from (its own clause, the scope of an old
        rating in a change, the document's ratings year, a relative year ...)."""
        annual = (
            org_type == "commissioner"
            and occ.value != "special measures"
            and "special measures" not in occ.value
        )

        own_verb = self._governor(self._rating_token(doc, occ.start)).i

        def pick(years):
            if annual:
                years = [y for y in years if y[2]]
            elif occ.value in ("outstanding", "good", "requires improvement", "inadequate"):
                years = [y for y in years if not y[2]] or years
            if not years:
                return None
            # a year on the rating's own verb first ("first rated outstanding in 2016, having
            # been rated good at its first inspection in 2014": 2014 for "good"), then the
            # nearest
            return min(
                years,
                key=lambda y: (self._governor(doc[y[0]]).i != own_verb, abs(y[0] - occ.start)),
            )[1]

        relative = None
        if annual and default_fy:
            cs, ce = self._clause(doc, unit, occ.start, occ.end)
            m = RELATIVE_YEAR_RE.search(doc[cs:ce].text)
            if m:
                relative = (
                    default_fy
                    if m.group(0).lower() == "this year"
                    else (shift_financial_year(default_fy, -1))
                )
        ratings_year = Dated(default_fy, "ratings_year") if annual and default_fy else NO_PERIOD
        if unit.leading_year and not annual and occ.role in ("plain", "new"):
            right_after = self._year_right_after(doc, unit, occ)
            if right_after:
                # a history written as "good in 2017, requires improvement in 2021": each
                # rating's own year, over the year of the list's heading or a timeline's date
                return Dated(right_after, "rating_year_after")
            # a timeline item ("• September 2018 – ... it is rated inadequate"): its date
            # governs the events it lists, over a year named in passing ("since its 2015
            # inspection")
            return Dated(unit.leading_year, "leading_date")
        when_year = self._when_clause_year(doc, occ) if occ.role in ("plain", "new") else None
        if when_year and not annual:
            # "was last inspected in 2019, when it was rated good"
            return Dated(when_year, "when_clause_year")
        where = self._where_clause_year(doc, occ) if occ.value == "special measures" else None
        if where and occ.role in ("plain", "new"):
            # "remains in special measures, where it has been since 2015" / "where it was
            # placed for a second time in February 2023"
            return Dated(where[0], where[1])
        if occ.scope is not None:
            found = pick(self._years(doc, *occ.scope))
            if found:
                return Dated(found, "own_scope")
            if occ.role == "prior":
                # an annual rating kept is the one for the year the document reports
                if relative:
                    return Dated(relative, "relative_year")
                if occ.kept:
                    return ratings_year
                # "Its previous overall rating, given in 2021, was good": a year before the
                # rating word in its own clause
                # (a dateline opening the sentence dates the news, not the earlier rating)
                found = pick(
                    [
                        y
                        for y in self._years(doc, unit.start, occ.start)
                        if self._same_clause(doc, occ.start, y[0])
                        and not self._in_other_scope(doc, y[0], occ, occs)
                        and doc[y[0]].idx >= self._dateline_end
                    ]
                )
                return Dated(found, "own_clause_before") if found else NO_PERIOD
            if occ.role == "plain":
                return Dated(relative, "relative_year") if relative else ratings_year
            if occ.role == "old":
                if not annual:
                    return NO_PERIOD
                new = next((o for o in occs if o.role == "new"), None)
                current = None
                if new is not None:
                    current = self._period(doc, unit, new, occs, org_type, default_fy).period
                current = current or default_fy
                if not current:
                    return NO_PERIOD
                return Dated(shift_financial_year(current, -1), "year_before_new")
        years = [
            y
            for y in self._years(doc, unit.start, unit.end)
            if self._same_clause(doc, occ.start, y[0])
            and not self._in_other_scope(doc, y[0], occ, occs)
            and not self._on_other_rating_verb(doc, y[0], occ, occs)
        ]
        found = pick(years)
        if found:
            return Dated(found, "own_clause")
        if relative:
            return Dated(relative, "relative_year")
        return ratings_year

    def _year_right_after(self, doc: Doc, unit: Unit, occ: Mention) -> str | None:
        """The calendar year written right after the rating word ("good in 2017",
        "inadequate since March 2019", "requires improvement (2021)"), else None."""
        i = occ.end
        if i < unit.end and doc[i].text == "(":
            i += 1
        elif i < unit.end and doc[i].lower_ in self.rating_year_prepositions:
            i += 1
            if i < unit.end and self._month_of(doc[i].text) is not None:
                i += 1
        else:
            return None
        years = self._years(doc, i, min(i + 1, unit.end))
        if years and years[0][0] == i and not years[0][2]:
            return years[0][1]
        return None

    def _in_other_scope(self, doc: Doc, i: int, occ: Mention, occs: list[Mention]) -> bool:
        """Whether the year at token i is another rating's own ("an improvement on the
        inadequate rating it received in 2017"), unless the parse hangs it on this rating's
        verb and not on the other's ("had rated it inadequate and placed it in special
        measures in May 2023": the year dates the placement too)."""
        own = self._governor(self._rating_token(doc, occ.start)).i
        year_verb = self._governor(doc[i]).i
        for other in occs:
            if other is occ or other.scope is None or not other.scope[0] <= i < other.scope[1]:
                continue
            if year_verb == own and self._governor(self._rating_token(doc, other.start)).i != own:
                continue
            return True
        return False

    def _on_other_rating_verb(self, doc: Doc, i: int, occ: Mention, occs: list[Mention]) -> bool:
        """Whether the year at token i hangs on the verb of another rating of the sentence and
        not on this one's ("A, rated inadequate in 2020, is now rated good": 2020 is the
        inadequate rating's, however the parser joins the two clauses)."""
        own = self._governor(self._rating_token(doc, occ.start)).i
        year_verb = self._governor(doc[i]).i
        # (only a rating told in its own right: an old one of a change shares the verb)
        return year_verb != own and any(
            other is not occ
            and other.role in ("plain", "new")
            and self._governor(self._rating_token(doc, other.start)).i == year_verb
            for other in occs
        )

    def _when_clause_year(self, doc: Doc, occ: Mention) -> str | None:
        """The year a "when" clause holding the rating hangs off by the parse ("inspected in
        2019, when it was rated good"): that year dates the rating."""
        verb = self._governor(self._rating_token(doc, occ.start))
        if verb.dep_ not in ("relcl", "advcl") or not any(
            c.lower_ == "when" and c.i < verb.i for c in verb.children
        ):
            return None
        head = verb.head
        if head.i < verb.i and re.fullmatch(r"(?:19|20)\d{2}", head.text):
            return head.text
        return None

    @staticmethod
    def _where_clause_year(doc: Doc, occ: Mention) -> tuple[str, str] | None:
        """The year of a "where" clause on the rating words and the rule that read it: "in
        special measures, where it has been since 2015" (``where_since_year``) or "where it
        was placed for a second time in February 2023" (``where_clause_year``): the year
        the spell began."""
        for tok in doc[occ.start : occ.end]:
            for clause in tok.children:
                if clause.dep_ != "relcl" or not any(c.lower_ == "where" for c in clause.children):
                    continue
                for prep in clause.children:
                    if prep.dep_ != "prep" or prep.lower_ not in ("since", "in"):
                        continue
                    for sub in prep.subtree:
                        if re.fullmatch(r"(?:19|20)\d{2}", sub.text):
                            rule = (
                                "where_since_year"
                                if prep.lower_ == "since"
                                else "where_clause_year"
                            )
                            return sub.text, rule
        return None

    def _same_clause(self, doc: Doc, i: int, j: int) -> bool:
        """Whether token j (a year) belongs to the clause of token i (a rating) by the parse:
        not in a relative clause or a coordinated clause of its own ("A, which was rated good
        in 2018-19, is now outstanding"; "entered special measures in 2020 and has since been
        rated requires improvement")."""
        vi = self._governor(self._rating_token(doc, i))
        vj = self._governor(doc[j])
        # (a year on "requires" of "requires improvement", parsed as a verb of its own)
        if vi.i == vj.i or vj.i == i:
            return True
        for low, high in ((vi, vj), (vj, vi)):
            tok = low
            steps = 0
            while tok.head.i != tok.i and steps < 12:
                # "the rating it has held since 2019": a relative clause on the rating
                # itself dates it
                if tok.dep_ == "conj" or (
                    tok.dep_ == "relcl" and tok.head.lower_ not in self.dating_nouns
                ):
                    break
                # "one of a handful of trusts to have held the top rating since 2016": a
                # clause on another noun tells of that noun; one on the rating, a report or
                # an inspection ("in a report published in May 2025") dates the rating
                from_year = low is vj
                if (
                    from_year
                    and tok.dep_ in ("acl", "appos")
                    and tok.head.lower_ not in self.dating_nouns
                ):
                    break
                # "spent two years in special measures before leaving in 2018": the year of
                # an event told after "before"/"after" is that event's
                if from_year and tok.dep_ == "pcomp" and tok.head.lower_ in EVENT_PREPS:
                    return False
                tok = tok.head
                steps += 1
                if tok.i == high.i:
                    return True
        return self._dates_verb_of(vj, vi)

    def _dates_verb_of(self, vj, vi) -> bool:
        """Whether an adverbial phrase holding the year ("Following an inspection in May
        2018, X was found to be inadequate") hangs off a verb that the rating's clause is the
        complement of, or dates a report that is that verb's subject ("Its report, published
        in May 2025, rates it inadequate")."""
        chain = {vi.i}
        fronted = set()  # verbs coordinated with the rating's: a fronted adverbial covers both
        tok = vi
        while tok.dep_ in ("xcomp", "ccomp", "oprd", "conj") and tok.head.i != tok.i:
            if tok.dep_ == "conj" or fronted:
                fronted.add(tok.head.i)
            else:
                chain.add(tok.head.i)
            tok = tok.head
        tok = vj
        for _ in range(5):
            # (a participle on a report, and the report as the subject)
            report = tok.dep_ == "acl" and tok.head.lower_ in self.report_words
            subject = tok.dep_ in ("nsubj", "nsubjpass") and tok.lower_ in self.report_words
            adverbial = tok.dep_ in ("advcl", "prep", "pcomp", "pobj", "npadvmod")
            if not (report or subject or adverbial):
                return False
            if tok.dep_ == "pcomp" and tok.head.lower_ in EVENT_PREPS:
                return False
            child = tok
            tok = tok.head
            if tok.i in chain or (tok.i in fronted and child.i < tok.i):
                return True
        return False

    def _leading_years(self, doc: Doc, units: list[Unit]) -> None:
        """Mark the list items that open with a date and a dash ("• October 2013 – ..."), and
        the timeline lines that open with a year or a month and year and a dash ("2016 – The
        CQC rates ... . NHS Improvement places it ...": every sentence of the line; a
        dateline's day keeps a dated release's first line out)."""
        line_year: str | None = None
        for unit in units:
            start_char = doc[unit.start].idx
            line_start = start_char == 0 or "\n" in self._text[max(0, start_char - 2) : start_char]
            m = self.leading_date_re.match(doc[unit.start : min(unit.start + 8, unit.end)].text)
            if unit.bullet:
                line_year = None
                if m:
                    unit.leading_year = m.group("year")
                continue
            if line_start:
                # the unit may be only the line's opening ("2016 –" parsed as a sentence)
                line = self._text[start_char : start_char + 40].split("\n", 1)[0] + " "
                m = self.leading_date_re.match(line)
                line_year = m.group("year") if m and not m.group("day") else None
            if line_year:
                unit.leading_year = line_year

    def _document_date(self, doc: Doc, units: list[Unit]) -> Dated:
        """The year the document states as its own date: a dateline in its first lines
        ("13 October 2017 – ...", "Published 9 January 2015"), else the publication date the
        crawler recorded."""
        self._dateline_end = -1
        for unit in units[:4]:
            if unit.bullet:
                continue
            m = self.dateline_re.match(doc[unit.start : min(unit.start + 12, unit.end)].text)
            if m:
                self._date_month = self._month_of(m.group(0))
                self._dateline_end = doc[unit.start].idx + m.end()
                return Dated(m.group("year"), "dateline")
            line = doc[unit.start : unit.end].text
            if unit.end - unit.start <= 16 and any(s in line for s in self.dateline_separators):
                # a masthead line of parts ("Issue 212 | 21 November 2025"): a part that is a
                # date
                parts = [line]
                for sep in self.dateline_separators:
                    parts = [piece.strip() for part in parts for piece in part.split(sep)]
                for part in parts[1:]:
                    m = self.dateline_re.match(part)
                    if m:
                        self._date_month = self._month_of(m.group(0))
                        return Dated(m.group("year"), "dateline_part")
            date_line = self._masthead_date_line(doc, unit)
            if date_line:
                # "Weekly digest, 3 October 2025", "Week ending 14 November 2025 (month 8)":
                # a short line of the masthead with one full date dates the page
                self._date_month = self._month_of(date_line.group(0))
                return Dated(date_line.group("year"), "masthead_date_line")
        published = published_date(doc)
        self._date_month = published.month if published else None
        return Dated(str(published.year), "published_date") if published else NO_PERIOD

    def _masthead_date_line(self, doc: Doc, unit: Unit) -> re.Match[str] | None:
        """The one full date ("3 October 2025") of a short whole line that is not a sentence
        (no closing full stop), else None."""
        start_char = doc[unit.start].idx
        end_char = doc[unit.end - 1].idx + len(doc[unit.end - 1])
        whole_line = (start_char == 0 or self._text[start_char - 1] == "\n") and (
            end_char >= len(self._text) or self._text[end_char] == "\n"
        )
        if not whole_line or unit.end - unit.start > self.masthead_date_line_tokens:
            return None
        line = self._text[start_char:end_char]
        if line.rstrip().endswith("."):
            return None
        dates = list(self.full_date_re.finditer(line))
        return dates[0] if len(dates) == 1 else None

    def _month_of(self, text: str) -> int | None:
        """The number of the first month named in ``text``."""
        for word in re.findall(r"[A-Z][a-z]+", text):
            if word in self.month_numbers:
                return self.month_numbers[word]
        return None

    def _month_without_year(self, doc: Doc, unit: Unit, occ: Mention) -> int | None:
        """A month named without a year in the rating's own clause ("rated it inadequate at
        an inspection in September"), as a number."""
        cs, ce = self._clause(doc, unit, occ.start, occ.end)
        for tok in doc[cs:ce]:
            if tok.text in self.month_numbers and tok.ent_type_ == "DATE":
                near = doc[max(0, tok.i - 2) : tok.i + 3].text
                if RATING_YEAR_RE.search(near):
                    return None
                if self._same_clause(doc, occ.start, tok.i):
                    return self.month_numbers[tok.text]
        return None

    def _reported_as_new(self, doc: Doc, occ: Mention) -> bool:
        """A rating the text reports as news ("has been rated", "is rated", "must remain",
        "today"), not one told in the past tense."""
        verb = self._governor(self._rating_token(doc, occ.start))
        for _ in range(3):
            if (
                verb.tag_ in ("VBZ", "VBP")
                or verb.lower_ in self.new_report_aux
                or any(
                    c.dep_ in ("aux", "auxpass") and c.lower_ in self.new_report_aux
                    for c in verb.children
                )
            ):
                return True
            if verb.dep_ == "acl" and verb.head.pos_ == "NOUN":
                # "have led to a trust being downgraded": the news is told by the verb the
                # rated noun hangs from
                verb = self._governor(verb.head)
                continue
            if verb.dep_ not in ("xcomp", "ccomp", "conj", "acomp") or verb.head.i == verb.i:
                break
            verb = verb.head
        sent = doc[occ.start].sent.text.lower()
        return any(re.search(rf"\b{re.escape(w)}\b", sent) for w in self.new_report_words)
