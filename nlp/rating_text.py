"""Text structure shared by the rating passes: the units a document is read in (lines and
sentences; bullet lines whole), clauses, the records passed between passes (a rating
mention, a rating entry) and the parse helpers every pass uses."""

from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.tokens import Doc, Span

SPAN_KEY = "ratings"
RATED_TYPES = ("commissioner", "provider")
BULLETS = {"•", "*", "-", "–", "·", "◦", "▪"}
QUOTES = {"“", "”", "‘", "’", '"', "'"}
CLAUSE_BOUNDARIES = {
    ",",
    ";",
    "–",
    "—",
    ":",
    "(",
    ")",
    "but",
    "which",
    "though",
    "although",
    "while",
    "whereas",
    ".",
}
RATING_YEAR_RE = re.compile(r"\b((?:19|20)\d{2})(?:\s*[-–/]\s*((?:19|20)?\d{2}))?\b")
RELATIVE_YEAR_RE = re.compile(
    r"\b(?:a year (?:earlier|before|ago)|the (?:year before|previous year)|last year|this year)\b",
    re.IGNORECASE,
)
OUT_RE_TEMPLATE = (
    r"(?:{words})\s+(?:the\s+)?(?:new\s+)?(?:(?:financial|regulatory|quality)\s+)?[‘“'\"]?\s*$"
)


def rateable(span: Span) -> bool:
    """Bodies that receive ratings: commissioners, providers, and councils (CQC assesses
    local authorities' adult social care)."""
    kind = span._.org_type
    return kind in RATED_TYPES or (kind == "government" and span._.org_name.endswith("Council"))


def anaphor_fits(kind: str, span: Span) -> bool:
    """Whether a body can be what an anaphor of ``kind`` ("the trust", "it") points back to."""
    if kind == "any":
        return True
    if kind == "trust":
        name = span._.org_name
        # ("the North Marsh NHS trust": a lower-case head is a trust too)
        return "trust" in name.lower().split() or name.endswith(" FT")
    return span._.org_type == kind


def inflect(words: list[str]) -> set[str]:
    """A word list with its regular inflections (the lemmatizer reads "rated" as "rat")."""
    out = set()
    for w in words:
        out.update({w, w + "s", w + "d", w + "ed", w + "ing"})
        if w.endswith("e"):
            out.add(w[:-1] + "ing")
        if w.endswith("y"):
            out.update({w[:-1] + "ies", w[:-1] + "ied"})
    return out


@dataclass
class Unit:
    start: int
    end: int
    bullet: bool = False
    header: bool = False
    leading_year: str | None = None  # "• October 2013 – ...": the year that governs it
    rating_list: bool = False  # a bullet under a heading about ratings ("Latest CQC ratings")


@dataclass
class Mention:
    start: int
    end: int
    value: str
    role: str = "plain"  # plain | new | old | prior
    implied_in: bool = False  # "taken out of special measures" implies it was in
    scope: tuple[int, int] | None = None  # tokens where its own year is looked for
    period: str | None = None
    kept: bool = False  # "kept its good rating": the current rating, held again
    pattern: str = ""  # the named reading that made it a rating (``why["pattern"]``)


@dataclass
class Entry:
    org: str
    value: str
    period: str | None
    rater: str | None
    occ: Mention
    unit: Unit
    implied: bool = False
    kind: str = ""  # the rated body's organisation type
    body: str = ""  # the rule that tied the rating to this body (``why["body"]``)
    period_source: str = "none"  # the rule that gave the period (``why["period"]``)
    rateable: str = "type"  # why the body can be rated: its type, a care home, its name
    name_rule: str = "name"  # "trimmed_rating_word" where the name lost a swallowed rating


