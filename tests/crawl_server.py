"""A local HTTP server for crawler tests and benchmarks: a directory plus scripted routes.

It binds 127.0.0.1 on an ephemeral port (``request_queue_size`` raised for Scrapy's
concurrency), serves files from ``root`` with ``{{BASE_URL}}`` replaced by its own base URL,
answers conditional requests for them (ETag / Last-Modified -> 304), and lets a test script
any path: fixed replies, a sequence (500 then 200), a hang, a lazily streamed huge body, a
redirect, a reply held back until the test releases it (``gated``). Every request is counted
per path (query string included). ``OfflineResolver`` is a Twisted name resolver for crawls
that must never send a DNS query: it knows ``localhost`` only.

    with CrawlServer(tmp_path) as server:
        server.route("/flaky", sequence(reply(status=500), reply(b"<html>ok</html>")))
        ...
        assert server.requests["/flaky"] == 2
"""

from __future__ import annotations

import email.utils
import ipaddress
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

from crawler.sample_site import static_reply

__all__ = [
    "CrawlServer",
    "OFFLINE_DNS",
    "OfflineResolver",
    "Reply",
    "RequestInfo",
    "gated",
    "hang",
    "redirect",
    "reply",
    "sequence",
    "stream",
]



@dataclass
class RequestInfo:
    path: str  # with query string
    headers: dict[str, str]
    count: int  # how many times this path was requested, this one included


@dataclass
class Reply:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line is sent
    release: threading.Event | None = None  # sent only once this is set (or the server stops)


Handler = Callable[[RequestInfo], Reply]


def reply(
    body: bytes | str = b"",
    *,
    status: int = 200,
    content_type: str = "text/html; charset=utf-8",
    headers: dict[str, str] | None = None,
    delay: float = 0.0,
) -> Handler:
    """A route that always gives the same reply."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    all_headers = {"Content-Type": content_type, **(headers or {})}
    return lambda req: Reply(status, data, dict(all_headers), delay)


def sequence(*handlers: Handler) -> Handler:
    """The n-th request gets the n-th handler's reply; the last one repeats."""
    return lambda req: handlers[min(req.count, len(handlers)) - 1](req)


def hang(seconds: float) -> Handler:
    """Accept the request, then say nothing for ``seconds`` (to trigger a client timeout)."""
    return lambda req: Reply(200, b"late", {"Content-Type": "text/html"}, delay=seconds)


def stream(size: int, *, chunk: int = 64 * 1024, content_length: bool = False) -> Handler:
    """A body of ``size`` bytes generated lazily, never held in memory."""

    def body() -> Iterator[bytes]:
        block = b"<p>" + b"x" * (chunk - 7) + b"</p>\n"
        sent = 0
        while sent < size:
            part = block[: size - sent]
            sent += len(part)
            yield part

    def handler(req: RequestInfo) -> Reply:
        headers = {"Content-Type": "text/html"}
        if content_length:
            headers["Content-Length"] = str(size)
        return Reply(200, body(), headers)

    return handler


def gated(handler: Handler, release: threading.Event) -> Handler:
    """``handler``'s reply, held back until ``release`` is set: the request stays in flight
    for as long as the test needs (never a guess of how long that is)."""

    def held(req: RequestInfo) -> Reply:
        answer = handler(req)
        answer.release = release
        return answer

    return held


