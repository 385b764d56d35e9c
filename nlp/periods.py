"""When an amount is for (ruling 17): a year in its clause or sentence, a pinned relative year, a
year carried over from the sentences on the same topic, or the year governing its section.
"""


from __future__ import annotations

import bisect
import re
import typing
from typing import Any

from nlp.money_context import (
    BASELINE_AMOUNT_RE,
    BASELINE_RE,
    PART_OF_NEXT_RE,
    PART_OF_PREVIOUS_RE,
    FoundAmount,
    MoneyContext,
    YearMention,
)
from nlp.money_parse import norm_phrase
from nlp.roles import find_cues
from nlp.structure import financial_year

# --------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------


# "for the year", "the year's": the year the text has just named
_FOR_THE_YEAR_RE = re.compile(r"\b(?:for|in|over|during)\s+the\s+year\b|\bthe\s+year[’']s\b",
                              re.IGNORECASE)


# the relations by which an amount modifies the noun it is a figure of ("a £15m savings plan")
_MODIFIER_DEPS = frozenset({"nummod", "compound", "amod", "nmod", "quantmod"})
# a restatement in brackets right after an amount, or the bracket that closes it
_AFTER_BRACKET_RE = re.compile(r"\s*(?:\([^()]{0,40}\)|\))?\s*")
# two measures joined under one verb, the second with its own noun: "turnover of £184m and an
# operating profit of " (not "... above the limit, and up from ")
_COORDINATED_MEASURE_RE = re.compile(
    r"\s+and\s+(?:an?\s+|the\s+|its\s+|their\s+)?(?:[\w-]+\s+){1,3}?of\s+", re.IGNORECASE)
_YEAR_NEXT_RE = re.compile(r"\s+(?:in|for|during)\s+(?:the\s+)?(?:year\s+)?", re.IGNORECASE)
# a word that joins a second verb to the amount's ("..., and will ask for")
_COORDINATOR_RE = re.compile(r"\b(?:and|but|or|then)\b", re.IGNORECASE)
# what may stand between an amount and the noun it is a quantity of ("£7m of funding")
_NOUN_AFTER_AMOUNT_RE = re.compile(
    r"\s*(?:[\w-]+\s+)?(?:of\s+(?:the\s+|its\s+|their\s+)?(?:[\w-]+\s+){0,2})?")


def _shift(period: str, years: int) -> str:
    if "-" in period:
        start = int(period[:4]) + years
        return f"{start}-{(start + 1) % 100:02d}"
    return str(int(period) + years)


