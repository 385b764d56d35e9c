"""Parsing the discovery documents of a source: feeds, sitemaps and robots.txt.

``parse_feed`` reads RSS 0.9x/2.0, RSS 1.0 (RDF) and Atom with feedparser, tolerating malformed
XML (feedparser's loose parser) and reporting it; relative entry links are resolved against
the feed URL (and ``xml:base``). ``parse_sitemap`` reads sitemaps, sitemap indexes and Google
News sitemaps (gzipped or not) with a hardened lxml parser; ``robots_sitemaps`` lists the
``Sitemap:`` lines of a robots.txt. Dates come back as naive UTC datetimes; a sitemap date
that cannot be read leaves that entry undated and is counted (``SitemapResult.date_errors``),
never discards the sitemap.
"""

from __future__ import annotations

import calendar
import email.utils
import gzip
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser
from lxml import etree
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import sitemap_urls_from_robots

from crawler.urls import resolve_url

__all__ = [
    "DiscoveredLink",
    "FeedResult",
    "SitemapError",
    "SitemapResult",
    "parse_datetime",
    "parse_feed",
    "parse_sitemap",
    "robots_sitemaps",
]


@dataclass(frozen=True)
class DiscoveredLink:
    """A link to a (possible) article, with the date the publisher says it last changed."""

    url: str
    updated: datetime | None = None
    title: str | None = None


@dataclass
class FeedResult:
    links: list[DiscoveredLink] = field(default_factory=list)
    malformed: str | None = None  # description of the XML problem, if any
    version: str = ""


@dataclass
class SitemapResult:
    kind: str  # "urlset" or "sitemapindex"
    links: list[DiscoveredLink] = field(default_factory=list)
    date_errors: int = 0  # <lastmod>/<publication_date> values that are not dates


class SitemapError(ValueError):
    """The body is not a sitemap (or exceeds the size limit once decompressed)."""


# W3C datetime's reduced precisions, which datetime.fromisoformat does not take
_YEAR_MONTH_RE = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


def _naive_utc(dt: datetime) -> datetime:
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt


def parse_datetime(value: str | None) -> datetime | None:
    """A W3C/ISO 8601 (``2024``, ``2024-05``, full dates and times) or RFC 822 date as naive
    UTC; None if absent or unparseable."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        return _naive_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        pass
    m = _YEAR_MONTH_RE.match(text)
    if m:
        try:
            return datetime(int(m.group(1)), int(m.group(2) or 1), 1)
        except ValueError:
            return None
    try:
        return _naive_utc(email.utils.parsedate_to_datetime(text))  # RFC 822 / 2822
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _date_field(value: str | None) -> tuple[datetime | None, bool]:
    """The parsed date and whether a present value failed to parse."""
    parsed = parse_datetime(value)
    return parsed, parsed is None and bool(value and value.strip())


def _struct_to_dt(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC).replace(tzinfo=None)
    except (OverflowError, ValueError, TypeError):
        return None


def _entry_link(entry: Any) -> str | None:
    link = entry.get("link")
    if link:
        return link
    for candidate in entry.get("links", []):
        if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
            return candidate["href"]
    guid = entry.get("id")
    if guid and entry.get("guidislink", False):
        return guid
    return None


_BENIGN_BOZO = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> FeedResult:
    """Links of the entries of the feed ``body`` fetched from ``url``."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False)
    result = FeedResult(version=parsed.get("version", ""))
    exc = parsed.get("bozo_exception")
    # A missing/odd Content-Type or an overridden charset is not a malformed document.
    if parsed.get("bozo") and not isinstance(exc, _BENIGN_BOZO):
        result.malformed = f"{type(exc).__name__}: {exc}" if exc else "malformed feed"
    seen: set[str] = set()
    for entry in parsed.entries:
        href = _entry_link(entry)
        if not href:
            continue
        link = resolve_url(href, url)
        if link is None or link in seen:
            continue
        seen.add(link)
        updated = _struct_to_dt(entry.get("updated_parsed")) or _struct_to_dt(
            entry.get("published_parsed")
        )
        result.links.append(DiscoveredLink(link, updated, entry.get("title")))
    if not parsed.entries and not parsed.get("version") and result.malformed is None:
        result.malformed = "not a feed"
    return result


def _local(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def _iter_elements(body: bytes) -> Iterator[tuple[str, dict[str, str]]]:
    parser_events = etree.iterparse(
        io.BytesIO(body),
        events=("start", "end"),
        recover=True,
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    root_seen = False
    for event, elem in parser_events:
        name = _local(elem.tag)
        if event == "start":
            if not root_seen:
                root_seen = True
                yield "root", {"name": name}
            continue
        if name in ("url", "sitemap"):
            fields: dict[str, str] = {}
            for child in elem.iter():
                if child is elem:
                    continue
                key = _local(child.tag)
                if key and child.text and child.text.strip() and key not in fields:
                    fields[key] = child.text.strip()
            yield name, fields
            elem.clear()
            while elem.getprevious() is not None:
                del elem.getparent()[0]


def parse_sitemap(body: bytes, url: str, *, max_size: int = 0) -> SitemapResult:
    """Entries of a sitemap or sitemap index; ``body`` may be gzipped.

    ``max_size`` caps the decompressed size (a gzip bomb raises :class:`SitemapError`).
    """
    if body[:2] == b"\x1f\x8b":
        try:
            body = gunzip(body, max_size=max_size)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise SitemapError(f"cannot decompress sitemap: {exc}") from None
        except Exception as exc:  # scrapy's _DecompressionMaxSizeExceeded
            raise SitemapError(f"sitemap too large once decompressed: {exc}") from None
    kind = ""
    links: list[DiscoveredLink] = []
    date_errors = 0
    try:
        for name, fields in _iter_elements(body):
            if name == "root":
                kind = fields["name"].lower()
                if kind not in ("urlset", "sitemapindex"):
                    raise SitemapError(f"not a sitemap (root element <{fields['name']}>)")
                continue
            loc = resolve_url(fields.get("loc", ""), url)
            if loc is None:
                continue
            updated, bad_lastmod = _date_field(fields.get("lastmod"))
            published, bad_published = _date_field(fields.get("publication_date"))
            date_errors += bad_lastmod + bad_published
            links.append(DiscoveredLink(loc, updated or published, fields.get("title")))
    except etree.XMLSyntaxError as exc:
        if not kind:
            raise SitemapError(f"not a sitemap: {exc}") from None
    if not kind:
        raise SitemapError("not a sitemap (empty document)")
    return SitemapResult(kind=kind, links=links, date_errors=date_errors)


def robots_sitemaps(body: bytes, url: str) -> list[str]:
    """Absolute, normalised URLs of the ``Sitemap:`` lines of a robots.txt."""
    out = []
    for raw in sitemap_urls_from_robots(body, base_url=url):
        link = resolve_url(raw, url)
        if link is not None and link not in out:
            out.append(link)
    return out
