"""nlp.owner_model: the learned owner ranker (weights as JSON, policy, the money flag) and its
training (training.owner_model) on a tiny synthetic example."""

from __future__ import annotations

import json

import pytest

from nlp.owner_features import Candidate, rule_family
from nlp.owner_model import MODEL_PATH, MODEL_WHY, OwnerModel, load_owner_model
from training import owner_model as training


@pytest.fixture(scope="module")
def rules_nlp():
    """The extract pipeline with the ranker off, keeping each amount's owner candidates."""
    return training.training_pipeline()


def _ranked_owner(nlp, text: str) -> tuple[str | None, dict]:
    """The stored ranker's own pick (policy "model") for the one amount of ``text``."""
    stored = load_owner_model()
    ranker = OwnerModel(stored.weights, stored.intercept, "model")
    found = nlp(text)._.amounts
    assert len(found) == 1, found
    amount = found[0]
    cands = [Candidate(c["name"], set(c["features"])) for c in amount["owner_candidates"]]
    return ranker.choose(cands, amount["org"], amount["why"]["org"]), amount


def test_stored_model_is_plain_json_with_a_policy_chosen_by_cv():
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert data["weights"] and isinstance(data["intercept"], float)
    assert data["policy"]["kind"] in ("rules", "model", "margin", "weak_margin")
    assert {"dev", "dev2"} <= set(data["meta"]["sets"])
    cv = data["meta"]["cv"]
    assert "pooled" in cv[data["meta"].get("config", f"C={data['meta']['C']}")]["rules"]
    model = load_owner_model()
    assert model.kind == data["policy"]["kind"] and len(model.weights) == len(data["weights"])


def test_ranking_is_deterministic_and_ties_go_to_the_rules_choice():
    model = OwnerModel({"subject": 2.0, "later": 1.0}, -1.0, "model")
    cands = [Candidate(None, {"null"}), Candidate("Alder Trust", {"later"}),
             Candidate("Birch Trust", {"subject"})]
    assert model.rank(cands) == model.rank(cands) == [-1.0, 0.0, 1.0]
    assert model.choose(cands, "Alder Trust", "parse:ROOT") == "Birch Trust"
    tied = [Candidate("Alder Trust", {"later"}), Candidate("Birch Trust", {"later"})]
    assert model.choose(tied, "Birch Trust", "parse:ROOT") == "Birch Trust"
    assert model.choose(tied, None, "none") == "Alder Trust"


def test_a_body_that_cannot_own_the_amount_is_never_the_rankers_pick():
    model = OwnerModel({"subject": 5.0}, 0.0, "model")
    cands = [Candidate(None, {"null"}), Candidate("Westgate Gazette", {"subject", "not_owner_ok"}),
             Candidate("Alder Trust", set())]
    assert model.choose(cands, "Alder Trust", "topic:story_lead") == "Alder Trust"
    assert model.choose(cands, None, "none") is None
    # ... unless the rules chose it themselves
    assert model.choose(cands, "Westgate Gazette", "parse:ROOT") == "Westgate Gazette"


def test_margin_and_weak_policies_keep_the_rules_choice_unless_told():
    weights = {"subject": 2.0}
    cands = [Candidate("Alder Trust", set()), Candidate("Birch Trust", {"subject"})]
    assert OwnerModel(weights, 0.0, "margin", 3.0).choose(
        cands, "Alder Trust", "parse:ROOT") == "Alder Trust"
    assert OwnerModel(weights, 0.0, "margin", 1.5).choose(
        cands, "Alder Trust", "parse:ROOT") == "Birch Trust"
    weak = OwnerModel(weights, 0.0, "weak_margin", 1.0, frozenset({"topic"}))
    assert weak.choose(cands, "Alder Trust", "parse:ROOT") == "Alder Trust"
    assert weak.choose(cands, "Alder Trust", "topic:story_lead") == "Birch Trust"
    assert OwnerModel(weights, 0.0, "rules").choose(cands, "Alder Trust", "x") == "Alder Trust"
    assert weak.may_override("topic:story_lead") and not weak.may_override("parse:ROOT")
    assert not OwnerModel(weights, 0.0, "rules").may_override("topic:story_lead")
    assert OwnerModel(weights, 0.0, "margin", 1.0).may_override("parse:ROOT")
    assert rule_family("parse:nsubj+salience:the_trust") == ("parse:nsubj", "salience")
    with pytest.raises(ValueError, match="unknown owner model policy"):
        OwnerModel.from_json({"weights": {}, "intercept": 0.0, "policy": {"kind": "vote"}})


