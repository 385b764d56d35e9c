"""Quality ratings of named NHS bodies (spaCy component ``policywatch_ratings``).

Finds CQC ratings and NHS England's annual CCG ratings (outstanding, good, requires
improvement, inadequate) and special measures (in / out), and ties each to the organisation
it is given to, with the year it is for and the rater where the text says so.

How a rating is read:

* a rating word counts only in rating context: a rating verb or noun nearby ("rated good",
  "an inadequate rating", "moved from inadequate to good"); "good progress" does not;
* drafts (a draft word in the clause or on the rating verb's subject: "the draft report rated
  it inadequate"), hypotheticals ("would have", "could", "deserved") and negated statements
  are skipped; a rating the body already held ("the good rating it already held") counts;
  a named body that "is now" a rating counts in a sentence about ratings; a rating word
  coordinated with a rated one ("rated good in 2019 and outstanding ...") counts;
* changes ("from good in 2017-18 to inadequate") give the new and the old rating; the old one
  of an annual CCG rating gets the previous financial year;
* periods: a year counts only in the rating's own clause by the parse (not one in a relative
  or coordinated clause, unless that clause is on the rating noun: "the rating it has held
  since 2019"); an annual rating kept ("kept its outstanding rating") is the document's
  ratings year; an undated CQC rating takes the year of the inspection report described in
  the next sentences ("The CQC's report, published in May 2020, ...");
* the rated bodies are the commissioners/providers of the sentence (by the parse: the
  subject of the rating verb's clause, the body a participle follows: "A, rated good in
  2021, ..."), the antecedent group of a relative clause ("A, B and C, all three of which
  were rated good") and still the subject of the main clause, the body named in the next
  sentences after an unnamed subject ("A GP practice in Kent was rated ..."), the bullets under a
  rating header ("Newly rated outstanding:"), a body named as "among" a rated count or listed
  after the count named again ("The four CCGs: A, B and C"), a numbered group ("the 11 trusts
  placed in special measures" ... "one of the 11"), or for an anaphor ("the trust", "it") the
  last named body;
* ratings listed after each body ("A was rated good, B “requires improvement”") pair up;
* service-, ward- and domain-level ratings ("outstanding for caring", or a service as the
  rating verb's subject or object: "maternity services were rated inadequate") give no
  entry, nor do counts without names ("24 groups were rated outstanding"; a count is a
  number of bodies, not "300 pages"); councils can be rated (CQC assesses local
  authorities).

Output: ``doc.spans["ratings"]`` (the rating words, with ``span._.rating``) and
``doc._.ratings`` (list of dicts: org, rating, period, rater, start, end, sentence).
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span

from nlp.text import register_extensions, shift_financial_year

register_extensions()

DATA_DIR = Path(__file__).parent / "data"
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
_YEAR_RE = re.compile(r"\b((?:19|20)\d{2})(?:\s*[-–/]\s*((?:19|20)?\d{2}))?\b")
_RELATIVE_YEAR_RE = re.compile(
    r"\b(?:a year (?:earlier|before|ago)|the (?:year before|previous year)|last year|this year)\b",
    re.IGNORECASE,
)
OUT_RE_TEMPLATE = r"(?:{words})\s+(?:the\s+)?(?:new\s+)?(?:financial\s+)?[‘“'\"]?\s*$"


def _rateable(span: Span) -> bool:
    """Bodies that receive ratings: commissioners, providers, and councils (CQC assesses
    local authorities' adult social care)."""
    kind = span._.org_type
    return kind in RATED_TYPES or (kind == "government" and span._.org_name.endswith("Council"))


def _anaphor_fits(kind: str, span: Span) -> bool:
    """Whether a body can be what an anaphor of ``kind`` ("the trust", "it") points back to."""
    if kind == "any":
        return True
    if kind == "trust":
        name = span._.org_name
        return "Trust" in name or name.endswith(" FT")
    return span._.org_type == kind


def _inflect(words: list[str]) -> set[str]:
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
class _Unit:
    start: int
    end: int
    bullet: bool = False
    header: bool = False


@dataclass
class _Occ:
    start: int
    end: int
    value: str
    role: str = "plain"  # plain | new | old | prior
    implied_in: bool = False  # "taken out of special measures" implies it was in
    scope: tuple[int, int] | None = None  # tokens where its own year is looked for
    period: str | None = None
    kept: bool = False  # "kept its good rating": the current rating, held again


@dataclass
class _Entry:
    org: str
    value: str
    period: str | None
    rater: str | None
    occ: _Occ
    unit: _Unit
    implied: bool = False
    kind: str = ""  # the rated body's organisation type


class RatingExtractor:
    """The ``policywatch_ratings`` pipeline component."""

    def __init__(
        self, nlp: Language, name: str = "policywatch_ratings", *, lexicon_path: str | None = None
    ) -> None:
        self.name = name
        self._org_tokens: set[int] = set()  # per-document state, set in __call__
        self._text = ""
        with Path(lexicon_path or DATA_DIR / "ratings_lexicon.json").open(encoding="utf-8") as f:
            lex = json.load(f)
        self.matcher = Matcher(nlp.vocab)
        for value, patterns in lex["values"].items():
            self.matcher.add(value, [[{"LOWER": w} for w in p] for p in patterns])
        self.matcher.add("regime", [[{"LOWER": w}] for w in lex["regime_words"]])
        self.rating_nouns = set(lex["rating_nouns"])
        self.cue_lemmas = _inflect(lex["cue_lemmas"])
        self.strong_cues = _inflect(lex["strong_cue_lemmas"])
        self.near_cues = set(lex["near_cue_lemmas"])
        self.domain_words = set(lex["domain_words"])  # only right before the rating word
        self.non_rating_followers = set(lex["non_rating_followers"])
        self.prior_lemmas = _inflect(lex["prior_lemmas"])
        self.draft_words = set(lex["draft_words"])
        self.hypothetical_words = set(lex["hypothetical_words"])
        neg = lex["negation_words"]
        self.negation_re = re.compile(
            r"\b(?:" + "|".join(re.escape(w) for w in neg) + r")\b", re.IGNORECASE
        )
        self.out_re = re.compile(
            OUT_RE_TEMPLATE.format(words="|".join(re.escape(w) for w in lex["out_words"])),
            re.IGNORECASE,
        )
        self.change_out_re = re.compile(
            OUT_RE_TEMPLATE.format(words="|".join(re.escape(w) for w in lex["change_out_words"])),
            re.IGNORECASE,
        )
        self.group_verbs = set(lex["group_verbs"])
        self.anaphor_nouns = set(lex["anaphor_nouns"])
        self.kind_nouns = set(lex["kind_nouns"])
        self.rater_cues = set(lex["rater_cues"])
        self.year_cues = set(lex["year_cues"])
        self.service_nouns = set(lex["service_nouns"])
        self.count_nouns = set(lex["count_nouns"]) | self.kind_nouns
        self.retain_lemmas = set(lex["retain_lemmas"])
        self.report_words = set(lex["report_words"])
        self.care_home_suffixes = tuple(" " + w for w in lex["care_home_suffixes"])
        self.care_home_nouns = tuple(lex["care_home_nouns"])
        self.change_links = set(lex["change_links"])
        self.sm_step_re = re.compile(
            r"\b(?:(?P<out>"
            + "|".join(re.escape(w) for w in lex["sm_step_out"])
            + r")|(?:"
            + "|".join(re.escape(w) for w in lex["sm_step_back"])
            + r"))\s+in\b",
            re.IGNORECASE,
        )
        self.publish_re = re.compile(
            r"\b(?:" + "|".join(re.escape(w) for w in lex["publish_words"]) + r")\b",
            re.IGNORECASE,
        )

    # ------------------------------------------------------------------ structure

    def _units(self, doc: Doc) -> list[_Unit]:
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
        return [u for u in units if u.end > u.start]

    def _make_unit(self, doc: Doc, start: int, end: int) -> _Unit:
        while start < end and doc[start].is_space:
            start += 1
        while end > start and doc[end - 1].is_space:
            end -= 1
        unit = _Unit(start, end)
        if end > start:
            unit.bullet = doc[start].text in BULLETS
            unit.header = doc[end - 1].text == ":"
        return unit

    def _clause(self, doc: Doc, unit: _Unit, i: int, j: int) -> tuple[int, int]:
        s = i
        while s > unit.start and doc[s - 1].lower_ not in CLAUSE_BOUNDARIES:
            s -= 1
        e = j
        while e < unit.end and doc[e].lower_ not in CLAUSE_BOUNDARIES:
            e += 1
        return s, e

    # ------------------------------------------------------------------ occurrences

    def _prev_tokens(self, doc: Doc, unit: _Unit, i: int, n: int) -> list:
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

    def _next_token(self, doc: Doc, unit: _Unit, j: int):
        k = j
        while k < unit.end and doc[k].text in QUOTES:
            k += 1
        return doc[k] if k < unit.end else None

    def _occurrences(
        self, doc: Doc, unit: _Unit, has_sm: bool, matches: list[tuple[int, int, int]]
    ) -> list[_Occ]:
        occs: list[_Occ] = []
        for match_id, s, e in matches:
            if s < unit.start or e > unit.end:
                continue
            value = doc.vocab.strings[match_id]
            if value == "regime":
                if not has_sm:
                    continue
                value = "special measures"
            # a rating listed after another ("A was rated good, B “requires improvement”
            # and C “inadequate”") shares its context
            listed = bool(occs) and all(
                t.text in QUOTES or t.lower_ in (",", "and", "or", ";") or t.i in self._org_tokens
                for t in doc[occs[-1].end : s]
            )
            occ = self._read(doc, unit, s, e, value, listed=listed)
            if occ is not None:
                occs.append(occ)
        # a "new" rating needs an "old" one before it in the same unit
        seen_old = False
        for occ in occs:
            if occ.role == "old":
                seen_old = True
            elif occ.role == "new" and not seen_old:
                occ.role = "plain"
        return occs

    def _read(
        self, doc: Doc, unit: _Unit, s: int, e: int, value: str, listed: bool = False
    ) -> _Occ | None:
        prev = self._prev_tokens(doc, unit, s, 5)
        before = self._text[max(doc[unit.start].idx, doc[s].idx - 40) : doc[s].idx]
        nxt = self._next_token(doc, unit, e)
        cs, ce = self._clause(doc, unit, s, e)
        clause_text = doc[cs:ce].text.lower()
        # proper nouns and dates are not cue words ("in May 2017" is no modal)
        clause_words = {
            t.lower_ for t in doc[cs:ce] if t.pos_ != "PROPN" and t.ent_type_ not in ("DATE",)
        }
        occ = _Occ(s, e, value)
        if value == "special measures":
            if doc[s].lower_ == "regime" and not re.search(
                r"\b(?:in|into|out of|leave|exit|from|enter(?:s|ed|ing)?)\s+(?:the|this|that)\s+$",
                before,
                re.IGNORECASE,
            ):
                return None
            if self.out_re.search(before):
                occ.value = "out of special measures"
                occ.implied_in = bool(self.change_out_re.search(before))
        else:
            prev_lemmas = [t.lower_ for t in prev[:4]]
            strong = any(lem in self.strong_cues for lem in prev_lemmas) or (
                # "rated good in 2019 and outstanding at its latest inspection"
                doc[s].dep_ in ("oprd", "acomp", "xcomp", "dobj", "attr", "conj")
                and doc[s].head.lower_ in self.strong_cues
            )
            weak = any(lem in self.cue_lemmas for lem in prev_lemmas) or any(
                lem in self.near_cues for lem in prev_lemmas[:2]
            )
            noun_next = nxt is not None and (
                nxt.lower_ in self.rating_nouns
                # "the inadequate-rated trust"
                or (nxt.text == "-" and e + 1 < len(doc) and doc[e + 1].lower_ == "rated")
            )
            if (
                nxt is not None
                and not noun_next
                and nxt.pos_ in ("NOUN", "PROPN")
                and nxt.text[:1].islower()
            ):
                return None
            # "A, rated good last year, is now outstanding": a named body's state, in a
            # sentence about ratings
            copular = (
                doc[s].dep_ in ("acomp", "attr")
                and doc[s].head.lemma_ == "be"
                and any(c.dep_ == "nsubj" and c.i in self._org_tokens for c in doc[s].head.children)
                and any(t.lower_ in self.strong_cues for t in doc[unit.start : unit.end])
            )
            if not (
                noun_next
                or strong
                or listed
                or copular
                or (weak and (nxt is None or nxt.lower_ not in self.non_rating_followers))
            ):
                return None
            # service-, ward- and domain-level ratings are not the body's rating
            if self._service_level(doc, s):
                return None
            k = e
            while k < ce and (doc[k].text in QUOTES or doc[k].lower_ in self.rating_nouns):
                k += 1
            if k < ce and doc[k].lower_ in ("for", "in", "on", "at"):
                window = {t.lower_ for t in doc[k + 1 : min(k + 5, ce)]}
                if window & self.domain_words:
                    return None
            # role within a change
            near = [t.lower_ for t in prev[:3] if t.pos_ != "DET"]
            after = [t.lower_ for t in doc[e : min(e + 5, ce)] if t.lower_ not in self.rating_nouns]
            if near and near[0] == "from" or re.search(r"out of\s*[‘“'\"]?\s*$", before):
                occ.role = "old"
            elif any(lem in self.prior_lemmas for lem in prev_lemmas[:4]) or any(
                lem in self.prior_lemmas for lem in after[:4]
            ):
                occ.role = "prior"
                occ.kept = any(lem in self.retain_lemmas for lem in prev_lemmas[:4])
            elif near and near[0] in ("to", "into"):
                occ.role = "new"
        if any(w in clause_words for w in self.draft_words):
            return None
        if self.negation_re.search(clause_text) or (
            unit.start < cs
            and self.negation_re.search(doc[unit.start : cs].text.lower())
            and value == "special measures"
        ):
            return None
        hypothetical = (
            any(w in clause_words for w in self.hypothetical_words) or "would have" in clause_text
        )
        if hypothetical and occ.role != "prior":
            return None
        # where this rating's own year is written
        if occ.role == "old":
            k = s
            while k > cs and doc[k - 1].lower_ not in ("from", "of"):
                k -= 1
            end = e
            while end < unit.end and doc[end].lower_ not in ("to", "into", "–", ";", "—"):
                end += 1
            occ.scope = (max(cs, k - 1), end)
        elif occ.role == "prior":
            occ.scope = (s, ce)
        elif doc[s].dep_ == "conj" and doc[s].head.lower_ in self.strong_cues:
            # "rated good in 2019 and outstanding at its latest inspection": the year
            # before the conjunction is the first rating's
            occ.scope = (s, ce)
        return occ

    # ------------------------------------------------------------------ periods

    def _years(self, doc: Doc, start: int, end: int) -> list[tuple[int, str, bool]]:
        """(token index, period, is_financial_year) of the years written in doc[start:end]."""
        if end <= start:
            return []
        base = doc[start].idx
        text = self._text[base : doc[end - 1].idx + len(doc[end - 1])]
        out = []
        for m in _YEAR_RE.finditer(text):
            y1, y2 = m.group(1), m.group(2)
            tok = doc.char_span(base + m.start(), base + m.end(), alignment_mode="expand")
            idx = tok.start if tok is not None else start
            if y2:
                if (int(y1) + 1) % 100 != int(y2[-2:]):
                    continue
                out.append((idx, f"{y1}-{y2[-2:]}", True))
            else:
                out.append((idx, y1, False))
        return out

    def _ratings_year(self, doc: Doc, units: list[_Unit]) -> str | None:
        """The financial year the document's annual ratings are for (first one named with a
        rating word)."""
        for unit in units:
            if any(t.lower_ in self.year_cues for t in doc[unit.start : unit.end]):
                fys = [p for _, p, fy in self._years(doc, unit.start, unit.end) if fy]
                if fys:
                    return fys[0]
        return None

    def _period(
        self,
        doc: Doc,
        unit: _Unit,
        occ: _Occ,
        occs: list[_Occ],
        org_type: str,
        default_fy: str | None,
    ) -> str | None:
        annual = (
            org_type == "commissioner"
            and occ.value != "special measures"
            and "special measures" not in occ.value
        )

        def pick(years):
            if annual:
                years = [y for y in years if y[2]]
            elif occ.value in ("outstanding", "good", "requires improvement", "inadequate"):
                years = [y for y in years if not y[2]] or years
            if not years:
                return None
            return min(years, key=lambda y: abs(y[0] - occ.start))[1]

        relative = None
        if annual and default_fy:
            cs, ce = self._clause(doc, unit, occ.start, occ.end)
            m = _RELATIVE_YEAR_RE.search(doc[cs:ce].text)
            if m:
                relative = (
                    default_fy
                    if m.group(0).lower() == "this year"
                    else (shift_financial_year(default_fy, -1))
                )
        if occ.scope is not None:
            found = pick(self._years(doc, *occ.scope))
            if found or occ.role == "prior":
                # an annual rating kept is the one for the year the document reports
                return found or relative or (default_fy if annual and occ.kept else None)
            if occ.role == "plain":
                return relative or (default_fy if annual else None)
            if occ.role == "old":
                if not annual:
                    return None
                new = next((o for o in occs if o.role == "new"), None)
                current = None
                if new is not None:
                    current = self._period(doc, unit, new, occs, org_type, default_fy)
                current = current or default_fy
                return shift_financial_year(current, -1) if current else None
        excluded: set[int] = set()
        for other in occs:
            if other is not occ and other.scope is not None:
                excluded.update(range(*other.scope))
        years = [
            y
            for y in self._years(doc, unit.start, unit.end)
            if y[0] not in excluded and self._same_clause(doc, occ.start, y[0])
        ]
        found = pick(years)
        if found:
            return found
        if relative:
            return relative
        return default_fy if annual else None

    # ------------------------------------------------------------------ targets

    def _coordination_group(self, doc: Doc, mentions: list[Span], before: int) -> list[Span]:
        prior = [m for m in mentions if m.end <= before]
        if not prior:
            return []
        group = [prior[-1]]
        for m in reversed(prior[:-1]):
            between = doc[m.end : group[0].start]
            if all(t.lower_ in (",", "and", "&", "or") or t.is_space for t in between):
                group.insert(0, m)
            else:
                break
        return group

    def _which_group(
        self, doc: Doc, unit: _Unit, occ: _Occ, mentions: list[Span]
    ) -> list[Span] | None:
        k = occ.start - 1
        steps = 0
        # "A, which came out of special measures after moving up from inadequate to good"
        while k >= unit.start and steps < 14:
            tok = doc[k]
            if tok.lower_ in ("which", "who"):
                j = k
                while j > unit.start and doc[j - 1].lower_ in (
                    "of",
                    "all",
                    "each",
                    "both",
                    "three",
                    "two",
                    "four",
                    "five",
                    "none",
                    ",",
                    "–",
                    "—",
                    "-",
                ):
                    j -= 1
                return self._coordination_group(doc, mentions, j)
            if tok.text in (".", ";", ":"):
                break
            k -= 1
            steps += 1
        return None

    @staticmethod
    def _pair_in_order(doc: Doc, occs: list[_Occ], mentions: list[Span]) -> dict[int, list[Span]]:
        """Pair alternating bodies and ratings ("A was rated good, B “requires improvement”
        and C “inadequate”"): each rating takes the body right before it."""
        plain = [o for o in occs if o.role == "plain"]
        if len(plain) < 2 or len(plain) != len(occs) or len(mentions) < len(plain):
            return {}
        pairs: dict[int, list[Span]] = {}
        bound = -1
        for occ in plain:
            before = [m for m in mentions if bound <= m.start and m.end <= occ.start]
            if len(before) != 1:
                return {}
            pairs[id(occ)] = before
            bound = occ.end
        return pairs

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
        if tok.lower_ == "requires" and tok.head.i != tok.i:
            tok = tok.head  # the rating phrase "requires improvement" is itself a verb
        return tok

    def _subjects(self, doc: Doc, s: int, through: tuple[str, ...]) -> list:
        """The subject (and object, before the rating) of the rating's verb, looked for up
        through the given dependency labels."""
        verb = self._governor(self._rating_token(doc, s))
        for _ in range(3):
            args = [
                c
                for c in verb.children
                if c.dep_ in ("nsubj", "nsubjpass") or (c.dep_ == "dobj" and c.i < s)
            ]
            if args:
                return args
            if verb.dep_ not in through or verb.head.i == verb.i:
                return []
            verb = verb.head
        return []

    def _indefinite_subject(self, doc: Doc, s: int) -> bool:
        """ "A GP practice in Kent has been rated inadequate": an unnamed body, named in the
        sentences after."""
        for arg in self._subjects(doc, s, ("xcomp", "acomp", "oprd", "conj")):
            if (
                arg.lower_ in self.kind_nouns
                and arg.i not in self._org_tokens
                and any(c.dep_ == "det" and c.lower_ in ("a", "an") for c in arg.children)
            ):
                return True
        return False

    def _service_level(self, doc: Doc, s: int) -> bool:
        """Whether the rating is given to a service, ward or domain ("maternity services were
        rated inadequate", "inspectors rated its surgical unit good") or by a draft report
        ("the draft report rated it inadequate"), read from the rating verb's subject and
        object."""
        for arg in self._subjects(doc, s, ("xcomp", "acomp", "oprd")):
            if any(c.lower_ in self.draft_words for c in arg.children):
                return True
            if any(
                t.lower_ in self.service_nouns and t.i not in self._org_tokens
                for t in (arg, *arg.conjuncts)
            ):
                return True
        return False

    def _same_clause(self, doc: Doc, i: int, j: int) -> bool:
        """Whether token j (a year) belongs to the clause of token i (a rating) by the parse:
        not in a relative clause or a coordinated clause of its own ("A, which was rated good
        in 2018-19, is now outstanding"; "entered special measures in 2020 and has since been
        rated requires improvement")."""
        vi = self._governor(self._rating_token(doc, i))
        vj = self._governor(doc[j])
        if vi.i == vj.i:
            return True
        for low, high in ((vi, vj), (vj, vi)):
            tok = low
            steps = 0
            while tok.head.i != tok.i and steps < 12:
                # "the rating it has held since 2019": a relative clause on the rating
                # itself dates it
                if tok.dep_ == "conj" or (
                    tok.dep_ == "relcl" and tok.head.lower_ not in self.rating_nouns
                ):
                    break
                tok = tok.head
                steps += 1
                if tok.i == high.i:
                    return True
        return False

    def _clause_targets(self, unit: _Unit, occ: _Occ, mentions: list[Span]) -> list[Span]:
        """The named bodies in the rating's own clause ("X said Y was rated good" rates Y
        only): by the parse, else by punctuation; all of the sentence's bodies where neither
        links any to it."""
        if len(mentions) < 2:
            return mentions
        doc = mentions[0].doc
        tok = doc[occ.start]
        if tok.lower_ == "requires" and tok.head.i != tok.i:
            tok = tok.head  # the rating phrase "requires improvement" is itself a verb
        verb = self._governor(tok)
        # a participle after the body it rates ("A, rated good in 2021, is not affected")
        if verb.dep_ in ("acl", "relcl"):
            modified = [m for m in mentions if m.start <= verb.head.i < m.end]
            if modified:
                return modified
        same = [m for m in mentions if self._governor(m.root).i == verb.i]
        if not same:
            cs, ce = self._clause(doc, unit, occ.start, occ.end)
            same = [m for m in mentions if m.start >= cs and m.end <= ce]
        if not same:
            return mentions
        # with the bodies coordinated with them ("include A, B and C")
        chosen = {m.start for m in same}
        pairs = list(zip(mentions, mentions[1:], strict=False))
        for a, b in pairs + pairs[::-1]:
            linked = all(t.lower_ in (",", "and", "&", "or") for t in doc[a.end : b.start])
            if linked and (a.start in chosen or b.start in chosen):
                chosen.update((a.start, b.start))
        return [m for m in mentions if m.start in chosen]

    def _recount(self, doc: Doc, unit: _Unit) -> str | None:
        """The number of a unit that opens by naming a rated count again ("The four CCGs:
        ..." or "These four groups are ..."), lower-cased, else None."""
        toks = doc[unit.start : min(unit.start + 4, unit.end)]
        if len(toks) < 3 or toks[0].lower_ not in ("the", "these", "those"):
            return None
        if not toks[1].like_num or toks[2].lower_ not in self.count_nouns:
            return None
        return toks[1].lower_

    def _has_count(self, doc: Doc, unit: _Unit) -> bool:
        """A count of bodies ("24 groups were rated outstanding", "four are rated good"), not
        any number ("after a challenge running to 300 pages")."""
        for tok in doc[unit.start : unit.end]:
            if (
                tok.like_num
                and not re.fullmatch(r"(?:19|20)\d{2}", tok.text)
                and tok.ent_type_ not in ("DATE", "TIME", "MONEY", "PERCENT")
                and (
                    tok.dep_ not in ("nummod", "quantmod", "compound", "npadvmod", "pobj")
                    or tok.head.lower_ in self.count_nouns
                    or (tok.dep_ == "pobj" and tok.head.lower_ == "of")
                )
            ):
                return True
        return False

    def _has_anaphor(self, doc: Doc, unit: _Unit) -> str | None:
        """Return the kind of an anaphor ("it", "the trust") in the unit, if any."""
        for tok in doc[unit.start : unit.end]:
            if tok.lower_ in ("it", "its"):
                return "any"
            if tok.lower_ in self.anaphor_nouns and tok.i > unit.start:
                left = doc[max(unit.start, tok.i - 3) : tok.i]
                det = [t.i for t in left if t.lower_ in ("the", "this")]
                # "the trust", not "the 11 trusts" (a number before the article is no count)
                if det and not any(t.like_num for t in doc[det[-1] : tok.i]):
                    return (
                        "trust"
                        if tok.lower_ == "trust"
                        else "provider"
                        if tok.lower_ in ("hospital", "provider")
                        else "commissioner"
                        if tok.lower_ in ("ccg", "group", "commissioner")
                        else "any"
                    )
        return None

    @staticmethod
    def _named_together(doc: Doc, mentions: list[Span]) -> list[Span]:
        """The first group of two or more coordinated bodies ("A and B", "A, B and C")."""
        group: list[Span] = []
        for m in mentions:
            if group and all(
                t.lower_ in (",", "and", "&", "or") for t in doc[group[-1].end : m.start]
            ):
                group.append(m)
                continue
            if len(group) >= 2:
                return group
            group = [m]
        return group if len(group) >= 2 else []

    @staticmethod
    def _plural_anaphor(doc: Doc, unit: _Unit) -> bool:
        """A unit opening with "Each", "Both", "They", "All three" ... of them."""
        first = [t.lower_ for t in doc[unit.start : unit.start + 2] if t.text not in QUOTES]
        return bool(first) and (
            first[0] in ("each", "both", "they")
            or first[:2] in (["all", "three"], ["all", "four"], ["the", "two"], ["the", "pair"])
        )

    def _indefinite(self, doc: Doc, unit: _Unit) -> bool:
        toks = doc[unit.start : unit.end]
        for i, tok in enumerate(toks):
            if tok.lower_ in ("a", "an"):
                window = [t.lower_ for t in toks[i + 1 : i + 5]]
                if any(w in self.kind_nouns for w in window) and (
                    "rated" in [t.lower_ for t in toks[i + 1 : i + 7]]
                ):
                    return True
        return False

    # ------------------------------------------------------------------ main

    def _care_home(self, span: Span) -> bool:
        """A named care home ("Marlow Court", "Oak Care Home") in a text about care or nursing
        homes: the CQC rates those too, though the organisation finder may type them as
        companies."""
        name = span._.org_name or ""
        if span._.org_type not in ("company", "other") or not name.endswith(
            self.care_home_suffixes
        ):
            return False
        if name.endswith((" Care Home", " Nursing Home")):
            return True
        # "House", "Lodge", "Court", "Manor" name care homes only where the sentence says so
        sent = span.sent.text.lower()
        return any(noun in sent for noun in self.care_home_nouns)

    def _sm_steps(self, doc: Doc, units: list[_Unit], entries: list[_Entry]) -> None:
        """A special-measures history told as steps ("placed in special measures in 2015,
        came out in 2017 and went back in 2018"): each later step with its own year is an
        entry for the same body, in the same sentence or the next one."""
        index = {id(u): i for i, u in enumerate(units)}
        done: set[tuple[str, int]] = set()
        for e in list(entries):
            if e.value != "special measures" or e.implied:
                continue
            ui = index.get(id(e.unit))
            if ui is None:
                continue
            spans = [(e.occ.end, e.unit.end, e.unit)]
            if ui + 1 < len(units):
                nxt = units[ui + 1]
                first = doc[nxt.start]
                if first.lower_ in ("it", "the", "this") or doc[
                    nxt.start : nxt.end
                ].text.startswith(e.org):
                    spans.append((nxt.start, nxt.end, nxt))
            for start, end, unit in spans:
                text = doc[start:end].text
                base = doc[start].idx
                for m in self.sm_step_re.finditer(text):
                    value = "out of special measures" if m.group("out") else "special measures"
                    span = doc.char_span(base + m.start(), base + m.end(), alignment_mode="expand")
                    if span is None:
                        continue
                    years = [
                        (i, y)
                        for i, y, fy in self._years(doc, span.end, min(span.end + 4, unit.end))
                        if not fy
                    ]
                    if not years or (e.org, span.start) in done:
                        continue
                    done.add((e.org, span.start))
                    occ = _Occ(span.start, span.end, value, period=years[0][1])
                    entries.append(
                        _Entry(e.org, value, years[0][1], e.rater, occ, unit, kind=e.kind)
                    )

    def __call__(self, doc: Doc) -> Doc:
        org_spans = [s for s in doc.spans.get("orgs", []) if _rateable(s) or self._care_home(s)]
        org_spans.sort(key=lambda s: s.start)
        all_orgs = list(doc.spans.get("orgs", []))
        # Doc.text is rebuilt on every access: read it once per document
        self._text = doc.text
        self._org_tokens = {k for span in all_orgs for k in range(span.start, span.end)}
        matches = self.matcher(doc)
        if not matches or not org_spans:
            doc.spans[SPAN_KEY] = []
            doc._.ratings = []
            return doc
        units = self._units(doc)
        has_sm = "special measures" in self._text.lower()
        matches.sort(key=lambda m: m[1])
        starts = [m[1] for m in matches]
        by_unit = [
            self._occurrences(
                doc,
                unit,
                has_sm,
                matches[bisect_left(starts, unit.start) : bisect_left(starts, unit.end)],
            )
            for unit in units
        ]
        default_fy = self._ratings_year(doc, units)
        raters = self._raters(doc, units, all_orgs)
        groups = self._numbered_groups(units, by_unit, has_sm, doc)

        entries: list[_Entry] = []
        count_ratings: list[tuple[int, _Occ, str | None]] = []  # (unit index, occ, period)
        header: tuple[_Unit, list[_Occ]] | None = None
        org_starts = [m.start for m in org_spans]
        unit_mentions = [
            [
                m
                for m in org_spans[
                    bisect_left(org_starts, unit.start) : bisect_left(org_starts, unit.end)
                ]
                if m.end <= unit.end
            ]
            for unit in units
        ]

        def add(
            org_span: Span, occ: _Occ, unit: _Unit, period: str | None, implied: bool = False
        ) -> None:
            value = occ.value
            entries.append(
                _Entry(
                    org_span._.org_name,
                    value,
                    period,
                    self._rater(doc, unit, value, org_span._.org_type, raters),
                    occ,
                    unit,
                    implied=implied,
                    kind=org_span._.org_type,
                )
            )

        for ui, unit in enumerate(units):
            mentions = unit_mentions[ui]
            occs = by_unit[ui]
            if not unit.bullet:
                header = None  # a rating header governs the bullets right after it
            consumed: set[int] = set()
            handled: set[int] = set()
            for oi, occ in enumerate(occs):
                group = self._which_group(doc, unit, occ, mentions)
                if group:
                    for m in group:
                        add(
                            m,
                            occ,
                            unit,
                            self._period(doc, unit, occ, occs, m._.org_type, default_fy),
                        )
                        if occ.role != "old":
                            consumed.add(m.start)
                    handled.add(oi)
            free = [m for m in mentions if m.start not in consumed]
            # bullets under a rating header
            if unit.bullet and header is not None and mentions:
                h_unit, h_occs = header
                targets = free if not occs else [m for m in free if m is mentions[0]] or free[:1]
                for m in targets:
                    for occ in h_occs:
                        add(
                            m,
                            occ,
                            h_unit,
                            self._period(doc, h_unit, occ, h_occs, m._.org_type, default_fy),
                        )
            if unit.header and occs and not mentions:
                header = (unit, [o for o in occs if o.role != "old"] or occs)
                continue
            # "Among them are X and Y" after a rated count
            # or listed after the count named again ("The four CCGs: X, Y and Z.")
            recount = self._recount(doc, unit) if free and not occs else None
            if (doc[unit.start].lower_ == "among" or recount) and free:
                for ci, cocc, cperiod in reversed(count_ratings):
                    if recount and not re.search(
                        rf"\b{re.escape(recount)}\b",
                        doc[units[ci].start : units[ci].end].text.lower(),
                    ):
                        break
                    if ui - ci <= 3:
                        for m in free:
                            period = cperiod if m._.org_type == "commissioner" else None
                            add(m, cocc, units[ci], period)
                            new_like = _Occ(cocc.start, cocc.end, cocc.value, "new")
                            for occ in occs:
                                if occ.role == "old":
                                    occ_period = self._period(
                                        doc,
                                        unit,
                                        occ,
                                        [occ, new_like],
                                        m._.org_type,
                                        cperiod or default_fy,
                                    )
                                    add(m, occ, unit, occ_period)
                                    handled.add(occs.index(occ))
                    break
            # numbered groups: "one of the 11"
            for number, gocc in groups.items():
                if re.search(rf"\bof the {re.escape(number)}\b", doc[unit.start : unit.end].text):
                    for m in mentions:
                        add(m, gocc, unit, None)
            rest = [o for i, o in enumerate(occs) if i not in handled]
            # the body named in the sentences after an unnamed subject ("A practice in Kent
            # was rated inadequate. Inspectors who visited Oak Surgery ...")
            unnamed = [o for o in rest if self._indefinite_subject(doc, o.start)]
            if unnamed:
                later = next((ms[0] for ms in unit_mentions[ui + 1 : ui + 3] if ms), None)
                for occ in unnamed if later is not None else []:
                    add(
                        later,
                        occ,
                        unit,
                        self._period(doc, unit, occ, occs, later._.org_type, default_fy),
                    )
                rest = [o for o in rest if o not in unnamed]
            if not rest:
                continue
            if free:
                paired = self._pair_in_order(doc, rest, free)
                prev: tuple[_Occ, list[Span]] | None = None
                for occ in rest:
                    chosen = paired.get(id(occ)) or self._clause_targets(unit, occ, free)
                    # "B was rated requires improvement, down from good": the old rating
                    # is B's, like the one it follows
                    if (
                        occ.role == "old"
                        and prev is not None
                        and prev[0].role != "old"
                        and all(
                            t.is_punct or t.lower_ in self.change_links
                            for t in doc[prev[0].end : occ.start]
                        )
                    ):
                        chosen = prev[1]
                    prev = (occ, chosen)
                    for m in chosen:
                        add(
                            m,
                            occ,
                            unit,
                            self._period(doc, unit, occ, occs, m._.org_type, default_fy),
                        )
                        if occ.implied_in:
                            add(
                                m,
                                _Occ(occ.start, occ.end, "special measures"),
                                unit,
                                None,
                                implied=True,
                            )
                continue
            if mentions:
                # the bodies took a rating from a relative clause; the main clause can rate
                # its own subject too ("A, which was rated inadequate in 2016, is now rated
                # good")
                for occ in rest:
                    verb = self._governor(self._rating_token(doc, occ.start))
                    for m in mentions:
                        if self._governor(m.root).i == verb.i:
                            period = self._period(doc, unit, occ, occs, m._.org_type, default_fy)
                            add(m, occ, unit, period)
                continue
            targets: list[Span] = []
            if self._indefinite(doc, unit):
                for later in unit_mentions[ui + 1 : ui + 3]:
                    if later:
                        targets = [later[0]]
                        break
            elif self._plural_anaphor(doc, unit) and ui > 0:
                # "Each had been rated good a year earlier.": the bodies named together
                # (coordinated) in the sentence before
                targets = self._named_together(doc, unit_mentions[ui - 1])
            elif self._has_count(doc, unit):
                for occ in rest:
                    if occ.role in ("plain", "new"):
                        count_ratings.append(
                            (
                                ui,
                                occ,
                                self._period(doc, unit, occ, occs, "commissioner", default_fy),
                            )
                        )
            else:
                kind = self._has_anaphor(doc, unit)
                if kind is not None:
                    earlier = [
                        m for m in org_spans if m.end <= unit.start and _anaphor_fits(kind, m)
                    ]
                    if earlier:
                        targets = [earlier[-1]]
            for target in targets:
                for occ in rest:
                    add(
                        target,
                        occ,
                        unit,
                        self._period(doc, unit, occ, occs, target._.org_type, default_fy),
                    )
                    if occ.implied_in:
                        add(
                            target,
                            _Occ(occ.start, occ.end, "special measures"),
                            unit,
                            None,
                            implied=True,
                        )

        self._sm_steps(doc, units, entries)
        self._report_years(doc, units, unit_mentions, entries)
        results, spans = self._finish(doc, entries)
        doc.spans[SPAN_KEY] = spans
        doc._.ratings = results
        return doc

    def _report_years(
        self, doc: Doc, units: list[_Unit], unit_mentions: list[list[Span]], entries: list[_Entry]
    ) -> None:
        """An undated CQC rating takes the year of the inspection report described right after
        it ("A moved up to good. The CQC's report, published in May 2020, praised ...")."""
        index = {id(u): i for i, u in enumerate(units)}
        for e in entries:
            if (
                e.period is not None
                or e.implied
                or e.kind != "provider"
                or e.occ.role not in ("plain", "new")
                or "special measures" in e.value
            ):
                continue
            ui = index.get(id(e.unit))
            if ui is None:
                continue
            for k in range(ui + 1, min(ui + 3, len(units))):
                if any(m._.org_name != e.org for m in unit_mentions[k]):
                    break  # another body's story
                unit = units[k]
                words = {t.lower_ for t in doc[unit.start : unit.end]}
                if not words & self.report_words or not self.publish_re.search(
                    doc[unit.start : unit.end].text
                ):
                    continue
                years = [y for _, y, fy in self._years(doc, unit.start, unit.end) if not fy]
                if len(years) == 1:
                    e.period = years[0]
                break

    def _numbered_groups(
        self, units: list[_Unit], by_unit: list[list[_Occ]], has_sm: bool, doc: Doc
    ) -> dict[str, _Occ]:
        """ "the 11 trusts placed in special measures" -> {"11": special-measures occurrence}."""
        groups: dict[str, _Occ] = {}
        if not has_sm:
            return groups
        for unit, occs in zip(units, by_unit, strict=True):
            for occ in occs:
                if occ.value != "special measures":
                    continue
                window = doc[max(unit.start, occ.start - 6) : occ.start]
                words = [t.lower_ for t in window]
                if not any(w in self.group_verbs for w in words):
                    continue
                for k, tok in enumerate(window[:-1]):
                    if tok.like_num and k > 0 and window[k - 1].lower_ == "the":
                        groups.setdefault(tok.text, occ)
        return groups

    def _raters(self, doc: Doc, units: list[_Unit], orgs: list[Span]) -> dict[str, str | None]:
        """Who rates in this document: NHS England for CCGs where it is named with the ratings,
        the CQC for providers where it is named."""
        nhse = None
        cqc = None
        for span in orgs:
            name = span._.org_name or ""
            if name in ("Care Quality Commission", "CQC"):
                cqc = "CQC"
        nhse_spans = [span for span in orgs if span._.org_name == "NHS England"]
        for unit in units if nhse_spans else []:
            words = {t.lower_ for t in doc[unit.start : unit.end]}
            if not words & self.rater_cues:
                continue
            for span in nhse_spans:
                if (
                    span.start >= unit.start
                    and span.end <= unit.end
                    and span._.org_name == "NHS England"
                ):
                    nhse = "NHS England"
        return {"commissioner": nhse, "provider": cqc}

    def _rater(
        self, doc: Doc, unit: _Unit, value: str, org_type: str, raters: dict[str, str | None]
    ) -> str | None:
        if "special measures" in value:
            text = doc[unit.start : unit.end].text.lower()
            return raters.get("provider") if "recommend" in text else None
        return raters.get(org_type)

    def _title_end(self, doc: Doc) -> int:
        """Token index where a headline line (the first line, without a full stop) ends."""
        first_line = self._text.lstrip().split("\n", 1)[0].rstrip()
        if not first_line or first_line.endswith((".", "?", "!", ":")) or "\n" not in self._text:
            return 0
        offset = len(self._text) - len(self._text.lstrip())
        span = doc.char_span(offset, offset + len(first_line), alignment_mode="expand")
        return span.end if span is not None else 0

    def _finish(self, doc: Doc, entries: list[_Entry]) -> tuple[list[dict[str, Any]], list[Span]]:
        with_period = {(e.org, e.value) for e in entries if e.period is not None}
        # special measures are one spell: an undated mention is the dated one again
        dated_sm = {k for k in with_period if "special measures" in k[1]}
        # a headline restates the story: it adds nothing the body says with more detail
        title_end = self._title_end(doc)
        in_body = {(e.org, e.value) for e in entries if e.unit.start >= title_end}
        seen: dict[tuple[str, str, str | None], dict[str, Any]] = {}
        spans = []
        for e in entries:
            if e.implied and (e.org, e.value) in with_period:
                continue
            if e.period is None and (e.org, e.value) in dated_sm:
                continue
            if e.unit.end <= title_end and e.period is None and (e.org, e.value) in in_body:
                continue
            key = (e.org, e.value, e.period)
            if key in seen:
                if seen[key]["rater"] is None and e.rater is not None:
                    seen[key]["rater"] = e.rater
                continue
            start_char = doc[e.occ.start].idx
            last = doc[e.occ.end - 1]
            sent = doc[e.unit.start : e.unit.end].text
            rating = {
                "org": e.org,
                "rating": e.value,
                "period": e.period,
                "rater": e.rater,
                "start": start_char,
                "end": last.idx + len(last),
                "sentence": sent,
            }
            # read back as span._.rating (see nlp.text)
            spans.append(Span(doc, e.occ.start, e.occ.end, label="RATING", span_id=str(len(seen))))
            seen[key] = rating
        spans.sort(key=lambda s: (s.start, s.end))
        return list(seen.values()), spans


@Language.factory(
    "policywatch_ratings",
    assigns=["doc.spans", "doc._.ratings", "span._.rating"],
    requires=["doc.spans", "token.dep", "token.lemma"],
    default_config={"lexicon_path": None},
)
def make_rating_extractor(nlp: Language, name: str, lexicon_path: str | None) -> RatingExtractor:
    """Build the rating extractor (vocabulary defaults to ``nlp/data/ratings_lexicon.json``)."""
    return RatingExtractor(nlp, name, lexicon_path=lexicon_path)
