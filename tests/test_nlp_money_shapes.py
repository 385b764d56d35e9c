"""Tests of the amount shapes met on fresh trade-press, board-paper and local-paper text (round
5): tables that set spending against a budget, and the other named rules added with them.

Every text here is written for these tests.
"""

from __future__ import annotations

from money_helpers import amounts, by_text

# ---------------------------------------------------------------------------- tables


def test_actual_and_variance_beside_a_budget_column_are_spending_against_it(full_nlp):
    text = ("Orwell Fen Community NHS Trust\nFinance report, month 6 2025/26\n\n"
            "Spending by division\n"
            "Division | Budget £000 | Actual £000 | Variance fav/(adv) £000\n"
            "District nursing | 12,400 | 12,910 | (510)\n"
            "Therapies | 8,300 | 8,120 | 180\n")
    found = by_text(full_nlp, text)
    assert found["12,400"]["role"] == "budget"
    assert found["12,910"]["role"] == "cost"
    assert found["12,910"]["why"]["role"].endswith("+against_budget")
    assert found["(510)"]["role"] == "overspend"
    assert found["180"]["role"] == "underspend"


def test_a_variance_written_adverse_first_reads_brackets_as_favourable(full_nlp):
    text = ("Orwell Fen Community NHS Trust\nFinance report, month 6 2025/26\n\n"
            "Division | Budget £000 | Actual £000 | Variance adv/(fav) £000\n"
            "District nursing | 12,400 | 12,910 | 510\n"
            "Therapies | 8,300 | 8,120 | (180)\n")
    found = by_text(full_nlp, text)
    assert found["510"]["role"] == "overspend"
    assert found["(180)"]["role"] == "underspend"


def test_a_variance_against_plan_without_a_budget_column_stays_a_gap(full_nlp):
    text = ("System position\n\nThe board saw the figures for the half year.\n\n"
            "Body | Plan (£m) | Actual (£m) | Variance (£m)\n"
            "Brookmere Trust | -2.0 | -3.1 | -1.1\n")
    found = by_text(full_nlp, text)
    assert found["-3.1"]["role"] == "deficit"
    assert found["-1.1"]["role"] == "gap"


# ---------------------------------------------------------------------------- report sections


def test_a_topic_heading_with_a_qualifier_does_not_start_a_new_story(full_nlp):
    # subheading_topic_qualified: "Ward spending, year to date" is a part of the report
    text = ("Orwell Fen Community NHS Trust\nFinance report, month 6 2025/26\n\n"
            "Ward spending, year to date\n"
            "Most wards are close to budget, and NHS England has asked for weekly returns.\n\n"
            "Efficiency\n"
            "The savings target for the year is £3.4m.\n")
    found = by_text(full_nlp, text)
    assert found["£3.4m"]["org"] == "Orwell Fen Community NHS Trust"


def test_spending_above_a_ceiling_is_a_gap(full_nlp):
    # right_gap_more_than_limit is read before right_none_ahead_of_plan
    text = ("Orwell Fen Community NHS Trust has spent £2.3m on agency staff, "
            "leaving it £400,000 above the ceiling.")
    found = by_text(full_nlp, text)
    assert found["£400,000"]["role"] == "gap"


def test_a_capital_programme_is_a_budget(full_nlp):
    text = ("Orwell Fen Community NHS Trust has spent £1.2m of its capital programme "
            "of £4m this year.")
    found = by_text(full_nlp, text)
    assert found["£4m"]["role"] == "budget"


# ---------------------------------------------------------------------------- roles


def test_a_figure_with_no_kind_of_money_goes_on_the_run_before_it(full_nlp):
    text = ("The department named four hospices in the scheme. Elmstead Hospice will receive "
            "£3m to open new beds. Brackley Hospice is next with £2m, then Ashwell Hospice with "
            "£1m.")
    found = by_text(full_nlp, text)
    assert found["£3m"]["role"] == "funding"
    assert found["£2m"]["role"] == "funding"
    assert found["£2m"]["why"]["role"] == "run_of_figures"


def test_a_figure_compared_with_an_earlier_year_is_a_change_of_this_year(full_nlp):
    # right_other_more_than_before and the baseline baseline_than_clause_in
    text = ("Orwell Fen Community NHS Trust spent £61m on agency staff in 2024/25, "
            "about £12m more than the trust spent in 2021/22.")
    found = by_text(full_nlp, text)
    assert found["about £12m"]["role"] == "other"
    assert found["about £12m"]["period"] == "2024-25"
    assert found["about £12m"]["why"]["role"] == "pattern:right_other_more_than_before"


