"""A small policywatch database for the web tests, written through the store's own API:
one trust rated three times, its deficits over two years, a commissioner with many grants
(more than one page of amounts), two themes with a split, and two sources' crawl runs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from conftest import add_story

from store import db, facts, runs, themes

TRUST = "Ashgrove General NHS Trust"
ICB = "Fernhill Integrated Care Board"
GRANTS = 56  # more than one page (50 rows) of amounts

STORIES: list[dict[str, Any]] = [
    {"id": "s1", "published": datetime(2023, 3, 10), "title": "Ashgrove rated again",
     "body": f"{TRUST} was rated requires improvement by the CQC this spring. "
             "Managers said the trust ran a deficit of £14m in 2022-23.",
     "ratings": [("requires improvement", "2023")],
     "amounts": [("£14m", 14e6, "deficit", "2022-23")]},
    {"id": "s2", "published": datetime(2024, 2, 1), "title": "Ashgrove improves",
     "body": f"After a second visit inspectors rated {TRUST} good. "
             "Its deficit shrank to £6m in 2023-24.",
     "ratings": [("good", "2024")],
     "amounts": [("£6m", 6e6, "deficit", "2023-24")]},
    {"id": "s3", "published": datetime(2024, 6, 15), "title": "Ashgrove falls back",
     "body": f"Inspectors rated {TRUST} inadequate and it entered special measures. "
             "The trust now expects a deficit of £21.5m in 2024-25.",
     "ratings": [("inadequate", "2024"), ("special measures", "2024")],
     "amounts": [("£21.5m", 21.5e6, "deficit", "2024-25")]},
]


def _grants_story() -> dict[str, Any]:
    sentences = [f"{ICB} awarded £{n + 1}m to scheme number {n + 1}." for n in range(GRANTS)]
    return {"id": "s4", "published": datetime(2024, 6, 20), "title": "Fernhill grant round",
            "body": " ".join(sentences), "ratings": [],
            "amounts": [(f"£{n + 1}m", (n + 1) * 1e6, "funding", "2024-25")
                        for n in range(GRANTS)],
            "org": ICB, "sentences": sentences}


def _facts(story: dict[str, Any]) -> dict[str, Any]:
    body: str = story["body"]
    owner = story.get("org", TRUST)
    mentions = []
    start = body.find(owner)
    while start != -1:
        mentions.append({"start": start, "end": start + len(owner), "text": owner})
        start = body.find(owner, start + 1)
    amounts, cursor = [], 0
    for text, value, role, period in story["amounts"]:
        start = body.index(text, cursor)
        cursor = start + len(text)
        sentence_start = body.rfind(". ", 0, start) + 2 if ". " in body[:start] else 0
        sentence_end = body.index(".", cursor) + 1
        amounts.append({"text": text, "value_gbp": value, "qualifier": "exact", "role": role,
                        "org": owner, "period": period, "start": start, "end": cursor,
                        "sentence": body[sentence_start:sentence_end]})
    ratings = []
    for rating, period in story["ratings"]:
        start = body.index(rating)
        ratings.append({"org": TRUST, "rating": rating, "period": period, "rater": "CQC",
                        "start": start, "end": start + len(rating),
                        "sentence": body[:body.index(".") + 1]})
    return {"organisations": [{"name": owner, "aliases": [], "type": "provider"
                               if owner == TRUST else "commissioner", "mentions": mentions}],
            "amounts": amounts, "ratings": ratings}


def build(path: Path) -> Path:
    """Write the database at ``path`` and return it."""
    con = db.connect(path)
    stories = [*STORIES, _grants_story()]
    ids = []
    for story in stories:
        ids.append(add_story(con, article_id=story["id"], url=f"http://news.test/{story['id']}",
                             title=story["title"], body=story["body"],
                             published=story["published"]))
    facts.save_facts(con, [(sid, _facts(s)) for sid, s in zip(ids, stories, strict=True)], "v1")
    when = datetime(2024, 7, 1)
    themes.save_theme_state(con, {
        "themes": [
            {"theme_id": 1, "level": "theme", "label": "Trust ratings and deficits",
             "keywords": ["ratings", "deficit"], "centroid": [0.0] * themes.DIM,
             "created_at": when, "updated_at": when},
            {"theme_id": 2, "level": "theme", "label": "Commissioner grants",
             "keywords": ["grants"], "centroid": [0.0] * themes.DIM,
             "created_at": when, "updated_at": when},
        ],
        "members": [(1, "s1-v1-s0", 0.9, when), (1, "s2-v1-s0", 0.8, when),
                    (1, "s3-v1-s0", 0.85, when), (2, "s4-v1-s0", 0.95, when)],
        "changes": [{"changed_at": when, "kind": "split", "theme_id": 1, "other_ids": [2],
                     "detail": "grants moved to their own theme"}],
    })
    for source, status, errors in (("good-news", "ok", {}),
                                   ("broken-feed", "failed", {"http_500": 4})):
        for day in (1, 2):
            run_id = runs.start_run(con, source, datetime(2024, 7, day, 6))
            runs.finish_run(con, run_id, status=status, pages_fetched=3 if status == "ok" else 0,
                            new_stories=1, errors=errors, finished_at=datetime(2024, 7, day, 7))
    con.close()
    return path
