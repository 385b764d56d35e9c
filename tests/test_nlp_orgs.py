"""Tests for the organisation recogniser (nlp/orgs.py): naming rules, splitting, aliases."""

from __future__ import annotations

import pickle

import pytest
import spacy

from nlp.extract import load_pipeline
from nlp.orgs import OrgRecognizer, org_key


@pytest.fixture(scope="session")
def nlp():
    return load_pipeline()


@pytest.fixture(scope="session")
def blank_orgs():
    """A tokenizer-only pipeline: gazetteer and head rules work without the model."""
    blank = spacy.blank("en")
    blank.add_pipe("policywatch_orgs", config={"use_ner": False})
    return blank


def orgs_of(nlp, text):
    return {o["name"]: o for o in nlp(text)._.organisations}


def test_org_key_folds_long_forms_possessives_and_the():
    assert org_key("the Wakefield Clinical Commissioning Group’s") == "wakefield ccg"
    assert org_key("Newcastle-upon-Tyne CCGs") == org_key("Newcastle upon Tyne CCG")
    assert org_key("Barking & Dagenham CCG") == "barking and dagenham ccg"


def test_gazetteer_and_heads_without_the_model(blank_orgs):
    found = orgs_of(blank_orgs, "Monitor wrote to Wakefield CCG and to Kent County Council.")
    assert found["Monitor"]["type"] == "regulator"
    assert found["Wakefield CCG"]["type"] == "commissioner"
    assert found["Kent County Council"]["type"] == "government"


def test_gazetteer_acronym_alias_and_longest_name(nlp):
    found = orgs_of(nlp, "The Department of Health and Social Care said the DHSC would pay.")
    assert list(found) == ["Department of Health and Social Care"]
    assert found["Department of Health and Social Care"]["aliases"] == ["DHSC"]
    assert found["Department of Health and Social Care"]["type"] == "government"


def test_plural_head_coordination_is_split(nlp):
    found = orgs_of(nlp, "Bury and Oldham CCGs agreed to share a chief officer.")
    assert set(found) == {"Bury CCG", "Oldham CCG"}
    # a fragment that shares the head is no alias
    assert found["Bury CCG"]["aliases"] == []


def test_comma_list_with_plural_head(nlp):
    found = orgs_of(nlp, "Wigan, Halton and Bury CCGs will merge next year.")
    assert set(found) == {"Wigan CCG", "Halton CCG", "Bury CCG"}


def test_singular_head_keeps_and_and_commas(nlp):
    found = orgs_of(
        nlp,
        "Morecambe Bay, Lancaster and Kendal CCG signed the deal. Barking and Dagenham CCG "
        "did not.",
    )
    assert set(found) == {"Morecambe Bay, Lancaster and Kendal CCG", "Barking and Dagenham CCG"}


def test_direction_only_conjunct_stays_with_its_name(nlp):
    found = orgs_of(
        nlp, "The CCG alliance includes Hull West, Hull North and Hull South and East groups."
    )
    assert set(found) == {"Hull West CCG", "Hull North CCG", "Hull South and East CCG"}


def test_lower_case_foundation_trusts_build_names(nlp):
    found = orgs_of(
        nlp, "A merger of the Royal Berkshire and Frimley Park foundation trusts was called off."
    )
    assert set(found) == {"Royal Berkshire Foundation Trust", "Frimley Park Foundation Trust"}
    assert all(o["type"] == "provider" for o in found.values())


def test_bare_list_after_kind_noun(nlp):
    found = orgs_of(nlp, "The CCGs met. A pair of CCGs – Darwen and Chorley – merged.")
    assert set(found) == {"Darwen CCG", "Chorley CCG"}
    assert found["Darwen CCG"]["aliases"] == ["Darwen"]


def test_acronym_defined_in_brackets(nlp):
    found = orgs_of(
        nlp,
        "Kettering General Hospital Foundation Trust (KGH) missed its target. "
        "KGH said it would recover.",
    )
    assert found["Kettering General Hospital Foundation Trust"]["aliases"] == ["KGH"]
    assert len(found["Kettering General Hospital Foundation Trust"]["mentions"]) == 3


def test_acronym_from_initials(nlp):
    found = orgs_of(
        nlp, "Royal Berkshire Foundation Trust said costs rose. RBFT blamed agency staff."
    )
    assert found["Royal Berkshire Foundation Trust"]["aliases"] == ["RBFT"]


def test_short_form_is_alias_not_new_org(nlp):
    found = orgs_of(
        nlp,
        "Chesterfield Royal Hospital Foundation Trust was fined. Chesterfield "
        "Royal said it would appeal.",
    )
    assert list(found) == ["Chesterfield Royal Hospital Foundation Trust"]
    assert found["Chesterfield Royal Hospital Foundation Trust"]["aliases"] == [
        "Chesterfield Royal"
    ]


