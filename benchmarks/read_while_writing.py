"""Reads while the pipeline writes: are read commands answered during crawl, process and themes?

Generates a local news site of N new articles (default 300; each a page of generated prose
plus one sentence with an amount or a rating, written here), serves it on 127.0.0.1 with
tests/crawl_server.py, and runs the full pipeline through the CLI, one stage after another:
``policywatch crawl``, ``policywatch process``, ``policywatch themes``. Meanwhile two readers
issue a read command every second (``amounts``, ``orgs``, ``ratings``, ``stories``, ``stats``,
``export``, ``themes --no-update``, ``sources`` in turn):

* the *resident* reader is one Python process that runs each command in-process (click's
  ``main``), timed from the command's start to its end: the database wait and the query;
* the *CLI* reader starts ``policywatch COMMAND`` as a new process each time, timed from
  process start to exit, so its figure adds the interpreter start-up and imports, which on a
  busy 2-core machine can by themselves pass 2 s. The same commands run once more after the
  pipeline give that start-up baseline.

Prints each stage's exit code and duration, then for each reader the share of reads answered
(exit 0) and answered within the target, and the median and maximum latency, overall and per
stage.

    .venv/bin/python benchmarks/read_while_writing.py [--pages 300] [--target 2.0]

Exits 1 when a stage fails or a read fails or a resident read takes longer than the target.
Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from crawl_server import (  # noqa: E402
    CrawlServer,
    article_html,
    article_text,
    write_news_site,
)

SOURCES_TOML = """
[[source]]
name = "bench"
description = "generated local news site"
feeds = ["{base}/rss.xml"]
sitemaps = ["{base}/robots.txt"]
article_pattern = '/articles/'
local = true
"""

# One sentence per article with a fact for process to find (text written for this benchmark).
FACT_SENTENCES = (
    "Redwater Hospitals NHS Foundation Trust reported a deficit of £{m}.{d}m for 2024-25.",
    "The Care Quality Commission rated Saltmarsh Community Care inadequate in March 2025.",
    "NHS England announced £{m}m of capital funding for Kestrel Integrated Care Board.",
    "Fenmoor Council set a social care budget of £{m}{d}m for the coming year.",
)

READS: tuple[tuple[str, ...], ...] = (
    ("amounts", "--json"),
    ("orgs", "--json"),
    ("ratings", "--json"),
    ("stories", "--json", "--limit", "20"),
    ("stats", "--json"),
    ("export", "amounts", "--format", "csv"),
    ("themes", "--no-update", "--json"),
    ("sources", "--json"),
)


@dataclass
class Read:
    command: str
    at: float  # wall-clock start (time.time())
    seconds: float
    exit_code: int
    error: str


def write_site(root: Path, pages: int) -> None:
    """The generated news site, each article with one fact sentence appended."""
    paths = write_news_site(root, pages)
    for i, path in enumerate(paths):
        fact = FACT_SENTENCES[i % len(FACT_SENTENCES)].format(m=i % 90 + 2, d=i % 10)
        html = article_html(f"Story number {i}", article_text(i) + "\n" + fact)
        (root / path.lstrip("/")).write_text(html, encoding="utf-8")


def cli_command(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "cli.py"), *args]


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


class Reader(threading.Thread):
    """Starts one read command per ``interval`` seconds until stopped."""

    def __init__(self, db: Path, out_dir: Path, interval: float = 1.0, who: str = "cli"):
        super().__init__(name="reader", daemon=True)
        self.db = db
        self.out_dir = out_dir
        self.who = who
        self.interval = interval
        self.reads: list[Read] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stopping.is_set():
            elapsed = self.read_once(n)
            n += 1
            self.stopping.wait(max(0.0, self.interval - elapsed))

    def read_once(self, n: int) -> float:
        """Run the ``n``-th read command (cycling through READS); returns its seconds."""
        at, started = time.time(), time.monotonic()
        args = read_args(n, self.out_dir, self.who)
        proc = subprocess.run(cli_command(*args, "--db", str(self.db)), env=cli_env(),
                              capture_output=True, text=True, timeout=300)
        elapsed = time.monotonic() - started
        error = (proc.stderr.strip().splitlines() or [""])[-1] if proc.returncode else ""
        self.reads.append(Read(args[0], at, elapsed, proc.returncode, error))
        return elapsed


def read_args(n: int, out_dir: Path, who: str) -> list[str]:
    """The ``n``-th read command's arguments (cycling through READS)."""
    args = list(READS[n % len(READS)])
    if args[0] == "export":
        args += ["--output", str(out_dir / f"export-{who}-{n}.csv")]
    return args


def resident_reader(db: Path, stop_file: Path, out_dir: Path, interval: float = 1.0) -> None:
    """Run a read command in this process every ``interval`` s until ``stop_file`` exists;
    one JSON line per read on stdout."""
    import click

    import cli

    n = 0
    while not stop_file.exists():
        at, started = time.time(), time.monotonic()
        args = read_args(n, out_dir, "resident")
        sink = io.StringIO()
        code, error = 0, ""
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                cli.cli.main([*args, "--db", str(db)], prog_name="policywatch",
                             standalone_mode=False)
        except click.ClickException as exc:
            code, error = exc.exit_code, exc.format_message()
        except click.exceptions.Exit as exc:
            code = exc.exit_code
        elapsed = time.monotonic() - started
        print(json.dumps({"command": args[0], "at": at, "seconds": elapsed,
                          "exit_code": code, "error": error}), flush=True)
        n += 1
        time.sleep(max(0.0, interval - elapsed))


