"""Rating mentions read as events: which rating word counts (rating context, drafts,
hypotheticals, negations, service-level ratings) and its role in a change (new, old, prior)."""

from __future__ import annotations

import re
from typing import Any

from spacy.tokens import Doc

from nlp.rating_text import QUOTES, RATING_YEAR_RE, Entry, Mention, Unit

MODALS = frozenset({"could", "might", "may", "should", "would", "must"})
# the parts of speech of a rated object between a rating verb and the rating word
OBJECT_POS = frozenset({"DET", "NOUN", "PROPN", "ADJ", "NUM", "PART"})
# "no longer in special measures"
NO_LONGER_IN_RE = re.compile(r"\bno\s+longer\s+(?:in|under)\s+(?:the\s+)?$", re.IGNORECASE)
# (not "no longer in special measures territory": a noun after it makes it a description)
NO_LONGER_SM_RE = re.compile(
    r"\bno\s+longer\s+(?:in|under)\s+(?:the\s+)?(?:special\s+measures|them|regime)\b"
    r"(?!\s+(?!(?:and|but|or|after|since|for|as|because|following|when|while|until|in|at|by|"
    r"with|from|on|to|this|that|last)\b)[a-z])"
)
# what separates a list item's name from its rating ("Elm Surgery, Ashby: Good")
LIST_ITEM_SEPARATORS = frozenset({":", "–", "—", "-", "|"})


