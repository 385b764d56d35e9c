"""The register of NHS bodies and linking at save time: the shipped register's rules and
contents, each link method on sentences of our own, a CCG's ICB successor in `orgs`, and
the upgrade of a file written under schema version 2."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from conftest import add_story

import cli
from store import db, facts
from store.register import COLUMNS, LINK_METHODS, RegisterError, parse_register, register


def run(*args: object):
    return CliRunner().invoke(cli.cli, [str(a) for a in args], catch_exceptions=False)


def _csv(*rows: dict[str, str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in COLUMNS})
    return buffer.getvalue()


def _row(id_: str, name: str, **extra: str) -> dict[str, str]:
    return {"id": id_, "name": name, "type": "provider", "kind": "acute",
            "nation": "england", "foundation_trust": "no", **extra}


# ----------------------------------------------------------------------------- register


def test_shipped_register_holds_the_icbs_ccgs_and_national_successors():
    bodies = register()
    icbs = [b for b in bodies.bodies if b.kind == "icb"]
    assert len(icbs) == 42 and all(b.type == "commissioner" for b in icbs)
    assert all(b.valid_from == "2022-07-01" for b in icbs)
    last_ccgs = [b for b in bodies.bodies if b.kind == "ccg" and b.valid_to == "2022-06-30"]
    assert len(last_ccgs) == 106
    assert all(bodies.by_id[b.successor].kind == "icb" for b in last_ccgs)
    successors = {"nhs-improvement": "nhs-england", "monitor": "nhs-improvement",
                  "nhs-tda": "nhs-improvement", "phe": "ukhsa", "hee": "nhs-england",
                  "nhs-digital": "nhs-england"}
    assert {i: bodies.by_id[i].successor for i in successors} == successors
    trusts = [b for b in bodies.bodies
              if b.nation == "england" and b.type == "provider" and b.successor is None]
    assert len(trusts) >= 200
    assert any(b.foundation_trust for b in trusts) and not all(b.foundation_trust for b in trusts)


def test_register_rules_are_checked():
    good = _csv(_row("anytown-trust", "Anytown NHS Trust", aliases="ATT"),
                _row("anytown-ft", "Anytown Hospitals NHS Foundation Trust",
                     successor="anytown-trust", valid_to="2020-03-31"))
    assert len(parse_register(good).bodies) == 2
    broken = {
        "used twice": _csv(_row("a-trust", "A NHS Trust"), _row("a-trust", "B NHS Trust")),
        "is not in the register": _csv(_row("a-trust", "A NHS Trust", successor="nowhere")),
        "lead back to itself": _csv(_row("a-trust", "A NHS Trust", successor="b-trust"),
                                    _row("b-trust", "B NHS Trust", successor="a-trust")),
        "shared_names": _csv(_row("a-trust", "A NHS Trust", aliases="ABT"),
                             _row("b-trust", "B NHS Trust", aliases="ABT")),
        "is not one of": _csv(_row("a-trust", "A NHS Trust", type="hospital")),
        "not YYYY-MM-DD": _csv(_row("a-trust", "A NHS Trust", valid_to="March 2020")),
    }
    for message, text in broken.items():
        with pytest.raises(RegisterError, match=message):
            parse_register(text)


def test_a_deliberately_shared_name_is_never_linked():
    bodies = parse_register(_csv(_row("a-trust", "A NHS Trust", shared_names="ABT"),
                                 _row("b-trust", "B NHS Trust", shared_names="ABT")))
    assert bodies.match("ABT") is None
    assert {b.id for b in bodies.sharing("ABT")} == {"a-trust", "b-trust"}
    assert bodies.match("A NHS Trust").method == "register_name"


def test_match_methods_in_order():
    bodies = register()
    cases = {"Care Quality Commission": ("cqc", "register_name"),
             "NHSE": ("nhs-england", "register_alias"),
             "Department of Health": ("dhsc", "register_former_name"),
             "Leeds CCG": ("leeds-ccg", "normalised"),
             "Leeds Teaching Hospitals Foundation Trust":
                 ("leeds-teaching-hospitals-trust", "normalised")}
    for name, expected in cases.items():
        match = bodies.match(name)
        assert (match.body.id, match.method) == expected, name
    assert bodies.match("England") is None and bodies.match("MFT") is None


# ----------------------------------------------------------------------------- linking

BODY = ("The watchdog CQC visited Brackenford Community Trust in May. The Department of "
        "Health said Leeds CCG had overspent by £2m. NHSE will step in.")


def _mention(name: str, type_: str) -> dict:
    start = BODY.index(name)
    return {"name": name, "type": type_, "aliases": [],
            "mentions": [{"start": start, "end": start + len(name), "text": name}]}


FOUND = {
    "organisations": [_mention("CQC", "regulator"),
                      _mention("Brackenford Community Trust", "provider"),
                      _mention("Department of Health", "government"),
                      _mention("Leeds CCG", "commissioner"),
                      _mention("NHSE", "national_body")],
    "amounts": [{"text": "£2m", "value_gbp": 2e6, "role": "overspend", "org": "Leeds CCG"}],
    "ratings": [{"org": "Brackenford Community Trust", "rating": "good", "rater": "CQC"}],
}


@pytest.fixture
def db_path(tmp_path) -> Path:
    path = tmp_path / "register.duckdb"
    con = db.connect(path)
    story = add_story(con, article_id="k1", url="http://x/k1", title="Visit", body=BODY,
                      published=datetime(2022, 5, 3))
    facts.save_facts(con, [(story, FOUND)], "v1", published={story: datetime(2022, 5, 3)})
    con.close()
    return path


def test_each_mention_is_linked_with_its_method(db_path):
    con = db.connect(db_path, read_only=True)
    rows = con.execute("SELECT text, body_id, org_type, link_method FROM org_mentions "
                       "ORDER BY start_offset").fetchall()
    amount = con.execute("SELECT body_id, org_type, link_method FROM amounts").fetchone()
    rating = con.execute("SELECT body_id, org_type, link_method FROM ratings").fetchone()
    names = dict(con.execute("SELECT body_id, name FROM organisations").fetchall())
    con.close()
    assert rows == [
        ("CQC", "cqc", "regulator", "register_alias"),
        ("Brackenford Community Trust", "x-brackenford-community-trust", "provider",
         "extracted"),
        ("Department of Health", "dhsc", "government", "register_former_name"),
        ("Leeds CCG", "leeds-ccg", "commissioner", "normalised"),
        ("NHSE", "nhs-england", "national_body", "register_alias"),
    ]
    assert {r[3] for r in rows} <= set(LINK_METHODS)
    assert amount == ("leeds-ccg", "commissioner", "normalised")
    assert rating == ("x-brackenford-community-trust", "provider", "extracted")
    assert names["dhsc"] == "Department of Health and Social Care"


def test_a_mention_is_linked_by_its_own_words_where_they_name_the_body(db_path):
    body = "The Care Quality Commission wrote again; the CQC wants answers by June."
    spans = [(body.index(text), body.index(text) + len(text), text)
             for text in ("Care Quality Commission", "CQC")]
    found = {"organisations": [{
        "name": "Care Quality Commission", "type": "regulator", "aliases": ["CQC"],
        "mentions": [{"start": s, "end": e, "text": t} for s, e, t in spans]}],
        "amounts": [], "ratings": []}
    con = db.connect(db_path)
    story = add_story(con, article_id="k2", url="http://x/k2", title="Letter", body=body)
    facts.save_facts(con, [(story, found)], "v1")
    rows = con.execute("SELECT text, body_id, link_method FROM org_mentions "
                       "WHERE story_id = ? ORDER BY start_offset", [story]).fetchall()
    con.close()
    assert rows == [("Care Quality Commission", "cqc", "register_name"),
                    ("CQC", "cqc", "register_alias")]


def test_orgs_shows_a_ccgs_successor_and_link_methods(db_path):
    (row,) = json.loads(run("orgs", "Leeds CCG", "--db", db_path, "--json").stdout)
    assert row["id"] == "leeds-ccg"
    assert row["name"] == "NHS Leeds Clinical Commissioning Group"
    assert row["successor"] == "NHS West Yorkshire Integrated Care Board (west-yorkshire-icb)"
    assert row["linked"] == ["normalised: 1"] and row["mentions"] == 1
    (icb,) = json.loads(run("orgs", "west-yorkshire-icb", "--db", db_path, "--json").stdout)
    assert "NHS Leeds Clinical Commissioning Group (leeds-ccg)" in icb["predecessors"]
    assert icb["mentions"] == 0
    result = run("history", "NHS Leeds CCG", "--db", db_path, "--json")
    assert "succeeded by NHS West Yorkshire Integrated Care Board" in result.stderr
    assert [r["what"] for r in json.loads(result.stdout)] == ["overspend"]


def test_org_filters_use_the_stored_id(db_path):
    for name in ("leeds-ccg", "NHS Leeds Clinical Commissioning Group", "Leeds CCG"):
        rows = json.loads(run("amounts", "--org", name, "--db", db_path, "--json").stdout)
        assert [(r["body_id"], r["value_gbp"]) for r in rows] == [("leeds-ccg", 2e6)], name
    rows = json.loads(run("ratings", "--type", "provider", "--db", db_path, "--json").stdout)
    assert [r["body_id"] for r in rows] == ["x-brackenford-community-trust"]
    result = run("amounts", "--org", "MFT", "--db", db_path)
    assert result.exit_code == 1
    assert "'MFT' names 2 organisations" in result.output
    result = run("amounts", "--org", "Brakenford Community Trust", "--db", db_path)
    assert result.exit_code == 1 and "did you mean 'Brackenford Community Trust'" in result.output


# ----------------------------------------------------------------------------- upgrade


def _version_2_file(path: Path) -> None:
    """A file as schema version 2 wrote it: no identity columns, one body in two rows."""
    new = ("body_id", "origin", "org_type", "link_method")
    old_sql = "\n".join(line for line in db.schema_sql().splitlines()
                        if not (line.startswith("ALTER TABLE") and any(c in line for c in new)))
    con = duckdb.connect(str(path))
    con.execute(old_sql)
    con.execute("INSERT INTO schema_info VALUES ('schema_version', '2')")
    add_story(con, article_id="o1", url="http://x/o1", title="Old", body=BODY,
              published=datetime(2021, 1, 4))
    con.execute("INSERT INTO organisations (org_id, name, name_key, type) VALUES "
                "(1, 'CQC', 'cqc', 'regulator'), "
                "(2, 'Care Quality Commission', 'care quality commission', NULL), "
                "(3, 'Brackenford Community Trust', 'brackenford community trust', 'provider')")
    con.execute("INSERT INTO org_aliases VALUES (1, 'the CQC')")
    con.execute("INSERT INTO org_mentions VALUES ('o1-v1-s0', 1, 12, 15, 'CQC'), "
                "('o1-v1-s0', 2, 0, 3, 'The'), ('o1-v1-s0', 3, 24, 51, 'Brackenford')")
    con.execute("INSERT INTO amounts (story_id, text, value_gbp, org_id, org_name) "
                "VALUES ('o1-v1-s0', '£2m', 2000000, 1, 'CQC')")
    con.close()


def test_a_version_2_file_is_upgraded_and_relinked_on_read(tmp_path):
    path = tmp_path / "old.duckdb"
    _version_2_file(path)
    con = db.connect(path, read_only=True)
    orgs = con.execute("SELECT name, body_id, type, origin FROM organisations "
                       "ORDER BY name").fetchall()
    mentions = con.execute("SELECT text, body_id, org_type, link_method FROM org_mentions "
                           "ORDER BY start_offset").fetchall()
    amount = con.execute("SELECT body_id, org_type, link_method FROM amounts").fetchone()
    aliases = {r[0] for r in con.execute("SELECT alias FROM org_aliases").fetchall()}
    version = con.execute("SELECT value FROM schema_info "
                          "WHERE key = 'schema_version'").fetchone()[0]
    con.close()
    assert orgs == [("Brackenford Community Trust", "x-brackenford-community-trust",
                     "provider", "extracted"),
                    ("Care Quality Commission", "cqc", "regulator", "register")]
    assert mentions == [("The", "cqc", "regulator", "register_name"),
                        ("CQC", "cqc", "regulator", "register_alias"),
                        ("Brackenford", "x-brackenford-community-trust", "provider",
                         "extracted")]
    assert amount == ("cqc", "regulator", "register_alias")
    assert {"CQC", "the CQC"} <= aliases
    assert version == db.SCHEMA_VERSION
    (row,) = json.loads(run("orgs", "CQC", "--db", path, "--json").stdout)
    assert (row["id"], row["mentions"]) == ("cqc", 2)
    assert row["linked"] == ["register_alias: 1", "register_name: 1"]
