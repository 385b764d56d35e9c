"""The start state of a crawl worker that writes Parquet parts (README, "Past one machine").

Such a worker never opens the database for writing and never reads it after its start. What
the item pipeline needs to decide "new, unchanged, new version, duplicate" -- the URLs
already fetched, the HTTP validators, every article's current version and content hash, the
MinHash signatures -- is read once, read-only, from the database, and then overlaid with the
parts not compacted yet (in part order), so a round that starts before the last one was
compacted still numbers versions and recognises unchanged articles correctly.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from crawler.dedup import minhash, minhash_from_bytes
from crawler.state import StoreContext
from store import articles as store_articles
from store import parts as store_parts
from store.db import session

__all__ = ["load_worker_state"]


def load_worker_state(store: StoreContext, parts_dir: str | os.PathLike[str]) -> None:
    """Fill ``store`` (seen, validators, known, fingerprints) from the database at
    ``store.db_path`` (read-only; none yet is an empty start) and the pending parts."""
    if Path(store.db_path).exists():
        with session(store.db_path, read_only=True) as con:
            store.seen = store_articles.load_seen_urls(con)
            store.validators = store_articles.load_validators(con)
            store.known = {
                aid: (st.version, st.content_hash, st.duplicate_of)
                for aid, st in store_articles.all_article_states(con).items()
            }
            for aid, signature, body in store_articles.current_signatures(con):
                store.fingerprints.add(
                    aid, minhash_from_bytes(signature) if signature is not None else minhash(body)
                )
    _overlay_parts(store, parts_dir)
    store.known_complete = True


def _overlay_parts(store: StoreContext, parts_dir: str | os.PathLike[str]) -> None:
    for row in store_parts.read_parts(parts_dir, "seen"):
        store.seen[row["url"]] = row["last_seen"]
    for row in store_parts.read_parts(parts_dir, "validators"):
        if row["etag"] or row["last_modified"]:
            store.validators[row["url"]] = (row["etag"], row["last_modified"])
    versions: dict[tuple[str, int], dict[str, Any]] = {
        (row["article_id"], row["version"]): row
        for row in store_parts.read_parts(parts_dir, "versions")
    }
    for row in store_parts.read_parts(parts_dir, "articles"):
        aid, version = row["article_id"], row["current_version"]
        written = versions.get((aid, version))
        if written is not None:
            chash = written["content_hash"]
        elif aid in store.known:
            chash = store.known[aid][1]  # unchanged: the stored version is still current
        else:
            continue
        store.known[aid] = (version, chash, row["duplicate_of"])
        if written is not None and row["duplicate_of"] is None:
            signature = written["minhash"]
            store.fingerprints.add(
                aid, minhash_from_bytes(signature) if signature else minhash(written["body"]))
