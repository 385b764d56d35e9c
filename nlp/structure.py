"""Document structure read from the raw text: headings, tables and lists.

Real pages state money in shapes that a sentence parser cannot read: a table whose unit and
year are in the column header and whose rows are named by a bare place ("North Bristol |
-33.7"), a dash or bullet list under a line that says what the figures are ("Forecast
overspends, 2017-18:" then "– Hywel Dda – £69.6m"), a short heading that names the body the
next paragraphs are about ("Humber and North Yorkshire" then "The system has agreed ...").

:func:`read_structure` finds these in a document's text (no spaCy needed) and returns a
:class:`DocStructure` the money component uses to resolve each amount's role, owner and
period. The words that give a column its unit, role and year and a table or list the kind of
body it names live, with names, in ``data/structure.toml``.
"""

from __future__ import annotations

import bisect
import functools
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

DATA_PATH = Path(__file__).parent / "data" / "structure.toml"

_FY_RE = re.compile(r"(?<![\d£$€])((?:19|20)\d{2})\s*[-–/]\s*(\d{2}|(?:19|20)\d{2})(?![\d%])")
_SHORT_FY_RE = re.compile(r"(?<![\d£$€.,/-])([0-9]\d)/(\d{2})(?![\d%/])")
_CELL_NUMBER_RE = re.compile(
    r"(?P<neg>[-–−])?\s?\(?\s?£?\s?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s?\)?")
_HEADING_END = ".!?:;,”\"’)"
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z“‘\"])")
_INLINE_ITEM_RE = re.compile(
    r"(?:(?<=:\s)|(?<=,\s)|(?<=;\s)|(?<=\sand\s))(?P<name>[A-Z][\w’'-]*"
    r"(?:\s+(?:[A-Z][\w’'-]*|and|of|the|upon|&))*?)\s*(?:\(\s*|\s[–—-]\s+)(?=£)")
_NHS_NAME_RE = re.compile(r"NHS(?:\s+(?:[A-Z][\w’'-]*|and|of|the|upon|on|&),?)+")


@dataclass(frozen=True)
class NamedPattern:
    """A pattern of ``data/structure.toml`` with its name (recorded in an amount's ``why``)."""

    name: str
    regex: re.Pattern[str]
    value: Any  # a role, a multiplier or a (template, type) pair


@dataclass(frozen=True)
class StructureLexicon:
    """The compiled contents of ``data/structure.toml``."""

    separators: tuple[str, ...]
    units: tuple[NamedPattern, ...]
    roles: tuple[NamedPattern, ...]
    not_amount: tuple[re.Pattern[str], ...]
    bullets: tuple[str, ...]
    name_end: re.Pattern[str]
    kinds: tuple[NamedPattern, ...]
    not_body_words: frozenset[str]
    connectors: frozenset[str]
    subheadings: tuple[NamedPattern, ...]
    heading_backrefs: tuple[NamedPattern, ...]  # value: the Kind the back-reference names
    period_rows: re.Pattern[str]  # row names that are months, quarters or years
    sub_unit_header: re.Pattern[str]  # a name column whose rows are parts of one body
    negative_roles: dict[str, str]  # a column's role -> the role of a negative cell under it
    against_budget: dict[str, str]  # roles of the measures beside a Budget column
    story_openers: tuple[NamedPattern, ...] = ()  # a paragraph that opens a digest item

    def could_be_body(self, name: str) -> bool:
        """Whether a bare row, item or heading name can stand for a body: a proper name
        ("North Bristol", "Isle of Wight"), not a total, a measure or a plan."""
        words = name.replace(",", " ").split()
        if not words or len(words) > 8 or name[0].isdigit() or re.search(r"\d{3}", name):
            return False  # a date, a year or a figure
        for w in words:
            low = w.lower().strip("’'()")
            if low in self.not_body_words:
                return False
            if not (w[0].isupper() or low in self.connectors or w[0].isdigit()):
                return False
        return True


def _heading_backrefs(data: dict[str, Any]) -> tuple[NamedPattern, ...]:
    """The ``[[heading_backrefs]]`` entries, each with the kind (template, type) it names."""
    kinds = {e["name"]: e for e in data["kinds"]}
    return tuple(NamedPattern(e["name"], re.compile(e["pattern"], re.IGNORECASE),
                              Kind(e["kind"], kinds[e["kind"]]["template"],
                                   kinds[e["kind"]]["type"]))
                 for e in data.get("heading_backrefs", []))


