"""Story segmentation: split a newsletter page's text into its separate stories.

A newsletter page (a daily round-up) carries several short, unrelated stories; a plain article
is one story, even when a late paragraph turns to a side topic. ``split_stories`` returns the
stories of a text as :class:`Story` records with character offsets into it, following the
project's annotation guidelines (``shared/eval/GUIDELINES.md``, "Stories"):

1. The text is cut into units: blank-line separated blocks, or lines where the text has no
   blank lines (extracted article bodies). A headline glued to its first paragraph by a
   single line break becomes a unit of its own.
2. Layout first. A headline is a short title-like line (no final full stop, colon or comma,
   not a bullet, byline or date) followed by a paragraph; with ``html``, the texts of
   ``h1``-``h4`` elements and of paragraphs that are wholly bold count as headlines too.
   A masthead or strapline at the top (a short line before the first headline, or a short
   line worded like one: "The must-read stories ...", "Our round-up of ...") belongs to no
   story.
3. Is it a newsletter? Yes when it has a masthead or when two headed sections are about
   different things (the topic test below); a plain article stays one story.
4. In a newsletter every headline starts a story, and so does a paragraph straight after a
   thematic break (``<hr>``) or extra vertical space.
5. A story without a headline line further down a newsletter (it starts straight after a
   blank line) is found by two tests inside each story:

   - new subject: a paragraph after a story's first turns to another organisation. It opens
     with an organisation's name, an indefinite subject ("A consultancy that ...") or a
     common noun before a named organisation ("Inspectors have rated X Trust ..."), not
     with a back-reference ("The trust", "It", "But", "Separately", "X, its partner, ...");
     it names something (other than national bodies and generic words such as "NHS
     Foundation Trust") that the story, which has named an organisation of its own, has
     not named; and it is not close to the story in content words or, given ``embed``, in
     sentence embeddings. A round-up item ("In brief") is never split this way.
   - topic change, TextTiling-style: at every paragraph gap with at least three paragraphs
     on each side, the lexical cohesion (cosine of content-word counts) and, given
     ``embed``, the similarity of the mean sentence embeddings of the two sides; the gap
     whose similarity lies furthest below the thresholds starts a new story. An extra blank
     line or an ``<hr>`` in the HTML at that gap counts in favour.

The word lists of the new-subject test are in ``data/story_cues.toml``.

``embed`` is a function from a list of texts to an array of L2-normalised vectors (one row
per text), such as all-MiniLM-L6-v2 through sentence-transformers.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from importlib import resources

import numpy as np

__all__ = ["Story", "split_stories"]

Embedder = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class Story:
    """One story of a text: ``text[start:end]``. ``headline`` is the story's headline line
    exactly as written (``text[start:start + len(headline)] == headline``), or ``None``
    when the story starts with its first sentence."""

    start: int
    end: int
    headline: str | None = None

    def text_of(self, text: str) -> str:
        """The story's text, without the trailing blank lines."""
        return text[self.start : self.end].rstrip()

    def body_of(self, text: str) -> str:
        """The story's text after its headline line."""
        start = self.start + len(self.headline) if self.headline else self.start
        return text[start : self.end].strip()


# --------------------------------------------------------------------------------------------
# Tuning. Similarities are cosines in [0, 1] between the two sides of a gap.
# --------------------------------------------------------------------------------------------

# A topic test gives a margin: how far the similarity of the two sides of a gap lies below a
# threshold, in units of a typical spread (cosine of term counts, cosine of mean embeddings).
# With embeddings both margins are added, so either signal can outvote a weak doubt in the
# other. A margin above zero means "different stories".
_LEXICAL_SCALE = 0.04
_EMBED_SCALE = 0.10
# headed sections of a text without a masthead (newsletter or article with subheadings?)
_HEADED_LEXICAL_MAX = 0.10
_HEADED_EMBED_MAX = 0.45
# headline-less boundary inside a newsletter story
_GAP_LEXICAL_MAX = 0.08
_GAP_EMBED_MAX = 0.50
# A paragraph that opens with a new organisation (see _opens_new_subject) starts a story
# unless it is this close to the story so far: in content words other than generic
# organisation words (the held-out new stories share none; a new story after one on the same
# theme, two ratings say, shares up to 0.23 on dev and held-out paragraphs), or in
# embeddings (new stories 0.34-0.53; paragraphs that continue a story about several
# organisations 0.59-0.67).
_SUBJECT_LEXICAL_MAX = 0.25
_SUBJECT_EMBED_MAX = 0.58
# an extra blank line or an <hr> at the gap adds this to the margin
_LAYOUT_BONUS = 1.0
# each side of a headline-less boundary needs this many paragraphs (fewer with a layout cue)
_MIN_SIDE_UNITS = 3
_MIN_CUED_SIDE_UNITS = 2

