"""Every CLI command through click's CliRunner: output formats, filters, and errors as one
line with a non-zero exit (never a traceback)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, add_story
from test_store import FACTS_A, FACTS_B

import cli
from store import db, facts


@pytest.fixture
def db_path(tmp_path) -> Path:
    path = tmp_path / "cli.duckdb"
    con = db.connect(path)
    add_story(con, article_id="a1", url="http://x/a1", title="Trust deficit",
              body="b" * 200, published=datetime(2024, 5, 1))
    add_story(con, article_id="a2", url="http://x/a2", title="Leeds budget",
              body="c" * 200, published=datetime(2025, 1, 10))
    facts.save_facts(con, [("a1-v1-s0", FACTS_A), ("a2-v1-s0", FACTS_B)], "v1")
    con.close()
    return path


def run(*args: str):
    result = CliRunner().invoke(cli.cli, [str(a) for a in args], catch_exceptions=False)
    return result


def test_parse_money_accepts_analyst_spellings():
    assert cli.parse_money("50m") == 50e6
    assert cli.parse_money("1.2bn") == 1.2e9
    assert cli.parse_money("£400k") == 400e3
    assert cli.parse_money("40,000") == 40e3
    with pytest.raises(ValueError):
        cli.parse_money("50x")


def test_format_gbp():
    assert cli.format_gbp(1.2e9) == "£1.2bn"
    assert cli.format_gbp(21.5e6) == "£21.5m"
    assert cli.format_gbp(400e3) == "£400k"
    assert cli.format_gbp(950) == "£950"


@pytest.mark.parametrize("fmt", ["--table", "--json", "--csv", "--nl"])
def test_amounts_in_every_format(db_path, fmt):
    result = run("amounts", "--db", db_path, "--min", "1m", fmt)
    assert result.exit_code == 0, result.output
    if fmt == "--json":
        rows = json.loads(result.output)
        assert [r["value_gbp"] for r in rows] == [1200000000, 12500000]
        assert rows[1]["org"] == "Northfield Hospitals NHS Foundation Trust"
    elif fmt == "--csv":
        rows = list(csv.DictReader(io.StringIO(result.output)))
        assert rows[0]["role"] == "budget"
    elif fmt == "--nl":
        assert len(result.output.strip().splitlines()) == 2
    else:
        assert "£1.2bn" in result.output and "£12.5m" in result.output


def test_amount_filters_from_the_command_line(db_path):
    out = json.loads(run("amounts", "--db", db_path, "--role", "deficit", "--json").output)
    assert [r["text"] for r in out] == ["£12.5m"]
    out = json.loads(run("amounts", "--db", db_path, "--max", "£20m", "--min", "10m",
                         "--json").output)
    assert [r["value_gbp"] for r in out] == [12500000]
    out = json.loads(run("amounts", "--db", db_path, "--since", "2025-01-01", "--json").output)
    assert [r["value_gbp"] for r in out] == [1200000000]


def test_orgs_ratings_stories(db_path):
    out = json.loads(run("orgs", "NHSE", "--db", db_path, "--json").output)
    assert out[0]["name"] == "NHS England" and out[0]["mentions"] == 3
    out = json.loads(run("ratings", "--db", db_path, "--rating", "inadequate", "--json").output)
    assert out[0]["org"] == "Northfield Hospitals NHS Foundation Trust"
    out = json.loads(run("stories", "--db", db_path, "--org", "Leeds CCG", "--json").output)
    assert [r["story_id"] for r in out] == ["a2-v1-s0"]


def test_export_command(db_path, tmp_path):
    out = tmp_path / "ratings.jsonl"
    result = run("export", "ratings", "--db", db_path, "--format", "jsonl", "--output", out)
    assert result.exit_code == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["rating"] for r in rows} == {"inadequate", "outstanding"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["amounts", "--min", "50x"], "is not an amount"),
        (["amounts", "--min", "5m", "--max", "1m"], "is above --max"),
        (["export", "passwords", "--output", "x.csv"], "'passwords' is not one of"),
        (["export", "amounts", "--output", "/no/such/folder/x.csv"], "does not exist"),
        (["ratings", "--since", "yesterday"], "does not match the format"),
    ],
)
def test_user_errors_are_one_clear_line(db_path, args, message):
    result = CliRunner().invoke(cli.cli, [*args, "--db", str(db_path)])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_and_corrupt_database(tmp_path):
    result = CliRunner().invoke(cli.cli, ["orgs", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: no database at {tmp_path / 'none.duckdb'}: run `policywatch crawl` "
        "(or `policywatch demo`) first")
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"\x00garbage" * 100)
    result = CliRunner().invoke(cli.cli, ["amounts", "--db", str(bad)])
    assert result.exit_code == 1 and "not a policywatch" in result.output
    assert bad.read_bytes() == b"\x00garbage" * 100  # never overwritten


def test_locked_database_is_reported(db_path, monkeypatch):
    import subprocess
    import sys

    monkeypatch.setenv("POLICYWATCH_READ_WAIT", "0")  # report at once instead of waiting

    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb,time; c=duckdb.connect({str(db_path)!r}); print('ready', flush=True);"
         " time.sleep(30)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = CliRunner().invoke(cli.cli, ["orgs", "--db", str(db_path)])
        assert result.exit_code == 1
        assert "is in use by process" in result.output
    finally:
        holder.kill()
        holder.wait()


def test_extract_reports_unreadable_files(tmp_path):
    good = tmp_path / "note.txt"
    good.write_text("No organisations here at all.", encoding="utf-8")
    result = CliRunner().invoke(
        cli.cli, ["extract", "--no-embeddings", str(good), str(tmp_path / "missing.txt"),
                  str(tmp_path / "x.pdf")])
    assert result.exit_code == 1
    assert "Error: cannot read" in result.output
    record = json.loads(result.stdout.splitlines()[0])
    assert record["id"] == "note"
    assert set(record) >= {"organisations", "amounts", "ratings", "stories"}


def test_every_command_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"policywatch ([a-z]+)", readme))
    missing = set(cli.cli.commands) - documented
    assert not missing, f"commands missing from README.md: {sorted(missing)}"


def test_every_command_has_help_with_an_example():
    for name in cli.cli.commands:
        result = run(name, "--help")
        assert result.exit_code == 0
        assert "Example" in result.output, f"{name} --help has no example"
