"""Story segmentation: split a newsletter page's text into its separate stories.

A newsletter page (a daily round-up) carries several short, unrelated stories; a plain article
is one story, even when a late paragraph turns to a side topic. ``split_stories`` returns the
stories of a text as :class:`Story` records with character offsets into it, following the
project's annotation guidelines (``shared/eval/GUIDELINES.md``, "Stories"):

1. The text is cut into units (``story_text``): blank-line separated blocks, or lines where
   the text has no blank lines (extracted article bodies). A headline glued to its first
   paragraph by a single line break becomes a unit of its own, and so does each entry of a
   bulleted list.
2. Layout first (``story_html`` reads the page when ``html`` is given). A headline is a short
   title-like line (no final full stop, colon or comma, not a bullet, byline or date)
   followed by a paragraph, or the text of a heading element at any depth, of a wholly bold
   block or of a bold lead-in before a line break. A heading straight above another heads
   nothing. Page chrome (a hidden pre-header, a sponsor label, "view in browser", an
   unsubscribe line, an editor's credit: ``data/chrome_cues.txt``) heads no story. Digest
   entries, bulleted lines that open with a headline-like lead-in and a colon ("- Trust opens
   ward: Castlebridge ..."), are stories without a headline line; a heading over them ("In
   brief") heads none.
3. A masthead belongs to no story: short units (a name, a tagline, a date, an editor) above the
   first of several headlines or digest entries, chrome lines at the top, a "headline" over
   nothing but a masthead-worded line, or a first line worded like a strapline ("The
   must-read stories ...": ``data/masthead_cues.txt``). An article title straight above its
   first subheading is one article, whatever its sections are about.
4. Is it a newsletter? Yes with a masthead, several thematic breaks or a digest, or when two
   headed sections are about different things (the topic test below); a plain article stays
   one story. In a newsletter every headline and digest entry starts a story, and so does a
   paragraph straight after a thematic break (``<hr>``) or extra vertical space.
5. A story without a headline line further down a newsletter (it starts straight after a
   blank line) is found by two tests inside each story, unless the page's markup heads every
   story (then only its breaks and spacers set a headline-less story apart):

   - new subject: a paragraph after a story's first turns to another organisation. It opens
     with an organisation's name, an indefinite subject ("A consultancy that ...") or a
     common noun before a named organisation ("Inspectors have rated X Trust ..."), not
     with a back-reference ("The trust", "It", "But", "Separately", "X, its partner, ...");
     it names something (other than national bodies and generic words such as "NHS
     Foundation Trust") that the story, which has named an organisation of its own, has
     not named; and it is not close to the story in content words or, given ``embed``, in
     sentence embeddings (``story_subjects``). A round-up item ("In brief") is never split
     this way.
   - topic change, TextTiling-style (``story_topics``): at every paragraph gap with at least
     three paragraphs on each side, the lexical cohesion (cosine of content-word counts)
     and, given ``embed``, the similarity of the mean sentence embeddings of the two sides;
     the gap whose similarity lies furthest below the thresholds starts a new story. An
     extra blank line or an ``<hr>`` in the HTML at that gap counts in favour.

The word lists of the new-subject test are in ``data/story_cues.toml`` (``story_cues`` loads
them all).

``embed`` is a function from a list of texts to an array of L2-normalised vectors (one row
per text), such as all-MiniLM-L6-v2 through sentence-transformers.
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.story_cues import _story_cues
from crawler.story_html import PageLayout, _norm_space, read_layout
from crawler.story_subjects import _names, _opens_new_subject
from crawler.story_text import (
    _MAX_HEADLINE_CHARS,
    _MAX_MASTHEAD_CHARS,
    _is_chrome,
    _is_dateline,
    _is_lead_in_item,
    _is_paragraph,
    _masthead_score,
    _title_like,
    _Unit,
    _units,
)
from crawler.story_topics import Embedder, _Similarity

__all__ = ["Story", "split_stories"]



@dataclass(frozen=True)
class Story:
    """One story of a text: ``text[start:end]``. ``headline`` is the story's headline line
    exactly as written (``text[start:start + len(headline)] == headline``), or ``None``
    when the story starts with its first sentence."""

    start: int
    end: int
    headline: str | None = None

    def text_of(self, text: str) -> str:
        """The story's text, without the trailing blank lines."""
        return text[self.start : self.end].rstrip()

    def body_of(self, text: str) -> str:
        """The story's text after its headline line."""
        start = self.start + len(self.headline) if self.headline else self.start
        return text[start : self.end].strip()