_MAX_HEADLINE_WORDS = 16
_MAX_HEADLINE_CHARS = 120
_MAX_MASTHEAD_CHARS = 160
_BULLETS = "•·‣◦▪▫–—-*>"
_DATE_LINE = re.compile(
    r"(?i)^[\W\d_]*(?:(?:mon|tue|wed|thu|fri|sat|sun)\w*,?\s+)?(?:\d{1,2}(?:st|nd|rd|th)?\s+)?"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\.?(?:\s+\d{1,2}(?:st|nd|rd|th)?)?"
    r",?\s+\d{4}\b.*$|^\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\b.*$"
)
_BYLINE = re.compile(r"(?i)^(?:by|written by|posted|published|updated|last updated)\b")
_WORD = re.compile(r"[^\W_]+(?:[’'\-][^\W_]+)*")


# --------------------------------------------------------------------------------------------
# Data files
# --------------------------------------------------------------------------------------------


def _data_lines(name: str) -> list[str]:
    text = resources.files("crawler").joinpath(f"data/{name}").read_text("utf-8")
    return [
        line.strip() for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


@lru_cache(maxsize=1)
def _masthead_cues() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(line, re.IGNORECASE) for line in _data_lines("masthead_cues.txt"))


@dataclass(frozen=True)
class _StoryCues:
    """The word lists of ``data/story_cues.toml`` (see its comments)."""

    generic_name_words: frozenset[str]
    generic_content_words: frozenset[str]
    national_bodies: frozenset[str]
    organisation_heads: frozenset[str]
    back_reference_opener: re.Pattern[str]
    anaphoric_words: re.Pattern[str]
    anaphoric_indefinites: frozenset[str]
    definite_reference: re.Pattern[str]
    roundup_headline: re.Pattern[str]
    organisation_kinds: dict[str, frozenset[str]]  # word -> the words of its kind
    generic_references: frozenset[str]


@lru_cache(maxsize=1)
def _story_cues() -> _StoryCues:
    import tomllib

    path = resources.files("crawler").joinpath("data/story_cues.toml")
    try:
        data = tomllib.loads(path.read_text("utf-8"))
        lists = {key: [_fold(str(w)) for w in data[key]] for key in (
            "generic_name_words", "generic_content_words", "national_bodies", "organisation_heads",
            "back_reference_openers", "anaphoric_words", "anaphoric_indefinites",
            "definite_references", "generic_references", "bridging_modifiers",
            "roundup_headlines")}
        opener = re.compile(_any(lists["back_reference_openers"]), re.IGNORECASE)
        anaphoric = re.compile(rf"\b{_any(lists['anaphoric_words'])}\b")
        roundup = re.compile(_any(lists["roundup_headlines"]), re.IGNORECASE)
        # "the trust", "the north London trust's": up to three modifiers, the noun in lower
        # case, no "of ..." after it ("the closure of two day centres" says what it is)
        not_modifiers = ["of", "in", "on", "at", "to", "for", "by", "with", "from", "its",
                         "their", "his", "her", "a", "an", "the", *lists["bridging_modifiers"]]
        definite = re.compile(
            rf"\b[Tt]he\s+(?:(?!{_any(map(re.escape, not_modifiers))}\s)[\w’'-]+\s+){{0,3}}?"
            rf"({'|'.join(map(re.escape, lists['definite_references']))})\b(?!\s+of\b)")
        kinds = {_fold(word): frozenset(_fold(w) for w in group)
                 for group in data["organisation_kinds"] for word in group}
    except (KeyError, TypeError, AttributeError, tomllib.TOMLDecodeError, re.error) as exc:
        raise ValueError(f"{path}: broken story cues file: {exc}") from exc
    return _StoryCues(
        generic_name_words=frozenset(lists["generic_name_words"]),
        generic_content_words=frozenset(lists["generic_content_words"]),
        national_bodies=frozenset(lists["national_bodies"]),
        organisation_heads=frozenset(lists["organisation_heads"]),
        back_reference_opener=opener,
        anaphoric_words=anaphoric,
        anaphoric_indefinites=frozenset(lists["anaphoric_indefinites"]),
        definite_reference=definite,
        roundup_headline=roundup,
        organisation_kinds=kinds,
        generic_references=frozenset(lists["generic_references"]),
    )


def _any(patterns: Iterable[str]) -> str:
    return "(?:" + "|".join(f"(?:{p})" for p in patterns) + ")"


def _fold(text: str) -> str:
    """Lower case with straight apostrophes, for matching names and cue words."""
    return text.lower().replace("’", "'").replace("‘", "'")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


