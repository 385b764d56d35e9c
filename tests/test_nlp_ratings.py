"""Tests for the rating extractor (nlp/ratings.py): values, changes, periods, exclusions."""

from __future__ import annotations

import pytest

from nlp.extract import load_pipeline


@pytest.fixture(scope="session")
def nlp():
    return load_pipeline()


def ratings(nlp, text):
    return {(r["org"], r["rating"], r["period"]) for r in nlp(text)._.ratings}


def test_plain_ccg_rating_with_year_and_rater(nlp):
    doc = nlp("Wakefield CCG was rated outstanding by NHS England for 2019-20.")
    assert [(r["org"], r["rating"], r["period"], r["rater"]) for r in doc._.ratings] == [
        ("Wakefield CCG", "outstanding", "2019-20", "NHS England")
    ]
    r = doc._.ratings[0]
    assert doc.text[r["start"] : r["end"]] == "outstanding"
    assert r["sentence"] == doc.text


def test_change_gives_new_and_old_rating_with_previous_year(nlp):
    got = ratings(
        nlp,
        "Oldham and Rochdale CCGs each fell from good to requires improvement in "
        "the 2019-20 assessment.",
    )
    assert got == {
        ("Oldham CCG", "requires improvement", "2019-20"),
        ("Rochdale CCG", "requires improvement", "2019-20"),
        ("Oldham CCG", "good", "2018-19"),
        ("Rochdale CCG", "good", "2018-19"),
    }


def test_undated_cqc_change_has_no_period(nlp):
    got = ratings(
        nlp,
        "The CQC lifted Royal Cornwall Hospitals Trust’s rating from inadequate "
        "to requires improvement.",
    )
    assert got == {
        ("Royal Cornwall Hospitals Trust", "inadequate", None),
        ("Royal Cornwall Hospitals Trust", "requires improvement", None),
    }


def test_cqc_rating_takes_calendar_year(nlp):
    got = ratings(
        nlp,
        "The Care Quality Commission (CQC) rated Royal Cornwall Hospitals Trust "
        "inadequate in May 2017.",
    )
    assert got == {("Royal Cornwall Hospitals Trust", "inadequate", "2017")}


@pytest.mark.parametrize(
    "text",
    [
        "Twenty trusts were rated inadequate last year.",
        "Weston Area Health Trust was rated good in its draft report.",
        "Weston Area Health Trust could be rated inadequate if nothing changes.",
        "Wakefield CCG is making good progress on its plan.",
        "The CQC did not recommend that Pennine Acute Hospitals Trust leave special measures.",
    ],
)
def test_counts_drafts_hypotheticals_and_negations_are_not_ratings(nlp, text):
    assert nlp(text)._.ratings == []


def test_leaving_special_measures_states_no_placement_of_its_own(nlp):
    got = ratings(
        nlp,
        "Pennine Acute Hospitals Trust was taken out of special measures. Walsall "
        "Healthcare Trust is now out of special measures.",
    )
    assert got == {
        ("Pennine Acute Hospitals Trust", "out of special measures", None),
        ("Walsall Healthcare Trust", "out of special measures", None),
    }


def test_leaving_special_measures_implies_it_was_in_for_a_group_placed_there(nlp):
    got = ratings(
        nlp,
        "Two of the 11 trusts placed in special measures last year are to leave the regime. "
        "Pennine Acute Hospitals Trust was taken out of special measures.",
    )
    assert got == {
        ("Pennine Acute Hospitals Trust", "out of special measures", None),
        ("Pennine Acute Hospitals Trust", "special measures", None),
    }


def test_anaphor_takes_the_last_named_body(nlp):
    got = ratings(
        nlp,
        "Inspectors visited Colchester Hospital University Foundation Trust in "
        "March. The trust was rated inadequate and placed in special measures.",
    )
    assert got == {
        ("Colchester Hospital University Foundation Trust", "inadequate", None),
        ("Colchester Hospital University Foundation Trust", "special measures", None),
    }


