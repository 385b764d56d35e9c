"""Money amounts in health-policy news (spaCy component ``policywatch_money``).

The stock model's MONEY entities lose multipliers ("£100m" read as "£100"), miss the pound sign
of "£124.3bn" and tag percentages as money, so this module reads amounts from the raw text
with compiled regular expressions and then uses the parse only to explain them:

* :func:`parse_amount` turns a written amount ("more than £100m", "£8-10m", "$80m a week",
  "1.5 billion pounds") into a :class:`ParsedAmount` (value, upper bound, currency, qualifier,
  rate);
* the component finds every amount in a ``Doc`` and adds what it is (role), whose it is (org,
  from the ``policywatch_orgs`` spans) and when (financial or calendar year), following
  ``shared/eval/GUIDELINES.md`` and the dev-set rulings 11-19;
* cue words, qualifier phrases, currencies and places live in ``data/money.toml``.

Owners come from the parse: the subject or possessor of the clause that governs the amount,
the object of verbs that make someone bear or receive money ("cost the trust £4m", "give the
trust £11m", "fined its provider £18,500"), gapped coordinations ("X for £18m and Y for £15m"),
and back-references ("the trust", "its", "the mental health trust") resolved to the salient
body of the matching kind; the role decides which kinds of body can own (a regulator has no
deficit, a commentator owns nothing). Periods come from the amount's clause, then its
sentence, then from the text just before it on the same topic (same paragraph); years of
other amounts, comparison baselines and building dates are not the amount's.

Output: ``doc.spans["amounts"]`` (one span per reported amount, ``span._.amount`` the amount
dict of the extraction contract) and ``doc._.amounts`` (the list of those dicts). Spans are
token-aligned (the tokenizer may keep a full stop on "£40m."); the dicts carry the exact
character offsets.

Relative years ("this year", "next year") are resolved only where the text itself pins the
current year (ruling 17), so ``doc._.published`` is deliberately not used as an anchor here.
"""

from __future__ import annotations

import bisect
import functools
import re
import tomllib
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span, Token

DATA_PATH = Path(__file__).parent / "data" / "money.toml"
SPAN_KEY = "amounts"
ORG_SPAN_KEY = "orgs"

QUALIFIERS = ("exact", "approx", "more_than", "less_than", "up_to")
ROLES = (
    "deficit",
    "surplus",
    "overspend",
    "underspend",
    "budget",
    "spending_limit",
    "control_total",
    "savings",
    "funding",
    "cost",
    "turnover",
    "income",
    "gap",
    "contract_value",
    "fine",
    "other",
)

_NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_QUOTES_OPEN = "“\"‘'"
_QUOTES_CLOSE = "”\"’'"
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_STOP_WORDS = frozenset(
    "of to in by for on from with at over against and or but which that who the a an its "
    "their his her this these those next last was is were are be been being has have had "
    "will would could should may might can than as into between after before during since "
    "while when where it they he she we you i not no".split()
)
_SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass", "csubj", "expl"})
_PRONOUNS_SINGULAR = frozenset({"it", "its", "itself"})
_PRONOUNS_PLURAL = frozenset({"they", "their", "them", "theirs", "themselves"})
_INDEFINITE = frozenset({"a", "an", "every", "each", "any", "another", "one", "some"})


# --------------------------------------------------------------------------------------------
# Lexicon
# --------------------------------------------------------------------------------------------


def _phrase_alternation(phrases: list[str]) -> str:
    """Regex alternation of literal phrases, longest first, flexible about inner spaces."""
    parts = sorted({p.strip() for p in phrases if p.strip()}, key=len, reverse=True)
    return "|".join(r"\s+".join(re.escape(w) for w in p.split()) for p in parts)


@dataclass(frozen=True)
class _Lexicon:
    """The compiled contents of ``data/money.toml``."""

    prefixes: dict[str, str]
    suffixes: dict[str, str]
    multipliers: dict[str, Decimal]
    per: dict[str, str]
    amount_re: re.Pattern[str]
    per_re: re.Pattern[str]
    ratio_re: re.Pattern[str]
    ratio_left_re: re.Pattern[str]
    qualifier_re: re.Pattern[str]
    qualifier_of: dict[str, str]
    not_qualifier_re: re.Pattern[str]
    cue_re: re.Pattern[str]
    cue_role: dict[str, str | None]
    weak_left: frozenset[str]
    head_verbs: dict[str, str]
    spending_roles: frozenset[str]
    right_patterns: tuple[tuple[re.Pattern[str], str], ...]
    left_patterns: tuple[tuple[re.Pattern[str], str], ...]
    place_re: re.Pattern[str]
    place_currency: dict[str, str]
    relative_re: re.Pattern[str]
    relative_shift: dict[str, int]
    pin_res: tuple[re.Pattern[str], ...]
    generic: dict[str, tuple[str, ...]]
    collective: frozenset[str]
    finance_nouns: frozenset[str]
    never_owner_types: frozenset[str]
    role_excluded_types: dict[str, frozenset[str]]
    object_owner_verbs: frozenset[str]
    report_nouns: frozenset[str]
    owner_types: tuple[str, ...]
    abbreviations: dict[str, str]
    reporting_verbs: frozenset[str]


def _norm_phrase(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split())