def test_possessive_and_ccg_not_a_person(nlp):
    doc = nlp("Wakefield CCG’s chief officer resigned. Leeds CCG said it would help.")
    names = {o["name"]: o["type"] for o in doc._.organisations}
    assert names == {"Wakefield CCG": "commissioner", "Leeds CCG": "commissioner"}
    first = doc._.organisations[0]["mentions"][0]
    assert first["text"] == "Wakefield CCG"
    assert doc.text[first["start"] : first["end"]] == "Wakefield CCG"


def test_the_nhs_as_noun_but_not_as_classifier(nlp):
    doc = nlp("Pressure is building across the NHS. NHS trusts and NHS management are stretched.")
    assert [(o["name"], len(o["mentions"])) for o in doc._.organisations] == [("NHS", 1)]
    assert doc._.organisations[0]["type"] == "national_body"


def test_ner_fallback_for_companies_and_media(nlp):
    found = orgs_of(nlp, "The trust hired consultancy Deloitte, The Yorkshire Post reported.")
    assert found["Deloitte"]["type"] == "company"
    assert found["The Yorkshire Post"]["type"] == "media"


def test_counts_are_not_organisations(nlp):
    assert nlp("Twelve CCGs said they would merge.")._.organisations == []
    assert nlp("Hospital trusts’ spending rose.")._.organisations == []


def test_spans_carry_name_and_type(nlp):
    doc = nlp("Wakefield Clinical Commissioning Group met. Wakefield CCG agreed.")
    spans = doc.spans["orgs"]
    assert [s.text for s in spans] == ["Wakefield Clinical Commissioning Group", "Wakefield CCG"]
    assert {s._.org_name for s in spans} == {"Wakefield Clinical Commissioning Group"}
    assert {s._.org_type for s in spans} == {"commissioner"}


def test_component_pickles(nlp):
    component = nlp.get_pipe("policywatch_orgs")
    clone = pickle.loads(pickle.dumps(component))
    assert isinstance(clone, OrgRecognizer)


def test_sentence_initial_participle_is_not_part_of_the_name(nlp):
    found = orgs_of(
        nlp, "Elsewhere it rose.\n\nNeighbouring Weald Coast Foundation Trust was rated good."
    )
    assert list(found) == ["Weald Coast Foundation Trust"]


def test_merger_partner_named_bare_takes_the_kind(nlp):
    found = orgs_of(
        nlp,
        "Kirkby CCG and Ormskirk CCG will merge. From April, Kirkby and Ormskirk "
        "join Sefton Coast.",
    )
    assert found["Sefton Coast CCG"]["aliases"] == ["Sefton Coast"]
    assert found["Kirkby CCG"]["aliases"] == ["Kirkby"]


def test_page_tagline_is_not_news(nlp):
    text = "HSJ’s round-up of Monday’s must-read stories\n\nWakefield CCG has a new chair."
    assert set(orgs_of(nlp, text)) == {"Wakefield CCG"}


def test_nhs_prefix_and_long_form_are_one_body(nlp):
    found = orgs_of(nlp, "NHS Fenland Integrated Care Board met. Fenland ICB’s chair spoke.")
    assert list(found) == ["NHS Fenland Integrated Care Board"]
    assert found["NHS Fenland Integrated Care Board"]["aliases"] == ["Fenland ICB"]


def test_company_suffix_and_its_short_form(nlp):
    found = orgs_of(
        nlp, "Coastline Care Partnerships Ltd bid for the contract. Later, Coastline Care withdrew."
    )
    assert list(found) == ["Coastline Care Partnerships Ltd"]
    assert found["Coastline Care Partnerships Ltd"]["type"] == "company"
    assert found["Coastline Care Partnerships Ltd"]["aliases"] == ["Coastline Care"]


def test_count_of_bodies_in_an_area_is_not_a_body(nlp):
    assert orgs_of(nlp, "Three Kestrel CCGs will merge next April.") == {}


def test_gazetteer_word_opening_a_sentence_as_common_word(nlp):
    assert orgs_of(nlp, "Labour costs rose sharply at the trust.") == {}
    assert orgs_of(nlp, "Labour said the plan would fail.")["Labour"]["type"] == "other"