def test_bullets_under_a_rating_header(nlp):
    got = ratings(
        nlp,
        "The groups rated outstanding for 2019-20 are:\n  • Wakefield CCG\n"
        "  • Oldham CCG\n\nOther news follows about Bury CCG.",
    )
    assert got == {
        ("Wakefield CCG", "outstanding", "2019-20"),
        ("Oldham CCG", "outstanding", "2019-20"),
    }


def test_relative_clause_rates_its_antecedent_group_only(nlp):
    got = ratings(
        nlp,
        "Wakefield CCG, formed from Wakefield North and Wakefield South CCGs, both "
        "of which were rated good for 2018-19, is new.",
    )
    assert got == {
        ("Wakefield North CCG", "good", "2018-19"),
        ("Wakefield South CCG", "good", "2018-19"),
    }


def test_body_named_among_a_rated_count(nlp):
    got = ratings(
        nlp, "In total, 12 groups were rated inadequate for 2019-20. Among them is Dorchester CCG."
    )
    assert got == {("Dorchester CCG", "inadequate", "2019-20")}


def test_numbered_group_in_special_measures(nlp):
    got = ratings(
        nlp,
        "Ministers discussed the 9 trusts placed in special measures. Walsall "
        "Healthcare Trust, one of the 9, has improved.",
    )
    assert got == {("Walsall Healthcare Trust", "special measures", None)}


def test_rating_spans(nlp):
    doc = nlp("Wakefield CCG was rated outstanding for 2019-20.")
    spans = doc.spans["ratings"]
    assert [s.text for s in spans] == ["outstanding"]
    assert spans[0]._.rating["org"] == "Wakefield CCG"


def test_only_the_body_in_the_rating_clause_is_rated(nlp):
    got = ratings(
        nlp,
        "Leeds Teaching Hospitals Trust remains rated requires improvement, while "
        "Wakefield CCG was rated outstanding.",
    )
    assert got == {
        ("Leeds Teaching Hospitals Trust", "requires improvement", None),
        ("Wakefield CCG", "outstanding", None),
    }
    got = ratings(nlp, "Wakefield CCG said Leeds Teaching Hospitals Trust was rated good.")
    assert got == {("Leeds Teaching Hospitals Trust", "good", None)}


def test_rating_words_without_rating_context(nlp):
    assert nlp("Wakefield CCG’s finances remain good.")._.ratings == []
    assert nlp("The overall picture at Leeds Teaching Hospitals Trust is good.")._.ratings == []


def test_plural_anaphor_and_relative_year(nlp):
    got = ratings(
        nlp,
        "NHS England rated CCGs for 2017-18. Less happy are Marshside and Eastholme CCGs, both "
        "rated inadequate. Each had been rated good a year earlier.",
    )
    assert got == {
        ("Marshside CCG", "inadequate", "2017-18"),
        ("Eastholme CCG", "inadequate", "2017-18"),
        ("Marshside CCG", "good", "2016-17"),
        ("Eastholme CCG", "good", "2016-17"),
    }


def test_ratings_listed_after_each_body(nlp):
    got = ratings(
        nlp,
        "In NHS England’s 2019-20 assessment Dunmore CCG was rated “good”, Elbridge CCG "
        "“requires improvement” and Fallow CCG “inadequate”.",
    )
    assert got == {
        ("Dunmore CCG", "good", "2019-20"),
        ("Elbridge CCG", "requires improvement", "2019-20"),
        ("Fallow CCG", "inadequate", "2019-20"),
    }


def test_council_rated_by_cqc(nlp):
    got = ratings(nlp, "The CQC rated Wessex County Council good for its adult social care.")
    assert got == {("Wessex County Council", "good", None)}


def test_headline_restating_a_dated_body_rating_adds_nothing(nlp):
    text = (
        "Heathfield trust moves up from good to outstanding\n\n"
        "Heathfield Hospitals Trust has been rated outstanding, up from the good rating it "
        "received in 2021."
    )
    assert ratings(nlp, text) == {
        ("Heathfield Hospitals Trust", "outstanding", None),
        ("Heathfield Hospitals Trust", "good", "2021"),
    }


@pytest.mark.parametrize(
    "text",
    [
        "Wexford Hospitals Trust was rated outstanding for caring.",
        "Wexford Hospitals Trust was rated inadequate in its maternity services.",
    ],
)
def test_service_and_domain_ratings_are_not_the_body_rating(nlp, text):
    assert nlp(text)._.ratings == []


