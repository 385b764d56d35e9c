"""Features of one amount for the learned role model (:mod:`nlp.role_model`).

``role_features`` turns an amount (its character offsets in a parsed ``Doc``) and what the
rules decided about it into a sparse dict of named features: the lemmas before and after it in
its clause (with distance buckets), the word it hangs from and the path to it, the verb that
governs it and that verb's subject, the noun it modifies ("a £5m deficit"), the preposition
before it ("of", "for", "to"), the cue phrases of ``data/money.toml`` around it and the role
each names, its place in the document's structure (list item, table, the heading above it, a
headline) and the rules' role and rule family. A feature that names a role is written
``name=role`` ("cueL=deficit": a deficit cue left of the amount), so the model can learn one
weight for "this source names the candidate role" shared by every role. Everything is read
around the one amount, so the cost per amount is a few dozen tokens.

The same function runs when training (``training/role_model.py``) and when extracting, so the
model sees at extraction time exactly the features it was trained on.
"""

from __future__ import annotations

from spacy.tokens import Doc, Span, Token

from nlp.money_context import clause_bounds
from nlp.money_parse import Lexicon
from nlp.roles import find_cues
from nlp.structure import DocStructure

# where a clause ends inside a sentence (the money component's clause split, simplified)
_HEADLINE_END = ".!?:;,”\"’)"
_SKIP_POS = frozenset({"PUNCT", "SPACE", "SYM", "NUM", "DET"})
_LEFT_WINDOW = 6
_RIGHT_WINDOW = 4
_CUE_WINDOW = 120  # characters either side of the amount searched for cue phrases


def rule_family(rule: str) -> str:
    """The family of a rule name: "pattern:left_overspend_by" -> "pattern"."""
    return rule.split(":", 1)[0].split("+", 1)[0]


def _bucket(distance: int) -> str:
    if distance <= 1:
        return "1"
    if distance <= 3:
        return "2-3"
    return "4+"


def _word(tok: Token) -> str:
    return tok.lemma_.lower() if tok.lemma_ else tok.lower_


def _line_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    lo = text.rfind("\n", 0, start) + 1
    hi = text.find("\n", end)
    return lo, len(text) if hi < 0 else hi


def _sentence_bounds(doc: Doc, span: Span, text: str, start: int, end: int) -> tuple[int, int]:
    """The amount's sentence, cut at line breaks (a list item or a headline is its own)."""
    lo, hi = _line_bounds(text, start, end)
    if doc.has_annotation("SENT_START"):
        sent = span.sent
        lo = max(lo, sent.start_char)
        hi = min(hi, sent.end_char)
    return lo, hi


def _window_features(feats: dict[str, float], tokens: list[Token], side: str, limit: int) -> None:
    words = [t for t in tokens if t.pos_ not in _SKIP_POS and not t.like_num][:limit]
    for distance, tok in enumerate(words, start=1):
        word = _word(tok)
        feats[f"{side}:{word}"] = 1.0
        feats[f"{side}{_bucket(distance)}:{word}"] = 1.0
    if words:
        feats[f"{side}_pos1:{words[0].pos_}"] = 1.0


def _parse_features(feats: dict[str, float], span: Span, s_lo: int, s_hi: int) -> None:
    """The word the amount hangs from, the path up to the governing verb, its subject."""
    root = span.root
    feats[f"dep:{root.dep_}"] = 1.0
    cur = root
    path: list[str] = []
    for step in range(1, 4):
        head = cur.head
        if head is cur or not s_lo <= head.idx < s_hi:
            break
        path.append(cur.dep_)
        feats[f"head{step}:{_word(head)}"] = 1.0
        feats[f"path:{'>'.join(path)}"] = 1.0
        if head.pos_ == "ADP":
            feats[f"head_prep:{head.lower_}"] = 1.0
            grand = head.head
            if grand is not head and s_lo <= grand.idx < s_hi:
                feats[f"prep_of:{head.lower_}>{_word(grand)}"] = 1.0
        if head.pos_ in ("VERB", "AUX"):
            feats[f"verb:{_word(head)}"] = 1.0
            feats[f"verb_path:{'>'.join(path)}:{_word(head)}"] = 1.0
            for child in head.children:
                if child.dep_ in ("nsubj", "nsubjpass") and not span.start <= child.i < span.end:
                    feats[f"subj:{_word(child)}"] = 1.0
            break
        cur = head


