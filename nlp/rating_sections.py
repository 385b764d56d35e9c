"""Years that a document's structure gives its ratings: a short heading that names one year
("2024", "Inspections in 2025") governs the ratings told in its section, as a year heading
governs the figures under it."""

from __future__ import annotations

import re

from spacy.tokens import Doc

from nlp.rating_text import RATING_YEAR_RE, Entry

# what ends a line that is a sentence, not a heading
SENTENCE_END = ".!?:;,”\"’)"


class SectionYears:
    """Dates ratings by the year heading of their section (mixin of
    :class:`nlp.ratings.RatingExtractor`; ``self._text`` is set per document)."""

    _text: str
    full_date_re: re.Pattern[str]
    section_heading_words: int

    def _section_headings(self) -> list[tuple[int, int, str | None]]:
        """(start, end, year) of each heading line after the title: a short line without end
        punctuation; ``year`` is the one calendar year it names, if it names exactly one."""
        out = []
        pos = 0
        title_seen = False
        for line in self._text.split("\n"):
            start, pos = pos, pos + len(line) + 1
            stripped = line.strip()
            if not stripped:
                continue
            if not title_seen:
                title_seen = True
                continue
            words = stripped.split()
            if (
                len(words) > self.section_heading_words
                or stripped[-1] in SENTENCE_END
                or "|" in stripped
                or "\t" in stripped
                or not (stripped[0].isupper() or stripped[0].isdigit())
                or self.full_date_re.search(stripped)
            ):
                continue
            years = {m.group(1) for m in RATING_YEAR_RE.finditer(stripped) if not m.group(2)}
            fys = [m for m in RATING_YEAR_RE.finditer(stripped) if m.group(2)]
            year = years.pop() if len(years) == 1 and not fys else None
            out.append((start, start + len(line), year))
        return out

    def _section_heading_years(self, doc: Doc, entries: list[Entry]) -> None:
        """An undated current rating in the section under a year heading ("2024" ... "X was
        rated inadequate") takes that year (``section_heading_year``)."""
        headings = self._section_headings()
        if not any(year for _, _, year in headings):
            return
        for e in entries:
            if e.period is not None or e.implied or e.occ.role not in ("plain", "new"):
                continue
            at = doc[e.occ.start].idx
            governing = None
            for start, end, year in headings:
                if start > at:
                    break
                if end <= at:
                    governing = year  # the last heading before the rating governs it
            if governing:
                e.period, e.period_source = governing, "section_heading_year"