class TextUnits:
    """Units, clauses and neighbouring tokens of the document being read (mixin of
    :class:`nlp.ratings.RatingExtractor`; ``self._text`` and ``self._org_tokens`` are set per
    document)."""

    _text: str
    _org_tokens: set[int]
    rating_list_words: set[str]

    def _units(self, doc: Doc) -> list[Unit]:
        """Lines of the text, split further into sentences; bullet lines stay whole."""
        units = []
        sent_starts = {s.start for s in doc.sents}
        offset = 0
        for line in self._text.split("\n"):
            start_char, end_char = offset, offset + len(line)
            offset = end_char + 1
            if not line.strip():
                continue
            span = doc.char_span(start_char, end_char, alignment_mode="expand")
            if span is None or not len(span):
                continue
            unit = self._make_unit(doc, span.start, span.end)
            if unit.end <= unit.start:
                continue
            if unit.bullet:
                units.append(unit)
                continue
            start = unit.start
            for i in range(unit.start + 1, unit.end):
                if i in sent_starts:
                    units.append(self._make_unit(doc, start, i))
                    start = i
            units.append(self._make_unit(doc, start, unit.end))
        units = [u for u in units if u.end > u.start]
        self._mark_rating_lists(doc, units)
        return units

    def _mark_rating_lists(self, doc: Doc, units: list[Unit]) -> None:
        """Mark the bullets under a heading about ratings ("Latest CQC ratings", "Inspection
        results:"): a heading line with a rating word and no full stop, and the bullets right
        after it; a single year in the heading ("CQC ratings, March 2024") dates them."""
        in_list = False
        year = None
        for unit in units:
            if unit.bullet:
                unit.rating_list = in_list
                if in_list and year and unit.leading_year is None:
                    unit.leading_year = year
                continue
            words = {t.lower_ for t in doc[unit.start : unit.end]}
            in_list = bool(words & self.rating_list_words) and doc[unit.end - 1].text != "."
            # the year of the heading, else of the paragraph it ends ("The CQC published
            # reports on five homes in June 2025. The ratings are:")
            years: set[str] = set()
            if in_list:
                for text in (doc[unit.start : unit.end].text, self._paragraph_before(doc, unit)):
                    years = {m.group(1) for m in RATING_YEAR_RE.finditer(text) if not m.group(2)}
                    if years:
                        break
            year = years.pop() if len(years) == 1 else None

    def _paragraph_before(self, doc: Doc, unit: Unit) -> str:
        """The text of the unit's line (paragraph) up to the unit's end."""
        end = doc[unit.end - 1].idx + len(doc[unit.end - 1])
        return self._text[self._text.rfind("\n", 0, doc[unit.start].idx) + 1 : end]

    def _make_unit(self, doc: Doc, start: int, end: int) -> Unit:
        while start < end and doc[start].is_space:
            start += 1
        while end > start and doc[end - 1].is_space:
            end -= 1
        unit = Unit(start, end)
        if end > start:
            unit.bullet = doc[start].text in BULLETS
            unit.header = doc[end - 1].text == ":"
        return unit

    def _clause(self, doc: Doc, unit: Unit, i: int, j: int) -> tuple[int, int]:
        s = i
        while s > unit.start and doc[s - 1].lower_ not in CLAUSE_BOUNDARIES:
            s -= 1
        e = j
        while e < unit.end and doc[e].lower_ not in CLAUSE_BOUNDARIES:
            e += 1
        return s, e

    def _prev_tokens(self, doc: Doc, unit: Unit, i: int, n: int) -> list:
        """Up to ``n`` tokens before ``i`` in the unit, without quotes and organisation names
        ("rated Royal Cornwall Hospitals Trust inadequate")."""
        out = []
        k = i - 1
        while k >= unit.start and len(out) < n:
            tok = doc[k]
            if tok.text in (".", ";", ":"):
                break
            if tok.text not in QUOTES and k not in self._org_tokens:
                out.append(tok)
            k -= 1
        return out

    def _next_token(self, doc: Doc, unit: Unit, j: int):
        k = j
        while k < unit.end and doc[k].text in QUOTES:
            k += 1
        return doc[k] if k < unit.end else None

    @staticmethod
    def _governor(tok):
        """The verb that governs a token (the token's clause)."""
        steps = 0
        while tok.pos_ not in ("VERB", "AUX") and tok.dep_ != "ROOT" and steps < 12:
            tok = tok.head
            steps += 1
        return tok

    @staticmethod
    def _rating_token(doc: Doc, i: int):
        tok = doc[i]
        if tok.lower_ == "requires":
            # the rating phrase "requires improvement" is itself a verb: the verb that rates
            # right before it ("was rated requires improvement"), else its head
            k = i - 1
            while k >= 0 and (doc[k].text in QUOTES or doc[k].lower_ == "as"):
                k -= 1
            if k >= 0 and doc[k].pos_ in ("VERB", "AUX") and doc[k].lower_ != "requires":
                return doc[k]
            if tok.head.i != tok.i:
                tok = tok.head
        return tok