@functools.lru_cache(maxsize=4)
def load_lexicon(path: str | Path = DATA_PATH) -> _Lexicon:
    """Read and compile the money lexicon (cached)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return _compile_lexicon(data)
    except (OSError, tomllib.TOMLDecodeError, re.error) as e:
        raise RuntimeError(f"cannot read the money lexicon {path}: {e}") from e
    except (KeyError, TypeError, ValueError) as e:
        raise RuntimeError(f"money lexicon {path} is missing or misshapes an entry: {e}") from e


def _compile_lexicon(data: dict[str, Any]) -> _Lexicon:
    amount = data["amount"]
    prefixes = {p: c for p, c in amount["prefixes"]}
    suffixes = {_norm_phrase(s): c for s, c in amount["suffixes"]}
    multipliers = {m.lower(): Decimal(str(v)).normalize() for m, v in amount["multipliers"]}
    words = sorted((m for m in multipliers if len(m) > 3), key=len, reverse=True)
    abbrevs = sorted((m for m in multipliers if len(m) <= 3), key=len, reverse=True)
    mult = r"(?:\s?(?:" + "|".join(words) + r")|(?:" + "|".join(abbrevs) + r"))(?![A-Za-z0-9])"
    pre_alts = []
    for p in sorted(prefixes, key=len, reverse=True):
        esc = re.escape(p)
        pre_alts.append(rf"(?<![A-Za-z]){esc}\s?" if p[0].isalpha() else esc)
    pre = "(?:" + "|".join(pre_alts) + ")"
    suffix = _phrase_alternation([s for s, _ in amount["suffixes"]])
    # Case-sensitive outside the words, with cheap lookaheads first: this regex scans every
    # character of every document.
    mult = f"(?i:{mult})"
    amount_re = re.compile(
        rf"(?=[^\sa-z])(?:(?P<pre>{pre})(?P<n1>{_NUM})(?P<m1>{mult})?"
        rf"(?:\s?[-–—]\s?(?:{pre})?(?P<n2>{_NUM})(?P<m2>{mult})?)?"
        rf"(?:\s+(?P<suf>(?i:{suffix}))\b)?"
        rf"|(?<![\w£$€.,])(?P<bn1>{_NUM})(?P<bm1>{mult})?\s+(?P<bsuf>(?i:{suffix}))\b)",
    )
    per = {_norm_phrase(k): v for k, v in amount["per"]}
    per_re = re.compile(
        r"^(?:[\s-]*(?:a|an|per|each|every)[\s-]+(?P<p1>"
        + _phrase_alternation([k for k in per if not k.endswith("ly")])
        + r")\b|\s+(?P<p2>"
        + _phrase_alternation([k for k in per if k.endswith("ly")])
        + r")\b)",
        re.IGNORECASE,
    )

    quals = data["qualifiers"]
    qualifier_of: dict[str, str] = {}
    alts: list[tuple[int, str]] = []
    needs_det = set(quals.get("needs_determiner", []))
    for qual in QUALIFIERS:
        for phrase in quals.get(qual, []):
            qualifier_of[_norm_phrase(phrase)] = qual
            body = _phrase_alternation([phrase])
            if phrase in needs_det:
                body = "(?:(?<=the\\s)|(?<=its\\s)|(?<=their\\s)|(?<=any\\s))" + body
            alts.append((len(phrase), body))
    alts.sort(key=lambda x: -x[0])
    qualifier_re = re.compile(
        r"(?:^|(?<=[\s(\[]))(?P<q>["
        + _QUOTES_OPEN
        + r"]?(?P<w>(?:"
        + "|".join(a for _, a in alts)
        + r"))["
        + _QUOTES_CLOSE
        + r"]?)\s*$",
        re.IGNORECASE,
    )
    not_qualifier_re = re.compile(
        r"\b(?:" + "|".join(quals.get("not_qualifier", [])) + r")\s*$", re.IGNORECASE
    )

    roles = data["roles"]
    cue_role: dict[str, str | None] = {}
    for role in ROLES:
        for phrase in roles.get(role, []):
            cue_role[_norm_phrase(phrase)] = role
    for phrase in roles.get("neutral", []):
        cue_role[_norm_phrase(phrase)] = None
    cue_re = re.compile(
        r"(?<![\w-])(?:" + _phrase_alternation(list(cue_role)) + r")(?![\w-])", re.IGNORECASE
    )
    right_patterns = tuple(
        (re.compile(p["pattern"], re.IGNORECASE), p["role"]) for p in roles.get("right", [])
    )
    left_patterns = tuple(
        (re.compile(p["pattern"], re.IGNORECASE), p["role"]) for p in roles.get("left", [])
    )

    place_currency: dict[str, str] = {}
    for code, names in data["places"].items():
        for name in names:
            place_currency[name] = code
    place_re = re.compile(
        r"(?<![\w])(?:"
        + "|".join(re.escape(n) for n in sorted(place_currency, key=len, reverse=True))
        + r")(?![\w])"
    )

    periods = data["periods"]
    relative_shift = {_norm_phrase(p): int(s) for p, s in periods["relative"]}
    relative_re = re.compile(
        r"(?<![\w-])(?:" + _phrase_alternation(list(relative_shift)) + r")(?![\w-])", re.IGNORECASE
    )
    fy = r"(?P<fy>(?:19|20)\d{2}\s*[-–/]\s*(?:\d{2}|(?:19|20)\d{2}))"
    pin_res = tuple(re.compile(p.replace("{year}", fy), re.IGNORECASE) for p in periods["pins"])

    orgs = data["orgs"]
    generic = {_norm_phrase(n): tuple(types) for n, types in orgs["generic"]}
    return _Lexicon(
        prefixes=prefixes,
        suffixes=suffixes,
        multipliers=multipliers,
        per=per,
        amount_re=amount_re,
        per_re=per_re,
        ratio_re=re.compile(amount["ratio_right"], re.IGNORECASE),
        ratio_left_re=re.compile(amount["ratio_left"], re.IGNORECASE),
        qualifier_re=qualifier_re,
        qualifier_of=qualifier_of,
        not_qualifier_re=not_qualifier_re,
        cue_re=cue_re,
        cue_role=cue_role,
        weak_left=frozenset(_norm_phrase(w) for w in roles.get("weak_left", [])),
        head_verbs={
            verb: role
            for role, verbs in roles.get("head_verbs", {}).items()
            for verb in verbs
            if role in ROLES
        },
        spending_roles=frozenset(roles.get("spending_roles", [])),
        right_patterns=right_patterns,
        left_patterns=left_patterns,
        place_re=place_re,
        place_currency=place_currency,
        relative_re=relative_re,
        relative_shift=relative_shift,
        pin_res=pin_res,
        generic=generic,
        collective=frozenset(_norm_phrase(c) for c in orgs["collective"]),
        finance_nouns=frozenset(_norm_phrase(c) for c in orgs["finance_nouns"]),
        never_owner_types=frozenset(orgs["never_owner_types"]),
        role_excluded_types={
            role: frozenset(types) for role, types in orgs.get("role_excluded_types", {}).items()
        },
        object_owner_verbs=frozenset(orgs.get("object_owner_verbs", [])),
        report_nouns=frozenset(orgs.get("report_nouns", [])),
        owner_types=tuple(orgs["owner_types"]),
        abbreviations={k.lower(): v.lower() for k, v in orgs["abbreviations"].items()},
        reporting_verbs=frozenset(orgs["reporting_verbs"]),
    )


# --------------------------------------------------------------------------------------------
# Parsing written amounts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedAmount:
    """One written amount: ``value`` (lower bound of a range) in ``currency``."""

    value: float | int
    value_max: float | int | None
    currency: str  # ISO code; "$" stays "USD" unless the context says otherwise
    qualifier: str  # exact | approx | more_than | less_than | up_to
    per: str | None  # day | week | month | year for a rate
    text: str = ""  # the amount with its qualifier words, as written
    start: int = 0  # character offsets of ``text`` in the string parsed
    end: int = 0
    dollar: bool = field(default=False, compare=False)  # written with a bare "$"
    figure_start: int = field(default=0, compare=False)  # ``start`` without the qualifier


def _number(num: str, mult: str | None, lex: _Lexicon) -> Decimal:
    value = Decimal(num.replace(",", ""))
    if mult:
        value *= lex.multipliers[mult.strip().lower()]
    return value


def _plain(value: Decimal) -> float | int:
    """An int for whole values (money is reported in whole units), else a float."""
    return int(value) if value == value.to_integral_value() else float(value)


def _currency_of(match: re.Match[str], lex: _Lexicon) -> str:
    suf = match.group("suf") or match.group("bsuf")
    if suf:
        return lex.suffixes[_norm_phrase(suf)]
    pre = match.group("pre").strip()
    for p, code in lex.prefixes.items():
        if p.lower() == pre.lower():
            return code
    raise ValueError(f"unknown currency prefix {pre!r}")


def _qualifier(left: str, lex: _Lexicon) -> tuple[str | None, int]:
    """The qualifier ending ``left`` and the length of its words (0 if none)."""
    if lex.not_qualifier_re.search(left):
        return None, 0
    m = lex.qualifier_re.search(left)
    if not m:
        return None, 0
    qual = lex.qualifier_of[_norm_phrase(m.group("w"))]
    return qual, len(left) - m.start("q")


def _iter_amounts(text: str, lex: _Lexicon) -> Iterator[ParsedAmount]:
    """Yield a :class:`ParsedAmount` for every amount of money in ``text``."""
    pos = 0
    while True:
        m = lex.amount_re.search(text, pos)
        if m is None:
            return
        start, end = m.span()
        pos = end
        if m.group("bn1") is not None:
            value = _number(m.group("bn1"), m.group("bm1"), lex)
            value_max = None
            if m.group("bm1") is None and value < 1000:
                continue  # "lost 10 pounds" is a weight more often than a sum of money
        else:
            m1, m2 = m.group("m1"), m.group("m2")
            value = _number(m.group("n1"), m1 or m2, lex)
            value_max = None
            if m.group("n2") is not None:
                value_max = _number(m.group("n2"), m2 or m1, lex)
                if value_max <= value:
                    # not a range ("£991m – £31m"): keep the first figure, rescan the rest
                    end = m.end("m1") if m1 else m.end("n1")
                    value = _number(m.group("n1"), m1, lex)
                    value_max = None
                    pos = end
        currency = _currency_of(m, lex)
        right = text[end : end + 40]
        if lex.ratio_re.match(right) or lex.ratio_left_re.search(text[max(0, start - 20) : start]):
            continue  # a ratio ("£30 per head", "£1 for every £3"), not an amount
        pm = lex.per_re.match(right)
        per = lex.per[_norm_phrase(pm.group("p1") or pm.group("p2"))] if pm else None
        qual, qlen = _qualifier(text[max(0, start - 40) : start], lex)
        if value_max is not None:
            qual = "approx"  # ruling 14
        yield ParsedAmount(
            value=_plain(value),
            value_max=None if value_max is None else _plain(value_max),
            currency="USD" if currency == "$" else currency,
            qualifier=qual or "exact",
            per=per,
            text=text[start - qlen : end],
            start=start - qlen,
            end=end,
            dollar=currency == "$",
            figure_start=start,
        )


_BETWEEN_RE = re.compile(r"\b(?:between|from)\s+$", re.IGNORECASE)
_AND_RE = re.compile(r"\s+(?:and|to)\s+")


def _iter_ranges(text: str, lex: _Lexicon) -> Iterator[ParsedAmount]:
    """:func:`_iter_amounts` with "between £20m and £50m" read as one range."""
    pending: ParsedAmount | None = None
    for a in _iter_amounts(text, lex):
        if pending is not None:
            if (
                _AND_RE.fullmatch(text, pending.end, a.start)
                and a.currency == pending.currency
                and a.value_max is None
                and a.value > pending.value
                and text[pending.end : a.start].split()[0].lower() == "and"
            ):
                yield ParsedAmount(
                    value=pending.value,
                    value_max=a.value,
                    currency=pending.currency,
                    qualifier="approx",
                    per=a.per or pending.per,
                    text=text[pending.start - 8 : a.end],
                    start=pending.start - 8,
                    end=a.end,
                    dollar=pending.dollar,
                    figure_start=pending.figure_start,
                )
                pending = None
                continue
            yield pending
            pending = None
        if (
            a.value_max is None
            and a.qualifier == "exact"
            and _BETWEEN_RE.search(text, max(0, a.start - 10), a.start)
            and text[a.start - 8 : a.start].lower() == "between "
        ):
            pending = a
            continue
        yield a
    if pending is not None:
        yield pending


def find_amounts(text: str) -> list[ParsedAmount]:
    """Every amount of money written in ``text``, in order (no context rules applied)."""
    if not isinstance(text, str):
        raise TypeError(f"find_amounts() needs str, got {type(text).__name__}")
    return list(_iter_ranges(text, load_lexicon()))


def parse_amount(text: str) -> ParsedAmount | None:
    """Parse one written amount ("more than £100m", "£8-10m", "$80m a week").

    Returns ``None`` when ``text`` holds no sum of money (percentages, counts, ratios).
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_amount() needs str, got {type(text).__name__}")
    for amount in _iter_ranges(text, load_lexicon()):
        return amount
    return None


