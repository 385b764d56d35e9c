"""What ``policywatch scale status`` shows: the setting, the crawl frontier in Redis, the
Parquet parts waiting for compaction, the stories waiting for processing and the Ray cluster.

Each part is gathered on its own; a service that cannot be reached becomes one line in its
part (``{"error": ...}``), never an exception, so the status of the others still shows.

The Redis key names are those of the shared crawl frontier (``crawler/frontier.py``): every
key of a crawl starts with ``policywatch:<database file name>``; scrapy-redis keeps each
source's request queue in ``<ns>:<spider>:requests`` (a sorted set) and the fingerprints of
the current round's requests in ``<ns>:round:<round>:<spider>:seen`` (a set); ``<ns>:round``
counts the rounds and ``<ns>:workers`` holds the crawl workers' leases (member -> expiry, ms).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from crawler.frontier import (
    namespace_for,
    queue_key_template,
    round_key,
    seen_key_template,
    workers_key,
)
from scale.settings import ScaleSettings
from store import db as store_db
from store import facts as store_facts


def frontier_keys(namespace: str) -> dict[str, str]:
    """The frontier's key names (``*`` patterns where a key is per spider or per round)."""
    any_spider = {"spider": "*"}
    return {"round": round_key(namespace), "workers": workers_key(namespace),
            "requests": queue_key_template(namespace) % any_spider,
            "seen": seen_key_template(namespace, "{round}") % any_spider}


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def setting_status(settings: ScaleSettings, db_path: Path) -> dict[str, Any]:
    """The setting in force (``None`` where a service is not named)."""
    return {"redis": settings.redis_url, "ray": settings.ray_address, "store": settings.store,
            "database": str(db_path),
            "parts_dir": str(settings.parts_path(db_path)) if settings.store == "parts"
            else None}


def redis_status(redis_url: str, namespace: str) -> dict[str, Any]:
    """Request queue lengths and seen-URL counts per spider, the round and live workers."""
    try:
        import redis
    except ImportError:
        return {"error": "redis-py is not installed: pip install 'policywatch[scale]'"}
    keys = frontier_keys(namespace)
    try:
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=5)
        client.ping()
        round_id = int(client.get(keys["round"]) or 0)
        queued = {_spider(k.decode(), namespace, ":requests"): int(client.zcard(k))
                  for k in client.scan_iter(match=keys["requests"], count=500)
                  if not k.decode().startswith(f"{namespace}:round:")}
        seen_pattern = keys["seen"].format(round=round_id)
        seen_prefix = seen_pattern.split("*")[0]
        seen = {k.decode()[len(seen_prefix):].removesuffix(":seen"): int(client.scard(k))
                for k in client.scan_iter(match=seen_pattern, count=500)}
        now_ms = int(time.time() * 1000)
        workers = int(client.zcount(keys["workers"], f"({now_ms}", "+inf"))
    except (redis.RedisError, OSError, ValueError) as exc:
        return {"error": f"cannot reach Redis at {redis_url}: {_one_line(exc)}"}
    return {"namespace": namespace, "round": round_id, "crawl_workers": workers,
            "queued_requests": dict(sorted(queued.items())),
            "seen_requests": dict(sorted(seen.items()))}


def _spider(key: str, namespace: str, suffix: str) -> str:
    return key[len(namespace) + 1:].removesuffix(suffix)


def parts_status(settings: ScaleSettings, db_path: Path) -> dict[str, Any] | None:
    """Parts written by crawl workers and not yet compacted (``store = "parts"`` only)."""
    if settings.store != "parts":
        return None
    from store import parts as store_parts

    folder = settings.parts_path(db_path)
    try:
        waiting = store_parts.pending_parts(folder)
    except OSError as exc:
        return {"error": f"cannot read {folder}: {exc.strerror or exc}"}
    return {"folder": str(folder), "waiting": len(waiting)}


def stories_status(db_path: Path) -> dict[str, Any]:
    """Stories waiting for processing by this extractor version."""
    import nlp

    try:
        with store_db.session(db_path, read_only=True) as con:
            waiting = store_facts.count_stories_to_process(con, nlp.pipeline_version())
            total = int(con.execute("SELECT count(*) FROM stories").fetchone()[0])
    except store_db.StoreError as exc:
        return {"error": str(exc)}
    return {"waiting": waiting, "stored": total}


def ray_status(address: str) -> dict[str, Any]:
    """Nodes, CPUs (total and free) and live actors of the cluster at ``address``."""
    from scale.ray_process import RayUnavailable, connect

    try:
        ray = connect(address)
    except RayUnavailable as exc:
        return {"error": str(exc)}
    try:
        total = ray.cluster_resources()
        free = ray.available_resources()
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        status: dict[str, Any] = {
            "address": address, "nodes": len(nodes), "cpus": total.get("CPU", 0),
            "cpus_free": free.get("CPU", 0),
            "memory_gb": round(total.get("memory", 0) / 2**30, 1)}
        try:
            from ray.util.state import list_actors

            actors = list_actors(filters=[("state", "=", "ALIVE")], timeout=5,
                                 raise_on_missing_output=False)
            status["actors"] = len(actors)
        except Exception as exc:  # the state API needs Ray's dashboard process
            status["actors"] = f"unknown ({_one_line(exc)})"
        return status
    finally:
        ray.shutdown()


def scale_status(settings: ScaleSettings, db_path: Path) -> dict[str, Any]:
    """Everything ``scale status`` shows, one key per part (``None``: not configured)."""
    return {
        "setting": setting_status(settings, db_path),
        "redis": redis_status(settings.redis_url, namespace_for(db_path))
        if settings.redis_url else None,
        "parts": parts_status(settings, db_path),
        "stories": stories_status(db_path),
        "ray": ray_status(settings.ray_address) if settings.ray_address else None,
    }
