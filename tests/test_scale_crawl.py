"""Two crawl workers on one shared frontier (a real redis-server), through the CLI, against
the bundled sample site; then the Parquet parts they wrote are compacted.

Checked against a single-machine ``crawl`` of the same site: every page is fetched once
(robots.txt aside: each worker reads it for its own rules), no host ever has more requests
in flight than its limit, the stored articles, versions, stories, seen URLs and validators
are the same, and a second round fetches the feeds again but no unchanged article. Then two
Ray workers (``worker process --workers 2``, a real Ray head on 127.0.0.1) process the
stories: each once, and the facts equal those of ``process`` on the single-machine crawl.

No outcome depends on timing: the site holds every answer until both workers have
registered with the frontier (so they share one round), and the assertions hold however
the work was shared between them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pytest
from click.testing import CliRunner
from crawl_server import FAST_SETTINGS, CrawlServer, Reply, wait_for

import cli
import pipeline
from crawler.frontier import namespace_for
from crawler.run import crawl
from crawler.sample_site import static_reply

redis = pytest.importorskip("redis", reason="the 'scale' extra is not installed")

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "fixtures" / "site"
PER_HOST_LIMIT = 2  # the crawler's default CONCURRENT_REQUESTS_PER_DOMAIN
SETTINGS = {
    **FAST_SETTINGS,
    "CONCURRENT_REQUESTS_PER_DOMAIN": PER_HOST_LIMIT,
    "DOWNLOAD_TIMEOUT": 120,  # answers are held until both workers run
    "POLICYWATCH_EMBED": None,  # the same story split in every run, without the model
}
# `policywatch` with the test's crawl settings laid over the CLI's.
WORKER_MAIN = f"""
import crawler.run, cli
real = crawler.run.crawl
extra = {SETTINGS!r}
crawler.run.crawl = lambda db, src, *, settings=None, **kw: real(
    db, src, settings={{**(settings or {{}}), **extra}}, **kw)
