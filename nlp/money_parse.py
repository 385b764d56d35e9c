"""Written amounts of money: the lexicon of ``data/money.toml`` compiled, and the parser that turns
"more than £100m", "£8-10m" or "$80m a week" into a :class:`ParsedAmount`.

No spaCy here: the component (nlp/money.py) uses these to find amounts in a document's text.
"""


from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

DATA_PATH = Path(__file__).parent / "data" / "money.toml"

QUALIFIERS = ("exact", "approx", "more_than", "less_than", "up_to")
ROLES = (
    "deficit", "surplus", "overspend", "underspend", "budget", "spending_limit",
    "control_total", "savings", "funding", "cost", "turnover", "income", "gap",
    "contract_value", "fine", "other",
)


_NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_QUOTES_OPEN = "“\"‘'"
_QUOTES_CLOSE = "”\"’'"


# --------------------------------------------------------------------------------------------


def _phrase_alternation(phrases: list[str]) -> str:
    """Regex alternation of literal phrases, longest first, flexible about inner spaces."""
    parts = sorted({p.strip() for p in phrases if p.strip()}, key=len, reverse=True)
    return "|".join(r"\s+".join(re.escape(w) for w in p.split()) for p in parts)


@dataclass(frozen=True)
class Lexicon:
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
    needs_of: frozenset[str]  # qualifier phrases that count only before "of"
    cue_re: re.Pattern[str]
    cue_role: dict[str, str | None]
    head_verbs: dict[str, str]
    subject_nouns: dict[str, str]  # nouns that name a role only as their clause's subject
    shortfall_cue_re: re.Pattern[str]
    shortfall_context_re: re.Pattern[str]  # words that measure a shortfall against a plan
    spending_roles: frozenset[str]
    right_patterns: tuple[tuple[re.Pattern[str], str, str], ...]  # (regex, role, name)
    left_patterns: tuple[tuple[re.Pattern[str], str, str], ...]
    # (regex before the amount, regex after it, role, name): both sides must match
    around_patterns: tuple[tuple[re.Pattern[str], re.Pattern[str], str, str], ...]
    # (regex, side, name, roles it turns into a control total)
    agreed_limit: tuple[tuple[re.Pattern[str], str, str, frozenset[str]], ...]
    place_re: re.Pattern[str]
    place_currency: dict[str, str]
    relative_re: re.Pattern[str]
    relative_shift: dict[str, int]
    pin_res: tuple[re.Pattern[str], ...]
    governing_res: tuple[re.Pattern[str], ...]
    report_title_res: tuple[re.Pattern[str], ...]
    # (regex, name): a periodical's date line that states the financial year it is written in
    dateline_pin_res: tuple[tuple[re.Pattern[str], str], ...]
    anchored_relative: frozenset[str]
    multi_year_res: tuple[tuple[re.Pattern[str], str], ...]
    cumulative_res: tuple[tuple[re.Pattern[str], str], ...]  # sums run up to a date
    stock_res: tuple[tuple[re.Pattern[str], str], ...]  # stocks built up over years
    baseline_res: tuple[tuple[re.Pattern[str], str], ...]  # (regex, name)
    combined_left_re: re.Pattern[str]
    combined_right_re: re.Pattern[str]
    joint_sentence_re: re.Pattern[str]  # a sentence that says two bodies hold the money jointly
    contract_awarder_re: re.Pattern[str]  # words right before the body awarding a contract
    # words right before a commissioner that holds a contract with a provider ("a contract
    # with X ICB worth £9m")
    contract_with_commissioner_re: re.Pattern[str]
    generic: dict[str, tuple[str, ...]]
    collective: frozenset[str]
    finance_nouns: frozenset[str]
    never_owner_types: frozenset[str]
    never_owner_names_re: re.Pattern[str]  # venues tagged as bodies ("X Crown Court")
    role_excluded_types: dict[str, frozenset[str]]
    object_owner_verbs: frozenset[str]
    report_nouns: frozenset[str]
    staff_nouns: frozenset[str]
    topic_reporters_re: re.Pattern[str]
    nobody_subjects: frozenset[str]
    group_nouns: frozenset[str]
    owner_types: tuple[str, ...]
    funder_types: tuple[str, ...]  # bodies that hand out money to generic recipients
    abbreviations: dict[str, str]
    reporting_verbs: frozenset[str]


