"""An exact token-sequence matcher for spaCy Matcher patterns that only compare words.

spaCy's ``Matcher`` tries every pattern at every token of a document. The organisation heads
(``data/orgs_patterns.jsonl``) and the rating words (``data/ratings_lexicon.json``) are all
fixed sequences of words: each token of a pattern is ``{"ORTH": word}`` or ``{"LOWER": word}``,
the word possibly a list (``{"ORTH": {"IN": [...]}}``). For those, an index on the first
token's word finds the same matches for a fraction of the cost: the head patterns took about
half of the organisation component's time through spaCy's ``Matcher``.

:class:`ExactSequenceMatcher` returns what ``Matcher.__call__`` returns for such patterns:
``(match_id, start, end)`` for every pattern that matches at every position (each match once),
``match_id`` the hash of the pattern's key, in order of start, then end, then key. A pattern
with anything else in it (operators, other attributes, predicates) is refused with a
``ValueError`` that names it, so a pattern file cannot ask for more than this matcher does.
"""

from __future__ import annotations

from typing import Any

import numpy
from spacy.attrs import LOWER, ORTH
from spacy.tokens import Doc
from spacy.vocab import Vocab

# the token attributes a pattern may compare, in the column order of Doc.to_array
_ATTRS = ("ORTH", "LOWER")
_ATTR_IDS = [ORTH, LOWER]

TokenTest = tuple[int, frozenset[int]]  # (column of _ATTRS, hashes of the allowed words)


class ExactSequenceMatcher:
    """Matches fixed word sequences written as spaCy Matcher patterns (see the module doc)."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        # per column: first word's hash -> [(key hash, tests of the following tokens)]
        self._first: tuple[dict[int, list[tuple[int, tuple[TokenTest, ...]]]], ...] = ({}, {})
        self._first_words = [numpy.zeros(0, dtype=numpy.uint64)] * len(_ATTRS)  # their keys
        self._key_order: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._key_order)

    def add(self, key: str, patterns: list[list[dict[str, Any]]]) -> None:
        """Add ``patterns`` under ``key`` (as ``Matcher.add`` does, without callbacks)."""
        key_hash = self.vocab.strings.add(key)
        self._key_order.setdefault(key_hash, len(self._key_order))
        for pattern in patterns:
            if not pattern:
                raise ValueError(f"pattern {key!r}: an empty pattern matches nothing")
            (column, words), *rest = [self._test(key, token) for token in pattern]
            for word in words:
                self._first[column].setdefault(word, []).append((key_hash, tuple(rest)))
            self._first_words[column] = numpy.array(sorted(self._first[column]),
                                                    dtype=numpy.uint64)

    def _test(self, key: str, token: dict[str, Any]) -> TokenTest:
        if not isinstance(token, dict) or len(token) != 1:
            raise ValueError(f"pattern {key!r}: each token needs exactly one of {_ATTRS}")
        ((attr, value),) = token.items()
        if attr not in _ATTRS:
            raise ValueError(f"pattern {key!r}: {attr!r} is not one of {_ATTRS}")
        if isinstance(value, dict):
            if set(value) != {"IN"} or not isinstance(value["IN"], list):
                raise ValueError(f"pattern {key!r}: {attr} takes a word or {{'IN': [words]}}")
            words = value["IN"]
        else:
            words = [value]
        if not words or not all(isinstance(w, str) for w in words):
            raise ValueError(f"pattern {key!r}: {attr} words must be strings")
        return _ATTRS.index(attr), frozenset(self.vocab.strings.add(w) for w in words)

    def __call__(self, doc: Doc) -> list[tuple[int, int, int]]:
        """``(match_id, start, end)`` of every match in ``doc``."""
        n = len(doc)
        if not n or not self._key_order:
            return []
        array = doc.to_array(_ATTR_IDS)  # one row per token: orth hash, lower hash
        columns: list[list[int]] | None = None
        found: set[tuple[int, int, int]] = set()
        for c, first in enumerate(self._first):
            if not first:
                continue
            # the tokens that can open a pattern, found without a Python loop over the doc
            starts = numpy.flatnonzero(numpy.isin(array[:, c], self._first_words[c]))
            if not len(starts):
                continue
            if columns is None:
                columns = array.T.tolist()
            column = columns[c]
            for i in starts.tolist():
                for key_hash, rest in first[column[i]]:
                    end = i + 1 + len(rest)
                    if end <= n and all(
                        columns[tc][i + 1 + k] in words for k, (tc, words) in enumerate(rest)
                    ):
                        found.add((key_hash, i, end))
        return sorted(found, key=lambda m: (m[1], m[2], self._key_order[m[0]]))
