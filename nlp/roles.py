"""What an amount is (its role: deficit, savings, funding, ...): cue phrases and named patterns of
``data/money.toml`` read around the amount, the noun it modifies, its clause's subject and the
word it hangs from in the parse.
"""


from __future__ import annotations

import bisect
import re
from typing import TYPE_CHECKING

from nlp.money_context import PART_OF_PREVIOUS_RE, FoundAmount, MoneyContext
from nlp.money_parse import Lexicon, norm_phrase

if TYPE_CHECKING:
    from spacy.tokens import Token

_STOP_WORDS = frozenset(
    "of to in by for on from with at over against and or but which that who the a an its "
    "their his her this these those next last was is were are be been being has have had "
    "will would could should may might can than as into between after before during since "
    "while when where it they he she we you i not no".split()
)

# What may stand between two coordinated figures that share one verb or noun: a year or rate of
# the first, then "and"/"or" with a preposition repeated or the next body's name ("£5m in
# 2024/25 and £7m", "rises to £2m and to £3m", "A gets £4m and B £2m"), or the next item of an
# inline list of bodies with their figures in brackets ("A (£17m), B (£16m) and C (£14m)").
# Case-sensitive: the names are capitalised.
_COORDINATED_RE = re.compile(
    r"^\s*(?:(?:a|per|each)\s+(?:year|month|week|day)\s+)?"
    r"(?:(?:in|for|by)\s+[\w/–-]+\s+)?,?\s*(?:and|or)\s+"
    r"(?:(?:to|from|by|at)\s+|(?:[A-Z][\w’'&-]*\s+){1,6})?$"
    r"|^\s*\)\s*(?:,|,?\s*and|,?\s*or)\s+(?:[A-Z][\w’'&-]*,?\s+(?:and\s+)?){1,8}\($")


# --------------------------------------------------------------------------------------------
# Roles
# --------------------------------------------------------------------------------------------


def find_cues(text: str, lex: Lexicon) -> list[tuple[int, int, str | None]]:
    """Cue phrases in ``text`` as (start, end, role); neutral phrases have role None."""
    return [(m.start(), m.end(), lex.cue_role[norm_phrase(m.group())])
            for m in lex.cue_re.finditer(text)]


def _of_role(lex: Lexicon, right: str) -> str | None:
    """The role the noun phrase after "of" names: the amount is a quantity of that noun, its
    head ("£15m of interim cash support", "£5.7m of one-off income", "£2m of unplanned costs")."""
    m = re.match(r"\s*(?:worth\s+)?of\s+((?:[\w’'-]+\s*){1,4})", right)
    if not m:
        return None
    # the noun phrase after "of", up to a function word; its head is the last cue
    words = []
    for w in m.group(1).split():
        if w.lower() in _STOP_WORDS:
            break
        words.append(w)
    cues = [c for c in find_cues(" ".join(words), lex) if c[2]]
    return max(cues, key=lambda c: c[1])[2] if cues else None


def _compound_window(ctx: MoneyContext, f: FoundAmount, right: str) -> str:
    """The words right after an amount that it modifies ("£35m deficit control total")."""
    doc = ctx.doc
    if ctx.tagged:
        span = doc.char_span(f.end, min(len(ctx.text), f.end + len(right)),
                             alignment_mode="expand")
        if span is None:
            return ""
        end = f.end
        seen_noun = False
        taken = 0
        # "its £118m, seven-year services contract": a comma before a hyphenated modifier
        comma = re.match(r",\s*\w+-\w+", ctx.text[f.end:f.end + 40]) is not None
        limit = 9 if comma else 4
        for tok in span:
            if tok.idx < f.end:
                continue  # the multiplier token ("m") shared with the amount
            if taken >= limit:
                break
            taken += 1
            if comma and taken == 1 and tok.text == ",":
                continue
            if comma and tok.pos_ == "NUM" and not seen_noun:
                continue
            if tok.pos_ in ("NOUN", "PROPN") or (tok.pos_ == "ADJ" and not seen_noun):
                seen_noun = seen_noun or tok.pos_ != "ADJ"
                end = tok.idx + len(tok.text)
            elif tok.text in "-–":
                continue
            else:
                break
        return ctx.text[f.end:end].strip()
    words = []
    for m in re.finditer(r"[\w’'-]+|[^\w\s]", right):
        w = m.group().lower()
        if not re.match(r"[\w’'-]", w) or w in _STOP_WORDS or len(words) >= 4:
            break
        words.append(m.group())
    return " ".join(words)


