"""Real volumes through the CLI: `process` on hundreds of stored stories (two worker
processes) with one story over spaCy's length limit, and `extract` on dozens of files."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from crawl_server import article_html
from test_nlp_extract import long_story

import cli
from store import db
from store.articles import write_crawl_batch

COMMISSIONERS = ["Northfield CCG", "Eastmoor CCG", "Hallam CCG", "Westbridge CCG",
                 "Kingsmere CCG"]
PROVIDERS = ["Southgate Hospitals NHS Trust", "Ashcombe Community NHS Trust",
             "Riverside Mental Health NHS Foundation Trust", "Oakfield Hospitals NHS Trust"]
RATINGS = ["good", "outstanding", "inadequate", "requires improvement"]
OPENINGS = [
    "{org} agreed a £{n}m budget for {year}-{next:02d}.",
    "{org} has set aside £{n}m for community services in {year}-{next:02d}.",
    "Board papers show {org} approved a £{n}m budget for {year}-{next:02d}.",
]
CLOSINGS = [
    "Inspectors rated {provider} as {rating} in their latest report.",
    "The Care Quality Commission rated {provider} {rating} after a visit in the spring.",
]


def story_text(i: int) -> tuple[str, int, str, str]:
    """The i-th synthetic story, with the amount (in £m), provider and rating it states."""
    n = 2 + i % 97
    year = 2015 + i % 9
    org = COMMISSIONERS[i % len(COMMISSIONERS)]
    provider = PROVIDERS[i % len(PROVIDERS)]
    rating = RATINGS[i % len(RATINGS)]
    text = (OPENINGS[i % len(OPENINGS)].format(org=org, n=n, year=year, next=(year + 1) % 100)
            + f" The plan covers {10 + i} local practices. "
            + CLOSINGS[i % len(CLOSINGS)].format(provider=provider, rating=rating))
    return text, n, provider, rating


def add_stories(con, bodies: list[str]) -> list[str]:
    """Store one article with one story per body through the crawler's batch writer."""
    now = datetime(2026, 11, 1, 12, 0)
    articles, versions, stories = [], [], []
    for i, body in enumerate(bodies):
        article_id = f"vol{i:04d}"
        published = datetime(2025, 1 + i % 12, 1 + i % 28)
        articles.append({"article_id": article_id, "source": "volume",
                         "url": f"http://127.0.0.1/news/{i}", "title": f"Story {i}",
                         "published": published, "first_seen": now, "last_fetched": now,
                         "current_version": 1})
        versions.append({"article_id": article_id, "version": 1, "fetched_at": now,
                         "content_hash": f"h{i}", "body": body})
        stories.append({"story_id": f"{article_id}-v1-s0", "article_id": article_id,
                        "version": 1, "story_index": 0, "headline": f"Story {i}",
                        "start_offset": 0, "body": body, "published": published})
    write_crawl_batch(con, articles=articles, versions=versions, stories=stories)
    return [s["story_id"] for s in stories]


@pytest.fixture(scope="module")
def processed_db(tmp_path_factory) -> tuple[Path, list[tuple[str, int, str, str]], str]:
    path = tmp_path_factory.mktemp("volume") / "volume.duckdb"
    expected = [story_text(i) for i in range(260)]
    long_text = long_story()
    con = db.connect(path)
    ids = add_stories(con, [text for text, *_ in expected] + [long_text])
    con.close()
    result = CliRunner().invoke(cli.cli, ["process", "--db", str(path)])
    assert result.exit_code == 0, result.output
    assert "processed 261 stories" in result.output
    return path, expected, ids[-1]


def test_process_stores_facts_for_every_story(processed_db):
    path, expected, _ = processed_db
    con = db.connect(path, read_only=True)
    try:
        unprocessed = con.execute(
            "SELECT count(*) FROM stories WHERE processed_at IS NULL OR nlp_version IS NULL"
        ).fetchone()[0]
        amounts = dict(con.execute(
            "SELECT story_id, list(value_gbp) FROM amounts GROUP BY story_id").fetchall())
        ratings = dict(con.execute(
            "SELECT story_id, list((org_name, rating)) FROM ratings GROUP BY story_id"
        ).fetchall())
    finally:
        con.close()
    assert unprocessed == 0
    for i, (_, n, provider, rating) in enumerate(expected):
        story_id = f"vol{i:04d}-v1-s0"
        assert amounts[story_id] == [n * 1e6], story_id
        assert [tuple(r) for r in ratings[story_id]] == [(provider, rating)], story_id


def test_process_extracts_from_a_story_over_the_spacy_limit(processed_db):
    path, _, long_id = processed_db
    con = db.connect(path, read_only=True)
    try:
        amount = con.execute("SELECT org_name, value_gbp FROM amounts WHERE story_id = ?",
                             [long_id]).fetchall()
        rating = con.execute(
            "SELECT r.org_name, r.rating, substr(s.body, r.start_offset + 1, "
            "r.end_offset - r.start_offset) FROM ratings r JOIN stories s USING (story_id) "
            "WHERE story_id = ?", [long_id]).fetchall()
    finally:
        con.close()
    assert amount == [("Northfield CCG", 4e6)]
    assert rating == [("Southgate Hospitals NHS Trust", "good", "good")]


def test_extract_on_many_files(tmp_path):
    """55 HTML pages with publication dates (which go to the two worker processes) and
    5 text files."""
    paths = []
    for i in range(60):
        text = story_text(i)[0]
        if i % 12 == 11:
            path = tmp_path / f"doc{i:02d}.txt"
            path.write_text(text, encoding="utf-8")
        else:
            path = tmp_path / f"doc{i:02d}.html"
            path.write_text(article_html(f"Story {i}", text,
                                         published=f"2025-{1 + i % 12:02d}-03T09:00:00+00:00"),
                            encoding="utf-8")
        paths.append(str(path))
    result = CliRunner().invoke(cli.cli, ["extract", "--no-embeddings", *paths])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in records] == [f"doc{i:02d}" for i in range(60)]
    for i, record in enumerate(records):
        _, n, provider, rating = story_text(i)
        if "published" in record:
            assert record["published"].startswith(f"2025-{1 + i % 12:02d}-03")
        assert [a["value_gbp"] for a in record["amounts"]] == [n * 1e6]
        assert [(r["org"], r["rating"]) for r in record["ratings"]] == [(provider, rating)]
