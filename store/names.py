"""Normalised forms of organisation names, the keys that identity and storage compare.

``org_key`` is the form a stored name is merged by (case, punctuation, "the", possessives,
the long forms of CCG and ICB); ``loose_key`` goes further for the register's
"normalised" link: it also drops "NHS" and reads "Foundation Trust" as "Trust".
"""

from __future__ import annotations

import re
import unicodedata

_PUNCT_RE = re.compile(r"[^\w\s]")


def org_key(name: str) -> str:
    """Normalised organisation name used to merge the same body across stories.

    Case-, punctuation- and hyphen-blind, without a leading "the" or a trailing possessive,
    with "Clinical Commissioning Group(s)" / "Integrated Care Board(s)" folded to CCG / ICB.
    """
    s = unicodedata.normalize("NFKC", name).casefold().replace("\u2019", "'")
    s = s.replace("&", " and ")
    s = re.sub(r"^\s*the\s+", "", s)
    s = re.sub(r"(?:'s|')\s*$", "", s.strip())
    s = s.replace("'", "").replace(".", "")
    s = _PUNCT_RE.sub(" ", s)
    s = " ".join(s.split())
    s = re.sub(r"\bclinical commissioning groups?\b", "ccg", s)
    s = re.sub(r"\bintegrated care boards?\b", "icb", s)
    return re.sub(r"\bccgs\b", "ccg", s)


def loose_key(name: str) -> str:
    """:func:`org_key` without the word "NHS" (kept when it would leave one word: "NHS
    Fife" stays itself) and with "Foundation Trust" read as "Trust", so "Leeds CCG",
    "NHS Leeds CCG" and "NHS Leeds Clinical Commissioning Group" share one form, as do
    "Anytown Hospitals Foundation Trust" and "Anytown Hospitals NHS Foundation Trust"."""
    words = org_key(name).split()
    without_nhs = [w for w in words if w != "nhs"]
    if len(without_nhs) >= 2:
        words = without_nhs
    return re.sub(r"\bfoundation trust\b", "trust", " ".join(words))


def slug(key: str) -> str:
    """A normalised name as an id: its words joined by hyphens."""
    return "-".join(key.split())
