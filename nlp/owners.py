"""Whose an amount is (ruling 16): the subject, possessor or recipient the parse ties it to,
back-references ("the trust", "its", "the system") resolved through the salience of the bodies in
play (:mod:`nlp.owner_references`), ``None`` for sectors, several bodies together and unnamed
bodies.

Figures given for several bodies at once (respectively, gapped, combined) are resolved by
:mod:`nlp.owner_coordination`; figures whose sentence names no owner take the body their passage
is about (:mod:`nlp.owner_topic`), not the owner of the amount before them.
"""


from __future__ import annotations

import bisect
import re

from spacy.tokens import Token

from nlp.money_context import (
    PART_OF_PREVIOUS_RE,
    REQUEST_LEMMAS,
    FoundAmount,
    MoneyContext,
    OrgMention,
)
from nlp.owner_coordination import NOBODY, SUBJECT_DEPS, CoordinationOwners
from nlp.owner_named import (
    GENERIC_RECIPIENT_HOWS,
    contract_awarder,
    funder_in_sentence,
    passive_agent_owner,
    per_head_of_people,
    where_clause_owner,
)
from nlp.owner_references import (
    OPENING_RE,
    PRONOUNS_PLURAL,
    PRONOUNS_SINGULAR,
    ReferenceOwners,
)
from nlp.owner_topic import nobody_subject, section_owner, topic_owner

_SUBJECT_DEPS = SUBJECT_DEPS
_DISTRIBUTIVE = frozenset({"each", "every"})


# --------------------------------------------------------------------------------------------
# Organisations
# --------------------------------------------------------------------------------------------

_THE_OPENING_RE = re.compile(r"[Tt]he\s+")
# a name followed by its figure in brackets or after a dash
# a name then its figure: "A (£17m)", "A – £17m", "the heaviest was A, at £39m"
_NAME_THEN_FIGURE_RE = re.compile(r"\s?\(\s?|\s+[–—-]\s+|,?\s+at\s+")
_NONE = NOBODY
# a figure in apposition to the one before it ("£16.3m in the red, a deterioration of £6.4m")
_APPOSITION_RE = re.compile(r"[^,;.]{0,30}?,\s+(?:a|an)\s+(?:[\w-]+\s+){1,3}?(?:of\s+)?")
# roles whose money a relative clause's subject holds ("the £1.1bn that X set aside"), unlike
# a limit or an allocation that one body sets for another
_HOLDER_SAYS_ROLES = frozenset({"budget", "cost", "income", "savings", "spending"})
# a sentence that opens by taking a part of the figure before it ("Of the total, £350m")
_OF_THE_TOTAL_RE = re.compile(
    r"\s*Of\s+(?:the|this|that|these|those|it)(?:\s+(?:total|sum|amount|money|package|"
    r"pot|figure))?\s*,\s*(?:some\s+|about\s+|around\s+|almost\s+|nearly\s+)?")
# a sentence that opens by placing itself at a body ("At X Trust, ...")
_FRAME_AT_RE = re.compile(r"(?:At|Within|Inside)\s+(?:the\s+)?")
# a figure pointing back to the one before it ("This £124.3bn limit", "that £5m")
_DEMONSTRATIVE_RE = re.compile(r"\b(?:[Tt]his|[Tt]hat|[Tt]hese|[Tt]hose)\s+$")


def _recipient_of_money_noun(of: Token) -> Token | None:
    """The "to" object of the noun an "of" names ("£15m of deficit support to the system"
    gives "system")."""
    for noun in of.children:
        if noun.dep_ != "pobj":
            continue
        for c in noun.children:
            if c.dep_ == "prep" and c.lower_ == "to":
                return next((p for p in c.children if p.dep_ == "pobj"), None)
    return None


