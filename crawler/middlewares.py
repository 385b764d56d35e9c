"""Downloader middlewares and the crawl-delay extension that keep the crawler polite and safe.

* :class:`AllowedDomainsMiddleware` refuses any request -- redirects included, whatever their
  ``dont_filter`` -- whose host is outside the source's ``allowed_domains``, and redirects
  to a port other than the original URL's or the default port of the target's scheme.
* :class:`PrivateAddressMiddleware` resolves each host before any connection is made and
  refuses private, loopback, link-local, reserved and multicast targets, IPv6 forms that
  embed them included (SSRF guard, rule in :mod:`crawler.addresses`); sources marked
  ``local = true`` may use loopback only. The resolution goes through Scrapy's DNS cache,
  so the connection uses the address that was checked.
* :class:`ConditionalRequestMiddleware` sends ``If-None-Match`` / ``If-Modified-Since`` for
  feeds and sitemaps and records the validators of each response.
* :class:`BackoffRetryMiddleware` retries 429/5xx and network errors after an exponential
  backoff, honouring ``Retry-After`` (seconds or HTTP date) up to ``RETRY_AFTER_MAX``.
* :class:`RobotsCrawlDelay` (an extension) applies a robots.txt ``Crawl-delay`` as the
  minimum download delay of that host's slot, also under AutoThrottle.
* :class:`RobotsTxtMiddleware` is Scrapy's robots.txt middleware, with a robots.txt that
  cannot be downloaded counted as an error of the source (``robots_unreachable``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxt
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message

from crawler.addresses import address_allowed, ip_literal
from crawler.urls import host_allowed, redirect_port_allowed

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

__all__ = [
    "AllowedDomainsMiddleware",
    "BackoffRetryMiddleware",
    "BlockedAddressError",
    "ConditionalRequestMiddleware",
    "OffsiteRedirectError",
    "PrivateAddressMiddleware",
    "RobotsCrawlDelay",
    "RobotsTxtMiddleware",
    "address_allowed",
    "parse_retry_after",
]

Resolver = Callable[[str], Awaitable[list[str]]]


class BlockedAddressError(IgnoreRequest):
    """A request to a private, loopback or link-local address was refused before connecting."""


class OffsiteRedirectError(IgnoreRequest):
    """A request (typically a redirect) left the source's allowed domains."""


def _source(crawler: Crawler | None) -> Any:
    spider = crawler.spider if crawler is not None else None
    return getattr(spider, "source", None)


class AllowedDomainsMiddleware:
    """Refuse requests whose host is outside ``spider.source.allowed_domains``."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AllowedDomainsMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        source = _source(self.crawler)
        if source is None or not source.allowed_domains:
            return
        host = urlparse_cached(request).hostname or ""
        origin = (request.meta.get("redirect_urls") or [None])[0]
        if not host_allowed(host, source.allowed_domains):
            what = f"redirect from {origin} to" if origin else "request to"
            raise OffsiteRedirectError(f"refused {what} {host!r}: outside allowed_domains")
        if origin is not None and not redirect_port_allowed(origin, request.url):
            raise OffsiteRedirectError(
                f"refused redirect from {origin} to {request.url}: another port")


def _ip_literal(host: str) -> str | None:
    ip = ip_literal(host)
    return str(ip) if ip is not None else None


async def _scrapy_resolve(host: str) -> list[str]:
    # reactor.resolve goes through Scrapy's caching resolver (DNS_RESOLVER), whose cache the
    # HTTP handler consults when it connects: the checked address is the one used.
    from twisted.internet import reactor

    address = await maybe_deferred_to_future(reactor.resolve(host))  # type: ignore[attr-defined]
    return [address]


class PrivateAddressMiddleware:
    """Resolve each request's host and refuse non-public addresses before connecting.

    ``hosts`` (setting ``POLICYWATCH_HOSTS``) maps host names to fixed addresses, like
    /etc/hosts; those entries are also placed in Scrapy's DNS cache so connections use them.
    ``resolver`` is an async callable ``host -> [addresses]`` (tests pass a stub).
    """

    def __init__(
        self,
        crawler: Crawler | None = None,
        *,
        hosts: Mapping[str, str] | None = None,
        resolver: Resolver | None = None,
    ):
        self.crawler = crawler
        self.hosts = {k.lower(): v for k, v in (hosts or {}).items()}
        self.resolver: Resolver = resolver or _scrapy_resolve

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateAddressMiddleware:
        return cls(crawler, hosts=crawler.settings.getdict("POLICYWATCH_HOSTS"))

    async def addresses(self, host: str) -> list[str]:
        """The addresses ``host`` resolves to (an IP literal resolves to itself)."""
        literal = _ip_literal(host)
        if literal is not None:
            return [literal]
        fixed = self.hosts.get(host.lower())
        if fixed is not None:
            from scrapy.resolver import dnscache

            dnscache[host] = fixed
            return [fixed]
        return await self.resolver(host)

    async def check(self, url_or_request: str | Request, *, local: bool = False) -> None:
        """Raise :class:`BlockedAddressError` unless every address of the host is allowed."""
        if isinstance(url_or_request, Request):
            host = urlparse_cached(url_or_request).hostname or ""
        else:
            from urllib.parse import urlsplit

            host = urlsplit(url_or_request).hostname or ""
        if not host:
            raise BlockedAddressError("refused a URL without a host")
        try:
            addresses = await self.addresses(host)
        except Exception as exc:  # resolution failure: never connect to an unchecked address
            raise IgnoreRequest(f"cannot resolve {host!r}: {exc}") from exc
        if not addresses:
            raise IgnoreRequest(f"cannot resolve {host!r}: no addresses")
        for address in addresses:
            if not address_allowed(address, allow_loopback=local):
                raise BlockedAddressError(
                    f"refused {host!r}: it resolves to the non-public address {address}"
                )

    async def process_request(self, request: Request) -> None:
        source = _source(self.crawler)
        await self.check(request, local=bool(getattr(source, "local", False)))


class ConditionalRequestMiddleware:
    """Conditional GETs for requests with ``meta["pw_conditional"]`` (feeds, sitemaps).

    Validators come from ``spider.state.validators`` (loaded from the store at start) and the
    ones received are recorded with ``spider.state.record_validators``.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        return cls(crawler)

    def _state(self) -> Any:
        return getattr(self.crawler.spider, "state", None)

    def process_request(self, request: Request) -> None:
        state = self._state()
        if state is None or not request.meta.get("pw_conditional"):
            return
        etag, last_modified = state.validators.get(request.url, (None, None))
        if etag:
            request.headers.setdefault(b"If-None-Match", etag.encode("latin-1", "replace"))
        if last_modified:
            request.headers.setdefault(
                b"If-Modified-Since", last_modified.encode("latin-1", "replace")
            )

    def process_response(self, request: Request, response: Response) -> Response:
        state = self._state()
        if state is not None and request.meta.get("pw_conditional"):
            if response.status in (200, 304):
                state.record_validators(request.url, response)
        return response


