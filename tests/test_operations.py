"""What an operator relies on: exit codes that tell a failed crawl from a good one, one line
per network failure (no traceback), ``stats`` flagging a failing source on its first failed
run, SIGTERM stopping a crawl like Ctrl-C, and a model conversion that prints nothing.

No packet leaves 127.0.0.1: the refused source is a bound but never listening port of
127.0.0.1, and the unresolvable one is looked up by ``OfflineResolver``, which sends no query.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from crawl_server import (
    FAST_SETTINGS,
    OFFLINE_DNS,
    CrawlServer,
    held_article_site,
    wait_for,
    write_news_site,
)

import cli
import crawler.run

ROOT = Path(__file__).resolve().parent.parent
# The CLI's crawl settings for these tests: fast retries, no DNS query, no embedding model.
TEST_CRAWL = {
    **{k: v for k, v in FAST_SETTINGS.items() if k != "LOG_LEVEL"},
    **OFFLINE_DNS,
    "POLICYWATCH_EMBED": None,
}


@pytest.fixture
def fast_offline_crawls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every crawl the CLI starts uses TEST_CRAWL on top of its own settings (-v included)."""
    real = crawler.run.crawl

    def crawl(db_path, sources, *, settings=None, **kwargs):
        return real(db_path, sources, settings={**(settings or {}), **TEST_CRAWL}, **kwargs)

    monkeypatch.setattr(crawler.run, "crawl", crawl)


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A 127.0.0.1 port bound by this test but never listening: connections are refused, and
    no other process can take the port meanwhile."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


@pytest.fixture
def news_site(tmp_path: Path) -> Iterator[CrawlServer]:
    root = tmp_path / "site"
    write_news_site(root, 3)
    with CrawlServer(root) as server:
        yield server


def _sources_file(path: Path, **feeds: str) -> Path:
    """A sources file with one source per ``name=feed URL``; 127.0.0.1 feeds are local."""
    blocks = []
    for name, feed in feeds.items():
        local = "local = true\n" if "//127.0.0.1" in feed else ""
        blocks.append(f'[[source]]\nname = "{name}"\n{local}feeds = ["{feed}"]\n')
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def _cli(*args: object):
    return CliRunner().invoke(cli.cli, [str(a) for a in args], catch_exceptions=False)


def _failure_lines(log: str, needle: str) -> list[str]:
    return [line for line in log.splitlines() if needle in line]


def test_crawl_exit_codes_tell_failed_sources_apart(
    tmp_path, fast_offline_crawls, refused_port, news_site, capfd
):
    refused = f"http://127.0.0.1:{refused_port}/rss.xml"
    unresolvable = "http://nonexistent.invalid/rss.xml"
    sources = _sources_file(tmp_path / "sources.toml", good=news_site.url("/rss.xml"),
                            refused=refused, unresolvable=unresolvable)
    db = tmp_path / "ops.duckdb"

    some = _cli("crawl", "--sources", sources, "--db", db, "--json")
    assert some.exit_code == cli.EXIT_SOME_SOURCES_FAILED == 3
    rows = {r["source"]: r for r in json.loads(some.stdout)}
    assert rows["good"]["status"] == "ok" and rows["good"]["new_articles"] == 3
    assert rows["refused"]["status"] == rows["unresolvable"]["status"] == "failed"
    assert some.stderr.splitlines() == [
        "Error: source refused failed: connection=1, robots_unreachable=1",
        "Error: source unresolvable failed: dns=1",
    ]
    # The crawl's own log: one line per failure, no traceback, no repeated Scrapy record.
    log = capfd.readouterr().err
    assert "Traceback" not in log and "Gave up retrying" not in log
    assert len(_failure_lines(log, f"connection: {refused}")) == 1
    assert len(_failure_lines(log, f"robots_unreachable: 127.0.0.1:{refused_port}")) == 1
    assert len(_failure_lines(log, f"dns: {unresolvable}")) == 1
    assert len(_failure_lines(log, f"127.0.0.1:{refused_port}")) == 2

    # `stats` flags the failed sources at once, not only after three runs.
    stats = {r["source"]: r for r in json.loads(_cli("stats", "--db", db, "--json").stdout)}
    assert stats["good"]["flag"] is None
    assert stats["refused"]["flag"] == stats["unresolvable"]["flag"] == "failing"
    assert stats["refused"]["flag_reason"] == (
        "last run failed (connection=1, robots_unreachable=1)")

    failing = _cli("crawl", "--sources", sources, "--source", "refused",
                   "--source", "unresolvable", "--db", db)
    assert failing.exit_code == cli.EXIT_ALL_SOURCES_FAILED == 4
    stats = {r["source"]: r for r in json.loads(_cli("stats", "--db", db, "--json").stdout)}
    assert stats["unresolvable"]["flag_reason"] == "last 2 runs failed (dns=1)"