def redirect(location: str, status: int = 302) -> Handler:
    return lambda req: Reply(status, b"", {"Location": location, "Content-Length": "0"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class CrawlServer:
    """A threaded HTTP server on 127.0.0.1 serving ``root`` and scripted routes."""

    def __init__(self, root: str | Path | None = None, *, conditional: bool = True):
        self.root = Path(root) if root is not None else None
        self.conditional = conditional
        self.routes: dict[str, Handler] = {}
        self.requests: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.times: dict[str, list[float]] = {}  # monotonic arrival time of each request
        self.headers: dict[str, dict[str, str]] = {}  # headers of the last request per path
        self.in_flight = 0
        self.max_in_flight = 0  # most requests being answered at the same time
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # -- configuration ------------------------------------------------------------------------

    def route(self, path: str, handler: Handler) -> None:
        """Serve ``path`` (exact, with or without query string) with ``handler``."""
        self.routes[path] = handler

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()
            self.statuses.clear()
            self.times.clear()
            self.max_in_flight = self.in_flight

    def article_requests(self, prefix: str) -> dict[str, int]:
        """Requests per path for paths starting with ``prefix``."""
        with self._lock:
            return {p: n for p, n in self.requests.items() if p.startswith(prefix)}

    # -- serving ------------------------------------------------------------------------------

    def _file_reply(self, path: str, headers: dict[str, str]) -> Reply:
        """A file from ``root``, answered by the sample-site server's own logic."""
        assert self.root is not None
        answer = static_reply(self.root, urlsplit(path).path, self.base_url,
                              headers if self.conditional else {})
        out = dict(answer.headers)
        if not self.conditional:
            out.pop("ETag", None)
            out.pop("Last-Modified", None)
        ctype = out.get("Content-Type", "")
        if ctype.startswith("text/") and "charset" not in ctype:
            out["Content-Type"] = ctype + "; charset=utf-8"
        return Reply(int(answer.status), answer.body, out)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self._answer(handler)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path
        with self._lock:
            self.requests[path] += 1
            count = self.requests[path]
            self.times.setdefault(path, []).append(time.monotonic())
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self._lock:
            self.headers[path] = headers
        info = RequestInfo(path, headers, count)
        route = self.routes.get(path) or self.routes.get(urlsplit(path).path)
        if route is not None:
            rep = route(info)
        elif self.root is not None:
            rep = self._file_reply(path, headers)
        else:
            rep = Reply(404, b"not found", {"Content-Type": "text/plain"})
        with self._lock:
            self.statuses[rep.status] += 1
        if rep.delay and self._stopping.wait(rep.delay):
            return
        if rep.release is not None:
            while not rep.release.wait(0.05):
                if self._stopping.is_set():
                    return
        body = rep.body
        if isinstance(body, bytes):
            if not any(k.lower() == "content-length" for k in rep.headers):
                rep.headers["Content-Length"] = str(len(body))
        try:
            handler.send_response(rep.status)
            for key, value in rep.headers.items():
                handler.send_header(key, value)
            handler.send_header("Connection", "close")
            handler.end_headers()
            if isinstance(body, bytes):
                handler.wfile.write(body)
            else:
                for part in body:
                    if self._stopping.is_set():
                        break
                    handler.wfile.write(part)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (size cap, timeout, killed): expected in fault tests

    def start(self) -> CrawlServer:
        server = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self) -> None:  # noqa: N802
                server._handle(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = _Server(("127.0.0.1", 0), RequestHandler)
        host, port = self._httpd.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> CrawlServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0, step: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


# -- generated sites ------------------------------------------------------------------------

_VOCAB = (
    "nhs trust hospital board funding million pounds waiting list patients care quality "
    "commission inspection rating good outstanding inadequate requires improvement staff "
    "nurses doctors workforce strike pay deal integrated care system council social budget "
    "deficit capital investment beds emergency department ambulance response target mental "
    "health services community primary practice general prescribing pharmacy dental vaccine "
    "programme minister secretary state department announced plan review report inquiry "
    "maternity cancer diagnosis elective recovery backlog winter pressures discharge delayed "
    "northfield castlebridge kestrel redwater saltmarsh eastmoor fenmoor region national local"
).split()


def article_text(seed: int, words: int = 220) -> str:
    """Deterministic, distinct prose for article ``seed`` (paragraphs of pseudo-news text)."""
    import random

    rng = random.Random(seed)
    sentences = []
    for _ in range(words // 11):
        sentence = " ".join(rng.choice(_VOCAB) for _ in range(11))
        sentences.append(sentence.capitalize() + f" {rng.randint(1, 999)}.")
    paras = [" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4)]
    return "\n".join(paras)


def article_html(
    title: str,
    text: str,
    *,
    published: str = "2025-01-06T09:00:00+00:00",
    canonical: str | None = None,
    charset: str = "utf-8",
) -> str:
    paras = "".join(f"<p>{p}</p>\n" for p in text.split("\n"))
    canon = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="{charset}">'
        f"<title>{title}</title>{canon}"
        f'<meta property="article:published_time" content="{published}"></head>'
        f"<body><header><nav><a href='/'>Home</a></nav></header><main><article>"
        f"<h1>{title}</h1><p class='byline'>By Health Desk</p>{paras}</article></main>"
        f"<footer>Copyright Example News</footer></body></html>"
    )


def write_news_site(
    root: str | Path, n: int, *, updated: str = "2025-01-06T09:00:00Z"
) -> list[str]:
    """Write ``n`` articles, an RSS feed, a sitemap, a listing page and robots.txt to ``root``.

    Returns the article paths (``/articles/0001.html`` ...). Feeds and sitemap use the
    ``{{BASE_URL}}`` placeholder.
    """
    root = Path(root)
    (root / "articles").mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = f"/articles/{i:04d}.html"
        paths.append(path)
        (root / path.lstrip("/")).write_text(
            article_html(f"Story number {i}", article_text(i)), encoding="utf-8"
        )
    write_feed(root, [(p, f"Story number {i}", updated) for i, p in enumerate(paths)])
    urls = "".join(
        f"<url><loc>{{{{BASE_URL}}}}{p}</loc><lastmod>{updated}</lastmod></url>" for p in paths
    )
    (root / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>',
        encoding="utf-8",
    )
    links = "".join(f'<li><a href="{p}?utm_source=home">Story</a></li>' for p in paths)
    (root / "index.html").write_text(
        f"<html><body><h1>News</h1><ul>{links}</ul></body></html>", encoding="utf-8"
    )
    (root / "robots.txt").write_text(
        "User-agent: *\nDisallow: /private/\nSitemap: {{BASE_URL}}/sitemap.xml\n", encoding="utf-8"
    )
    return paths


def write_feed(root: str | Path, items: list[tuple[str, str, str]], name: str = "rss.xml") -> None:
    """An RSS 2.0 feed of ``(path, title, updated ISO date)`` items (absolute via BASE_URL)."""
    from xml.sax.saxutils import escape

    body = "".join(
        f"<item><title>{escape(title)}</title><link>{{{{BASE_URL}}}}{escape(path)}</link>"
        f"<guid>{{{{BASE_URL}}}}{escape(path)}</guid>"
        f"<pubDate>{email.utils.format_datetime(_iso(updated))}</pubDate></item>"
        for path, title, updated in items
    )
    Path(root, name).write_text(
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Example News</title><link>{{{{BASE_URL}}}}/</link>{body}</channel></rss>",
        encoding="utf-8",
    )


def _iso(value: str):
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# Crawl settings for tests: no politeness delays, tiny timeouts and limits, quiet logs.
FAST_SETTINGS: dict[str, object] = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "DOWNLOAD_TIMEOUT": 10,  # generous: the test machine may be busy
    "RETRY_TIMES": 1,
    "RETRY_BACKOFF_BASE": 0.1,
    "RETRY_BACKOFF_MAX": 0.5,
    "RETRY_AFTER_MAX": 5,
    "DOWNLOAD_MAXSIZE": 1024 * 1024,
    "DOWNLOAD_WARNSIZE": 512 * 1024,
    "LOG_LEVEL": "WARNING",
    "POLICYWATCH_BATCH_SIZE": 5,
}


def local_source(name: str = "local", **fields: object):
    """A validated ``local = true`` source (fields as in sources.toml)."""
    from crawler.sources import parse_sources

    return parse_sources({"source": [{"name": name, "local": True, **fields}]})[0]


@implementer(IResolverSimple)
class OfflineResolver:
    """A Twisted name resolver (setting ``TWISTED_DNS_RESOLVER``) that sends no query: it
    answers IP literals and ``localhost`` and fails every other name as an unknown name
    fails."""

    def __init__(self, reactor: object):
        self.reactor = reactor

    @classmethod
    def from_crawler(cls, crawler: object, reactor: object) -> OfflineResolver:
        return cls(reactor)

    def install_on_reactor(self) -> None:
        self.reactor.installResolver(self)  # type: ignore[attr-defined]

    def getHostByName(self, name: str, timeout: tuple[int, ...] = ()) -> Deferred:  # noqa: N802
        if name.lower() == "localhost":
            return succeed("127.0.0.1")
        try:
            return succeed(str(ipaddress.ip_address(name)))
        except ValueError:
            pass
        return fail(DNSLookupError(f"{name}: no such name (offline test resolver)"))


# Settings for a crawl that must send no DNS query (used with local = false sources).
OFFLINE_DNS = {"TWISTED_DNS_RESOLVER": "crawl_server.OfflineResolver"}


def held_article_site(
    server: CrawlServer,
    root: str | Path,
    release: threading.Event,
    *,
    articles: int,
    answered: int,
    first_text: int = 0,
) -> None:
    """A feed of ``articles`` article pages on ``server``; the first ``answered`` article
    requests are answered at once and every later one waits for ``release`` (counted in
    arrival order: Scrapy does not fetch them in feed order). Article ``i`` has the text
    ``article_text(first_text + i)``."""
    paths = [f"/articles/{i:04d}.html" for i in range(articles)]
    write_feed(root, [(p, f"Story {i}", "2025-01-06T09:00:00Z") for i, p in enumerate(paths)])
    arrived = itertools.count(1)
    lock = threading.Lock()

    def article(page: Handler) -> Handler:
        def answer(req: RequestInfo) -> Reply:
            with lock:
                n = next(arrived)
            return (page if n <= answered else gated(page, release))(req)

        return answer

    for i, path in enumerate(paths):
        server.route(path, article(reply(article_html(f"Story {i}", article_text(first_text + i)))))