# --------------------------------------------------------------------------------------------
# Document context: sentences, clauses, stories, years, organisation mentions
# --------------------------------------------------------------------------------------------

_FY_RE = re.compile(r"(?<![\d£$€])((?:19|20)\d{2})\s*[-–/]\s*(\d{2}|(?:19|20)\d{2})(?![\d%])")
_YEAR_RE = re.compile(
    r"(?<![\d£$€.,/-])(?<!since )(?<!built in )(?<!until )(?<!founded in )"
    r"(19[5-9]\d|20\d{2})(?![\d%,.]\d|[-–/]\d|s\b|’s\b|'s\b)"
)
_YEAR_TO_MARCH_RE = re.compile(
    r"\byear\s+(?:to|ending|ended|end)\s+(?:31(?:st)?\s+)?March\s+((?:19|20)\d{2})\b", re.IGNORECASE
)
# a year that dates a comparison's baseline ("up from £2.4bn in 2020-21"), not the story
_BASELINE_RE = re.compile(
    r"\b(?:up|down|rising|falling|rose|fell|increased|decreased)\s+from\s+\S+\s+(?:in|for)\s+$"
    r"|\bcompared\s+(?:with|to)\s+\S+\s+(?:in|for)\s+$",
    re.IGNORECASE,
)
_BASELINE_AMOUNT_RE = re.compile(
    r"\b(?:up|down|rising|falling|rose|fell|increased|decreased)\s+from\s+$"
    r"|\bcompared\s+(?:with|to)\s+$",
    re.IGNORECASE,
)
_NOT_PERIOD_BEFORE_RE = re.compile(
    r"\b(?:built|opened|constructed|founded|established|erected|completed|designed|"
    r"dat(?:ing|es|ed)\s+(?:back\s+)?(?:from|to)|since|until)\s+(?:in\s+)?(?:the\s+)?$",
    re.IGNORECASE,
)
_MONTH_BEFORE_RE = re.compile(rf"(?:{_MONTHS})\s*$", re.IGNORECASE)
_CLAUSE_SPLIT_RE = re.compile(
    r";|:\s|\s[–—]\s|\s-\s|,\s+(?=(?:but|although|though|while|whereas|yet)\b)|\(|\)"
    r"|,\s+(?=and\s+(?:the|its|their|a|an)\s)"
)  # ", and the trust's plan ...": a new subject
# line breaks, and full stops the tokenizer took for an abbreviation ("£44m. Still")
_ABBREV = "".join(rf"(?<!\b{a}\.)" for a in ("Mr", "Ms", "Dr", "St", "No", "vs", "Mrs", "Prof"))
_SENT_SPLIT_RE = re.compile(
    r"\n\s*"
    rf"|(?<=[a-z0-9%)][.!?]){_ABBREV}\s+(?=[A-Z“‘\"])"
    rf"|(?<=[a-z0-9%)][.!?][”’\"])\s+(?=[A-Z“‘\"])"
)
_HEADLINE_END = '.!?:;,”"’)'


@dataclass
class _Year:
    start: int
    end: int
    period: str
    fiscal: bool
    date: bool  # a month date ("March 2019"), not a period the text is about


@dataclass
class _OrgMention:
    start: int
    end: int
    name: str
    type: str | None


@dataclass
class _Found:
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
    headline: bool = False


class _Context:
    """Per-document facts every amount needs (computed once per doc)."""

    def __init__(self, doc: Doc, lex: _Lexicon, text: str) -> None:
        self.doc = doc
        self.text = text  # Doc.text is rebuilt from the tokens on every access
        self.lex = lex
        # the first token tells whether a tagger/parser ran (has_annotation walks every token)
        self.tagged = len(doc) > 0 and doc[0].pos != 0
        self.parsed = len(doc) > 0 and doc[0].dep != 0
        self.sents = self._sentences(doc, text)
        self.sent_starts = [s for s, _ in self.sents]
        self.story_starts = self._stories(self.text)
        self.paragraph_starts = [0] + [m.end() for m in re.finditer(r"\n[ \t]*\n\s*", text)]
        self.years = self._years(self.text)
        self.year_starts = [y.start for y in self.years]
        self.pinned = self._pinned_year(self.text)
        self.orgs = self._org_mentions(doc)
        self.org_starts = [o.start for o in self.orgs]
        self.amount_tokens: set[int] = set()  # tokens of amounts (filled by the component)
        self.amount_starts: list[int] = []  # figure starts of all amounts, sorted (likewise)
        self.previous: _Found | None = None  # the amount resolved last (likewise)
        self.role = "other"  # the role of the amount whose owner is being resolved
        self.token_org: dict[int, _OrgMention] = {}
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
        """Story starts: a short headline-like line, or text after two blank lines."""
        starts = [0]
        pos = 0
        for line in text.split("\n"):
            stripped = line.strip()
            words = stripped.split()
            if (
                stripped
                and len(words) <= 12
                and stripped[-1] not in _HEADLINE_END
                and stripped[0].isupper()
                and pos > 0
            ):
                starts.append(pos)
            pos += len(line) + 1
        for m in re.finditer(r"\n[ \t]*\n[ \t]*\n+", text):
            starts.append(m.end())
        return sorted(set(starts))

    @staticmethod
    def _years(text: str) -> list[_Year]:
        years: list[_Year] = []
        taken: list[tuple[int, int]] = []
        for m in _FY_RE.finditer(text):
            y1, y2 = m.group(1), m.group(2)
            if (int(y1) + 1) % 100 != int(y2[-2:]):
                continue
            years.append(_Year(m.start(), m.end(), f"{y1}-{y2[-2:]}", True, False))
            taken.append(m.span())
        for m in _YEAR_TO_MARCH_RE.finditer(text):
            # "the year to March 2019" is the NHS financial year 2018-19
            end_year = int(m.group(1))
            period = f"{end_year - 1}-{end_year % 100:02d}"
            years.append(_Year(m.start(), m.end(), period, True, False))
            taken.append(m.span())
        fiscal_starts = [int(y.period[:4]) for y in years]
        floor = min(fiscal_starts) - 10 if fiscal_starts else 0
        for m in _YEAR_RE.finditer(text):
            if any(s <= m.start() < e for s, e in taken):
                continue
            if int(m.group(1)) < floor or _NOT_PERIOD_BEFORE_RE.search(
                text, max(0, m.start() - 30), m.start()
            ):
                continue  # a building's date ("opened in 1968"), not a reporting period
            after = text[m.end() : m.end() + 2]
            if after[:1] == " " and after[1:2].isupper():
                continue  # part of a name ("the 2012 Olympics")
            date = bool(_MONTH_BEFORE_RE.search(text[max(0, m.start() - 12) : m.start()]))
            years.append(_Year(m.start(), m.end(), m.group(1), False, date))
        years.sort(key=lambda y: y.start)
        return years

    def _pinned_year(self, text: str) -> str | None:
        for rx in self.lex.pin_res:
            m = rx.search(text)
            if m:
                fy = _FY_RE.search(m.group("fy"))
                if fy:
                    return f"{fy.group(1)}-{fy.group(2)[-2:]}"
        return None

    @staticmethod
    def _org_spans(doc: Doc) -> list[Span]:
        if ORG_SPAN_KEY not in doc.spans:
            return []
        return sorted(doc.spans[ORG_SPAN_KEY], key=lambda s: (s.start_char, s.end_char))

    def _org_mentions(self, doc: Doc) -> list[_OrgMention]:
        out = []
        for span in self._org_spans(doc):
            name = span._.org_name or span.text
            out.append(_OrgMention(span.start_char, span.end_char, name, span._.org_type))
        return out

    # ---- lookups -------------------------------------------------------------------------

    def sent_index(self, pos: int) -> int:
        return max(0, bisect.bisect_right(self.sent_starts, pos) - 1)

    def paragraph_index(self, pos: int) -> int:
        return max(0, bisect.bisect_right(self.paragraph_starts, pos) - 1)

    def story_index(self, pos: int) -> int:
        return max(0, bisect.bisect_right(self.story_starts, pos) - 1)

    def clause(self, sent: int, pos: int) -> tuple[int, int]:
        s_start, s_end = self.sents[sent]
        start, end = s_start, s_end
        for m in _CLAUSE_SPLIT_RE.finditer(self.text, s_start, s_end):
            if m.end() <= pos:
                start = m.end()
            elif m.start() >= pos:
                end = m.start()
                break
        return start, end

    def years_between(self, start: int, end: int) -> list[_Year]:
        i = bisect.bisect_left(self.year_starts, start)
        out = []
        while i < len(self.years) and self.years[i].start < end:
            if self.years[i].end <= end:
                out.append(self.years[i])
            i += 1
        return out

    def owner_ok(self, mention: _OrgMention | None) -> bool:
        """Whether the organisation can own the amount being resolved (its role decides
        which kinds of body can: a regulator has no deficit of its own)."""
        return (
            mention is not None
            and mention.type not in self.lex.never_owner_types
            and mention.type not in self.lex.role_excluded_types.get(self.role, ())
        )

    def salient_org(
        self, pos: int, types: tuple[str, ...] = (), floor: int = 0, name_word: str | None = None
    ) -> str | None:
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
        return max(scores, key=lambda n: (scores[n], n == latest))

    def last_org_before(
        self, pos: int, types: tuple[str, ...] = (), floor: int = 0, name_word: str | None = None
    ) -> _OrgMention | None:
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


