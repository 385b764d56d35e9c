"""Text units of a page and the classes of their lines (headline-like, paragraph, byline,
date) for the story splitter."""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.story_cues import _chrome_cues, _masthead_cues

_MAX_HEADLINE_WORDS = 16
_MAX_HEADLINE_CHARS = 120
_MAX_MASTHEAD_CHARS = 160
_BULLETS = "•·‣◦▪▫–—-*>"
_DATE_LINE = re.compile(
    r"(?i)^[\W\d_]*(?:(?:mon|tue|wed|thu|fri|sat|sun)\w*,?\s+)?(?:\d{1,2}(?:st|nd|rd|th)?\s+)?"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\.?(?:\s+\d{1,2}(?:st|nd|rd|th)?)?"
    r",?\s+\d{4}\b.*$|^\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\b.*$"
)
_BYLINE = re.compile(
    r"(?i)^(?:by|written by|edited by|compiled by|posted|published|updated|last updated)\b")
# "- Headline words: the entry's first sentence ...": a digest entry with a lead-in
_BULLET_MARK = re.compile(r"^[•·‣◦▪▫–—\-*]\s+")
_LEAD_IN = re.compile(r"^(?P<lead>[^:.!?]{6,120}?):\s+(?P<rest>\S.*)$", re.DOTALL)
_MIN_ITEM_WORDS = 8
_WORD = re.compile(r"[^\W_]+(?:[’'\-][^\W_]+)*")

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
        if len(block) > 1 and all(_BULLET_MARK.match(line.strip()) for _, line in block):
            groups = [[line] for line in block]  # a bulleted list: one unit per entry
        elif len(block) > 1 and _title_like(block[0][1]) and not _title_like(block[1][1]):
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


def _is_chrome(line: str) -> bool:
    """A line of page chrome that belongs to no story: a sponsor label, "view in browser",
    an unsubscribe or preferences line, an editor's credit (``data/chrome_cues.txt``)."""
    s = " ".join(line.split())
    return len(s) <= _MAX_MASTHEAD_CHARS and any(cue.search(s) for cue in _chrome_cues())


def _is_lead_in_item(line: str) -> bool:
    """A digest entry: a bulleted line that opens with a headline-like lead-in and a colon,
    then at least a sentence ("- Trust opens ward: Castlebridge Hospitals ... beds.")."""
    s = line.strip()
    mark = _BULLET_MARK.match(s)
    if not mark or "\n" in s:
        return False
    m = _LEAD_IN.match(s[mark.end():])
    if not m:
        return False
    lead, rest = m.group("lead").strip(), m.group("rest").strip()
    return (
        lead[:1].isupper() and 2 <= len(lead.split()) <= _MAX_HEADLINE_WORDS
        and len(rest.split()) >= _MIN_ITEM_WORDS and rest[-1:] in ".!?”\"’)"
    )


def _is_dateline(line: str) -> bool:
    s = line.strip()
    return "\n" not in s and len(s) <= _MAX_MASTHEAD_CHARS and bool(
        _BYLINE.match(s) or _DATE_LINE.match(s))