@functools.lru_cache(maxsize=2)
def load_structure_lexicon(path: str | Path = DATA_PATH) -> StructureLexicon:
    """Read and compile the structure lexicon (cached)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        table = data["table"]

        def named(entries: list[dict[str, Any]], key: str) -> tuple[NamedPattern, ...]:
            return tuple(NamedPattern(e["name"], re.compile(e["pattern"], re.IGNORECASE),
                                      e[key]) for e in entries)

        return StructureLexicon(
            separators=tuple(table["separators"]),
            units=tuple(NamedPattern(e["name"], re.compile(e["pattern"], re.IGNORECASE),
                                     Decimal(str(e["multiplier"])).normalize())
                        for e in table["units"]),
            roles=named(table["roles"], "role"),
            not_amount=tuple(re.compile(p, re.IGNORECASE) for p in table["not_amount"]),
            bullets=tuple(data["lists"]["bullets"]),
            name_end=re.compile(data["lists"]["name_end"]),
            kinds=tuple(NamedPattern(e["name"], re.compile(e["pattern"], re.IGNORECASE),
                                     (e["template"], e["type"])) for e in data["kinds"]),
            not_body_words=frozenset(w.lower() for w in data["names"]["not_body_words"]),
            connectors=frozenset(w.lower() for w in data["names"]["connectors"]),
            subheadings=named(data["subheadings"], "name"),
            heading_backrefs=_heading_backrefs(data),
            period_rows=re.compile(data["names"]["period_rows"], re.IGNORECASE),
            sub_unit_header=re.compile(data["names"]["sub_unit_header"], re.IGNORECASE),
            negative_roles=dict(table.get("negative_roles", {})),
            against_budget=dict(table.get("against_budget", {})),
            story_openers=tuple(NamedPattern(e["name"], re.compile(e["pattern"]), None)
                                for e in data.get("story_openers", [])),
        )
    except (OSError, tomllib.TOMLDecodeError, re.error) as e:
        raise RuntimeError(f"cannot read the structure lexicon {path}: {e}") from e
    except (KeyError, TypeError, ValueError) as e:
        raise RuntimeError(f"structure lexicon {path} is missing or misshapes an entry: {e}") from e


def financial_year(text: str) -> str | None:
    """The first financial year written in ``text`` ("2024/25" or "24/25" -> "2024-25")."""
    for m in _FY_RE.finditer(text):
        y1, y2 = m.group(1), m.group(2)
        if (int(y1) + 1) % 100 == int(y2[-2:]):
            return f"{y1}-{y2[-2:]}"
    for m in _SHORT_FY_RE.finditer(text):
        y1, y2 = int(m.group(1)), int(m.group(2))
        if (y1 + 1) % 100 == y2 and 5 <= y1 <= 60:
            return f"20{y1:02d}-{y2:02d}"
    return None


@dataclass(frozen=True)
class Kind:
    """The kind of body a table or list names: how to build a name from a bare row name."""

    rule: str
    template: str  # "{} Trust", "NHS {}"
    type: str


def find_kind(text: str, lex: StructureLexicon) -> Kind | None:
    """The first kind of body ``text`` names ("ICB", "health boards", "Trust")."""
    best: tuple[int, NamedPattern] | None = None
    for p in lex.kinds:
        m = p.regex.search(text)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), p)
    if best is None:
        return None
    template, kind_type = best[1].value
    return Kind(best[1].name, template, kind_type)


@dataclass
class Column:
    """A table column: its header and what the header says about its cells."""

    index: int
    header: str
    multiplier: Decimal | None  # None: not a money column
    unit_rule: str | None
    role: str | None  # "signed": a negative cell is a deficit, a positive one a surplus
    role_rule: str | None
    period: str | None


@dataclass
class Cell:
    """A table cell holding a figure (offsets of the figure as written)."""

    start: int
    end: int
    text: str
    value: Decimal | None  # in pounds, sign dropped (None: written with its own £ unit)
    negative: bool
    column: Column
    row: Row


@dataclass
class Row:
    name: str  # "" where the table's rows are not named
    name_start: int
    name_end: int
    cells: list[Cell] = field(default_factory=list)
    table_start: int = 0


@dataclass
class Table:
    start: int
    end: int
    columns: list[Column]
    rows: list[Row]
    kind: Kind | None
    intro: tuple[int, int] | None  # the sentence that introduces the table
    period: str | None  # the year of the introducing sentence
    named_rows: bool = True  # whether each row's first cell names a body


@dataclass
class ListItem:
    start: int
    end: int
    name: str
    name_start: int
    name_end: int
    intro: tuple[int, int] | None  # the line (its last sentence) that introduces the list
    kind: Kind | None
    siblings: list[ListItem] = field(default_factory=list, repr=False)


@dataclass
class Heading:
    """A short line without end punctuation that opens the text below it."""

    start: int
    end: int
    text: str
    section_end: int  # where the next heading starts (or the end of the text)
    period: str | None  # a year the heading itself gives ("2023/24 forecast")
    subheading: str | None = None  # the rule that makes it a part of a story, not a new one


@dataclass
class DocStructure:
    """Tables, list items and headings of one document, with lookups by character offset."""

    text: str
    tables: list[Table]
    items: list[ListItem]
    headings: list[Heading]
    kind: Kind | None  # the kind of body the document's opening paragraphs name most
    _cells: list[Cell] = field(default_factory=list, repr=False)
    _cell_starts: list[int] = field(default_factory=list, repr=False)
    _item_starts: list[int] = field(default_factory=list, repr=False)
    _heading_starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._cells = sorted((c for t in self.tables for r in t.rows for c in r.cells),
                             key=lambda c: c.start)
        self._cell_starts = [c.start for c in self._cells]
        self._item_starts = [i.start for i in self.items]
        self._heading_starts = [h.start for h in self.headings]

    @property
    def cells(self) -> list[Cell]:
        """Every table cell that holds a figure, in order."""
        return self._cells

    def cell_at(self, pos: int) -> Cell | None:
        """The table cell whose figure starts at or covers ``pos``."""
        i = bisect.bisect_right(self._cell_starts, pos) - 1
        if i >= 0 and pos < self._cells[i].end:
            return self._cells[i]
        return None

    def table_at(self, pos: int) -> Table | None:
        for t in self.tables:
            if t.start <= pos < t.end:
                return t
        return None

    def item_at(self, pos: int) -> ListItem | None:
        i = bisect.bisect_right(self._item_starts, pos) - 1
        if i >= 0 and self.items[i].start <= pos < self.items[i].end:
            return self.items[i]
        return None

    def heading_at(self, pos: int) -> Heading | None:
        """The heading that starts at ``pos`` (give or take leading spaces)."""
        i = bisect.bisect_left(self._heading_starts, pos)
        if i < len(self.headings) and self.headings[i].start <= pos + 2:
            return self.headings[i]
        return None

    def subheading_starts(self) -> set[int]:
        """Where headings that divide a story into parts start."""
        return {h.start for h in self.headings if h.subheading}

    def heading_before(self, pos: int) -> Heading | None:
        """The heading whose section ``pos`` lies in (not the document's first line)."""
        i = bisect.bisect_right(self._heading_starts, pos) - 1
        if i >= 0 and self.headings[i].end <= pos < self.headings[i].section_end:
            return self.headings[i]
        return None


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line, without its line break."""
    out = []
    pos = 0
    for line in text.split("\n"):
        out.append((pos, pos + len(line)))
        pos += len(line) + 1
    return out


def _cells_of(text: str, start: int, end: int, sep: str) -> list[tuple[int, int]]:
    """(start, end) of each cell of a table line, stripped of spaces."""
    out = []
    pos = start
    for part in text[start:end].split(sep):
        lo = pos + len(part) - len(part.lstrip())
        hi = pos + len(part.rstrip())
        out.append((lo, max(lo, hi)))
        pos += len(part) + len(sep)
    return out


def _last_sentence(text: str, start: int, end: int) -> tuple[int, int]:
    cut = start
    for m in _SENTENCE_END_RE.finditer(text, start, end):
        cut = m.end()
    return cut, end


def _column(index: int, header: str, lex: StructureLexicon) -> Column:
    multiplier = unit_rule = role = role_rule = None
    if "£" in header or re.search(r"\bpounds\b", header, re.IGNORECASE):
        for p in lex.units:
            if p.regex.search(header):
                multiplier, unit_rule = p.value, p.name
                break
    for p in lex.roles:
        if p.regex.search(header):
            role, role_rule = p.value, p.name
            break
    return Column(index, header, multiplier, unit_rule, role, role_rule, financial_year(header))


def _is_name_column_with_unit(text: str, rows: list[tuple[int, int]], sep: str,
                              columns: list[Column]) -> bool:
    """Whether the first column names the rows though its header states a unit ("Trust (£m)")."""
    first = columns[0]
    if first.multiplier is None or first.role is not None or len(columns) < 2:
        return False
    if not any(c.role is not None and c.multiplier is None for c in columns[1:]):
        return False
    names = []
    for r_start, r_end in rows[1:]:
        cells = _cells_of(text, r_start, r_end, sep)
        if cells:
            names.append(text[cells[0][0]:cells[0][1]])
    return bool(names) and not any(_CELL_NUMBER_RE.fullmatch(name) for name in names)


def _read_table(text: str, rows: list[tuple[int, int]], sep: str, intro: tuple[int, int] | None,
                lex: StructureLexicon) -> Table:
    header_cells = _cells_of(text, *rows[0], sep)
    columns = [_column(i, text[s:e], lex) for i, (s, e) in enumerate(header_cells)]
    intro_text = text[intro[0]:intro[1]] if intro else ""
    kind = find_kind(text[header_cells[0][0]:header_cells[0][1]], lex) or find_kind(intro_text, lex)
    if _is_name_column_with_unit(text, rows, sep, columns):
        # "Trust (£m, 2023/24) | Reported deficit | Underlying deficit": the name column's
        # header gives the unit and year of the measure columns that state none of their own
        first = columns[0]
        for column in columns[1:]:
            if column.multiplier is None and column.role is not None:
                column.multiplier, column.unit_rule = first.multiplier, first.unit_rule
            column.period = column.period or first.period
        first.multiplier = first.unit_rule = None
    # rows are named by their first cell unless its header is itself a measure ("Control
    # total (24/25) | YTD deficit (£m)" under a heading that names the body)
    named = columns[0].multiplier is None and columns[0].role is None
    table = Table(rows[0][0], rows[-1][1], columns, [], kind, intro, financial_year(intro_text),
                  named)
    for r_start, r_end in rows[1:]:
        cells = _cells_of(text, r_start, r_end, sep)
        if not cells or (named and cells[0][0] == cells[0][1]):
            continue
        row = Row(text[cells[0][0]:cells[0][1]] if named else "", cells[0][0],
                  cells[0][1] if named else cells[0][0], table_start=table.start)
        for (c_start, c_end), column in zip(cells[1 if named else 0:], columns[1 if named else 0:],
                                            strict=False):
            value = text[c_start:c_end]
            if not value or any(rx.match(value) for rx in lex.not_amount):
                continue
            if "£" in value and column.role is not None and re.search(r"\d", value):
                # a figure written with its own unit ("£205.6m"): the money parser reads it,
                # the column still says what it is
                row.cells.append(Cell(c_start, c_end, value, None, False, column, row))
                continue
            m = _CELL_NUMBER_RE.fullmatch(value)
            if column.multiplier is None or m is None:
                continue
            number = Decimal(m.group("num").replace(",", "")) * column.multiplier
            negative = bool(m.group("neg")) or value.startswith("(")
            row.cells.append(Cell(c_start, c_end, value, number, negative, column, row))
        table.rows.append(row)
    return table


def _is_heading(line: str) -> bool:
    words = line.split()
    return (0 < len(words) <= 12 and line[-1] not in _HEADING_END
            and (line[0].isupper() or line[0].isdigit())
            and not line.startswith(("•", "–", "-", "*")))


def read_structure(text: str, lex: StructureLexicon | None = None) -> DocStructure:
    """Tables, list items and headings of ``text``."""
    lex = lex or load_structure_lexicon()
    lines = _lines(text)
    tables: list[Table] = []
    items: list[ListItem] = []
    headings: list[Heading] = []
    i = 0
    while i < len(lines):
        start, end = lines[i]
        line = text[start:end]
        sep = next((s for s in lex.separators if line.count(s) >= 1), None)
        if sep is not None:
            j = i
            while j < len(lines) and text[lines[j][0]:lines[j][1]].count(sep) >= 1:
                j += 1
            rows = [r for r in lines[i:j] if not re.fullmatch(r"[\s|:\-–+]*", text[r[0]:r[1]])]
            if len(rows) >= 2:
                intro = _intro(text, lines, i)
                tables.append(_read_table(text, rows, sep, intro, lex))
                i = j
                continue
        bullet = next((b for b in lex.bullets if line.lstrip().startswith(b + " ")), None)
        if bullet is not None:
            j = i
            group: list[ListItem] = []
            intro = _intro(text, lines, i)
            kind = None
            if intro is not None:
                kind = find_kind(text[intro[0]:intro[1]], lex)
            while j < len(lines):
                s, e = lines[j]
                stripped = text[s:e].lstrip()
                if not stripped.startswith(tuple(b + " " for b in lex.bullets)):
                    break
                body = s + (e - s - len(stripped)) + 2
                while body < e and text[body] == " ":
                    body += 1
                m = lex.name_end.search(text, body, e)
                name_end = m.start() if m else e
                group.append(ListItem(s, e, text[body:name_end], body, name_end,
                                      _last_sentence(text, *intro) if intro else None, kind))
                j += 1
            for item in group:
                item.siblings = group
            items.extend(group)
            i = j
            continue
        stripped = line.strip()
        if i > 0 and _is_heading(stripped) and i + 1 < len(lines) \
                and text[lines[i + 1][0]:lines[i + 1][1]].strip():
            h_start = start + len(line) - len(line.lstrip())
            sub = next((p.name for p in lex.subheadings if p.regex.fullmatch(stripped)), None)
            if sub is not None and sub.startswith("subheading_topic") and not stripped.isupper() \
                    and _named_elsewhere(text, stripped, h_start):
                sub = None  # "Fellside" over its section is a body's name, not a topic
            headings.append(Heading(h_start, h_start + len(stripped), stripped, len(text),
                                    financial_year(stripped), sub))
        elif ":" in line and "£" in line:
            items.extend(_inline_items(text, start, end, lex))
        i += 1
    for h, nxt in zip(headings, headings[1:], strict=False):
        h.section_end = nxt.start
    opening = text[:headings[0].start] if headings else text[:600]
    return DocStructure(text, tables, items, headings, find_kind(opening, lex))


def _named_elsewhere(text: str, words: str, at: int) -> bool:
    """Whether a heading's first word is capitalised elsewhere in the text where a common
    word would not be: after a lower-case word or a comma, or naming a table row (one with a
    figure: not a header line, "Capital programme | Budget £m") or list item."""
    first = re.escape(words.split()[0])
    # (after a lower-case *word*: "Care Quality Commission" does not name "Quality")
    pattern = (rf"(?:\b[a-z][\w’'-]*,?|,) (?P<w>{first})\b"
               rf"|^[ \t]*(?P<r>{first})\b(?=[^|\t\n]*[|\t][ \t]*[-(£]?\d)"
               rf"|(?<=[–•-] )(?P<i>{first})\b")
    return any(m.start(m.lastgroup) != at
               for m in re.finditer(pattern, text, re.MULTILINE))


def _inline_items(text: str, start: int, end: int, lex: StructureLexicon) -> list[ListItem]:
    """Items of a list written inline after a colon: "Forecast deficits for 2024/25: Harbury
    Vale (£22m), Kestrel Coast – £19m and Fenmoor (£4m)". The words before the colon (from
    the start of their sentence) introduce the list."""
    out: list[ListItem] = []
    for colon in re.finditer(r":\s+", text[start:end]):
        c_start, body = start + colon.start(), start + colon.end()
        intro = _last_sentence(text, start, c_start)
        for m in _INLINE_ITEM_RE.finditer(text, body, end):
            name_start, name_end = m.start("name"), m.end("name")
            stop = re.search(r"[,;]\s|\sand\s|\.\s|$", text[m.end():end])
            item_end = m.end() + (stop.start() if stop else 0)
            out.append(ListItem(name_start, item_end, m.group("name"), name_start, name_end,
                                intro, find_kind(text[intro[0]:intro[1]], lex)))
        if out:
            for item in out:
                item.siblings = out
            break
    return out


def _intro(text: str, lines: list[tuple[int, int]], i: int) -> tuple[int, int] | None:
    """The non-blank line right before line ``i`` (within one blank line), if any."""
    for k in (i - 1, i - 2):
        if k < 0:
            return None
        s, e = lines[k]
        if text[s:e].strip():
            return s, e
    return None


def nhs_heading_names(structure: DocStructure, lex: StructureLexicon | None = None
                      ) -> list[Heading]:
    """Headings that are a body's whole name in the NHS naming pattern ("NHS Devon")."""
    lex = lex or load_structure_lexicon()
    return [h for h in structure.headings if _NHS_NAME_RE.fullmatch(h.text.rstrip(","))
            and len(h.text.split()) >= 2 and lex.could_be_body(h.text[4:])]