def parse_retry_after(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


async def _sleep(seconds: float) -> None:
    if seconds <= 0:
        return
    from twisted.internet import reactor, task

    await maybe_deferred_to_future(task.deferLater(reactor, seconds, lambda: None))


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry middleware with exponential backoff and ``Retry-After`` support.

    Settings: ``RETRY_BACKOFF_BASE`` (seconds before the first retry, doubled each time),
    ``RETRY_BACKOFF_MAX`` (cap of the backoff) and ``RETRY_AFTER_MAX`` (a ``Retry-After``
    longer than this is not waited for: the request fails with its HTTP status).
    """

    def __init__(self, settings: Any):
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
        self.retry_after_max = settings.getfloat("RETRY_AFTER_MAX", 120.0)

    def backoff(self, retry_times: int) -> float:
        """Seconds to wait before retry number ``retry_times + 1``."""
        return min(self.backoff_max, self.backoff_base * (2**retry_times))

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        wait = self.backoff(request.meta.get("retry_times", 0))
        retry_after = parse_retry_after(response.headers.get(b"Retry-After"))
        if retry_after is not None:
            if retry_after > self.retry_after_max:
                logger.warning(
                    "Not retrying %s: Retry-After %.0fs exceeds RETRY_AFTER_MAX",
                    request.url,
                    retry_after,
                )
                return response
            wait = retry_after
        new_request = self._retry(request, response_status_message(response.status))
        if new_request is None:
            return response
        self.crawler.stats.inc_value("retry/wait_seconds", wait)
        await _sleep(wait)
        return new_request

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception, spider: Any = None
    ) -> Request | Response | None:
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get(
            "dont_retry", False
        ):
            return None
        new_request = self._retry(request, exception)
        if new_request is None:
            return None
        await _sleep(self.backoff(request.meta.get("retry_times", 0)))
        return new_request


class RobotsCrawlDelay:
    """Apply robots.txt ``Crawl-delay`` as a per-host minimum download delay.

    Listens to ``robots_parsed`` (sent by Scrapy's robots.txt middleware) and keeps the slot's
    delay at or above the crawl delay after every response, so AutoThrottle cannot lower it.
    Delays above ``CRAWL_DELAY_MAX`` are capped.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.user_agent = crawler.settings.get("ROBOTSTXT_USER_AGENT") or crawler.settings.get(
            "USER_AGENT"
        )
        self.max_delay = crawler.settings.getfloat("CRAWL_DELAY_MAX", 60.0)
        self.delays: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsCrawlDelay:
        ext = cls(crawler)
        crawler.signals.connect(ext.robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(ext.response_downloaded, signal=signals.response_downloaded)
        return ext

    def robots_parsed(self, robotparser: Any, request: Request) -> None:
        rp = getattr(robotparser, "rp", None)
        crawl_delay = getattr(rp, "crawl_delay", None)
        if crawl_delay is None:
            return
        delay = crawl_delay(self.user_agent)
        if not delay:
            return
        delay = min(float(delay), self.max_delay)
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        self.delays[key] = delay
        logger.info("robots.txt Crawl-delay for %s: %.1fs", key, delay)
        # Slots created later pick this up; an existing slot is updated in place. No jitter:
        # a randomised delay could fall below the site's stated minimum.
        downloader.per_slot_settings.setdefault(key, {}).update(delay=delay, jitter=0)
        slot = downloader.slots.get(key)
        if slot is not None:
            slot.delay = max(slot.delay, delay)
            slot.jitter = 0

    def response_downloaded(self, response: Response, request: Request, spider: Any) -> None:
        key = request.meta.get("download_slot")
        delay = self.delays.get(key) if key is not None else None
        if delay is None:
            return
        slot = self.crawler.engine.downloader.slots.get(key)
        if slot is not None and slot.delay < delay:
            slot.delay = delay


class RobotsTxtMiddleware(ScrapyRobotsTxt):
    """Scrapy's robots.txt middleware; a robots.txt that cannot be downloaded (connection
    refused, timeout ...) is counted as a ``robots_unreachable`` error of the source and
    reported in one line. The host's pages are then fetched as Scrapy does (no rules known),
    and each of their own failures is counted too.
    """

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if not isinstance(exc, IgnoreRequest):
            spider = self.crawler.spider
            state = getattr(spider, "state", None)
            if state is not None:
                state.error("robots_unreachable")
            logger.warning("robots_unreachable: %s/robots.txt (%s)", netloc, exc)
        super()._robots_error(exc, netloc)
