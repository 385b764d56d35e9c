"""Owners of figures given for several bodies at once (part of :class:`nlp.owners.OrgResolver`).

* coordinated bodies and coordinated figures paired in order ("X and Y had moved £3.4m and
  £3.2m respectively", "A, B and C – paid £21m, £17m and £12m");
* gapped coordinations ("X accounts for £18m of the gap and Y for £15m");
* combined figures: nobody's ("a combined deficit of £92m"), unless a group or system that acts
  as one owns them ("The group closed the year with a combined deficit of £17m").
"""

from __future__ import annotations

import bisect
import re
from typing import Any

from nlp.money_context import FoundAmount, MoneyContext, OrgMention
from nlp.money_parse import Lexicon

SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass", "csubj", "expl"})
NOBODY = "__none__"  # an explicit "nobody" (a sector, several bodies, an unnamed body)
_SUBJECT_DEPS = SUBJECT_DEPS
_NONE = NOBODY

_GAPPED_RE = re.compile(r"\s*(?:for|with|on|at)?\s*")
# what joins coordinated names or amounts ("A, B and C", "£3.4m and £3.2m")
_COORD_GAP_RE = re.compile(r"\s*(?:,|,?\s*and|&)\s*")
# coordinated bodies described by a relative clause that then gives their figures in order
_RELATIVE_AFTER_RE = re.compile(r",?\s+(?:which|who|that)\s+(?:have|had|has|report|reported|"
                                r"face|faced|forecast|expect)\b")
# coordinated bodies, then a short verb, then as many coordinated figures ("A, B and C – paid
# £21m, £17m and £12m"): paired in order
_SHORT_VERB_BETWEEN_RE = re.compile(r"\s*[–—-]?\s*(?:[a-z]+\s+){1,3}(?:of\s+)?")
_GAPPED_GENERIC_RE = re.compile(
    r"(?:,|\band|\bwhile|\bwhereas)\s+the\s+(?P<noun>[A-Za-z]+)\s+(?:for|with|on|at)\s+$")
_COORD_BEFORE_RE = re.compile(r"(?:,|\band|\bwhile|\bwhereas)\s+$")
_COMBINED_WORD_RE = re.compile(r"\b(?:combined|joint|aggregate|collective)\b", re.IGNORECASE)


