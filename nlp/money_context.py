"""Per-document context of the money component: sentences, clauses, stories, years, organisation
mentions, and the :class:`FoundAmount` record each amount's role, owner and period are written to.
"""


from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any

from spacy.tokens import Doc, Span

from nlp.money_parse import Lexicon, ParsedAmount
from nlp.structure import financial_year, load_structure_lexicon

ORG_SPAN_KEY = "orgs"


_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
)


# --------------------------------------------------------------------------------------------
# Document context: sentences, clauses, stories, years, organisation mentions
# --------------------------------------------------------------------------------------------

_FY_RE = re.compile(r"(?<![\d£$€])((?:19|20)\d{2})\s*[-–/]\s*(\d{2}|(?:19|20)\d{2})(?![\d%])")
_YEAR_SPAN_RE = re.compile(
    r"\b(?:between|from)\s+(?:19|20)\d{2}\s+(?:and|to|until)\s+(?:19|20)\d{2}\b", re.IGNORECASE)
# a financial year written short ("24/25", "(24/25)"): two consecutive two-digit years
_SHORT_FY_RE = re.compile(r"(?<![\d£$€.,/-])([0-9]\d)/(\d{2})(?![\d%/])")
_YEAR_RE = re.compile(
    r"(?<![\d£$€.,/-])(?<!since )(?<!built in )(?<!until )(?<!founded in )"
    r"(19[5-9]\d|20\d{2})(?![\d%,.]\d|[-–/]\d|s\b|’s\b|'s\b)")
_YEAR_TO_MARCH_RE = re.compile(
    r"\byear\s+(?:to|ending|ended|end)\s+(?:31(?:st)?\s+)?March\s+((?:19|20)\d{2})\b",
    re.IGNORECASE)
# a year that dates a comparison's baseline ("up from £2.4bn in 2020-21"), not the story
BASELINE_RE = re.compile(
    r"\b(?:up|down|rising|falling|rose|fell|increased|decreased)\s+from\s+\S+\s+(?:in|for)\s+$"
    r"|\bcompared\s+(?:with|to)\s+\S+\s+(?:in|for)\s+$", re.IGNORECASE)
BASELINE_AMOUNT_RE = re.compile(
    r"\b(?:up|down|rising|falling|rose|fell|increased|decreased)\s+from\s+$"
    r"|\bcompared\s+(?:with|to)\s+$", re.IGNORECASE)
_NOT_PERIOD_BEFORE_RE = re.compile(
    r"\b(?:built|opened|constructed|founded|established|erected|completed|designed|"
    r"dat(?:ing|es|ed)\s+(?:back\s+)?(?:from|to)|since|until)\s+(?:in\s+)?(?:the\s+)?$",
    re.IGNORECASE)
_MONTH_BEFORE_RE = re.compile(rf"(?:{_MONTHS})\s*$", re.IGNORECASE)
_CLAUSE_SPLIT_RE = re.compile(
    r";|:\s|\s[–—]\s|\s-\s|,\s+(?=(?:but|although|though|while|whereas|yet)\b)|\(|\)"
    r"|,\s+(?=and\s+(?:the|its|their|a|an)\s)")  # ", and the trust's plan ...": a new subject
# line breaks, and full stops the tokenizer took for an abbreviation ("£44m. Still")
_ABBREV = "".join(rf"(?<!\b{a}\.)" for a in ("Mr", "Ms", "Dr", "St", "No", "vs", "Mrs", "Prof"))
_SENT_SPLIT_RE = re.compile(
    r"\n\s*"
    rf"|(?<=[a-z0-9%)][.!?]){_ABBREV}\s+(?=[A-Z“‘\"])"
    rf"|(?<=[a-z0-9%)][.!?][”’\"])\s+(?=[A-Z“‘\"])"
)
HEADLINE_END = ".!?:;,”\"’)"