def test_unknown_place_opening_a_sentence_still_names_a_body(nlp):
    assert ratings(nlp, "Dunmore CCG was rated good for 2017-18.") == {
        ("Dunmore CCG", "good", "2017-18")
    }
    assert ratings(nlp, "The inadequate-rated trust, Wexford Hospitals Trust, appealed.") == {
        ("Wexford Hospitals Trust", "inadequate", None)
    }


@pytest.mark.parametrize(
    "text",
    [
        "Surgical services at Fernley NHS Trust were rated inadequate, and urgent care at the "
        "trust was rated requires improvement.",
        "Fernley NHS Trust opened a clinic. Inspectors rated its maternity service good.",
        "Fernley NHS Trust challenged the findings. The draft report rated it inadequate overall.",
    ],
)
def test_service_subjects_and_draft_reports_give_no_rating(nlp, text):
    assert ratings(nlp, text) == set()


def test_coordinated_service_subject_after_the_body_rating(nlp):
    got = ratings(
        nlp,
        "Fernley NHS Trust was rated good, though its community mental health services remain "
        "rated inadequate.",
    )
    assert got == {("Fernley NHS Trust", "good", None)}


def test_a_number_of_pages_is_no_count_of_bodies(nlp):
    got = ratings(
        nlp,
        "Fernley NHS Trust appealed. After a review running to 400 pages, the final report "
        "published in March 2021 rated the trust good.",
    )
    assert got == {("Fernley NHS Trust", "good", "2021")}


def test_year_of_a_relative_clause_is_not_the_main_rating_year(nlp):
    got = ratings(
        nlp,
        "NHS England published its 2017-18 ratings. Beacon CCG, which was rated inadequate in "
        "2015-16, was rated good.",
    )
    assert got == {("Beacon CCG", "inadequate", "2015-16"), ("Beacon CCG", "good", "2017-18")}


def test_entering_the_regime_and_a_later_rating_in_a_coordinated_clause(nlp):
    got = ratings(
        nlp,
        "Special measures were imposed on many trusts that year. Marlow Vale NHS Trust entered "
        "the regime in May 2016 and has since been rated good.",
    )
    assert got == {
        ("Marlow Vale NHS Trust", "special measures", "2016"),
        ("Marlow Vale NHS Trust", "good", None),
    }


def test_unnamed_rated_subject_is_the_body_named_next(nlp):
    got = ratings(
        nlp,
        "A GP practice serving 6,000 patients in Ripon has been rated inadequate and placed in "
        "special measures by the Care Quality Commission. Inspectors who visited Oakwood "
        "Surgery in May found unread letters.",
    )
    assert got == {
        ("Oakwood Surgery", "inadequate", None),
        ("Oakwood Surgery", "special measures", None),
    }


def test_kept_annual_rating_takes_the_documents_year(nlp):
    got = ratings(
        nlp,
        "NHS England published its 2016-17 CCG ratings. Ashdown CCG kept its outstanding "
        "rating for a second year.",
    )
    assert got == {("Ashdown CCG", "outstanding", "2016-17")}


def test_coordinated_rating_words_each_with_their_own_year(nlp):
    got = ratings(
        nlp, "Pennine Lakes NHS Trust was rated good in 2018 and outstanding at its latest visit."
    )
    assert got == {
        ("Pennine Lakes NHS Trust", "good", "2018"),
        ("Pennine Lakes NHS Trust", "outstanding", None),
    }


def test_participle_rates_the_body_it_follows(nlp):
    got = ratings(
        nlp,
        "Riverside Hospitals NHS Trust, rated good by the CQC in 2020, is not affected by the "
        "Fernley NHS Trust review.",
    )
    assert got == {("Riverside Hospitals NHS Trust", "good", "2020")}


def test_undated_cqc_rating_takes_the_year_of_the_report_described_next(nlp):
    got = ratings(
        nlp,
        "Fernley NHS Trust has moved up from requires improvement to good.\n\n"
        "The Care Quality Commission's report, published in March 2021, praised its leaders.",
    )
    assert got == {
        ("Fernley NHS Trust", "good", "2021"),
        ("Fernley NHS Trust", "requires improvement", None),
    }


