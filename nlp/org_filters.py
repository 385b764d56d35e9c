"""Decisions that a candidate name is not an organisation of the news (a mixin of the
``policywatch_orgs`` component).

An entity used as a place ("across the Black Country", "from X to Y") and a page tagline
("HSJ’s round-up of ...") are not organisations of the news.
"""

from __future__ import annotations

from spacy.tokens import Doc, Span


class OrgFilterRules:
    """Not-an-organisation rules; word classes come from ``data/orgs_lexicon.json``."""

    def _locative(self, span: Span) -> bool:
        """An entity the stock NER calls an organisation but the text uses as a place: the
        object of "across"/"throughout" ("across the Black Country") or the ends of a
        range ("from the Peak District to Sheffield")."""
        root = span.root
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