# "£4.5m of the £15m": a part of the next amount; "£1.8bn of it": of the one before
PART_OF_NEXT_RE = re.compile(r"\s*of\s+(?:the|its|their)\s+")
PART_OF_PREVIOUS_RE = re.compile(r"\s*of\s+(?:it|them|this|that)\b")
# verbs of asking for money: the asker owns it
REQUEST_LEMMAS = frozenset({"ask", "request", "seek", "apply", "bid", "borrow", "petition"})


@dataclass
class YearMention:
    start: int
    end: int
    period: str
    fiscal: bool
    date: bool  # a month date ("March 2019"), not a period the text is about


@dataclass
class OrgMention:
    start: int
    end: int
    name: str
    type: str | None


# The extra weight in salience of a body the document's title lines name.
TITLE_SUBJECT_WEIGHT = 1.0

# Role sources that are guesses, not evidence: the default, and the role of the run of figures
# before an amount whose sentence names no kind of money; a mention with evidence beats them.
WEAK_ROLE_SOURCES = frozenset({"default", "run_of_figures"})

@dataclass
class FoundAmount:
    parsed: ParsedAmount
    start: int  # of the figure (without qualifier)
    end: int
    sent: int
    clause: tuple[int, int]
    story: int
    currency: str = "GBP"
    role: str = "other"
    role_source: str = "default"
    org: str | None = None
    period: str | None = None
    period_source: str = ""
    org_source: str = ""
    headline: bool = False
    cell: Any = None  # the table cell (nlp.structure.Cell) the amount is, if any
    item: Any = None  # the list item (nlp.structure.ListItem) it sits in, if any
    role_rule: str = ""  # the rule whose role the learned model overruled, if it did

    def why(self) -> dict[str, str]:
        """Which named pattern or rule decided the role, owner and period."""
        why = {"role": self.role_source, "org": self.org_source or "none",
               "period": self.period_source or "none"}
        if self.role_rule:
            why["role_rule"] = self.role_rule
        return why


