"""The item pipeline that persists a crawl: articles, versions, stories, seen URLs, run stats.

For each fetched article it decides, against the store and the SimHash index:

* new URL, body not near any stored article -> article v1 and its stories;
* new URL, body a near-duplicate of a stored article (estimated Jaccard of word shingles at
  least ``crawler.dedup.NEAR_DUPLICATE_JACCARD``: a republication) -> article v1 linked
  through ``articles.duplicate_of``, no stories, so its facts are never extracted twice;
* known URL, same content hash -> only ``last_fetched`` moves;
* known URL, different content hash -> a new row in ``article_versions`` and stories for it.

A story's stored body is what the fact extractor reads: it starts with the story's headline
line. A single-story article's headline is its page title, which the extracted body does not
repeat, so the title is put before the body (``make_stories``); ``start_offset`` still points
into the version's body, where the story's own text starts.

Rows are buffered and written in batches (``POLICYWATCH_BATCH_SIZE`` articles, or every
``POLICYWATCH_FLUSH_SECONDS``) in one transaction each, together with the URLs they make
"seen", so an interrupted crawl never marks a URL seen whose article was not stored. Writes go
through the crawl's sink (``crawler.sinks``): on one machine each write opens the database
file, writes and closes it again, so read commands get the file between batches; a crawl
worker of a scale-out crawl writes each batch as a Parquet part instead. The run row in
``crawl_runs`` is opened when the spider opens and completed when it closes (a worker's, whole,
when it closes).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DropItem

from crawler.dedup import content_hash, minhash, simhash
from crawler.shared_dedup import nearest_or_claim
from crawler.state import SourceState, utcnow
from crawler.urls import article_id
from store import articles as store_articles

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

__all__ = ["StorePipeline", "PERMANENT_ERRORS", "as_naive_utc", "make_stories"]

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 1.0
# Error kinds that will not go away by retrying; after any other kind (timeouts, 5xx ...) a
# feed/sitemap's validators are not kept, so it is read in full next run and the articles
# that failed now are retried rather than hidden behind a 304.
PERMANENT_ERRORS = frozenset(
    {
        "robots_forbidden",
        "offsite_redirect",
        "blocked_address",
        "not_html",
        "no_content",
        "feed_malformed",
        "sitemap_invalid",
        "too_large",
        "decompressed_too_large",
    }
)


def _transient(kind: str) -> bool:
    if kind in PERMANENT_ERRORS:
        return False
    if kind.startswith("http_") and kind[5:].isdigit():
        code = int(kind[5:])
        return code >= 500 or code in (408, 429)
    return True


def as_naive_utc(value: datetime | None) -> datetime | None:
    """``value`` as naive UTC (the store's TIMESTAMP convention); naive values are kept."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def make_stories(
    aid: str,
    version: int,
    body: str,
    *,
    html: str | None,
    title: str | None,
    published: datetime | None,
    embed: Any = None,
) -> list[dict[str, Any]]:
    """Story rows for one article version (``crawler.stories.split_stories`` does the split)."""
    try:
        from crawler.stories import split_stories
    except ImportError:  # the splitter is optional: the whole body is one story
        parts: list[tuple[int, str | None, str]] = [(0, title, body)]
    else:
        parts = []
        for story in split_stories(body, html=html, embed=embed):
            text_of = getattr(story, "text_of", None)
            if callable(text_of):
                text = text_of(body)
            else:
                text = body[story.start : getattr(story, "end", len(body))]
            parts.append((int(story.start), story.headline, text))
        if not parts:
            parts = [(0, title, body)]
    rows = []
    for index, (start, headline, text) in enumerate(parts):
        if not text.strip():
            continue
        if len(parts) == 1 and not headline and title and title.strip():
            headline = " ".join(title.split())
            if not text.lstrip().startswith(headline):
                text = f"{headline}\n\n{text}"  # facts stated only in the title are read too
        rows.append(
            {
                "story_id": f"{aid}-v{version}-s{index}",
                "article_id": aid,
                "version": version,
                "story_index": index,
                "headline": headline,
                "start_offset": start,
                "body": text,
                "published": published,
            }
        )
    return rows


