"""A crawl frontier shared by several crawl processes, in Redis (scrapy-redis).

With a Redis URL set (``scale.settings``), each crawl worker runs the usual spiders (one per
source) with scrapy-redis's ``Scheduler`` and ``RFPDupeFilter``: the request queue of each
source and the fingerprints of requests already queued live in Redis, so the workers on one
or many machines share one frontier. Every key is namespaced ``policywatch:<database
name>:...``; the queues persist, so a worker that stops leaves its queued requests to the
others.

Rounds. A crawl happens in *rounds*, counted in Redis. A worker that starts while no worker
is alive and every queue of its sources is empty begins a new round; otherwise it joins the
running one (:meth:`Frontier.join`, one atomic script, so two workers starting together
agree). The request fingerprints are kept per round and source, and the article URLs
requested per round in one set for all sources (:meth:`Frontier.claim_article`): an article
is fetched once per round whichever worker (and source) finds its link, and feeds, sitemaps
and listings are fetched again in the next round. Each source's seeds (its feeds, sitemaps and
listings) are pushed once per round, by the worker that wins a ``SET NX`` on the round's
seed key for that source (:meth:`Frontier.claim_seeding`). Workers stay registered through a
lease they renew (``heartbeat``); a worker that dies drops out when its lease expires.

Stopping. :class:`FrontierExtension` keeps a worker's spider open while its shared queue has
requests, or any request of the namespace is in flight (the host leases of
``crawler.host_slots``); once both have been empty for ``until_idle`` seconds the spider
closes (with ``until_idle`` unset it waits for work until it is stopped).

Near-duplicates. Each worker decides "republication of a stored article?" against its own
MinHash index; the signatures of the articles the workers of a round store are shared
through one Redis list per round (``crawler.shared_dedup``), so the first one stored is the
original whichever worker fetched it.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DontCloseSpider

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

__all__ = ["Frontier", "FrontierExtension", "namespace_for", "new_worker_id", "queue_key_template",
           "round_key", "seen_key_template", "workers_key"]

logger = logging.getLogger(__name__)

_JOIN = """
-- KEYS[1]: live workers (zset id -> lease expiry ms); KEYS[2]: the round counter;
-- KEYS[3..]: request queues of the worker's sources. ARGV: worker id, lease ms.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local busy = redis.call('ZCARD', KEYS[1]) > 0
for i = 3, #KEYS do
  if redis.call('ZCARD', KEYS[i]) > 0 then busy = true end
end
local round = tonumber(redis.call('GET', KEYS[2]) or '0')
if not busy or round == 0 then
  round = redis.call('INCR', KEYS[2])
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return round
"""

_HEARTBEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return 1
"""

# The spider name of a source is "policywatch:<source>" (crawler.spider.SourceSpider).
SPIDER_PREFIX = "policywatch:"
SEED_KEY_SECONDS = 30 * 24 * 3600  # a round's seed markers outlive any round


def namespace_for(db_path: str | os.PathLike[str]) -> str:
    """``policywatch:<database file name>``: the prefix of every Redis key of a crawl."""
    return f"policywatch:{Path(db_path).name}"


# The frontier's key names, here once for the workers and for `policywatch scale status`. The
# templates take scrapy-redis's ``%(spider)s``.
def round_key(namespace: str) -> str:
    """The round counter."""
    return f"{namespace}:round"


def workers_key(namespace: str) -> str:
    """The crawl workers' leases (member -> expiry, ms)."""
    return f"{namespace}:workers"


def queue_key_template(namespace: str) -> str:
    """Each spider's request queue (scrapy-redis ``SCHEDULER_QUEUE_KEY``)."""
    return f"{namespace}:%(spider)s:requests"


def seen_key_template(namespace: str, round_id: int | str) -> str:
    """Each spider's request fingerprints in a round (``SCHEDULER_DUPEFILTER_KEY``)."""
    return f"{namespace}:round:{round_id}:%(spider)s:seen"


