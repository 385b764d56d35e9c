"""Crawl sources: what to fetch for each publisher, loaded and validated from a TOML file.

A source names its discovery points (RSS/Atom feeds, XML sitemaps or ``robots.txt`` files whose
``Sitemap:`` lines point at sitemaps, and listing pages with a link pattern), the domains it may
fetch from, an optional re-crawl ``interval`` and ``local = true`` for sources served from the
loopback interface (tests, demos). Every mistake in the file is reported as a
:class:`SourcesError` with a one-line message naming the file, the source and the field.

Example::

    [[source]]
    name = "dhsc"
    feeds = ["https://www.gov.uk/government/organisations/department-of-health-and-social-care.atom"]
    interval = "2h"

    [[source]]
    name = "cqc"
    sitemaps = ["https://www.cqc.org.uk/robots.txt"]
    article_pattern = '^https://www\\.cqc\\.org\\.uk/press-release/'
    [[source.listings]]
    url = "https://www.cqc.org.uk/news"
    links = '/press-release/[^/?#]+$'
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from crawler.addresses import address_allowed, ip_literal
from crawler.urls import host_of, normalize_url

__all__ = [
    "Listing",
    "Source",
    "SourcesError",
    "default_sources_path",
    "load_sources",
    "parse_interval",
    "parse_sources",
]


class SourcesError(ValueError):
    """An invalid sources file; the message is one line naming the problem."""


_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# A year: a longer interval means a source that is never crawled again (and a far larger one
# would overflow the date arithmetic of the scheduler).
MAX_INTERVAL = timedelta(days=366)
_SOURCE_KEYS = {
    "name",
    "feeds",
    "sitemaps",
    "listings",
    "allowed_domains",
    "article_pattern",
    "interval",
    "local",
    "enabled",
    "description",
}
_LISTING_KEYS = {"url", "links"}


@dataclass(frozen=True)
class Listing:
    """A page re-read on every crawl whose links matching ``links`` are articles."""

    url: str
    links: re.Pattern[str]


@dataclass(frozen=True)
class Source:
    """One publisher to crawl."""

    name: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    listings: tuple[Listing, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    article_pattern: re.Pattern[str] | None = None
    interval: timedelta | None = None
    local: bool = False
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def accepts_article(self, url: str) -> bool:
        """Whether a discovered link should be fetched as an article of this source."""
        return self.article_pattern is None or bool(self.article_pattern.search(url))

    def to_config(self) -> dict[str, Any]:
        """A JSON-serialisable description (stored in the ``sources`` table)."""
        return {
            "name": self.name,
            "feeds": list(self.feeds),
            "sitemaps": list(self.sitemaps),
            "listings": [{"url": li.url, "links": li.links.pattern} for li in self.listings],
            "allowed_domains": list(self.allowed_domains),
            "article_pattern": self.article_pattern.pattern if self.article_pattern else None,
            "interval_s": int(self.interval.total_seconds()) if self.interval else None,
            "local": self.local,
            "description": self.description,
        }


def parse_interval(value: str | int | float) -> timedelta:
    """``"90s"``, ``"30m"``, ``"6h"``, ``"1d"``, ``"2w"`` (or seconds as a number), at most
    :data:`MAX_INTERVAL`."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"invalid interval {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"invalid interval {value!r} (use e.g. '30m', '6h', '1d')")
        seconds = float(value)
    else:
        match = _INTERVAL.match(str(value))
        if not match:
            raise ValueError(f"invalid interval {value!r} (use e.g. '30m', '6h', '1d')")
        seconds = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if seconds <= 0:
        raise ValueError(f"interval must be positive, got {value!r}")
    if seconds > MAX_INTERVAL.total_seconds():
        raise ValueError(f"interval {value!r} is longer than {MAX_INTERVAL.days} days")
    return timedelta(seconds=seconds)


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    ip = ip_literal(host)
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip is not None and (ip.is_loopback or (mapped is not None and mapped.is_loopback))


def _non_public(host: str, *, local: bool) -> bool:
    """Whether ``host`` is an IP address the crawler may never connect to."""
    ip = ip_literal(host)
    return ip is not None and not address_allowed(str(ip), allow_loopback=local)