# --------------------------------------------------------------------------------------------
# Roles
# --------------------------------------------------------------------------------------------


def _cues(text: str, lex: _Lexicon) -> list[tuple[int, int, str | None]]:
    """Cue phrases in ``text`` as (start, end, role); neutral phrases have role None."""
    return [
        (m.start(), m.end(), lex.cue_role[_norm_phrase(m.group())])
        for m in lex.cue_re.finditer(text)
    ]


def _compound_window(ctx: _Context, f: _Found, right: str) -> str:
    """The words right after an amount that it modifies ("£35m deficit control total")."""
    doc = ctx.doc
    if ctx.tagged:
        span = doc.char_span(f.end, min(len(ctx.text), f.end + len(right)), alignment_mode="expand")
        if span is None:
            return ""
        end = f.end
        seen_noun = False
        taken = 0
        # "its £118m, seven-year services contract": a comma before a hyphenated modifier
        comma = re.match(r",\s*\w+-\w+", ctx.text[f.end : f.end + 40]) is not None
        limit = 9 if comma else 4
        for tok in span:
            if tok.idx < f.end:
                continue  # the multiplier token ("m") shared with the amount
            if taken >= limit:
                break
            taken += 1
            if comma and taken == 1 and tok.text == ",":
                continue
            if comma and tok.pos_ == "NUM" and not seen_noun:
                continue
            if tok.pos_ in ("NOUN", "PROPN") or (tok.pos_ == "ADJ" and not seen_noun):
                seen_noun = seen_noun or tok.pos_ != "ADJ"
                end = tok.idx + len(tok.text)
            elif tok.text in "-–":
                continue
            else:
                break
        return ctx.text[f.end : end].strip()
    words = []
    for m in re.finditer(r"[\w’'-]+|[^\w\s]", right):
        w = m.group().lower()
        if not re.match(r"[\w’'-]", w) or w in _STOP_WORDS or len(words) >= 4:
            break
        words.append(m.group())
    return " ".join(words)


def _role(ctx: _Context, f: _Found, prev_end: int, next_start: int) -> tuple[str, str]:
    """(role, how it was decided) for one amount."""
    role, how, above_plan = _role_from_context(ctx, f, prev_end, next_start)
    if above_plan and role in ctx.lex.spending_roles:
        # "spending is running £3m above plan" is a shortfall against plan, like "£0.65m more
        # than planned"; "income was £0.2m ahead of plan" stays income (ruling 15)
        return "gap", "right-pattern"
    return role, how


def _role_from_context(
    ctx: _Context, f: _Found, prev_end: int, next_start: int
) -> tuple[str, str, bool]:
    lex, text = ctx.lex, ctx.text
    c_start, c_end = f.clause
    right = text[f.end : min(c_end, next_start)]
    q_start = f.parsed.start
    left = text[max(c_start, prev_end) : q_start]
    positive = False
    for rx, role in lex.right_patterns:
        if rx.match(right):
            if role == "none":
                positive = True
                break
            return role, "right-pattern", False
    clause_left = text[c_start:q_start]
    for rx, role in lex.left_patterns:
        if rx.search(clause_left):
            if role == "previous":  # "had valued it at £125m": what the text last valued
                if ctx.previous is None or ctx.previous.story != f.story:
                    continue
                return ctx.previous.role, "previous", positive
            if role == "subject":  # "and up from £2.4bn": what the clause's subject is
                got = _subject_role(ctx, f)
                if got is None:
                    continue
                return got, "subject", positive
            if role == "funding" and not positive:
                # "awarded its £118m, seven-year contract": the noun beats the verb
                comp = _compound_role(ctx, f, right)
                if comp is not None:
                    return comp, "compound", positive
                words = list(re.finditer(r"\S+", clause_left))
                near = clause_left[words[-6].start() :] if len(words) > 6 else clause_left
                if any(r == "contract_value" for _, _, r in _cues(near, lex)):
                    # "wanted the contract's value raised to £4.6m"
                    return "contract_value", "left", positive
            return role, "left-pattern", positive
    if not positive:
        comp_role = _compound_role(ctx, f, right)
        if comp_role is not None:
            return comp_role, "compound", positive
    if (
        ctx.previous is not None
        and ctx.previous.sent == f.sent
        and _PART_OF_PREVIOUS_RE.match(right)
    ):
        # "the backlog had reached £10.2bn and £1.8bn of it was high risk": a part of the
        # amount before is the same kind of money
        return ctx.previous.role, "partitive", positive
    of_role = None
    if not positive:
        m = re.match(r"\s*(?:worth\s+)?of\s+((?:[\w’'-]+\s*){1,4})", right)
        if m:
            # the noun phrase after "of", up to a function word; its head is the last cue
            # ("£15m of interim cash support", "£9.9m of cost improvements this year")
            words = []
            for w in m.group(1).split():
                if w.lower() in _STOP_WORDS:
                    break
                words.append(w)
            phrase = " ".join(words)
            cues = [c for c in _cues(phrase, lex) if c[2]]
            if cues:
                of_role = max(cues, key=lambda c: c[1])[2]
    # the last few words before the amount ("a deficit of", "save", "spent")
    words = list(re.finditer(r"\S+", left))
    window = left[words[-6].start() :] if len(words) > 6 else left
    cues = _cues(window, lex)
    if cues:
        last = max(cues, key=lambda c: c[1])
        if last[2] is None:  # a neutral phrase ("adding up to"): look before it
            named = [c for c in cues if c[2] and c[1] <= last[0]]
            last = max(named, key=lambda c: c[1]) if named else None
        if last is not None:
            if of_role and _norm_phrase(window[last[0] : last[1]]) in lex.weak_left:
                return of_role, "of", positive
            if last[2] == "cost" and ctx.parsed:
                paid = _payee_role(ctx, f)
                if paid is not None:
                    return paid, "payee", positive
            return last[2], "left", positive
    if of_role:
        return of_role, "of", positive
    # what the subject of the amount's clause is ("its agency bill is more than £14m")
    got = _subject_role(ctx, f)
    if got is not None:
        return got, "subject", positive
    # the word the amount hangs from in the parse ("£9m was spent on ...")
    if ctx.parsed:
        span = ctx.doc.char_span(f.start, f.end, alignment_mode="expand")
        cur = span.root if span is not None else None
        s_start, s_end = ctx.sents[f.sent]
        for _ in range(3):
            if cur is None or cur.head is cur or not s_start <= cur.head.idx < s_end:
                break
            cur = cur.head
            role = (
                lex.cue_role.get(cur.lower_)
                or lex.cue_role.get(cur.lemma_.lower())
                or (
                    lex.head_verbs.get(cur.lemma_.lower()) or lex.head_verbs.get(cur.lower_)
                    if cur.pos_ == "VERB"
                    else None
                )
            )
            if role == "cost":
                role = _payee_role(ctx, f) or role
            if role:
                return role, "head", positive
    # the nearest cue in the clause, then in the sentence
    nearest = _nearest_cue(ctx, f)
    if nearest:
        return nearest, "nearest", positive
    return "other", "default", positive


_PAY_LEMMAS = frozenset({"pay"})
_REQUEST_LEMMAS = frozenset({"ask", "request", "seek", "apply", "bid", "borrow", "petition"})
_PUBLIC_TYPES = frozenset({"provider", "commissioner", "national_body", "government"})


def _payee_role(ctx: _Context, f: _Found) -> str | None:
    """What a payment named by its payee is: money paid to an NHS body or a department is
    funding ("agreed to pay Redwater CCG £5.7m"), money paid to a supplier is the value of its
    contract ("pay a partner, Northgate Clinical Ltd, up to £2.5m")."""
    span = ctx.doc.char_span(f.start, f.end, alignment_mode="expand")
    if span is None:
        return None
    verb = span.root
    for _ in range(3):
        if verb.head is verb:
            break
        verb = verb.head
        if verb.pos_ == "VERB":
            break
    if verb.lemma_.lower() not in _PAY_LEMMAS:
        return None
    for c in verb.children:
        if c.dep_ not in ("dative", "dobj") or c.i in ctx.amount_tokens:
            continue
        for cand in [c, *(a for a in c.children if a.dep_ == "appos")]:
            mention = ctx.token_org.get(cand.i)
            if mention is None:
                continue
            if mention.type in _PUBLIC_TYPES:
                return "funding"
            if mention.type == "company":
                return "contract_value"
    return None


def _compound_role(ctx: _Context, f: _Found, right: str) -> str | None:
    """The role named by the noun the amount modifies ("a £35m deficit control total")."""
    comp = _compound_window(ctx, f, right)
    cues = [c for c in _cues(comp, ctx.lex) if c[0] == 0 or comp[c[0] - 1] == " "]
    if cues:
        return max(cues, key=lambda c: c[1])[2]
    return None


