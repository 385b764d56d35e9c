"""The year a rating is for: years written in the rating's own clause (by the parse), the
document's ratings year for annual CCG ratings, and the year of an inspection report
described right after an undated rating."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import NamedTuple

from spacy.tokens import Doc, Span

from nlp.rating_text import RATING_YEAR_RE, RELATIVE_YEAR_RE, Entry, Mention, Unit
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
    month_numbers: dict[str, int]

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
                found = pick(
                    [
                        y
                        for y in self._years(doc, unit.start, occ.start)
                        if self._same_clause(doc, occ.start, y[0])
                        and not self._in_other_scope(doc, y[0], occ, occs)
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
        ]
        found = pick(years)
        if found:
            return Dated(found, "own_clause")
        if relative:
            return Dated(relative, "relative_year")
        return ratings_year

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

    @staticmethod
    def _dates_verb_of(vj, vi) -> bool:
        """Whether an adverbial phrase holding the year ("Following an inspection in May
        2018, X was found to be inadequate") hangs off a verb that the rating's clause is the
        complement of."""
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
        for _ in range(4):
            if tok.dep_ not in ("advcl", "prep", "pcomp", "pobj", "npadvmod"):
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
        for unit in units[:4]:
            if unit.bullet:
                continue
            m = self.dateline_re.match(doc[unit.start : min(unit.start + 12, unit.end)].text)
            if m:
                self._date_month = self._month_of(m.group(0))
                return Dated(m.group("year"), "dateline")
            line = doc[unit.start : unit.end].text
            if unit.end - unit.start > 16 or not any(s in line for s in self.dateline_separators):
                continue
            # a masthead line of parts ("Issue 212 | 21 November 2025"): a part that is a date
            parts = [line]
            for sep in self.dateline_separators:
                parts = [piece.strip() for part in parts for piece in part.split(sep)]
            for part in parts[1:]:
                m = self.dateline_re.match(part)
                if m:
                    self._date_month = self._month_of(m.group(0))
                    return Dated(m.group("year"), "dateline_part")
        published = published_date(doc)
        self._date_month = published.month if published else None
        return Dated(str(published.year), "published_date") if published else NO_PERIOD

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
            if verb.dep_ not in ("xcomp", "ccomp", "conj", "acomp") or verb.head.i == verb.i:
                break
            verb = verb.head
        sent = doc[occ.start].sent.text.lower()
        return any(re.search(rf"\b{re.escape(w)}\b", sent) for w in self.new_report_words)

    def _shared_event_dates(self, entries: list[Entry]) -> None:
        """A rating and the placement that came with it are one event ("was rated inadequate
        and placed in special measures in March 2018"; "rated good ..., which also took it
        out of special measures"): an undated one takes the other's year."""
        by_unit: dict[tuple[int, str], list[Entry]] = {}
        for e in entries:
            if not e.implied and e.occ.role in ("plain", "new"):
                by_unit.setdefault((id(e.unit), e.org), []).append(e)
        for group in by_unit.values():
            for e in group:
                if e.period is not None:
                    continue
                dated = [
                    o
                    for o in group
                    if o.period is not None
                    and (o.value, e.value) in self.event_pairs
                    and o.period_source != "ratings_year"
                ]
                if len(dated) >= 1 and len({o.period for o in dated}) == 1:
                    e.period = dated[0].period
                    e.period_source = "shared_event_date"

    def _paired_event_years(self, entries: list[Entry]) -> None:
        """An undated placement or rating told apart from the rating that came with it
        ("X has been taken out of special measures ... It was rated good after an inspection
        in February 2025"): the year of the body's one dated event of the pair."""
        dated = {(o.org, o.value) for o in entries if o.period is not None}
        for e in entries:
            if e.period is not None or e.implied or e.occ.role not in ("plain", "new"):
                continue
            if (e.org, e.value) in dated:
                continue  # told with its year elsewhere: this is a restatement
            years = {
                o.period
                for o in entries
                if o.org == e.org
                and o.period is not None
                and not o.implied
                and o.occ.role in ("plain", "new")
                and (o.value, e.value) in self.event_pairs
                and o.period_source != "ratings_year"
            }
            if len(years) == 1:
                e.period, e.period_source = years.pop(), "paired_event_year"

    def _dateline_periods(self, doc: Doc, entries: list[Entry], date: Dated) -> None:
        """A rating reported as new in a dated document takes the document's year (calendar
        year: CQC ratings and special measures; annual CCG ratings are left alone)."""
        if date.period is None:
            return
        for e in entries:
            # years of the same sentence's earlier ratings ("an improvement on the inadequate
            # rating it received in 2017") are theirs, not this one's
            scopes = {
                i
                for o in entries
                if o.unit is e.unit and o.occ.scope is not None and o is not e
                for i in range(*o.occ.scope)
            }
            # (a year in a relative clause that tells another rating, "which has been in
            # special measures since 2024", is that rating's)
            others = [o.occ.start for o in entries if o.unit is e.unit and o is not e]
            unit_years = [
                y
                for y in self._years(doc, e.unit.start, e.unit.end)
                if y[1] != date.period
                and y[0] not in scopes
                and not self._in_rating_relative_clause(doc, y[0], e.occ.start, others)
            ]
            if (
                e.period is None
                and not unit_years  # a sentence with years of its own tells a dated past
                and not e.implied
                and e.occ.role in ("plain", "new")
                and not (e.kind == "commissioner" and "special measures" not in e.value)
            ):
                if self._reported_as_new(doc, e.occ):
                    e.period = date.period
                    e.period_source = date.source
                    continue
                # "after the CQC rated it inadequate at an inspection in September": a month
                # without a year in a dated document is the last such month
                month = self._month_without_year(doc, e.unit, e.occ)
                if month is not None and self._date_month is not None:
                    year = int(date.period) - (1 if month > self._date_month else 0)
                    e.period, e.period_source = str(year), "month_of_document_year"

    @staticmethod
    def _in_rating_relative_clause(doc: Doc, i: int, own: int, others: list[int]) -> bool:
        """Whether token i sits in a relative clause that holds another rating (at one of
        ``others``) and not the rating at ``own``."""
        tok = doc[i]
        for _ in range(8):
            if tok.dep_ == "relcl":
                lo, hi = tok.left_edge.i, tok.right_edge.i
                return not lo <= own <= hi and any(lo <= k <= hi for k in others)
            if tok.head.i == tok.i:
                return False
            tok = tok.head
        return False

    def _years_later(self, doc: Doc, units: list[Unit], entries: list[Entry]) -> None:
        """ "Placed in special measures in 2016. Two years later it was rated good": an undated
        rating in a sentence that counts years on from the year of the sentence before."""
        index = {id(u): i for i, u in enumerate(units)}
        for e in entries:
            if e.period is not None or e.implied or e.kind == "commissioner":
                continue
            ui = index.get(id(e.unit))
            if not ui:
                continue
            m = self.years_later_re.search(doc[e.unit.start : e.unit.end].text)
            if m is None:
                continue
            before = units[ui - 1]
            years = {y for _, y, fy in self._years(doc, before.start, before.end) if not fy}
            if len(years) != 1:
                continue
            n = m.group("n")
            step = 1 if n is None else int(n) if n.isdigit() else self.number_words[n.lower()]
            e.period = str(int(years.pop()) + step)
            e.period_source = "years_later"

    def _at_the_time_years(self, doc: Doc, units: list[Unit], entries: list[Entry]) -> None:
        """ "... an independent review published in 2022. The unit was rated inadequate at the
        time, although the trust as a whole was rated requires improvement": a sentence that
        points back in time takes the one year of the sentence before."""
        index = {id(u): i for i, u in enumerate(units)}
        for e in entries:
            if e.period is not None or e.implied:
                continue
            ui = index.get(id(e.unit))
            if not ui:
                continue
            text = doc[e.unit.start : e.unit.end].text.lower()
            if not any(phrase in text for phrase in self.back_in_time_phrases):
                continue
            before = units[ui - 1]
            years = {y for _, y, fy in self._years(doc, before.start, before.end) if not fy}
            if len(years) == 1:
                e.period, e.period_source = years.pop(), "at_the_time"

    def _report_years(
        self, doc: Doc, units: list[Unit], unit_mentions: list[list[Span]], entries: list[Entry]
    ) -> None:
        """An undated CQC rating takes the year of the inspection report described right after
        it ("A moved up to good. The CQC's report, published in May 2020, praised ...")."""
        index = {id(u): i for i, u in enumerate(units)}
        for e in entries:
            if (
                e.period is not None
                or e.implied
                or e.kind != "provider"
                or e.occ.role not in ("plain", "new")
                or "special measures" in e.value
            ):
                continue
            ui = index.get(id(e.unit))
            if ui is None:
                continue
            for k in range(ui + 1, min(ui + 3, len(units))):
                if any(m._.org_name != e.org for m in unit_mentions[k]):
                    break  # another body's story
                unit = units[k]
                words = {t.lower_ for t in doc[unit.start : unit.end]}
                if not words & self.report_words or not self.publish_re.search(
                    doc[unit.start : unit.end].text
                ):
                    continue
                years = [y for _, y, fy in self._years(doc, unit.start, unit.end) if not fy]
                if len(years) == 1:
                    e.period = years[0]
                    e.period_source = "inspection_report_year"
                break

    def _naming_sentence_years(
        self, doc: Doc, units: list[Unit], entries: list[Entry], date: Dated
    ) -> None:
        """A rating told of an unnamed body or a count, with the body named in the next
        sentences ("Two care homes were rated inadequate. Elm House and Ash Lodge were
        inspected in May 2023."), takes the year of those sentences: the year of the
        inspection they describe, or in an undated document a dated event of the same body
        told there (in a dated one that may be history: "was first placed there in 2015")."""
        index = {id(u): i for i, u in enumerate(units)}
        for e in entries:
            if (
                e.period is not None
                or e.implied
                or e.kind == "commissioner"
                or e.occ.role not in ("plain", "new")
                or e.body not in self.named_later_rules
            ):
                continue
            ui = index.get(id(e.unit))
            if ui is None:
                continue
            # "A home that was placed in special measures 18 months ago has been rated
            # good": a relative clause on the unnamed body tells its past
            if self._governor(self._rating_token(doc, e.occ.start)).dep_ == "relcl":
                continue
            for unit in units[ui + 1 : ui + 3]:
                dated = {
                    o.period
                    for o in entries
                    if o.unit is unit
                    and o.org == e.org
                    and o.period is not None
                    and o.occ.role in ("plain", "new")
                    and (o.value, e.value) in self.event_pairs
                }
                if len(dated) == 1 and date.period is None:
                    e.period, e.period_source = dated.pop(), "naming_sentence_event"
                    break
                words = {t.lower_ for t in doc[unit.start : unit.end]}
                years = {y for _, y, fy in self._years(doc, unit.start, unit.end) if not fy}
                if words & self.inspection_words and len(years) == 1:
                    e.period, e.period_source = years.pop(), "naming_sentence_inspection"
                    break
                if e.org in doc[unit.start : unit.end].text:
                    break

    def _list_report_years(self, doc: Doc, units: list[Unit], entries: list[Entry]) -> None:
        """A list of inspection results followed by the sentence that dates their reports
        ("- Elm House: rated good. ... All four reports were published in June 2023."): the
        undated new ratings of the list items take that year."""
        index = {id(u): i for i, u in enumerate(units)}
        for k, unit in enumerate(units):
            if unit.bullet or k == 0 or not units[k - 1].bullet:
                continue
            words = {t.lower_ for t in doc[unit.start : unit.end]}
            if not words & self.report_words or not self.publish_re.search(
                doc[unit.start : unit.end].text
            ):
                continue
            years = {y for _, y, fy in self._years(doc, unit.start, unit.end) if not fy}
            if len(years) != 1:
                continue
            year = years.pop()
            first = k - 1
            while first > 0 and units[first - 1].bullet:
                first -= 1
            for e in entries:
                ui = index.get(id(e.unit))
                if (
                    ui is not None
                    and first <= ui < k
                    and e.period is None
                    and not e.implied
                    and e.kind != "commissioner"
                    and e.occ.role in ("plain", "new")
                ):
                    e.period, e.period_source = year, "list_report_year"

    def _last_rated_years(self, doc: Doc, entries: list[Entry]) -> None:
        """The old rating of a change ("inadequate, down from requires improvement") dated by
        the document's one statement of when the body was last rated ("The trust was last
        rated in 2021."), where only one body has such an undated old rating."""
        olds = [
            e
            for e in entries
            if e.period is None
            and not e.implied
            and e.occ.role == "old"
            and e.kind != "commissioner"
        ]
        if not olds or len({e.org for e in olds}) != 1:
            return
        found = {m.group("year") for m in self.last_rated_re.finditer(self._text)}
        if len(found) != 1:
            return
        year = found.pop()
        first = min(doc[e.occ.start].idx for e in olds)
        if not any(m.start() > first for m in self.last_rated_re.finditer(self._text)):
            return  # the statement comes after the change it dates
        for e in olds:
            e.period, e.period_source = year, "last_rated_year"

    def _same_rating_before(self, doc: Doc, entries: list[Entry]) -> None:
        """ "rated requires improvement in October 2023, the same rating it received in
        2019": the body held that rating in the earlier year too (a previous rating)."""
        added = []
        for e in entries:
            if e.period is None or e.implied or e.occ.role not in ("plain", "new"):
                continue
            if "special measures" in e.value:
                continue
            after = doc[e.occ.end - 1].idx + len(doc[e.occ.end - 1])
            unit_end = doc[e.unit.end - 1].idx + len(doc[e.unit.end - 1])
            m = self.same_rating_re.search(self._text, after, unit_end)
            if m is None or m.group("year") == e.period:
                continue
            if "." in self._text[after : m.start()]:
                continue
            tok = doc.char_span(m.start(), m.end(), alignment_mode="expand")
            occ = Mention(tok.start, tok.end, e.value, "prior", pattern="same_rating_before")
            added.append(
                replace(e, occ=occ, period=m.group("year"), period_source="same_rating_year")
            )
        entries.extend(added)

    def _decision_years(self, doc: Doc, units: list[Unit], entries: list[Entry]) -> None:
        """An undated placement or rating followed by the sentence that dates the decision
        ("Announcing the decision on 9 November 2022, the minister said ..."): that year."""
        index = {id(u): i for i, u in enumerate(units)}
        for e in entries:
            if e.period is not None or e.implied or e.occ.role not in ("plain", "new"):
                continue
            ui = index.get(id(e.unit))
            if ui is None or ui + 1 >= len(units):
                continue
            unit = units[ui + 1]
            words = {t.lower_ for t in doc[unit.start : unit.end]}
            if not words & self.decision_words:
                continue
            text = doc[unit.start : unit.end].text
            years = {m.group("year") for m in self.full_date_re.finditer(text)}
            if len(years) == 1:
                e.period, e.period_source = years.pop(), "decision_date"
