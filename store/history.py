"""Ratings as events: one body's ratings and money facts in time order, and what changed
since a date (rating changes, special-measures moves, deficits) for a watch list.

A rating row may say which rating it replaced (``previous_rating``), its ``direction`` (up,
down, same) and whether it is the body's ``current`` rating or a ``previous`` one the text
mentions. Databases written before those columns existed (opened read-only, so not
migrated) read them as NULL. Where the text gave no direction, the history derives one
from the body's rating before it in time, and says so in ``direction_from``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from store.db import fetch_dicts

# Quality ratings from worst to best; special measures is a track of its own.
RATING_SCALE = {"inadequate": 1, "requires improvement": 2, "good": 3, "outstanding": 4}
SPECIAL_MEASURES = {"special measures": 0, "out of special measures": 1}
EVENT_COLUMNS = ("previous_rating", "direction", "status")
DIRECTIONS = ("up", "down", "same")
STATUSES = ("current", "previous")


def rating_event_select(con: duckdb.DuckDBPyConnection) -> str:
    """SELECT items for the ratings (alias ``f``) event columns, NULL where an older
    database lacks them."""
    return _event_columns(con)


def _event_columns(con: duckdb.DuckDBPyConnection) -> str:
    """SELECT items for the event columns, NULL where an older database lacks them."""
    present = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name = 'ratings'").fetchall()}
    return ", ".join(f"f.{c}" if c in present else f"CAST(NULL AS VARCHAR) AS {c}"
                     for c in EVENT_COLUMNS)


def compare(before: str | None, after: str | None) -> str | None:
    """'up', 'down' or 'same' from rating ``before`` to ``after`` on one scale, else None."""
    for scale in (RATING_SCALE, SPECIAL_MEASURES):
        if before in scale and after in scale:
            diff = scale[after] - scale[before]
            return "up" if diff > 0 else "down" if diff < 0 else "same"
    return None


_SOURCE = """
    LEFT JOIN stories s ON s.story_id = f.story_id
    LEFT JOIN articles ar ON ar.article_id = s.article_id