_SUBJECT_PATH_DEPS = frozenset(
    {
        "attr",
        "dobj",
        "pobj",
        "prep",
        "conj",
        "advmod",
        "acomp",
        "npadvmod",
        "quantmod",
        "nummod",
        "oprd",
    }
)


def _subject_role(ctx: _Context, f: _Found) -> str | None:
    """The role named by the subject of the verb the amount depends on: "its agency bill is
    more than £14m", "turnover is budgeted at £900m", "the bill was ..., and up from £2.4bn"."""
    if not ctx.parsed:
        return None
    span = ctx.doc.char_span(f.start, f.end, alignment_mode="expand")
    if span is None:
        return None
    cur = span.root
    for _ in range(4):
        if cur.dep_ not in _SUBJECT_PATH_DEPS or cur.head is cur:
            return None
        cur = cur.head
        if cur.pos_ in ("VERB", "AUX"):
            break
    else:
        return None
    lex = ctx.lex
    if not any(c.dep_ == "nsubjpass" for c in cur.children):
        # an active verb that names the money itself: "the deal will cost the DHSC £400m"
        verb_role = lex.cue_role.get(cur.lower_) or lex.cue_role.get(cur.lemma_.lower())
        if verb_role:
            return verb_role
    for c in cur.children:
        if c.dep_ in ("nsubj", "nsubjpass") and c.i not in ctx.amount_tokens:
            return ctx.lex.cue_role.get(c.lower_) or ctx.lex.cue_role.get(c.lemma_.lower())
    return None


def _nearest_cue(ctx: _Context, f: _Found) -> str | None:
    """The role of the cue nearest the amount, in its clause first, then in its sentence."""
    lex, text = ctx.lex, ctx.text
    c_start, c_end = f.clause
    s_start, s_end = ctx.sents[f.sent]
    for lo, hi in ((c_start, c_end), (s_start, s_end)):
        best = None
        for cs, ce, role in _cues(text[lo:hi], lex):
            cs, ce = cs + lo, ce + lo
            if role is None or f.parsed.start <= cs < f.end:
                continue
            dist = f.parsed.start - ce if ce <= f.parsed.start else cs - f.end
            if dist < 0:
                continue
            if (
                cs >= f.end
                and "," in text[f.end : cs]
                and any(r for s_, _, r in _cues(text[lo : f.parsed.start], lex) if r)
            ):
                # "planned savings of £21m but expects to deliver £15m, leaving a hole": a
                # cue after a comma names a consequence, not the amount
                continue
            if best is None or dist < best[0]:
                best = (dist, role)
        if best:
            return best[1]
    return None


# --------------------------------------------------------------------------------------------
# Organisations
# --------------------------------------------------------------------------------------------

_PART_OF_NEXT_RE = re.compile(r"\s*of\s+(?:the|its|their)\s+")
_PART_OF_PREVIOUS_RE = re.compile(r"\s*of\s+(?:it|them|this|that)\b")
_OPENING_RE = re.compile(r"(?:[Tt]he\s+)?")
_GAPPED_RE = re.compile(r"\s*(?:for|with|on|at)?\s*")
_COORD_BEFORE_RE = re.compile(r"(?:,|\band|\bwhile|\bwhereas)\s+$")
_VAGUE_MODIFIERS = frozenset(
    "nhs new same other local whole former current merged combined single".split()
)
_NONE = "__none__"  # an explicit "nobody" (a sector, several bodies, an unnamed body)


