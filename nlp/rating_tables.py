"""Rating tables, and the bodies the organisation finder missed that tables, rating lists and
appositions name (recorded in ``doc._.organisations`` when rated).

Ratings set out in a table: a header row with one or more rating columns ("Rating 2024",
"Previous rating", or a bare "Previous | New" over cells that are ratings) and one row per
body ("Hornsea House | Hornsea | Inadequate | Good").

Each row gives the body's rating in every rating column: a column whose header names a year
is for that year, a "previous"/"last" column is an earlier rating (period null unless its
header names a year), and the current column without a year takes the year of the sentence
that introduces the table ("Reports published in April 2025:", ``table_intro``), else the
document's date (its dateline). A cell may hold a rating and a placement ("Inadequate
(special measures)"). A leading "The" of a row name is dropped, as for care homes in
prose."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from spacy.tokens import Doc, Span

from nlp.rating_periods import Dated
from nlp.rating_text import Unit

YEAR_RE = re.compile(r"\b((?:19|20)\d{2})\b")
# what ends a list item's name ("- The Larches, Ashby – good")
ITEM_NAME_ENDS = frozenset({",", ":", "–", "—", "-", "|", "("})
RATING_WORD_RE = re.compile(
    r"\b(?:outstanding|good|requires\s+improvement|inadequate|special\s+measures)\b", re.I
)


@dataclass
class RatingColumn:
    """A table column whose cells are ratings."""

    index: int
    previous: bool  # an earlier rating ("Previous rating")
    year: str | None  # the year its header names


class TableReader:
    """Reads rating tables and the names of listed and appositive bodies (mixin of
    :class:`nlp.ratings.RatingExtractor`)."""

    table_previous_words: set[str]
    _org_tokens: set[int]
    dateline_re: re.Pattern[str]
    appositive_body_re: re.Pattern[str]
    table_column_words: set[str]
    table_date_words: set[str]
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

    def _cell_ratings(self, cell: str) -> list[str]:
        """The ratings a cell holds: one, or a rating and a placement in brackets or after a
        comma or "and" ("Inadequate (special measures)", "Good, out of special measures")."""
        whole = self._cell_rating(cell)
        if whole is not None:
            return [whole]
        parts = [self._cell_rating(p) for p in re.split(r"[(),;]|\band\b|\+", cell) if p.strip()]
        return [p for p in parts if p] if parts and all(parts) else []

    def _rating_columns(
        self, header: list[str], rows: list[list[str]]
    ) -> list[RatingColumn]:
        """The columns whose header names a rating ("Rating 2024") or whose cells are
        ratings under a header of a table column word ("Previous", "New")."""
        columns = []
        for i, cell in enumerate(header):
            words = set(re.findall(r"[a-z]+", cell.lower()))
            if not words & self.rating_nouns:
                cells = [r[i] for r in rows if len(r) == len(header)]
                rated = sum(1 for c in cells if self._cell_ratings(c))
                if not (words & self.table_column_words and cells and 2 * rated >= len(cells)):
                    continue
            year = YEAR_RE.search(cell)
            previous = bool(words & self.table_previous_words)
            columns.append(RatingColumn(i, previous, year.group(1) if year else None))
        return columns

    def _table_intro_year(self, line_start: int) -> str | None:
        """The one calendar year of the paragraph right before a table (within one blank
        line): "Seven practices had reports published in April 2025." dates its rows."""
        lines = self._text[:line_start].rstrip("\n").split("\n")[-2:]
        para = next((ln for ln in reversed(lines) if ln.strip()), "")
        # (a dateline above the table is the document's date, read as such)
        if "|" in para or "\t" in para or self.dateline_re.match(para.strip()):
            return None
        years = {m.group(1) for m in YEAR_RE.finditer(para)}
        return years.pop() if len(years) == 1 else None

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
            columns = self._rating_columns(header, [cells for _, cells, _ in block[1:]])
            if not columns or len(block) < 2:
                continue
            intro_year = self._table_intro_year(block[0][0])
            # a column of report or inspection dates ("Report published | March 2025")
            rated = {c.index for c in columns}
            date_col = next(
                (
                    i
                    for i, cell in enumerate(header)
                    if i not in rated
                    and set(re.findall(r"[a-z]+", cell.lower())) & self.table_date_words
                ),
                None,
            )
            for line_start, cells, starts in block[1:]:
                if len(cells) != len(header):
                    continue
                name_index = next(
                    (i for i, c in enumerate(cells) if not self._cell_ratings(c)), None
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
                values = {c.index: self._cell_ratings(cells[c.index]) for c in columns}
                previous = next(
                    (
                        v
                        for c in columns
                        if c.previous
                        for v in values[c.index]
                        if v in self.rank
                    ),
                    None,
                )
                line_end = line_start + len(self._text[line_start:].split("\n", 1)[0])
                row_years = (
                    {m.group(1) for m in YEAR_RE.finditer(cells[date_col])}
                    if date_col is not None
                    else set()
                )
                for col, value in ((c, v) for c in columns for v in values[c.index]):
                    if col.year:
                        period, source = col.year, "table_header"
                    elif len(row_years) == 1 and not col.previous:
                        period, source = next(iter(row_years)), "table_row_date"
                    elif col.previous:
                        period, source = None, "none"
                    elif intro_year:
                        period, source = intro_year, "table_intro"
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

    def _list_item_bodies(self, doc: Doc, units: list[Unit]) -> list[Span]:
        """Spans (typed provider) for the names of items in a list under a heading about
        ratings that the organisation finder did not mark ("- The Larches, Ashby – good"): the
        words before the item's first separator, a leading "The" dropped."""
        out: list[Span] = []
        for unit in units:
            if not (unit.bullet and unit.rating_list) or unit.end - unit.start < 3:
                continue
            end = next(
                (
                    t.i
                    for t in doc[unit.start + 1 : unit.end]
                    if t.text in ITEM_NAME_ENDS and t.i > unit.start + 1
                ),
                None,
            )
            start = unit.start + 1
            if end is None or end - start > 6 or not doc[start].text[:1].isupper():
                continue
            if any(k in self._org_tokens for k in range(start, end)):
                continue
            if not RATING_WORD_RE.search(doc[end : unit.end].text):
                continue
            name = doc[start:end].text
            for article in self.table_dropped_articles:
                if name.startswith(article + " "):
                    name = name[len(article) + 1 :]
            if not name[:1].isupper() or RATING_WORD_RE.search(name):
                continue
            out.append(Span(doc, start, end, label="provider", kb_id=name))
        return out

    def _appositive_bodies(self, doc: Doc) -> list[Span]:
        """Spans (typed provider) for a body named in apposition to its kind that the
        organisation finder did not mark ("The home, Willow Bank, was last inspected ...",
        "a practice called Elm Row"): ``appositive_body_re``."""
        out: list[Span] = []
        for m in self.appositive_body_re.finditer(self._text):
            span = doc.char_span(m.start("name"), m.end("name"), alignment_mode="contract")
            if span is None or any(k in self._org_tokens for k in range(span.start, span.end)):
                continue
            name = span.text
            for article in self.table_dropped_articles:
                if name.startswith(article + " "):
                    name = name[len(article) + 1 :]
            if RATING_WORD_RE.search(name) or not name[:1].isupper():
                continue
            out.append(Span(doc, span.start, span.end, label="provider", kb_id=name))
        return out

    def _table_body_mentions(self, doc: Doc, table_ratings: list[dict[str, Any]]) -> list[Span]:
        """Spans (typed provider) where the prose outside the tables names a rating table's
        row bodies that the organisation finder did not mark."""
        return self._named_again(
            doc, {r["org"] for r in table_ratings}, {r["sentence"] for r in table_ratings}
        )

    def _named_again(self, doc: Doc, names: set[str], table_lines: set[str]) -> list[Span]:
        """Spans (typed provider) where lines other than ``table_lines`` name one of
        ``names`` and the organisation finder marked nothing."""
        taken = {k for s in doc.spans.get("orgs", []) for k in range(s.start, s.end)}
        out: list[Span] = []
        for name in sorted(names):
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

    def _line_range(self, pos: int) -> tuple[int, int]:
        """The start and end of the text line that holds character ``pos``."""
        end = self._text.find("\n", pos)
        return self._text.rfind("\n", 0, pos) + 1, len(self._text) if end < 0 else end

    def _record_rated_bodies(
        self, doc: Doc, results: list[dict[str, Any]], added: list[Span]
    ) -> None:
        """Add to ``doc._.organisations`` the bodies the organisation finder missed that are
        rated here: a rating table's rows and the names read from list items and appositions
        (type provider, with their mentions)."""
        orgs = doc._.organisations
        if orgs is None:
            doc._.organisations = orgs = []
        known = {n for o in orgs for n in [o["name"], *(o.get("aliases") or [])]}
        rated = {r["org"] for r in results if r["why"].get("rateable") != "type"}
        for name in sorted(rated - known):
            mentions = [
                {"start": sp.start_char, "end": sp.end_char, "text": sp.text}
                for sp in added
                if sp.kb_id_ == name
            ]
            for r in results:
                if mentions or r["org"] != name or r["why"].get("body") != "table_row":
                    continue
                # the row's name cell
                at = self._text.find(name, self._line_range(r["start"])[0], r["start"])
                if at >= 0:
                    mentions = [{"start": at, "end": at + len(name), "text": name}]
            orgs.append({"name": name, "aliases": [], "type": "provider", "mentions": mentions})