# headed sections of a text without a masthead (newsletter or article with subheadings?)
_HEADED_LEXICAL_MAX = 0.10
_HEADED_EMBED_MAX = 0.45
# headline-less boundary inside a newsletter story
_GAP_LEXICAL_MAX = 0.08
_GAP_EMBED_MAX = 0.50
# A paragraph that opens with a new organisation (see _opens_new_subject) starts a story
# unless it is this close to the story so far: in content words other than generic
# organisation words (the held-out new stories share none; a new story after one on the same
# theme, two ratings say, shares up to 0.23 on dev and held-out paragraphs), or in
# embeddings (new stories 0.34-0.53; paragraphs that continue a story about several
# organisations 0.59-0.67).
_SUBJECT_LEXICAL_MAX = 0.25
_SUBJECT_EMBED_MAX = 0.58
# an extra blank line or an <hr> at the gap adds this to the margin
_LAYOUT_BONUS = 1.0
# each side of a headline-less boundary needs this many paragraphs (fewer with a layout cue)
_MIN_SIDE_UNITS = 3
_MIN_CUED_SIDE_UNITS = 2


# --------------------------------------------------------------------------------------------
# Segmentation
# --------------------------------------------------------------------------------------------


# a masthead is at most this many short units above the first headline or digest entry
_MAX_MASTHEAD_UNITS = 5
_MAX_MASTHEAD_LINES = 3
_MAX_MASTHEAD_WORDS = 30


def _headline_units(units: list[_Unit], layout: PageLayout) -> list[int]:
    heads = []
    for i, unit in enumerate(units):
        if unit.lines != 1 or i + 1 >= len(units) or _is_chrome(unit.text):
            continue
        line = _norm_space(unit.text)
        if line in layout.hidden:
            continue
        if line in layout.headlines and len(line) <= _MAX_HEADLINE_CHARS:
            heads.append(i)
        elif _title_like(unit.text):
            nxt = i + 1
            while nxt < len(units) - 1 and _is_dateline(units[nxt].text):
                nxt += 1  # a byline or date between a headline and its story
            if _is_paragraph(units[nxt]) and not _title_like(units[nxt].text):
                heads.append(i)
    # a heading straight above another (a section's name over a story's headline, page
    # headings over the tagline) heads no story of its own
    return [h for h in heads if h + 1 not in heads]


def _item_units(units: list[_Unit], layout: PageLayout) -> list[int]:
    """Digest entries: runs of at least two neighbouring bulleted units that each open with
    a headline-like lead-in (``- Trust opens ward: Castlebridge ...``), or list items that
    open with a bold lead-in in the page."""
    def is_item(unit: _Unit) -> bool:
        return _is_lead_in_item(unit.text) or (
            _norm_space(unit.text).lstrip("-•*· ") in layout.items
            and len(unit.text.split()) >= 8)

    flags = [is_item(u) for u in units]
    return [i for i, flag in enumerate(flags) if flag and (
        (i > 0 and flags[i - 1]) or (i + 1 < len(flags) and flags[i + 1]))]


def _is_short(unit: _Unit) -> bool:
    return (unit.lines <= _MAX_MASTHEAD_LINES and len(unit.text.split()) <= _MAX_MASTHEAD_WORDS
            and all(len(line) <= _MAX_MASTHEAD_CHARS for line in unit.text.splitlines()))


def _masthead_length(units: list[_Unit], heads: list[int], items: list[int],
                     layout: PageLayout) -> int:
    """How many leading units are masthead, strapline, pre-header or other chrome lines.

    Short units above the first of several headlines or digest entries are a masthead: a
    newsletter's name, tagline, date, editor. A page that opens with chrome lines (a hidden
    pre-header, "view in browser", a sponsor label) has them counted too.
    """
    lead = 0
    while lead < len(units) and (_is_chrome(units[lead].text)
                                 or _norm_space(units[lead].text) in layout.hidden):
        lead += 1
    starts = sorted({*heads, *items})
    if len(starts) >= 2:
        # the first headline whose story has a body: a "headline" over nothing but a short
        # line worded like a masthead (a page heading over the tagline) is masthead too
        k = 0
        while (k + 1 < len(starts) and starts[k + 1] <= lead + _MAX_MASTHEAD_UNITS
               and all(_is_short(u) for u in units[starts[k]:starts[k + 1]])
               and sum(len(u.text.split()) for u in units[starts[k]:starts[k + 1]])
               <= _MAX_MASTHEAD_WORDS
               and any(_masthead_score(u.text) or _is_chrome(u.text)
                       for u in units[starts[k]:starts[k + 1]])):
            k += 1
        first = starts[k]
        if (lead < first <= lead + _MAX_MASTHEAD_UNITS and len(starts) - k >= 2
                and all(_is_short(u) for u in units[lead:first])):
            return first
    if lead:
        return lead
    # short lines above the first headline that do not start a story themselves
    while (
        lead < len(units)
        and units[lead].lines == 1
        and len(units[lead].text) <= _MAX_MASTHEAD_CHARS
        and not _is_story_start(units, lead, heads)
    ):
        lead += 1
    if lead and lead < len(units) and lead in heads:
        return lead
    first_text = units[0].text.strip() if units else ""
    if (
        units
        and units[0].lines <= _MAX_MASTHEAD_LINES
        and len(first_text) <= _MAX_MASTHEAD_CHARS
        and len(units) > 1
    ):
        score = _masthead_score(first_text)
        if score >= 2 or (score >= 1 and (first_text.endswith(".") or units[0].lines > 1)):
            return 1
    return 0