class _OrgResolver:
    """Whose money an amount is (ruling 16): the subject, possessor or recipient the parse
    ties it to, back-references resolved to named organisations, ``None`` for sectors,
    several bodies together and unnamed bodies."""

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.lex = ctx.lex

    def _story_floor(self, pos: int) -> int:
        return self.ctx.story_starts[self.ctx.story_index(pos)]

    def generic_noun(self, tok: Token) -> tuple[str, ...] | None:
        key = tok.lower_
        if tok.i > 0 and f"{tok.nbor(-1).lower_} {key}" in self.lex.generic:
            key = f"{tok.nbor(-1).lower_} {key}"
        return self.lex.generic.get(key)

    def resolve_generic(self, tok: Token, types: tuple[str, ...]) -> str | None:
        det = {c.lower_ for c in tok.children if c.dep_ in ("det", "poss")}
        if det & _INDEFINITE:
            return _NONE
        for c in tok.children:
            if c.dep_ in ("relcl", "acl"):
                first = c.left_edge
                if first.i == 0 or tok.doc[first.i - 1].text not in ",(–—":
                    # "the hospital she ran in X": a new, unnamed body ("the trust, which
                    # posted a deficit, ..." is still the trust named before)
                    return _NONE
        if any(c.dep_ == "prep" and c.lower_ == "in" for c in tok.children):
            return _NONE
        poss = next((c for c in tok.children if c.dep_ == "poss"), None)
        if poss is not None:
            # "its local health system" is the ICB itself when the ICB is what "its" means;
            # "fined its sexual health provider" is another body, named later if at all
            # ("its contract with the provider, Brightwell Ltd, ...")
            if poss.lower_ in _PRONOUNS_SINGULAR or poss.lower_ in _PRONOUNS_PLURAL:
                owner = self.resolve_pronoun(poss, None)
                mention = next((o for o in self.ctx.orgs if o.name == owner), None)
                if mention is not None and mention.type in types:
                    return owner
            return self._named_after(tok, types)
        floor = self._story_floor(tok.idx)
        mods = [
            t.lower_
            for t in tok.doc[tok.left_edge.i : tok.i]
            if t.is_alpha
            and t.dep_ in ("compound", "amod", "nmod")
            and t.lower_ not in _VAGUE_MODIFIERS
        ]
        if mods:
            # "the mental health trust" is the one whose name says "Mental Health"
            name = self.ctx.salient_org(tok.idx, (), floor, name_word=" ".join(mods))
            if name is not None:
                return name
        words = [tok.lower_]
        if tok.lower_ in self.lex.abbreviations:
            words.append(self.lex.abbreviations[tok.lower_])
        for word in words:
            name = self.ctx.salient_org(tok.idx, (), floor, name_word=word)
            if name is not None:
                return name
        if types:
            # no body of the kind the noun names: not a back-reference ("the new system" may
            # be software), so it says nothing about the owner
            return self.ctx.salient_org(tok.idx, types, floor)
        return self.ctx.salient_org(tok.idx, (), floor) or _NONE

    def _named_after(self, tok: Token, types: tuple[str, ...]) -> str:
        """The first organisation of ``types`` (or a company) named after ``tok`` in its
        paragraph and the next sentence or two, else nobody."""
        ctx = self.ctx
        para = ctx.paragraph_index(tok.idx)
        limit = ctx.sents[min(len(ctx.sents) - 1, ctx.sent_index(tok.idx) + 2)][1]
        i = bisect.bisect_right(ctx.org_starts, tok.idx)
        wanted = set(types) | {"company"}
        while i < len(ctx.orgs) and ctx.orgs[i].start < limit:
            o = ctx.orgs[i]
            i += 1
            if ctx.paragraph_index(o.start) != para:
                break
            if o.type in wanted and ctx.owner_ok(o):
                return o.name
        return _NONE

    def resolve_pronoun(self, tok: Token, prev_owner: str | None) -> str | None:
        ctx = self.ctx
        s_start = ctx.sents[ctx.sent_index(tok.idx)][0]
        plural = tok.lower_ in _PRONOUNS_PLURAL
        # subjects earlier in the sentence come first: "the trust said it had overspent",
        # "X asked for a loan from Y after its reserves fell"; an indefinite one ("a small
        # trust will see its fees rise") names no organisation
        for t in tok.sent:
            if t.i >= tok.i:
                break
            if t.idx < s_start or t.dep_ not in _SUBJECT_DEPS:
                continue
            if (
                plural
                and t.i not in ctx.token_org
                and (
                    t.lower_ in self.lex.collective
                    or any(c.like_num for c in t.children if c.dep_ == "nummod")
                )
            ):
                return _NONE  # "the two trusts estimate the bank saves them £90,000"
            mention = ctx.token_org.get(t.i)
            if mention is not None:
                if ctx.owner_ok(mention):
                    return mention.name
            elif self.generic_noun(t) is not None and t.lower_ != "board":
                return self.resolve_generic(t, self.generic_noun(t) or ())
        o = ctx.last_org_before(tok.idx, (), s_start)
        if o is not None:
            return o.name
        # the organisation the previous sentence is about, then the owner of the last amount
        got = self._previous_subject(tok)
        if got is not None:
            return got
        if prev_owner is not None:
            return prev_owner
        if plural:
            return _NONE
        # bodies that have finances of their own before those that report on them
        floor = max(self._story_floor(tok.idx), ctx.sents[max(0, ctx.sent_index(tok.idx) - 3)][0])
        o = ctx.last_org_before(tok.idx, self.lex.owner_types, floor)
        if o is None:
            o = ctx.last_org_before(tok.idx, (), self._story_floor(tok.idx))
        return o.name if o else None

    def _previous_subject(self, tok: Token) -> str | None:
        """The organisation the previous sentence is about (its subject, or the subject's
        possessor: "The trust's finances add to the pressure. It is forecasting ...")."""
        ctx = self.ctx
        i = ctx.sent_index(tok.idx)
        if i == 0 or ctx.story_index(ctx.sents[i - 1][0]) != ctx.story_index(tok.idx):
            return None
        span = ctx.doc.char_span(*ctx.sents[i - 1], alignment_mode="expand")
        if span is None:
            return None
        for t in span:
            head = t.head
            # (the parser may join two of our sentences: a verb whose head lies outside the
            # sentence is its main verb too)
            main = head.dep_ == "ROOT" or not span.start <= head.head.i < span.end
            if t.dep_ not in _SUBJECT_DEPS or not main:
                continue
            for cand in [t] + [c for c in t.children if c.dep_ == "poss"]:
                mention = ctx.token_org.get(cand.i)
                if mention is not None and ctx.owner_ok(mention):
                    return mention.name
                if (
                    mention is None
                    and self.generic_noun(cand) is not None
                    and cand.lower_ != "board"
                ):
                    got = self.resolve_generic(cand, self.generic_noun(cand) or ())
                    if got != _NONE:
                        return got
        return None

    def evaluate(self, tok: Token, prev_owner: str | None, depth: int = 0) -> str | None:
        """The owner a subject/possessor token names; None when it names nothing."""
        ctx = self.ctx
        mention = ctx.token_org.get(tok.i)
        if mention is not None:
            return mention.name if ctx.owner_ok(mention) else None
        low = tok.lower_
        if low in _PRONOUNS_SINGULAR or low in _PRONOUNS_PLURAL:
            return self.resolve_pronoun(tok, prev_owner)
        if low in self.lex.collective or tok.pos_ == "NUM" or tok.like_num:
            # "the pair", "the trust sector", "64 trusts", "Another 35"
            if not any(c.i in ctx.token_org for c in tok.children if c.dep_ != "compound"):
                return _NONE
        types = self.generic_noun(tok)
        if types is not None and tok.lower_ != "board":
            return self.resolve_generic(tok, types)
        if depth < 2 and (low in self.lex.finance_nouns or self._is_cue(tok)):
            for c in tok.children:
                if c.dep_ == "poss":
                    got = self.evaluate(c, prev_owner, depth + 1)
                    if got is not None:
                        return got
                if c.dep_ == "compound" and c.i in ctx.token_org:
                    return self.evaluate(c, prev_owner, depth + 1)
            for c in tok.children:
                if c.dep_ == "prep" and c.lower_ in ("for", "at", "of"):
                    for p in c.children:
                        if p.dep_ == "pobj":
                            got = self._pp_owner(p)
                            if got is not None:
                                return got
        if (
            depth == 0
            and tok.dep_ in _SUBJECT_DEPS
            and tok.pos_ == "NOUN"
            and low not in self.lex.report_nouns
            and tok.lemma_.lower() not in self.lex.report_nouns
        ):
            # "the trust's main site has a backlog of £74m": the subject's possessor (but "the
            # regulator's figure" is a reporter's)
            for c in tok.children:
                if c.dep_ == "poss":
                    got = self.evaluate(c, prev_owner, depth + 1)
                    if got is not None and got != _NONE:
                        return got
        return None

    def _is_cue(self, tok: Token) -> bool:
        role = self.lex.cue_role.get(tok.lower_)
        return role is not None

    def _pp_owner(self, tok: Token) -> str | None:
        mention = self.ctx.token_org.get(tok.i)
        if mention is not None:
            return mention.name if self.ctx.owner_ok(mention) else None
        if tok.lower_ in self.lex.collective:
            return _NONE
        for c in tok.children:
            # "the cost of Saltmarsh's new hospital": the possessor of the thing paid for
            if c.dep_ == "poss" and c.i in self.ctx.token_org:
                mention = self.ctx.token_org[c.i]
                return mention.name if self.ctx.owner_ok(mention) else None
        return None

    def owner(self, f: _Found, prev_owner: str | None) -> str | None:
        ctx, doc = self.ctx, self.ctx.doc
        if (
            f.role_source == "partitive"
            and ctx.previous is not None
            and ctx.previous.sent == f.sent
            and _PART_OF_PREVIOUS_RE.match(ctx.text, f.end)
        ):
            return ctx.previous.org  # "... reached £10.2bn and £1.8bn of it was high risk"
        # "Portsmouth Hospitals Trust (£34m)"
        before = ctx.text[max(0, f.parsed.start - 3) : f.parsed.start]
        if "(" in before:
            i = bisect.bisect_left(ctx.org_starts, f.parsed.start) - 1
            if i >= 0:
                o = ctx.orgs[i]
                if 0 <= f.parsed.start - o.end <= 3 and ctx.owner_ok(o):
                    return o.name
        gapped = self._gapped_owner(f)
        if gapped is not None:
            return gapped
        span = doc.char_span(f.start, f.end, alignment_mode="expand")
        if span is None or not ctx.parsed:
            return self._fallback(f, prev_owner, None)
        root = span.root
        s_start, s_end = ctx.sents[f.sent]
        cur: Token = root
        seen = set()
        came_from: Token | None = None
        for depth in range(12):
            if cur.i in seen:
                break
            seen.add(cur.i)
            if (
                came_from is not None
                and came_from.dep_ in ("ccomp", "parataxis")
                and cur.lemma_.lower() in self.lex.reporting_verbs
            ):
                # ("it expects to spend £5m": the subject of an xcomp is the spender)
                # "X estimated that strikes cost £1bn": X reports, it does not own, and the
                # owner of an earlier amount is no better a guess
                reported = any(
                    c.dep_ in _SUBJECT_DEPS and c.i in ctx.token_org for c in cur.children
                )
                if reported:
                    prev_owner = None
                # ... unless a body with finances of its own speaks of its own plans: "the
                # trust expects the new system to deliver savings of £3m"
                for c in cur.children:
                    if (
                        c.dep_ == "nsubj"
                        and c.i not in ctx.token_org
                        and self.generic_noun(c) is not None
                    ):
                        got = self.evaluate(c, None)
                        mention = next((o for o in ctx.orgs if o.name == got), None)
                        if mention is not None and mention.type in self.lex.owner_types:
                            return got
                break
            # the noun the amount modifies is its own ("the trust's £300m capital programme")
            own_np = depth == 0 or (
                depth == 1
                and came_from is not None
                and came_from.dep_ in ("compound", "nummod", "amod", "quantmod", "nmod")
            )
            got = self._check_node(cur, own_np, prev_owner, f.role)
            if got is not None:
                return None if got == _NONE else got
            if cur.head is cur or not s_start <= cur.head.idx < s_end:
                break  # the parser's sentence can run across a line break
            came_from, cur = cur, cur.head
        return self._fallback(f, prev_owner, root)

    def _gapped_owner(self, f: _Found) -> str | None:
        """The organisation right before the amount in a gapped coordination: "X accounts for
        £18m of the gap and Y for £15m", "X will receive £21m, Y £24m and Z the rest"."""
        ctx = self.ctx
        i = bisect.bisect_left(ctx.org_starts, f.parsed.start) - 1
        if i < 0:
            return None
        o = ctx.orgs[i]
        s_start = ctx.sents[f.sent][0]
        if o.start < s_start or not _GAPPED_RE.fullmatch(ctx.text, o.end, f.parsed.start):
            return None
        if not _COORD_BEFORE_RE.search(ctx.text, max(s_start, o.start - 12), o.start):
            return None
        return o.name if ctx.owner_ok(o) else None

    def _check_node(
        self, node: Token, own_np: bool, prev_owner: str | None, role: str
    ) -> str | None:
        is_noun = node.pos_ in ("NOUN", "PROPN", "NUM", "SYM")
        if is_noun:
            for c in node.children:
                if c.dep_ == "poss" and (
                    own_np or node.lower_ in self.lex.finance_nouns or self._is_cue(node)
                ):
                    got = self.evaluate(c, prev_owner)
                    if got is not None:
                        return got
                if c.dep_ == "prep" and c.lower_ in ("for", "at"):
                    for p in c.children:
                        if p.dep_ == "pobj":
                            got = self._pp_owner(p)
                            if got is not None:
                                return got
        if node.pos_ in ("VERB", "AUX") or any(c.dep_ in _SUBJECT_DEPS for c in node.children):
            if role == "funding" and node.lemma_.lower() not in _REQUEST_LEMMAS:
                # funding belongs to its recipient: "handed Bristol CCG £20m", "gave £5m to X"
                # (but "asked NHS Improvement for £15m" is the asker's)
                for c in node.children:
                    target = c if c.dep_ in ("dative", "dobj") and c.lower_ != "to" else None
                    if c.dep_ in ("dative", "prep") and c.lower_ in ("to", "for"):
                        target = next((p for p in c.children if p.dep_ == "pobj"), None)
                    if target is not None and target.i not in self.ctx.amount_tokens:
                        got = self.evaluate(target, prev_owner)
                        if got is not None and got != _NONE:
                            return got
            if (
                node.lemma_.lower() in self.lex.object_owner_verbs
                or node.lower_ in self.lex.object_owner_verbs
            ):
                # "strikes have cost the trust £4m", "fined its provider £18,500"
                for c in node.children:
                    if (
                        c.dep_ in ("dative", "dobj")
                        and c.i not in self.ctx.amount_tokens
                        and c.lower_ not in ("to", "which", "that")
                    ):
                        got = self.evaluate(c, prev_owner)
                        if got is not None:
                            return got
            for c in node.children:
                if c.dep_ == "prep" and c.lower_ == "for":
                    for p in c.children:
                        if p.dep_ == "pobj":
                            got = self._pp_owner(p)
                            if got is not None:
                                return got
            for c in node.children:
                if c.dep_ not in _SUBJECT_DEPS or c.i in self.ctx.amount_tokens:
                    continue
                if c.lower_ in ("that", "which", "who"):
                    if node.dep_ == "relcl":  # "the trust, which posted a £5m deficit"
                        antecedent = node.head
                        for _ in range(3):
                            # "X's plan for 2024-25, which proposed ...": past the year
                            if (
                                not (antecedent.like_num or antecedent.dep_ == "prep")
                                or antecedent.head is antecedent
                            ):
                                break
                            antecedent = antecedent.head
                        got = self.evaluate(antecedent, prev_owner)
                        if got is not None:
                            return got
                    continue
                if c.lower_ != "this":
                    got = self.evaluate(c, prev_owner)
                    if got is not None:
                        return got
        return None

    def _fallback(self, f: _Found, prev_owner: str | None, root: Token | None) -> str | None:
        ctx = self.ctx
        s_start, s_end = ctx.sents[f.sent]
        inside: set[int] = set()
        if root is not None:
            head = root.head if root.dep_ in ("compound", "nummod", "quantmod") else root
            inside = {t.i for t in head.subtree}
        # subjects elsewhere in the sentence that are organisations or back-references
        best: tuple[int, str] | None = None
        for tok in ctx.doc.char_span(s_start, s_end, alignment_mode="expand") or []:
            if tok.i in inside:
                continue
            mention = ctx.token_org.get(tok.i)
            if (
                mention is not None
                and tok.head.i in ctx.token_org
                and ctx.token_org[tok.head.i] is mention
                and tok.head is not tok
            ):
                continue  # judge a multi-word name by its root token
            opening = (
                mention is not None
                and tok.dep_ != "poss"
                and _OPENING_RE.fullmatch(ctx.text, s_start, mention.start) is not None
            )
            if tok.dep_ not in _SUBJECT_DEPS and not opening:
                continue  # (an organisation opening the sentence is its subject)
            if tok.head.dep_ in ("relcl", "acl") or (
                tok.head.lemma_.lower() in self.lex.reporting_verbs
                and any(c.dep_ in ("ccomp", "parataxis") for c in tok.head.children)
            ):
                continue  # "..., which the union says falls short", "X said ..."
            got = None
            mention = ctx.token_org.get(tok.i)
            if mention is not None:
                got = mention.name if ctx.owner_ok(mention) else None
            elif self.generic_noun(tok) is not None and tok.lower_ != "board":
                got = self.resolve_generic(tok, self.generic_noun(tok) or ())
            if got is None or got == _NONE:
                continue
            dist = abs(tok.idx - f.parsed.start) + (0 if tok.idx < f.parsed.start else 1000)
            if best is None or dist < best[0]:
                best = (dist, got)
        if best is not None:
            return best[1]
        return prev_owner


