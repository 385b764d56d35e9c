"""Interrupting a crawl -- killed outright or stopped with Ctrl-C -- and running it again
loses nothing and stores nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from crawl_server import (
    FAST_SETTINGS,
    CrawlServer,
    article_html,
    article_text,
    local_source,
    reply,
    wait_for,
    write_feed,
)

from crawler.run import crawl

N = 30
ROOT = Path(__file__).resolve().parent.parent


def _site(server: CrawlServer, root: Path) -> None:
    paths = [f"/articles/{i:04d}.html" for i in range(N)]
    write_feed(root, [(p, f"Story {i}", "2025-01-06T09:00:00Z") for i, p in enumerate(paths)])
    for i, path in enumerate(paths):
        # Slow pages, so that the crawl can be interrupted half-way.
        server.route(path, reply(article_html(f"Story {i}", article_text(100 + i)), delay=0.15))


SCRIPT = """
import sys
sys.path[:0] = [{root!r}, {tests!r}]
from crawl_server import FAST_SETTINGS, local_source
from crawler.run import crawl

if __name__ == "__main__":
    source = local_source("slow", feeds=[{feed!r}])
    settings = {{**FAST_SETTINGS, "CONCURRENT_REQUESTS_PER_DOMAIN": 2, "POLICYWATCH_BATCH_SIZE": 3}}
    try:
        crawl({db!r}, [source], settings=settings)
    except KeyboardInterrupt:
        print("INTERRUPTED", flush=True)
        sys.exit(130)
    print("DONE", flush=True)
"""


def _start(tmp_path: Path, server: CrawlServer, db: Path) -> subprocess.Popen:
    script = tmp_path / "run_crawl.py"
    script.write_text(
        textwrap.dedent(
            SCRIPT.format(
                root=str(ROOT),
                tests=str(ROOT / "tests"),
                feed=server.url("/rss.xml"),
                db=str(db),
            )
        )
    )
    return subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )


def _descendants(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            out += [child, *_descendants(child)]
    return out


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")  # a zombie has closed its files


def _article_requests(server: CrawlServer) -> int:
    return sum(server.article_requests("/articles/").values())


def _check_complete(db: Path) -> None:
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*), count(DISTINCT url) FROM articles").fetchone() == (
            N,
            N,
        )
        assert con.execute("SELECT count(*) FROM article_versions").fetchone()[0] == N
        stories = con.execute("SELECT count(*), count(DISTINCT story_id) FROM stories").fetchone()
        assert stories == (N, N)
        assert con.execute("SELECT count(*) FROM seen_urls").fetchone()[0] == N
    finally:
        con.close()


def _stored(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM articles").fetchone()[0]
    finally:
        con.close()


@pytest.mark.parametrize("how", ["kill", "ctrl-c"])
def test_interrupted_crawl_resumes_without_loss_or_duplicates(tmp_path, how):
    db = tmp_path / "resume.duckdb"
    with CrawlServer(tmp_path) as server:
        _site(server, tmp_path)
        proc = _start(tmp_path, server, db)
        try:
            assert wait_for(lambda: _article_requests(server) >= 12, timeout=60)
            if how == "kill":
                killed = [*_descendants(proc.pid), proc.pid]
                for pid in killed:
                    os.kill(pid, signal.SIGKILL)
            else:
                proc.send_signal(signal.SIGINT)
            out, _ = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        if how == "ctrl-c":
            assert "INTERRUPTED" in out and proc.returncode == 130
        else:
            assert proc.returncode == -signal.SIGKILL
            # The database is free once the killed crawl process has really gone.
            assert wait_for(lambda: all(_gone(pid) for pid in killed), timeout=30)
        first_requests = _article_requests(server)
        assert server.max_in_flight <= 2  # CONCURRENT_REQUESTS_PER_DOMAIN held
        assert first_requests < N  # really interrupted half-way
        stored = _stored(db)
        if how == "ctrl-c":
            # A graceful stop stores every page fetched before it.
            assert stored >= 12

        server.reset_counts()
        report = crawl(
            db, [local_source("slow", feeds=[server.url("/rss.xml")])], settings=FAST_SETTINGS
        )
        # Pages stored before the interruption are not downloaded again; the rest are.
        assert _article_requests(server) == N - stored
        assert report.sources["slow"]["new_articles"] == N - stored
    _check_complete(db)
    con = duckdb.connect(str(db), read_only=True)
    try:
        statuses = [
            s for (s,) in con.execute("SELECT status FROM crawl_runs ORDER BY run_id").fetchall()
        ]
    finally:
        con.close()
    assert statuses == ["interrupted", "ok"]