"""
_WHEN = "CAST(COALESCE(f.published, s.published, ar.published) AS DATE)"


def _ratings(con: duckdb.DuckDBPyConnection, org_ids: list[int],
             since: date | None = None) -> list[dict[str, Any]]:
    if not org_ids:
        return []
    return fetch_dicts(con.execute(f"""
        SELECT {_WHEN} AS date, 'rating' AS kind, f.rating AS what, f.period,
               {_event_columns(con)}, f.rater, NULL::DOUBLE AS value_gbp, f.org_id,
               COALESCE(o.name, f.org_name) AS org, o.type AS org_type,
               ar.title, ar.url, f.sentence, f.story_id, f.start_offset,
               NULL::VARCHAR AS text, NULL::VARCHAR AS qualifier
        FROM ratings f LEFT JOIN organisations o USING (org_id) {_SOURCE}
        WHERE list_contains($ids, f.org_id) AND ($since IS NULL OR {_WHEN} >= $since)
    """, {"ids": org_ids, "since": since}))


def _amounts(con: duckdb.DuckDBPyConnection, org_ids: list[int], since: date | None = None,
             roles: list[str] | None = None) -> list[dict[str, Any]]:
    if not org_ids:
        return []
    return fetch_dicts(con.execute(f"""
        SELECT {_WHEN} AS date, 'amount' AS kind, f.role AS what, f.period,
               NULL AS previous_rating, NULL AS direction, NULL AS status, NULL AS rater,
               f.value_gbp, f.org_id, COALESCE(o.name, f.org_name) AS org,
               o.type AS org_type, ar.title, ar.url, f.sentence, f.story_id, f.start_offset,
               f.text, f.qualifier
        FROM amounts f LEFT JOIN organisations o USING (org_id) {_SOURCE}
        WHERE list_contains($ids, f.org_id) AND ($since IS NULL OR {_WHEN} >= $since)
          AND ($roles IS NULL OR list_contains($roles, f.role))
    """, {"ids": org_ids, "since": since, "roles": roles}))


def _scale(rating: str) -> str:
    return "special_measures" if rating in SPECIAL_MEASURES else "quality"


def _event_year(row: dict[str, Any]) -> int | None:
    period = row.get("period") or ""
    if len(period) >= 4 and period[:4].isdigit():
        return int(period[:4])
    return row["date"].year if row.get("date") else None


def _order_key(row: dict[str, Any]) -> tuple[Any, ...]:
    # When it happened (the year the text gives, else the story's date), then the story's
    # date, an earlier rating before a current one, then the order in the text.
    return (_event_year(row) or 9999, row.get("date") or date.max,
            0 if row.get("status") == "previous" else 1, row.get("start_offset") or 0)


def org_history(con: duckdb.DuckDBPyConnection, org_ids: list[int]) -> list[dict[str, Any]]:
    """Ratings and money facts of the organisation rows ``org_ids`` (one body), oldest
    first, each rating with a ``direction`` (from the text, or derived from the rating
    before it on the same scale; ``direction_from`` says which)."""
    rows = _ratings(con, org_ids) + _amounts(con, org_ids)
    rows.sort(key=_order_key)
    # A story that gives several current ratings on one scale (or an older extractor that
    # did not say which is current) gives no order to derive a direction from; nor does
    # the text order inside one story.
    per_story: dict[tuple[str, str], int] = {}
    for row in rows:
        if row["kind"] == "rating" and row["status"] != "previous":
            key = (row["story_id"], _scale(row["what"]))
            per_story[key] = per_story.get(key, 0) + 1
    last: dict[str, str | None] = {}
    last_story: dict[str, str] = {}
    for row in rows:
        if row["kind"] != "rating":
            row["direction_from"] = None
            continue
        scale = _scale(row["what"])
        if per_story.get((row["story_id"], scale), 0) > 1:
            row["direction_from"] = "text" if row["direction"] is not None else None
            if row["direction"] is None and row["previous_rating"] is not None:
                row["direction"] = compare(row["previous_rating"], row["what"])
                row["direction_from"] = "text"
            last[scale] = None
            continue
        if row["direction"] is not None:
            row["direction_from"] = "text"
        elif row["previous_rating"] is not None:
            row["direction"] = compare(row["previous_rating"], row["what"])
            row["direction_from"] = "text"
        elif (row["status"] != "previous" and last.get(scale) is not None
              and last_story.get(scale) != row["story_id"]):
            row["direction"] = compare(last[scale], row["what"])
            row["previous_rating"] = last[scale]
            row["direction_from"] = "order"
        else:
            row["direction_from"] = None
        if row["status"] != "previous":
            last[scale] = row["what"]
            last_story[scale] = row["story_id"]
    return rows


CHANGE_KINDS = ("rating_change", "rating", "special_measures", "deficit")


def changes_since(con: duckdb.DuckDBPyConnection, since: date,
                  org_ids: list[int] | None = None) -> list[dict[str, Any]]:
    """What an alert sends: since ``since`` (story date), for the bodies ``org_ids`` (all
    when None), every special-measures move, every rating change (a current rating with
    the rating before it), every other current rating and every deficit; newest first.

    Each row has ``change`` (one of :data:`CHANGE_KINDS`), date, org, the rating or role,
    previous rating and direction where known, the value for deficits, and its source."""
    if org_ids is None:
        org_ids = [r[0] for r in con.execute(
            "SELECT org_id FROM organisations").fetchall()]
    found = []
    for row in _ratings(con, org_ids, since):
        if row["status"] == "previous":
            continue
        if row["direction"] is None and row["previous_rating"] is not None:
            row["direction"] = compare(row["previous_rating"], row["what"])
        if row["what"] in SPECIAL_MEASURES:
            row["change"] = "special_measures"
            if row["direction"] is None:
                row["direction"] = "down" if row["what"] == "special measures" else "up"
        elif row["previous_rating"] is not None:
            row["change"] = "rating_change"
        else:
            row["change"] = "rating"
        found.append(row)
    for row in _amounts(con, org_ids, since, roles=["deficit"]):
        row["change"] = "deficit"
        found.append(row)
    found.sort(key=lambda r: (r.get("date") or date.min, r["story_id"],
                              -(r.get("start_offset") or 0)), reverse=True)
    return found


def read_watch_list(text: str) -> list[str]:
    """Names in a watch file: one per line; blank lines and '#' comments are skipped."""
    names = []
    for line in text.splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            names.append(name)
    return names
