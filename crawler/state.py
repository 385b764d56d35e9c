"""Crawl state shared by the spider, its middlewares and the item pipeline.

``StoreContext`` is per crawl process: the database file (opened only for short sessions, see
:meth:`StoreContext.session`), the URLs already fetched, the HTTP validators and the MinHash
index of stored articles (shared by all sources, so a press release published by two sources
is recognised as a duplicate). ``SourceState`` is per
source: counters and errors for the run report, validators received, URLs scheduled.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from crawler.dedup import MinHashIndex
from crawler.sinks import CrawlSink, DatabaseSink
from crawler.sources import Source
from store.db import (
    session,
    utcnow,  # re-exported: the store's TIMESTAMP convention
)

__all__ = ["SourceReport", "SourceState", "StoreContext", "utcnow"]

@dataclass
class StoreContext:
    """Process-wide crawl state backed by the database file at ``db_path``."""

    db_path: str | os.PathLike[str]
    seen: dict[str, datetime] = field(default_factory=dict)
    validators: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    fingerprints: MinHashIndex = field(default_factory=MinHashIndex)
    # URLs requested in this crawl, by any source: a page listed by two sources is fetched once.
    scheduled: set[str] = field(default_factory=set)
    # article_id -> (version, content hash, duplicate_of) of articles written in this crawl.
    known: dict[str, tuple[int, str, str | None]] = field(default_factory=dict)
    embed: Callable[..., Any] | None = None
    progress: Callable[[dict[str, Any]], None] | None = None
    # Where the pipeline writes (default: the database file); see crawler.sinks.
    sink: CrawlSink | None = None
    # True when ``known`` holds every stored article (a crawl worker writing Parquet parts
    # loads them all at the start and never reads the database again).
    known_complete: bool = False
    # In a crawl worker (crawler.frontier): whether this process pushes a source's seeds
    # this round (called once per source); None: always.
    seed_gate: Callable[[str], bool] | None = None
    # In a crawl worker: the near-duplicate signatures of the round, shared with the other
    # workers (crawler.shared_dedup.SharedFingerprints); None on one machine.
    shared_fingerprints: Any = None
    # In a crawl worker: claims an article URL for this round over all workers (True for
    # the first claim only); None on one machine, where ``scheduled`` says it.
    claim_in_round: Callable[[str], bool] | None = None

    def claim_request(self, url: str) -> bool:
        """True if ``url`` was not requested yet in this crawl (this round, over all
        workers) and is now the caller's to request."""
        if url in self.scheduled:
            return False
        self.scheduled.add(url)
        return self.claim_in_round is None or self.claim_in_round(url)

    def __post_init__(self) -> None:
        if self.sink is None:
            self.sink = DatabaseSink(self.db_path)

    def session(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """A read-write connection for one batch, closed at the end of the ``with`` block, so
        read commands can open the file between batches (waits while another process holds
        it; see ``store.db``)."""
        return session(self.db_path)

    def emit(self, event: str, **data: Any) -> None:
        if self.progress is not None:
            self.progress({"event": event, **data})


@dataclass
class SourceReport:
    """Outcome of crawling one source in one run.

    ``pages_fetched``: responses parsed (feeds, sitemaps, listings, articles; not 304s, not
    failures); ``articles_fetched``: article pages among them; ``not_modified``: 304 answers to
    conditional requests; ``skipped_seen``: links not fetched because already stored and not
    announced as updated; ``new_articles``: articles stored for the first time (duplicates
    included); ``new_stories``: story rows written (new articles and new versions);
    ``new_versions``: changed bodies of known articles; ``duplicates``: new or changed bodies
    found to be near-duplicates of another article (stored, linked, no stories);
    ``unchanged``: re-fetched articles whose body had not changed; ``sitemap_date_errors``:
    sitemap ``<lastmod>``/``<publication_date>`` values that are not dates (the entry is
    kept, undated); ``errors``: by kind
    (``http_404``, ``timeout``, ``too_large``, ``robots_forbidden``, ``robots_unreachable``,
    ``offsite_redirect``, ``blocked_address``, ``feed_malformed``, ``connection``, ``dns``
    ...); ``status``: ok, failed (no page could be fetched, only errors) or interrupted.
    """

    source: str
    status: str = "running"
    pages_fetched: int = 0
    articles_fetched: int = 0
    not_modified: int = 0
    skipped_seen: int = 0
    new_articles: int = 0
    new_stories: int = 0
    new_versions: int = 0
    duplicates: int = 0
    unchanged: int = 0
    sitemap_date_errors: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    run_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SourceState:
    """Per-source state of a running crawl."""

    source: Source
    store: StoreContext
    report: SourceReport = field(init=False)
    errors: Counter[str] = field(default_factory=Counter)
    new_validators: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.report = SourceReport(self.source.name)

    @property
    def scheduled(self) -> set[str]:
        return self.store.scheduled

    @property
    def validators(self) -> dict[str, tuple[str | None, str | None]]:
        return self.store.validators

    def error(self, kind: str, n: int = 1) -> None:
        self.errors[kind] += n

    def record_validators(self, url: str, response: Any) -> None:
        etag = response.headers.get(b"ETag")
        last_modified = response.headers.get(b"Last-Modified")
        if response.status == 304:
            old_etag, old_lm = self.store.validators.get(url, (None, None))
            etag_s, lm_s = old_etag, old_lm
        else:
            etag_s = etag.decode("latin-1") if etag else None
            lm_s = last_modified.decode("latin-1") if last_modified else None
        self.new_validators[url] = {
            "url": url,
            "etag": etag_s,
            "last_modified": lm_s,
            "last_status": response.status,
            "checked_at": utcnow(),
        }
