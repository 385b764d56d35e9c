"""Duplicate detection for article bodies: exact (SHA-256) and near (MinHash over word shingles).

A republication (the same story on another path or site, with its own canonical link, a
reworded headline, a phrase changed, a line added or removed, different page chrome) keeps most
of its word sequences. Each body is cut into overlapping word ``SHINGLE``-grams (case- and
punctuation-blind); the Jaccard similarity of two bodies' shingle sets is estimated with a
``NUM_PERM``-permutation MinHash (datasketch), and a locality-sensitive hash index
(``MinHashLSH``) finds the stored bodies that may reach ``NEAR_DUPLICATE_JACCARD`` without
comparing against every one. A candidate counts when its estimated Jaccard reaches the
threshold; the closest one wins.

Republications measured on ``fixtures/dedup`` lie at Jaccard 0.6-0.95 and distinct stories on
the same topic at most ~0.2 (``benchmarks/dedup.py``), so the threshold of 0.45 leaves a wide
margin on both sides of the MinHash estimate's error (about 0.03 with 256 permutations).

The 64-bit SimHash of a body is still computed and stored with each version
(``article_versions.simhash``) as a compact fingerprint; it no longer decides duplicates, as
it missed republications a few words apart (10 bits for a 0.91 Jaccard pair).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

import numpy as np
from datasketch import MinHash, MinHashLSH

__all__ = [
    "MinHashIndex",
    "NEAR_DUPLICATE_JACCARD",
    "content_hash",
    "hamming",
    "jaccard",
    "minhash",
    "minhash_from_bytes",
    "shingles",
    "simhash",
]

NEAR_DUPLICATE_JACCARD = 0.45
NUM_PERM = 256
SHINGLE = 3
_SCHEME = "affine32"  # the hash family of datasketch >= 2.0, fixed so stored signatures stay valid
_WORD = re.compile(r"\w+", re.UNICODE)


def _normal_text(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def content_hash(text: str) -> str:
    """Hex SHA-256 of the body text (whitespace-normalised, NFC)."""
    norm = " ".join(unicodedata.normalize("NFC", text).split())
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def shingles(text: str, size: int = SHINGLE) -> set[str]:
    """The word ``size``-grams of ``text`` (case- and punctuation-blind); a text shorter than
    one shingle gives its words."""
    words = _WORD.findall(_normal_text(text))
    if len(words) < size:
        return set(words)
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def jaccard(a: str, b: str, size: int = SHINGLE) -> float:
    """Exact Jaccard similarity of the shingle sets of two texts (0.0 when both are empty)."""
    sa, sb = shingles(a, size), shingles(b, size)
    union = sa | sb
    return len(sa & sb) / len(union) if union else 0.0


def minhash(text: str) -> MinHash:
    """The MinHash signature of ``text``'s shingle set."""
    signature = MinHash(num_perm=NUM_PERM, scheme=_SCHEME)
    signature.update_batch([s.encode("utf-8") for s in sorted(shingles(text))])
    return signature


def minhash_from_bytes(data: bytes) -> MinHash:
    """A signature stored with :meth:`MinHash.hashvalues` ``.tobytes()`` (uint32 values)."""
    values = np.frombuffer(data, dtype=np.uint32)
    if values.size != NUM_PERM:
        raise ValueError(f"a stored MinHash has {values.size} values, expected {NUM_PERM}")
    return MinHash(num_perm=NUM_PERM, hashvalues=values.copy(), scheme=_SCHEME)


def _feature_hashes(text: str) -> np.ndarray:
    words = _WORD.findall(_normal_text(text))
    if len(words) >= SHINGLE:
        feats = [" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)]
    else:
        feats = words
    return np.fromiter(
        (
            int.from_bytes(hashlib.blake2b(f.encode("utf-8"), digest_size=8).digest(), "little")
            for f in feats
        ),
        dtype=np.uint64,
        count=len(feats),
    )


def simhash(text: str) -> int:
    """64-bit SimHash of ``text`` (0 for text without words)."""
    hashes = _feature_hashes(text)
    if hashes.size == 0:
        return 0
    bits = (hashes[:, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)
    # Each feature votes +1/-1 per bit; a bit is set where the votes are positive.
    votes = bits.sum(axis=0, dtype=np.int64) * 2 - hashes.size
    set_bits = np.nonzero(votes > 0)[0]
    return int(sum(1 << int(b) for b in set_bits))


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit fingerprints."""
    return (a ^ b).bit_count()


class MinHashIndex:
    """MinHash signatures of stored (non-duplicate) articles, searchable by Jaccard."""

    def __init__(self, threshold: float = NEAR_DUPLICATE_JACCARD) -> None:
        self.threshold = threshold
        # The LSH bands are tuned a little below the threshold so that a pair just above it is
        # almost surely a candidate; candidates are then checked on the estimated Jaccard.
        self._lsh = MinHashLSH(threshold=max(0.05, threshold - 0.1), num_perm=NUM_PERM)
        self._signatures: dict[str, MinHash] = {}
        self._order: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._signatures)

    def __contains__(self, key: object) -> bool:
        return key in self._signatures

    def add(self, key: str, signature: MinHash) -> None:
        """Add or replace the signature of ``key``."""
        if key in self._signatures:
            self._lsh.remove(key)
        else:
            self._order[key] = len(self._order)
        self._signatures[key] = signature
        self._lsh.insert(key, signature)

    def add_many(self, items: Iterable[tuple[str, MinHash]]) -> None:
        for key, signature in items:
            self.add(key, signature)

    def nearest(self, signature: MinHash, *, exclude: str | None = None) -> str | None:
        """Key of the stored signature with the highest estimated Jaccard at or above the
        threshold (ties: the earliest added), or None."""
        best: tuple[float, int, str] | None = None
        for key in self._lsh.query(signature):
            if key == exclude:
                continue
            score = signature.jaccard(self._signatures[key])
            if score < self.threshold:
                continue
            rank = (score, -self._order[key], key)
            if best is None or rank > best:
                best = rank
        return best[2] if best else None
