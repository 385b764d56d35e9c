"""Topic similarity between runs of text units: cosine of content-word counts and, given an
embedding function, of mean sentence embeddings (TextTiling-style cohesion)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from crawler.story_cues import _stopwords, _story_cues
from crawler.story_text import _Unit

Embedder = Callable[[list[str]], np.ndarray]

# A topic test gives a margin: how far the similarity of the two sides of a gap lies below a
# threshold, in units of a typical spread (cosine of term counts, cosine of mean embeddings).
# With embeddings both margins are added, so either signal can outvote a weak doubt in the
# other. A margin above zero means "different stories".
_LEXICAL_SCALE = 0.04
_EMBED_SCALE = 0.10
_WORD = re.compile(r"[^\W_]+(?:[’'\-][^\W_]+)*")


def _terms(text: str) -> Counter[str]:
    stop = _stopwords()
    out: Counter[str] = Counter()
    for word in _WORD.findall(text):
        low = word.lower().replace("’", "'")
        if low in stop or len(low) < 3 or low.isdigit():
            continue
        if low.endswith("'s"):
            low = low[:-2]
        elif len(low) > 4 and low.endswith("s") and not low.endswith("ss"):
            low = low[:-1]
        out[low] += 1
    return out


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(math.sqrt(v) * math.sqrt(b[k]) for k, v in a.items() if k in b)
    na = math.sqrt(sum(a.values()))
    nb = math.sqrt(sum(b.values()))
    return dot / (na * nb)


class _Similarity:
    """Lexical and (optional) embedding similarity between runs of units."""

    def __init__(self, units: Sequence[_Unit], embed: Embedder | None) -> None:
        self.terms = [_terms(u.text) for u in units]
        cues = _story_cues()
        generic = cues.generic_name_words | cues.generic_content_words
        self.content_terms = [Counter({t: n for t, n in terms.items() if t not in generic})
                              for terms in self.terms]
        self.vectors: np.ndarray | None = None
        if embed is not None and units:
            vectors = np.asarray(embed([u.text for u in units]), dtype=np.float32)
            if vectors.ndim != 2 or vectors.shape[0] != len(units):
                raise ValueError(
                    f"embed returned an array of shape {vectors.shape} for {len(units)} texts"
                )
            self.vectors = vectors

    def lexical(self, left: range, right: range, *, content_only: bool = False) -> float:
        """Cosine of the term counts; ``content_only`` leaves out generic organisation
        words ("trust", "nhs", "board"), which stories about different bodies share."""
        terms = self.content_terms if content_only else self.terms
        a: Counter[str] = Counter()
        b: Counter[str] = Counter()
        for i in left:
            a.update(terms[i])
        for i in right:
            b.update(terms[i])
        return _cosine(a, b)

    def semantic(self, left: range, right: range) -> float | None:
        if self.vectors is None:
            return None
        a = self.vectors[list(left)].mean(axis=0)
        b = self.vectors[list(right)].mean(axis=0)
        denom = float(np.linalg.norm(a) * np.linalg.norm(b))
        return float(a @ b) / denom if denom else 0.0

    def margin(self, left: range, right: range, lexical_max: float, embed_max: float, *,
               content_only: bool = False) -> float:
        """How clearly two runs of units read as different topics (> 0: different)."""
        lexical = self.lexical(left, right, content_only=content_only)
        margin = (lexical_max - lexical) / _LEXICAL_SCALE
        semantic = self.semantic(left, right)
        if semantic is not None:
            margin += (embed_max - semantic) / _EMBED_SCALE
        return margin


