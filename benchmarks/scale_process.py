"""Processing a backlog on Ray against the single-machine ``process``: throughput, speed-up,
overhead, memory.

Builds a database with a backlog of N stories (default 5,000) synthesised from the project's
fixture texts (``fixtures/**/*.txt``): each story is 250-400 words, paragraphs drawn at random
(seeded) from different documents, so no two stories are the same. Then, each on its own copy
of the database and in its own process:

* **plain** -- the anchor: ``pipeline.process_stories`` (spaCy with ``n_process=2``) and
  ``pipeline.embed_stories_job`` (the embedding half of ``themes``), the single-machine way to
  the same result;
* **ray:K** -- ``scale.ray_process.process_on_ray`` with K workers on a Ray head started here
  (127.0.0.1 only, 2 CPUs), extraction and embedding in the workers.

The run with the most workers goes first, then the anchor, then the others, so that a run cut
short has measured both ends; the speed-ups of runs before the anchor print after it.

For each it prints stories/s, the speed-up over the anchor, the Ray overhead (start-up: joining
the cluster and loading the models in every worker; the driver's read and save time; the wall
time beyond the workers' computing time), and peak RSS (driver, and each worker). Checks that
every run stored the same facts (amounts and ratings per story) as the anchor.

    .venv/bin/python benchmarks/scale_process.py [--stories 5000] [--workers 1,2]

Each figure is printed as soon as it is measured. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

FACT_CHECK = ("SELECT story_id, count(*), sum(coalesce(value_gbp, 0)) FROM amounts "
              "GROUP BY ALL ORDER BY ALL",
              "SELECT story_id, rating, org_name FROM ratings ORDER BY ALL")


# ----------------------------------------------------------------------------- the backlog


def fixture_paragraphs() -> list[tuple[int, str]]:
    """(document number, paragraph) of every fixture text with at least 25 words."""
    paragraphs = []
    for number, path in enumerate(sorted((ROOT / "fixtures").rglob("*.txt"))):
        text = path.read_text(encoding="utf-8", errors="replace")
        blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
        if len(blocks) < 3:  # one block per document: cut it at sentence ends
            blocks = re.split(r"(?<=[.!?])\s+(?=[A-Z])", text)
            blocks = [" ".join(blocks[i:i + 3]) for i in range(0, len(blocks), 3)]
        paragraphs += [(number, " ".join(b.split())) for b in blocks if len(b.split()) >= 25]
    return paragraphs


def synthesise(n: int, seed: int = 13) -> list[tuple[str, str, datetime]]:
    """``n`` (headline, body, published) stories of 250-400 words from fixture paragraphs."""
    rng = random.Random(seed)
    paragraphs = fixture_paragraphs()
    stories = []
    start = datetime(2024, 1, 1)
    for k in range(n):
        target = rng.randint(250, 400)
        chosen: list[str] = []
        docs: set[int] = set()
        words = 0
        while words < target:
            doc, paragraph = rng.choice(paragraphs)
            if doc in docs and len(docs) < 8:
                continue
            docs.add(doc)
            chosen.append(paragraph)
            words += len(paragraph.split())
        headline = " ".join(chosen[0].split()[:rng.randint(6, 11)]).rstrip(".,;:")
        stories.append((f"{headline} ({k})", "\n\n".join(chosen),
                        start + timedelta(days=rng.randint(0, 700))))
    return stories


def build_backlog(db: Path, n: int) -> int:
    """A database whose ``n`` stories wait for processing; returns the word count."""
    import pyarrow as pa

    from store import db as store_db

    stories = synthesise(n)
    now = datetime(2026, 11, 1, 12, 0)
    ids = [f"bench{k:07d}" for k in range(n)]
    articles = pa.table({
        "article_id": ids, "source": ["bench"] * n,
        "url": [f"https://news.example/{a}" for a in ids],
        "title": [h for h, _, _ in stories], "published": [p for _, _, p in stories],
        "first_seen": [now] * n, "last_fetched": [now] * n})
    versions = pa.table({
        "article_id": ids, "version": [1] * n, "fetched_at": [now] * n,
        "content_hash": [f"h{a}" for a in ids], "body": [b for _, b, _ in stories]})
    story_rows = pa.table({
        "story_id": [f"{a}-v1-s0" for a in ids], "article_id": ids, "version": [1] * n,
        "story_index": [0] * n, "headline": [h for h, _, _ in stories],
        "start_offset": [0] * n, "body": [b for _, b, _ in stories],
        "published": [p for _, _, p in stories]})
    with store_db.session(db) as con:
        for name, table in (("articles", articles), ("article_versions", versions),
                            ("stories", story_rows)):
            con.register("_bench_in", table)
            con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _bench_in")
            con.unregister("_bench_in")
    return sum(len(b.split()) for _, b, _ in stories)


# ----------------------------------------------------------------------------- one run


def _peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


class Progress:
    """Prints a progress line to stderr each time another ``every`` stories are done, so a
    long run shows its rate before it ends."""

    def __init__(self, label: str, every: int = 500) -> None:
        self.label, self.every, self.next = label, every, every
        self.started = time.perf_counter()

    def __call__(self, done: int, total: int | None = None) -> None:
        if done >= self.next:
            elapsed = time.perf_counter() - self.started
            print(f"         ... {self.label}: {done} stories in {elapsed:.0f} s "
                  f"({done / elapsed:.2f}/s), load {os.getloadavg()[0]:.2f}",
                  file=sys.stderr, flush=True)
            self.next = (done // self.every + 1) * self.every


def run_plain(db: Path) -> dict[str, object]:
    """The anchor, in this process: extraction then embedding, the single-machine way."""
    import pipeline

    started = time.perf_counter()
    totals = pipeline.process_stories(db, progress=Progress("plain extraction"))
    extracted = time.perf_counter()
    embedding = Progress("plain embedding")
    embedded = pipeline.embed_stories_job(
        db, progress=lambda text: embedding(int(re.sub(r"\D", "", text) or 0)))
    done = time.perf_counter()
    return {"stories": totals["stories"], "embedded": embedded,
            "extract_s": extracted - started, "embed_s": done - extracted,
            "wall_s": done - started, "driver_rss_mb": _peak_mb(resource.RUSAGE_SELF),
            "children_rss_mb": _peak_mb(resource.RUSAGE_CHILDREN),
            "serialise_us_per_story": serialisation_cost(db)}


def serialisation_cost(db: Path, n: int = 32) -> float:
    """Microseconds per story to pickle and unpickle a batch of ``n`` stories going to a
    worker and its facts and vectors coming back (what Ray does for each batch)."""
    import numpy as np

    from scale.story_worker import BatchResult, StoryTask
    from store import db as store_db

    with store_db.session(db, read_only=True) as con:
        rows = con.execute(
            "SELECT s.story_id, s.body, s.headline FROM stories s ORDER BY story_id LIMIT ?",
            [n]).fetchall()
        facts = {sid: {} for sid, _, _ in rows}
        for sid, text, value in con.execute(
                "SELECT story_id, text, value_gbp FROM amounts WHERE story_id IN "
                "(SELECT story_id FROM stories ORDER BY story_id LIMIT ?)", [n]).fetchall():
            facts[sid].setdefault("amounts", []).append({"text": text, "value_gbp": value})
    tasks = [StoryTask(sid, body, None, headline, True) for sid, body, headline in rows]
    result = BatchResult(facts=list(facts.items()), embedded_ids=[t.story_id for t in tasks],
                         vectors=np.zeros((len(tasks), 384), dtype=np.float32))
    started = time.perf_counter()
    repeats = 20
    for _ in range(repeats):
        pickle.loads(pickle.dumps(tasks, protocol=5))
        pickle.loads(pickle.dumps(result, protocol=5))
    return (time.perf_counter() - started) / repeats / len(tasks) * 1e6


def run_ray(db: Path, address: str, workers: int, batch_size: int) -> dict[str, object]:
    """Extraction and embedding on ``workers`` Ray actors, this process the driver."""
    from scale.ray_process import process_on_ray
    from scale.settings import ScaleSettings

    run = process_on_ray(db, ScaleSettings(ray_address=address), workers=workers,
                         batch_size=batch_size, echo=lambda line: print(line, file=sys.stderr),
                         progress=Progress(f"ray:{workers}"))
    return {"stories": run.stories, "embedded": run.embedded, "failed": len(run.failed),
            "wall_s": run.wall_s, "startup_s": run.startup_s, "worker_s": run.worker_s,
            "read_s": run.read_s, "save_s": run.save_s, "retried": run.retried_batches,
            "driver_rss_mb": _peak_mb(resource.RUSAGE_SELF),
            "worker_rss_mb": run.worker_peak_rss_mb}


def facts_digest(db: Path) -> list[list[tuple]]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return [con.execute(sql).fetchall() for sql in FACT_CHECK]
    finally:
        con.close()


def child(args: argparse.Namespace) -> None:
    """One measured run in this (child) process; prints its figures as one JSON line."""
    db = Path(args.db)
    if args.run == "plain":
        figures = run_plain(db)
    else:
        figures = run_ray(db, args.address, int(args.run.split(":")[1]), args.batch_size)
    print(json.dumps(figures))


# ----------------------------------------------------------------------------- report


def measure(config: str, db: Path, address: str | None, batch_size: int) -> dict:
    command = [sys.executable, __file__, "--run", config, "--db", str(db),
               "--batch-size", str(batch_size)]
    if address:
        command += ["--address", address]
    # stderr (progress lines, failures) goes straight to ours
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{config} failed with exit code {done.returncode} (its stderr above)")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(config: str, figures: dict, anchor: dict | None, n: int, words: int) -> None:
    rate = figures["stories"] / figures["wall_s"]
    line = (f"{config:>7}: {figures['stories']} stories ({figures['embedded']} embedded) in "
            f"{figures['wall_s']:.1f} s = {rate:.1f} stories/s, "
            f"{words * figures['stories'] / n / figures['wall_s']:,.0f} words/s")
    if anchor is not None:
        line += f"; speed-up {anchor['wall_s'] / figures['wall_s']:.2f}x over plain"
    print(line, flush=True)
    if config == "plain":
        print(f"         extraction {figures['extract_s']:.1f} s, embedding "
              f"{figures['embed_s']:.1f} s; peak RSS {figures['driver_rss_mb']:.0f} MiB + "
              f"largest spaCy child {figures['children_rss_mb']:.0f} MiB; pickling a batch "
              f"there and back {figures['serialise_us_per_story']:.0f} us/story", flush=True)
        return
    workers = int(config.split(":")[1])
    beyond = figures["wall_s"] - figures["startup_s"] - figures["worker_s"] / workers
    print(f"         overhead: start-up {figures['startup_s']:.1f} s (join the cluster, load "
          f"spaCy and the embedder in {workers} worker(s)); driver reads "
          f"{figures['read_s']:.1f} s, saves {figures['save_s']:.1f} s; wall beyond start-up "
          f"and worker compute/{workers}: {beyond:.1f} s; workers computed "
          f"{figures['worker_s']:.1f} s in all", flush=True)
    print(f"         peak RSS: driver {figures['driver_rss_mb']:.0f} MiB, workers "
          f"{', '.join(f'{m:.0f}' for m in figures['worker_rss_mb'])} MiB; failed "
          f"{figures['failed']}, batches retried {figures['retried']}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=5000, help="backlog size")
    parser.add_argument("--workers", default="1,2", help="Ray worker counts to measure")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--address", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        child(args)
        return
    counts = [int(c) for c in args.workers.split(",") if c.strip()]
    if args.stories < 1 or not counts or min(counts) < 1:
        raise SystemExit("--stories and every --workers count must be at least 1")

    from scale.local_ray import local_ray_head

    with tempfile.TemporaryDirectory(prefix="pw-scale-bench-") as tmp:
        base = Path(tmp) / "backlog.duckdb"
        started = time.perf_counter()
        words = build_backlog(base, args.stories)
        print(f"backlog: {args.stories} stories, {words:,} words "
              f"({words / args.stories:.0f} per story), built in "
              f"{time.perf_counter() - started:.1f} s; load {os.getloadavg()[0]:.2f}, "
              f"{os.cpu_count()} CPUs", flush=True)
        # The most workers first, then the anchor, then the rest: a long run that is cut
        # short has shown both ends. Each run's figures print when it ends; the speed-ups
        # and the fact check once the anchor is in.
        order = [f"ray:{max(counts)}", "plain",
                 *(f"ray:{k}" for k in sorted(set(counts) - {max(counts)}, reverse=True))]
        measured: dict[str, dict] = {}
        with local_ray_head(num_cpus=min(max(counts), os.cpu_count() or 1)) as address:
            for config in order:
                db = Path(tmp) / f"{config.replace(':', '')}.duckdb"
                shutil.copy(base, db)
                measured[config] = measure(config, db, address if config != "plain" else None,
                                           args.batch_size)
                report(config, measured[config],
                       None if config == "plain" else measured.get("plain"), args.stories, words)
                print(f"         load now {os.getloadavg()[0]:.2f}", flush=True)
        anchor = measured["plain"]
        expected = facts_digest(Path(tmp) / "plain.duckdb")
        for config in order[:1]:
            print(f"{config:>7}: speed-up {anchor['wall_s'] / measured[config]['wall_s']:.2f}x "
                  "over plain", flush=True)
        for config in order:
            if config != "plain":
                same = facts_digest(Path(tmp) / f"{config.replace(':', '')}.duckdb") == expected
                print(f"{config:>7}: same amounts and ratings as plain: {same}", flush=True)

if __name__ == "__main__":
    main()
