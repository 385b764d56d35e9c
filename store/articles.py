"""SQL for the crawl tables: articles, their versions and stories, seen URLs, HTTP validators.

The crawler's item pipeline calls these with batches; every batch is written in one
transaction with a handful of set-based statements over Arrow tables (DuckDB's row-by-row
``executemany`` manages only ~2k rows/s). All values travel as bound parameters or Arrow
columns, never as SQL text.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

__all__ = [
    "CRAWL_BATCH_SCHEMAS",
    "ArticleState",
    "all_article_states",
    "article_states",
    "current_signatures",
    "load_seen_urls",
    "load_validators",
    "save_validators",
    "upsert_sources",
    "write_crawl_batch",
    "write_crawl_rows",
]

_ARTICLES = pa.schema(
    [
        ("article_id", pa.string()),
        ("source", pa.string()),
        ("url", pa.string()),
        ("title", pa.string()),
        ("author", pa.string()),
        ("published", pa.timestamp("us")),
        ("updated", pa.timestamp("us")),
        ("language", pa.string()),
        ("first_seen", pa.timestamp("us")),
        ("last_fetched", pa.timestamp("us")),
        ("current_version", pa.int32()),
        ("duplicate_of", pa.string()),
    ]
)
_VERSIONS = pa.schema(
    [
        ("article_id", pa.string()),
        ("version", pa.int32()),
        ("fetched_at", pa.timestamp("us")),
        ("content_hash", pa.string()),
        ("simhash", pa.uint64()),
        ("body", pa.string()),
        ("minhash", pa.binary()),
    ]
)
_STORIES = pa.schema(
    [
        ("story_id", pa.string()),
        ("article_id", pa.string()),
        ("version", pa.int32()),
        ("story_index", pa.int32()),
        ("headline", pa.string()),
        ("start_offset", pa.int32()),
        ("body", pa.string()),
        ("published", pa.timestamp("us")),
    ]
)
_SEEN = pa.schema(
    [
        ("url", pa.string()),
        ("article_id", pa.string()),
        ("first_seen", pa.timestamp("us")),
        ("last_seen", pa.timestamp("us")),
    ]
)
_VALIDATORS = pa.schema(
    [
        ("url", pa.string()),
        ("etag", pa.string()),
        ("last_modified", pa.string()),
        ("last_status", pa.int32()),
        ("checked_at", pa.timestamp("us")),
    ]
)
# The Arrow layout of each crawl table a batch writes (store/parts.py writes parts in it).
CRAWL_BATCH_SCHEMAS: dict[str, pa.Schema] = {
    "articles": _ARTICLES,
    "versions": _VERSIONS,
    "stories": _STORIES,
    "seen": _SEEN,
    "validators": _VALIDATORS,
}
_tmp_names = itertools.count()


@dataclass(frozen=True)
class ArticleState:
    """What the store knows about an article: its latest version and that version's hashes."""

    article_id: str
    version: int
    content_hash: str
    simhash: int | None
    duplicate_of: str | None


def _register(con: duckdb.DuckDBPyConnection, rows: Sequence[dict[str, Any]], schema: pa.Schema):
    name = f"_pw_batch_{next(_tmp_names)}"
    con.register(name, pa.Table.from_pylist(list(rows), schema=schema))
    return name


def load_seen_urls(con: duckdb.DuckDBPyConnection) -> dict[str, datetime]:
    """Every URL fetched before, with the time it was last fetched."""
    return dict(con.execute("SELECT url, last_seen FROM seen_urls").fetchall())


def load_validators(
    con: duckdb.DuckDBPyConnection, urls: Iterable[str] | None = None
) -> dict[str, tuple[str | None, str | None]]:
    """``url -> (etag, last_modified)`` for conditional requests (every URL if ``urls`` is None)."""
    if urls is None:
        rows = con.execute("SELECT url, etag, last_modified FROM http_validators").fetchall()
    else:
        rows = con.execute(
            "SELECT url, etag, last_modified FROM http_validators WHERE list_contains(?, url)",
            [list(urls)],
        ).fetchall()
    return {url: (etag, lm) for url, etag, lm in rows if etag or lm}