# --------------------------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------------------------


@dataclass
class _Unit:
    start: int  # first non-space character
    end: int  # end of the last non-space character
    text: str
    blank_before: int  # blank lines between this unit and the previous one
    lines: int


def _units(text: str) -> list[_Unit]:
    lines: list[tuple[int, str]] = []
    pos = 0
    for raw in text.splitlines(keepends=True):
        lines.append((pos, raw.rstrip("\r\n")))
        pos += len(raw)
    # a text without blank lines (an extracted body) has one paragraph per line
    has_blank_lines = any(not line.strip() for _, line in lines)

    units: list[_Unit] = []
    block: list[tuple[int, str]] = []
    blanks = block_blanks = 0

    def flush() -> None:
        if not block:
            return
        groups = [block[:]]
        if len(block) > 1 and _title_like(block[0][1]) and not _title_like(block[1][1]):
            groups = [block[:1], block[1:]]  # "Headline\nParagraph" with no blank line
        for i, group in enumerate(groups):
            first_off, first_line = group[0]
            last_off, last_line = group[-1]
            start = first_off + len(first_line) - len(first_line.lstrip())
            end = last_off + len(last_line.rstrip())
            units.append(_Unit(start, end, text[start:end], block_blanks if i == 0 else 0,
                               len(group)))
        block.clear()

    for off, line in lines:
        if not line.strip():
            flush()
            blanks += 1
            continue
        if block and not has_blank_lines:
            flush()
        if not block:
            block_blanks, blanks = blanks, 0
        block.append((off, line))
    flush()
    return units


# --------------------------------------------------------------------------------------------
# Line classes
# --------------------------------------------------------------------------------------------


def _title_like(line: str) -> bool:
    """A short line that reads like a headline."""
    s = line.strip()
    if not s or len(s) > _MAX_HEADLINE_CHARS:
        return False
    words = s.split()
    if len(words) > _MAX_HEADLINE_WORDS:
        return False
    if s[0] in _BULLETS or re.match(r"\d{1,2}[.)]\s", s):
        return False
    if not (s[0].isupper() or s[0].isdigit() or s[0] in "“\"‘'£$€"):
        return False
    if s[-1] in ".,;:" and not s.endswith("..."):
        return False
    if _BYLINE.match(s) or _DATE_LINE.match(s):
        return False
    return True


def _is_paragraph(unit: _Unit) -> bool:
    s = unit.text.strip()
    return len(s.split()) >= 12 or (s[-1:] in ".!?”\"’)" and len(s.split()) >= 4)


def _masthead_score(line: str) -> int:
    return sum(1 for cue in _masthead_cues() if cue.search(line))


# --------------------------------------------------------------------------------------------
# HTML cues
# --------------------------------------------------------------------------------------------


class _HtmlCues(HTMLParser):
    """Collect headline texts (h1-h4, wholly bold paragraphs) and the text that follows each
    thematic break (hr) of a page."""

    _HEADINGS = {"h1", "h2", "h3", "h4"}
    _BLOCKS = {"p", "div", "li", "td", "section", "article", "blockquote"} | _HEADINGS

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.headlines: set[str] = set()
        self.after_break: set[str] = set()
        self.after_spacer: set[str] = set()
        self._want_spacer_text = False
        self._stack: list[tuple[str, list[str], list[str]]] = []  # tag, all text, bold text
        self._bold = 0
        self._want_break_text = False
        self._skip = 0

    def handle_starttag(self, tag: str, attrs) -> None:  # noqa: ANN001
        if tag in ("script", "style", "noscript"):
            self._skip += 1
        elif tag == "hr" or tag == "section":
            self._want_break_text = True
        elif tag in ("strong", "b"):
            self._bold += 1
        if tag in self._BLOCKS:
            self._stack.append((tag, [], []))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "noscript"):
            self._skip = max(0, self._skip - 1)
        elif tag in ("strong", "b"):
            self._bold = max(0, self._bold - 1)
        if tag in self._BLOCKS and self._stack:
            while self._stack:
                open_tag, parts, bold = self._stack.pop()
                if open_tag == tag:
                    break
            whole = _norm_space("".join(parts))
            if whole:
                if tag in self._HEADINGS or (tag == "p" and _norm_space("".join(bold)) == whole):
                    self.headlines.add(whole)
                if self._want_break_text:
                    self.after_break.add(whole)
                    self._want_break_text = False
                elif self._want_spacer_text:
                    self.after_spacer.add(whole)
                self._want_spacer_text = False
            elif tag == "p":
                # an empty paragraph (&nbsp;) used as vertical space between two blocks
                self._want_spacer_text = True
            if self._stack:
                self._stack[-1][1].extend(parts)
                self._stack[-1][2].extend(bold)

    def handle_data(self, data: str) -> None:
        if self._skip or not self._stack:
            return
        self._stack[-1][1].append(data)
        if self._bold:
            self._stack[-1][2].append(data)


