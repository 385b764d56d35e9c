"""Shared pieces of organisation recognition: the name key, mention and organisation records.

``org_key`` compares names case-, punctuation- and "the"-blind, as the guidelines do; a
``Mention`` is one stretch of text that names a body (with the name it stands for, built for
split conjuncts), and an ``OrgRecord`` gathers the mentions of one body in a document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DASHES = {"–", "—", "-", ":", "−"}
NON_NAME_POS = {"ADV", "SCONJ", "CCONJ", "INTJ", "ADP", "DET", "PRON", "VERB", "AUX", "PART"}
ACRONYM_TEXT_RE = re.compile(r"(?<![\w&])[A-Z][A-Za-z&]*[A-Z][A-Za-z&]*(?![\w&])")
ACRONYM_RE = re.compile(r"^(?=(?:.*[A-Z]){2})[A-Z][A-Za-z&]{1,7}$")


def org_key(name: str) -> str:
    """Comparison key of an organisation name: case, punctuation and "the" blind.

    "Clinical Commissioning Group(s)" folds to "ccg" and "Integrated Care Board" to "icb",
    as the guidelines treat them as the same name.
    """
    s = name.replace("’", "'").replace("&", " and ").casefold().strip()
    s = re.sub(r"^the\s+", "", s)
    s = re.sub(r"(?:'s|')$", "", s)
    s = re.sub(r"['.]", "", s)
    s = re.sub(r"[^\w\s]", " ", s)
    s = " ".join(s.split())
    s = re.sub(r"\bclinical commissioning groups?\b", "ccg", s)
    s = re.sub(r"\bintegrated care boards?\b", "icb", s)
    s = re.sub(r"\b(ccg|icb|ics)s\b", r"\1", s)
    # "NHS Fenmoor ICB" is "Fenmoor ICB": local bodies' names may carry the NHS prefix
    s = re.sub(r"^nhs (?=.*\b(?:ccg|icb|ics|trust|ft|integrated care system)$)", "", s)
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
