"""Read-only queries behind the web pages: one organisation, one story with its facts,
a theme's weekly counts, what changed since a date.

Every function takes an open (read-only) connection and bound parameters, and returns plain
dicts; the web layer only formats them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import duckdb

from store.db import as_datetime, fetch_dicts
from store.facts import COUNTED_STORIES, STORY_DATE
from store.identity import OrgNotFound, body_row, resolve_org

# Best first: a move to a smaller index is an improvement.
RATING_ORDER = ["outstanding", "good", "requires improvement", "inadequate"]

_STORY_DATE = STORY_DATE
_CURRENT_STORIES = COUNTED_STORIES


def find_org(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, Any] | None:
    """The stored organisation ``name`` means (its id, canonical name, an alias, acronym or
    former name, as :func:`store.identity.resolve_org` reads names), with its id, aliases
    and successor; None when no stored body answers to it, or several do."""
    try:
        body = resolve_org(con, name)
    except OrgNotFound:
        return None
    if not body.org_ids:
        return None
    row = body_row(con, body)
    return {"org_id": body.org_ids[0], "name": body.name, "type": body.type,
            "id": body.body_id, "aliases": row["aliases"], "successor": row["successor"]}


def rating_direction(previous: str | None, current: str) -> str | None:
    """'up', 'down' or 'same' between two ratings on the CQC scale; None when either is
    off the scale (special measures moves) or there is no previous rating."""
    if previous is None or previous not in RATING_ORDER or current not in RATING_ORDER:
        return None
    before, after = RATING_ORDER.index(previous), RATING_ORDER.index(current)
    return "up" if after < before else "down" if after > before else "same"


def org_ratings(con: duckdb.DuckDBPyConnection, org_id: int) -> list[dict[str, Any]]:
    """The organisation's ratings, oldest first, each with its ``direction`` from the
    previous rating on the scale."""
    rows = fetch_dicts(con.execute(
        f"""
        SELECT r.rating, r.period, r.rater, r.sentence, r.story_id, r.start_offset,
               CAST(COALESCE(r.published, {_STORY_DATE}) AS DATE) AS published
        FROM ratings r
        LEFT JOIN stories s ON s.story_id = r.story_id
        LEFT JOIN articles a ON a.article_id = s.article_id
        WHERE r.org_id = ?
        ORDER BY published NULLS FIRST, r.story_id, r.start_offset
        """,
        [org_id],
    ))
    previous: str | None = None
    for row in rows:
        row["direction"] = rating_direction(previous, row["rating"])
        if row["rating"] in RATING_ORDER:
            previous = row["rating"]
    return rows


def org_amounts(con: duckdb.DuckDBPyConnection, org_id: int) -> list[dict[str, Any]]:
    """The organisation's amounts, newest first, with the year they belong to (the start
    year of their period when it names one, else the year published)."""
    return fetch_dicts(con.execute(
        f"""
        SELECT f.text, f.value_gbp, f.value_gbp_max, f.currency, f.role, f.period, f.sentence,
               f.story_id, f.start_offset,
               CAST(COALESCE(f.published, {_STORY_DATE}) AS DATE) AS published,
               COALESCE(TRY_CAST(regexp_extract(f.period, '(\\d{{4}})', 1) AS INTEGER),
                        year(COALESCE(f.published, {_STORY_DATE}))) AS year
        FROM amounts f
        LEFT JOIN stories s ON s.story_id = f.story_id
        LEFT JOIN articles a ON a.article_id = s.article_id
        WHERE f.org_id = ?
        ORDER BY published DESC NULLS LAST, f.value_gbp DESC NULLS LAST
        """,
        [org_id],
    ))


def money_by_year(amounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Totals in GBP and counts per year and role, years ascending (amounts without a GBP
    value or a year are left out)."""
    totals: dict[tuple[int, str], dict[str, Any]] = {}
    for row in amounts:
        if row["value_gbp"] is None or row["year"] is None:
            continue
        key = (int(row["year"]), row["role"] or "other")
        entry = totals.setdefault(key, {"year": key[0], "role": key[1], "total_gbp": 0.0,
                                        "count": 0})
        entry["total_gbp"] += float(row["value_gbp"])
        entry["count"] += 1
    return [totals[k] for k in sorted(totals)]


