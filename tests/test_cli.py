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


def test_amounts_and_ratings_json_say_why(db_path):
    out = json.loads(run("amounts", "--db", db_path, "--role", "deficit", "--json").output)
    assert out[0]["why"]["org"] == "salience:the_trust"
    out = json.loads(run("ratings", "--db", db_path, "--rating", "inadequate", "--json").output)
    assert out[0]["why"]["period"] == "dateline"
    rows = list(csv.DictReader(io.StringIO(
        run("amounts", "--db", db_path, "--role", "deficit", "--csv").output)))
    assert json.loads(rows[0]["why"])["role"] == "pattern:deficit_noun"


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


@pytest.mark.parametrize("text, expected", [("%", []), ("_", []), ("BB", ["a1-v1-s0"])])
def test_stories_text_is_matched_literally(db_path, text, expected):
    result = run("stories", "--db", db_path, "--text", text, "--json")
    assert result.exit_code == 0, result.output
    assert [r["story_id"] for r in json.loads(result.output)] == expected


def test_export_command(db_path, tmp_path):
    out = tmp_path / "ratings.jsonl"
    result = run("export", "ratings", "--db", db_path, "--format", "jsonl", "--output", out)
    assert result.exit_code == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["rating"] for r in rows} == {"inadequate", "outstanding"}


def test_export_refuses_an_existing_file_unless_forced(db_path, tmp_path):
    out = tmp_path / "ratings.csv"
    out.write_text("keep me\n")
    result = run("export", "ratings", "--db", db_path, "--output", out)
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {out} exists; use --force to overwrite it"
    assert out.read_text() == "keep me\n"
    result = run("export", "ratings", "--db", db_path, "--output", out, "--force")
    assert result.exit_code == 0, result.output
    assert {r["rating"] for r in csv.DictReader(out.open())} == {"inadequate", "outstanding"}
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_export_never_writes_over_the_database(db_path):
    before = db_path.read_bytes()
    for extra in ([], ["--force"]):
        result = run("export", "ratings", "--db", db_path, "--format", "csv",
                     "--output", db_path, *extra)
        assert result.exit_code == 1 and "Traceback" not in result.output
    assert db_path.read_bytes() == before


def test_export_format_from_the_extension(db_path, tmp_path):
    out = tmp_path / "amounts.parquet"
    result = run("export", "amounts", "--db", db_path, "--output", out)
    assert result.exit_code == 0, result.output
    import duckdb
    parquet_rows = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{out}')")
    assert parquet_rows.fetchone() == (3,)
    out = tmp_path / "amounts.jsonl"
    assert run("export", "amounts", "--db", db_path, "-o", out).exit_code == 0
    assert len([json.loads(line) for line in out.read_text().splitlines()]) == 3


@pytest.mark.parametrize("args, message", [
    (["--output", "a.parquet", "--format", "csv"],
     "--format csv does not match the extension of a.parquet (parquet)"),
    (["--output", "a.csv", "--format", "jsonl"], "does not match the extension"),
    (["--output", "amounts.dat"], "cannot tell the format of amounts.dat"),
    (["--output", "-", "--format", "parquet"], "cannot write parquet to standard output"),
])
def test_export_refuses_unclear_formats(db_path, tmp_path, monkeypatch, args, message):
    folder = tmp_path / "out"
    folder.mkdir()
    monkeypatch.chdir(folder)
    result = run("export", "amounts", "--db", db_path, *args)
    assert result.exit_code == 1
    assert result.output.splitlines() == [f"Error: {message}"] or (
        len(result.output.splitlines()) == 1 and message in result.output)
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("fmt", ["csv", "jsonl", None])
def test_export_to_standard_output(db_path, fmt):
    result = CliRunner().invoke(cli.cli, ["export", "ratings", "--db", str(db_path),
                                          "--output", "-", *(["--format", fmt] if fmt else [])])
    assert result.exit_code == 0, result.output
    if fmt == "jsonl":
        rows = [json.loads(line) for line in result.stdout.splitlines()]
    else:
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["rating"] for r in rows} == {"inadequate", "outstanding"}
    assert "wrote 2 rows of ratings to standard output" in result.stderr


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


def test_extract_reports_each_bad_html_file_and_continues(tmp_path):
    import gzip

    (tmp_path / "binary.html").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "empty.html").write_bytes(b"")
    # 11 MB of HTML once decompressed (over the 10 MB cap), about 11 kB on disk
    (tmp_path / "bomb.html.gz").write_bytes(
        gzip.compress(b"<html><body><p>" + b"a" * (11 * 1024 * 1024) + b"</p></body></html>"))
    (tmp_path / "broken.html.gz").write_bytes(b"\x1f\x8bnot really gzip")
    good = tmp_path / "good.html"
    good.write_text("<html><head><title>Budget</title></head><body><article><h1>Budget</h1>"
                    "<p>Eastmoor CCG agreed a budget of £7m for community nursing this "
                    "year, its board said on Tuesday.</p></article></body></html>",
                    encoding="utf-8")
    names = ["binary.html", "empty.html", "bomb.html.gz", "broken.html.gz", "good.html"]
    result = CliRunner().invoke(cli.cli, ["extract", "--no-embeddings",
                                          *(str(tmp_path / n) for n in names)])
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert len(errors) == 4 and "Traceback" not in result.output
    for name, line in zip(names, errors, strict=False):
        assert line.startswith(f"Error: cannot read {tmp_path / name}: "), line
    assert "larger than 10,485,760 bytes once decompressed" in errors[2]
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in records] == ["good"]
    assert [a["value_gbp"] for a in records[0]["amounts"]] == [7e6]


def test_themes_refuses_an_absurd_period(db_path):
    result = run("themes", "--db", db_path, "--no-update", "--period-days", "999999999999")
    assert result.exit_code == 2
    assert "999999999999 is not in the range 1<=x<=36500" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("interval", ['"99999999999999w"', '"inf"', "inf", "nan"])
def test_schedule_refuses_an_absurd_interval(db_path, tmp_path, interval):
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[source]]\nname = "x"\nfeeds = ["https://example.org/feed.xml"]\n'
                       f"interval = {interval}\n", encoding="utf-8")
    result = run("schedule", "--once", "--sources", sources, "--db", db_path)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {sources}: source 'x': ")
    assert "interval" in result.output and len(result.output.splitlines()) == 1


def _command_paths() -> list[tuple[str, ...]]:
    """Every command as the words typed after ``policywatch``, a group's subcommands too."""
    paths = []
    for name, command in cli.cli.commands.items():
        paths.append((name,))
        for sub in getattr(command, "commands", {}):
            paths.append((name, sub))
    return paths


def test_every_command_is_documented_in_the_readme():
    readme = re.sub(r"\s+", " ", (ROOT / "README.md").read_text(encoding="utf-8"))
    missing = [" ".join(path) for path in _command_paths()
               if f"policywatch {' '.join(path)}" not in readme]
    assert not missing, f"commands missing from README.md: {sorted(missing)}"


def test_every_command_has_help_with_an_example():
    for path in _command_paths():
        result = run(*path, "--help")
        assert result.exit_code == 0
        assert "Example" in result.output, f"{' '.join(path)} --help has no example"
