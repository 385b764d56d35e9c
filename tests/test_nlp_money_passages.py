"""Tests of the money component's reading of the passage around a figure: the body a passage
is about (nlp/owner_topic.py), figures given for several bodies (nlp/owner_coordination.py), the
year a statement, a list or a relative phrase gives (nlp/periods.py) and the roles that national
bodies' agreements, limits, allocations and offers give (data/money.toml).

Every text here is written for these tests.
"""

from __future__ import annotations

import pytest
from money_helpers import amounts, by_text, one

# ---------------------------------------------------------------------------- topic owner


def test_a_figure_without_an_owner_in_its_sentence_is_the_story_leads_body(full_nlp):
    text = ("Annual accounts published\n\n"
            "Marlowe Bridge Hospitals NHS Trust has published its accounts for 2023/24. "
            "Prescribing costs were a particular worry in the winter. "
            "Agency spending fell to £6.2m.\n")
    found = by_text(full_nlp, text)
    assert found["£6.2m"]["org"] == "Marlowe Bridge Hospitals NHS Trust"
    assert found["£6.2m"]["why"]["org"] == "topic:story_lead"


def test_a_title_s_subtitle_line_does_not_start_a_story_of_its_own(full_nlp):
    # "the trust" under the subtitle is the body named on the title line above it
    text = ("Kelbrook Valley Community NHS Trust\n"
            "Finance report, quarter 3 2025/26: update for the council of governors\n\n"
            "Overall position\n"
            "The trust is reporting a year-to-date deficit of £2.7m, which is £0.4m worse "
            "than plan. Staffing costs explain most of it.\n")
    found = by_text(full_nlp, text)["£2.7m"]
    assert found["org"] == "Kelbrook Valley Community NHS Trust"
    assert found["why"]["org"].endswith("salience:the_trust")
    assert found["period"] == "2025-26"


def test_a_lead_that_names_its_body_later_gives_the_passage_its_owner(full_nlp):
    # the lead says "the trust" and the name comes in the next paragraph
    text = ("Theatres to close at weekends\n\n"
            "Weekend operating lists will stop at Oakhurst General after the trust that runs "
            "the hospital said it must cut costs.\n\n"
            "Pellham and Oakhurst Hospitals NHS Trust told governors that its overspend was "
            "growing. A loss of £6.4m is now forecast for the year.\n")
    found = one(full_nlp, text)
    assert found["org"] == "Pellham and Oakhurst Hospitals NHS Trust"
    assert found["why"]["org"] == "topic:lead_named_later"


@pytest.mark.parametrize("title", [
    "Finance report, month 7 (October) 2025/26",
    "Q3 25/26 system finance update",
    "2025/26 financial position: report to the board",
])
def test_a_report_title_s_year_governs_figures_the_report_does_not_date(full_nlp, title):
    text = (f"Brightmoor Community NHS Trust\n{title}\n\n"
            "Overall position\nThe trust is on plan overall.\n\n"
            "Estates\nSpending on maintenance stands at £1.3m against a budget of £2m.\n")
    found = by_text(full_nlp, text)
    assert {a["period"] for a in found.values()} == {"2025-26"}
    assert found["£1.3m"]["why"]["period"] == "report_title_year"


@pytest.mark.parametrize("dateline", [
    "Week 14 of 2025/26, published 3 July 2025",
    "News for the week ending 3 July 2025 (month 3 of 2025/26)",
    "Issue 212, July 2025, 2025/26",
    "Thursday 3 July 2025 (financial year 2025/26)",
])
def test_a_periodical_s_date_line_pins_this_year_but_dates_no_other_story(full_nlp, dateline):
    text = (f"Care Money Weekly\n{dateline}\n\n"
            "Pendlebury Council has cut £0.8m from its meals service this year, it said.\n\n"
            "Ravensworth Hospice has settled a claim by a former supplier for £45,000.\n")
    found = by_text(full_nlp, text)
    assert found["£0.8m"]["period"] == "2025-26"
    assert found["£0.8m"]["why"]["period"] == "relative-pinned"
    assert found["£45,000"]["period"] is None  # a one-off sum is not dated by the page's date


def test_the_year_of_the_passage_is_the_pinned_year(full_nlp):
    text = ("Week 20 of 2024/25\n\n"
            "Copperdale Hospitals NHS Trust expects to end the year £3.1m in deficit.\n")
    assert one(full_nlp, text)["period"] == "2024-25"


