"""Shared pieces of organisation recognition: the name key, mention and organisation records.

``org_key`` compares names case-, punctuation- and "the"-blind, as the guidelines do; a
``Mention`` is one stretch of text that names a body (with the name it stands for, built for
split conjuncts), and an ``OrgRecord`` gathers the mentions of one body in a document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

DASHES = {"–", "—", "-", ":", "−"}
NON_NAME_POS = {"ADV", "SCONJ", "CCONJ", "INTJ", "ADP", "DET", "PRON", "VERB", "AUX", "PART"}
ACRONYM_TEXT_RE = re.compile(r"(?<![\w&])[A-Z][A-Za-z&]*[A-Z][A-Za-z&]*(?![\w&])")
ACRONYM_RE = re.compile(r"^(?=(?:.*[A-Z]){2})[A-Z][A-Za-z&]{1,7}$")


_LEADING_THE_RE = re.compile(r"^the\s+")
_TRAILING_POSSESSIVE_RE = re.compile(r"(?:'s|')$")
_APOSTROPHE_DOT_RE = re.compile(r"['.]")
_PUNCTUATION_RE = re.compile(r"[^\w\s]")
_CCG_RE = re.compile(r"\bclinical commissioning groups?\b")
_ICB_RE = re.compile(r"\bintegrated care boards?\b")
_PLURAL_KIND_RE = re.compile(r"\b(ccg|icb|ics)s\b")
_LOCAL_NHS_PREFIX_RE = re.compile(r"^nhs (?=.*\b(?:ccg|icb|ics|trust|ft|integrated care system)$)")


@lru_cache(maxsize=8192)
def org_key(name: str) -> str:
    """Comparison key of an organisation name: case, punctuation and "the" blind.

    "Clinical Commissioning Group(s)" folds to "ccg" and "Integrated Care Board" to "icb",
    as the guidelines treat them as the same name. Cached: a document asks for the keys of
    the same few names many times.
    """
    s = name.replace("’", "'").replace("&", " and ").casefold().strip()
    s = _LEADING_THE_RE.sub("", s)
    s = _TRAILING_POSSESSIVE_RE.sub("", s)
    s = _APOSTROPHE_DOT_RE.sub("", s)
    s = _PUNCTUATION_RE.sub(" ", s)
    s = " ".join(s.split())
    s = _CCG_RE.sub("ccg", s)
    s = _ICB_RE.sub("icb", s)
    s = _PLURAL_KIND_RE.sub(r"\1", s)
    # "NHS Fenmoor ICB" is "Fenmoor ICB": local bodies' names may carry the NHS prefix
    s = _LOCAL_NHS_PREFIX_RE.sub("", s)
    return s


@dataclass
class Mention:
    start: int  # token offsets
    end: int
    name: str  # the name this mention stands for (built for split fragments)
    type: str
    source: str  # gazetteer | head | list | ner | nhs | alias
    fragment: bool = False  # a conjunct sharing a head: not an alias form
    bare: str | None = None  # a bare short form standing alone ("Darwen")
    gaz_name: str | None = None
    key: str | None = None  # groups mentions whose built names differ ("Hywel Dda" boards)


@dataclass
class OrgRecord:
    name: str
    type: str
    gaz_name: str | None = None
    forms: list[str] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
