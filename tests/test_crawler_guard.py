"""The private-address guard on addresses (IPv6 forms that embed a private IPv4 included),
at source load time, and on redirects to another port of the same host. Only 127.0.0.1 is
ever contacted: every other address is checked as data."""

from __future__ import annotations

import asyncio

import duckdb
import pytest
from crawl_server import FAST_SETTINGS, CrawlServer, article_html, article_text, redirect, reply

from crawler.addresses import address_allowed, embedded_ipv4
from crawler.middlewares import BlockedAddressError, PrivateAddressMiddleware
from crawler.run import crawl
from crawler.sources import SourcesError, parse_sources
from crawler.urls import redirect_port_allowed

REFUSED_V6 = [
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254 (cloud metadata)
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a00:7",  # NAT64 of 10.0.0.7
    "64:ff9b::c0a8:101",  # NAT64 of 192.168.1.1
    "64:ff9b:1::a00:1",  # local-use NAT64 prefix
    "2002:a9fe:a9fe::",  # 6to4 of 169.254.169.254
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:ac10:504::",  # 6to4 of 172.16.5.4
    "::127.0.0.1",  # IPv4-compatible loopback
    "::10.0.0.1",  # IPv4-compatible private
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:169.254.169.254",  # IPv4-mapped link-local
    "fec0::1",  # site-local
    "fed0:1::2",  # site-local
    "fc00::1",  # unique-local
    "fd12:3456::1",  # unique-local
    "fe80::1",  # link-local
    "fe80::1%eth0",  # link-local with a zone
    "::1",  # loopback
    "::",  # unspecified
    "ff02::1",  # multicast
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "2001:db8::1",  # documentation
]


@pytest.mark.parametrize("address", REFUSED_V6)
def test_ipv6_forms_of_private_addresses_are_refused(address):
    assert address_allowed(address) is False


@pytest.mark.parametrize("address", ["64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "::127.0.0.1",
                                     "fec0::1", "fe80::1"])
def test_local_sources_get_plain_loopback_only(address):
    assert address_allowed(address, allow_loopback=True) is False
    assert address_allowed("::1", allow_loopback=True) is True
    assert address_allowed("::ffff:127.0.0.1", allow_loopback=True) is True
    assert address_allowed("127.0.0.1", allow_loopback=True) is True


@pytest.mark.parametrize("address", ["64:ff9b::5db8:d822", "2002:5db8:d822::1",
                                     "2a00:1450:4009:81f::200e", "::ffff:93.184.216.34"])
def test_public_addresses_in_ipv6_forms_pass(address):
    assert address_allowed(address) is True


def test_embedded_ipv4():
    import ipaddress

    def inner(text: str) -> str | None:
        found = embedded_ipv4(ipaddress.IPv6Address(text))
        return str(found) if found else None

    assert inner("64:ff9b::a9fe:a9fe") == "169.254.169.254"
    assert inner("2002:a9fe:a9fe::") == "169.254.169.254"
    assert inner("::127.0.0.1") == "127.0.0.1"
    assert inner("::ffff:10.0.0.1") == "10.0.0.1"
    assert inner("2a00:1450:4009:81f::200e") is None