def test_a_title_without_a_report_s_words_dates_nothing_it_does_not_say(full_nlp):
    text = ("Hospital car parks 2025/26\n\n"
            "Charges\nParking at the hospital costs £4 a day, and the trust spent £1.3m on "
            "new barriers.\n")
    found = by_text(full_nlp, text)
    assert found["£1.3m"]["why"]["period"] != "report_title_year"


def test_an_earlier_figure_in_the_sentence_decides_a_later_ones_owner(full_nlp):
    text = ("Annual accounts published\n\n"
            "Marlowe Bridge Hospitals NHS Trust has published its accounts for 2023/24. "
            "Prescribing costs were a particular worry in the winter. "
            "Agency spending fell to £6.2m from £7.9m the year before.\n")
    found = by_text(full_nlp, text)
    assert found["£7.9m"]["org"] == "Marlowe Bridge Hospitals NHS Trust"
    assert found["£7.9m"]["why"]["org"] == "previous_amount_same_sentence"


def test_a_demonstrative_figure_keeps_the_owner_of_the_one_before(full_nlp):
    text = ("The Department of Health and Social Care had a spending limit of £150bn. "
            "Campaigners welcomed the news in a statement. "
            "This £150bn limit excludes depreciation and was underspent by £20m.\n")
    found = [a for a in amounts(full_nlp, text) if a["text"] == "£20m"][0]
    assert found["org"] == "Department of Health and Social Care"


@pytest.mark.parametrize("sentence", [
    "Residents pay £1,200 a week for a room.",
    "The business case put the total cost at £90m.",
])
def test_a_subject_that_is_no_body_leaves_the_figure_without_owner(full_nlp, sentence):
    text = ("Harwick care plans approved\n\n"
            "Harwick Vale NHS Foundation Trust has approved its plans for a new unit. "
            f"{sentence}\n")
    found = [a for a in amounts(full_nlp, text)][-1]
    assert found["org"] is None
    assert found["why"]["org"] == "sentence_subject_nobody"


def test_a_statement_of_the_documents_year_governs_figures_without_their_own(full_nlp):
    text = ("Round-up of board papers\n\n"
            "All figures are for 25/26 unless stated. Fernhill ICB ended 2024/25 with a "
            "deficit of £12m. At month 3 it had overspent by £4m.\n")
    found = by_text(full_nlp, text)
    assert found["£12m"]["period"] == "2024-25"  # stated in its own clause
    assert found["£4m"]["period"] == "2025-26"
    assert found["£4m"]["why"]["period"] == "document_governing"


@pytest.mark.parametrize("phrase", ["the year before", "a year earlier", "the prior year"])
def test_a_year_counted_from_the_passage_anchors_on_the_passages_year(full_nlp, phrase):
    text = ("Ashwell Trust accounts for 2023/24\n\n"
            "Ashwell Trust published its accounts for 2023/24 on Monday. "
            f"It made a surplus of £0.6m, after a deficit of £5.1m {phrase}.\n")
    found = by_text(full_nlp, text)
    assert found["£0.6m"]["period"] == "2023-24"  # the relative year is the later figure's
    assert found["£5.1m"]["period"] == "2022-23"
    assert found["£5.1m"]["why"]["period"] == "relative-anchored-passage"


@pytest.mark.parametrize(("pattern", "text", "figure"), [
    ("right_agreed_with_national_body",
     "Oakridge CCG expects a deficit of £3m, against a planned surplus of £0.5m agreed with "
     "NHS England.", "£0.5m"),
    ("right_national_body_agreed",
     "Oakridge Trust ended the year £20m in deficit, well above the £8m deficit that NHS "
     "Improvement had set.", "£8m"),
    ("left_agreed_with_national_body_that",
     "Oakridge Trust has agreed with NHS England that its deficit will not exceed £14m.", "£14m"),
    ("left_deficit_limit_of",
     "Oakridge ICB has been given a deficit limit of £30m for the coming year.", "£30m"),
])
def test_a_deficit_agreed_with_a_national_body_is_a_control_total(full_nlp, pattern, text,
                                                                   figure):
    found = by_text(full_nlp, text)
    assert found[figure]["role"] == "control_total"
    assert found[figure]["why"]["role"] == f"pattern:{pattern}"
    others = [a for t, a in found.items() if t != figure]
    assert all(a["role"] != "control_total" for a in others)