cli.main()
"""
ARTICLE_DELAY = 0.1  # seconds each article page takes to answer
DISCOVERY = ("/rss.xml", "/atom.xml", "/index.html", "/sitemap.xml")


class HeldSampleSite(CrawlServer):
    """The sample site as ``policywatch demo`` serves it (no charset added: pages are
    decoded from their own ``<meta charset>``), each answer held until ``open`` is set.
    The server counts requests per path and the most in flight at once; it serves one
    host, so that is the most in flight per host."""

    def __init__(self) -> None:
        super().__init__(SITE)
        self.open = threading.Event()

    def _file_reply(self, path: str, headers: dict[str, str]) -> Reply:
        assert self.root is not None
        answer = static_reply(self.root, urlsplit(path).path, self.base_url, headers)
        # Pages answer slowly, so requests overlap and a limit that did not hold over both
        # workers would show; the assertions do not depend on it.
        slow = path.startswith(("/articles/", "/newsletters/"))
        return Reply(int(answer.status), answer.body, dict(answer.headers),
                     delay=ARTICLE_DELAY if slow else 0.0, release=self.open)


def _contents(db: Path, base_url: str) -> dict[str, set[tuple]]:
    """What a crawl stored, by content (URLs relative to the site, no ids or times)."""
    def rel(url: str | None) -> str | None:
        return url.replace(base_url, "") if url else url

    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            "articles": {(rel(u), t, a, p, v, rel(d)) for u, t, a, p, v, d in con.execute(
                "SELECT a.url, a.title, a.author, a.published, a.current_version, o.url "
                "FROM articles a LEFT JOIN articles o ON o.article_id = a.duplicate_of"
            ).fetchall()},
            "versions": {(rel(u), v, h, b) for u, v, h, b in con.execute(
                "SELECT a.url, v.version, v.content_hash, v.body FROM article_versions v "
                "JOIN articles a USING (article_id)").fetchall()},
            "stories": {(rel(u), *rest) for u, *rest in con.execute(
                "SELECT a.url, s.version, s.story_index, s.headline, s.start_offset, s.body, "
                "s.published FROM stories s JOIN articles a USING (article_id)").fetchall()},
            "seen": {(rel(u), a is not None) for u, a in con.execute(
                "SELECT url, article_id FROM seen_urls").fetchall()},
            "validators": {(rel(u), e, m) for u, e, m in con.execute(
                "SELECT url, etag, last_modified FROM http_validators").fetchall()},
        }
    finally:
        con.close()


def _run_workers(server: HeldSampleSite, sources: Path, db: Path, url: str) -> list[dict]:
    """Two `policywatch worker crawl` processes at once; answers flow once both have
    joined the frontier. Returns their JSON reports."""
    env = {**os.environ, "POLICYWATCH_REDIS_URL": url, "POLICYWATCH_STORE": "parts",
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    env.pop("POLICYWATCH_CONFIG", None)
    server.open.clear()
    workers = [subprocess.Popen(
        [sys.executable, "-c", WORKER_MAIN, "worker", "crawl", "--sources", str(sources),
         "--db", str(db), "--until-idle", "2", "--json"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)]
    client = redis.Redis.from_url(url)
    try:
        registered = wait_for(
            lambda: client.zcard(f"{namespace_for(db)}:workers") == 2
            or any(w.poll() is not None for w in workers), timeout=120)
        assert registered and all(w.poll() is None for w in workers), \
            [w.communicate() for w in workers]
        server.open.set()
        outputs = [w.communicate(timeout=120) for w in workers]
    finally:
        server.open.set()
        client.close()
        for w in workers:
            if w.poll() is None:
                w.kill()
    for w, (_out, err) in zip(workers, outputs, strict=True):
        assert w.returncode == 0, err
    return [json.loads(out)[0] for out, _ in outputs]


def _compact(db: Path, url: str) -> str:
    result = CliRunner().invoke(
        cli.cli, ["scale", "compact", "--db", str(db)],
        env={"POLICYWATCH_REDIS_URL": url, "POLICYWATCH_STORE": "parts"})
    assert result.exit_code == 0, result.output
    return result.output


def _pages(requests: dict[str, int]) -> dict[str, int]:
    return {p: n for p, n in requests.items() if p != "/robots.txt"}


def _current_stories(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT count(*) FROM stories s JOIN articles a USING (article_id) "
            "WHERE s.version = a.current_version AND a.duplicate_of IS NULL").fetchone()[0]
    finally:
        con.close()


def _facts(db: Path, base_url: str) -> dict[str, list[tuple]]:
    """Every extracted fact by content: its story as (page, index) instead of ids, which
    depend on the order a crawl stored the pages in."""
    story = ("replace(a.url, $base, '') AS page, s.story_index FROM {table} f "
             "JOIN stories s USING (story_id) JOIN articles a USING (article_id)")
    queries = {
        "organisations": "SELECT name, name_key, type FROM organisations",
        "mentions": "SELECT o.name_key, f.start_offset, f.end_offset, f.text, "
                    + story.format(table="org_mentions")
                    + " JOIN organisations o ON o.org_id = f.org_id",
        "amounts": "SELECT f.* EXCLUDE (org_id, story_id), "
                   + story.format(table="amounts"),
        "ratings": "SELECT f.* EXCLUDE (org_id, story_id), "
                   + story.format(table="ratings"),
    }
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: con.execute(f"{sql} ORDER BY ALL",
                                  {"base": base_url} if "$base" in sql else None).fetchall()
                for name, sql in queries.items()}
    finally:
        con.close()


def test_two_workers_crawl_once_politely_and_store_what_one_machine_stores(
        tmp_path, redis_url, ray_address):
    single_db = tmp_path / "single.duckdb"
    db = tmp_path / "workers.duckdb"
    with HeldSampleSite() as server:
        server.open.set()
        sources = tmp_path / "sources.toml"
        sources.write_text(
            pipeline.SAMPLE_SOURCES.read_text().replace("{{BASE_URL}}", server.base_url))
        crawl(single_db, pipeline.load_sources(sources), settings=SETTINGS)
        single_requests = dict(server.requests)
        server.reset_counts()

        reports = _run_workers(server, sources, db, redis_url)
        first_requests = dict(server.requests)
        first_max_in_flight = server.max_in_flight
        assert not db.exists()  # the workers never wrote the database file
        _compact(db, redis_url)

        server.reset_counts()
        second_reports = _run_workers(server, sources, db, redis_url)
        second_requests = dict(server.requests)
        second_max_in_flight = server.max_in_flight
        _compact(db, redis_url)

    # (a) Every page once, as on one machine; robots.txt once per worker that downloaded.
    assert set(_pages(single_requests).values()) == {1}
    assert _pages(first_requests) == _pages(single_requests)
    assert first_requests["/robots.txt"] <= 1 + 2
    assert sum(r["new_articles"] for r in reports) == 34

    # (b) Politeness over both workers.
    assert first_max_in_flight <= PER_HOST_LIMIT
    assert second_max_in_flight <= PER_HOST_LIMIT

    # (c) The same facts as a single-machine crawl.
    assert _contents(db, server.base_url) == _contents(single_db, server.base_url)

    # (d) Round two: feeds, sitemap and listing again; no unchanged article.
    assert all(second_requests.get(p) == 1 for p in DISCOVERY), second_requests
    assert not [p for p in second_requests if p.startswith(("/articles/", "/newsletters/"))]
    assert sum(r["new_stories"] + r["new_versions"] for r in second_reports) == 0
    assert _contents(db, server.base_url) == _contents(single_db, server.base_url)
    con = duckdb.connect(str(db), read_only=True)
    try:
        runs = con.execute("SELECT status, count(*) FROM crawl_runs GROUP BY status").fetchall()
    finally:
        con.close()
    assert runs == [("ok", 4)]  # one run per worker and round

    # (e) Two Ray workers process what the crawl workers stored: every story once, and the
    # same facts as the single-machine `process` of the single-machine crawl.
    runner = CliRunner()
    no_scale = {name: None for name in ("POLICYWATCH_CONFIG", "POLICYWATCH_REDIS_URL",
                                        "POLICYWATCH_RAY_ADDRESS", "POLICYWATCH_STORE",
                                        "POLICYWATCH_PARTS_DIR")}
    result = runner.invoke(cli.cli, ["process", "--db", str(single_db)], env=no_scale)
    assert result.exit_code == 0, result.output
    stories = _current_stories(db)
    assert stories == _current_stories(single_db) > 20
    result = runner.invoke(
        cli.cli, ["worker", "process", "--workers", "2", "--batch-size", "5", "--until-idle",
                  "0", "--db", str(db)],
        env={**no_scale, "POLICYWATCH_RAY_ADDRESS": ray_address,
             "POLICYWATCH_REDIS_URL": redis_url, "POLICYWATCH_STORE": "parts"})
    assert result.exit_code == 0, result.output
    assert f"processed {stories} stories on 2 Ray workers" in result.output
    facts = _facts(db, server.base_url)
    assert facts["amounts"] and facts["ratings"]
    con = duckdb.connect(str(db), read_only=True)
    try:  # the Ray workers embedded each story as well
        assert con.execute("SELECT count(*) FROM story_embeddings").fetchone()[0] == stories
    finally:
        con.close()
    assert facts == _facts(single_db, server.base_url)