def org_stories(
    con: duckdb.DuckDBPyConnection, org_id: int, *, limit: int = 50
) -> list[dict[str, Any]]:
    """Current stories mentioning the organisation, newest first, with mention counts."""
    return fetch_dicts(con.execute(
        f"""
        WITH cur AS ({_CURRENT_STORIES})
        SELECT cur.story_id, cur.headline, cur.url, CAST(cur.story_date AS DATE) AS published,
               count(*) AS mentions
        FROM org_mentions m JOIN cur USING (story_id)
        WHERE m.org_id = ?
        GROUP BY ALL
        ORDER BY published DESC NULLS LAST, cur.story_id
        LIMIT ?
        """,
        [org_id, limit],
    ))


def org_themes(con: duckdb.DuckDBPyConnection, org_id: int) -> list[dict[str, Any]]:
    """Active themes holding stories that mention the organisation, by stories shared."""
    return fetch_dicts(con.execute(
        """
        SELECT t.theme_id, t.label, count(DISTINCT tm.story_id) AS stories
        FROM theme_members tm
        JOIN themes t ON t.theme_id = tm.theme_id
        WHERE t.level = 'theme' AND t.status = 'active'
          AND tm.story_id IN (SELECT story_id FROM org_mentions WHERE org_id = ?)
        GROUP BY t.theme_id, t.label
        ORDER BY stories DESC, t.theme_id
        """,
        [org_id],
    ))


def story_detail(con: duckdb.DuckDBPyConnection, story_id: str) -> dict[str, Any] | None:
    """A story (any version) with its article's URL and date and its stored facts, or None.

    Keys: story (story_id, headline, body, url, source, published, current), mentions,
    amounts, ratings (each with start_offset/end_offset into the body).
    """
    head = fetch_dicts(con.execute(
        f"""
        SELECT s.story_id, COALESCE(s.headline, a.title) AS headline, s.body, a.url, a.source,
               CAST({_STORY_DATE} AS DATE) AS published, s.processed_at,
               (s.version = a.current_version) AS current
        FROM stories s JOIN articles a ON a.article_id = s.article_id
        WHERE s.story_id = ?
        """,
        [story_id],
    ))
    if not head:
        return None
    return {
        "story": head[0],
        "mentions": fetch_dicts(con.execute(
            "SELECT m.start_offset, m.end_offset, m.text, o.name, o.type FROM org_mentions m "
            "JOIN organisations o USING (org_id) WHERE m.story_id = ? ORDER BY m.start_offset",
            [story_id],
        )),
        "amounts": fetch_dicts(con.execute(
            "SELECT start_offset, end_offset, text, value_gbp, value_gbp_max, currency, "
            "qualifier, role, per, org_name, period, sentence FROM amounts WHERE story_id = ? "
            "ORDER BY start_offset NULLS LAST", [story_id],
        )),
        "ratings": fetch_dicts(con.execute(
            "SELECT start_offset, end_offset, org_name, rating, period, rater, sentence "
            "FROM ratings WHERE story_id = ? ORDER BY start_offset NULLS LAST", [story_id],
        )),
    }


def theme_weekly_counts(con: duckdb.DuckDBPyConnection, theme_id: int) -> list[dict[str, Any]]:
    """Stories of the theme per week (Monday start), not cumulative, weeks without stories
    included as zero between the first and the last."""
    return fetch_dicts(con.execute(
        f"""
        WITH cur AS ({_CURRENT_STORIES}),
        m AS (
            SELECT CAST(date_trunc('week', cur.story_date) AS DATE) AS week
            FROM theme_members tm JOIN cur USING (story_id) WHERE tm.theme_id = ?
        ),
        weeks AS (
            SELECT CAST(w AS DATE) AS week
            FROM (SELECT min(week) AS lo, max(week) AS hi FROM m),
                 generate_series(lo, hi, INTERVAL 7 DAY) g(w)
        )
        SELECT weeks.week, count(m.week) AS stories
        FROM weeks LEFT JOIN m USING (week)
        GROUP BY weeks.week ORDER BY weeks.week
        """,
        [theme_id],
    ))