def _norm_space(text: str) -> str:
    return " ".join(text.split())


def _html_cues(html: str | bytes | None) -> tuple[set[str], set[str], set[str]]:
    """Headline texts, texts that open a block after a thematic break, and texts that
    follow an empty spacer paragraph."""
    if not html:
        return set(), set(), set()
    if isinstance(html, bytes):
        from crawler.article import decode_html

        html = decode_html(html)[0]
    parser = _HtmlCues()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - broken markup gives no cues, not an error
        return set(), set(), set()
    return parser.headlines, parser.after_break, parser.after_spacer


# --------------------------------------------------------------------------------------------
# Topic similarity
# --------------------------------------------------------------------------------------------


def _terms(text: str) -> Counter[str]:
    stop = _stopwords()
    out: Counter[str] = Counter()
    for word in _WORD.findall(text):
        low = word.lower().replace("’", "'")
        if low in stop or len(low) < 3 or low.isdigit():
            continue
        if low.endswith("'s"):
            low = low[:-2]
        elif len(low) > 4 and low.endswith("s") and not low.endswith("ss"):
            low = low[:-1]
        out[low] += 1
    return out


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(math.sqrt(v) * math.sqrt(b[k]) for k, v in a.items() if k in b)
    na = math.sqrt(sum(a.values()))
    nb = math.sqrt(sum(b.values()))
    return dot / (na * nb)


class _Similarity:
    """Lexical and (optional) embedding similarity between runs of units."""

    def __init__(self, units: Sequence[_Unit], embed: Embedder | None) -> None:
        self.terms = [_terms(u.text) for u in units]
        cues = _story_cues()
        generic = cues.generic_name_words | cues.generic_content_words
        self.content_terms = [Counter({t: n for t, n in terms.items() if t not in generic})
                              for terms in self.terms]
        self.vectors: np.ndarray | None = None
        if embed is not None and units:
            vectors = np.asarray(embed([u.text for u in units]), dtype=np.float32)
            if vectors.ndim != 2 or vectors.shape[0] != len(units):
                raise ValueError(
                    f"embed returned an array of shape {vectors.shape} for {len(units)} texts"
                )
            self.vectors = vectors

    def lexical(self, left: range, right: range, *, content_only: bool = False) -> float:
        """Cosine of the term counts; ``content_only`` leaves out generic organisation
        words ("trust", "nhs", "board"), which stories about different bodies share."""
        terms = self.content_terms if content_only else self.terms
        a: Counter[str] = Counter()
        b: Counter[str] = Counter()
        for i in left:
            a.update(terms[i])
        for i in right:
            b.update(terms[i])
        return _cosine(a, b)

    def semantic(self, left: range, right: range) -> float | None:
        if self.vectors is None:
            return None
        a = self.vectors[list(left)].mean(axis=0)
        b = self.vectors[list(right)].mean(axis=0)
        denom = float(np.linalg.norm(a) * np.linalg.norm(b))
        return float(a @ b) / denom if denom else 0.0

    def margin(self, left: range, right: range, lexical_max: float, embed_max: float) -> float:
        """How clearly two runs of units read as different topics (> 0: different)."""
        margin = (lexical_max - self.lexical(left, right)) / _LEXICAL_SCALE
        semantic = self.semantic(left, right)
        if semantic is not None:
            margin += (embed_max - semantic) / _EMBED_SCALE
        return margin


# --------------------------------------------------------------------------------------------
# New subject: a paragraph that names a new organisation opens a story of its own
# --------------------------------------------------------------------------------------------

_NAME_TOKEN = re.compile(r"[^\W_]+(?:[’'&\-.][^\W_]+)*")
# words that may join the capitalised words of one name: "Cheshire and Merseyside ICB"
_NAME_JOINERS = frozenset({"and", "of", "&", "for", "upon"})
_SENTENCE_END = re.compile(r"[.!?][”\"’')]*\s+(?=[“\"‘'(]?[A-Z0-9£$€])")
_NUMBER_WORDS = ("One|Two|Three|Four|Five|Six|Seven|Eight|Nine|Ten|Eleven|Twelve|"
                 "Dozens|Hundreds|Thousands")
