"""SQL for crawl runs: one row per run and source, and the per-source health report.

``source_stats`` is the monitoring view behind ``policywatch stats``: for every source it
summarises the recent runs and raises a ``flag`` when a source's last run failed (nothing could
be fetched: connection refused, DNS failure, every request in error), when it has yielded
nothing in its last three finished runs (a changed site layout, a dead feed) or when its error
rate jumped compared with the runs before (blocking, an outage) -- the checks Spidermon would
run, without a server.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import duckdb

from store.db import utcnow

__all__ = [
    "close_stale_runs",
    "finish_run",
    "last_run_times",
    "recent_runs",
    "source_stats",
    "start_run",
]

FINISHED = ("ok", "failed", "interrupted")


def start_run(
    con: duckdb.DuckDBPyConnection, source: str, started_at: datetime | None = None
) -> int:
    """Insert a ``running`` row for ``source`` and return its ``run_id``."""
    row = con.execute(
        "INSERT INTO crawl_runs (source, started_at, status, errors) "
        "VALUES (?, ?, 'running', '{}') RETURNING run_id",
        [source, started_at or utcnow()],
    ).fetchone()
    assert row is not None
    return int(row[0])


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: int,
    *,
    status: str,
    pages_fetched: int = 0,
    new_stories: int = 0,
    new_versions: int = 0,
    duplicates: int = 0,
    errors: Mapping[str, int] | None = None,
    detail: Mapping[str, Any] | None = None,
    finished_at: datetime | None = None,
) -> None:
    """Record the outcome of run ``run_id`` (``detail``: any further counters, as JSON)."""
    con.execute(
        "UPDATE crawl_runs SET finished_at = ?, status = ?, pages_fetched = ?, new_stories = ?, "
        "new_versions = ?, duplicates = ?, errors = ?, detail = ? WHERE run_id = ?",
        [
            finished_at or utcnow(),
            status,
            pages_fetched,
            new_stories,
            new_versions,
            duplicates,
            json.dumps(dict(sorted((errors or {}).items()))),
            json.dumps(dict(detail or {}), sort_keys=True, default=str),
            run_id,
        ],
    )


def close_stale_runs(con: duckdb.DuckDBPyConnection, sources: Sequence[str] | None = None) -> int:
    """Mark ``running`` rows left by a killed process as ``interrupted``; returns how many.

    Call it only while holding the crawl lock, when no run can really be in progress.
    """
    where = "status = 'running'"
    params: list[Any] = [utcnow()]
    if sources is not None:
        where += " AND list_contains(?, source)"
        params.append(list(sources))
    row = con.execute(
        f"UPDATE crawl_runs SET status = 'interrupted', finished_at = coalesce(finished_at, ?) "
        f"WHERE {where} RETURNING run_id",
        params,
    ).fetchall()
    return len(row)


def last_run_times(con: duckdb.DuckDBPyConnection) -> dict[str, datetime]:
    """Start time of each source's latest finished run (for scheduling)."""
    rows = con.execute(
        "SELECT source, max(started_at) FROM crawl_runs "
        "WHERE status IN ('ok', 'failed', 'interrupted') GROUP BY source"
    ).fetchall()
    return {source: started for source, started in rows}


def recent_runs(
    con: duckdb.DuckDBPyConnection, *, per_source: int = 10, source: str | None = None
) -> list[dict[str, Any]]:
    """The latest ``per_source`` runs of each source, newest first, errors decoded."""
    params: list[Any] = [per_source]
    where = ""
    if source is not None:
        where = "WHERE source = ?"
        params.insert(0, source)
    rows = con.execute(
        "SELECT run_id, source, started_at, finished_at, status, pages_fetched, new_stories, "
        f"new_versions, duplicates, errors, detail FROM crawl_runs {where} "
        "QUALIFY row_number() OVER (PARTITION BY source ORDER BY started_at DESC, run_id DESC) "
        "<= ? ORDER BY source, started_at DESC, run_id DESC",
        params,
    ).fetchall()
    cols = [
        "run_id",
        "source",
        "started_at",
        "finished_at",
        "status",
        "pages_fetched",
        "new_stories",
        "new_versions",
        "duplicates",
        "errors",
        "detail",
    ]
    out = []
    for row in rows:
        rec = dict(zip(cols, row, strict=True))
        rec["errors"] = json.loads(rec["errors"]) if rec["errors"] else {}
        rec["detail"] = json.loads(rec["detail"]) if rec["detail"] else {}
        out.append(rec)
    return out


