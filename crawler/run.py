"""Running a crawl: ``crawl(db_path, sources)`` -> :class:`CrawlReport`.

The crawl runs a real Scrapy ``CrawlerProcess`` (one spider per source, in parallel) in a child
process started with the ``spawn`` method, because a Twisted reactor cannot be restarted in one
process and the CLI's ``schedule`` loop crawls many times. Progress events and the final
report come back over a queue; ``progress`` is called in the caller's process. The database is
opened by the child only, under an exclusive file lock (``<db>.crawl.lock``), so two crawls of
one database never overlap; the caller must not hold the database open while it crawls. The
child itself holds the file only for short sessions (one at the start, then one per batch of
items), so read commands can run during a crawl.

SIGINT (Ctrl-C) and SIGTERM (``kill``, ``systemctl stop``) stop the crawl gracefully: the
parent forwards one SIGINT to the child, Scrapy finishes the requests it has taken and starts
no new one, the pipeline flushes and records the runs as ``interrupted``. Once the child has
ended, the caller's own handling of the signal takes place (``KeyboardInterrupt`` for Ctrl-C,
the CLI's ``Terminated`` for SIGTERM, or the default action: the process ends), so the lock
and the database are never left to an orphaned child. The child stops once, whatever number
of signals reach it (the parent's, and a service manager's sent to every process of the
service): Scrapy's own handler would turn a second one into an unclean stop that stores
nothing more. A second signal to the caller kills the child at once; its runs are marked
``interrupted``.

Expected network failures (connection refused, DNS, timeouts) are reported by the spider in
one line each; below LOG_LEVEL INFO the Scrapy loggers that repeat them with a traceback are
silenced.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue
import signal
import threading
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

    @property
    def failed(self) -> list[str]:
        """Names of the sources whose run failed (nothing fetched, only errors)."""
        return [name for name, r in self.sources.items() if r.get("status") == "failed"]


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


# Scrapy loggers whose records repeat, with a traceback, a failure the spider already reports
# in one line (``connection: URL (reason)``): robots.txt download errors, "Gave up retrying".
_REPEATING_LOGGERS = (
    "scrapy.downloadermiddlewares.robotstxt",
    "scrapy.downloadermiddlewares.retry",
)


def _quiet_repeated_failures(log_level: str | int) -> None:
    level = logging.getLevelName(log_level) if isinstance(log_level, str) else log_level
    if isinstance(level, int) and level > logging.INFO:
        for name in _REPEATING_LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL)


def _graceful_process_class() -> type:
    """A ``CrawlerProcess`` that stops gracefully on the first SIGINT/SIGTERM and ignores the
    rest, then reports ``stopping`` (built lazily: importing Scrapy is slow)."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.ossignal import install_shutdown_handlers

    class GracefulCrawlerProcess(CrawlerProcess):
        on_stopping: Callable[[], None] | None = None

        def _signal_shutdown(self, signum: int, frame: Any) -> None:
            from twisted.internet import reactor

            super()._signal_shutdown(signum, frame)  # schedules the graceful stop
            install_shutdown_handlers(signal.SIG_IGN)  # instead of Scrapy's unclean stop
            if self.on_stopping is not None:
                # Queued after the stop, which sets the engine not running at once: no new
                # request starts after the caller hears "stopping".
                reactor.callFromThread(self.on_stopping)  # type: ignore[attr-defined]

    return GracefulCrawlerProcess


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
    frontier_conf = scrapy_settings.getdict("POLICYWATCH_FRONTIER")
    parts_dir = scrapy_settings.get("POLICYWATCH_PARTS_DIR")
    stale = 0
    try:
        if parts_dir:
            # A crawl worker writing Parquet parts: the database is only read, here.
            from crawler.worker_state import load_worker_state

            load_worker_state(store, parts_dir)
        else:
            # What the crawl needs from the store, read in one short session; the item
            # pipeline then opens the file only to write a batch, so read commands are never
            # locked out for long.
            with store.session() as con:
                if not frontier_conf:  # other workers' runs may be running for real
                    stale = store_runs.close_stale_runs(con)
                store_articles.upsert_sources(con, [s.to_config() for s in sources])
                store.seen = store_articles.load_seen_urls(con)
                store.validators = store_articles.load_validators(con)
                for aid, signature, body in store_articles.current_signatures(con):
                    store.fingerprints.add(
                        aid,
                        minhash_from_bytes(signature) if signature is not None else minhash(body),
                    )
    except StoreError as exc:
        raise CrawlError(str(exc)) from None
    if stale:
        logger.info("Marked %d run(s) left by a killed crawl as interrupted", stale)
    if store.embed is not None:
        # Load the model now: loading it inside a callback would stall the reactor.
        store.embed(["warm-up"])
    # A crawl worker joins the shared frontier last, once its slow start is done: its lease
    # in Redis must not lapse before its spiders run and renew it.
    frontier, round_id = _join_frontier(frontier_conf, sources)
    if frontier is not None:
        from crawler.sinks import PartsSink

        store.seed_gate = lambda name: frontier.claim_seeding(round_id, name)
        store.shared_fingerprints = frontier.shared_fingerprints(round_id)
        store.claim_in_round = lambda url: frontier.claim_article(round_id, url)
        if parts_dir:
            store.sink = PartsSink(parts_dir, round_id)
        scrapy_settings = build_settings(
            {**dict(settings or {}),
             **frontier.scrapy_settings(frontier_conf["redis_url"], round_id)})
    elif parts_dir:
        from crawler.sinks import PartsSink

        store.sink = PartsSink(parts_dir)
    process = _graceful_process_class()(scrapy_settings)
    process.on_stopping = lambda: store.emit("stopping")
    _quiet_repeated_failures(scrapy_settings.get("LOG_LEVEL"))
    states = []
    for source in sources:
        state = SourceState(source=source, store=store)
        states.append(state)
        process.crawl(SourceSpider, state=state)
    try:
        process.start()
    finally:
        _leave(frontier, frontier_conf)
    if all(state.report.status == "running" for state in states):
        # No spider opened (an error Scrapy logged above, e.g. its scheduler failed).
        raise CrawlError("the crawl could not start; see the log above")
    for state in states:
        report.sources[state.source.name] = state.report.as_dict()
    report.finished_at = utcnow()
    return report


