"""Processing stories on a Ray cluster: the scale-out form of ``pipeline.process_stories``.

The driver (the process that runs ``policywatch worker process``, or ``policywatch process``
with a Ray address set) is the one writer of the store. It reads the stories waiting for
processing a page at a time in story id order (one short read session per page, so a story it
has claimed is never read again in that pass), sends each page as a batch to a pool of Ray
actors (:class:`scale.story_worker.StoryWorker`, each loading the spaCy pipeline and the
embedding model once), keeps a bounded number of batches in flight, and saves the facts (and
the vectors of stories that had none) that come back with the same save functions the
single-machine ``process`` uses, in the same order, so the stored facts are the same.

Failures. A batch whose actor dies, or whose task fails, is sent once more (a dead actor is
replaced by a fresh one); if it fails again, its stories are sent one at a time, each to an
actor it has to itself, so that only a story that fails on its own is given up: reported in one
line and left unprocessed, for a later run. A story whose extraction raises is reported by its
worker and the rest of its batch is saved.

With ``store = "parts"`` the Parquet parts written by crawl workers are compacted into the
database (``store.parts.compact``) before each pass. ``until_idle`` keeps the driver polling
for new stories until none has arrived for that many seconds.

Ray is an optional dependency (the ``scale`` extra): it is imported when a run starts.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import UserError, as_date
from scale.settings import ScaleSettings
from scale.story_worker import BatchResult, StoryTask, StoryWorker, one_line
from store import db as store_db
from store import facts as store_facts
from store import themes as store_themes

ROOT = Path(__file__).resolve().parent.parent
NAMESPACE = "policywatch"
CONNECT_TIMEOUT = 5.0
# Environment the workers need: offline models, no tokenizer thread pools, this code first.
WORKER_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "TOKENIZERS_PARALLELISM",
              "POLICYWATCH_CACHE_DIR")

DbPath = str | os.PathLike[str] | None


class RayUnavailable(UserError):
    """No Ray cluster at the address, or Ray is not installed; the message is one line."""


@dataclass
class _Batch:
    seq: int  # results are saved in this order
    tasks: list[StoryTask]
    attempt: int = 1
    single: bool = False  # one story of a batch that failed twice


@dataclass
class RayRun:
    """Counts and timings of one run (``stories``: stories whose facts were saved)."""

    workers: int = 0
    stories: int = 0
    organisations: int = 0
    org_mentions: int = 0
    amounts: int = 0
    ratings: int = 0
    embedded: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    retried_batches: int = 0
    startup_s: float = 0.0  # connecting and loading the models in every worker
    worker_s: float = 0.0  # computing time summed over workers
    read_s: float = 0.0  # driver time in read sessions
    save_s: float = 0.0  # driver time in save sessions
    wall_s: float = 0.0
    worker_peak_rss_mb: list[float] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        """The counts in the shape ``pipeline.process_stories`` returns, plus embedded/failed."""
        return {"stories": self.stories, "organisations": self.organisations,
                "org_mentions": self.org_mentions, "amounts": self.amounts,
                "ratings": self.ratings, "embedded": self.embedded,
                "failed": len({sid for sid, _ in self.failed})}


# ----------------------------------------------------------------------------- connecting


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayUnavailable("Ray is not installed: pip install 'policywatch[scale]'") from None
    return ray


def _host_port(address: str) -> tuple[str, int] | None:
    text = address.removeprefix("ray://")
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Raise :class:`RayUnavailable` in one line unless something listens at ``address``
    (a ``host:port``; other forms, like ``auto``, are left to Ray)."""
    where = _host_port(address)
    if where is None:
        return
    try:
        socket.create_connection(where, timeout=timeout).close()
    except OSError as exc:
        raise RayUnavailable(f"no Ray cluster at {address}: {exc.strerror or exc} "
                             "(start one with `ray start --head`)") from None


def _stay_on_loopback(ray: Any) -> None:
    """Keep a driver of a loopback cluster on 127.0.0.1.

    Ray swaps a loopback address for the machine's network address unless
    ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, which it reads once, at import; a head started
    by ``scale.local_ray`` listens on 127.0.0.1 only, so the swapped address would never
    answer.
    """
    from ray._private import ray_constants

    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False


