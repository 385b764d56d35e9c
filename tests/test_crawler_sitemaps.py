"""Sitemaps in a real crawl of a local server: index nesting and size limits, and dates
that cannot be read (counted in the run record, the sitemap still used)."""

from __future__ import annotations

import json

import duckdb
import pytest
from crawl_server import FAST_SETTINGS, CrawlServer, article_html, article_text, local_source, reply

from crawler.run import crawl

XML = "application/xml"
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def index(*locs: str) -> str:
    entries = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return f"<sitemapindex {NS}>{entries}</sitemapindex>"


def urlset(*entries: tuple[str, str | None]) -> str:
    items = "".join(
        f"<url><loc>{loc}</loc>" + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "") + "</url>"
        for loc, lastmod in entries
    )
    return f"<urlset {NS}>{items}</urlset>"


CHAIN = 7  # indexes chain0 -> chain1 -> ... -> chain6, each also listing a leaf sitemap


@pytest.fixture(scope="module")
def sitemap_crawl(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sitemaps")
    with CrawlServer() as server:
        base = server.base_url
        server.route("/robots.txt", reply("User-agent: *\n", content_type="text/plain"))
        for level in range(CHAIN):
            server.route(f"/chain/{level}.xml", reply(
                index(f"{base}/chain/{level + 1}.xml", f"{base}/leaf/{level}.xml"),
                content_type=XML))
            # one readable and one unreadable date per leaf
            server.route(f"/leaf/{level}.xml", reply(urlset(
                (f"{base}/a/level{level}.html", "the day before yesterday"),
                (f"{base}/a/level{level}b.html", "2025-01-02T08:00:00Z"),
            ), content_type=XML))
            for suffix in ("", "b"):
                server.route(f"/a/level{level}{suffix}.html", reply(article_html(
                    f"Level {level}{suffix}", article_text(100 + 2 * level + len(suffix)))))
        server.route("/wide/index.xml", reply(
            index(*(f"{base}/wide/{i}.xml" for i in range(15))), content_type=XML))
        server.route("/wide/0.xml", reply(
            urlset(*((f"{base}/w/{j}.html", None) for j in range(25))), content_type=XML))
        for i in range(1, 15):
            server.route(f"/wide/{i}.xml", reply(urlset(), content_type=XML))
        for j in range(25):
            server.route(f"/w/{j}.html", reply(article_html(f"Wide {j}", article_text(300 + j))))
        sources = [
            local_source("chain", sitemaps=[f"{base}/chain/0.xml"], allowed_domains=["127.0.0.1"]),
            local_source("wide", sitemaps=[f"{base}/wide/index.xml"],
                         allowed_domains=["127.0.0.1"]),
        ]
        db = tmp / "sitemaps.duckdb"
        settings = {**FAST_SETTINGS, "POLICYWATCH_SITEMAP_MAX_DEPTH": 3,
                    "POLICYWATCH_SITEMAP_MAX_FILES": 10, "POLICYWATCH_SITEMAP_MAX_URLS": 20}
        report = crawl(db, sources, settings=settings)
        requests = dict(server.requests)
    con = duckdb.connect(str(db), read_only=True)
    yield report, requests, con
    con.close()


def test_index_chain_stops_at_the_depth_limit(sitemap_crawl):
    report, requests, con = sitemap_crawl
    # chain/0 is depth 0; chain/3 (depth 3) is read; chain/4 and leaf/3 (depth 4) are not
    assert [requests.get(f"/chain/{level}.xml", 0) for level in range(CHAIN)] == [1] * 4 + [0] * 3
    assert [requests.get(f"/leaf/{level}.xml", 0) for level in range(CHAIN)] == [1] * 3 + [0] * 4
    stored = {u.rsplit("/", 1)[1] for (u,) in con.execute(
        "SELECT url FROM articles WHERE source = 'chain'").fetchall()}
    assert stored == {f"level{level}{s}.html" for level in range(3) for s in ("", "b")}
    errors = report.sources["chain"]["errors"]
    assert errors == {"sitemap_too_deep": 2}


def test_unreadable_dates_are_counted_in_the_run_record(sitemap_crawl):
    report, _, con = sitemap_crawl
    assert report.sources["chain"]["status"] == "ok"
    (detail,) = con.execute(
        "SELECT detail FROM crawl_runs WHERE source = 'chain'").fetchone()
    assert json.loads(detail)["sitemap_date_errors"] == 3  # one in each leaf read


def test_sitemap_count_and_size_limits(sitemap_crawl):
    report, requests, con = sitemap_crawl
    # the index and 9 of its 15 children: 10 sitemap files
    assert sum(1 for path in requests if path.startswith("/wide/")) == 10
    # wide/0.xml lists 25 articles, only the first 20 are read
    wide = sorted(int(u.rsplit("/", 1)[1].split(".")[0]) for (u,) in con.execute(
        "SELECT url FROM articles WHERE source = 'wide'").fetchall())
    assert wide == list(range(20))
    # 6 children not fetched, one sitemap cut
    assert report.sources["wide"]["errors"] == {"sitemap_limit": 6 + 1}