class PeriodResolver:
    """When an amount is for (ruling 17): a year in its clause, a pinned relative year, or a
    year carried over from the sentences that continue the same topic."""

    def __init__(self, ctx: MoneyContext) -> None:
        self.ctx = ctx
        self.lead: dict[int, YearMention | None] = {}

    def story_lead(self, story: int) -> str | None:
        """The first year in the first two sentences of a story (after its headline)."""
        year = self._story_lead_year(story)
        return year.period if year else None

    def _story_lead_year(self, story: int) -> YearMention | None:
        if story not in self.lead:
            ctx = self.ctx
            start = ctx.story_starts[story]
            end = (ctx.story_starts[story + 1] if story + 1 < len(ctx.story_starts)
                   else len(ctx.text))
            body: list[tuple[int, int]] = []
            for s_start, s_end in ctx.sents[ctx.sent_index(start):]:
                if s_start >= end or len(body) == 2:
                    break
                line = ctx.text[s_start:s_end].rstrip()
                if s_start < start or (not body and line[-1:] not in ".!?”\"’"):
                    continue  # a headline or a masthead line
                body.append((s_start, s_end))
            found = None
            for s_start, s_end in body:
                ys = [y for y in ctx.years_between(s_start, s_end) if y.fiscal]
                if ys:
                    # a period the sentence is about before the year of a date in it ("a
                    # report published on 11 May 2025 shows ... after four months of 2025/26")
                    found = min(ys, key=lambda y: y.date)
                    break
            if found is None and story > 0 and start in ctx.digest_item_starts:
                # an item of a digest page with no year of its own runs under the year the
                # page's opening (its date line and first item) gives
                first = story
                while first > 0 and ctx.story_starts[first] in ctx.digest_item_starts:
                    first -= 1
                found = self._story_lead_year(first)
                if found is None and first + 1 < story:
                    found = self._story_lead_year(first + 1)  # the page's first item
            self.lead[story] = found
        return self.lead[story]

    def _headline_year(self, story: int) -> str | None:
        """The one financial year the story's opening lines (headline, title, standfirst
        without end punctuation) give, or those of a title-only story right above it: "ICB
        board papers, Q2 24/25" governs the paper below it when no sentence of the body
        names a year first."""
        periods, _ = self._opening_years(story)
        if not periods and story > 0:
            above, has_body = self._opening_years(story - 1)
            if not has_body:
                periods = above
        return periods[0] if len(set(periods)) == 1 else None

    def _opening_years(self, story: int) -> tuple[list[str], bool]:
        """The financial years of a story's lines before its first full sentence, and
        whether it has such a sentence at all."""
        ctx = self.ctx
        start = ctx.story_starts[story]
        end = ctx.story_starts[story + 1] if story + 1 < len(ctx.story_starts) else len(ctx.text)
        periods: list[str] = []
        for s_start, s_end in ctx.sents[ctx.sent_index(start):]:
            if s_start >= end:
                break
            if s_start < start:
                continue
            if ctx.text[s_start:s_end].rstrip()[-1:] in ".!?”\"’":
                return periods, True
            if story == 0 and ctx.dateline_year(ctx.text[s_start:s_end]):
                continue  # a periodical's date line pins "this year"; it does not date its stories
            periods.extend(y.period for y in ctx.years_between(s_start, s_end) if y.fiscal)
        return periods, False

    def _other_amount_between(self, f: FoundAmount, y: YearMention) -> bool:
        """Whether another amount stands between ``f`` and a later year ``y`` ("£0.8bn above
        the limit, and up from £2.4bn in 2020-21": the year is the other amount's)."""
        if y.start < f.end:
            return False  # "In 2014-15 they spent £882m, with £207m off-framework"
        lo, hi = f.end, y.start
        starts = self.ctx.amount_starts
        i = bisect.bisect_left(starts, lo)
        if i < len(starts) and PART_OF_NEXT_RE.fullmatch(self.ctx.text, lo, starts[i]):
            # "£9m of the £15m of savings it planned for 2025/26": a part has the year of
            # the whole it is part of
            i += 1
        between = [o for o in self.ctx.found if lo <= o.parsed.start < hi]
        if len(between) == 1 and _COORDINATED_MEASURE_RE.fullmatch(
                self.ctx.text, lo, between[0].parsed.start) and _YEAR_NEXT_RE.fullmatch(
                self.ctx.text, between[0].end, y.start):
            # "turnover of £184m and an operating profit of £12m in 2023": two measures of one
            # verb share the year after the second
            return False
        return i < len(starts) and starts[i] < hi

    def _other_clause(self, f: FoundAmount, y: YearMention) -> bool:
        """Whether the parse puts a year after the amount in a clause of its own that the amount
        is not part of: an event's calendar year in a relative clause on another noun ("pay
        £420,000 to a patient whose scan was missed in 2021") or in a clause after "after",
        "when" ("fined £38,000 after a patient fell in 2022"), or any year of a second verb
        ("expects a surplus of £1.2m, and will ask for the money again in 2026/27"). A clause
        on the amount's own noun phrase keeps its year ("£15m of savings it planned for
        2025/26"); so does a plan's year after "after" ("find £4m more after the regulator
        rejected its 2023/24 plan")."""
        ctx = self.ctx
        if not ctx.parsed:
            return False
        amount = ctx.doc.char_span(f.start, f.end, alignment_mode="expand")
        year = ctx.doc.char_span(y.start, y.end, alignment_mode="expand")
        if amount is None or year is None:
            return False
        root = amount.root
        above = {root.i, *(t.i for t in root.ancestors)}
        # the amount's noun phrase: the amount and the noun it modifies ("a £15m plan")
        phrase = {root.i}
        head = root
        while head.dep_ in _MODIFIER_DEPS and head.head is not head:
            head = head.head
            phrase.add(head.i)
        whole = next((o for o in ctx.found if o.parsed.start >= f.end), None)
        if whole is not None and PART_OF_NEXT_RE.fullmatch(ctx.text, f.end, whole.parsed.start):
            # "£9m of the £15m of savings it planned for 2025/26": the whole's clause
            span = ctx.doc.char_span(whole.start, whole.end, alignment_mode="expand")
            if span is not None:
                phrase.add(span.root.i)
        cur = year.root
        while cur.i not in above and cur.head is not cur:
            if cur.pos_ in ("VERB", "AUX") and y.start > f.end and (
                    # an event's calendar year in a clause on another noun or after "after",
                    # "when": the event's date, not the money's year
                    (not y.fiscal and cur.dep_ == "relcl" and not phrase & {cur.head.i, *(
                        t.i for t in cur.head.ancestors)}
                     and not _NOUN_AFTER_AMOUNT_RE.fullmatch(ctx.text, f.end, cur.left_edge.idx))
                    or (not y.fiscal and cur.dep_ == "advcl" and cur.head.i in above
                        and any(c.dep_ == "mark" for c in cur.children))
                    # a second verb of the amount's subject with a year of its own
                    or (cur.dep_ == "conj" and cur.head.i in above
                        and _COORDINATOR_RE.search(ctx.text, f.end, cur.left_edge.idx))):
                return True
            cur = cur.head
        return False

    def _clause_has_other_amount(self, f: FoundAmount, y: YearMention) -> bool:
        """Whether the year's own clause holds another amount (the year is that one's)."""
        lo, hi = self.ctx.clause(f.sent, y.start)
        i = bisect.bisect_left(self.ctx.amount_starts, lo)
        return any(a != f.parsed.start for a in self.ctx.amount_starts[i:i + 4] if a < hi)

    @typing.overload
    def _nearest(self, years: list[YearMention], f: FoundAmount) -> str | None: ...

    @typing.overload
    def _nearest(self, years: list[YearMention], f: FoundAmount,
                 year: typing.Literal[True]) -> YearMention: ...

    def _nearest(self, years: list[YearMention], f: FoundAmount, year: bool = False) -> Any:
        ctx_text = self.ctx.text
        if not years:
            return None

        def dist(y: YearMention) -> int:
            if y.end <= f.parsed.start:
                return f.parsed.start - y.end
            gap = ctx_text[f.end:y.start]
            if re.fullmatch(r"\s*(?:[\w-]+\s+){0,2}?(?:in|for|during|of)\s+", gap):
                return 0  # "£2.7bn in 2013-14", "£5m deficit for 2019-20"
            return y.start - f.end + 1

        best = min(years, key=dist)
        return best if year else best.period

    def period(self, f: FoundAmount, found: list[FoundAmount]) -> str | None:
        """The year the text ties the amount to (ruling 17), or None."""
        if f.cell is not None:
            period, f.period_source = self._cell_period(f)
            return period
        period, f.period_source = self._period(f, found)
        if f.item is not None and f.period_source not in (
                "clause", "sentence", "relative-anchored", "relative-anchored-passage") \
                and not f.period_source.startswith(("pattern:multi_year", "pattern:cumulative")):
            intro = f.item.intro
            year = financial_year(self.ctx.text[intro[0]:intro[1]]) if intro else None
            if year is not None:
                f.period_source = "list_intro"
                return year
            if f.period_source in ("recent-amount", "previous-sentence", "same-fact"):
                # one item's year does not carry to the next: the list's passage governs
                # ("... its accounts for 2023/24. The main figures are:" then the items)
                lead = self.story_lead(f.story)
                if lead is not None:
                    f.period_source = "list_story_lead"
                    return lead
        return period

    def _baseline(self, y: YearMention) -> bool:
        """Whether a year dates a comparison's baseline ("worse than in 2018/19")."""
        before = self.ctx.text[max(0, y.start - 30):y.start]
        return any(rx.search(before) for rx, _ in self.ctx.lex.baseline_res)

    def _cell_period(self, f: FoundAmount) -> tuple[str | None, str]:
        """A table cell's year: its column header's, else the sentence introducing the table,
        else the year governing the section the table sits in."""
        if f.cell.column.period:
            return f.cell.column.period, "table_header"
        table = self.ctx.structure.table_at(f.start)
        if table is not None and table.period:
            return table.period, "table_intro"
        year = self._section_year(f.story)
        if year is None and self.ctx.governing:
            return self.ctx.governing, self.ctx.governing_rule
        return year, "section" if year else "none"

    def _section_year(self, story: int) -> str | None:
        """The year governing a story: its lead, or for a section under a heading that names
        a body or a year ("NHS Devon", "2023/24 forecast"), the heading's year or else the
        year governing the text the section belongs to."""
        while story >= 0:
            lead = self._story_lead_year(story)
            if lead is not None:
                return lead.period
            heading = self._section_heading(story)
            if heading is None:
                return None
            if heading.period:
                return heading.period
            story -= 1
        return None

    def _section_heading(self, story: int) -> Any:
        """The heading a story starts with, when it opens a section rather than a new story:
        it names a body the document is about or gives a year."""
        ctx = self.ctx
        if ctx.structure is None or story == 0:
            return None
        start = ctx.story_starts[story]
        heading = ctx.structure.heading_at(start)
        if heading is None:
            return None
        if heading.period:
            return heading
        named = any(o.start == heading.start and o.end == heading.end for o in ctx.orgs)
        return heading if named else None

    def _period(self, f: FoundAmount, found: list[FoundAmount]) -> tuple[str | None, str]:
        ctx = self.ctx
        c_start, c_end = f.clause
        text = ctx.text
        years = [y for y in ctx.years_between(c_start, c_end)
                 if (y.fiscal or (y.start - f.end < 80 and f.parsed.start - y.end < 80))
                 and not self._baseline(y)]
        if any(y.fiscal for y in years):
            # "a report published on 11 May 2025 shows £3m ... after four months of 2025/26":
            # the date a document was written is not the period its figure is for; a
            # financial year is
            years = [y for y in years if not y.date]
        else:
            for rx, name in ctx.lex.cumulative_res:
                if rx.search(text, c_start, c_end):
                    # "had spent £2.9bn by the end of March 2025": a sum run up over years
                    return None, f"pattern:{name}"
        years = [y for y in years if not self._other_clause(f, y)]
        if years and not any(y.fiscal for y in years):
            for rx, name in ctx.lex.multi_year_res:
                if rx.search(text, c_start, c_end):
                    # "a seven-year contract worth £96m, awarded in 2024": the date of the
                    # award, not a year of the money
                    return None, f"pattern:{name}"
        rels = list(ctx.lex.relative_re.finditer(text, c_start, c_end))
        rel = None
        if rels:
            rel = min(rels, key=lambda m: (m.start() - f.end) if m.start() >= f.end
                      else (f.parsed.start - m.end()) + 20)
            i = bisect.bisect_left(ctx.amount_starts, f.end)
            if rel.start() >= f.end and i < len(ctx.amount_starts) \
                    and ctx.amount_starts[i] < rel.start():
                rel = None  # "£0.4m, after a deficit of £7.8m the year before": the later one's
            elif rel is not None and any(rx.search(text, max(0, rel.start() - 30), rel.start())
                                         for rx, _ in ctx.lex.baseline_res):
                rel = None  # "an improvement on the year before": the comparison's year
        if rel is not None and years and rel.start() >= f.end and re.fullmatch(
                r"\s*(?:in\s+|for\s+|during\s+|over\s+|on\s+)?", text[f.end:rel.start()]):
            # "£12m in 2021-22, up from £9m last year": last year of the year in the clause
            shift = ctx.lex.relative_shift[norm_phrase(rel.group())]
            anchor = ctx.pinned or self._nearest([y for y in years if y.fiscal] or years, f)
            return (_shift(anchor, shift) if anchor else None), "relative-anchored"
        years = [y for y in years if not self._other_amount_between(f, y)]
        if years and rel is not None:
            near = self._nearest(years, f, year=True)
            if (near.end <= rel.start() < f.parsed.start or f.end <= rel.start() < near.start) \
                    and ctx.lex.relative_shift[norm_phrase(rel.group())] != 0:
                # "a surplus for 2021-22 and a small deficit next year of £2m" (but "£4m this
                # year after the regulator rejected its 2023-24 plan" is pinned by the clause)
                years = []
        if years:
            return self._nearest(years, f), "clause"
        if rel is not None:
            phrase = norm_phrase(rel.group())
            shift = ctx.lex.relative_shift[phrase]
            if phrase in ctx.lex.anchored_relative:
                # "a deficit of £7.8m the year before": a year before the passage's own
                anchor = self._passage_year(f, found)
                if anchor:
                    return _shift(anchor, shift), "relative-anchored-passage"
            if ctx.pinned:
                return _shift(ctx.pinned, shift), "relative-pinned"
            # "its control total for 2019-20 ... a £35m control total next year"
            return self._previous_sentence_year(f, same_role=True), "relative-previous"
        s_start, s_end = ctx.sents[f.sent]
        years = [y for y in ctx.years_between(s_start, s_end)
                 if y.fiscal and not self._other_amount_between(f, y)
                 and not self._clause_has_other_amount(f, y) and not self._other_clause(f, y)]
        if years:
            return self._nearest(years, f), "sentence"
        if found and found[-1].sent == f.sent and PART_OF_PREVIOUS_RE.match(text, f.end):
            # "the backlog had reached £10bn and £2bn of it was high risk": a part has the
            # year of the whole
            return found[-1].period, "partitive"
        for rx, name in ctx.lex.stock_res:
            if rx.search(text, c_start, c_end):
                return None, f"pattern:{name}"  # "a maintenance backlog of £200m"
        if f.parsed.per == "month" and f.role in ctx.lex.spending_roles:
            # "agency spending is running at £1.9m a month": a monthly spending rate is how
            # the current year is going, the year the report or story is about
            year = ctx.governing or self.story_lead(f.story) or self._previous_sentence_year(f)
            if year:
                return year, "rate_running_monthly"
        if f.parsed.per in ("year", "month", "week", "day"):
            # a recurring sum ("£16.9m a year", "pay £985 a week") is tied to a year only by its
            # own sentence or by a statement that dates the whole document
            if ctx.governing and ctx.governing_rule != "report_title_year":
                # (a report's title dates its in-year figures, not a sum that recurs every
                # year: "a contract worth £3.2m a year", "saves £1.4m a year once in place")
                return ctx.governing, ctx.governing_rule
            return None, "rate"
        # (and right after a restatement in brackets: "worth $9.5m (about £7.5m) over three
        # years")
        after = _AFTER_BRACKET_RE.match(text, f.end, s_end)
        for rx, name in ctx.lex.multi_year_res:
            if rx.search(text, c_start, c_end) or rx.match(text, after.end(),
                                                           min(s_end, after.end() + 40)):
                return None, f"pattern:{name}"  # "£1.4bn over the next ten years"
        if ctx.governing:
            # "All figures are for 24/25 ...", "Finance report, month 9 2024/25"
            return ctx.governing, ctx.governing_rule
        prev = self._previous_sentence_year(f)
        if prev:
            return prev, "previous-sentence"
        para = ctx.paragraph_index(f.start)
        for other in reversed(found):
            if BASELINE_AMOUNT_RE.search(text, max(0, other.parsed.start - 30),
                                          other.parsed.start):
                continue  # "up from £2.4bn in 2020-21" is the past, not the story's year
            if other.period_source.startswith("relative"):
                continue  # "from £14.9m the year before": that year is the other figure's own
            if (other.story == f.story and f.sent - other.sent <= 2 and other.period
                    and (ctx.paragraph_index(other.start) == para or other.org == f.org)):
                return other.period, "recent-amount"
            if other.story != f.story or f.sent - other.sent > 2:
                break
        for other in reversed(found):
            # ("other" is a catch-all: two such figures are not the same fact)
            if (other.story == f.story and other.role == f.role and other.org == f.org
                    and other.org is not None and other.period and f.role != "other"):
                return other.period, "same-fact"
        lead = self._story_lead_year(f.story)
        if lead is None and self._section_heading(f.story) is not None:
            year = self._section_year(f.story)
            if year:
                return year, "section"
        if lead is None:
            year = self._headline_year(f.story)
            return year, "headline_year" if year else "none"
        if s_start <= lead.start < s_end:
            return None, "story-lead"  # (a year in the amount's own sentence was ruled out)
        return lead.period, "story-lead"

    def _passage_year(self, f: FoundAmount, found: list[FoundAmount]) -> str | None:
        """The year of the passage an amount sits in, for a year counted from it: the year of
        the figure before it in its sentence, else the year its list, document, previous
        sentence or story gives."""
        ctx = self.ctx
        if found and found[-1].sent == f.sent and found[-1].period:
            return found[-1].period
        intro = f.item.intro if f.item is not None else None
        year = financial_year(ctx.text[intro[0]:intro[1]]) if intro else None
        return (year or ctx.governing or self.story_lead(f.story)
                or self._previous_sentence_year(f))

    def _previous_sentence_year(self, f: FoundAmount, same_role: bool = False) -> str | None:
        """A year from the sentence before, when the text carries on with the same topic."""
        ctx = self.ctx
        if f.sent == 0:
            return None
        p_start, p_end = ctx.sents[f.sent - 1]
        if ctx.story_index(p_start) != f.story:
            return None
        if ctx.paragraph_index(p_start) != ctx.paragraph_index(f.start) and not same_role:
            return None  # a new paragraph starts a new topic
        ys = [y for y in ctx.years_between(p_start, p_end)
              if y.fiscal and not BASELINE_RE.search(ctx.text, max(p_start, y.start - 40),
                                                      y.start)]
        if not ys:
            return None
        if same_role and f.role not in {
                role for _, _, role in find_cues(ctx.text[p_start:p_end], ctx.lex)}:
            return None
        distinct = list(dict.fromkeys(y.period for y in ys))
        if len(distinct) > 1:
            if _FOR_THE_YEAR_RE.search(ctx.text, ctx.sents[f.sent][0], f.parsed.start):
                # "... a gap of £33m in 2025/26. Its savings target for the year is £21m": "the
                # year" is the one the text came to last
                return ys[-1].period
            lead = self.story_lead(f.story)
            return lead if lead in distinct else distinct[0]
        return distinct[0]


