"""Tests for boards named by their area (nlp/org_boards.py) and the organisation rules added
with them: national branches, lowercase "NHS trust", acting hospitals, coordinations settled
by names the document uses whole, and the not-an-organisation filters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp.extract import load_pipeline


@pytest.fixture(scope="module")
def nlp():
    return load_pipeline()


def orgs_of(nlp, text):
    return {o["name"]: o for o in nlp(text)._.organisations}


def test_welsh_boards_named_by_area_in_a_coordination(nlp):
    found = orgs_of(
        nlp,
        "Welsh ministers said the Powys, Cwm Taf and Aneurin Bevan health boards had balanced "
        "their books.",
    )
    assert {"Powys Health Board", "Cwm Taf Health Board", "Aneurin Bevan Health Board"} <= set(
        found
    )
    assert all(found[n]["type"] == "provider" for n in found if n.endswith("Health Board"))


def test_known_area_with_and_inside_stays_whole(nlp):
    found = orgs_of(
        nlp,
        "Both Abertawe Bro Morgannwg and Cardiff and Vale health boards expect overspends, "
        "the Welsh Government said.",
    )
    assert "Abertawe Bro Morgannwg Health Board" in found
    assert "Cardiff and Vale Health Board" in found
    assert "Vale Health Board" not in found


def test_bare_area_joins_the_full_board_name(nlp):
    found = orgs_of(
        nlp,
        "Hywel Dda University Health Board expects a deficit. Across Wales, boards are "
        "struggling, and the Hywel Dda board blamed agency staff. Hywel Dda will publish a plan.",
    )
    board = found["Hywel Dda University Health Board"]
    assert {"Hywel Dda", "Hywel Dda board"} <= set(board["aliases"])
    assert [n for n in found if "Hywel" in n] == ["Hywel Dda University Health Board"]


def test_bare_area_needs_boards_of_its_nation_and_is_no_place(nlp):
    # no talk of boards: the county is a place
    assert orgs_of(nlp, "Floods closed roads across Powys on Sunday.") == {}
    found = orgs_of(
        nlp,
        "Scottish health boards asked for loans. Tayside needs £3m, and schools in Fife "
        "closed. Fife Council agreed.",
    )
    assert "NHS Tayside" in found
    assert found["NHS Tayside"]["aliases"] == ["Tayside"]
    assert "NHS Fife" not in found


def test_scottish_boards_keep_and_inside_known_names(nlp):
    found = orgs_of(
        nlp,
        "Four Scottish boards need brokerage: NHS Lothian, NHS Dumfries and Galloway, "
        "NHS Shetland and NHS 24.",
    )
    assert {"NHS Lothian", "NHS Dumfries and Galloway", "NHS Shetland", "NHS 24"} <= set(found)


def test_nhs_area_is_an_integrated_care_board(nlp):
    found = orgs_of(nlp, "NHS Kestrel Vale has set a deficit plan of £12m for the year.")
    assert found["NHS Kestrel Vale"]["type"] == "commissioner"


def test_nhs_area_heading_with_commas_fills_its_line(nlp):
    text = "NHS Alder, Brook and Cray\nThe ICB reported a deficit of £4m."
    assert "NHS Alder, Brook and Cray" in orgs_of(nlp, text)


def test_nhs_plans_and_campaign_names_are_no_boards(nlp):
    found = orgs_of(
        nlp, "The NHS Long Term Plan was debated. Campaigners from Keep Our NHS Safe marched."
    )
    assert not any(n.startswith("NHS ") for n in found)


def test_national_branch_is_its_own_body(nlp):
    found = orgs_of(nlp, "BMA Scotland and BBC Wales both reported the figures.")
    assert found["BMA Scotland"]["type"] == "other"
    assert found["BBC Wales"]["type"] == "media"
    assert "BBC" not in found


def test_nation_party_is_its_own_party(nlp):
    found = orgs_of(nlp, "The Welsh Conservatives criticised the health minister.")
    assert list(found) == ["Welsh Conservatives"]


def test_lowercase_nhs_trust_is_a_provider(nlp):
    found = orgs_of(nlp, "Lindum Coast NHS trust reported a loss of £2m in March.")
    assert found["Lindum Coast NHS trust"]["type"] == "provider"


def test_plural_lowercase_nhs_trusts_split_with_shared_suffix(nlp):
    found = orgs_of(nlp, "Kirkby and Moorside NHS trusts will share a chief executive.")
    assert set(found) == {"Kirkby NHS Trust", "Moorside NHS Trust"}


def test_singular_head_keeps_commas_and_and(nlp):
    found = orgs_of(nlp, "Ashby, Marlow and Fenton Mental Health Trust reported a deficit.")
    assert list(found) == ["Ashby, Marlow and Fenton Mental Health Trust"]


def test_coordination_split_by_a_name_used_whole(nlp):
    found = orgs_of(
        nlp,
        "Oxbury and Lyne NHS Foundation Trust is in talks. Stanford Vale and Oxbury and Lyne "
        "foundation trusts will merge.",
    )
    assert set(found) == {"Oxbury and Lyne NHS Foundation Trust", "Stanford Vale Foundation Trust"}


def test_hospital_acting_is_a_provider_and_a_site_is_not(nlp):
    found = orgs_of(
        nlp,
        "A new wing opened at Pendle General Hospital. Brookfield Hospital, which overspent "
        "its budget by £3m, blamed agency costs. Income at Ashgrove Eye Hospital fell.",
    )
    assert "Pendle General Hospital" not in found
    assert found["Brookfield Hospital"]["type"] == "provider"
    assert "Ashgrove Eye Hospital" in found


def test_branch_surgery_is_a_site(nlp):
    found = orgs_of(
        nlp, "Eastgate Medical Centre and its branch at Quay Street Surgery closed on Friday."
    )
    assert "Eastgate Medical Centre" in found
    assert "Quay Street Surgery" not in found


def test_practice_named_with_a_capital_the(nlp):
    found = orgs_of(nlp, "Inspectors rated The Family Practice Inadequate for being safe.")
    assert "Family Practice" in found
    assert not any("Inadequate" in n for n in found)


def test_care_home_after_its_operator(nlp):
    found = orgs_of(nlp, "Another Orchard home, Linden Court in Derby, was rated inadequate.")
    assert found["Linden Court"]["type"] == "provider"


def test_ner_ratings_prepositions_and_listed_places_are_not_organisations(nlp):
    found = orgs_of(
        nlp,
        "Its overall rating of Inadequate is unchanged. Across England, trusts overspent. "
        "Teams in Stevenage and Hitchin were inspected.",
    )
    assert not {"Inadequate", "Across England", "Stevenage"} & set(found)


def test_plural_appositive_noun_names_a_firm(nlp):
    found = orgs_of(nlp, "The board hired the accountants Pelling Marsh to review its plans.")
    assert found["Pelling Marsh"]["type"] == "company"


def _head_patterns() -> list[dict]:
    path = Path(__file__).resolve().parents[1] / "nlp" / "data" / "orgs_patterns.jsonl"
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.mark.parametrize("entry", _head_patterns(), ids=lambda e: e["id"])
def test_each_head_pattern_reads_its_example(nlp, entry):
    doc = nlp(entry["example"])
    matcher = nlp.get_pipe("policywatch_orgs").head_matcher
    fired = {doc.vocab.strings[match_id] for match_id, _, _ in matcher(doc)}
    assert entry["id"] in fired
    found = {o["name"] for o in doc._.organisations}
    assert set(entry["example_names"]) <= found


def test_review_title_is_no_organisation(nlp):
    found = orgs_of(nlp, "Review of Integrated Care Boards\nThe review was published today.")
    assert found == {}


def test_unambiguous_welsh_area_needs_no_board_word(nlp):
    found = orgs_of(nlp, "Ministers said they would work with Hywel Dda on recruitment.")
    assert "Hywel Dda Health Board" in found


def test_run_stops_at_a_known_body_joined_by_and(nlp):
    found = orgs_of(nlp, "Healthwatch Ashby and Ashby County Council wrote to the trust.")
    assert {"Healthwatch Ashby", "Ashby County Council"} <= set(found)


def test_practice_head_and_phrases_that_name_no_practice(nlp):
    found = orgs_of(
        nlp,
        "The Code of Practice was revised by the Chief Inspector of General Practice. "
        "Inspectors rated the Rowan Tree Practice good.",
    )
    assert list(found) == ["Rowan Tree Practice"]


def test_acronym_without_nhs_is_an_alias(nlp):
    found = orgs_of(
        nlp, "Ashby and Wyre NHS Foundation Trust is in special measures. AWFT's chair resigned."
    )
    assert found["Ashby and Wyre NHS Foundation Trust"]["aliases"] == ["AWFT"]


def test_care_home_head_is_a_provider(nlp):
    found = orgs_of(nlp, "Beechcroft Care Home, run by Hollin Healthcare, was rated good.")
    assert found["Beechcroft Care Home"]["type"] == "provider"
    assert found["Hollin Healthcare"]["type"] == "company"


def test_lowercase_surgery_named_after_the_and_places_before_it(nlp):
    found = orgs_of(
        nlp, "The Quarry Lane surgery in Elmbury has left special measures, the CQC said."
    )
    assert "Quarry Lane surgery" in found
    assert "Elmbury" not in found
    assert orgs_of(nlp, "Inspectors rated a Manchester GP surgery as inadequate.") == {}
    assert "Haverhill surgery" not in orgs_of(nlp, "Haverhill surgery stays open, it said.")


def test_scottish_and_welsh_national_bodies_have_their_types(nlp):
    found = orgs_of(
        nlp, "Audit Scotland and Healthcare Inspectorate Wales published reports on Tuesday."
    )
    assert found["Audit Scotland"]["type"] == "government"
    assert found["Healthcare Inspectorate Wales"]["type"] == "regulator"


def test_scottish_board_named_area_then_nhs_board(nlp):
    found = orgs_of(nlp, "Grampian NHS Board delayed its vote while the Tayside board met.")
    assert {"NHS Grampian", "NHS Tayside"} <= set(found)


def test_person_with_title_after_and_places_after_in_are_not_organisations(nlp):
    found = orgs_of(
        nlp,
        "Amanda Kettleby, chief executive of NHS England, spoke. Patients in Wells and "
        "Street will see changes, Somerset ICB said.",
    )
    assert set(found) == {"NHS England", "Somerset ICB"}


def test_sites_given_as_examples_of_a_site_noun_are_places(nlp):
    found = orgs_of(
        nlp,
        "Inspectors visited inpatient units including Larch House, and praised Ormsby Care Ltd.",
    )
    assert "Larch House" not in found


def test_bare_names_listed_with_a_known_body_take_its_kind(nlp):
    found = orgs_of(
        nlp,
        "Ashwell CCG kept its outstanding rating. Ashwell was one of four groups rated "
        "outstanding, alongside Brindle, Corsham and Denholm.",
    )
    assert {"Ashwell CCG", "Brindle CCG", "Corsham CCG", "Denholm CCG"} <= set(found)


def test_places_listed_without_talk_of_bodies_stay_places(nlp):
    found = orgs_of(
        nlp, "Ashwell CCG covers three towns. Ashwell, Brindle and Corsham residents replied."
    )
    assert "Brindle CCG" not in found and "Corsham CCG" not in found


def test_shared_nhs_prefix_is_distributed(nlp):
    found = orgs_of(nlp, "NHS Ashby, Brindle and Corsham CCGs will merge in April.")
    assert set(found) == {"NHS Ashby CCG", "NHS Brindle CCG", "NHS Corsham CCG"}


def test_direction_before_and_stays_with_its_conjunct(nlp):
    found = orgs_of(nlp, "Ashby North, Ashby South and East and Ashby West CCGs merged.")
    assert set(found) == {"Ashby North CCG", "Ashby South and East CCG", "Ashby West CCG"}
