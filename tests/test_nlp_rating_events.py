"""Tests for ratings read as events (nlp/rating_events.py, rating_periods.py, rating_bodies.py):
every named rule in nlp/data/rating_events.json on its own example sentence, and the event
fields (previous rating, direction, status) and ``why`` of each rating."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp.extract import load_pipeline

EVENTS = json.loads(
    (Path(__file__).parent.parent / "nlp" / "data" / "rating_events.json").read_text("utf-8")
)


@pytest.fixture(scope="module")
def nlp():
    return load_pipeline()


def find(ratings, org, value, period=None):
    """The rating of ``org`` with ``value`` (the one for ``period`` where there are several)."""
    got = [r for r in ratings if r["org"] == org and r["rating"] == value]
    assert got, f"no {value!r} rating for {org!r} in {ratings}"
    return next((r for r in got if r["period"] == period), got[0])


@pytest.mark.parametrize("example", EVENTS["examples"], ids=lambda e: ",".join(e["why"].values()))
def test_named_rule_on_its_example(nlp, example):
    rating = find(
        nlp(example["text"])._.ratings, example["org"], example["rating"], example["period"]
    )
    assert rating["period"] == example["period"]
    for key, value in example["why"].items():
        assert rating["why"][key] == value, rating["why"]


def test_downgrade_is_an_event_with_previous_rating_and_direction(nlp):
    ratings = nlp(
        "In 2024 the CQC downgraded Hollins Grove NHS Trust from good to inadequate."
    )._.ratings
    new = find(ratings, "Hollins Grove NHS Trust", "inadequate")
    assert (new["previous_rating"], new["direction"], new["status"]) == ("good", "down", "current")
    old = find(ratings, "Hollins Grove NHS Trust", "good")
    assert old["status"] == "previous"
    assert old["why"]["role"] == "old"


def test_upgrade_word_gives_direction_without_a_stated_previous_rating(nlp):
    ratings = nlp("The CQC has upgraded Marsh Lane Surgery to good.")._.ratings
    rating = find(ratings, "Marsh Lane Surgery", "good")
    assert (rating["previous_rating"], rating["direction"]) == (None, "up")


def test_special_measures_move_has_its_own_direction_not_the_sentences(nlp):
    ratings = nlp(
        "Brackley Fen NHS Trust moved up to good this week as Orrin Lane Surgery went into "
        "special measures."
    )._.ratings
    placed = find(ratings, "Orrin Lane Surgery", "special measures")
    assert (placed["direction"], placed["status"]) == ("down", "current")
    assert find(ratings, "Brackley Fen NHS Trust", "good")["direction"] == "up"


def test_special_measures_history_steps_are_previous_until_the_last(nlp):
    ratings = nlp(
        "Tarrow Bridge NHS Trust entered special measures in 2014, came out in 2016 and "
        "went back in 2019."
    )._.ratings
    steps = {(r["rating"], r["period"]): r for r in ratings}
    assert steps[("special measures", "2014")]["status"] == "previous"
    assert steps[("out of special measures", "2016")]["status"] == "previous"
    last = steps[("special measures", "2019")]
    assert (last["status"], last["previous_rating"], last["direction"]) == (
        "current",
        "out of special measures",
        "down",
    )


def test_past_tense_rating_in_dated_release_keeps_no_period(nlp):
    text = (
        "Practice news\n\n3 March 2022 – Pellow Lane Surgery was rated inadequate after a "
        "visit that inspectors made some years ago.\n"
    )
    rating = find(nlp(text)._.ratings, "Pellow Lane Surgery", "inadequate")
    assert rating["period"] is None


def test_undated_previous_rating_merges_with_the_dated_one(nlp):
    text = (
        "Dunsford NHS Trust was rated inadequate in 2018. In 2021 the CQC upgraded "
        "Dunsford NHS Trust from inadequate to good."
    )
    got = {(r["rating"], r["period"]) for r in nlp(text)._.ratings}
    assert got == {("inadequate", "2018"), ("good", "2021")}


def test_every_rating_has_event_fields_and_why(nlp):
    ratings = nlp("Wakefield CCG was rated outstanding by NHS England for 2019-20.")._.ratings
    assert ratings
    for r in ratings:
        assert {"previous_rating", "direction", "status", "why"} <= r.keys()
        assert {"pattern", "role", "body", "period"} <= r["why"].keys()


def test_special_measures_programme_is_no_placement(nlp):
    text = (
        "Brackley Road Surgery was rated inadequate in 2015, before the special measures "
        "scheme for practices had been agreed."
    )
    got = {(r["rating"], r["period"]) for r in nlp(text)._.ratings}
    assert got == {("inadequate", "2015")}


def test_negated_neighbouring_verb_does_not_cancel_a_placement(nlp):
    text = (
        "When inspectors came back in May 2016 they saw that the backlog had not shrunk, and "
        "placed Brackley Road Surgery in special measures."
    )
    rating = find(nlp(text)._.ratings, "Brackley Road Surgery", "special measures")
    assert rating["period"] == "2016"


def test_negated_placement_gives_nothing(nlp):
    text = "Brackley Road Surgery would not be put into special measures, the CQC said."
    assert nlp(text)._.ratings == []


def test_it_points_to_the_subject_of_the_sentence_naming_two_bodies(nlp):
    text = (
        "Quayside Medical Centre, and its branch at Harbour Row Surgery, closed on Monday. "
        "It was one of the first practices inspected, and was rated inadequate in 2014."
    )
    got = {(r["org"], r["rating"], r["period"]) for r in nlp(text)._.ratings}
    assert got == {("Quayside Medical Centre", "inadequate", "2014")}


def test_modal_of_a_coordinated_verb_does_not_make_a_rating_hypothetical(nlp):
    text = (
        "• March 2019 – the CQC rates Dunsford NHS Trust good and says the board should keep "
        "its focus on staffing."
    )
    rating = find(nlp(text)._.ratings, "Dunsford NHS Trust", "good")
    assert rating["period"] == "2019"


def test_modal_on_the_rating_verb_makes_it_hypothetical(nlp):
    assert nlp("Dunsford NHS Trust could be rated inadequate next year.")._.ratings == []


def test_a_named_service_of_a_trust_stays_a_service(nlp):
    text = "Inspectors rated the maternity service at Dunsford NHS Trust inadequate in 2021."
    assert nlp(text)._.ratings == []


def test_rating_table_row_gives_current_and_previous_with_direction(nlp):
    ratings = nlp(
        "How the homes were rated\n\nHome | Town | Rating 2023 | Previous rating\n"
        "Beck House | Selby | Requires improvement | Good\nThe Willows | Goole | Good | Good\n"
    )._.ratings
    current = find(ratings, "Beck House", "requires improvement", "2023")
    assert (current["previous_rating"], current["direction"], current["status"]) == (
        "good",
        "down",
        "current",
    )
    assert find(ratings, "Willows", "good", "2023")["direction"] == "same"
    assert find(ratings, "Willows", "good", None)["status"] == "previous"
    assert not [r for r in ratings if r["org"] in ("Selby", "Goole", "Home")]


def test_table_without_a_rating_column_gives_no_rating(nlp):
    ratings = nlp(
        "Staffing by home\n\nHome | Town | Vacancies\nBeck House | Selby | Good\n"
    )._.ratings
    assert ratings == []


def test_dated_document_keeps_its_year_over_a_history_in_the_naming_sentence(nlp):
    ratings = nlp(
        "Published: 2 May 2019\n\nA hospital trust has been placed back into special measures. "
        "Ravensworth NHS Trust was first placed in special measures in 2015."
    )._.ratings
    assert find(ratings, "Ravensworth NHS Trust", "special measures", "2019")["period"] == "2019"


def test_dated_release_first_line_is_no_timeline_item(nlp):
    ratings = nlp(
        "12 May 2021 – Colbeck NHS Trust has been rated good by the CQC. The trust was rated "
        "inadequate in 2017."
    )._.ratings
    assert find(ratings, "Colbeck NHS Trust", "inadequate")["period"] == "2017"
    assert find(ratings, "Colbeck NHS Trust", "good")["why"]["period"] != "leading_date"


def _rerate_with_body(nlp, text, start, end, name, org_type):
    """Run the ratings component again with one body the organisation finder typed
    ``org_type`` and named ``name`` (a finder's slip the rating rules must survive)."""
    from spacy.tokens import Span

    doc = nlp(text)
    doc.spans["orgs"] = [Span(doc, start, end, label=org_type, kb_id=name)]
    return nlp.get_pipe("policywatch_ratings")(doc)._.ratings


def test_name_suffix_makes_a_body_typed_otherwise_rateable(nlp):
    # tokens 4-8: "Glanmor University Health Board"
    ratings = _rerate_with_body(
        nlp,
        "The Welsh Government put Glanmor University Health Board in special measures in 2017.",
        4,
        8,
        "Glanmor University Health Board",
        "other",
    )
    rating = find(ratings, "Glanmor University Health Board", "special measures")
    assert (rating["period"], rating["why"]["rateable"]) == ("2017", "name_suffix")


def test_rating_word_swallowed_by_the_name_is_trimmed(nlp):
    # tokens 3-7: "Larkhill Family Practice Inadequate"
    ratings = _rerate_with_body(
        nlp,
        "Inspectors rated The Larkhill Family Practice Inadequate overall in 2020.",
        3,
        7,
        "Larkhill Family Practice Inadequate",
        "provider",
    )
    rating = find(ratings, "Larkhill Family Practice", "inadequate")
    assert (rating["period"], rating["why"]["name"]) == ("2020", "trimmed_rating_word")


def test_table_row_body_named_again_in_prose_can_be_rated(nlp):
    ratings = nlp(
        "Published: 4 July 2023\n\nHome | Rating 2023 | Previous rating\n"
        "Beck House | Inadequate | Good\nThe Willows | Good | Good\n\n"
        "Beck House has been placed in special measures.\n"
    )._.ratings
    placed = find(ratings, "Beck House", "special measures", "2023")
    assert (placed["period"], placed["why"]["rateable"]) == ("2023", "table_row")
    assert not [r for r in ratings if r["org"] == "Willows" and "special" in r["rating"]]


def test_care_homes_named_without_a_head_word_are_providers(nlp):
    doc = nlp(
        "Two care homes in Ledby were inspected in May. Hollin Grange was rated good. "
        "The Quay, a 24-bed home on the front, was rated inadequate. "
        "Dr Anna Lodge, a local GP, said families were worried."
    )
    orgs = {o["name"]: o["type"] for o in doc._.organisations}
    assert orgs.get("Hollin Grange") == "provider"
    assert orgs.get("Quay") == "provider" or orgs.get("The Quay") == "provider"
    assert not any("Lodge" in name for name in orgs)


def test_a_place_that_opens_a_body_s_name_is_not_the_rated_body(nlp):
    ratings = nlp(
        "Cresswell Care Trust owns several homes.\n"
        "A care home in Cresswell has been rated inadequate by the Care Quality Commission.\n"
        "Inspectors said Beacon View Care Home was short of staff."
    )._.ratings
    assert {r["org"] for r in ratings} == {"Beacon View Care Home"}


def test_a_negated_verb_still_blocks_a_rating(nlp):
    ratings = nlp("Oak Lane NHS Trust has never been rated inadequate.")._.ratings
    assert ratings == []


def test_services_charities_and_areas_are_not_rated_bodies(nlp):
    ratings = nlp(
        "Oakmere NHS Trust was rated good in 2022. Its eating disorder service, which "
        "inspectors rated outstanding, has been cut back.\n"
        "Birch Lea Care Home is owned by the charity Wellmere Care Trust, which repaired "
        "the roof while the home was in special measures.\n"
        "NHS Ashby Vale ICB commissions 40 practices.\n"
        "Across the Ashby Vale, 12 practices are rated requires improvement."
    )._.ratings
    assert {(r["org"], r["rating"]) for r in ratings} <= {
        ("Oakmere NHS Trust", "good"),
        ("Birch Lea Care Home", "special measures"),
    }


def test_the_body_running_a_practice_in_a_relative_clause_is_not_rated(nlp):
    ratings = nlp(
        "The Larch Surgery, which the Wexley GP Federation runs for 9,000 patients across two "
        "sites, has been upgraded from inadequate to requires improvement but will remain in "
        "special measures for six months, the CQC said."
    )._.ratings
    assert "Wexley GP Federation" not in {r["org"] for r in ratings}


def test_it_equated_with_a_kind_points_back_to_a_body_of_that_kind(nlp):
    ratings = nlp(
        "Wexcombe CCG has been placed in financial special measures by NHS England. The "
        "decision follows a warning to Wexcombe NHS Trust last year. It is the third "
        "commissioner in the region to enter the regime."
    )._.ratings
    bodies = {r["org"] for r in ratings if r["rating"] == "special measures"}
    assert "Wexcombe NHS Trust" not in bodies
    assert "Wexcombe CCG" in bodies


def test_another_home_beside_an_unnamed_one_is_not_the_body_named_next(nlp):
    ratings = nlp(
        "A care home where a resident fell has been rated inadequate, while another home "
        "in the same town has moved up to good.\n\nKestrel Court, which looks after up to "
        "40 people, had been rated requires improvement in 2021."
    )._.ratings
    assert find(ratings, "Kestrel Court", "inadequate")["why"]["body"] == (
        "named_after_unnamed_subject"
    )
    assert not [r for r in ratings if r["rating"] == "good"]


def test_home_named_where_inspectors_visit_gets_the_unnamed_homes_rating(nlp):
    ratings = nlp(
        "Published: 2 May 2024\n\nA care home where meals were missed has been rated "
        "inadequate by the regulator.\n\nInspectors made a visit to Elm Garth in Fordham in "
        "March.\n\nA sister home run by the same firm, Rowan Garth in Little Hale, was rated "
        "good in 2023."
    )._.ratings
    assert find(ratings, "Elm Garth", "inadequate")["period"] == "2024"
    assert find(ratings, "Rowan Garth", "good")["period"] == "2023"


def test_title_without_full_stop_is_no_subject_of_the_first_lines_rating(nlp):
    ratings = nlp(
        "Care home where residents went without drinks placed in special measures\n\n"
        "Published: 2 May 2024\n\nA care home where meals were missed has been rated "
        "inadequate and put into special measures.\n\nInspectors made a visit to Rowan "
        "Garth in Little Hale in March."
    )._.ratings
    rating = find(ratings, "Rowan Garth", "inadequate")
    assert (rating["period"], rating["why"]["body"]) == ("2024", "named_after_unnamed_subject")


def test_ratings_listed_each_with_its_date_keep_their_own_years(nlp):
    ratings = nlp(
        "Marsh Vale NHS Foundation Trust had been rated requires improvement in 2021 and "
        "good in 2017."
    )._.ratings
    assert find(ratings, "Marsh Vale NHS Foundation Trust", "requires improvement")["period"] == (
        "2021"
    )
    assert find(ratings, "Marsh Vale NHS Foundation Trust", "good")["period"] == "2017"


def test_unnamed_trust_downgraded_in_a_participle_is_named_next_and_dated_by_the_release(nlp):
    ratings = nlp(
        "Published: 4 May 2024\n\nStaff shortages have led to a mental health trust being "
        "downgraded to inadequate.\n\nHollin Vale NHS Trust had been rated good at its last "
        "inspection in 2020."
    )._.ratings
    new = find(ratings, "Hollin Vale NHS Trust", "inadequate")
    assert (new["period"], new["why"]["body"]) == ("2024", "named_after_unnamed_subject")
    assert find(ratings, "Hollin Vale NHS Trust", "good")["period"] == "2020"


def test_earlier_rating_after_having_been_is_history_and_new_one_takes_the_masthead_year(nlp):
    ratings = nlp(
        "Evening Round\nYour health briefing | Tuesday 7 May 2024\n\nTrust downgraded\n"
        "Hollin Vale NHS Trust has been downgraded to requires improvement by the Care "
        "Quality Commission, having been rated good in 2020. Inspectors said waits were long."
    )._.ratings
    assert find(ratings, "Hollin Vale NHS Trust", "requires improvement")["period"] == "2024"
    assert find(ratings, "Hollin Vale NHS Trust", "good")["period"] == "2020"


def test_decision_told_on_a_weekday_is_news_of_the_dated_release(nlp):
    ratings = nlp(
        "Published 3 March 2024\n\nHollin Vale NHS Trust is now rated good. NHS England "
        "said on Thursday that it had agreed to take the trust out of special measures."
    )._.ratings
    rating = find(ratings, "Hollin Vale NHS Trust", "out of special measures")
    assert (rating["period"], rating["why"]["period"]) == ("2024", "dateline")


def test_a_body_judged_not_ready_to_leave_special_measures_has_not_left(nlp):
    ratings = nlp(
        "Corran Vale University Health Board has been in special measures since 2022. A union "
        "official said the board was still not ready to leave special measures."
    )._.ratings
    values = {(r["org"], r["rating"]) for r in ratings}
    assert ("Corran Vale University Health Board", "special measures") in values
    assert ("Corran Vale University Health Board", "out of special measures") not in values


def test_pronoun_for_special_measures_counts_only_after_an_exit_word(nlp):
    ratings = nlp(
        "Brindle Cross NHS Trust entered special measures in 2020 and inspectors praised them "
        "as a model for other regions."
    )._.ratings
    assert [(r["rating"], r["period"]) for r in ratings] == [("special measures", "2020")]


def test_bodies_read_from_list_items_and_appositions_are_recorded_as_organisations(nlp):
    doc = nlp(
        "Care home round-up\n\nThe regulator published reports on two homes in May 2023. The "
        "ratings are:\n\n- The Hollies, Dunmore – requires improvement\n- Ash Grange Care Home, "
        "Dunmore – good\n\nA care home near Tolby has also been rated inadequate. The home, "
        "Brackenmoor, is run by a family firm."
    )
    by_name = {o["name"]: o for o in doc._.organisations}
    assert by_name["Hollies"]["type"] == "provider"
    assert by_name["Brackenmoor"]["mentions"][0]["text"] == "Brackenmoor"
    rated = {(r["org"], r["rating"], r["period"]) for r in doc._.ratings}
    assert ("Hollies", "requires improvement", "2023") in rated
    assert ("Brackenmoor", "inadequate", None) in rated


def test_a_listed_body_named_again_in_prose_can_be_placed_in_special_measures_there(nlp):
    ratings = nlp(
        "Home ratings\n\nThe regulator published reports on two homes in May 2023. The ratings "
        "are:\n\n- The Hollies, Dunmore – inadequate\n- Ash Grange Care Home, Dunmore – good\n\n"
        "The Hollies, which Dunmore Care Ltd runs, has also been placed in special measures."
    )._.ratings
    assert ("Hollies", "special measures") in {(r["org"], r["rating"]) for r in ratings}
