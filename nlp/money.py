"""Money amounts in health-policy news (spaCy component ``policywatch_money``).

The stock model's MONEY entities lose multipliers ("£100m" read as "£100"), miss the pound sign
of "£124.3bn" and tag percentages as money, so this module reads amounts from the raw text
with compiled regular expressions and then uses the parse only to explain them:

* :mod:`nlp.money_parse` turns a written amount ("more than £100m", "£8-10m", "$80m a week",
  "1.5 billion pounds") into a :class:`ParsedAmount` (value, upper bound, currency, qualifier,
  rate); the lexicon (cue words, named patterns, qualifier phrases, currencies, places) lives
  in ``data/money.toml``;
* this component finds every amount in a ``Doc`` and adds what it is (:mod:`nlp.roles`), whose
  it is (:mod:`nlp.owners`, from the ``policywatch_orgs`` spans) and when (:mod:`nlp.periods`),
  following ``shared/eval/GUIDELINES.md`` and the dev-set rulings 11-19, on the per-document
  context of :mod:`nlp.money_context`;
* document structure (:mod:`nlp.structure`, explained by :mod:`nlp.money_structure`) comes
  first: a table cell under a "£m" header is an amount whose column gives role and year and
  whose row names the owner, a list item's name owns its figure and the line introducing the
  list gives role and year, and a heading that names a body governs the text below it.

Owners come from the parse: the subject or possessor of the clause that governs the amount,
the object of verbs that make someone bear or receive money ("cost the trust £4m", "give the
trust £11m", "fined its provider £18,500"), gapped coordinations ("X for £18m and Y for £15m"),
and back-references ("the trust", "its", "the mental health trust") resolved to the salient
body of the matching kind; the role decides which kinds of body can own (a regulator has no
deficit, a commentator owns nothing). Periods come from the amount's clause, then its
sentence, then from the text just before it on the same topic (same paragraph); years of
other amounts, comparison baselines and building dates are not the amount's.

Output: ``doc.spans["amounts"]`` (one span per reported amount, ``span._.amount`` the amount
dict of the extraction contract) and ``doc._.amounts`` (the list of those dicts). Each dict's
``why`` names the pattern or rule that decided its role, owner and period (``{"role":
"pattern:left_overspend_by", "org": "table:row_kind:kind_trust", "period": "table_header"}``).
Bodies built from table rows and list items are added to ``doc._.organisations``. Spans are
token-aligned (the tokenizer may keep a full stop on "£40m."); the dicts carry the exact
character offsets.

Relative years ("this year", "next year") are resolved only where the text itself pins the
current year (ruling 17), so ``doc._.published`` is deliberately not used as an anchor here.
"""


from __future__ import annotations

import re
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span

from nlp.money_context import (
    HEADLINE_END,
    PART_OF_NEXT_RE,
    WEAK_ROLE_SOURCES,
    FoundAmount,
    MoneyContext,
)
from nlp.money_parse import (  # noqa: F401  (the public parsing API, re-exported)
    DATA_PATH,
    Lexicon,
    ParsedAmount,
    find_amounts,
    iter_ranges,
    load_lexicon,
    parse_amount,
)
from nlp.money_structure import (
    RowOwner,
    StructureOrgs,
    cell_amount,
    cell_role,
    one_body_rows,
)
from nlp.owner_model import OwnerRanker, load_owner_model
from nlp.owners import OrgResolver
from nlp.periods import PeriodResolver
from nlp.role_features import role_features
from nlp.role_model import MODEL_RULE, RoleModel, load_role_model
from nlp.roles import amount_role, find_cues
from nlp.structure import Cell, DocStructure, load_structure_lexicon, read_structure
from nlp.text import doc_text

SPAN_KEY = "amounts"


# --------------------------------------------------------------------------------------------
# The component
# --------------------------------------------------------------------------------------------


def _dollar_currency(ctx: MoneyContext, f: FoundAmount) -> str:
    """A bare "$" is USD unless the text around it names a country with its own dollar."""
    text, lex = ctx.text, ctx.lex
    s_start, s_end = ctx.sents[f.sent]
    story_start = ctx.story_starts[f.story]
    for lo, hi in ((s_start, s_end), (story_start, s_start)):
        places = list(lex.place_re.finditer(text, lo, hi))
        if places:
            return lex.place_currency[places[-1].group()]
    return "USD"


_THE_CONTRACT_RE = re.compile(r"\b(?:the|this|that)\s+contract(?:['’]s)?\b", re.IGNORECASE)


