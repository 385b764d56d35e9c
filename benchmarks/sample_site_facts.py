"""Held-out fact scores on the bundled sample site (our own pages, never tuned on).

The dev set in ../shared/eval is what the extractor was developed against; the sample site in
fixtures/site was written separately, with its facts listed in fixtures/site/FACTS.json. This
script extracts every article and newsletter page (HTML -> body -> facts, as `policywatch
extract` does), turns FACTS.json into the gold format of ../shared/eval/GUIDELINES.md and scores
both with the shared scorer, so a drop here against the dev figures shows over-fitting.

Usage: python benchmarks/sample_site_facts.py [--show-errors]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "fixtures" / "site"
SCORER = ROOT.parent / "shared" / "eval" / "score.py"
GOLD_KEYS = {"organisations": ("name", "aliases", "type"),
             "amounts": ("text", "value_gbp", "value_gbp_max", "qualifier", "role", "org",
                         "period", "currency"),
             "ratings": ("org", "rating", "period", "rater")}


def page_id(path: str) -> str:
    return path.strip("/").replace("/", "__").removesuffix(".html")


def gold_records(facts: list[dict]) -> list[dict]:
    records = []
    for page in facts:
        if page.get("kind") not in ("article", "newsletter"):
            continue
        record = {"id": page_id(page["path"])}
        parts = [page, *page.get("stories", [])]  # a newsletter lists facts per story
        for kind, keys in GOLD_KEYS.items():
            items = [{k: item.get(k) for k in keys if k in item}
                     for part in parts for item in part.get(kind, [])]
            if kind == "organisations":  # one entry per organisation per page
                merged: dict[str, dict] = {}
                for org in items:
                    entry = merged.setdefault(org["name"], {**org, "aliases": []})
                    entry["aliases"] = sorted(set(entry["aliases"]) | set(org["aliases"]))
                items = list(merged.values())
            record[kind] = items
        records.append(record)
    return records


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from crawler.article import extract_article
    from nlp.extract import extract_many

    facts = json.loads((SITE / "FACTS.json").read_text(encoding="utf-8"))
    gold = gold_records(facts)
    articles = [extract_article((SITE / rec["id"].replace("__", "/")).with_suffix(".html")
                                .read_bytes()) for rec in gold]
    items = [(a.body, a.published.date() if a.published else None) for a in articles]
    preds = [{"id": rec["id"], **f} for rec, f in zip(gold, extract_many(items), strict=True)]
    with tempfile.TemporaryDirectory() as tmp:
        gold_path, pred_path = Path(tmp) / "gold.jsonl", Path(tmp) / "pred.jsonl"
        gold_path.write_text("\n".join(json.dumps(r) for r in gold) + "\n")
        pred_path.write_text("\n".join(json.dumps(r, default=str) for r in preds) + "\n")
        args = [sys.executable, str(SCORER), str(gold_path), str(pred_path), *sys.argv[1:]]
        return subprocess.run(args, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