# --------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------


def _shift(period: str, years: int) -> str:
    if "-" in period:
        start = int(period[:4]) + years
        return f"{start}-{(start + 1) % 100:02d}"
    return str(int(period) + years)


class _PeriodResolver:
    """When an amount is for (ruling 17): a year in its clause, a pinned relative year, or a
    year carried over from the sentences that continue the same topic."""

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.lead: dict[int, _Year | None] = {}

    def story_lead(self, story: int) -> str | None:
        """The first year in the first two sentences of a story (after its headline)."""
        year = self._story_lead_year(story)
        return year.period if year else None

    def _story_lead_year(self, story: int) -> _Year | None:
        if story not in self.lead:
            ctx = self.ctx
            start = ctx.story_starts[story]
            end = (
                ctx.story_starts[story + 1] if story + 1 < len(ctx.story_starts) else len(ctx.text)
            )
            body: list[tuple[int, int]] = []
            for s_start, s_end in ctx.sents[ctx.sent_index(start) :]:
                if s_start >= end or len(body) == 2:
                    break
                line = ctx.text[s_start:s_end].rstrip()
                if s_start < start or (not body and line[-1:] not in '.!?”"’'):
                    continue  # a headline or a masthead line
                body.append((s_start, s_end))
            found = None
            for s_start, s_end in body:
                ys = [y for y in ctx.years_between(s_start, s_end) if y.fiscal]
                if ys:
                    found = ys[0]
                    break
            self.lead[story] = found
        return self.lead[story]

    def _other_amount_between(self, f: _Found, y: _Year) -> bool:
        """Whether another amount stands between ``f`` and a later year ``y`` ("£0.8bn above
        the limit, and up from £2.4bn in 2020-21": the year is the other amount's)."""
        if y.start < f.end:
            return False  # "In 2014-15 they spent £882m, with £207m off-framework"
        lo, hi = f.end, y.start
        i = bisect.bisect_left(self.ctx.amount_starts, lo)
        return i < len(self.ctx.amount_starts) and self.ctx.amount_starts[i] < hi

    def _clause_has_other_amount(self, f: _Found, y: _Year) -> bool:
        """Whether the year's own clause holds another amount (the year is that one's)."""
        lo, hi = self.ctx.clause(f.sent, y.start)
        i = bisect.bisect_left(self.ctx.amount_starts, lo)
        return any(a != f.parsed.start for a in self.ctx.amount_starts[i : i + 4] if a < hi)

    @typing.overload
    def _nearest(self, years: list[_Year], f: _Found) -> str | None: ...

    @typing.overload
    def _nearest(self, years: list[_Year], f: _Found, year: typing.Literal[True]) -> _Year: ...

    def _nearest(self, years: list[_Year], f: _Found, year: bool = False) -> Any:
        ctx_text = self.ctx.text
        if not years:
            return None

        def dist(y: _Year) -> int:
            if y.end <= f.parsed.start:
                return f.parsed.start - y.end
            gap = ctx_text[f.end : y.start]
            if re.fullmatch(r"\s*(?:[\w-]+\s+){0,2}?(?:in|for|during|of)\s+", gap):
                return 0  # "£2.7bn in 2013-14", "£5m deficit for 2019-20"
            return y.start - f.end + 1

        best = min(years, key=dist)
        return best if year else best.period

    def period(self, f: _Found, found: list[_Found]) -> str | None:
        """The year the text ties the amount to (ruling 17), or None."""
        period, f.period_source = self._period(f, found)
        return period

    def _period(self, f: _Found, found: list[_Found]) -> tuple[str | None, str]:
        ctx = self.ctx
        c_start, c_end = f.clause
        text = ctx.text
        years = [
            y
            for y in ctx.years_between(c_start, c_end)
            if y.fiscal or (y.start - f.end < 80 and f.parsed.start - y.end < 80)
        ]
        rels = list(ctx.lex.relative_re.finditer(text, c_start, c_end))
        rel = None
        if rels:
            rel = min(
                rels,
                key=lambda m: (
                    (m.start() - f.end) if m.start() >= f.end else (f.parsed.start - m.end()) + 20
                ),
            )
        if (
            rel is not None
            and years
            and rel.start() >= f.end
            and re.fullmatch(
                r"\s*(?:in\s+|for\s+|during\s+|over\s+|on\s+)?", text[f.end : rel.start()]
            )
        ):
            # "£12m in 2021-22, up from £9m last year": last year of the year in the clause
            shift = ctx.lex.relative_shift[_norm_phrase(rel.group())]
            anchor = ctx.pinned or self._nearest([y for y in years if y.fiscal] or years, f)
            return (_shift(anchor, shift) if anchor else None), "relative-anchored"
        years = [y for y in years if not self._other_amount_between(f, y)]
        if years and rel is not None:
            near = self._nearest(years, f, year=True)
            if (
                near.end <= rel.start() < f.parsed.start or f.end <= rel.start() < near.start
            ) and ctx.lex.relative_shift[_norm_phrase(rel.group())] != 0:
                # "a surplus for 2021-22 and a small deficit next year of £2m" (but "£4m this
                # year after the regulator rejected its 2023-24 plan" is pinned by the clause)
                years = []
        if years:
            return self._nearest(years, f), "clause"
        if rel is not None:
            shift = ctx.lex.relative_shift[_norm_phrase(rel.group())]
            if ctx.pinned:
                return _shift(ctx.pinned, shift), "relative-pinned"
            # "its control total for 2019-20 ... a £35m control total next year"
            return self._previous_sentence_year(f, same_role=True), "relative-previous"
        s_start, s_end = ctx.sents[f.sent]
        years = [
            y
            for y in ctx.years_between(s_start, s_end)
            if y.fiscal
            and not self._other_amount_between(f, y)
            and not self._clause_has_other_amount(f, y)
        ]
        if years:
            return self._nearest(years, f), "sentence"
        if f.parsed.per in ("year", "month"):
            # a recurring sum ("£16.9m a year") is tied to a year only by its own sentence
            return None, "rate"
        prev = self._previous_sentence_year(f)
        if prev:
            return prev, "previous-sentence"
        para = ctx.paragraph_index(f.start)
        for other in reversed(found):
            if _BASELINE_AMOUNT_RE.search(
                text, max(0, other.parsed.start - 30), other.parsed.start
            ):
                continue  # "up from £2.4bn in 2020-21" is the past, not the story's year
            if (
                other.story == f.story
                and f.sent - other.sent <= 2
                and other.period
                and (ctx.paragraph_index(other.start) == para or other.org == f.org)
            ):
                return other.period, "recent-amount"
            if other.story != f.story or f.sent - other.sent > 2:
                break
        for other in reversed(found):
            if (
                other.story == f.story
                and other.role == f.role
                and other.org == f.org
                and other.org is not None
                and other.period
            ):
                return other.period, "same-fact"
        lead = self._story_lead_year(f.story)
        if lead is None or s_start <= lead.start < s_end:
            return None, "story-lead"  # (a year in the amount's own sentence was ruled out)
        return lead.period, "story-lead"

    def _previous_sentence_year(self, f: _Found, same_role: bool = False) -> str | None:
        """A year from the sentence before, when the text carries on with the same topic."""
        ctx = self.ctx
        if f.sent == 0:
            return None
        p_start, p_end = ctx.sents[f.sent - 1]
        if ctx.story_index(p_start) != f.story:
            return None
        if ctx.paragraph_index(p_start) != ctx.paragraph_index(f.start) and not same_role:
            return None  # a new paragraph starts a new topic
        ys = [
            y
            for y in ctx.years_between(p_start, p_end)
            if y.fiscal and not _BASELINE_RE.search(ctx.text, max(p_start, y.start - 40), y.start)
        ]
        if not ys:
            return None
        if same_role and f.role not in {
            role for _, _, role in _cues(ctx.text[p_start:p_end], ctx.lex)
        }:
            return None
        distinct = list(dict.fromkeys(y.period for y in ys))
        if len(distinct) > 1:
            lead = self.story_lead(f.story)
            return lead if lead in distinct else distinct[0]
        return distinct[0]


