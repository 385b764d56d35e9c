"""The one place where the crawler's Scrapy settings and their defaults are defined.

``build_settings(overrides)`` returns the Scrapy ``Settings`` for a crawl. Every default below
is chosen for polite, safe crawling of public news sites; tests and benchmarks override a few
(timeouts, delays) through the ``overrides`` dict, the CLI through ``crawl(settings=...)``.

policywatch-specific settings:

``POLICYWATCH_CONTACT_URL``
    Where site owners can reach the operator; it goes into the User-Agent.
``POLICYWATCH_EMBED``
    Optional sentence-embedding callable (``list[str] -> array``) handed to ``split_stories``
    to split newsletters by topic shifts, or its dotted import path (preferred, since crawls
    run in a child process). Default None.
``POLICYWATCH_HOSTS``
    ``{host: address}`` fixed name resolutions (like /etc/hosts); still subject to the
    private-address check.
``POLICYWATCH_BATCH_SIZE``
    Articles per database transaction in the item pipeline.
``POLICYWATCH_SITEMAP_MAX_DEPTH``
    How deep sitemap indexes may nest below a configured sitemap (or a robots.txt
    ``Sitemap:`` line): 3 means index -> index -> index -> sitemap. Deeper ones are not
    fetched and are counted as ``sitemap_too_deep`` errors.
``POLICYWATCH_SITEMAP_MAX_FILES``
    Sitemap documents (indexes and their children) fetched per source and run; the rest
    are counted as ``sitemap_limit`` errors and not fetched.
``POLICYWATCH_SITEMAP_MAX_URLS``
    Entries read from one sitemap document (the sitemap protocol's own limit is 50,000);
    a longer one is cut and counted as a ``sitemap_limit`` error.
``POLICYWATCH_FLUSH_SECONDS``
    Longest time the item pipeline buffers items before writing them (default 1 s). Each
    write opens the database, writes one transaction and closes it, so read commands get the
    file between writes.
``POLICYWATCH_FRONTIER``
    Only in a crawl worker of a shared frontier (``policywatch worker crawl``): a dict with
    ``redis_url``, ``namespace``, ``worker_id`` and ``until_idle`` (seconds, or None to wait
    for work until stopped). It switches on the Redis scheduler (``crawler.frontier``) and
    the per-host leases in Redis (``crawler.host_slots``). Default: unset.
``POLICYWATCH_PARTS_DIR``
    Write batches as Parquet parts in this folder instead of the database file
    (``crawler.sinks.PartsSink``); the database is only read, once, at the start.
``POLICYWATCH_HOST_LEASE_SECONDS``
    How long a worker's lease on a host slot lives if the worker dies (default: twice
    ``DOWNLOAD_TIMEOUT`` plus a minute).
``RETRY_BACKOFF_BASE``, ``RETRY_BACKOFF_MAX``, ``RETRY_AFTER_MAX``
    Retry pacing (see ``crawler.middlewares.BackoffRetryMiddleware``).
``CRAWL_DELAY_MAX``
    Upper bound applied to a robots.txt ``Crawl-delay``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from scrapy.settings import Settings

__all__ = ["DEFAULTS", "DEFAULT_CONTACT_URL", "build_settings", "native_reactor", "user_agent"]

DEFAULT_CONTACT_URL = "https://github.com/policywatch/policywatch"
VERSION = "0.1"


def user_agent(contact_url: str = DEFAULT_CONTACT_URL) -> str:
    """``policywatch/0.1 (+CONTACT_URL)``."""
    return f"policywatch/{VERSION} (+{contact_url})"


def native_reactor() -> str:
    """Twisted's native reactor for this platform (epoll on Linux, poll elsewhere)."""
    if sys.platform.startswith("linux"):
        return "twisted.internet.epollreactor.EPollReactor"
    return "twisted.internet.pollreactor.PollReactor"