class MoneyContext:
    """Per-document facts every amount needs (computed once per doc)."""

    def __init__(self, doc: Doc, lex: Lexicon, text: str) -> None:
        self.doc = doc
        self.text = text  # Doc.text is rebuilt from the tokens on every access
        self.lex = lex
        # the first token tells whether a tagger/parser ran (has_annotation walks every token)
        self.tagged = len(doc) > 0 and doc[0].pos != 0
        self.parsed = len(doc) > 0 and doc[0].dep != 0
        self.sents = self._sentences(doc, text)
        self.sent_starts = [s for s, _ in self.sents]
        self.story_starts = self._stories(self.text)
        # stories that are items of a digest ("Estates: ...", "2. ..."), not headlined ones
        self.digest_item_starts = frozenset(
            pos for pos in self.story_starts
            if pos > 0 and _opens_digest_item(*_line_words(self.text, pos)))
        self.paragraph_starts = [0] + [m.end() for m in re.finditer(r"\n[ \t]*\n\s*", text)]
        self.years = self._years(self.text)
        self.year_starts = [y.start for y in self.years]
        self.governing, self.governing_rule = self._governing_year(self.text)
        self.pinned = self._pinned_year(self.text) or self.governing
        # where the title lines end: a body named there is what the paper is about
        self.title_end = _title_end(self.text)
        # (a paper's heading block has two lines or more: a title over the body's line; a
        # news headline stands alone)
        self.title_lines = len(_title_lines(self.text))
        self.orgs = self._org_mentions(doc)
        self.org_starts = [o.start for o in self.orgs]
        self.amount_tokens: set[int] = set()  # tokens of amounts (filled by the component)
        self.amount_starts: list[int] = []  # figure starts of all amounts, sorted (likewise)
        self.previous: FoundAmount | None = None  # the amount resolved last (likewise)
        self.role = "other"  # the role of the amount whose owner is being resolved
        self.found: list[FoundAmount] = []  # every amount, in order (set by the component)
        self.structure: Any = None  # its nlp.structure.DocStructure (set by the component)
        self.token_org: dict[int, OrgMention] = {}
        for span, mention in zip(self._org_spans(doc), self.orgs, strict=True):
            for tok in span:
                self.token_org[tok.i] = mention

    @staticmethod
    def _sentences(doc: Doc, text: str) -> list[tuple[int, int]]:
        """Parser sentences, further split at line breaks (headlines, list items)."""
        try:
            bounds = [(s.start_char, s.end_char) for s in doc.sents]
        except ValueError:  # no parser or sentencizer: split on the text alone
            bounds = [(0, len(text))]
        out = []
        for start, end in bounds:
            pos = start
            for m in _SENT_SPLIT_RE.finditer(text[start:end]):
                cut = start + m.start()
                if text[pos:cut].strip():
                    out.append((pos, cut))
                pos = start + m.end()
            if text[pos:end].strip():
                out.append((pos, end))
        return out or [(0, len(text))]

    @staticmethod
    def _stories(text: str) -> list[int]:
        """Story starts: a short headline-like line, or text after two blank lines. A
        headline-like line right under another (a title's subtitle, a standfirst, a section
        label over a headline) belongs to the story the first one starts."""
        starts = [0]
        pos = 0
        after_headline = False
        for line in text.split("\n"):
            stripped = line.strip()
            words = stripped.split()
            headline = bool(stripped and len(words) <= 12 and stripped[-1] not in HEADLINE_END
                            and stripped[0].isupper())
            if headline and pos > 0 and not after_headline:
                starts.append(pos)
            elif pos > 0 and not after_headline and _opens_digest_item(stripped, words):
                starts.append(pos)  # "Estates: The ICB has ...", "2. Pay deal. The trust ..."
            after_headline = headline
            pos += len(line) + 1
        for m in re.finditer(r"\n[ \t]*\n[ \t]*\n+", text):
            starts.append(m.end())
        return sorted(set(starts))

    @staticmethod
    def _years(text: str) -> list[YearMention]:
        years: list[YearMention] = []
        taken: list[tuple[int, int]] = []
        for m in _FY_RE.finditer(text):
            y1, y2 = m.group(1), m.group(2)
            if (int(y1) + 1) % 100 != int(y2[-2:]):
                continue
            years.append(YearMention(m.start(), m.end(), f"{y1}-{y2[-2:]}", True, False))
            taken.append(m.span())
        for m in _YEAR_SPAN_RE.finditer(text):
            taken.append(m.span())  # "between 2012 and 2014": a span of years, no one year
        for m in _SHORT_FY_RE.finditer(text):
            y1, y2 = int(m.group(1)), int(m.group(2))
            if (y1 + 1) % 100 == y2 and 5 <= y1 <= 60:  # 2005-06 to 2060-61
                years.append(YearMention(m.start(), m.end(), f"20{y1:02d}-{y2:02d}", True, False))
                taken.append(m.span())
        for m in _YEAR_TO_MARCH_RE.finditer(text):
            # "the year to March 2019" is the NHS financial year 2018-19
            end_year = int(m.group(1))
            period = f"{end_year - 1}-{end_year % 100:02d}"
            years.append(YearMention(m.start(), m.end(), period, True, False))
            taken.append(m.span())
        fiscal_starts = [int(y.period[:4]) for y in years]
        floor = min(fiscal_starts) - 10 if fiscal_starts else 0
        for m in _YEAR_RE.finditer(text):
            if any(s <= m.start() < e for s, e in taken):
                continue
            if int(m.group(1)) < floor or _NOT_PERIOD_BEFORE_RE.search(
                    text, max(0, m.start() - 30), m.start()):
                continue  # a building's date ("opened in 1968"), not a reporting period
            after = text[m.end():m.end() + 2]
            if after[:1] == " " and after[1:2].isupper():
                continue  # part of a name ("the 2012 Olympics")
            date = bool(_MONTH_BEFORE_RE.search(text[max(0, m.start() - 12):m.start()]))
            years.append(YearMention(m.start(), m.end(), m.group(1), False, date))
        years.sort(key=lambda y: y.start)
        return years

    def _governing_year(self, text: str) -> tuple[str | None, str]:
        """(year, rule): the financial year a statement sets for every figure ("All figures
        are for 24/25 unless stated"), else the year of a report's title ("Finance report,
        month 9 2024/25" over the paper)."""
        for rx in self.lex.governing_res:
            m = rx.search(text)
            if m:
                return financial_year(m.group("fy")), "document_governing"
        for line in _title_lines(text):
            if self.dateline_year(line):
                # a periodical's date line ("Round-up for the week ending 27 June 2025 (month 3
                # of 2025/26)") pins "this year" for its stories; it does not date them all
                continue
            for rx in self.lex.report_title_res:
                m = rx.search(line)
                if m and financial_year(m.group("fy")):
                    return financial_year(m.group("fy")), "report_title_year"
        return None, "none"

    def _pinned_year(self, text: str) -> str | None:
        for rx in self.lex.pin_res:
            m = rx.search(text)
            if m:
                fy = _FY_RE.search(m.group("fy"))
                if fy:
                    return f"{fy.group(1)}-{fy.group(2)[-2:]}"
        for line in _title_lines(text):
            year = self.dateline_year(line)
            if year:
                return year
        return None

    def dateline_year(self, line: str) -> str | None:
        """The financial year a periodical's date line says it is written in ("Week 32 of
        2025/26", "Week ending 14 November 2025 (financial year 2025/26)"), else None."""
        for rx, _name in self.lex.dateline_pin_res:
            m = rx.search(line)
            if m and financial_year(m.group("fy")):
                return financial_year(m.group("fy"))
        return None

    @staticmethod
    def _org_spans(doc: Doc) -> list[Span]:
        if ORG_SPAN_KEY not in doc.spans:
            return []
        return sorted(doc.spans[ORG_SPAN_KEY], key=lambda s: (s.start_char, s.end_char))

    def _org_mentions(self, doc: Doc) -> list[OrgMention]:
        out = []
        for span in self._org_spans(doc):
            name = span._.org_name or span.text
            out.append(OrgMention(span.start_char, span.end_char, name, span._.org_type))
        return out

    # ---- lookups -------------------------------------------------------------------------

    def sent_index(self, pos: int) -> int:
        return max(0, bisect.bisect_right(self.sent_starts, pos) - 1)

    def paragraph_index(self, pos: int) -> int:
        return max(0, bisect.bisect_right(self.paragraph_starts, pos) - 1)

    def story_index(self, pos: int) -> int:
        return max(0, bisect.bisect_right(self.story_starts, pos) - 1)

    def clause(self, sent: int, pos: int) -> tuple[int, int]:
        return clause_bounds(self.text, *self.sents[sent], pos, pos)

    def years_between(self, start: int, end: int) -> list[YearMention]:
        i = bisect.bisect_left(self.year_starts, start)
        out = []
        while i < len(self.years) and self.years[i].start < end:
            if self.years[i].end <= end:
                out.append(self.years[i])
            i += 1
        return out

    def owner_ok(self, mention: OrgMention | None) -> bool:
        """Whether the organisation can own the amount being resolved (its role decides
        which kinds of body can: a regulator has no deficit of its own)."""
        return (mention is not None and mention.type not in self.lex.never_owner_types
                and not self.lex.never_owner_names_re.search(mention.name)
                and mention.type not in self.lex.role_excluded_types.get(self.role, ()))

    def salient_org(self, pos: int, types: tuple[str, ...] = (), floor: int = 0,
                    name_word: str | None = None) -> str | None:
        """The organisation a back-reference ("the trust") most likely means: the one the
        story has mentioned most so far, the latest mention counting extra."""
        scores: dict[str, float] = {}
        latest: str | None = None
        first: str | None = None
        i = bisect.bisect_left(self.org_starts, pos) - 1
        while i >= 0 and self.orgs[i].start >= floor:
            o = self.orgs[i]
            i -= 1
            if o.end > pos or not self.owner_ok(o) or (types and o.type not in types):
                continue
            if name_word is not None and f" {name_word} " not in f" {o.name.lower()} ":
                continue
            latest = latest or o.name
            first = o.name
            scores[o.name] = scores.get(o.name, 0.0) + 1.0
        if latest is None or first is None:
            return None
        scores[latest] += 0.75  # the last one named
        scores[first] += 0.5  # the one the story opened with
        if floor < self.title_end and self.title_lines >= 2:
            # the body a report's title line opens with is what its sections are about
            # ("Finance report" over "X Trust, board of directors"): "the trust" is that one
            # unless another is named more
            for o in self.orgs:
                if o.start >= self.title_end:
                    break
                if o.name in scores and self._opens_title_line(o):
                    scores[o.name] += TITLE_SUBJECT_WEIGHT
        return max(scores, key=lambda n: (scores[n], n == latest))

    def _opens_title_line(self, o: OrgMention) -> bool:
        """Whether a title-line mention opens its line and names one body (not "London
        ICBs")."""
        line_start = self.text.rfind("\n", 0, o.start) + 1
        last_word = o.name.split()[-1].lower() if o.name.split() else ""
        return (not self.text[line_start:o.start].strip(" \t")
                and last_word not in self.lex.collective)

    def last_org_before(self, pos: int, types: tuple[str, ...] = (), floor: int = 0,
                        name_word: str | None = None) -> OrgMention | None:
        """The last owner-capable organisation mentioned before ``pos`` (not before
        ``floor``), of one of ``types`` or with ``name_word`` in its name when given."""
        i = bisect.bisect_left(self.org_starts, pos) - 1
        while i >= 0 and self.orgs[i].start >= floor:
            o = self.orgs[i]
            if o.end <= pos and self.owner_ok(o) and (not types or o.type in types):
                if name_word is None or f" {name_word} " in f" {o.name.lower()} ":
                    return o
            i -= 1
        return None