def _contract_owner(ctx: MoneyContext, f: FoundAmount, done: list[FoundAmount], org: str | None
                    ) -> str | None:
    """A contract's value is its buyer's: "the contract" pointing back to a contract already
    valued in the story keeps that contract's owner ("the trust had wanted the contract's
    value raised" is still the council's contract)."""
    s_start, s_end = ctx.sents[f.sent]
    if not _THE_CONTRACT_RE.search(ctx.text, s_start, s_end):
        return org
    for other in reversed(done):
        if other.story != f.story:
            break
        if other.role == "contract_value" and other.org is not None:
            return other.org
    return org


def _same_value(a: FoundAmount, b: FoundAmount) -> bool:
    va, vb = a.parsed.value, b.parsed.value
    if a.currency != b.currency:
        return False
    return abs(va - vb) <= 0.005 * max(abs(va), abs(vb), 1e-9)


def _dedupe(found: list[FoundAmount]) -> list[FoundAmount]:
    """Ruling 11: one entry per fact (value, role, org, period); the first mention's text.

    A figure in a headline is the fact the story then reports: it takes what the body says
    about the same figure.
    """
    found = list(found)
    for h in [f for f in found if f.headline]:
        body = next((b for b in found if b is not h and b.story == h.story and not b.headline
                     and b.start > h.start and _same_value(h, b)), None)
        if body is not None:
            # (a body mention with no evidence says nothing the headline does not)
            if body.role_source not in WEAK_ROLE_SOURCES:
                h.role, h.role_source = body.role, body.role_source
            if body.org is not None and body.org != h.org:
                # (the owner's why goes with it)
                h.org, h.org_source = body.org, f"same_fact:{body.org_source}"
            h.period = body.period or h.period
    kept: list[FoundAmount] = []
    for f in found:
        twin = None
        for k in kept:
            if not _same_value(k, f):
                continue
            # a mention whose role fell to the default is the twin of one whose role is known,
            # in either order ("... with £32m for three trusts" then "£32m will go to ...")
            same_role = k.role == f.role or bool(WEAK_ROLE_SOURCES & {f.role_source, k.role_source})
            same_org = k.org == f.org or k.org is None or f.org is None
            same_period = k.period == f.period or k.period is None or f.period is None
            if same_role and same_org and same_period:
                twin = k
                break
        if twin is None:
            kept.append(f)
            continue
        if twin.role_source in WEAK_ROLE_SOURCES and f.role_source not in WEAK_ROLE_SOURCES:
            twin.role, twin.role_source = f.role, f.role_source
        if twin.org is None and f.org is not None:
            twin.org, twin.org_source = f.org, f"same_fact:{f.org_source}"
        twin.period = twin.period or f.period
    return kept


def _as_dict(ctx: MoneyContext, f: FoundAmount) -> dict[str, Any]:
    p = f.parsed
    gbp = f.currency == "GBP"
    s_start, s_end = ctx.sents[f.sent]
    return {
        "text": p.text,
        "value_gbp": p.value if gbp else None,
        "value_gbp_max": p.value_max if gbp else None,
        "currency": f.currency,
        "value": p.value,
        "qualifier": p.qualifier,
        "role": f.role,
        "per": p.per,
        "org": f.org,
        "period": f.period,
        "start": p.start,
        "end": p.end,
        "sentence": ctx.text[s_start:s_end].strip(),
        "why": f.why(),
    }


