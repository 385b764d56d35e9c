"""Care settings, GP practices and hospitals named by what they are (a mixin of the
``policywatch_orgs`` component).

"One care home, Willowmere House, ..." and "three practices – A, B and C –" name providers
with a generic head; in a text about care homes, "Brindle Court" and "The Anchorage, a 40-bed
home" name homes without one; a hospital that acts as the organisation (it spends, earns, is rated)
is a provider, while one named only as a site is a place (GUIDELINES, Further rulings:
Hospitals).
"""

from __future__ import annotations

import re
from typing import Any

from spacy.tokens import Doc

from nlp.org_model import DASHES, Mention

CARE_SETTING_RE = re.compile(
    r"(?<!\w)(?:(?:care |nursing |residential )?homes?|(?:GP |general )?practices?)(?!\w)",
    re.IGNORECASE,
)
HOSPITAL_RE = re.compile(r"\b(?:Hospital|Infirmary)\b")


class OrgSettingRules:
    """Care-setting and hospital rules."""

    def _load_care_settings(self, lex: dict[str, Any]) -> None:
        """The care-home vocabulary of ``orgs_lexicon.json``."""
        self.care_home_name_words = set(lex["care_home_name_words"])
        self.care_home_nouns = tuple(lex["care_home_nouns"])
        self.care_home_appositive_heads = set(lex["care_home_appositive_heads"])
        self.name_possessives = set(lex["name_possessives"])
        self.setting_modifier_starts = set(lex["care_setting_modifier_starts"])
        self.home_counters = set(lex["home_counters"])
        self.unnamed_home_re = re.compile(
            r"\b(?:a|an|one)\s+(?:" + "|".join(lex["care_home_nouns"]) + r")\b", re.IGNORECASE
        )
        self.inspection_nouns = set(lex["care_home_inspection_nouns"])
        self.inspection_verbs = set(lex["care_home_inspection_verbs"])

    def _care_setting_mentions(self, doc: Doc, taken: set[int]) -> list[Mention]:
        """Care homes and GP practices introduced by what they are, named with a generic
        head: "One care home, Willowmere House, ..."; "three practices – A, B and C –"."""
        out: list[Mention] = []
        n = len(doc)
        for m in CARE_SETTING_RE.finditer(self._text):
            span = doc.char_span(m.start(), m.end(), alignment_mode="expand")
            if span is None or not len(span):
                continue
            tok = span[-1]
            if not tok.text.islower():
                continue  # part of a name ("Oak Tree Practice"), read from its head
            i = tok.i
            if len(span) == 1 and tok.lower_ in ("home", "homes"):
                # a bare "home" only after its operator's name ("Another Acme home, X") or
                # counted as one more of a kind ("A second home run by the group, X")
                prev = doc[i - 1] if i > 0 else None
                if prev is None:
                    continue
                counted = (
                    prev.lower_ in self.home_counters and self._comma_after_modifier(doc, i) > i + 1
                )
                if not counted and (
                    not self._name_like(prev) or prev.is_sent_start or self._is_stop(prev)
                ):
                    continue
            plural = tok.lower_.endswith("s")
            comma = i + 1 if plural else self._comma_after_modifier(doc, i)
            if comma + 1 >= n or (doc[comma].text != "," and doc[comma].text not in DASHES):
                continue
            first = comma + 1
            j = first
            while (
                j < n
                and (self._name_like(doc[j]) or (plural and doc[j].text in self.connectors))
                and "\n" not in doc[j].text
                and j not in taken
            ):
                j += 1
            # a single home may be placed ("One care home, X in Y, was ...")
            placed = (
                not plural and j + 1 < n and doc[j].lower_ == "in" and self._name_like(doc[j + 1])
            )
            if j == first or (
                j < n and doc[j].text not in (",", ".", ";", ")", *DASHES) and not placed
            ):
                continue
            if plural:
                if j - first < 3:
                    continue
                pieces = self._split_coordination(doc, first, j)
                if len(pieces) < 2:
                    continue
            else:
                pieces = [(first, j)]
            if not all(any(t.pos_ == "PROPN" for t in doc[s:e]) for s, e in pieces):
                continue
            if comma > i + 1 and doc[first:j].text in self.places:
                continue  # "a home in Leeds, Yorkshire, ..."
            for s, e in pieces:
                out.append(Mention(s, e, doc[s:e].text, "provider", "list"))
        return out

    def _comma_after_modifier(self, doc: Doc, i: int) -> int:
        """Where the name after a single home or practice starts from: the comma right after
        it, or the one after a short modifier ("A second home run by the group, Elm Garth in
        Fordham, came out of ..."); ``i + 1`` when there is none."""
        n = len(doc)
        if i + 1 >= n or doc[i + 1].lower_ not in self.setting_modifier_starts:
            return i + 1
        for k in range(i + 2, min(n, i + 8)):
            tok = doc[k]
            if tok.text == ",":
                return k
            if tok.is_punct or "\n" in tok.text or tok.tag_ in ("VBZ", "VBP", "MD"):
                break
        return i + 1

    def _inspected_home_mentions(self, doc: Doc, taken: set[int]) -> list[Mention]:
        """In a story that brings in an unnamed home ("A care home where ... has been rated
        inadequate"), the name inspectors visit is the home's: "made an unannounced visit to
        Elm Garth in Fordham", "will inspect Elm Garth again". Places, people and hospital
        sites are not taken."""
        if not self.unnamed_home_re.search(self._text):
            return []
        out: list[Mention] = []
        for tok in doc:
            if tok.pos_ != "PROPN" or tok.i in taken or tok.ent_type_ == "DATE":
                continue
            # a name the tagger calls a place counts when it is placed in a town ("Elm
            # Garth in Fordham")
            placed = (
                tok.i + 2 < len(doc)
                and doc[tok.i + 1].lower_ == "in"
                and doc[tok.i + 2].pos_ == "PROPN"
            )
            if tok.ent_type_ in ("GPE", "LOC") and not placed:
                continue
            gov = tok.head
            if tok.dep_ == "pobj" and gov.lower_ in ("to", "of", "at"):
                inspected = gov.head.lower_ in self.inspection_nouns
            else:
                inspected = tok.dep_ == "dobj" and gov.lower_ in self.inspection_verbs
            if not inspected:
                continue
            start = tok.i
            while (
                start > 0 and doc[start - 1].dep_ == "compound" and doc[start - 1].pos_ == "PROPN"
            ):
                start -= 1
            span = doc[start : tok.i + 1]
            if (
                len(span) < 2
                or span.text in self.places
                or any(k in taken for k in range(start, tok.i + 1))
            ):
                continue
            if start > 0 and doc[start - 1].lower_.rstrip(".") in self.honorifics:
                continue
            if any(t.text in self.hospital_heads or t.text in self.places for t in span):
                continue
            out.append(Mention(start, tok.i + 1, span.text, "provider", "care_home"))
        return out

    def _care_home_name_mentions(self, doc: Doc, taken: set[int]) -> list[Mention]:
        """Care homes named without a head word, in a text that speaks of care homes: a short
        capitalised name ending in a word that names homes ("Brindle Court", "Larkspur
        Lodge", "Orchard Lea"), or a name with a home in apposition ("The Anchorage, a
        40-bed home on the seafront")."""
        lower = self._text.lower()
        if not any(noun in lower for noun in self.care_home_nouns):
            return []
        out: list[Mention] = []
        own: set[int] = set()
        n = len(doc)
        for tok in doc:
            if tok.i in taken:
                continue
            if tok.text in self.care_home_name_words:
                end = tok.i + 1
                nxt = doc[end] if end < n else None
                if nxt is not None and self._name_like(nxt) and "\n" not in nxt.text:
                    continue  # more of a name ("Oak Lodge Care Home" is read from its head)
                head = tok
            elif (
                tok.lower_ in self.care_home_appositive_heads
                and tok.dep_ == "appos"
                and tok.head.pos_ == "PROPN"
                and tok.head.i < tok.i
                and any(c.dep_ == "det" and c.lower_ in ("a", "an") for c in tok.children)
            ):
                head = tok.head
                end = head.i + 1
            else:
                continue
            start = head.i
            while start > 0 and head.i - start < 3:
                prev = doc[start - 1]
                # a saint's or founder's possessive inside the name ("St Ann's Court")
                possessive = (
                    prev.lower_ in self.name_possessives
                    and start > 1
                    and doc[start - 2].text[:1].isupper()
                )
                if not possessive and (
                    not prev.text[:1].isupper()
                    or prev.is_space
                    or "\n" in prev.text
                    or self._is_stop(prev)
                    or (prev.pos_ not in ("PROPN", "NOUN", "ADJ") and prev.is_sent_start)
                ):
                    break
                start -= 1
            if start == head.i and head.text in self.care_home_name_words:
                continue  # a bare "House"
            if doc[start].lower_ in self.name_possessives:
                continue  # the walk stopped inside a possessive ("It's Court")
            if any(t.lower_.rstrip(".") in self.honorifics for t in doc[max(0, start - 1) : end]):
                continue  # a person ("Dr Anna Lodge")
            if any(k in taken or k in own for k in range(start, end)):
                continue
            out.append(Mention(start, end, doc[start:end].text, "provider", "care_home"))
            own.update(range(start, end))
        return out

    def _hospital_mentions(self, doc: Doc, taken: set[int]) -> list[Mention]:
        """Hospitals that act as the organisation are providers; those named as sites are
        places and are not taken (see ``_hospital_acts``)."""
        out: list[Mention] = []
        heads = [
            tok
            for tok in self._tokens_matching(doc, HOSPITAL_RE)
            if tok.text in self.hospital_heads
        ]
        stops = {tok.i for tok in heads}
        for tok in heads:
            i = tok.i
            nxt = doc[i + 1] if i + 1 < len(doc) else None
            if (
                i in taken
                or nxt is not None
                and self._name_like(nxt)
                and nxt.text not in self.connectors
                and not nxt.is_sent_start
            ):
                continue  # more of a name ("X Hospital NHS Trust")
            stops |= {k for k in range(max(0, i - 8), i) if doc[k].lower_ in ("and", "&", ",")}
            start = self._trim(doc, self._run_start(doc, i, stops), i)
            if start >= i or not self._has_proper(list(doc[start:i])):
                continue
            if any(k in taken for k in range(start, i + 1)):
                continue
            if self._hospital_acts(doc, start, i + 1):
                out.append(Mention(start, i + 1, doc[start : i + 1].text, "provider", "head"))
        return out