# "A consultancy that ...", "Two trusts in ...": an indefinite subject
_INDEFINITE_OPENING = re.compile(rf"^(?:An?|{_NUMBER_WORDS}|\d[\d,.]*)\s+([a-z][\w’'-]*|[A-Z]+\b)")
# "The chief executive of X Trust ...": a definite description anchored by a name
_ANCHORED_OPENING = re.compile(
    r"^The\s+(?:(?!(?:is|are|was|were|has|have|had|will|would)\s)[a-z][\w’'-]*\s+){1,4}"
    r"(?:of|at|in|for|from)\s+[A-Z]")
# "On Thursday, ...", "Earlier this month, ...": a time before the subject
_TIME_LEAD = re.compile(
    r"^(?:(?:On|In|By|Since|From|Until|Last|Earlier|Later|Early|Late|This|Next)\s+)?"
    r"(?:[\w’'-]+\s+){0,3}?"
    r"(?i:(?:mon|tues|wednes|thurs|fri|satur|sun)day|january|february|march|april|may|june"
    r"|july|august|september|october|november|december|yesterday|today|tonight|week|weekend"
    r"|month|year|morning|afternoon|evening|\d{4}|\d{1,2})(?:[’']s)?,\s+(?=[A-Z])")
# "X Ltd, the developer buying the site, ...", "Y Trust, its partner, ...": an apposition that
# says what the subject is to the story so far (but "Z Trust, the largest in ..." does not)
_BACK_REFERENCE_APPOSITION = re.compile(
    r"^[^,.;:]{3,150},\s+(?:its|their|his|her|the(?!\s+(?:\w+est|first|only|last)\b))\s")
# "Jane Doe, chief executive of X Trust, ...": a person introduced by a role somewhere
_PERSON_WITH_ROLE_OPENING = re.compile(
    r"^(?:[A-Z][\w’'-]+\s+){1,3}[A-Z][\w’'-]+,\s+(?:the\s+|a\s+)?(?:[a-z][\w-]*\s+){1,4}"
    r"(?:of|at)\s+(?:the\s+)?[A-Z]")
# "Inspectors have rated X Trust ...": a common-noun subject before a lower-case word
_COMMON_NOUN_OPENING = re.compile(r"^[A-Z][a-z]+(?:[’']s)?\s+[a-z]")


@dataclass(frozen=True)
class _Name:
    """A run of capitalised words in a text: a name, as far as capitals tell."""

    start: int
    end: int
    words: tuple[str, ...]  # capitalised words and joiners, as written

    @property
    def head(self) -> str:
        return _fold(_drop_possessive(self.words[-1]))

    @property
    def is_organisation(self) -> bool:
        last = _drop_possessive(self.words[-1])
        return self.head in _story_cues().organisation_heads or (
            len(self.words) == 1 and len(last) >= 2 and last.isupper())

    @property
    def is_national(self) -> bool:
        bodies = _story_cues().national_bodies
        for folded in (_fold(" ".join(self.words)),
                       _fold(" ".join(_drop_possessive(w) for w in self.words))):
            if folded in bodies or folded.removeprefix("the ") in bodies:
                return True
        return False

    @property
    def initials(self) -> str:
        """"NHS Trust Development Authority" -> "NTDA"."""
        return "".join(w[0] for w in self.words if w[:1].isupper())

    def keys(self) -> frozenset[str]:
        """What tells this name apart: its words that are not generic organisation words
        ("sheffield"), or for a name made only of such words its whole text
        ("northern care alliance"); nothing for a national body."""
        if self.is_national:
            return frozenset()
        cues = _story_cues()
        stop = _stopwords()
        parts = [p for w in self.words for p in _drop_possessive(w).split("-")
                 if p[:1].isupper()]
        distinctive = {
            _fold(p) for p in parts
            if _fold(p) not in cues.generic_name_words and _fold(p) not in stop
            and _fold(p) not in cues.national_bodies
        }
        if distinctive:
            return frozenset(distinctive)
        if len(parts) >= 2:
            return frozenset({_fold(" ".join(_drop_possessive(w) for w in self.words))})
        return frozenset()


