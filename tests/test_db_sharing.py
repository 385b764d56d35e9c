"""Sharing the database file between processes: a read waits for a writer and then succeeds,
a writer waits for a reader instead of failing, the waits are bounded, and the jobs (crawl,
process) never hold the file while they do slow work.

No test depends on timing: the other process is a helper that holds the file until the test
tells it to let go, and the test lets go from inside the retry loop's own pause.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import pytest
from conftest import add_story
from crawl_server import (
    FAST_SETTINGS,
    CrawlServer,
    Reply,
    article_html,
    article_text,
    local_source,
    reply,
)

import pipeline
from crawler.run import crawl
from store import db

HOLDER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "read")
print("holding", flush=True)
sys.stdin.readline()
con.close()
print("released", flush=True)
sys.stdin.readline()
"""


class Holder:
    """Another process holding ``path`` open (read-only or read-write) until :meth:`release`."""

    def __init__(self, path: Path, mode: str):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(path), mode],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "holding"

    def release(self) -> None:
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == "released"

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


class ReleasingPause:
    """A ``sleep`` for ``db.connect`` that lets the holder go at the first pause."""

    def __init__(self, holder: Holder):
        self.holder = holder
        self.pauses: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)
        if len(self.pauses) == 1:
            self.holder.release()


@pytest.fixture
def path(tmp_path) -> Path:
    p = tmp_path / "shared.duckdb"
    con = db.connect(p)
    add_story(con, article_id="a1", url="http://x/a1", title="A trust's plan",
              body="The trust set out its plan for the winter.", published=datetime(2025, 3, 1))
    con.close()
    return p


@pytest.mark.parametrize(("held_as", "open_read_only"), [("write", True), ("read", False)],
                         ids=["reader-waits-for-writer", "writer-waits-for-reader"])
def test_open_waits_for_the_other_process_then_succeeds(path, held_as, open_read_only):
    holder = Holder(path, held_as)
    try:
        pause = ReleasingPause(holder)
        con = db.connect(path, read_only=open_read_only, wait=600, sleep=pause)
        try:
            assert con.execute("SELECT count(*) FROM stories").fetchone() == (1,)
        finally:
            con.close()
        assert pause.pauses, "the first attempt should have met the other process's lock"
    finally:
        holder.stop()


def test_readers_share_the_file_without_waiting(path):
    holder = Holder(path, "read")
    try:
        with db.session(path, read_only=True, wait=0) as con:
            assert con.execute("SELECT count(*) FROM stories").fetchone() == (1,)
    finally:
        holder.stop()


def test_wait_is_bounded_and_the_error_names_the_holder(path):
    holder = Holder(path, "write")
    now = [0.0]
    pauses: list[float] = []

    def fake_sleep(seconds: float) -> None:
        pauses.append(seconds)
        now[0] += seconds

    try:
        with pytest.raises(db.DatabaseBusy) as caught:
            db.connect(path, read_only=True, wait=3.0, sleep=fake_sleep, clock=lambda: now[0])
    finally:
        holder.stop()
    message = str(caught.value)
    assert "\n" not in message
    assert f"is in use by process {holder.proc.pid}" in message
    assert now[0] == pytest.approx(3.0)
    assert max(pauses) <= db.LONGEST_PAUSE
    assert pauses[0] <= db.FIRST_PAUSE


def test_wait_bounds_come_from_the_environment(monkeypatch):
    monkeypatch.delenv(db.READ_WAIT_ENV_VAR, raising=False)
    monkeypatch.delenv(db.WRITE_WAIT_ENV_VAR, raising=False)
    assert db.lock_wait(read_only=True) == db.DEFAULT_READ_WAIT
    assert db.lock_wait(read_only=False) == db.DEFAULT_WRITE_WAIT
    assert db.DEFAULT_WRITE_WAIT > db.DEFAULT_READ_WAIT
    monkeypatch.setenv(db.READ_WAIT_ENV_VAR, "0.5")
    monkeypatch.setenv(db.WRITE_WAIT_ENV_VAR, "600")
    assert db.lock_wait(read_only=True) == 0.5
    assert db.lock_wait(read_only=False) == 600
    for bad in ("soon", "-1", "inf", "nan"):
        monkeypatch.setenv(db.READ_WAIT_ENV_VAR, bad)
        with pytest.raises(db.StoreError, match="POLICYWATCH_READ_WAIT must be"):
            db.lock_wait(read_only=True)


