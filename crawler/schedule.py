"""Scheduling crawls: which sources are due, one crawl at a time, and the schedule loop.

A source is due when its ``interval`` (or the default) has passed since the start of its last
finished run (``crawl_runs``). :class:`FileLock` (``fcntl.flock``) guarantees that two crawls
of one database never overlap, across processes; the lock is released by the kernel if the
holder dies, so a killed crawl never leaves a stale lock behind. Interrupted crawls resume
naturally: URLs are marked seen only together with their stored article, and feed validators
are kept only after a clean finish, so the next run re-reads the feeds and fetches exactly what
is missing.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType

from crawler.sources import Source
from crawler.state import utcnow

__all__ = [
    "DEFAULT_INTERVAL",
    "FileLock",
    "LockedError",
    "due_sources",
    "next_due",
    "run_schedule",
]

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL = timedelta(hours=6)
MAX_SLEEP = 300.0


class LockedError(RuntimeError):
    """The lock is held by another process (message names it)."""


class FileLock:
    """An exclusive, non-blocking ``flock`` on ``path`` (created if missing)."""

    def __init__(self, path: str | os.PathLike[str], purpose: str = "a crawl"):
        self.path = Path(path)
        self.purpose = purpose
        self._fd: int | None = None

    def acquire(self) -> FileLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            who = f" (process {holder})" if holder else ""
            raise LockedError(
                f"{self.purpose} is already running{who}: lock {self.path} is held"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> FileLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def due_sources(
    sources: Sequence[Source],
    last_runs: Mapping[str, datetime],
    *,
    now: datetime | None = None,
    default_interval: timedelta = DEFAULT_INTERVAL,
) -> list[Source]:
    """Sources never crawled, or whose interval has passed since their last run started."""
    now = now or utcnow()
    return [
        s
        for s in sources
        if s.name not in last_runs or last_runs[s.name] + (s.interval or default_interval) <= now
    ]


def next_due(
    sources: Sequence[Source],
    last_runs: Mapping[str, datetime],
    *,
    default_interval: timedelta = DEFAULT_INTERVAL,
) -> datetime | None:
    """When the next source becomes due (None without sources)."""
    times = [
        last_runs[s.name] + (s.interval or default_interval)
        if s.name in last_runs
        else datetime.min
        for s in sources
    ]
    return min(times) if times else None


def _read_last_runs(db_path: str | os.PathLike[str]) -> dict[str, datetime]:
    from store import runs as store_runs
    from store.db import connect

    if not Path(db_path).exists():
        return {}
    con = connect(db_path, read_only=True)
    try:
        return store_runs.last_run_times(con)
    finally:
        con.close()


def run_schedule(
    job: Callable[[list[Source]], object],
    sources: Sequence[Source],
    *,
    once: bool,
    lock_path: str | os.PathLike[str],
    db_path: str | os.PathLike[str] | None = None,
    last_runs: Callable[[], Mapping[str, datetime]] | None = None,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], datetime] = utcnow,
    default_interval: timedelta = DEFAULT_INTERVAL,
    max_cycles: int | None = None,
) -> int:
    """Run ``job(due_sources)`` whenever sources are due; returns the number of jobs run.

    Last run times come from ``last_runs()`` or, by default, the ``crawl_runs`` table of
    ``db_path`` (read between jobs, never while a crawl runs). ``once`` runs at most one job
    (the sources due now) and returns. Holds ``FileLock(lock_path)`` throughout, so a second
    scheduler fails fast with :class:`LockedError`. A failing job is logged and the loop goes
    on; Ctrl-C (KeyboardInterrupt) ends it.
    """
    if last_runs is None:
        if db_path is None:
            raise ValueError("run_schedule needs db_path or last_runs")
        last_runs = lambda: _read_last_runs(db_path)  # noqa: E731
    jobs = cycles = 0
    with FileLock(lock_path, purpose="the policywatch scheduler"):
        while True:
            cycles += 1
            try:
                known = last_runs()
            except Exception:
                # e.g. the database is held by a crawl started by hand: try again later
                if once or (max_cycles is not None and cycles >= max_cycles):
                    raise
                logger.warning("Cannot read the last runs; retrying in a minute", exc_info=True)
                sleep(60.0)
                continue
            due = due_sources(sources, known, now=clock(), default_interval=default_interval)
            if due:
                names = ", ".join(s.name for s in due)
                logger.info("Crawling %d due source(s): %s", len(due), names)
                jobs += 1
                try:
                    job(due)
                except KeyboardInterrupt:
                    raise
                except Exception:
                    if once:
                        raise
                    logger.exception("Scheduled crawl failed; trying again at the next slot")
                try:
                    known = last_runs()
                except Exception:
                    logger.warning("Cannot read the last runs after the crawl", exc_info=True)
            if once or (max_cycles is not None and cycles >= max_cycles):
                return jobs
            upcoming = next_due(sources, known, default_interval=default_interval)
            wait = MAX_SLEEP if upcoming is None else (upcoming - clock()).total_seconds()
            # A failed job leaves its sources due: wait a minute rather than spin.
            sleep(min(MAX_SLEEP, max(60.0 if due else 1.0, wait)))