def amount_role(ctx: MoneyContext, f: FoundAmount, prev_end: int, next_start: int
                ) -> tuple[str, str]:
    """(role, how it was decided) for one amount."""
    role, how, above_plan = _role_from_context(ctx, f, prev_end, next_start)
    if above_plan and role in ctx.lex.spending_roles:
        # "spending is running £3m above plan" is a shortfall against plan, like "£0.65m more
        # than planned"; "income was £0.2m ahead of plan" stays income (ruling 15)
        return "gap", "pattern:spending_above_plan"
    if role == "deficit" and how in ("left", "compound", "nearest") and \
            _shortfall_against_plan(ctx, f):
        return "gap", "pattern:shortfall_against_plan"
    if how in _GUESSED_HOWS:
        whole = _whole_of_which(ctx, f)
        if whole is not None:
            return whole, "partitive_of_which"
    return role, how


# Ways of reading a role that are guesses from words near the amount, not its own evidence
_GUESSED_HOWS = frozenset({"nearest", "default", "run_of_figures", "section_heading"})
_OF_WHICH_RE = re.compile(r"\bof\s+(?:which|whom)\b", re.IGNORECASE)


def _whole_of_which(ctx: MoneyContext, f: FoundAmount) -> str | None:
    """The role of the amount that a later one is a part of through "of which": "paid £41m
    under the contract, of which £17m was interest and £8m was for services"."""
    s_start = ctx.sents[f.sent][0]
    marks = list(_OF_WHICH_RE.finditer(ctx.text, s_start, f.parsed.start))
    if not marks:
        return None
    mark = marks[-1]
    wholes = [o for o in ctx.found if o.sent == f.sent and o.end <= mark.start() and o.role]
    return wholes[-1].role if wholes else None


def _shortfall_against_plan(ctx: MoneyContext, f: FoundAmount) -> bool:
    """Whether the deficit word nearest the amount is "shortfall" and the passage measures it
    against a plan, target or savings (then it is a gap, not a deficit)."""
    lex, text = ctx.lex, ctx.text
    s_start, s_end = ctx.sents[f.sent]
    lo, hi = max(s_start, f.parsed.start - 50), min(s_end, f.end + 25)
    deficit_words = [(c[0] + lo, c[1] + lo) for c in find_cues(text[lo:hi], lex)
                     if c[2] == "deficit"]
    if not deficit_words:
        return False
    near = min(deficit_words, key=lambda c: f.parsed.start - c[1] if c[1] <= f.parsed.start
               else c[0] - f.end)
    if not lex.shortfall_cue_re.fullmatch(text, near[0], near[1]):
        return False
    lo = s_start
    if f.sent > 0 and ctx.story_index(ctx.sents[f.sent - 1][0]) == f.story:
        lo = ctx.sents[f.sent - 1][0]
    context = text[lo:near[0]] + " " + text[near[1]:s_end]
    return lex.shortfall_context_re.search(context) is not None