def test_family_practice_is_a_rated_gp_practice(nlp):
    got = ratings(nlp, "Elmtree Family Practice was rated outstanding for the second time.")
    assert got == {("Elmtree Family Practice", "outstanding", None)}


def test_named_body_that_is_now_a_rating_in_a_ratings_sentence(nlp):
    got = ratings(
        nlp,
        "NHS England published its 2017-18 ratings. Beacon CCG, which was rated good in "
        "2016-17, is now outstanding.",
    )
    assert got == {("Beacon CCG", "good", "2016-17"), ("Beacon CCG", "outstanding", "2017-18")}


def test_state_words_outside_rating_sentences_are_no_ratings(nlp):
    assert ratings(nlp, "Beacon CCG said relations with the council are now good.") == set()


def test_several_gp_practices_rated_and_placed_in_special_measures(nlp):
    got = ratings(
        nlp,
        "Two GP practices in Dorset, Brambleford Medical Centre and Kestley Surgery, were "
        "rated inadequate and placed in special measures by the Care Quality Commission.",
    )
    assert got == {
        ("Brambleford Medical Centre", "inadequate", None),
        ("Kestley Surgery", "inadequate", None),
        ("Brambleford Medical Centre", "special measures", None),
        ("Kestley Surgery", "special measures", None),
    }


def test_care_home_named_as_one_is_rated(nlp):
    got = ratings(nlp, "Marlow Court, a nursing home in Essex, was rated inadequate.")
    assert got == {("Marlow Court", "inadequate", None)}
    # "Court" alone names no care home
    assert ratings(nlp, "Marlow Court said its staff had been rated good.") == set()


def test_special_measures_history_gives_each_step_its_year(nlp):
    got = ratings(
        nlp,
        "Ashgrove Family Practice was placed in special measures in 2015, came out in 2017 "
        "and went back in 2018 after being rated inadequate.",
    )
    assert got == {
        ("Ashgrove Family Practice", "special measures", "2015"),
        ("Ashgrove Family Practice", "out of special measures", "2017"),
        ("Ashgrove Family Practice", "special measures", "2018"),
        ("Ashgrove Family Practice", "inadequate", "2018"),
    }


def test_special_measures_step_in_the_next_sentence(nlp):
    got = ratings(
        nlp,
        "Hollins Surgery was placed in special measures in 2016. It came out in 2019.",
    )
    assert got == {
        ("Hollins Surgery", "special measures", "2016"),
        ("Hollins Surgery", "out of special measures", "2019"),
    }


def test_ccgs_listed_after_a_rated_count_are_each_rated(nlp):
    got = ratings(
        nlp,
        "Four CCGs were rated outstanding: NHS Alderbury CCG, NHS Brackwell CCG, "
        "NHS Corrington CCG and NHS Dunmoor CCG.",
    )
    assert {org for org, _, _ in got} == {
        "NHS Alderbury CCG",
        "NHS Brackwell CCG",
        "NHS Corrington CCG",
        "NHS Dunmoor CCG",
    }
    assert {rating for _, rating, _ in got} == {"outstanding"}


def test_bare_ccg_list_after_a_rated_count_is_rated(nlp):
    expected = {
        (f"{place} CCG", "outstanding", "2018-19")
        for place in ("Alderbury", "Brackwell", "Corrington", "Dunmoor")
    }
    got = ratings(
        nlp,
        "Four CCGs – Alderbury, Brackwell, Corrington and Dunmoor – were rated outstanding "
        "in NHS England's 2018-19 assessment.",
    )
    assert got == expected
    got = ratings(
        nlp,
        "NHS England rated four CCGs outstanding for 2018-19. "
        "The four CCGs: Alderbury, Brackwell, Corrington and Dunmoor.",
    )
    assert got == expected
    # a different count is not the rated one
    assert (
        ratings(
            nlp,
            "NHS England rated four CCGs outstanding for 2018-19. "
            "The two CCGs – Alderbury and Dunmoor – will merge.",
        )
        == set()
    )