class CoordinationOwners:
    """Owner rules for figures given for several bodies at once; mixed into
    :class:`nlp.owners.OrgResolver`, whose ``evaluate``, ``generic_noun`` and
    ``resolve_generic`` they use."""

    ctx: MoneyContext
    lex: Lexicon
    via: str
    evaluate: Any
    generic_noun: Any
    resolve_generic: Any

    def _combined_owner(self, f: FoundAmount, prev_owner: str | None) -> str | None:
        """The owner of a combined figure when the parse ties it to one body that stands
        for several ("the group", "the system", "the ICS"), else None."""
        ctx = self.ctx
        if not _COMBINED_WORD_RE.search(ctx.text, max(f.clause[0], f.parsed.start - 60),
                                        f.parsed.start):
            return None  # "provider deficits of £120m": unnamed bodies' share
        span = ctx.doc.char_span(f.start, f.end, alignment_mode="expand")
        if span is None or not ctx.parsed:
            return None
        cur, s_start, s_end = span.root, *ctx.sents[f.sent]
        for _ in range(8):
            for c in cur.children:
                if c.dep_ not in _SUBJECT_DEPS and c.dep_ != "poss":
                    continue
                # the subject itself or its possessor ("the system's plan was a combined ...")
                for cand in [c] + [p for p in c.children if p.dep_ == "poss"]:
                    if cand.lower_ in self.lex.group_nouns and cand.i not in ctx.token_org:
                        got = self.evaluate(cand, prev_owner)
                        return None if got in (None, _NONE) else got
            if cur.head.i == cur.i or not s_start <= cur.head.idx < s_end:
                break
            cur = cur.head
        return None

    def _respective_owner(self, f: FoundAmount) -> str | None:
        """Coordinated bodies and coordinated amounts paired in order: "X and Y had moved
        £3.4m and £3.2m respectively", "X and Y, which have overspends of £19.6m and £7.5m"."""
        ctx = self.ctx
        s_start, s_end = ctx.sents[f.sent]
        same = [a for a in ctx.found if a.sent == f.sent]
        k = next((i for i, a in enumerate(same) if a is f), None)
        if k is None or len(same) < 2:
            return None
        lo = hi = k
        while lo > 0 and _COORD_GAP_RE.fullmatch(ctx.text, same[lo - 1].end, same[lo].parsed.start):
            lo -= 1
        while hi + 1 < len(same) and _COORD_GAP_RE.fullmatch(
                ctx.text, same[hi].end, same[hi + 1].parsed.start):
            hi += 1
        run = same[lo:hi + 1]
        if len(run) < 2:
            return None
        respectively = "respectively" in ctx.text[run[-1].end:min(s_end, run[-1].end + 40)]
        i = bisect.bisect_left(ctx.org_starts, run[0].parsed.start) - 1
        group: list[OrgMention] = []
        while i >= 0 and ctx.orgs[i].start >= s_start:
            o = ctx.orgs[i]
            if group and not _COORD_GAP_RE.fullmatch(ctx.text, o.end, group[0].start):
                break
            group.insert(0, o)
            i -= 1
        if len(group) != len(run) or not all(ctx.owner_ok(o) for o in group):
            if respectively and ctx.parsed:
                return self._respective_phrase(f, run, k - lo)
            return None
        if not respectively and not _RELATIVE_AFTER_RE.match(ctx.text, group[-1].end) \
                and not _SHORT_VERB_BETWEEN_RE.fullmatch(ctx.text, group[-1].end,
                                                          run[0].parsed.start):
            return None
        return group[k - lo].name

    def _respective_phrase(self, f: FoundAmount, run: list[FoundAmount], index: int
                           ) -> str | None:
        """"The providers and the ICB ... £160m and £72m respectively": the coordinated noun
        phrases before the amounts, each read as an owner (a plural sector owns nothing)."""
        ctx = self.ctx
        s_start = ctx.sents[f.sent][0]
        span = ctx.doc.char_span(s_start, run[0].parsed.start, alignment_mode="contract")
        if span is None:
            return None
        for tok in reversed(span):
            if tok.dep_ != "conj" or tok.head.pos_ not in ("NOUN", "PROPN") \
                    or tok.head.i < span.start:
                continue
            members = [tok.head] + [c for c in tok.head.subtree
                                    if c.dep_ == "conj" and c.head.pos_ in ("NOUN", "PROPN")
                                    and c.i < span.end]
            if len(members) != len(run):
                return None
            got = self.evaluate(members[index], None)
            self.via = ""
            return None if got in (None, _NONE) else got
        return None

    def _gapped_owner(self, f: FoundAmount) -> str | None:
        """The organisation right before the amount in a gapped coordination: "X accounts for
        £18m of the gap and Y for £15m", "X will receive £21m, Y £24m and Z the rest"."""
        ctx = self.ctx
        s_start = ctx.sents[f.sent][0]
        m = _GAPPED_GENERIC_RE.search(ctx.text, max(s_start, f.parsed.start - 40),
                                      f.parsed.start)
        if m is not None and ctx.parsed:
            # "Providers accounted for £26.4m and the ICB for £6m": a back-reference
            span = ctx.doc.char_span(m.start("noun"), m.end("noun"), alignment_mode="expand")
            types = self.generic_noun(span.root) if span is not None else None
            if types is not None and span.root.lower_ != "board":
                got = self.resolve_generic(span.root, types)
                if got is not None and got != _NONE:
                    return got
        i = bisect.bisect_left(ctx.org_starts, f.parsed.start) - 1
        if i < 0:
            return None
        o = ctx.orgs[i]
        if o.start < s_start or not _GAPPED_RE.fullmatch(ctx.text, o.end, f.parsed.start):
            return None
        if not _COORD_BEFORE_RE.search(ctx.text, max(s_start, o.start - 12), o.start):
            return None
        return o.name if ctx.owner_ok(o) else None
