"""Duplicate detection for article bodies: exact (SHA-256) and near (64-bit SimHash).

A SimHash fingerprint is built from overlapping word 3-shingles hashed with BLAKE2b; two bodies
whose fingerprints differ in at most ``NEAR_DUPLICATE_BITS`` bits are treated as the same text
(a press release syndicated with a different footer, a re-published page). ``SimhashIndex``
keeps the fingerprints of stored articles and answers "is there a near-duplicate?" with a
vectorised Hamming-distance scan.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np

__all__ = [
    "NEAR_DUPLICATE_BITS",
    "SimhashIndex",
    "content_hash",
    "hamming",
    "simhash",
]

NEAR_DUPLICATE_BITS = 3
SHINGLE = 3
_WORD = re.compile(r"\w+", re.UNICODE)


def _normal_text(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def content_hash(text: str) -> str:
    """Hex SHA-256 of the body text (whitespace-normalised, NFC)."""
    norm = " ".join(unicodedata.normalize("NFC", text).split())
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


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


def _popcount(values: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(values).astype(np.int64)
    bits = np.unpackbits(values.view(np.uint8).reshape(-1, 8), axis=1)
    return bits.sum(axis=1, dtype=np.int64)


class SimhashIndex:
    """Fingerprints of stored (non-duplicate) articles, searchable by Hamming distance."""

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._hashes = np.zeros(0, dtype=np.uint64)
        self._pending: list[int] = []

    def __len__(self) -> int:
        return len(self._ids)

    def _compact(self) -> None:
        if self._pending:
            self._hashes = np.concatenate(
                [self._hashes, np.asarray(self._pending, dtype=np.uint64)]
            )
            self._pending = []

    def add(self, key: str, fingerprint: int) -> None:
        """Add or replace the fingerprint of ``key``."""
        if key in self._pos:
            self._compact()
            self._hashes[self._pos[key]] = np.uint64(fingerprint)
            return
        self._pos[key] = len(self._ids)
        self._ids.append(key)
        self._pending.append(fingerprint)

    def nearest(
        self, fingerprint: int, *, max_bits: int = NEAR_DUPLICATE_BITS, exclude: str | None = None
    ) -> str | None:
        """Key of the closest fingerprint within ``max_bits`` (ties: the earliest added)."""
        self._compact()
        if not self._ids:
            return None
        dist = _popcount(self._hashes ^ np.uint64(fingerprint))
        if exclude is not None and exclude in self._pos:
            dist[self._pos[exclude]] = 65
        best = int(np.argmin(dist))
        return self._ids[best] if dist[best] <= max_bits else None
