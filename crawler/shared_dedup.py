"""Near-duplicate decisions shared by the crawl workers of one round, through Redis.

On one machine the item pipeline decides "is this new article a republication of one already
stored?" against one in-process MinHash index, and the first article stored wins. Crawl
workers each hold their own index (loaded at their start), so two workers that fetch an
original and its republication in the same round would each see nothing near. Here every
worker publishes the signature of each article it stores as an original to one Redis list
per round, and catches up on the others' entries before each decision.

The decision is made race-free by an optimistic append: a worker that found nothing near
after reading the list up to length ``n`` appends its signature only if the list still has
``n`` entries (one Lua script); otherwise another worker stored an article meanwhile, and it
catches up and decides again. So, as on one machine, of two near-identical articles the
first one stored is the original and the other is linked to it.
"""

from __future__ import annotations

from typing import Any

from crawler.dedup import MinHashIndex, minhash_from_bytes

__all__ = ["SharedFingerprints", "nearest_or_claim"]

_APPEND_AT = """
-- KEYS[1]: the round's signatures; ARGV: expected length ('' = any), entry, ttl seconds
local n = redis.call('LLEN', KEYS[1])
if ARGV[1] ~= '' and n ~= tonumber(ARGV[1]) then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""
KEY_SECONDS = 30 * 24 * 3600


class SharedFingerprints:
    """The round's list of ``article_id`` + MinHash signature entries in Redis."""

    def __init__(self, client: Any, key: str):
        self.client = client
        self.key = key
        self.read = 0  # entries already added to the local index
        self._append = client.register_script(_APPEND_AT)

    def catch_up(self, index: MinHashIndex) -> None:
        """Add the entries other workers published since the last call to ``index``."""
        for entry in self.client.lrange(self.key, self.read, -1):
            aid, _, signature = bytes(entry).partition(b"|")
            index.add(aid.decode("ascii"), minhash_from_bytes(signature))
            self.read += 1

    def publish(self, aid: str, signature: Any, *, expected: int | None = None) -> bool:
        """Append ``aid``'s signature; with ``expected``, only while the list has exactly
        that many entries (False otherwise, nothing written)."""
        entry = aid.encode("ascii") + b"|" + signature.hashvalues.tobytes()
        done = bool(int(self._append(keys=[self.key], args=[
            "" if expected is None else expected, entry, KEY_SECONDS])))
        if done and expected is not None:
            self.read += 1  # our own entry: the index gets it from the caller
        return done


def nearest_or_claim(index: MinHashIndex, shared: SharedFingerprints | None, aid: str,
                     signature: Any) -> str | None:
    """The stored article ``signature`` nearly duplicates, or None -- and then, with
    ``shared``, ``aid`` is published as an original before any other worker can store a
    near-identical one unseen."""
    while True:
        if shared is not None:
            shared.catch_up(index)
        found = index.nearest(signature, exclude=aid)
        if found is not None or shared is None:
            return found
        if shared.publish(aid, signature, expected=shared.read):
            return None