def _names(text: str) -> list[_Name]:
    """The names of ``text``. A capitalised word opening a sentence on its own ("Inspectors
    have ...") is no name, and a leading "The" or "In" is not part of one."""
    sentence_starts = [0, *(m.end() for m in _SENTENCE_END.finditer(text))]
    names: list[_Name] = []
    run: list[re.Match[str]] = []

    def flush() -> None:
        while run and not run[-1].group()[:1].isupper():
            run.pop()  # a name ends with a capitalised word
        if run and initial(run[0]):
            while run and _fold(run[0].group()) in _stopwords():
                run.pop(0)
            if len(run) == 1 and not _drop_possessive(run[0].group()).isupper():
                run.clear()  # an ordinary word that opens a sentence
        if run:
            names.append(_Name(run[0].start(), run[-1].end(), tuple(m.group() for m in run)))
        run.clear()

    def initial(match: re.Match[str]) -> bool:
        return any(s <= match.start() and not text[s:match.start()].strip(" “\"‘'(")
                   for s in sentence_starts)

    for m in _NAME_TOKEN.finditer(text):
        word = m.group()
        gap = text[run[-1].end():m.start()].strip() if run else "?"
        joined = not gap
        if joined and run[-1].group().endswith(("’s", "'s")) and not (
                word[:1].isupper() or word in _NAME_JOINERS):
            joined = False  # "Northamptonshire’s two trusts" (but "King’s Fund")
        elif (gap == "," and word[:1].isupper() and run[-1].group()[:1].isupper()
              and _fold(_drop_possessive(run[-1].group())) not in _story_cues().organisation_heads
              and not (len(run) == 1 and initial(run[0]))):
            joined = True  # "NHS Bristol, North Somerset and South Gloucestershire ICB"
        if word[:1].isupper() or (joined and word in _NAME_JOINERS):
            if not joined:
                flush()
            run.append(m)
        else:
            flush()
    flush()
    return names


def _drop_possessive(word: str) -> str:
    return word[:-2] if word.endswith(("’s", "'s")) else word


def _first_sentence(text: str) -> str:
    m = _SENTENCE_END.search(text)
    return text[: m.start() + 1] if m else text


def _singular(noun: str) -> str:
    if noun.endswith("ies") and len(noun) > 4:
        return noun[:-3] + "y"
    return noun[:-1] if noun.endswith("s") and not noun.endswith("ss") else noun


def _plural(noun: str) -> str:
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun if noun.endswith("s") else noun + "s"


def _opens_new_subject(paragraph: str, story: str) -> bool:
    """Whether ``paragraph``, inside a newsletter story whose text so far (from its
    headline) is ``story``, turns to a new subject.

    It must open with a subject of its own (see :func:`_new_subject_opening`), not with a
    back-reference or a connective ("The trust", "It", "But", "Separately", "X, its
    partner, ..."), and its first sentence must neither tie it to the story ("also",
    "the same") nor refer to an organisation or event it has not introduced ("the trust",
    "the plans"). It must name something (national bodies and generic words such as "NHS
    Foundation Trust" aside) that the story has not named, also as an acronym; not be one of
    several organisations the story's headline announces ("Three trusts ..."); and not be
    the name of an organisation the story has so far only described ("A GP practice ...").
    """
    cues = _story_cues()
    para = paragraph.strip()
    lead = _TIME_LEAD.match(para)
    if lead:
        para = para[lead.end():]
    first = _first_sentence(para)
    folded_first = _fold(first)
    if (
        cues.back_reference_opener.match(para)
        or cues.anaphoric_words.search(folded_first)
        or para.split("\n", 1)[0].rstrip().endswith(":")  # a list's lead-in
        or _BACK_REFERENCE_APPOSITION.match(first)
    ):
        return False
    first_names = _names(first)
    if not any(name.keys() for name in first_names) or not _new_subject_opening(
            first, first_names):
        return False
    for m in cues.definite_reference.finditer(first):
        # "the trust" refers back unless the sentence introduced a trust before it ("the
        # two organisations": any organisation)
        noun = _fold(m.group(1))
        before = {_fold(w) for w in _NAME_TOKEN.findall(first[:m.start()])}
        kind = cues.organisation_kinds.get(noun, frozenset({noun, _singular(noun)}))
        if noun in cues.generic_references:
            kind = frozenset(n.head for n in first_names if n.is_organisation and
                             n.end <= m.start())
        if not (kind & before):
            return False

    story_names = _names(story)
    if not any(n.is_organisation and n.keys() for n in story_names):
        # the story has described its organisation without naming it ("A GP practice in
        # Walsall"): a new name of that kind may be its name
        described = {_fold(w) for w in _NAME_TOKEN.findall(story)}
        for name in first_names:
            if name.is_organisation and described & cues.organisation_kinds.get(
                    name.head, frozenset({name.head})):
                return False
    story_words = {_fold(_drop_possessive(p)) for w in _NAME_TOKEN.findall(story)
                   for p in (w, *w.split("-"))}
    story_folded = _fold(story)
    story_initials = {n.initials for n in story_names if len(n.words) >= 2}
    story_acronyms = {_drop_possessive(w) for w in _NAME_TOKEN.findall(story)
                      if len(w) >= 2 and _drop_possessive(w).isupper()}
    opening = _first_sentence(story.strip().split("\n", 1)[0])  # headline or first sentence
    opening_words = {_fold(w) for w in _NAME_TOKEN.findall(opening)}
    for name in _names(para):
        for key in name.keys():
            if (key in story_folded) if " " in key else (key in story_words):
                return False
        acronym = _drop_possessive(name.words[-1]) if len(name.words) == 1 else ""
        if acronym.isupper() and any(acronym in initials for initials in story_initials):
            return False  # "TDA" for the "NHS Trust Development Authority" named before
        if len(name.words) >= 2 and name.initials in story_acronyms:
            return False
        if name.is_organisation and _plural(name.head) in opening_words:
            return False  # "Three trusts ...": this may be one of them
    return True