def new_worker_id() -> str:
    """A worker id unique over machines: host, process and a random part."""
    import socket

    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class Frontier:
    """The Redis side of a shared crawl: rounds, worker leases, seeding, queue lengths."""

    def __init__(self, client: Any, namespace: str, *, lease_seconds: float = 30.0):
        self.client = client
        self.namespace = namespace
        self.lease_ms = max(1, int(lease_seconds * 1000))
        self._join = client.register_script(_JOIN)
        self._heartbeat = client.register_script(_HEARTBEAT)

    @classmethod
    def connect(cls, redis_url: str, namespace: str, **kwargs: Any) -> Frontier:
        """A frontier on the Redis server at ``redis_url`` (raises ``redis.RedisError``
        when it cannot be reached)."""
        import redis

        client = redis.Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=30)
        client.ping()
        return cls(client, namespace, **kwargs)

    # -- keys -------------------------------------------------------------------------------

    @property
    def workers_key(self) -> str:
        return workers_key(self.namespace)

    @property
    def round_key(self) -> str:
        return round_key(self.namespace)

    def queue_key(self, source: str) -> str:
        """The request queue of ``source`` (scrapy-redis ``SCHEDULER_QUEUE_KEY``)."""
        return queue_key_template(self.namespace) % {"spider": f"{SPIDER_PREFIX}{source}"}

    def scrapy_settings(self, redis_url: str, round_id: int) -> dict[str, Any]:
        """Scrapy settings that put the scheduler and the duplicate filter of round
        ``round_id`` in Redis at ``redis_url``."""
        return {
            "REDIS_URL": redis_url,
            "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_QUEUE_KEY": queue_key_template(self.namespace),
            "SCHEDULER_DUPEFILTER_KEY": seen_key_template(self.namespace, round_id),
        }

    def claim_article(self, round_id: int, url: str) -> bool:
        """True for exactly one caller per round and article URL, whatever the worker and
        source: the one that requests it (one process shares its ``scheduled`` set over its
        sources the same way)."""
        key = f"{self.namespace}:round:{round_id}:articles"
        added = self.client.sadd(key, url)
        self.client.expire(key, SEED_KEY_SECONDS)
        return bool(added)

    # -- rounds and workers -----------------------------------------------------------------

    def join(self, worker_id: str, sources: Sequence[str]) -> int:
        """Register ``worker_id`` and return the round it works in (a new one when no
        worker is alive and the queues of ``sources`` are empty)."""
        keys = [self.workers_key, self.round_key, *(self.queue_key(s) for s in sources)]
        return int(self._join(keys=keys, args=[worker_id, self.lease_ms]))

    def heartbeat(self, worker_id: str) -> None:
        """Renew the worker's lease."""
        self._heartbeat(keys=[self.workers_key], args=[worker_id, self.lease_ms])

    def leave(self, worker_id: str) -> None:
        """Unregister the worker."""
        self.client.zrem(self.workers_key, worker_id)

    def claim_seeding(self, round_id: int, source: str) -> bool:
        """True for exactly one caller per round and source: the one that pushes its seeds."""
        key = f"{self.namespace}:round:{round_id}:seeded:{source}"
        return bool(self.client.set(key, "1", nx=True, ex=SEED_KEY_SECONDS))

    def shared_fingerprints(self, round_id: int) -> Any:
        """The round's near-duplicate signatures (``crawler.shared_dedup``)."""
        from crawler.shared_dedup import SharedFingerprints

        return SharedFingerprints(self.client, f"{self.namespace}:round:{round_id}:minhashes")

    def queued(self, source: str) -> int:
        """Requests waiting in ``source``'s shared queue."""
        return int(self.client.zcard(self.queue_key(source)))

    def current_round(self) -> int:
        return int(self.client.get(self.round_key) or 0)


class FrontierExtension:
    """Keeps a crawl worker's spider open while the shared frontier has work, closes it
    after ``until_idle`` seconds without any, renews the worker's lease, and wakes the
    engine so requests pushed by other workers are taken at once (not at Scrapy's 5 s
    heartbeat).

    Settings: ``POLICYWATCH_FRONTIER`` (``redis_url``, ``namespace``, ``worker_id``,
    ``until_idle``: seconds or None for "never"); without it the extension does nothing.
    """

    TICK_SECONDS = 0.25  # how often the engine is woken to look at the shared queue
    RENEW_SECONDS = 5.0  # how often the worker's lease (30 s) is renewed

    def __init__(self, crawler: Crawler, conf: dict[str, Any]):
        from crawler.host_slots import HostSlots

        self.crawler = crawler
        self.frontier = Frontier.connect(conf["redis_url"], conf["namespace"])
        self.slots = HostSlots(self.frontier.client, conf["namespace"])
        self.worker_id: str = conf["worker_id"]
        until = conf.get("until_idle")
        self.until_idle: float | None = None if until is None else float(until)
        self.idle_since: float | None = None
        self._renewed = time.monotonic()  # join() has just registered the worker
        self.source: str | None = None
        self._loop: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierExtension | None:
        from scrapy.exceptions import NotConfigured

        conf = crawler.settings.getdict("POLICYWATCH_FRONTIER")
        if not conf:
            raise NotConfigured  # silently: not a crawl worker
        ext = cls(crawler, conf)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Any) -> None:
        from twisted.internet import task

        self.source = spider.source.name
        self._loop = task.LoopingCall(self._tick)
        self._loop.start(self.TICK_SECONDS, now=False)

    def _tick(self) -> None:
        now = time.monotonic()
        if now - self._renewed >= self.RENEW_SECONDS:
            try:
                self.frontier.heartbeat(self.worker_id)
                self._renewed = now
            except Exception as exc:  # a Redis hiccup must not end the crawl: the lease
                logger.warning("frontier heartbeat failed: %s", exc)  # outlives a few
        slot = getattr(getattr(self.crawler, "engine", None), "_slot", None)
        nextcall = getattr(slot, "nextcall", None)
        if nextcall is not None:
            nextcall.schedule()  # take requests other workers pushed; re-check idleness

    def has_work(self) -> bool:
        """Whether the source's shared queue has requests or any request is in flight."""
        assert self.source is not None
        return self.frontier.queued(self.source) > 0 or self.slots.in_flight() > 0

    def spider_idle(self, spider: Any) -> None:
        if self.has_work():
            self.idle_since = None
            raise DontCloseSpider
        if self.until_idle is None:
            raise DontCloseSpider
        now = time.monotonic()
        if self.idle_since is None:
            self.idle_since = now
        if now - self.idle_since < self.until_idle:
            raise DontCloseSpider
        logger.info("%s: the shared queue was idle for %.0fs; stopping", spider.name,
                    self.until_idle)

    def spider_closed(self, spider: Any) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
