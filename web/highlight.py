"""A story's text as HTML with each stored fact marked at its character offsets.

Facts that overlap an earlier (or longer) fact are listed on the page but not marked, so
the markup stays properly nested. One sentence can be singled out (``focus``): the one
holding the fact a search result linked to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Span:
    """One fact's place in the text and what the page says about it."""

    start: int
    end: int
    kind: str  # org, amount, rating
    index: int  # position of the fact in its list on the page
    title: str


def usable_spans(spans: Sequence[Span], length: int) -> list[Span]:
    """Spans inside the text, sorted, with later overlapping ones dropped."""
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        if not 0 <= span.start < span.end <= length:
            continue
        if kept and span.start < kept[-1].end:
            continue
        kept.append(span)
    return kept


def sentence_around(body: str, sentence: str | None, start: int) -> tuple[int, int] | None:
    """Offsets of the stored ``sentence`` occurrence nearest ``start`` in ``body``, or None."""
    if not sentence:
        return None
    best: int | None = None
    pos = body.find(sentence)
    while pos != -1:
        if best is None or abs(pos - start) < abs(best - start):
            best = pos
        pos = body.find(sentence, pos + 1)
    if best is None or not best <= start <= best + len(sentence):
        return None
    return best, best + len(sentence)


def render(body: str, spans: Sequence[Span], focus: tuple[int, int] | None = None) -> Markup:
    """``body`` escaped, facts wrapped in ``<mark>``, the focus sentence in
    ``<span class="focus" id="focus">``; focus edges inside a mark move to the mark's edges."""
    marks = usable_spans(spans, len(body))
    if focus is not None:
        lo, hi = focus
        for span in marks:
            if span.start < lo < span.end:
                lo = span.start
            if span.start < hi < span.end:
                hi = span.end
        focus = (lo, hi)
    # (offset, order, html); at one offset: mark closes, focus closes, focus opens, mark opens
    events: list[tuple[int, int, str]] = []
    for span in marks:
        events.append((span.start, 3, (
            f'<mark class="fact fact-{span.kind}" id="{span.kind}-{span.index}" '
            f'title="{escape(span.title)}">'
        )))
        events.append((span.end, 0, "</mark>"))
    if focus is not None:
        events.append((focus[0], 2, '<span class="focus" id="focus">'))
        events.append((focus[1], 1, "</span>"))
    events.sort(key=lambda e: (e[0], e[1]))
    out: list[str] = []
    cursor = 0
    for offset, _, html in events:
        out.append(str(escape(body[cursor:offset])))
        out.append(html)
        cursor = offset
    out.append(str(escape(body[cursor:])))
    return Markup("".join(out))
