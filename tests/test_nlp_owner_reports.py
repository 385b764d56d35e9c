"""Tests of owners in board papers and system reports: the body a report's title names owns the
figures of its sections (nlp/money_context.py salience, nlp/owner_topic.py), tables whose rows
are measures or schemes of that body (nlp/money_structure.py one_body_rows), topic headings for
a year (data/structure.toml subheading_topic_for_year), and subjects that are not the owner:
the agent of a relative clause the parser reads as a complement, a share of a figure ("most of
the £2m gap"), a title line the parser joins to the first sentence (nlp/owners.py).

Every text here is written for these tests.
"""

from __future__ import annotations

import pytest
from money_helpers import by_text

from nlp.structure import read_structure

TRUST = "Wendlow Vale Hospitals NHS Foundation Trust"


@pytest.fixture(scope="module")
def full_nlp():
    from nlp.extract import load_pipeline

    return load_pipeline()


def test_a_table_of_capital_schemes_belongs_to_the_report_s_body(full_nlp):
    text = (f"Finance summary: month 8, 2025/26\n{TRUST}, board of directors\n\n"
            "Revenue\nThe trust is on plan for the year.\n\n"
            "Capital\n"
            "Scheme | Budget £m | Forecast £m\n"
            "Ward refurbishment | 5.2 | 5.6\n"
            "Imaging | 2.4 | 2.1\n"
            "Theatre ventilation | 1.9 | 1.9\n")
    found = by_text(full_nlp, text)
    assert found["5.2"]["org"] == TRUST
    assert found["5.2"]["why"]["org"].startswith("table:rows_not_bodies")
    assert found["2.4"]["org"] == TRUST
    doc = full_nlp(text)
    assert "Imaging" not in {o["name"] for o in doc._.organisations}


def test_a_table_of_bodies_keeps_its_rows_as_owners(full_nlp):
    text = ("System report, month 5 2025/26\n\n"
            "Trust | Deficit £m\n"
            "Ashcombe | 4.1\nBrindle Moor | 2.2\nTotal | 6.3\n")
    found = by_text(full_nlp, text)
    assert found["4.1"]["org"] not in (None, TRUST)
    assert found["6.3"]["org"] is None


def test_a_topic_heading_for_a_year_is_a_section_not_a_story():
    text = ("Finance report\nRadley Trust\n\nRevenue\nThe trust is on plan.\n\n"
            "Planning for 2026/27\nThe draft plan shows a deficit.\n")
    headings = {h.text: h.subheading for h in read_structure(text).headings}
    assert headings["Planning for 2026/27"] == "subheading_topic_for_year"


def test_the_trust_in_a_later_section_is_the_body_the_title_names(full_nlp):
    text = (f"Finance summary: month 10, 2025/26\n{TRUST}, board of directors\n\n"
            "Forecast\nThe forecast is in line with plan.\n\n"
            "Pathology\nA shared laboratory run with Corby Ashe NHS Trust opened in May.\n\n"
            "Outlook\nThe trust would need savings of £12m to balance next year.\n")
    found = by_text(full_nlp, text)["£12m"]
    assert found["org"] == TRUST
    assert found["why"]["org"].endswith("salience:the_trust")


def test_the_agent_of_a_that_clause_after_a_noun_is_not_the_owner(full_nlp):
    text = (f"Finance summary: month 11, 2025/26\n{TRUST}, board of directors\n\n"
            "Forecast\nThe forecast outturn is a deficit of £9.5m, in line with the £9.5m "
            "limit that NHS England agreed with it in June, and the board was told that risks "
            "remain.\n")
    assert [a["org"] for a in full_nlp(text)._.amounts] == [TRUST, TRUST]


def test_a_share_of_a_figure_as_subject_does_not_make_it_nobody_s(full_nlp):
    text = (f"Integrated report: finance\n{TRUST}, board meeting of 3 June 2025\n\n"
            "A deficit of £6.1m was recorded by the end of May against a plan of £4.0m. "
            "Most of the £2.1m gap sits in surgery.\n")
    found = by_text(full_nlp, text)
    assert found["£6.1m"]["org"] == TRUST  # the title line is no subject of this sentence
    assert found["£2.1m"]["org"] == TRUST


def test_a_bullet_that_is_a_sentence_is_owned_through_its_parse(full_nlp):
    text = ("Briefing, 4 May 2026\n\nIn brief\n"
            "• Kestrel Imaging, a private provider of scans for the region, has won a £9m "
            "contract from NHS Olbury ICB to run two hubs.\n"
            "• Harrowgate Trust said it would close a ward.\n")
    doc = full_nlp(text)
    found = {a["text"]: a for a in doc._.amounts}["£9m"]
    assert found["org"] == "NHS Olbury ICB"
    assert not any(o["name"].startswith("Kestrel Imaging ") for o in doc._.organisations)


def test_support_paid_to_the_system_is_the_icb_s(full_nlp):
    text = ("NHS Brackwell ICB\nFinance report to the board, month 9 2025/26\n\n"
            "Support\nNHS England has paid £11m of deficit support to the system for "
            "2025/26.\n")
    found = by_text(full_nlp, text)["£11m"]
    assert found["org"] == "NHS Brackwell ICB"


