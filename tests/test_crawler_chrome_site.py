"""A crawl of a news site built from real page chrome (``fixtures/newsletters``): newsletter
pages in several layouts, an article and its republication under another path with its own
canonical link and headline. Every document is stored once, every story once and as the gold
annotation splits it, and the republication's facts are not counted twice."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest
from crawl_server import FAST_SETTINGS, CrawlServer, local_source, write_feed

from crawler.run import crawl
from crawler.urls import article_id

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "newsletters"
NEWSLETTERS = ["nl-email-1", "nl-h2-1", "nl-h3-1", "nl-strong-1", "nl-digest-1", "nl-inbrief-1"]


def _gold() -> dict[str, list[dict]]:
    lines = (FIXTURES / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    return {r["id"]: r["stories"] for r in map(json.loads, lines)}


def _build_site(root: Path) -> list[str]:
    paths = []
    for name in NEWSLETTERS:
        page = gzip.decompress((FIXTURES / "html" / f"{name}.html.gz").read_bytes())
        (root / "newsletters").mkdir(parents=True, exist_ok=True)
        (root / "newsletters" / f"{name}.html").write_bytes(page)
        paths.append(f"/newsletters/{name}.html")
    for name, path in (("original", "/news/original.html"),
                       ("republication", "/partners/republished.html")):
        page = gzip.decompress((FIXTURES / "articles" / f"{name}.html.gz").read_bytes())
        (root / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (root / path.lstrip("/")).write_bytes(page)
        paths.append(path)
    write_feed(root, [(p, Path(p).stem, "2026-11-30T08:00:00Z") for p in paths])
    return paths


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chrome")
    site = tmp / "site"
    paths = _build_site(site)
    db = tmp / "chrome.duckdb"
    settings = {**FAST_SETTINGS, "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
                "POLICYWATCH_BATCH_SIZE": 1, "DOWNLOAD_MAXSIZE": 8 * 1024 * 1024,
                "DOWNLOAD_WARNSIZE": 8 * 1024 * 1024}
    with CrawlServer(site) as server:
        report = crawl(db, [local_source("chrome", feeds=[server.url("/rss.xml")])],
                       settings=settings).sources["chrome"]
        urls = {p: server.url(p) for p in paths}
    return db, report, urls


def _first_and_copy(con: duckdb.DuckDBPyConnection, urls: dict[str, str]) -> tuple[str, str]:
    """URLs of the article stored first and of the copy linked to it (one request at a
    time, so whichever of the two was fetched first is the one kept)."""
    pair = [urls["/news/original.html"], urls["/partners/republished.html"]]
    linked = dict(con.execute("SELECT url, duplicate_of FROM articles WHERE list_contains(?, url)",
                              [pair]).fetchall())
    first = next(url for url in pair if linked[url] is None)
    copy = next(url for url in pair if url != first)
    return first, copy


def test_every_document_is_stored_once_and_the_republication_is_linked(crawled):
    db, report, urls = crawled
    assert report["new_articles"] == len(urls) and report["duplicates"] == 1
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = dict(con.execute("SELECT url, duplicate_of FROM articles").fetchall())
        assert sorted(rows) == sorted(urls.values())
        first, copy = _first_and_copy(con, urls)
        assert rows.pop(copy) == article_id(first)
        assert set(rows.values()) == {None}
        assert con.execute("SELECT count(*) FROM stories WHERE article_id = ?",
                           [article_id(copy)]).fetchone()[0] == 0
    finally:
        con.close()


def test_every_story_is_stored_once_as_a_reader_sees_it(crawled):
    db, _, urls = crawled
    gold = _gold()
    con = duckdb.connect(str(db), read_only=True)
    try:
        for name in NEWSLETTERS:
            aid = article_id(urls[f"/newsletters/{name}.html"])
            body = con.execute("SELECT body FROM article_versions WHERE article_id = ?",
                               [aid]).fetchone()[0]
            assert body == (FIXTURES / "docs" / f"{name}.txt").read_text(encoding="utf-8")
            stored = con.execute(
                "SELECT start_offset, headline FROM stories WHERE article_id = ? "
                "ORDER BY story_index", [aid]).fetchall()
            assert stored == [(s["start"], s["headline"]) for s in gold[name]], name
        (stories, distinct) = con.execute(
            "SELECT count(*), count(DISTINCT (article_id, version, start_offset)) "
            "FROM stories").fetchone()
        assert stories == distinct
        first, _ = _first_and_copy(con, urls)
        (headline, body), = con.execute(
            "SELECT headline, body FROM stories WHERE article_id = ?",
            [article_id(first)]).fetchall()
        # the article's title is what the extractor reads first
        assert body.startswith(headline + "\n\n") and "£38m" in headline
    finally:
        con.close()


def test_facts_of_the_republication_are_counted_once(crawled):
    db, _, urls = crawled
    from nlp import pipeline_version
    from nlp.extract import extract_many
    from store import db as store_db
    from store import facts

    con = store_db.connect(db)
    try:
        todo = facts.stories_to_process(con, pipeline_version())
        results = list(zip([s.story_id for s in todo],
                           extract_many((s.body, None) for s in todo), strict=True))
        facts.save_facts(con, results, pipeline_version())
        first, copy = _first_and_copy(con, urls)
        # the £38m deficit is in the article and its republication (and in a newsletter
        # story that tells it too); the republication adds no row to any search or count
        deficit = facts.search_amounts(con, min_gbp=38e6, max_gbp=38e6, limit=100)
        by_url = [r["url"] for r in deficit]
        assert first in by_url and copy not in by_url
        first_story = f"{article_id(first)}-v1-s0"
        in_first = con.execute("SELECT count(*) FROM amounts WHERE story_id = ?",
                               [first_story]).fetchone()[0]
        assert in_first >= 1
        assert facts.stored_counts(con)["amounts"] == con.execute(
            "SELECT count(*) FROM amounts").fetchone()[0]
        assert all(not r["story_id"].startswith(article_id(copy))
                   for r in facts.search_stories(con, limit=1000))
    finally:
        con.close()
