"""Incremental crawling against a local server: a second crawl downloads only what changed;
near-duplicates are linked, canonical URLs followed, tracking parameters ignored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
from crawl_server import (
    FAST_SETTINGS,
    CrawlServer,
    article_html,
    article_text,
    local_source,
    write_feed,
    write_news_site,
)

from crawler.run import crawl
from crawler.urls import article_id


def _article_requests(server: CrawlServer) -> dict[str, int]:
    return server.article_requests("/articles/")


def _rewrite_site(root, n: int, changed: int, when: str) -> None:
    """Feed, sitemap and listing for articles 0..n-1, article ``changed`` updated at ``when``."""
    paths = [f"/articles/{i:04d}.html" for i in range(n)]
    dates = ["2025-01-06T09:00:00Z"] * n
    dates[changed] = when
    write_feed(
        root,
        [(p, f"Story number {i}", d) for i, (p, d) in enumerate(zip(paths, dates, strict=True))],
    )
    urls = "".join(
        f"<url><loc>{{{{BASE_URL}}}}{p}</loc><lastmod>{d}</lastmod></url>"
        for p, d in zip(paths, dates, strict=True)
    )
    (root / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    )
    links = "".join(f'<li><a href="{p}">Story</a></li>' for p in paths)
    (root / "index.html").write_text(f"<html><body><ul>{links}</ul></body></html>")


def test_second_crawl_fetches_only_the_changed_and_the_new_article(tmp_path):
    site = tmp_path / "site"
    write_news_site(site, 8)
    db = tmp_path / "inc.duckdb"
    with CrawlServer(site) as server:
        source = local_source(
            "inc",
            feeds=[server.url("/rss.xml")],
            sitemaps=[server.url("/robots.txt")],
            listings=[{"url": server.url("/"), "links": r"/articles/\d+\.html"}],
        )
        first = crawl(db, [source], settings=FAST_SETTINGS).sources["inc"]
        assert first["new_articles"] == 8 and first["new_stories"] == 8
        assert set(_article_requests(server).values()) == {1}

        # Change article 3 (announced as updated in feed and sitemap) and publish article 8.
        (site / "articles/0003.html").write_text(
            article_html("Story number 3", article_text(3) + "\nA correction was added later.")
        )
        (site / "articles/0008.html").write_text(article_html("Story number 8", article_text(8)))
        later = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        _rewrite_site(site, 9, changed=3, when=later)

        server.reset_counts()
        second = crawl(db, [source], settings=FAST_SETTINGS).sources["inc"]
        assert _article_requests(server) == {"/articles/0003.html": 1, "/articles/0008.html": 1}
        assert server.requests["/"] == 1  # the listing page is re-read every run
        assert second["new_articles"] == 1  # exactly one new article, one story
        assert second["new_versions"] == 1  # exactly one new version of a known article
        assert second["new_stories"] == 2  # the new article's story + the new version's story
        assert second["duplicates"] == 0

        server.reset_counts()
        third = crawl(db, [source], settings=FAST_SETTINGS).sources["inc"]
        assert _article_requests(server) == {}
        assert third["new_stories"] == 0 and third["not_modified"] == 2  # feed + sitemap: 304
        assert server.statuses[304] == 2

    con = duckdb.connect(str(db), read_only=True)
    try:
        changed = article_id(server.url("/articles/0003.html"))
        versions = con.execute(
            "SELECT version FROM article_versions WHERE article_id = ? ORDER BY version",
            [changed],
        ).fetchall()
        assert versions == [(1,), (2,)]
        stories = con.execute(
            "SELECT story_id FROM stories WHERE article_id = ? ORDER BY story_id", [changed]
        ).fetchall()
        assert stories == [(f"{changed}-v1-s0",), (f"{changed}-v2-s0",)]
        (current,) = con.execute(
            "SELECT current_version FROM articles WHERE article_id = ?", [changed]
        ).fetchone()
        assert current == 2
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 9
        assert con.execute("SELECT count(*) FROM stories").fetchone()[0] == 10
        runs = con.execute(
            "SELECT status, new_stories, new_versions FROM crawl_runs ORDER BY run_id"
        ).fetchall()
        assert runs == [("ok", 8, 0), ("ok", 2, 1), ("ok", 0, 0)]
        validators = con.execute("SELECT count(*) FROM http_validators").fetchone()[0]
        assert validators == 2
    finally:
        con.close()


def test_near_duplicates_canonical_urls_and_tracking_params(tmp_path):
    site = tmp_path / "site"
    (site / "articles").mkdir(parents=True)
    text = article_text(2, 900)
    (site / "articles/original.html").write_text(article_html("Trust fined", text))
    # The same press release syndicated elsewhere on the site, in other page furniture and
    # with a sign-off line: a near-duplicate, linked rather than stored as a new story.
    (site / "articles/copy.html").write_text(
        article_html("Trust fined (syndicated)", text + " Ends.").replace(
            "Copyright Example News", "Republished with permission"
        )
    )
    (site / "articles/print.html").write_text(
        article_html("Other story", article_text(5), canonical="/articles/other.html")
    )
    (site / "articles/other.html").write_text(article_html("Other story", article_text(5)))
    write_feed(
        site,
        [
            ("/articles/original.html?utm_source=rss&utm_medium=feed", "a", "2025-01-01T00:00:00Z"),
            ("/articles/copy.html", "b", "2025-01-01T00:00:00Z"),
            ("/articles/print.html#top", "c", "2025-01-01T00:00:00Z"),
        ],
    )
    db = tmp_path / "dup.duckdb"
    with CrawlServer(site) as server:
        source = local_source("dup", feeds=[server.url("/rss.xml")])
        # One request and one article per batch at a time: the copy is compared with a
        # stored original.
        settings = {
            **FAST_SETTINGS,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
            "POLICYWATCH_BATCH_SIZE": 1,
        }
        rep = crawl(db, [source], settings=settings).sources["dup"]
        requests = dict(server.requests)
    assert requests["/articles/original.html"] == 1  # tracking parameters dropped
    assert requests["/articles/other.html"] == 1  # canonical followed
    assert rep["duplicates"] == 1
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = dict(con.execute("SELECT url, duplicate_of FROM articles").fetchall())
        original, copy = server.url("/articles/original.html"), server.url("/articles/copy.html")
        assert rows.pop(server.url("/articles/other.html")) is None
        # Whichever of the two was stored first is the original; the other points at it.
        assert sorted(rows.items(), key=lambda kv: kv[1] is None) in (
            [(original, article_id(copy)), (copy, None)],
            [(copy, article_id(original)), (original, None)],
        )
        headlines = [
            h for (h,) in con.execute("SELECT headline FROM stories ORDER BY headline").fetchall()
        ]
        assert headlines in (
            ["Other story", "Trust fined"],
            ["Other story", "Trust fined (syndicated)"],
        )
        (alias,) = con.execute(
            "SELECT article_id FROM seen_urls WHERE url = ?", [server.url("/articles/print.html")]
        ).fetchone()
        assert alias == article_id(server.url("/articles/other.html"))
    finally:
        con.close()


def test_several_sources_in_one_crawl(tmp_path):
    site = tmp_path / "site"
    (site / "articles").mkdir(parents=True)
    for i in range(4):
        (site / f"articles/{i}.html").write_text(article_html(f"Story {i}", article_text(60 + i)))
    # Source "b" lists an article of its own and one that source "a" lists too.
    write_feed(
        site,
        [(f"/articles/{i}.html", f"s{i}", "2025-01-01T00:00:00Z") for i in (0, 1, 2)],
        name="a.xml",
    )
    write_feed(
        site,
        [(f"/articles/{i}.html", f"s{i}", "2025-01-01T00:00:00Z") for i in (2, 3)],
        name="b.xml",
    )
    db = tmp_path / "multi.duckdb"
    with CrawlServer(site) as server:
        sources = [
            local_source("a", feeds=[server.url("/a.xml")]),
            local_source("b", feeds=[server.url("/b.xml")]),
        ]
        report = crawl(db, sources, settings=FAST_SETTINGS)
        requests = dict(server.requests)
    assert set(report.sources) == {"a", "b"}
    assert report.total("new_articles") == 4  # the shared article is stored once
    assert all(n == 1 for path, n in requests.items() if path.startswith("/articles/"))
    con = duckdb.connect(str(db), read_only=True)
    try:
        runs = con.execute("SELECT source, status FROM crawl_runs ORDER BY source").fetchall()
        assert runs == [("a", "ok"), ("b", "ok")]
        assert con.execute("SELECT count(*) FROM stories").fetchone()[0] == 4
        assert sorted(r[0] for r in con.execute("SELECT name FROM sources").fetchall()) == [
            "a",
            "b",
        ]
    finally:
        con.close()
