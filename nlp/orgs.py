"""Organisation recognition for UK health-policy news (spaCy component ``policywatch_orgs``).

NHS and public bodies are named by public conventions: a place name followed by a kind
("Wakefield CCG", "Frimley Health Foundation Trust", "Kent County Council"). This
component reads those conventions instead of relying on a list of names:

* national bodies, regulators, government departments, unions, think tanks and media come from
  a gazetteer with aliases (``data/orgs_gazetteer.jsonl``);
* local bodies are read from their *head* ("CCG", "Trust", "ICS" ... in
  ``data/orgs_patterns.jsonl``) and the capitalised name run to its left; regional services
  may be named by compass points alone ("North East Ambulance Service"); local branches of a
  national body take their area ("Healthwatch Kent");
* what opens a sentence is not part of a name: adverbs, gerunds, adjectives such as
  "Neighbouring", and a place adverbial before a comma ("On Wearside, Sunderland CCG"; a
  comma list of places ending in "and" stays one name);
* coordinated plurals ("A and B CCGs", "A, B and C groups") are split into built names
  ("A CCG", "B CCG"), while singular heads keep names with "and"/commas whole; in "A and B
  and C trusts" the "and" after a name-final word joins the conjuncts, else the last one;
* bare lists after a kind noun ("three CCGs – A, B and C –"), or after a colon closing a
  clause whose subject or object is the kind noun ("Four CCGs were rated outstanding: A, B
  and C"), give "<name> <kind>";
* care homes, nursing homes and GP practices introduced by what they are ("One care home,
  Willowmere House, ..."; "three care homes – A, B and C –") are providers under their own
  names;
* acronyms (defined in brackets, also of several words like "KM ICB", or matching a name's
  initials), short forms ("Frimley" for "Frimley Health Foundation Trust", also when found
  on their own in a headline) and possessives become aliases;
* a bare name that named bodies merge with or join takes their kind ("A and B join C");
* the stock NER's ORG entities are a fallback for companies and media outlets (persons after
  job titles, laws, programmes, hospital sites, places in "X-based", "across X" and
  "from X to Y" are not taken; a cut-off entity is completed up to the bracketed acronym
  that spells it; a lowercase "the" is not part of a media title);
* names described by their kind in apposition ("Brightpath, the mental health charity";
  "the consultancy X") are organisations of that kind;
* a page tagline ("HSJ’s round-up of ...") is page furniture, not news.

The rules live in files with one job: ``org_names`` (reading and building names),
``org_boards`` (Welsh/Scottish boards and "NHS <area>" boards), ``org_lists`` (bare lists
after a kind noun), ``org_settings`` (care homes, practices, hospitals), ``org_ner`` (the
stock NER fallback and appositions), ``org_aliases`` (short forms and acronyms),
``org_filters`` (what is not an organisation) and ``org_model`` (the name key and mention
records); this module loads the data, runs the gazetteer and head passes and assembles the
organisations.

Output: ``doc.spans["orgs"]`` (every mention, with ``span._.org_name``/``span._.org_type``) and
``doc._.organisations`` (one dict per organisation: name, aliases, type, mentions).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span, Token

from nlp.org_aliases import OrgAliasRules
from nlp.org_boards import OrgBoardRules
from nlp.org_filters import OrgFilterRules
from nlp.org_lists import OrgListRules
from nlp.org_masthead import OrgMastheadRules
from nlp.org_model import (
    ACRONYM_RE,
    Mention,
    OrgRecord,
    org_key,
)
from nlp.org_names import OrgNameRules
from nlp.org_ner import OrgNerRules
from nlp.org_settings import OrgSettingRules
from nlp.sequence_matcher import ExactSequenceMatcher
from nlp.text import doc_text, register_extensions

register_extensions()

DATA_DIR = Path(__file__).parent / "data"
SPAN_KEY = "orgs"
_QUANTIFIERS = {"several", "many", "some", "all", "both", "most", "few", "other", "two", "three"}
_NHS_RE = re.compile(r"\bNHS\b")


def _load_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class OrgRecognizer(
    OrgNameRules,
    OrgBoardRules,
    OrgListRules,
    OrgSettingRules,
    OrgMastheadRules,
    OrgNerRules,
    OrgAliasRules,
    OrgFilterRules,
):
    """The ``policywatch_orgs`` pipeline component."""

    def __init__(
        self,
        nlp: Language,
        name: str = "policywatch_orgs",
        *,
        gazetteer_path: str | None = None,
        patterns_path: str | None = None,
        lexicon_path: str | None = None,
        places_path: str | None = None,
        boards_path: str | None = None,
        use_ner: bool = True,
    ) -> None:
        self.name = name
        self.use_ner = use_ner
        self._text = ""  # per-document state, set in __call__
        self._gaz_ends: set[int] = set()  # last tokens of gazetteer mentions, per document
        gaz = _load_jsonl(Path(gazetteer_path or DATA_DIR / "orgs_gazetteer.jsonl"))
        heads = _load_jsonl(Path(patterns_path or DATA_DIR / "orgs_patterns.jsonl"))
        lex_file = Path(lexicon_path or DATA_DIR / "orgs_lexicon.json")
        with lex_file.open(encoding="utf-8") as f:
            lex = json.load(f)
        self.connectors = set(lex["connectors"])
        self.compass = set(lex["compass"])
        self.compass_lower = {c.lower() for c in self.compass}
        self.descriptors = set(lex["descriptors"])
        self.short_form_suffixes = set(lex["short_form_suffixes"])
        self.generic_acronyms = set(lex["generic_acronyms"])
        self.media_words = set(lex["media_words"])
        self.company_words = set(lex["company_words"])
        self.firm_words = set(lex["firm_words"])
        self.company_nouns = set(lex["company_nouns"])
        self.media_nouns = set(lex["media_nouns"])
        self.title_words = set(lex["title_words"])
        self.honorifics = set(lex["honorifics"])
        self.non_org_heads = set(lex["non_org_heads"])
        self.provider_words = set(lex["provider_words"])
        self.regional_descriptors = set(lex.get("regional_descriptors", []))
        self.leading_modifiers = set(lex.get("leading_modifiers", []))
        self.appositive_nouns: dict[str, str] = lex.get("appositive_nouns", {})
        self.place_prepositions = set(lex.get("place_prepositions", []))
        self.rating_words = set(lex["rating_words"])
        self.practice_non_names = set(lex["practice_non_names"])
        self.title_heads = set(lex["title_heads"])
        self.site_nouns = set(lex["site_nouns"])
        self.institution_words = set(lex["institution_words"])
        self.branch_words = set(lex["branch_words"])
        self.hospital_heads = set(lex["hospital_heads"])
        self.hospital_acting_verbs = set(lex["hospital_acting_verbs"])
        self._load_care_settings(lex)
        self._load_masthead(lex)
        self.money_nouns = set(lex["money_nouns"])
        self.nation_names = [name.split() for name in lex.get("nation_names", [])]
        self._appositive_re = re.compile(
            r"\b(?:" + "|".join(re.escape(w) for w in self.appositive_nouns) + r")\b"
        )
        self.merge_verbs = set(lex["merge_verbs"])
        self.merge_re = re.compile(
            r"\b(?:" + "|".join(sorted(self.merge_verbs, key=len, reverse=True)) + r")\b",
            re.IGNORECASE,
        )
        self.tagline_re = re.compile("|".join(lex["tagline_patterns"]), re.IGNORECASE)
        self.kind_suffixes = lex["kind_suffixes"]
        self.plural_kind_words = set(lex["plural_kind_words"])
        self.list_prepositions = set(lex["list_prepositions"])
        places_file = Path(places_path or DATA_DIR / "orgs_places.txt")
        with places_file.open(encoding="utf-8") as f:
            self.places = {line.strip() for line in f if line.strip() and line[0] != "#"}
        self._load_boards(nlp, Path(boards_path or DATA_DIR / "orgs_boards.json"))

        # gazetteer: every surface form -> canonical entry
        self.gaz: dict[str, dict[str, Any]] = {}
        self.gaz_forms: dict[str, str] = {}
        self.phrase_matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        for entry in gaz:
            self.gaz[entry["name"]] = entry
            forms = [entry["name"], *entry.get("aliases", [])]
            variants = set()
            for form in forms:
                variants.update({form, form.replace("'", "’"), form.replace("’", "'")})
            for v in variants:
                self.gaz_forms[v] = entry["name"]
            self.phrase_matcher.add(entry["name"], [nlp.make_doc(v) for v in sorted(variants)])
        self.gaz_acronyms = {f for f, n in self.gaz_forms.items() if ACRONYM_RE.match(f)}

        # kind heads keyed by their pattern id (``data/orgs_patterns.jsonl``): fixed word
        # sequences, matched through an index on their first word (nlp.sequence_matcher)
        self.head_matcher = ExactSequenceMatcher(nlp.vocab)
        self.heads: dict[str, dict[str, Any]] = {}
        for head in heads:
            self.heads[head["id"]] = head
            self.head_matcher.add(head["id"], [head["pattern"]])
        self.plural_kind_nouns = {
            "CCGs": ("CCG", "commissioner"),
            "groups": ("CCG", "commissioner"),
            "ICSs": ("ICS", "commissioner"),
            "ICBs": ("ICB", "commissioner"),
            "trusts": ("Trust", "provider"),
            "councils": ("Council", "government"),
        }

    # ------------------------------------------------------------------ helpers

    def _tokens_matching(self, doc: Doc, pattern: re.Pattern[str]) -> list[Token]:
        """Tokens starting where ``pattern`` matches the text: a regex prefilter is far cheaper
        than a Python loop over every token of the document."""
        out = []
        for m in pattern.finditer(self._text):
            span = doc.char_span(m.start(), m.end(), alignment_mode="expand")
            if span is not None and len(span):
                out.append(span[0])
        return out

    def _doc_mentions_ccgs(self, doc: Doc) -> bool:
        return "CCG" in self._text or "ommissioning group" in self._text

    def _head_spans(self, doc: Doc) -> list[tuple[int, int, dict[str, Any]]]:
        found = []
        for match_id, start, end in self.head_matcher(doc):
            found.append((start, end, self.heads[doc.vocab.strings[match_id]]))
        # longest first, no overlaps
        found.sort(key=lambda x: (x[0], -(x[1] - x[0])))
        result: list[tuple[int, int, dict[str, Any]]] = []
        last_end = -1
        for start, end, head in found:
            if start < last_end:
                continue
            result.append((start, end, head))
            last_end = end
        # a head followed by more of the name ("Ambulance Service Trust") is not final
        final = []
        for start, end, head in result:
            nxt = doc[end] if end < len(doc) else None
            if (
                nxt is not None
                and self._name_like(nxt)
                and nxt.text not in self.connectors
                and nxt.text not in self.rating_words
            ):
                if not (nxt.is_sent_start or "\n" in doc[end - 1].whitespace_):
                    continue
            if nxt is not None and nxt.text == "of" and head.get("continues_with_of"):
                continue  # "University Hospital of North Midlands Trust"
            final.append((start, end, head))
        return final

    # ------------------------------------------------------------------ candidates

    def _gazetteer_mentions(self, doc: Doc) -> list[Mention]:
        out: list[Mention] = []
        self._gaz_ends = set()
        for match_id, start, end in self.phrase_matcher(doc):
            gaz_name = doc.vocab.strings[match_id]
            entry = self.gaz[gaz_name]
            tok = doc[start]
            if (
                end - start == 1
                and tok.is_sent_start
                and tok.is_title
                and tok.pos_ in ("NOUN", "VERB", "ADJ", "ADV")
            ):
                continue  # a common word opening a sentence ("Labour costs rose")
            if entry.get("place_suffix"):
                # local branches named by their area ("Healthwatch Isle of Man")
                local = self._place_suffix_end(doc, end)
                if local > end:
                    name = doc[start:local].text
                    out.append(
                        Mention(start, local, name, entry.get("local_type", "other"), "head")
                    )
                    continue
                # or by the area before the name ("West Fenshire Healthwatch")
                area = self._place_prefix_start(doc, start)
                if area < start:
                    name = doc[area:end].text
                    out.append(
                        Mention(area, end, name, entry.get("local_type", "other"), "head")
                    )
                    continue
            if entry.get("nation_branches"):
                # a national branch is a body of its own ("BBC Wales", "BMA Scotland")
                branch = self._nation_end(doc, end)
                if branch > end:
                    name = doc[start:branch].text
                    out.append(Mention(start, branch, name, entry["type"], "head"))
                    continue
            text = doc[start:end].text
            out.append(Mention(start, end, text, entry["type"], "gazetteer", gaz_name=gaz_name))
        self._gaz_ends = {m.end - 1 for m in out}
        return out

    def _place_prefix_start(self, doc: Doc, start: int) -> int:
        """Start of an area's name (up to three proper nouns or compass words) right before
        token ``start``; ``start`` itself when there is none."""
        k = start
        while k > 0 and start - k < 3:
            tok = doc[k - 1]
            if "\n" in tok.text or not tok.text[:1].isupper():
                break
            if not (tok.text in self.places or tok.text in self.compass or tok.pos_ == "PROPN"):
                break
            if tok.text in self.gaz_forms or tok.ent_type_ in ("DATE", "TIME"):
                break
            k -= 1
        return k

    def _nation_end(self, doc: Doc, end: int) -> int:
        """End of a nation's name ("Wales", "Northern Ireland") right after token ``end``,
        also after "in" ("Royal College of Nursing in Wales")."""
        if end < len(doc) and doc[end].text == "in":
            branch = self._nation_end(doc, end + 1)
            if branch > end + 1:
                return branch
        extended = True
        while extended:
            extended = False
            for nation in self.nation_names:
                k = end + len(nation)
                if k <= len(doc) and [t.text for t in doc[end:k]] == nation:
                    end, extended = k, True
                    break
        return end

    def _known_name_keys(
        self, doc: Doc, heads: list[tuple[int, int, dict[str, Any]]], stops: set[int]
    ) -> set[str]:
        """Keys of the names the document gives a singular head ("Oxbury and Lyne" of "Oxbury
        and Lyne NHS Foundation Trust"), without its descriptors: evidence for splitting a
        coordination that shares a plural head."""
        known: set[str] = set()
        for hstart, _hend, head in heads:
            if head["plural"]:
                continue
            run = self._trim(doc, self._run_start(doc, hstart, stops), hstart)
            words = [t.text for t in doc[run:hstart]]
            while words and words[-1] in self.short_form_suffixes:
                words.pop()
            if words:
                known.add(org_key(" ".join(words)))
        return known

    def _joined_run(
        self, doc: Doc, run: int, hstart: int, head: dict[str, Any], stops: set[int]
    ) -> int:
        """Extend a name run over a lower-case joining word its head allows (Welsh "a"/"ac",
        "and": "Eryl a Tawe University Health Board"), between two capitalised words."""
        joins = head.get("joining_words")
        while (
            joins
            and hstart > run >= 2
            and doc[run - 1].text in joins
            and self._name_like(doc[run - 2])
            and not self._is_stop(doc[run - 2])
        ):
            start = self._trim(doc, self._run_start(doc, run - 1, stops), run - 1)
            if start >= run - 1:
                break
            run = start
        return run

    def _head_mentions(self, doc: Doc) -> list[Mention]:
        heads = self._head_spans(doc)
        stops = {k for s, e, _ in heads for k in range(s, e)}
        # a name run does not reach back over a known body joined by "and" ("Healthwatch
        # Kent and Kent County Council")
        stops.update(
            k + 1
            for k in self._gaz_ends
            if k + 1 < len(doc) and doc[k + 1].lower_ in ("and", "&", ",")
        )
        known = self._known_name_keys(doc, heads, stops)
        has_ccgs = None
        out: list[Mention] = []
        for hstart, hend, head in heads:
            run = self._run_start(doc, hstart, stops)
            run = self._trim(doc, run, hstart, plural=head["plural"])
            run = self._joined_run(doc, run, hstart, head, stops)
            if head["kind"] == "practice" and (
                self._is_branch_site(doc, run)
                or self._not_a_practice_name(doc, run, hstart)
                or (head.get("lower_head") and self._place_and_kind(doc, run, hstart))
            ):
                continue
            if run >= hstart:
                # a capital "The" inside a sentence opens a practice's own name ("rated The
                # Family Practice")
                if (
                    head["kind"] == "practice"
                    and hend - hstart >= 2
                    and hstart > 0
                    and doc[hstart - 1].text == "The"
                    and not doc[hstart - 1].is_sent_start
                ):
                    out.append(Mention(hstart, hend, doc[hstart:hend].text, head["type"], "head"))
                continue
            toks = list(doc[run:hstart])
            # regional services are named by compass points alone ("South West Ambulance
            # Service")
            regional = any(t.text in self.regional_descriptors for t in toks) and any(
                t.text in self.compass for t in toks
            )
            if not self._has_proper(toks) and not regional:
                continue
            proper = [t for t in toks if t.text not in self.descriptors]
            if (
                len(proper) == 1
                and proper[0].is_sent_start
                # only forms no place name takes: the tagger reads unknown place names
                # opening a sentence as nouns or even verbs
                and proper[0].tag_ in ("VBG", "RB")
            ):
                continue  # a sentence-initial common word ("Struggling Trust placed ...")
            if head.get("lower_plural") and head["kind"] == "CCG":
                if has_ccgs is None:
                    has_ccgs = self._doc_mentions_ccgs(doc)
                if not has_ccgs:
                    continue
            if head["plural"]:
                pieces = self._split_coordination(doc, run, hstart, known)
                if (
                    len(pieces) < 2
                    and run > 0
                    and (doc[run - 1].like_num or doc[run - 1].lower_ in _QUANTIFIERS)
                ):
                    continue  # a count of bodies in an area ("three Kestrel CCGs")
                if head.get("lower_plural") and len(pieces) < 2:
                    continue
                if len(pieces) >= 2:
                    # a shared prefix is distributed too ("NHS A, B and C CCGs")
                    prefix = "NHS " if doc[pieces[0][0]].text == "NHS" else ""
                    for i, (s, e) in enumerate(pieces):
                        if not self._has_proper(list(doc[s:e])):
                            continue
                        own = doc[s:e].text
                        if prefix and not own.startswith(prefix):
                            own = prefix + own
                        name = f"{own} {head['singular']}"
                        end = hend if i == len(pieces) - 1 else e
                        out.append(Mention(s, end, name, head["type"], "head", fragment=True))
                    continue
            out.append(Mention(run, hend, doc[run:hend].text, head["type"], "head"))
        return out

    def _nhs_mentions(self, doc: Doc, taken: set[int]) -> list[Mention]:
        """ "the NHS" used as a noun for the health service as a whole."""
        out = []
        for tok in self._tokens_matching(doc, _NHS_RE):
            if tok.text != "NHS" or tok.i in taken:
                continue
            nxt = doc[tok.i + 1] if tok.i + 1 < len(doc) else None
            if tok.dep_ in ("compound", "amod", "nmod"):
                continue
            if nxt is not None and (nxt.pos_ in ("NOUN", "PROPN") or self._name_like(nxt)):
                continue
            out.append(Mention(tok.i, tok.i + 1, "NHS", "national_body", "nhs"))
        return out

    # ------------------------------------------------------------------ aliases

    # ------------------------------------------------------------------ assembly

    def _group(self, mentions: list[Mention]) -> list[OrgRecord]:
        orgs: list[OrgRecord] = []
        by_key: dict[str, OrgRecord] = {}
        for m in sorted(mentions, key=lambda m: m.start):
            key = m.key or m.gaz_name or org_key(m.name)
            org = by_key.get(key)
            if org is None:
                org = OrgRecord(name=m.name, type=m.type, gaz_name=m.gaz_name)
                orgs.append(org)
                by_key[key] = org
                org.keys.add(key)
            org.mentions.append(m)
        return orgs

    def _finish(self, doc: Doc, org: OrgRecord) -> dict[str, Any]:
        surface = []
        for m in org.mentions:
            text = doc[m.start : m.end].text
            if m.bare:
                surface.append(m.bare)
            if not m.fragment and m.source != "alias" and m.bare is None:
                surface.append(text)
        if org.gaz_name is not None:
            # the fullest form the text uses; an acronym used alone stays as written
            full = [s for s in surface if not ACRONYM_RE.match(s)]
            name = max(full, key=len) if full else (surface[0] if surface else org.gaz_name)
        else:
            built = [m.name for m in org.mentions if m.source != "alias"]
            name = max(built, key=len) if built else org.name
        if name.lower().startswith("the ") and org.type != "media":
            name = name[4:]
        org.name = name
        aliases = []
        for s in surface:
            s2 = s[4:] if s.lower().startswith("the ") and org.type != "media" else s
            if s2 != name and s2 not in aliases:
                aliases.append(s2)
        mentions = [
            {
                "start": doc[m.start].idx,
                "end": doc[m.end - 1].idx + len(doc[m.end - 1]),
                "text": doc[m.start : m.end].text,
            }
            for m in org.mentions
        ]
        return {"name": name, "aliases": aliases, "type": org.type, "mentions": mentions}

    def __call__(self, doc: Doc) -> Doc:
        # Doc.text is rebuilt on every access: read it once per document (nlp.text.doc_text)
        self._text = doc_text(doc)
        candidates = (
            self._gazetteer_mentions(doc) + self._board_mentions(doc) + self._head_mentions(doc)
        )
        candidates += self._masthead_mention(doc, set())
        furniture = self._tagline_end(doc)
        if furniture:
            candidates = [m for m in candidates if m.start >= furniture]
        # longest first; gazetteer wins ties
        candidates.sort(
            key=lambda m: (-(m.end - m.start), m.source not in ("gazetteer", "board"), m.start)
        )
        taken: set[int] = set(range(furniture))
        chosen: list[Mention] = []
        for m in candidates:
            if any(k in taken for k in range(m.start, m.end)):
                continue
            chosen.append(m)
            taken.update(range(m.start, m.end))
        for extra in (
            self._list_mentions(doc, taken),
            self._care_setting_mentions(doc, taken),
            self._care_home_name_mentions(doc, taken),
            self._inspected_home_mentions(doc, taken),
            self._nhs_area_mentions(doc, taken),
            self._hospital_mentions(doc, taken),
            self._nhs_mentions(doc, taken),
        ):
            for m in extra:
                if not any(k in taken for k in range(m.start, m.end)):
                    chosen.append(m)
                    taken.update(range(m.start, m.end))
        orgs = self._group(chosen)
        self._bracket_acronyms(doc, orgs, chosen)
        orgs = self._group(chosen)
        chosen += self._alias_mentions(doc, orgs, taken)
        chosen += self._partner_mentions(doc, chosen, taken)
        chosen += self._coordinated_bare_mentions(doc, chosen, taken)
        if self.use_ner:
            chosen += self._ner_mentions(doc, taken)
            chosen += self._appositive_mentions(doc, taken)
        self._merge_short_heads(self._group(chosen), chosen)
        orgs = self._group(chosen)
        results = [self._finish(doc, org) for org in orgs]
        spans = []
        for org, result in zip(orgs, results, strict=True):
            for m in org.mentions:
                # read back as span._.org_type / span._.org_name (see nlp.text)
                spans.append(Span(doc, m.start, m.end, label=result["type"], kb_id=result["name"]))
        spans.sort(key=lambda s: (s.start, s.end))
        doc.spans[SPAN_KEY] = spans
        doc._.organisations = results
        return doc


@Language.factory(
    "policywatch_orgs",
    assigns=["doc.spans", "doc._.organisations", "span._.org_name", "span._.org_type"],
    requires=["token.pos", "token.dep", "doc.ents"],
    default_config={
        "gazetteer_path": None,
        "patterns_path": None,
        "lexicon_path": None,
        "places_path": None,
        "boards_path": None,
        "use_ner": True,
    },
)
def make_org_recognizer(
    nlp: Language,
    name: str,
    gazetteer_path: str | None,
    patterns_path: str | None,
    lexicon_path: str | None,
    places_path: str | None,
    boards_path: str | None,
    use_ner: bool,
) -> OrgRecognizer:
    """Build the organisation recogniser (data paths default to ``nlp/data``)."""
    return OrgRecognizer(
        nlp,
        name,
        gazetteer_path=gazetteer_path,
        patterns_path=patterns_path,
        lexicon_path=lexicon_path,
        places_path=places_path,
        boards_path=boards_path,
        use_ner=use_ner,
    )
