"""Reading and building organisation names (a mixin of the ``policywatch_orgs`` component).

The run of capitalised words left of a kind head ("Wakefield" of "Wakefield CCG"), the
leading words that are not part of a name (sentence adverbs, gerunds, a place adverbial
before a comma), the split of coordinated names sharing a plural head ("A, B and C CCGs"),
the short forms a text uses later for a body ("Frimley" for "Frimley Health Foundation
Trust"), initialisms, and the type of a name found only by the stock NER.
"""

from __future__ import annotations

import re

from spacy.lang.en.stop_words import STOP_WORDS
from spacy.tokens import Doc, Span, Token

from nlp.org_model import DASHES, NON_NAME_POS, OrgRecord, org_key


class OrgNameRules:
    """Name-building rules; the word classes come from ``data/orgs_lexicon.json``."""

    def _name_like(self, tok: Token) -> bool:
        t = tok.text
        if not t or tok.is_space:
            return False
        if t[0].isupper():
            return True
        return t.isdigit() and len(t) <= 2

    def _is_stop(self, tok: Token) -> bool:
        return tok.lower_ in STOP_WORDS and tok.text not in self.gaz_forms

    def _run_start(self, doc: Doc, head_start: int, stops: set[int]) -> int:
        """Walk left from a head over the capitalised name run."""
        j = head_start
        while j > 0:
            tok = doc[j - 1]
            if j - 1 in stops or tok.is_space or "\n" in tok.text:
                break
            if tok.text in self.connectors or self._name_like(tok):
                j -= 1
                continue
            if tok.lower_ in self.compass_lower and (
                self._name_like(doc[j]) or doc[j].lower_ in self.compass_lower
            ):
                j -= 1
                continue
            break
        return j

    def _trim(self, doc: Doc, start: int, end: int, plural: bool = False) -> int:
        """Drop stop words, connectors and sentence adverbs from the left of a run."""
        # the title of a report or review is not part of a name ("Review of Integrated
        # Care Boards", "Inquiry into Kent County Council")
        for k in range(end - 2, start - 1, -1):
            if doc[k].text in self.title_heads and doc[k + 1].lower_ in ("of", "into", "on"):
                start = k + 2
                break
        while start < end:
            tok = doc[start]
            if (
                tok.text in self.connectors and tok.text not in ("St", "St.")
            ) or tok.text in DASHES:
                start += 1
                continue
            # a capitalised number word before a singular head opens the name ("Three Elms
            # Surgery", "Five Ways Medical Centre"): a count needs a plural ("Two Kent
            # practices"); "One" stays a count ("One Kent practice")
            if (
                not plural
                and tok.is_alpha
                and tok.like_num
                and tok.text[:1].isupper()
                and tok.lower_ != "one"
                and start + 1 < end
                and doc[start + 1].text[:1].isupper()
            ):
                break
            if self._is_stop(tok) and tok.text not in self.compass:
                start += 1
                continue
            # a sentence-initial gerund or adverb ("Neighbouring Weald Coast Foundation
            # Trust")
            if (
                tok.is_sent_start
                and start + 1 < end
                and tok.pos_ not in ("PROPN", "NUM")
                and tok.text not in self.compass
                and tok.text not in self.places
                and (tok.tag_ in ("VBG", "RB") or tok.lower_.endswith(("ing", "ly")))
                and doc[start + 1].text not in self.connectors
                and self._has_proper(list(doc[start + 1 : end]))
            ):
                start += 1
                continue
            # a sentence-initial adjective the tagger may read as a name ("Neighbouring")
            if (
                tok.is_sent_start
                and tok.text in self.leading_modifiers
                and self._has_proper(list(doc[start + 1 : end]))
            ):
                start += 1
                continue
            # a sentence-initial common noun before a connector ("Councillors on Kent
            # County Council")
            if (
                tok.is_sent_start
                and tok.tag_ == "NNS"
                and start + 2 < end
                and doc[start + 1].text in ("on", "of", "upon")
            ):
                start += 2
                continue
            # a leading comma group that is not a name ("Meanwhile, Wakefield CCG")
            comma = next((k for k in range(start, end) if doc[k].text == ","), None)
            if comma is not None:
                group = doc[start:comma]
                if (
                    (
                        all(t.pos_ not in ("PROPN", "NUM") for t in group)
                        and group[0].pos_ in NON_NAME_POS
                    )
                    or any(t.ent_type_ in ("DATE", "TIME") for t in group)
                    # a sentence adverb the tagger read as a name ("Separately, Oak Surgery"),
                    # not the first of coordinated names ("Ely, Soham and ...")
                    or (
                        len(group) == 1
                        and group[0].is_sent_start
                        and len(group[0].text) > 5
                        and group[0].lower_.endswith("ly")
                        and not any(t.lower_ in ("and", "&") for t in doc[comma:end])
                    )
                    # a place adverbial before the name ("On Wearside, Sunderland CCG"):
                    # a list of names joined by commas ends in "and"
                    or (
                        self._after_preposition(doc, start)
                        and not any(t.lower_ in ("and", "&") for t in doc[comma:end])
                    )
                    # "Jane Smith, Kent ICB’s chief executive" (in a plural list the stock
                    # NER often reads place names as persons)
                    # (a single word before "B and C ..." opens a coordinated name:
                    # "Hexby, Rudd and Carrow Teaching Hospitals NHS Trust")
                    or (
                        not plural
                        and all(t.ent_type_ == "PERSON" for t in group)
                        and not any(
                            t.text in self.descriptors or t.text in self.places for t in group
                        )
                        and not (
                            len(group) == 1
                            and any(t.lower_ in ("and", "&") for t in doc[comma + 2 : end])
                        )
                    )
                ):
                    start = comma + 1
                    continue
                # a lone comma before "and" closes an aside, not a list of names ("Elm
                # Surgery, on Station Road, and Copse Lane Medical Practice")
                if (
                    comma + 2 < end
                    and doc[comma + 1].lower_ in ("and", "&")
                    and not any(t.text == "," for t in doc[comma + 1 : end])
                    and self._after_preposition(doc, start)
                ):
                    start = comma + 2
                    continue
            break
        return start

    @staticmethod
    def _after_preposition(doc: Doc, start: int) -> bool:
        """Whether doc[start] opens the object of a preposition ("in the South East")."""
        k = start - 1
        while k >= 0 and doc[k].pos_ == "DET":
            k -= 1
        return k >= 0 and doc[k].pos_ == "ADP"

    def _has_proper(self, toks: list[Token]) -> bool:
        return any(
            t.text not in self.descriptors
            and t.text not in self.connectors
            and t.text not in self.compass
            and t.lower_ not in self.compass_lower
            and not (t.is_stop and t.text[:1].islower())
            and not t.like_num
            for t in toks
        )

    def _split_coordination(
        self, doc: Doc, start: int, end: int, known: set[str] | None = None
    ) -> list[tuple[int, int]]:
        """Split a coordinated run of names sharing a plural head into conjunct ranges.

        ``known`` holds the keys of names the document uses on their own: in "A and B and C
        trusts" the "and" that leaves a known name whole ("B and C" named elsewhere) joins
        the conjuncts."""
        groups: list[tuple[int, int]] = []
        gstart = start
        for k in range(start, end):
            if doc[k].text == ",":
                groups.append((gstart, k))
                gstart = k + 1
        groups.append((gstart, end))
        oxford = len(groups) > 1 and doc[groups[-1][0]].lower_ in ("and", "&")

        def strip_and(rng: tuple[int, int]) -> tuple[int, int]:
            s, e = rng
            while s < e and doc[s].lower_ in ("and", "&"):
                s += 1
            return s, e

        groups = [strip_and(g) for g in groups if g[1] > g[0]]
        pieces = groups[:-1]
        last = groups[-1] if groups else None
        if last:
            if oxford:
                pieces.append(last)
            else:
                s, e = last
                # "A and B and C trusts": an "and" after a name-final word ("Leeds North and
                # ...", "... County and ...") joins the conjuncts; otherwise the last one
                # does and an earlier one belongs to a name ("Bath and North East Somerset
                # and Wiltshire")
                ands = [k for k in range(s + 1, e - 1) if doc[k].lower_ in ("and", "&")]
                evident = [
                    k
                    for k in ands
                    if known
                    and (org_key(doc[s:k].text) in known or org_key(doc[k + 1 : e].text) in known)
                ]
                cut = (
                    evident[0]
                    if evident
                    else next(
                        (
                            k
                            for k in ands
                            if (
                                doc[k - 1].text in self.compass
                                or doc[k - 1].text in self.descriptors
                            )
                            # "Leeds South and East and Leeds West": a direction followed by
                            # "and" still belongs to the left conjunct
                            and not (
                                k + 2 < e
                                and doc[k + 1].text in self.compass
                                and doc[k + 2].lower_ in ("and", "&")
                            )
                        ),
                        ands[-1] if ands else None,
                    )
                )
                if cut is not None and not self._compass_only(doc[s:cut]):
                    pieces.extend([(s, cut), (cut + 1, e)])
                else:
                    pieces.append(last)
        # a conjunct that is only a direction ("Leeds South and East") belongs to its left
        merged: list[tuple[int, int]] = []
        for s, e in pieces:
            if merged and self._compass_only(doc[s:e]):
                merged[-1] = (merged[-1][0], e)
            else:
                merged.append((s, e))
        return [p for p in merged if p[1] > p[0]]

    def _compass_only(self, toks) -> bool:
        return all(t.text in self.compass or t.lower_ in ("and", "&") for t in toks)

    def _place_suffix_end(self, doc: Doc, end: int) -> int:
        """End of the capitalised place name right after token ``end`` ("Isle of Man")."""
        k = end
        while k < len(doc):
            tok = doc[k]
            if tok.is_sent_start or tok.is_space:
                break
            if self._name_like(tok) and tok.pos_ == "PROPN":
                k += 1
                continue
            if (
                k > end
                and tok.lower_ in ("of", "upon", "on")
                and k + 1 < len(doc)
                and self._name_like(doc[k + 1])
                and doc[k + 1].pos_ == "PROPN"
            ):
                k += 1
                continue
            break
        return k

    def _short_forms(self, org: OrgRecord) -> list[str]:
        """Short forms a text may use later for a local body ("Frimley Health", "Frimley")."""
        if org.gaz_name is not None:
            return []
        words = org.name.split()
        forms = []
        while words and (words[-1] in self.short_form_suffixes or words[-1] in ("of",)):
            words.pop()
            # each step is a form in use ("Harbour Health" of "Harbour Health Partnerships Ltd")
            partial = " ".join(words)
            if (
                len(words) >= 2
                and words[-1] not in ("of", "and", "&")
                and self._proper_words(words)
            ):
                forms.append(partial)
        if words and len(words) < len(org.name.split()):
            short = " ".join(words)
            if short not in self.compass and not short.isdigit() and short not in forms:
                forms.append(short)
            # "Colne Vale" of "NHS Colne Vale CCG": the NHS prefix goes with the kind
            if (
                words[0] == "NHS"
                and len(words) >= 2
                and self._proper_words(words[1:])
                and words[1] not in self.compass
                and " ".join(words[1:]) not in forms
            ):
                forms.append(" ".join(words[1:]))
            if (
                org.type == "provider"
                and len(words) >= 2
                and words[0] not in self.compass
                and words[0] not in self.descriptors
                and words[1] not in ("and", "&", "of")
                and words[0] not in ("St", "St.")
            ):
                forms.append(words[0])
        return forms

    def _proper_words(self, words: list[str]) -> bool:
        return any(
            w not in self.descriptors and w not in self.connectors and w not in self.compass
            for w in words
        )

    @staticmethod
    def _initialisms(name: str) -> set[str]:
        words = re.findall(r"[A-Za-z]+|&", name.replace("’s", "").replace("'s", ""))
        variants = {""}
        for w in words:
            nxt = set()
            for v in variants:
                if w.lower() in ("and", "&"):
                    nxt.update({v, v + "a"})
                elif w.lower() in ("of", "the", "for", "on", "upon") or w == "NHS":
                    # "NSFT" of "Norfolk and Suffolk NHS Foundation Trust"
                    nxt.update({v, v + w[0].lower()})
                else:
                    nxt.add(v + w[0].lower())
            variants = nxt
        return {v for v in variants if len(v) >= 2}

    def _fallback_type(self, span: Span) -> str:
        if any(t.text in self.provider_words or t.text == "GP" for t in span):
            # a trust named without its suffix ("Oxford University Hospitals", "University
            # Hospitals of X"); a GP federation or alliance
            return "provider"
        if span[-1].text in self.company_words:
            return "company"
        if any(t.text in self.media_words for t in span[1:]) or any(
            t.lower_ in self.media_nouns for t in span.root.children
        ):
            return "media"
        return "company"
