"""Starting a crawl worker of a shared frontier, and compacting the parts workers wrote.

A crawl worker is the usual crawl (``crawler.run.crawl``: one spider per source, in a child
process) with two settings added: ``POLICYWATCH_FRONTIER`` puts its request queue and
seen-request filter in Redis and its per-host politeness in Redis leases
(``crawler.frontier``, ``crawler.host_slots``); with ``store = "parts"``,
``POLICYWATCH_PARTS_DIR`` makes it write Parquet parts instead of the database file
(``crawler.sinks.PartsSink``). It takes no crawl lock: many workers run at once by design.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from scale.settings import ENV_REDIS, ScaleSettings

__all__ = ["ScaleError", "check_redis", "compact_parts", "run_crawl_worker",
           "worker_crawl_settings"]


class ScaleError(Exception):
    """Scale-out cannot run as set up (no Redis URL, Redis unreachable); one line."""


def check_redis(settings: ScaleSettings) -> str:
    """The Redis URL, after checking that the server answers; :class:`ScaleError` if it is
    not set or cannot be reached."""
    if not settings.redis_url:
        raise ScaleError(
            f"no Redis URL set: put redis = \"redis://HOST:6379/0\" under [scale] in the "
            f"$POLICYWATCH_CONFIG file, or set ${ENV_REDIS}")
    import redis

    try:
        client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=5,
                                      socket_timeout=5)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, ValueError) as exc:
        raise ScaleError(f"cannot reach Redis at {settings.redis_url}: {exc}") from None
    return settings.redis_url


def worker_crawl_settings(db_path: str | os.PathLike[str], settings: ScaleSettings, *,
                          until_idle: float | None, worker_id: str | None = None
                          ) -> dict[str, Any]:
    """The crawl settings that make a crawl a worker of the shared frontier of ``db_path``."""
    from crawler.frontier import namespace_for, new_worker_id

    assert settings.redis_url is not None
    out: dict[str, Any] = {
        "POLICYWATCH_FRONTIER": {
            "redis_url": settings.redis_url,
            "namespace": namespace_for(db_path),
            "worker_id": worker_id or new_worker_id(),
            "until_idle": until_idle,
        },
    }
    if settings.store == "parts":
        out["POLICYWATCH_PARTS_DIR"] = str(settings.parts_path(db_path))
    return out


def run_crawl_worker(db_path: str | os.PathLike[str], sources: Sequence[Any],
                     settings: ScaleSettings, *, until_idle: float | None = None,
                     crawl_settings: Mapping[str, Any] | None = None,
                     progress: Callable[[dict[str, Any]], None] | None = None) -> Any:
    """Run one crawl worker until the shared queue has been idle for ``until_idle``
    seconds (None: until stopped) and return its :class:`crawler.run.CrawlReport`.

    Raises :class:`ScaleError` when Redis is not set or not reachable, and
    ``crawler.run.CrawlError`` when the crawl cannot run.
    """
    from crawler.run import crawl

    check_redis(settings)
    if until_idle is not None and until_idle < 0:
        raise ScaleError("--until-idle must be 0 seconds or more")
    if settings.store == "parts":
        Path(settings.parts_path(db_path)).mkdir(parents=True, exist_ok=True)
    merged = {**dict(crawl_settings or {}),
              **worker_crawl_settings(db_path, settings, until_idle=until_idle)}
    return crawl(db_path, list(sources), settings=merged, progress=progress, lock=False)


def compact_parts(db_path: str | os.PathLike[str], settings: ScaleSettings) -> Any:
    """Ingest the parts crawl workers wrote for ``db_path`` (``store.parts.compact``)."""
    from store.parts import compact

    return compact(db_path, settings.parts_path(db_path))
