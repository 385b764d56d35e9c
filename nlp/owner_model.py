"""The learned owner ranker: scores each owner candidate of an amount and decides, by the
policy chosen in cross-validation, whether its pick replaces the rules' owner.

The weights are plain JSON (``data/owner_model.json``, written by ``python -m
training.owner_model --write``): one weight per binary feature of :mod:`nlp.owner_features`
and an intercept, the score of a candidate being the sum of its features' weights (the
logit of a pointwise logistic regression). Inference is pure Python over that JSON.

Policies (``policy.kind`` in the JSON):

* ``rules``: keep the rules' owner (the ranker only records its features);
* ``model``: the ranker's best candidate;
* ``margin``: the ranker's best candidate when it beats the rules' choice by at least
  ``policy.tau``;
* ``weak_margin``: as ``margin``, but only for amounts whose owner rule is one of
  ``policy.weak_families`` (salience and topic fallbacks).

When the ranker overrides, the amount's ``why`` says ``"org": "model:owner_model"`` and keeps
the rule's pick as ``"org_rule"``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlp.money_context import FoundAmount, MoneyContext
from nlp.owner_features import NOT_OWNER, Candidate, OwnerFeaturizer, rule_family

MODEL_PATH = Path(__file__).resolve().parent / "data" / "owner_model.json"
MODEL_WHY = "model:owner_model"


@dataclass(frozen=True)
class OwnerModel:
    """Feature weights, intercept and override policy of the owner ranker."""

    weights: dict[str, float]
    intercept: float
    kind: str = "margin"
    tau: float = 0.0
    weak_families: frozenset[str] = frozenset()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OwnerModel:
        policy = data.get("policy") or {}
        kind = policy.get("kind", "margin")
        if kind not in ("rules", "model", "margin", "weak_margin"):
            raise ValueError(f"unknown owner model policy {kind!r}")
        return cls(weights={k: float(v) for k, v in data["weights"].items()},
                   intercept=float(data["intercept"]), kind=kind,
                   tau=float(policy.get("tau", 0.0)),
                   weak_families=frozenset(policy.get("weak_families", ())))

    def score(self, features: set[str]) -> float:
        """The candidate's logit: intercept plus the weights of its features."""
        weights = self.weights
        return self.intercept + sum(weights.get(name, 0.0) for name in features)

    def rank(self, cands: list[Candidate]) -> list[float]:
        return [self.score(c.features) for c in cands]

    def may_override(self, rule_how: str) -> bool:
        """Whether the policy may replace an owner the rule ``rule_how`` chose (if not,
        the amount's candidates need not be built)."""
        if self.kind == "rules":
            return False
        return self.kind != "weak_margin" or rule_family(rule_how)[0] in self.weak_families

    def choose(self, cands: list[Candidate], rule_owner: str | None, rule_how: str
               ) -> str | None:
        """The owner the policy picks among ``cands`` (``rule_owner`` when it keeps the
        rules' choice); ties go to the rules' choice, then to the earlier candidate."""
        if not cands or not self.may_override(rule_how):
            return rule_owner
        scores = self.rank(cands)
        rule_index = next((k for k, c in enumerate(cands) if c.name == rule_owner), None)
        # a body whose type cannot own this kind of money (a newspaper; a regulator's
        # "deficit") is never the ranker's pick, as it is never the rules'
        allowed = [k for k, c in enumerate(cands)
                   if k == rule_index or NOT_OWNER not in c.features]
        if not allowed:
            return rule_owner
        best = max(allowed, key=lambda k: (scores[k], k == rule_index, -k))
        if rule_index is None or self.kind == "model":
            return cands[best].name
        if scores[best] - scores[rule_index] >= self.tau:
            return cands[best].name
        return rule_owner


@functools.lru_cache(maxsize=4)
def load_owner_model(path: str | None = None) -> OwnerModel:
    """The ranker stored at ``path`` (default ``data/owner_model.json``)."""
    file = Path(path) if path else MODEL_PATH
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise RuntimeError(f"no owner model at {file}: run python -m training.owner_model "
                           "--write, or turn the money component's owner_model off") from e
    return OwnerModel.from_json(data)


class OwnerRanker:
    """Applies the ranker to one document's amounts (one instance per document).

    ``model`` None only records each amount's candidates (for training, with the rules'
    owners left as they are); ``keep_candidates`` keeps them for :meth:`annotate`.
    """

    def __init__(self, ctx: MoneyContext, model: OwnerModel | None,
                 keep_candidates: bool = False) -> None:
        self.featurizer = OwnerFeaturizer(ctx)
        self.model = model
        self.keep_candidates = keep_candidates
        self.rule_how: dict[int, str] = {}
        self.kept: dict[int, list[Candidate]] = {}

    def rerank(self, f: FoundAmount, prev_owner: str | None) -> None:
        """Decide ``f``'s owner from its candidates (the rules' owner is already on ``f``)."""
        if not self.keep_candidates and (self.model is None
                                         or not self.model.may_override(f.org_source)):
            return
        cands = self.featurizer.candidates(f, f.org, f.org_source, prev_owner)
        if self.keep_candidates:
            self.kept[id(f)] = cands
        if self.model is None:
            return
        chosen = self.model.choose(cands, f.org, f.org_source)
        if chosen != f.org:
            self.rule_how[id(f)] = f.org_source
            f.org, f.org_source = chosen, MODEL_WHY

    def annotate(self, f: FoundAmount, record: dict[str, Any]) -> None:
        """Add the rule the ranker overrode to ``record["why"]`` (and, when kept, the
        candidates as ``owner_candidates``: name and sorted features)."""
        rule = self.rule_how.get(id(f))
        if rule is not None:
            record["why"]["org_rule"] = rule
        if self.keep_candidates and id(f) in self.kept:
            record["owner_candidates"] = [
                {"name": c.name, "features": sorted(c.features)} for c in self.kept[id(f)]]