def _role_from_context(ctx: MoneyContext, f: FoundAmount, prev_end: int, next_start: int
                       ) -> tuple[str, str, bool]:
    lex, text = ctx.lex, ctx.text
    c_start, c_end = f.clause
    right = text[f.end:min(c_end, next_start)]
    q_start = f.parsed.start
    left = text[max(c_start, prev_end):q_start]
    positive = False
    for rx, role, name in lex.right_patterns:
        if rx.match(right):
            if role == "none":
                positive = True
                break
            return role, f"pattern:{name}", False
    if not positive and _from_funder(ctx, f):
        return "funding", "pattern:right_funding_from_funder", False
    clause_left = text[c_start:q_start]
    if not clause_left.strip() and text[:q_start].rstrip().endswith("("):
        # a figure in brackets after a name is its own clause: read the sentence up to it
        # ("sums go to Alder Trust (£7m)")
        clause_left = text[ctx.sents[f.sent][0]:q_start]
    for left_rx, right_rx, role, name in lex.around_patterns:
        if left_rx.search(clause_left) and right_rx.match(right):
            return role, f"pattern:{name}", positive
    if not positive and ctx.previous is not None and ctx.previous.sent == f.sent and \
            ctx.previous.story == f.story and ctx.previous.end <= q_start and \
            _COORDINATED_RE.match(text[ctx.previous.end:q_start]) and \
            _compound_role(ctx, f, right) is None and _of_role(lex, right) is None:
        # "lifts capital to £13.4bn in 2026/27 and to £14bn by 2028/29", "A gets £21m and B
        # £9m": a figure coordinated with the one before, its verb or noun left out, is the
        # same kind of money, unless it names its own ("a £5m deficit and a £2m surplus")
        return ctx.previous.role, "coordinated", positive
    for rx, role, name in lex.left_patterns:
        if rx.search(clause_left):
            if role == "previous":  # "had valued it at £125m": what the text last valued
                if ctx.previous is None or ctx.previous.story != f.story:
                    continue
                return ctx.previous.role, "previous", positive
            if role == "previous_in_sentence":  # "a surplus of £10.6m, later raised to £14.6m"
                if ctx.previous is None or ctx.previous.sent != f.sent:
                    continue
                return ctx.previous.role, f"pattern:{name}", positive
            if role == "elided_noun":  # "B's was £18.5m" after "were set control totals"
                got = _previous_sentence_cue(ctx, f)
                if got is None:
                    continue
                return got, f"pattern:{name}", positive
            if role == "subject":  # "and up from £2.4bn": what the clause's subject is
                got = _subject_role(ctx, f)
                if got is None:
                    continue
                return got, "subject", positive
            if role == "funding" and not positive:
                # "awarded its £118m, seven-year contract": the noun beats the verb
                comp = _compound_role(ctx, f, right)
                if comp is not None:
                    return comp, "compound", positive
                of_noun = _of_role(lex, right)
                if of_noun is not None:  # "adding £8.4m of unplanned costs"
                    return of_noun, "of", positive
                words = list(re.finditer(r"\S+", clause_left))
                near = clause_left[words[-6].start():] if len(words) > 6 else clause_left
                if any(r == "contract_value" for _, _, r in find_cues(near, lex)):
                    # "wanted the contract's value raised to £4.6m"
                    return "contract_value", "left", positive
            return role, f"pattern:{name}", positive
    if not positive:
        comp_role = _compound_role(ctx, f, right)
        if comp_role is not None:
            return comp_role, "compound", positive
    if ctx.previous is not None and ctx.previous.sent == f.sent and PART_OF_PREVIOUS_RE.match(
            right):
        # "the backlog had reached £10.2bn and £1.8bn of it was high risk": a part of the
        # amount before is the same kind of money
        return ctx.previous.role, "partitive", positive
    of_role = None if positive else _of_role(lex, right)
    # the last few words before the amount ("a deficit of", "save", "spent")
    words = list(re.finditer(r"\S+", left))
    window = left[words[-6].start():] if len(words) > 6 else left
    cues = find_cues(window, lex)
    if cues:
        last = max(cues, key=lambda c: c[1])
        if last[2] is None:  # a neutral phrase ("adding up to"): look before it
            named = [c for c in cues if c[2] and c[1] <= last[0]]
            last = max(named, key=lambda c: c[1]) if named else None
        if last is not None:
            if of_role:
                # the noun the amount is a quantity of beats a cue before it ("the surplus
                # depended on £5.7m of one-off income", "lost £15bn of funding")
                return of_role, "of", positive
            if last[2] == "cost" and ctx.parsed:
                paid = _payee_role(ctx, f)
                if paid is not None:
                    return paid, "payee", positive
            return last[2], "left", positive
    if of_role:
        return of_role, "of", positive
    # what the subject of the amount's clause is ("its agency bill is more than £14m")
    got = _subject_role(ctx, f)
    if got is not None:
        return got, "subject", positive
    # the word the amount hangs from in the parse ("£9m was spent on ...")
    if ctx.parsed:
        span = ctx.doc.char_span(f.start, f.end, alignment_mode="expand")
        cur = span.root if span is not None else None
        s_start, s_end = ctx.sents[f.sent]
        for _ in range(3):
            if cur is None or cur.head is cur or not s_start <= cur.head.idx < s_end:
                break
            cur = cur.head
            # the head with its modifiers first ("capital investment" is spending, a bare
            # "investment" funding)
            modified = " ".join([*(c.lower_ for c in cur.lefts if c.dep_ in ("compound", "amod")),
                                 cur.lower_])
            role = (lex.cue_role.get(modified) or lex.cue_role.get(cur.lower_)
                    or lex.cue_role.get(cur.lemma_.lower())
                    or (lex.head_verbs.get(cur.lemma_.lower()) or lex.head_verbs.get(cur.lower_)
                        if cur.pos_ == "VERB" else None))
            if role == "cost":
                role = _payee_role(ctx, f) or role
            if role:
                return role, "head", positive
            if cur.pos_ == "VERB":
                break  # only the amount's own verb: "... and cut its spending to £23m" does not
                # reach the verb of the clause before it
    # the nearest cue in the clause, then in the sentence
    nearest = _nearest_cue(ctx, f)
    if nearest:
        return nearest, "nearest", positive
    heading = ctx.structure.heading_before(f.start) if ctx.structure is not None else None
    if heading is not None:
        # a section headed by a measure ("Savings", "Capital programme") is about that kind
        # of money where the sentence names none
        cues = [c for c in find_cues(heading.text, lex) if c[2]]
        if cues:
            return max(cues, key=lambda c: c[1])[2], "section_heading", positive
    same = [o for o in ctx.found if o.story == f.story and o.end <= f.parsed.start and o.role
            and o.parsed.value == f.parsed.value and o.currency == f.currency]
    if same:
        # "told to find £27m ... 'You cannot take £27m out of a hospital'": a figure the story
        # gave before, named again without its kind, is the same money
        return same[-1].role, "repeated_figure", positive
    previous = ctx.previous
    if previous is not None and previous.story == f.story and f.sent - previous.sent <= 1 \
            and previous.role:
        # "X will receive £28m. Y gets £24m and Z £21m": a figure whose sentence names no kind
        # of money goes on the run of figures just before it
        return previous.role, "run_of_figures", positive
    before = _previous_sentence_cue(ctx, f, same_paragraph=True)
    if before is not None:
        # "Capital will be bid for by trusts. Two schemes have been named: a £6m unit ...": a
        # figure whose sentence names no kind of money is the kind the sentence before names
        return before, "previous_sentence_cue", positive
    return "other", "default", positive