class EventReader:
    """Reads the rating mentions of a unit (mixin of :class:`nlp.ratings.RatingExtractor`)."""

    def _occurrences(
        self, doc: Doc, unit: Unit, has_sm: bool, matches: list[tuple[int, int, int]]
    ) -> list[Mention]:
        occs: list[Mention] = []
        for match_id, s, e in matches:
            if s < unit.start or e > unit.end:
                continue
            value = doc.vocab.strings[match_id]
            if value == "sm_pronoun":
                # "a trust put into special measures in 2023 has come out of them", "...
                # left special measures. It first went into them in 2021": the pronoun stands
                # for special measures named before it in the paragraph, after an exit or an
                # entry verb
                step = self._sm_pronoun_step(doc, unit, s) if has_sm else None
                if step is None:
                    continue
                occ = self._read(doc, unit, s, e, "special measures")
                if occ is not None and (occ.value == "out of special measures") == (step == "out"):
                    occ.pattern = f"sm_{step}_pronoun"
                    occs.append(occ)
                continue
            if value == "regime":
                if not has_sm:
                    continue
                value = "special measures"
            # a rating listed after another ("A was rated good, B “requires improvement”
            # and C “inadequate”") shares its context
            listed = bool(occs) and all(
                t.text in QUOTES or t.lower_ in (",", "and", "or", ";") or t.i in self._org_tokens
                for t in doc[occs[-1].end : s]
            )
            # ... each with its date: "rated requires improvement in 2021 and good in 2017"
            dated = bool(occs) and self._dated_listing(doc, occs[-1].end, s)
            occ = self._read(doc, unit, s, e, value, listed=listed or dated)
            if occ is not None:
                if dated:
                    # its own date follows it, and it is as old as the rating before it
                    occ.scope = (s, self._clause(doc, unit, s, e)[1])
                    if occs[-1].role == "prior":
                        occ.role = "prior"
                occs.append(occ)
        # a "new" rating needs an "old" one before it in the same unit
        seen_old = False
        for occ in occs:
            if occ.role == "old":
                seen_old = True
            elif occ.role == "new" and not seen_old:
                occ.role = "plain"
        return occs

    def _sm_pronoun_step(self, doc: Doc, unit: Unit, s: int) -> str | None:
        """ "out" where the pronoun at ``s`` follows an exit word ("out of them", "left
        them"), "in" where it follows an entry verb ("went into them"), with special
        measures named before it in the same paragraph; else None."""
        start = self._text.rfind("\n", 0, doc[s].idx) + 1
        before = self._text[start : doc[s].idx]
        if "special measures" not in before.lower():
            return None
        if self.out_re.search(before[-40:]):
            return "out"
        return "in" if self.sm_pronoun_entry_re.search(before[-40:]) else None

    def _dated_listing(self, doc: Doc, start: int, s: int) -> bool:
        """Whether only a date and "and" or a comma part a rating from the one before
        ("requires improvement in 2021 and good in 2017")."""
        between = doc[start:s]
        if len(between) < 3 or between[-1].lower_ not in ("and", ","):
            return False
        if between[0].lower_ not in self.listing_date_prepositions:
            return False
        return any(t.ent_type_ == "DATE" for t in between) and all(
            t.ent_type_ == "DATE"
            or t.lower_ in self.listing_date_prepositions
            or t.lower_ in (",", "and")
            for t in between
        )

    def _read(
        self, doc: Doc, unit: Unit, s: int, e: int, value: str, listed: bool = False
    ) -> Mention | None:
        prev = self._prev_tokens(doc, unit, s, 5)
        before = self._text[max(doc[unit.start].idx, doc[s].idx - 40) : doc[s].idx]
        nxt = self._next_token(doc, unit, e)
        cs, ce = self._clause(doc, unit, s, e)
        clause_text = doc[cs:ce].text.lower()
        # proper nouns and dates are not cue words ("in May 2017" is no modal)
        clause_words = {
            t.lower_ for t in doc[cs:ce] if t.pos_ != "PROPN" and t.ent_type_ not in ("DATE",)
        }
        occ = Mention(s, e, value)
        if value == "special measures":
            occ.pattern = "sm_regime_word" if doc[s].lower_ == "regime" else "sm_in"
            if doc[s].lower_ == "regime" and not re.search(
                r"\b(?:in|into|out of|leave|leaves|leaving|left|exit(?:s|ed|ing)?|from|"
                r"enter(?:s|ed|ing)?|(?:return(?:s|ed|ing)?|back)\s+to)\s+(?:the|this|that)\s+$",
                before,
                re.IGNORECASE,
            ):
                return None
            if (
                nxt is not None
                and nxt.pos_ == "NOUN"
                and nxt.text[:1].islower()
                and not self.placement_re.search(before)
            ):
                return None  # "before the special measures programme had been finalised"
            if self.sm_comparison_re.search(before):
                return None  # "one step below special measures": a level, not a placement
            if NO_LONGER_IN_RE.search(before) and not (
                nxt is not None and nxt.pos_ == "NOUN" and nxt.text[:1].islower()
            ):
                # "is no longer in special measures": out of them (the words are no negation
                # of the rating)
                occ.value = "out of special measures"
                occ.implied_in = True
                occ.pattern = "sm_no_longer"
            elif self.out_re.search(before):
                occ.value = "out of special measures"
                occ.implied_in = bool(self.change_out_re.search(before))
                occ.pattern = "sm_out"
            elif self.out_object_re.search(
                # a long name may stand between the verb and "from"
                self._text[max(doc[unit.start].idx, doc[s].idx - 90) : doc[s].idx]
            ):
                # "removed it from special measures", "took the practice out of the regime"
                occ.value = "out of special measures"
                occ.implied_in = True
                occ.pattern = "sm_out_with_object"
        else:
            prev_lemmas = [t.lower_ for t in prev[:4]]
            strong = any(lem in self.strong_cues for lem in prev_lemmas) or (
                # "rated good in 2019 and outstanding at its latest inspection"
                doc[s].dep_ in ("oprd", "acomp", "xcomp", "dobj", "attr", "conj")
                and doc[s].head.lower_ in self.strong_cues
            )
            # "- Elm Surgery, Ashby: Good (previously Requires improvement)" under a heading
            # about ratings: an item's rating after its name
            list_item = unit.rating_list and any(
                t.text in LIST_ITEM_SEPARATORS for t in doc[unit.start + 1 : s]
            )
            # "has rated a GP practice in north Kent inadequate": the rating verb before a
            # long object the parser may swallow the rating word into
            over_object = not strong and self._cue_over_object(doc, unit, s)
            strong = strong or over_object
            weak = any(lem in self.cue_lemmas for lem in prev_lemmas) or any(
                lem in self.near_cues for lem in prev_lemmas[:2]
            )
            noun_next = nxt is not None and (
                nxt.lower_ in self.rating_nouns
                # "the inadequate-rated trust"
                or (nxt.text == "-" and e + 1 < len(doc) and doc[e + 1].lower_ == "rated")
            )
            if (
                nxt is not None
                and not noun_next
                and nxt.pos_ in ("NOUN", "PROPN")
                and nxt.text[:1].islower()
            ):
                return None
            # "A, rated good last year, is now outstanding": a named body's state, in a
            # sentence about ratings
            copular = (
                doc[s].dep_ in ("acomp", "attr")
                and doc[s].head.lemma_ == "be"
                and any(c.dep_ == "nsubj" and c.i in self._org_tokens for c in doc[s].head.children)
                and any(t.lower_ in self.strong_cues for t in doc[unit.start : unit.end])
            )
            # "Its previous overall rating, given in 2021, was good": a rating noun as the
            # subject of the copula the rating word completes
            rating_subject = next(
                (
                    c
                    for c in doc[s].head.children
                    if doc[s].dep_ in ("acomp", "attr")
                    and doc[s].head.lemma_ == "be"
                    and c.dep_ == "nsubj"
                    and c.lower_ in self.rating_nouns
                ),
                None,
            )
            # "an overall rating of outstanding for 2019": "for" and a year dates the rating
            for_year = (
                nxt is not None
                and nxt.lower_ == "for"
                and nxt.i + 1 < unit.end
                and bool(RATING_YEAR_RE.fullmatch(doc[nxt.i + 1].text))
            )
            weak_ok = weak and (
                nxt is None or nxt.lower_ not in self.non_rating_followers or for_year
            )
            occ.pattern = (
                "rating_noun_next"
                if noun_next
                else "rating_list_item"
                if list_item and not strong
                else "strong_cue_over_object"
                if over_object
                else "strong_cue"
                if strong
                else "listed_after_rating"
                if listed
                else "copular_state"
                if copular
                else "rating_noun_subject"
                if rating_subject is not None
                else "weak_cue"
            )
            if not (
                noun_next or strong or listed or copular or weak_ok or rating_subject or list_item
            ):
                return None
            # service-, ward- and domain-level ratings are not the body's rating
            if self._service_level(doc, s):
                return None
            k = e
            while k < ce and (doc[k].text in QUOTES or doc[k].lower_ in self.rating_nouns):
                k += 1
            # ("inadequate in 2015 and spent three years ...": a date is no domain)
            if (
                k < ce
                and doc[k].lower_ in ("for", "in", "on", "at")
                and k + 1 < ce
                and doc[k + 1].ent_type_ != "DATE"
            ):
                window = {t.lower_ for t in doc[k + 1 : min(k + 5, ce)]}
                if window & self.domain_words:
                    return None
            # role within a change
            near = [t.lower_ for t in prev[:3] if t.pos_ != "DET"]
            after = [t.lower_ for t in doc[e : min(e + 5, ce)] if t.lower_ not in self.rating_nouns]
            if near and near[0] == "from" or re.search(r"out of\s*[‘“'\"]?\s*$", before):
                occ.role = "old"
            elif (
                any(lem in self.prior_lemmas for lem in prev_lemmas[:4])
                or any(lem in self.prior_lemmas or lem in self.received_words for lem in after[:4])
                or (
                    occ.pattern == "rating_noun_subject"
                    and any(c.lower_ in self.prior_lemmas for c in rating_subject.children)
                )
            ):
                occ.role = "prior"
                occ.kept = any(lem in self.retain_lemmas for lem in prev_lemmas[:4])
            elif near and near[0] in ("to", "into"):
                occ.role = "new"
        if any(w in clause_words for w in self.draft_words):
            return None
        # ("placed in special measures in 2019 and is no longer in special measures": the
        # exit's words negate nothing)
        if occ.pattern != "sm_no_longer" and (
            self._negated_clause(doc, cs, ce, NO_LONGER_SM_RE.sub("", clause_text))
            or (
                unit.start < cs
                and self.negation_re.search(doc[unit.start : cs].text.lower())
                and value == "special measures"
                and self._negated_verb(doc, s)
            )
        ):
            return None
        # a modal counts on the rating's own verbs ("could be rated inadequate"), not on a
        # verb coordinated with them ("rates it good and says it should remain ...")
        hypothetical = (
            any(
                w in clause_words and (w not in MODALS or self._modal_on_path(doc, s, w))
                for w in self.hypothetical_words
            )
            or "would have" in clause_text
        )
        # "says it should remain in special measures": a recommendation to stay is a placement
        stays = "special measures" in occ.value and bool(clause_words & self.stay_words)
        if hypothetical and occ.role != "prior" and not stays:
            return None
        # where this rating's own year is written
        if occ.role == "old":
            k = s
            while k > cs and doc[k - 1].lower_ not in ("from", "of"):
                k -= 1
            end = e
            # "up from requires improvement, in a report published in May 2025": a comma
            # ends the old rating's phrase, unless an apposition on the rating follows ("from
            # outstanding, the rating it was given in 2017, to ...")
            while end < unit.end and doc[end].lower_ not in ("to", "into", "–", ";", "—"):
                if doc[end].text == "," and not any(
                    t.lower_ in self.rating_nouns for t in doc[end + 1 : end + 4]
                ):
                    break
                end += 1
            occ.scope = (max(cs, k - 1), end)
        elif occ.role == "prior":
            occ.scope = (s, ce)
        elif doc[s].dep_ == "conj" and doc[s].head.lower_ in self.strong_cues:
            # "rated good in 2019 and outstanding at its latest inspection": the year
            # before the conjunction is the first rating's
            occ.scope = (s, ce)
        return occ

    def _cue_over_object(self, doc: Doc, unit: Unit, s: int) -> bool:
        """Whether a rating verb ("rated", "downgraded") stands before the rating word with
        only a noun phrase between: its object ("rated a care home near Tolby inadequate"),
        read from the words, as the parser may take the rating word into that phrase."""
        k = s - 1
        steps = 0
        while k >= unit.start and steps < self.object_span_limit:
            tok = doc[k]
            if tok.tag_.startswith("VB") and tok.lower_ in self.strong_cues:
                return steps >= 2 and not tok.lower_.startswith("rating")
            if tok.pos_ not in OBJECT_POS and tok.lower_ not in self.object_prepositions:
                return False
            k -= 1
            steps += 1
        return False

    def _negated_clause(self, doc: Doc, cs: int, ce: int, clause_text: str) -> bool:
        """Whether the clause is negated: a negation word that negates a verb, not one inside
        a noun phrase ("after a series of never events")."""
        if not self.negation_re.search(clause_text):
            return False
        for tok in doc[cs:ce]:
            if self.negation_re.fullmatch(tok.lower_) and tok.head.pos_ not in ("NOUN", "PROPN"):
                return True
        # the multi-word forms ("no longer", "not yet")
        return any(" " in m.group(0) for m in self.negation_re.finditer(clause_text))

    @staticmethod
    def _modal_on_path(doc: Doc, s: int, modal: str) -> bool:
        """Whether ``modal`` is an auxiliary of a verb the mention hangs from."""
        tok = doc[s]
        for _ in range(6):
            if any(c.lower_ == modal for c in tok.children):
                return True
            if tok.dep_ == "conj" or tok.head.i == tok.i:
                return False
            tok = tok.head
        return False

    def _negated_verb(self, doc: Doc, s: int) -> bool:
        """Whether a verb the mention hangs from is negated ("would not be put into special
        measures"), not a coordinated one ("found no improvement, and placed it in ...")."""
        tok = doc[s]
        for _ in range(6):
            if any(c.dep_ == "neg" for c in tok.children):
                return True
            if tok.dep_ == "conj" or tok.head.i == tok.i:
                return False
            tok = tok.head
        return False

    def _direction_word(self, doc: Doc, entry: Entry) -> str | None:
        """ "upgraded", "downgraded", "cut its rating", "up from": the direction the text
        gives a change in the words just before the rating."""
        start = max(entry.unit.start, entry.occ.start - 8)
        for tok in reversed(doc[start : entry.occ.start]):
            for direction, words in self.direction_words.items():
                if tok.lower_ in words:
                    return direction
        return None

    def _event_fields(self, doc: Doc, entries: list[Entry]) -> list[dict[str, Any]]:
        """Each rating as an event: ``previous_rating`` (the body's rating before it, where the
        text states one), ``direction`` (up, down, same or None) and ``status`` ("previous"
        for an earlier rating the text states, "current" otherwise)."""
        out = []
        for e in entries:
            track = _track(e.value)
            year = _year(e.period)
            same_body = [o for o in entries if o is not e and o.org == e.org]
            status = (
                "previous"
                if e.occ.role == "old" or (e.occ.role == "prior" and not e.occ.kept)
                else "current"
            )
            later = [o for o in same_body if _track(o.value) == track and _year(o.period)]
            if status == "current" and year is not None:
                if any(_year(o.period) > year for o in later):
                    status = "previous"
            previous = None
            # a change told in the same sentence ("downgraded from good to inadequate")
            olds = [
                o
                for o in same_body
                if o.unit is e.unit
                and o.occ.role in ("old", "prior")
                and not o.occ.kept
                and _track(o.value) == track
            ]
            if olds and e.occ.role in ("plain", "new"):
                previous = olds[0].value
            elif year is not None:
                # else the step before it in a dated history
                earlier = [o for o in later if _year(o.period) < year]
                if earlier:
                    previous = max(earlier, key=lambda o: _year(o.period)).value
            direction = None
            if e.occ.kept or (previous is not None and previous == e.value):
                direction = "same"
            elif previous in self.rank and e.value in self.rank:
                direction = "up" if self.rank[e.value] > self.rank[previous] else "down"
            elif track == "special measures" and (previous is not None or status == "current"):
                # entering special measures is a move down and leaving one up, whatever
                # other direction words the sentence holds ("X moves up to good as Y goes
                # into special measures")
                direction = "up" if e.value == "out of special measures" else "down"
            elif status == "current":
                direction = self._direction_word(doc, e)
            out.append({"previous_rating": previous, "direction": direction, "status": status})
        return out


def _track(value: str) -> str:
    """Ratings and special-measures placements are two separate histories of a body."""
    return "special measures" if "special measures" in value else "rating"


def _year(period: str | None) -> int | None:
    """The first calendar year of a period ("2018-19" -> 2018), else None."""
    return int(period[:4]) if period and period[:4].isdigit() else None
