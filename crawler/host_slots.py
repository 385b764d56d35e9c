"""Politeness per host across crawl processes: concurrency and delay enforced in Redis.

Scrapy's own limits (``CONCURRENT_REQUESTS_PER_DOMAIN``, ``DOWNLOAD_DELAY``, AutoThrottle,
robots.txt ``Crawl-delay``) hold inside one process. When several crawl workers share one
frontier (``crawler.frontier``), :class:`RedisHostSlotsMiddleware` makes them hold across all
of them: before a request goes to the network it takes a *lease* on its host's slot in
Redis. One Lua script (atomic on the server) grants the lease only while fewer than
``limit`` leases of that host are held and the host's next-allowed time has passed, and then
moves the next-allowed time on by the delay; otherwise it answers how long to wait. A lease
is given back when the response or the failure comes back, and it expires by itself after
``lease_seconds`` if its worker dies, so a dead worker never blocks a host for good.

Times are the Redis server's clock (``TIME``), so machines whose clocks disagree still
agree on the delay; tests pass their own clock.

The middleware waits with ``deferLater`` on the reactor (never a blocking sleep); the Redis
calls themselves are short blocking round trips to a server on the local network, like the
scheduler's own (scrapy-redis).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

__all__ = ["HostSlots", "RedisHostSlotsMiddleware"]

logger = logging.getLogger(__name__)

_ACQUIRE = """
-- KEYS[1]: the host's leases (zset lease -> expiry ms); KEYS[2]: the host's next-allowed
-- time (ms); KEYS[3]: every lease of the namespace (zset "host|lease" -> expiry ms).
-- ARGV: lease id, limit, delay ms, lease ttl ms, now ms ('' = the server's clock).
local now = tonumber(ARGV[5])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(first[2]) - now, 1}
end
local next_at = tonumber(redis.call('GET', KEYS[2]) or '0')
if now < next_at then
  return {0, next_at - now, 0}
end
local ttl = tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[3], now + ttl, KEYS[1] .. '|' .. ARGV[1])
redis.call('PEXPIRE', KEYS[3], ttl)
local delay = tonumber(ARGV[3])
if delay > 0 then
  redis.call('SET', KEYS[2], now + delay, 'PX', delay)
end
return {1, 0, 0}
"""

_RELEASE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], KEYS[1] .. '|' .. ARGV[1])
return 1
"""

_IN_FLIGHT = """
local t = redis.call('TIME')
local now = tonumber(ARGV[1]) or (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
"""


class HostSlots:
    """Leases on per-host slots kept in Redis under ``namespace``.

    ``limit``: leases one host may have at once (its requests in flight, over every
    worker); ``lease_seconds``: how long a lease lives unless given back; ``poll_seconds``:
    the longest wait before asking a full slot again (a lease may be given back at any
    time); ``clock``: a function giving now in milliseconds (default: the Redis server's
    clock).
    """

    def __init__(self, client: Any, namespace: str, *, limit: int = 2,
                 lease_seconds: float = 120.0, poll_seconds: float = 0.05,
                 clock: Callable[[], int] | None = None):
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.client = client
        self.namespace = namespace
        self.limit = limit
        self.lease_ms = max(1, int(lease_seconds * 1000))
        self.poll_seconds = poll_seconds
        self.clock = clock
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)
        self._in_flight = client.register_script(_IN_FLIGHT)

    def _keys(self, host: str) -> list[str]:
        base = f"{self.namespace}:host:{host.lower()}"
        return [f"{base}:leases", f"{base}:next", f"{self.namespace}:leases"]

    def _now(self) -> str:
        return str(int(self.clock())) if self.clock is not None else ""

    def try_acquire(self, host: str, lease: str, delay: float = 0.0) -> float:
        """Take lease ``lease`` on ``host``'s slot: 0.0 when granted, else the seconds to
        wait before asking again (until the host's delay has passed, or at most
        ``poll_seconds`` while its slot is full)."""
        granted, wait_ms, full = self._acquire(
            keys=self._keys(host),
            args=[lease, self.limit, max(0, int(delay * 1000)), self.lease_ms, self._now()])
        if int(granted):
            return 0.0
        wait = max(0.001, int(wait_ms) / 1000)
        return min(wait, self.poll_seconds) if int(full) else wait

    def release(self, host: str, lease: str) -> None:
        """Give lease ``lease`` on ``host`` back (nothing happens if it has expired)."""
        keys = self._keys(host)
        self._release(keys=[keys[0], keys[2]], args=[lease])

    def in_flight(self) -> int:
        """Leases held now, over every host of the namespace."""
        return int(self._in_flight(keys=[f"{self.namespace}:leases"], args=[self._now()]))


async def _sleep(seconds: float) -> None:
    from twisted.internet import reactor, task

    await maybe_deferred_to_future(task.deferLater(reactor, seconds, lambda: None))


class RedisHostSlotsMiddleware:
    """Take a Redis lease on the request's host before it is downloaded; give it back on
    the response or the failure (see the module docstring).

    Settings: ``POLICYWATCH_FRONTIER`` (``redis_url``, ``namespace``: present only in a
    crawl worker; without it the middleware does nothing), ``CONCURRENT_REQUESTS_PER_DOMAIN``
    (the limit per host), ``DOWNLOAD_DELAY`` (the least delay between two requests to a host;
    a longer delay of the host's Scrapy slot -- AutoThrottle, robots.txt Crawl-delay -- wins),
    ``POLICYWATCH_HOST_LEASE_SECONDS`` (default: twice ``DOWNLOAD_TIMEOUT`` plus a minute).
    """

    def __init__(self, crawler: Crawler, slots: HostSlots | None):
        self.crawler = crawler
        self.slots = slots
        self.min_delay = crawler.settings.getfloat("DOWNLOAD_DELAY", 0.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisHostSlotsMiddleware:
        conf = crawler.settings.getdict("POLICYWATCH_FRONTIER")
        if not conf:
            return cls(crawler, None)
        import redis

        timeout = crawler.settings.getfloat("DOWNLOAD_TIMEOUT", 30.0)
        slots = HostSlots(
            redis.Redis.from_url(conf["redis_url"]), conf["namespace"],
            limit=crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 2),
            lease_seconds=crawler.settings.getfloat("POLICYWATCH_HOST_LEASE_SECONDS",
                                                    2 * timeout + 60))
        return cls(crawler, slots)

    def _delay(self, request: Request) -> float:
        delay = self.min_delay
        engine = getattr(self.crawler, "engine", None)
        downloader = getattr(engine, "downloader", None)
        if downloader is not None:
            slot = downloader.slots.get(downloader.get_slot_key(request))
            if slot is not None:
                delay = max(delay, float(slot.delay))
        return delay

    async def process_request(self, request: Request) -> None:
        if self.slots is None:
            return
        host = urlparse_cached(request).hostname or ""
        lease = uuid.uuid4().hex
        while True:
            wait = self.slots.try_acquire(host, lease, self._delay(request))
            if wait == 0:
                break
            await _sleep(wait)
        request.meta["pw_host_lease"] = (host, lease)

    def _give_back(self, request: Request) -> None:
        held = request.meta.pop("pw_host_lease", None)
        if held is not None and self.slots is not None:
            self.slots.release(*held)

    def process_response(self, request: Request, response: Response) -> Response:
        self._give_back(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._give_back(request)
        return None
