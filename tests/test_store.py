"""The store: schema, fact persistence (replace semantics, canonical organisations),
searches and COPY exports, on a real DuckDB file."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime

import duckdb
import pytest
from conftest import add_story

from store import db, export, facts

FACTS_A = {
    "organisations": [
        {"name": "Northfield Hospitals NHS Foundation Trust", "aliases": ["Northfield"],
         "type": "provider", "mentions": [{"start": 0, "end": 41, "text": "x"}]},
        {"name": "NHS England", "aliases": ["NHSE"], "type": "national_body",
         "mentions": [{"start": 50, "end": 61, "text": "NHS England"},
                      {"start": 90, "end": 94, "text": "NHSE"}]},
    ],
    "amounts": [
        {"text": "£12.5m", "value_gbp": 12_500_000, "qualifier": "exact", "role": "deficit",
         "org": "Northfield Hospitals NHS Foundation Trust", "period": "2023-24",
         "start": 70, "end": 76, "sentence": "The trust ran a deficit of £12.5m.",
         "why": {"role": "pattern:deficit_noun", "org": "salience:the_trust",
                 "period": "table_header"}},
        {"text": "$80m", "value_gbp": None, "currency": "USD", "value": 80e6,
         "qualifier": "exact", "role": "cost", "org": None, "period": None},
    ],
    "ratings": [
        {"org": "Northfield", "rating": "inadequate", "period": "2024", "rater": "CQC",
         "start": 100, "end": 110, "sentence": "It was rated inadequate.",
         "why": {"body": "later_sentence", "period": "dateline"}},
    ],
}
FACTS_B = {
    "organisations": [
        {"name": "the NHS England", "aliases": [], "type": "national_body",
         "mentions": [{"start": 0, "end": 11, "text": "NHS England"}]},
        {"name": "Leeds Clinical Commissioning Group", "aliases": ["Leeds CCG"],
         "type": "commissioner", "mentions": [{"start": 20, "end": 29, "text": "Leeds CCG"}]},
    ],
    "amounts": [
        {"text": "more than £1.2bn", "value_gbp": 1.2e9, "qualifier": "more_than",
         "role": "budget", "org": "Leeds Clinical Commissioning Group", "period": "2024/25"},
    ],
    "ratings": [{"org": "Leeds CCG", "rating": "outstanding", "period": "2018-19"}],
}


@pytest.fixture
def con(tmp_path):
    connection = db.connect(tmp_path / "t.duckdb")
    add_story(connection, article_id="a1", url="http://x/a1", title="Trust deficit",
              body="b" * 200, published=datetime(2024, 5, 1))
    add_story(connection, article_id="a2", url="http://x/a2", title="Leeds budget",
              body="c" * 200, published=datetime(2025, 1, 10))
    yield connection
    connection.close()


def test_org_key_folds_surface_variants():
    assert facts.org_key("The Leeds Clinical Commissioning Group’s") == "leeds ccg"
    assert facts.org_key("Stoke-on-Trent CCGs") == "stoke on trent ccg"
    assert facts.org_key("Barnet & Chase Farm") == "barnet and chase farm"


def test_save_facts_merges_organisations_across_stories(con):
    facts.save_facts(con, [("a1-v1-s0", FACTS_A), ("a2-v1-s0", FACTS_B)], "v1")
    names = [r[0] for r in con.execute("SELECT name FROM organisations ORDER BY name").fetchall()]
    assert names.count("NHS England") == 1 and "the NHS England" not in names
    (mentions,) = con.execute(
        "SELECT count(*) FROM org_mentions JOIN organisations USING (org_id) "
        "WHERE name = 'NHS England'").fetchone()
    assert mentions == 3
    # A rating may name its organisation by an alias; it is linked to the canonical row.
    (org_name,) = con.execute(
        "SELECT o.name FROM ratings r JOIN organisations o USING (org_id) "
        "WHERE r.rating = 'inadequate'").fetchone()
    assert org_name == "Northfield Hospitals NHS Foundation Trust"


def test_reprocessing_replaces_facts_instead_of_adding(con):
    facts.save_facts(con, [("a1-v1-s0", FACTS_A)], "v1")
    facts.save_facts(con, [("a1-v1-s0", FACTS_A)], "v1")
    assert con.execute("SELECT count(*) FROM amounts").fetchone()[0] == 2
    assert con.execute("SELECT count(*) FROM org_mentions").fetchone()[0] == 3
    assert facts.stories_to_process(con, "v1") == [
        s for s in facts.stories_to_process(con, "v1") if s.story_id == "a2-v1-s0"]
    assert [s.story_id for s in facts.stories_to_process(con, "v2")] == [
        "a1-v1-s0", "a2-v1-s0"]


def test_why_is_stored_and_read_back_as_an_object(con):
    facts.save_facts(con, [("a1-v1-s0", FACTS_A), ("a2-v1-s0", FACTS_B)], "v1")
    rows = {r["text"]: r for r in facts.search_amounts(con)}
    assert rows["£12.5m"]["why"] == {"role": "pattern:deficit_noun", "org": "salience:the_trust",
                                     "period": "table_header"}
    assert rows["$80m"]["why"] is None  # an amount saved without a why
    (stored,) = con.execute("SELECT why FROM amounts WHERE text = '£12.5m'").fetchone()
    assert json.loads(stored)["org"] == "salience:the_trust"
    rating = facts.search_ratings(con, rating="inadequate")[0]
    assert rating["why"] == {"body": "later_sentence", "period": "dateline"}


def test_why_column_is_added_to_a_database_made_before_it(tmp_path):
    path = tmp_path / "old.duckdb"
    old = duckdb.connect(str(path))
    old.execute("CREATE TABLE amounts (story_id VARCHAR NOT NULL, text VARCHAR NOT NULL, "
                "value_gbp DOUBLE, value_gbp_max DOUBLE, currency VARCHAR NOT NULL DEFAULT "
                "'GBP', value DOUBLE, qualifier VARCHAR, role VARCHAR, per VARCHAR, "
                "org_id BIGINT, org_name VARCHAR, period VARCHAR, published TIMESTAMP, "
                "start_offset INTEGER, end_offset INTEGER, sentence VARCHAR)")
    old.execute("INSERT INTO amounts (story_id, text, value_gbp) VALUES ('s0', '£1m', 1e6)")
    old.close()
    con = db.connect(path)
    try:
        columns = [r[0] for r in con.execute("DESCRIBE amounts").fetchall()]
        assert columns[-1] == "why"
        assert con.execute("SELECT why FROM amounts").fetchall() == [(None,)]
        assert "why" in [r[0] for r in con.execute("DESCRIBE ratings").fetchall()]
        facts.save_facts(con, [("a1-v1-s0", FACTS_A)], "v1")
        assert con.execute("SELECT count(*) FROM amounts WHERE why IS NOT NULL").fetchone() == (1,)
    finally:
        con.close()


def test_failed_save_leaves_previous_facts(con):
    facts.save_facts(con, [("a1-v1-s0", FACTS_A)], "v1")
    broken = {"amounts": [{"text": "£1", "value_gbp": "not a number"}]}
    with pytest.raises((duckdb.Error, Exception)):
        facts.save_facts(con, [("a1-v1-s0", broken)], "v2")
    assert con.execute("SELECT count(*) FROM amounts").fetchone()[0] == 2


def test_amount_search_filters(con):
    facts.save_facts(con, [("a1-v1-s0", FACTS_A), ("a2-v1-s0", FACTS_B)], "v1")
    rows = facts.search_amounts(con, min_gbp=50e6)
    assert [(r["org"], r["value_gbp"]) for r in rows] == [
        ("NHS Leeds Clinical Commissioning Group", 1.2e9)]
    rows = facts.search_amounts(con, org="northfield hospitals", role="deficit")
    assert [r["text"] for r in rows] == ["£12.5m"]
    assert "Leeds" in facts.search_amounts(con, period="2024-25")[0]["org"]
    assert facts.search_amounts(con, since=date(2025, 1, 1))[0]["value_gbp"] == 1.2e9
    assert facts.search_amounts(con, org="Leeds CCG")[0]["qualifier"] == "more_than"


def test_org_search_is_fuzzy_and_counts_mentions(con):
    facts.save_facts(con, [("a1-v1-s0", FACTS_A), ("a2-v1-s0", FACTS_B)], "v1")
    top = facts.search_orgs(con, "")
    assert top[0]["name"] == "NHS England" and top[0]["mentions"] == 3
    assert top[0]["stories"] == 2
    assert facts.search_orgs(con, "nhse")[0]["name"] == "NHS England"
    assert facts.search_orgs(con, "Northfeld Hospitals")[0]["name"].startswith("Northfield")
    assert facts.search_orgs(con, "zzzz qqq") == []


def test_rating_and_story_search(con):
    facts.save_facts(con, [("a1-v1-s0", FACTS_A), ("a2-v1-s0", FACTS_B)], "v1")
    rows = facts.search_ratings(con, rating="outstanding")
    assert [(r["org"], r["period"]) for r in rows] == [
        ("NHS Leeds Clinical Commissioning Group", "2018-19")]
    assert [r["story_id"] for r in facts.search_stories(con, org="Leeds CCG")] == ["a2-v1-s0"]
    assert [r["story_id"] for r in facts.search_stories(con, text="bbbb")] == ["a1-v1-s0"]


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_export_every_table(con, tmp_path, fmt):
    facts.save_facts(con, [("a1-v1-s0", FACTS_A), ("a2-v1-s0", FACTS_B)], "v1")
    for table in export.EXPORTS:
        out = tmp_path / f"{table}.{fmt}"
        count = export.export_table(con, table, fmt, out)
        assert out.exists()
        if table == "amounts":
            assert count == 3
            if fmt == "csv":
                rows = list(csv.DictReader(out.open()))
                assert {r["org"] for r in rows} >= {"NHS Leeds Clinical Commissioning Group"}
            elif fmt == "jsonl":
                rows = [json.loads(line) for line in out.read_text().splitlines()]
                assert sorted(r["value_gbp"] or 0 for r in rows)[-1] == 1.2e9
            else:
                assert duckdb.execute(f"SELECT count(*) FROM '{out}'").fetchone()[0] == 3


def test_export_rejects_unknown_table(con, tmp_path):
    with pytest.raises(export.ExportError, match="unknown table"):
        export.export_table(con, "passwords", "csv", tmp_path / "x.csv")


def test_connect_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.duckdb"
    bad.write_text("not a database")
    with pytest.raises(db.StoreError, match="not a policywatch"):
        db.connect(bad)
    with pytest.raises(db.StoreError, match="no database"):
        db.connect(tmp_path / "missing.duckdb", create=False)



def test_story_text_search_is_literal(con):
    add_story(con, article_id="a3", url="http://x/a3", title="Waits",
              body="Waiting lists grew by 12% in a year at the_old_site.")
    def found(text):
        return [r["story_id"] for r in facts.search_stories(con, text=text)]
    assert found("%") == ["a3-v1-s0"]
    assert found("12%") == ["a3-v1-s0"]
    assert found("_old_") == ["a3-v1-s0"]
    assert found("b_b") == []
    assert found("%%") == []
    assert found("BBBB") == ["a1-v1-s0"]  # still case-insensitive


def test_organisation_search_treats_wildcards_literally(con):
    facts.save_facts(con, [("a1-v1-s0", FACTS_A), ("a2-v1-s0", FACTS_B)], "v1")
    assert facts.search_orgs(con, "%") == []
    assert facts.search_orgs(con, "_") == []


def test_facts_of_a_republication_and_of_old_versions_are_counted_once(con, tmp_path):
    """A story of an article linked as a duplicate (processed before it was linked), and the
    story of an article's earlier version, carry facts that no search, count or export
    shows twice."""
    add_story(con, article_id="a3", url="http://y/a3", title="Trust deficit (republished)",
              body="b" * 200, published=datetime(2024, 5, 2))
    facts.save_facts(con, [("a1-v1-s0", FACTS_A), ("a2-v1-s0", FACTS_B),
                           ("a3-v1-s0", FACTS_A)], "v1")
    before = facts.stored_counts(con)
    assert before["amounts"] == 5 and before["ratings"] == 3
    con.execute("UPDATE articles SET duplicate_of = 'a1' WHERE article_id = 'a3'")
    # a2 gets a second version: the v1 story's facts are history
    con.execute("UPDATE articles SET current_version = 2 WHERE article_id = 'a2'")
    con.execute(
        "INSERT INTO stories (story_id, article_id, version, story_index, headline, "
        "start_offset, body) VALUES ('a2-v2-s0', 'a2', 2, 0, 'Leeds budget', 0, 'c')")
    facts.save_facts(con, [("a2-v2-s0", FACTS_B)], "v1")

    counts = facts.stored_counts(con)
    assert counts["articles"] == 2 and counts["stories"] == 2
    assert counts["amounts"] == 3 and counts["ratings"] == 2
    deficits = facts.search_amounts(con, role="deficit")
    assert [r["story_id"] for r in deficits] == ["a1-v1-s0"]
    assert {r["story_id"] for r in facts.search_ratings(con)} == {"a1-v1-s0", "a2-v2-s0"}
    northfield = facts.search_orgs(con, "Northfield Hospitals")[0]
    assert northfield["stories"] == 1 and northfield["mentions"] == 1
    assert {r["story_id"] for r in facts.search_stories(con)} == {"a1-v1-s0", "a2-v2-s0"}
    for table in ("amounts", "ratings", "mentions", "stories"):
        out = tmp_path / f"{table}.jsonl"
        export.export_table(con, table, "jsonl", out)
        story_ids = {json.loads(line)["story_id"] for line in out.read_text().splitlines()}
        assert story_ids <= {"a1-v1-s0", "a2-v2-s0"}, table
    out = tmp_path / "articles.jsonl"
    export.export_table(con, "articles", "jsonl", out)
    linked = {r["article_id"]: r["duplicate_of"]
              for r in map(json.loads, out.read_text().splitlines())}
    assert linked == {"a1": None, "a2": None, "a3": "a1"}
