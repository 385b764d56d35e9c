"""Tests for the extraction API (nlp/extract.py): output shape, consistency, batching."""

from __future__ import annotations

import datetime

import pytest

from nlp.extract import extract, extract_many, load_pipeline

TEXT = (
    "Wakefield CCG was rated outstanding by NHS England for 2019-20. The CCG ended the year "
    "with a £3m surplus, and Royal Berkshire Foundation Trust reported a £12m deficit."
)


@pytest.fixture(scope="session")
def nlp():
    return load_pipeline()


def test_pipeline_components_in_contract_order(nlp):
    assert nlp.pipe_names[-3:] == ["policywatch_orgs", "policywatch_money", "policywatch_ratings"]
    assert load_pipeline() is nlp  # cached


def test_extract_returns_consistent_facts(nlp):
    facts = extract(TEXT, nlp=nlp)
    assert set(facts) == {"organisations", "amounts", "ratings"}
    names = {o["name"] for o in facts["organisations"]}
    assert {"Wakefield CCG", "NHS England", "Royal Berkshire Foundation Trust"} <= names
    for org in facts["organisations"]:
        for m in org["mentions"]:
            assert TEXT[m["start"] : m["end"]] == m["text"]
    for item in facts["ratings"] + facts["amounts"]:
        assert item["org"] is None or item["org"] in names
        assert item["start"] < item["end"]
    assert [(r["org"], r["rating"]) for r in facts["ratings"]] == [("Wakefield CCG", "outstanding")]


def test_extract_many_matches_extract_and_keeps_order(nlp):
    texts = [(TEXT, datetime.date(2020, 6, 1)), ("Nothing to see here.", None)]
    many = list(extract_many(texts, nlp=nlp))
    assert many == [extract(t, published=d, nlp=nlp) for t, d in texts]
    assert many[1] == {"organisations": [], "amounts": [], "ratings": []}


def test_extract_many_on_two_processes(nlp):
    texts = [(TEXT, None), ("Bury and Oldham CCGs agreed to merge.", None)]
    assert list(extract_many(texts, n_process=2, nlp=nlp)) == list(extract_many(texts, nlp=nlp))


def test_published_date_reaches_the_doc(nlp):
    doc = nlp.make_doc("x")
    doc._.published = datetime.date(2020, 1, 2)
    for _, proc in nlp.pipeline:
        doc = proc(doc)
    assert doc._.published == datetime.date(2020, 1, 2)


def test_bad_input_gives_clear_errors(nlp):
    with pytest.raises(TypeError, match="document text as str"):
        extract(b"bytes", nlp=nlp)
    with pytest.raises(TypeError, match="published must be a datetime.date"):
        extract("text", published="2020-01-01", nlp=nlp)


def test_span_facts_survive_worker_processes(nlp):
    texts = ["Wakefield CCG was rated outstanding for 2019-20.", "Bury and Oldham CCGs met."]
    docs = list(nlp.pipe(texts, n_process=2))
    assert [(s.text, s._.org_name, s._.org_type) for s in docs[0].spans["orgs"]] == [
        ("Wakefield CCG", "Wakefield CCG", "commissioner")
    ]
    assert docs[0].spans["ratings"][0]._.rating["rating"] == "outstanding"
    assert [s._.org_name for s in docs[1].spans["orgs"]] == ["Bury CCG", "Oldham CCG"]
