"""Where the item pipeline's writes go: the database file, or Parquet parts.

:class:`DatabaseSink` is the single-machine path: each batch is one short write session on
the DuckDB file. :class:`PartsSink` is for crawl workers of a scale-out crawl (README, "Past
one machine"): each batch becomes one Parquet part (``store.parts``), and the database is
never opened for writing; ``policywatch scale compact`` later writes the parts through the
same store functions :class:`DatabaseSink` calls.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from store import articles as store_articles
from store import parts as store_parts
from store import runs as store_runs
from store.db import session, utcnow

__all__ = ["RUN_DETAIL_KEYS", "CrawlSink", "DatabaseSink", "PartsSink", "run_detail"]

# Counters of a source's run kept in ``crawl_runs.detail``.
RUN_DETAIL_KEYS = ("articles_fetched", "not_modified", "skipped_seen", "new_articles",
                   "unchanged", "sitemap_date_errors")


def run_detail(report: Any) -> dict[str, Any]:
    """The ``detail`` counters of a :class:`crawler.state.SourceReport`."""
    return {key: getattr(report, key) for key in RUN_DETAIL_KEYS}


class CrawlSink(Protocol):
    """What the item pipeline writes through."""

    def start_run(self, source: str) -> int | None: ...

    def write_batch(self, *, articles: Sequence[dict[str, Any]],
                    versions: Sequence[dict[str, Any]], stories: Sequence[dict[str, Any]],
                    seen: Sequence[dict[str, Any]]) -> None: ...

    def finish_run(self, *, source: dict[str, Any], run_id: int | None, started_at: datetime,
                   validators: Sequence[dict[str, Any]], report: Any) -> None: ...


class DatabaseSink:
    """Batches written to the DuckDB file, one short session each."""

    def __init__(self, db_path: str | os.PathLike[str]):
        self.db_path = db_path

    def start_run(self, source: str) -> int | None:
        with session(self.db_path) as con:
            return store_runs.start_run(con, source)

    def write_batch(self, *, articles: Sequence[dict[str, Any]],
                    versions: Sequence[dict[str, Any]], stories: Sequence[dict[str, Any]],
                    seen: Sequence[dict[str, Any]]) -> None:
        with session(self.db_path) as con:
            store_articles.write_crawl_batch(con, articles=articles, versions=versions,
                                             stories=stories, seen=seen)

    def finish_run(self, *, source: dict[str, Any], run_id: int | None, started_at: datetime,
                   validators: Sequence[dict[str, Any]], report: Any) -> None:
        assert run_id is not None
        with session(self.db_path) as con:
            if validators:
                store_articles.save_validators(con, list(validators))
            store_runs.finish_run(
                con, run_id, status=report.status, pages_fetched=report.pages_fetched,
                new_stories=report.new_stories, new_versions=report.new_versions,
                duplicates=report.duplicates, errors=report.errors, detail=run_detail(report))


class PartsSink:
    """Batches written as Parquet parts in ``parts_dir`` (named after crawl round
    ``round_id``); the run record, validators and source configuration go into the part
    written when the source's run ends."""

    def __init__(self, parts_dir: str | os.PathLike[str], round_id: int = 0):
        self.parts_dir = parts_dir
        self.round_id = round_id

    def start_run(self, source: str) -> int | None:
        return None  # the run row is written, whole, by the compaction of the last part

    def write_batch(self, *, articles: Sequence[dict[str, Any]],
                    versions: Sequence[dict[str, Any]], stories: Sequence[dict[str, Any]],
                    seen: Sequence[dict[str, Any]]) -> None:
        store_parts.write_part(
            self.parts_dir,
            {"articles": articles, "versions": versions, "stories": stories, "seen": seen},
            round_id=self.round_id)

    def finish_run(self, *, source: dict[str, Any], run_id: int | None, started_at: datetime,
                   validators: Sequence[dict[str, Any]], report: Any) -> None:
        run = {
            "source": source["name"], "started_at": started_at, "finished_at": utcnow(),
            "status": report.status, "pages_fetched": report.pages_fetched,
            "new_stories": report.new_stories, "new_versions": report.new_versions,
            "duplicates": report.duplicates, "errors": report.errors,
            "detail": run_detail(report),
        }
        store_parts.write_part(
            self.parts_dir,
            {"sources": [{"name": source["name"], "config": source}],
             "validators": list(validators), "runs": [run]},
            round_id=self.round_id)
