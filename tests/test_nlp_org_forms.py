"""Tests for name forms the organisation recogniser builds: national branches after "in",
names joined by "and" under an opening "The", hospices, and sector bodies in the gazetteer."""

from __future__ import annotations

import pytest

from nlp.extract import load_pipeline


@pytest.fixture(scope="module")
def nlp():
    return load_pipeline()


def names_of(nlp, text: str) -> dict[str, str]:
    return {o["name"]: o["type"] for o in nlp(text)._.organisations}


def test_national_branch_after_in_is_one_body(nlp):
    found = names_of(nlp, "The Royal College of Midwives in Scotland said members were tired.")
    assert found == {"Royal College of Midwives in Scotland": "other"}


def test_in_without_a_nation_is_not_part_of_the_name(nlp):
    found = names_of(nlp, "The Royal College of Nursing in Leeds held a meeting.")
    assert "Royal College of Nursing" in found


@pytest.mark.parametrize(
    "text, name",
    [
        ("The Lindenby and Corrow Hospitals Group brings together two trusts.",
         "Lindenby and Corrow Hospitals Group"),
        ("The Hexbury and Tolland Local Medical Committee said it would hold the ICB to account.",
         "Hexbury and Tolland Local Medical Committee"),
    ],
)
def test_name_joined_by_and_after_the_is_not_cut(nlp, text, name):
    found = names_of(nlp, text)
    assert name in found
    assert not any(other != name and other in name for other in found)


@pytest.mark.parametrize(
    "text, name",
    [
        ("Brackenfold Hospice in Truro was rated outstanding.", "Brackenfold Hospice"),
        ("St Aldhelm’s Hospice says an appeal raised £90,000.", "St Aldhelm’s Hospice"),
    ],
)
def test_hospice_is_a_provider(nlp, text, name):
    assert names_of(nlp, text)[name] == "provider"


def test_sector_bodies_from_the_gazetteer(nlp):
    found = names_of(
        nlp,
        "Hospice UK and the Independent Healthcare Providers Network both criticised the plan, "
        "and the trust hired PwC to review it.",
    )
    assert found["Hospice UK"] == "other"
    assert found["Independent Healthcare Providers Network"] == "other"
    assert found["PwC"] == "company"


def test_short_form_without_the_nhs_prefix_is_an_alias(nlp):
    found = {
        o["name"]: o["aliases"]
        for o in nlp(
            "NHS Redfen, Colne Vale and Warham CCGs will merge. Colne Vale expects a deficit "
            "of £9.6m and Warham £3.2m."
        )._.organisations
    }
    assert found["NHS Colne Vale CCG"] == ["Colne Vale"]
    assert found["NHS Warham CCG"] == ["Warham"]
    assert "Colne Vale" not in found


def test_short_form_opening_a_name_joined_by_and_stays_in_that_name(nlp):
    found = names_of(
        nlp,
        "NHS Warham CCG will merge with its neighbours. The Warham and Purbeck Local Medical "
        "Committee said it would hold the new CCG to its promises.",
    )
    assert "Warham and Purbeck Local Medical Committee" in found
    assert "Purbeck Local Medical Committee" not in found


def test_person_with_an_honorific_is_not_an_organisation(nlp):
    found = names_of(
        nlp, "The chair of Wyvern Hills Hospitals NHS Foundation Trust, Dame Harriet Pollock, "
        "has resigned after two years.",
    )
    assert not any("Pollock" in name for name in found)


def test_local_healthwatch_named_by_its_area_first(nlp):
    assert names_of(nlp, "West Fenshire Healthwatch said patients deserved better.") == {
        "West Fenshire Healthwatch": "other"
    }


def test_single_word_before_a_coordinated_name_is_kept(nlp):
    found = names_of(
        nlp, "The move follows similar deals in the region. Hexby, Rudd and Carrow Teaching "
        "Hospitals NHS Trust formed a group in 2022.",
    )
    assert list(found) == ["Hexby, Rudd and Carrow Teaching Hospitals NHS Trust"]


def test_aside_before_comma_and_is_not_part_of_the_next_name(nlp):
    found = names_of(
        nlp, "Two practices were inspected. Elm Surgery, on Station Road, and Copse Hill Medical "
        "Practice, two miles away, were both rated good.",
    )
    assert set(found) == {"Elm Surgery", "Copse Hill Medical Practice"}


@pytest.mark.parametrize(
    "text, name",
    [
        ("The review, carried out by the consultancy Harlan Pryce, put the cost at £152m.",
         "Harlan Pryce"),
        ("The post will be filled by the executive search firm Dunmore Pike, at a fee of £85,000.",
         "Dunmore Pike"),
    ],
)
def test_firm_named_after_its_kind_noun(nlp, text, name):
    assert names_of(nlp, text) == {name: "company"}


def test_coordination_fragment_is_the_one_fuller_body_it_opens(nlp):
    found = names_of(
        nlp,
        "Records deal for Pendham and Rillby trusts runs over budget\n\nPendham Valley "
        "Hospitals NHS Trust and Rillby Fylde Teaching Hospitals NHS Foundation Trust have been "
        "moving to a new system.",
    )
    assert set(found) == {
        "Pendham Valley Hospitals NHS Trust",
        "Rillby Fylde Teaching Hospitals NHS Foundation Trust",
    }


def test_coordination_fragment_without_a_fuller_body_stays(nlp):
    assert set(names_of(nlp, "Larkmoor and Ellwick trusts posted deficits.")) == {
        "Larkmoor Trust", "Ellwick Trust"
    }


def test_second_of_two_places_after_across_is_not_an_organisation(nlp):
    found = names_of(
        nlp, "The trust, which runs services across the Fenmarsh and the Wolds, ended the year "
        "in deficit.",
    )
    assert found == {}
