"""URL normalisation and identity: one spelling per page, so a page is fetched and stored once.

Normalisation lower-cases the scheme and host, drops default ports, fragments and tracking
parameters (``utm_*``, ``fbclid``, ``gclid``, ``ref`` ...), removes dot segments and sorts the
remaining query parameters. ``article_id`` is derived from the normalised URL.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

__all__ = [
    "article_id",
    "host_allowed",
    "host_of",
    "normalize_url",
    "port_of",
    "redirect_port_allowed",
    "resolve_url",
]

# Query parameters that identify a campaign or a referrer, never the content.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "yclid",
        "igshid",
        "ref",
        "ref_src",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "cmpid",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters left as they are in a path when re-quoting it.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in TRACKING_PARAMS or low.startswith(TRACKING_PREFIXES)


def _clean_path(path: str) -> str:
    if not path:
        return "/"
    trailing = path.endswith("/")
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    if trailing and not cleaned.endswith("/"):
        cleaned += "/"
    # Re-quote consistently: %7E and ~ become the same spelling.
    return quote(unquote(cleaned), safe=_PATH_SAFE)


def normalize_url(url: str, base: str | None = None) -> str:
    """The canonical spelling of ``url`` (resolved against ``base`` when relative).

    Raises ``ValueError`` for URLs that are not http(s) or have no host.
    """
    url = url.strip()
    if base is not None:
        url = urljoin(base, url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValueError(f"URL has no host: {url!r}")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        host = host.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"URL has an invalid port: {url!r}") from None
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{host}:{port}"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = sorted((k, v) for k, v in pairs if not _is_tracking(k))
    return urlunsplit((scheme, netloc, _clean_path(parts.path), urlencode(query), ""))


def resolve_url(href: str, base: str) -> str | None:
    """``normalize_url(href, base)``, or None when ``href`` is not a crawlable http(s) link."""
    if not href or href.startswith(("mailto:", "javascript:", "tel:", "data:")):
        return None
    try:
        return normalize_url(href, base)
    except ValueError:
        return None


def article_id(url: str) -> str:
    """Stable id of the article at (normalised) ``url``: 16 hex chars of its SHA-1."""
    return hashlib.sha1(url.encode("utf-8")).hexdigest()[:16]


def host_of(url: str) -> str:
    """Lower-case host name of ``url`` (no port)."""
    return (urlsplit(url).hostname or "").lower()


def port_of(url: str) -> int | None:
    """The port a connection to ``url`` uses (the scheme's default when none is written);
    None for a URL that is not http(s) or has an invalid port."""
    parts = urlsplit(url)
    default = _DEFAULT_PORTS.get(parts.scheme.lower())
    try:
        port = parts.port
    except ValueError:
        return None
    return port if port is not None else default


def _on_default_port(url: str) -> bool:
    return port_of(url) == _DEFAULT_PORTS.get(urlsplit(url).scheme.lower())


def redirect_port_allowed(origin: str, target: str) -> bool:
    """Whether a redirect from ``origin`` to ``target`` keeps to the expected port of its host.

    Another host is for the domain and address checks; on the same host the port must stay
    the same, except between the default ports of http and https (``http://h/`` ->
    ``https://h/``). A hop to another service of the same host (``h:8080`` -> ``h:6379``,
    ``h:8080`` -> ``h``) is refused.
    """
    target_port = port_of(target)
    if target_port is None:
        return False
    if host_of(origin).rstrip(".") != host_of(target).rstrip("."):
        return True
    if target_port == port_of(origin):
        return True
    return _on_default_port(origin) and _on_default_port(target)


_LABEL = re.compile(r"^[a-z0-9.-]+$")


def host_allowed(host: str, allowed: list[str] | tuple[str, ...]) -> bool:
    """Whether ``host`` is one of ``allowed`` or a subdomain of one."""
    host = host.lower().rstrip(".")
    for domain in allowed:
        domain = domain.lower().rstrip(".")
        if host == domain or (_LABEL.match(domain) and host.endswith("." + domain)):
            return True
    return False
