"""One story with its facts, for reading: where it came from, its text cut into sentences,
and which organisation mentions, amounts and ratings fall in each sentence.

Fact offsets are character offsets into ``stories.body`` (the text the extractor read), so
a fact belongs to the sentence whose span holds its start.
"""

from __future__ import annotations

import re
from typing import Any

import duckdb

from store.db import fetch_dicts

# A sentence ends at . ! or ? (optionally followed by a closing quote or bracket) before
# white space, or at a line break.
_SENTENCE_END = re.compile(r"[.!?][\"'\u2019\u201d)\]]*(?=\s)|\n+")


class StoryNotFound(LookupError):
    """No story, or more than one, answers to the id given; the message is one line."""


def resolve_story_id(con: duckdb.DuckDBPyConnection, ident: str) -> str:
    """The story id ``ident`` names: a full story id, a unique prefix of one, or an
    article id (its current version's only story)."""
    ident = ident.strip()
    if not ident:
        raise StoryNotFound("give a story id; `policywatch stories` lists them")
    exact = con.execute("SELECT story_id FROM stories WHERE story_id = ?", [ident]).fetchone()
    if exact:
        return exact[0]
    found = [r[0] for r in con.execute(
        "SELECT s.story_id FROM stories s JOIN articles a USING (article_id) "
        "WHERE s.version = a.current_version "
        "AND (starts_with(s.story_id, $id) OR s.article_id = $id) ORDER BY s.story_id",
        {"id": ident}).fetchall()]
    if len(found) == 1:
        return found[0]
    if not found:
        raise StoryNotFound(f"no story {ident!r}; `policywatch stories` lists them")
    shown = ", ".join(found[:5]) + (" ..." if len(found) > 5 else "")
    raise StoryNotFound(f"{ident!r} names {len(found)} stories ({shown}); give a longer id")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text``, without surrounding white space."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end() if not match.group().startswith("\n") else match.start()
        _add_span(text, start, end, spans)
        start = match.end()
    _add_span(text, start, len(text), spans)
    return spans


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def story_detail(con: duckdb.DuckDBPyConnection, ident: str) -> dict[str, Any]:
    """The story ``ident`` names with its source, facts and sentences.

    Returns ``story`` (id, headline, published, url, title, source, body), ``facts`` (every
    mention, amount and rating with ``kind``, ``start``, ``end``, ``text`` and a ``label``)
    and ``sentences`` (``start``, ``end``, ``text`` and the indexes of the facts in it).
    """
    story_id = resolve_story_id(con, ident)
    (story,) = fetch_dicts(con.execute(
        "SELECT s.story_id, s.article_id, COALESCE(s.headline, a.title) AS headline, "
        "CAST(COALESCE(s.published, a.published) AS DATE) AS published, a.url, a.title, "
        "a.source, s.body FROM stories s JOIN articles a USING (article_id) "
        "WHERE s.story_id = ?", [story_id]))
    found = _facts(con, story_id, story["body"])
    spans = sentence_spans(story["body"])
    sentences = []
    for start, end in spans:
        members = [i for i, f in enumerate(found) if start <= f["start"] < end]
        sentences.append({"start": start, "end": end, "text": story["body"][start:end],
                          "facts": members})
    return {"story": story, "facts": found, "sentences": sentences}


def _facts(con: duckdb.DuckDBPyConnection, story_id: str, body: str) -> list[dict[str, Any]]:
    mentions = fetch_dicts(con.execute(
        "SELECT 'organisation' AS kind, m.start_offset AS start, m.end_offset AS \"end\", "
        "m.text, o.name AS org, o.type AS org_type FROM org_mentions m "
        "JOIN organisations o USING (org_id) WHERE m.story_id = ?", [story_id]))
    amounts = fetch_dicts(con.execute(
        "SELECT 'amount' AS kind, f.start_offset AS start, f.end_offset AS \"end\", f.text, "
        "f.value_gbp, f.qualifier, f.role, f.period, COALESCE(o.name, f.org_name) AS org "
        "FROM amounts f LEFT JOIN organisations o USING (org_id) WHERE f.story_id = ?",
        [story_id]))
    ratings = fetch_dicts(con.execute(
        "SELECT 'rating' AS kind, f.start_offset AS start, f.end_offset AS \"end\", "
        "f.rating, f.period, f.rater, COALESCE(o.name, f.org_name) AS org "
        "FROM ratings f LEFT JOIN organisations o USING (org_id) WHERE f.story_id = ?",
        [story_id]))
    found = []
    for fact in mentions + amounts + ratings:
        if fact["start"] is None or fact["end"] is None:
            continue
        if fact["kind"] == "rating":
            fact["text"] = body[fact["start"]:fact["end"]]
        fact["label"] = fact_label(fact)
        found.append(fact)
    found.sort(key=lambda f: (f["start"], -f["end"], f["kind"]))
    return found


def fact_label(fact: dict[str, Any]) -> str:
    """A one-line description of a fact: 'amount: deficit, Ashgrove NHS Trust, 2023-24'."""
    if fact["kind"] == "organisation":
        return f"organisation: {fact['org']}" + (f" ({fact['org_type']})"
                                                 if fact.get("org_type") else "")
    if fact["kind"] == "amount":
        parts = [fact.get("role"), fact.get("org"), fact.get("period")]
        if fact.get("qualifier") and fact["qualifier"] != "exact":
            parts.insert(0, fact["qualifier"].replace("_", " "))
        return "amount: " + ", ".join(p for p in parts if p)
    parts = [fact.get("rating"), fact.get("org"), fact.get("rater"), fact.get("period")]
    return "rating: " + ", ".join(p for p in parts if p)
