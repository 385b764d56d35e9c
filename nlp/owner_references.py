"""Back-references to the bodies in play, for amount owners (part of
:class:`nlp.owners.OrgResolver`).

* generic nouns ("the trust", "the system", "the ICB", "the mental health trust") resolved
  through the salience of the bodies of their kind named before them in the story;
* pronouns ("it", "its", "they") resolved to the subject before them in the sentence, else the
  body the previous sentence is about, else the owner of the figure before;
* an apposition that names the body ("A staffing agency, X Ltd, ..."), and a body named just
  after an otherwise unknown one.

An indefinite or newly described body ("a small trust", "the hospital she ran in X") is nobody.
"""

from __future__ import annotations

import bisect
import re
from typing import Any

from spacy.tokens import Token

from nlp.money_context import MoneyContext
from nlp.money_parse import Lexicon
from nlp.owner_coordination import NOBODY, SUBJECT_DEPS

PRONOUNS_SINGULAR = frozenset({"it", "its", "itself"})
PRONOUNS_PLURAL = frozenset({"they", "their", "them", "theirs", "themselves"})
_INDEFINITE = frozenset({"a", "an", "every", "each", "any", "another", "one", "some"})
_VAGUE_MODIFIERS = frozenset(
    "nhs new same other local whole former current merged combined single".split())
_SUBJECT_DEPS = SUBJECT_DEPS
_NONE = NOBODY
# a sentence that opens with a name, after an optional "the"
OPENING_RE = re.compile(r"(?:[Tt]he\s+)?")


def _verbs_sharing_subject(verb: Token) -> tuple[int, ...]:
    """The verb and the verbs it is coordinated under while it has no subject of its own
    ("The ICB will pay the trust £3m and give it £1m": "give" shares the subject of "pay")."""
    out = [verb.i]
    while verb.dep_ == "conj" and verb.head is not verb \
            and not any(c.dep_ in _SUBJECT_DEPS for c in verb.children):
        verb = verb.head
        out.append(verb.i)
    return tuple(out)


