"""Tests for the extraction API (nlp/extract.py): output shape, consistency, batching."""

from __future__ import annotations

import datetime
import hashlib

import pytest

from nlp.extract import extract, extract_many, load_pipeline
from nlp.parts import merge_facts, split_text
from nlp.text import plain_characters, published_date

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
    assert published_date(doc) == datetime.date(2020, 1, 2)


def test_dated_texts_on_two_processes(nlp):
    """Docs cross to the worker processes as msgpack, which has no date type."""
    texts = [(TEXT, datetime.date(2020, 6, 1)), ("Bury and Oldham CCGs agreed to merge.",
                                                 datetime.datetime(2021, 3, 4, 5, 6))] * 3
    two = list(extract_many(texts, n_process=2, batch_size=2, nlp=nlp))
    assert two == list(extract_many(texts, nlp=nlp))
    assert [o["name"] for o in two[1]["organisations"]] == ["Bury CCG", "Oldham CCG"]
    docs = list(nlp.pipe([nlp.make_doc("x")], n_process=1))
    assert published_date(docs[0]) is None


def test_split_text_prefers_paragraph_breaks():
    text = "First paragraph here.\n\nSecond one, a bit longer.\nA line.\n\nThird."
    parts = split_text(text, 30)
    assert "".join(part for _, part in parts) == text
    assert all(len(part) <= 30 for _, part in parts)
    assert [text[offset:offset + len(part)] == part for offset, part in parts] == [True] * 3
    assert parts[0][1] == "First paragraph here.\n\n"
    assert split_text("short", 30) == [(0, "short")]
    # no break at all: hard cuts
    assert [p for _, p in split_text("x" * 25, 10)] == ["x" * 10, "x" * 10, "x" * 5]


def test_merge_facts_shifts_offsets_and_joins_organisations():
    org = {"name": "Leeds CCG", "aliases": ["NHS Leeds CCG"], "type": "commissioner",
           "mentions": [{"start": 0, "end": 9, "text": "Leeds CCG"}]}
    amount = {"text": "£3m", "start": 20, "end": 23}
    first = {"organisations": [org], "amounts": [amount], "ratings": []}
    second = {"organisations": [{**org, "aliases": ["Leeds"]}], "amounts": [],
              "ratings": [{"org": "Leeds CCG", "rating": "good", "start": 5, "end": 9}]}
    merged = merge_facts([(0, first), (100, second)])
    assert merged["organisations"] == [{
        "name": "Leeds CCG", "aliases": ["NHS Leeds CCG", "Leeds"], "type": "commissioner",
        "mentions": [{"start": 0, "end": 9, "text": "Leeds CCG"},
                     {"start": 100, "end": 109, "text": "Leeds CCG"}]}]
    assert merged["amounts"] == [amount]
    assert [(r["start"], r["end"]) for r in merged["ratings"]] == [(105, 109)]
    assert org["mentions"][0]["start"] == 0  # inputs untouched


def long_story() -> str:
    """A story of over 1,000,000 characters (spaCy's default limit): a sentence with facts,
    a long data dump, then another sentence with facts."""
    rows = "\n\n".join(hashlib.sha256(str(i).encode()).hexdigest() * 3 for i in range(5600))
    return ("Northfield CCG agreed a £4m budget for 2021-22.\n\n" + rows
            + "\n\nInspectors rated Southgate Hospitals NHS Trust as good.")


def test_text_over_the_spacy_limit_is_extracted_in_parts(nlp):
    text = long_story()
    assert len(text) > nlp.max_length
    normal = ("Bury and Oldham CCGs agreed to merge.", None)
    results = list(extract_many([normal, (text, datetime.date(2022, 1, 1)), normal], nlp=nlp))
    assert results[0] == results[2] == extract(normal[0], nlp=nlp)
    facts = results[1]
    assert [(a["text"], a["org"]) for a in facts["amounts"]] == [("£4m", "Northfield CCG")]
    rating = facts["ratings"][0]
    assert (rating["org"], rating["rating"]) == ("Southgate Hospitals NHS Trust", "good")
    assert text[rating["start"]:rating["end"]] == "good"
    for org in facts["organisations"]:
        for m in org["mentions"]:
            assert text[m["start"]:m["end"]] == m["text"]


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


def test_plain_characters_keeps_every_offset():
    text = "A \u22123.1\u00a0m gap\u2009at\u00a0Eastfold\u2011on\u2011Sea"
    plain = plain_characters(text)
    assert len(plain) == len(text)
    assert plain == "A -3.1 m gap at Eastfold-on-Sea"


def test_page_spaces_and_signs_give_the_plain_text_facts(nlp):
    plain = ("Kestrel Vale NHS Foundation Trust reported a deficit of \u00a314.2m in 2024/25, "
             "and NHS Westmoor ICB gave it \u00a33m.")
    paged = plain.replace("Vale NHS", "Vale\u00a0NHS").replace("m in", "m\u2009in")
    paged = paged.replace("NHS Westmoor", "NHS\u00a0Westmoor")
    as_plain, as_paged = extract(plain, nlp=nlp), extract(paged, nlp=nlp)
    assert as_paged == as_plain
    assert as_paged["amounts"][0]["org"] == "Kestrel Vale NHS Foundation Trust"
