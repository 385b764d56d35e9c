"""Special-measures histories and groups: each later step of a history told with its year
("came out in 2017 and went back in 2018"), numbered groups ("one of the 11 trusts placed in
special measures"), and the raters of a document (CQC, NHS England)."""

from __future__ import annotations

from spacy.tokens import Doc, Span

from nlp.rating_text import Entry, Mention, Unit


class HistoryReader:
    """Special-measures steps, numbered groups and raters (mixin of
    :class:`nlp.ratings.RatingExtractor`)."""

    _org_at: dict[int, Span]  # token index -> organisation mention, set per document

    def _sm_steps(self, doc: Doc, units: list[Unit], entries: list[Entry]) -> None:
        """A special-measures history told as steps ("placed in special measures in 2015,
        came out in 2017 and went back in 2018"; "Ministers took it out in 2020, only to
        return it to special measures in 2023"): each other step with its own year is an
        entry for the same body, in the same sentence or the next one."""
        index = {id(u): i for i, u in enumerate(units)}
        done: set[tuple[str, int]] = set()
        for e in list(entries):
            if e.value != "special measures" or e.implied:
                continue
            ui = index.get(id(e.unit))
            if ui is None:
                continue
            spans = [(e.unit.start, e.unit.end, e.unit)]
            if ui + 1 < len(units):
                nxt = units[ui + 1]
                first = doc[nxt.start]
                if first.lower_ in ("it", "the", "this") or doc[
                    nxt.start : nxt.end
                ].text.startswith(e.org):
                    spans.append((nxt.start, nxt.end, nxt))
            for start, end, unit in spans:
                text = doc[start:end].text
                base = doc[start].idx
                for m in self.sm_step_re.finditer(text):
                    value = (
                        "out of special measures"
                        if m.group("out") or m.group("down")
                        else "special measures"
                    )
                    span = doc.char_span(base + m.start(), base + m.end(), alignment_mode="expand")
                    if span is None:
                        continue
                    years = [
                        (i, y)
                        for i, y, fy in self._years(doc, span.end, min(span.end + 4, unit.end))
                        if not fy
                    ]
                    if not years or (e.org, span.start) in done:
                        continue
                    done.add((e.org, span.start))
                    occ = Mention(
                        span.start,
                        span.end,
                        value,
                        period=years[0][1],
                        pattern="sm_step_back" if value == "special measures" else "sm_step_out",
                    )
                    entries.append(
                        Entry(
                            e.org,
                            value,
                            years[0][1],
                            e.rater,
                            occ,
                            unit,
                            kind=e.kind,
                            body="special_measures_history",
                            period_source="history_step_year",
                        )
                    )

    def _sm_spell_clauses(self, doc: Doc, entries: list[Entry]) -> None:
        """An exit told with the spell it ends ("has come out of special measures, which it
        entered in June 2022"; "came out of special measures in 2022, having entered them in
        2020"): the clause that tells the spell's start dates the placement, an entry of its
        own."""
        for e in list(entries):
            if e.value != "out of special measures" or e.implied:
                continue
            for clause in self._spell_clauses(doc, e.occ):
                lo, hi = clause.left_edge.i, clause.right_edge.i + 1
                years = [(i, y) for i, y, fy in self._years(doc, lo, hi) if not fy]
                if len(years) != 1:
                    continue
                occ = Mention(
                    clause.i, clause.i + 1, "special measures", pattern="sm_spell_clause"
                )
                entries.append(
                    Entry(
                        e.org,
                        "special measures",
                        years[0][1],
                        None,
                        occ,
                        e.unit,
                        kind=e.kind,
                        body=e.body,
                        period_source="spell_clause_year",
                    )
                )

    def _spell_clauses(self, doc: Doc, occ: Mention) -> list:
        """The clauses that tell when the spell an exit ends began: a relative clause on
        "special measures" ("which it entered in 2022", "into which it was placed") or a
        perfect participle on the exit's verb ("having entered them in 2020")."""
        out = []
        for tok in doc[occ.start : occ.end]:
            for clause in tok.children:
                if clause.dep_ == "relcl" and clause.lemma_ in self.sm_spell_lemmas and any(
                    c.lower_ in ("which", "that")
                    or (c.dep_ == "prep" and any(g.lower_ == "which" for g in c.children))
                    for c in clause.children
                ):
                    out.append(clause)
        verb = self._governor(self._rating_token(doc, occ.start))
        for clause in verb.children:
            if (
                clause.dep_ == "advcl"
                and clause.lemma_ in self.sm_spell_lemmas
                and any(c.lower_ == "having" for c in clause.children)
            ):
                out.append(clause)
        return out

    def _numbered_groups(
        self, units: list[Unit], by_unit: list[list[Mention]], has_sm: bool, doc: Doc
    ) -> dict[str, Mention]:
        """ "the 11 trusts placed in special measures" -> {"11": special-measures occurrence}."""
        groups: dict[str, Mention] = {}
        if not has_sm:
            return groups
        for unit, occs in zip(units, by_unit, strict=True):
            for occ in occs:
                if occ.value != "special measures":
                    continue
                window = doc[max(unit.start, occ.start - 6) : occ.start]
                words = [t.lower_ for t in window]
                if not any(w in self.group_verbs for w in words):
                    continue
                for k, tok in enumerate(window[:-1]):
                    if tok.like_num and k > 0 and window[k - 1].lower_ == "the":
                        groups.setdefault(tok.text, occ)
        return groups

    def _raters(self, doc: Doc, units: list[Unit], orgs: list[Span]) -> dict[str, str | None]:
        """Who rates in this document: NHS England for CCGs where it is named with the ratings,
        the CQC for providers where it is named."""
        nhse = None
        cqc = None
        for span in orgs:
            name = span._.org_name or ""
            if name in ("Care Quality Commission", "CQC"):
                cqc = "CQC"
        nhse_spans = [span for span in orgs if span._.org_name == "NHS England"]
        for unit in units if nhse_spans else []:
            words = {t.lower_ for t in doc[unit.start : unit.end]}
            if not words & self.rater_cues:
                continue
            for span in nhse_spans:
                if (
                    span.start >= unit.start
                    and span.end <= unit.end
                    and span._.org_name == "NHS England"
                ):
                    nhse = "NHS England"
        return {"commissioner": nhse, "provider": cqc}

    def _rater(
        self,
        doc: Doc,
        unit: Unit,
        value: str,
        org_type: str,
        raters: dict[str, str | None],
        occ: Mention | None = None,
    ) -> str | None:
        named = self._acting_rater(doc, occ) if occ is not None else None
        if named is not None:
            return named
        if "special measures" in value:
            text = doc[unit.start : unit.end].text.lower()
            return raters.get("provider") if "recommend" in text else None
        return raters.get(org_type)

    def _judged_by_non_rater(self, doc: Doc, units: list[Unit], entries: list[Entry]) -> None:
        """Drop the judgements of inspectorates whose grades are not ratings (the Care
        Inspectorate, Healthcare Inspectorate Wales: ``non_rating_raters``): a rating whose
        verb names one as its judge, or an undated one of the same body with no judge of its
        own right after a sentence in which one graded it ("The Care Inspectorate graded Elm
        House as weak. The home had been graded good before.")."""
        index = {id(u): i for i, u in enumerate(units)}
        kept = []
        for e in entries:
            acting = self._acting_rater(doc, e.occ) if not e.implied else None
            if acting is not None:
                if acting not in self.non_rating_raters:
                    kept.append(e)
                continue
            ui = index.get(id(e.unit))
            if e.period is None and ui and self._non_rater_judged(doc, units[ui - 1], e.org):
                continue
            kept.append(e)
        entries[:] = kept

    def _non_rater_judged(self, doc: Doc, unit: Unit, org: str) -> bool:
        """Whether the unit names an inspectorate that gives no ratings as the judge (subject
        or "by" agent) of a rating verb, and names the body ``org``."""
        spans = {
            id(s): s for k in range(unit.start, unit.end) if (s := self._org_at.get(k)) is not None
        }.values()
        if not any(s._.org_name == org for s in spans):
            return False
        for span in spans:
            if span._.org_name not in self.non_rating_raters:
                continue
            root = span.root
            head = root.head.head if root.head.dep_ == "agent" else root.head
            if root.dep_ in ("nsubj", "pobj") and head.lower_ in self.strong_cues:
                return True
        return False

    def _acting_rater(self, doc: Doc, occ: Mention) -> str | None:
        """The body the parse names as making the judgement: the subject or the "by" agent of
        the verb that rates or places ("The Welsh Government placed the board in special
        measures", "rated inadequate by the Care Quality Commission"), where it is a
        regulator, a national body or a government."""
        verb = self._governor(self._rating_token(doc, occ.start))
        for _ in range(2):
            args = [c for c in verb.children if c.dep_ == "nsubj"]
            args += [g for c in verb.children if c.dep_ == "agent" for g in c.children]
            for arg in args:
                span = self._org_at.get(arg.i)
                if span is not None and span._.org_type in self.rater_types:
                    name = span._.org_name
                    return self.rater_short_names.get(name, name)
            if verb.dep_ not in ("conj", "xcomp") or verb.head.i == verb.i:
                break
            verb = verb.head
        return None