def _title_over_sections(units: list[_Unit], heads: list[int], lead: int) -> bool:
    """An article title directly above its first subheading ("Northern systems: plans
    slipping" over "Eastmoor ICB", "Westvale ICB" sections): one story, whatever its
    sections are about. The title is a headline-like line that is no masthead line."""
    return (
        lead == 1 and 1 in heads and units[0].lines == 1
        and _title_like(units[0].text) and _masthead_score(units[0].text) == 0
        and not _is_chrome(units[0].text)
    )


def _unmarked_lead(units: list[_Unit], lead: int, layout: PageLayout) -> bool:
    """Whether the ``lead`` units above the first headline hold a sentence that nothing marks
    as a masthead: no masthead or chrome words, not hidden, and the headline below them is
    no heading of the page's markup."""
    above = units[:lead]
    marked = any(_masthead_score(u.text) or _is_chrome(u.text)
                 or _norm_space(u.text) in layout.hidden for u in above)
    structured = _norm_space(units[lead].text) in layout.headlines if lead < len(units) else False
    # a lede names its subject ("Castlebridge Hospitals NHS Trust has ..."); a tagline names
    # none, or only national bodies ("What changed in NHS policy today")
    names_something = any(name.keys() for u in above for name in _names(u.text))
    return (not marked and not structured and names_something
            and any(_is_paragraph(u) for u in above))


def _is_story_start(units: list[_Unit], i: int, heads: list[int]) -> bool:
    return i in heads or _is_paragraph(units[i])


