"""Unit tests of the crawler's parts that need no network: URLs, dedup, sources, discovery
documents, retry pacing, the address guard (with a resolver stub), locking, scheduling and the
run statistics."""

from __future__ import annotations

import asyncio
import gzip
from datetime import UTC, datetime, timedelta

import pytest

from crawler.dedup import (
    MinHashIndex,
    content_hash,
    hamming,
    jaccard,
    minhash,
    minhash_from_bytes,
    simhash,
)
from crawler.discovery import SitemapError, parse_feed, parse_sitemap, robots_sitemaps
from crawler.middlewares import (
    BlockedAddressError,
    PrivateAddressMiddleware,
    address_allowed,
    parse_retry_after,
)
from crawler.schedule import FileLock, LockedError, due_sources, run_schedule
from crawler.settings import build_settings, user_agent
from crawler.sources import SourcesError, load_sources, parse_sources
from crawler.urls import article_id, host_allowed, normalize_url
from store import runs
from store.db import connect

# -- URLs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTP://WWW.Example.COM:80/a/./b/../c?b=2&a=1#frag", "http://www.example.com/a/c?a=1&b=2"),
        (
            "https://example.com/news?utm_source=x&utm_medium=y&id=5&fbclid=abc&gclid=z&ref=home",
            "https://example.com/news?id=5",
        ),
        ("https://example.com", "https://example.com/"),
        ("https://example.com:8443/x/", "https://example.com:8443/x/"),
        ("https://example.com/%7Euser/caf%C3%A9", "https://example.com/~user/caf%C3%A9"),
    ],
)
def test_normalize_url(raw, expected):
    assert normalize_url(raw) == expected


def test_normalize_url_relative_and_invalid():
    assert normalize_url("../b.html", "http://e.com/x/y/a.html") == "http://e.com/x/b.html"
    with pytest.raises(ValueError, match="not an http"):
        normalize_url("ftp://e.com/file")
    with pytest.raises(ValueError, match="no host"):
        normalize_url("http:///path")


def test_article_id_and_hosts():
    assert article_id("http://e.com/") == article_id("http://e.com/")
    assert len(article_id("http://e.com/")) == 16
    assert host_allowed("news.nhs.uk", ["nhs.uk"]) and host_allowed("nhs.uk", ["nhs.uk"])
    assert not host_allowed("evilnhs.uk", ["nhs.uk"])


# -- dedup ----------------------------------------------------------------------------------

TEXT = (
    "The health secretary announced a two billion pound package for hospitals in England on "
    "Monday, saying the money would cut waiting lists for planned operations and scans. "
    "NHS England said trusts would bid for capital funding before the end of the year, and "
    "the King's Fund warned that staff shortages would limit what the money could achieve. "
) * 3


def test_content_hash_ignores_whitespace_only():
    assert content_hash("a  b\n c") == content_hash("a b c")
    assert content_hash("a b c") != content_hash("a b d")


def test_simhash_near_and_far():
    near = TEXT + " Ends."
    far = "Care homes in the north west face a shortage of nurses as vacancies rise again."
    assert hamming(simhash(TEXT), simhash(TEXT)) == 0
    assert hamming(simhash(TEXT), simhash(near)) <= 3
    assert hamming(simhash(TEXT), simhash(far)) > 10


def test_minhash_index_links_a_republication_and_not_a_stranger():
    republished = TEXT.replace("on Monday", "this week").replace(
        "staff shortages", "a lack of staff") + " This story first appeared elsewhere."
    far = "Care homes in the north west face a shortage of nurses as vacancies rise again."
    assert 0.5 < jaccard(TEXT, republished) < 0.95
    index = MinHashIndex()
    index.add("a", minhash(TEXT))
    index.add("b", minhash(far))
    assert len(index) == 2 and "a" in index
    assert index.nearest(minhash(republished)) == "a"
    assert index.nearest(minhash(republished), exclude="a") is None
    assert index.nearest(minhash("completely unrelated words about weather")) is None
    # a stored signature reads back as the same signature
    stored = minhash_from_bytes(minhash(TEXT).hashvalues.tobytes())
    assert stored.jaccard(minhash(TEXT)) == 1.0
    index.add("a", minhash(far))  # replacing a key's signature
    assert index.nearest(minhash(republished)) is None