def _error_rate(run: Mapping[str, Any]) -> float:
    errors = sum(int(v) for v in run["errors"].values())
    total = errors + int(run["pages_fetched"] or 0)
    return errors / total if total else 0.0


def _failing_reason(history: Sequence[Mapping[str, Any]]) -> str:
    """``last run failed (connection=4)`` or ``last 3 runs failed (dns=1)``."""
    streak = 0
    for run in history:
        if run["status"] != "failed":
            break
        streak += 1
    errors = history[0]["errors"]
    kinds = ", ".join(f"{k}={v}" for k, v in sorted(errors.items())) or "nothing fetched"
    runs = "last run" if streak == 1 else f"last {streak} runs"
    return f"{runs} failed ({kinds})"


def source_stats(
    con: duckdb.DuckDBPyConnection,
    *,
    window: int = 3,
    error_jump: float = 0.25,
    sources: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Per-source health, one dict per source (configured or with runs), sorted by name.

    Keys: ``source``, ``runs``, ``last_started``, ``last_status``, ``last_pages``,
    ``last_new_stories``, ``last_errors`` (by kind), ``last_detail`` (other counters),
    ``error_rate`` (last run, errors over
    errors + pages), ``articles``, ``stories``, ``flag`` (None, ``"failing"``, ``"no-yield"``
    or ``"error-jump"``) and ``flag_reason`` (one line).

    ``failing``: the last finished run failed (from the first failure on; it outranks the
    other flags).
    ``no-yield``: the last ``window`` finished runs brought no new story or version.
    ``error-jump``: the last run's error rate exceeds the mean of the previous runs' by at
    least ``error_jump`` (0.25 = 25 percentage points).
    """
    runs = [r for r in recent_runs(con, per_source=10) if r["status"] in FINISHED]
    by_source: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        by_source.setdefault(r["source"], []).append(r)
    counts = {
        s: (a, st)
        for s, a, st in con.execute(
            # duplicates (republications) and earlier versions' stories are not counted
            "SELECT a.source, count(DISTINCT a.article_id) FILTER (a.duplicate_of IS NULL), "
            "count(s.story_id) FILTER (a.duplicate_of IS NULL) "
            "FROM articles a LEFT JOIN stories s "
            "  ON s.article_id = a.article_id AND s.version = a.current_version "
            "GROUP BY a.source"
        ).fetchall()
    }
    total_runs = dict(
        con.execute("SELECT source, count(*) FROM crawl_runs GROUP BY source").fetchall()
    )
    names = set(by_source) | set(counts)
    names |= {n for (n,) in con.execute("SELECT name FROM sources").fetchall()}
    if sources is not None:
        names = set(sources)
    out = []
    for name in sorted(names):
        history = by_source.get(name, [])
        last = history[0] if history else None
        flag = reason = None
        if len(history) >= window and all(
            (r["new_stories"] or 0) + (r["new_versions"] or 0) == 0 for r in history[:window]
        ):
            flag, reason = "no-yield", f"no new stories in the last {window} runs"
        if last is not None and len(history) >= 2:
            rate = _error_rate(last)
            before = [_error_rate(r) for r in history[1 : 1 + window]]
            baseline = sum(before) / len(before)
            if rate - baseline >= error_jump:
                flag = "error-jump"
                reason = f"error rate {rate:.0%} in the last run vs {baseline:.0%} before"
        if last is not None and last["status"] == "failed":
            flag, reason = "failing", _failing_reason(history)
        articles, stories = counts.get(name, (0, 0))
        out.append(
            {
                "source": name,
                "runs": int(total_runs.get(name, 0)),
                "last_started": last["started_at"] if last else None,
                "last_status": last["status"] if last else None,
                "last_pages": last["pages_fetched"] if last else None,
                "last_new_stories": last["new_stories"] if last else None,
                "last_errors": last["errors"] if last else {},
                "last_detail": last["detail"] if last else {},
                "error_rate": _error_rate(last) if last else None,
                "articles": int(articles),
                "stories": int(stories),
                "flag": flag,
                "flag_reason": reason,
            }
        )
    return out