# ---------------------------------------------------------------------------- owners


def test_a_name_then_at_and_a_figure_owns_it(full_nlp):
    text = ("Agency bills rose across the county. The biggest spender was Orwell Fen "
            "Community NHS Trust, at £18.2m, ahead of Brackley Vale NHS Trust at £11m.")
    found = by_text(full_nlp, text)
    assert found["£18.2m"]["org"] == "Orwell Fen Community NHS Trust"
    assert found["£11m"]["org"] == "Brackley Vale NHS Trust"
    assert found["£11m"]["why"]["org"] == "name_before_at"


def test_a_possessive_with_its_noun_left_out_takes_the_noun_of_the_sentence_before(full_nlp):
    # left_elided_possessive_noun
    text = ("Two of the trusts were given control totals by NHS England last spring. "
            "Orwell Fen’s was a deficit of £12m; Brackley Vale’s was £7.5m.")
    found = by_text(full_nlp, text)
    assert found["£12m"]["role"] == "control_total"
    assert found["£7.5m"]["role"] == "control_total"
    assert found["£7.5m"]["why"]["role"] == "pattern:left_elided_possessive_noun"


def test_money_a_department_confirms_is_funding(full_nlp):
    text = ("The Department of Health and Social Care has confirmed £15m for 2025/26 to "
            "train pharmacists in rural areas.")
    found = by_text(full_nlp, text)
    assert found["£15m"]["role"] == "funding"
    assert found["£15m"]["why"]["role"] == "pattern:left_funding_verb"


def test_a_confirmed_deficit_is_still_a_deficit(full_nlp):
    text = "Orwell Fen Community NHS Trust has confirmed a £6m deficit for 2024/25."
    found = by_text(full_nlp, text)
    assert found["£6m"]["role"] == "deficit"


# ---------------------------------------------------------------------------- figures


def test_x_to_y_is_a_range_but_from_x_to_y_is_a_change():
    from nlp.money_parse import find_amounts

    (rng,) = find_amounts("Another £3m to £4m of savings will be needed.")
    assert (rng.value, rng.value_max, rng.qualifier) == (3_000_000, 4_000_000, "approx")
    (fees,) = find_amounts("Weekly fees vary from £850 to £1,100 a week.")
    assert (fees.value, fees.value_max, fees.per) == (850, 1100, "week")
    change = find_amounts("Its deficit grew from £3m to £4m.")
    assert [a.value_max for a in change] == [None, None]


# ---------------------------------------------------------------------------- periods


def test_a_monthly_spending_rate_takes_the_year_the_story_is_about(full_nlp):
    text = ("Orwell Fen Community NHS Trust expects a deficit of £9m in 2025/26.\n\n"
            "Locum spending is running at £0.8m a month, the finance director said.")
    found = by_text(full_nlp, text)
    assert found["£0.8m"]["period"] == "2025-26"
    assert found["£0.8m"]["why"]["period"] == "rate_running_monthly"


def test_a_yearly_saving_stays_without_a_year(full_nlp):
    text = ("Orwell Fen Community NHS Trust expects a deficit of £9m in 2025/26.\n\n"
            "Closing the clinic would save £0.4m a year, the finance director said.")
    found = by_text(full_nlp, text)
    assert found["£0.4m"]["period"] is None


def test_going_past_a_figure_is_more_than_it(full_nlp):
    found = by_text(full_nlp, "Orwell Fen Community NHS Trust says its deficit will top £15m.")
    assert found["top £15m"]["qualifier"] == "more_than"


def test_a_figure_named_a_target_deficit_is_a_control_total(full_nlp):
    text = ("Orwell Fen Community NHS Trust forecasts a deficit of £20m, above the £12m target "
            "deficit the regulator set it.")
    found = by_text(full_nlp, text)
    assert found["£12m"]["role"] == "control_total"


def test_repayable_cash_support_is_a_loan(full_nlp):
    text = "Orwell Fen Community NHS Trust needs £8m of repayable cash support to pay its staff."
    found = by_text(full_nlp, text)
    assert found["£8m"]["role"] == "other"