def connect(address: str) -> Any:
    """Join the Ray cluster at ``address`` as a driver; returns the ``ray`` module.

    Workers get this checkout first on their ``PYTHONPATH`` and the offline-model
    environment. On a loopback address the driver stays on 127.0.0.1.
    """
    ray = _import_ray()
    if ray.is_initialized():
        return ray
    check_reachable(address)
    env = {name: os.environ[name] for name in WORKER_ENV if os.environ.get(name)}
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    where = _host_port(address)
    kwargs: dict[str, Any] = {}
    if where and _is_loopback(where[0]):
        _stay_on_loopback(ray)
        kwargs["_node_ip_address"] = "127.0.0.1"
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        ray.init(address=address, namespace=NAMESPACE, log_to_driver=False,
                 logging_level=logging.WARNING, runtime_env={"env_vars": env}, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise RayUnavailable(f"cannot join the Ray cluster at {address}: "
                             f"{one_line(exc)}") from None
    return ray


def cluster_cpus(ray: Any) -> int:
    """Whole CPUs of the cluster (at least 1)."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


# ----------------------------------------------------------------------------- the run


class _Pool:
    """The actors, each with at most ``depth`` batches in flight; a dead one is replaced."""

    def __init__(self, ray: Any, size: int, *, embed: bool, depth: int = 2,
                 worker_class: type[StoryWorker] = StoryWorker) -> None:
        self.ray = ray
        self.embed = embed
        self.depth = depth
        self.remote_class = ray.remote(num_cpus=1, max_restarts=0)(worker_class)
        self.actors: list[Any] = [self._new() for _ in range(size)]
        self.load: list[int] = [0] * size
        self.in_flight: dict[Any, tuple[int, _Batch]] = {}
        self.dead: set[int] = set()  # slots whose actor died, replaced when their batches are back

    def _new(self) -> Any:
        return self.remote_class.remote(embed=self.embed, threads=1)

    def describe(self) -> list[dict[str, Any]]:
        """Wait for every actor to load its models; their descriptions."""
        return self.ray.get([actor.describe.remote() for actor in self.actors])

    def _slots_for(self, batch: _Batch) -> list[int]:
        """Live actors that may take ``batch``: a story sent alone (a suspect) goes to an
        idle actor and has it to itself, so that if it kills the actor it takes no other
        batch with it."""
        busy_alone = {slot for slot, b in self.in_flight.values() if b.single}
        return [slot for slot in range(len(self.actors))
                if slot not in self.dead and slot not in busy_alone
                and self.load[slot] < (1 if batch.single else self.depth)]

    def can_take(self, batch: _Batch) -> bool:
        return bool(self._slots_for(batch))

    def submit(self, batch: _Batch) -> None:
        slot = min(self._slots_for(batch), key=self.load.__getitem__)
        ref = self.actors[slot].process.remote(batch.tasks)
        self.load[slot] += 1
        self.in_flight[ref] = (slot, batch)

    def next_done(self) -> tuple[_Batch, BatchResult | None, BaseException | None]:
        """The next finished batch: its result, or the error that ended it."""
        (ref,), _ = self.ray.wait(list(self.in_flight), num_returns=1)
        slot, batch = self.in_flight.pop(ref)
        self.load[slot] -= 1
        try:
            return batch, self.ray.get(ref), None
        except self.ray.exceptions.RayActorError as exc:
            self._replace(slot)
            return batch, None, exc
        except self.ray.exceptions.RayError as exc:
            return batch, None, exc

    def _replace(self, slot: int) -> None:
        self.dead.add(slot)
        if any(s == slot for s, _ in self.in_flight.values()):
            return  # its other batches fail on their own; replace it when the last is back
        self.ray.kill(self.actors[slot], no_restart=True)
        self.actors[slot] = self._new()
        self.dead.discard(slot)

    def close(self) -> None:
        for actor in self.actors:
            try:
                self.ray.kill(actor, no_restart=True)
            except Exception:  # already gone
                pass


def _compact_parts(db_path: DbPath, settings: ScaleSettings) -> None:
    """Ingest the crawl workers' Parquet parts into the database (``store = "parts"``)."""
    if settings.store != "parts" or db_path is None:
        return
    from store import parts as store_parts

    store_parts.compact(db_path, settings.parts_path(db_path))


class _Driver:
    """Reads pages of stories, keeps the pool busy, saves results in story id order."""

    def __init__(self, db_path: DbPath, pool: _Pool, run: RayRun, *, version: str,
                 batch_size: int, reprocess: bool, embed_model: str | None,
                 progress: Callable[[int, int | None], None] | None,
                 echo: Callable[[str], None]) -> None:
        self.db_path = db_path
        self.pool = pool
        self.run = run
        self.version = version
        self.batch_size = batch_size
        self.reprocess = reprocess
        self.embed_model = embed_model
        self.progress = progress
        self.echo = echo
        self.cursor: str | None = None
        self.exhausted = False
        self.seq = 0
        self.queue: deque[_Batch] = deque()  # batches to send, retries first
        self.finished: dict[int, BatchResult] = {}
        self.splits: dict[int, tuple[int, BatchResult]] = {}  # seq -> (stories left, so far)
        self.next_to_save = 0
        self.given_up: set[str] = set()  # stories reported failed in this run
        self.published: dict[str, Any] = {}  # the stored date of each claimed story
        self.max_unsaved = max(4, len(pool.actors) * (pool.depth + 1))

    def restart_scan(self) -> None:
        """Read the backlog from its start again (new stories may sort before the cursor)."""
        self.cursor = None
        self.exhausted = False

    def _read_page(self) -> _Batch | None:
        started = time.perf_counter()
        while True:
            with store_db.session(self.db_path, create=False) as con:
                page = store_facts.stories_to_process(con, self.version,
                                                      reprocess=self.reprocess,
                                                      limit=self.batch_size, after=self.cursor)
                page_ids = [s.story_id for s in page]
                headlines = (store_themes.headlines_without_embeddings(
                    con, self.embed_model, page_ids) if self.embed_model else {})
            if not page:
                self.exhausted = True
                self.run.read_s += time.perf_counter() - started
                return None
            self.cursor = page[-1].story_id
            tasks = [StoryTask(s.story_id, s.body, as_date(s.published),
                               headline=headlines.get(s.story_id),
                               embed=s.story_id in headlines)
                     for s in page if s.story_id not in self.given_up]
            if tasks:
                self.published.update((s.story_id, s.published) for s in page
                                      if s.story_id not in self.given_up)
                self.run.read_s += time.perf_counter() - started
                self.seq += 1
                return _Batch(self.seq - 1, tasks)

    def fill(self) -> None:
        """Send batches while an actor has room and the unsaved results stay bounded."""
        while len(self.pool.in_flight) + len(self.finished) < self.max_unsaved:
            if not self.queue:
                batch = None if self.exhausted else self._read_page()
                if batch is None:
                    return
                self.queue.append(batch)
            if not self.pool.can_take(self.queue[0]):
                return
            self.pool.submit(self.queue.popleft())

    def busy(self) -> bool:
        return bool(self.pool.in_flight or self.queue)

    def collect(self) -> None:
        """Take one finished batch: keep its result, or send it again, or give it up.

        A batch that fails is sent once more; one that fails again is split into its
        stories, each sent alone, so that only the story that breaks a worker is given up
        (reported in one line, left unprocessed for a later run).
        """
        batch, result, error = self.pool.next_done()
        if error is None and result is not None:
            self.run.worker_s += result.seconds
            self._finish(batch, result)
        elif batch.attempt == 1:
            self.run.retried_batches += 1
            self.queue.appendleft(_Batch(batch.seq, batch.tasks, attempt=2))
        elif len(batch.tasks) > 1 and not batch.single:
            self.run.retried_batches += 1
            self.splits[batch.seq] = (len(batch.tasks), BatchResult())
            self.queue.extendleft(_Batch(batch.seq, [task], attempt=2, single=True)
                                  for task in reversed(batch.tasks))
        else:
            reason = one_line(error) if error else "no result"
            self._finish(batch, BatchResult(failed=[(t.story_id, f"failed twice: {reason}")
                                                    for t in batch.tasks]))
        self._save_ready()

    def _finish(self, batch: _Batch, result: BatchResult) -> None:
        if not batch.single:
            self.finished[batch.seq] = result
            return
        left, merged = self.splits[batch.seq]
        merged.facts.extend(result.facts)
        merged.failed.extend(result.failed)
        if result.vectors is not None:
            import numpy as np

            merged.vectors = result.vectors if merged.vectors is None \
                else np.concatenate([merged.vectors, result.vectors])
            merged.embedded_ids.extend(result.embedded_ids)
            merged.embed_model = result.embed_model
        if left > 1:
            self.splits[batch.seq] = (left - 1, merged)
            return
        del self.splits[batch.seq]
        merged.facts.sort(key=lambda pair: pair[0])  # story id order, as read
        self.finished[batch.seq] = merged

    def _save_ready(self) -> None:
        ready: list[BatchResult] = []
        while self.next_to_save in self.finished:
            ready.append(self.finished.pop(self.next_to_save))
            self.next_to_save += 1
        if not ready:
            return
        facts = [pair for r in ready for pair in r.facts]
        published = {sid: self.published.pop(sid, None) for sid, _ in facts}
        started = time.perf_counter()
        with store_db.session(self.db_path, create=False) as con:
            if facts:
                written = store_facts.save_facts(con, facts, self.version, published=published)
                for key, value in written.items():
                    setattr(self.run, key, getattr(self.run, key) + value)
            for r in ready:
                if r.vectors is not None and r.embedded_ids:
                    self.run.embedded += store_themes.save_embeddings(
                        con, r.embedded_ids, r.vectors, r.embed_model or "")
        self.run.save_s += time.perf_counter() - started
        self.run.stories += len(facts)
        for r in ready:
            for story_id, reason in r.failed:
                self.run.failed.append((story_id, reason))
                self.given_up.add(story_id)
                self.published.pop(story_id, None)
                self.echo(f"story {story_id} failed: {reason}")
        if self.progress:
            self.progress(self.run.stories, None)


def process_on_ray(
    db_path: DbPath,
    settings: ScaleSettings,
    *,
    workers: int | None = None,
    batch_size: int = 32,
    until_idle: float | None = None,
    reprocess: bool = False,
    embed: bool = True,
    poll_seconds: float = 1.0,
    worker_class: type[StoryWorker] = StoryWorker,
    progress: Callable[[int, int | None], None] | None = None,
    echo: Callable[[str], None] = print,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] = time.sleep,
) -> RayRun:
    """Process the stories waiting in ``db_path`` on the Ray cluster of ``settings``.

    ``workers`` actors (default: the cluster's CPUs) each take ``batch_size`` stories at a
    time. With ``until_idle`` the driver keeps looking for new stories (every
    ``poll_seconds``) and returns once none has come for that many seconds; ``echo`` gets
    one line per story that could not be processed. ``worker_class`` is the actor's class
    (a test passes one that fails on purpose).
    """
    import nlp
    from nlp.embed import MODEL_NAME

    if not settings.ray_address:
        raise RayUnavailable("no Ray address set: name one in [scale] ray = ... of "
                             "$POLICYWATCH_CONFIG or in $POLICYWATCH_RAY_ADDRESS")
    if batch_size < 1 or (workers is not None and workers < 1):
        raise UserError("--workers and --batch-size must be at least 1")
    started = time.perf_counter()
    store_db.connect(db_path, create=False).close()  # a missing file: one line, at once
    ray = connect(settings.ray_address)
    run = RayRun()
    pool: _Pool | None = None
    try:
        size = workers or cluster_cpus(ray)
        pool = _Pool(ray, size, embed=embed, worker_class=worker_class)
        version = nlp.pipeline_version()
        try:
            described = pool.describe()
        except ray.exceptions.RayError as exc:
            raise RayUnavailable(f"a Ray worker could not start: {one_line(exc)}") from None
        for info in described:
            if info["nlp_version"] != version:
                raise RayUnavailable(
                    f"a Ray worker runs extractor version {info['nlp_version']}, this "
                    f"driver {version}: install the same policywatch on every node")
        run.workers = size
        run.startup_s = time.perf_counter() - started
        embed_model = f"{MODEL_NAME}/onnx-int8" if embed else None
        driver = _Driver(db_path, pool, run, version=version, batch_size=batch_size,
                         reprocess=reprocess, embed_model=embed_model, progress=progress,
                         echo=echo)
        _loop(driver, settings, until_idle=None if reprocess else until_idle,
              poll_seconds=poll_seconds, clock=clock, sleep=sleep)
        run.worker_peak_rss_mb = ray.get([a.peak_rss_mb.remote() for a in pool.actors])
    finally:
        if pool is not None:
            pool.close()
        ray.shutdown()
    run.wall_s = time.perf_counter() - started
    return run


def _loop(driver: _Driver, settings: ScaleSettings, *, until_idle: float | None,
          poll_seconds: float, clock: Callable[[], float],
          sleep: Callable[[float], object]) -> None:
    _compact_parts(driver.db_path, settings)
    idle_since = clock()
    done_before = driver.run.stories + len(driver.run.failed)
    while True:
        driver.fill()
        if driver.busy():
            driver.collect()
            continue
        # The pass is over: every claimed story is saved or reported.
        done_now = driver.run.stories + len(driver.run.failed)
        if done_now != done_before:
            idle_since, done_before = clock(), done_now
        if until_idle is None or clock() - idle_since >= until_idle:
            return
        sleep(poll_seconds)
        _compact_parts(driver.db_path, settings)
        driver.restart_scan()