def split_stories(
    text: str,
    *,
    html: str | bytes | None = None,
    embed: Embedder | None = None,
) -> list[Story]:
    """Split ``text`` into its stories, in text order (never empty for a text with words).

    ``html`` is the page the text was extracted from, for layout cues (headings at any
    depth, bold lines and lead-ins, thematic breaks, hidden pre-headers, list entries);
    bytes are decoded like :func:`crawler.article.extract_article` does. ``embed`` maps a
    list of texts to L2-normalised vectors and sharpens the topic-change test. Offsets are
    Python ``str`` indices into ``text``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    units = _units(text)
    if not units:
        return [Story(0, len(text), None)] if text else []

    layout = read_layout(html)
    html_breaks, html_spacers = layout.after_break, layout.after_spacer
    heads = _headline_units(units, layout)
    items = _item_units(units, layout)
    # a heading over digest entries ("In brief") heads no story: each entry is one
    heads = [h for h in heads if h not in items and h + 1 not in items]
    lead = _masthead_length(units, heads, items, layout)
    if _title_over_sections(units, heads, lead):
        return [Story(units[0].start, len(text), units[0].text)]
    heads = [h for h in heads if h >= lead]
    if lead >= len(units):
        lead = 0
    sim = _Similarity(units, embed)

    # story starts as unit indices; the first story starts after the masthead
    starts = [lead]
    later_heads = [h for h in heads if h > lead]
    # units that open a block after a thematic break (<hr>, <section>) of the page
    breaks = [i for i in range(lead + 1, len(units)) if _norm_space(units[i].text) in html_breaks]
    # A masthead, stories set apart by several thematic breaks, or a digest. Sentences above
    # the first headline that neither the markup nor masthead words mark as a masthead may be
    # an article's lede over its subheadings: the topic test below decides.
    weak_masthead = lead > 0 and _unmarked_lead(units, lead, layout)
    newsletter = (lead > 0 and not weak_masthead) or len(breaks) >= 2 or len(items) >= 2
    if newsletter:
        starts += later_heads
        starts = sorted({*starts, *(i for i in items if i > lead)})
    else:
        # no masthead: a headed section starts a new story only when it is about
        # something else than the text before it
        bounds = [lead, *later_heads, len(units)]
        for k, h in enumerate(later_heads):
            left = range(starts[-1], h)
            right = range(h, bounds[k + 2])
            # below a lede-like lead, sections about different organisations count as
            # different stories: the generic words of organisation names ("NHS", "trust",
            # "hospital") do not tie them
            if sim.margin(left, right, _HEADED_LEXICAL_MAX, _HEADED_EMBED_MAX,
                          content_only=weak_masthead) > 0:
                starts.append(h)
        newsletter = len(starts) > 1
        if weak_masthead and not newsletter:
            lead, starts = 0, [0]  # one article, lede included

    if newsletter:
        # a paragraph straight after a break, or after extra vertical space where the text
        # otherwise keeps to single blank lines, starts a story without a headline
        gaps = [u.blank_before for u in units[lead + 1:]]
        extra_space_is_rare = 2 * sum(b >= 2 for b in gaps) < len(gaps)
        for i in range(lead + 1, len(units)):
            if i in heads or i in starts or not _is_paragraph(units[i]) or i - 1 in items:
                continue
            spaced = (units[i].blank_before >= 2 and extra_space_is_rare) or (
                _norm_space(units[i].text) in html_spacers)
            if i in breaks or spaced:
                before = max(k for k in starts if k < i)
                if i - before - (before in heads) >= 1:
                    starts = sorted({*starts, i})
        fixed = set(heads) | set(items)
        # a page whose markup heads every story (headings, bold headlines) has no story
        # without one but where its layout sets one apart (breaks and spacers, above)
        marked = [i for i in starts if i in fixed]
        headed_page = bool(layout.headlines) and len(marked) >= 2 and all(
            i in items or _norm_space(units[i].text) in layout.headlines for i in marked)
        if not headed_page:
            starts = _split_new_subjects(text, units, starts, fixed, sim)
            starts = _split_headless(units, starts, fixed, sim, html_spacers)

    stories = []
    for k, i in enumerate(starts):
        start = units[i].start
        end = units[starts[k + 1]].start if k + 1 < len(starts) else len(text)
        headline = units[i].text if i in heads else None  # a digest entry has none
        stories.append(Story(start, end, headline))
    return stories


def _split_new_subjects(text: str, units: list[_Unit], starts: list[int], heads: set[int],
                        sim: _Similarity) -> list[int]:
    """Add story starts without a headline at paragraphs that turn to a new subject: each
    paragraph after a story's first is tested against the story so far (from its headline)."""
    starts = sorted(starts)
    out = list(starts)
    for k, a in enumerate(starts):
        b = starts[k + 1] if k + 1 < len(starts) else len(units)
        if a in heads and _story_cues().roundup_headline.fullmatch(units[a].text.strip()):
            continue  # "In brief": one headed item, whatever its paragraphs are about
        story = a
        first_para = a + 1 if a in heads else a
        for g in range(first_para + 1, b):
            if g in heads or not _is_paragraph(units[g]):
                continue
            if not _opens_new_subject(units[g].text, text[units[story].start:units[g].start]):
                continue
            left = range(story + 1 if story in heads else story, g)
            right = range(g, g + 1)
            semantic = sim.semantic(left, right)
            if sim.lexical(left, right, content_only=True) < _SUBJECT_LEXICAL_MAX and (
                    semantic is None or semantic < _SUBJECT_EMBED_MAX):
                out.append(g)
                story = g
    return sorted(out)


def _split_headless(units: list[_Unit], starts: list[int], heads: set[int], sim: _Similarity,
                    html_spacers: set[str]) -> list[int]:
    """Add story starts without a headline where the topic changes inside a story."""
    starts = sorted(starts)
    changed = True
    while changed:
        changed = False
        for k, a in enumerate(starts):
            b = starts[k + 1] if k + 1 < len(starts) else len(units)
            first_para = a + 1 if a in heads else a
            best: tuple[float, int] | None = None
            for g in range(first_para + _MIN_CUED_SIDE_UNITS, b - _MIN_CUED_SIDE_UNITS + 1):
                if g in heads or not _is_paragraph(units[g]):
                    continue
                # extra vertical space before the paragraph: an extra blank line in the
                # text, an empty spacer paragraph in the page
                cued = units[g].blank_before >= 2 or _norm_space(units[g].text) in html_spacers
                if not cued and min(g - first_para, b - g) < _MIN_SIDE_UNITS:
                    continue
                margin = sim.margin(range(first_para, g), range(g, b),
                                    _GAP_LEXICAL_MAX, _GAP_EMBED_MAX)
                if cued:
                    margin += _LAYOUT_BONUS
                if margin > 0 and (best is None or margin > best[0]):
                    best = (margin, g)
            if best is not None:
                starts.insert(k + 1, best[1])
                changed = True
                break
    return starts
