"""How fast compaction writes crawl workers' Parquet parts, against writing the same batches
straight into the database as a single-machine crawl does.

Builds ``--articles`` synthetic articles (one version and one story each, bodies of about
``--words`` words) in batches of ``--batch`` (the crawl's POLICYWATCH_BATCH_SIZE), then:

* direct: each batch written with ``store.articles.write_crawl_batch`` in its own session
  (the single-machine crawl's path);
* parts: each batch written with ``store.parts.write_part`` (what a worker does), then
  ``store.parts.compact`` into a fresh database.

Prints seconds and articles per second for each step.

    python benchmarks/compact_parts.py [--articles 5000] [--batch 100] [--words 400]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from store import articles as store_articles  # noqa: E402
from store import parts as store_parts  # noqa: E402
from store.db import session  # noqa: E402

WORDS = ("trust board funding million waiting list patients care quality inspection rating "
         "staff nurses doctors workforce budget deficit capital beds emergency ambulance "
         "mental health services community practice vaccine programme plan review").split()


def batches(n: int, size: int, words: int) -> list[dict[str, list[dict]]]:
    rng = random.Random(7)
    start = datetime(2026, 1, 1)
    out = []
    for first in range(0, n, size):
        batch: dict[str, list[dict]] = {"articles": [], "versions": [], "stories": [],
                                        "seen": []}
        for i in range(first, min(n, first + size)):
            aid = f"{i:016x}"
            url = f"https://news.example/articles/{i}.html"
            body = " ".join(rng.choice(WORDS) for _ in range(words))
            when = start + timedelta(minutes=i)
            batch["articles"].append({
                "article_id": aid, "source": "bench", "url": url, "title": f"Story {i}",
                "author": None, "published": when, "updated": None, "language": "en",
                "first_seen": when, "last_fetched": when, "current_version": 1,
                "duplicate_of": None})
            batch["versions"].append({
                "article_id": aid, "version": 1, "fetched_at": when,
                "content_hash": f"h{i}", "simhash": i, "body": body,
                "minhash": rng.randbytes(1024)})
            batch["stories"].append({
                "story_id": f"{aid}-v1-s0", "article_id": aid, "version": 1,
                "story_index": 0, "headline": f"Story {i}", "start_offset": 0, "body": body,
                "published": when})
            batch["seen"].append({"url": url, "article_id": aid, "first_seen": when,
                                  "last_seen": when})
        out.append(batch)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--words", type=int, default=400)
    args = parser.parse_args()
    data = batches(args.articles, args.batch, args.words)
    with tempfile.TemporaryDirectory() as tmp:
        direct_db = Path(tmp, "direct.duckdb")
        t0 = time.perf_counter()
        for batch in data:
            with session(direct_db) as con:
                store_articles.write_crawl_batch(con, **batch)
        direct = time.perf_counter() - t0

        parts_dir = Path(tmp, "parts")
        t0 = time.perf_counter()
        for batch in data:
            store_parts.write_part(parts_dir, batch, round_id=1)
        written = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = store_parts.compact(Path(tmp, "compacted.duckdb"), parts_dir)
        compacted = time.perf_counter() - t0

    n = args.articles
    print(f"{n} articles in {len(data)} batches of {args.batch}, ~{args.words} words each")
    print(f"direct write_crawl_batch : {direct:6.2f} s  {n / direct:8.0f} articles/s")
    print(f"write_part (workers)     : {written:6.2f} s  {n / written:8.0f} articles/s")
    print(f"{f'compact ({result.parts} parts)':<25}: {compacted:6.2f} s  "
          f"{n / compacted:8.0f} articles/s")


if __name__ == "__main__":
    main()