def theme_stories(
    con: duckdb.DuckDBPyConnection, theme_id: int, *, limit: int = 100
) -> list[dict[str, Any]]:
    """The theme's current stories, newest first, with their similarity to its centre."""
    return fetch_dicts(con.execute(
        f"""
        WITH cur AS ({_CURRENT_STORIES})
        SELECT cur.story_id, cur.headline, cur.url, CAST(cur.story_date AS DATE) AS published,
               round(tm.score, 3) AS score
        FROM theme_members tm JOIN cur USING (story_id)
        WHERE tm.theme_id = ?
        ORDER BY published DESC NULLS LAST, cur.story_id
        LIMIT ?
        """,
        [theme_id, limit],
    ))


def changes_since(con: duckdb.DuckDBPyConnection, since: date | datetime) -> dict[str, Any]:
    """What changed on or after ``since``.

    Keys: rating_changes (an organisation's rating differing from its previous one, with
    the direction), special_measures (moves into or out of special measures), deficits
    (deficit amounts published since, largest first).
    """
    since_dt = as_datetime(since)
    ratings = fetch_dicts(con.execute(
        f"""
        WITH r AS (
            SELECT COALESCE(o.name, f.org_name) AS org, f.org_id, f.rating, f.period, f.rater,
                   f.story_id,
                   COALESCE(f.published, {_STORY_DATE}) AS published,
                   f.start_offset
            FROM ratings f LEFT JOIN organisations o USING (org_id)
            LEFT JOIN stories s ON s.story_id = f.story_id
            LEFT JOIN articles a ON a.article_id = s.article_id
        ),
        scale AS (
            SELECT *, lag(rating) OVER (
                PARTITION BY COALESCE(CAST(org_id AS VARCHAR), org)
                ORDER BY published NULLS FIRST, story_id, start_offset) AS previous
            FROM r WHERE rating IN ('outstanding', 'good', 'requires improvement',
                                    'inadequate')
        )
        SELECT org, previous, rating, period, rater, story_id,
               CAST(published AS DATE) AS published
        FROM scale
        WHERE published >= ? AND previous IS NOT NULL AND previous <> rating
        ORDER BY published DESC, org
        """,
        [since_dt],
    ))
    for row in ratings:
        row["direction"] = rating_direction(row["previous"], row["rating"])
    special = fetch_dicts(con.execute(
        f"""
        SELECT COALESCE(o.name, f.org_name) AS org, f.rating, f.period, f.rater, f.story_id,
               CAST(COALESCE(f.published, {_STORY_DATE}) AS DATE) AS published
        FROM ratings f LEFT JOIN organisations o USING (org_id)
        LEFT JOIN stories s ON s.story_id = f.story_id
        LEFT JOIN articles a ON a.article_id = s.article_id
        WHERE f.rating IN ('special measures', 'out of special measures')
          AND COALESCE(f.published, {_STORY_DATE}) >= ?
        ORDER BY published DESC, org
        """,
        [since_dt],
    ))
    deficits = fetch_dicts(con.execute(
        f"""
        SELECT COALESCE(o.name, f.org_name) AS org, f.text, f.value_gbp, f.period, f.story_id,
               CAST(COALESCE(f.published, {_STORY_DATE}) AS DATE) AS published
        FROM amounts f LEFT JOIN organisations o USING (org_id)
        LEFT JOIN stories s ON s.story_id = f.story_id
        LEFT JOIN articles a ON a.article_id = s.article_id
        WHERE f.role = 'deficit' AND COALESCE(f.published, {_STORY_DATE}) >= ?
        ORDER BY f.value_gbp DESC NULLS LAST, published DESC
        """,
        [since_dt],
    ))
    return {"rating_changes": ratings, "special_measures": special, "deficits": deficits}


def latest_story_date(con: duckdb.DuckDBPyConnection) -> date | None:
    """The date of the newest current story (the default reference for 'what changed')."""
    row = con.execute(
        f"SELECT CAST(max(story_date) AS DATE) FROM ({_CURRENT_STORIES})"
    ).fetchone()
    return row[0] if row else None