def norm_phrase(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split())


@functools.lru_cache(maxsize=4)
def load_lexicon(path: str | Path = DATA_PATH) -> Lexicon:
    """Read and compile the money lexicon (cached)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return _compile_lexicon(data)
    except (OSError, tomllib.TOMLDecodeError, re.error) as e:
        raise RuntimeError(f"cannot read the money lexicon {path}: {e}") from e
    except (KeyError, TypeError, ValueError) as e:
        raise RuntimeError(f"money lexicon {path} is missing or misshapes an entry: {e}") from e


def _compile_lexicon(data: dict[str, Any]) -> Lexicon:
    amount = data["amount"]
    prefixes = {p: c for p, c in amount["prefixes"]}
    suffixes = {norm_phrase(s): c for s, c in amount["suffixes"]}
    multipliers = {m.lower(): Decimal(str(v)).normalize() for m, v in amount["multipliers"]}
    words = sorted((m for m in multipliers if len(m) > 3), key=len, reverse=True)
    abbrevs = sorted((m for m in multipliers if len(m) <= 3), key=len, reverse=True)
    # A word may follow after a space ("£2 million"); an abbreviation after at most one plain
    # space on the same line ("£14.2 m"), so a table cell's figure never takes the next line's.
    mult = (
        r"(?:\s?(?:" + "|".join(words) + r")|(?: ?(?:" + "|".join(abbrevs) + r")))(?![A-Za-z0-9])"
    )
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
    per = {norm_phrase(k): v for k, v in amount["per"]}
    per_re = re.compile(
        r"^(?:[\s-]*(?:a|an|per|each|every)[\s-]+(?P<p1>" + _phrase_alternation(
            [k for k in per if not k.endswith("ly")]) + r")\b|\s+(?P<p2>"
        + _phrase_alternation([k for k in per if k.endswith("ly")]) + r")\b)",
        re.IGNORECASE,
    )

    quals = data["qualifiers"]
    qualifier_of: dict[str, str] = {}
    alts: list[tuple[int, str]] = []
    needs_det = set(quals.get("needs_determiner", []))
    for qual in QUALIFIERS:
        for phrase in quals.get(qual, []):
            qualifier_of[norm_phrase(phrase)] = qual
            body = _phrase_alternation([phrase])
            if phrase in needs_det:
                body = "(?:(?<=the\\s)|(?<=its\\s)|(?<=their\\s)|(?<=any\\s))" + body
            alts.append((len(phrase), body))
    alts.sort(key=lambda x: -x[0])
    qualifier_re = re.compile(
        r"(?:^|(?<=[\s(\[]))(?P<q>[" + _QUOTES_OPEN + r"]?(?P<w>(?:"
        + "|".join(a for _, a in alts) + r"))[" + _QUOTES_CLOSE + r"]?)\s*$",
        re.IGNORECASE,
    )
    not_qualifier_re = re.compile(
        r"\b(?:" + "|".join(quals.get("not_qualifier", [])) + r")\s*$", re.IGNORECASE)

    roles = data["roles"]
    cue_role: dict[str, str | None] = {}
    for role in ROLES:
        for phrase in roles.get(role, []):
            cue_role[norm_phrase(phrase)] = role
    for phrase in roles.get("neutral", []):
        cue_role[norm_phrase(phrase)] = None
    cue_re = re.compile(
        r"(?<![\w-])(?:" + _phrase_alternation(list(cue_role)) + r")(?![\w-])", re.IGNORECASE)
    right_patterns = tuple(
        (re.compile(p["pattern"], re.IGNORECASE), p["role"], p["name"])
        for p in roles.get("right", []))
    left_patterns = tuple(
        (re.compile(p["pattern"], re.IGNORECASE), p["role"], p["name"])
        for p in roles.get("left", []))
    around_patterns = tuple(
        (re.compile(p["left"], re.IGNORECASE), re.compile(p["right"], re.IGNORECASE), p["role"],
         p["name"])
        for p in roles.get("around", []))

    place_currency: dict[str, str] = {}
    for code, names in data["places"].items():
        for name in names:
            place_currency[name] = code
    place_re = re.compile(
        r"(?<![\w])(?:" + "|".join(
            re.escape(n) for n in sorted(place_currency, key=len, reverse=True)) + r")(?![\w])")

    periods = data["periods"]
    relative_shift = {norm_phrase(p): int(s) for p, s in periods["relative"]}
    relative_re = re.compile(
        r"(?<![\w-])(?:" + _phrase_alternation(list(relative_shift)) + r")(?![\w-])",
        re.IGNORECASE)
    fy = r"(?P<fy>(?:19|20)\d{2}\s*[-–/]\s*(?:\d{2}|(?:19|20)\d{2}))"
    pin_res = tuple(re.compile(p.replace("{year}", fy), re.IGNORECASE) for p in periods["pins"])
    short_fy = r"(?P<fy>(?:19|20)?\d{2}\s*[-–/]\s*(?:\d{2}|(?:19|20)\d{2}))"
    governing_res = tuple(re.compile(p.replace("{year}", short_fy), re.IGNORECASE)
                          for p in periods.get("governing", []))
    report_title_res = tuple(re.compile(p.replace("{year}", short_fy), re.IGNORECASE)
                             for p in periods.get("report_titles", []))
    dateline_pin_res = tuple((re.compile(e["pattern"].replace("{year}", short_fy), re.IGNORECASE),
                              e["name"]) for e in periods.get("dateline_pins", []))

    orgs = data["orgs"]
    generic = {norm_phrase(n): tuple(types) for n, types in orgs["generic"]}
    return Lexicon(
        prefixes=prefixes, suffixes=suffixes, multipliers=multipliers, per=per,
        amount_re=amount_re, per_re=per_re,
        ratio_re=re.compile(amount["ratio_right"], re.IGNORECASE),
        ratio_left_re=re.compile(amount["ratio_left"], re.IGNORECASE),
        qualifier_re=qualifier_re, qualifier_of=qualifier_of, not_qualifier_re=not_qualifier_re,
        needs_of=frozenset(norm_phrase(p) for p in quals.get("needs_of", [])),
        cue_re=cue_re, cue_role=cue_role,
        head_verbs={verb: role for role, verbs in roles.get("head_verbs", {}).items()
                    for verb in verbs if role in ROLES},
        spending_roles=frozenset(roles.get("spending_roles", [])),
        subject_nouns={noun: role for role, nouns in roles.get("subject_nouns", {}).items()
                       for noun in nouns if role in ROLES},
        shortfall_cue_re=re.compile(roles["shortfall_against_plan"]["cue"], re.IGNORECASE),
        shortfall_context_re=re.compile(roles["shortfall_against_plan"]["context"],
                                        re.IGNORECASE),
        right_patterns=right_patterns,
        left_patterns=left_patterns, around_patterns=around_patterns, place_re=place_re,
        place_currency=place_currency,
        agreed_limit=_agreed_limit_patterns(data),
        relative_re=relative_re, relative_shift=relative_shift, pin_res=pin_res,
        governing_res=governing_res, report_title_res=report_title_res,
        dateline_pin_res=dateline_pin_res,
        anchored_relative=frozenset(norm_phrase(p) for p in periods.get("anchored_relative", [])),
        multi_year_res=tuple((re.compile(b["pattern"], re.IGNORECASE), b["name"])
                             for b in periods.get("multi_year", [])),
        cumulative_res=tuple((re.compile(b["pattern"], re.IGNORECASE), b["name"])
                             for b in periods.get("cumulative", [])),
        stock_res=tuple((re.compile(b["pattern"], re.IGNORECASE), b["name"])
                        for b in periods.get("stock", [])),
        baseline_res=tuple((re.compile(b["pattern"], re.IGNORECASE), b["name"])
                           for b in periods.get("baseline", [])),
        combined_left_re=re.compile("|".join(f"(?:{p})" for p in orgs["combined_left"]),
                                    re.IGNORECASE),
        combined_right_re=re.compile("|".join(f"(?:{p})" for p in orgs["combined_right"]),
                                     re.IGNORECASE),
        joint_sentence_re=re.compile(
            "|".join(f"(?:{p})" for p in orgs.get("joint_sentence", [])) or "(?!)",
            re.IGNORECASE),
        contract_awarder_re=re.compile(orgs.get("contract_awarder", "(?!)"), re.IGNORECASE),
        contract_with_commissioner_re=re.compile(
            orgs.get("contract_with_commissioner", "(?!)"), re.IGNORECASE),
        generic=generic,
        collective=frozenset(norm_phrase(c) for c in orgs["collective"]),
        finance_nouns=frozenset(norm_phrase(c) for c in orgs["finance_nouns"]),
        never_owner_types=frozenset(orgs["never_owner_types"]),
        never_owner_names_re=re.compile(orgs.get("never_owner_names", "(?!)")),
        role_excluded_types={role: frozenset(types) for role, types in
                             orgs.get("role_excluded_types", {}).items()},
        object_owner_verbs=frozenset(orgs.get("object_owner_verbs", [])),
        report_nouns=frozenset(orgs.get("report_nouns", [])),
        staff_nouns=frozenset(norm_phrase(c) for c in orgs.get("staff_nouns", [])),
        topic_reporters_re=re.compile(orgs.get("topic_reporters", "(?!)"), re.IGNORECASE),
        nobody_subjects=frozenset(norm_phrase(c) for c in orgs.get("nobody_subjects", [])),
        group_nouns=frozenset(norm_phrase(c) for c in orgs.get("group_nouns", [])),
        owner_types=tuple(orgs["owner_types"]),
        funder_types=tuple(orgs.get("funder_types", ())),
        abbreviations={k.lower(): v.lower() for k, v in orgs["abbreviations"].items()},
        reporting_verbs=frozenset(orgs["reporting_verbs"]),
    )


def _agreed_limit_patterns(data: dict[str, Any]
                           ) -> tuple[tuple[re.Pattern[str], str, str, frozenset[str]], ...]:
    """The ``[[roles.agreed_limit]]`` patterns, ``{national}`` filled with the setters."""
    setters = sorted(data["orgs"]["national_setters"], key=len, reverse=True)
    national = "(?:" + "|".join(re.escape(n) for n in setters) + ")"
    return tuple((re.compile(e["pattern"].replace("{national}", national), re.IGNORECASE),
                  e["side"], e["name"], frozenset(e["roles"]))
                 for e in data["roles"].get("agreed_limit", []))


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


def _number(num: str, mult: str | None, lex: Lexicon) -> Decimal:
    value = Decimal(num.replace(",", ""))
    if mult:
        value *= lex.multipliers[mult.strip().lower()]
    return value


def _plain(value: Decimal) -> float | int:
    """An int for whole values (money is reported in whole units), else a float."""
    return int(value) if value == value.to_integral_value() else float(value)


def _currency_of(match: re.Match[str], lex: Lexicon) -> str:
    suf = match.group("suf") or match.group("bsuf")
    if suf:
        return lex.suffixes[norm_phrase(suf)]
    pre = match.group("pre").strip()
    for p, code in lex.prefixes.items():
        if p.lower() == pre.lower():
            return code
    raise ValueError(f"unknown currency prefix {pre!r}")


def _qualifier(left: str, lex: Lexicon, right: str = "") -> tuple[str | None, int]:
    """The qualifier ending ``left`` and the length of its words (0 if none); ``right`` is
    the text after the amount, for the phrases that are a qualifier only before "of"."""
    if lex.not_qualifier_re.search(left):
        return None, 0
    m = lex.qualifier_re.search(left)
    if not m:
        return None, 0
    if norm_phrase(m.group("w")) in lex.needs_of and not re.match(r"\s*of\b", right):
        return None, 0  # "the first £400m, for 2026/27, goes to ...": a first tranche
    qual = lex.qualifier_of[norm_phrase(m.group("w"))]
    return qual, len(left) - m.start("q")


def _iter_amounts(text: str, lex: Lexicon) -> Iterator[ParsedAmount]:
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
        right = text[end:end + 40]
        if lex.ratio_re.match(right) or lex.ratio_left_re.search(text[max(0, start - 20):start]):
            continue  # a ratio ("£30 per head", "£1 for every £3"), not an amount
        pm = lex.per_re.match(right)
        per = lex.per[norm_phrase(pm.group("p1") or pm.group("p2"))] if pm else None
        qual, qlen = _qualifier(text[max(0, start - 40):start], lex, right)
        if value_max is not None:
            qual = "approx"  # ruling 14
        yield ParsedAmount(
            value=_plain(value),
            value_max=None if value_max is None else _plain(value_max),
            currency="USD" if currency == "$" else currency,
            qualifier=qual or "exact",
            per=per,
            text=text[start - qlen:end],
            start=start - qlen,
            end=end,
            dollar=currency == "$",
            figure_start=start,
        )


_BETWEEN_RE = re.compile(r"\b(?:between|from)\s+$", re.IGNORECASE)
_AND_RE = re.compile(r"\s+(?:and|to)\s+")
# "£4m to £5m of income", "fees range from £900 to £1,200": a range; "rose from £4m to £5m"
# is a change between two figures
_TO_NEXT_RE = re.compile(r"\s+to\s+[£$€]")
_FROM_RE = re.compile(r"\bfrom\s+$", re.IGNORECASE)
_RANGE_FROM_RE = re.compile(r"\b(?:rang(?:e|es|ed|ing)|var(?:y|ies|ied|ying))\s+from\s+$",
                            re.IGNORECASE)


def _opens_to_range(text: str, a: ParsedAmount) -> bool:
    """Whether ``a`` opens an "X to Y" range (not a change "from X to Y")."""
    if not _TO_NEXT_RE.match(text, a.end):
        return False
    before = text[max(0, a.start - 30):a.start]
    return not _FROM_RE.search(before) or bool(_RANGE_FROM_RE.search(before))


def iter_ranges(text: str, lex: Lexicon) -> Iterator[ParsedAmount]:
    """:func:`_iter_amounts` with "between £20m and £50m" read as one range."""
    pending: ParsedAmount | None = None
    for a in _iter_amounts(text, lex):
        if pending is not None:
            word = text[pending.end:a.start].split()[0].lower() \
                if text[pending.end:a.start].strip() else ""
            between = text[pending.start - 8:pending.start].lower() == "between "
            if (_AND_RE.fullmatch(text, pending.end, a.start) and a.currency == pending.currency
                    and a.value_max is None and a.value > pending.value
                    and word == ("and" if between else "to")):
                start = pending.start - 8 if between else pending.start
                yield ParsedAmount(
                    value=pending.value, value_max=a.value, currency=pending.currency,
                    qualifier="approx", per=a.per or pending.per,
                    text=text[start:a.end], start=start, end=a.end,
                    dollar=pending.dollar, figure_start=pending.figure_start)
                pending = None
                continue
            yield pending
            pending = None
        if a.value_max is None and a.qualifier == "exact" and (
                (_BETWEEN_RE.search(text, max(0, a.start - 10), a.start)
                 and text[a.start - 8:a.start].lower() == "between ")
                or _opens_to_range(text, a)):
            pending = a
            continue
        yield a
    if pending is not None:
        yield pending


def find_amounts(text: str) -> list[ParsedAmount]:
    """Every amount of money written in ``text``, in order (no context rules applied)."""
    if not isinstance(text, str):
        raise TypeError(f"find_amounts() needs str, got {type(text).__name__}")
    return list(iter_ranges(text, load_lexicon()))


def parse_amount(text: str) -> ParsedAmount | None:
    """Parse one written amount ("more than £100m", "£8-10m", "$80m a week").

    Returns ``None`` when ``text`` holds no sum of money (percentages, counts, ratios).
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_amount() needs str, got {type(text).__name__}")
    for amount in iter_ranges(text, load_lexicon()):
        return amount
    return None