def _modified_noun(feats: dict[str, float], doc: Doc, span: Span, s_hi: int) -> None:
    """The noun right after the amount that it modifies ("£5m deficit", "£2m savings plan")."""
    for tok in doc[span.end:min(len(doc), span.end + 4)]:
        if tok.idx >= s_hi:
            break
        if tok.pos_ in ("NOUN", "PROPN"):
            feats[f"mod_noun:{_word(tok)}"] = 1.0
            return
        if tok.pos_ not in ("ADJ", "PUNCT", "NUM", "SYM") and tok.text not in "-–":
            return


def _prep_before(feats: dict[str, float], doc: Doc, span: Span, s_lo: int) -> None:
    """The preposition just before the amount (skipping qualifier words like "about")."""
    for tok in reversed(doc[max(0, span.start - 4):span.start]):
        if tok.idx < s_lo:
            return
        if tok.pos_ == "ADP" or tok.lower_ == "to":
            feats[f"prep_before:{tok.lower_}"] = 1.0
            return
        if tok.pos_ not in ("ADV", "ADJ", "PART", "SYM", "PUNCT"):
            return


def _cue_features(feats: dict[str, float], text: str, lex: Lexicon, start: int, end: int,
                  c_lo: int, c_hi: int, s_lo: int, s_hi: int) -> None:
    """Cue phrases of the lexicon around the amount, by side, scope and distance."""
    lo, hi = max(s_lo, start - _CUE_WINDOW), min(s_hi, end + _CUE_WINDOW)
    nearest: tuple[int, str] | None = None
    for cs, ce, role in find_cues(text[lo:hi], lex):
        cs, ce = cs + lo, ce + lo
        if role is None or start <= cs < end:
            continue
        left = ce <= start
        distance = len(text[ce:start].split()) if left else len(text[end:cs].split())
        scope = "clause" if c_lo <= cs < c_hi else "sent"
        side = "L" if left else "R"
        feats[f"cue{side}={role}"] = 1.0
        feats[f"cue{side}_{scope}={role}"] = 1.0
        if distance <= 3:
            feats[f"cue{side}_near={role}"] = 1.0
        if nearest is None or distance < nearest[0]:
            nearest = (distance, role)
    if nearest is not None:
        feats[f"cue_nearest={nearest[1]}"] = 1.0


def _pattern_features(feats: dict[str, float], text: str, lex: Lexicon, start: int, end: int,
                      c_lo: int, c_hi: int) -> None:
    """The named patterns of ``data/money.toml`` that match around the amount, and the role
    each names (the rules take the first; the model weighs them all)."""
    right = text[end:c_hi]
    clause_left = text[c_lo:start]
    first = True  # the rules try the right patterns, then the left ones, in order
    for rx, role, name in lex.right_patterns:
        if rx.match(right):
            feats[f"pattern:{name}"] = 1.0
            feats[f"patternR={role}"] = 1.0
            if first:
                feats[f"pattern_first={role}"] = 1.0
                first = False
    for rx, role, name in lex.left_patterns:
        if rx.search(clause_left):
            feats[f"pattern:{name}"] = 1.0
            feats[f"patternL={role}"] = 1.0
            if first:
                feats[f"pattern_first={role}"] = 1.0
                first = False
    near_left, near_right = text[max(c_lo, start - 90):start], text[end:min(c_hi, end + 90)]
    for rx, side, name, _ in lex.agreed_limit:
        if rx.search(near_left) if side == "left" else rx.match(near_right):
            feats[f"pattern:{name}"] = 1.0
            feats["agreed_limit=control_total"] = 1.0


