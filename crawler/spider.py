"""The Scrapy spider that crawls one source: discovery documents in, article items out.

For a source it requests the feeds and sitemaps (conditionally: a 304 costs nothing) and the
listing pages (always), and follows article links that are new, or known but announced as
updated (feed ``updated`` / sitemap ``lastmod`` later than the last fetch). Article pages go
through ``crawler.article.extract_article``; a page whose canonical URL differs leads to the
canonical page instead. Items go to ``crawler.pipelines.StorePipeline``; every failure is
counted by kind in the source's run report.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.discovery import (
    DiscoveredLink,
    SitemapError,
    parse_feed,
    parse_sitemap,
    robots_sitemaps,
)
from crawler.middlewares import BlockedAddressError, OffsiteRedirectError
from crawler.state import SourceState, StoreContext, utcnow
from crawler.urls import host_allowed, host_of, resolve_url

__all__ = ["SourceSpider", "classify_failure"]

logger = logging.getLogger(__name__)

_HTML_TYPES = (b"text/html", b"application/xhtml+xml")
_FUTURE_SLACK = timedelta(days=1)


def classify_failure(failure: Failure | BaseException) -> str:
    """A short error kind for the run report: ``http_404``, ``timeout``, ``too_large`` ..."""
    exc = failure.value if isinstance(failure, Failure) else failure
    name = type(exc).__name__
    message = str(exc).lower()
    if isinstance(exc, HttpError):
        return f"http_{exc.response.status}"
    if isinstance(exc, BlockedAddressError):
        return "blocked_address"
    if isinstance(exc, OffsiteRedirectError):
        return "offsite_redirect"
    if isinstance(exc, IgnoreRequest):
        if "robots.txt" in message:
            return "robots_forbidden"
        if "during decompression" in message:
            return "decompressed_too_large"
        if "max size" in message or "maxsize" in message or "larger than" in message:
            return "too_large"
        if "cannot resolve" in message:
            return "dns"
        if "offsite" in message:
            return "offsite_redirect"
        return "ignored"
    if "Timeout" in name or "timed out" in message:
        return "timeout"
    if name in ("DownloadCancelledError", "CancelledError") or "max size" in message:
        return "too_large"
    if "DNS" in name or "Resolve" in name:
        return "dns"
    if "ConnectionRefused" in name or "ConnectionLost" in name or "ConnectionDone" in name:
        return "connection"
    if "DataLoss" in name:
        return "data_loss"
    return name.lower()


class SourceSpider(scrapy.Spider):
    """Crawl one :class:`~crawler.sources.Source` incrementally."""

    name = "policywatch"

    def __init__(self, *args: Any, state: SourceState, **kwargs: Any):
        super().__init__(*args, name=f"policywatch:{state.source.name}", **kwargs)
        self.state = state
        self.source = state.source
        self.allowed_domains = list(self.source.allowed_domains)
        self.sitemaps_requested = 0

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SourceSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.request_scheduled, signal=signals.request_scheduled)
        return spider

    def request_scheduled(self, request: Request, spider: Any = None) -> None:
        # Requests leaving the source's domains (typically redirects) are dropped when they
        # are scheduled -- Scrapy's offsite filter does the same, silently, and skips
        # dont_filter requests; here they are counted, whatever their dont_filter.
        if not host_allowed(host_of(request.url), self.source.allowed_domains):
            self.state.error("offsite_redirect")
            logger.info("offsite_redirect: %s", request.url)
            raise OffsiteRedirectError(f"refused request to {request.url}: outside allowed_domains")

    @property
    def store(self) -> StoreContext:
        return self.state.store

    # -- requests --------------------------------------------------------------------------

    def _discovery(self, url: str, callback: Any, kind: str, **meta: Any) -> Request:
        return Request(
            url,
            callback=callback,
            errback=self.on_error,
            meta={
                "pw_kind": kind,
                "pw_conditional": kind in ("feed", "sitemap"),
                "handle_httpstatus_list": [304],
                **meta,
            },
            priority=10,
        )

    async def start(self) -> AsyncIterator[Request]:
        gate = self.store.seed_gate
        if gate is not None and not gate(self.source.name):
            return  # another worker of the shared frontier seeds this source this round
        for url in self.source.feeds:
            yield self._discovery(url, self.parse_feed, "feed")
        for url in self.source.sitemaps:
            if url.rstrip("/").endswith("/robots.txt"):
                yield self._discovery(url, self.parse_robots, "robots", dont_obey_robotstxt=True)
            else:
                for request in self._sitemap_request(url, depth=0):
                    yield request
        for i, listing in enumerate(self.source.listings):
            yield self._discovery(listing.url, self.parse_listing, "listing", pw_listing=i)

    def follow_article(self, link: DiscoveredLink) -> Iterator[Request]:
        """A request for ``link`` unless it is off-source, already fetched and unchanged."""
        url = link.url
        if not host_allowed(host_of(url), self.source.allowed_domains):
            return
        if not self.source.accepts_article(url):
            return
        if url in self.state.scheduled:
            return
        last = self.store.seen.get(url)
        updated = link.updated
        if updated is not None and updated > utcnow() + _FUTURE_SLACK:
            updated = None  # a date in the future would trigger a re-fetch on every run
        if last is not None and (updated is None or updated <= last):
            self.state.report.skipped_seen += 1
            return
        if not self.store.claim_request(url):
            return  # requested already, by this process or another worker
        yield Request(
            url,
            callback=self.parse_article,
            errback=self.on_error,
            meta={"pw_kind": "article", "pw_refetch": last is not None},
        )

    # -- discovery callbacks ------------------------------------------------------------------

    def _fetched(self, response: Response) -> bool:
        """Count the response; False for a 304 (nothing to parse)."""
        if response.status == 304:
            self.state.report.not_modified += 1
            return False
        self.state.report.pages_fetched += 1
        return True

    def parse_feed(self, response: Response) -> Iterator[Request]:
        if not self._fetched(response):
            return
        ctype = response.headers.get(b"Content-Type")
        result = parse_feed(response.body, response.url, ctype.decode("latin-1") if ctype else None)
        if result.malformed:
            self.state.error("feed_malformed")
            logger.warning(
                "Malformed feed %s (%s); using what could be read", response.url, result.malformed
            )
        for link in result.links:
            yield from self.follow_article(link)

    def parse_robots(self, response: Response) -> Iterator[Request]:
        if not self._fetched(response):
            return
        for url in robots_sitemaps(response.body, response.url):
            if host_allowed(host_of(url), self.source.allowed_domains):
                yield from self._sitemap_request(url, depth=0)

    def _sitemap_request(self, url: str, *, depth: int) -> Iterator[Request]:
        """A request for a sitemap ``depth`` index levels below a configured one, unless
        that is deeper than POLICYWATCH_SITEMAP_MAX_DEPTH or the source has had its
        POLICYWATCH_SITEMAP_MAX_FILES sitemaps in this run."""
        max_depth = self.settings.getint("POLICYWATCH_SITEMAP_MAX_DEPTH")
        if depth > max_depth:
            self.state.error("sitemap_too_deep")
            logger.warning("Sitemap %s not fetched: indexes nested more than %d deep",
                           url, max_depth)
            return
        max_files = self.settings.getint("POLICYWATCH_SITEMAP_MAX_FILES")
        if self.sitemaps_requested >= max_files:
            self.state.error("sitemap_limit")
            logger.warning("Sitemap %s not fetched: %d sitemaps already requested for %s",
                           url, max_files, self.source.name)
            return
        self.sitemaps_requested += 1
        yield self._discovery(url, self.parse_sitemap, "sitemap", pw_sitemap_depth=depth)

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        if not self._fetched(response):
            return
        maxsize = self.settings.getint("DOWNLOAD_MAXSIZE")
        try:
            result = parse_sitemap(response.body, response.url, max_size=maxsize)
        except SitemapError as exc:
            kind = "too_large" if "too large" in str(exc) else "sitemap_invalid"
            self.state.error(kind)
            logger.warning("Unusable sitemap %s: %s", response.url, exc)
            return
        if result.date_errors:
            self.state.report.sitemap_date_errors += result.date_errors
            logger.info("Sitemap %s: %d dates not understood (entries kept, undated)",
                        response.url, result.date_errors)
        links = result.links
        max_urls = self.settings.getint("POLICYWATCH_SITEMAP_MAX_URLS")
        if len(links) > max_urls:
            self.state.error("sitemap_limit")
            logger.warning("Sitemap %s lists %d entries; reading the first %d",
                           response.url, len(links), max_urls)
            links = links[:max_urls]
        if result.kind == "sitemapindex":
            depth = response.meta.get("pw_sitemap_depth", 0) + 1
            for link in links:
                if host_allowed(host_of(link.url), self.source.allowed_domains):
                    yield from self._sitemap_request(link.url, depth=depth)
            return
        for link in links:
            yield from self.follow_article(link)

    def parse_listing(self, response: Response) -> Iterator[Request]:
        if not self._fetched(response) or not isinstance(response, TextResponse):
            return
        pattern = self.source.listings[response.meta["pw_listing"]].links
        for href in response.css("a::attr(href)").getall():
            url = resolve_url(href, response.url)
            if url is not None and pattern.search(url):
                yield from self.follow_article(DiscoveredLink(url))

    # -- articles ---------------------------------------------------------------------------

    def parse_article(self, response: Response) -> Iterator[Any]:
        from crawler.article import ExtractionError, extract_article

        self.state.report.pages_fetched += 1
        self.state.report.articles_fetched += 1
        requested = response.meta.get("redirect_urls", [response.request.url])[0]
        aliases = {requested, *response.meta.get("pw_aliases", ())}
        final = resolve_url(response.url, response.url) or response.url
        aliases.add(final)
        ctype = (response.headers.get(b"Content-Type") or b"text/html").lower()
        if not isinstance(response, TextResponse) or not ctype.startswith(_HTML_TYPES):
            self.state.error("not_html")
            yield {"pw_item": "seen", "urls": sorted(aliases), "article_id": None}
            return
        try:
            article = extract_article(response.text, url=response.url)
        except ExtractionError as exc:
            self.state.error("not_html")
            logger.warning("Cannot extract %s: %s", response.url, exc)
            yield {"pw_item": "seen", "urls": sorted(aliases), "article_id": None}
            return
        except Exception:  # an extractor bug must not end the crawl; retried next run
            self.state.error("extract_failed")
            logger.exception("Extraction failed on %s", response.url)
            return
        canonical = (
            resolve_url(article.canonical_url, response.url) if article.canonical_url else None
        )
        if (
            canonical
            and canonical != final
            and not response.meta.get("pw_via_canonical")
            and host_allowed(host_of(canonical), self.source.allowed_domains)
        ):
            last = self.store.seen.get(canonical)
            refetch = response.meta.get("pw_refetch") and last is not None
            if (last is not None and not refetch) or not self.store.claim_request(canonical):
                # The canonical page is (being) fetched on its own: just remember this alias.
                yield {"pw_item": "seen", "urls": sorted(aliases), "canonical": canonical}
                return
            yield Request(
                canonical,
                callback=self.parse_article,
                errback=self.on_error,
                meta={
                    "pw_kind": "article",
                    "pw_refetch": refetch,
                    "pw_via_canonical": True,
                    "pw_aliases": sorted(aliases),
                },
            )
            return
        # Reached via its canonical link, or the canonical is off-source or a second hop
        # (chains are not followed): the page is stored under the URL it was fetched from.
        url = final
        yield {
            "pw_item": "article",
            "source": self.source.name,
            "url": url,
            "aliases": sorted(aliases),
            "html": response.text,
            "title": article.title,
            "author": article.author,
            "published": article.published,
            "updated": article.updated,
            "language": article.language,
            "body": article.body or "",
        }

    # -- errors -----------------------------------------------------------------------------

    def on_error(self, failure: Failure) -> None:
        kind = classify_failure(failure)
        self.state.error(kind)
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        if kind in ("robots_forbidden", "offsite_redirect", "blocked_address"):
            logger.info("%s: %s (%s)", kind, url, failure.value)
        else:
            logger.warning("%s: %s (%s)", kind, url, failure.value)
        self.store.emit("error", source=self.source.name, url=url, kind=kind)
