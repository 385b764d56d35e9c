"""Storing and querying story embeddings, themes, events and their history.

SQL only: vectors come in as numpy arrays, theme state as the plain rows of
``nlp.themes.ThemeState.to_dict()``; nothing here clusters or embeds. Bulk writes go
through Arrow tables (``executemany`` manages ~2k rows/s); every query uses bound
parameters. Only current, non-duplicate stories take part in themes: the stories of an
article's current version whose article is not marked ``duplicate_of`` another.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from store.db import as_datetime, fetch_dicts, utcnow

DIM = 384
FREQS = ("day", "week", "month")

# Current stories of non-duplicate articles, with the date that places them in time.
_CURRENT = """
    SELECT s.story_id, s.headline, s.body, a.url,
           COALESCE(s.published, a.published, a.first_seen) AS story_date
    FROM stories s
    JOIN articles a ON a.article_id = s.article_id AND a.current_version = s.version
    WHERE a.duplicate_of IS NULL
"""


# ---------------------------------------------------------------------- embeddings
def stories_without_embeddings(
    con: duckdb.DuckDBPyConnection, model: str, *, limit: int | None = None
) -> list[tuple[str, str | None, str]]:
    """(story_id, headline, body) of current stories with no vector from ``model``."""
    sql = f"""
        WITH cur AS ({_CURRENT})
        SELECT cur.story_id, cur.headline, cur.body FROM cur
        LEFT JOIN story_embeddings e ON e.story_id = cur.story_id AND e.model = ?
        WHERE e.story_id IS NULL
        ORDER BY cur.story_id
    """
    params: list[Any] = [model]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return [tuple(r) for r in con.execute(sql, params).fetchall()]


def save_embeddings(
    con: duckdb.DuckDBPyConnection,
    story_ids: Sequence[str],
    vectors: np.ndarray,
    model: str,
    *,
    now: datetime | None = None,
) -> int:
    """Insert or replace the vectors of ``story_ids``; returns the number written."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[1] != DIM:
        raise ValueError(f"expected vectors of shape (n, {DIM}), got {vectors.shape}")
    if len(story_ids) != len(vectors):
        raise ValueError(f"{len(story_ids)} story ids but {len(vectors)} vectors")
    if not len(story_ids):
        return 0
    table = pa.table(
        {
            "story_id": pa.array(list(story_ids), pa.string()),
            "model": pa.array([model] * len(story_ids), pa.string()),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), DIM),
            "embedded_at": pa.array([now or utcnow()] * len(story_ids), pa.timestamp("us")),
        }
    )
    con.register("_pw_embeddings_in", table)
    try:
        con.execute(
            "INSERT OR REPLACE INTO story_embeddings "
            "SELECT story_id, model, vector::FLOAT[384], embedded_at FROM _pw_embeddings_in"
        )
    finally:
        con.unregister("_pw_embeddings_in")
    return len(story_ids)


def headlines_without_embeddings(
    con: duckdb.DuckDBPyConnection, model: str, story_ids: Sequence[str]
) -> dict[str, str | None]:
    """Story id -> headline of those of ``story_ids`` that have no vector from ``model``."""
    if not story_ids:
        return {}
    con.register("_pw_ids_in", pa.table({"story_id": pa.array(list(story_ids), pa.string())}))
    try:
        rows = con.execute(
            "SELECT s.story_id, s.headline FROM _pw_ids_in i "
            "JOIN stories s ON s.story_id = i.story_id "
            "LEFT JOIN story_embeddings e ON e.story_id = s.story_id AND e.model = ? "
            "WHERE e.story_id IS NULL", [model]
        ).fetchall()
    finally:
        con.unregister("_pw_ids_in")
    return dict(rows)


