"""Rating mentions read as events: which rating word counts (rating context, drafts,
hypotheticals, negations, service-level ratings) and its role in a change (new, old, prior)."""

from __future__ import annotations

import re

from spacy.tokens import Doc

from nlp.rating_text import QUOTES, Mention, Unit


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
            occ = self._read(doc, unit, s, e, value, listed=listed)
            if occ is not None:
                occs.append(occ)
        # a "new" rating needs an "old" one before it in the same unit
        seen_old = False
        for occ in occs:
            if occ.role == "old":
                seen_old = True
            elif occ.role == "new" and not seen_old:
                occ.role = "plain"
        return occs

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
            if doc[s].lower_ == "regime" and not re.search(
                r"\b(?:in|into|out of|leave|exit|from|enter(?:s|ed|ing)?)\s+(?:the|this|that)\s+$",
                before,
                re.IGNORECASE,
            ):
                return None
            if self.out_re.search(before):
                occ.value = "out of special measures"
                occ.implied_in = bool(self.change_out_re.search(before))
        else:
            prev_lemmas = [t.lower_ for t in prev[:4]]
            strong = any(lem in self.strong_cues for lem in prev_lemmas) or (
                # "rated good in 2019 and outstanding at its latest inspection"
                doc[s].dep_ in ("oprd", "acomp", "xcomp", "dobj", "attr", "conj")
                and doc[s].head.lower_ in self.strong_cues
            )
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
            if not (
                noun_next
                or strong
                or listed
                or copular
                or (weak and (nxt is None or nxt.lower_ not in self.non_rating_followers))
            ):
                return None
            # service-, ward- and domain-level ratings are not the body's rating
            if self._service_level(doc, s):
                return None
            k = e
            while k < ce and (doc[k].text in QUOTES or doc[k].lower_ in self.rating_nouns):
                k += 1
            if k < ce and doc[k].lower_ in ("for", "in", "on", "at"):
                window = {t.lower_ for t in doc[k + 1 : min(k + 5, ce)]}
                if window & self.domain_words:
                    return None
            # role within a change
            near = [t.lower_ for t in prev[:3] if t.pos_ != "DET"]
            after = [t.lower_ for t in doc[e : min(e + 5, ce)] if t.lower_ not in self.rating_nouns]
            if near and near[0] == "from" or re.search(r"out of\s*[‘“'\"]?\s*$", before):
                occ.role = "old"
            elif any(lem in self.prior_lemmas for lem in prev_lemmas[:4]) or any(
                lem in self.prior_lemmas for lem in after[:4]
            ):
                occ.role = "prior"
                occ.kept = any(lem in self.retain_lemmas for lem in prev_lemmas[:4])
            elif near and near[0] in ("to", "into"):
                occ.role = "new"
        if any(w in clause_words for w in self.draft_words):
            return None
        if self.negation_re.search(clause_text) or (
            unit.start < cs
            and self.negation_re.search(doc[unit.start : cs].text.lower())
            and value == "special measures"
        ):
            return None
        hypothetical = (
            any(w in clause_words for w in self.hypothetical_words) or "would have" in clause_text
        )
        if hypothetical and occ.role != "prior":
            return None
        # where this rating's own year is written
        if occ.role == "old":
            k = s
            while k > cs and doc[k - 1].lower_ not in ("from", "of"):
                k -= 1
            end = e
            while end < unit.end and doc[end].lower_ not in ("to", "into", "–", ";", "—"):
                end += 1
            occ.scope = (max(cs, k - 1), end)
        elif occ.role == "prior":
            occ.scope = (s, ce)
        elif doc[s].dep_ == "conj" and doc[s].head.lower_ in self.strong_cues:
            # "rated good in 2019 and outstanding at its latest inspection": the year
            # before the conjunction is the first rating's
            occ.scope = (s, ce)
        return occ