# --------------------------------------------------------------------------------------------
# The component
# --------------------------------------------------------------------------------------------


def _dollar_currency(ctx: _Context, f: _Found) -> str:
    """A bare "$" is USD unless the text around it names a country with its own dollar."""
    text, lex = ctx.text, ctx.lex
    s_start, s_end = ctx.sents[f.sent]
    story_start = ctx.story_starts[f.story]
    for lo, hi in ((s_start, s_end), (story_start, s_start)):
        places = list(lex.place_re.finditer(text, lo, hi))
        if places:
            return lex.place_currency[places[-1].group()]
    return "USD"


_THE_CONTRACT_RE = re.compile(r"\b(?:the|this|that)\s+contract(?:['’]s)?\b", re.IGNORECASE)


def _contract_owner(ctx: _Context, f: _Found, done: list[_Found], org: str | None) -> str | None:
    """A contract's value is its buyer's: "the contract" pointing back to a contract already
    valued in the story keeps that contract's owner ("the trust had wanted the contract's
    value raised" is still the council's contract)."""
    s_start, s_end = ctx.sents[f.sent]
    if not _THE_CONTRACT_RE.search(ctx.text, s_start, s_end):
        return org
    for other in reversed(done):
        if other.story != f.story:
            break
        if other.role == "contract_value" and other.org is not None:
            return other.org
    return org


def _same_value(a: _Found, b: _Found) -> bool:
    va, vb = a.parsed.value, b.parsed.value
    if a.currency != b.currency:
        return False
    return abs(va - vb) <= 0.005 * max(abs(va), abs(vb), 1e-9)


def _dedupe(found: list[_Found]) -> list[_Found]:
    """Ruling 11: one entry per fact (value, role, org, period); the first mention's text.

    A figure in a headline is the fact the story then reports: it takes what the body says
    about the same figure.
    """
    found = list(found)
    for h in [f for f in found if f.headline]:
        body = next(
            (
                b
                for b in found
                if b is not h
                and b.story == h.story
                and not b.headline
                and b.start > h.start
                and _same_value(h, b)
            ),
            None,
        )
        if body is not None:
            h.role, h.role_source = body.role, body.role_source
            h.org = body.org or h.org
            h.period = body.period or h.period
    kept: list[_Found] = []
    for f in found:
        twin = None
        for k in kept:
            if not _same_value(k, f):
                continue
            same_role = k.role == f.role or f.role_source == "default"
            same_org = k.org == f.org or k.org is None or f.org is None
            same_period = k.period == f.period or k.period is None or f.period is None
            if same_role and same_org and same_period:
                twin = k
                break
        if twin is None:
            kept.append(f)
            continue
        twin.org = twin.org or f.org
        twin.period = twin.period or f.period
    return kept


def _as_dict(ctx: _Context, f: _Found) -> dict[str, Any]:
    p = f.parsed
    gbp = f.currency == "GBP"
    s_start, s_end = ctx.sents[f.sent]
    return {
        "text": p.text,
        "value_gbp": p.value if gbp else None,
        "value_gbp_max": p.value_max if gbp else None,
        "currency": f.currency,
        "value": p.value,
        "qualifier": p.qualifier,
        "role": f.role,
        "per": p.per,
        "org": f.org,
        "period": f.period,
        "start": p.start,
        "end": p.end,
        "sentence": ctx.text[s_start:s_end].strip(),
    }


class MoneyExtractor:
    """Finds amounts of money and says what, whose and when they are."""

    def __init__(
        self, nlp: Language, name: str = "policywatch_money", *, lexicon_path: str | None = None
    ) -> None:
        self.name = name
        self.lex = load_lexicon(lexicon_path or DATA_PATH)
        _register_extensions()

    def __call__(self, doc: Doc) -> Doc:
        text = doc.text
        parsed = list(_iter_ranges(text, self.lex))
        if not parsed:
            doc.spans[SPAN_KEY] = []
            doc._.amounts = []
            return doc
        ctx = _Context(doc, self.lex, text)
        found: list[_Found] = []
        for p in parsed:
            fig_start = p.figure_start
            sent = ctx.sent_index(fig_start)
            s_start, s_end = ctx.sents[sent]
            found.append(
                _Found(
                    parsed=p,
                    start=fig_start,
                    end=p.end,
                    sent=sent,
                    clause=ctx.clause(sent, fig_start),
                    story=ctx.story_index(fig_start),
                    currency=p.currency,
                    headline=s_start in ctx.story_starts
                    and text[s_start:s_end].rstrip()[-1:] not in _HEADLINE_END,
                )
            )
        ctx.amount_starts = sorted(f.parsed.start for f in found)
        for f in found:
            span = doc.char_span(f.start, f.end, alignment_mode="expand")
            if span is not None:
                ctx.amount_tokens.update(t.i for t in span)
        orgs = _OrgResolver(ctx)
        periods = _PeriodResolver(ctx)
        for i, f in enumerate(found):
            if f.parsed.dollar:
                f.currency = _dollar_currency(ctx, f)
            prev_end = found[i - 1].end if i > 0 else 0
            next_start = found[i + 1].parsed.start if i + 1 < len(found) else len(text)
            ctx.previous = found[i - 1] if i > 0 else None
            f.role, f.role_source = _role(ctx, f, prev_end, next_start)
        for f, after in reversed(list(zip(found, found[1:], strict=False))):
            if after.sent == f.sent and _PART_OF_NEXT_RE.fullmatch(text, f.end, after.parsed.start):
                # "released £4.5m of the £15m of cash support": a part of the next amount
                f.role, f.role_source = after.role, "partitive"
        done: list[_Found] = []
        for f in found:
            ctx.previous = done[-1] if done else None
            ctx.role = f.role
            prev_owner = None
            for other in reversed(done):
                if other.story == f.story:
                    prev_owner = other.org
                break
            f.org = orgs.owner(f, prev_owner)
            if f.role == "contract_value":
                f.org = _contract_owner(ctx, f, done, f.org)
            f.period = periods.period(f, done)
            done.append(f)
        kept = _dedupe(done)
        spans = []
        amounts = []
        for f in kept:
            span = doc.char_span(f.parsed.start, f.parsed.end, alignment_mode="expand")
            record = _as_dict(ctx, f)
            if span is not None:
                span._.amount = record
                spans.append(span)
            amounts.append(record)
        doc.spans[SPAN_KEY] = spans
        doc._.amounts = amounts
        return doc


def _register_extensions() -> None:
    for name in ("amounts", "published", "organisations"):
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)
    for name in ("amount", "org_name", "org_type"):
        if not Span.has_extension(name):
            Span.set_extension(name, default=None)


_register_extensions()


@Language.factory(
    "policywatch_money",
    assigns=["doc.spans", "doc._.amounts", "span._.amount"],
    requires=["doc.spans", "token.dep"],
    default_config={"lexicon_path": None},
)
def make_money_extractor(nlp: Language, name: str, lexicon_path: str | None) -> MoneyExtractor:
    """spaCy factory of the money component (data from ``data/money.toml`` by default)."""
    return MoneyExtractor(nlp, name, lexicon_path=lexicon_path)
