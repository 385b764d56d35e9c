"""The passes that tie each unit's rating mentions to bodies, in order: the antecedents of a
relative clause, bullets under a rating header, bodies listed after a rated count named
again, numbered groups, the body named after an unnamed subject, the bodies of the rating's
own clause, the main clause's subject, and for a sentence that names no body: the body named
next, a plural anaphor, a count, or an anaphor. Each pass records its name as the entry's
``why["body"]``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span

from nlp.rating_periods import NO_PERIOD, Dated
from nlp.rating_text import Entry, Mention, Unit, anaphor_fits, rateable

PRONOUNS = frozenset({"it", "they", "them"})


@dataclass
class DocState:
    """What the passes share while reading one document."""

    doc: Doc
    units: list[Unit]
    by_unit: list[list[Mention]]  # each unit's rating mentions
    unit_mentions: list[list[Span]]  # each unit's rateable bodies
    org_spans: list[Span]
    default_fy: str | None  # the financial year of the document's annual ratings
    raters: dict[str, str | None]
    groups: dict[str, Mention]  # numbered groups ("the 11 trusts placed in ...")
    entries: list[Entry] = field(default_factory=list)
    count_ratings: list[tuple[int, Mention, Dated]] = field(default_factory=list)
    header: tuple[Unit, list[Mention]] | None = None  # a rating header over bullets


class BodyPasses:
    """Reads each unit's ratings into entries (mixin of :class:`nlp.ratings.RatingExtractor`)."""

    _table_body_starts: set[int]  # prose mentions of rating-table rows (see rating_tables)
    _added_bodies: dict[int, str]  # list-item and appositive names (see rating_tables)

    def _add(
        self,
        st: DocState,
        org_span: Span,
        occ: Mention,
        unit: Unit,
        dated: Dated,
        body: str,
        implied: bool = False,
    ) -> None:
        value = occ.value
        name = self._body_name(org_span)
        st.entries.append(
            Entry(
                name,
                value,
                dated.period,
                self._rater(st.doc, unit, value, org_span._.org_type, st.raters, occ),
                occ,
                unit,
                implied=implied,
                kind=org_span._.org_type,
                body=body,
                period_source=dated.source,
                rateable="table_row"
                if org_span.start in self._table_body_starts
                else self._added_bodies[org_span.start]
                if org_span.start in self._added_bodies
                else "type"
                if rateable(org_span)
                else "care_home"
                if self._care_home(org_span)
                else "name_suffix",
                name_rule="name" if name == org_span._.org_name else "trimmed_rating_word",
            )
        )

    def _add_event(
        self, st: DocState, org_span: Span, occ: Mention, unit: Unit, occs: list[Mention], body: str
    ) -> None:
        """Add a rating with its own period, and the placement an exit implies."""
        dated = self._period(st.doc, unit, occ, occs, org_span._.org_type, st.default_fy)
        self._add(st, org_span, occ, unit, dated, body)
        if occ.implied_in:
            implied = Mention(occ.start, occ.end, "special measures", pattern="implied_by_out")
            self._add(st, org_span, implied, unit, NO_PERIOD, body, implied=True)

    def _read_unit(self, st: DocState, ui: int) -> None:
        """Run the passes over one unit (a line or a sentence)."""
        unit, occs, mentions = st.units[ui], st.by_unit[ui], st.unit_mentions[ui]
        if not unit.bullet:
            st.header = None  # a rating header governs the bullets right after it
        consumed, handled = self._relative_clause_pass(st, ui)
        free = [m for m in mentions if m.start not in consumed]
        self._header_bullet_pass(st, ui, free)
        if unit.header and occs and not mentions:
            st.header = (unit, [o for o in occs if o.role != "old"] or occs)
            return
        self._recount_pass(st, ui, free, handled)
        self._numbered_group_pass(st, ui)
        rest = [o for i, o in enumerate(occs) if i not in handled]
        rest = self._unnamed_subject_pass(st, ui, rest)
        if not rest:
            return
        if free:
            self._clause_body_pass(st, ui, rest, free)
        elif mentions:
            self._main_clause_pass(st, ui, rest)
        else:
            self._bodiless_sentence_pass(st, ui, rest)

    def _relative_clause_pass(self, st: DocState, ui: int) -> tuple[set[int], set[int]]:
        """ "A, B and C, all three of which were rated good": the antecedents of the relative
        clause. Returns the bodies it consumed and the mentions it handled."""
        unit, occs, mentions = st.units[ui], st.by_unit[ui], st.unit_mentions[ui]
        consumed: set[int] = set()
        handled: set[int] = set()
        for oi, occ in enumerate(occs):
            group = self._which_group(st.doc, unit, occ, mentions)
            if group:
                for m in group:
                    self._add(
                        st,
                        m,
                        occ,
                        unit,
                        self._period(st.doc, unit, occ, occs, m._.org_type, st.default_fy),
                        "relative_clause_antecedent",
                    )
                    if occ.role != "old":
                        consumed.add(m.start)
                handled.add(oi)
        return consumed, handled

    def _header_bullet_pass(self, st: DocState, ui: int, free: list[Span]) -> None:
        """Bullets under a rating header ("Newly rated outstanding:")."""
        unit, occs, mentions = st.units[ui], st.by_unit[ui], st.unit_mentions[ui]
        if not (unit.bullet and st.header is not None and mentions):
            return
        h_unit, h_occs = st.header
        targets = free if not occs else [m for m in free if m is mentions[0]] or free[:1]
        for m in targets:
            for occ in h_occs:
                self._add(
                    st,
                    m,
                    occ,
                    h_unit,
                    self._period(st.doc, h_unit, occ, h_occs, m._.org_type, st.default_fy),
                    "bullet_under_rating_header",
                )

    def _recount_pass(self, st: DocState, ui: int, free: list[Span], handled: set[int]) -> None:
        """ "Among them are X and Y" after a rated count, or bodies listed after the count
        named again ("The four CCGs: X, Y and Z.")."""
        doc, unit, occs = st.doc, st.units[ui], st.by_unit[ui]
        recount = self._recount(doc, unit) if free and not occs else None
        if not ((doc[unit.start].lower_ == "among" or recount) and free):
            return
        for ci, cocc, cperiod in reversed(st.count_ratings):
            if recount and not re.search(
                rf"\b{re.escape(recount)}\b",
                doc[st.units[ci].start : st.units[ci].end].text.lower(),
            ):
                break
            if ui - ci <= 3:
                for m in free:
                    period = cperiod if m._.org_type == "commissioner" else NO_PERIOD
                    self._add(st, m, cocc, st.units[ci], period, "named_after_rated_count")
                    new_like = Mention(cocc.start, cocc.end, cocc.value, "new")
                    for occ in occs:
                        if occ.role == "old":
                            occ_period = self._period(
                                doc,
                                unit,
                                occ,
                                [occ, new_like],
                                m._.org_type,
                                cperiod.period or st.default_fy,
                            )
                            self._add(st, m, occ, unit, occ_period, "named_after_rated_count")
                            handled.add(occs.index(occ))
            break

    def _numbered_group_pass(self, st: DocState, ui: int) -> None:
        """ "one of the 11" after "the 11 trusts placed in special measures"."""
        unit = st.units[ui]
        for number, gocc in st.groups.items():
            if re.search(rf"\bof the {re.escape(number)}\b", st.doc[unit.start : unit.end].text):
                for m in st.unit_mentions[ui]:
                    self._add(st, m, gocc, unit, NO_PERIOD, "one_of_numbered_group")

    def _unnamed_subject_pass(self, st: DocState, ui: int, rest: list[Mention]) -> list[Mention]:
        """The body named in the sentences after an unnamed subject ("A practice in Kent was
        rated inadequate. Inspectors who visited Oak Surgery ..."); returns the mentions
        left."""
        doc, unit, occs, mentions = st.doc, st.units[ui], st.by_unit[ui], st.unit_mentions[ui]
        unnamed = [o for o in rest if self._indefinite_subject(doc, o.start)]
        if unnamed and not mentions:
            # "has rated a GP practice inadequate and placed it in special measures": the
            # sentence's other events are the unnamed body's too
            # -- but not one told of "another home" or "a second practice", a body of its own
            unnamed = [
                o
                for o in rest
                if o in unnamed
                or (o.role in ("plain", "new") and not self._other_body_subject(doc, o.start))
            ]
        if not unnamed:
            return rest
        later = next((ms[0] for ms in st.unit_mentions[ui + 1 : ui + 3] if ms), None)
        for occ in unnamed if later is not None else []:
            self._add(
                st,
                later,
                occ,
                unit,
                self._period(doc, unit, occ, occs, later._.org_type, st.default_fy),
                "named_after_unnamed_subject",
            )
        # "another home" beside the unnamed one is a body of its own, not the one named next
        return [o for o in rest if o not in unnamed and not self._other_body_subject(doc, o.start)]

    def _clause_body_pass(
        self, st: DocState, ui: int, rest: list[Mention], free: list[Span]
    ) -> None:
        """The bodies of each rating's own clause, or paired in order ("A was rated good, B
        “requires improvement”"); an old rating after a change follows its body."""
        doc, unit, occs = st.doc, st.units[ui], st.by_unit[ui]
        paired = self._pair_in_order(doc, rest, free)
        prev: tuple[Mention, list[Span]] | None = None
        for occ in rest:
            chosen = paired.get(id(occ))
            body = "paired_in_order"
            if not chosen:
                # "A, which the Suffolk GP Federation runs, ... will remain in special
                # measures": the subject of a relative clause the rating is not in is no
                # candidate; the main clause's subject is
                candidates = [m for m in free if not self._in_other_relative_clause(doc, m, occ)]
                if not candidates and free:
                    self._main_clause_pass(st, ui, [occ])
                    continue
                # "Somerset surgery placed in special measures: ... NHS Somerset has brought
                # in new managers": a rating told of a kind ("surgery") goes to a body of
                # that kind only
                kind = self._kind_subject(doc, occ)
                if kind is not None:
                    candidates = [m for m in candidates if self._body_name(m).endswith(kind)]
                chosen = self._clause_targets(unit, occ, candidates)
                body = "clause_bodies"
            # "B was rated requires improvement, down from good": the old rating is B's,
            # like the one it follows
            if (
                occ.role == "old"
                and prev is not None
                and prev[0].role != "old"
                and all(
                    t.is_punct or t.lower_ in self.change_links
                    for t in doc[prev[0].end : occ.start]
                )
            ):
                chosen = prev[1]
                body = "old_rating_follows_new"
            prev = (occ, chosen)
            for m in chosen:
                self._add_event(st, m, occ, unit, occs, body)

    def _kind_subject(self, doc: Doc, occ: Mention) -> tuple[str, ...] | None:
        """The name endings of the kind the rating's subject names, where the subject is a
        bare kind noun ("Haverhill surgery stays in special measures") with endings in
        ``count_kind_suffixes``; else None."""
        for arg in self._subjects(doc, occ.start, ("xcomp", "acomp", "oprd", "conj")):
            if arg.i in self._org_tokens:
                return None
            plural = arg.lower_[:-1] + "ies" if arg.lower_.endswith("y") else arg.lower_ + "s"
            kinds = self.count_kind_suffixes.get(plural)
            if kinds:
                return tuple(" " + k for k in kinds)
        return None

    def _in_other_relative_clause(self, doc: Doc, m: Span, occ: Mention) -> bool:
        """Whether body ``m`` is an argument of a relative clause that does not hold the
        rating."""
        verb = self._governor(m.root)
        if verb.dep_ != "relcl" or m.root.head.i != verb.i:
            return False
        # an explicit relative clause ("which the federation runs"), not a parse artefact
        if not any(c.lower_ in ("which", "that", "who", "whom") for c in verb.children):
            return False
        return not verb.left_edge.i <= occ.start <= verb.right_edge.i

    def _main_clause_pass(self, st: DocState, ui: int, rest: list[Mention]) -> None:
        """The bodies took a rating from a relative clause; the main clause can rate its own
        subject too ("A, which was rated inadequate in 2016, is now rated good")."""
        doc, unit, occs, mentions = st.doc, st.units[ui], st.by_unit[ui], st.unit_mentions[ui]
        for occ in rest:
            verb = self._governor(self._rating_token(doc, occ.start))
            verbs = {verb.i}
            # "A ... left the regime in 2020 and was placed back into special measures"; "A
            # ... has been told that it will stay in special measures", "was placed in
            # special measures after inspectors rated it inadequate": a clause whose rated
            # body is a pronoun rates the main clause's subject
            body = "main_clause_subject"
            while verb.head.i != verb.i and (
                verb.dep_ == "conj"
                or (verb.dep_ in ("advcl", "ccomp", "xcomp") and self._pronoun_argument(verb))
                or (verb.dep_ in ("advcl", "pcomp") and self._subjectless(verb))
            ):
                if verb.dep_ != "conj":
                    # "A ... has left them after being rated good": a clause with no subject
                    # of its own rates the main clause's subject
                    body = (
                        "main_clause_pronoun"
                        if self._pronoun_argument(verb)
                        else "main_clause_subjectless"
                    )
                # ("after being rated": the gerund hangs on its preposition)
                verb = verb.head.head if verb.dep_ == "pcomp" else verb.head
                verbs.add(verb.i)
            for m in mentions:
                if self._governor(m.root).i in verbs:
                    period = self._period(doc, unit, occ, occs, m._.org_type, st.default_fy)
                    self._add(st, m, occ, unit, period, body)

    @staticmethod
    def _subjectless(verb) -> bool:
        """Whether a clause has no subject of its own ("after being rated good")."""
        return not any(c.dep_ in ("nsubj", "nsubjpass", "expl") for c in verb.children)

    @staticmethod
    def _pronoun_argument(verb) -> bool:
        """Whether the clause's rated argument is a pronoun ("it", "they")."""
        return any(
            c.dep_ in ("nsubj", "nsubjpass", "dobj") and c.lower_ in PRONOUNS for c in verb.children
        )

    def _bodiless_sentence_pass(self, st: DocState, ui: int, rest: list[Mention]) -> None:
        """A sentence that names no body: the body named next after an unnamed one, the
        bodies named together before a plural anaphor ("Each had been rated good"), a count
        (kept for "Among them ..." and named in the next sentence when as many bodies are),
        or the body an anaphor ("the trust", "it") points back to."""
        doc, unit, occs = st.doc, st.units[ui], st.by_unit[ui]
        targets: list[Span] = []
        target_rule = "named_in_next_sentence"
        if self._indefinite(doc, unit):
            for later in st.unit_mentions[ui + 1 : ui + 3]:
                if later:
                    targets = [later[0]]
                    break
        elif (
            self._plural_anaphor(doc, unit)
            and ui > 0
            and self._named_together(doc, st.unit_mentions[ui - 1])
        ):
            targets = self._named_together(doc, st.unit_mentions[ui - 1])
            target_rule = "plural_anaphor"
        elif self._has_count(doc, unit):
            self._count_pass(st, ui, rest)
        else:
            kind = self._has_anaphor(doc, unit)
            # (not an item of a rating list dated by its heading: "- The Larches: good")
            dated_item = unit.leading_year and (
                not unit.rating_list
                or self.leading_date_re.match(doc[unit.start : min(unit.start + 8, unit.end)].text)
            )
            if kind is None and unit.bullet and dated_item:
                # a dated item of a timeline that names no body ("• November 2020: moved out
                # of special measures") tells of the body the timeline is about
                kind, timeline = "any", True
            else:
                timeline = False
            if kind is not None:
                earlier = [m for m in st.org_spans if m.end <= unit.start and anaphor_fits(kind, m)]
                if earlier:
                    targets = [self._salient(earlier)]
                    target_rule = "timeline_item" if timeline else f"anaphor:{kind}"
                elif not any(m.end <= unit.start for m in st.org_spans):
                    # "The ambulance service ... remains rated requires improvement. X NHS
                    # Trust was rated ...": an anaphor before any body is named points
                    # forward, to the first body the next sentences name
                    later = next(
                        (
                            [m for m in ms if anaphor_fits(kind, m)]
                            for ms in st.unit_mentions[ui + 1 : ui + 3]
                            if any(anaphor_fits(kind, m) for m in ms)
                        ),
                        [],
                    )
                    targets = later[:1]
                    target_rule = "anaphor_named_after"
        for target in targets:
            for occ in rest:
                self._add_event(st, target, occ, unit, occs, target_rule)

    def _count_pass(self, st: DocState, ui: int, rest: list[Mention]) -> None:
        """A rated count ("24 groups were rated outstanding") is kept for the bodies named
        among it later; "Two GP surgeries were rated inadequate. Elm Surgery and Oak Surgery
        ..." rates the next sentence's bodies when it names as many as the count."""
        doc, unit, occs = st.doc, st.units[ui], st.by_unit[ui]
        for occ in rest:
            if occ.role in ("plain", "new"):
                st.count_ratings.append(
                    (ui, occ, self._period(doc, unit, occ, occs, "commissioner", st.default_fy))
                )
        number = self._count_number(doc, unit)
        # "Two surgeries were rated inadequate. Both were inspected in May. Elm Surgery and
        # Oak Surgery ...": the first sentence after the count that names bodies
        named = next((ms for ms in st.unit_mentions[ui + 1 : ui + 3] if ms), [])
        rule = "named_after_rated_count"
        if number is not None and len(named) != number:
            # "Two GP practices ... have been rated inadequate ... The Crescent Surgery, ...
            # Also rated inadequate was Holly Tree Medical Practice": the first bodies of the
            # counted kind named in the paragraphs after, for the ratings the count is given
            named = self._counted_kind_named_later(st, ui, number)
            rule = "counted_kind_named_later"
            rest = [o for o in rest if self._rates_count(doc, unit, o)]
        if number is None or len(named) != number:
            return
        for m in named:
            for occ in rest:
                if occ.role in ("plain", "new"):
                    self._add(
                        st,
                        m,
                        occ,
                        unit,
                        self._period(doc, unit, occ, occs, m._.org_type, st.default_fy),
                        rule,
                    )

    def _rates_count(self, doc: Doc, unit: Unit, occ: Mention) -> bool:
        """Whether the rating is told of the unit's counted bodies: it comes after the counted
        noun with no new clause between ("Two surgeries rated inadequate as a third climbs
        to good": "good" is the third's). Read from the words, as the parse of a headline
        run into its first sentence is not to be trusted."""
        nouns = [
            self._counted_noun(t).i
            for t in doc[unit.start : unit.end]
            if t.tag_ == "CD" and self._counted_noun(t) is not None
        ]
        if not nouns or nouns[0] >= occ.start:
            return False
        return not any(
            t.lower_ in self.count_clause_breaks or t.text in (";", ".")
            for t in doc[nouns[0] + 1 : occ.start]
        )

    def _counted_kind_named_later(self, st: DocState, ui: int, number: int) -> list[Span]:
        """The first ``number`` bodies whose names say they are of the counted kind
        ("practices" -> "... Surgery", "... Medical Practice"), named for the first time in
        the units after the count (at most a few paragraphs on)."""
        doc, unit = st.doc, st.units[ui]
        noun = next(
            (
                self._counted_noun(t)
                for t in doc[unit.start : unit.end]
                if t.tag_ == "CD" and self._counted_noun(t) is not None
            ),
            None,
        )
        kinds = self.count_kind_suffixes.get(noun.lower_, []) if noun is not None else []
        suffixes = tuple(" " + w for w in kinds)
        if not suffixes:
            return []
        before = {m._.org_name for ms in st.unit_mentions[: ui + 1] for m in ms}
        found: list[Span] = []
        for ms in st.unit_mentions[ui + 1 : ui + 1 + self.count_lookahead]:
            for m in ms:
                name = self._body_name(m)
                if name in before or any(self._body_name(f) == name for f in found):
                    continue
                if name.endswith(suffixes):
                    found.append(m)
            if len(found) >= number:
                break
        return found[:number] if len(found) >= number else []
