"""The analyst's commands through click's CliRunner on a real DuckDB file: read-only SQL,
tables and schema, one story, rating history and changes, counts over time."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import add_story

import cli
from store import db, facts

TRUST = "Ashgrove Valley NHS Trust"
TRUST_BODY = (
    "Ashgrove Valley NHS Trust has left special measures. "
    "Inspectors moved the trust from inadequate to requires improvement. "
    "The trust reported a deficit of £8.4m for 2023-24."
)
EARLY_BODY = "Inspectors rated Ashgrove Valley NHS Trust inadequate after a visit in March."
BOARD_BODY = "NHS England gave the board £3m for winter. The board is watched closely."


def _span(body: str, text: str) -> tuple[int, int]:
    start = body.index(text)
    return start, start + len(text)


def _sentence(body: str, text: str) -> str:
    start = body.rfind(". ", 0, body.index(text))
    start = 0 if start < 0 else start + 2
    end = body.index(".", body.index(text) + len(text)) + 1
    return body[start:end]


def _org(name: str, type_: str, body: str, aliases: tuple[str, ...] = ()) -> dict:
    start, end = _span(body, name)
    return {"name": name, "type": type_, "aliases": list(aliases),
            "mentions": [{"start": start, "end": end, "text": name}]}


def _rating(body: str, rating: str, anchor: str, **extra) -> dict:
    start, end = _span(body, anchor)
    return {"org": TRUST, "rating": rating, "rater": "CQC", "start": start, "end": end,
            "sentence": _sentence(body, anchor), **extra}


EARLY_FACTS = {
    "organisations": [_org(TRUST, "provider", EARLY_BODY)],
    "amounts": [],
    "ratings": [_rating(EARLY_BODY, "inadequate", "inadequate", status="current",
                        previous_rating=None, direction=None)],
}
TRUST_FACTS = {
    "organisations": [_org(TRUST, "provider", TRUST_BODY)],
    "amounts": [{"text": "£8.4m", "value_gbp": 8.4e6, "qualifier": "exact", "role": "deficit",
                 "org": TRUST, "period": "2023-24",
                 "start": _span(TRUST_BODY, "£8.4m")[0], "end": _span(TRUST_BODY, "£8.4m")[1],
                 "sentence": _sentence(TRUST_BODY, "£8.4m")}],
    "ratings": [
        _rating(TRUST_BODY, "out of special measures", "left special measures",
                status="current", previous_rating="special measures", direction="up"),
        _rating(TRUST_BODY, "inadequate", "from inadequate", status="previous",
                previous_rating=None, direction=None),
        _rating(TRUST_BODY, "requires improvement", "requires improvement",
                status="current", previous_rating="inadequate", direction="up"),
    ],
}
BOARD_FACTS = {
    "organisations": [_org("NHS England", "national_body", BOARD_BODY, ("NHSE",))],
    "amounts": [{"text": "£3m", "value_gbp": 3e6, "qualifier": "exact", "role": "funding",
                 "org": "NHS England", "period": None,
                 "start": _span(BOARD_BODY, "£3m")[0], "end": _span(BOARD_BODY, "£3m")[1],
                 "sentence": _sentence(BOARD_BODY, "£3m")}],
    "ratings": [],
}


@pytest.fixture
def db_path(tmp_path) -> Path:
    path = tmp_path / "analyst.duckdb"
    con = db.connect(path)
    early = add_story(con, article_id="e1", url="http://x/early", title="Trust rated inadequate",
                      body=EARLY_BODY, published=datetime(2024, 3, 20))
    later = add_story(con, article_id="t1", url="http://x/trust", title="Trust improves",
                      body=TRUST_BODY, published=datetime(2024, 11, 5))
    board = add_story(con, article_id="b1", url="http://x/board", title="Winter money",
                      body=BOARD_BODY, published=datetime(2024, 11, 28))
    published = {early: datetime(2024, 3, 20), later: datetime(2024, 11, 5),
                 board: datetime(2024, 11, 28)}
    facts.save_facts(con, [(early, EARLY_FACTS), (later, TRUST_FACTS), (board, BOARD_FACTS)],
                     "v1", published=published)
    con.close()
    return path


def run(*args: object):
    return CliRunner().invoke(cli.cli, [str(a) for a in args], catch_exceptions=False)


# ----------------------------------------------------------------------------- query


@pytest.mark.parametrize("fmt", ["--table", "--json", "--csv", "--nl"])
def test_query_in_every_format(db_path, fmt):
    result = run("query", "select rating, count(*) as n from ratings group by 1 order by 1",
                 "--db", db_path, fmt)
    assert result.exit_code == 0, result.output
    expected = {"inadequate": 2, "out of special measures": 1, "requires improvement": 1}
    if fmt == "--json":
        assert {r["rating"]: r["n"] for r in json.loads(result.output)} == expected
    elif fmt == "--csv":
        rows = list(csv.DictReader(io.StringIO(result.output)))
        assert {r["rating"]: int(r["n"]) for r in rows} == expected
    elif fmt == "--nl":
        rows = [json.loads(line) for line in result.output.splitlines()]
        assert {r["rating"]: r["n"] for r in rows} == expected
    else:
        assert "requires improvement" in result.output and "inadequate" in result.output


def test_query_binds_parameters_and_keeps_repeated_column_names(db_path):
    result = run("query", "select 1 as a, 2 as a, $role as r", "-p", "role=deficit",
                 "--db", db_path, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"a": 1, "a_2": 2, "r": "deficit"}]


def test_query_with_no_rows_still_prints_the_csv_header(db_path):
    result = run("query", "select rating, period from ratings where false", "--db", db_path,
                 "--csv")
    assert result.exit_code == 0
    assert result.output.strip() == "rating,period"


@pytest.mark.parametrize("sql, message", [
    ("delete from ratings", "Error: refused: DELETE statements change things"),
    ("create table x (a int)", "Error: refused: CREATE statements change things"),
    ("copy ratings to 'out.csv'", "Error: refused: COPY statements change things"),
    ("select 1; drop table ratings", "Error: give one statement, not 2"),
    ("select * from read_csv('/etc/hostname')", "Error: SQL error: "),
    ("selec 1", "Error: SQL error: "),
    ("select * from nowhere", "Error: SQL error: "),
])
def test_query_refuses_writes_and_reports_errors_in_one_line(db_path, sql, message):
    result = run("query", sql, "--db", db_path)
    assert result.exit_code == 1
    assert result.output.startswith(message), result.output
    assert len(result.output.strip().splitlines()) == 1
    assert run("query", "select count(*) as n from ratings", "--db", db_path,
               "--json").output.count('"n": 4') == 1


def test_tables_and_schema(db_path):
    rows = json.loads(run("tables", "--db", db_path, "--json").output)
    by_name = {r["name"]: r for r in rows}
    assert by_name["ratings"]["rows"] == 4 and by_name["stories"]["rows"] == 3
    rows = json.loads(run("schema", "ratings", "--db", db_path, "--json").output)
    assert {"story_id", "rating", "org_id"} <= {r["column"] for r in rows}
    assert {r["table"] for r in rows} == {"ratings"}
    result = run("schema", "rating", "--db", db_path)
    assert result.exit_code == 1
    assert result.output.strip() == "Error: no table 'rating'; did you mean 'ratings'?"
    sql = run("schema", "ratings", "--sql", "--db", db_path).output
    assert sql.startswith("CREATE TABLE ratings")


# ----------------------------------------------------------------------------- story


def test_story_shows_source_text_and_facts_by_sentence(db_path):
    result = run("story", "t1-v1-s0", "--db", db_path)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Trust improves" in out and "2024-11-05  http://x/trust" in out
    assert "\x1b[" not in out  # plain when not on a terminal
    facts_part = out.split("Facts by sentence", 1)[1]
    deficit_sentence = "> The trust reported a deficit of £8.4m for 2023-24."
    assert deficit_sentence in facts_part
    after = facts_part.split(deficit_sentence, 1)[1].splitlines()[1]
    assert after.strip() == f'- amount: deficit, {TRUST}, 2023-24  "£8.4m"'


def test_story_json_links_each_fact_to_its_sentence(db_path):
    detail = json.loads(run("story", "t1", "--db", db_path, "--json").output)
    assert detail["story"]["url"] == "http://x/trust"
    by_text = {}
    for sentence in detail["sentences"]:
        for index in sentence["facts"]:
            by_text.setdefault(detail["facts"][index]["kind"], []).append(sentence["text"])
    assert by_text["amount"] == ["The trust reported a deficit of £8.4m for 2023-24."]
    assert len(by_text["rating"]) == 3


@pytest.mark.parametrize("ident, message", [
    ("zz-v1-s0", "Error: no story 'zz-v1-s0'; `policywatch stories` lists them"),
    ("", "Error: give a story id; `policywatch stories` lists them"),
])
def test_story_reports_unknown_ids_in_one_line(db_path, ident, message):
    result = run("story", ident, "--db", db_path)
    assert result.exit_code == 1
    assert result.output.strip() == message


def test_story_refuses_an_ambiguous_prefix(db_path, tmp_path):
    con = db.connect(db_path)
    add_story(con, article_id="t2", url="http://x/t2", title="Another", body="Text.")
    con.close()
    result = run("story", "t", "--db", db_path)
    assert result.exit_code == 1
    assert result.output.startswith("Error: 't' names 2 stories (t1-v1-s0, t2-v1-s0)")


# ----------------------------------------------------------------------------- history


def test_history_lists_ratings_in_time_order_with_directions(db_path):
    result = run("history", TRUST, "--db", db_path, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    ratings = [(r["date"], r["what"], r["previous_rating"], r["direction"], r["status"])
               for r in rows if r["kind"] == "rating"]
    assert ratings == [
        ("2024-03-20", "inadequate", None, None, "current"),
        ("2024-11-05", "inadequate", None, None, "previous"),
        ("2024-11-05", "out of special measures", "special measures", "up", "current"),
        ("2024-11-05", "requires improvement", "inadequate", "up", "current"),
    ]
    money = [(r["what"], r["value_gbp"]) for r in rows if r["kind"] == "amount"]
    assert money == [("deficit", 8400000)]


def test_history_derives_a_direction_from_the_rating_before(db_path):
    con = db.connect(db_path)
    later = add_story(con, article_id="t3", url="http://x/t3", title="Trust slips",
                      body=EARLY_BODY, published=datetime(2025, 2, 1))
    plain = {"organisations": EARLY_FACTS["organisations"], "ratings": [
        _rating(EARLY_BODY, "inadequate", "inadequate")]}
    facts.save_facts(con, [(later, plain)], "v1", published={later: datetime(2025, 2, 1)})
    con.close()
    rows = json.loads(run("history", TRUST, "--db", db_path, "--json").output)
    last = rows[-1]
    assert (last["what"], last["previous_rating"], last["direction"],
            last["direction_from"]) == ("inadequate", "requires improvement", "down", "order")


def test_history_matches_names_exactly_and_suggests_near_misses(db_path):
    result = run("history", "Ashgrove Valey NHS Trust", "--db", db_path)
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: no organisation named 'Ashgrove Valey NHS Trust'; did you mean '{TRUST}'?")
    rows = json.loads(run("history", "NHSE", "--db", db_path, "--json").output)
    assert [(r["org"], r["what"]) for r in rows] == [("NHS England", "funding")]


def test_history_reads_a_database_from_before_the_rating_event_columns(db_path):
    con = db.connect(db_path)
    for column in ("previous_rating", "direction", "status"):
        con.execute(f"ALTER TABLE ratings DROP COLUMN {column}")
    con.close()
    rows = json.loads(run("history", TRUST, "--db", db_path, "--json").output)
    assert [r["status"] for r in rows if r["kind"] == "rating"] == [None] * 4
    con = db.connect(db_path)  # a writer adds the columns back, empty
    assert con.execute("SELECT count(*) FROM ratings WHERE status IS NULL").fetchone()[0] == 4
    con.close()


# ----------------------------------------------------------------------------- changes


def test_changes_since_a_date_and_the_exit_status(db_path):
    result = run("changes", "--since", "2024-06-01", "--db", db_path, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["change"], r["what"], r["direction"]) for r in rows] == [
        ("special_measures", "out of special measures", "up"),
        ("rating_change", "requires improvement", "up"),
        ("deficit", "deficit", None),
    ]
    assert rows[1]["previous_rating"] == "inadequate" and rows[0]["url"] == "http://x/trust"
    result = run("changes", "--since", "2025-01-01", "--db", db_path, "--json")
    assert result.exit_code == cli.NOTHING_CHANGED_EXIT == 3
    assert json.loads(result.output) == []


def test_changes_for_a_watch_list(db_path, tmp_path):
    watch = tmp_path / "watch.txt"
    watch.write_text("# bodies we follow\nNHSE\n\n", encoding="utf-8")
    result = run("changes", "--since", "2024-01-01", "--watch", watch, "--db", db_path)
    assert result.exit_code == 3  # NHS England has no rating or deficit
    watch.write_text(f"{TRUST}  # the trust\n", encoding="utf-8")
    result = run("changes", "--since", "2024-01-01", "--watch", watch, "--db", db_path,
                 "--csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert {r["change"] for r in rows} == {"rating", "special_measures", "rating_change",
                                          "deficit"}
    watch.write_text("Nowhere Trust\n", encoding="utf-8")
    result = run("changes", "--since", "2024-01-01", "--watch", watch, "--db", db_path)
    assert result.exit_code == 1
    assert result.output.startswith("Error: no organisation named 'Nowhere Trust'")


# ----------------------------------------------------------------------------- trend


def test_trend_counts_stories_per_month_with_empty_months(db_path):
    result = run("trend", "--org", TRUST, "--by", "month", "--db", db_path, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows[0] == {"period": "2024-03-01", "stories": 1}
    assert rows[-1] == {"period": "2024-11-01", "stories": 1}
    assert len(rows) == 9 and sum(r["stories"] for r in rows) == 2


def test_trend_by_week_on_text_since_a_date(db_path):
    rows = json.loads(run("trend", "--text", "THE BOARD", "--by", "Week", "--since",
                          "2024-06-01", "--db", db_path, "--json").output)
    assert rows == [{"period": "2024-11-25", "stories": 1}]  # the Monday of its week


def test_trend_plot_and_errors(db_path, tmp_path):
    png = tmp_path / "trend.png"
    result = run("trend", "--org", "NHSE", "--plot", png, "--db", db_path)
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for args, message in [((), "Error: give --org, --theme or --text"),
                          (("--theme", "99"), "Error: no theme 99;"),
                          (("--text", "x", "--plot", tmp_path / "a.svg"),
                           "Error: --plot needs a .png file name, got 'a.svg'")]:
        result = run("trend", *args, "--db", db_path)
        assert result.exit_code == 1 and result.output.startswith(message), result.output


def test_themes_trending_as_of_a_date(db_path):
    con = db.connect(db_path)
    now = datetime(2026, 11, 1)
    con.execute("INSERT INTO themes (theme_id, level, label, created_at, updated_at) "
                "VALUES (1, 'theme', 'trust ratings', ?, ?)", [now, now])
    for story_id in ("e1-v1-s0", "t1-v1-s0"):
        con.execute("INSERT INTO theme_members VALUES (1, ?, 0.9, ?)", [story_id, now])
    con.close()
    args = ("themes", "--no-update", "--trending", "--period-days", "30", "--db", db_path,
            "--json")
    (today,) = json.loads(run(*args).output)
    assert today["growth"] == 0
    (back,) = json.loads(run(*args, "--as-of", "2024-11-30").output)
    assert back["growth"] == 1


# ----------------------------------------------------------------------------- identity


def _add_regulator_story(db_path: Path) -> None:
    body = "The CQC said the Care Quality Commission would return. Ashgrove Valley CCG agreed."
    con = db.connect(db_path)
    story = add_story(con, article_id="r1", url="http://x/r1", title="Regulator",
                      body=body, published=datetime(2024, 12, 2))
    found = {"organisations": [
        _org("CQC", "regulator", body), _org("Care Quality Commission", "regulator", body),
        _org("Ashgrove Valley CCG", "commissioner", body, ("Ashgrove Valley",))],
        "amounts": [{"text": "£1m", "value_gbp": 1e6, "role": "deficit",
                     "org": "Ashgrove Valley CCG"}],
        "ratings": []}
    facts.save_facts(con, [(story, found)], "v1", published={story: datetime(2024, 12, 2)})
    con.execute("INSERT INTO org_aliases SELECT org_id, 'Ashgrove Valley' FROM organisations "
                "WHERE name = ?", [TRUST])
    con.close()


def test_orgs_gives_one_body_for_an_acronym(db_path):
    _add_regulator_story(db_path)
    rows = json.loads(run("orgs", "cqc", "--db", db_path, "--json").output)
    assert len(rows) == 1
    assert (rows[0]["name"], rows[0]["mentions"]) == ("Care Quality Commission", 2)
    assert "CQC" in rows[0]["aliases"]
    rows = json.loads(run("orgs", "NHSE", "--db", db_path, "--json").output)
    assert [r["name"] for r in rows] == ["NHS England"]


def test_org_filters_match_exactly_and_by_type(db_path):
    _add_regulator_story(db_path)
    rows = json.loads(run("amounts", "--org", TRUST, "--db", db_path, "--json").output)
    assert [r["org"] for r in rows] == [TRUST]
    result = run("amounts", "--org", "Ashgrove Valley", "--db", db_path)
    assert result.exit_code == 1
    assert result.output.startswith("Error: 'Ashgrove Valley' names 2 organisations")
    rows = json.loads(run("amounts", "--role", "Deficit", "--type", "Commissioner",
                          "--db", db_path, "--json").output)
    assert [(r["org"], r["org_type"]) for r in rows] == [("Ashgrove Valley CCG", "commissioner")]
    rows = json.loads(run("ratings", "--type", "provider", "--rating", "Inadequate",
                          "--db", db_path, "--json").output)
    assert {r["org"] for r in rows} == {TRUST} and len(rows) == 1


# ----------------------------------------------------------------------------- dictionary


def test_data_dictionary_documents_every_exported_column(tmp_path):
    from conftest import ROOT

    from store import export

    text = (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    con = db.connect(tmp_path / "empty.duckdb")
    missing = []
    for table, sql in export.EXPORTS.items():
        section = text.split(f"\n## {table}\n", 1)
        assert len(section) == 2, f"no section for {table}"
        body = section[1].split("\n## ", 1)[0]
        for name, type_, *_ in con.execute(f"DESCRIBE {sql}").fetchall():
            if f"| {name} | {type_} |" not in body:
                missing.append(f"{table}.{name} {type_}")
    con.close()
    assert not missing, f"columns missing from docs/data-dictionary.md: {missing}"


# ----------------------------------------------------------------------------- output


def test_a_cut_result_says_how_many_matched(db_path):
    result = run("ratings", "--limit", "1", "--db", db_path, "--json")
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)) == 1
    assert result.stderr.strip() == "showing 1 of 3 rows; use --limit to see more"
    assert run("ratings", "--db", db_path, "--json").stderr == ""


@pytest.mark.parametrize("command", [
    ("amounts",), ("ratings",), ("stories", "--text"), ("orgs",), ("history", TRUST),
    ("changes", "--since"),
])
def test_csv_header_is_the_same_with_and_without_rows(db_path, command):
    no_match = {"amounts": ("--min", "1bn"), "ratings": ("--since", "2030-01-01"),
                "stories": ("nothing like this",), "orgs": ("--type", "media"),
                "history": (), "changes": ("2030-01-01",)}[command[0]]
    some = {"stories": ("board",), "changes": ("2024-01-01",)}.get(command[0], ())
    with_rows = run(*command, *some, "--db", db_path, "--csv").stdout.splitlines()
    assert len(with_rows) > 1
    if command[0] == "history":
        db.connect(db_path).execute("DELETE FROM ratings; DELETE FROM amounts").close()
    without = run(*command, *no_match, "--db", db_path, "--csv").stdout.splitlines()
    assert without == with_rows[:1]


def test_lists_are_json_arrays_in_json_and_joined_in_csv(db_path):
    con = db.connect(db_path)
    con.execute("INSERT INTO org_aliases SELECT org_id, 'NHS Eng' FROM organisations "
                "WHERE name = 'NHS England'")
    con.close()
    (row,) = json.loads(run("orgs", "NHSE", "--db", db_path, "--json").stdout)
    assert isinstance(row["aliases"], list) and {"NHSE", "NHS Eng"} <= set(row["aliases"])
    (row,) = csv.DictReader(io.StringIO(run("orgs", "NHSE", "--db", db_path, "--csv").stdout))
    assert {"NHSE", "NHS Eng"} <= set(row["aliases"].split(";"))
    result = run("query", "select ['a', 'b'] as xs", "--db", db_path, "--csv")
    assert result.stdout.splitlines() == ["xs", "a;b"]


def test_tables_fit_a_narrow_terminal_without_cutting_numbers():
    columns = ["value_gbp", "org", "period", "title"]
    cells = [["£1,234.5m", "Ashgrove Valley NHS Trust", "2023-24",
              "A long headline about the trust and its money problems"]]
    assert cli.fit_columns(columns, cells, 40) == ["value_gbp", "org", "period"]
    assert cli.fit_columns(columns, cells, 200) == columns
    assert cli.fit_columns(columns, cells, None) == columns


def test_a_closed_pipe_ends_quietly(db_path):
    import subprocess
    import sys

    from conftest import ROOT

    process = subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "query", "select * from range(200000)", "--nl",
         "--db", str(db_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert process.stdout.readline() == b'{"range": 0}\n'
    process.stdout.close()  # like `| head -1`
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 0
    assert stderr == b""


def test_ratings_leave_out_earlier_ratings_unless_asked(db_path):
    rows = json.loads(run("ratings", "--rating", "inadequate", "--db", db_path, "--json").stdout)
    assert [(r["published"], r["status"]) for r in rows] == [("2024-03-20", "current")]
    rows = json.loads(run("ratings", "--rating", "inadequate", "--with-previous", "--db",
                          db_path, "--json").stdout)
    assert [r["status"] for r in rows] == ["previous", "current"]
    rows = json.loads(run("ratings", "--rating", "requires improvement", "--db", db_path,
                          "--json").stdout)
    assert [(r["previous_rating"], r["direction"]) for r in rows] == [("inadequate", "up")]


def test_history_derives_no_direction_inside_one_story(db_path):
    body = "Ashgrove Valley NHS Trust was rated good for caring and inadequate overall."
    con = db.connect(db_path)
    story = add_story(con, article_id="t4", url="http://x/t4", title="Mixed", body=body,
                      published=datetime(2025, 3, 1))
    mixed = {"organisations": [_org(TRUST, "provider", body)], "ratings": [
        {**_rating(body, "good", "good"), "status": "current"},
        {**_rating(body, "inadequate", "inadequate overall"), "status": "current"}]}
    facts.save_facts(con, [(story, mixed)], "v1", published={story: datetime(2025, 3, 1)})
    con.close()
    rows = json.loads(run("history", TRUST, "--db", db_path, "--json").stdout)
    assert [(r["what"], r["direction"]) for r in rows if r["story_id"] == story] == [
        ("good", None), ("inadequate", None)]


def test_theme_in_every_format(db_path):
    con = db.connect(db_path)
    now = datetime(2026, 11, 1)
    con.execute("INSERT INTO themes (theme_id, level, label, created_at, updated_at) "
                "VALUES (1, 'theme', 'trust ratings', ?, ?)", [now, now])
    con.execute("INSERT INTO theme_members VALUES (1, 't1-v1-s0', 0.9, ?)", [now])
    con.close()
    detail = json.loads(run("theme", "1", "--db", db_path, "--json").stdout)
    assert detail["theme"]["label"] == "trust ratings"
    lines = [json.loads(x) for x in run("theme", "1", "--db", db_path, "--nl").stdout.splitlines()]
    assert {"examples", "amounts"} <= {x["section"] for x in lines}
    rows = list(csv.DictReader(io.StringIO(run("theme", "1", "--db", db_path, "--csv").stdout)))
    assert [r["story_id"] for r in rows if r["section"] == "examples"] == ["t1-v1-s0"]
    assert "Theme 1: trust ratings" in run("theme", "1", "--db", db_path).stdout
