"""Tests of document structure (nlp/structure.py) and of the amounts it explains
(nlp/money_structure.py): table cells under a £ header, list items under an introducing line,
headings that name a body, subheadings, and the `why` each amount carries.

All documents here are written for these tests; every named pattern of data/structure.toml has
a case below.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from nlp.structure import find_kind, load_structure_lexicon, nhs_heading_names, read_structure


@pytest.fixture(scope="module")
def full_nlp():
    from nlp.extract import load_pipeline

    return load_pipeline()


TABLE_DOC = """Kestrel region: year-end positions

The figures below for 2021/22 come from each trust's annual accounts.

Trust | Outturn 2021/22 (£m) | Savings delivered (£000) | Loans (£bn) | Rated?
Kestrel Valley | -12.4 | 850 | 0.2 | yes
Harbourside | 3.1 | break-even | n/a | no
Total | -9.3 | 850 | 0.2 | -
"""


# ---------------------------------------------------------------------------- read_structure


def test_table_columns_read_unit_role_and_year_from_the_header():
    table = read_structure(TABLE_DOC).tables[0]
    outturn, savings, loans, rated = table.columns[1:]
    assert (outturn.multiplier, outturn.unit_rule, outturn.role_rule, outturn.period) == (
        Decimal("1e6"), "unit_million", "header_position", "2021-22")
    assert (savings.multiplier, savings.unit_rule, savings.role) == (
        Decimal("1e3"), "unit_thousand", "savings")
    assert (loans.multiplier, loans.role_rule) == (Decimal("1e9"), "header_loan")
    assert rated.multiplier is None  # no £ in the header: not a money column
    assert table.kind.rule == "kind_trust" and table.period == "2021-22"


def test_a_name_column_header_gives_its_unit_and_year_to_the_measure_columns():
    doc = ("Moorland trusts compared\n\n"
           "Provider (£m, 2022/23) | Planned surplus | Actual deficit | Beds\n"
           "Greyfell | 1.5 | 7.25 | 410\n"
           "Ashcombe | 0.4 | 3.0 | 220\n")
    table = read_structure(doc).tables[0]
    name, plan, actual, beds = table.columns
    assert name.multiplier is None and table.rows[0].name == "Greyfell"
    assert (plan.multiplier, plan.unit_rule, plan.period) == (Decimal("1e6"), "unit_million",
                                                             "2022-23")
    assert (actual.role, actual.multiplier) == ("deficit", Decimal("1e6"))
    assert beds.multiplier is None  # not a measure of money: it keeps no unit
    assert [c.value for c in table.rows[1].cells] == [Decimal("0.4e6"), Decimal("3.0e6")]


def test_table_cells_drop_the_sign_and_skip_words():
    table = read_structure(TABLE_DOC).tables[0]
    kestrel, harbourside, total = table.rows
    assert kestrel.name == "Kestrel Valley"
    assert [(c.text, c.value, c.negative) for c in kestrel.cells] == [
        ("-12.4", Decimal("12.4e6"), True), ("850", Decimal("850e3"), False),
        ("0.2", Decimal("0.2e9"), False)]
    assert [c.text for c in harbourside.cells] == ["3.1"]  # "break-even" and "n/a" are not
    assert TABLE_DOC[kestrel.cells[0].start:kestrel.cells[0].end] == "-12.4"
    assert total.name == "Total"


def test_pound_unit_and_other_header_roles():
    text = ("Board | Allocation 2025-26 (£) | Control total (£m) | Variance from plan (£m) | "
            "Deterioration (£m) | Overspend (£m) | Deficit (£m) | Surplus (£m) | Budget (£m) | "
            "Income (£m)\nFenmarsh | 1,200,000 | 4 | 1 | 2 | 3 | 5 | 6 | 7 | 8\n"
            "Upland | 900,000 | 4 | 1 | 2 | 3 | 5 | 6 | 7 | 8\n")
    columns = read_structure(text).tables[0].columns
    assert columns[1].unit_rule == "unit_pound" and columns[1].multiplier == 1
    assert [c.role_rule for c in columns[1:]] == [
        "header_allocation", "header_control_total", "header_variance", "header_change",
        "header_overspend", "header_deficit", "header_surplus", "header_budget",
        "header_income"]
    assert read_structure(text).tables[0].rows[0].cells[0].value == Decimal("1200000")


def test_spend_and_limit_columns():
    text = ("Trust | Locum spend 2025/26 (£m) | Locum cap 2025/26 (£m)\n"
            "Brookmere | 6.2 | 5.0\nFellside | 3.3 | 4.0\n")
    columns = read_structure(text).tables[0].columns
    assert [(c.role, c.role_rule) for c in columns[1:]] == [
        ("cost", "header_spend"), ("spending_limit", "header_limit")]


def test_an_unsigned_forecast_beside_a_deficit_column_is_a_deficit(full_nlp):
    text = ("Three boards fall behind\n\nThe boards published their figures this week.\n\n"
            "Board | Deficit at month 9 (£m) | Forecast outturn 2025/26 (£m)\n"
            "Brookmere | 7.1 | 9.4\nFellside | 2.2 | -1.0\n")
    found = by_text(full_nlp(text))
    assert found["9.4"]["role"] == "deficit"
    assert found["9.4"]["why"]["role"] == "table_header:header_position+sibling_deficit"
    assert found["-1.0"]["role"] == "deficit"


def test_list_items_keep_their_name_and_introducing_line():
    text = ("The chief executive named the worst cases.\n\n"
            "Health board overspends in 2016-17 were:\n"
            "– Glenmoor (north) – £4.2m\n"
            "• Riverside Coast: £3m\n\nNo other board overspent.\n")
    items = read_structure(text).items
    assert [i.name for i in items] == ["Glenmoor", "Riverside Coast"]
    assert text[items[0].intro[0]:items[0].intro[1]] == "Health board overspends in 2016-17 were:"
    assert items[0].kind.rule == "kind_health_board"


def test_headings_subheadings_and_nhs_names():
    text = ("Southern boards publish plans\n\nThree boards set out plans for 2024/25.\n\n"
            "NHS Saltmarsh\nThe board expects a deficit.\n\n"
            "The outlook\nIt hopes to break even.\n\n"
            "2025/26 forecast\nA surplus is possible.\n\n"
            "NHS Long Term Plan\nThe plan is not an organisation.\n")
    structure = read_structure(text)
    by_text = {h.text: h for h in structure.headings}
    assert by_text["The outlook"].subheading == "subheading_the_noun"
    assert by_text["2025/26 forecast"].subheading == "subheading_year_noun"
    assert by_text["2025/26 forecast"].period == "2025-26"
    assert by_text["NHS Saltmarsh"].subheading is None
    assert [h.text for h in nhs_heading_names(structure)] == ["NHS Saltmarsh"]


@pytest.mark.parametrize(("words", "rule"), [
    ("the integrated care boards", "kind_icb"),
    ("three CCGs", "kind_ccg"),
    ("Welsh health boards", "kind_health_board"),
    ("acute trusts", "kind_trust"),
    ("Scotland's NHS boards", "kind_board"),
])
def test_kinds_of_body(words, rule):
    assert find_kind(words, load_structure_lexicon()).rule == rule


@pytest.mark.parametrize(("name", "ok"), [
    ("North Bristol", True), ("Isle of Wight", True), ("NHS 24", True),
    ("Total", False), ("Capital funding", False), ("social care", False),
    ("October 2013", False), ("England", False),
])
def test_which_bare_names_can_stand_for_a_body(name, ok):
    assert load_structure_lexicon().could_be_body(name) is ok


def test_a_broken_structure_lexicon_is_one_clear_error(tmp_path):
    bad = tmp_path / "structure.toml"
    bad.write_text("[table]\nseparators = ['|']\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="structure lexicon"):
        load_structure_lexicon(bad)


# ------------------------------------------------------------------ amounts from structure


def by_text(doc) -> dict[str, dict]:
    return {a["text"]: a for a in doc._.amounts}


def test_table_cells_are_amounts_owned_by_the_row(full_nlp):
    doc = full_nlp(TABLE_DOC)
    found = by_text(doc)
    kestrel = found["-12.4"]
    assert (kestrel["value_gbp"], kestrel["role"], kestrel["org"], kestrel["period"]) == (
        12_400_000, "deficit", "Kestrel Valley Trust", "2021-22")
    assert kestrel["why"] == {"role": "table_header:header_position+sign",
                              "org": "table:row_kind:kind_trust", "period": "table_header"}
    assert found["3.1"]["role"] == "surplus" and found["3.1"]["org"] == "Harbourside Trust"
    assert found["850"]["value_gbp"] == 850_000 and found["850"]["role"] == "savings"
    assert found["850"]["period"] == "2021-22" and found["850"]["why"]["period"] == "table_intro"
    assert found["0.2"]["value_gbp"] == 200_000_000 and found["0.2"]["role"] == "other"
    assert found["-9.3"]["org"] is None  # a total row names no body
    orgs = {o["name"]: o for o in doc._.organisations}
    assert orgs["Kestrel Valley Trust"]["aliases"] == ["Kestrel Valley"]
    assert orgs["Kestrel Valley Trust"]["type"] == "provider"
    assert "Total Trust" not in orgs


def test_list_items_take_owner_role_and_year_from_their_introduction(full_nlp):
    text = ("Welsh boards overspend again\n\n"
            "Two of the country's health boards overspent last year, figures show.\n\n"
            "Health board overspends, 2016-17:\n"
            "– Glenmoor – £4.2m\n"
            "– Riverside Coast – £3m\n\n"
            "Glenmoor University Health Board said it had a plan to recover.\n")
    found = by_text(full_nlp(text))
    glen, river = found["£4.2m"], found["£3m"]
    assert (glen["org"], glen["role"], glen["period"]) == (
        "Glenmoor University Health Board", "overspend", "2016-17")
    # the orgs component already knows "Glenmoor" as the board's short form
    assert glen["why"] == {"role": "list_intro", "org": "list:row_alias_match",
                           "period": "list_intro"}
    assert (river["org"], river["role"], river["period"]) == (
        "Riverside Coast Health Board", "overspend", "2016-17")


def test_a_heading_that_repeats_a_row_name_governs_its_section(full_nlp):
    text = ("Northern ICBs fall behind\n\n"
            "Integrated care boards in the north published their plans for 2023/24 this week.\n\n"
            "ICB | Deficit 2023/24 (£m)\n"
            "Fellside | 12.0\n"
            "Moorland Coast | 8.5\n\n"
            "Fellside\n"
            "The system needs savings of £30m to meet its plan.\n")
    savings = by_text(full_nlp(text))["£30m"]
    assert savings["org"] == "Fellside ICB"
    assert savings["period"] == "2023-24" and savings["why"]["period"] == "section"


def test_a_heading_with_an_nhs_name_owns_the_text_under_it(full_nlp):
    text = ("Southern ICBs set out their plans\n\n"
            "Three integrated care boards in the south have agreed plans with NHS England.\n\n"
            "NHS Saltmarsh\n"
            "The system expects to end the year with a deficit of £14m.\n")
    deficit = by_text(full_nlp(text))["£14m"]
    assert deficit["org"] == "NHS Saltmarsh"
    orgs = {o["name"]: o for o in full_nlp(text)._.organisations}
    assert orgs["NHS Saltmarsh"]["type"] == "commissioner"


def test_a_subheading_does_not_cut_the_story(full_nlp):
    text = ("Kestrel Valley turns a corner\n\n"
            "Kestrel Valley NHS Foundation Trust has cleared its debts, the regulator said.\n\n"
            "The outlook\n"
            "The trust now expects a deficit of £2m in 2025/26.\n")
    deficit = by_text(full_nlp(text))["£2m"]
    assert deficit["org"] == "Kestrel Valley NHS Foundation Trust"
    assert deficit["period"] == "2025-26"


def test_a_topic_heading_is_a_subheading():
    text = ("Quarry Bank CCG: report to the board\n\nThe CCG has met its targets.\n\n"
            "Next steps\nIt will publish a plan.\n\nQIPP\nSchemes are on track.\n\n"
            "Elsewhere\nA hospital opened.\n\n"
            "Fenmoor Hospital wins award\nIt was named the best.\n")
    by_text = {h.text: h for h in read_structure(text).headings}
    assert by_text["Next steps"].subheading == "subheading_topic"
    assert by_text["QIPP"].subheading == "subheading_topic"
    assert by_text["Fenmoor Hospital wins award"].subheading is None
    assert by_text["Elsewhere"].subheading is None  # a turn to other news


def test_a_heading_that_names_a_row_elsewhere_is_not_a_topic():
    text = ("Trust | Deficit (£m)\nFellside | 3.1\nBrookmere | 2.0\n\n"
            "Fellside\nThe trust is behind plan.\n")
    by_text = {h.text: h for h in read_structure(text).headings}
    assert by_text["Fellside"].subheading is None


def test_a_board_paper_under_topic_headings_keeps_its_owner_and_title_year(full_nlp):
    text = ("Commissioner papers, Q3 25/26: Quarry Bank\n\n"
            "NHS Quarry Bank CCG – finance report to the governing body\n\n"
            "Prescribing\n"
            "The CCG has spent £4.2m on prescribing, above its forecast.\n\n"
            "Workforce\n"
            "The CCG has cut its agency bill to £0.9m.\n")
    found = by_text(full_nlp(text))
    for figure in ("£4.2m", "£0.9m"):
        assert found[figure]["org"] == "NHS Quarry Bank CCG"
    assert found["£4.2m"]["period"] == "2025-26"
    assert found["£4.2m"]["why"]["period"] == "report_title_year"  # the title line dates the report


def test_a_table_of_one_body_under_its_heading(full_nlp):
    text = ("London ICBs: where they stand\n\n"
            "Integrated care boards in London agreed plans with NHS England for 24/25.\n\n"
            "Fellbrook\n"
            "Control total (24/25) | Month | YTD deficit (£ million) | Savings target |\n"
            "£35m deficit | 5 | 80.4 | £210m |\n\n"
            "Month 6\n"
            "By month 6 the system had cut its deficit to £62m.\n")
    structure = read_structure(text)
    assert structure.tables[0].named_rows is False
    assert structure.tables[0].columns[0].period == "2024-25"  # a short financial year
    assert [h.subheading for h in structure.headings if h.text == "Month 6"] == [
        "subheading_month"]
    found = by_text(full_nlp(text))
    assert (found["£35m"]["role"], found["£35m"]["org"], found["£35m"]["period"]) == (
        "control_total", "Fellbrook ICB", "2024-25")
    assert found["80.4"]["value_gbp"] == 80_400_000 and found["80.4"]["role"] == "deficit"
    assert found["£210m"]["role"] == "savings" and found["£210m"]["org"] == "Fellbrook ICB"
    assert found["£62m"]["org"] == "Fellbrook ICB"


def test_an_inline_list_after_a_colon(full_nlp):
    line = ("Trusts with the biggest forecast deficits for 2024/25: Harbury Vale (£22m), "
            "Kestrel Coast – £19m and Fenmoor (£4m).\n")
    items = read_structure(line).items
    assert [i.name for i in items] == ["Harbury Vale", "Kestrel Coast", "Fenmoor"]
    assert items[0].kind.rule == "kind_trust"
    found = by_text(full_nlp("Deficits widen\n\nThe regulator published figures on Tuesday. "
                             + line))
    assert [(found[t]["org"], found[t]["role"], found[t]["period"]) for t in
            ("£22m", "£19m", "£4m")] == [
        ("Harbury Vale Trust", "deficit", "2024-25"), ("Kestrel Coast Trust", "deficit", "2024-25"),
        ("Fenmoor Trust", "deficit", "2024-25")]


def test_a_name_before_a_dash_owns_the_figure(full_nlp):
    text = "The largest deficits were at Fenwick Valley NHS Trust – £14.2m – and elsewhere."
    found = by_text(full_nlp(text))["£14.2m"]
    assert found["org"] == "Fenwick Valley NHS Trust" and found["why"]["org"] == "name_before_dash"


@pytest.mark.parametrize(("heading_backref", "opening", "built"), [
    ("heading_backref_icb", "The ICS expects a deficit of £9m this year.", "Corrie Dale ICB"),
    ("heading_backref_ccg", "The CCG expects a deficit of £9m this year.", "Corrie Dale CCG"),
    ("heading_backref_health_board", "The health board expects a deficit of £9m this year.",
     "Corrie Dale Health Board"),
    ("heading_backref_trust", "The trust expects a deficit of £9m this year.",
     "Corrie Dale Trust"),
])
def test_a_bare_name_heading_is_the_body_its_section_points_back_to(
        full_nlp, heading_backref, opening, built):
    text = ("Northern round-up: money matters\n\n"
            "Our look at local finances visits two places this month.\n\n"
            "Corrie Dale\n"
            f"{opening} Papers show agency spending of £2m.\n")
    doc = full_nlp(text)
    found = by_text(doc)
    assert found["£9m"]["org"] == built
    # a figure with no owner in its sentence belongs to the body its section is about
    assert found["£2m"]["org"] == built
    assert found["£2m"]["why"]["org"] == "topic:section_heading"
    orgs = {o["name"]: o for o in doc._.organisations}
    assert orgs[built]["aliases"] == ["Corrie Dale"]
    from nlp.money_structure import StructureOrgs
    structure = read_structure(text)
    bare_doc = full_nlp.make_doc(text)  # no organisations tagged yet
    assert StructureOrgs(bare_doc, structure).heading_body(structure.headings[-1]).rule == \
        f"heading_backref:{heading_backref}"


def test_a_topic_heading_is_not_built_into_a_body(full_nlp):
    text = ("Board paper: Ambleford ICB at month 6\n\n"
            "This summarises the finance report of NHS Ambleford ICB.\n\n"
            "Risks\n"
            "The system faces pressures of £4m from prescribing.\n")
    doc = full_nlp(text)
    assert "Risks ICB" not in {o["name"] for o in doc._.organisations}


def test_a_table_of_months_belongs_to_the_body_the_passage_is_about(full_nlp):
    text = ("Board paper: Glasmoor finances\n\n"
            "Glasmoor University Health Board reports its month 5 position for 2024-25.\n\n"
            "Month | In-month deficit (£000)\n"
            "April | 1,200\n"
            "May | 1,350\n")
    found = by_text(full_nlp(text))
    assert found["1,200"]["org"] == "Glasmoor University Health Board"
    assert found["1,350"]["why"]["org"] == "table:period_row+topic:story_lead"
    assert load_structure_lexicon().period_rows.match("Q3")


def test_a_group_owns_its_combined_figure_but_not_unnamed_bodies_share(full_nlp):
    text = ("Harlow Vale and Stour Hospitals Group: annual report\n\n"
            "The Harlow Vale and Stour Hospitals Group runs two hospital trusts. "
            "The group closed the year with a combined deficit of £15.5m.\n")
    found = by_text(full_nlp(text))
    assert found["£15.5m"]["org"] == "Harlow Vale and Stour Hospitals Group"
    assert found["£15.5m"]["why"]["org"] == "combined_total_of_group"
    text = ("Three CCGs are forecasting a combined deficit of £22m for the year.\n")
    assert by_text(full_nlp(text))["£22m"]["org"] is None


def test_a_surplus_or_deficit_column_reads_the_sign_and_its_unit_is_no_amount(full_nlp):
    text = ("Community trusts' results\n\n"
            "Three community trusts in the Fenmarsh area have published accounts for 2022/23.\n\n"
            "Trust | Surplus/(deficit) 2022/23 (£000)\n"
            "Alder Vale | (2,450)\n"
            "Birch Moor | 310\n")
    column = read_structure(text).tables[0].columns[1]
    assert column.role_rule == "header_surplus_or_deficit"
    found = by_text(full_nlp(text))
    assert found["(2,450)"]["role"] == "deficit" and found["310"]["role"] == "surplus"
    assert "£000" not in found


def test_a_list_items_year_does_not_carry_to_the_next_item(full_nlp):
    text = ("Ravensholme Hospitals NHS Trust in numbers\n\n"
            "Ravensholme Hospitals NHS Trust has published its annual report for 2023/24. "
            "The main figures are:\n\n"
            "– Income: £610m, up from £590m in 2022/23\n"
            "– Agency spending: £21.5m\n")
    found = by_text(full_nlp(text))
    assert found["£21.5m"]["period"] == "2023-24"
    assert found["£21.5m"]["why"]["period"] == "list_story_lead"


def test_a_topic_heading_whose_word_sits_inside_a_longer_name_stays_a_subheading():
    text = ("Board report\n\n"
            "The Care Quality Commission visited in March.\n\n"
            "Quality\n"
            "Inspectors found the wards clean.\n\n"
            "Fellside\n"
            "The merger with Fellside, the neighbouring trust, is on hold.\n")
    headings = {h.text: h.subheading for h in read_structure(text).headings}
    assert headings["Quality"] == "subheading_topic"
    assert headings["Fellside"] is None  # named after a lower-case word: a body's name


def test_a_negative_cell_under_a_measure_with_an_opposite_is_that_opposite(full_nlp):
    text = ("Divisions at month 6\n\nThe finance report lists each division.\n\n"
            "Division | Budget to M6 (£000) | Overspend to M6 (£000)\n"
            "Theatres | 9,100 | 420\nPharmacy | 4,300 | (75)\n")
    found = by_text(full_nlp(text))
    assert found["420"]["role"] == "overspend"
    assert found["(75)"]["role"] == "underspend"
    assert found["(75)"]["why"]["role"] == "table_header:header_overspend+negative"


def test_an_actual_column_reads_the_sign(full_nlp):
    text = ("System position\n\nThe board saw the figures for the half year.\n\n"
            "Body | Plan (£m) | Actual (£m)\n"
            "Brookmere Trust | -2.0 | -3.1\nFellside ICB | 0.9 | 0.6\n")
    found = by_text(full_nlp(text))
    assert found["-3.1"]["role"] == "deficit"
    assert found["0.6"]["role"] == "surplus"


def test_list_items_share_out_the_amount_their_introduction_gives(full_nlp):
    text = ("Hospices get winter money\n\n"
            "The department said £9m will go to three hospices in the county:\n"
            "- Elmstead Hospice: £4m\n- Brackley Hospice: £3m\n- Ashwell Hospice: £2m\n")
    found = by_text(full_nlp(text))
    assert found["£9m"]["role"] == "funding"
    assert found["£4m"]["role"] == "funding"
    assert found["£4m"]["why"]["role"] == "list_intro_amount"


def test_a_table_of_divisions_belongs_to_the_body_the_passage_is_about(full_nlp):
    text = ("Brookmere Community NHS Trust overspends\n\n"
            "Brookmere Community NHS Trust is over budget after nine months.\n\n"
            "Division | Budget to M9 (£000) | Overspend to M9 (£000)\n"
            "Theatres | 9,100 | 420\nPharmacy | 4,300 | 75\n")
    found = by_text(full_nlp(text))
    assert found["420"]["org"] == "Brookmere Community NHS Trust"
    assert found["420"]["why"]["org"].startswith("table:sub_unit_row")