@pytest.mark.parametrize(("text", "owner"), [
    ("Brackenfield Hospitals NHS Trust reported a deficit of £12.4m for 2023-24.",
     "Brackenfield Hospitals NHS Trust"),
    ("NHS England gave Brackenfield Hospitals NHS Trust £3m to cut waiting lists.",
     "Brackenfield Hospitals NHS Trust"),
    ("Hospital trusts across the country spent £2bn on agency staff last year.", None),
    ("Ostwick Community NHS Trust said its deficit had grown. The trust now expects to end "
     "the year £7m in the red.", "Ostwick Community NHS Trust"),
    ("NHS Tarnley ICB awarded a £4.5m contract to Greyfield Care Ltd for community nursing.",
     "NHS Tarnley ICB"),
])
def test_the_stored_ranker_picks_the_owner(rules_nlp, text, owner):
    picked, amount = _ranked_owner(rules_nlp, text)
    assert picked == owner
    assert amount["owner_candidates"][0]["name"] is None  # the NULL candidate comes first


def test_flag_off_keeps_the_rules_owner_and_an_override_says_which_rule_it_replaced(rules_nlp):
    text = "Ostwick Community NHS Trust reported a deficit of £9.1m."
    money = rules_nlp.get_pipe("policywatch_money")
    rule = rules_nlp(text)._.amounts[0]
    assert rule["org"] == "Ostwick Community NHS Trust"
    assert rule["why"]["org"] != MODEL_WHY and "org_rule" not in rule["why"]
    stored = money.owner_model
    money.owner_model = OwnerModel({"null": 10.0}, 0.0, "model")  # a ranker that says nobody
    try:
        overridden = rules_nlp(text)._.amounts[0]
    finally:
        money.owner_model = stored
    assert overridden["org"] is None
    assert overridden["why"]["org"] == MODEL_WHY
    assert overridden["why"]["org_rule"] == rule["why"]["org"]


def _synthetic(set_name: str, right: str) -> list[training.Example]:
    """Amounts whose owner is always the candidate with feature ``rel=subj``, while the rules
    pick the other one."""
    return [training.Example(
        set_name, f"{set_name}-{k}", [None, "Alder Trust", "Birch Trust"],
        [["null"], ["cand", "rel=subj"] if right == "Alder Trust" else ["cand", "rule_pick"],
         ["cand", "rel=subj"] if right == "Birch Trust" else ["cand", "rule_pick"]],
        [False, right == "Alder Trust", right == "Birch Trust"],
        "Birch Trust" if right == "Alder Trust" else "Alder Trust", "topic:story_lead", False)
        for k in range(6)]


def test_training_learns_the_feature_that_marks_the_owner():
    examples = _synthetic("one", "Alder Trust") + _synthetic("two", "Birch Trust")
    model = training.fit(examples, 1.0)
    assert model.weights["rel=subj"] > 0 > model.weights["rule_pick"]
    table = training.cross_validate(examples, ["one", "two"], 1.0, out=None)
    assert table["one"]["rules"] == (0, 6)
    assert table["one"]["model"] == (6, 6) and table["two"]["model"] == (6, 6)


def test_listwise_training_learns_the_feature_that_marks_the_owner():
    examples = _synthetic("one", "Alder Trust") + _synthetic("two", "Birch Trust")
    model = training.fit(examples, 1.0, "listwise")
    assert model.weights["rel=subj"] > 0 > model.weights["rule_pick"]
    assert model.intercept == 0.0  # a softmax over an amount's candidates has no intercept
    listwise = training.Config(1.0, "listwise")
    table = training.cross_validate(examples, ["one", "two"], listwise, out=None)
    assert table["one"]["model"] == (6, 6) and table["two"]["model"] == (6, 6)


def test_a_ranker_without_rule_features_never_weighs_the_rules_choice():
    examples = _synthetic("one", "Alder Trust") + _synthetic("two", "Birch Trust")
    for objective in ("pointwise", "listwise"):
        model = training.fit_config(examples, training.Config(1.0, objective, "no_rules"))
        assert model.weights.get("rel=subj", 0.0) > 0
        assert not [name for name in model.weights if "rule_pick" in name]
