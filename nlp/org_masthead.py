"""A newsletter's masthead as the publication it names (a mixin of the ``policywatch_orgs``
component).

A page that opens with a short title-case line and, on the very next line, the furniture of
a newsletter (a date, an issue number, a tagline, a sponsor: "The Ward Round" over "Issue 48 |
14 March 2024") names its publication there: a ``media`` organisation (real2 ruling 1). A
descriptive label in sentence case ("Morning briefing", "NHS money digest: ...") is not one,
nor is a headline over a "Published:" line, nor a line that is already a body's name, nor the
body's name over the line that says what paper follows ("NHS Kelso" over "Finance report to the
board, month 6": a board paper, not a newsletter).
"""

from __future__ import annotations

import re
from typing import Any

from spacy.tokens import Doc

from nlp.org_model import Mention

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE_RE = re.compile(rf"\b\d{{1,2}}\s+(?:{_MONTHS})\s+(?:19|20)\d{{2}}\b")


class OrgMastheadRules:
    """The masthead rule; its words come from ``data/orgs_lexicon.json``."""

    def _load_masthead(self, lex: dict[str, Any]) -> None:
        """The masthead vocabulary of ``orgs_lexicon.json``."""
        words = lex["masthead"]
        self.masthead_small_words = set(words["small_words"])
        self.masthead_max_words = words["max_words"]
        self.masthead_furniture_re = re.compile(
            r"^(?:" + "|".join(words["furniture_starts"]) + r")\b", re.IGNORECASE
        )
        self.masthead_not_furniture_re = re.compile(
            r"^(?:" + "|".join(words["headline_date_lines"]) + r")\b", re.IGNORECASE
        )
        self.masthead_paper_line_re = re.compile(
            r"\b(?:" + "|".join(words["paper_lines"]) + r")\b", re.IGNORECASE
        )

    def _masthead_mention(self, doc: Doc, taken: set[int]) -> list[Mention]:
        """The publication named by a newsletter's masthead line (see the module doc)."""
        lines = self._text.split("\n")
        if len(lines) < 2:
            return []
        title, furniture = lines[0].strip(), lines[1].strip()
        words = title.split()
        if not words or len(words) < 2 or len(words) > self.masthead_max_words:
            return []
        if not all(w[0].isupper() or w in self.masthead_small_words for w in words):
            return []
        if not all(w.isalpha() or w in self.masthead_small_words for w in words):
            return []  # punctuation: a label ("NHS money digest: ...") or a headline
        if not self._newsletter_furniture(furniture):
            return []
        start_char = self._text.index(title)
        span = doc.char_span(start_char, start_char + len(title), alignment_mode="expand")
        if span is None or any(k in taken for k in range(span.start, span.end)):
            return []
        if any(t.pos_ in ("VERB", "AUX", "NUM") for t in span):
            return []  # a headline ("Trust Placed In Special Measures")
        return [Mention(span.start, span.end, span.text, "media", "masthead")]

    def _newsletter_furniture(self, line: str) -> bool:
        """A newsletter's second line: a date or issue line, a tagline, a sponsor line -- not
        a headline's "Published:" line."""
        if not line or self.masthead_not_furniture_re.match(line) \
                or self.masthead_paper_line_re.search(line):
            return False
        if "|" in line or _DATE_RE.search(line) or self.masthead_furniture_re.match(line):
            return True
        # a tagline: a phrase in sentence case without a full stop
        words = line.split()
        return (
            len(words) >= 4
            and not line.endswith(".")
            and sum(w[0].islower() for w in words[1:]) >= len(words[1:]) / 2
        )