def test_minhash_from_bytes_rejects_a_wrong_length():
    with pytest.raises(ValueError, match="values"):
        minhash_from_bytes(b"\x00" * 12)


def test_republication_set_all_found_no_false_links():
    from benchmarks.dedup import ROOT, evaluate, load

    pairs, distinct = load(ROOT / "fixtures" / "dedup")
    result = evaluate(pairs, distinct)
    assert result["pairs"] >= 20 and result["distinct"] >= 20
    assert 0.6 <= result["pair_jaccard_min"] and result["pair_jaccard_max"] <= 0.95
    assert result["recall"] >= 0.95
    assert result["false_links"] == 0


# -- sources --------------------------------------------------------------------------------


def test_shipped_sources_are_valid_and_public():
    sources = load_sources()
    names = {s.name for s in sources}
    assert {"nhs-england", "dhsc", "cqc", "kings-fund", "nuffield-trust"} <= names
    for s in sources:
        assert not s.local
        assert s.feeds or s.sitemaps or s.listings
        for url in (*s.feeds, *s.sitemaps, *(li.url for li in s.listings)):
            assert url.startswith("https://")
    dhsc = next(s for s in sources if s.name == "dhsc")
    assert dhsc.feeds[0].endswith(".atom")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"name": "x"}, "needs at least one of feeds, sitemaps or listings"),
        ({"name": "Bad Name", "feeds": ["https://e.com/f"]}, "name must be"),
        ({"name": "x", "feeds": ["ftp://e.com/f"]}, "not an http"),
        ({"name": "x", "feeds": ["https://e.com/f"], "interval": "soon"}, "invalid interval"),
        ({"name": "x", "feeds": ["https://e.com/f"], "interval": "99999999999999w"},
         "is longer than 366 days"),
        ({"name": "x", "feeds": ["https://e.com/f"], "interval": "inf"}, "invalid interval"),
        ({"name": "x", "feeds": ["https://e.com/f"], "interval": float("inf")},
         "invalid interval"),
        ({"name": "x", "feeds": ["https://e.com/f"], "interval": float("nan")},
         "invalid interval"),
        ({"name": "x", "feeds": ["https://e.com/f"], "interval": 10**30}, "longer than 366"),
        ({"name": "x", "feeds": ["https://e.com/f"], "colour": "red"}, "unknown field(s) colour"),
        ({"name": "x", "feeds": ["http://127.0.0.1:8000/f"]}, "set local = true"),
        (
            {"name": "x", "feeds": ["https://e.com/f"], "allowed_domains": ["other.org"]},
            "outside allowed_domains",
        ),
        (
            {"name": "x", "listings": [{"url": "https://e.com/", "links": "("}]},
            "not a valid regular expression",
        ),
        ({"name": "x", "listings": [{"url": "https://e.com/"}]}, "links"),
    ],
)
def test_source_validation_errors(source, message):
    with pytest.raises(SourcesError) as err:
        parse_sources({"source": [source]}, origin="s.toml")
    text = str(err.value)
    assert message in text and text.startswith("s.toml: source") and "\n" not in text


def test_sources_file_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[source]\nname = 'x'")
    with pytest.raises(SourcesError, match="invalid TOML"):
        load_sources(bad)
    with pytest.raises(SourcesError, match="not found"):
        load_sources(tmp_path / "missing.toml")
    dup = tmp_path / "dup.toml"
    dup.write_text(
        "[[source]]\nname='a'\nfeeds=['https://e.com/f']\n"
        "[[source]]\nname='a'\nfeeds=['https://e.com/g']\n"
    )
    with pytest.raises(SourcesError, match="used twice"):
        load_sources(dup)


def test_source_defaults_and_intervals():
    (src, other) = parse_sources(
        {
            "defaults": {"interval": "6h"},
            "source": [
                {"name": "a", "feeds": ["https://www.e.com/f"], "interval": "30m"},
                {"name": "b", "sitemaps": ["https://e.org/robots.txt"]},
                {"name": "c", "feeds": ["https://e.net/f"], "enabled": False},
            ],
        }
    )
    assert src.interval == timedelta(minutes=30) and other.interval == timedelta(hours=6)
    assert src.allowed_domains == ("www.e.com",)
    assert src.to_config()["interval_s"] == 1800