def test_bodies_named_together_as_subject_own_no_one_figure(full_nlp):
    text = ("Ashgrove Hospitals NHS Trust and Pellworth Community NHS Trust have a combined "
            "estate in poor repair. Ashgrove Hospitals NHS Trust and Pellworth Community NHS "
            "Trust have a maintenance backlog of £120m.\n")
    found = [a for a in amounts(full_nlp, text) if a["text"] == "£120m"][0]
    assert found["org"] is None


def test_a_plural_pronoun_owns_nothing_unless_it_points_to_a_group_named_as_one(full_nlp):
    text = ("Three health boards in the north are in difficulty. NHS Corran is the largest. "
            "Their plans assume savings of £40m.\n")
    found = [a for a in amounts(full_nlp, text) if a["text"] == "£40m"][0]
    assert found["org"] is None and found["why"]["org"] == "parse:nobody"
    text = ("The Fenland Borders CCGs have a shared plan, and they expect to miss their control "
            "total by £6m.\n")
    found = [a for a in amounts(full_nlp, text) if a["text"] == "£6m"][0]
    assert found["org"] == "Fenland Borders CCGs"


def test_a_spending_ceiling_set_by_a_national_body_stays_a_spending_limit(full_nlp):
    text = ("Oakridge Trust's agency bill is £12m so far, against a ceiling of £8m set by NHS "
            "England.\n")
    found = by_text(full_nlp, text)
    assert found["£8m"]["role"] == "spending_limit"


def test_an_unnamed_body_as_subject_owns_the_figure_itself(full_nlp):
    text = ("Greyhaven Hospitals NHS Trust reviews its advisers\n\n"
            "Greyhaven Hospitals NHS Trust has reviewed its use of advisers this year. "
            "A consultancy that advised the trust on its estate has been paid £1.4m.\n")
    found = [a for a in amounts(full_nlp, text) if a["text"] == "£1.4m"][0]
    assert found["org"] is None
    assert found["why"]["org"] in ("parse:nobody", "sentence_subject_nobody")


def test_a_national_body_leading_a_story_does_not_own_its_sector_figures(full_nlp):
    text = ("Agency spending over the limit\n\n"
            "NHS England has published figures on agency staff for the last financial year. "
            "The bill was £0.6bn above the limit for the sector.\n")
    found = [a for a in amounts(full_nlp, text) if a["text"] == "£0.6bn"][0]
    assert found["org"] is None


@pytest.mark.parametrize(("text", "role"), [
    ("Breckmoor ICB's capital allocation for the year is £42m.", "funding"),
    ("Breckmoor Hospitals NHS Trust invested £12m of its capital in new scanners.", "cost"),
])
def test_an_allocation_is_funding_and_a_bodys_investment_is_its_cost(full_nlp, text, role):
    assert one(full_nlp, text)["role"] == role


@pytest.mark.parametrize("pin", [
    "Its report shows an overspend of £2m for the first six months of 2025/26.",
    "The trust is planning for a deficit of £2m in 2025/26.",
    "Councils will get £2m to help in the winter of 2025/26.",
])
def test_an_in_year_report_pins_this_year(full_nlp, pin):
    text = f"{pin} Copperfield Council's care budget is overspent by £0.7m this year.\n"
    found = [a for a in amounts(full_nlp, text) if a["text"] == "£0.7m"][0]
    assert found["period"] == "2025-26" and found["why"]["period"] == "relative-pinned"


def test_a_year_counted_back_from_a_figure_does_not_carry_to_the_next(full_nlp):
    text = ("Holmfirth Community Trust results\n\n"
            "Holmfirth Community Trust ended 2023/24 with a surplus of £1.2m, its first. "
            "Its turnover rose to £44m from £41m the year before. Reserves fell to £3m.\n")
    found = by_text(full_nlp, text)
    assert found["£41m"]["period"] == "2022-23"
    assert found["£3m"]["period"] != "2022-23"


def test_an_object_pronoun_is_not_the_giver(full_nlp):
    text = ("Glyncorrwg University Health Board remains in difficulty. "
            "The Welsh Government gave it £12m of support in 2022-23.\n")
    found = [a for a in amounts(full_nlp, text) if a["text"] == "£12m"][0]
    assert found["org"] == "Glyncorrwg University Health Board"


def test_the_practice_points_back_to_the_named_practice(full_nlp):
    text = ("Mossbank Medical Practice has struggled to recruit. NHS Ardale ICB, which "
            "commissions the practice, has given the practice £60,000 for locum cover.\n")
    found = [a for a in amounts(full_nlp, text) if a["text"] == "£60,000"][0]
    assert found["org"] == "Mossbank Medical Practice"


