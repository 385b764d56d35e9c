"""The learned amount-role model: a logistic regression over :mod:`nlp.role_features`, read
from plain JSON (``data/role_model.json``, written by ``python -m training.role_model
--write``) and applied in pure Python, so extraction needs neither scikit-learn nor pickles.

The model does not replace the rules: its ``policy`` (chosen by cross-validation by document
set when training) says when its answer overrides the rules' role: its probability for its own
class must reach ``tau``, its probability for the rules' role must be at most ``sigma``, and
the rule that decided must belong to one of the rule ``families`` the policy lets it overrule
(all of them when the list is empty). A policy named "rules" never overrides.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from nlp.role_features import rule_family

MODEL_PATH = Path(__file__).parent / "data" / "role_model.json"
MODEL_RULE = "model:role_model"


@dataclass(frozen=True)
class RolePolicy:
    """When the model's answer replaces the rules' role."""

    name: str  # "rules" (never), "model" (always) or "threshold"
    tau: float = 0.0
    sigma: float = 1.0
    families: tuple[str, ...] = ()  # rule families it may overrule (empty: every family)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RolePolicy:
        return cls(name=data["name"], tau=float(data.get("tau", 0.0)),
                   sigma=float(data.get("sigma", 1.0)),
                   families=tuple(data.get("families") or ()))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "tau": self.tau, "sigma": self.sigma,
                "families": list(self.families)}

    def overrides(self, probs: dict[str, float], rule_role: str, rule: str) -> str | None:
        """The role that replaces ``rule_role``, or None where the rules' role stands."""
        if self.name == "rules":
            return None
        best = max(probs, key=lambda c: (probs[c], c))
        if best == rule_role:
            return None
        if self.name == "model":
            return best
        if self.families and rule_family(rule) not in self.families:
            return None
        if probs[best] >= self.tau and probs.get(rule_role, 0.0) <= self.sigma:
            return best
        return None


MATCH = "@"  # a role-naming feature ("cueL=deficit") whose role is the candidate's


def candidate_features(features: dict[str, float], role: str) -> dict[str, float]:
    """The features of one (amount, candidate role) pair: each amount feature tied to the
    candidate ("L:save|savings"), each role-naming feature that names the candidate
    ("cueL=@") and the candidate's own bias ("bias|savings")."""
    pair = {f"{name}|{role}": value for name, value in features.items()}
    for name, value in features.items():
        kind, sep, named = name.partition("=")
        if sep and named == role:
            pair[f"{kind}={MATCH}"] = value
    pair[f"bias|{role}"] = 1.0
    return pair


class RoleModel:
    """A conditional logit over candidate roles: each role's score is the sum of the weights
    of its :func:`candidate_features`; probabilities are the softmax of the scores."""

    def __init__(self, classes: list[str], class_weights: dict[str, dict[str, float]],
                 match_weights: dict[str, float], policy: RolePolicy, with_rule: bool = True,
                 meta: dict[str, Any] | None = None) -> None:
        self.classes = list(classes)
        self.class_weights = class_weights  # feature -> role -> weight ("bias" for the role)
        self.match_weights = match_weights  # role-naming feature kind -> weight when it matches
        self.policy = policy
        self.with_rule = with_rule
        self.meta = meta or {}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RoleModel:
        return cls(data["classes"], data["class_weights"], data["match_weights"],
                   RolePolicy.from_json(data["policy"]), bool(data.get("with_rule", True)),
                   data.get("meta"))

    def to_json(self) -> dict[str, Any]:
        return {"classes": self.classes, "with_rule": self.with_rule,
                "policy": self.policy.to_json(), "meta": self.meta,
                "match_weights": self.match_weights, "class_weights": self.class_weights}

    def scores(self, features: dict[str, float]) -> dict[str, float]:
        """Each candidate role's linear score (the sum of its pair features' weights)."""
        scores = {c: self.class_weights.get("bias", {}).get(c, 0.0) for c in self.classes}
        for name, value in sorted(features.items()):
            for role, weight in self.class_weights.get(name, {}).items():
                scores[role] += weight * value
            kind, sep, named = name.partition("=")
            if sep and named in scores:
                scores[named] += self.match_weights.get(kind, 0.0) * value
        return scores

    def probabilities(self, features: dict[str, float]) -> dict[str, float]:
        """P(role | features), the softmax of the candidates' scores."""
        scores = self.scores(features)
        top = max(scores.values())
        exps = {c: math.exp(s - top) for c, s in scores.items()}
        total = sum(exps.values())
        return {c: e / total for c, e in exps.items()}

    @property
    def active(self) -> bool:
        """Whether the policy ever lets the model overrule the rules (no features otherwise)."""
        return self.policy.name != "rules"

    def decide(self, features: dict[str, float], rule_role: str, rule: str) -> str | None:
        """The role the model puts in place of the rules' one, or None to keep the rules'."""
        return self.policy.overrides(self.probabilities(features), rule_role, rule)


@cache
def load_role_model(path: str | Path = MODEL_PATH) -> RoleModel | None:
    """The trained model at ``path`` (None where none has been written)."""
    path = Path(path)
    if not path.exists():
        return None
    return RoleModel.from_json(json.loads(path.read_text(encoding="utf-8")))
