"""Shared helpers for the extraction components: spaCy extension registration and text utilities.

Every component module calls :func:`register_extensions` at import time, so that the custom
attributes exist in worker processes of ``nlp.pipe(n_process=...)`` as well.
"""

from __future__ import annotations

import re

from spacy.tokens import Doc, Span

_DOC_EXTENSIONS = ("organisations", "amounts", "ratings", "published")
_SPAN_EXTENSIONS = ("org_name", "org_type", "amount", "rating")

FINANCIAL_YEAR_RE = re.compile(r"\b((?:19|20)\d{2})\s*[-–/]\s*((?:19|20)?\d{2})\b")
YEAR_RE = re.compile(r"\b(19[5-9]\d|20\d{2})\b")


def register_extensions() -> None:
    """Register the Doc/Span extensions of the pipeline once (safe to call repeatedly)."""
    for name in _DOC_EXTENSIONS:
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)
    for name in _SPAN_EXTENSIONS:
        if not Span.has_extension(name):
            Span.set_extension(name, default=None)


def financial_year(text: str) -> str | None:
    """Return the first financial year in ``text`` written as ``YYYY-YY`` ("2018/19" too)."""
    m = FINANCIAL_YEAR_RE.search(text)
    if not m:
        return None
    y1, y2 = m.group(1), m.group(2)
    y2 = y2[-2:]
    if (int(y1) + 1) % 100 != int(y2):
        return None
    return f"{y1}-{y2}"


def shift_financial_year(period: str, years: int) -> str:
    """Move a ``YYYY-YY`` financial year by ``years`` (negative for earlier years)."""
    start = int(period[:4]) + years
    return f"{start}-{(start + 1) % 100:02d}"


def strip_the(text: str) -> str:
    """Drop a leading "the " (not "The" that belongs to a title: callers decide)."""
    return text[4:] if text[:4].lower() == "the " else text
