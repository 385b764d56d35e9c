"""Article-body extraction benchmark: policywatch's extractor against plain trafilatura.

Runs ``crawler.article.extract_article`` and ``trafilatura.extract(html)`` (library defaults)
over every page of the shared article-extraction benchmark (181 real pages, gzip-compressed),
writes both prediction files to a temporary directory, scores each with the benchmark's own
``score.py`` and prints body precision, recall and F1 for both, with the time per page.

    python benchmarks/article_extraction.py [--data DIR] [--keep DIR] [--per-page N]

``--data`` defaults to $POLICYWATCH_ARTICLE_BENCH or ../shared/benchmarks/article-extraction.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import trafilatura  # noqa: E402

from crawler.article import extract_article  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"
DEFAULT_DATA = str(SHARED / "benchmarks" / "article-extraction")


def load_pages(data: Path) -> dict[str, bytes]:
    pages = {p.name.removesuffix(".html.gz"): gzip.decompress(p.read_bytes())
             for p in sorted((data / "html").glob("*.html.gz"))}
    if not pages:
        raise SystemExit(f"no html/*.html.gz pages under {data}")
    return pages


def predict(pages: dict[str, bytes], fn: Callable[[bytes], str | None]) -> tuple[dict, float]:
    out, start = {}, time.perf_counter()
    for page_id, html in pages.items():
        out[page_id] = {"articleBody": fn(html) or ""}
    return out, (time.perf_counter() - start) / len(pages)


def score(data: Path, pred_path: Path, per_page: int) -> dict[str, float]:
    cmd = [sys.executable, str(data / "score.py"), str(pred_path),
           "--ground-truth", str(data / "ground-truth.json")]
    if per_page:
        cmd += ["--per-page", str(per_page)]
    run = subprocess.run(cmd, capture_output=True, text=True, check=True)
    if per_page:
        print(run.stdout)
    last = run.stdout.strip().splitlines()[-1]
    return {k: float(v) for k, v in (item.split("=") for item in last.split())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path,
                    default=Path(os.environ.get("POLICYWATCH_ARTICLE_BENCH", DEFAULT_DATA)))
    ap.add_argument("--keep", type=Path, help="write the prediction files here instead")
    ap.add_argument("--per-page", type=int, default=0, help="list the N worst pages")
    args = ap.parse_args()

    pages = load_pages(args.data)
    systems = {
        "policywatch": lambda html: extract_article(html).body,
        "trafilatura": lambda html: trafilatura.extract(html),
    }
    with tempfile.TemporaryDirectory() as tmp:
        outdir = args.keep or Path(tmp)
        outdir.mkdir(parents=True, exist_ok=True)
        rows = []
        for name, fn in systems.items():
            preds, per_page_s = predict(pages, fn)
            path = outdir / f"{name}.json"
            path.write_text(json.dumps(preds, ensure_ascii=False), encoding="utf-8")
            rows.append((name, score(args.data, path, args.per_page), per_page_s))

    print(f"article-extraction benchmark: {len(pages)} pages, trafilatura "
          f"{trafilatura.__version__}")
    print(f"{'extractor':<14}{'precision':>10}{'recall':>8}{'F1':>8}{'accuracy':>10}"
          f"{'ms/page':>9}")
    for name, m, secs in rows:
        print(f"{name:<14}{m['precision']:>10.3f}{m['recall']:>8.3f}{m['f1']:>8.3f}"
              f"{m['accuracy']:>10.3f}{secs * 1000:>9.1f}")


if __name__ == "__main__":
    main()