def _relative_that(verb: Token) -> bool:
    """Whether ``verb`` heads a relative clause the parser took for a complement: "that"
    right after a noun ("the £18m control total that NHS England agreed with it"): its subject
    is the agent of an aside, not the subject of the sentence."""
    for c in verb.children:
        if c.dep_ == "mark" and c.lower_ == "that" and c.i > 0 \
                and verb.doc[c.i - 1].pos_ in ("NOUN", "PROPN"):
            return True
    return False


class OrgResolver(ReferenceOwners, CoordinationOwners):
    """Whose money an amount is (ruling 16): the subject, possessor or recipient the parse
    ties it to, back-references resolved to named organisations, ``None`` for sectors,
    several bodies together and unnamed bodies."""

    def __init__(self, ctx: MoneyContext) -> None:
        self.ctx = ctx
        self.lex = ctx.lex
        self.how = "none"  # the rule that decided the last owner (an amount's why)
        self.via = ""  # the back-reference it went through ("salience:the_trust")
        self.reported = False
        # bodies a story can be about as owner of its figures (a national body or a regulator
        # leading a story mostly reports on others' money)
        self.topic_types = (*self.lex.owner_types, "company", "government")

    def _object_possessor(self, verb: Token, prev_owner: str | None) -> str | None:
        """The body that possesses the object of ``verb`` ("push its deficit"), if any."""
        for c in verb.children:
            if c.dep_ != "dobj" or c.i in self.ctx.amount_tokens:
                continue
            for p in c.children:
                if p.dep_ == "poss":
                    got = self.evaluate(p, prev_owner)
                    if got is not None and got != _NONE:
                        return got
        return None

    def evaluate(self, tok: Token, prev_owner: str | None, depth: int = 0) -> str | None:
        """The owner a subject/possessor token names; None when it names nothing."""
        ctx = self.ctx
        mention = ctx.token_org.get(tok.i)
        if mention is not None:
            if self._coordinated_bodies(tok, mention):
                return _NONE  # "X and Y trusts have a backlog of £200m": several bodies'
            return mention.name if ctx.owner_ok(mention) else None
        low = tok.lower_
        named = self._appos_org(tok)
        if named is not None:
            self.via = "apposition"
            return named
        if low in PRONOUNS_PLURAL:
            # "their plans assume savings of £488m": several bodies' money, unless "they" is
            # a group named as one ("the north west London CCGs ... they")
            self.via = f"salience:{low}"
            got = self.resolve_pronoun(tok, None)
            if got is not None and got != _NONE \
                    and got.split()[-1].lower() in self.lex.collective:
                return got
            return _NONE
        if low in PRONOUNS_SINGULAR:
            self.via = f"salience:{low}"
            return self.resolve_pronoun(tok, prev_owner)
        if low in self.lex.collective or tok.pos_ == "NUM" or tok.like_num:
            # "the pair", "the trust sector", "64 trusts", "Another 35"
            if self._part_of_amount(tok):
                return None  # "Most of the £2.2m gap sits in ...": a share of a figure
            if not any(c.i in ctx.token_org for c in tok.children if c.dep_ != "compound"):
                return _NONE
        types = self.generic_noun(tok)
        if low == "board" and (tok.dep_ in _SUBJECT_DEPS or tok.dep_ == "dative"):
            # (and the board given money: "The Welsh Government gave the board £18m")
            # "The board reported a deficit of £16m": a health board named so, else the body
            # whose board it is (the one the story is about)
            self.via = "salience:the_board"
            floor = self._story_floor(tok.idx)
            return (self.ctx.salient_org(tok.idx, (), floor, name_word="board")
                    or self.ctx.salient_org(tok.idx, self.lex.owner_types, floor))
        if types is not None and tok.lower_ != "board":
            self.via = f"salience:the_{low}"
            return self.resolve_generic(tok, types)
        if depth < 2 and (low in self.lex.finance_nouns or self._is_cue(tok)):
            for c in tok.children:
                if c.dep_ == "poss":
                    got = self.evaluate(c, prev_owner, depth + 1)
                    if got is not None:
                        return got
                if c.dep_ == "compound" and c.i in ctx.token_org:
                    return self.evaluate(c, prev_owner, depth + 1)
            for c in tok.children:
                if c.dep_ == "prep" and c.lower_ in ("for", "at", "of"):
                    for p in c.children:
                        if p.dep_ == "pobj":
                            got = self._pp_owner(p)
                            if got is not None:
                                return got
        if depth == 0 and tok.dep_ in _SUBJECT_DEPS and tok.pos_ == "NOUN" \
                and tok.lemma_.lower() in self.lex.staff_nouns:
            # "a practice manager at Orchard Row Surgery took £48,000": the body the person
            # works at
            for c in tok.children:
                if c.dep_ == "prep" and c.lower_ == "at":
                    for p in c.children:
                        if p.dep_ == "pobj" and p.i in ctx.token_org:
                            self.via = "staff_at_body"
                            return self._pp_owner(p)
        if depth == 0 and tok.dep_ in _SUBJECT_DEPS and tok.pos_ == "NOUN" \
                and low not in self.lex.report_nouns and tok.lemma_.lower() not in \
                self.lex.report_nouns:
            # "the trust's main site has a backlog of £74m": the subject's possessor (but "the
            # regulator's figure" is a reporter's)
            for c in tok.children:
                if c.dep_ == "poss":
                    got = self.evaluate(c, prev_owner, depth + 1)
                    if got is not None and got != _NONE:
                        return got
        return None

    def _part_of_amount(self, tok: Token) -> bool:
        """Whether a quantifier ("most", "half") takes a share of an amount through "of":
        "Most of the £2.2m gap" says nothing about whose the gap is."""
        for c in tok.children:
            if c.dep_ == "prep" and c.lower_ == "of":
                if any(t.i in self.ctx.amount_tokens for t in c.subtree):
                    return True
        return False

    def _coordinated_bodies(self, tok: Token, mention: OrgMention) -> bool:
        """Whether a subject names several bodies joined by "and" ("X and Y have ...")."""
        if tok.dep_ not in _SUBJECT_DEPS:
            return False
        ctx = self.ctx
        for t in ctx.doc[tok.i:]:
            if ctx.token_org.get(t.i) is not mention:
                break
            for c in t.children:
                if c.dep_ == "conj" and c.i in ctx.token_org \
                        and ctx.token_org[c.i] is not mention:
                    return True
        return False

    def _is_cue(self, tok: Token) -> bool:
        role = self.lex.cue_role.get(tok.lower_)
        return role is not None

    def _pp_owner(self, tok: Token) -> str | None:
        mention = self.ctx.token_org.get(tok.i)
        if mention is not None:
            return mention.name if self.ctx.owner_ok(mention) else None
        if tok.lower_ in _DISTRIBUTIVE and per_head_of_people(self.ctx, tok, self.generic_noun):
            return None  # "pays £985 a week for each of the residents": a rate, not bodies'
        if tok.lower_ in self.lex.collective:
            return _NONE
        for c in tok.children:
            # "the cost of Saltmarsh's new hospital": the possessor of the thing paid for
            if c.dep_ == "poss" and c.i in self.ctx.token_org:
                mention = self.ctx.token_org[c.i]
                return mention.name if self.ctx.owner_ok(mention) else None
        return None

    def owner(self, f: FoundAmount, prev_owner: str | None) -> str | None:
        """The owner of ``f``; ``self.how`` then names the rule that decided it."""
        self.how, self.via = "none", ""
        self.reported = False  # a body reports the figure ("X estimated that ... £1bn")
        got = self._owner(f, prev_owner)
        if got is not None and self.via and self.how.startswith(("parse", "sentence")):
            self.how = f"{self.how}+{self.via}"
        if got is None and self.how == "none":
            got = section_owner(self.ctx, f.start)
            if got is not None:
                self.how = "section_heading"
        if got is None and f.role == "funding" and self.how in GENERIC_RECIPIENT_HOWS:
            got = funder_in_sentence(self.ctx, f, self.generic_noun, self.resolve_generic)
            if got is not None:
                self.how = "funder_of_generic_recipients"
        return got

    def _owner(self, f: FoundAmount, prev_owner: str | None) -> str | None:
        ctx, doc = self.ctx, self.ctx.doc
        combined = (self.lex.combined_left_re.search(ctx.text, max(f.clause[0],
                                                                   f.parsed.start - 60),
                                                     f.parsed.start)
                    or self.lex.combined_right_re.match(ctx.text[f.end:f.end + 40]))
        if combined:
            # "a combined deficit of £92m": several bodies' money, nobody's own; but a group or
            # system that acts as one owns its combined figure ("The group closed the year
            # with a combined deficit of £17m", "the ICS's aggregate control total")
            got = self._combined_owner(f, prev_owner)
            if got is not None:
                self.how = "combined_total_of_group"
                return got
            self.how = "combined_total"
            return None
        if f.role == "contract_value":
            s_start, s_end = ctx.sents[f.sent]
            if self.lex.joint_sentence_re.search(ctx.text, s_start, s_end):
                self.how = "joint_sentence"
                return None
            awarder = contract_awarder(ctx, f)
            if awarder is not None:
                self.how = "contract_awarder"
                return awarder
        respective = self._respective_owner(f)
        if respective is not None:
            self.how = "respectively"
            return respective
        if (f.role_source == "partitive" and ctx.previous is not None
                and ctx.previous.sent == f.sent
                and PART_OF_PREVIOUS_RE.match(ctx.text, f.end)):
            self.how = "partitive_previous"
            return ctx.previous.org  # "... reached £10.2bn and £1.8bn of it was high risk"
        # "Portsmouth Hospitals Trust (£34m)", "Fenwick Valley Trust – £14.2m"
        i = bisect.bisect_left(ctx.org_starts, f.parsed.start) - 1
        if i >= 0:
            o = ctx.orgs[i]
            joint = _NAME_THEN_FIGURE_RE.fullmatch(ctx.text, o.end, f.parsed.start)
            if joint is not None and o.end <= f.parsed.start and ctx.owner_ok(o):
                self.how = ("name_before_parenthesis" if "(" in joint.group()
                            else "name_before_at" if "at" in joint.group()
                            else "name_before_dash")
                return o.name
        gapped = self._gapped_owner(f)
        if gapped is not None:
            self.how = "gapped_coordination"
            return gapped
        place = where_clause_owner(ctx, f)
        if place is not None:
            self.how = "where_clause_of_named_body"
            return place
        span = doc.char_span(f.start, f.end, alignment_mode="expand")
        if span is None or not ctx.parsed:
            return self._fallback(f, prev_owner, None)
        root = span.root
        s_start, s_end = ctx.sents[f.sent]
        cur: Token = root
        seen = set()
        came_from: Token | None = None
        for depth in range(12):
            if cur.i in seen:
                break
            seen.add(cur.i)
            if (came_from is not None and came_from.dep_ in ("ccomp", "parataxis")
                    and cur.lemma_.lower() in self.lex.reporting_verbs):
                # ("it expects to spend £5m": the subject of an xcomp is the spender)
                # "X estimated that strikes cost £1bn": X reports, it does not own, and the
                # owner of an earlier amount is no better a guess
                reported = any(c.dep_ in _SUBJECT_DEPS and c.i in ctx.token_org
                               for c in cur.children)
                if reported:
                    prev_owner = None
                    self.reported = True
                # ... unless a body with finances of its own speaks of its own plans: "the
                # trust expects the new system to deliver savings of £3m"
                for c in cur.children:
                    if c.dep_ == "nsubj" and c.i not in ctx.token_org \
                            and self.generic_noun(c) is not None:
                        got = self.evaluate(c, None)
                        mention = next((o for o in ctx.orgs if o.name == got), None)
                        if mention is not None and mention.type in self.lex.owner_types:
                            self.how = "parse:speaker_own_plans"
                            return got
                break
            # the noun the amount modifies is its own ("the trust's £300m capital programme")
            own_np = depth == 0 or (depth == 1 and came_from is not None and came_from.dep_ in (
                "compound", "nummod", "amod", "quantmod", "nmod"))
            if came_from is not None and cur.pos_ == "VERB" and (
                    (came_from.dep_ == "prep" and came_from.lower_ in ("to", "at"))
                    or came_from.dep_ == "nsubj"):
                # (and "The £6m shortfall will push its deficit ...": the figure that moves
                # the object is its possessor's too)
                # "will push its deficit to £11.5m", "put the trust's cost at £4m": the figure
                # the object reaches is its possessor's
                got = self._object_possessor(cur, prev_owner)
                if got is not None:
                    self.how = "parse:object_possessor"
                    return got
            got = self._check_node(cur, own_np, prev_owner, f.role)
            if got is not None:
                self.how = "parse:nobody" if got == _NONE else f"parse:{cur.dep_ or 'root'}"
                return None if got == _NONE else got
            if cur.head is cur or not s_start <= cur.head.idx < s_end:
                break  # the parser's sentence can run across a line break
            came_from, cur = cur, cur.head
        return self._fallback(f, prev_owner, root)

    def _check_node(self, node: Token, own_np: bool, prev_owner: str | None, role: str
                    ) -> str | None:
        is_noun = node.pos_ in ("NOUN", "PROPN", "NUM", "SYM")
        if is_noun and own_np and role in _HOLDER_SAYS_ROLES:
            # "part of the £1.1bn that NHS England had set aside": the body that holds, spends
            # or set aside the money the clause tells of
            for c in node.children:
                if c.dep_ == "relcl":
                    for sub in c.children:
                        if sub.dep_ == "nsubj" and sub.i in self.ctx.token_org:
                            mention = self.ctx.token_org[sub.i]
                            if self.ctx.owner_ok(mention):
                                self.via = "relative_clause_holder"
                                return mention.name
        if is_noun:
            for c in node.children:
                if c.dep_ == "poss" and (own_np or node.lower_ in self.lex.finance_nouns
                                         or self._is_cue(node)):
                    got = self.evaluate(c, prev_owner)
                    if got is not None:
                        return got
                if c.dep_ == "prep" and c.lower_ in ("for", "at"):
                    for p in c.children:
                        if p.dep_ == "pobj":
                            got = self._pp_owner(p)
                            if got is not None:
                                return got
        if node.pos_ in ("VERB", "AUX") or any(c.dep_ in _SUBJECT_DEPS for c in node.children):
            if role == "funding" and node.lemma_.lower() not in REQUEST_LEMMAS:
                # funding belongs to its recipient: "handed Bristol CCG £20m", "gave £5m to X"
                # (but "asked NHS Improvement for £15m" is the asker's)
                for c in node.children:
                    target = c if c.dep_ in ("dative", "dobj") and c.lower_ != "to" else None
                    if c.dep_ in ("dative", "prep") and c.lower_ in ("to", "for"):
                        target = next((p for p in c.children if p.dep_ == "pobj"), None)
                    if c.dep_ == "prep" and c.lower_ == "of":
                        # "paid £15m of deficit support to the system": the recipient hangs
                        # on the kind of money
                        target = _recipient_of_money_noun(c)
                    elif c.dep_ == "agent":
                        # "£750,000 has been agreed by the ICB for X": the parser hangs the
                        # named recipient on the funder
                        target = next((q for p in c.children if p.dep_ == "pobj"
                                       for f in p.children
                                       if f.dep_ == "prep" and f.lower_ == "for"
                                       for q in f.children
                                       if q.dep_ == "pobj" and q.i in self.ctx.token_org), None)
                    elif c.dep_ == "dobj" and c.i in self.ctx.amount_tokens:
                        target = next((r for r in (_recipient_of_money_noun(p)
                                                   for p in c.children
                                                   if p.dep_ == "prep" and p.lower_ == "of")
                                       if r is not None), None)
                    if target is not None and target.i not in self.ctx.amount_tokens:
                        got = self.evaluate(target, prev_owner)
                        if got is not None and got != _NONE:
                            if c.dep_ == "agent":
                                self.via = "recipient_after_agent"
                            return got
            if (node.lemma_.lower() in self.lex.object_owner_verbs
                    or node.lower_ in self.lex.object_owner_verbs):
                # "strikes have cost the trust £4m", "fined its provider £18,500"
                for c in node.children:
                    if c.dep_ in ("dative", "dobj") and c.i not in self.ctx.amount_tokens \
                            and c.lower_ not in ("to", "which", "that"):
                        got = self.evaluate(c, prev_owner)
                        if got is not None:
                            return got
            for c in node.children:
                if c.dep_ == "prep" and c.lower_ == "for":
                    for p in c.children:
                        if p.dep_ == "pobj":
                            got = self._pp_owner(p)
                            if got is not None:
                                return got
            for c in node.children:
                if c.dep_ not in _SUBJECT_DEPS or c.i in self.ctx.amount_tokens:
                    continue
                if c.lower_ in ("that", "which", "who"):
                    if node.dep_ == "relcl":  # "the trust, which posted a £5m deficit"
                        antecedent = node.head
                        for _ in range(3):
                            # "X's plan for 2024-25, which proposed ...": past the year
                            if not (antecedent.like_num or antecedent.dep_ == "prep") \
                                    or antecedent.head is antecedent:
                                break
                            antecedent = antecedent.head
                        got = self.evaluate(antecedent, prev_owner)
                        if got is not None:
                            return got
                    continue
                if c.lower_ != "this":
                    got = self.evaluate(c, prev_owner)
                    if got is not None:
                        return got
            got = passive_agent_owner(self.ctx, node,
                                      lambda t: self.evaluate(t, prev_owner))
            if got is not None:
                self.via = f"passive_agent+{self.via}" if self.via else "passive_agent"
                return got
        return None

    def _fallback(self, f: FoundAmount, prev_owner: str | None, root: Token | None) -> str | None:
        ctx = self.ctx
        s_start, s_end = ctx.sents[f.sent]
        previous = ctx.previous
        if previous is not None and previous.sent == f.sent \
                and _APPOSITION_RE.fullmatch(ctx.text, previous.end, f.parsed.start):
            # "expects to be £16.3m in the red, a deterioration of £6.4m": the same body's
            self.how = "apposition_previous_amount"
            return previous.org
        inside: set[int] = set()
        if root is not None:
            head = root.head if root.dep_ in ("compound", "nummod", "quantmod") else root
            inside = {t.i for t in head.subtree}
        # subjects elsewhere in the sentence that are organisations or back-references
        best: tuple[int, str] | None = None
        nobody = False
        for tok in ctx.doc.char_span(s_start, s_end, alignment_mode="expand") or []:
            if tok.i in inside:
                continue
            mention = ctx.token_org.get(tok.i)
            if mention is not None and tok.head.i in ctx.token_org \
                    and ctx.token_org[tok.head.i] is mention and tok.head is not tok:
                continue  # judge a multi-word name by its root token
            opening = mention is not None and tok.dep_ != "poss" and OPENING_RE.fullmatch(
                ctx.text, s_start, mention.start) is not None
            if mention is None and tok.dep_ not in ("poss", "compound", "amod", "nmod") \
                    and _THE_OPENING_RE.fullmatch(
                    ctx.text, s_start, tok.idx) and self.generic_noun(tok) is not None:
                # "The CCG has spent £4m" where the parser lost the subject to a heading
                # above it: a back-reference opening the sentence is its subject
                opening = True
            if tok.dep_ not in _SUBJECT_DEPS and not opening:
                continue  # (an organisation opening the sentence is its subject)
            lo, hi = sorted((tok.idx, f.parsed.start))
            if ";" in ctx.text[lo:hi]:
                continue  # "X has set it a target of £20m; the board's own plan forecasts
                # £31.7m": a subject across a semicolon has a clause of its own
            if tok.head.dep_ in ("relcl", "acl") or _relative_that(tok.head) or (
                    tok.head.lemma_.lower() in self.lex.reporting_verbs
                    and any(c.dep_ in ("ccomp", "parataxis") for c in tok.head.children)):
                continue  # "..., which the union says falls short", "X said ..."
            got = None
            mention = ctx.token_org.get(tok.i)
            if mention is None and tok.lower_ in PRONOUNS_PLURAL and tok.dep_ in _SUBJECT_DEPS:
                # "Together they forecast a deficit of £45m" where the parse lost the figure:
                # several bodies' money, unless "they" is a group named as one
                got = self.evaluate(tok, prev_owner)
                nobody = nobody or got == _NONE
            if mention is not None:
                got = mention.name if ctx.owner_ok(mention) else None
            elif self.generic_noun(tok) is not None and tok.lower_ != "board":
                got = self.resolve_generic(tok, self.generic_noun(tok) or ())
                # "the hospital she ran in Cairns is forecasting ...": a new, unnamed body
                nobody = nobody or got == _NONE
            if got is None or got == _NONE:
                continue
            dist = abs(tok.idx - f.parsed.start) + (0 if tok.idx < f.parsed.start else 1000)
            if best is None or dist < best[0]:
                best = (dist, got)
        if best is not None:
            self.how = "sentence_subject"
            return best[1]
        previous = ctx.previous
        if previous is not None and previous.sent == f.sent:
            # "overspent by £991m – £31m worse than reported": the sentence's earlier figure
            # says whose this one is
            self.how = "previous_amount_same_sentence"
            return previous.org
        if previous is not None and previous.story == f.story \
                and _DEMONSTRATIVE_RE.search(ctx.text, max(0, f.parsed.start - 8), f.parsed.start):
            self.how = "previous_amount_demonstrative"  # "This £124.3bn limit ..."
            return previous.org
        if self.reported:
            self.how = "reported_by_another_body"  # a commentator's figure: no one body's
            return None
        if nobody or (root is not None and nobody_subject(self.ctx, root, self.generic_noun)):
            self.how = "sentence_subject_nobody"
            return None
        if previous is not None and previous.story == f.story \
                and _OF_THE_TOTAL_RE.fullmatch(ctx.text, s_start, f.parsed.start):
            # "Of the total, £350m is revenue funding": a part of the figure before it
            self.how = "part_of_previous_opening"
            return previous.org
        framed = self._framing_body(f)
        if framed is not None:
            self.how = "sentence_framed_at_body"
            return framed
        topic, how = topic_owner(self.ctx, f.parsed.start, self.topic_types)
        if topic is not None:
            self.how = how
        return topic

    def _framing_body(self, f: FoundAmount) -> str | None:
        """The body a sentence opens by placing itself at ("At Penhallow Trust, a payroll
        officer took £640,000"): what happened there is that body's."""
        ctx = self.ctx
        s_start = ctx.sents[f.sent][0]
        m = _FRAME_AT_RE.match(ctx.text, s_start)
        if m is None:
            return None
        i = bisect.bisect_left(ctx.org_starts, m.end())
        if i < len(ctx.orgs) and ctx.orgs[i].start == m.end() \
                and ctx.text[ctx.orgs[i].end:ctx.orgs[i].end + 1] == "," \
                and ctx.orgs[i].end < f.parsed.start and ctx.owner_ok(ctx.orgs[i]):
            return ctx.orgs[i].name
        return None

    def topic_owner(self, pos: int) -> str | None:
        """The body the passage at ``pos`` is about (:func:`nlp.owner_topic.topic_owner`);
        ``self.how`` names the rule."""
        got, how = topic_owner(self.ctx, pos, self.topic_types)
        if got is not None:
            self.how = how
        return got