def test_coordinated_bodies_and_figures_pair_in_order_after_a_short_verb(full_nlp):
    text = ("Three others – Ashby Vale NHS Trust, Corrick Hospitals NHS Trust and Dunmore "
            "NHS Foundation Trust – paid £9.1m, £7.4m and £5.2m.\n")
    found = amounts(full_nlp, text)
    assert [(a["org"], a["why"]["org"]) for a in found] == [
        ("Ashby Vale NHS Trust", "respectively"), ("Corrick Hospitals NHS Trust", "respectively"),
        ("Dunmore NHS Foundation Trust", "respectively")]


def test_the_system_in_a_later_section_is_the_one_commissioner_named(full_nlp):
    text = ("Board paper: finances at month 6\n\n"
            "This summarises the report to the board of NHS Tarnside ICB in October.\n\n"
            "Drivers of the overspend at the acute trust\n"
            "Most of the pressure sits at Orbury Hospitals NHS Trust, where agency costs rose. "
            "The system's deficit could exceed £25m.\n")
    found = [a for a in amounts(full_nlp, text) if a["value_gbp"] == 25_000_000][0]
    assert found["org"] == "NHS Tarnside ICB"


def test_the_board_as_subject_is_the_health_board_the_story_is_about(full_nlp):
    text = ("Glenbrae finance report\n\n"
            "NHS Glenbrae has published its finance report for 2024/25. "
            "The board has asked the Scottish Government for £6m of brokerage.\n")
    found = [a for a in amounts(full_nlp, text) if a["text"] == "£6m"][0]
    assert found["org"] == "NHS Glenbrae"
    assert found["why"]["org"].endswith("salience:the_board")


@pytest.mark.parametrize(("text", "role"), [
    ("NHS Corland ICB has so far offered £1.5m.", "funding"),
    ("Corland Trust has identified recovery actions worth £2.2m.", "savings"),
])
def test_an_offer_is_funding_and_recovery_actions_are_savings(full_nlp, text, role):
    assert one(full_nlp, text)["role"] == role


@pytest.mark.parametrize(("pattern", "text"), [
    ("multi_year_over_years",
     "In 2024/25 Tollgate Trust agreed a deal. It will pay £90m over the next ten years."),
    ("multi_year_over_the_period",
     "In 2024/25 Tollgate Trust agreed a deal. Its grant rises by £4m over the period."),
    ("multi_year_for_years",
     "In 2024/25 Tollgate Trust agreed a deal. It will pay Hexley Labs £12m to run the "
     "laboratory for seven years."),
    ("multi_year_n_year_deal",
     "In 2024/25 Tollgate Trust agreed a deal. The four-year contract is worth £8m."),
    ("cumulative_since",
     "In 2024/25 Tollgate Trust reviewed its sites. The shared kitchen has saved it £0.6m "
     "since it opened."),
    ("cumulative_between_years",
     "Tollgate Trust paid £3.1m in damages between 2018 and 2023, the report found."),
    ("cumulative_by_date",
     "By the end of June 2024 the council had spent £45m on the new depot."),
])
def test_a_figure_spread_over_years_has_no_one_period(full_nlp, pattern, text):
    found = amounts(full_nlp, text)[-1]
    assert found["period"] is None and found["why"]["period"] == f"pattern:{pattern}"


def test_a_figure_in_apposition_is_the_same_bodys(full_nlp):
    text = ("Pellow Health Board forecasts £20m, and Carrow Bay Health Board expects to be "
            "£12.1m in the red, a deterioration of £3.3m on last year.\n")
    found = by_text(full_nlp, text)
    assert found["£3.3m"]["org"] == found["£12.1m"]["org"] == "Carrow Bay Health Board"


@pytest.mark.parametrize(("text", "figure", "period"), [
    # an event's calendar year in a clause on another noun, or after "after": not the money's
    ("Fernley Trust will pay £90,000 to a man whose fracture was missed in 2022.", "£90,000",
     None),
    ("Fernley Trust was ordered to pay £20,000 in costs after a fire broke out in 2021.",
     "£20,000", None),
    # a second verb's year is its own
    ("Fernley Trust expects a surplus of £0.8m for 2025/26, and will bid for capital in "
     "2026/27.", "£0.8m", "2025-26"),
    # a plan's year after "after" still dates the money
    ("Fernley Trust must find an extra £2m of savings after the regulator rejected its "
     "2024/25 plan.", "£2m", "2024-25"),
    # the part has the year of the whole
    ("Fernley Trust has delivered £4m of the £7m of savings it planned for 2025/26.", "£4m",
     "2025-26"),
])
def test_a_year_in_another_clause_does_not_date_the_money(full_nlp, text, figure, period):
    assert by_text(full_nlp, text)[figure]["period"] == period


