"""Running a crawl: ``crawl(db_path, sources)`` -> :class:`CrawlReport`.

The crawl runs a real Scrapy ``CrawlerProcess`` (one spider per source, in parallel) in a child
process started with the ``spawn`` method, because a Twisted reactor cannot be restarted in one
process and the CLI's ``schedule`` loop crawls many times. Progress events and the final
report come back over a queue; ``progress`` is called in the caller's process. The database is
opened by the child only, under an exclusive file lock (``<db>.crawl.lock``), so two crawls of
one database never overlap; the caller must not hold the database open while it crawls. The
child itself holds the file only for short sessions (one at the start, then one per batch of
items), so read commands can run during a crawl.

Ctrl-C stops the crawl gracefully (Scrapy finishes the requests in flight, the pipeline flushes
and records the run as ``interrupted``) and then raises ``KeyboardInterrupt`` in the caller.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue
import signal
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.schedule import FileLock
from crawler.sources import Source
from crawler.state import utcnow

__all__ = ["CrawlError", "CrawlReport", "crawl", "crawl_here", "lock_path_for"]

logger = logging.getLogger(__name__)


class CrawlError(RuntimeError):
    """The crawl could not run (database, lock, settings); the message is one line."""


@dataclass
class CrawlReport:
    """What a crawl did, per source (see :class:`crawler.state.SourceReport` for the keys)."""

    started_at: datetime
    finished_at: datetime | None = None
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)

    def total(self, key: str) -> int:
        """Sum of a counter over sources, e.g. ``total("new_stories")``."""
        return sum(int(r.get(key) or 0) for r in self.sources.values())

    @property
    def errors(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for rep in self.sources.values():
            for kind, n in rep.get("errors", {}).items():
                out[kind] = out.get(kind, 0) + n
        return dict(sorted(out.items()))

    @property
    def interrupted(self) -> bool:
        return any(r.get("status") == "interrupted" for r in self.sources.values())


def lock_path_for(db_path: str | os.PathLike[str]) -> Path:
    """The crawl lock file of a database: ``<db>.crawl.lock`` beside it."""
    p = Path(db_path)
    return p.with_name(p.name + ".crawl.lock")


def _resolve_embed(value: Any) -> Callable[..., Any] | None:
    if value is None or callable(value):
        return value
    from scrapy.utils.misc import load_object

    try:
        obj = load_object(str(value).replace(":", "."))
    except (ImportError, NameError, ValueError, AttributeError) as exc:
        raise CrawlError(f"POLICYWATCH_EMBED: cannot import {value!r}: {exc}") from None
    if not callable(obj):
        raise CrawlError(f"POLICYWATCH_EMBED: {value!r} is not callable")
    return obj


def _preload() -> None:
    # Import the page-processing modules (and what they pull in) before the reactor runs:
    # a multi-second import inside the first callback would stall every download in flight.
    import crawler.article  # noqa: F401

    try:
        from crawler.stories import split_stories
    except ImportError:
        return
    split_stories("Warm-up.\n\nSecond paragraph.")


def crawl_here(
    db_path: str | os.PathLike[str],
    sources: Sequence[Source],
    *,
    settings: Mapping[str, Any] | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> CrawlReport:
    """Crawl in this process (installs a Twisted reactor: at most once per process).

    Prefer :func:`crawl`; this is what its child process runs.
    """
    from scrapy.crawler import CrawlerProcess

    from crawler.dedup import minhash, minhash_from_bytes
    from crawler.settings import build_settings
    from crawler.spider import SourceSpider
    from crawler.state import SourceState, StoreContext
    from store import articles as store_articles
    from store import runs as store_runs
    from store.db import StoreError

    if not sources:
        raise CrawlError("no sources to crawl")
    _preload()
    scrapy_settings = build_settings(settings)
    report = CrawlReport(started_at=utcnow())
    store = StoreContext(
        db_path=db_path,
        embed=_resolve_embed(scrapy_settings.get("POLICYWATCH_EMBED")),
        progress=progress,
    )
    # What the crawl needs from the store, read in one short session; the item pipeline then
    # opens the file only to write a batch, so read commands are never locked out for long.
    try:
        with store.session() as con:
            stale = store_runs.close_stale_runs(con)
            store_articles.upsert_sources(con, [s.to_config() for s in sources])
            store.seen = store_articles.load_seen_urls(con)
            store.validators = store_articles.load_validators(con)
            for aid, signature, body in store_articles.current_signatures(con):
                store.fingerprints.add(
                    aid, minhash_from_bytes(signature) if signature is not None else minhash(body)
                )
    except StoreError as exc:
        raise CrawlError(str(exc)) from None
    if stale:
        logger.info("Marked %d run(s) left by a killed crawl as interrupted", stale)
    if store.embed is not None:
        # Load the model now: loading it inside a callback would stall the reactor.
        store.embed(["warm-up"])
    process = CrawlerProcess(scrapy_settings)
    states = []
    for source in sources:
        state = SourceState(source=source, store=store)
        states.append(state)
        process.crawl(SourceSpider, state=state)
    process.start()
    for state in states:
        report.sources[state.source.name] = state.report.as_dict()
    report.finished_at = utcnow()
    return report


def _detach_from_parent() -> None:
    # Own process group: a terminal Ctrl-C reaches the parent only, which forwards exactly one
    # SIGINT (a second one would make Scrapy stop without flushing). If the parent dies, the
    # kernel sends SIGTERM, which Scrapy handles as a graceful shutdown.
    try:
        os.setpgid(0, 0)
    except OSError:
        pass
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _child(
    db_path: str,
    sources: list[Source],
    settings: dict[str, Any],
    events: Any,
    want_progress: bool,
) -> None:
    _detach_from_parent()

    def send(event: dict[str, Any]) -> None:
        events.put(("progress", event))

    try:
        report = crawl_here(
            db_path, sources, settings=settings, progress=send if want_progress else None
        )
    except CrawlError as exc:
        events.put(("error", str(exc)))
    except BaseException as exc:  # report everything to the parent, in one line
        events.put(("error", f"crawl failed: {type(exc).__name__}: {exc}"))
        traceback.print_exc()
    else:
        events.put(("report", report))


def crawl(
    db_path: str | os.PathLike[str],
    sources: Sequence[Source],
    *,
    settings: Mapping[str, Any] | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    lock: bool = True,
) -> CrawlReport:
    """Crawl ``sources`` into the database at ``db_path`` and return what happened.

    ``settings`` override ``crawler.settings.DEFAULTS`` (values must be picklable: pass
    ``POLICYWATCH_EMBED`` as a dotted import path). ``progress(event)`` receives dicts with an
    ``event`` key: ``source_started``, ``article``, ``error``, ``source_finished``.
    Raises :class:`CrawlError` (one-line message) when the crawl cannot run, and
    :class:`crawler.schedule.LockedError` when another crawl holds the database.
    """
    bad = [s for s in sources if not isinstance(s, Source)]
    if bad:
        raise CrawlError(f"sources must be Source objects, got {type(bad[0]).__name__}")
    if not sources:
        raise CrawlError("no sources to crawl")
    file_lock = FileLock(lock_path_for(db_path), purpose=f"a crawl of {db_path}")
    if lock:
        file_lock.acquire()
    try:
        ctx = mp.get_context("spawn")
        events = ctx.Queue()
        child = ctx.Process(
            target=_child,
            args=(str(db_path), list(sources), dict(settings or {}), events, progress is not None),
            name="policywatch-crawl",
        )
        child.start()
        report: CrawlReport | None = None
        error: str | None = None
        interrupted = False
        while True:
            try:
                kind, payload = events.get(timeout=0.2)
            except queue.Empty:
                if not child.is_alive():
                    # Drain what the child put just before exiting.
                    try:
                        kind, payload = events.get(timeout=0.5)
                    except queue.Empty:
                        break
                else:
                    continue
            except KeyboardInterrupt:
                if interrupted:  # second Ctrl-C: stop now
                    child.terminate()
                    raise
                interrupted = True
                if child.is_alive() and child.pid is not None:
                    os.kill(child.pid, signal.SIGINT)
                continue
            if kind == "progress" and progress is not None:
                progress(payload)
            elif kind == "report":
                report = payload
            elif kind == "error":
                error = payload
        child.join()
    finally:
        if lock:
            file_lock.release()
    if interrupted:
        raise KeyboardInterrupt
    if error is not None:
        raise CrawlError(error)
    if report is None:
        raise CrawlError(f"the crawl process ended unexpectedly (exit code {child.exitcode})")
    return report
