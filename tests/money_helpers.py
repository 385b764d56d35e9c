"""The amounts a pipeline finds in a text, shared by the money tests."""

from __future__ import annotations


def amounts(nlp, text: str) -> list[dict]:
    return nlp(text)._.amounts


def by_text(nlp, text: str) -> dict[str, dict]:
    """The amounts found in ``text``, by their text ("£2.7m")."""
    return {a["text"]: a for a in amounts(nlp, text)}


def one(nlp, text: str) -> dict:
    found = amounts(nlp, text)
    assert len(found) == 1, found
    return found[0]