def test_old_rating_after_a_change_belongs_to_the_body_it_follows(nlp):
    got = ratings(
        nlp,
        "Greyfriars Care Home was rated outstanding, while Elmhurst Manor, a nursing home in "
        "Leeds, was rated requires improvement, down from good.",
    )
    assert got == {
        ("Greyfriars Care Home", "outstanding", None),
        ("Elmhurst Manor", "requires improvement", None),
        ("Elmhurst Manor", "good", None),
    }


def test_special_measures_left_and_returned_with_years(nlp):
    got = ratings(
        nlp,
        "Kingsway Medical Practice entered special measures in 2016, left in 2018 and "
        "returned in 2020.",
    )
    assert got == {
        ("Kingsway Medical Practice", "special measures", "2016"),
        ("Kingsway Medical Practice", "out of special measures", "2018"),
        ("Kingsway Medical Practice", "special measures", "2020"),
    }


def test_number_word_opening_a_practice_name_is_part_of_it(nlp):
    got = ratings(nlp, "Four Oaks Surgery in Tamby has been rated inadequate by the CQC.")
    assert got == {("Four Oaks Surgery", "inadequate", None)}
    # a count before a plural kind is no name
    assert ratings(nlp, "Three Tamby practices were rated good.") == set()


def test_a_rating_set_as_a_goal_is_no_rating(nlp):
    got = ratings(
        nlp,
        "Hallow Vale NHS Trust was rated requires improvement in 2024. Its chair said the "
        "trust's aim was an outstanding rating by 2027.",
    )
    assert got == {("Hallow Vale NHS Trust", "requires improvement", "2024")}


def test_one_unnamed_practice_is_named_in_the_next_sentence(nlp):
    got = ratings(
        nlp,
        "One GP practice in Ashby has been taken out of special measures. Mill Lane Surgery "
        "was rated good by the CQC in March 2023.",
    )
    assert ("Mill Lane Surgery", "out of special measures", "2023") in got


def test_a_level_below_special_measures_is_no_placement(nlp):
    got = ratings(
        nlp,
        "Caerwen University Health Board was escalated to targeted intervention in 2023, one "
        "step below special measures.",
    )
    assert got == set()


def test_a_regime_likened_to_special_measures_is_no_placement(nlp):
    got = ratings(
        nlp,
        "NHS England moved Tennick Vale NHS Trust into its recovery support programme, the "
        "equivalent of special measures.",
    )
    assert got == set()


def test_grades_of_an_inspectorate_that_gives_no_ratings_are_not_ratings(nlp):
    got = ratings(
        nlp,
        "The Care Inspectorate has graded Elmbank House Care Home as weak for staffing. The "
        "home had been graded good at its last inspection.",
    )
    assert got == set()
    # the CQC's ratings of a body named next to it still count
    got = ratings(
        nlp,
        "The Care Inspectorate visited Elmbank House Care Home. Rowan Lodge Care Home was rated "
        "good by the CQC in 2022.",
    )
    assert got == {("Rowan Lodge Care Home", "good", "2022")}


def test_a_news_date_is_not_taken_from_the_next_story(nlp):
    got = ratings(
        nlp,
        "• Marsh Road Surgery has been rated good by the CQC.\n"
        "• Tollby Medical Centre was inspected on 4 May 2022.",
    )
    assert ("Marsh Road Surgery", "good", None) in got


def test_welsh_joining_word_inside_a_board_name(nlp):
    got = ratings(
        nlp,
        "The Welsh Government placed Eryl a Tawe University Health Board in special measures "
        "in 2021.",
    )
    assert got == {("Eryl a Tawe University Health Board", "special measures", "2021")}


def test_the_same_week_needs_a_full_date_to_anchor_on(nlp):
    got = ratings(
        nlp,
        "Ashdown NHS Trust was rated good in 2019. The same week, the CQC rated Fernhill NHS "
        "Trust inadequate.",
    )
    assert ("Fernhill NHS Trust", "inadequate", None) in got