DEFAULTS: dict[str, Any] = {
    "BOT_NAME": "policywatch",
    "POLICYWATCH_CONTACT_URL": DEFAULT_CONTACT_URL,
    "POLICYWATCH_EMBED": None,
    "POLICYWATCH_HOSTS": {},
    "POLICYWATCH_BATCH_SIZE": 100,
    "POLICYWATCH_SITEMAP_MAX_DEPTH": 3,
    "POLICYWATCH_SITEMAP_MAX_FILES": 500,
    "POLICYWATCH_SITEMAP_MAX_URLS": 50_000,
    "POLICYWATCH_FLUSH_SECONDS": 1.0,
    "POLICYWATCH_FRONTIER": {},
    "POLICYWATCH_PARTS_DIR": None,
    # -- politeness
    "ROBOTSTXT_OBEY": True,
    "ROBOTSTXT_USER_AGENT": "policywatch",
    "CRAWL_DELAY_MAX": 60.0,
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_START_DELAY": 1.0,
    "AUTOTHROTTLE_MAX_DELAY": 30.0,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 2.0,
    "DOWNLOAD_DELAY": 0.5,  # floor of AutoThrottle's delay per host
    "CONCURRENT_REQUESTS": 16,  # over all sources crawled by one spider
    "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
    "COOKIES_ENABLED": False,
    # -- safety limits
    "DOWNLOAD_TIMEOUT": 30,
    "DOWNLOAD_MAXSIZE": 10 * 1024 * 1024,  # also caps decompressed bodies (gzip bombs)
    "DOWNLOAD_WARNSIZE": 2 * 1024 * 1024,
    "DNS_TIMEOUT": 20,
    "REDIRECT_MAX_TIMES": 5,
    "METAREFRESH_ENABLED": False,
    "URLLENGTH_LIMIT": 2083,
    # -- retries: 429 and 5xx, with backoff and Retry-After
    "RETRY_ENABLED": True,
    "RETRY_TIMES": 3,
    "RETRY_HTTP_CODES": [429, 500, 502, 503, 504, 522, 524, 408],
    "RETRY_BACKOFF_BASE": 2.0,
    "RETRY_BACKOFF_MAX": 60.0,
    "RETRY_AFTER_MAX": 120.0,
    # -- plumbing
    # Not the asyncio reactor: under it Scrapy 2.19 starts each download as an asyncio task and
    # counts it against CONCURRENT_REQUESTS_PER_DOMAIN only when the task runs, so a queue of
    # requests (e.g. all released once robots.txt is parsed) goes out at once, ignoring the
    # per-domain limit. The native reactor starts downloads synchronously and keeps the limit.
    "TWISTED_REACTOR": native_reactor(),
    "TELNETCONSOLE_ENABLED": False,
    "REMOTE_CONTROL_ENABLED": False,  # no listening sockets
    "LOG_LEVEL": "INFO",
    "HTTPCACHE_ENABLED": False,  # fine for development; incremental logic never relies on it
    "DOWNLOADER_MIDDLEWARES": {
        "crawler.middlewares.AllowedDomainsMiddleware": 60,
        "crawler.middlewares.PrivateAddressMiddleware": 70,
        "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
        "crawler.middlewares.RobotsTxtMiddleware": 100,
        "crawler.middlewares.ConditionalRequestMiddleware": 540,
        "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
        "crawler.middlewares.BackoffRetryMiddleware": 550,
        # Last before the network: a lease is held only by a request really downloading.
        "crawler.host_slots.RedisHostSlotsMiddleware": 950,
    },
    "EXTENSIONS": {"crawler.middlewares.RobotsCrawlDelay": 10,
                   "crawler.frontier.FrontierExtension": 20},
    "ITEM_PIPELINES": {"crawler.pipelines.StorePipeline": 300},
}


def build_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """Scrapy settings: ``DEFAULTS`` updated with ``overrides`` (dict settings are merged)."""
    merged: dict[str, Any] = {k: dict(v) if isinstance(v, dict) else v for k, v in DEFAULTS.items()}
    for key, value in (overrides or {}).items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key].update(value)
        else:
            merged[key] = value
    if "USER_AGENT" not in (overrides or {}):
        merged["USER_AGENT"] = user_agent(merged["POLICYWATCH_CONTACT_URL"])
    settings = Settings()
    settings.setdict(merged, priority="project")
    return settings