class MoneyExtractor:
    """Finds amounts of money and says what, whose and when they are."""

    def __init__(self, nlp: Language, name: str = "policywatch_money", *,
                 lexicon_path: str | None = None, role_model: bool = True,
                 owner_model: bool = True) -> None:
        self.name = name
        self.lex = load_lexicon(lexicon_path or DATA_PATH)
        # the learned role model (nlp.role_model); off, every role is the rules' own
        self.role_model: RoleModel | None = load_role_model() if role_model else None
        # the learned owner ranker (nlp.owner_model); off: the rules' owners, as training sees
        self.owner_model = load_owner_model() if owner_model else None
        self.keep_owner_candidates = False  # training reads each amount's owner candidates
        _register_extensions()

    def __call__(self, doc: Doc) -> Doc:
        text = doc_text(doc)  # Doc.text is rebuilt on every access (nlp.text.doc_text)
        parsed = list(iter_ranges(text, self.lex))
        structure = read_structure(text)
        if not parsed and not structure.cells:
            doc.spans[SPAN_KEY] = []
            doc._.amounts = []
            return doc
        # a unit in a table's header ("In-month deficit (£000)") is no amount
        headers = [(t.start, text.find("\n", t.start) % (len(text) + 1)) for t in structure.tables]
        parsed = [p for p in parsed if not any(lo <= p.figure_start < hi for lo, hi in headers)]
        row_owners = StructureOrgs(doc, structure, text).resolve_all()
        taken = {p.figure_start for p in parsed}
        for cell in structure.cells:
            if cell.value is not None and not any(cell.start <= s < cell.end for s in taken):
                parsed.append(cell_amount(cell))
        parsed.sort(key=lambda p: p.start)
        ctx = MoneyContext(doc, self.lex, text)
        ctx.structure = structure
        parts = structure.subheading_starts()
        # "The recovery" continues the story above it, and so do a table's rows and a list's
        # items: no new story starts there
        ctx.story_starts = [s for s in ctx.story_starts if s not in parts and (
            s == 0 or (structure.table_at(s) is None and structure.item_at(s) is None))]
        found: list[FoundAmount] = []
        for p in parsed:
            fig_start = p.figure_start
            sent = ctx.sent_index(fig_start)
            s_start, s_end = ctx.sents[sent]
            found.append(FoundAmount(
                parsed=p, start=fig_start, end=p.end, sent=sent,
                clause=ctx.clause(sent, fig_start), story=ctx.story_index(fig_start),
                currency=p.currency,
                headline=s_start in ctx.story_starts and text[s_start:s_end].rstrip()[-1:]
                not in HEADLINE_END,
                cell=structure.cell_at(fig_start), item=structure.item_at(fig_start),
            ))
        ctx.amount_starts = sorted(f.parsed.start for f in found)
        ctx.found = found
        for f in found:
            span = doc.char_span(f.start, f.end, alignment_mode="expand")
            if span is not None:
                ctx.amount_tokens.update(t.i for t in span)
        orgs = OrgResolver(ctx)
        periods = PeriodResolver(ctx)
        ranker = (OwnerRanker(ctx, self.owner_model, self.keep_owner_candidates)
                  if self.keep_owner_candidates or (self.owner_model is not None
                                                    and self.owner_model.kind != "rules")
                  else None)
        for i, f in enumerate(found):
            if f.parsed.dollar:
                f.currency = _dollar_currency(ctx, f)
            prev_end = found[i - 1].end if i > 0 else 0
            next_start = found[i + 1].parsed.start if i + 1 < len(found) else len(text)
            ctx.previous = found[i - 1] if i > 0 else None
            if f.cell is not None and (f.cell.value is not None
                                       or f.cell.column.role not in (None, "signed")):
                role, rule = cell_role(f.cell)
                f.role, f.role_source = role, f"table_header:{rule}"
                continue
            f.role, f.role_source = amount_role(ctx, f, prev_end, next_start)
            _agreed_limit(ctx, f)
            if f.item is not None:
                _item_role(ctx, f)
            if self.role_model is not None and self.role_model.active:
                _model_role(ctx, f, self.role_model)
        for f, after in reversed(list(zip(found, found[1:], strict=False))):
            if after.sent == f.sent and PART_OF_NEXT_RE.fullmatch(
                    text, f.end, after.parsed.start) and f.cell is None:
                # "released £4.5m of the £15m of cash support": a part of the next amount
                f.role, f.role_source = after.role, "partitive"
        done: list[FoundAmount] = []
        for f in found:
            ctx.previous = done[-1] if done else None
            ctx.role = f.role
            prev_owner = None
            for other in reversed(done):
                if other.story == f.story:
                    prev_owner = other.org
                break
            row = _row_owner(f, row_owners)
            if row is not None:
                f.org, f.org_source = row.name, f"{'table' if f.cell else 'list'}:{row.rule}"
            elif f.cell is not None and load_structure_lexicon().period_rows.match(
                    f.cell.row.name.strip()):
                # "April | 2,150": one body's figures month by month
                f.org = orgs.topic_owner(f.start)
                f.org_source = f"table:period_row+{orgs.how}" if f.org else "table:period_row"
            elif f.cell is not None and (one_body := _one_body_rows(structure, f.cell)):
                # "Division | Budget (£000)", "Digital | 4.2": the parts or measures of the
                # body the passage is about
                f.org = orgs.topic_owner(f.start)
                f.org_source = (f"table:{one_body}+{orgs.how}" if f.org
                                else f"table:{one_body}")
            elif f.cell is not None:
                f.org, f.org_source = None, "table:row_not_a_body"  # a "Total" row
            else:
                f.org = orgs.owner(f, prev_owner)
                f.org_source = orgs.how
                if f.role == "contract_value":
                    org = _contract_owner(ctx, f, done, f.org)
                    if org != f.org:
                        f.org, f.org_source = org, "contract_owner"
                if ranker is not None:
                    ranker.rerank(f, prev_owner)
            f.period = periods.period(f, done)
            done.append(f)
        kept = _dedupe(done)
        spans = []
        amounts = []
        for f in kept:
            span = doc.char_span(f.parsed.start, f.parsed.end, alignment_mode="expand")
            record = _as_dict(ctx, f)
            if ranker is not None:
                ranker.annotate(f, record)
            if span is not None:
                span._.amount = record
                spans.append(span)
            amounts.append(record)
        doc.spans[SPAN_KEY] = spans
        doc._.amounts = amounts
        return doc


