"""End to end through the real CLI: crawl the sample site served on 127.0.0.1, extract facts,
cluster themes, search and export; a second crawl adds nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

import cli


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
        sources.write_text(cli.SAMPLE_SOURCES.read_text().replace("{{BASE_URL}}", site.base_url))
        first = json.loads(run("crawl", "--sources", sources, "--db", db, "--json"))
        first_requests = dict(site.requests)
        site.requests.clear()
        second = json.loads(run("crawl", "--sources", sources, "--db", db, "--json"))
        second_requests = dict(site.requests)
    run("process", "--db", db)
    return {"db": db, "first": first[0], "second": second[0],
            "first_requests": first_requests, "second_requests": second_requests}


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
    rows = json.loads(run("amounts", "--db", crawled["db"], "--org", "Northfield Hospitals",
                          "--role", "deficit", "--json"))
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
