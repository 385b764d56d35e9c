"""Counts over time: how many stories per day, week or month mention an organisation,
belong to a theme or contain some words.

Stories are the current versions of articles that are not near-duplicates, dated by the
story's own date or its article's; undated stories cannot be placed and are not counted.
Periods with no story between the first and the last are listed with a count of 0, so a
series can be plotted as it is.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from store.db import fetch_dicts

# The period each --by names, and the step from one to the next (whitelisted SQL).
BUCKETS = {"day": "INTERVAL 1 DAY", "week": "INTERVAL 7 DAY", "month": "INTERVAL 1 MONTH"}


class TrendError(ValueError):
    """A trend that cannot be counted as asked; the message is one line."""


def story_counts(
    con: duckdb.DuckDBPyConnection,
    *,
    org_ids: list[int] | None = None,
    theme: int | None = None,
    text: str | None = None,
    by: str = "month",
    since: date | None = None,
) -> list[dict[str, Any]]:
    """Stories per ``by`` period (``period`` is the period's first day) matching every
    filter given: mentioning one of ``org_ids``, in ``theme``, containing ``text``
    (literally, case-insensitive, in the headline or body), published on or after
    ``since``."""
    if by not in BUCKETS:
        raise TrendError(f"unknown period {by!r}; choose from: {', '.join(BUCKETS)}")
    if text is not None and not text.strip():
        raise TrendError("--text needs some words")
    if theme is not None and con.execute(
            "SELECT count(*) FROM themes WHERE theme_id = ?", [theme]).fetchone()[0] == 0:
        raise TrendError(f"no theme {theme}; `policywatch themes --no-update` lists them")
    sql = f"""
        WITH picked AS (
            SELECT s.story_id, CAST(COALESCE(s.published, a.published) AS DATE) AS d
            FROM stories s JOIN articles a USING (article_id)
            WHERE s.version = a.current_version AND a.duplicate_of IS NULL
              AND COALESCE(s.published, a.published) IS NOT NULL
              AND ($ids IS NULL OR s.story_id IN (
                    SELECT story_id FROM org_mentions WHERE list_contains($ids, org_id)))
              AND ($theme IS NULL OR s.story_id IN (
                    SELECT story_id FROM theme_members WHERE theme_id = $theme))
              AND ($text IS NULL OR contains(lower(s.body), lower($text))
                   OR contains(lower(COALESCE(s.headline, '')), lower($text)))
              AND ($since IS NULL OR COALESCE(s.published, a.published) >= $since)
        ),
        counted AS (
            SELECT CAST(date_trunc('{by}', d) AS DATE) AS period, count(*) AS stories
            FROM picked GROUP BY 1
        ),
        bounds AS (SELECT min(period) AS lo, max(period) AS hi FROM counted)
        SELECT CAST(g.range AS DATE) AS period, COALESCE(c.stories, 0) AS stories
        FROM bounds, range(CAST(bounds.lo AS TIMESTAMP),
                           CAST(bounds.hi AS TIMESTAMP) + INTERVAL 1 DAY, {BUCKETS[by]}) g
        LEFT JOIN counted c ON c.period = CAST(g.range AS DATE)
        WHERE bounds.lo IS NOT NULL
        ORDER BY period
    """
    params = {"ids": org_ids, "theme": theme, "text": text,
              "since": since}
    return fetch_dicts(con.execute(sql, params))
