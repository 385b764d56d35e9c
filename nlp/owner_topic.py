"""The body a passage is about, for a figure whose sentence names no owner.

Figures in board papers, annual-report lists and section-by-section round-ups often stand in
sentences that name no body ("Agency spending fell to £8.7m", "Schemes worth £24.8m have been
identified"): they belong to the body the passage is about. That is the body a heading over the
section names, else the first body the lead of the story (headline and first sentence) names,
else, when the lead tells of a body by its kind ("the trust that runs it"), the first body of
that kind the story names later.
A subject that is neither a body nor its finances ("Residents pay ...", "The business case put
the cost at ...", "A consultancy ... has been paid ...") says the figure is no one body's.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

from spacy.tokens import Token

from nlp.money_context import MoneyContext
from nlp.owner_coordination import SUBJECT_DEPS as _SUBJECT_DEPS

_INDEFINITE_DETS = frozenset({"a", "an", "any", "another"})


def section_owner(ctx: MoneyContext, pos: int) -> str | None:
    """The body a heading above ``pos`` names as a whole ("NHS Devon" over the paragraphs
    about it), if it can own money."""
    heading = ctx.structure.heading_before(pos) if ctx.structure is not None else None
    if heading is None:
        return None
    i = bisect.bisect_left(ctx.org_starts, heading.start)
    if i < len(ctx.orgs) and ctx.orgs[i].start == heading.start \
            and ctx.orgs[i].end == heading.end and ctx.owner_ok(ctx.orgs[i]):
        return ctx.orgs[i].name
    return None


def topic_owner(ctx: MoneyContext, pos: int, types: tuple[str, ...]
                ) -> tuple[str | None, str]:
    """(owner, rule) for the passage at ``pos``: the body a heading over its section names
    ("topic:section_heading"), else the first body of ``types`` the lead of its story names
    ("topic:story_lead") or names later after telling of it by kind ("topic:lead_named_later");
    a section without a body of its own reads on from the story before
    it. (None, "none") when the passage names bodies, none of them in its lead."""
    got = section_owner(ctx, pos)
    if got is not None:
        return got, "topic:section_heading"
    k = ctx.story_index(pos)
    while k >= 0:
        start = ctx.story_starts[k]
        first = ctx.sent_index(start)
        lead_end = min(pos, ctx.sents[min(first + 1, len(ctx.sents) - 1)][1])
        i = bisect.bisect_left(ctx.org_starts, start)
        while i < len(ctx.orgs) and ctx.orgs[i].end <= lead_end:
            if ctx.owner_ok(ctx.orgs[i]) and ctx.orgs[i].type in types \
                    and not ctx.lex.topic_reporters_re.search(ctx.orgs[i].name):
                # (a committee or audit office the lead names hears of others' money)
                return ctx.orgs[i].name, "topic:story_lead"
            i += 1
        later = _lead_named_later(ctx, start, lead_end, pos, types)
        if later is not None:
            return later, "topic:lead_named_later"
        if ctx.last_org_before(pos, (), start) is not None:
            return None, "none"  # the passage names bodies of its own, none in its lead
        k -= 1
    return None, "none"


def _lead_named_later(ctx: MoneyContext, start: int, lead_end: int, pos: int,
                      types: tuple[str, ...]) -> str | None:
    """A news lead that tells of a body by what it is before naming it ("after the trust that
    runs it admitted ..."; the name comes in the second paragraph): the first body of that
    kind its story names, when the lead names no body of that kind itself."""
    if lead_end <= start or not ctx.doc.has_annotation("DEP"):
        return None
    lead = ctx.doc.char_span(start, lead_end, alignment_mode="expand")
    if lead is None:
        return None
    kinds: set[str] = set()
    for tok in lead:
        if tok.i in ctx.token_org or not any(c.lower_ == "the" for c in tok.children):
            continue
        key = tok.lower_
        if tok.i > 0 and f"{tok.nbor(-1).lower_} {key}" in ctx.lex.generic:
            key = f"{tok.nbor(-1).lower_} {key}"
        kinds.update(t for t in ctx.lex.generic.get(key, ()) if t in types)
    if not kinds:
        return None
    story_end = ctx.story_starts[ctx.story_index(start) + 1] \
        if ctx.story_index(start) + 1 < len(ctx.story_starts) else len(ctx.text)
    i = bisect.bisect_left(ctx.org_starts, start)
    while i < len(ctx.orgs) and ctx.orgs[i].start < story_end:
        org = ctx.orgs[i]
        if org.end > lead_end and org.type in kinds and ctx.owner_ok(org):
            return org.name
        i += 1
    return None


def nobody_subject(ctx: MoneyContext, root: Token,
                   generic_noun: Callable[[Token], tuple[str, ...] | None]) -> bool:
    """Whether the clause governing the amount has a subject that is neither a body nor its
    finances ("Residents pay ...", "The business case put the cost at ...") or is an unnamed
    body ("A consultancy ... has been paid £1.9m"); ``generic_noun`` tells the nouns that
    stand for bodies."""
    # the amount's line: the parser's sentence can run across a line break (a title line)
    s_start = ctx.text.rfind("\n", 0, root.idx) + 1
    s_end = ctx.text.find("\n", root.idx) % (len(ctx.text) + 1)
    cur = root
    for _ in range(12):
        for c in cur.children:
            if not s_start <= c.idx < s_end:
                continue
            if c.dep_ in _SUBJECT_DEPS and c.i not in ctx.token_org:
                if generic_noun(c) is not None and any(
                        d.dep_ == "det" and d.lower_ in _INDEFINITE_DETS for d in c.children):
                    return True
                words = {c.lemma_.lower(), c.lower_}
                if c.i > 0:
                    words.add(f"{c.nbor(-1).lower_} {c.lemma_.lower()}")
                return bool(words & ctx.lex.nobody_subjects)
        if cur.head.i == cur.i or not s_start <= cur.head.idx < s_end:
            break
        cur = cur.head
    return False