def _line_words(text: str, pos: int) -> tuple[str, list[str]]:
    """The stripped line starting at ``pos`` and its words."""
    end = text.find("\n", pos)
    line = text[pos:end if end >= 0 else len(text)].strip()
    return line, line.split()


def _opens_digest_item(line: str, words: list[str]) -> bool:
    """Whether a paragraph line opens a digest or round-up item: a label or number
    (``[[story_openers]]`` of data/structure.toml) then at least a sentence of prose."""
    if len(words) < 8 or line[-1] not in ".!?”\"":
        return False
    return any(p.regex.match(line) for p in load_structure_lexicon().story_openers)


def _title_end(text: str) -> int:
    """Where a document's title lines (:func:`_title_lines`) end; 0 where it has none."""
    count = len(_title_lines(text))
    pos = len(text) - len(text.lstrip())
    end = 0
    for line in text[pos:].split("\n")[:count]:
        end = pos + len(line.rstrip())
        pos += len(line) + 1
    return end


def _title_lines(text: str, most: int = 3) -> list[str]:
    """A document's title lines: its first lines before the first that ends a sentence (at
    most ``most``, each short enough to be a title)."""
    lines = []
    for line in text.lstrip().split("\n")[:most]:
        stripped = line.strip()
        if not stripped or stripped[-1] in ".!?" or len(stripped.split()) > 16:
            break
        lines.append(stripped)
    return lines


def clause_bounds(text: str, lo: int, hi: int, start: int, end: int) -> tuple[int, int]:
    """The clause of the sentence ``text[lo:hi]`` that holds ``start:end``: cut at semicolons,
    colons, dashes, brackets and a comma before a new subject or a contrast."""
    c_lo, c_hi = lo, hi
    for m in _CLAUSE_SPLIT_RE.finditer(text, lo, hi):
        if m.end() <= start:
            c_lo = m.end()
        elif m.start() >= end:
            c_hi = m.start()
            break
    return c_lo, c_hi
