"""The word lists the story splitter reads: ``data/story_cues.toml`` (new-subject test),
``data/masthead_cues.txt`` (masthead and strapline words) and ``data/chrome_cues.txt`` (lines
of page chrome that belong to no story: sponsor blocks, "view in browser", unsubscribe).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


def _data_lines(name: str) -> list[str]:
    text = resources.files("crawler").joinpath(f"data/{name}").read_text("utf-8")
    return [
        line.strip() for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


@lru_cache(maxsize=1)
def _masthead_cues() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(line, re.IGNORECASE) for line in _data_lines("masthead_cues.txt"))


@lru_cache(maxsize=1)
def _chrome_cues() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(line, re.IGNORECASE) for line in _data_lines("chrome_cues.txt"))


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