def test_middleware_refuses_a_host_resolving_to_nat64_metadata():
    async def resolver(host: str) -> list[str]:
        return {"sneaky.example.com": ["64:ff9b::a9fe:a9fe"]}[host]

    async def main() -> list[str]:
        mw = PrivateAddressMiddleware(resolver=resolver)
        messages = []
        for url in ("https://sneaky.example.com/", "http://[2002:a9fe:a9fe::]/",
                    "http://[::127.0.0.1]/", "http://[fec0::1]/"):
            try:
                await mw.check(url, local=True)
            except BlockedAddressError as exc:
                messages.append(str(exc))
        return messages

    messages = asyncio.run(main())
    assert len(messages) == 4
    assert "64:ff9b::a9fe:a9fe" in messages[0]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"feeds": ["http://10.0.0.5/feed.xml"]}, "is a private or reserved address"),
        ({"feeds": ["http://169.254.169.254/latest/"], "local": True},
         "is a private or reserved address"),
        ({"feeds": ["http://[64:ff9b::a9fe:a9fe]/feed.xml"]}, "private or reserved"),
        ({"feeds": ["http://[2002:a9fe:a9fe::]/feed.xml"]}, "private or reserved"),
        ({"sitemaps": ["http://[fec0::1]/sitemap.xml"]}, "private or reserved"),
        ({"feeds": ["http://[::1]:8000/feed.xml"]}, "set local = true"),
        ({"feeds": ["http://[::ffff:127.0.0.1]/feed.xml"]}, "set local = true"),
        ({"feeds": ["https://e.com/f"], "allowed_domains": ["e.com", "192.168.0.1"]},
         "allowed_domains: 192.168.0.1 is a private or reserved address"),
        ({"feeds": ["https://e.com/f"], "allowed_domains": ["e.com", "127.0.0.1"]},
         "allowed_domains: 127.0.0.1 is the loopback interface; set local = true"),
    ],
)
def test_sources_with_private_addresses_are_refused_at_load_time(source, message):
    with pytest.raises(SourcesError) as err:
        parse_sources({"source": [{"name": "x", **source}]}, origin="s.toml")
    text = str(err.value)
    assert message in text and text.startswith("s.toml: source 'x': ") and "\n" not in text


def test_local_sources_may_use_127_0_0_1():
    (source,) = parse_sources({"source": [{"name": "x", "local": True,
                                           "feeds": ["http://127.0.0.1:8000/feed.xml"]}]})
    assert source.allowed_domains == ("127.0.0.1",)


@pytest.mark.parametrize(
    ("origin", "target", "allowed"),
    [
        ("http://e.com/a", "https://e.com/a", True),  # http -> https
        ("https://e.com/a", "http://e.com/b", True),
        ("http://e.com:8080/a", "http://e.com:8080/b", True),
        ("http://e.com/a", "https://www.e.com/a", True),  # another host: domain/address checks
        ("http://e.com:8080/a", "http://e.com:6379/", False),
        ("http://e.com:8080/a", "http://e.com/", False),
        ("http://e.com/a", "http://e.com:22/", False),
        ("https://e.com/a", "https://e.com:8443/", False),
        ("http://127.0.0.1:8000/a", "http://127.0.0.1:9000/b", False),
        ("http://e.com/a", "http://e.com:99999/", False),  # invalid port
    ],
)
def test_redirect_port_rule(origin, target, allowed):
    assert redirect_port_allowed(origin, target) is allowed


def test_crawl_refuses_a_redirect_to_another_port(tmp_path):
    with CrawlServer() as other, CrawlServer() as server:
        other.route("/inside.html", reply(article_html("Inside", article_text(900))))
        server.route("/robots.txt", reply("User-agent: *\n", content_type="text/plain"))
        server.route("/a/hop.html", redirect(other.url("/inside.html")))
        server.route("/a/fine.html", reply(article_html("Fine", article_text(901))))
        sitemap = ('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                   f"<url><loc>{server.url('/a/hop.html')}</loc></url>"
                   f"<url><loc>{server.url('/a/fine.html')}</loc></url></urlset>")
        server.route("/sitemap.xml", reply(sitemap, content_type="application/xml"))
        (source,) = parse_sources({"source": [{
            "name": "ports", "local": True, "sitemaps": [server.url("/sitemap.xml")]}]})
        db = tmp_path / "ports.duckdb"
        report = crawl(db, [source], settings=FAST_SETTINGS)
        assert dict(other.requests) == {}  # the other port was never contacted
        assert server.requests["/a/hop.html"] == 1
    assert report.sources["ports"]["errors"] == {"offsite_redirect": 1}
    con = duckdb.connect(str(db), read_only=True)
    try:
        urls = [u for (u,) in con.execute("SELECT url FROM articles").fetchall()]
    finally:
        con.close()
    assert [u.rsplit("/", 1)[1] for u in urls] == ["fine.html"]