def test_they_as_subject_makes_several_bodies_figure_nobody_s(full_nlp):
    text = ("NHS Brackwell ICB\nSystem report to the board, month 9 2025/26\n\n"
            "Providers\nThe system's trusts are Brackwell Hospitals NHS Trust and Lyne "
            "Community NHS Trust. Together they forecast a deficit of £31.5m. Lyne's own "
            "deficit of £12m is the larger share.\n")
    found = by_text(full_nlp, text)["£31.5m"]
    assert found["org"] is None


def test_an_apposition_names_the_body_of_a_generic_subject(full_nlp):
    text = ("Fraud cases heard\n\nA cleaning contractor, Brightmoor Services Ltd, was fined "
            "£40,000 after it overcharged a hospital. It was also ordered to repay £9,000.\n")
    found = by_text(full_nlp, text)
    assert found["£40,000"]["org"] == "Brightmoor Services Ltd"
    assert found["£9,000"]["org"] == "Brightmoor Services Ltd"


def test_a_member_of_staff_at_a_body_stands_for_it(full_nlp):
    text = ("Fraud cases heard\n\nThe panel heard two cases this week. A finance officer at "
            "Hollin Lane Surgery took £31,000 from its accounts.\n")
    found = by_text(full_nlp, text)["£31,000"]
    assert found["org"] == "Hollin Lane Surgery"
    assert found["why"]["org"].endswith("staff_at_body")


def test_a_committee_leading_the_story_does_not_own_its_cases(full_nlp):
    text = ("MPs hear of waste\n\nThe Public Accounts Committee heard evidence on Tuesday. "
            "Consultancy spending of £3m went unchecked, witnesses said.\n")
    found = by_text(full_nlp, text)["£3m"]
    assert found["org"] != "Public Accounts Committee"


def test_a_sentence_placed_at_a_body_is_that_body_s(full_nlp):
    text = ("Fraud cases heard\n\nThe panel heard two cases this week.\n\n"
            "At Kelbrook Community NHS Trust, a clerk invented suppliers over two years, "
            "taking £52,000 before an audit found it.\n")
    found = by_text(full_nlp, text)["£52,000"]
    assert found["org"] == "Kelbrook Community NHS Trust"
    assert found["why"]["org"] == "sentence_framed_at_body"


def test_the_board_given_money_is_the_health_board(full_nlp):
    text = ("Board escalated\n\nAfon Teg University Health Board remains in targeted "
            "intervention. The Welsh Government gave the board £12m of extra support in "
            "2024/25.\n")
    found = by_text(full_nlp, text)["£12m"]
    assert found["org"] == "Afon Teg University Health Board"


def test_a_second_it_in_a_sentence_is_the_first_it_s_body(full_nlp):
    text = ("New ambulances\n\nFellmoor Ambulance Service NHS Trust is replacing its fleet. "
            "It has been given £5m by the Department of Health and Social Care for new "
            "vehicles, and it plans to spend a further £2m of its own capital on a depot.\n")
    found = by_text(full_nlp, text)["£2m"]
    assert found["org"] == "Fellmoor Ambulance Service NHS Trust"


def test_a_contract_awarded_in_the_next_sentence_is_the_awarder_s(full_nlp):
    text = ("Builder picked\n\nThe firm Harcourt Build has won the £210m contract to build a "
            "new hospital in Fenley. The contract was awarded by Fenley and Marsh NHS "
            "Foundation Trust after four bids.\n")
    found = by_text(full_nlp, text)["£210m"]
    assert found["org"] == "Fenley and Marsh NHS Foundation Trust"


def test_a_sentence_opening_with_of_the_total_is_a_part_of_the_figure_before(full_nlp):
    text = ("Winter money\n\nNHS England has said how a £300m package for the winter will be "
            "split. Of the total, £200m is revenue funding for beds.\n")
    found = by_text(full_nlp, text)
    assert found["£200m"]["org"] == found["£300m"]["org"]
    assert found["£200m"]["why"]["org"] == "part_of_previous_opening"


def test_money_a_relative_clause_s_subject_set_aside_is_its(full_nlp):
    text = ("Winter money\n\nThe package was found by holding back part of the £1.2bn that "
            "NHS England set aside in its central budget for 2025/26.\n")
    found = by_text(full_nlp, text)["£1.2bn"]
    assert found["org"] == "NHS England"


def test_the_figure_an_object_is_pushed_to_is_its_possessor_s(full_nlp):
    text = ("Savings slip\n\nRavensdale Ambulance Service NHS Trust will deliver only part of "
            "its savings plan. The £4m shortfall will push its deficit to £9.5m this year.\n")
    found = by_text(full_nlp, text)
    assert found["£9.5m"]["org"] == "Ravensdale Ambulance Service NHS Trust"
    assert found["£9.5m"]["why"]["org"].startswith("parse:object_possessor")
    assert found["£4m"]["org"] == "Ravensdale Ambulance Service NHS Trust"


def test_the_hospice_is_the_hospice_named_before(full_nlp):
    text = ("Hospice appeal\n\nFernhill Hospice has launched an appeal to keep its day unit "
            "open. The hospice expects a deficit of £450,000 this year.\n")
    found = by_text(full_nlp, text)["£450,000"]
    assert found["org"] == "Fernhill Hospice"
    assert found["why"]["org"].endswith("salience:the_hospice")