def load_embeddings(con: duckdb.DuckDBPyConnection, model: str) -> tuple[list[str], np.ndarray]:
    """Story ids (sorted) and their (n, 384) float32 vectors, current stories only."""
    tbl = con.sql(
        f"""
        WITH cur AS ({_CURRENT})
        SELECT e.story_id, e.vector FROM story_embeddings e
        JOIN cur ON cur.story_id = e.story_id
        WHERE e.model = ? ORDER BY e.story_id
        """,
        params=[model],
    ).to_arrow_table()
    ids = tbl.column("story_id").to_pylist()
    if not ids:
        return [], np.zeros((0, DIM), dtype=np.float32)
    flat = tbl.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return ids, flat.astype(np.float32).reshape(len(ids), DIM)


def story_texts(
    con: duckdb.DuckDBPyConnection, story_ids: Sequence[str]
) -> list[tuple[str | None, str]]:
    """(headline, body) of each story id, in the given order; unknown ids are an error."""
    con.register("_pw_ids_in", pa.table({"story_id": pa.array(list(story_ids), pa.string())}))
    try:
        rows = con.execute(
            "SELECT i.story_id, s.headline, s.body FROM _pw_ids_in i "
            "LEFT JOIN stories s ON s.story_id = i.story_id"
        ).fetchall()
    finally:
        con.unregister("_pw_ids_in")
    by_id = {sid: (h, b) for sid, h, b in rows}
    missing = [s for s in story_ids if by_id.get(s, (None, None))[1] is None]
    if missing:
        raise KeyError(f"{len(missing)} unknown story ids, e.g. {missing[0]!r}")
    return [by_id[s] for s in story_ids]


