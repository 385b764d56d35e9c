"""Processing on Ray (``policywatch worker process``, ``scale status``): a batch
whose worker dies retried and then narrowed to the story that kills it, and one-line errors
when no cluster is set or reachable.

The same facts as the single-machine ``process`` on the crawled sample site, each story
processed once, is checked end to end in ``tests/test_scale_crawl.py``. The Ray head is real
(the ``ray_address`` fixture: 127.0.0.1 only), and so are the models and the DuckDB files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from conftest import add_story
from crawl_server import wait_for

from cli import cli
from scale.local_ray import free_port
from scale.ray_process import process_on_ray
from scale.settings import ScaleSettings
from scale.story_worker import StoryTask, StoryWorker
from store import db as store_db

SCALE_ENV = ("POLICYWATCH_CONFIG", "POLICYWATCH_REDIS_URL", "POLICYWATCH_RAY_ADDRESS",
             "POLICYWATCH_STORE", "POLICYWATCH_PARTS_DIR")

@pytest.fixture
def no_scale_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SCALE_ENV:
        monkeypatch.delenv(name, raising=False)


def _rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    except duckdb.BinderException:
        # a schema without a surrogate id column: compare every column
        return con.execute(re.sub(r"EXCLUDE \([^)]*\)", "", sql)).fetchall()
    finally:
        con.close()


def crashing_worker(flags: Path) -> type[StoryWorker]:
    """A worker class whose process exits on a story containing "Crashalways", and on one
    containing "Crashonce" the first time only (``flags`` remembers)."""

    class CrashingWorker(StoryWorker):
        def process(self, tasks: list[StoryTask]):  # type: ignore[override]
            for task in tasks:
                if "Crashalways" in task.body:
                    os._exit(1)
                flag = flags / task.story_id
                if "Crashonce" in task.body and not flag.exists():
                    flag.touch()
                    os._exit(1)
            return super().process(tasks)

    return CrashingWorker


def test_a_dead_workers_batch_is_retried_then_narrowed_to_the_story_that_kills_it(
        ray_address: str, tmp_path: Path) -> None:
    db = tmp_path / "crash.duckdb"
    bodies = {
        "a1": "Westcombe Hospital NHS Trust was rated good by the Care Quality Commission.",
        "a2": "Crashonce: Eastbrook Council set aside £3m for adult social care in 2025.",
        "a3": "Crashalways: the Northmoor Clinical Commissioning Group met on Tuesday.",
        "a4": "Southvale NHS Foundation Trust received £12m from NHS England.",
        "a5": "Harbour Town Council approved a £450,000 grant for a new clinic.",
        "a6": "The Care Quality Commission rated Lakeside Hospital inadequate.",
    }
    with store_db.session(db) as con:
        for article_id, body in bodies.items():
            add_story(con, article_id=article_id, url=f"https://example.org/{article_id}",
                      title=f"Story {article_id}", body=body)
    flags = tmp_path / "flags"
    flags.mkdir()
    failures: list[str] = []
    run = process_on_ray(db, ScaleSettings(ray_address=ray_address), workers=2, batch_size=2,
                         embed=False, worker_class=crashing_worker(flags),
                         echo=failures.append)

    assert len(failures) == 1 and failures[0].startswith("story a3-v1-s0 failed:")
    assert run.stories == 5
    assert run.retried_batches >= 3  # a2's batch once; a3's batch twice, then alone
    processed = {sid for (sid,) in _rows(
        db, "SELECT story_id FROM stories WHERE processed_at IS NOT NULL")}
    assert processed == {f"{a}-v1-s0" for a in bodies} - {"a3-v1-s0"}
    assert _rows(db, "SELECT count(*) FROM amounts WHERE story_id = 'a2-v1-s0'")[0][0] == 1


def test_worker_process_without_ray_address_is_one_line(
        tmp_path: Path, no_scale_setting: None) -> None:
    result = CliRunner().invoke(cli, ["worker", "process", "--db", str(tmp_path / "x.duckdb")])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "no Ray address set" in result.output


def test_worker_process_with_no_cluster_listening_is_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_scale_setting: None) -> None:
    db = tmp_path / "empty.duckdb"
    store_db.connect(db).close()
    monkeypatch.setenv("POLICYWATCH_RAY_ADDRESS", f"127.0.0.1:{free_port()}")
    for args in (["worker", "process"], ["process"]):
        result = CliRunner().invoke(cli, [*args, "--db", str(db)])
        assert result.exit_code == 2, result.output
        assert result.output.strip().count("\n") == 0
        assert "no Ray cluster at 127.0.0.1:" in result.output
        assert "Traceback" not in result.output


def test_a_bad_scale_setting_is_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_scale_setting: None) -> None:
    monkeypatch.setenv("POLICYWATCH_STORE", "postgres")
    result = CliRunner().invoke(cli, ["scale", "status", "--db", str(tmp_path / "x.duckdb")])
    assert result.exit_code == 2
    assert "store 'postgres' must be one of" in result.output
    assert result.output.strip().count("\n") == 0


def test_scale_status_says_each_unreachable_service_in_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_scale_setting: None) -> None:
    db = tmp_path / "status.duckdb"
    with store_db.session(db) as con:
        add_story(con, article_id="s1", url="https://example.org/s1", title="One",
                  body="Riverside NHS Trust opened a ward.")
    monkeypatch.setenv("POLICYWATCH_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.setenv("POLICYWATCH_RAY_ADDRESS", f"127.0.0.1:{free_port()}")
    runner = CliRunner()
    result = runner.invoke(cli, ["scale", "status", "--db", str(db)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["setting", "redis", "parts", "stories",
                                                      "ray"]
    assert lines[1].startswith("redis: unreachable: cannot reach Redis at redis://127.0.0.1:")
    assert lines[2] == "parts: not configured"
    assert lines[3] == "stories: waiting 1, stored 1"
    assert lines[4].startswith("ray: unreachable: no Ray cluster at 127.0.0.1:")

    report = json.loads(runner.invoke(cli, ["scale", "status", "--json", "--db", str(db)])
                        .output)
    assert report["setting"]["store"] == "duckdb"
    assert report["stories"] == {"waiting": 1, "stored": 1}
    assert "error" in report["redis"] and "error" in report["ray"]


def test_scale_status_shows_the_ray_cluster(
        tmp_path: Path, ray_address: str, monkeypatch: pytest.MonkeyPatch,
        no_scale_setting: None) -> None:
    db = tmp_path / "status.duckdb"
    store_db.connect(db).close()
    monkeypatch.setenv("POLICYWATCH_RAY_ADDRESS", ray_address)
    result = CliRunner().invoke(cli, ["scale", "status", "--json", "--db", str(db)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ray"]["nodes"] == 1
    assert report["ray"]["cpus"] >= 1
    assert report["redis"] is None and report["parts"] is None


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A redis-server of its own on 127.0.0.1, no persistence."""
    import subprocess

    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (Debian package redis-server)")
    redis = pytest.importorskip("redis")
    port = free_port()
    proc = subprocess.Popen([server, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        assert wait_for(lambda: _answers(client), timeout=20), "redis-server did not start"
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def _answers(client: object) -> bool:
    import redis

    try:
        return bool(client.ping())  # type: ignore[attr-defined]
    except redis.ConnectionError:
        return False


def test_scale_status_counts_the_frontier_queues(
        tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch,
        no_scale_setting: None) -> None:
    import redis

    from crawler.frontier import namespace_for

    db = tmp_path / "frontier.duckdb"
    store_db.connect(db).close()
    ns = namespace_for(db)
    client = redis.Redis.from_url(redis_url)
    client.set(f"{ns}:round", 3)
    client.zadd(f"{ns}:nhs:requests", {"r1": 0, "r2": 0, "r3": 1})
    client.zadd(f"{ns}:cqc:requests", {"r4": 0})
    client.sadd(f"{ns}:round:3:nhs:seen", "f1", "f2", "f3", "f4", "f5")
    client.sadd(f"{ns}:round:2:nhs:seen", "old")  # an earlier round: not counted
    client.zadd(f"{ns}:workers", {"w1": 10 ** 13, "gone": 1})  # one live lease, one expired
    client.zadd("policywatch:other.duckdb:nhs:requests", {"x": 0})  # another database's
    monkeypatch.setenv("POLICYWATCH_REDIS_URL", redis_url)

    result = CliRunner().invoke(cli, ["scale", "status", "--json", "--db", str(db)])
    assert result.exit_code == 0, result.output
    frontier = json.loads(result.output)["redis"]
    assert frontier == {"namespace": ns, "round": 3, "crawl_workers": 1,
                        "queued_requests": {"cqc": 1, "nhs": 3},
                        "seen_requests": {"nhs": 5}}


def test_the_backlog_reads_a_page_at_a_time_without_repeats(tmp_path: Path) -> None:
    import numpy as np

    from store import facts as store_facts
    from store import themes as store_themes

    db = tmp_path / "pages.duckdb"
    with store_db.session(db) as con:
        ids = [add_story(con, article_id=f"p{k}", url=f"https://example.org/p{k}",
                         title=f"Page story {k}", body=f"Body {k}.") for k in range(7)]
        pages, cursor = [], None
        while page := store_facts.stories_to_process(con, "v1", limit=3, after=cursor):
            pages.append([s.story_id for s in page])
            cursor = page[-1].story_id
        assert [len(p) for p in pages] == [3, 3, 1]
        assert [sid for p in pages for sid in p] == sorted(ids)
        assert store_facts.count_stories_to_process(con, "v1") == 7
    with store_db.session(db) as con:
        store_themes.save_embeddings(con, ids[:2], np.ones((2, 384), dtype=np.float32), "m")
        assert store_themes.headlines_without_embeddings(con, "m", ids[:4]) == {
            ids[2]: "Page story 2", ids[3]: "Page story 3"}