def test_a_report_title_does_not_date_a_yearly_rate(full_nlp):
    text = ("Finance report, month 6 2025/26\n\n"
            "The trust's deficit is £4.1m, as planned. A new catering contract will cost "
            "£0.3m a year once it starts.\n")
    found = by_text(full_nlp, text)
    assert found["£4.1m"]["period"] == "2025-26"
    assert found["£0.3m"]["per"] == "year"
    assert found["£0.3m"]["period"] is None and found["£0.3m"]["why"]["period"] == "rate"


def test_revenue_as_the_subject_is_turnover(full_nlp):
    found = one(full_nlp, "Its revenue rose to £42m last year, helped by new contracts.")
    assert found["role"] == "turnover" and found["why"]["role"] == "subject"


def test_list_items_take_the_kind_of_money_the_passage_before_the_list_names(full_nlp):
    text = ("The grant is allocated to the boards by population. The three largest shares are:\n"
            "- NHS Upper Kell ICB: £9.1m\n"
            "- NHS Marrow Vale ICB: £7.7m\n")
    found = by_text(full_nlp, text)
    assert found["£9.1m"]["role"] == found["£7.7m"]["role"] == "funding"
    assert found["£9.1m"]["why"]["role"] == "list_intro_passage"


def test_an_inline_list_item_takes_the_kind_of_money_of_the_items_before_it(full_nlp):
    text = ("Two boards lag furthest: NHS Upper Kell ICB (£20m saved against a target of £35m) "
            "and NHS Marrow Vale ICB (£14m against £30m).")
    found = by_text(full_nlp, text)
    assert {found[t]["role"] for t in ("£20m", "£35m", "£14m", "£30m")} == {"savings"}


def test_a_figure_with_no_word_of_its_kind_takes_the_sentence_befores(full_nlp):
    text = ("Capital will be bid for by the boards. Two schemes are named: a £3m scanner suite "
            "at Kell General Hospital.")
    found = by_text(full_nlp, text)
    assert found["£3m"]["role"] == "funding"
    assert found["£3m"]["why"]["role"] == "previous_sentence_cue"


def test_a_figure_named_again_without_its_kind_is_the_same_money(full_nlp):
    text = ("Harlow Vale Trust has been told to save £14m this year. The chief nurse said: "
            "\u201cNobody can take £14m out of a hospital this size quietly.\u201d")
    found = amounts(full_nlp, text)
    assert [a["role"] for a in found] == ["savings"]


def test_a_backlog_is_dated_only_by_its_own_sentence_and_its_part_by_the_whole(full_nlp):
    text = ("Kell Trust has published its accounts for 2023/24. Its maintenance backlog has "
            "reached £90m, and £30m of it is classed as high risk. The backlog stood at £95m at "
            "the end of 2024/25.")
    found = by_text(full_nlp, text)
    assert found["£90m"]["period"] is None
    assert found["£90m"]["why"]["period"] == "pattern:stock_backlog"
    assert found["£30m"]["period"] is None and found["£30m"]["why"]["period"] == "partitive"
    assert found["£95m"]["period"] == "2024-25"


def test_a_multi_year_deal_is_not_dated_by_the_year_it_was_let(full_nlp):
    found = by_text(full_nlp, "NHS Kell ICB awarded a five-year scanning contract worth £30m to "
                              "Arvon Imaging Ltd in 2023.")
    assert found["£30m"]["period"] is None
    assert found["£30m"]["why"]["period"] == "pattern:multi_year_n_year_deal"


def test_two_measures_of_one_verb_share_the_year_after_the_second(full_nlp):
    found = by_text(full_nlp, "Harrowgate Clinics Ltd reported revenue of £62m and an operating "
                              "profit of £4.1m in 2024.")
    assert found["£62m"]["period"] == found["£4.1m"]["period"] == "2024"


def test_a_restatement_in_brackets_keeps_the_term_after_it(full_nlp):
    text = ("Kell Trust cut its agency bill in 2024/25. It signed a deal with Dunmore Staffing "
            "Inc, worth $6m (about £4.7m) over four years.")
    found = by_text(full_nlp, text)
    assert found["$6m"]["period"] is None and found["about £4.7m"]["period"] is None
    assert found["about £4.7m"]["why"]["period"] == "pattern:multi_year_over_years"
