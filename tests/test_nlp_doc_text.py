"""Tests for nlp.text.doc_text: Doc.text built once for the components run one after another."""

from __future__ import annotations

import spacy

from nlp.text import doc_text


def test_doc_text_is_the_text_of_the_doc_asked_about():
    nlp = spacy.blank("en")
    first = nlp.make_doc("Oakmere Trust reported a deficit.")
    second = nlp.make_doc("Fenmoor ICB set its budget.")
    assert doc_text(first) == first.text
    assert doc_text(first) is doc_text(first)  # built once while the Doc is the last one read
    assert doc_text(second) == second.text
    assert doc_text(first) == first.text
    assert doc_text(nlp.make_doc("")) == ""
