"""Politeness against a local server: robots.txt Crawl-delay spaces the requests, the
User-Agent names the project and its contact URL, sitemaps are found through robots.txt
(index -> gzipped Google News sitemap + plain sitemap)."""

from __future__ import annotations

import gzip

from crawl_server import (
    FAST_SETTINGS,
    CrawlServer,
    article_html,
    article_text,
    local_source,
    reply,
)

from crawler.run import crawl

NEWS_SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>{base}/news/a.html</loc><news:news><news:publication><news:name>E</news:name>
<news:language>en</news:language></news:publication>
<news:publication_date>2025-03-03T10:00:00+00:00</news:publication_date>
<news:title>A</news:title></news:news></url>
<url><loc>{base}/news/b.html</loc><news:news><news:publication><news:name>E</news:name>
<news:language>en</news:language></news:publication>
<news:publication_date>2025-03-03T11:00:00+00:00</news:publication_date>
<news:title>B</news:title></news:news></url>
</urlset>"""


def test_crawl_delay_user_agent_and_sitemap_discovery(tmp_path):
    with CrawlServer() as server:
        base = server.base_url
        server.route(
            "/robots.txt",
            reply(
                "User-agent: *\nCrawl-delay: 1\nDisallow: /private/\n"
                f"Sitemap: {base}/sitemap_index.xml\n",
                content_type="text/plain",
            ),
        )
        server.route(
            "/sitemap_index.xml",
            reply(
                '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<sitemap><loc>{base}/news.xml.gz</loc></sitemap>"
                f"<sitemap><loc>{base}/pages.xml</loc></sitemap></sitemapindex>",
                content_type="application/xml",
            ),
        )
        server.route(
            "/news.xml.gz",
            reply(
                gzip.compress(NEWS_SITEMAP.format(base=base).encode()),
                content_type="application/x-gzip",
            ),
        )
        server.route(
            "/pages.xml",
            reply(
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<url><loc>{base}/news/c.html</loc></url>"
                f"<url><loc>{base}/private/d.html</loc></url></urlset>",
                content_type="application/xml",
            ),
        )
        for i, name in enumerate("abcd"):
            path = f"/private/{name}.html" if name == "d" else f"/news/{name}.html"
            server.route(path, reply(article_html(f"Story {name}", article_text(40 + i))))
        # The entry point is named "localhost": the address check resolves it through
        # Scrapy's resolver (/etc/hosts, no packets leave the machine) and, the source being
        # local, accepts the loopback address.
        port = base.rsplit(":", 1)[1]
        source = local_source(
            "polite",
            sitemaps=[f"http://localhost:{port}/robots.txt"],
            allowed_domains=["localhost", "127.0.0.1"],
        )
        settings = {**FAST_SETTINGS, "POLICYWATCH_CONTACT_URL": "https://example.org/about-bot"}
        report = crawl(tmp_path / "polite.duckdb", [source], settings=settings)
        rep = report.sources["polite"]
        assert rep["new_articles"] == 3
        assert rep["errors"] == {"robots_forbidden": 1}
        assert "/private/d.html" not in server.requests
        ua = server.headers["/news/a.html"]["user-agent"]
        assert ua == "policywatch/0.1 (+https://example.org/about-bot)"
        # Every request after robots.txt was parsed is at least the Crawl-delay apart.
        arrivals = sorted(
            t for path, times in server.times.items() if path != "/robots.txt" for t in times
        )
        gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
        assert len(arrivals) == 6  # 3 sitemaps, 3 articles
        assert min(gaps) >= 0.9, gaps
