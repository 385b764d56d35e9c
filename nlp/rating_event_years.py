"""Years a rating takes after the passes, from the other ratings of its body and from the
sentences around it: a rating and the placement told with it or apart from it, a dated
release, "two years later", an inspection report or a decision dated in the next sentence,
the sentence that names a body rated as a count, a dated list of reports, "last rated in",
"the same rating it received in", "at the time". Each records its rule as
``why["period"]``."""

from __future__ import annotations

import re
from dataclasses import replace

from spacy.tokens import Doc, Span

from nlp.rating_periods import Dated
from nlp.rating_text import Entry, Mention, Unit, rateable


class EventYears:
    """Document-level period passes (mixin of :class:`nlp.ratings.RatingExtractor`; the
    parse helpers come from :class:`nlp.rating_periods.PeriodResolver`)."""

    _org_at: dict[int, Span]  # token index -> organisation mention, set per document

    def _shared_event_dates(self, doc: Doc, entries: list[Entry]) -> None:
        """A rating and the placement that came with it are one event ("was rated inadequate
        and placed in special measures in March 2018"; "rated good ..., which also took it
        out of special measures"): an undated one takes the other's year -- not one told as
        news beside a past one ("left special measures in 2020 and has now been rated
        good")."""
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
                    and not (self._told_as_now(doc, e) and not self._told_as_now(doc, o))
                ]
                if len(dated) >= 1 and len({o.period for o in dated}) == 1:
                    e.period = dated[0].period
                    e.period_source = "shared_event_date"

    def _paired_event_years(self, doc: Doc, entries: list[Entry]) -> None:
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
                and not (o.unit is e.unit and self._told_as_now(doc, e))
            }
            if len(years) == 1:
                e.period, e.period_source = years.pop(), "paired_event_year"

    def _relative_document_years(
        self, doc: Doc, units: list[Unit], entries: list[Entry], date: Dated
    ) -> None:
        """ "rated good this spring", "placed in special measures last year" in a dated
        document: a relative year in the rating's own clause counts from the document's year
        (``relative_to_document``); in an undated one it gives nothing."""
        if date.period is None or not date.period.isdigit():
            return
        for e in entries:
            if e.period is not None or e.implied:
                continue
            cs, ce = self._clause(doc, e.unit, e.occ.start, e.occ.end)
            base = doc[cs].idx
            for m in self.document_relative_re.finditer(doc[cs:ce].text):
                tok = doc.char_span(base + m.start(), base + m.end(), alignment_mode="expand")
                if tok is None or not self._same_clause(doc, e.occ.start, tok.end - 1):
                    continue
                step = -1 if m.group(0).lower().startswith("last") else 0
                e.period = str(int(date.period) + step)
                e.period_source = "relative_to_document"
                break

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
                # ("came out of special measures in 2020 and has now been rated good": a
                # year of another clause does not make news told now a dated past)
                and not (
                    self._told_as_now(doc, e) and not self._same_clause(doc, e.occ.start, y[0])
                )
            ]
            if (
                e.period is None
                and not unit_years  # a sentence with years of its own tells a dated past
                and not e.implied
                # ("has kept its outstanding rating": held again, so new in this release)
                and (e.occ.role in ("plain", "new") or (e.occ.role == "prior" and e.occ.kept))
                and not (e.kind == "commissioner" and "special measures" not in e.value)
            ):
                # (an item of a list of ratings is news as the list is)
                if e.occ.pattern == "rating_list_item" or self._reported_as_new(doc, e.occ):
                    e.period = date.period
                    e.period_source = date.source
                    continue
                # "Inspectors rated X good, up from inadequate": a change told with the
                # rating it replaced is the news of a dated release, whatever its tense
                if self._told_as_change(e, entries):
                    e.period = date.period
                    e.period_source = "dated_change"
                    continue
                # "after the CQC rated it inadequate at an inspection in September": a month
                # without a year in a dated document is the last such month
                month = self._month_without_year(doc, e.unit, e.occ)
                if month is not None and self._date_month is not None:
                    year = int(date.period) - (1 if month > self._date_month else 0)
                    e.period, e.period_source = str(year), "month_of_document_year"
                    if month > self._date_month and self._inspection_month(doc, e):
                        # "rated inadequate following an inspection in November" on a
                        # February page: the inspection was last year, the rating it led
                        # to is the page's news
                        e.period, e.period_source = date.period, "inspection_month_before_news"
                elif self._rated_by_inspectors(doc, e):
                    # "Inspectors rated the home inadequate": the regulator's judgement told
                    # in the past simple is the inspection the dated release reports
                    e.period, e.period_source = date.period, "dated_inspectors_verb"

    def _inspection_month(self, doc: Doc, e: Entry) -> bool:
        """Whether the rating's clause dates only its inspection ("following an inspection in
        November", "inspected in March"), not the rating."""
        cs, ce = self._clause(doc, e.unit, e.occ.start, e.occ.end)
        return any(
            tok.text in self.month_numbers
            and tok.i >= cs + 2
            and doc[tok.i - 1].lower_ == "in"
            and doc[tok.i - 2].lower_ in self.inspection_words
            for tok in doc[cs:ce]
        )

    def _told_as_now(self, doc: Doc, e: Entry) -> bool:
        """Whether the rating's own verb tells it as news with an adverb of ``now_words``
        ("has now been rated")."""
        verb = self._governor(self._rating_token(doc, e.occ.start))
        verbs = [verb]
        # ("has been rated inadequate and put into special measures": a coordinated verb
        # shares the auxiliary of the first)
        while verbs[-1].dep_ == "conj" and len(verbs) < 4:
            verbs.append(verbs[-1].head)
        return any(
            c.dep_ == "advmod" and c.lower_ in self.now_words
            for v in verbs
            for c in v.children
        )

    def _rated_by_inspectors(self, doc: Doc, e: Entry) -> bool:
        """Whether the rating's own verb is in the past simple with the inspectors or the
        regulator as its subject ("Inspectors rated it good", "The CQC rated ...")."""
        verb = self._governor(self._rating_token(doc, e.occ.start))
        if verb.tag_ != "VBD" or any(c.dep_ == "aux" for c in verb.children):
            return False
        for c in verb.children:
            if c.dep_ != "nsubj":
                continue
            span = self._org_at.get(c.i)
            if c.lower_ in self.inspector_words or (
                span is not None and span._.org_type == "regulator"
            ):
                return True
        return False

    @staticmethod
    def _told_as_change(e: Entry, entries: list[Entry]) -> bool:
        """Whether the rating is the new one of a change: the same sentence gives the same
        body the old rating it replaced ("up from inadequate", "downgraded from good")."""
        return e.occ.role in ("plain", "new") and any(
            o.unit is e.unit and o.org == e.org and o.occ.role == "old" and o is not e
            for o in entries
        )

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
            # "A year later it was rated requires improvement, and in April it was rated
            # good": not a rating past a new clause with its own time
            between = self._text[doc[e.unit.start].idx + m.end() : doc[e.occ.start].idx]
            if m.start() > doc[e.occ.start].idx - doc[e.unit.start].idx or re.search(
                r"[,;]\s+(?:and|but|then)\b", between
            ):
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

    def _same_time_years(self, doc: Doc, entries: list[Entry]) -> None:
        """ "... in a report published on 12 June 2025. ... In the same week, the CQC rated it
        requires improvement": an undated rating told as happening at the same time as an
        event before it takes the year of the last full date (day, month, year) before it."""
        for e in entries:
            if e.period is not None or e.implied or e.occ.role not in ("plain", "new"):
                continue
            text = doc[e.unit.start : e.unit.end].text.lower()
            if not any(phrase in text for phrase in self.same_time_phrases):
                continue
            # (a year alone is no anchor for a week or a day: it may be another rating's)
            dates = list(self.full_date_re.finditer(self._text, 0, doc[e.unit.start].idx))
            if dates:
                e.period, e.period_source = dates[-1].group("year"), "same_time"

    def _story_inspection_year(
        self, doc: Doc, units: list[Unit], by_unit: list[list[Mention]], entries: list[Entry]
    ) -> None:
        """ "Inspectors visited all three in January 2024. ... The third practice moved up
        from requires improvement to good": where the document tells of one inspection, with
        one year, in a sentence that gives no rating itself, the ratings reported after it
        take that year (not the earlier ratings they replace)."""
        index = {id(u): i for i, u in enumerate(units)}
        found = []
        for k, unit in enumerate(units):
            toks = doc[unit.start : unit.end]
            if by_unit[k] or not any(t.lower_ in self.inspection_verbs for t in toks):
                continue
            if any(t.lower_ in self.previous_words for t in toks):
                continue  # "was last inspected in 2019" dates an earlier rating
            years = {y for _, y, fy in self._years(doc, unit.start, unit.end) if not fy}
            if years:
                found.append((k, years))
        if len(found) != 1 or len(found[0][1]) != 1:
            return
        k, years = found[0]
        year = years.pop()
        for e in entries:
            ui = index.get(id(e.unit))
            if (
                e.period is None
                and not e.implied
                and ui is not None
                and ui > k
                and e.kind == "provider"
                and e.occ.role in ("plain", "new")
            ):
                e.period, e.period_source = year, "story_inspection_year"

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
                # a sentence that dates its own rating of the body tells history, not this
                # rating's year ("X had been rated good at its last inspection in 2019")
                own_history = any(
                    o.unit is unit and o.org == e.org and o.value != e.value and o.period in years
                    for o in entries
                )
                if words & self.inspection_words and len(years) == 1 and not own_history:
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

    def _repeated_rating_years(self, doc: Doc, entries: list[Entry]) -> None:
        """ "requires improvement in 2018 and again in 2022": the same rating, given again in
        the later year, is an entry of its own."""
        added = []
        for e in entries:
            if e.period is None or e.implied or "special measures" in e.value:
                continue
            after = doc[e.occ.end - 1].idx + len(doc[e.occ.end - 1])
            unit_end = doc[e.unit.end - 1].idx + len(doc[e.unit.end - 1])
            m = self.repeated_rating_re.match(self._text, after, unit_end)
            if m is None or m.group("first") != e.period or m.group("year") == e.period:
                continue
            tok = doc.char_span(m.start("year"), m.end("year"), alignment_mode="expand")
            if tok is None:
                continue
            occ = replace(e.occ, start=tok.start, end=tok.end, pattern="repeated_rating")
            added.append(
                replace(e, occ=occ, period=m.group("year"), period_source="repeated_rating_year")
            )
        entries.extend(added)

    def _decision_years(
        self, doc: Doc, units: list[Unit], entries: list[Entry], date: Dated
    ) -> None:
        """An undated placement or rating followed by the sentence that dates the decision
        ("Announcing the decision on 9 November 2022, the minister said ..."): that year; in
        a document with no date of its own, a rating reported as new ("has taken the board
        out of special measures") followed by a sentence with a full date ("told the Senedd
        on 18 November 2025 that ...") is that date's news (``news_date``)."""
        index = {id(u): i for i, u in enumerate(units)}
        for e in entries:
            if e.period is not None or e.implied or e.occ.role not in ("plain", "new"):
                continue
            ui = index.get(id(e.unit))
            if ui is None or ui + 1 >= len(units):
                continue
            unit = units[ui + 1]
            words = {t.lower_ for t in doc[unit.start : unit.end]}
            source = "decision_date"
            if not words & self.decision_words:
                if (
                    date.period is not None
                    or unit.bullet
                    or words & self.previous_words
                    or e.kind == "commissioner"
                    or self._names_other_body(unit, e.org)
                    # (a date of a rating told there is that rating's)
                    or any(o.unit is unit for o in entries)
                    or not self._reported_as_new(doc, e.occ)
                ):
                    continue
                source = "news_date"
            text = doc[unit.start : unit.end].text
            years = {m.group("year") for m in self.full_date_re.finditer(text)}
            if len(years) == 1:
                e.period, e.period_source = years.pop(), source

    def _names_other_body(self, unit: Unit, org: str) -> bool:
        """Whether the unit names a body that can be rated other than ``org`` (the next
        story's, not this one's)."""
        return any(
            (span := self._org_at.get(k)) is not None
            and rateable(span)
            and span._.org_name != org
            for k in range(unit.start, unit.end)
        )
