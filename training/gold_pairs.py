"""The gold facts the learned parts may be trained on, paired with the pipeline's own facts.

Training data is the train and dev splits of our gold sets and the sets we develop on (the
shared dev and dev2 sets, fixtures/eval/heldout). Test splits and fixtures/eval/blind are never
read here: they are the honest estimates for unseen text.

Each document is parsed once by the same pipeline that ``policywatch extract`` runs, and each
predicted amount is paired with the gold amount it matches the way ``score.py`` matches them
(equal value within 0.5 %, closest first, then document order), so a learned part sees the
parsed ``Doc``, the rules' amount (offsets, role, owner, period, ``why``) and the gold answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from nlp.text import plain_characters

ROOT = Path(__file__).resolve().parent.parent
OWN_SETS = ROOT / "fixtures" / "eval"
SHARED_SETS = ROOT.parent / "shared" / "eval"
REL_TOL = 0.005
# sets we develop on, read whole; never "blind"
WHOLE_SETS = {"dev": SHARED_SETS / "dev", "dev2": SHARED_SETS / "dev2",
              "heldout": OWN_SETS / "heldout"}
NEVER = frozenset({"blind"})
TRAINING_SPLITS = ("train", "dev")


@dataclass(frozen=True)
class GoldDoc:
    """One gold document: its set, id, text and gold record."""

    set_name: str
    doc_id: str
    text: str
    gold: dict[str, Any]


@dataclass(frozen=True)
class AmountPair:
    """A predicted amount and the gold amount it matches (None: a false positive)."""

    set_name: str
    doc_id: str
    doc: Doc
    pred: dict[str, Any]
    gold: dict[str, Any] | None


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _set_folders() -> dict[str, tuple[Path, frozenset[str] | None]]:
    """Each usable set's folder and the ids allowed from it (None: every document)."""
    folders: dict[str, tuple[Path, frozenset[str] | None]] = {
        name: (path, None) for name, path in WHOLE_SETS.items() if (path / "gold.jsonl").exists()}
    for path in sorted(OWN_SETS.iterdir()) if OWN_SETS.exists() else []:
        splits = path / "splits.json"
        if path.name in NEVER or not splits.exists():
            continue
        chosen = json.loads(splits.read_text(encoding="utf-8"))
        folders[path.name] = (path, frozenset(i for s in TRAINING_SPLITS for i in chosen[s]))
    return folders


def available_sets() -> list[str]:
    """Names of the sets training may read (test splits and blind excluded)."""
    return list(_set_folders())


def gold_docs(set_names: Iterable[str] | None = None) -> Iterator[GoldDoc]:
    """The training documents of ``set_names`` (default: every available set)."""
    folders = _set_folders()
    names = list(set_names) if set_names is not None else list(folders)
    for name in names:
        if name in NEVER or name not in folders:
            raise ValueError(f"no training set {name!r}; choose from {sorted(folders)}")
        folder, allowed = folders[name]
        for record in _read_jsonl(folder / "gold.jsonl"):
            if allowed is not None and record["id"] not in allowed:
                continue
            text = (folder / "docs" / f"{record['id']}.txt").read_text(encoding="utf-8")
            yield GoldDoc(name, record["id"], text, record)


def _distance(gold: dict[str, Any], pred: dict[str, Any]) -> float | None:
    """Relative distance between two amounts' values if they match, else None."""
    value = pred.get("value_gbp")
    bounds = [b for b in (gold.get("value_gbp"), gold.get("value_gbp_max")) if b is not None]
    if value is None or not bounds:
        same_text = (gold.get("text") or "").strip() == (pred.get("text") or "").strip()
        return 0.0 if value is None and not bounds and same_text else None
    best = None
    for bound in bounds:
        d = (0.0 if value == 0 else None) if bound == 0 else abs(value - bound) / abs(bound)
        if d is not None and d <= REL_TOL + 1e-9 and (best is None or d < best):
            best = d
    return best


def match_amounts(gold: list[dict[str, Any]], pred: list[dict[str, Any]]
                  ) -> dict[int, int]:
    """Predicted index -> gold index, one to one, closest values first, then text order."""
    candidates = sorted((d, p, g) for g, ga in enumerate(gold) for p, pa in enumerate(pred)
                        if (d := _distance(ga, pa)) is not None)
    used_gold: set[int] = set()
    pairs: dict[int, int] = {}
    for _, p, g in candidates:
        if p not in pairs and g not in used_gold:
            pairs[p] = g
            used_gold.add(g)
    return pairs


def parse(pipeline: Language, docs: Iterable[GoldDoc]) -> Iterator[tuple[GoldDoc, Doc]]:
    """Each document parsed by ``pipeline`` as ``policywatch extract`` parses a file."""
    docs = list(docs)
    for gold_doc in docs:
        if len(gold_doc.text) > pipeline.max_length:
            raise ValueError(f"{gold_doc.doc_id} is too long to train on in one part")
    made = []
    for gold_doc in docs:
        doc = pipeline.make_doc(plain_characters(gold_doc.text))
        doc._.published = None
        made.append(doc)
    yield from zip(docs, pipeline.pipe(made), strict=True)


def amount_pairs(pipeline: Language, docs: Iterable[GoldDoc]) -> Iterator[AmountPair]:
    """Every predicted amount of ``docs`` with the gold amount it matches, if any."""
    for gold_doc, doc in parse(pipeline, docs):
        pred = doc._.amounts or []
        gold = gold_doc.gold.get("amounts") or []
        pairs = match_amounts(gold, pred)
        for p, amount in enumerate(pred):
            yield AmountPair(gold_doc.set_name, gold_doc.doc_id, doc, amount,
                             gold[pairs[p]] if p in pairs else None)