def _join_frontier(conf: Mapping[str, Any], sources: Sequence[Source]) -> tuple[Any, int]:
    """``(Frontier, round)`` for a crawl worker (``POLICYWATCH_FRONTIER`` set), else
    ``(None, 0)``."""
    if not conf:
        return None, 0
    import redis

    from crawler.frontier import Frontier

    try:
        frontier = Frontier.connect(conf["redis_url"], conf["namespace"])
        return frontier, frontier.join(conf["worker_id"], [s.name for s in sources])
    except redis.RedisError as exc:
        raise CrawlError(f"cannot reach Redis at {conf['redis_url']}: {exc}") from None


def _leave(frontier: Any, conf: Mapping[str, Any]) -> None:
    if frontier is None:
        return
    try:
        frontier.leave(conf["worker_id"])
    except Exception as exc:  # its lease expires anyway
        logger.warning("could not unregister from the frontier: %s", exc)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _detach_from_parent() -> None:
    # Own process group: a terminal Ctrl-C reaches the parent only, which forwards one SIGINT.
    # If the parent dies, the kernel sends SIGTERM, which the crawl handles as a graceful stop.
    # Until the reactor runs (and Scrapy's handlers replace these), either signal interrupts
    # the set-up like Ctrl-C.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
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
    except KeyboardInterrupt:
        events.put(("error", "the crawl was interrupted before it started"))
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
    child: Any = None
    try:
        ctx = mp.get_context("spawn")
        events = ctx.Queue()
        child = ctx.Process(
            target=_child,
            args=(str(db_path), list(sources), dict(settings or {}), events, progress is not None),
            name="policywatch-crawl",
        )
        outcome: dict[str, Any] = {}
        with _ForwardedSignals(child) as signals:
            child.start()
            signals.forward()  # a signal that came before the child existed
            while not signals.force and _next_event(child, events, progress, outcome):
                pass
            if signals.force:  # a second signal: stop now
                _kill(child, db_path)
            child.join()
    finally:
        if child is not None and child.is_alive():
            _kill(child, db_path)  # leaving on an error: never leave the crawl running
        if lock:
            file_lock.release()
    signals.deliver()
    if "error" in outcome:
        raise CrawlError(outcome["error"])
    if "report" not in outcome:
        raise CrawlError(f"the crawl process ended unexpectedly (exit code {child.exitcode})")
    return outcome["report"]


class _ForwardedSignals:
    """While a crawl runs, SIGINT and SIGTERM are forwarded to the crawl child (as one SIGINT:
    a graceful stop) and remembered; a second one asks to stop at once (``force``).

    The handlers only record and forward -- an exception raised by a handler could land in
    the middle of reading the event queue. Once the child has ended, :meth:`deliver` acts on
    the first signal as the caller's own handler would have (KeyboardInterrupt for Ctrl-C,
    the CLI's exception for SIGTERM), or ends the process by the signal's default action.
    Outside the main thread, where handlers cannot be set, signals are left alone.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, child: Any):
        self.child = child
        self.received: list[int] = []
        self.previous: dict[int, Any] = {}
        self._forwarded = False

    @property
    def force(self) -> bool:
        return len(self.received) > 1

    def _handle(self, signum: int, frame: Any) -> None:
        if self.previous.get(signum) == signal.SIG_IGN:
            return
        self.received.append(signum)
        self.forward()

    def forward(self) -> None:
        """Send the child one SIGINT once a signal has come (and the child exists)."""
        if self.received and not self._forwarded and self.child.pid is not None:
            self._forwarded = True
            if self.child.is_alive():
                os.kill(self.child.pid, signal.SIGINT)

    def __enter__(self) -> _ForwardedSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self.previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)

    def deliver(self) -> None:
        if not self.received:
            return
        signum = self.received[0]
        handler = self.previous.get(signum)
        if callable(handler):
            handler(signum, None)  # normally raises (KeyboardInterrupt ...)
            raise KeyboardInterrupt
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        raise KeyboardInterrupt  # not reached: the default action ends the process


def _next_event(
    child: Any,
    events: Any,
    progress: Callable[[dict[str, Any]], None] | None,
    outcome: dict[str, Any],
) -> bool:
    """Handle one event from the child (``report`` and ``error`` go to ``outcome``); False
    once the child has exited and its events are drained."""
    try:
        kind, payload = events.get(timeout=0.2)
    except queue.Empty:
        if child.is_alive():
            return True
        try:  # what the child put just before exiting
            kind, payload = events.get(timeout=0.5)
        except queue.Empty:
            return False
    if kind == "progress":
        if progress is not None:
            progress(payload)
    else:
        outcome[kind] = payload
    return True


def _kill(child: Any, db_path: str | os.PathLike[str]) -> None:
    """Kill the crawl child at once; its unfinished runs are marked ``interrupted``."""
    from store import runs as store_runs
    from store.db import StoreError, connect

    child.kill()
    child.join()
    try:
        con = connect(db_path)
    except StoreError:
        return  # the next crawl closes them
    try:
        store_runs.close_stale_runs(con)
    finally:
        con.close()
