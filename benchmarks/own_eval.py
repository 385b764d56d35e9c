"""Fact and story scores on our own gold sets (fixtures/eval/heldout and fixtures/eval/blind).

Runs `policywatch extract` over each set's documents and scores the output with the shared
scorers (../shared/eval/score.py for facts, score_stories.py for stories). The blind set was
never tuned on, so it is the honest estimate for unseen documents; print only its figures
unless you are deliberately giving it up as a development set (pass --show-errors).

Usage: python benchmarks/own_eval.py [--no-embeddings] [--show-errors]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETS = ROOT / "fixtures" / "eval"
SHARED = ROOT.parent / "shared" / "eval"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-embeddings", action="store_true")
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args()
    policywatch = Path(sys.executable).parent / "policywatch"
    for name in ("heldout", "blind"):
        docs = sorted((SETS / name / "docs").glob("*.txt"))
        gold = SETS / name / "gold.jsonl"
        with tempfile.NamedTemporaryFile("w+", suffix=".jsonl") as pred:
            cmd = [str(policywatch), "extract", *map(str, docs)]
            if args.no_embeddings:
                cmd.append("--no-embeddings")
            subprocess.run(cmd, stdout=pred, check=True)
            print(f"== {name} ({len(docs)} documents)", flush=True)
            extra = ["--show-errors"] if args.show_errors else []
            for scorer in ("score.py", "score_stories.py"):
                subprocess.run([sys.executable, str(SHARED / scorer), str(gold), pred.name,
                                *extra], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
