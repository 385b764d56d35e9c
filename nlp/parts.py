"""Long texts in parts: split a text on paragraph boundaries and merge the parts' facts.

spaCy refuses a text longer than ``nlp.max_length`` (error E088) and its parser needs memory
in proportion to the text, so the extraction API runs a long text as a sequence of parts of
at most :data:`PART_CHARS` characters and merges their facts, with character offsets shifted
back onto the whole text. Parts end at a paragraph break where there is one (else a line
break, a sentence end, a space; a hard cut only for a text without any of them), so a fact is
split between two parts only in a paragraph longer than a part.
"""

from __future__ import annotations

from typing import Any

# A news story is a few thousand characters; 100,000 is well above any real one and keeps
# the parser's memory per document bounded.
PART_CHARS = 100_000

_BREAKS = ("\n\n", "\n", ". ", " ")


def split_text(text: str, limit: int = PART_CHARS) -> list[tuple[int, str]]:
    """``(offset, part)`` pairs that cover ``text`` in order, each part at most ``limit`` long."""
    if limit < 1:
        raise ValueError(f"part limit must be positive, got {limit}")
    parts: list[tuple[int, str]] = []
    start = 0
    while len(text) - start > limit:
        end = start + limit
        cut = end
        for brk in _BREAKS:
            # only a break in the second half of the window, so parts do not get tiny
            at = text.rfind(brk, start + limit // 2, end - len(brk) + 1)
            if at >= 0:
                cut = at + len(brk)
                break
        parts.append((start, text[start:cut]))
        start = cut
    parts.append((start, text[start:]))
    return parts


def _shifted(item: dict[str, Any], offset: int) -> dict[str, Any]:
    moved = dict(item)
    for key in ("start", "end"):
        if isinstance(moved.get(key), int):
            moved[key] += offset
    return moved


def merge_facts(parts: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    """One text's facts from its parts' ``(offset, facts)``: organisations merged by name
    (mentions in text order, aliases united), amounts and ratings concatenated, offsets shifted."""
    if len(parts) == 1 and parts[0][0] == 0:
        return parts[0][1]
    organisations: dict[str, dict[str, Any]] = {}
    amounts: list[dict[str, Any]] = []
    ratings: list[dict[str, Any]] = []
    for offset, facts in parts:
        for org in facts["organisations"]:
            mentions = [_shifted(m, offset) for m in org.get("mentions", [])]
            merged = organisations.get(org["name"])
            if merged is None:
                organisations[org["name"]] = {**org, "aliases": list(org.get("aliases", [])),
                                              "mentions": mentions}
                continue
            merged["aliases"].extend(a for a in org.get("aliases", [])
                                     if a not in merged["aliases"])
            merged["mentions"].extend(mentions)
        amounts.extend(_shifted(a, offset) for a in facts["amounts"])
        ratings.extend(_shifted(r, offset) for r in facts["ratings"])
    return {"organisations": list(organisations.values()), "amounts": amounts,
            "ratings": ratings}