class StorePipeline:
    """Write the items of one source's spider to the store, in batches."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.batch_size = max(1, crawler.settings.getint("POLICYWATCH_BATCH_SIZE", 100))
        self.flush_seconds = crawler.settings.getfloat("POLICYWATCH_FLUSH_SECONDS", FLUSH_SECONDS)
        self.state: SourceState | None = None
        self.run_id: int | None = None
        self._articles: list[dict[str, Any]] = []
        self._versions: list[dict[str, Any]] = []
        self._stories: list[dict[str, Any]] = []
        self._seen: list[dict[str, Any]] = []
        self._last_flush = time.monotonic()
        self._pending_counts: dict[str, int] = {}
        self.opened = False
        self.started_at = utcnow()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    # -- lifecycle --------------------------------------------------------------------------

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.state = spider.state
        self.started_at = utcnow()
        self.run_id = self.state.store.sink.start_run(self.state.source.name)
        self.opened = True
        self.state.report.run_id = self.run_id
        self.state.store.emit("source_started", source=self.state.source.name)

    def close_spider(self) -> None:
        self.flush()

    def spider_closed(self, spider: Any, reason: str) -> None:
        state = self.state
        if state is None or not self.opened:
            return
        self.flush()
        report = state.report
        report.errors = dict(sorted(state.errors.items()))
        keep_validators = False
        if reason == "finished":
            transient = [k for k in state.errors if _transient(k)]
            if transient:
                logger.info(
                    "%s: not keeping feed/sitemap validators after %s errors",
                    state.source.name,
                    ", ".join(sorted(transient)),
                )
            else:
                keep_validators = True
            got_nothing = report.pages_fetched == 0 and report.not_modified == 0
            report.status = "failed" if got_nothing and state.errors else "ok"
        elif reason in ("shutdown", "cancelled"):
            report.status = "interrupted"
        else:
            report.status = "failed"
        state.store.sink.finish_run(
            source=state.source.to_config(), run_id=self.run_id, started_at=self.started_at,
            validators=list(state.new_validators.values()) if keep_validators else [],
            report=report)
        state.store.emit("source_finished", **report.as_dict())

    # -- items ------------------------------------------------------------------------------

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        assert self.state is not None
        try:
            if item.get("pw_item") == "seen":
                aid = item.get("article_id")
                if aid is None and item.get("canonical"):
                    aid = article_id(item["canonical"])
                self._mark_seen(item["urls"], aid)
            elif item.get("pw_item") == "article":
                self._article(item)
        except Exception as exc:
            self.state.error("pipeline")
            logger.exception("Cannot store %s", item.get("url") or item.get("urls"))
            raise DropItem(f"cannot store item: {exc}") from exc
        if (
            len(self._articles) + len(self._seen) >= self.batch_size
            or time.monotonic() - self._last_flush > self.flush_seconds
        ):
            self.flush()
        return {"url": item.get("url"), "source": self.state.source.name}

    def _mark_seen(self, urls: list[str], aid: str | None) -> None:
        now = utcnow()
        for url in urls:
            self._seen.append({"url": url, "article_id": aid, "first_seen": now, "last_seen": now})

    def _lookup(self, aid: str, url: str) -> tuple[int, str, str | None] | None:
        known = self.state.store.known
        if aid in known:
            return known[aid]
        if url not in self.state.store.seen or self.state.store.known_complete:
            return None  # a stored article's URL is always among the seen URLs
        with self.state.store.session() as con:
            states = store_articles.article_states(con, [aid])
        st = states.get(aid)
        return (st.version, st.content_hash, st.duplicate_of) if st else None

    def _article(self, item: dict[str, Any]) -> None:
        state = self.state
        report = state.report
        store = state.store
        body: str = item["body"]
        url: str = item["url"]
        aid = article_id(url)
        if not body.strip():
            state.error("no_content")
            self._mark_seen(item["aliases"], None)
            return
        now = utcnow()
        chash = content_hash(body)
        fingerprint = simhash(body)
        signature = minhash(body)
        published = as_naive_utc(item.get("published"))
        known = self._lookup(aid, url)
        make = True
        shared = store.shared_fingerprints
        claimed = False  # published as an original to the other workers of the round
        if known is None:
            version, duplicate_of = 1, nearest_or_claim(store.fingerprints, shared, aid,
                                                        signature)
            claimed = duplicate_of is None
            report.new_articles += 1
        elif known[1] == chash:
            version, duplicate_of, make = known[0], known[2], False
            report.unchanged += 1
        else:
            version = known[0] + 1
            report.new_versions += 1
            duplicate_of = known[2]
            if duplicate_of is not None:
                duplicate_of = nearest_or_claim(store.fingerprints, shared, aid, signature)
                claimed = duplicate_of is None
        if make:
            self._versions.append(
                {
                    "article_id": aid,
                    "version": version,
                    "fetched_at": now,
                    "content_hash": chash,
                    "simhash": fingerprint,
                    "body": body,
                    "minhash": signature.hashvalues.tobytes(),
                }
            )
            if duplicate_of is not None:
                report.duplicates += 1
            else:
                store.fingerprints.add(aid, signature)
                if shared is not None and not claimed:
                    shared.publish(aid, signature)  # a new version's text replaces the old
                stories = make_stories(
                    aid,
                    version,
                    body,
                    html=item.get("html"),
                    title=item.get("title"),
                    published=published,
                    embed=store.embed,
                )
                self._stories.extend(stories)
                report.new_stories += len(stories)
        store.known[aid] = (version, chash, duplicate_of)
        self._articles.append(
            {
                "article_id": aid,
                "source": item["source"],
                "url": url,
                "title": item.get("title"),
                "author": item.get("author"),
                "published": published,
                "updated": as_naive_utc(item.get("updated")),
                "language": item.get("language"),
                "first_seen": now,
                "last_fetched": now,
                "current_version": version,
                "duplicate_of": duplicate_of,
            }
        )
        self._mark_seen(item["aliases"], aid)
        store.emit(
            "article",
            source=item["source"],
            url=url,
            version=version,
            duplicate_of=duplicate_of,
            changed=make,
        )

    def flush(self) -> None:
        """Write the buffered rows in one transaction and mark their URLs seen."""
        self._last_flush = time.monotonic()
        if not (self._articles or self._seen):
            return
        assert self.state is not None
        store = self.state.store
        store.sink.write_batch(
            articles=self._articles, versions=self._versions, stories=self._stories,
            seen=self._seen)
        for row in self._seen:
            store.seen[row["url"]] = row["last_seen"]
        self._articles, self._versions, self._stories, self._seen = [], [], [], []