def test_verbose_crawl_shows_the_detail(tmp_path, fast_offline_crawls, refused_port, capfd):
    sources = _sources_file(tmp_path / "sources.toml",
                            refused=f"http://127.0.0.1:{refused_port}/rss.xml")
    result = _cli("crawl", "-v", "--sources", sources, "--db", tmp_path / "v.duckdb")
    assert result.exit_code == cli.EXIT_ALL_SOURCES_FAILED
    log = capfd.readouterr().err
    assert "Gave up retrying" in log and "Traceback" in log


def test_schedule_once_exits_non_zero_when_a_source_fails(
    tmp_path, fast_offline_crawls, refused_port, news_site
):
    sources = _sources_file(tmp_path / "sources.toml", good=news_site.url("/rss.xml"),
                            refused=f"http://127.0.0.1:{refused_port}/rss.xml")
    db = tmp_path / "schedule.duckdb"
    result = _cli("schedule", "--once", "--sources", sources, "--db", db)
    assert result.exit_code == cli.EXIT_SOME_SOURCES_FAILED, result.output
    assert "Error: source refused failed: connection=1" in result.stderr
    # Both sources were crawled now: nothing is due, nothing fails.
    again = _cli("schedule", "--once", "--sources", sources, "--db", db)
    assert again.exit_code == 0 and "no source is due" in again.stderr


# -- SIGTERM -----------------------------------------------------------------------------------

N = 12
ANSWERED = 4  # article requests answered at once; later ones wait for the test
# `policywatch` itself (cli.main, which handles SIGTERM), its crawls with the test settings:
# at most 4 requests taken at a time, held requests never time out.
CLI_MAIN = f"""
import crawler.run, cli
real = crawler.run.crawl
extra = {{**{TEST_CRAWL!r}, "CONCURRENT_REQUESTS": 4, "DOWNLOAD_TIMEOUT": 600}}
crawler.run.crawl = lambda db, src, *, settings=None, **kw: real(
    db, src, settings={{**(settings or {{}}), **extra}}, **kw)
cli.main()
"""


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


def _crawl_children(pid: int) -> list[int]:
    """The multiprocessing children (the crawl) among ``pid``'s descendants."""
    out = []
    for child in _descendants(pid):
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                out.append(child)
        except OSError:
            continue
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_sigterm_stops_a_crawl_like_ctrl_c(tmp_path):
    """`kill` of `policywatch crawl`: the crawl child stops, what was fetched is stored, the
    run is recorded as interrupted, and no process is left holding the database."""
    release = threading.Event()
    db = tmp_path / "term.duckdb"
    with CrawlServer(tmp_path) as server:
        held_article_site(server, tmp_path, release, articles=N, answered=ANSWERED,
                          first_text=300)
        sources = _sources_file(tmp_path / "sources.toml", held=server.url("/rss.xml"))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
        proc = subprocess.Popen(
            [sys.executable, "-c", CLI_MAIN, "crawl", "--sources", str(sources), "--db", str(db)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        watchdog = threading.Timer(240, proc.kill)  # a hung crawl fails the test
        watchdog.start()
        try:
            assert wait_for(lambda: sum(server.article_requests("/articles/").values())
                            > ANSWERED, timeout=200)
            children = _crawl_children(proc.pid)
            proc.send_signal(signal.SIGTERM)
            stderr_lines = []
            for line in proc.stderr:
                stderr_lines.append(line)
                if line.startswith("Stopping:"):
                    break
            release.set()  # the crawl takes no new request now; let it finish the held ones
            out, rest = proc.communicate(timeout=120)
        finally:
            watchdog.cancel()
            release.set()
            if proc.poll() is None:
                proc.kill()
        stderr = "".join(stderr_lines) + rest
        assert proc.returncode == cli.EXIT_TERMINATED == 143, stderr
        assert "Stopped by SIGTERM" in stderr and "Traceback" not in stderr
        requested = sum(server.article_requests("/articles/").values())
    assert children and not any(_alive(pid) for pid in children)
    # The database is free at once: opening it for writing succeeds.
    con = duckdb.connect(str(db))
    try:
        assert con.execute("SELECT status FROM crawl_runs").fetchall() == [("interrupted",)]
        stored = con.execute("SELECT count(*) FROM articles").fetchone()[0]
    finally:
        con.close()
    assert ANSWERED < requested < N
    assert stored == requested


# -- the one-off model conversion ------------------------------------------------------------


def test_model_conversion_prints_nothing_and_leaves_logging_alone(capfd):
    from nlp.embed import quiet_conversion

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    named = logging.getLogger("policywatch.test.conversion")
    named.setLevel(logging.ERROR)
    with quiet_conversion():
        # What torch.onnx and the ONNX Runtime quantiser do: warn, log through the root
        # logger (which would install a root handler), change a logger's level.
        warnings.warn("converting a tensor to a Python boolean", UserWarning, stacklevel=1)
        logging.warning("please consider pre-processing before quantization")
        named.setLevel(logging.DEBUG)
    assert root.handlers == handlers and root.level == level
    assert named.level == logging.ERROR
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""
