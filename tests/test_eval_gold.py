"""Our gold sets stay valid: the shared validator (fixtures/eval/validate_gold.py) on its own
strings and on every set, and the gold.jsonl of real2 to real7 in step with their hand
annotations (ann/*.ann, built by real2/build_gold.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

EVAL = Path(__file__).resolve().parent.parent / "fixtures" / "eval"
SHARED_SCORER = EVAL.parents[1].parent / "shared" / "eval" / "score.py"

needs_scorer = pytest.mark.skipif(not SHARED_SCORER.exists(),
                                  reason="the shared scorers are not beside the repository")


def _load(path: Path, name: str) -> ModuleType:
    sys.path.insert(0, str(EVAL))
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
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
    ("real3", ["--words", "150-400"]),
    ("real4", ["--words", "150-400"]),
    ("real5", ["--words", "150-400"]),
    ("real6", ["--words", "150-400"]),
    ("real7", ["--words", "150-400"]),
    ("real10", ["--words", "150-400"]),
])
def test_gold_set_validates(validator, name: str, options: list[str], capsys) -> None:
    assert validator.main([str(EVAL / name), *options, "--quiet"]) == 0, capsys.readouterr().out


@pytest.mark.parametrize("name", ["real2", "real3", "real4", "real5", "real6", "real7", "real10"])
def test_gold_is_built_from_its_annotations(validator, name: str) -> None:
    builder = _load(EVAL / "real2" / "build_gold.py", "real2_build_gold")
    built = builder.to_jsonl(builder.build_records(EVAL / name))
    assert built == (EVAL / name / "gold.jsonl").read_text(encoding="utf-8")