def _structure_features(feats: dict[str, float], text: str, lex: Lexicon,
                        structure: DocStructure | None, start: int, line: tuple[int, int]
                        ) -> None:
    """List, table and heading context; whether the amount is in a headline."""
    line_text = text[line[0]:line[1]].rstrip()
    in_structure = structure is not None and (structure.item_at(start) is not None
                                              or structure.cell_at(start) is not None)
    if (line_text and line_text[-1] not in _HEADLINE_END and len(line_text.split()) <= 20
            and not in_structure):
        feats["headline"] = 1.0
    if structure is None:
        return
    if structure.cell_at(start) is not None:
        feats["in_table"] = 1.0
        cell = structure.cell_at(start)
        for _, _, role in find_cues(cell.column.header, lex):
            if role:
                feats[f"column_cue={role}"] = 1.0
    item = structure.item_at(start)
    if item is not None:
        feats["in_list"] = 1.0
        own_cue = bool([c for c in find_cues(text[item.name_start:start], lex) if c[2]])
        if not own_cue:
            feats["list_no_own_cue"] = 1.0
        if item.intro is not None:
            # an item with no cue of its own is the kind of money its introducing line names
            _named_roles(feats, "intro" if own_cue else "intro_bare",
                         find_cues(text[item.intro[0]:item.intro[1]], lex))
    heading = structure.heading_before(start)
    if heading is not None:
        _named_roles(feats, "heading", find_cues(heading.text, lex))


def _named_roles(feats: dict[str, float], source: str, cues: list[tuple[int, int, str | None]]
                 ) -> None:
    """Every role the cues of a line name, and the role of its last cue."""
    named = [c for c in cues if c[2]]
    for _, _, role in named:
        feats[f"{source}_cue={role}"] = 1.0
    if named:
        feats[f"{source}_last={max(named, key=lambda c: c[1])[2]}"] = 1.0


def role_features(doc: Doc, text: str, start: int, end: int, rule_role: str, rule: str,
                  lex: Lexicon, structure: DocStructure | None = None, *,
                  with_rule: bool = True) -> dict[str, float]:
    """Sparse features of the amount written at ``text[start:end]`` (qualifier included).

    ``rule_role`` and ``rule`` are what the rules decided (the role and ``why["role"]``);
    ``with_rule=False`` leaves them out, for a model that judges the text alone.
    """
    feats: dict[str, float] = {}
    if with_rule:
        family = rule_family(rule)
        feats[f"rule={rule_role}"] = 1.0
        feats[f"rule_family:{family}"] = 1.0
        feats[f"rule_{family}={rule_role}"] = 1.0
    span = doc.char_span(start, end, alignment_mode="expand")
    line = _line_bounds(text, start, end)
    if span is None:
        _structure_features(feats, text, lex, structure, start, line)
        return feats
    s_lo, s_hi = _sentence_bounds(doc, span, text, start, end)
    c_lo, c_hi = clause_bounds(text, s_lo, s_hi, start, end)
    left = [t for t in reversed(doc[max(0, span.start - 12):span.start]) if t.idx >= c_lo]
    right = [t for t in doc[span.end:span.end + 10] if t.idx < c_hi]
    _window_features(feats, left, "L", _LEFT_WINDOW)
    _window_features(feats, right, "R", _RIGHT_WINDOW)
    if doc.has_annotation("DEP"):
        _parse_features(feats, span, s_lo, s_hi)
    _modified_noun(feats, doc, span, s_hi)
    _prep_before(feats, doc, span, s_lo)
    _cue_features(feats, text, lex, start, end, c_lo, c_hi, s_lo, s_hi)
    _pattern_features(feats, text, lex, start, end, c_lo, c_hi)
    _structure_features(feats, text, lex, structure, start, line)
    if c_lo == s_lo and c_hi == s_hi:
        feats["whole_sentence_clause"] = 1.0
    return feats
