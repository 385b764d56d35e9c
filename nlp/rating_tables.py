"""Ratings set out in a table: a header row with one or more rating columns ("Rating 2024",
"Previous rating") and one row per body ("Hornsea House | Hornsea | Inadequate | Good").

Each row gives the body's rating in every rating column: a column whose header names a year
is for that year, a "previous"/"last" column is an earlier rating (period null unless its
header names a year), and the current column without a year takes the document's date (its
dateline). A leading "The" of a row name is dropped, as for care homes in prose."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from spacy.tokens import Doc, Span

from nlp.rating_periods import Dated

YEAR_RE = re.compile(r"\b((?:19|20)\d{2})\b")


@dataclass
class RatingColumn:
    """A table column whose cells are ratings."""

    index: int
    previous: bool  # an earlier rating ("Previous rating")
    year: str | None  # the year its header names


class TableReader:
    """Reads rating tables (mixin of :class:`nlp.ratings.RatingExtractor`)."""

    table_previous_words: set[str]
    table_dropped_articles: tuple[str, ...]
    rating_nouns: set[str]
    rank: dict[str, int]

    def _cell_rating(self, cell: str) -> str | None:
        """The rating a table cell holds ("Requires improvement", "In special measures")."""
        words = re.sub(r"[‘’“”'\"*]", "", cell).strip().lower()
        words = re.sub(r"[\s-]+", " ", words)
        if words.startswith("in "):
            words = words[3:]
        if words in self.rank or words in ("special measures", "out of special measures"):
            return words
        return None

    def _rating_columns(self, header: list[str]) -> list[RatingColumn]:
        columns = []
        for i, cell in enumerate(header):
            words = set(re.findall(r"[a-z]+", cell.lower()))
            if not words & self.rating_nouns:
                continue
            year = YEAR_RE.search(cell)
            previous = bool(words & self.table_previous_words)
            columns.append(RatingColumn(i, previous, year.group(1) if year else None))
        return columns

    def _table_blocks(self, text: str) -> list[list[tuple[int, list[str], list[int]]]]:
        """Runs of consecutive lines split into two or more cells: (line start, cells, cell
        starts) per line."""
        blocks: list[list[tuple[int, list[str], list[int]]]] = []
        current: list[tuple[int, list[str], list[int]]] = []
        pos = 0
        for line in text.split("\n"):
            cells, starts = [], []
            if "|" in line or "\t" in line:
                offset = 0
                for part in re.split(r"(\||\t)", line):
                    if part not in ("|", "\t"):
                        stripped = part.strip()
                        if stripped:
                            cells.append(stripped)
                            starts.append(pos + offset + part.index(stripped))
                    offset += len(part)
            if len(cells) >= 2:
                current.append((pos, cells, starts))
            elif current:
                blocks.append(current)
                current = []
            pos += len(line) + 1
        if current:
            blocks.append(current)
        return blocks

    def _table_ratings(self, doc: Doc, date: Dated) -> list[dict[str, Any]]:
        """One rating dict per rating cell of each named row of each rating table."""
        out: list[dict[str, Any]] = []
        for block in self._table_blocks(self._text):
            header = block[0][1]
            columns = self._rating_columns(header)
            if not columns or len(block) < 2:
                continue
            for line_start, cells, starts in block[1:]:
                if len(cells) != len(header):
                    continue
                name_index = next(
                    (i for i, c in enumerate(cells) if self._cell_rating(c) is None), None
                )
                if name_index is None or name_index > min(c.index for c in columns):
                    continue
                name = cells[name_index]
                name_rule = "name"
                for article in self.table_dropped_articles:
                    if name.startswith(article + " "):
                        name = name[len(article) + 1 :]
                        name_rule = "dropped_article"
                if not name[:1].isupper():
                    continue
                values = {c.index: self._cell_rating(cells[c.index]) for c in columns}
                previous = next(
                    (values[c.index] for c in columns if c.previous and values[c.index]), None
                )
                line_end = line_start + len(self._text[line_start:].split("\n", 1)[0])
                for col in columns:
                    value = values[col.index]
                    if value is None:
                        continue
                    if col.year:
                        period, source = col.year, "table_header"
                    elif col.previous:
                        period, source = None, "none"
                    else:
                        period, source = date.period, date.source if date.period else "none"
                    direction = None
                    if not col.previous and previous in self.rank and value in self.rank:
                        diff = self.rank[value] - self.rank[previous]
                        direction = "same" if diff == 0 else "up" if diff > 0 else "down"
                    start = starts[col.index]
                    out.append(
                        {
                            "org": name,
                            "rating": value,
                            "period": period,
                            "rater": None,
                            "start": start,
                            "end": start + len(cells[col.index]),
                            "sentence": self._text[line_start:line_end],
                            "why": {
                                "pattern": "rating_table",
                                "role": "old" if col.previous else "new",
                                "body": "table_row",
                                "period": source,
                                "rateable": "table_row",
                                "name": name_rule,
                            },
                            "previous_rating": None if col.previous else previous,
                            "direction": direction,
                            "status": "previous" if col.previous else "current",
                        }
                    )
        return out

    def _table_body_mentions(self, doc: Doc, table_ratings: list[dict[str, Any]]) -> list[Span]:
        """Spans (typed provider) where the prose outside the tables names a rating table's
        row bodies that the organisation finder did not mark."""
        taken = {k for s in doc.spans.get("orgs", []) for k in range(s.start, s.end)}
        table_lines = {r["sentence"] for r in table_ratings}
        out: list[Span] = []
        for name in sorted({r["org"] for r in table_ratings}):
            for m in re.finditer(rf"\b{re.escape(name)}\b", self._text):
                line_start = self._text.rfind("\n", 0, m.start()) + 1
                if self._text[line_start:].split("\n", 1)[0] in table_lines:
                    continue
                span = doc.char_span(m.start(), m.end(), label="provider", kb_id=name)
                if span is None or any(k in taken for k in range(span.start, span.end)):
                    continue
                taken.update(range(span.start, span.end))
                out.append(span)
        return out
