"""End to end through the real CLI: crawl the sample site served on 127.0.0.1, extract facts,
cluster themes, search and export; a second crawl adds nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

import cli
import pipeline


def run(*args: object) -> str:
    result = CliRunner().invoke(cli.cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """The sample site crawled and processed once for the whole module."""
    from crawler.sample_site import serve_site

    tmp = tmp_path_factory.mktemp("e2e")
    db = tmp / "pw.duckdb"
    with serve_site(ROOT / "fixtures" / "site") as site:
        sources = tmp / "sources.toml"
        sources.write_text(
            pipeline.SAMPLE_SOURCES.read_text().replace("{{BASE_URL}}", site.base_url))
        first = json.loads(run("crawl", "--sources", sources, "--db", db, "--json"))
        first_requests = dict(site.requests)
        site.requests.clear()
        second = json.loads(run("crawl", "--sources", sources, "--db", db, "--json"))
        second_requests = dict(site.requests)
    run("process", "--db", db)
    themes = json.loads(run("themes", "--db", db, "--json"))
    return {"db": db, "sources": sources, "first": first[0], "second": second[0],
            "first_requests": first_requests, "second_requests": second_requests,
            "themes": themes}


def test_first_crawl_stores_every_article_once(crawled):
    first = crawled["first"]
    assert first["status"] == "ok"
    # 30 articles and 4 newsletter pages; the print copy (canonical) and the query-string
    # variants of one article are not stored again.
    assert first["new_articles"] == 34
    assert first["new_stories"] > 34  # newsletter pages are split into their stories
    assert "/private/embargoed-budget-draft.html" not in crawled["first_requests"]


def test_second_crawl_adds_nothing_and_fetches_no_article(crawled):
    second = crawled["second"]
    assert (second["new_articles"], second["new_stories"], second["new_versions"]) == (0, 0, 0)
    fetched = [p for p in crawled["second_requests"] if p.startswith(("/articles/",
                                                                      "/newsletters/"))]
    assert fetched == []


def test_amount_with_its_owner_role_and_period(crawled):
    # --org names one body exactly (a partial name only gets a "did you mean")
    rows = json.loads(run("amounts", "--db", crawled["db"], "--org",
                          "Northfield Hospitals NHS Foundation Trust", "--role", "deficit",
                          "--json"))
    match = [r for r in rows if r["value_gbp"] == 12_500_000]
    assert match, rows
    assert match[0]["org"] == "Northfield Hospitals NHS Foundation Trust"
    assert match[0]["period"] == "2023-24"


def test_rating_with_its_organisation(crawled):
    rows = json.loads(run("ratings", "--db", crawled["db"], "--org", "Castlebridge NHS Trust",
                          "--json"))
    got = {(r["org"], r["rating"]) for r in rows}
    assert ("Castlebridge NHS Trust", "inadequate") in got
    assert ("Castlebridge NHS Trust", "special measures") in got


def test_disallowed_page_never_reaches_the_facts(crawled):
    rows = json.loads(run("orgs", "Hartmoor NHS Trust", "--db", crawled["db"], "--json"))
    assert all("Hartmoor" not in r["name"] for r in rows)
    assert json.loads(run("amounts", "--db", crawled["db"], "--min", "99.9m", "--max", "99.9m",
                          "--json")) == []


def test_reprocessing_unchanged_stories_adds_no_rows(crawled):
    import duckdb

    def counts():
        con = duckdb.connect(str(crawled["db"]), read_only=True)
        try:
            return [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                    for t in ("amounts", "ratings", "org_mentions", "organisations")]
        finally:
            con.close()

    before = counts()
    run("process", "--db", crawled["db"])
    assert counts() == before
    run("process", "--reprocess", "--db", crawled["db"])
    assert counts() == before


def test_export_amounts_as_parquet(crawled, tmp_path: Path):
    import duckdb

    out = tmp_path / "amounts.parquet"
    CliRunner().invoke(cli.cli, ["export", "amounts", "--db", str(crawled["db"]),
                                 "--format", "parquet", "--output", str(out)])
    con = duckdb.connect()
    n, with_org = con.execute(
        f"SELECT count(*), count(org) FROM read_parquet('{out}')").fetchone()
    assert n > 50 and with_org > 30


def test_themes_are_listed_with_labels_and_details(crawled, tmp_path: Path):
    themes = crawled["themes"]
    assert len(themes) >= 3
    assert all(t["label"] and t["size"] > 0 for t in themes)
    biggest = themes[0]["theme_id"]
    detail = json.loads(run("theme", biggest, "--db", crawled["db"], "--json"))
    assert detail["theme"]["theme_id"] == biggest and detail["examples"]
    png = tmp_path / "themes.png"
    run("themes", "--db", crawled["db"], "--no-update", "--plot", png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Running the update again with nothing new keeps ids and labels.
    again = json.loads(run("themes", "--db", crawled["db"], "--json"))
    assert {(t["theme_id"], t["label"]) for t in again} == {
        (t["theme_id"], t["label"]) for t in themes}


def test_stories_by_theme(crawled):
    theme_id = crawled["themes"][0]["theme_id"]
    rows = json.loads(run("stories", "--db", crawled["db"], "--theme", theme_id, "--json"))
    assert len(rows) == crawled["themes"][0]["size"]


def test_sources_and_stats_show_the_last_crawl(crawled):
    rows = json.loads(run("sources", "--sources", crawled["sources"], "--db", crawled["db"],
                          "--json"))
    assert rows[0]["source"] == "sample-site" and rows[0]["last_status"] == "ok"
    stats = json.loads(run("stats", "--db", crawled["db"], "--json"))
    sample = next(r for r in stats if r["source"] == "sample-site")
    assert sample["runs"] == 2 and sample["articles"] == 34


def test_schedule_once_skips_sources_not_yet_due(crawled):
    result = CliRunner().invoke(cli.cli, ["schedule", "--once", "--sources",
                                          str(crawled["sources"]), "--db", str(crawled["db"])])
    assert result.exit_code == 0, result.output
    assert "no source is due" in result.output


def test_demo_refuses_to_replace_a_real_database(crawled):
    with pytest.raises(cli.UserError, match="not a demo database"):
        cli.prepare_demo_db(crawled["db"])
