"""Tests of the money component (nlp/money.py): parsing, qualifiers, roles, owners, periods.

All sentences are written for these tests. The parser and the rules that need no parse run on
``spacy.blank("en")``; organisation attribution uses the full pipeline (loaded once).
"""

from __future__ import annotations

import math

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from money_helpers import amounts, by_text, one

from nlp.money import ParsedAmount, find_amounts, parse_amount


@pytest.fixture(scope="session")
def blank_money():
    """A blank English pipeline with only the money component (no parser, no orgs)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("policywatch_money")
    return nlp




# ---------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("£100m", 100_000_000),
        ("£21.5m", 21_500_000),
        ("£126bn", 126_000_000_000),
        ("£1.2million", 1_200_000),
        ("£400k", 400_000),
        ("£40,000", 40_000),
        ("£58,656", 58_656),
        ("£0.65m", 650_000),
        ("£1.3 billion", 1_300_000_000),
        ("£5 million", 5_000_000),
        ("£124.3bn", 124_300_000_000),
        ("1.5 billion pounds", 1_500_000_000),
        ("£2tn", 2_000_000_000_000),
        ("£14.2 m", 14_200_000),
        ("£3 bn", 3_000_000_000),
    ],
)
def test_parse_values(text, value):
    parsed = parse_amount(text)
    assert parsed is not None
    assert parsed.value == value
    assert parsed.currency == "GBP"
    assert parsed.value_max is None
    assert parsed.qualifier == "exact"


def test_a_unit_on_the_next_line_is_not_the_figure_s():
    assert [a.value for a in find_amounts("Deficit | £40\nm | 3")] == [40]


def test_parse_keeps_whole_pounds_as_int():
    parsed = parse_amount("£124.3bn")
    assert isinstance(parsed.value, int)
    assert isinstance(parse_amount("£2.50").value, float)


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("£10m-£15m", 10_000_000, 15_000_000),
        ("£8-10m", 8_000_000, 10_000_000),
        ("£3–4bn", 3_000_000_000, 4_000_000_000),
        ("£250k-£300k", 250_000, 300_000),
    ],
)
def test_parse_ranges(text, low, high):
    parsed = parse_amount(text)
    assert (parsed.value, parsed.value_max, parsed.qualifier) == (low, high, "approx")


def test_between_and_is_a_range():
    parsed = parse_amount("each will receive between £20m and £35m")
    assert (parsed.value, parsed.value_max, parsed.qualifier) == (20_000_000, 35_000_000, "approx")
    assert parsed.text == "between £20m and £35m"
    assert [a.value for a in find_amounts("it rose from £20m to £35m")] == [20_000_000, 35_000_000]


def test_descending_pair_is_two_amounts_not_a_range():
    found = find_amounts("losses of £90m – £12m more than last time")
    assert [a.value for a in found] == [90_000_000, 12_000_000]
    assert all(a.value_max is None for a in found)


@pytest.mark.parametrize(
    ("text", "currency", "value"),
    [
        ("$80m", "USD", 80_000_000),
        ("€2bn", "EUR", 2_000_000_000),
        ("A$15m", "AUD", 15_000_000),
        ("US$3.5bn", "USD", 3_500_000_000),
        ("300 million euros", "EUR", 300_000_000),
    ],
)
def test_parse_other_currencies(text, currency, value):
    parsed = parse_amount(text)
    assert (parsed.currency, parsed.value) == (currency, value)


@pytest.mark.parametrize(
    ("text", "per"),
    [
        ("£1.2m a week", "week"),
        ("£1.2 million a week", "week"),
        ("£300,000 a day", "day"),
        ("£5m-a-year", "year"),
        ("£2m per month", "month"),
        ("£40m per annum", "year"),
        ("£9m annually", "year"),
    ],
)
def test_parse_rates(text, per):
    assert parse_amount(text).per == per


@pytest.mark.parametrize(
    "text",
    [
        "38 per cent",
        "a rise of 12%",
        "a fifth of management costs",
        "3 million patients",
        "a ratio of 1.5",
        "£30 per head",
        "£1 for every £3",
        "the 2019-20 plan",
        "some money for providers",
    ],
)
def test_not_money(text):
    assert parse_amount(text) is None


@pytest.mark.parametrize(
    ("text", "qualifier", "written"),
    [
        ("around £5m", "approx", "around £5m"),
        ("about £5m", "approx", "about £5m"),
        ("almost £5m", "approx", "almost £5m"),
        ("nearly £5m", "approx", "nearly £5m"),
        ("just short of £5m", "approx", "just short of £5m"),
        ("close to £5m", "approx", "close to £5m"),
        ("roughly £5m", "approx", "roughly £5m"),
        ("more than £5m", "more_than", "more than £5m"),
        ("over £5m", "more_than", "over £5m"),
        ("in excess of £5m", "more_than", "in excess of £5m"),
        ("at least £5m", "more_than", "at least £5m"),
        ("less than £5m", "less_than", "less than £5m"),
        ("under £5m", "less_than", "under £5m"),
        ("below £5m", "less_than", "below £5m"),
        ("up to £5m", "up_to", "up to £5m"),
        ("pay the first £5m of any loss", "up_to", "first £5m"),
        ("the first £5m, for next year, goes to six boards", "exact", "£5m"),
        ("just £5m", "exact", "just £5m"),
        ("only £5m", "exact", "only £5m"),
        ("“only” £5m", "exact", "“only” £5m"),
        ("a further £5m", "exact", "£5m"),
        ("adding up to £5m", "exact", "£5m"),
    ],
)
def test_qualifiers(text, qualifier, written):
    parsed = parse_amount(text)
    assert parsed.qualifier == qualifier
    assert parsed.text == written
    assert text[parsed.start : parsed.end] == written


def test_bad_lexicon_is_a_clear_error(tmp_path):
    from nlp.money import load_lexicon

    bad = tmp_path / "money.toml"
    bad.write_text("[amount]\nprefixes = 3\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="money lexicon"):
        load_lexicon(bad)
    with pytest.raises(RuntimeError, match="cannot read"):
        load_lexicon(tmp_path / "missing.toml")


def test_parse_amount_rejects_non_text():
    with pytest.raises(TypeError, match="needs str"):
        parse_amount(12)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- properties


_values = st.decimals(
    min_value="0.01", max_value="9999.99", places=2, allow_nan=False, allow_infinity=False
)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


@settings(max_examples=150, deadline=None)
@given(
    x=_values,
    form=st.sampled_from(
        [
            ("£{}m", 1e6),
            ("£{}bn", 1e9),
            ("£{} million", 1e6),
            ("£{} billion", 1e9),
            ("£{}k", 1e3),
            ("£{}", 1),
            ("{} million pounds", 1e6),
            ("£{}million", 1e6),
        ]
    ),
)
def test_any_written_value_parses_back(x, form):
    template, scale = form
    parsed = parse_amount(template.format(x))
    assert parsed is not None
    assert _close(parsed.value, float(x) * scale)
    assert parsed.currency == "GBP"


@settings(max_examples=100, deadline=None)
@given(n=st.integers(min_value=1, max_value=10**12))
def test_thousands_separators_parse_back(n):
    parsed = parse_amount(f"The bill was £{n:,} in total.")
    assert parsed.value == n


@settings(max_examples=100, deadline=None)
@given(
    low=st.integers(min_value=1, max_value=500),
    extra=st.integers(min_value=1, max_value=500),
    unit=st.sampled_from([("m", 10**6), ("bn", 10**9), ("k", 10**3)]),
    dash=st.sampled_from(["-", "–"]),
    repeat=st.booleans(),
)
def test_ranges_parse_back(low, extra, unit, dash, repeat):
    suffix, scale = unit
    high = low + extra
    text = f"£{low}{suffix}{dash}£{high}{suffix}" if repeat else f"£{low}{dash}{high}{suffix}"
    parsed = parse_amount(text)
    assert (parsed.value, parsed.value_max) == (low * scale, high * scale)
    assert parsed.qualifier == "approx"


@settings(max_examples=100, deadline=None)
@given(
    x=_values,
    sym=st.sampled_from([("$", "USD"), ("€", "EUR"), ("US$", "USD"), ("A$", "AUD")]),
    unit=st.sampled_from([("m", 1e6), ("bn", 1e9)]),
)
def test_other_currencies_parse_back(x, sym, unit):
    parsed = parse_amount(f"{sym[0]}{x}{unit[0]}")
    assert parsed.currency == sym[1]
    assert _close(parsed.value, float(x) * unit[1])


@settings(max_examples=100, deadline=None)
@given(x=st.integers(min_value=1, max_value=999))
def test_percentages_are_never_money(x):
    assert find_amounts(f"Costs rose {x} per cent, or {x}%, to a {x}-year high.") == []


def test_parsed_amount_is_a_value_object():
    a = parse_amount("£5m")
    assert a == ParsedAmount(5_000_000, None, "GBP", "exact", None, "£5m", 0, 3)


# ---------------------------------------------------------------------------- component


def test_component_spans_and_offsets(blank_money):
    text = "Ward closures saved £2.5m, while the new wing cost £40m."
    doc = blank_money(text)
    assert [a["text"] for a in doc._.amounts] == ["£2.5m", "£40m"]
    for span, record in zip(doc.spans["amounts"], doc._.amounts, strict=True):
        assert span._.amount is record
        # spans are token-aligned ("£40m." may be one token); the record has exact offsets
        assert span.start_char <= record["start"] < record["end"] <= span.end_char
        assert text[record["start"] : record["end"]] == record["text"]
        assert record["sentence"] == text
    assert [a["role"] for a in doc._.amounts] == ["savings", "cost"]


def test_stock_money_mistakes_are_not_repeated(blank_money):
    found = amounts(blank_money, "It lost £100m; the limit was £124.3bn and 38 per cent was left.")
    assert [(a["value_gbp"], a["text"]) for a in found] == [
        (100_000_000, "£100m"),
        (124_300_000_000, "£124.3bn"),
    ]


@pytest.mark.parametrize(
    ("sentence", "role"),
    [
        ("The hospital recorded a deficit of £9m.", "deficit"),
        ("The hospital recorded a £9m deficit.", "deficit"),
        ("The group finished the year £9m in the red.", "deficit"),
        ("The hospital made a surplus of £9m.", "surplus"),
        ("The board overspent by £9m.", "overspend"),
        ("The board underspent by £9m.", "underspend"),
        ("It set a £9m budget for the unit.", "budget"),
        ("The board agreed a £9m control total with regulators.", "control_total"),
        ("It needs £9m of cost improvements.", "savings"),
        ("The scheme delivered efficiencies of £9m.", "savings"),
        ("Ministers announced £9m of extra funding for hospices.", "funding"),
        ("The new scanner will cost £9m.", "cost"),
        ("Its turnover was £9m.", "turnover"),
        ("It faces a £9m funding gap.", "gap"),
        ("It ended the quarter £9m behind plan.", "gap"),
        ("The deficit was £9m worse than planned.", "gap"),
        ("It collected £9m less income than it had expected.", "gap"),
        ("It will miss its control total by £9m.", "gap"),
        ("The forecast deteriorated by £9m in a month.", "other"),
        ("The deficit was £9m higher than the figure previously reported.", "other"),
        ("The charity holds £9m in reserves.", "other"),
        ("Its debts of £9m must be repaid.", "other"),
        ("The board signed a £9m contract for cleaning.", "contract_value"),
        ("The company was fined £9m for the breach.", "fine"),
        ("Registration fees will rise by £9m.", "cost"),
        ("Income was £9m ahead of plan.", "income"),
        ("Agency spending is running £9m above plan.", "gap"),
        ("Spending reached £90m, an increase of £9m on the year before.", "other"),
    ],
)
def test_roles(blank_money, sentence, role):
    assert amounts(blank_money, sentence)[-1]["role"] == role


def test_rate_keeps_its_base_role(blank_money):
    a = one(blank_money, "Agency nurses are costing the unit £1.2m a week.")
    assert (a["role"], a["per"], a["value_gbp"]) == ("cost", "week", 1_200_000)


def test_range_record(blank_money):
    a = one(blank_money, "Only £3-5m of the planned savings will be delivered.")
    assert (a["value_gbp"], a["value_gbp_max"], a["qualifier"], a["role"]) == (
        3_000_000,
        5_000_000,
        "approx",
        "savings",
    )


def test_dollar_follows_the_country_in_the_text(blank_money):
    text = (
        "She moved to Canada in 2015 to run a health network.\n\n"
        "The network she led is now forecasting a $30m deficit."
    )
    a = one(blank_money, text)
    assert (a["currency"], a["value_gbp"], a["value"]) == ("CAD", None, 30_000_000)
    assert one(blank_money, "The company raised $30m.")["currency"] == "USD"
    assert one(blank_money, "A €12m grant was agreed.")["currency"] == "EUR"


# ---------------------------------------------------------------------------- periods


def test_period_from_the_clause(blank_money):
    found = amounts(blank_money, "Spending grew from £4.1bn in 2015-16 to £4.6bn in 2016/17.")
    assert [a["period"] for a in found] == ["2015-16", "2016-17"]


def test_period_carried_from_the_previous_sentence(blank_money):
    text = "The board published its plan for 2021-22 on Monday. It shows a deficit of £14m."
    assert one(blank_money, text)["period"] == "2021-22"


def test_relative_year_needs_a_pin(blank_money):
    unpinned = "The unit hopes to save £3m this year."
    assert one(blank_money, unpinned)["period"] is None
    pinned = (
        "Four months into 2020-21, the unit is behind its plan.\n\n"
        "Its managers now hope to save £3m this year and £5m next year."
    )
    found = amounts(blank_money, pinned)
    assert [a["period"] for a in found] == ["2020-21", "2021-22"]


def test_last_year_counts_back_from_the_year_in_the_clause(blank_money):
    found = amounts(blank_money, "Its deficit for 2021-22 is £18m, up from £12m last year.")
    assert [a["period"] for a in found] == ["2021-22", "2020-21"]


def test_relative_year_carries_only_the_same_topic(blank_money):
    text = "Councils have lost funding since 2010. The county must save £8m next year."
    assert one(blank_money, text)["period"] is None


def test_year_after_another_amount_is_that_amounts(blank_money):
    text = ("Its pay bill for 2021-22 rose to £14m. "
            "The bill was £2m over budget, up from £11m in 2020-21.")
    found = amounts(blank_money, text)
    assert [a["period"] for a in found] == ["2021-22", "2021-22", "2020-21"]


def test_year_in_another_clause_with_its_own_amount(blank_money):
    text = ("The council gave the clinic £50,000 for a pilot, and the clinic's plan for 2024-25 "
            "assumes £2m of savings.")
    found = amounts(blank_money, text)
    assert [a["period"] for a in found] == [None, "2024-25"]


def test_unpinned_relative_year_nearer_than_a_year(blank_money):
    text = ("The hospital made a surplus of £3m for 2020-21 and expects a deficit next year, "
            "which its director put at £1m.")
    found = amounts(blank_money, text)
    assert [a["period"] for a in found] == ["2020-21", None]


def test_this_year_is_pinned_by_a_year_in_its_clause(blank_money):
    text = "The unit must find £2m of savings this year after its 2023-24 plan was rejected."
    assert one(blank_money, text)["period"] == "2023-24"


def test_a_comparisons_baseline_year_is_not_carried(blank_money):
    text = ("Trusts spent £2.1bn on locums in 2022-23. The bill was up from £1.8bn in 2021-22. "
            "Acute trusts accounted for £1.2bn of the total.")
    assert [a["period"] for a in amounts(blank_money, text)] == ["2022-23", "2021-22", "2022-23"]


def test_yearly_rates_are_not_carried_a_year(blank_money):
    text = "The trust lost £4m in 2022-23. Its new bank saves about £30,000 a month in fees."
    assert [a["period"] for a in amounts(blank_money, text)] == ["2022-23", None]
    text = "The trust spent £1.1m a year on agency staff in 2022-23."
    assert one(blank_money, text)["period"] == "2022-23"


def test_building_dates_are_not_periods(blank_money):
    text = "The main block, which opened in 1968, has a repair backlog of £41m."
    assert one(blank_money, text)["period"] is None
    text = "Its 2021-22 accounts show a £3m surplus. Wards dating from 1972 need £9m of repairs."
    assert [a["period"] for a in amounts(blank_money, text)] == ["2021-22", "2021-22"]


def test_years_far_before_the_reporting_years_are_not_periods(blank_money):
    text = "In 2019-20 the trust lost £5m. The estate, a 1961 design, needs £2m of work."
    assert [a["period"] for a in amounts(blank_money, text)] == ["2019-20", "2019-20"]


def test_years_are_not_carried_into_a_new_paragraph(full_nlp):
    text = ("Auditors met on Monday. They reviewed six hospitals. Leeds Teaching Hospitals NHS "
            "Trust ended 2019-20 with a £2m surplus.\n\n"
            "The Health Foundation says the sector's repair backlog has reached £9bn.")
    found = amounts(full_nlp, text)
    assert [a["period"] for a in found] == ["2019-20", None]


def test_year_to_march_is_a_financial_year(blank_money):
    assert one(blank_money, "In the year to March 2019 the unit lost £4m.")["period"] == "2018-19"


def test_month_dates_are_not_carried(blank_money):
    text = "The review ended in June 2016. The hospital then reported a £6m deficit."
    assert one(blank_money, text)["period"] is None


def test_repeated_figure_is_one_fact(blank_money):
    text = (
        "The unit ran up a £6m deficit in 2019-20. Managers blamed agency costs for the "
        "£6m deficit."
    )
    found = amounts(blank_money, text)
    assert len(found) == 1
    assert found[0]["start"] == text.index("£6m")


def test_headline_figure_takes_what_the_body_says(blank_money):
    text = ("Clinic faces £4m shortfall\n\n"
            "The clinic is facing a funding gap of £4m in 2022-23, its board heard.")
    found = amounts(blank_money, text)
    assert len(found) == 1
    assert (found[0]["text"], found[0]["start"]) == ("£4m", text.index("£4m"))
    assert (found[0]["role"], found[0]["period"]) == ("gap", "2022-23")


def test_lost_money_takes_the_noun_after_it(blank_money):
    assert one(blank_money, "Councils lost £2bn of grant funding.")["role"] == "funding"
    assert one(blank_money, "The hospital lost £2bn.")["role"] == "deficit"


def test_subject_of_the_clause_names_the_role(full_nlp):
    a = one(full_nlp, "Its locum bill for the year so far is more than £7m, well past forecasts.")
    assert a["role"] == "cost"
    a = one(full_nlp, "The hospital’s turnover for next year is budgeted at £420m.")
    assert a["role"] == "turnover"


def test_an_active_money_verb_beats_its_subject(full_nlp):
    text = "The deal, which shortens the pay scale, will cost the department around £300m."
    assert one(full_nlp, text)["role"] == "cost"


def test_comparison_takes_the_subjects_role(full_nlp):
    found = amounts(full_nlp, "The bill was £0.3bn above the cap, and up from £1.9bn in 2018-19.")
    assert [a["role"] for a in found] == ["gap", "cost"]


def test_contract_noun_beats_the_awarding_verb(full_nlp):
    text = "The council has awarded its £40m, five-year home care contract to a local firm."
    assert one(full_nlp, text)["role"] == "contract_value"


def test_giving_verb_makes_funding(full_nlp):
    text = "The ICB has agreed to give the hospital up to £6m in 2022-23 to cover its losses."
    assert one(full_nlp, text)["role"] == "funding"


def test_cutting_spending_is_savings(blank_money):
    assert one(blank_money, "It cut its locum spending by £2.1m.")["role"] == "savings"
    assert one(blank_money, "Spending on locums fell by £1.3m.")["role"] == "savings"


def test_a_part_takes_the_role_of_the_whole(full_nlp):
    text = "The backlog had reached £5.4bn, and £0.9bn of it was judged urgent."
    assert [a["role"] for a in amounts(full_nlp, text)] == ["other", "other"]
    # (cash support is a loan, real2 ruling 7; deficit support is funding)
    text = "The regulator released £2m of the £7m of deficit support the trust wanted."
    assert [a["role"] for a in amounts(full_nlp, text)] == ["funding", "funding"]


def test_consequence_after_a_comma_is_not_the_role(full_nlp):
    text = ("The trust planned savings of £9m but now expects to deliver £6m, leaving a "
            "hole of £3m.")
    assert [a["role"] for a in amounts(full_nlp, text)] == ["savings", "savings", "gap"]


def test_valued_it_at_takes_the_role_of_the_thing_valued(blank_money):
    text = ("The contract is worth £12m a year. The board had first valued it at £70m in "
            "total.")
    assert [a["role"] for a in amounts(blank_money, text)] == ["contract_value", "contract_value"]


def test_money_set_aside_is_a_budget(blank_money):
    assert one(blank_money, "The board has set aside £300,000 for winter.")["role"] == "budget"


def test_payment_to_an_nhs_body_is_funding_to_a_supplier_a_contract(full_nlp):
    text = "NHS England has agreed to pay Leeds West CCG £3.1m to settle the dispute."
    a = one(full_nlp, text)
    assert (a["role"], a["org"]) == ("funding", "Leeds West CCG")
    text = ("Airedale NHS Foundation Trust will pay a software partner, Medway Software Ltd, up "
            "to £1.5m for training.")
    a = one(full_nlp, text)
    assert (a["role"], a["org"]) == ("contract_value", "Airedale NHS Foundation Trust")


def test_cost_of_a_possessed_thing_is_the_possessors(full_nlp):
    text = ("Airedale NHS Foundation Trust has a plan. The estimated cost of Airedale’s new "
            "hospital has risen from £480m to £530m.")
    orgs = {a["org"] for a in amounts(full_nlp, text)}
    assert orgs == {"Airedale NHS Foundation Trust"}


# ---------------------------------------------------------------------------- owners


def test_owner_is_the_subject(full_nlp):
    a = one(full_nlp, "Wakefield CCG reported a deficit of £8m for 2017-18.")
    assert (a["org"], a["role"], a["period"]) == ("Wakefield CCG", "deficit", "2017-18")


def test_the_trust_points_back_to_the_named_trust(full_nlp):
    text = (
        "Ipswich Hospital Trust has appointed a new finance director. "
        "Last month the trust reported a £5m deficit."
    )
    a = one(full_nlp, text)
    assert a["org"] == "Ipswich Hospital Trust"


def test_its_points_back_to_the_organisation(full_nlp):
    text = (
        "Dorset CCG met NHS England officials on Tuesday.\n\n"
        "Dorset CCG said its budget for 2018-19 was £900m."
    )
    a = one(full_nlp, text)
    assert (a["org"], a["role"]) == ("Dorset CCG", "budget")


def test_its_prefers_the_previous_sentence_subject(full_nlp):
    text = ("Airedale Hospital Trust lost £5m in 2019-20. Meanwhile, Leeds CCG was rated good. "
            "Its budget is £900m.")
    assert [a["org"] for a in amounts(full_nlp, text)] == [
        "Airedale Hospital Trust", "Leeds CCG"]


def test_sector_totals_have_no_owner(full_nlp):
    text = (
        "Monitor said foundation trusts were forecasting a combined deficit of £400m for 2015-16."
    )
    assert one(full_nlp, text)["org"] is None


def test_several_named_bodies_share_no_owner(full_nlp):
    text = "Bolton CCG and Wigan CCG are merging. The pair have reported a joint deficit of £30m."
    assert one(full_nlp, text)["org"] is None


def test_funding_goes_to_the_recipient(full_nlp):
    a = one(full_nlp, "NHS England gave Norfolk CCG £12m of extra funding.")
    assert (a["org"], a["role"]) == ("Norfolk CCG", "funding")


def test_funding_given_to_the_trust(full_nlp):
    text = ("Doncaster Hospital Trust is struggling. "
            "The regulator has given the trust £3m in emergency cash.")
    a = one(full_nlp, text)
    assert (a["org"], a["role"]) == ("Doncaster Hospital Trust", "funding")


def test_its_follows_the_sentence_subject(full_nlp):
    text = ("Exeter Hospital Trust asked Devon County Council for a loan after its reserves "
            "fell to £1m.")
    assert one(full_nlp, text)["org"] == "Exeter Hospital Trust"


def test_non_restrictive_which_keeps_the_back_reference(full_nlp):
    text = ("Plymouth Hospitals Trust has a new chair. "
            "The trust, which posted a £7m deficit in 2017-18, is recruiting.")
    assert one(full_nlp, text)["org"] == "Plymouth Hospitals Trust"


def test_unnamed_body_with_its_own_description_is_nobody(full_nlp):
    text = ("Truro Hospital Trust hired a new director. "
            "The hospital she ran in Perth is forecasting a $5m deficit.")
    a = one(full_nlp, text)
    assert (a["org"], a["currency"]) == (None, "AUD")


def test_reporters_are_not_owners(full_nlp):
    text = "The King's Fund has estimated that the strikes cost hospitals more than £900m."
    assert one(full_nlp, text)["org"] is None


def test_the_trust_means_the_story_s_trust(full_nlp):
    text = ("Walsall Healthcare Trust was rated inadequate. Walsall Healthcare Trust will be "
            "paired with Leicester Hospitals Trust, a buddy organisation.\n\n"
            "The trust’s finances are also poor. It expects a deficit of £9m.")
    assert one(full_nlp, text)["org"] == "Walsall Healthcare Trust"


def test_media_never_own_money(full_nlp):
    a = one(full_nlp, "HSJ analysis shows the sector overspent by £50m.")
    assert a["org"] is None


def test_regulators_own_no_deficits(full_nlp):
    text = ("The Care Quality Commission inspected Leeds Teaching Hospitals NHS Trust in May. "
            "It reported a deficit of £12m.")
    assert one(full_nlp, text)["org"] == "Leeds Teaching Hospitals NHS Trust"


def test_commentators_own_no_money(full_nlp):
    text = ("Leeds Teaching Hospitals NHS Trust spent £4m on locums. The King’s Fund estimated "
            "that the reforms would cost more than £2bn a year.")
    assert [a["org"] for a in amounts(full_nlp, text)] == [
        "Leeds Teaching Hospitals NHS Trust", None]


def test_object_of_cost_bears_the_cost(full_nlp):
    text = "Strikes have cost Leeds Teaching Hospitals NHS Trust £3.2m since April."
    assert one(full_nlp, text)["org"] == "Leeds Teaching Hospitals NHS Trust"


def test_funding_object_is_the_recipient(full_nlp):
    text = ("Humber and North Yorkshire ICB has agreed to give Hull University Teaching "
            "Hospitals NHS Trust up to £7m to cover its losses.")
    a = one(full_nlp, text)
    assert (a["role"], a["org"]) == ("funding", "Hull University Teaching Hospitals NHS Trust")


def test_gapped_coordination_names_each_owner(full_nlp):
    text = ("Leeds Teaching Hospitals NHS Trust accounts for £9m of the gap, Airedale NHS "
            "Foundation Trust for £6m and Harrogate District NHS Foundation Trust for a little "
            "over £4m.")
    assert [a["org"] for a in amounts(full_nlp, text)] == [
        "Leeds Teaching Hospitals NHS Trust", "Airedale NHS Foundation Trust",
        "Harrogate District NHS Foundation Trust"]


def test_described_back_reference_matches_the_name(full_nlp):
    text = ("Leeds Teaching Hospitals NHS Trust and Leeds and York Partnership NHS Foundation "
            "Trust both reported. Leeds Teaching Hospitals NHS Trust lost £3m.\n\n"
            "The partnership trust, known locally as LYPFT, is also under pressure. It expects "
            "to spend £2m on agency staff.")
    found = amounts(full_nlp, text)
    assert found[-1]["org"] == "Leeds and York Partnership NHS Foundation Trust"


def test_fine_belongs_to_the_body_fined_named_later(full_nlp):
    text = ("Kent County Council has fined its drug treatment provider £12,000 after missed "
            "targets. The council’s contract with the provider, Pathway Recovery Ltd, runs "
            "to 2026.")
    a = one(full_nlp, text)
    assert (a["role"], a["org"]) == ("fine", "Pathway Recovery Ltd")


def test_the_contract_keeps_its_buyer(full_nlp):
    text = ("Kent County Council is to re-tender its £4.1m-a-year school nursing contract. "
            "The council said the provider, Kent Community Health NHS Foundation Trust, had "
            "wanted the contract’s value raised to £4.6m.")
    found = amounts(full_nlp, text)
    assert [(a["role"], a["org"]) for a in found] == [
        ("contract_value", "Kent County Council"), ("contract_value", "Kent County Council")]


def test_organisation_after_the_opens_the_sentence(full_nlp):
    text = ("The Department of Health and Social Care (DHSC) will move £1.5bn from its capital "
            "budget in 2023-24, the Treasury has confirmed.")
    assert one(full_nlp, text)["org"] == "Department of Health and Social Care"


def test_plural_pronoun_after_a_count_of_bodies_is_nobody(full_nlp):
    text = ("Leeds Teaching Hospitals NHS Trust cut its agency spending by £2m. The three trusts "
            "estimate the shared bank saves them £50,000 a month.")
    assert [a["org"] for a in amounts(full_nlp, text)] == [
        "Leeds Teaching Hospitals NHS Trust", None]


def test_a_trust_speaking_of_its_own_plans_owns_the_money(full_nlp):
    text = ("Airedale NHS Foundation Trust has signed a deal with Medway Software Ltd. The trust "
            "expects the new system to deliver savings of £2m a year.")
    assert one(full_nlp, text)["org"] == "Airedale NHS Foundation Trust"


def test_its_system_is_the_board_itself(full_nlp):
    text = ("NHS Humber and North Yorkshire Integrated Care Board expects its local health "
            "system to end 2023-24 with a deficit of £6m.")
    assert one(full_nlp, text)["org"] == "NHS Humber and North Yorkshire Integrated Care Board"


def test_funding_asked_for_is_the_askers(full_nlp):
    text = "Airedale NHS Foundation Trust has asked NHS England for £9m of cash support."
    assert one(full_nlp, text)["org"] == "Airedale NHS Foundation Trust"


def test_possessor_of_the_subject_owns(full_nlp):
    text = ("Airedale NHS Foundation Trust is bidding for a new hospital. The trust’s main site, "
            "which opened in 1970, has a maintenance backlog of £52m.")
    assert one(full_nlp, text)["org"] == "Airedale NHS Foundation Trust"
    text = "The Care Quality Commission’s report says the sector faces a £3bn repair backlog."
    assert one(full_nlp, text)["org"] is None


def test_which_after_a_dated_plan_points_to_the_plan(full_nlp):
    text = ("NHS Humber and North Yorkshire Integrated Care Board has rejected Airedale NHS "
            "Foundation Trust’s financial plan for 2024-25, which proposed a deficit of £4.4m.")
    assert one(full_nlp, text)["org"] == "Airedale NHS Foundation Trust"


def test_owner_in_brackets(full_nlp):
    text = "The largest overspends were at Hull CCG (£4m) and York CCG (£3m)."
    found = amounts(full_nlp, text)
    assert [a["org"] for a in found] == ["Hull CCG", "York CCG"]


def test_extract_api_returns_amounts(full_nlp):
    from nlp.extract import extract

    facts = extract("Croydon Health Services Trust lost £2m in 2019.", nlp=full_nlp)
    assert facts["amounts"][0]["value_gbp"] == 2_000_000
    assert facts["amounts"][0]["org"] == "Croydon Health Services Trust"
    assert facts["amounts"][0]["org"] in {o["name"] for o in facts["organisations"]}
    assert set(facts["amounts"][0]) == {
        "text", "value_gbp", "value_gbp_max", "currency", "value", "qualifier", "role", "per",
        "org", "period", "start", "end", "sentence", "why"}
    assert set(facts["amounts"][0]["why"]) == {"role", "org", "period"}


# --------------------------------------------------------------- named patterns and `why`

NAMED_ROLE_CASES = [
    ("right_other_than_reported",
     "The deficit came in £3m more than the figure previously reported.", "other"),
    ("right_funding_off_budget", "The council took £2m off its public health budget.",
     "funding"),
    ("right_gap_than_planned", "Its deficit was £4m worse than it had planned.", "gap"),
    ("right_gap_behind_plan", "Savings at the hospital are £2m behind plan.", "gap"),
    ("right_gap_adrift", "By the autumn the trust was £5m adrift.", "gap"),
    ("right_cost_to_costs", "The strikes added £3m to its costs.", "cost"),
    ("right_gap_adverse_to_plan", "At month six it reported £2m adverse to plan.", "gap"),
    ("right_gap_more_than_limit", "The trust spent £1.2m more than its agency limit.", "gap"),
    ("right_overspend_over_budget",
     "The cost of drugs, which is £0.8m over budget so far, worries the board.", "overspend"),
    ("left_gap_over_limit_by", "The hospital was furthest over its limit, by £2.6m.", "gap"),
    ("left_income_raised_by_sale", "The sale of its old offices raised £3.1m.", "income"),
    ("left_income_raised_by_sale", "The hospital charity raised £0.6m last year.", "income"),
    ("right_income_legacy", "The hospice has received a £90,000 legacy.", "income"),
    ("right_deficit_in_deficit", "The hospital finished the quarter £7m in deficit.",
     "deficit"),
    ("right_surplus_in_surplus", "The commissioner finished £1m in surplus.", "surplus"),
    ("right_other_reserves_debts", "The foundation holds £9m in reserves.", "other"),
    ("left_control_total_agreed_deficit",
     "The regulator has agreed a deficit of £12m for the board.", "control_total"),
    ("left_control_total_agreed_deficit",
     "It agreed a plan with the regulator that would deliver a £30m deficit.", "control_total"),
    ("left_control_total_of", "The trust accepted a control total of £6m.", "control_total"),
    ("left_gap_missed_by", "The trust missed its savings target by £3m.", "gap"),
    ("left_overspend_by", "The board overspent by £8m.", "overspend"),
    ("left_underspend_by", "The commissioner underspent by £1m.", "underspend"),
    ("left_cost_rise_by", "Agency fees will rise by £2m.", "cost"),
    ("left_savings_cut_by", "The trust cut its agency spending by £4m.", "savings"),
    ("left_savings_spending_fell_by", "Spending on locums fell by £1m.", "savings"),
    ("left_other_changed_by", "The deficit worsened by £3m.", "other"),
    ("left_funding_verb", "The department gave the hospital £5m.", "funding"),
    ("left_savings_make_cuts", "The board must make further cuts of £27m.", "savings"),
    ("right_other_loans", "Boards have taken £60m in so-called brokerage.", "other"),
    ("left_control_total_target_deficit",
     "Ministers have set the board a target deficit of £9m for the year.", "control_total"),
    ("left_control_total_target_deficit",
     "The hospital was handed a deficit target of £4m.", "control_total"),
    ("left_funding_budget_changed_by",
     "The department's budget for next year will rise by £1.1bn.", "funding"),
    ("left_funding_budget_changed_by", "The council's grant falls by just £40m.", "funding"),
    ("left_funding_asked_for", "The hospice has asked the county council for £0.3m.",
     "funding"),
    ("right_funding_asked_for",
     "It got less than the £2bn that the unions had asked for.", "funding"),
    ("left_income_sold_for", "The board sold an empty depot for £2.4m.", "income"),
    ("right_funding_goes_to", "The remaining £40m will be shared between the boards.",
     "funding"),
    ("left_funding_verb", "Hitting the target unlocked £3m for the community trust.",
     "funding"),
    ("right_gap_still_to_find",
     "Some plans are in place, leaving £2m still to find.", "gap"),
    ("right_cost_towards_new_building",
     "The hospital will put £6m of its cash towards a new eye unit.", "cost"),
    ("right_cost_towards_new_building", "Of the total, £4m is earmarked for a new scanner.",
     "cost"),
    ("left_gap_leaving_shortfall",
     "Its schemes fell through, leaving a shortfall of £1.2m against the target.", "gap"),
    ("right_gap_behind_plan", "The board is £2m behind its year-to-date plan.", "gap"),
    ("right_other_more_than_before",
     "Agency bills came to £2m more than the hospital spent in the year before.", "other"),
    ("right_cost_committed_to",
     "Of the capital budget, £3m is committed to a new records system.", "cost"),
    ("left_elided_possessive_noun",
     "Both boards were set control totals in March. Fenwick’s was £4m.", "control_total"),
    ("right_funding_moved_between_budgets",
     "Auditors said £600m was switched from capital into revenue.", "funding"),
    ("right_gap_left_unfunded", "About £40m of the new pay deal was left unfunded.", "gap"),
    ("around_gap_rest_to_be_found",
     "The remaining £1.4m will have to be found from its reserves.", "gap"),
    ("right_underspend_not_spent",
     "The scanner was late, so the £0.7m it did not spend moves into next year.",
     "underspend"),
    ("right_funding_set_aside_for",
     "A further £90m is set aside to pay for the new GP contract.", "funding"),
    ("around_funding_set_aside_for",
     "The department has earmarked £300m for hospice care.", "funding"),
    ("left_control_total_agreed_limit",
     "The trust expects to end the year outside the agreed limit of £12m.", "control_total"),
    ("left_budget_lifted_to", "The spending review lifts capital to £9.8bn.", "budget"),
    ("left_funding_verb", "The government has pledged £45m to train more midwives.",
     "funding"),
    ("left_funding_asked_for", "The hospice, which wants £0.4m, has written to the board.",
     "funding"),
    ("left_funding_goes_to_body",
     "The largest share goes to Kelby Royal Trust (£11m), the department said.", "funding"),
    ("around_funding_budget_higher_by",
     "Under the deal the council's grant will be £40m higher by 2027/28.", "funding"),
    ("right_gap_still_to_find",
     "Of the savings target, a further £0.4m is not yet identified.", "gap"),
    ("around_budget_taken_to",
     "Brantley Council topped up its care budget again, taking it to £55m.", "budget"),
    ("around_funding_need_more",
     "The hospice says it needs £0.3m a year more to stay open.", "funding"),
    ("left_control_total_is_a_deficit_of",
     "The board's control total for the year is a deficit of £6.5m.", "control_total"),
    ("left_cost_costs_add", "Drug costs, which could add a further £0.8m, are rising.", "cost"),
    ("right_cost_committed_to", "Of its capital, £3m is committed to new imaging kit.", "cost"),
    ("right_other_more_than_before",
     "The board paid £4m more than it paid in 2021/22 for locums.", "other"),
    ("around_funding_with_money_from",
     "The clinic was refitted with £30,000 from NHS Calder Moss ICB.", "funding"),
    ("right_funding_asked_for",
     "It fell short of the £900m that the unions said trusts would need.", "funding"),
    ("right_gap_more_than_limit",
     "That leaves the hospital £0.2m above the ceiling for the year.", "gap"),
    ("left_cost_ordered_to_pay", "The firm was ordered to repay the council £80,000.", "cost"),
    ("left_other_lost_to_fraud", "Thieves cost the hospice about £40,000.", "other"),
    ("right_other_lost_to_fraud", "The clinic lost £25,000 to scammers in the spring.", "other"),
    ("around_cost_needed_to_run", "The hospice needs £3m a year to run its wards.", "cost"),
    ("around_other_money_taken",
     "A clerk took £20,000 from the surgery's accounts over two years.", "other"),
    ("around_other_money_taken",
     "The porter was siphoning £9,000 before the scheme was discovered.", "other"),
    ("left_income_raised_by_sale",
     "Raising council tax by two per cent would bring in £3.3m.", "income"),
    ("left_cost_rise_by",
     "The cost of sending children to clinics in the next county has risen by £0.9m.", "cost"),
    ("right_gap_than_planned", "The new wing will cost £40m more than the budget.", "gap"),
    ("around_funding_set_aside_for",
     "The ministry has set aside £80m of capital for 2027/28 for councils that bid.",
     "funding"),
    ("right_underspend_handed_back",
     "The trust is handing £2m of unspent capital back to the board.", "underspend"),
]


@pytest.mark.parametrize(("text", "role"), [
    ("The trust has recovered £0.3m from the contractor.", "income"),
    ("Its counter fraud team got back £45,000 last year.", "income"),
])
def test_money_got_back_or_left_unspent(blank_money, text, role):
    assert one(blank_money, text)["role"] == role


@pytest.mark.parametrize(("text", "role"), [
    ("Kell Trust reached a settlement of £300,000 with the family.", "cost"),
    ("Dunmore Trust agreed a £1.2m settlement with the former manager.", "cost"),
    ("Ministers agreed a £20bn funding settlement for the service.", "funding"),
])
def test_a_legal_settlement_is_a_cost_and_a_funding_settlement_funding(blank_money, text,
                                                                        role):
    assert one(blank_money, text)["role"] == role


def test_a_limit_agreed_with_a_national_body_is_a_control_total(blank_money):
    found = by_text(blank_money,
                    "The board forecast £50m, above the £20m limit it agreed with NHS England.")
    assert found["£20m"]["role"] == "control_total"
    assert found["£20m"]["why"]["role"] == "pattern:right_limit_agreed_with_national_body"


@pytest.mark.parametrize(("text", "role"), [
    # measured against a plan: a gap
    ("The trust planned savings of £12m but will deliver £8m. The £4m shortfall worries the "
     "board.", "gap"),
    # no plan, target or savings in sight: a deficit
    ("The hospice faces a shortfall of £0.5m as its costs rise.", "deficit"),
])
def test_a_shortfall_is_a_gap_only_against_a_plan(blank_money, text, role):
    found = amounts(blank_money, text)[-1]
    assert found["role"] == role
    if role == "gap":
        assert found["why"]["role"] == "pattern:shortfall_against_plan"


def test_parts_of_a_sum_named_with_of_which_are_its_kind_of_money(blank_money):
    found = by_text(blank_money, "The board paid £30m under the lease, of which £9m was interest "
                                 "and £4m went on repairs.")
    assert found["£30m"]["role"] == "cost"
    assert found["£9m"]["role"] == "cost"
    assert found["£9m"]["why"]["role"] == "partitive_of_which"


@pytest.mark.parametrize(("name", "text", "role"), NAMED_ROLE_CASES)
def test_each_named_role_pattern(blank_money, name, text, role):
    found = one(blank_money, text)
    assert found["role"] == role
    assert found["why"]["role"] == f"pattern:{name}"


def test_money_held_back_for_a_year_is_no_funding(blank_money):
    found = one(blank_money, "The sum of £5m is set aside for 2026/27.")
    assert found["role"] != "funding"


def test_set_aside_savings_keep_the_noun_before(blank_money):
    found = amounts(blank_money, "Savings of £3m will have to be found next year.")
    assert found[0]["role"] == "savings"


def test_a_coordinated_figure_shares_the_role_of_the_one_before(full_nlp):
    found = amounts(full_nlp, "The review lifts capital to £7.1bn in 2026/27 and to £7.6bn by "
                              "2028/29.")
    assert [a["role"] for a in found] == ["budget", "budget"]
    assert found[1]["why"]["role"] == "coordinated"
    found = amounts(full_nlp, "NHS Glenmarsh will receive £12m, while NHS Carnbeck gets £8.2m "
                              "and NHS Torran £4.5m.")
    assert [a["role"] for a in found] == ["funding", "funding", "funding"]
    found = amounts(full_nlp, "The biggest awards went to Hallam Vale Trust (£9m), Corran and "
                              "Fell Trust (£6m) and Ostley Trust (£2m).")
    assert [a["why"]["role"] for a in found][1:] == ["coordinated", "coordinated"]
    assert {a["role"] for a in found} == {"funding"}
    found = amounts(full_nlp, "It posted a £5m deficit in 2023/24 and a £2m surplus in 2024/25.")
    assert [a["role"] for a in found] == ["deficit", "surplus"]
    found = amounts(full_nlp, "The two trusts reported a £5m deficit and £2m surplus respectively.")
    assert [a["role"] for a in found] == ["deficit", "surplus"]
    found = amounts(full_nlp, "It spent £4m on locums and £2m of savings came from pharmacy.")
    assert [a["role"] for a in found] == ["cost", "savings"]


def test_a_payee_named_by_the_first_word_of_a_body_is_that_body(full_nlp):
    found = amounts(full_nlp, "Brindle Community Care, a social enterprise, will run the clinic. "
                              "The ICB will pay Brindle a one-off £80,000 to refit the building.")
    assert found[0]["role"] in {"funding", "contract_value"}
    assert found[0]["why"]["role"] == "payee"


def test_previous_valued_it_at_takes_the_role_of_the_figure_before(blank_money):
    found = amounts(blank_money, "The deal is worth £10m. Auditors had valued it at £12m.")
    assert found[1]["role"] == found[0]["role"] == "contract_value"
    assert found[1]["why"]["role"] == "previous"


def test_a_revised_figure_keeps_the_role_of_the_one_it_revises(blank_money):
    found = amounts(blank_money, "Its surplus plan of £4m was later raised to £6m.")
    assert [a["role"] for a in found] == ["surplus", "surplus"]
    assert found[1]["why"]["role"] == "pattern:left_previous_revised_to"


def test_coordinated_bodies_and_amounts_pair_in_order(full_nlp):
    text = ("Harbour Vale NHS Trust and Kestrel NHS Trust moved £3.4m and £3.2m respectively "
            "from capital to revenue.")
    assert [(a["org"], a["why"]["org"]) for a in amounts(full_nlp, text)] == [
        ("Harbour Vale NHS Trust", "respectively"), ("Kestrel NHS Trust", "respectively")]
    text = ("All trusts met their plans apart from Harbour Vale NHS Trust and Kestrel NHS Trust, "
            "which have overspends of £19.6m and £7.5m.")
    assert [a["org"] for a in amounts(full_nlp, text)] == [
        "Harbour Vale NHS Trust", "Kestrel NHS Trust"]


def test_a_span_of_years_dates_no_figure(full_nlp):
    text = "The advice line received more than £20m between 2012 and 2014."
    assert one(full_nlp, text)["period"] is None


def test_a_sentence_that_opens_with_a_name_is_about_that_body(full_nlp):
    text = ("Harbour Vale University Health Board, which covers the coast, accounts for 40% of "
            "the total. Its overspend in 2016-17 was £50m.")
    assert one(full_nlp, text)["org"] == "Harbour Vale University Health Board"


def test_up_from_takes_the_role_of_the_clause_subject(full_nlp):
    found = amounts(full_nlp, "Its agency bill was £20m this year, up from £15m.")
    assert [a["role"] for a in found] == ["cost", "cost"]


def test_ahead_of_plan_is_not_a_gap(blank_money):
    found = one(blank_money, "Income was £1m ahead of plan.")
    assert found["role"] == "income"


def test_every_named_pattern_of_the_lexicon_has_a_case():
    from nlp.money import load_lexicon

    lex = load_lexicon()
    names = {n for _, _, n in lex.right_patterns} | {n for _, _, n in lex.left_patterns}
    names |= {n for _, _, _, n in lex.around_patterns}
    tested = {name for name, _, _ in NAMED_ROLE_CASES}
    tested |= {"right_none_ahead_of_plan", "left_previous_valued_it_at", "left_subject_up_from",
               "left_previous_revised_to"}
    assert names == tested


@pytest.mark.parametrize("text", [
    "In 2019/20 the board expects a deficit of £35m, slightly worse than in 2018/19.",
    "In 2019/20 the trust will post a surplus of £2m, as it did in 2018/19.",
])
def test_a_comparison_baseline_does_not_date_the_figure(full_nlp, text):
    assert one(full_nlp, text)["period"] == "2019-20"


@pytest.mark.parametrize("text", [
    "Ashby Trust, Marlow Trust and Fenton Trust forecast a combined deficit of £40m.",
    "Ashby Trust and Marlow Trust will lose £40m between them.",
])
def test_a_combined_figure_belongs_to_no_one_body(full_nlp, text):
    found = one(full_nlp, text)
    assert found["org"] is None and found["why"]["org"] == "combined_total"


def test_a_control_total_is_not_the_setters(full_nlp):
    found = one(full_nlp, "NHS England has set Saltmarsh ICB a deficit limit of £80m.")
    assert found["role"] == "control_total" and found["org"] == "Saltmarsh ICB"


def test_why_names_the_salience_rule_for_a_back_reference(full_nlp):
    text = ("Harbour Vale NHS Trust has published its accounts. "
            "The trust ended the year with a deficit of £6m.")
    found = one(full_nlp, text)
    assert found["org"] == "Harbour Vale NHS Trust"
    assert found["why"]["org"].endswith("salience:the_trust")


def test_unnamed_providers_share_belongs_to_no_body(full_nlp):
    text = ("Saltmarsh ICB's plan is for a deficit of £51m in 2023/24: provider deficits of "
            "£120m, offset by a surplus of £69m.")
    found = by_text(full_nlp, text)
    assert found["£120m"]["org"] is None and found["£120m"]["why"]["org"] == "combined_total"


def test_a_repayment_is_not_funding(blank_money):
    assert one(blank_money, "The board has so far repaid only £400,000.")["role"] == "other"


def test_a_gapped_coordination_with_a_back_reference(full_nlp):
    text = ("Saltmarsh ICB reported a deficit of £40m at month 3. Providers accounted for £30m "
            "of the overspend and the ICB for £10m.")
    found = by_text(full_nlp, text)
    assert found["£10m"]["org"] == "Saltmarsh ICB"
    assert found["£10m"]["why"]["org"] == "gapped_coordination"


def test_respectively_over_coordinated_noun_phrases(full_nlp):
    text = ("Saltmarsh ICB has a plan for 2023/24. By month 2 the providers and the ICB were "
            "already falling short of their savings targets of £160m and £72m respectively.")
    found = amounts(full_nlp, text)
    assert [a["org"] for a in found] == [None, "Saltmarsh ICB"]
    assert found[1]["why"]["org"] == "respectively"


def test_the_noun_an_amount_is_a_quantity_of_names_its_role(blank_money):
    # the head noun after "of" beats a cue word before the amount and a funding verb
    found = one(blank_money, "The surplus relied on £2.2m of one-off income.")
    assert (found["role"], found["why"]["role"]) == ("income", "of")
    found = one(blank_money, "A late IT project added £1.4m of unplanned costs.")
    assert (found["role"], found["why"]["role"]) == ("cost", "of")


def test_an_operating_profit_is_not_a_surplus(blank_money):
    assert one(blank_money, "The company made an operating profit of £7m.")["role"] == "other"


def test_a_default_role_mention_takes_the_role_of_its_twin(full_nlp):
    text = ("Ministers hand out £90m, with £12m for two hospices\n\n"
            "The Department of Health said on Monday that £12m will go to two hospices.")
    found = [a for a in amounts(full_nlp, text) if a["value_gbp"] == 12_000_000]
    assert len(found) == 1 and found[0]["role"] == "funding"


def test_a_national_body_asking_for_a_deficit_sets_a_control_total(blank_money):
    found = one(blank_money, "The hospital planned for more than the £9m that NHS England had "
                             "asked for.")
    assert found["role"] == "control_total"
    assert found["why"]["role"] == "pattern:right_national_body_asked_for"


def test_the_total_estimated_again_keeps_the_measure_before(blank_money):
    found = amounts(blank_money, "The first plan put the cost at £20m. Auditors now estimate "
                                 "the total at £26m.")
    assert [a["role"] for a in found] == ["cost", "cost"]
    assert found[1]["why"]["role"] == "previous"


def test_the_head_noun_with_its_modifier_decides_before_the_bare_noun(full_nlp):
    found = one(full_nlp, "The trust's accounts for the year show: capital investment of "
                          "nearly £12m.")
    assert found["role"] == "cost"


def test_delivering_an_amount_is_savings(full_nlp):
    found = amounts(full_nlp, "Brookmere Trust and Fellside Trust must deliver £20m and £15m "
                              "respectively.")
    assert [a["role"] for a in found] == ["savings", "savings"]


def test_only_the_amounts_own_verb_decides_its_role(full_nlp):
    found = amounts(full_nlp, "Brookmere Trust delivered efficiencies of £8m and cut its spending "
                              "on locums to £5m.")
    assert [a["role"] for a in found] == ["savings", "cost"]


def test_a_financial_year_beats_the_date_a_report_was_written(full_nlp):
    found = one(full_nlp, "A report to the board, written on 3 June 2025, shows Brookmere Trust "
                          "£2.1m behind plan after two months of 2025/26.")
    assert found["period"] == "2025-26"


def test_a_section_heading_names_the_money_its_sentences_do_not(full_nlp):
    text = ("Brookmere Trust board report\n\nThe board met on Tuesday.\n\n"
            "Savings\nThe requirement for the year is large. Schemes worth £6.2m have now "
            "been identified.\n")
    found = one(full_nlp, text)
    assert (found["role"], found["why"]["role"]) == ("savings", "section_heading")


@pytest.mark.parametrize(("text", "role"), [
    ("The board will be offered repayable support of £6m.", "other"),
    ("The trust will need £9m of repayable cash support this winter.", "other"),
    ("Its overspend was well above the £7m target deficit it was set.", "control_total"),
    ("Capital spending is behind an annual programme of £8.4m.", "budget"),
    ("Provisions for legal claims stood at £3.3bn.", "other"),
    ("The foundation trust will lend £4m to a neighbouring hospital.", "other"),
    ("The health board is to borrow £12m before March.", "other"),
    ("In 2023/24 the unfunded part came to £1.1m.", "gap"),
])
def test_cue_words_for_loans_provisions_and_unfunded_costs(blank_money, text, role):
    assert one(blank_money, text)["role"] == role