def test_process_holds_no_connection_between_batches(path):
    with db.session(path) as con:
        for i in range(2, 6):
            add_story(con, article_id=f"a{i}", url=f"http://x/a{i}", title=f"Story {i}",
                      body=f"Northfield Hospitals NHS Trust reported a deficit of £{i}m.")
    reads: list[int] = []

    def read_between_batches(done: int, total: int) -> None:
        # In this process a read-only open fails outright if a read-write one is still open.
        with db.session(path, read_only=True, wait=0) as con:
            reads.append(con.execute("SELECT count(*) FROM amounts").fetchone()[0])

    totals = pipeline.process_stories(path, batch_size=2, progress=read_between_batches)
    assert totals["stories"] == 5
    assert len(reads) >= 3  # after each of the three batches
    assert reads == sorted(reads) and reads[-1] == totals["amounts"] > 0


def test_a_read_during_a_crawl_is_answered(tmp_path):
    """While the crawl waits for a page, the database is free for a reader."""
    page_requested = threading.Event()
    let_page_go = threading.Event()

    def gated(req):
        page_requested.set()
        let_page_go.wait(120)
        return Reply(200, article_html("Second story", article_text(2)).encode(),
                     {"Content-Type": "text/html; charset=utf-8"})

    db_path = tmp_path / "crawl.duckdb"
    with CrawlServer() as server:
        feed = ("<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>"
                f"<item><link>{server.url('/a/one.html')}</link></item>"
                f"<item><link>{server.url('/a/two.html')}</link></item></channel></rss>")
        server.route("/robots.txt", reply("User-agent: *\n", content_type="text/plain"))
        server.route("/feed.xml", reply(feed, content_type="application/rss+xml"))
        server.route("/a/one.html", reply(article_html("First story", article_text(1))))
        server.route("/a/two.html", gated)
        source = local_source("gated", feeds=[server.url("/feed.xml")])
        outcome: dict[str, object] = {}

        def run() -> None:
            try:
                outcome["report"] = crawl(db_path, [source],
                                          settings={**FAST_SETTINGS, "DOWNLOAD_TIMEOUT": 180})
            except BaseException as exc:  # reported by the assertions below
                outcome["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        try:
            assert page_requested.wait(300), outcome.get("error")
            with db.session(db_path, read_only=True, wait=60) as con:
                status = con.execute("SELECT status FROM crawl_runs").fetchall()
            assert status == [("running",)]
        finally:
            let_page_go.set()
            thread.join(300)
    assert "error" not in outcome, outcome.get("error")
    report = outcome["report"]
    assert report.sources["gated"]["status"] == "ok"
    assert report.sources["gated"]["new_articles"] == 2


def test_a_read_only_open_upgrades_a_file_an_older_schema_wrote(tmp_path):
    """Readers of a newer policywatch work on an older file: the first read-only open applies
    the additive schema in one short write session (a reader cannot add columns itself)."""
    path = tmp_path / "old.duckdb"
    con = db.connect(path)
    con.execute("ALTER TABLE amounts DROP COLUMN why")
    con.execute("UPDATE schema_info SET value = '1' WHERE key = 'schema_version'")
    con.close()

    con = db.connect(path, read_only=True)
    try:
        columns = {r[0] for r in con.execute("DESCRIBE amounts").fetchall()}
        version = con.execute(
            "SELECT value FROM schema_info WHERE key = 'schema_version'").fetchone()[0]
    finally:
        con.close()
    assert "why" in columns
    assert version == db.SCHEMA_VERSION
