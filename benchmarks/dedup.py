"""Near-duplicate benchmark: republications found, distinct stories on the same topic not linked.

Reads ``fixtures/dedup/republications.jsonl`` (pairs of an original and its republication: a
reworded headline, phrases changed, a line added or removed; word-3-shingle Jaccard 0.6-0.95)
and ``fixtures/dedup/distinct.jsonl`` (different stories on the same topics, some repeating a
background sentence of an earlier story). As the crawl does, every original and every distinct
story is stored in a :class:`crawler.dedup.MinHashIndex` (in an order that puts the distinct
stories first, so they compete with the originals), then each republication is looked up:

* duplicates found: republications whose nearest stored body is their own original;
* false links: republications linked to another story, plus distinct stories that, looked up
  against all the other bodies, are linked to anything.

The old SimHash rule (Hamming distance <= 3) is scored on the same pairs for comparison.

    python benchmarks/dedup.py [--fixtures DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.dedup import (  # noqa: E402
    NEAR_DUPLICATE_JACCARD,
    MinHashIndex,
    hamming,
    jaccard,
    minhash,
    simhash,
)

ROOT = Path(__file__).resolve().parents[1]
SIMHASH_BITS = 3  # the rule MinHash replaced


def load(folder: Path) -> tuple[list[dict], list[dict]]:
    def read(name: str) -> list[dict]:
        lines = (folder / name).read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    return read("republications.jsonl"), read("distinct.jsonl")


def evaluate(pairs: list[dict], distinct: list[dict]) -> dict[str, float | int]:
    """Duplicates found and false links of the MinHash index, and of the SimHash rule."""
    index = MinHashIndex()
    bodies: dict[str, str] = {}
    for story in distinct:
        bodies[story["id"]] = story["body"]
    for pair in pairs:
        bodies[pair["id"]] = pair["original"]["body"]
    signatures = {key: minhash(body) for key, body in bodies.items()}
    for key, signature in signatures.items():
        index.add(key, signature)

    found = wrong = 0
    simhash_found = 0
    for pair in pairs:
        republished = pair["republication"]["body"]
        linked = index.nearest(minhash(republished))
        found += linked == pair["id"]
        wrong += linked is not None and linked != pair["id"]
        simhash_found += hamming(simhash(republished), simhash(pair["original"]["body"])) <= (
            SIMHASH_BITS)
    for story in distinct:
        linked = index.nearest(signatures[story["id"]], exclude=story["id"])
        wrong += linked is not None
    same_topic = [
        jaccard(story["body"], pair[side]["body"])
        for story in distinct for pair in pairs if pair["id"] == story["topic_of"]
        for side in ("original", "republication")
    ]
    pair_jaccard = [jaccard(p["original"]["body"], p["republication"]["body"]) for p in pairs]
    return {
        "pairs": len(pairs),
        "distinct": len(distinct),
        "pair_jaccard_min": min(pair_jaccard),
        "pair_jaccard_max": max(pair_jaccard),
        "same_topic_jaccard_max": max(same_topic),
        "threshold": NEAR_DUPLICATE_JACCARD,
        "found": found,
        "recall": found / len(pairs),
        "false_links": wrong,
        "simhash_found": simhash_found,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixtures", type=Path, default=ROOT / "fixtures" / "dedup")
    args = ap.parse_args()
    pairs, distinct = load(args.fixtures)
    r = evaluate(pairs, distinct)
    print(f"{r['pairs']} republication pairs (Jaccard {r['pair_jaccard_min']:.3f}-"
          f"{r['pair_jaccard_max']:.3f}), {r['distinct']} distinct stories on the same topics "
          f"(Jaccard to their topic's pair at most {r['same_topic_jaccard_max']:.3f})")
    print(f"MinHash/LSH (threshold {r['threshold']}): duplicates found {r['found']}/{r['pairs']} "
          f"= {r['recall']:.3f}, false links {r['false_links']}")
    print(f"SimHash <= {SIMHASH_BITS} bits: duplicates found {r['simhash_found']}/{r['pairs']}")


if __name__ == "__main__":
    main()
