"""Crawl throughput: policywatch's full crawl pipeline vs ``scrapy bench`` on this machine.

Generates a news site of N article pages (default 2,000) in a temporary directory, serves it on
127.0.0.1 with tests/crawl_server.py, and crawls it with ``crawler.run.crawl`` -- robots.txt,
sitemap discovery, article extraction (trafilatura), story splitting, dedup and DuckDB
persistence included, politeness delays off -- then crawls it again to time an incremental
run that finds nothing new. Finally runs ``scrapy bench`` (Scrapy's own local server and a
link-following spider doing no parsing) as a subprocess and parses its pages/min.

    .venv/bin/python benchmarks/crawl.py [--pages 2000] [--concurrency 16] [--bench-seconds 10]

Nothing leaves 127.0.0.1 (scrapy bench's server listens on port 8998 of this machine).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from crawl_server import CrawlServer, local_source, write_news_site  # noqa: E402

from crawler.run import crawl  # noqa: E402


def run_crawl(db: Path, source, settings: dict) -> tuple[dict, float, float]:
    """Crawl once; returns the source report, crawl seconds (spider open to close) and wall."""
    marks: dict[str, float] = {}

    def progress(event: dict) -> None:
        if event["event"] in ("source_started", "source_finished"):
            marks[event["event"]] = time.perf_counter()

    t0 = time.perf_counter()
    report = crawl(db, [source], settings=settings, progress=progress)
    wall = time.perf_counter() - t0
    crawl_s = marks["source_finished"] - marks["source_started"]
    return report.sources[source.name], crawl_s, wall


def scrapy_bench(seconds: int) -> float | None:
    """pages/min reported by ``scrapy bench`` (the best LogStats line after warm-up)."""
    scrapy = Path(sys.executable).with_name("scrapy")
    cmd = [
        str(scrapy),
        "bench",
        "-s",
        f"CLOSESPIDER_TIMEOUT={seconds}",
        "-s",
        "LOGSTATS_INTERVAL=1",
        "-s",
        "TELNETCONSOLE_ENABLED=False",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    rates = [int(x) for x in re.findall(r"\(at (\d+) pages/min\)", proc.stderr)]
    if not rates:
        print(proc.stderr[-2000:], file=sys.stderr)
        return None
    steady = rates[1:] or rates
    return sum(steady) / len(steady)


def processing_rate(site: Path, limit: int = 300) -> float:
    """Pages/s of the per-page work alone (extraction, story split, hashes), one core."""
    from crawler.article import extract_article
    from crawler.dedup import content_hash, minhash, simhash
    from crawler.stories import split_stories

    pages = sorted((site / "articles").glob("*.html"))[:limit]
    html = [p.read_text(encoding="utf-8") for p in pages]
    extract_article(html[0], url="http://127.0.0.1/warm-up")
    t0 = time.perf_counter()
    for page, text in zip(pages, html, strict=True):
        body = extract_article(text, url=f"http://127.0.0.1/articles/{page.name}").body
        split_stories(body, html=text)
        content_hash(body), simhash(body), minhash(body)
    return len(pages) / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--bench-seconds", type=int, default=10)
    parser.add_argument("--skip-scrapy-bench", action="store_true")
    args = parser.parse_args()

    settings = {
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS": args.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": args.concurrency,
        "LOG_LEVEL": "WARNING",
        "POLICYWATCH_BATCH_SIZE": 200,
    }
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        write_news_site(site, args.pages)
        with CrawlServer(site) as server:
            source = local_source(
                "bench", sitemaps=[server.url("/robots.txt")], feeds=[server.url("/rss.xml")]
            )
            db = Path(tmp) / "bench.duckdb"
            rep, crawl_s, wall = run_crawl(db, source, settings)
            pages = rep["pages_fetched"]
            print(
                f"policywatch full crawl: {pages} pages ({rep['articles_fetched']} articles, "
                f"{rep['new_stories']} stories stored) in {crawl_s:.1f}s "
                f"= {pages / crawl_s:.1f} pages/s "
                f"({wall:.1f}s wall including the crawl process start-up)"
            )
            requests_before = sum(server.requests.values())
            rep2, crawl2_s, wall2 = run_crawl(db, source, settings)
            print(
                f"policywatch incremental re-crawl: {rep2['articles_fetched']} article pages "
                f"downloaded, {rep2['not_modified']} not modified, "
                f"{sum(server.requests.values()) - requests_before} requests in {crawl2_s:.2f}s"
            )
            print(
                "page processing alone (extract_article + split_stories + hashes, one core): "
                f"{processing_rate(site):.1f} pages/s"
            )
    if not args.skip_scrapy_bench:
        rate = scrapy_bench(args.bench_seconds)
        if rate is None:
            print("scrapy bench: no rate found in its output")
        else:
            print(
                f"scrapy bench (no parsing, no storage): {rate:.0f} pages/min "
                f"= {rate / 60:.1f} pages/s"
            )


if __name__ == "__main__":
    main()