def test_regional_ambulance_service_named_by_compass_points(nlp):
    got = orgs_of(nlp, "South Western Ambulance Service NHS Foundation Trust recruited 200 staff.")
    assert got["South Western Ambulance Service NHS Foundation Trust"]["type"] == "provider"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("On Wearside, Sunderland CCG agreed the plan.", "Sunderland CCG"),
        (
            "Elsewhere in the South West, Cornwall Partnership NHS Foundation Trust opened a unit.",
            "Cornwall Partnership NHS Foundation Trust",
        ),
        # a comma list of places ending in "and" is still one name
        (
            "Residents in Ashby, Coalville and Hinckley CCG were consulted.",
            "Ashby, Coalville and Hinckley CCG",
        ),
        (
            "Nearby Hillside Community Hospital NHS Trust kept its beds.",
            "Hillside Community Hospital NHS Trust",
        ),
    ],
)
def test_place_adverbials_and_leading_adjectives_stay_outside_names(nlp, text, name):
    assert list(orgs_of(nlp, text)) == [name]


def test_local_healthwatch_is_named_by_its_area(nlp):
    got = orgs_of(
        nlp, "Healthwatch Isle of Man said patients were confused. Healthwatch England agreed."
    )
    assert set(got) == {"Healthwatch Isle of Man", "Healthwatch England"}


def test_multi_word_bracketed_short_form_is_an_alias(nlp):
    got = orgs_of(
        nlp,
        "The plan was backed by NHS Kent and Medway Integrated Care Board (KM ICB). "
        "KM ICB's chief executive welcomed it.",
    )
    assert list(got) == ["NHS Kent and Medway Integrated Care Board"]
    assert got["NHS Kent and Medway Integrated Care Board"]["aliases"] == ["KM ICB"]
    assert len(got["NHS Kent and Medway Integrated Care Board"]["mentions"]) == 3


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (
            "The Brockley and Catford and Deptford trusts share a laboratory.",
            {"Brockley and Catford Trust", "Deptford Trust"},
        ),
        (
            "The Deptford North and Brockley and Catford trusts share a laboratory.",
            {"Deptford North Trust", "Brockley and Catford Trust"},
        ),
    ],
)
def test_double_and_coordination_under_a_plural_head(nlp, text, names):
    assert set(orgs_of(nlp, text)) == names


@pytest.mark.parametrize(
    ("text", "name", "kind"),
    [
        (
            "Brightpath, the mental health charity, said it welcomed the plan.",
            "Brightpath",
            "other",
        ),
        ("NHS England has hired the consultancy Halberd to review rotas.", "Halberd", "company"),
    ],
)
def test_names_described_by_their_kind_in_apposition(nlp, text, name, kind):
    assert orgs_of(nlp, text)[name]["type"] == kind


def test_a_person_described_by_an_organisation_is_no_organisation(nlp):
    assert orgs_of(nlp, "Jane Smith, the charity's director, said it was welcome.") == {}


def test_media_title_after_a_lowercase_the(nlp):
    got = orgs_of(nlp, "“It has taken a year,” he told the Bristol Post.")
    assert got["Bristol Post"]["type"] == "media"


def test_entity_completed_up_to_the_acronym_that_spells_it(nlp):
    got = orgs_of(
        nlp, "The Association of Community Pharmacy Directors (ACPD) said stocks were low."
    )
    assert list(got) == ["Association of Community Pharmacy Directors"]


def test_place_in_a_based_compound_is_no_organisation(nlp):
    assert orgs_of(nlp, "The Yeovil-based trust has spent £2m on agency staff this year.") == {}


def test_headline_short_form_of_a_full_name_is_that_body(nlp):
    got = orgs_of(
        nlp,
        "South Western Ambulance Service falls to requires improvement\n\n"
        "South Western Ambulance Service NHS Foundation Trust (SWAS) has dropped a grade.",
    )
    assert list(got) == ["South Western Ambulance Service NHS Foundation Trust"]
    assert (
        "South Western Ambulance Service"
        in got["South Western Ambulance Service NHS Foundation Trust"]["aliases"]
    )


@pytest.mark.parametrize(
    "text",
    [
        "Across the Fens, 12 practices are short of GPs.",
        "The board wants one service for people from the Peak District to Tamworth.",
    ],
)
def test_places_used_as_places_are_not_organisations(nlp, text):
    assert orgs_of(nlp, text) == {}


def test_short_police_name_is_the_national_force(nlp):
    got = orgs_of(nlp, "The Metropolitan Police is investigating. The Met said it had no comment.")
    assert got["Metropolitan Police"]["aliases"] == ["Met"]


def test_bare_list_after_colon_following_a_clause(nlp):
    found = orgs_of(
        nlp, "Four CCGs were rated outstanding: Alderbury, Brackwell, Cray Valley and Dunmore."
    )
    assert set(found) == {"Alderbury CCG", "Brackwell CCG", "Cray Valley CCG", "Dunmore CCG"}
    assert found["Cray Valley CCG"]["aliases"] == ["Cray Valley"]
    assert found["Dunmore CCG"]["type"] == "commissioner"


