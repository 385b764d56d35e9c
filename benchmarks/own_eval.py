"""Fact and story scores on our own gold sets (fixtures/eval/heldout, blind, real2, real3, ...).

Runs `policywatch extract` over each set's documents (or reads a saved prediction file) and
scores the output with the shared scorers (../shared/eval/score.py for facts, score_stories.py
for stories). A set with a splits.json (real2 onwards) is scored per split, train / dev / test, from
one extraction of the whole set. The blind set and the test splits were never tuned on, so they are
the honest estimates for unseen documents; print only their figures unless you are deliberately
giving them up as development data (pass --show-errors).

Usage: python benchmarks/own_eval.py [--sets NAME ...] [--pred NAME=FILE ...] [--save-dir DIR]
                                     [--no-embeddings] [--show-errors]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETS = ROOT / "fixtures" / "eval"
SHARED = ROOT.parent / "shared" / "eval"
# every folder of fixtures/eval with a gold.jsonl: heldout, blind, real2, real3, ...
SET_NAMES = tuple(sorted((p.name for p in SETS.iterdir() if (p / "gold.jsonl").exists()),
                         key=lambda name: (name.startswith("real"), name != "heldout", name)))
SPLITS = ("train", "dev", "test")


def read_jsonl(path: Path) -> list[dict]:
    """The JSON objects of a JSONL file, blank lines skipped."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")


def record_id(record: dict) -> str:
    """A prediction's document id: its id, else the file stem of its source or path."""
    if record.get("id"):
        return str(record["id"])
    return Path(str(record.get("source") or record.get("path") or "")).stem


def extract(docs: list[Path], out: Path, no_embeddings: bool) -> None:
    """Run the extractor once over docs, writing JSONL predictions to out."""
    policywatch = Path(sys.executable).parent / "policywatch"
    cmd = [str(policywatch), "extract", *map(str, docs), "--format", "jsonl"]
    if no_embeddings:
        cmd.append("--no-embeddings")
    with out.open("w", encoding="utf-8") as handle:
        subprocess.run(cmd, stdout=handle, check=True)


def score(label: str, gold: Path, pred: Path, show_errors: bool) -> None:
    """Print both shared scorers' figures for one gold/prediction pair."""
    print(f"== {label}", flush=True)
    extra = ["--show-errors"] if show_errors else []
    for scorer in ("score.py", "score_stories.py"):
        subprocess.run([sys.executable, str(SHARED / scorer), str(gold), str(pred), *extra],
                       check=True)


def score_splits(name: str, gold: Path, pred: Path, splits_file: Path, tmp: Path,
                 show_errors: bool) -> None:
    """Score a set per split: per-split gold and prediction files from one extraction."""
    splits = json.loads(splits_file.read_text(encoding="utf-8"))
    gold_records, pred_records = read_jsonl(gold), read_jsonl(pred)
    for split in SPLITS:
        ids = set(splits[split])
        split_gold = tmp / f"{name}_{split}_gold.jsonl"
        split_pred = tmp / f"{name}_{split}_pred.jsonl"
        write_jsonl(split_gold, [r for r in gold_records if r["id"] in ids])
        write_jsonl(split_pred, [r for r in pred_records if record_id(r) in ids])
        score(f"{name} {split} ({len(ids)} documents)", split_gold, split_pred, show_errors)


def parse_preds(items: list[str]) -> dict[str, Path]:
    preds = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or name not in SET_NAMES or not Path(path).is_file():
            raise SystemExit(f"--pred wants NAME=FILE with NAME in {SET_NAMES} and an existing "
                             f"file, not {item!r}")
        preds[name] = Path(path)
    return preds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", choices=SET_NAMES, default=list(SET_NAMES))
    parser.add_argument("--pred", action="append", default=[], metavar="NAME=FILE",
                        help="score this saved prediction for a set instead of extracting")
    parser.add_argument("--save-dir", type=Path, help="keep each set's predictions here")
    parser.add_argument("--no-embeddings", action="store_true")
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args()
    preds = parse_preds(args.pred)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for name in args.sets:
            folder = SETS / name
            gold = folder / "gold.jsonl"
            docs = sorted((folder / "docs").glob("*.txt"))
            pred = preds.get(name)
            if pred is None:
                pred = tmp / f"{name}_pred.jsonl"
                extract(docs, pred, args.no_embeddings)
            if args.save_dir:
                args.save_dir.mkdir(parents=True, exist_ok=True)
                if pred.resolve() != (args.save_dir / f"{name}_pred.jsonl").resolve():
                    shutil.copy(pred, args.save_dir / f"{name}_pred.jsonl")
            score(f"{name} ({len(docs)} documents)", gold, pred, args.show_errors)
            if (folder / "splits.json").exists():
                score_splits(name, gold, pred, folder / "splits.json", tmp, args.show_errors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