def test_a_figure_not_to_be_exceeded_is_no_more_than_it(full_nlp):
    text = "Orwell Fen Community NHS Trust says its deficit will not exceed £15m."
    found = by_text(full_nlp, text)
    assert [a["qualifier"] for a in found.values()] == ["exact"]


def test_figures_in_a_where_clause_belong_to_the_body_it_tells_of(full_nlp):
    text = ("Most of the overspend is at Brackley Vale NHS Trust, where agency nurses are "
            "costing £95,000 a week.")
    found = by_text(full_nlp, text)
    assert found["£95,000"]["org"] == "Brackley Vale NHS Trust"
    assert found["£95,000"]["why"]["org"] == "where_clause_of_named_body"


def test_funding_for_generic_recipients_belongs_to_the_funder_named(full_nlp):
    text = ("Hospices in the region will share £12m to keep beds open this winter, the "
            "Department of Health and Social Care said.")
    found = by_text(full_nlp, text)
    assert found["£12m"]["role"] == "funding"
    assert found["£12m"]["org"] == "Department of Health and Social Care"
    assert found["£12m"]["why"]["org"] == "funder_of_generic_recipients"


def test_funding_two_funders_announce_together_is_neither_s(full_nlp):
    text = ("Pharmacies will receive an extra £30m under a deal announced by NHS England and "
            "the Department of Health and Social Care.")
    found = by_text(full_nlp, text)
    assert found["£30m"]["org"] is None


def test_a_funder_pointed_back_to_owns_funding_for_generic_recipients(full_nlp):
    text = ("The Department of Health and Social Care has published its winter plan. "
            "Councils will receive a further £25m to buy care home places, the department said.")
    found = by_text(full_nlp, text)
    assert found["£25m"]["org"] == "Department of Health and Social Care"


def test_figures_in_a_whose_clause_belong_to_the_body_it_tells_of(full_nlp):
    text = ("The home is run by Fernleigh Care Homes, whose latest accounts show a loss of "
            "£2.3m.")
    found = by_text(full_nlp, text)
    assert found["£2.3m"]["org"] == "Fernleigh Care Homes"


def test_a_year_to_date_position_pins_this_year(full_nlp):
    text = ("Trusts in the region ended month 6 £40m behind their year-to-date plans for "
            "2025/26. Brackley Vale NHS Trust has cut its spending by £3m this year.")
    found = by_text(full_nlp, text)
    assert found["£3m"]["period"] == "2025-26"


def test_money_that_pays_for_something_from_a_commissioner_is_funding(full_nlp):
    # right_funding_from_funder
    text = ("Elm Road Surgery has hired a pharmacist, paid for with £45,000 from NHS "
            "Brackley Vale ICB.")
    found = by_text(full_nlp, text)
    assert found["£45,000"]["role"] == "funding"
    assert found["£45,000"]["why"]["role"] == "pattern:right_funding_from_funder"


def test_for_the_year_is_the_year_the_sentence_before_came_to_last(full_nlp):
    text = ("Brackley Vale NHS Trust ended 2024/25 with a deficit of £8m and plans for a deficit "
            "of £5m in 2025/26. Its savings target for the year is £12m.")
    found = by_text(full_nlp, text)
    assert found["£12m"]["period"] == "2025-26"


def test_a_bullet_label_before_a_sentence_that_names_a_body_is_no_body(full_nlp):
    text = ("Weekly round-up\n\nIn brief\n"
            "• Deal: NHS Brackley Vale ICB has signed a two-year contract worth £3.1m for "
            "podiatry with Footcare Partners.\n"
            "• Loss: Orwell Fen Community NHS Trust reported a deficit of £2m for the quarter.\n")
    found = by_text(full_nlp, text)
    assert found["£3.1m"]["org"] == "NHS Brackley Vale ICB"
    assert found["£2m"]["org"] == "Orwell Fen Community NHS Trust"


def test_revenue_support_is_a_loan(full_nlp):
    text = ("Orwell Fen Community NHS Trust has applied to the Department of Health and Social "
            "Care for £9m of revenue support.")
    found = by_text(full_nlp, text)
    assert found["£9m"]["role"] == "other"


def test_a_weekly_fee_takes_no_year_from_the_sentence_before(full_nlp):
    text = ("Fernleigh Care Homes made a loss of £1.1m in 2024/25. Residents pay up to "
            "£1,300 a week.")
    found = by_text(full_nlp, text)
    assert found["up to £1,300"]["period"] is None
    assert found["up to £1,300"]["why"]["period"] == "rate"


