"""The new-subject test of the story splitter: whether a paragraph inside a newsletter story
turns to an organisation the story has not named (and so opens a story of its own)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.story_cues import _fold, _stopwords, _story_cues

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


