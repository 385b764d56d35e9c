"""Interrupting a crawl -- killed outright, stopped with Ctrl-C or SIGTERM -- and running it
again loses nothing and stores nothing twice.

The interruption is deterministic, whatever the load of the machine: the server answers the
first ``ANSWERED`` article requests at once and holds every later one until the test releases
it, so the crawl cannot finish before the signal. The test signals once a held request is in
flight and releases them only once the crawl has reported that it is stopping; from then on
the crawl pulls no new request, so it fetches at most the ``CONCURRENT`` it had taken.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import duckdb
import pytest
from crawl_server import (
    FAST_SETTINGS,
    CrawlServer,
    held_article_site,
    local_source,
    wait_for,
)

from crawler.run import crawl

N = 30
ANSWERED = 12  # article requests answered at once; the later ones wait for the release
CONCURRENT = 4  # CONCURRENT_REQUESTS of the interrupted crawl
ROOT = Path(__file__).resolve().parent.parent


SCRIPT = """
import sys
sys.path[:0] = [{root!r}, {tests!r}]
from crawl_server import FAST_SETTINGS, local_source
from crawler.run import crawl

if __name__ == "__main__":
    source = local_source("slow", feeds=[{feed!r}])
    settings = {{**FAST_SETTINGS, "CONCURRENT_REQUESTS": {concurrent},
                 "CONCURRENT_REQUESTS_PER_DOMAIN": 2, "POLICYWATCH_BATCH_SIZE": 3,
                 # held requests wait for the test, not for a timeout
                 "DOWNLOAD_TIMEOUT": 120}}

    def progress(event):
        if event["event"] == "stopping":
            print("STOPPING", flush=True)

    try:
        crawl({db!r}, [source], settings=settings, progress=progress)
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
                concurrent=CONCURRENT,
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


def _read_until(proc: subprocess.Popen, line: str) -> list[str]:
    """Lines of ``proc``'s stdout up to ``line`` (all of them if it never comes)."""
    seen = []
    for got in proc.stdout:
        seen.append(got.strip())
        if got.strip() == line:
            break
    return seen


@pytest.mark.parametrize("how", ["kill", "ctrl-c", "sigterm"])
def test_interrupted_crawl_resumes_without_loss_or_duplicates(tmp_path, how):
    db = tmp_path / "resume.duckdb"
    release = threading.Event()
    with CrawlServer(tmp_path) as server:
        held_article_site(server, tmp_path, release, articles=N, answered=ANSWERED,
                          first_text=100)
        proc = _start(tmp_path, server, db)
        # A crawl that stops answering must fail the test, not hang it.
        watchdog = threading.Timer(180, proc.kill)
        watchdog.start()
        try:
            # ANSWERED articles answered, at least one held article in flight.
            assert wait_for(lambda: _article_requests(server) > ANSWERED, timeout=150)
            if how == "kill":
                killed = [*_descendants(proc.pid), proc.pid]
                for pid in killed:
                    os.kill(pid, signal.SIGKILL)
            else:
                proc.send_signal(signal.SIGINT if how == "ctrl-c" else signal.SIGTERM)
                assert _read_until(proc, "STOPPING")[-1:] == ["STOPPING"]
            release.set()
            out, _ = proc.communicate(timeout=60)
        finally:
            watchdog.cancel()
            release.set()
            if proc.poll() is None:
                proc.kill()
        first_requests = _article_requests(server)
        # Interrupted half-way: nothing beyond the requests the crawl had already taken.
        assert ANSWERED < first_requests <= ANSWERED + CONCURRENT
        if how == "ctrl-c":
            assert "INTERRUPTED" in out and proc.returncode == 130
        elif how == "sigterm":
            # The script keeps SIGTERM's default action: it ends by it, after the crawl.
            assert proc.returncode == -signal.SIGTERM
        if how != "kill":
            # A graceful stop finishes the requests it had taken and stores every page fetched.
            assert _stored(db) == first_requests
        else:
            assert proc.returncode == -signal.SIGKILL
            # The database is free once the killed crawl process has really gone.
            assert wait_for(lambda: all(_gone(pid) for pid in killed), timeout=30)
        assert server.max_in_flight <= 2  # CONCURRENT_REQUESTS_PER_DOMAIN held
        stored = _stored(db)

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
