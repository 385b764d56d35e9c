"""Quality ratings of named NHS bodies (spaCy component ``policywatch_ratings``).

Finds CQC ratings and NHS England's annual CCG ratings (outstanding, good, requires
improvement, inadequate) and special measures (in / out), and ties each to the organisation
it is given to, with the year it is for and the rater where the text says so.

How a rating is read:

* a rating word counts only in rating context: a rating verb or noun nearby ("rated good",
  "an inadequate rating", "moved from inadequate to good"); "good progress" does not;
* drafts (a draft word in the clause or on the rating verb's subject: "the draft report rated
  it inadequate"), hypotheticals ("would have", "could", "deserved") and negated statements
  are skipped; a rating the body already held ("the good rating it already held") counts;
  a named body that "is now" a rating counts in a sentence about ratings; a rating word
  coordinated with a rated one ("rated good in 2019 and outstanding ...") counts;
* changes ("from good in 2017-18 to inadequate") give the new and the old rating; the old one
  of an annual CCG rating gets the previous financial year;
* periods: a year counts only in the rating's own clause by the parse (not one in a relative
  or coordinated clause, unless that clause is on the rating noun: "the rating it has held
  since 2019"); an annual rating kept ("kept its outstanding rating") is the document's
  ratings year; an undated CQC rating takes the year of the inspection report described in
  the next sentences ("The CQC's report, published in May 2020, ...");
* the rated bodies are the commissioners/providers of the sentence (by the parse: the
  subject of the rating verb's clause, the body a participle follows: "A, rated good in
  2021, ..."), the antecedent group of a relative clause ("A, B and C, all three of which
  were rated good") and still the subject of the main clause, the body named in the next
  sentences after an unnamed subject ("A GP practice in Kent was rated ..."), the bullets under a
  rating header ("Newly rated outstanding:"), a body named as "among" a rated count or listed
  after the count named again ("The four CCGs: A, B and C"), a numbered group ("the 11 trusts
  placed in special measures" ... "one of the 11"), or for an anaphor ("the trust", "it") the
  last named body;
* ratings listed after each body ("A was rated good, B “requires improvement”") pair up;
* service-, ward- and domain-level ratings ("outstanding for caring", or a service as the
  rating verb's subject or object: "maternity services were rated inadequate") give no
  entry, nor do counts without names ("24 groups were rated outstanding"; a count is a
  number of bodies, not "300 pages"); councils can be rated (CQC assesses local
  authorities).

* each rating is an event: ``previous_rating`` (the body's rating before it where the text
  states one: the old rating of a change, or the step before it in a dated history),
  ``direction`` (up, down, same or None) and ``status`` ("previous" for an earlier rating the
  text states, "current" otherwise); a rating and the placement told with it share a date
  ("rated inadequate and placed in special measures in March 2018"), a dated list item
  ("• October 2013 – ...") dates its events, and a rating reported as new in a dated release
  takes the dateline's year.

* periods also come from the sentences around an undated rating: a "when" clause on a year
  ("inspected in 2019, when it was rated good"), the sentences that name a body rated as a
  count or unnamed ("... were inspected in May 2023"), a dated list of reports ("All five
  reports were published in ..."), a timeline line ("2016 – ..."), "was last rated in 2021"
  for the old rating of a change, "the same rating it received in 2019", "where it has been
  since 2015", and a dated decision in the next sentence;
* a rating table (a header with "Rating 2024" / "Previous rating" columns) gives each row's
  body its ratings, and the rows' bodies named again in prose can be rated there.

* more years: a year on the rating's own verb before a nearer one; a masthead dateline
  ("Issue 212 | 21 November 2025"); a month without a year in a dated document; "where it
  was placed ... in 2023"; "than at the previous inspection in 2022" for the old rating;
  "at the time" (the year of the sentence before); an undated placement or rating told
  apart from its dated pair ("taken out of special measures ... rated good after an
  inspection in February 2025"); a year after "before"/"after" + gerund is that event's;
* more bodies: a rated count's bodies named paragraphs later by their kind ("Two GP
  practices ..." ... "The Crescent Surgery" ...), a dated timeline item with no body, a
  pronoun clause ("after inspectors rated it inadequate") for the main clause's subject;
  not a service in a relative clause, a body introduced as a charity or company, or a short
  form used as a place ("a care home in Ravenstone", "across the Black Country");
* the rater is the body the parse names as placing or rating (subject or "by" agent) where
  it is a regulator, national body or government.

* more readings: a rating verb before a long object ("has rated a GP practice in north Kent
  inadequate", ``strong_cue_over_object``); the items of a list under a heading about ratings
  ("Latest CQC ratings" / "- Elm Surgery, Ashby: Good (previously ...)", ``rating_list_item``);
  "no longer in special measures" (``sm_no_longer``); not a level compared with ("one step
  below special measures"), a goal ("the aim is an outstanding rating"), or the grades of an
  inspectorate that gives no ratings (the Care Inspectorate: ``non_rating_raters``);
* more years and steps: the spell an exit ends ("out of special measures, which it entered
  in 2022", "having entered them in 2020": ``spell_clause_year``); steps anywhere in the
  sentence ("Ministers took it out in 2020, only to return it ... in 2023"; "de-escalated to
  targeted intervention in 2022"); "in the same week" (the last full date before:
  ``same_time``); in an undated document, a new report dated by the next sentence's full
  date (``news_date``); a year on another rating's own verb is that rating's; a dateline
  opening the sentence does not date a previous rating; a rating kept in a dated release is
  that year's.

Files: nlp/rating_text.py (units, clauses, records), rating_events.py (which words are
ratings, their role in a change, the event fields), rating_periods.py (years by the parse,
datelines), rating_event_years.py (years from the body's other ratings and the sentences
around), rating_bodies.py
(who is rated), rating_passes.py (the passes over each unit), rating_history.py
(special-measures histories, numbered groups, raters), rating_tables.py (rating tables and
the names of rating-list items), rating_sections.py (years of section headings);
vocabulary in
nlp/data/ratings_lexicon.json and nlp/data/rating_events.json.

Output: ``doc.spans["ratings"]`` (the rating words, with ``span._.rating``) and
``doc._.ratings`` (list of dicts: org, rating, period, rater, start, end, sentence, why,
previous_rating, direction, status). ``why`` names the rules that decided the rating:
``pattern`` (the reading that made the words a rating), ``role`` (plain, new, old, prior),
``body`` (the pass that tied it to the body), ``period`` (where the year came from),
``rateable`` (type, care_home, name_suffix) and ``name`` (name, trimmed_rating_word).
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span

from nlp.rating_bodies import BodyResolver
from nlp.rating_event_years import EventYears
from nlp.rating_events import EventReader
from nlp.rating_history import HistoryReader
from nlp.rating_passes import BodyPasses, DocState
from nlp.rating_periods import PeriodResolver
from nlp.rating_sections import SectionYears
from nlp.rating_tables import TableReader
from nlp.rating_text import OUT_RE_TEMPLATE, SPAN_KEY, Entry, TextUnits, inflect, rateable
from nlp.sequence_matcher import ExactSequenceMatcher
from nlp.text import doc_text, register_extensions

register_extensions()

DATA_DIR = Path(__file__).parent / "data"


def _either(words: Iterable[str]) -> str:
    """A regex alternation of ``words``, each matched literally."""
    return "|".join(re.escape(w) for w in words)


class RatingExtractor(
    TextUnits,
    EventReader,
    PeriodResolver,
    EventYears,
    BodyResolver,
    HistoryReader,
    BodyPasses,
    TableReader,
    SectionYears,
):
    """The ``policywatch_ratings`` pipeline component."""

    def __init__(
        self, nlp: Language, name: str = "policywatch_ratings", *, lexicon_path: str | None = None
    ) -> None:
        self.name = name
        self._org_tokens: set[int] = set()  # per-document state, set in __call__
        self._org_at: dict[int, Span] = {}  # token index -> the organisation mention
        self._text = ""
        self._about_care_homes = False  # the document speaks of care or nursing homes
        self._small_provider_story = False  # it rates a care home or a GP practice
        self._table_body_starts: set[int] = set()  # prose mentions of rating-table rows
        # bodies the organisation finder missed: list items' names and appositions (token
        # start -> rule, see rating_tables)
        self._added_bodies: dict[int, str] = {}
        with Path(lexicon_path or DATA_DIR / "ratings_lexicon.json").open(encoding="utf-8") as f:
            lex = json.load(f)
        # the rating words are fixed word sequences (nlp.sequence_matcher)
        self.matcher = ExactSequenceMatcher(nlp.vocab)
        for value, patterns in lex["values"].items():
            self.matcher.add(value, [[{"LOWER": w} for w in p] for p in patterns])
        self.matcher.add("regime", [[{"LOWER": w}] for w in lex["regime_words"]])
        self.matcher.add("sm_pronoun", [[{"LOWER": w}] for w in lex["sm_pronouns"]])
        self._pronoun_key = nlp.vocab.strings.add("sm_pronoun")
        self.rating_nouns = set(lex["rating_nouns"])
        self.rating_list_words = set(lex["rating_list_words"])
        self.cue_lemmas = inflect(lex["cue_lemmas"])
        self.strong_cues = inflect(lex["strong_cue_lemmas"])
        self.near_cues = set(lex["near_cue_lemmas"])
        self.domain_words = set(lex["domain_words"])  # only right before the rating word
        self.non_rating_followers = set(lex["non_rating_followers"])
        self.prior_lemmas = inflect(lex["prior_lemmas"])
        self.draft_words = set(lex["draft_words"])
        # "rated a GP practice in north Kent inadequate": the object's prepositions and length
        self.object_prepositions = set(lex["object_prepositions"])
        self.object_span_limit = lex["object_span_limit"]
        self.hypothetical_words = set(lex["hypothetical_words"])
        neg = lex["negation_words"]
        self.negation_re = re.compile(
            r"\b(?:" + _either(neg) + r")\b", re.IGNORECASE
        )
        self.out_re = re.compile(
            OUT_RE_TEMPLATE.format(words=_either(lex["out_words"])),
            re.IGNORECASE,
        )
        # "one step below special measures": the level compared with, not a placement
        self.sm_comparison_re = re.compile(
            r"\b(?:"
            + _either(lex["sm_comparison_words"])
            + r")\s+(?:the\s+)?[‘“'\"]?\s*$",
            re.IGNORECASE,
        )
        self.change_out_re = re.compile(
            OUT_RE_TEMPLATE.format(words=_either(lex["change_out_words"])),
            re.IGNORECASE,
        )
        self.group_verbs = set(lex["group_verbs"])
        self.anaphor_nouns = set(lex["anaphor_nouns"])
        self.kind_nouns = set(lex["kind_nouns"])
        self.rater_cues = set(lex["rater_cues"])
        self.year_cues = set(lex["year_cues"])
        self.service_nouns = set(lex["service_nouns"])
        self.body_service_compounds = set(lex["body_service_compounds"])
        self.count_nouns = set(lex["count_nouns"]) | self.kind_nouns
        self.retain_lemmas = set(lex["retain_lemmas"])
        self.report_words = set(lex["report_words"])
        self.care_home_suffixes = tuple(" " + w for w in lex["care_home_suffixes"])
        self.care_home_nouns = tuple(lex["care_home_nouns"])
        self.change_links = set(lex["change_links"])
        # a de-escalation may name the level it goes to ("de-escalated to targeted
        # intervention in 2022")
        self.sm_step_re = re.compile(
            r"\b(?:(?P<out>"
            + _either(lex["sm_step_out"])
            + r")|(?P<down>"
            + _either(lex["sm_step_deescalate"])
            + r")(?:\s+to\s+[a-z-]+(?:\s+[a-z-]+){0,2})?|(?:"
            + _either(lex["sm_step_back"])
            + r"))\s+in\b",
            re.IGNORECASE,
        )
        self.publish_re = re.compile(
            r"\b(?:" + _either(lex["publish_words"]) + r")\b",
            re.IGNORECASE,
        )
        with (DATA_DIR / "rating_events.json").open(encoding="utf-8") as f:
            events = json.load(f)
        self._load_events(events)

    def _load_events(self, events: dict[str, Any]) -> None:
        """Vocabulary of ratings read as events (nlp/data/rating_events.json)."""
        self.rank: dict[str, int] = events["rank"]
        self.direction_words = {k: set(v) for k, v in events["direction_words"].items()}
        self.stay_words = set(events["stay_words"])
        # "out of special measures, which it entered in 2022": verbs of the spell's start
        self.sm_spell_lemmas = set(events["sm_spell_lemmas"])
        # "the inadequate rating it received in 2017": a rating held before
        self.received_words = set(events["received_after_rating"])
        number = "|".join(events["number_words"])
        self.years_later_re = re.compile(
            rf"\b(?P<n>\d|{number})\s+years?\s+later\b|\ba\s+year\s+later\b", re.IGNORECASE
        )
        self.number_words = {w: i + 1 for i, w in enumerate(events["number_words"])}
        self.placement_re = re.compile(
            r"\b(?:" + _either(events["placement_words"]) + r")\s+"
            r"(?:(?:the|its|a|their)\s+)?[‘“'\"]?\s*$",
            re.IGNORECASE,
        )
        self.new_report_aux = set(events["new_report_auxiliaries"])
        self.new_report_words = tuple(w.lower() for w in events["new_report_words"])
        self.rated_name_suffixes = tuple(" " + w for w in events["rated_name_suffixes"])
        self.small_provider_suffixes = tuple(" " + w for w in events["small_provider_suffixes"])
        self.event_pairs = {tuple(p) for p in events["event_pairs"]}
        self.event_pairs |= {(b, a) for a, b in self.event_pairs}
        self.table_previous_words = set(events["table_previous_header_words"])
        self.table_column_words = set(events["table_column_words"])
        self.table_date_words = set(events["table_date_words"])
        self.section_heading_words = events["section_heading_words"]
        self.now_words = set(events["now_words"])
        # "went into them": an entry verb before a pronoun for special measures
        self.sm_pronoun_entry_re = re.compile(
            r"\b(?:" + _either(events["sm_pronoun_entry_verbs"]) + r")\s+$",
            re.IGNORECASE,
        )
        self.inspector_words = set(events["inspector_words"])
        kinds = _either(events["appositive_kind_nouns"])
        name = r"[A-Z][\w’'-]+(?:\s+(?:[A-Z][\w’'-]+|of|on|upon)){0,4}"
        # "The home, Willow Bank, was ...", "a practice called Elm Row": the body's name
        self.appositive_body_re = re.compile(
            rf"\b(?i:the|a|an|its)\s+(?i:{kinds}),?\s+(?:(?i:called|named|known\s+as)\s+|"
            rf"(?<=,\s))(?P<name>{name})(?=\s*[,.;–—]|\s+(?:is|was|has|had)\b)"
        )
        # "this spring", "earlier this year", "last year": counted from the document's date
        self.document_relative_re = re.compile(
            r"\b(?:" + _either(events["document_relative_years"]) + r")\b",
            re.IGNORECASE,
        )
        self.inspection_words = set(events["inspection_words"])
        # nouns whose participle clause dates a rating ("a report published in May 2025")
        self.dating_nouns = self.rating_nouns | self.report_words | self.inspection_words
        held = _either(events["same_rating_verbs"])
        # "..., the same rating it received in 2019"
        self.same_rating_re = re.compile(
            rf",\s+(?:the\s+)?same\s+(?:overall\s+)?rating\s+(?:as\s+)?(?:that\s+)?(?:it|they)\s+"
            rf"(?:had\s+)?(?:{held})\s+(?:at\s+its\s+\w+\s+inspection\s+)?in\s+"
            r"(?:[A-Z][a-z]+\s+)?(?P<year>(?:19|20)\d{2})\b"
        )
        again = _either(events["repeat_rating_words"])
        # "requires improvement in 2018 and again in 2022"
        self.repeated_rating_re = re.compile(
            r"\s+(?:in|since)\s+(?:[A-Z][a-z]+\s+)?(?P<first>(?:19|20)\d{2})\b,?\s+and\s+"
            rf"(?:{again})\s+in\s+(?:[A-Z][a-z]+\s+)?(?P<year>(?:19|20)\d{{2}})\b"
        )
        last = _either(events["last_rated_verbs"])
        earlier = _either(events["last_inspection_nouns"])
        # "The trust was last rated in 2021", "last inspected in March 2019", "than at the
        # previous inspection in 2022"
        self.last_rated_re = re.compile(
            rf"\b(?:last\s+(?:{last})|(?i:last|previous)\s+(?:{earlier}))\s+"
            r"(?:in\s+)?(?:[A-Z][a-z]+\s+)?(?P<year>(?:19|20)\d{2})\b"
        )
        self.named_later_rules = set(events["named_later_rules"])
        self.table_dropped_articles = tuple(events["table_dropped_articles"])
        verbs = _either(events["out_object_verbs"])
        name = r"[A-Z][\w’'-]*(?:\s+(?:[A-Z][\w’'-]*|and|of|&)){0,7}"
        # "removed it from special measures", "took Oak Surgery out of the regime"
        self.out_object_re = re.compile(
            rf"\b(?i:{verbs})\s+(?:(?i:it|them|the\s+[\w’'-]+|this\s+[\w’'-]+)|{name})"
            r"\s+(?i:out\s+of|from)\s+(?i:the\s+)?[‘“'\"]?\s*$"
        )
        months = "|".join(events["months"])
        self.month_numbers = {
            name: (index % 12) + 1 for index, name in enumerate(events["months"][:12])
        }
        self.month_numbers.update({name[:3]: num for name, num in list(self.month_numbers.items())})
        self.month_numbers["Sept"] = 9
        self._date_month: int | None = None
        self._dateline_end = -1
        lead = "|".join(events["dateline_lead_words"])
        day = r"\d{1,2}(?:st|nd|rd|th)?"
        # "13 October 2017 – ...", "Published: 9 January 2015", "Monday 5 June 2023", and a
        # place dateline of a press release or a regional story ("BRINSFORD, 9 July 2025 – ...")
        place = r"(?:[A-Z][A-Za-z'’.-]+(?:\s+[A-Z][A-Za-z'’.-]+){0,3},\s+)"
        self.dateline_re = re.compile(
            rf"^(?:(?:{lead})\s*:?\s*(?:on\s+)?|{place})?(?:[A-Z][a-z]+day,?\s+)?"
            rf"(?:{day}\s+(?:{months})\.?|(?:{months})\.?\s+{day},?)\s+(?P<year>(?:19|20)\d{{2}})\b"
            r"(?:\s*$|\s*[–—:|-])"
        )
        # "Issue 212 | 21 November 2025": a masthead line whose parts include the date
        self.dateline_separators = tuple(events["dateline_separators"])
        self.decision_words = set(events["decision_words"])
        self.rater_types = set(events["rater_types"])
        # inspectorates whose grades are not ratings in the vocabulary
        self.non_rating_raters = set(events["non_rating_raters"])
        self.unrated_descriptors = set(events["unrated_descriptors"])
        self.area_prepositions = set(events["area_prepositions"])
        self.back_in_time_phrases = tuple(events["back_in_time_phrases"])
        self.same_time_phrases = tuple(events["same_time_phrases"])
        self.inspection_verbs = set(events["inspection_verbs"])
        self.previous_words = set(events["previous_words"])
        self.count_kind_suffixes = events["count_kind_suffixes"]
        self.count_lookahead = events["count_lookahead_units"]
        self.count_clause_breaks = set(events["count_clause_breaks"])
        self.rater_short_names = events["rater_short_names"]
        self.other_body_words = set(events["other_body_words"])
        self.listing_date_prepositions = set(events["listing_date_prepositions"])
        # "good in 2017", "inadequate since March 2019": the year written right after a rating
        self.rating_year_prepositions = set(events["rating_year_prepositions"])
        # a short masthead line with one full date dates the page ("Weekly digest, 3 May 2025")
        self.masthead_date_line_tokens = events["masthead_date_line_tokens"]
        # "on 9 November 2022", "on November 9, 2022"
        self.full_date_re = re.compile(
            rf"\b(?:{day}\s+(?:{months})\.?|(?:{months})\.?\s+{day},?)\s+(?P<year>(?:19|20)\d{{2}})\b"
        )
        # "• October 2013 – Monitor places the trust ...", "2021 – rated good"
        self.leading_date_re = re.compile(
            rf"^(?:[•*·◦▪–-]\s*)?(?:(?:(?P<day>{day})\s+)?(?:{months})\.?\s+)?"
            r"(?P<year>(?:19|20)\d{2})\s*[–—:-]\s"
        )

    def __call__(self, doc: Doc) -> Doc:
        # Doc.text is rebuilt on every access: read it once per document (nlp.text.doc_text)
        self._text = doc_text(doc)
        matches = self.matcher(doc)
        # (a pronoun alone is no rating word: "them" counts only after special measures)
        if all(m[0] == self._pronoun_key for m in matches):
            # no rating word: no rating, in a table or in prose, so nothing else to read
            self._table_body_starts = set()
            doc.spans[SPAN_KEY] = []
            doc._.ratings = []
            return doc
        text_lower = self._text.lower()
        self._about_care_homes = any(noun in text_lower for noun in self.care_home_nouns)
        org_spans = [
            s
            for s in doc.spans.get("orgs", [])
            if (rateable(s) or self._care_home(s) or self._rated_by_name(s))
            and not self._place_of_unnamed(s)
            and not self._described_as_unrated(doc, s)
        ]
        org_spans.sort(key=lambda s: s.start)
        self._small_provider_story = any(
            self._care_home(s) or self._body_name(s).endswith(self.small_provider_suffixes)
            for s in org_spans
        )
        all_orgs = list(doc.spans.get("orgs", []))
        self._org_tokens = {k for span in all_orgs for k in range(span.start, span.end)}
        self._org_at = {k: span for span in all_orgs for k in range(span.start, span.end)}
        units = self._units(doc)
        date = self._document_date(doc, units)
        table_ratings = self._table_ratings(doc, date)
        self._table_body_starts = set()
        if table_ratings:
            # the rows' bodies named again in prose ("Elm House has been placed in special
            # measures") are bodies the prose can rate
            row_mentions = self._table_body_mentions(doc, table_ratings)
            self._table_body_starts = {s.start for s in row_mentions}
            org_spans = sorted(org_spans + row_mentions, key=lambda s: s.start)
        # the names of a rating list's items the organisation finder missed
        items = self._list_item_bodies(doc, units)
        appositives = self._appositive_bodies(doc)
        self._added_bodies = {s.start: "list_item" for s in items}
        self._added_bodies.update({s.start: "appositive" for s in appositives})
        item_bodies = items + appositives
        # a body a rating table or list rates, named again in prose under a type the
        # organisation finder gave it ("The Larches, which ... has been placed in special
        # measures"), can be rated there too
        listed = {s.kb_id_ for s in items} | {r["org"] for r in table_ratings}
        taken = {s.start for s in org_spans}
        again = [
            s
            for s in all_orgs
            if s._.org_name in listed and s.start not in taken and s.start not in self._added_bodies
        ]
        if items:
            # (or not marked at all)
            item_lines = {self._text[slice(*self._line_range(s.start_char))] for s in items}
            again += [
                s
                for s in self._named_again(doc, {s.kb_id_ for s in items}, item_lines)
                if s.start not in taken
            ]
        self._added_bodies.update({s.start: "named_in_list" for s in again})
        if item_bodies or again:
            org_spans = sorted(org_spans + item_bodies + again, key=lambda s: s.start)
        if not org_spans:
            doc.spans[SPAN_KEY] = []
            doc._.ratings = table_ratings
            self._record_rated_bodies(doc, table_ratings, [])
            return doc
        self._leading_years(doc, units)
        has_sm = "special measures" in text_lower
        matches.sort(key=lambda m: m[1])
        starts = [m[1] for m in matches]
        by_unit = [
            self._occurrences(
                doc,
                unit,
                has_sm,
                matches[bisect_left(starts, unit.start) : bisect_left(starts, unit.end)],
            )
            for unit in units
        ]
        default_fy = self._ratings_year(doc, units)
        raters = self._raters(doc, units, all_orgs)
        groups = self._numbered_groups(units, by_unit, has_sm, doc)

        org_starts = [m.start for m in org_spans]
        unit_mentions = [
            [
                m
                for m in org_spans[
                    bisect_left(org_starts, unit.start) : bisect_left(org_starts, unit.end)
                ]
                if m.end <= unit.end
            ]
            for unit in units
        ]
        st = DocState(doc, units, by_unit, unit_mentions, org_spans, default_fy, raters, groups)
        for ui in range(len(units)):
            self._read_unit(st, ui)
        entries = st.entries
        group_placed = bool(groups) or any(
            occ.value == "special measures" for _, occ, _ in st.count_ratings
        )
        self._sm_steps(doc, units, entries)
        self._sm_spell_clauses(doc, entries)
        self._shared_event_dates(doc, entries)
        self._years_later(doc, units, entries)
        self._at_the_time_years(doc, units, entries)
        self._same_time_years(doc, entries)
        self._story_inspection_year(doc, units, by_unit, entries)
        self._report_years(doc, units, unit_mentions, entries)
        self._naming_sentence_years(doc, units, entries, date)
        self._list_report_years(doc, units, entries)
        self._last_rated_years(doc, entries)
        self._same_rating_before(doc, entries)
        self._repeated_rating_years(doc, entries)
        self._decision_years(doc, units, entries, date)
        self._section_heading_years(doc, entries)
        self._relative_document_years(doc, units, entries, date)
        self._dateline_periods(doc, entries, date)
        self._paired_event_years(doc, entries)
        self._judged_by_non_rater(doc, units, entries)
        results, spans = self._finish(doc, entries, group_placed)
        if table_ratings:
            # a rating table's row is read by the table reader, not as prose
            rows = {self._line_range(r["start"]) for r in table_ratings}
            keep = [i for i, r in enumerate(results) if self._line_range(r["start"]) not in rows]
            new_index = {str(old): str(new) for new, old in enumerate(keep)}
            results = [results[i] for i in keep]
            spans = [sp for sp in spans if sp.id_ in new_index]
            for sp in spans:
                sp.id_ = new_index[sp.id_]
        told = {(r["org"], r["rating"], r["period"]) for r in results}
        results += [r for r in table_ratings if (r["org"], r["rating"], r["period"]) not in told]
        doc.spans[SPAN_KEY] = spans
        doc._.ratings = results
        self._record_rated_bodies(doc, results, item_bodies)
        return doc

    def _place_of_unnamed(self, span: Span) -> bool:
        """A short form used as a place: of an unnamed body ("A nursing home in Ravenstone
        that was ..." where "Ravenstone" also opens an organisation's name) or an area
        ("across the Black Country"), not the rated body."""
        root = span.root
        if span.text == span._.org_name:
            return False
        # "Somerset surgery placed in special measures": a place naming an unnamed body
        if root.dep_ in ("compound", "amod") and root.head.lower_ in self.kind_nouns:
            return True
        if root.dep_ != "pobj":
            return False
        # "Across the Black Country, 14 practices are rated ...": an area
        if root.head.lower_ in self.area_prepositions:
            return True
        return (
            root.head.lower_ in ("in", "near")
            and root.head.head.lower_ in self.kind_nouns
            and any(c.lower_ in ("a", "an") for c in root.head.head.children)
        )

    def _described_as_unrated(self, doc: Doc, span: Span) -> bool:
        """A body the text introduces as a kind the CQC does not rate ("owned by the charity
        Ravenstone Care Trust")."""
        before = [t.lower_ for t in doc[max(0, span.start - 2) : span.start]]
        return bool(before) and before[-1] in self.unrated_descriptors

    def _title_end(self, doc: Doc) -> int:
        """Token index where a headline line (the first line, without a full stop) ends."""
        first_line = self._text.lstrip().split("\n", 1)[0].rstrip()
        if not first_line or first_line.endswith((".", "?", "!", ":")) or "\n" not in self._text:
            return 0
        offset = len(self._text) - len(self._text.lstrip())
        span = doc.char_span(offset, offset + len(first_line), alignment_mode="expand")
        return span.end if span is not None else 0

    def _finish(
        self, doc: Doc, entries: list[Entry], group_placed: bool
    ) -> tuple[list[dict[str, Any]], list[Span]]:
        with_period = {(e.org, e.value) for e in entries if e.period is not None}
        # a headline restates the story: it adds nothing the body says with more detail
        title_end = self._title_end(doc)
        in_body = {(e.org, e.value) for e in entries if e.unit.start >= title_end}
        seen: dict[tuple[str, str, str | None], dict[str, Any]] = {}
        kept: list[Entry] = []
        spans = []
        for e in entries:
            # "taken out of special measures" says it was in only where the text tells of a
            # group placed there ("two of the 11 trusts placed in special measures")
            if e.implied and ((e.org, e.value) in with_period or not group_placed):
                continue
            # special measures are one spell, and an undated rating ("upgraded from
            # inadequate", "has been rated outstanding") is the dated one of the same body
            # and value again; a rating it already held ("the good rating it held") is
            # one of its own
            if (
                e.period is None
                and (e.org, e.value) in with_period
                and ("special measures" in e.value or e.occ.role != "prior")
            ):
                continue
            if e.unit.end <= title_end and e.period is None and (e.org, e.value) in in_body:
                continue
            key = (e.org, e.value, e.period)
            if key in seen:
                if seen[key]["rater"] is None and e.rater is not None:
                    seen[key]["rater"] = e.rater
                continue
            start_char = doc[e.occ.start].idx
            last = doc[e.occ.end - 1]
            sent = doc[e.unit.start : e.unit.end].text
            rating = {
                "org": e.org,
                "rating": e.value,
                "period": e.period,
                "rater": e.rater,
                "start": start_char,
                "end": last.idx + len(last),
                "sentence": sent,
                "why": {
                    "pattern": e.occ.pattern or "unnamed",
                    "role": e.occ.role,
                    "body": e.body,
                    "period": e.period_source,
                    "rateable": e.rateable,
                    "name": e.name_rule,
                },
            }
            # read back as span._.rating (see nlp.text)
            spans.append(Span(doc, e.occ.start, e.occ.end, label="RATING", span_id=str(len(seen))))
            seen[key] = rating
            kept.append(e)
        results = list(seen.values())
        for rating, fields in zip(results, self._event_fields(doc, kept), strict=True):
            rating.update(fields)
        spans.sort(key=lambda s: (s.start, s.end))
        return results, spans


@Language.factory(
    "policywatch_ratings",
    assigns=["doc.spans", "doc._.ratings", "span._.rating"],
    requires=["doc.spans", "token.dep", "token.lemma"],
    default_config={"lexicon_path": None},
)
def make_rating_extractor(nlp: Language, name: str, lexicon_path: str | None) -> RatingExtractor:
    """Build the rating extractor (vocabulary defaults to ``nlp/data/ratings_lexicon.json``)."""
    return RatingExtractor(nlp, name, lexicon_path=lexicon_path)