class _Reader:
    def __init__(self, origin: str, index: int, raw: dict[str, Any]):
        self.origin = origin
        self.raw = raw
        name = raw.get("name")
        named = isinstance(name, str) and name
        self.label = f"source {name!r}" if named else f"source #{index + 1}"

    def fail(self, message: str) -> SourcesError:
        return SourcesError(f"{self.origin}: {self.label}: {message}")

    def url(self, value: Any, field_name: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{field_name} must be a URL string, got {value!r}")
        try:
            return normalize_url(value)
        except ValueError as exc:
            raise self.fail(f"{field_name}: {exc}") from None

    def url_list(self, field_name: str) -> tuple[str, ...]:
        value = self.raw.get(field_name, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.fail(f"{field_name} must be a list of URLs")
        return tuple(self.url(v, field_name) for v in value)

    def regex(self, value: Any, field_name: str) -> re.Pattern[str]:
        if not isinstance(value, str) or not value:
            raise self.fail(f"{field_name} must be a regular expression string")
        try:
            return re.compile(value)
        except re.error as exc:
            raise self.fail(f"{field_name} is not a valid regular expression: {exc}") from None


def _parse_source(origin: str, index: int, raw: Any, defaults: dict[str, Any]) -> Source | None:
    if not isinstance(raw, dict):
        raise SourcesError(f"{origin}: source #{index + 1} must be a table ([[source]])")
    raw = {**defaults, **raw}
    r = _Reader(origin, index, raw)
    unknown = sorted(set(raw) - _SOURCE_KEYS)
    if unknown:
        raise r.fail(f"unknown field(s) {', '.join(unknown)}")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise r.fail("name must be 1-64 characters of lower-case letters, digits, '-', '_' or '.'")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise r.fail("enabled must be true or false")
    local = raw.get("local", False)
    if not isinstance(local, bool):
        raise r.fail("local must be true or false")

    feeds = r.url_list("feeds")
    sitemaps = r.url_list("sitemaps")
    listings_raw = raw.get("listings", [])
    if not isinstance(listings_raw, list):
        raise r.fail("listings must be an array of tables ([[source.listings]])")
    listings = []
    for item in listings_raw:
        if not isinstance(item, dict):
            raise r.fail("each listing must be a table with url and links")
        unknown = sorted(set(item) - _LISTING_KEYS)
        if unknown:
            raise r.fail(f"listing: unknown field(s) {', '.join(unknown)}")
        if "links" not in item:
            raise r.fail("listing: links (a regular expression for article links) is required")
        listings.append(
            Listing(
                url=r.url(item.get("url"), "listing url"), links=r.regex(item["links"], "links")
            )
        )
    if not (feeds or sitemaps or listings):
        raise r.fail("needs at least one of feeds, sitemaps or listings")

    entry_urls = [*feeds, *sitemaps, *(li.url for li in listings)]
    domains_raw = raw.get("allowed_domains")
    if domains_raw is None:
        domains = tuple(dict.fromkeys(host_of(u) for u in entry_urls))
    else:
        if not isinstance(domains_raw, list) or not all(
            isinstance(d, str) and d.strip() for d in domains_raw
        ):
            raise r.fail("allowed_domains must be a list of host names")
        domains = tuple(d.strip().lower().rstrip(".") for d in domains_raw)
        for d in domains:
            if "/" in d or ":" in d:
                raise r.fail(f"allowed_domains: {d!r} is not a bare host name (no scheme or port)")
    for url in entry_urls:
        host = host_of(url)
        if _is_loopback(host) and not local:
            raise r.fail(f"{url} is on the loopback interface; set local = true to allow it")
        if _non_public(host, local=local):
            raise r.fail(f"{url} is a private or reserved address; the crawler never fetches it")
        if not any(host == d or host.endswith("." + d) for d in domains):
            raise r.fail(f"{url} is outside allowed_domains ({', '.join(domains)})")
    for d in domains:
        if _is_loopback(d) and not local:
            raise r.fail(f"allowed_domains: {d} is the loopback interface; set local = true "
                         "to allow it")
        if _non_public(d, local=local):
            raise r.fail(f"allowed_domains: {d} is a private or reserved address")

    pattern = raw.get("article_pattern")
    interval = raw.get("interval")
    try:
        interval_td = parse_interval(interval) if interval is not None else None
    except ValueError as exc:
        raise r.fail(str(exc)) from None
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise r.fail("description must be a string")
    if not enabled:
        return None
    return Source(
        name=name,
        feeds=feeds,
        sitemaps=sitemaps,
        listings=tuple(listings),
        allowed_domains=domains,
        article_pattern=r.regex(pattern, "article_pattern") if pattern is not None else None,
        interval=interval_td,
        local=local,
        description=description,
    )


def parse_sources(data: dict[str, Any], origin: str = "<sources>") -> list[Source]:
    """Validate parsed TOML data (``[defaults]`` and ``[[source]]`` tables) into sources."""
    unknown = sorted(set(data) - {"source", "defaults"})
    if unknown:
        raise SourcesError(
            f"{origin}: unknown top-level key(s) {', '.join(unknown)} (expected [[source]] tables)"
        )
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise SourcesError(f"{origin}: [defaults] must be a table")
    bad = sorted(set(defaults) - {"interval", "local", "enabled"})
    if bad:
        raise SourcesError(f"{origin}: [defaults] may only set interval, local, enabled: {bad}")
    raw_sources = data.get("source", [])
    if not isinstance(raw_sources, list) or not raw_sources:
        raise SourcesError(f"{origin}: no sources defined (add [[source]] tables)")
    sources: list[Source] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_sources):
        src = _parse_source(origin, i, raw, defaults)
        if src is None:
            continue
        if src.name in seen:
            raise SourcesError(f"{origin}: source name {src.name!r} is used twice")
        seen.add(src.name)
        sources.append(src)
    return sources


def default_sources_path() -> Path:
    """The sources file shipped with policywatch."""
    return Path(str(resources.files("crawler").joinpath("sources.toml")))


def load_sources(path: str | Path | None = None) -> list[Source]:
    """Load and validate the sources in ``path`` (default: the shipped ``sources.toml``)."""
    p = Path(path) if path is not None else default_sources_path()
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourcesError(f"{p}: sources file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourcesError(f"{p}: cannot read sources file: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(f"{p}: invalid TOML: {exc}") from None
    return parse_sources(data, origin=str(p))
