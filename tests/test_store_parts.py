"""Parquet parts: written whole or not at all, compacted in order through the crawl's save
functions, never twice (a compaction that died after its commit skips the part), and read
back by a crawl worker's start state before they are compacted."""

from __future__ import annotations

import shutil
from datetime import datetime

import duckdb

from crawler.state import StoreContext
from crawler.worker_state import load_worker_state
from store import parts as store_parts

T0 = datetime(2026, 11, 2, 9, 0)
T1 = datetime(2026, 11, 3, 9, 0)


def _article(version: int, when: datetime) -> dict:
    return {"article_id": "a1", "source": "src", "url": "https://n.example/a1",
            "title": "Trust board meets", "author": None, "published": T0, "updated": None,
            "language": "en", "first_seen": when, "last_fetched": when,
            "current_version": version, "duplicate_of": None}


def _version(version: int, body: str, when: datetime) -> dict:
    return {"article_id": "a1", "version": version, "fetched_at": when,
            "content_hash": f"hash-{version}", "simhash": 7, "body": body, "minhash": None}


def _story(version: int, body: str) -> dict:
    return {"story_id": f"a1-v{version}-s0", "article_id": "a1", "version": version,
            "story_index": 0, "headline": "Trust board meets", "start_offset": 0,
            "body": body, "published": T0}


def _seen(when: datetime) -> dict:
    return {"url": "https://n.example/a1", "article_id": "a1", "first_seen": when,
            "last_seen": when}


def _write_two_rounds(parts):
    first = "The board agreed the plan for the new ward and its staffing."
    second = first + " A later note corrected the opening date."
    store_parts.write_part(parts, {"articles": [_article(1, T0)],
                                   "versions": [_version(1, first, T0)],
                                   "stories": [_story(1, first)], "seen": [_seen(T0)]},
                           round_id=1)
    store_parts.write_part(parts, {
        "sources": [{"name": "src", "config": {"name": "src", "feeds": []}}],
        "validators": [{"url": "https://n.example/rss", "etag": '"e1"', "last_modified": None,
                        "last_status": 200, "checked_at": T0}],
        "runs": [{"source": "src", "started_at": T0, "finished_at": T0, "status": "ok",
                  "pages_fetched": 2, "new_stories": 1, "new_versions": 0, "duplicates": 0,
                  "errors": {}, "detail": {"new_articles": 1}}]}, round_id=1)
    store_parts.write_part(parts, {"articles": [_article(2, T1)],
                                   "versions": [_version(2, second, T1)],
                                   "stories": [_story(2, second)], "seen": [_seen(T1)]},
                           round_id=2)


def test_parts_are_named_in_order_and_written_whole(tmp_path):
    parts = tmp_path / "db.parts"
    _write_two_rounds(parts)
    assert store_parts.write_part(parts, {"articles": []}) is None  # nothing to write
    names = [p.name for p in store_parts.pending_parts(parts)]
    assert len(names) == 3 and names == sorted(names)
    assert names[0].startswith("r000000001-") and names[2].startswith("r000000002-")
    (parts / ".tmp-r000000003-unfinished").mkdir()  # a writer killed mid-part
    assert len(store_parts.pending_parts(parts)) == 3


def test_compaction_writes_through_the_save_path_once(tmp_path):
    parts = tmp_path / "db.parts"
    db = tmp_path / "db.duckdb"
    _write_two_rounds(parts)
    kept = tmp_path / "kept"
    shutil.copytree(parts, kept)
    result = store_parts.compact(db, parts)
    assert (result.parts, result.skipped) == (3, 0)
    assert result.rows["articles"] == 2 and result.rows["runs"] == 1
    assert store_parts.pending_parts(parts) == []

    # A compaction that died after its commits, before deleting the parts: run again.
    shutil.copytree(kept, parts, dirs_exist_ok=True)
    again = store_parts.compact(db, parts)
    assert (again.parts, again.skipped) == (0, 3)
    assert store_parts.pending_parts(parts) == []

    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT current_version, first_seen, last_fetched FROM articles"
                           ).fetchall() == [(2, T0, T1)]
        assert con.execute("SELECT version FROM article_versions ORDER BY version"
                           ).fetchall() == [(1,), (2,)]
        assert con.execute("SELECT count(*) FROM stories").fetchone() == (2,)
        assert con.execute("SELECT first_seen, last_seen FROM seen_urls").fetchall() == [
            (T0, T1)]
        assert con.execute("SELECT source, status, pages_fetched, new_stories FROM crawl_runs"
                           ).fetchall() == [("src", "ok", 2, 1)]
        assert con.execute("SELECT etag FROM http_validators").fetchall() == [('"e1"',)]
        assert con.execute("SELECT name FROM sources").fetchall() == [("src",)]
        assert con.execute("SELECT count(*) FROM compacted_parts").fetchone() == (3,)
    finally:
        con.close()


def test_a_worker_starts_from_the_database_and_the_parts_not_compacted_yet(tmp_path):
    parts = tmp_path / "db.parts"
    db = tmp_path / "db.duckdb"
    _write_two_rounds(parts)
    # Compact round 1 only; round 2 stays a part.
    later = store_parts.pending_parts(parts)[2]
    shutil.move(later, tmp_path / "later")
    store_parts.compact(db, parts)
    shutil.move(tmp_path / "later", parts / later.name)

    store = StoreContext(db_path=db)
    load_worker_state(store, parts)
    assert store.known_complete
    assert store.known["a1"] == (2, "hash-2", None)  # version 2 from the pending part
    assert store.seen["https://n.example/a1"] == T1
    assert store.validators["https://n.example/rss"] == ('"e1"', None)
