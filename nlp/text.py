"""Shared helpers for the extraction components: spaCy extension registration and text utilities.

Every component module calls :func:`register_extensions` at import time, so that the custom
attributes exist in worker processes of ``nlp.pipe(n_process=...)`` as well.
"""

from __future__ import annotations

import datetime
import re

from spacy.tokens import Doc, Span

_DOC_EXTENSIONS = ("organisations", "amounts", "ratings", "published")
_SPAN_EXTENSIONS = ("amount",)
ORG_TYPES = frozenset(
    (
        "commissioner",
        "provider",
        "national_body",
        "government",
        "regulator",
        "media",
        "company",
        "other",
    )
)


def published_date(doc: Doc) -> datetime.date | None:
    """The publication date ``extract`` was given for ``doc`` (None when unknown).

    It travels on the Doc as an ISO string, which survives the msgpack round trip to the
    worker processes of ``nlp.pipe(n_process=...)``; a date set directly is accepted too."""
    value = doc._.published
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(value)


# Span-level facts are read from the span itself (an organisation span's kb_id is the
# canonical name, its label the type; a rating span's id indexes doc._.ratings) instead of
# being stored per span in doc.user_data: that keeps Doc serialisation, and so
# nlp.pipe(n_process=...), cheap.
def _org_name(span: Span) -> str | None:
    return span.kb_id_ or None if span.label_ in ORG_TYPES else None


def _org_type(span: Span) -> str | None:
    return span.label_ if span.label_ in ORG_TYPES else None


def _rating(span: Span) -> dict | None:
    ratings = span.doc._.ratings
    if span.label_ != "RATING" or not span.id_ or not ratings:
        return None
    return ratings[int(span.id_)]


_SPAN_GETTERS = {"org_name": _org_name, "org_type": _org_type, "rating": _rating}

# Characters of published pages that mean what a plain one means: no-break and other fixed-width
# spaces ("£4.2\u00a0m", "NHS\u00a0England"), typographic minus signs and non-breaking
# hyphens in table cells and names. Each maps to exactly one character, so every offset into the
# normalised text is an offset into the original.
_PLAIN_CHARACTERS = str.maketrans({
    **{chr(c): " " for c in (0x00A0, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000)},
    "\u2212": "-",  # minus sign
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
})


def plain_characters(text: str) -> str:
    """``text`` with no-break and other special spaces, minus signs and hyphens made plain.

    The result has the same length as ``text``: a character for a character."""
    return text.translate(_PLAIN_CHARACTERS)


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
    for name, getter in _SPAN_GETTERS.items():
        # replaces a plain attribute another module may have registered first
        if not Span.has_extension(name) or Span.get_extension(name)[2] is not getter:
            Span.set_extension(name, getter=getter, force=True)


# the Doc whose text was read last, and that text (see doc_text)
_last_text: tuple[Doc, str] | None = None


def doc_text(doc: Doc) -> str:
    """``doc.text``, built once for the components that run one after another on a Doc.

    ``Doc.text`` is rebuilt from the tokens on every access, which costs about as much as a
    pass over every token; the three policywatch components each need it. The last Doc read
    is held (so that an identity test cannot mistake a new Doc for a freed one), and a Doc's
    text never changes: retokenizing keeps it."""
    global _last_text
    if _last_text is not None and _last_text[0] is doc:
        return _last_text[1]
    text = doc.text
    _last_text = (doc, text)
    return text


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
