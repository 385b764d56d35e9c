"""Tests for nlp/sequence_matcher.py: the same matches as spaCy's Matcher for word sequences."""

from __future__ import annotations

import pytest
import spacy
from spacy.matcher import Matcher

from nlp.sequence_matcher import ExactSequenceMatcher

PATTERNS = {
    "board": [[{"ORTH": "Health"}, {"ORTH": "Board"}]],
    "care": [[{"LOWER": "integrated"}, {"LOWER": "care"}, {"ORTH": {"IN": ["Board", "System"]}}]],
    "care-start": [[{"LOWER": "integrated"}, {"LOWER": "care"}]],
    "company": [[{"ORTH": {"IN": ["Ltd", "Ltd.", "plc"]}}]],
    "trust": [[{"ORTH": "Trust"}], [{"LOWER": "trust"}]],
    "rating": [[{"LOWER": "requires"}, {"LOWER": "improvement"}],
               [{"LOWER": "requires"}, {"LOWER": "-"}, {"LOWER": "improvement"}]],
}

SENTENCES = [
    "Ashgrove Health Board met the INTEGRATED CARE Board of Fenmoor on Monday.",
    "The Integrated Care System said Brookline Trust and Marsh trust requires improvement.",
    "Kettle Foods Ltd. and Kettle Foods plc were rated requires - improvement last year.",
    "Trust",
    "",
    "Nothing here matches at all, not even health or board.",
]


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


def _both(nlp):
    theirs, ours = Matcher(nlp.vocab), ExactSequenceMatcher(nlp.vocab)
    for key, patterns in PATTERNS.items():
        theirs.add(key, patterns)
        ours.add(key, patterns)
    return theirs, ours


@pytest.mark.parametrize("text", SENTENCES)
def test_same_matches_as_spacy_matcher(nlp, text):
    theirs, ours = _both(nlp)
    doc = nlp(text)
    assert ours(doc) == theirs(doc)


def test_matches_named_by_key_hash_with_overlaps_kept(nlp):
    _, ours = _both(nlp)
    doc = nlp("The Integrated Care Board met.")
    found = [(nlp.vocab.strings[key], doc[s:e].text) for key, s, e in ours(doc)]
    assert found == [("care-start", "Integrated Care"), ("care", "Integrated Care Board")]
    assert len(ours) == len(PATTERNS)


def test_a_word_matched_by_two_patterns_of_one_key_is_one_match(nlp):
    _, ours = _both(nlp)
    doc = nlp("Brookline Trust")
    assert [(nlp.vocab.strings[k], s, e) for k, s, e in ours(doc)] == [("trust", 1, 2)]


@pytest.mark.parametrize(
    "pattern",
    [
        [],
        [{"ORTH": "NHS", "OP": "?"}],
        [{"LEMMA": "trust"}],
        [{"ORTH": {"NOT_IN": ["NHS"]}}],
        [{"LOWER": {"IN": []}}],
        [{"ORTH": 7}],
    ],
)
def test_patterns_beyond_word_sequences_are_refused(nlp, pattern):
    with pytest.raises(ValueError, match="pattern 'odd'"):
        ExactSequenceMatcher(nlp.vocab).add("odd", [pattern])