# -- discovery documents ----------------------------------------------------------------------

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://www.gov.uk/government/">
<title>DHSC</title><id>x</id><updated>2025-01-02T10:00:00Z</updated>
<entry><title>Plan</title><id>1</id><link rel="alternate" href="news/plan"/>
<updated>2025-01-02T10:00:00+01:00</updated></entry>
</feed>"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://e.com/"><title>t</title><link>https://e.com/</link></channel>
<item rdf:about="https://e.com/r1"><title>r1</title><link>https://e.com/r1?utm_source=rss</link>
<dc:date>2025-02-02T00:00:00Z</dc:date></item></rdf:RDF>"""


def test_parse_atom_and_rss1():
    atom = parse_feed(ATOM, "https://www.gov.uk/feed.atom", "application/atom+xml")
    assert atom.malformed is None
    assert [(x.url, x.updated) for x in atom.links] == [
        ("https://www.gov.uk/government/news/plan", datetime(2025, 1, 2, 9, 0))
    ]
    rdf = parse_feed(RDF, "https://e.com/rdf", "application/rdf+xml")
    assert [(x.url, x.updated) for x in rdf.links] == [("https://e.com/r1", datetime(2025, 2, 2))]


def test_parse_feed_rejects_html():
    result = parse_feed(b"<html><body>hello</body></html>", "https://e.com/", "text/html")
    assert result.links == [] and result.malformed


NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://e.com/a</loc><news:news><news:publication><news:name>E</news:name>
<news:language>en</news:language></news:publication>
<news:publication_date>2025-03-03T10:00:00+01:00</news:publication_date>
<news:title>A</news:title></news:news></url>
<url><loc>/b</loc><lastmod>2025-01-01</lastmod></url>
</urlset>"""


def test_parse_sitemaps():
    result = parse_sitemap(NEWS_SITEMAP, "https://e.com/news.xml")
    assert result.kind == "urlset"
    assert [(x.url, x.updated) for x in result.links] == [
        ("https://e.com/a", datetime(2025, 3, 3, 9, 0)),
        ("https://e.com/b", datetime(2025, 1, 1)),
    ]
    index = (
        b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>https://e.com/s1.xml.gz</loc></sitemap></sitemapindex>"
    )
    gz = parse_sitemap(gzip.compress(index), "https://e.com/index.xml.gz", max_size=10_000)
    assert gz.kind == "sitemapindex" and gz.links[0].url == "https://e.com/s1.xml.gz"