def test_colon_list_keeps_names_with_and_whole(nlp):
    found = orgs_of(nlp, "Two councils have objected: Rossmoor and Stanwick, and Tidewell.")
    assert set(found) == {"Rossmoor and Stanwick Council", "Tidewell Council"}
    assert found["Tidewell Council"]["type"] == "government"


def test_colon_list_of_trusts_is_typed_provider(nlp):
    found = orgs_of(nlp, "Three trusts were fined: Oakridge, Pelham and Quarry Bank.")
    assert set(found) == {"Oakridge Trust", "Pelham Trust", "Quarry Bank Trust"}
    assert {o["type"] for o in found.values()} == {"provider"}


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("One care home, Willowmere House, was rated inadequate.", {"Willowmere House"}),
        (
            "Three care homes – Oak Lodge, Ash Court and Yew Manor – were closed.",
            {"Oak Lodge", "Ash Court", "Yew Manor"},
        ),
        ("A nursing home – Heron Court – was placed in special measures.", {"Heron Court"}),
        ("The practice, Northgate Surgery, said it was sorry.", {"Northgate Surgery"}),
        (
            "A sister home run by the same firm, Rowan Garth in Little Hale, was rated good.",
            {"Rowan Garth"},
        ),
        (
            "A care home in the town has been rated inadequate. Inspectors made a visit to "
            "Elm Garth in Fordham in May.",
            {"Elm Garth"},
        ),
        (
            "A care home was rated inadequate.\n\nSt Ulric’s Court, which has 30 beds, had "
            "been rated good in 2020.",
            {"St Ulric’s Court"},
        ),
        (
            "Patients at Brambleford Medical Centre and Hollin Surgery were moved.",
            {"Brambleford Medical Centre", "Hollin Surgery"},
        ),
    ],
)
def test_care_homes_and_practices_are_providers(nlp, text, names):
    found = orgs_of(nlp, text)
    assert set(found) == names
    assert {o["type"] for o in found.values()} == {"provider"}


def test_care_home_without_a_name_gives_nothing(nlp):
    found = orgs_of(nlp, "Wakefield CCG said the care home, which is run by Sunrise, would close.")
    assert "Wakefield CCG" in found
    assert not any("which" in name for name in found)


def test_colon_list_of_groups_in_a_ccg_story(nlp):
    found = orgs_of(
        nlp,
        "Harlow CCG is merging. The review names several groups alongside it: "
        "Eastholm, Fenwick and Garside.",
    )
    assert {"Eastholm CCG", "Fenwick CCG", "Garside CCG"} <= set(found)


def test_place_after_a_home_in_a_town_is_not_a_home(nlp):
    found = orgs_of(nlp, "A care home in Leeds, Yorkshire, was rated good by the CQC.")
    assert "Yorkshire" not in found


def test_visited_place_without_an_unnamed_home_is_not_a_home(nlp):
    found = orgs_of(nlp, "The care home minister made a visit to Pelham Green on Friday.")
    assert "Pelham Green" not in found


@pytest.mark.parametrize(
    ("text", "media"),
    [
        ("The Ward Round\nIssue 48 | 14 March 2024\n\nHollin Vale NHS Trust said ...", True),
        ("Care Home Weekly\nNews for the people who run homes\n\nA home closed.", True),
        ("Morning briefing\nYour health news | 3 May 2024\n\nA trust said ...", False),
        ("Trust Placed In Special Measures\nPublished: 3 May 2024\n\nA trust ...", False),
        ("NHS Kelsoby\nFinance report to the board, month 6 2024/25\n\nThe board ...", False),
        ("Harrow Lane Trust\nSummary of the board meeting, 4 June 2024\n\nIt ...", False),
    ],
)
def test_newsletter_masthead_names_its_publication(nlp, text, media):
    found = orgs_of(nlp, text)
    title = text.split("\n", 1)[0]
    assert (title in found and found[title]["type"] == "media") is media


@pytest.mark.parametrize(
    "text",
    [
        "Rowan Garth’s manager, Ellie Brandt, said her staff were pleased.",
        "Ellie Brandt, regional organiser for Unison, said members were angry.",
    ],
)
def test_person_beside_a_job_title_is_not_an_organisation(nlp, text):
    assert "Ellie Brandt" not in orgs_of(nlp, text)


def test_sentence_adverb_before_a_comma_is_not_part_of_the_name(nlp):
    orgs = orgs_of(nlp, "Separately, Brookvale Surgery was downgraded to requires improvement.")
    assert "Brookvale Surgery" in orgs
    assert not any(name.startswith("Separately") for name in orgs)
