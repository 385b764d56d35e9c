"""training.gold_pairs: which documents training may read and how predictions meet gold."""

from __future__ import annotations

import pytest

from training import gold_pairs
from training.gold_pairs import match_amounts


def amount(value: float | None, text: str = "", value_max: float | None = None) -> dict:
    return {"value_gbp": value, "value_gbp_max": value_max, "text": text}


def test_match_pairs_equal_values_one_to_one_in_text_order():
    gold = [amount(5e6), amount(5e6), amount(7e6)]
    pred = [amount(5e6), amount(7.01e6), amount(5e6), amount(9e6)]
    assert match_amounts(gold, pred) == {0: 0, 2: 1, 1: 2}


def test_match_takes_either_bound_of_a_range_and_text_without_value():
    gold = [amount(8e6, value_max=12e6), amount(None, "€3m")]
    pred = [amount(12e6), amount(None, "€3m"), amount(None, "$3m")]
    assert match_amounts(gold, pred) == {0: 0, 1: 1}


def test_training_never_reads_blind_or_a_test_split():
    docs = list(gold_pairs.gold_docs())
    assert docs, "the fixtures' train and dev splits are training documents"
    assert "blind" not in {d.set_name for d in docs}
    for folder in gold_pairs.OWN_SETS.iterdir():
        splits = folder / "splits.json"
        if splits.exists():
            test_ids = set(gold_pairs.json.loads(splits.read_text())["test"])
            assert not test_ids & {d.doc_id for d in docs if d.set_name == folder.name}
    with pytest.raises(ValueError, match="no training set 'blind'"):
        list(gold_pairs.gold_docs(["blind"]))