def test_exit_with_a_participle_dates_the_placement(nlp):
    got = ratings(
        nlp,
        "Orchard Rise Surgery left special measures in May 2023, having entered them in 2021.",
    )
    assert got == {
        ("Orchard Rise Surgery", "out of special measures", "2023"),
        ("Orchard Rise Surgery", "special measures", "2021"),
    }


def test_a_dateline_in_the_sentence_does_not_date_the_previous_rating(nlp):
    got = ratings(
        nlp,
        "4 March 2024 – Dalby NHS Trust has been rated good by the CQC, up from its previous "
        "rating of requires improvement.",
    )
    assert ("Dalby NHS Trust", "requires improvement", None) in got
    assert ("Dalby NHS Trust", "good", "2024") in got


def test_a_year_on_another_ratings_participle_is_that_ratings(nlp):
    got = ratings(nlp, "Hythe Lane Surgery, rated inadequate in 2019, is now rated good.")
    assert got == {
        ("Hythe Lane Surgery", "inadequate", "2019"),
        ("Hythe Lane Surgery", "good", None),
    }


def test_leaving_a_job_is_no_step_out_of_special_measures(nlp):
    got = ratings(
        nlp,
        "Morland NHS Trust was placed in special measures in 2018. Its chief executive left "
        "to join the board of a charity in 2019.",
    )
    assert got == {("Morland NHS Trust", "special measures", "2018")}


def test_the_old_rating_of_a_change_does_not_take_the_new_ones_year(nlp):
    got = ratings(
        nlp,
        "In 2023 the CQC cut the rating of Oakdene Care Home from requires improvement to "
        "inadequate.",
    )
    assert ("Oakdene Care Home", "inadequate", "2023") in got


def test_items_of_a_rating_list_take_the_newsletters_date_and_keep_previous_ratings(nlp):
    got = ratings(
        nlp,
        "Care Digest | 9 October 2023\n\nLatest CQC ratings\n"
        "• Larkspur Surgery, Ebbington: Outstanding (previously Good)\n"
        "• Teasel House Care Home, Ebbington: Inadequate\n",
    )
    assert got == {
        ("Larkspur Surgery", "outstanding", "2023"),
        ("Larkspur Surgery", "good", None),
        ("Teasel House Care Home", "inadequate", "2023"),
    }
    # a list under a heading about something else gives no ratings
    assert ratings(nlp, "What went well:\n- Tansy NHS Trust: good progress on waits\n") == set()


def test_no_longer_in_special_measures_is_an_exit_and_negates_no_placement(nlp):
    got = ratings(
        nlp, "Fenby NHS Trust was placed in special measures in 2019 and is no longer in them."
    )
    assert ("Fenby NHS Trust", "special measures", "2019") in got
    got = ratings(
        nlp,
        "Fenby NHS Trust was placed in special measures in 2019 and is no longer in special "
        "measures.",
    )
    assert ("Fenby NHS Trust", "special measures", "2019") in got
    assert ("Fenby NHS Trust", "out of special measures", None) in got


def test_a_rating_kept_in_a_dated_release_is_that_years(nlp):
    got = ratings(
        nlp, "Published: 6 June 2023\n\nTelford Mead NHS Trust has retained its good rating."
    )
    assert got == {("Telford Mead NHS Trust", "good", "2023")}


def test_return_to_the_regime_is_a_step_of_the_history(nlp):
    got = ratings(
        nlp,
        "Ketley NHS Trust entered special measures in 2013. It left in 2015 but returned to the "
        "regime in 2018.",
    )
    assert got == {
        ("Ketley NHS Trust", "special measures", "2013"),
        ("Ketley NHS Trust", "out of special measures", "2015"),
        ("Ketley NHS Trust", "special measures", "2018"),
    }
    # changes made to the regime are no placement
    got = ratings(
        nlp, "Ketley NHS Trust entered special measures in 2013. Ministers made changes to the "
        "regime in 2016.",
    )
    assert got == {("Ketley NHS Trust", "special measures", "2013")}


def test_a_news_date_is_not_taken_from_an_earlier_event(nlp):
    got = ratings(
        nlp,
        "Harrowgate NHS Trust has been rated good. It was placed in special measures on "
        "4 May 2019.",
    )
    assert ("Harrowgate NHS Trust", "good", None) in got
