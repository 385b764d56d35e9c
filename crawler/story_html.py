"""The layout of a page's HTML as the story splitter reads it.

``read_layout`` walks the page once and returns, as whitespace-normalised texts that the
splitter looks up among the lines of the extracted body:

* ``headlines``: heading elements (``h1``-``h6``) at any depth, blocks (``p``, ``div``,
  ``td``, ``li``) whose whole text is bold, and a bold lead-in that a line break separates
  from the text after it (``<strong>Headline</strong><br>Text``);
* ``after_break``: the first block after a thematic break (``<hr>``) or a ``<section>`` start;
* ``after_spacer``: the first block after an empty spacer paragraph;
* ``hidden``: texts of elements a reader never sees (``display:none``, ``hidden``,
  ``aria-hidden``): an e-mail's pre-header;
* ``items``: list items that open with a bold lead-in (a digest's entries).

E-mail layouts (nested tables, a headline in a table cell) need nothing special: every cue
is found at any depth. Broken markup gives an empty layout, not an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["PageLayout", "read_layout"]

_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_BLOCKS = frozenset({"p", "div", "li", "td", "th", "blockquote", "dd"}) | _HEADINGS
_BOLD = frozenset({"strong", "b"})
_SKIP = frozenset({"script", "style", "noscript", "template"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|max-height\s*:\s*0",
                           re.IGNORECASE)


@dataclass
class PageLayout:
    """What the page's markup says about its stories (texts whitespace-normalised)."""

    headlines: set[str] = field(default_factory=set)
    after_break: set[str] = field(default_factory=set)
    after_spacer: set[str] = field(default_factory=set)
    hidden: set[str] = field(default_factory=set)
    items: set[str] = field(default_factory=set)


def _norm_space(text: str) -> str:
    return " ".join(text.split())


def _hidden(elem) -> bool:  # noqa: ANN001 - an lxml element
    return (elem.get("hidden") is not None or elem.get("aria-hidden") == "true"
            or bool(_HIDDEN_STYLE.search(elem.get("style") or "")))


def _leading_bold(block) -> tuple[str, bool] | None:  # noqa: ANN001
    """The text of a bold element that opens ``block`` (nothing but spaces before it), and
    whether a line break follows it."""
    if (block.text or "").strip():
        return None
    for child in block:
        if not isinstance(child.tag, str):
            continue
        if child.tag in _BOLD:
            nxt = child.getnext()
            broken = (not (child.tail or "").strip() and nxt is not None and nxt.tag == "br")
            return _norm_space(child.text_content()), broken
        if child.tag in ("a", "span", "em", "i", "u"):
            return _leading_bold(child)
        return None
    return None


def read_layout(html: str | bytes | None) -> PageLayout:
    """The layout cues of ``html`` (bytes are decoded as ``crawler.article`` does)."""
    layout = PageLayout()
    if not html:
        return layout
    if isinstance(html, bytes):
        from crawler.article import decode_html

        html = decode_html(html)[0]
    try:
        from lxml import html as lxml_html

        tree = lxml_html.fromstring(html)
    except Exception:  # noqa: BLE001 - broken markup gives no cues, not an error
        return layout
    unseen: set = set()  # elements inside hidden ones
    for elem in tree.iter():
        if isinstance(elem.tag, str) and elem not in unseen and _hidden(elem):
            text = _norm_space(elem.text_content())
            if text:
                layout.hidden.add(text)
            unseen.update(elem.iterdescendants())
            unseen.add(elem)
    pending_break = pending_spacer = False
    for elem in tree.iter():
        tag = elem.tag if isinstance(elem.tag, str) else ""
        if tag in _SKIP or elem in unseen:
            continue
        if tag == "hr" or tag == "section":
            pending_break = True
            continue
        if tag not in _BLOCKS:
            continue
        whole = _norm_space(elem.text_content())
        if not whole:
            if tag == "p":
                pending_spacer = True  # an empty paragraph (&nbsp;) as vertical space
            continue
        if tag in _HEADINGS:
            layout.headlines.add(whole)
        lead = _leading_bold(elem)
        if lead is not None:
            bold, broken = lead
            if bold == whole and tag != "li":
                layout.headlines.add(whole)
            elif broken and bold:
                layout.headlines.add(bold)
            elif tag == "li" and bold and bold != whole:
                layout.items.add(whole)
        # the first block with text after a break (an outer block holds the inner ones)
        if pending_break and not any(
                isinstance(c.tag, str) and c.tag in _BLOCKS for c in elem):
            layout.after_break.add(whole)
            pending_break = False
        if pending_spacer and not any(
                isinstance(c.tag, str) and c.tag in _BLOCKS for c in elem):
            layout.after_spacer.add(whole)
            pending_spacer = False
    return layout
