"""Serving a folder of pages on 127.0.0.1 as a small news site (the demo and tests use it).

Text files may contain the placeholder ``{{BASE_URL}}`` (feeds, sitemaps and robots.txt need
absolute URLs); it is replaced with the server's own ``http://127.0.0.1:PORT``. Responses
carry ETag and Last-Modified, and conditional requests get 304, like a real news site, so
incremental crawling can be shown end to end. The server only ever binds to loopback.
"""

from __future__ import annotations

import email.utils
import hashlib
import mimetypes
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

PLACEHOLDER = b"{{BASE_URL}}"
_TEXT_SUFFIXES = {".html", ".htm", ".xml", ".txt", ".rss", ".atom", ".json"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # http.server's default listen queue (5) drops connections under Scrapy's concurrency.
    request_queue_size = 128


@dataclass
class SampleSite:
    """A running site: its base URL and the number of requests seen per path."""

    root: Path
    base_url: str = ""
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, path: str, status: int) -> None:
        with self._lock:
            self.requests[path] += 1
            self.statuses[status] += 1


@dataclass(frozen=True)
class StaticReply:
    """The answer to a request for a file: status, body and response headers."""

    status: int
    body: bytes
    headers: dict[str, str]


def static_reply(root: Path, url_path: str, base_url: str,
                 request_headers: Mapping[str, str]) -> StaticReply:
    """Answer a GET for ``url_path`` from the folder ``root`` as a news site would.

    ``{{BASE_URL}}`` in text files becomes ``base_url``; responses carry ETag and
    Last-Modified, and a matching If-None-Match / If-Modified-Since (``request_headers`` with
    lower-case names) gets 304. Paths outside ``root`` are 404. The Content-Type carries no
    charset, so pages are decoded from their own ``<meta charset>``.
    """
    root = root.resolve()
    target = (root / url_path.lstrip("/")).resolve()
    if target.is_dir():
        target = target / "index.html"
    if root not in target.parents or not target.is_file():
        return StaticReply(HTTPStatus.NOT_FOUND, b"not found", {"Content-Type": "text/plain"})
    body = target.read_bytes()
    if target.suffix in _TEXT_SUFFIXES:
        body = body.replace(PLACEHOLDER, base_url.encode())
    etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
    mtime = target.stat().st_mtime
    validators = {"ETag": etag, "Last-Modified": email.utils.formatdate(mtime, usegmt=True)}
    if _not_modified(request_headers, etag, mtime):
        return StaticReply(HTTPStatus.NOT_MODIFIED, b"", validators)
    ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if target.suffix in (".xml", ".rss", ".atom"):
        ctype = "application/xml"
    return StaticReply(HTTPStatus.OK, body, {"Content-Type": ctype, **validators})


def _not_modified(request_headers: Mapping[str, str], etag: str, mtime: float) -> bool:
    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None:
        return etag in [t.strip() for t in if_none_match.split(",")]
    since = request_headers.get("if-modified-since")
    if since:
        try:
            parsed = email.utils.parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False
        return int(mtime) <= int(parsed)
    return False


def _handler(site: SampleSite) -> type[BaseHTTPRequestHandler]:
    root = site.root.resolve()

    class Handler(BaseHTTPRequestHandler):
        server_version = "policywatch-sample-site"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def do_HEAD(self) -> None:  # noqa: N802
            self._serve(send_body=False)

        def do_GET(self) -> None:  # noqa: N802
            self._serve(send_body=True)

        def _serve(self, *, send_body: bool) -> None:
            path = unquote(urlsplit(self.path).path)
            reply = static_reply(root, path, site.base_url,
                                 {k.lower(): v for k, v in self.headers.items()})
            if reply.status == HTTPStatus.NOT_MODIFIED:
                self.send_response(reply.status)
                self.send_header("ETag", reply.headers["ETag"])
                self.end_headers()
                site.record(path, reply.status)
                return
            headers = dict(reply.headers)
            self._reply(reply.status, reply.body, headers.pop("Content-Type"), path, send_body,
                        headers=headers)

        def _reply(self, status: int, body: bytes, ctype: str, path: str, send_body: bool,
                   headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            # Charset is left to the page (<meta charset>) so encoding detection is real.
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if send_body:
                self.wfile.write(body)
            site.record(path, int(status))

    return Handler


@contextmanager
def serve_site(root: str | Path, *, port: int = 0) -> Iterator[SampleSite]:
    """Serve ``root`` on 127.0.0.1 (an ephemeral port by default) for the ``with`` block."""
    site = SampleSite(root=Path(root))
    if not site.root.is_dir():
        raise FileNotFoundError(f"sample site folder {site.root} does not exist")
    server = _Server(("127.0.0.1", port), _handler(site))
    site.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="sample-site", daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