def test_a_contract_belongs_to_the_body_that_awards_it_not_the_winner(full_nlp):
    text = ("Footcare Partners, a private company, has won a contract from NHS Brackley Vale "
            "ICB worth £4.4m to run podiatry clinics.")
    found = by_text(full_nlp, text)
    assert found["£4.4m"]["org"] == "NHS Brackley Vale ICB"
    assert found["£4.4m"]["why"]["org"] == "contract_awarder"


def test_a_contract_awarded_jointly_is_no_one_body_s(full_nlp):
    text = ("A contract for hearing tests, worth £2m, has been awarded jointly by NHS Brackley "
            "Vale ICB and NHS Orwell Fen ICB to Soundcheck Ltd.")
    found = by_text(full_nlp, text)
    assert found["£2m"]["org"] is None
    assert found["£2m"]["why"]["org"] == "joint_sentence"


def test_a_contract_held_by_a_provider_is_not_the_provider_s(full_nlp):
    text = ("The clinics are provided by Orwell Fen Community NHS Trust under a contract worth "
            "£6m a year.")
    found = by_text(full_nlp, text)
    assert found["£6m"]["why"]["org"] != "contract_awarder"


def test_a_subject_across_a_semicolon_does_not_own_the_figure(full_nlp):
    text = ("The Welsh Government has set Orwell Fen University Health Board a target deficit "
            "of £15m; the board’s own plan forecasts a deficit of £22m.")
    found = by_text(full_nlp, text)
    assert found["£22m"]["org"] == "Orwell Fen University Health Board"


def test_worse_than_promised_is_a_gap(full_nlp):
    text = ("Orwell Fen Community NHS Trust ended the year with a deficit of £9m, some £2m worse "
            "than the trust had promised the regulator.")
    found = by_text(full_nlp, text)
    assert found["some £2m"]["role"] == "gap"


def test_the_difference_from_a_limit_is_a_gap(full_nlp):
    text = ("Orwell Fen Community NHS Trust expects a deficit of £30m against a limit of £24m. "
            "Most of the difference, £4.5m, is agency spending.")
    found = by_text(full_nlp, text)
    assert found["£4.5m"]["role"] == "gap"


def test_the_agent_of_a_passive_clause_owns_the_figure_in_its_subject(full_nlp):
    text = ("Dunmore Vale Community NHS Trust was rated requires improvement in March.\n\n"
            "Money is short. A deficit of £3.4m is forecast by the trust for 2025/26.\n\n"
            "The service is run by Dunmore Vale Community NHS Trust under a contract worth "
            "£6m a year.")
    found = by_text(full_nlp, text)
    assert found["£3.4m"]["org"] == "Dunmore Vale Community NHS Trust"
    assert "passive_agent" in found["£3.4m"]["why"]["org"]
    # the figure is not in the passive subject: the agent runs the service, no more
    assert "passive_agent" not in found["£6m"]["why"]["org"]


def test_a_headline_grant_to_unnamed_recipients_takes_the_funder_its_lead_names(full_nlp):
    text = ("Health boards to split £35m winter grant\n\n"
            "Cardiff, 3 November 2025\n\n"
            "Health boards across Wales will share £35m this winter, the Welsh Government "
            "said on Monday.\n")
    found = amounts(full_nlp, text)
    headline = next(a for a in found if a["start"] < text.index("\n"))
    assert headline["org"] == "Welsh Government"
    assert headline["why"]["org"] == "funder_of_generic_recipients"


def test_a_contract_held_with_a_commissioner_is_the_commissioners(full_nlp):
    text = ("Most of Fenwick Community NHS Trust's income comes from a block contract with "
            "NHS Kelmoor ICB worth £40m a year.")
    found = by_text(full_nlp, text)
    assert found["£40m"]["org"] == "NHS Kelmoor ICB"
    assert found["£40m"]["why"]["org"] == "contract_awarder"


def test_a_fee_for_each_resident_is_the_payers_not_several_bodies(full_nlp):
    text = ("Marlow Heath Borough Council, which places 14 people at the home, pays "
            "£910 a week for each of the residents.")
    found = by_text(full_nlp, text)
    assert found["£910"]["org"] == "Marlow Heath Borough Council"
