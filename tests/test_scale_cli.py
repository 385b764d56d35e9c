"""`policywatch worker crawl` without a usable Redis: one line and exit 2, nothing crawled;
`policywatch scale compact` with nothing to compact."""

from __future__ import annotations

import socket

from click.testing import CliRunner

import cli

NO_SCALE = {"POLICYWATCH_CONFIG": None, "POLICYWATCH_REDIS_URL": None,
            "POLICYWATCH_RAY_ADDRESS": None, "POLICYWATCH_STORE": None,
            "POLICYWATCH_PARTS_DIR": None}


def _invoke(args: list[str], **env: str):
    return CliRunner().invoke(cli.cli, args, env={**NO_SCALE, **env})


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_worker_crawl_without_a_redis_url_says_so_in_one_line(tmp_path):
    result = _invoke(["worker", "crawl", "--db", str(tmp_path / "w.duckdb")])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("Error: no Redis URL set")
    assert not (tmp_path / "w.duckdb").exists()


def test_worker_crawl_with_redis_unreachable_says_so_in_one_line(tmp_path):
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    result = _invoke(["worker", "crawl", "--db", str(tmp_path / "w.duckdb")],
                     POLICYWATCH_REDIS_URL=url)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"Error: cannot reach Redis at {url}")


def test_a_bad_scale_setting_is_one_line(tmp_path):
    result = _invoke(["worker", "crawl"], POLICYWATCH_REDIS_URL="http://127.0.0.1:1")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: Redis URL 'http://127.0.0.1:1' must start with")


def test_compact_with_no_parts_writes_nothing(tmp_path):
    db = tmp_path / "c.duckdb"
    result = _invoke(["scale", "compact", "--db", str(db)], POLICYWATCH_STORE="parts")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Compacted 0 part(s)")