def run_stage(name: str, args: list[str], log: Path) -> tuple[int, float]:
    started = time.monotonic()
    with log.open("w") as out:
        code = subprocess.run(cli_command(*args), env=cli_env(), stdout=out,
                              stderr=subprocess.STDOUT).returncode
    seconds = time.monotonic() - started
    print(f"stage {name:<8} exit {code}  {seconds:6.1f}s", flush=True)
    if code != 0:
        print("  " + "\n  ".join(log.read_text(errors="replace").splitlines()[-10:]))
    return code, seconds


def stage_of(read: Read, stages: list[tuple[str, float, float]]) -> str:
    for name, start, end in stages:
        if start <= read.at < end:
            return name
    return "between"


def summarise(label: str, reads: list[Read], target: float) -> None:
    if not reads:
        print(f"{label}: no reads")
        return
    answered = [r for r in reads if r.exit_code == 0]
    in_time = [r for r in answered if r.seconds <= target]
    times = [r.seconds for r in reads]
    print(f"{label}: {len(reads)} reads, {100 * len(answered) / len(reads):.1f}% answered, "
          f"{100 * len(in_time) / len(reads):.1f}% answered within {target:g}s; latency "
          f"median {statistics.median(times):.2f}s, max {max(times):.2f}s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300, help="articles on the local site")
    parser.add_argument("--target", type=float, default=2.0, help="seconds a read may take")
    parser.add_argument("--resident-reader", nargs=3, metavar=("DB", "STOP_FILE", "OUT_DIR"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.resident_reader:
        db, stop_file, out_dir = map(Path, args.resident_reader)
        resident_reader(db, stop_file, out_dir)
        return 0

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        site = tmp / "site"
        write_site(site, args.pages)
        db = tmp / "bench.duckdb"
        with CrawlServer(site) as server:
            sources = tmp / "sources.toml"
            sources.write_text(SOURCES_TOML.format(base=server.base_url), encoding="utf-8")
            reader = Reader(db, tmp)
            stop_file = tmp / "stop-reading"
            stages = [
                ("crawl", ["crawl", "--sources", str(sources), "--db", str(db), "--json"]),
                ("process", ["process", "--db", str(db)]),
                ("themes", ["themes", "--db", str(db), "--json"]),
            ]
            codes: dict[str, int] = {}
            windows: list[tuple[str, float, float]] = []

            def run_stages() -> None:
                for name, stage_args in stages:
                    start = time.time()
                    codes[name] = run_stage(name, stage_args, tmp / f"{name}.log")[0]
                    windows.append((name, start, time.time()))

            pipeline_thread = threading.Thread(target=run_stages)
            pipeline_thread.start()
            while not db.exists() and pipeline_thread.is_alive():
                time.sleep(0.05)
            # Its lines go to a file: a pipe read only at the end would fill up and stall it.
            resident_log = tmp / "resident.jsonl"
            with resident_log.open("w") as resident_out:
                resident = subprocess.Popen(
                    [sys.executable, __file__, "--resident-reader", str(db), str(stop_file),
                     str(tmp)], env=cli_env(), stdout=resident_out)
            reader.start()
            pipeline_thread.join()
            stop_file.touch()
            reader.stopping.set()
            reader.join()
            resident.wait(timeout=300)
            resident_lines = resident_log.read_text().splitlines()
            requests = sum(server.requests.values())
        stats = json.loads(subprocess.run(
            cli_command("stats", "--json", "--db", str(db)), env=cli_env(),
            capture_output=True, text=True).stdout or "[]")
        idle = Reader(db, tmp, who="idle")  # its own export files: export refuses to overwrite
        for n in range(len(READS)):
            idle.read_once(n)
    print(f"site requests: {requests}; stored: "
          + ", ".join(f"{r['source']}: {r['articles']} articles, {r['stories']} stories"
                      for r in stats))
    resident_reads = [Read(**json.loads(line)) for line in resident_lines]
    ok = all(code == 0 for code in codes.values())
    for label, reads in (("resident reader (in-process commands)", resident_reads),
                         ("CLI reader (a new process per command)", reader.reads)):
        summarise(label, reads, args.target)
        for stage in ("crawl", "process", "themes", "between"):
            mine = [r for r in reads if stage_of(r, windows) == stage]
            if mine:
                summarise(f"  during {stage:<8}", mine, args.target)
        failed = [r for r in reads if r.exit_code != 0]
        for r in failed[:10]:
            print(f"  failed: {r.command} during {stage_of(r, windows)} "
                  f"(exit {r.exit_code}): {r.error}")
        ok = ok and not failed
    summarise("CLI start-up baseline (same commands after the run)", idle.reads, args.target)
    ok = ok and all(r.seconds <= args.target for r in resident_reads)
    print("stage exit codes: " + ", ".join(f"{k} {v}" for k, v in codes.items()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