def test_unreadable_sitemap_dates_are_counted_not_fatal():
    body = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
    <url><loc>/one</loc><lastmod>last Tuesday</lastmod></url>
    <url><loc>/two</loc><lastmod>Tue, 04 Mar 2025 08:30:00 GMT</lastmod></url>
    <url><loc>/three</loc><lastmod>2025-02</lastmod></url>
    <url><loc>/four</loc><lastmod>31/12/2024</lastmod></url>
    <url><loc>/five</loc><lastmod>2025-03-05T10:00:00.250+0100</lastmod></url>
    <url><loc>/six</loc></url>
    </urlset>"""
    result = parse_sitemap(body, "https://e.com/s.xml")
    assert [(x.url.rsplit("/", 1)[1], x.updated) for x in result.links] == [
        ("one", None),
        ("two", datetime(2025, 3, 4, 8, 30)),
        ("three", datetime(2025, 2, 1)),
        ("four", None),
        ("five", datetime(2025, 3, 5, 9, 0, 0, 250000)),
        ("six", None),
    ]
    assert result.date_errors == 2


def test_sitemap_gzip_bomb_and_garbage():
    bomb = gzip.compress(b"<urlset>" + b" " * 5_000_000 + b"</urlset>")
    with pytest.raises(SitemapError, match="too large"):
        parse_sitemap(bomb, "https://e.com/s.xml.gz", max_size=100_000)
    with pytest.raises(SitemapError, match="not a sitemap"):
        parse_sitemap(b"<html><body>no</body></html>", "https://e.com/s.xml")
    entity = (
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://e.com/&x;</loc></url></urlset>"
    )
    links = parse_sitemap(entity, "https://e.com/s.xml").links
    assert all("root:" not in x.url for x in links)  # external entities never resolved


def test_robots_sitemaps():
    body = b"User-agent: *\nDisallow: /x\nSitemap: /sitemap.xml\nsitemap: https://e.com/n.xml\n"
    assert robots_sitemaps(body, "https://e.com/robots.txt") == [
        "https://e.com/sitemap.xml",
        "https://e.com/n.xml",
    ]


# -- politeness and safety -------------------------------------------------------------------


def test_retry_after_parsing():
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after(b"120") == 120.0
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after(b"soon") is None and parse_retry_after(None) is None


def test_settings_defaults_and_overrides():
    settings = build_settings({"POLICYWATCH_CONTACT_URL": "https://example.org/contact"})
    assert settings["USER_AGENT"] == "policywatch/0.1 (+https://example.org/contact)"
    assert settings.getbool("ROBOTSTXT_OBEY") and settings.getbool("AUTOTHROTTLE_ENABLED")
    assert settings.getint("DOWNLOAD_MAXSIZE") == 10 * 1024 * 1024
    mws = settings.getdict("DOWNLOADER_MIDDLEWARES")
    assert mws["scrapy.downloadermiddlewares.retry.RetryMiddleware"] is None
    assert user_agent().startswith("policywatch/0.1 (+https://")


@pytest.mark.parametrize(
    ("address", "loopback_ok", "allowed"),
    [
        ("93.184.216.34", False, True),
        ("10.0.0.7", False, False),
        ("172.16.5.4", False, False),
        ("192.168.1.1", False, False),
        ("169.254.169.254", False, False),
        ("127.0.0.1", False, False),
        ("127.0.0.1", True, True),
        ("169.254.169.254", True, False),
        ("::1", False, False),
        ("fe80::1", False, False),
        ("fd00::1", False, False),
        ("::ffff:10.0.0.1", False, False),
        ("0.0.0.0", False, False),
        ("100.64.0.1", False, False),
        ("224.0.0.1", False, False),
        ("2a00:1450:4009:81f::200e", False, True),
    ],
)
def test_address_allowed(address, loopback_ok, allowed):
    assert address_allowed(address, allow_loopback=loopback_ok) is allowed


def test_private_address_middleware_with_resolver_stub():
    asked: list[str] = []

    async def resolver(host: str) -> list[str]:
        asked.append(host)
        return {
            "rebind.example.com": ["93.184.216.34", "10.1.2.3"],
            "public.example.com": ["93.184.216.34"],
            "meta.example.com": ["169.254.169.254"],
        }[host]

    mw = PrivateAddressMiddleware(resolver=resolver)

    async def check(url: str, local: bool = False) -> str | None:
        try:
            await mw.check(url, local=local)
        except BlockedAddressError as exc:
            return str(exc)
        return None

    async def main():
        return [
            await check("https://public.example.com/news"),
            await check("https://rebind.example.com/x"),
            await check("http://meta.example.com/latest/meta-data/"),
            await check("http://169.254.169.254/latest/"),
            await check("http://[::1]:8080/"),
            await check("http://127.0.0.1:8080/", local=True),
            await check("http://10.0.0.1/", local=True),
        ]

    results = asyncio.run(main())
    assert results[0] is None
    assert "10.1.2.3" in results[1]  # one private address among public ones is enough
    assert "169.254.169.254" in results[2] and "169.254.169.254" in results[3]
    assert results[4] is not None
    assert results[5] is None  # a local source may use loopback ...
    assert results[6] is not None  # ... but not the private network
    # IP literals are checked without a lookup; names are resolved once each.
    assert asked == ["public.example.com", "rebind.example.com", "meta.example.com"]


# -- locking and scheduling ---------------------------------------------------------------------


def test_file_lock_excludes_second_holder(tmp_path):
    path = tmp_path / "crawl.lock"
    with FileLock(path):
        with pytest.raises(LockedError, match=r"already running \(process \d+\)"):
            FileLock(path).acquire()
    with FileLock(path):  # released on exit
        pass


def _sources():
    return parse_sources(
        {
            "source": [
                {"name": "fast", "feeds": ["https://a.com/f"], "interval": "1h"},
                {"name": "slow", "feeds": ["https://b.com/f"], "interval": "1d"},
                {"name": "new", "feeds": ["https://c.com/f"]},
            ]
        }
    )


def test_due_sources():
    now = datetime(2025, 1, 2, 12, 0)
    last = {"fast": now - timedelta(minutes=61), "slow": now - timedelta(hours=2)}
    due = due_sources(_sources(), last, now=now, default_interval=timedelta(hours=6))
    assert [s.name for s in due] == ["fast", "new"]


def test_run_schedule_loop(tmp_path):
    clock = [datetime(2025, 1, 2, 12, 0)]
    last: dict[str, datetime] = {}
    jobs: list[list[str]] = []
    sleeps: list[float] = []

    def job(sources):
        jobs.append([s.name for s in sources])
        for s in sources:
            last[s.name] = clock[0]

    def sleep(seconds):
        sleeps.append(seconds)
        clock[0] += timedelta(seconds=seconds)

    n = run_schedule(
        job,
        _sources(),
        once=False,
        lock_path=tmp_path / "schedule.lock",
        last_runs=lambda: dict(last),
        sleep=sleep,
        clock=lambda: clock[0],
        default_interval=timedelta(hours=6),
        max_cycles=30,
    )
    assert jobs[0] == ["fast", "slow", "new"]
    assert jobs[1] == ["fast"]  # an hour later only the hourly source is due
    assert n == len(jobs) and all(s <= 300 for s in sleeps)
    # --once runs the due sources once and returns
    assert (
        run_schedule(
            job,
            _sources(),
            once=True,
            lock_path=tmp_path / "s.lock",
            last_runs=lambda: {},
            sleep=sleep,
        )
        == 1
    )
    with FileLock(tmp_path / "held.lock"):
        with pytest.raises(LockedError):
            run_schedule(
                job, _sources(), once=True, lock_path=tmp_path / "held.lock", last_runs=lambda: {}
            )


# -- run statistics and flags --------------------------------------------------------------------


def test_source_stats_flags(tmp_path):
    con = connect(tmp_path / "stats.duckdb")
    t0 = datetime(2025, 1, 1)

    def run(source, hours, pages, stories, errors):
        rid = runs.start_run(con, source, started_at=t0 + timedelta(hours=hours))
        runs.finish_run(
            con,
            rid,
            status="ok",
            pages_fetched=pages,
            new_stories=stories,
            errors=errors,
            finished_at=t0 + timedelta(hours=hours, minutes=5),
        )

    for h in range(4):  # healthy
        run("healthy", h, 20, 3, {"http_404": 1})
    run("dry", 0, 10, 5, {})
    for h in range(1, 4):  # three runs in a row without anything new
        run("dry", h, 10, 0, {})
    for h in range(3):
        run("blocked", h, 20, 2, {})
    run("blocked", 3, 2, 0, {"http_403": 18})
    stale = runs.start_run(con, "healthy", started_at=t0 + timedelta(hours=9))
    assert runs.close_stale_runs(con) == 1
    stats = {s["source"]: s for s in runs.source_stats(con)}
    assert stats["healthy"]["flag"] is None
    assert stats["healthy"]["runs"] == 5 and stats["healthy"]["last_status"] == "interrupted"
    assert stats["dry"]["flag"] == "no-yield"
    assert stats["blocked"]["flag"] == "error-jump"
    assert "90%" in stats["blocked"]["flag_reason"]
    assert stats["blocked"]["last_errors"] == {"http_403": 18}
    last = runs.last_run_times(con)
    assert last["dry"] == t0 + timedelta(hours=3) and last["healthy"] == t0 + timedelta(hours=9)
    assert stale > 0
    con.close()


# -- run API guards ----------------------------------------------------------------------------


def test_crawl_refuses_a_locked_database_and_bad_arguments(tmp_path):
    from crawler.run import CrawlError, crawl, lock_path_for

    db = tmp_path / "x.duckdb"
    with FileLock(lock_path_for(db)):
        with pytest.raises(LockedError, match="already running"):
            crawl(db, _sources())
    with pytest.raises(CrawlError, match="no sources"):
        crawl(db, [])
    with pytest.raises(CrawlError, match="Source objects"):
        crawl(db, [{"name": "x"}])


def test_embed_setting_resolution():
    from crawler.run import CrawlError, _resolve_embed

    assert _resolve_embed(None) is None
    assert _resolve_embed("crawler.dedup.simhash") is simhash
    assert _resolve_embed("crawler.dedup:simhash") is simhash
    with pytest.raises(CrawlError, match="cannot import"):
        _resolve_embed("crawler.nothing_here.embed")
    with pytest.raises(CrawlError, match="not callable"):
        _resolve_embed("crawler.dedup.NEAR_DUPLICATE_JACCARD")


def test_run_schedule_survives_a_busy_database_and_a_failing_job(tmp_path):
    calls = {"reads": 0, "jobs": 0}
    sleeps: list[float] = []

    def last_runs():
        calls["reads"] += 1
        if calls["reads"] == 1:
            raise RuntimeError("database is in use")
        return {}

    def job(sources):
        calls["jobs"] += 1
        if calls["jobs"] == 1:
            raise RuntimeError("crawl failed")

    run_schedule(
        job,
        _sources(),
        once=False,
        lock_path=tmp_path / "l.lock",
        last_runs=last_runs,
        sleep=sleeps.append,
        max_cycles=3,
    )
    assert calls["jobs"] == 2  # the failed job did not end the loop
    assert sleeps[0] == 60.0  # waited after the unreadable database


# -- story rows -----------------------------------------------------------------------------


def test_single_story_body_starts_with_the_title_the_extractor_must_read():
    from crawler.pipelines import make_stories

    body = ("The trust said the money would pay for two new theatres.\n\n"
            "Building work starts in the spring.")
    title = "Northfield Trust wins £12m for surgical hub"
    rows = make_stories("a1", 1, body, html=None, title=title, published=None)
    assert len(rows) == 1
    assert rows[0]["headline"] == title
    assert rows[0]["body"].startswith(title + "\n\n")
    assert rows[0]["body"].endswith("starts in the spring.")
    assert rows[0]["start_offset"] == 0
    # without a title the story is the body as it stands
    untitled = make_stories("a1", 1, body, html=None, title=None, published=None)
    assert untitled[0]["body"] == body.rstrip() and untitled[0]["headline"] is None


def test_newsletter_stories_keep_their_own_headlines_not_the_page_title():
    from crawler.pipelines import make_stories

    body = (
        "Our round-up of the week's must-read health stories.\n\n"
        "Castlebridge trust opens new ward\n\n"
        "Castlebridge Hospitals NHS Trust has opened a 28-bed ward for older patients.\n\n"
        "Dental contract talks stall\n\n"
        "Talks between dentists and the government over a new NHS contract have stalled again."
    )
    rows = make_stories("n1", 1, body, html=None, title="Weekly briefing", published=None)
    assert [r["headline"] for r in rows] == ["Castlebridge trust opens new ward",
                                             "Dental contract talks stall"]
    assert all(not r["body"].startswith("Weekly briefing") for r in rows)
    assert rows[0]["body"].startswith("Castlebridge trust opens new ward\n\n")


def test_a_source_is_failing_from_its_first_failed_run(tmp_path):
    con = connect(tmp_path / "failing.duckdb")
    t0 = datetime(2025, 1, 1)
    for h, status, errors in [(0, "ok", {}), (1, "ok", {}), (2, "failed", {"dns": 2})]:
        rid = runs.start_run(con, "gone", started_at=t0 + timedelta(hours=h))
        runs.finish_run(con, rid, status=status, pages_fetched=0 if errors else 9,
                        new_stories=0 if errors else 4, errors=errors)
    stats = {s["source"]: s for s in runs.source_stats(con)}
    # Its error rate jumped too; "failing" says more.
    assert stats["gone"]["flag"] == "failing"
    assert stats["gone"]["flag_reason"] == "last run failed (dns=2)"
    rid = runs.start_run(con, "gone", started_at=t0 + timedelta(hours=3))
    runs.finish_run(con, rid, status="ok", pages_fetched=9, new_stories=1)
    assert {s["source"]: s for s in runs.source_stats(con)}["gone"]["flag"] is None
    con.close()