def _row_owner(f: FoundAmount, row_owners: dict[int, RowOwner]) -> RowOwner | None:
    """The body a table row or list item names, for an amount in that row or item."""
    if f.cell is not None:
        if not f.cell.row.name:  # rows not named: the body the table sits under
            return row_owners.get(f.cell.row.table_start)
        return row_owners.get(f.cell.row.name_start)
    if f.item is not None and f.start >= f.item.name_end:
        return row_owners.get(f.item.name_start)
    return None


def _one_body_rows(structure: DocStructure, cell: Cell) -> str | None:
    """The rule by which a cell's table names its rows by the parts or measures of one body
    (:func:`nlp.money_structure.one_body_rows`), else None."""
    table = structure.table_at(cell.start)
    return one_body_rows(table) if table is not None else None


def _agreed_limit(ctx: MoneyContext, f: FoundAmount) -> None:
    """A deficit, surplus or limit agreed with or set by a national body is a control total
    ("a planned surplus of £1.1m agreed with NHS England", "the £11m it had agreed with NHS
    England", "a deficit limit of £22m")."""
    s_start, s_end = ctx.sents[f.sent]
    left = ctx.text[max(s_start, f.parsed.start - 90):f.parsed.start]
    right = ctx.text[f.end:min(s_end, f.end + 90)]
    for rx, side, name, roles in ctx.lex.agreed_limit:
        if f.role not in roles:
            continue
        if rx.search(left) if side == "left" else rx.match(right):
            f.role, f.role_source = "control_total", f"pattern:{name}"
            return


def _item_role(ctx: MoneyContext, f: FoundAmount) -> None:
    """A list item's figure with no cue of its own before it takes the role the line that
    introduces the list names ("Forecast overspends, 2017-18:" then "– Hywel Dda – £69.6m")."""
    item = f.item
    if item.intro is None or f.role_source.startswith(("pattern:", "compound")):
        return
    if [c for c in find_cues(ctx.text[item.name_start:f.parsed.start], ctx.lex) if c[2]]:
        return
    cues = [c for c in find_cues(ctx.text[item.intro[0]:item.intro[1]], ctx.lex) if c[2]]
    if cues:
        f.role, f.role_source = max(cues, key=lambda c: c[1])[2], "list_intro"
        return
    # "£32m will go to three trusts:" then "- A: £14m": the items share out the figure the
    # introducing line gives, and are the same kind of money
    whole = [o for o in ctx.found if item.intro[0] <= o.start < item.intro[1] and o.role
             and o.role_source not in WEAK_ROLE_SOURCES]
    if whole and f.role_source in WEAK_ROLE_SOURCES:
        f.role, f.role_source = whole[-1].role, "list_intro_amount"


def _model_role(ctx: MoneyContext, f: FoundAmount, model: RoleModel) -> None:
    """The learned model's role where its policy lets it overrule the rules' one; the rule's
    pick stays in ``why`` as ``role_rule``."""
    features = role_features(ctx.doc, ctx.text, f.parsed.start, f.end, f.role, f.role_source,
                             ctx.lex, ctx.structure, with_rule=model.with_rule)
    role = model.decide(features, f.role, f.role_source)
    if role is not None:
        f.role_rule = f.role_source
        f.role, f.role_source = role, MODEL_RULE


def _register_extensions() -> None:
    for name in ("amounts", "published", "organisations"):
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)
    for name in ("amount", "org_name", "org_type"):
        if not Span.has_extension(name):
            Span.set_extension(name, default=None)


_register_extensions()


@Language.factory(
    "policywatch_money",
    assigns=["doc.spans", "doc._.amounts", "span._.amount"],
    requires=["doc.spans", "token.dep"],
    default_config={"lexicon_path": None, "role_model": True, "owner_model": True},
)
def make_money_extractor(nlp: Language, name: str, lexicon_path: str | None,
                         role_model: bool, owner_model: bool) -> MoneyExtractor:
    """spaCy factory of the money component (data from ``data/money.toml`` by default).
    ``role_model`` / ``owner_model`` false keep the rules' roles / owners, without the learned
    role model or owner ranker (training reads the rules' own decisions that way)."""
    return MoneyExtractor(nlp, name, lexicon_path=lexicon_path, role_model=role_model,
                          owner_model=owner_model)