def _new_subject_opening(first: str, names: list[_Name]) -> bool:
    """Whether the first sentence ``first`` opens with a subject of its own: an
    organisation's name, an indefinite or counted subject, a description anchored by a name,
    or a person's role or a common noun in a sentence that names an organisation."""
    lead = names[0] if names else None
    lead_offset = 4 if first.startswith("The ") else 0
    if lead is not None and lead.start == lead_offset:
        if lead.is_organisation:
            return True  # "X NHS Foundation Trust has ...", "The Y Association says ..."
        after = _NAME_TOKEN.match(first, len(first) - len(first[lead.end:].lstrip()))
        if after and _fold(after.group()) in _story_cues().organisation_heads:
            return True  # "Castlebridge and Northfield trusts have ..."
    m = _INDEFINITE_OPENING.match(first)
    if m:
        return _fold(m.group(1)) not in _story_cues().anaphoric_indefinites
    if _ANCHORED_OPENING.match(first):
        return True
    if _PERSON_WITH_ROLE_OPENING.match(first) or (
            _COMMON_NOUN_OPENING.match(first) and _fold(first.split()[0]) not in _stopwords()):
        # "Inspectors have rated X Trust ...", "Jane Doe, chief executive of X Trust, ...":
        # the sentence names an organisation
        return any(name.is_organisation and name.keys() for name in names)
    return False


# --------------------------------------------------------------------------------------------
# Segmentation
# --------------------------------------------------------------------------------------------


def _headline_units(units: list[_Unit], html_headlines: set[str]) -> list[int]:
    heads = []
    for i, unit in enumerate(units):
        if unit.lines != 1 or i + 1 >= len(units):
            continue
        line = _norm_space(unit.text)
        if line in html_headlines and len(line) <= _MAX_HEADLINE_CHARS:
            heads.append(i)
        elif _title_like(unit.text):
            nxt = i + 1
            while nxt < len(units) - 1 and _is_dateline(units[nxt].text):
                nxt += 1  # a byline or date between a headline and its story
            if _is_paragraph(units[nxt]) and not _title_like(units[nxt].text):
                heads.append(i)
    return heads


def _is_dateline(line: str) -> bool:
    s = line.strip()
    return "\n" not in s and len(s) <= _MAX_MASTHEAD_CHARS and bool(
        _BYLINE.match(s) or _DATE_LINE.match(s))


def _masthead_length(units: list[_Unit], heads: list[int]) -> int:
    """How many leading units are masthead or strapline lines."""
    lead = 0
    while (
        lead < len(units)
        and units[lead].lines == 1
        and len(units[lead].text) <= _MAX_MASTHEAD_CHARS
        and not _is_story_start(units, lead, heads)
    ):
        lead += 1
    if lead and lead < len(units) and lead in heads:
        return lead  # short lines above the first headline
    first = units[0].text.strip() if units else ""
    if (
        units
        and units[0].lines == 1
        and len(first) <= _MAX_MASTHEAD_CHARS
        and len(units) > 1
    ):
        score = _masthead_score(first)
        if score >= 2 or (score >= 1 and first.endswith(".")):
            return 1
    return 0


def _is_story_start(units: list[_Unit], i: int, heads: list[int]) -> bool:
    return i in heads or _is_paragraph(units[i])


