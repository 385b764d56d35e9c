"""Crawling the bundled sample site (fixtures/site) end to end, as the demo does: feeds,
sitemap via robots.txt and the home page listing; every article and newsletter stored once,
newsletters split into stories, the robots-disallowed draft never fetched."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from crawl_server import FAST_SETTINGS, local_source

from crawler.run import crawl
from crawler.sample_site import serve_site

SITE = Path(__file__).resolve().parent.parent / "fixtures" / "site"
pytestmark = pytest.mark.skipif(not (SITE / "FACTS.json").exists(), reason="no sample site")


def test_sample_site_crawl(tmp_path):
    facts = json.loads((SITE / "FACTS.json").read_text(encoding="utf-8"))
    pages = {p["path"]: p for p in facts if p["kind"] in ("article", "newsletter")}
    db = tmp_path / "sample.duckdb"
    with serve_site(SITE) as site:
        source = local_source(
            "sample",
            feeds=[f"{site.base_url}/rss.xml", f"{site.base_url}/atom.xml"],
            sitemaps=[f"{site.base_url}/robots.txt"],
            listings=[{"url": f"{site.base_url}/index.html", "links": "/(articles|newsletters)/"}],
            article_pattern="/(articles|newsletters)/",
        )
        report = crawl(db, [source], settings=FAST_SETTINGS).sources["sample"]
        requests = dict(site.requests)
    assert not any(path.startswith("/private/") for path in requests)
    assert report["new_articles"] == len(pages)
    assert report["duplicates"] == 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        stored = {
            url.split("/", 3)[3]: (aid, title)
            for aid, url, title in con.execute(
                "SELECT article_id, url, title FROM articles"
            ).fetchall()
        }
        assert {"/" + p for p in stored} == set(pages)
        story_counts = dict(
            con.execute(
                "SELECT a.url, count(*) FROM stories s JOIN articles a USING (article_id) "
                "GROUP BY a.url"
            ).fetchall()
        )
        for path, page in pages.items():
            n = story_counts[site.base_url + path]
            if page["kind"] == "newsletter":
                # Split into several stories (how well is crawler/stories.py's business and
                # tested there).
                assert n >= 2, path
            else:
                assert n == 1, path
        bodies = [b for (b,) in con.execute("SELECT body FROM article_versions").fetchall()]
        assert not any("\ufffd" in b for b in bodies)  # every page decoded, cp1252 included
    finally:
        con.close()
