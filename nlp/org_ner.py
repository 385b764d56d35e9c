"""The stock NER as a fallback, and names described by their kind (a mixin of the
``policywatch_orgs`` component).

ORG entities give companies and media outlets once the rules have run (persons after job
titles, laws, programmes, hospital sites, places and ratings are not taken; a cut-off entity
is completed up to the bracketed acronym that spells it); "Brightpath, the mental health
charity" and "the consultancy Acme" are organisations of the kind their noun says.
"""

from __future__ import annotations

from spacy.tokens import Doc

from nlp.org_model import ACRONYM_RE, Mention


class OrgNerRules:
    """NER fallback and appositive rules."""

    def _ner_mentions(self, doc: Doc, taken: set[int]) -> list[Mention]:
        """Stock NER ORG entities as a fallback for companies and media outlets."""
        out = []
        for ent in doc.ents:
            # the stock NER reads some firms as persons ("run by Acme Healthcare")
            firm = ent.label_ == "PERSON" and ent[-1].text in self.firm_words
            if ent.label_ != "ORG" and not firm:
                continue
            start, end = ent.start, ent.end
            # a title keeps a capitalised "The" ("The Observer"), not a lowercase one
            # ("seen by the Bristol Post")
            if doc[start].lower_ == "the" and not (
                doc[start].text == "The"
                and end - start >= 2
                and doc[end - 1].text in self.media_words
            ):
                start += 1
            # the stock NER cuts a name joined by "and" at the "and" ("The Hexford and
            # Dunmere Local Medical Committee" read as two bodies): one name under "The"
            joined = self._and_extension(doc, start)
            if not any(k in taken for k in range(joined, start)):
                start = joined
            span = doc[start:end]
            if not len(span) or any(k in taken for k in range(start, end)):
                continue
            if any(m.start <= start and end <= m.end for m in out):
                continue
            out = [m for m in out if not (start <= m.start and m.end <= end)]
            text = span.text
            if "\n" in text or any(t.like_num for t in span) or text in self.generic_acronyms:
                continue
            if all(t.text in self.generic_acronyms or t.text in self.descriptors for t in span):
                continue
            if not any(t.pos_ == "PROPN" for t in span):
                continue
            if not all(self._name_like(t) or t.text in self.connectors for t in span):
                continue
            # a cut-off name ("North" of "North Kent") or a modifier ("Francis review"); the
            # rest of a name its bracketed acronym spells ("Association of X Chief
            # Executives (AXCE)") belongs to it
            end = self._acronym_extension(doc, start, end)
            span = doc[start:end]
            text = span.text
            nxt = doc[end] if end < len(doc) else None
            if (
                nxt is not None
                and nxt.text == "-"
                and end + 1 < len(doc)
                and doc[end + 1].text.islower()
            ):
                continue  # a place in a compound modifier ("Yeovil-based")
            if nxt is not None and self._name_like(nxt) and not nxt.is_sent_start:
                continue
            if (
                nxt is not None
                and nxt.pos_ == "NOUN"
                and nxt.text.islower()
                and nxt.lower_ not in self.company_nouns
            ):
                continue
            if text in self.places or (doc[start].lower_ == "the" and span[1:].text in self.places):
                continue
            if self._locative(span):
                continue
            root = span.root
            # a modifier coordinated with another ("the Thames and Chiltern region")
            if root.dep_ == "conj" and root.head.i >= end:
                root = root.head
            if (
                root.dep_ in ("compound", "amod")
                and root.head.i >= end
                and root.head.pos_ == "NOUN"
                and root.head.lower_ not in self.company_nouns
            ):
                continue
            if ACRONYM_RE.match(text) and text not in self.gaz_forms:
                continue  # unknown acronyms are resolved against named bodies instead
            if any(
                t.lower_.rstrip(".") in self.title_words for t in doc[max(0, start - 3) : start]
            ):
                continue  # a person after a job title ("chief executive Jane Smith")
            if span[0].lower_.rstrip(".") in self.honorifics:
                continue  # a person with an honorific ("Dame Jane Smith")
            if span[-1].text in self.non_org_heads:
                continue  # laws, programmes, reports ("Health and Care Act")
            if self._ner_rejects(span) or self._is_branch_site(doc, start):
                continue
            out.append(Mention(start, end, text, self._fallback_type(span), "ner"))
        return out

    def _and_extension(self, doc: Doc, start: int) -> int:
        """Where a name starts that the stock NER begins after "and": over one or two
        capitalised words joined by "and" right after an opening "The" ("The Hexford and
        Dunmere Local Medical Committee"); ``start`` itself otherwise."""
        if start < 3 or doc[start - 1].lower_ not in ("and", "&"):
            return start
        for width in (1, 2):
            first = start - 1 - width
            if first < 1:
                break
            words = doc[first : start - 1]
            if not all(self._name_like(t) and not t.like_num for t in words):
                break
            if doc[first - 1].lower_ == "the" and not any(
                t.ent_type_ in ("DATE", "TIME") for t in words
            ):
                return first
        return start

    def _acronym_extension(self, doc: Doc, start: int, end: int) -> int:
        """Extend a cut-off entity over the capitalised words before a bracketed acronym that
        spells the whole name."""
        k = end
        while (
            k < len(doc)
            and k - end < 6
            and (
                (self._name_like(doc[k]) and not doc[k].is_sent_start)
                or doc[k].lower_ in ("of", "and", "&", "for")
            )
        ):
            k += 1
        if (
            k == end
            or k + 2 >= len(doc)
            or doc[k].text != "("
            or doc[k + 2].text != ")"
            or not ACRONYM_RE.match(doc[k + 1].text)
        ):
            return end
        if doc[k + 1].text.lower().replace("&", "a") in self._initialisms(doc[start:k].text):
            return k
        return end

    def _appositive_mentions(self, doc: Doc, taken: set[int]) -> list[Mention]:
        """Names the text describes by kind: "Brightpath, the mental health charity, said",
        "the consultancy Acme"."""
        out: list[Mention] = []
        n = len(doc)
        for tok in self._tokens_matching(doc, self._appositive_re) if self.appositive_nouns else []:
            i = tok.i
            kind = self.appositive_nouns.get(tok.lower_)
            if kind is None or tok.pos_ != "NOUN":
                continue
            # "the consultancy Acme": the name right after the noun
            k = i + 1
            while k < n and self._name_like(doc[k]) and doc[k].pos_ == "PROPN" and k - i <= 3:
                k += 1
            # the noun may carry lowercase modifiers ("the executive search firm Acme")
            the = i - 1
            while the > 0 and i - the <= 3 and doc[the].lower_ != "the" and (
                doc[the].is_alpha and doc[the].text.islower()
            ):
                the -= 1
            if (
                k > i + 1
                and the >= 0
                and doc[the].lower_ == "the"
                and not doc[i + 1].is_sent_start
                and (k >= n or not self._name_like(doc[k]))
                and not any(j in taken for j in range(i + 1, k))
                and not (
                    k - i > 2
                    # "the accountants Acme Smith", "the consultancy Acme Smith" name firms
                    and tok.tag_ != "NNS"
                    and kind != "company"
                    and all(t.ent_type_ == "PERSON" for t in doc[i + 1 : k])
                )
            ):
                out.append(Mention(i + 1, k, doc[i + 1 : k].text, kind, "ner"))
                taken.update(range(i + 1, k))
                continue
            # "Acme, the pathology provider, said": the name before ", the ... noun"
            nxt = doc[i + 1] if i + 1 < n else None
            if nxt is None or nxt.text in ("’s", "'s") or nxt.pos_ in ("NOUN", "PROPN"):
                continue
            j = i - 1
            while j > 0 and i - j <= 5 and doc[j].lower_ != "the" and doc[j].text.islower():
                j -= 1
            if j < 2 or doc[j].lower_ != "the" or doc[j - 1].text != ",":
                continue
            end = j - 1
            s = end
            while s > 0 and self._name_like(doc[s - 1]) and end - s < 4:
                if doc[s - 1].is_sent_start:
                    s -= 1
                    break
                s -= 1
            if s == end or not (doc[s].is_sent_start or not self._name_like(doc[s - 1])):
                continue
            span = doc[s:end]
            if any(k in taken for k in range(s, end)) or (
                len(span) >= 2 and all(t.ent_type_ == "PERSON" for t in span)
            ):
                continue
            out.append(Mention(s, end, span.text, kind, "ner"))
            taken.update(range(s, end))
        return out