def save_validators(con: duckdb.DuckDBPyConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Upsert rows ``{url, etag, last_modified, last_status, checked_at}``."""
    if not rows:
        return
    by_url = {r["url"]: r for r in rows}
    name = _register(con, list(by_url.values()), _VALIDATORS)
    try:
        con.execute(
            f"INSERT INTO http_validators SELECT * FROM {name} "
            "ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, "
            "last_modified = excluded.last_modified, last_status = excluded.last_status, "
            "checked_at = excluded.checked_at"
        )
    finally:
        con.unregister(name)


def article_states(
    con: duckdb.DuckDBPyConnection, article_ids: Iterable[str]
) -> dict[str, ArticleState]:
    """Current version, content hash and SimHash of each known article among ``article_ids``."""
    ids = list(dict.fromkeys(article_ids))
    if not ids:
        return {}
    rows = con.execute(
        "SELECT a.article_id, a.current_version, v.content_hash, v.simhash, a.duplicate_of "
        "FROM articles a JOIN article_versions v "
        "  ON v.article_id = a.article_id AND v.version = a.current_version "
        "WHERE list_contains(?, a.article_id)",
        [ids],
    ).fetchall()
    return {r[0]: ArticleState(r[0], r[1], r[2], r[3], r[4]) for r in rows}


def all_article_states(con: duckdb.DuckDBPyConnection) -> dict[str, ArticleState]:
    """:func:`article_states` of every stored article (a crawl worker that never reads the
    database again loads them all at its start)."""
    rows = con.execute(
        "SELECT a.article_id, a.current_version, v.content_hash, v.simhash, a.duplicate_of "
        "FROM articles a JOIN article_versions v "
        "  ON v.article_id = a.article_id AND v.version = a.current_version"
    ).fetchall()
    return {r[0]: ArticleState(r[0], r[1], r[2], r[3], r[4]) for r in rows}


def current_signatures(
    con: duckdb.DuckDBPyConnection,
) -> list[tuple[str, bytes | None, str | None]]:
    """``(article_id, minhash, body)`` of the current version of every non-duplicate article,
    oldest first; ``body`` only where no MinHash signature was stored (versions written
    before signatures were), so the caller can compute it."""
    return con.execute(
        "SELECT a.article_id, v.minhash, CASE WHEN v.minhash IS NULL THEN v.body END "
        "FROM articles a JOIN article_versions v "
        "  ON v.article_id = a.article_id AND v.version = a.current_version "
        "WHERE a.duplicate_of IS NULL ORDER BY a.first_seen, a.article_id"
    ).fetchall()


def write_crawl_batch(
    con: duckdb.DuckDBPyConnection,
    *,
    articles: Sequence[dict[str, Any]] = (),
    versions: Sequence[dict[str, Any]] = (),
    stories: Sequence[dict[str, Any]] = (),
    seen: Sequence[dict[str, Any]] = (),
) -> None:
    """Write one pipeline batch atomically (:func:`write_crawl_rows` in one transaction)."""
    con.begin()
    try:
        write_crawl_rows(con, articles=articles, versions=versions, stories=stories, seen=seen)
        con.commit()
    except BaseException:
        con.rollback()
        raise


def write_crawl_rows(
    con: duckdb.DuckDBPyConnection,
    *,
    articles: Sequence[dict[str, Any]] = (),
    versions: Sequence[dict[str, Any]] = (),
    stories: Sequence[dict[str, Any]] = (),
    seen: Sequence[dict[str, Any]] = (),
) -> None:
    """The statements of one pipeline batch, inside the caller's transaction.

    ``articles`` are upserted by ``article_id`` (``first_seen`` is kept from the first insert);
    ``versions`` and ``stories`` are inserted unless present (so a batch replayed after an
    interrupted run adds nothing twice); ``seen`` rows upsert ``last_seen``.
    """
    # The last row per key wins inside a batch: DuckDB cannot update one row twice per statement.
    articles = list({r["article_id"]: r for r in articles}.values())
    seen = list({r["url"]: r for r in seen}.values())
    names: list[str] = []
    try:
        if articles:
            names.append(name := _register(con, articles, _ARTICLES))
            con.execute(
                f"INSERT INTO articles SELECT * FROM {name} ON CONFLICT (article_id) DO UPDATE SET "
                "title = excluded.title, author = excluded.author, "
                "published = excluded.published, updated = excluded.updated, "
                "language = excluded.language, last_fetched = excluded.last_fetched, "
                "current_version = excluded.current_version, duplicate_of = excluded.duplicate_of"
            )
        if versions:
            names.append(name := _register(con, versions, _VERSIONS))
            con.execute(f"INSERT OR IGNORE INTO article_versions BY NAME SELECT * FROM {name}")
        if stories:
            names.append(name := _register(con, stories, _STORIES))
            con.execute(
                "INSERT OR IGNORE INTO stories (story_id, article_id, version, story_index, "
                "headline, start_offset, body, published) "
                f"SELECT * FROM {name}"
            )
        if seen:
            names.append(name := _register(con, seen, _SEEN))
            con.execute(
                f"INSERT INTO seen_urls SELECT * FROM {name} ON CONFLICT (url) DO UPDATE SET "
                "last_seen = excluded.last_seen, "
                "article_id = coalesce(excluded.article_id, seen_urls.article_id)"
            )
    finally:
        for name in names:
            con.unregister(name)


def upsert_sources(con: duckdb.DuckDBPyConnection, configs: Sequence[dict[str, Any]]) -> None:
    """Record the configuration of each source (``config["name"]`` is the key)."""
    for cfg in configs:
        con.execute(
            "INSERT INTO sources VALUES (?, ?, now()::TIMESTAMP) ON CONFLICT (name) DO UPDATE "
            "SET config = excluded.config, updated_at = excluded.updated_at",
            [cfg["name"], json.dumps(cfg, sort_keys=True)],
        )