_PAY_LEMMAS = frozenset({"pay"})
_PUBLIC_TYPES = frozenset({"provider", "commissioner", "national_body", "government"})


def _payee_role(ctx: MoneyContext, f: FoundAmount) -> str | None:
    """What a payment named by its payee is: money paid to an NHS body or a department is
    funding ("agreed to pay Redwater CCG £5.7m"), money paid to a supplier is the value of its
    contract ("pay a partner, Northgate Clinical Ltd, up to £2.5m")."""
    span = ctx.doc.char_span(f.start, f.end, alignment_mode="expand")
    if span is None:
        return None
    verb = span.root
    for _ in range(3):
        if verb.head is verb:
            break
        verb = verb.head
        if verb.pos_ == "VERB":
            break
    if verb.lemma_.lower() not in _PAY_LEMMAS:
        return None
    for c in verb.children:
        if c.dep_ not in ("dative", "dobj") or c.i in ctx.amount_tokens:
            continue
        for cand in [c, *(a for a in c.children if a.dep_ == "appos")]:
            mention = ctx.token_org.get(cand.i)
            kind = mention.type if mention is not None else _short_name_type(ctx, cand)
            if kind in _PUBLIC_TYPES:
                return "funding"
            if kind == "company":
                return "contract_value"
    return None


def _short_name_type(ctx: MoneyContext, token: Token) -> str | None:
    """The type of the organisation a bare proper name stands for when it is the first word of
    exactly one organisation named in the document ("pay Wetherdale" after "Wetherdale Community
    Health")."""
    if token.pos_ != "PROPN":
        return None
    word = token.text.lower()
    kinds = {org.get("type") for org in ctx.doc._.organisations or []
             if org.get("name", "").lower().split()[:1] == [word]}
    return kinds.pop() if len(kinds) == 1 else None


def _compound_role(ctx: MoneyContext, f: FoundAmount, right: str) -> str | None:
    """The role named by the noun the amount modifies ("a £35m deficit control total")."""
    comp = _compound_window(ctx, f, right)
    cues = [c for c in find_cues(comp, ctx.lex) if c[0] == 0 or comp[c[0] - 1] == " "]
    if cues:
        return max(cues, key=lambda c: c[1])[2]
    return None


_SUBJECT_PATH_DEPS = frozenset({"attr", "dobj", "pobj", "prep", "conj", "advmod", "acomp",
                                "npadvmod", "quantmod", "nummod", "oprd"})


