"""Fault handling of a real crawl against a local server: every bad page gets the right
outcome, and the crawl finishes with the good pages stored."""

from __future__ import annotations

import gzip
import json

import duckdb
import pytest
from crawl_server import (
    FAST_SETTINGS,
    CrawlServer,
    article_html,
    article_text,
    hang,
    redirect,
    reply,
    sequence,
    stream,
)

from crawler.run import crawl
from crawler.sources import parse_sources

MALFORMED_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Faults & more</title>
<item><title>Good one</title><link>/a/good1.html</link></item>
<item><title>Second</title><link>../a/good2.html</link></item>
<item><title>Missing</title><link>/a/missing.html</link></item>
<item><title>Flaky</title><link>/a/flaky.html</link></item>
<item><title>Rate limited</title><link>/a/limited.html</link></item>
<item><title>Slow</title><link>/a/slow.html</link></item>
<item><title>Huge</title><link>/a/huge.html</link></item>
<item><title>Bomb</title><link>/a/bomb.html</link></item>
<item><title>Away</title><link>/a/away.html</link></item>
<item><title>Intranet</title><link>/a/intranet.html</link></item>
<item><title>Metadata</title><link>/a/metadata.html</link></item>
<item><title>Legacy charset</title><link>/a/cp1252.html</link></item>
<item><title>BOM</title><link>/a/bom.html</link></item>
<item><title>Secret</title><link>/private/secret.html</link></item>
<item><title>Unclosed <b>tag</title><link>/a/good3.html</link>
</channel>"""  # unescaped '&', a stray tag, an unclosed <item> and no </rss>


def _page(seed: int, title: str) -> str:
    return article_html(title, article_text(seed))


@pytest.fixture(scope="module")
def fault_crawl(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("faults")
    with CrawlServer() as server:
        base = server.base_url
        server.route(
            "/robots.txt", reply("User-agent: *\nDisallow: /private/\n", content_type="text/plain")
        )
        server.route("/feeds/main.xml", reply(MALFORMED_FEED, content_type="application/rss+xml"))
        for i, name in enumerate(["good1", "good2", "good3"]):
            server.route(f"/a/{name}.html", reply(_page(i, f"Good story {name}")))
        server.route("/a/missing.html", reply("<html>gone</html>", status=404))
        server.route(
            "/a/flaky.html",
            sequence(reply("<html>oops</html>", status=500), reply(_page(10, "Flaky story"))),
        )
        server.route(
            "/a/limited.html",
            sequence(
                reply("slow down", status=429, headers={"Retry-After": "1"}),
                reply(_page(11, "Rate limited story")),
            ),
        )
        server.route("/a/slow.html", hang(30))
        server.route("/a/huge.html", stream(50 * 1024 * 1024))
        bomb = gzip.compress(b"<html><body>" + b"\0" * (50 * 1024 * 1024), compresslevel=9)
        server.route(
            "/a/bomb.html",
            reply(bomb, headers={"Content-Encoding": "gzip"}),
        )
        server.route("/a/away.html", redirect("http://elsewhere.invalid/story"))
        server.route("/a/intranet.html", redirect("http://intranet.example.org/story"))
        server.route("/a/metadata.html", redirect("http://metadata.example.org/latest/"))
        cp1252 = (
            _page(12, "Legacy charset story")
            .replace("<h1>", "<p>\u201cSmart quotes\u201d cost \u20ac5 \u2013 and more</p><h1>")
            .replace('charset="utf-8"', 'charset="iso-8859-1"')
        )
        server.route(
            "/a/cp1252.html",
            reply(cp1252.encode("cp1252"), content_type="text/html; charset=iso-8859-1"),
        )
        bom_page = _page(13, "BOM story").replace("<h1>", "<p>Budget of \u00a35m agreed</p><h1>")
        server.route(
            "/a/bom.html",
            reply(
                b"\xef\xbb\xbf" + bom_page.replace('<meta charset="utf-8">', "").encode(),
                content_type="text/html",
            ),
        )
        server.route("/private/secret.html", reply(_page(14, "Secret")))
        source = parse_sources(
            {
                "source": [
                    {
                        "name": "faults",
                        "local": True,
                        "feeds": [f"{base}/feeds/main.xml"],
                        # example.org is allowed so that the redirects to its private-address
                        # hosts reach the address check rather than the domain check.
                        "allowed_domains": ["127.0.0.1", "example.org"],
                    }
                ]
            }
        )[0]
        db = tmp / "faults.duckdb"
        settings = {
            **FAST_SETTINGS,
            "DOWNLOAD_TIMEOUT": 3,
            # Stub resolution for the test hosts (never a real DNS query).
            "POLICYWATCH_HOSTS": {
                "intranet.example.org": "10.0.0.7",
                "metadata.example.org": "169.254.169.254",
            },
        }
        report = crawl(db, [source], settings=settings)
        requests = dict(server.requests)
        times = {k: list(v) for k, v in server.times.items()}
    con = duckdb.connect(str(db), read_only=True)
    yield report, requests, times, con
    con.close()


def test_crawl_finishes_with_the_good_pages_stored(fault_crawl):
    report, _, _, con = fault_crawl
    rep = report.sources["faults"]
    assert rep["status"] == "ok"
    urls = {u.rsplit("/", 1)[1] for (u,) in con.execute("SELECT url FROM articles").fetchall()}
    assert urls == {
        "good1.html",
        "good2.html",
        "good3.html",
        "flaky.html",
        "limited.html",
        "cp1252.html",
        "bom.html",
    }
    assert rep["new_stories"] == 7
    n_stories = con.execute("SELECT count(*) FROM stories").fetchone()[0]
    assert n_stories == 7


def test_each_fault_is_counted_by_kind(fault_crawl):
    report, _, _, con = fault_crawl
    errors = report.sources["faults"]["errors"]
    assert errors == {
        "blocked_address": 2,
        "decompressed_too_large": 1,
        "feed_malformed": 1,
        "http_404": 1,
        "offsite_redirect": 1,
        "robots_forbidden": 1,
        "timeout": 1,
        "too_large": 1,
    }
    (stored,) = con.execute("SELECT errors FROM crawl_runs WHERE source = 'faults'").fetchone()
    assert json.loads(stored) == errors


def test_retries_honour_status_and_retry_after(fault_crawl):
    _, requests, times, _ = fault_crawl
    assert requests["/a/flaky.html"] == 2  # 500, then success
    assert requests["/a/limited.html"] == 2  # 429, then success
    gap = times["/a/limited.html"][1] - times["/a/limited.html"][0]
    assert gap >= 0.9, f"Retry-After: 1 not honoured (retried after {gap:.2f}s)"
    assert requests["/a/slow.html"] == 2  # timed out, retried once, gave up
    assert requests["/a/missing.html"] == 1  # 404 is not retried
    assert requests["/a/huge.html"] == 1 and requests["/a/bomb.html"] == 1


def test_refused_targets_are_never_requested(fault_crawl):
    _, requests, _, _ = fault_crawl
    assert "/private/secret.html" not in requests  # robots.txt Disallow
    # The redirects were fetched; their off-domain / private targets never were (they are
    # other hosts: had they been contacted, the crawl would have failed with DNS/connection
    # errors instead of the refusals counted above).
    assert requests["/a/away.html"] == 1
    assert requests["/a/intranet.html"] == 1 and requests["/a/metadata.html"] == 1


def test_relative_feed_links_resolved(fault_crawl):
    _, requests, _, _ = fault_crawl
    # "../a/good2.html" relative to /feeds/main.xml
    assert requests["/a/good2.html"] == 1
    assert requests["/a/good3.html"] == 1  # after the malformed part of the feed


def test_legacy_encodings_decoded(fault_crawl):
    _, _, _, con = fault_crawl
    body = con.execute(
        "SELECT v.body FROM article_versions v JOIN articles a USING (article_id) "
        "WHERE a.url LIKE '%cp1252.html'"
    ).fetchone()[0]
    assert "\u201cSmart quotes\u201d cost \u20ac5 \u2013 and more" in body
    bom = con.execute(
        "SELECT v.body FROM article_versions v JOIN articles a USING (article_id) "
        "WHERE a.url LIKE '%bom.html'"
    ).fetchone()[0]
    assert "Budget of \u00a35m agreed" in bom
    assert "\ufeff" not in bom
