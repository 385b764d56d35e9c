"""The layout of a page's HTML as the story splitter reads it."""

from __future__ import annotations

from html.parser import HTMLParser

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


