"""Append-only Parquet parts: how many crawl workers write at once without sharing the file.

A DuckDB file has one writer at a time, and it must be on the machine that holds it. A crawl
worker in ``parts`` mode (README, "Past one machine") therefore never opens the database for
writing: every batch it would have written -- articles, versions, stories, seen URLs, and at
the end of a source's run its validators, run record and source configuration -- becomes one
*part*, a folder of Parquet files (one per table) in the parts folder.

A part is written under a hidden temporary name and renamed into place with ``os.replace``,
so a reader sees a whole part or none. Its name orders parts: ``r<round>-<time ns>-<host>-
<pid>-<seq>``, the crawl round first (a counter kept in Redis, so rounds order exactly
across machines), then the writer's clock, host, process and sequence number.

:func:`compact` ingests the parts in name order through the same save functions the
single-machine crawl uses (``store.articles.write_crawl_rows``, ``save_validators``,
``store.runs.start_run`` / ``finish_run``), each part in one transaction that also records the
part's name in ``compacted_parts``; the folder is deleted after the commit. A compaction that
dies between the commit and the delete skips the part next time, so no row is written twice.

This module imports nothing of ``crawler/`` or ``nlp/``.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from store import articles as store_articles
from store import runs as store_runs
from store.db import session, utcnow

__all__ = [
    "PART_TABLES",
    "CompactResult",
    "compact",
    "pending_parts",
    "read_parts",
    "write_part",
]

_RUNS = pa.schema(
    [
        ("source", pa.string()),
        ("started_at", pa.timestamp("us")),
        ("finished_at", pa.timestamp("us")),
        ("status", pa.string()),
        ("pages_fetched", pa.int64()),
        ("new_stories", pa.int64()),
        ("new_versions", pa.int64()),
        ("duplicates", pa.int64()),
        ("errors", pa.string()),  # JSON object
        ("detail", pa.string()),  # JSON object
    ]
)
_SOURCES = pa.schema([("name", pa.string()), ("config", pa.string())])  # config: JSON

# Every table a part may hold, with its Arrow layout.
PART_TABLES: dict[str, pa.Schema] = {
    **store_articles.CRAWL_BATCH_SCHEMAS,
    "runs": _RUNS,
    "sources": _SOURCES,
}
_NAME = re.compile(r"^r\d{9}-\d{20}-[A-Za-z0-9.-]+-\d+-\d{6}$")
_seq = itertools.count()


@dataclass
class CompactResult:
    """What :func:`compact` did: parts ingested, rows per table, parts found already done."""

    parts: int = 0
    skipped: int = 0
    rows: dict[str, int] = field(default_factory=dict)


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname()) or "host"


def write_part(
    parts_dir: str | os.PathLike[str],
    tables: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    round_id: int = 0,
) -> Path | None:
    """Write ``tables`` (table name -> rows, names from :data:`PART_TABLES`) as one part in
    ``parts_dir`` and return its path; None when every table is empty.

    ``runs`` rows carry ``errors`` and ``detail`` as dicts; ``sources`` rows ``config`` as a
    dict (both are stored as JSON text).
    """
    unknown = sorted(set(tables) - set(PART_TABLES))
    if unknown:
        raise ValueError(f"unknown part table(s): {', '.join(unknown)}")
    if not any(tables.values()):
        return None
    folder = Path(parts_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = (f"r{round_id:09d}-{time.time_ns():020d}-{_host()}-{os.getpid()}-"
            f"{next(_seq) % 1_000_000:06d}")
    tmp = folder / f".tmp-{name}"
    tmp.mkdir()
    try:
        for table, rows in tables.items():
            if not rows:
                continue
            pq.write_table(pa.Table.from_pylist([_encode(table, r) for r in rows],
                                                schema=PART_TABLES[table]),
                           tmp / f"{table}.parquet")
        os.replace(tmp, folder / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder / name


def _encode(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    if table == "runs":
        out["errors"] = json.dumps(dict(sorted((row.get("errors") or {}).items())))
        out["detail"] = json.dumps(dict(row.get("detail") or {}), sort_keys=True, default=str)
    elif table == "sources":
        out["config"] = json.dumps(row["config"], sort_keys=True)
    return out


def pending_parts(parts_dir: str | os.PathLike[str]) -> list[Path]:
    """The parts waiting in ``parts_dir``, oldest first (temporary folders are not parts)."""
    folder = Path(parts_dir)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and _NAME.match(p.name))


def _rows(part: Path, table: str) -> list[dict[str, Any]]:
    path = part / f"{table}.parquet"
    if not path.exists():
        return []
    return pq.read_table(path, schema=PART_TABLES[table]).to_pylist()


def read_parts(parts_dir: str | os.PathLike[str], table: str) -> Iterator[dict[str, Any]]:
    """The rows of ``table`` in every pending part, in part order (JSON columns as text)."""
    if table not in PART_TABLES:
        raise ValueError(f"unknown part table {table!r}")
    for part in pending_parts(parts_dir):
        yield from _rows(part, table)


def _ingest(con: Any, part: Path, result: CompactResult) -> None:
    """Write one part's rows through the crawl's save functions (caller holds the
    transaction)."""
    tables = {t: _rows(part, t) for t in PART_TABLES}
    store_articles.upsert_sources(
        con, [json.loads(r["config"]) for r in tables["sources"]])
    store_articles.write_crawl_rows(con, articles=tables["articles"],
                                    versions=tables["versions"], stories=tables["stories"],
                                    seen=tables["seen"])
    store_articles.save_validators(con, tables["validators"])
    for run in tables["runs"]:
        run_id = store_runs.start_run(con, run["source"], run["started_at"])
        store_runs.finish_run(
            con, run_id, status=run["status"], pages_fetched=run["pages_fetched"],
            new_stories=run["new_stories"], new_versions=run["new_versions"],
            duplicates=run["duplicates"], errors=json.loads(run["errors"] or "{}"),
            detail=json.loads(run["detail"] or "{}"), finished_at=run["finished_at"])
    for table, rows in tables.items():
        if rows:
            result.rows[table] = result.rows.get(table, 0) + len(rows)


def compact(db_path: str | os.PathLike[str], parts_dir: str | os.PathLike[str]) -> CompactResult:
    """Ingest every pending part of ``parts_dir`` into the database at ``db_path``, oldest
    first, one transaction and one short write session per part; delete each part once its
    transaction has committed."""
    result = CompactResult()
    for part in pending_parts(parts_dir):
        with session(db_path) as con:
            done = con.execute(
                "SELECT count(*) FROM compacted_parts WHERE name = ?", [part.name]).fetchone()
            if done and done[0]:
                result.skipped += 1
            else:
                con.begin()
                try:
                    _ingest(con, part, result)
                    con.execute("INSERT INTO compacted_parts VALUES (?, ?)",
                                [part.name, utcnow()])
                    con.commit()
                except BaseException:
                    con.rollback()
                    raise
                result.parts += 1
        shutil.rmtree(part, ignore_errors=True)
    return result