class ReferenceOwners:
    """Owner rules that resolve back-references to named bodies; mixed into
    :class:`nlp.owners.OrgResolver`."""

    ctx: MoneyContext
    lex: Lexicon
    evaluate: Any

    def _story_floor(self, pos: int) -> int:
        return self.ctx.story_starts[self.ctx.story_index(pos)]

    def generic_noun(self, tok: Token) -> tuple[str, ...] | None:
        key = tok.lower_
        if tok.i > 0 and f"{tok.nbor(-1).lower_} {key}" in self.lex.generic:
            key = f"{tok.nbor(-1).lower_} {key}"
        return self.lex.generic.get(key)

    def resolve_generic(self, tok: Token, types: tuple[str, ...]) -> str | None:
        named = self._appos_org(tok)
        if named is not None:
            return named
        det = {c.lower_ for c in tok.children if c.dep_ in ("det", "poss")}
        if det & _INDEFINITE:
            return _NONE
        for c in tok.children:
            if c.dep_ in ("relcl", "acl"):
                first = c.left_edge
                if first.i == 0 or tok.doc[first.i - 1].text not in ",(–—":
                    # "the hospital she ran in X": a new, unnamed body ("the trust, which
                    # posted a deficit, ..." is still the trust named before)
                    return _NONE
        if any(c.dep_ == "prep" and c.lower_ == "in" for c in tok.children):
            return _NONE
        poss = next((c for c in tok.children if c.dep_ == "poss"), None)
        if poss is not None:
            # "its local health system" is the ICB itself when the ICB is what "its" means;
            # "fined its sexual health provider" is another body, named later if at all
            # ("its contract with the provider, Brightwell Ltd, ...")
            if poss.lower_ in PRONOUNS_SINGULAR or poss.lower_ in PRONOUNS_PLURAL:
                owner = self.resolve_pronoun(poss, None)
                mention = next((o for o in self.ctx.orgs if o.name == owner), None)
                if mention is not None and mention.type in types:
                    return owner
            return self._named_after(tok, types)
        floor = self._story_floor(tok.idx)
        mods = [t.lower_ for t in tok.doc[tok.left_edge.i:tok.i]
                if t.is_alpha and t.dep_ in ("compound", "amod", "nmod")
                and t.lower_ not in _VAGUE_MODIFIERS]
        if mods:
            # "the mental health trust" is the one whose name says "Mental Health"
            name = self.ctx.salient_org(tok.idx, (), floor, name_word=" ".join(mods))
            if name is not None:
                return name
        words = [tok.lower_]
        if tok.lower_ in self.lex.abbreviations:
            words.append(self.lex.abbreviations[tok.lower_])
        for word in words:
            name = self.ctx.salient_org(tok.idx, (), floor, name_word=word)
            if name is not None:
                return name
        if types:
            got = self.ctx.salient_org(tok.idx, types, floor)
            if got is None and tuple(types) == ("commissioner",):
                # "the system" in a later section of a board paper: the one commissioner the
                # document has named (several: no guess)
                named = {o.name for o in self.ctx.orgs[:bisect.bisect_left(self.ctx.org_starts,
                                                                            tok.idx)]
                         if o.type == "commissioner" and self.ctx.owner_ok(o)}
                if len(named) == 1:
                    return named.pop()
            # no body of the kind the noun names: not a back-reference ("the new system" may
            # be software), so it says nothing about the owner
            return got
        return self.ctx.salient_org(tok.idx, (), floor) or _NONE

    def _appos_org(self, tok: Token) -> str | None:
        """The body an apposition to ``tok`` names ("A staffing agency, Brightline Staffing
        Ltd, was fined £75,000"), if it can own the amount."""
        if any(c.dep_ == "poss" for c in tok.children) \
                or not any(c.dep_ == "det" for c in tok.children):
            return None  # "its lender, Castlegate Bank, agreed to defer £1.2m": the money
            # is the possessor's business (a loan is the borrower's); a bare noun ("board
            # papers, Q2: X") introduces no body
        for c in tok.children:
            if c.dep_ == "appos" and c.i in self.ctx.token_org and c.i > tok.i:
                mention = self.ctx.token_org[c.i]
                between = self.ctx.text[tok.idx:mention.start]
                if "\n" in between or "," not in between:
                    continue  # (the parser joined a heading line to the sentence)
                return mention.name if self.ctx.owner_ok(mention) else None
        return None

    def _named_after(self, tok: Token, types: tuple[str, ...]) -> str:
        """The first organisation of ``types`` (or a company) named after ``tok`` in its
        paragraph and the next sentence or two, else nobody."""
        ctx = self.ctx
        para = ctx.paragraph_index(tok.idx)
        limit = ctx.sents[min(len(ctx.sents) - 1, ctx.sent_index(tok.idx) + 2)][1]
        i = bisect.bisect_right(ctx.org_starts, tok.idx)
        wanted = set(types) | {"company"}
        while i < len(ctx.orgs) and ctx.orgs[i].start < limit:
            o = ctx.orgs[i]
            i += 1
            if ctx.paragraph_index(o.start) != para:
                break
            if o.type in wanted and ctx.owner_ok(o):
                return o.name
        return _NONE

    def resolve_pronoun(self, tok: Token, prev_owner: str | None) -> str | None:
        ctx = self.ctx
        s_start = ctx.sents[ctx.sent_index(tok.idx)][0]
        plural = tok.lower_ in PRONOUNS_PLURAL
        # subjects earlier in the sentence come first: "the trust said it had overspent",
        # "X asked for a loan from Y after its reserves fell"; an indefinite one ("a small
        # trust will see its fees rise") names no organisation
        givers_verbs = _verbs_sharing_subject(tok.head) if tok.dep_ in ("dative", "dobj") \
            else ()
        for t in tok.sent:
            if t.i >= tok.i:
                break
            if t.idx < s_start or t.dep_ not in _SUBJECT_DEPS:
                continue
            if t.i not in ctx.token_org and t.lower_ in (
                    PRONOUNS_PLURAL if plural else PRONOUNS_SINGULAR):
                # "It has been given £6m by X, and it plans to spend £3m": the same body
                return self.resolve_pronoun(t, prev_owner)
            if t.head.i in givers_verbs:
                # "The Welsh Government gave it £15m", "The ICB will pay X and give it £1m":
                # "it" is not the giver
                continue
            if plural and t.i not in ctx.token_org and (
                    t.lower_ in self.lex.collective
                    or any(c.like_num for c in t.children if c.dep_ == "nummod")):
                return _NONE  # "the two trusts estimate the bank saves them £90,000"
            mention = ctx.token_org.get(t.i)
            if mention is not None:
                if ctx.owner_ok(mention):
                    return mention.name
            elif self.generic_noun(t) is not None and t.lower_ != "board":
                return self.resolve_generic(t, self.generic_noun(t) or ())
        o = ctx.last_org_before(tok.idx, (), s_start)
        givers = {ctx.token_org[c.i].name for v in givers_verbs for c in tok.doc[v].children
                  if c.dep_ in _SUBJECT_DEPS and c.i in ctx.token_org}
        if o is not None and o.name not in givers:
            return o.name
        # the organisation the previous sentence is about, then the owner of the last amount
        got = self._previous_subject(tok)
        if got is not None:
            return got
        if prev_owner is not None:
            return prev_owner
        if plural:
            return _NONE
        # bodies that have finances of their own before those that report on them
        floor = max(self._story_floor(tok.idx), ctx.sents[max(0, ctx.sent_index(tok.idx) - 3)][0])
        o = ctx.last_org_before(tok.idx, self.lex.owner_types, floor)
        if o is None:
            o = ctx.last_org_before(tok.idx, (), self._story_floor(tok.idx))
        return o.name if o else None

    def _previous_subject(self, tok: Token) -> str | None:
        """The organisation the previous sentence is about (its subject, or the subject's
        possessor: "The trust's finances add to the pressure. It is forecasting ...")."""
        ctx = self.ctx
        i = ctx.sent_index(tok.idx)
        if i == 0 or ctx.story_index(ctx.sents[i - 1][0]) != ctx.story_index(tok.idx):
            return None
        span = ctx.doc.char_span(*ctx.sents[i - 1], alignment_mode="expand")
        if span is None:
            return None
        for t in span:
            head = t.head
            # (the parser may join two of our sentences: a verb whose head lies outside the
            # sentence is its main verb too)
            main = head.dep_ == "ROOT" or not span.start <= head.head.i < span.end
            if t.dep_ not in _SUBJECT_DEPS or not main:
                continue
            named = self._appos_org(t) if t.i not in ctx.token_org else None
            if named is not None:
                return named
            for cand in [t] + [c for c in t.children if c.dep_ == "poss"]:
                mention = ctx.token_org.get(cand.i)
                if mention is not None and ctx.owner_ok(mention):
                    return mention.name
                if mention is None and self.generic_noun(cand) is not None \
                        and cand.lower_ != "board":
                    got = self.resolve_generic(cand, self.generic_noun(cand) or ())
                    if got != _NONE:
                        return got
        # the parser lost the subject: a sentence that opens with a name is about that body
        p_start = ctx.sents[i - 1][0]
        k = bisect.bisect_left(ctx.org_starts, p_start)
        if k < len(ctx.orgs) and OPENING_RE.fullmatch(ctx.text, p_start, ctx.orgs[k].start) \
                and ctx.owner_ok(ctx.orgs[k]):
            return ctx.orgs[k].name
        return None
