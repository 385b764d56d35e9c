"""The amounts a pipeline finds in a text, shared by the money tests."""

from __future__ import annotations


def amounts(nlp, text: str) -> list[dict]:
    return nlp(text)._.amounts


def one(nlp, text: str) -> dict:
    found = amounts(nlp, text)
    assert len(found) == 1, found
    return found[0]
