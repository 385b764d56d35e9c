"""Tests of owners on digest and round-up pages: a "Label:" or numbered paragraph opens an item
of its own (data/structure.toml ``story_openers``, nlp/money_context.py story starts), a court
named as a venue owns nothing (data/money.toml ``never_owner_names``), and an
object pronoun of a verb coordinated under a giver is not the giver (nlp/owner_references.py).

Every text here is written for these tests.
"""

from __future__ import annotations

import pytest
from money_helpers import by_text

from nlp.money_context import MoneyContext


@pytest.fixture(scope="module")
def full_nlp():
    from nlp.extract import load_pipeline

    return load_pipeline()


def test_a_digest_label_opens_a_new_item():
    text = ("Round-up\n\n"
            "Staffing: Pellow Bay Hospitals NHS Trust has hired forty new nurses this spring.\n\n"
            "Dentistry: NHS Frome Valley ICB will reopen two dental clinics in the town centre.\n")
    starts = MoneyContext._stories(text)
    assert text.index("Dentistry") in starts
    assert text.index("Staffing") in starts


def test_a_numbered_item_opens_a_new_item_but_a_short_label_line_does_not():
    text = ("Weekly notes\n\n"
            "1. Estates. Pellow Bay Hospitals NHS Trust has sold a disused clinic in the town.\n"
            "2. Pay. NHS Frome Valley ICB expects the pay award to cost more than it planned.\n"
            "Note: see above.\n")
    starts = MoneyContext._stories(text)
    assert text.index("2. Pay") in starts
    assert text.index("Note:") not in starts


def test_the_lead_of_a_digest_item_owns_its_figure(full_nlp):
    text = ("Briefing\nNews in brief\n\n"
            "Clinics: Marden Street Surgery has reopened its branch site after a refit.\n\n"
            "Medicines: NHS Frome Valley ICB’s drugs budget will be overspent by £1.4m in "
            "2025/26, its finance lead, Dr Ana Reyes, said.\n")
    found = by_text(full_nlp, text)["£1.4m"]
    assert found["org"] == "NHS Frome Valley ICB"


def test_it_after_a_coordinated_giving_verb_is_the_recipient(full_nlp):
    text = ("Pellow Bay Hospitals NHS Trust will run the town’s walk-in centre from May, after "
            "NHS Frome Valley ICB agreed the plan. The ICB will pay the trust £2m over two years "
            "and will give it a further £0.6m in 2026/27 for new staff.")
    found = by_text(full_nlp, text)["£0.6m"]
    assert found["org"] == "Pellow Bay Hospitals NHS Trust"
    assert found["why"]["org"].endswith("salience:it")


def test_a_court_named_as_a_venue_never_owns_a_figure(full_nlp):
    text = ("Clinic firm fined\n\n"
            "Larkspur Clinics Ltd admitted safety failings at Dunmore Crown Court on Monday. "
            "The company was also told to pay costs of £52,000.")
    found = by_text(full_nlp, text)["£52,000"]
    assert found["org"] == "Larkspur Clinics Ltd"


def test_funding_agreed_by_a_funder_for_a_named_recipient_is_the_recipient_s(full_nlp):
    text = ("Hospice nurses\n\n"
            "The county has too few night nurses. A grant of £90,000 has been approved by "
            "NHS Frome Valley ICB for Tarrow Hospice to fund two more.")
    found = by_text(full_nlp, text)["£90,000"]
    assert found["org"] == "Tarrow Hospice"
    assert found["why"]["org"].endswith("recipient_after_agent")


def test_a_digest_item_without_a_year_runs_under_the_page_s_first_year(full_nlp):
    text = ("Regional Finance Notes\nIn brief, 2 June 2025\n\n"
            "Plans: NHS Frome Valley ICB has submitted a plan for 2025/26 with a £12m deficit.\n\n"
            "Estates: Pellow Bay Hospitals NHS Trust expects a small surplus of £0.8m, its "
            "finance director said.\n")
    found = by_text(full_nlp, text)["£0.8m"]
    assert found["org"] == "Pellow Bay Hospitals NHS Trust"
    assert found["period"] == "2025-26"
