"""Owners that a sentence's shape gives a figure by naming a body in a set place: the funder of
money that unnamed recipients get ("Councils will share £48m ..., the department said"; a
headline's funder is the one its lead names), the body that awards a contract ("won a contract
from X"), the body a ", where ..." or ", whose ..." clause tells of, and the agent of a passive
clause ("a deficit of £5.6m is forecast by the trust"). The owner rules of nlp/owners.py call
these; the names they return go in ``why.org`` as ``funder_of_generic_recipients``,
``contract_awarder`` and ``where_clause_of_named_body``; the passive agent adds
``passive_agent`` to a parse rule. "For each of the residents" counts people, not bodies: the
payer keeps a per-head rate.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable

from spacy.tokens import Token

from nlp.money_context import FoundAmount, MoneyContext
from nlp.owner_coordination import NOBODY

# owner rules that say a figure's sentence gives it no body of its own (a generic subject, a
# reporting body)
GENERIC_RECIPIENT_HOWS = frozenset({"reported_by_another_body", "parse:nobody",
                                    "sentence_subject_nobody"})
# how many sentences after a contract's figure may name who awarded it, and the word they
# must use to speak of it
_CONTRACT_FOLLOW_SENTENCES = 2
_CONTRACT_WORD_RE = re.compile(r"\bcontracts?\b", re.IGNORECASE)
# ", where ...": a clause about the place or body just named
_WHERE_RE = re.compile(r",\s+(?:where|whose)\s+")
# how many sentences after a headline its lead may take to restate the headline's figure
# (a dateline or standfirst can come between)
_LEAD_SENTENCES = 3
# the kind noun after a name before the comma ("the Ravensholt Health group, whose ...")
_KIND_AFTER_NAME_RE = re.compile(r"(?:\s+[a-z]+)?")


def funder_in_sentence(ctx: MoneyContext, f: FoundAmount,
                       generic_noun: Callable[[Token], tuple[str, ...] | None],
                       resolve_generic: Callable[[Token, tuple[str, ...]], str | None]
                       ) -> str | None:
    """The funder (a government or national body) the amount's sentence names, for money
    that recipients the text does not name get ("Councils will receive £60m, the
    department said"); None when it names several."""
    s_start, s_end = _headline_with_restating_lead(ctx, f)
    funders: set[str] = set()
    i = bisect.bisect_left(ctx.org_starts, s_start)
    while i < len(ctx.orgs) and ctx.orgs[i].start < s_end:
        o = ctx.orgs[i]
        if o.type in ctx.lex.funder_types and ctx.owner_ok(o):
            funders.add(o.name)
        i += 1
    if not funders and ctx.parsed:
        # "..., the department said": a back-reference to a funder named before
        span = ctx.doc.char_span(s_start, s_end, alignment_mode="expand") or []
        for tok in span:
            types = tuple(t for t in generic_noun(tok) or ()
                          if t in ctx.lex.funder_types)
            if types and tok.i not in ctx.token_org and any(
                    c.lower_ == "the" for c in tok.children):
                got = resolve_generic(tok, types)
                if got is not None and got != NOBODY:
                    funders.add(got)
    # (a deal two bodies announce together is neither's alone)
    return funders.pop() if len(funders) == 1 else None


def _headline_with_restating_lead(ctx: MoneyContext, f: FoundAmount) -> tuple[int, int]:
    """The amount's sentence; for a headline ("Health boards to share £60m uplift"), the
    span up to the end of the lead sentence that restates the figure ("Boards will receive
    an extra £60m ..., the government has announced"): the lead names who hands it out."""
    s_start, s_end = ctx.sents[f.sent]
    if s_start != ctx.story_starts[ctx.story_index(s_start)]:
        return s_start, s_end
    figure = ctx.text[f.start:f.end]
    for k in range(f.sent + 1, min(f.sent + _LEAD_SENTENCES + 1, len(ctx.sents))):
        # (a dateline under a headline may open a story of its own: the restated figure,
        # not the story bounds, ties the lead to its headline)
        start, end = ctx.sents[k]
        if figure in ctx.text[start:end]:
            return s_start, end
    return s_start, s_end


def contract_awarder(ctx: MoneyContext, f: FoundAmount) -> str | None:
    """The body the amount's sentence says awards the contract ("has won a contract from
    the Health Service Executive worth €14m"), when it is not a company, or the commissioner
    a contract is held with ("a block contract with Kelmoor ICB worth £40m")."""
    got = _awarder_in(ctx, *ctx.sents[f.sent])
    if got is not None:
        return got
    # "X has won the £420m contract ... The contract was awarded by Y after ...": the next
    # sentences of the story that go on about the contract
    for k in range(f.sent + 1, min(f.sent + 1 + _CONTRACT_FOLLOW_SENTENCES, len(ctx.sents))):
        lo, hi = ctx.sents[k]
        if ctx.story_index(lo) != f.story:
            break
        if any(lo <= a < hi for a in ctx.amount_starts):
            break  # a sentence with figures of its own tells of another contract
        if _CONTRACT_WORD_RE.search(ctx.text, lo, hi):
            got = _awarder_in(ctx, lo, hi)
            if got is not None:
                return got
    return None


def _awarder_in(ctx: MoneyContext, s_start: int, s_end: int) -> str | None:
    """The awarder (or commissioner held with) that ``text[s_start:s_end]`` names."""
    i = bisect.bisect_left(ctx.org_starts, s_start)
    while i < len(ctx.orgs) and ctx.orgs[i].start < s_end:
        o = ctx.orgs[i]
        before = max(s_start, o.start - 30)
        if o.type != "company" and ctx.owner_ok(o) and ctx.lex.contract_awarder_re.search(
                ctx.text, before, o.start):
            return o.name
        if o.type == "commissioner" and ctx.owner_ok(o) \
                and ctx.lex.contract_with_commissioner_re.search(ctx.text, before, o.start):
            return o.name
        i += 1
    return None


def where_clause_owner(ctx: MoneyContext, f: FoundAmount) -> str | None:
    """The body a ", where ..." or ", whose ..." clause tells of ("the pressure is at
    Fosbury Royal, where escalation beds are costing £0.2m a week", "the Ravensholt Health
    group, whose accounts show turnover of £412m"): the figures in the clause are its."""
    s_start = ctx.sents[f.sent][0]
    where = None
    for m in _WHERE_RE.finditer(ctx.text, s_start, f.parsed.start):
        where = m
    if where is None or ";" in ctx.text[where.end():f.parsed.start]:
        return None
    i = bisect.bisect_left(ctx.org_starts, where.start()) - 1
    if i < 0:
        return None
    o = ctx.orgs[i]
    if _KIND_AFTER_NAME_RE.fullmatch(ctx.text, o.end, where.start()) and ctx.owner_ok(o):
        return o.name
    return None


def passive_agent_owner(ctx: MoneyContext, verb: Token,
                        evaluate: Callable[[Token], str | None]) -> str | None:
    """The body a passive clause names as its agent ("A deficit of £5.6m is forecast by the
    trust", "savings of £2m were made by Kelbrook Trust"): the doer owns the figure. After a
    reporting verb ("... was estimated by the regulator") only a body with finances of its own
    speaks of its own money. The figure must be in the passive subject: "run by X under a
    contract worth £17m" names who runs a service, not who owns the contract."""
    if not any(c.dep_ == "nsubjpass" and any(t.i in ctx.amount_tokens for t in c.subtree)
               for c in verb.children):
        return None
    for c in verb.children:
        if c.dep_ != "agent":
            continue
        for p in c.children:
            if p.dep_ != "pobj" or p.i in ctx.amount_tokens:
                continue
            got = evaluate(p)
            if got is None or got == NOBODY:
                return None
            if verb.lemma_.lower() in ctx.lex.reporting_verbs and not any(
                    o.name == got and o.type in ctx.lex.owner_types for o in ctx.orgs):
                return None
            return got
    return None


def per_head_of_people(ctx: MoneyContext, tok: Token,
                       generic_noun: Callable[[Token], tuple[str, ...] | None]) -> bool:
    """Whether "each"/"every" counts things that are not bodies ("pays £985 a week for each of
    the residents": a rate the payer owns), not several bodies ("each of the trusts", "each
    ICB"); ``generic_noun`` tells the nouns that stand for bodies."""
    of = [p for c in tok.children if c.dep_ == "prep" and c.lower_ == "of"
          for p in c.children if p.dep_ == "pobj"]
    counted = (of or [tok.head]) if tok.dep_ == "det" else of
    return bool(counted) and not any(
        p.i in ctx.token_org or p.lower_ in ctx.lex.collective or generic_noun(p) is not None
        for p in counted)