def split_stories(
    text: str,
    *,
    html: str | bytes | None = None,
    embed: Embedder | None = None,
) -> list[Story]:
    """Split ``text`` into its stories, in text order (never empty for a text with words).

    ``html`` is the page the text was extracted from, for layout cues (headings, bold
    lines, thematic breaks); bytes are decoded like :func:`crawler.article.extract_article`
    does. ``embed`` maps a list of texts to L2-normalised vectors and
    sharpens the topic-change test. Offsets are Python ``str`` indices into ``text``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    units = _units(text)
    if not units:
        return [Story(0, len(text), None)] if text else []

    html_heads, html_breaks, html_spacers = _html_cues(html)
    heads = _headline_units(units, html_heads)
    lead = _masthead_length(units, heads)
    heads = [h for h in heads if h >= lead]
    if lead >= len(units):
        lead = 0
    sim = _Similarity(units, embed)

    # story starts as unit indices; the first story starts after the masthead
    starts = [lead]
    later_heads = [h for h in heads if h > lead]
    # units that open a block after a thematic break (<hr>, <section>) of the page
    breaks = [i for i in range(lead + 1, len(units)) if _norm_space(units[i].text) in html_breaks]
    # a masthead, or stories set apart by several thematic breaks: a newsletter layout
    newsletter = lead > 0 or len(breaks) >= 2
    if newsletter:
        starts += later_heads
    else:
        # no masthead: a headed section starts a new story only when it is about
        # something else than the text before it
        bounds = [lead, *later_heads, len(units)]
        for k, h in enumerate(later_heads):
            left = range(starts[-1], h)
            right = range(h, bounds[k + 2])
            if sim.margin(left, right, _HEADED_LEXICAL_MAX, _HEADED_EMBED_MAX) > 0:
                starts.append(h)
        newsletter = len(starts) > 1

    if newsletter:
        # a paragraph straight after a break, or after extra vertical space where the text
        # otherwise keeps to single blank lines, starts a story without a headline
        gaps = [u.blank_before for u in units[lead + 1:]]
        extra_space_is_rare = 2 * sum(b >= 2 for b in gaps) < len(gaps)
        for i in range(lead + 1, len(units)):
            if i in heads or i in starts or not _is_paragraph(units[i]):
                continue
            spaced = (units[i].blank_before >= 2 and extra_space_is_rare) or (
                _norm_space(units[i].text) in html_spacers)
            if i in breaks or spaced:
                before = max(k for k in starts if k < i)
                if i - before - (before in heads) >= 1:
                    starts = sorted({*starts, i})
        starts = _split_new_subjects(text, units, starts, set(heads), sim)
        starts = _split_headless(units, starts, set(heads), sim, html_spacers)

    stories = []
    for k, i in enumerate(starts):
        start = units[i].start
        end = units[starts[k + 1]].start if k + 1 < len(starts) else len(text)
        headline = units[i].text if i in heads else None
        stories.append(Story(start, end, headline))
    return stories


def _split_new_subjects(text: str, units: list[_Unit], starts: list[int], heads: set[int],
                        sim: _Similarity) -> list[int]:
    """Add story starts without a headline at paragraphs that turn to a new subject: each
    paragraph after a story's first is tested against the story so far (from its headline)."""
    starts = sorted(starts)
    out = list(starts)
    for k, a in enumerate(starts):
        b = starts[k + 1] if k + 1 < len(starts) else len(units)
        if a in heads and _story_cues().roundup_headline.fullmatch(units[a].text.strip()):
            continue  # "In brief": one headed item, whatever its paragraphs are about
        story = a
        first_para = a + 1 if a in heads else a
        for g in range(first_para + 1, b):
            if g in heads or not _is_paragraph(units[g]):
                continue
            if not _opens_new_subject(units[g].text, text[units[story].start:units[g].start]):
                continue
            left = range(story + 1 if story in heads else story, g)
            right = range(g, g + 1)
            semantic = sim.semantic(left, right)
            if sim.lexical(left, right, content_only=True) < _SUBJECT_LEXICAL_MAX and (
                    semantic is None or semantic < _SUBJECT_EMBED_MAX):
                out.append(g)
                story = g
    return sorted(out)


def _split_headless(units: list[_Unit], starts: list[int], heads: set[int], sim: _Similarity,
                    html_spacers: set[str]) -> list[int]:
    """Add story starts without a headline where the topic changes inside a story."""
    starts = sorted(starts)
    changed = True
    while changed:
        changed = False
        for k, a in enumerate(starts):
            b = starts[k + 1] if k + 1 < len(starts) else len(units)
            first_para = a + 1 if a in heads else a
            best: tuple[float, int] | None = None
            for g in range(first_para + _MIN_CUED_SIDE_UNITS, b - _MIN_CUED_SIDE_UNITS + 1):
                if g in heads or not _is_paragraph(units[g]):
                    continue
                # extra vertical space before the paragraph: an extra blank line in the
                # text, an empty spacer paragraph in the page
                cued = units[g].blank_before >= 2 or _norm_space(units[g].text) in html_spacers
                if not cued and min(g - first_para, b - g) < _MIN_SIDE_UNITS:
                    continue
                margin = sim.margin(range(first_para, g), range(g, b),
                                    _GAP_LEXICAL_MAX, _GAP_EMBED_MAX)
                if cued:
                    margin += _LAYOUT_BONUS
                if margin > 0 and (best is None or margin > best[0]):
                    best = (margin, g)
            if best is not None:
                starts.insert(k + 1, best[1])
                changed = True
                break
    return starts