# ---------------------------------------------------------------------- theme state
def load_theme_state(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """All themes and memberships as plain rows (``ThemeState.from_dict``), or None."""
    cur = con.execute(
        "SELECT theme_id, level, parent_id, label, keywords, centroid, status, "
        "created_at, updated_at FROM themes ORDER BY theme_id"
    )
    themes = fetch_dicts(cur)
    if not themes:
        return None
    members = con.execute(
        "SELECT theme_id, story_id, score, assigned_at FROM theme_members"
    ).fetchall()
    return {"themes": themes, "members": members, "changes": []}


def save_theme_state(con: duckdb.DuckDBPyConnection, state: dict[str, Any]) -> None:
    """Replace themes and memberships with ``state``; append its changes. One transaction."""
    themes = state.get("themes", [])
    members = state.get("members", [])
    changes = state.get("changes", [])
    ts = pa.timestamp("us")
    theme_tbl = pa.table(
        {
            "theme_id": pa.array([t["theme_id"] for t in themes], pa.int32()),
            "level": pa.array([t["level"] for t in themes], pa.string()),
            "parent_id": pa.array([t.get("parent_id") for t in themes], pa.int32()),
            "label": pa.array([t["label"] for t in themes], pa.string()),
            "keywords": pa.array(
                [list(t.get("keywords") or []) for t in themes], pa.list_(pa.string())
            ),
            "centroid": pa.FixedSizeListArray.from_arrays(
                pa.array(
                    np.asarray([t["centroid"] for t in themes], dtype=np.float32).ravel()
                    if themes
                    else np.zeros(0, np.float32)
                ),
                DIM,
            ),
            "status": pa.array([t.get("status") or "active" for t in themes], pa.string()),
            "created_at": pa.array([t["created_at"] for t in themes], ts),
            "updated_at": pa.array([t["updated_at"] for t in themes], ts),
        }
    )
    member_tbl = pa.table(
        {
            "theme_id": pa.array([m[0] for m in members], pa.int32()),
            "story_id": pa.array([m[1] for m in members], pa.string()),
            "score": pa.array([None if m[2] != m[2] else m[2] for m in members], pa.float64()),
            "assigned_at": pa.array([m[3] for m in members], ts),
        }
    )
    change_tbl = pa.table(
        {
            "changed_at": pa.array([c["changed_at"] for c in changes], ts),
            "kind": pa.array([c["kind"] for c in changes], pa.string()),
            "theme_id": pa.array([c["theme_id"] for c in changes], pa.int32()),
            "other_ids": pa.array(
                [list(c.get("other_ids") or []) for c in changes], pa.list_(pa.int32())
            ),
            "detail": pa.array([c.get("detail") for c in changes], pa.string()),
        }
    )
    con.register("_pw_themes_in", theme_tbl)
    con.register("_pw_members_in", member_tbl)
    con.register("_pw_changes_in", change_tbl)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("DELETE FROM theme_members")
            con.execute("DELETE FROM themes")
            con.execute(
                "INSERT INTO themes SELECT theme_id, level, parent_id, label, keywords, "
                "centroid::FLOAT[384], status, created_at, updated_at FROM _pw_themes_in"
            )
            con.execute("INSERT INTO theme_members SELECT * FROM _pw_members_in")
            con.execute("INSERT INTO theme_changes SELECT * FROM _pw_changes_in")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    finally:
        for name in ("_pw_themes_in", "_pw_members_in", "_pw_changes_in"):
            con.unregister(name)


# ---------------------------------------------------------------------- queries
def list_themes(
    con: duckdb.DuckDBPyConnection,
    *,
    since: date | datetime | None = None,
    trending: bool = False,
    period_days: int = 7,
    now: datetime | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Active themes with size, label and growth.

    ``recent`` counts members dated within the last ``period_days`` before ``now``,
    ``previous`` the ``period_days`` before that; ``growth`` = recent - previous. With
    ``since`` only members dated on or after it count (themes left empty are omitted).
    Sorted by size, or by growth (then recent size) when ``trending``.
    """
    if period_days < 1:
        raise ValueError("period_days must be at least 1")
    now = now or utcnow()
    recent_from = now - timedelta(days=period_days)
    previous_from = now - timedelta(days=2 * period_days)
    order = "growth DESC, recent DESC, size DESC" if trending else "size DESC, recent DESC"
    sql = f"""
        WITH cur AS ({_CURRENT}),
        m AS (
            SELECT tm.theme_id, cur.story_date AS d
            FROM theme_members tm JOIN cur ON cur.story_id = tm.story_id
            WHERE ?::TIMESTAMP IS NULL OR cur.story_date >= ?::TIMESTAMP
        )
        SELECT t.theme_id, t.label, t.keywords,
               count(m.theme_id) AS size,
               count(*) FILTER (WHERE m.d > ?::TIMESTAMP AND m.d <= ?::TIMESTAMP) AS recent,
               count(*) FILTER (WHERE m.d > ?::TIMESTAMP AND m.d <= ?::TIMESTAMP) AS previous,
               recent - previous AS growth,
               min(m.d) AS first_story, max(m.d) AS last_story
        FROM themes t JOIN m ON m.theme_id = t.theme_id
        WHERE t.level = 'theme' AND t.status = 'active'
        GROUP BY t.theme_id, t.label, t.keywords
        ORDER BY {order}, t.theme_id
    """
    since_dt = as_datetime(since)
    params: list[Any] = [since_dt, since_dt, recent_from, now, previous_from, recent_from]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return fetch_dicts(con.execute(sql, params))


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    return fetch_dicts(con.execute(sql, params))


def theme_detail(
    con: duckdb.DuckDBPyConnection, theme_id: int, *, examples: int = 5, top: int = 10
) -> dict[str, Any] | None:
    """Everything ``policywatch theme ID`` shows, or None for an unknown id.

    Keys: theme (id, level, label, keywords, status, parent_id, created_at, updated_at,
    size), examples (most central stories), organisations (most involved, by stories),
    amounts (largest in GBP), ratings (latest, with counts per rating), events (for a
    theme), changes (history).
    """
    head = _rows(
        con,
        "SELECT t.theme_id, t.level, t.label, t.keywords, t.status, t.parent_id, "
        "t.created_at, t.updated_at, "
        "(SELECT count(*) FROM theme_members m WHERE m.theme_id = t.theme_id) AS size "
        "FROM themes t WHERE t.theme_id = ?",
        [int(theme_id)],
    )
    if not head:
        return None
    members = f"""
        WITH cur AS ({_CURRENT})
        SELECT tm.story_id, tm.score, cur.headline, cur.url, cur.story_date
        FROM theme_members tm JOIN cur ON cur.story_id = tm.story_id
        WHERE tm.theme_id = ?
    """
    tid = int(theme_id)
    return {
        "theme": head[0],
        "examples": _rows(
            con,
            f"SELECT * FROM ({members}) ORDER BY score DESC NULLS LAST, story_id LIMIT ?",
            [tid, examples],
        ),
        "organisations": _rows(
            con,
            f"""
            SELECT o.org_id, o.name, o.type, count(DISTINCT om.story_id) AS stories,
                   count(*) AS mentions
            FROM ({members}) mm
            JOIN org_mentions om ON om.story_id = mm.story_id
            JOIN organisations o ON o.org_id = om.org_id
            GROUP BY o.org_id, o.name, o.type
            ORDER BY stories DESC, mentions DESC, o.name LIMIT ?
            """,
            [tid, top],
        ),
        "amounts": _rows(
            con,
            f"""
            SELECT a.text, a.value_gbp, a.value_gbp_max, a.currency, a.value, a.role,
                   a.org_name, a.period, a.sentence, a.story_id, mm.headline
            FROM ({members}) mm JOIN amounts a ON a.story_id = mm.story_id
            WHERE a.value_gbp IS NOT NULL
            ORDER BY a.value_gbp DESC, a.story_id LIMIT ?
            """,
            [tid, top],
        ),
        "ratings": _rows(
            con,
            f"""
            SELECT r.org_name, r.rating, r.rater, r.period,
                   COALESCE(r.published, mm.story_date) AS published, r.story_id,
                   count(*) OVER (PARTITION BY r.rating) AS rating_count
            FROM ({members}) mm JOIN ratings r ON r.story_id = mm.story_id
            ORDER BY published DESC NULLS LAST, r.org_name LIMIT ?
            """,
            [tid, top],
        ),
        "events": _rows(
            con,
            "SELECT t.theme_id, t.label, count(m.story_id) AS size FROM themes t "
            "LEFT JOIN theme_members m ON m.theme_id = t.theme_id "
            "WHERE t.level = 'event' AND t.parent_id = ? AND t.status = 'active' "
            "GROUP BY t.theme_id, t.label ORDER BY size DESC, t.theme_id LIMIT ?",
            [tid, top],
        ),
        "changes": _rows(
            con,
            "SELECT changed_at, kind, theme_id, other_ids, detail FROM theme_changes "
            "WHERE theme_id = ? OR list_contains(other_ids, ?) ORDER BY changed_at, kind",
            [tid, tid],
        ),
    }


def theme_size_series(
    con: duckdb.DuckDBPyConnection,
    *,
    since: date | datetime | None = None,
    freq: str = "week",
    top: int = 8,
) -> list[tuple[datetime, int, str, int]]:
    """(period start, theme_id, label, stories dated in that period) for the ``top``
    largest active themes, ordered by period then theme."""
    if freq not in FREQS:
        raise ValueError(f"freq must be one of {FREQS}, got {freq!r}")
    since_dt = as_datetime(since)
    sql = f"""
        WITH cur AS ({_CURRENT}),
        m AS (
            SELECT tm.theme_id, cur.story_date AS d
            FROM theme_members tm JOIN cur ON cur.story_id = tm.story_id
            JOIN themes t ON t.theme_id = tm.theme_id
            WHERE t.level = 'theme' AND t.status = 'active'
              AND (?::TIMESTAMP IS NULL OR cur.story_date >= ?::TIMESTAMP)
        ),
        biggest AS (
            SELECT theme_id FROM m GROUP BY theme_id ORDER BY count(*) DESC, theme_id LIMIT ?
        )
        SELECT date_trunc(?, m.d)::TIMESTAMP AS period, m.theme_id, t.label, count(*) AS n
        FROM m JOIN biggest USING (theme_id) JOIN themes t ON t.theme_id = m.theme_id
        GROUP BY period, m.theme_id, t.label
        ORDER BY period, m.theme_id
    """
    return [tuple(r) for r in con.execute(sql, [since_dt, since_dt, int(top), freq]).fetchall()]
