"""Decisions that a candidate name is not an organisation of the news (a mixin of the
``policywatch_orgs`` component).

An entity used as a place ("across the Black Country", "from X to Y", "in A and B"), a page
tagline ("HSJ’s round-up of ..."), a rating or a bare institution word the stock NER calls an
organisation, a practice named as another's branch, and a hospital named only as a site are
not organisations of the news.
"""

from __future__ import annotations

from spacy.tokens import Doc, Span, Token


class OrgFilterRules:
    """Not-an-organisation rules; word classes come from ``data/orgs_lexicon.json``."""

    def _locative(self, span: Span) -> bool:
        """An entity the stock NER calls an organisation but the text uses as a place: the
        object of "across"/"throughout" ("across the Black Country") or the ends of a
        range ("from the Peak District to Sheffield")."""
        root = span.root
        # the second of two places ("across the Marsh and the Wolds")
        while root.dep_ == "conj" and root.head.i < span.start:
            root = root.head
        if root.dep_ != "pobj":
            return False
        prep = root.head.lower_
        if prep in self.place_prepositions:
            return True
        if prep == "from":
            return any(
                c.dep_ == "prep" and c.lower_ == "to"
                for c in (*root.head.children, *root.head.head.children, *root.children)
            )
        if prep == "to":
            head = root.head.head
            return (
                head.lower_ == "from"
                or any(c.dep_ == "prep" and c.lower_ == "from" for c in head.children)
                or (head.dep_ == "pobj" and head.head.lower_ == "from")
            )
        return False

    def _tagline_end(self, doc: Doc) -> int:
        """Token index where a leading page tagline ends ("HSJ’s round-up of Tuesday’s
        must-read stories"): a masthead names the publisher, not an organisation of the news."""
        text = self._text
        first = text.lstrip()
        line = first.split("\n", 1)[0]
        if not line or not self.tagline_re.search(line):
            return 0
        end_char = len(text) - len(first) + len(line)
        span = doc.char_span(0, end_char, alignment_mode="expand")
        return span.end if span is not None else 0

    def _ner_rejects(self, span: Span) -> bool:
        """An NER "organisation" that is a rating ("rating of Inadequate"), a report's
        title ("Review of X"), a bare institution word ("the Assembly"), a phrase opened by
        a preposition ("Across England"), a place after "in" ("teams in Stevenage and
        Hitchin", "Orchard Surgery in Slough"), or a person whose title follows ("Jane
        Smith, chief executive of ...")."""
        if span[-1].text in self.rating_words:
            return True
        if any(
            span[k].text in self.title_heads and span[k + 1].lower_ in ("of", "into", "on")
            for k in range(len(span) - 1)
        ):
            return True  # the title of a review or report ("Review of Integrated Care Boards")
        if len(span) == 1 and span[0].text in self.institution_words:
            return True
        if span[0].pos_ == "ADP" or span[0].lower_ in self.place_prepositions:
            return True
        root = span.root
        if root.dep_ == "pobj" and root.head.lower_ == "in":
            # "teams in Stevenage and Hitchin", "Orchard Surgery in Slough", "in Wells and
            # Street": places, unless a word of the name says what kind of body it is
            return not any(
                t.text in self.company_words
                or t.text in self.media_words
                or t.text in self.descriptors
                for t in span
            )
        # "wards including Oak House and Elm Court": sites named as examples of a site noun
        if (
            root.dep_ == "pobj"
            and root.head.lower_ in ("including", "like", "at")
            and root.head.head.lower_ in self.site_nouns
        ):
            return True
        # "Jane Smith, chief executive of X": a person introduced by the title after her
        doc = span.doc
        after = doc[span.end : span.end + 3]
        return (
            len(after) >= 2
            and after[0].text == ","
            and any(t.lower_.rstrip(".") in self.title_words for t in after[1:])
        )

    def _is_branch_site(self, doc: Doc, start: int) -> bool:
        """A practice named as another's branch ("its branch at Marine Road Surgery") is a
        site, not an organisation of its own."""
        return any(t.lower_ in self.branch_words for t in doc[max(0, start - 3) : start])

    def _hospital_acts(self, doc: Doc, start: int, end: int) -> bool:
        """Whether a hospital acts as the organisation (GUIDELINES, Further rulings:
        Hospitals): it is the subject of a clause, earns or spends where money is at stake
        ("income at X Hospital"), or a relative clause says what it did ("X Hospital in Y,
        which overspent"). Otherwise it is named as a site, a place."""
        root = doc[end - 1]
        seen = {root.i}
        # a hospital listed with others takes the relation of the first ("income at A, B
        # and C Hospital")
        while (
            root.dep_ in ("conj", "appos", "nmod", "compound")
            and root.head.text in self.hospital_heads
            and root.head.i not in seen
        ):
            root = root.head
            seen.add(root.i)
        # "One of the group's hospitals, X Hospital in Y, was rated ...": in apposition to
        # the subject
        subject = root.head if root.dep_ == "appos" else root
        if subject.dep_ in ("nsubj", "nsubjpass") and self._acting_verb(subject.head):
            return True
        if root.dep_ == "pobj" and root.head.lower_ in ("at", "of", "for"):
            governor = root.head.head
            if governor.lower_ in self.money_nouns:
                return True
        # a relative clause after the name, past an optional "in <place>"
        k = end
        if k + 1 < len(doc) and doc[k].lower_ == "in" and self._name_like(doc[k + 1]):
            k += 2
            while k < len(doc) and self._name_like(doc[k]):
                k += 1
        if k + 2 < len(doc) and doc[k].text == "," and doc[k + 1].lower_ in ("which", "that"):
            verbs = [t for t in doc[k + 2 : min(k + 5, len(doc))] if t.pos_ in ("VERB", "AUX")]
            return any(self._acting_verb(t) for t in verbs)
        return False

    def _acting_verb(self, tok: Token) -> bool:
        return tok.lemma_.lower() in self.hospital_acting_verbs or (
            tok.lower_ in self.hospital_acting_verbs
        )

    def _not_a_practice_name(self, doc: Doc, start: int, end: int) -> bool:
        """A phrase before "Practice" that names no GP practice ("Code of Practice", "Best
        Practice")."""
        if start >= end:
            return False
        last = doc[end - 1]
        return last.lower_ in ("of", "for", "in") or last.text in self.practice_non_names

    def _place_and_kind(self, doc: Doc, start: int, end: int) -> bool:
        """A place or a count before a lowercase kind noun describes a practice without
        naming it ("a Blackburn GP surgery", "Haverhill surgery stays open"): only a name of
        its own after "the" ("the Quarry Lane surgery") is a practice's name."""
        if start >= end:
            return True
        prev = doc[start - 1] if start > 0 else None
        if prev is None or prev.lower_ != "the":
            return True  # a label ("Haverhill surgery stays open") or a count
        return any(
            t.ent_type_ in ("GPE", "LOC", "NORP")
            or t.text in self.places
            or t.text in self.generic_acronyms
            for t in doc[start:end]
        )
