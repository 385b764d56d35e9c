"""Our gold sets stay valid: the shared validator (fixtures/eval/validate_gold.py) on its own
strings and on every set, the gold.jsonl of real2 on in step with their hand annotations
(ann/*.ann, built by fixtures/eval/build_gold.py), and their splits.json as dealt by
fixtures/eval/make_splits.py."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

EVAL = Path(__file__).resolve().parent.parent / "fixtures" / "eval"
SHARED_SCORER = EVAL.parents[1].parent / "shared" / "eval" / "score.py"

# Every set made like real2: hand annotations in ann/, built into gold.jsonl, dealt into splits.
ANNOTATED = sorted((p.parent.name for p in EVAL.glob("*/ann")), key=lambda n: int(n[4:]))

needs_scorer = pytest.mark.skipif(not SHARED_SCORER.exists(),
                                  reason="the shared scorers are not beside the repository")


def _load(path: Path, name: str) -> ModuleType:
    sys.path.insert(0, str(EVAL))
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(EVAL))


@pytest.fixture(scope="module")
def validator() -> ModuleType:
    if not SHARED_SCORER.exists():
        pytest.skip("the shared scorers are not beside the repository")
    return _load(EVAL / "validate_gold.py", "validate_gold")


def test_money_figures_reads_units_ranges_and_skips_a_header_unit(validator) -> None:
    text = "Costs (£000) rose by £8-10m, then £700,000,\nand a £1.2bn loan."
    found = [(sign, low, high) for _, _, sign, low, high in validator.money_figures(text)]
    assert found == [("£", 8e6, 10e6), ("£", 7e5, None), ("£", 1.2e9, None)]


def test_cell_number_reads_signed_and_bracketed_cells(validator) -> None:
    assert validator.cell_number("(8,950)") == 8950
    assert validator.cell_number("-10.3") == pytest.approx(10.3)
    assert validator.cell_number("break-even") is None


def test_pound_table_cells_only_takes_columns_with_a_pound_header(validator) -> None:
    table = "Board | Month | Overspend (£m)\nHolmvale | 5 | 12.4\n\nAfter the table 7.1"
    assert validator.pound_table_cells(table) == ["12.4"]


@needs_scorer
@pytest.mark.parametrize("name, options", [
    ("heldout", []),
    ("blind", ["--paragraph-stories", "--headline-less-newsletters", "--curly-quotes"]),
    ("real2", []),
    *[(name, ["--words", "150-400"]) for name in ANNOTATED if name != "real2"],
])
def test_gold_set_validates(validator, name: str, options: list[str], capsys) -> None:
    assert validator.main([str(EVAL / name), *options, "--quiet"]) == 0, capsys.readouterr().out


@pytest.mark.parametrize("name", ANNOTATED)
def test_gold_is_built_from_its_annotations(validator, name: str) -> None:
    builder = _load(EVAL / "build_gold.py", "build_gold")
    built = builder.to_jsonl(builder.build_records(EVAL / name))
    assert built == (EVAL / name / "gold.jsonl").read_text(encoding="utf-8")


def test_every_annotated_set_has_a_dealing() -> None:
    dealer = _load(EVAL / "make_splits.py", "make_splits")
    assert set(ANNOTATED) <= set(dealer.SETS)


@pytest.mark.parametrize("name", ANNOTATED)
def test_splits_are_the_recorded_dealing(name: str) -> None:
    dealer = _load(EVAL / "make_splits.py", "make_splits")
    recorded = json.loads((EVAL / name / "splits.json").read_text(encoding="utf-8"))
    assert dealer.deal(EVAL / name, dealer.SETS[name]) == recorded


def test_whole_set_cut_keeps_the_set_totals_exact() -> None:
    dealer = _load(EVAL / "make_splits.py", "make_splits")
    counts = dealer.whole_set_counts([14, 6], dealer.QUARTERS)
    assert [sum(c[split] for c in counts) for split in ("train", "dev", "test")] == [5, 5, 10]
    assert dealer.per_group_counts([14, 6], dealer.QUARTERS) == [
        {"train": 4, "dev": 4, "test": 6}, {"train": 2, "dev": 2, "test": 2}]