def _subject_role(ctx: MoneyContext, f: FoundAmount) -> str | None:
    """The role named by the subject of the verb the amount depends on: "its agency bill is
    more than £14m", "turnover is budgeted at £900m", "the bill was ..., and up from £2.4bn"."""
    if not ctx.parsed:
        return None
    span = ctx.doc.char_span(f.start, f.end, alignment_mode="expand")
    if span is None:
        return None
    cur = span.root
    for _ in range(4):
        if cur.dep_ not in _SUBJECT_PATH_DEPS or cur.head is cur:
            return None
        cur = cur.head
        if cur.pos_ in ("VERB", "AUX"):
            break
    else:
        return None
    lex = ctx.lex
    if not any(c.dep_ == "nsubjpass" for c in cur.children):
        # an active verb that names the money itself: "the deal will cost the DHSC £400m"
        verb_role = lex.cue_role.get(cur.lower_) or lex.cue_role.get(cur.lemma_.lower())
        if verb_role:
            return verb_role
    for c in cur.children:
        if c.dep_ in ("nsubj", "nsubjpass") and c.i not in ctx.amount_tokens:
            return (ctx.lex.cue_role.get(c.lower_) or ctx.lex.cue_role.get(c.lemma_.lower())
                    or ctx.lex.subject_nouns.get(c.lower_))
    return None


_FROM_RE = re.compile(r"\s+(?:a\s+year\s+|a\s+month\s+)?from\s+(?:the\s+)?")
_FROM_CUE_RE = re.compile(r"\b(?:paid\s+for|funded|financed|backed)\s+(?:[\w-]+\s+){0,3}?with\s+"
                          r"(?:an?\s+)?$|\b(?:grant|allocation|support)\s+of\s+$", re.IGNORECASE)


def _from_funder(ctx: MoneyContext, f: FoundAmount) -> bool:
    """Whether the amount is money that comes from a funder the text names right after it:
    "paid for with £60,000 from NHS Brimley Vale ICB" (a commissioner, government or national
    body; ``funder_types`` and commissioners), after words that say it pays for something."""
    m = _FROM_RE.match(ctx.text, f.end)
    if m is None or not _FROM_CUE_RE.search(ctx.text, max(0, f.parsed.start - 60),
                                           f.parsed.start):
        return False
    i = bisect.bisect_left(ctx.org_starts, m.end())
    if i >= len(ctx.orgs) or ctx.orgs[i].start != m.end():
        return False
    return ctx.orgs[i].type in (*ctx.lex.funder_types, "commissioner")


def _previous_sentence_cue(ctx: MoneyContext, f: FoundAmount, same_paragraph: bool = False
                           ) -> str | None:
    """The role of the last cue in the sentence before the amount's, in the same story (and
    paragraph, with ``same_paragraph``)."""
    if f.sent == 0:
        return None
    p_start, p_end = ctx.sents[f.sent - 1]
    if ctx.story_index(p_start) != f.story:
        return None
    if same_paragraph and ctx.paragraph_index(p_start) != ctx.paragraph_index(f.start):
        return None
    cues = [c for c in find_cues(ctx.text[p_start:p_end], ctx.lex) if c[2]]
    return max(cues, key=lambda c: c[1])[2] if cues else None


def _nearest_cue(ctx: MoneyContext, f: FoundAmount) -> str | None:
    """The role of the cue nearest the amount, in its clause first, then in its sentence."""
    lex, text = ctx.lex, ctx.text
    c_start, c_end = f.clause
    s_start, s_end = ctx.sents[f.sent]
    for lo, hi in ((c_start, c_end), (s_start, s_end)):
        best = None
        for cs, ce, role in find_cues(text[lo:hi], lex):
            cs, ce = cs + lo, ce + lo
            if role is None or f.parsed.start <= cs < f.end:
                continue
            dist = f.parsed.start - ce if ce <= f.parsed.start else cs - f.end
            if dist < 0:
                continue
            if cs >= f.end and "," in text[f.end:cs] and any(
                    r for s_, _, r in find_cues(text[lo:f.parsed.start], lex) if r):
                # "planned savings of £21m but expects to deliver £15m, leaving a hole": a
                # cue after a comma names a consequence, not the amount
                continue
            if best is None or dist < best[0]:
                best = (dist, role)
        if best:
            return best[1]
    return None


