"""Amounts that document structure explains: table cells and list items (see nlp/structure.py).

* A table cell under a money column is an amount even without a £ sign ("-10.3" under "£m" is
  £10.3m); the column header gives its role and year, the row's name its owner.
* A list item ("– Hywel Dda – £69.6m") is owned by the body its name stands for; the line that
  introduces the list gives role and year when the item itself does not.
* A bare row or item name ("North Bristol", "Lothian") stands for a body: an organisation the
  text names in full ("NHS Lothian"), else one built from the kind of body the table or list is
  about ("North Bristol Trust"). Built bodies are added to the document's organisations, with
  the bare name as an alias, and so are headings that repeat a row's name or are a body's full
  name in the NHS naming pattern ("NHS Devon"): the text under them is about that body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from spacy.tokens import Doc, Span

from nlp.money_parse import ParsedAmount
from nlp.structure import (
    Cell,
    DocStructure,
    Heading,
    Kind,
    ListItem,
    Table,
    find_kind,
    load_structure_lexicon,
    nhs_heading_names,
)

ORG_SPAN_KEY = "orgs"
# words that end a full organisation name written out in the text
_NAME_ENDINGS = re.compile(
    r"\b(?:trust|trusts|board|ccg|icb|council|hospital|hospitals|group|partnership|authority|"
    r"service|services|ltd|plc)$", re.IGNORECASE)
# words that end a body's own legal name: a row named this way needs no kind added ("King's
# College Hospital" in a table of trusts is "King's College Hospital Trust")
_BODY_ENDINGS = re.compile(
    r"\b(?:trust|board|ccg|icb|council|group|partnership|authority|ltd|plc)$", re.IGNORECASE)

# the first two sentences of a section (what a back-reference to its heading must sit in)
_OPENING_SENTENCES_RE = re.compile(r"\s*[^\n]*?(?:[.!?](?:\s|$)[^\n]*?(?:[.!?](?:\s|$)|$)|$)")


@dataclass
class RowOwner:
    """The body a bare row/item/heading name stands for, and how it was found."""

    name: str
    type: str | None
    rule: str  # "row_name_match", "row_nhs_pattern", "row_kind:<kind rule>", "row_full_name"


def _plain(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() else float(value)


def cell_amount(cell: Cell) -> ParsedAmount:
    """The amount a table cell holds, in pounds (the header's unit applied, sign dropped)."""
    return ParsedAmount(value=_plain(cell.value), value_max=None, currency="GBP",
                        qualifier="exact", per=None, text=cell.text, start=cell.start,
                        end=cell.end, figure_start=cell.start)


def _against_budget(cell: Cell, role: str | None,
                    rules: dict[str, str]) -> tuple[str, str] | None:
    """(role, rule) of an "Actual" or variance cell in a row that has a Budget cell: spending
    against that budget, not a surplus or a gap against plan (``[table.against_budget]``)."""
    if not rules or role not in ("signed", "gap") or not any(
            c.column.role == "budget" for c in cell.row.cells if c is not cell):
        return None
    name = rules.get("name", "against_budget")
    if role == "signed":
        return rules["actual_role"], f"{cell.column.role_rule}+{name}"
    negative_is_favourable = bool(re.search(rules.get("favourable_bracketed", "(?!)"),
                                            cell.column.header, re.IGNORECASE))
    adverse = cell.negative != negative_is_favourable
    return (rules["adverse_role"] if adverse else rules["favourable_role"],
            f"{cell.column.role_rule}+{name}")


def cell_role(cell: Cell) -> tuple[str, str]:
    """(role, rule) of a cell from its column header (the sign where the header names none)."""
    role, rule = cell.column.role, cell.column.role_rule or "header_none"
    if role == "signed" and not cell.negative and any(
            c.column.role == "deficit" for c in cell.row.cells if c is not cell):
        # "Deficit at month 6 (£m) | Forecast outturn (£m)": the row's figures are all
        # deficits, written without a sign
        return "deficit", f"{rule}+sibling_deficit"
    lex = load_structure_lexicon()
    budget_rule = _against_budget(cell, role, lex.against_budget)
    if budget_rule:
        return budget_rule
    opposite = lex.negative_roles.get(role or "")
    if cell.negative and opposite:
        return opposite, f"{rule}+negative"
    if role == "signed" or role is None:
        return ("deficit" if cell.negative else ("surplus" if role == "signed" else "other"),
                f"{rule}+sign")
    return role, rule


# the most words between an item's name and its first figure for the name to be a label
# ("– Hywel Dda, forecast – £69.6m"); more, in an item that ends a sentence, make a sentence
SENTENCE_ITEM_WORDS = 6


def _sentence_item(text: str, item: ListItem, first_money: int) -> bool:
    """Whether a list item is a sentence that opens with a body's name rather than a name and
    its figure: the parse, not the bullet, says whose its figures are."""
    between = text[item.name_end:first_money].split()
    return (len(between) >= SENTENCE_ITEM_WORDS
            and text[item.start:item.end].rstrip().endswith("."))


def one_body_rows(table: Table) -> str | None:
    """The rule by which a table's rows are the parts or measures of one body rather than
    bodies: a name column headed by a part ("Division | Budget (£000)": "sub_unit_row"), or
    rows most of which cannot name a body ("Capital programme | Budget £m" over "Estates
    backlog", "Digital", "Medical equipment": "rows_not_bodies"). None: rows name bodies."""
    lex = load_structure_lexicon()
    if table.columns and lex.sub_unit_header.match(table.columns[0].header):
        return "sub_unit_row"
    names = [r.name.strip(" *:–—-") for r in table.rows if r.cells and r.name.strip()]
    names = [n for n in names if not lex.period_rows.match(n)]
    if len(names) >= 2 and 2 * sum(lex.could_be_body(n) for n in names) < len(names):
        return "rows_not_bodies"
    return None


class StructureOrgs:
    """Resolves the bare names of table rows, list items and headings to organisations and
    records them in the document (``doc.spans["orgs"]`` and ``doc._.organisations``)."""

    def __init__(self, doc: Doc, structure: DocStructure, text: str | None = None) -> None:
        self.doc = doc
        self.structure = structure
        # Doc.text is rebuilt from the tokens on every access: a caller that has it passes it
        self.text = doc.text if text is None else text
        self.by_name: dict[str, dict[str, Any]] = {}
        for org in doc._.organisations or []:
            self.by_name[org["name"]] = org
        self.cache: dict[tuple[str, str], RowOwner | None] = {}
        # full names the tagger missed, found in the text (recorded as mentions)
        self.full_names: list[tuple[int, int, RowOwner]] = []

    def _existing(self, bare: str) -> RowOwner | None:
        """An organisation the text names in full for a bare name ("NHS Lothian" for
        "Lothian", "Hywel Dda University Health Board" for "Hywel Dda"), else one the tagger
        found under the bare name itself."""
        low = bare.lower()
        same: RowOwner | None = None
        for name, org in self.by_name.items():
            aliases = [a.lower() for a in org.get("aliases") or []]
            if name.lower() == low:
                same = RowOwner(name, org.get("type"), "row_name_match")
            elif low in aliases:
                return RowOwner(name, org.get("type"), "row_alias_match")
        for name, org in self.by_name.items():
            n = name.lower()
            if n == f"nhs {low}":
                return RowOwner(name, org.get("type"), "row_nhs_pattern")
            if n.startswith(low + " ") and _NAME_ENDINGS.search(n):
                return RowOwner(name, org.get("type"), "row_name_match")
        # the full name written out elsewhere in the text, even where the tagger missed it
        for m in re.finditer(re.escape(bare) + r"((?:[ \t]+(?:[A-Z][\w’'-]*|NHS))+)", self.text):
            words = m.group(1).split()
            for k in range(len(words), 0, -1):
                if _NAME_ENDINGS.search(words[k - 1]):
                    full = f"{bare} {' '.join(words[:k])}"
                    got = RowOwner(full, self.by_name.get(full, {}).get("type") or "provider",
                                   "row_full_name_in_text")
                    self.full_names.append((m.start(), m.start() + len(full), got))
                    return got
        return same

    def resolve(self, bare: str, kind: Kind | None, siblings: list[str] = ()) -> RowOwner | None:
        """The body ``bare`` stands for, given the kind of body its table or list is about."""
        bare = bare.strip(" *:–—-")
        lex = load_structure_lexicon()
        if not lex.could_be_body(bare) or lex.period_rows.match(bare):
            return None  # a total, a measure, or a month of one body's figures
        key = (bare, kind.rule if kind else "")
        if key in self.cache:
            return self.cache[key]
        got = self._existing(bare)
        if got is not None and kind is not None and got.name == bare \
                and not _BODY_ENDINGS.search(bare) and not bare.startswith("NHS "):
            got = None  # a bare name the organisation tagger kept as it stands: build it
        if got is None and (bare.startswith("NHS ") or _BODY_ENDINGS.search(bare)
                            or (kind is None and _NAME_ENDINGS.search(bare))):
            got = RowOwner(bare, kind.type if kind else "provider", "row_full_name")
        if got is None and kind is not None:
            # the naming pattern of the siblings found in the text ("NHS Tayside" for
            # "Tayside") beats the kind's default template
            for sib in siblings:
                other = self._existing(sib.strip(" *:–—-")) if sib != bare else None
                if other is not None and other.rule == "row_nhs_pattern":
                    got = RowOwner(f"NHS {bare}", other.type, "row_nhs_pattern")
                    break
            if got is None:
                got = RowOwner(kind.template.format(bare), kind.type, f"row_kind:{kind.rule}")
        self.cache[key] = got
        if got is not None:
            self._record(got, bare)
        return got

    def _record(self, owner: RowOwner, alias: str) -> None:
        org = self.by_name.get(owner.name)
        if org is None:
            # a bare name the tagger kept as its own organisation becomes the built one
            org = self.by_name.pop(alias, None)
            if org is not None:
                org["name"] = owner.name
                org["type"] = owner.type
                if ORG_SPAN_KEY in self.doc.spans:
                    self.doc.spans[ORG_SPAN_KEY] = [
                        self._span(s.start, s.end, owner) if s._.org_name == alias else s
                        for s in self.doc.spans[ORG_SPAN_KEY]]
            else:
                org = {"name": owner.name, "aliases": [], "type": owner.type, "mentions": []}
                orgs = self.doc._.organisations
                if orgs is None:
                    self.doc._.organisations = orgs = []
                orgs.append(org)
            self.by_name[owner.name] = org
        if alias != owner.name and alias not in org["aliases"]:
            org["aliases"].append(alias)

    def add_mention(self, start: int, end: int, owner: RowOwner, replace: bool = False
                    ) -> None:
        """Record the text at ``start:end`` as a mention of ``owner`` (span and dict); with
        ``replace``, shorter mentions inside it give way (a heading that is a whole name)."""
        span = self.doc.char_span(start, end, alignment_mode="expand")
        if span is None:
            return
        spans = list(self.doc.spans[ORG_SPAN_KEY]) if ORG_SPAN_KEY in self.doc.spans else []
        overlapping = [s for s in spans
                       if s.start_char <= start < s.end_char or start <= s.start_char < end]
        if overlapping:
            if not replace or any(s.start_char < start or s.end_char > end for s in overlapping):
                return
            spans = [s for s in spans if s not in overlapping]
        spans.append(self._span(span.start, span.end, owner))
        spans.sort(key=lambda s: (s.start_char, s.end_char))
        self.doc.spans[ORG_SPAN_KEY] = spans
        org = self.by_name.get(owner.name)
        if org is not None:
            org["mentions"].append({"start": start, "end": end, "text": self.text[start:end]})

    def _span(self, start: int, end: int, owner: RowOwner) -> Span:
        # an organisation span carries its name as kb_id and its type as label (nlp.text)
        return Span(self.doc, start, end, label=owner.type or "provider", kb_id=owner.name)

    def resolve_all(self) -> dict[int, RowOwner]:
        """Owners of every table row and list item, keyed by the start of its name; the bare
        names are also recorded as mentions wherever the text repeats them on their own."""
        owners: dict[int, RowOwner] = {}
        bare_names: dict[str, RowOwner] = {}
        for table in self.structure.tables:
            kind = table.kind
            if not table.named_rows and table.intro is not None:
                # a table of one body's figures under a heading that names it
                heading = self.structure.heading_at(table.intro[0])
                got = None
                if heading is not None:
                    got = self.resolve(heading.text, kind or self.structure.kind)
                if got is not None:
                    owners[table.start] = got
                    self.add_mention(heading.start, heading.end, got, replace=True)
                continue
            if one_body_rows(table) is not None:
                # "Division | ...", "Estates backlog | ...": the rows are parts or measures of
                # one body, not bodies; a row label the tagger took for a name is none
                self._drop_row_labels(table)
                continue
            names = [r.name for r in table.rows]
            for row in table.rows:
                if not row.cells:
                    continue
                got = self.resolve(row.name, kind, names)
                if got is not None:
                    owners[row.name_start] = got
                    bare_names[row.name] = got
                    self.add_mention(row.name_start, row.name_end, got)
        spans = list(self.doc.spans[ORG_SPAN_KEY]) if ORG_SPAN_KEY in self.doc.spans else []
        for item in self.structure.items:
            if "£" not in self.text[item.start:item.end]:
                continue
            first_money = self.text.index("£", item.start)
            if any(item.name_end <= sp.start_char < first_money for sp in spans):
                # "• Contract: NHS Pendry ICB has awarded ... £7.2m": the item's name is a
                # label; the sentence after it names the body
                continue
            if _sentence_item(self.text, item, first_money):
                continue  # "• X, a private provider of scans, has won a £14m contract from Y."
            got = self.item_owner(item)
            if got is not None:
                owners[item.name_start] = got
                self.add_mention(item.name_start, item.name_end, got)
        for start, end, got in self.full_names:
            self.add_mention(start, end, got)
        for bare, got in bare_names.items():
            # the bare name repeated on its own (a heading over the body's paragraphs, "X and
            # King's College Hospital had both ...")
            if len(bare) < 4 and not bare.startswith("NHS "):
                continue
            for m in re.finditer(r"(?<![\w’'-])" + re.escape(bare) + r"(?![\w’'-]| [A-Z])",
                                 self.text):
                if self.structure.cell_at(m.start()) is None and \
                        not any(r.name_start == m.start() for t in self.structure.tables
                                for r in t.rows):
                    self.add_mention(m.start(), m.end(), got)
        for h in self.structure.headings:
            got = self.heading_body(h)
            if got is not None:
                self.add_mention(h.start, h.end, got, replace=True)
        for h in nhs_heading_names(self.structure):
            if h.text not in self.by_name:
                kind = self.structure.kind
                got = RowOwner(h.text, kind.type if kind else "commissioner", "heading_nhs_name")
                self._record(got, h.text)
                self.add_mention(h.start, h.end, got, replace=True)
        return owners

    def _drop_row_labels(self, table: Table) -> None:
        """Forget organisations the tagger found only as row labels of ``table``."""
        labels = [(r.name_start, r.name_end) for r in table.rows]
        dropped = {name for name, org in self.by_name.items()
                   if org.get("mentions") and all(
                       any(lo <= m["start"] < hi for lo, hi in labels)
                       for m in org["mentions"])}
        if not dropped:
            return
        for name in dropped:
            del self.by_name[name]
        self.doc._.organisations = [o for o in self.doc._.organisations or []
                                    if o["name"] not in dropped]
        if ORG_SPAN_KEY in self.doc.spans:
            self.doc.spans[ORG_SPAN_KEY] = [s for s in self.doc.spans[ORG_SPAN_KEY]
                                            if s._.org_name not in dropped]

    def heading_body(self, heading: Heading) -> RowOwner | None:
        """The body a bare-name heading stands for when the opening sentences of its section
        point back to a kind of body ("Pennine Fells" over "The system planned ..." is Pennine
        Fells ICB); a topic heading ("Risks") or a heading the tagger read as a name is not."""
        lex = load_structure_lexicon()
        if heading.subheading or heading.start == 0 or not lex.could_be_body(heading.text) \
                or len(heading.text.split()) > 5:
            return None
        spans = self.doc.spans[ORG_SPAN_KEY] if ORG_SPAN_KEY in self.doc.spans else []
        if any(heading.start <= sp.start_char < heading.end for sp in spans):
            return None
        opening = _OPENING_SENTENCES_RE.match(self.text, heading.end, heading.section_end)
        if opening is None:
            return None
        for p in lex.heading_backrefs:
            m = p.regex.search(opening.group())
            if m is None:
                continue
            named_first = any(heading.end <= sp.start_char < opening.start() + m.start()
                              for sp in spans)
            if named_first:
                return None  # "the trust" points back to a body the section names
            got = self.resolve(heading.text, p.value)
            if got is not None and got.rule.startswith("row_kind:"):
                got = RowOwner(got.name, got.type, f"heading_backref:{p.name}")
            return got
        return None

    def item_owner(self, item: ListItem) -> RowOwner | None:
        kind = item.kind
        if kind is None or kind.rule == "kind_board":
            # "boards" alone says less than "health boards" in the paragraph before
            kind = self._kind_near(item) or kind
        return self.resolve(item.name, kind, [s.name for s in item.siblings])

    def _kind_near(self, item: ListItem) -> Kind | None:
        """The kind of body the text before a list names ("Four of Wales's health boards"),
        a specific kind ("health boards") before the bare word "boards"."""
        first = item.siblings[0].start if item.siblings else item.start
        text = self.text[max(0, first - 800):first]
        kinds = [k for k in (find_kind(m.group(), load_structure_lexicon()) for m in
                             re.finditer(r"[^.\n]+", text)) if k is not None]
        specific = [k for k in kinds if k.rule != "kind_board"]
        return (specific or kinds or [None])[-1]

