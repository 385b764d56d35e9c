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

Output: ``doc.spans["orgs"]`` (every mention, with ``span._.org_name``/``span._.org_type``) and
``doc._.organisations`` (one dict per organisation: name, aliases, type, mentions).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span, Token

from nlp.text import register_extensions

register_extensions()

DATA_DIR = Path(__file__).parent / "data"
SPAN_KEY = "orgs"
_DASHES = {"–", "—", "-", ":", "−"}
_QUANTIFIERS = {"several", "many", "some", "all", "both", "most", "few", "other", "two", "three"}
_NON_NAME_POS = {"ADV", "SCONJ", "CCONJ", "INTJ", "ADP", "DET", "PRON", "VERB", "AUX", "PART"}
_NHS_RE = re.compile(r"\bNHS\b")
_LIST_HEAD_RE = re.compile(r"(?<!\w)(?:CCGs|groups|ICSs|ICBs|trusts|councils)(?!\w)")
_CARE_SETTING_RE = re.compile(
    r"(?<!\w)(?:(?:care|nursing|residential) homes?|(?:GP |general )?practices?)(?!\w)",
    re.IGNORECASE,
)
_ACRONYM_TEXT_RE = re.compile(r"(?<![\w&])[A-Z][A-Za-z&]*[A-Z][A-Za-z&]*(?![\w&])")
_ACRONYM_RE = re.compile(r"^(?=(?:.*[A-Z]){2})[A-Z][A-Za-z&]{1,7}$")


def org_key(name: str) -> str:
    """Comparison key of an organisation name: case, punctuation and "the" blind.

    "Clinical Commissioning Group(s)" folds to "ccg" and "Integrated Care Board" to "icb",
    as the guidelines treat them as the same name.
    """
    s = name.replace("’", "'").replace("&", " and ").casefold().strip()
    s = re.sub(r"^the\s+", "", s)
    s = re.sub(r"(?:'s|')$", "", s)
    s = re.sub(r"['.]", "", s)
    s = re.sub(r"[^\w\s]", " ", s)
    s = " ".join(s.split())
    s = re.sub(r"\bclinical commissioning groups?\b", "ccg", s)
    s = re.sub(r"\bintegrated care boards?\b", "icb", s)
    s = re.sub(r"\b(ccg|icb|ics)s\b", r"\1", s)
    # "NHS Fenmoor ICB" is "Fenmoor ICB": local bodies' names may carry the NHS prefix
    s = re.sub(r"^nhs (?=.*\b(?:ccg|icb|ics|trust|ft|integrated care system)$)", "", s)
    return s


@dataclass
class _Mention:
    start: int  # token offsets
    end: int
    name: str  # the name this mention stands for (built for split fragments)
    type: str
    source: str  # gazetteer | head | list | ner | nhs | alias
    fragment: bool = False  # a conjunct sharing a head: not an alias form
    bare: str | None = None  # a bare short form standing alone ("Darwen")
    gaz_name: str | None = None


@dataclass
class _Org:
    name: str
    type: str
    gaz_name: str | None = None
    forms: list[str] = field(default_factory=list)
    mentions: list[_Mention] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)


def _load_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class OrgRecognizer:
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
        use_ner: bool = True,
    ) -> None:
        self.name = name
        self.use_ner = use_ner
        self._text = ""  # per-document state, set in __call__
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
        self.company_nouns = set(lex["company_nouns"])
        self.media_nouns = set(lex["media_nouns"])
        self.title_words = set(lex["title_words"])
        self.non_org_heads = set(lex["non_org_heads"])
        self.provider_words = set(lex["provider_words"])
        self.regional_descriptors = set(lex.get("regional_descriptors", []))
        self.leading_modifiers = set(lex.get("leading_modifiers", []))
        self.appositive_nouns: dict[str, str] = lex.get("appositive_nouns", {})
        self.place_prepositions = set(lex.get("place_prepositions", []))
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
        places_file = Path(places_path or DATA_DIR / "orgs_places.txt")
        with places_file.open(encoding="utf-8") as f:
            self.places = {line.strip() for line in f if line.strip() and line[0] != "#"}

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
        self.gaz_acronyms = {f for f, n in self.gaz_forms.items() if _ACRONYM_RE.match(f)}

        self.head_matcher = Matcher(nlp.vocab)
        self.heads: dict[str, dict[str, Any]] = {}
        for i, head in enumerate(heads):
            key = f"HEAD{i}"
            self.heads[key] = head
            self.head_matcher.add(key, [head["pattern"]])
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

    def _name_like(self, tok: Token) -> bool:
        t = tok.text
        if not t or tok.is_space:
            return False
        if t[0].isupper():
            return True
        return t.isdigit() and len(t) <= 2

    def _is_stop(self, tok: Token) -> bool:
        return tok.lower_ in STOP_WORDS and tok.text not in self.gaz_forms

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
            if nxt is not None and self._name_like(nxt) and nxt.text not in self.connectors:
                if not (nxt.is_sent_start or "\n" in doc[end - 1].whitespace_):
                    continue
            if nxt is not None and nxt.text == "of" and head.get("continues_with_of"):
                continue  # "University Hospital of North Midlands Trust"
            final.append((start, end, head))
        return final

    def _run_start(self, doc: Doc, head_start: int, stops: set[int]) -> int:
        """Walk left from a head over the capitalised name run."""
        j = head_start
        while j > 0:
            tok = doc[j - 1]
            if j - 1 in stops or tok.is_space or "\n" in tok.text:
                break
            if tok.text in self.connectors or self._name_like(tok):
                j -= 1
                continue
            if tok.lower_ in self.compass_lower and (
                self._name_like(doc[j]) or doc[j].lower_ in self.compass_lower
            ):
                j -= 1
                continue
            break
        return j

    def _trim(self, doc: Doc, start: int, end: int, plural: bool = False) -> int:
        """Drop stop words, connectors and sentence adverbs from the left of a run."""
        while start < end:
            tok = doc[start]
            if (
                tok.text in self.connectors and tok.text not in ("St", "St.")
            ) or tok.text in _DASHES:
                start += 1
                continue
            if self._is_stop(tok) and tok.text not in self.compass:
                start += 1
                continue
            # a sentence-initial gerund or adverb ("Neighbouring Weald Coast Foundation
            # Trust")
            if (
                tok.is_sent_start
                and start + 1 < end
                and tok.pos_ not in ("PROPN", "NUM")
                and tok.text not in self.compass
                and tok.text not in self.places
                and (tok.tag_ in ("VBG", "RB") or tok.lower_.endswith(("ing", "ly")))
                and doc[start + 1].text not in self.connectors
                and self._has_proper(list(doc[start + 1 : end]))
            ):
                start += 1
                continue
            # a sentence-initial adjective the tagger may read as a name ("Neighbouring")
            if (
                tok.is_sent_start
                and tok.text in self.leading_modifiers
                and self._has_proper(list(doc[start + 1 : end]))
            ):
                start += 1
                continue
            # a sentence-initial common noun before a connector ("Councillors on Kent
            # County Council")
            if (
                tok.is_sent_start
                and tok.tag_ == "NNS"
                and start + 2 < end
                and doc[start + 1].text in ("on", "of", "upon")
            ):
                start += 2
                continue
            # a leading comma group that is not a name ("Meanwhile, Wakefield CCG")
            comma = next((k for k in range(start, end) if doc[k].text == ","), None)
            if comma is not None:
                group = doc[start:comma]
                if (
                    (
                        all(t.pos_ not in ("PROPN", "NUM") for t in group)
                        and group[0].pos_ in _NON_NAME_POS
                    )
                    or any(t.ent_type_ in ("DATE", "TIME") for t in group)
                    # a place adverbial before the name ("On Wearside, Sunderland CCG"):
                    # a list of names joined by commas ends in "and"
                    or (
                        self._after_preposition(doc, start)
                        and not any(t.lower_ in ("and", "&") for t in doc[comma:end])
                    )
                    # "Jane Smith, Kent ICB’s chief executive" (in a plural list the stock
                    # NER often reads place names as persons)
                    or (
                        not plural
                        and all(t.ent_type_ == "PERSON" for t in group)
                        and not any(
                            t.text in self.descriptors or t.text in self.places for t in group
                        )
                    )
                ):
                    start = comma + 1
                    continue
            break
        return start

    @staticmethod
    def _after_preposition(doc: Doc, start: int) -> bool:
        """Whether doc[start] opens the object of a preposition ("in the South East")."""
        k = start - 1
        while k >= 0 and doc[k].pos_ == "DET":
            k -= 1
        return k >= 0 and doc[k].pos_ == "ADP"

    def _has_proper(self, toks: list[Token]) -> bool:
        return any(
            t.text not in self.descriptors
            and t.text not in self.connectors
            and t.text not in self.compass
            and t.lower_ not in self.compass_lower
            and not (t.is_stop and t.text[:1].islower())
            and not t.like_num
            for t in toks
        )

    def _split_coordination(self, doc: Doc, start: int, end: int) -> list[tuple[int, int]]:
        """Split a coordinated run of names sharing a plural head into conjunct ranges."""
        groups: list[tuple[int, int]] = []
        gstart = start
        for k in range(start, end):
            if doc[k].text == ",":
                groups.append((gstart, k))
                gstart = k + 1
        groups.append((gstart, end))
        oxford = len(groups) > 1 and doc[groups[-1][0]].lower_ in ("and", "&")

        def strip_and(rng: tuple[int, int]) -> tuple[int, int]:
            s, e = rng
            while s < e and doc[s].lower_ in ("and", "&"):
                s += 1
            return s, e

        groups = [strip_and(g) for g in groups if g[1] > g[0]]
        pieces = groups[:-1]
        last = groups[-1] if groups else None
        if last:
            if oxford:
                pieces.append(last)
            else:
                s, e = last
                # "A and B and C trusts": an "and" after a name-final word ("Leeds North and
                # ...", "... County and ...") joins the conjuncts; otherwise the last one
                # does and an earlier one belongs to a name ("Bath and North East Somerset
                # and Wiltshire")
                ands = [k for k in range(s + 1, e - 1) if doc[k].lower_ in ("and", "&")]
                cut = next(
                    (
                        k
                        for k in ands
                        if doc[k - 1].text in self.compass or doc[k - 1].text in self.descriptors
                    ),
                    ands[-1] if ands else None,
                )
                if cut is not None and not self._compass_only(doc[s:cut]):
                    pieces.extend([(s, cut), (cut + 1, e)])
                else:
                    pieces.append(last)
        # a conjunct that is only a direction ("Leeds South and East") belongs to its left
        merged: list[tuple[int, int]] = []
        for s, e in pieces:
            if merged and self._compass_only(doc[s:e]):
                merged[-1] = (merged[-1][0], e)
            else:
                merged.append((s, e))
        return [p for p in merged if p[1] > p[0]]

    def _compass_only(self, toks) -> bool:
        return all(t.text in self.compass or t.lower_ in ("and", "&") for t in toks)

    # ------------------------------------------------------------------ candidates

    def _gazetteer_mentions(self, doc: Doc) -> list[_Mention]:
        out = []
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
                        _Mention(start, local, name, entry.get("local_type", "other"), "head")
                    )
                    continue
            text = doc[start:end].text
            out.append(_Mention(start, end, text, entry["type"], "gazetteer", gaz_name=gaz_name))
        return out

    def _place_suffix_end(self, doc: Doc, end: int) -> int:
        """End of the capitalised place name right after token ``end`` ("Isle of Man")."""
        k = end
        while k < len(doc):
            tok = doc[k]
            if tok.is_sent_start or tok.is_space:
                break
            if self._name_like(tok) and tok.pos_ == "PROPN":
                k += 1
                continue
            if (
                k > end
                and tok.lower_ in ("of", "upon", "on")
                and k + 1 < len(doc)
                and self._name_like(doc[k + 1])
                and doc[k + 1].pos_ == "PROPN"
            ):
                k += 1
                continue
            break
        return k

    def _merge_short_heads(self, orgs: list[_Org], chosen: list[_Mention]) -> None:
        """A name found by its own head or the NER that is the short form of a fuller name in the
        document ("X Ambulance Service" of "X Ambulance Service NHS Trust") is that body."""
        forms: dict[str, _Org] = {}
        for org in orgs:
            words = org.name.split()
            while len(words) > 1 and words[-1] in self.short_form_suffixes:
                words.pop()
                forms.setdefault(" ".join(words), org)
        for i, m in enumerate(chosen):
            org = forms.get(m.name)
            if (
                m.source in ("head", "ner")
                and org is not None
                and org_key(org.name) != org_key(m.name)
            ):
                chosen[i] = _Mention(m.start, m.end, org.name, org.type, "alias", bare=m.name)

    def _bracket_acronyms(self, doc: Doc, orgs: list[_Org], chosen: list[_Mention]) -> None:
        """Multi-word short forms defined in brackets after a name ("... Integrated Care Board
        (KM ICB)") are aliases of that name wherever they occur, not bodies of their own."""
        defined: dict[str, _Org] = {}
        for org in orgs:
            for m in org.mentions:
                e = m.end
                if e >= len(doc) or doc[e].text != "(":
                    continue
                close = next(
                    (k for k in range(e + 2, min(e + 5, len(doc))) if doc[k].text == ")"), None
                )
                inner = doc[e + 1 : close] if close is not None else None
                if (
                    inner is not None
                    and len(inner) >= 2
                    and all(_ACRONYM_RE.match(t.text) for t in inner)
                ):
                    defined.setdefault(inner.text, org)
        if not defined:
            return
        for i, m in enumerate(chosen):
            bare = doc[m.start : m.end].text
            org = defined.get(bare)
            if org is not None and org_key(org.name) != org_key(m.name):
                chosen[i] = _Mention(m.start, m.end, org.name, org.type, "alias", bare=bare)

    def _head_mentions(self, doc: Doc) -> list[_Mention]:
        heads = self._head_spans(doc)
        stops = {k for s, e, _ in heads for k in range(s, e)}
        has_ccgs = None
        out: list[_Mention] = []
        for hstart, hend, head in heads:
            run = self._run_start(doc, hstart, stops)
            run = self._trim(doc, run, hstart, plural=head["plural"])
            if run >= hstart:
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
                pieces = self._split_coordination(doc, run, hstart)
                if (
                    len(pieces) < 2
                    and run > 0
                    and (doc[run - 1].like_num or doc[run - 1].lower_ in _QUANTIFIERS)
                ):
                    continue  # a count of bodies in an area ("three Kestrel CCGs")
                if head.get("lower_plural") and len(pieces) < 2:
                    continue
                if len(pieces) >= 2:
                    for i, (s, e) in enumerate(pieces):
                        if not self._has_proper(list(doc[s:e])):
                            continue
                        name = f"{doc[s:e].text} {head['singular']}"
                        end = hend if i == len(pieces) - 1 else e
                        out.append(_Mention(s, end, name, head["type"], "head", fragment=True))
                    continue
            out.append(_Mention(run, hend, doc[run:hend].text, head["type"], "head"))
        return out

    def _list_mentions(self, doc: Doc, taken: set[int]) -> list[_Mention]:
        """Bare lists after a plural kind noun: "three CCGs – A, B and C – were ..."."""
        out: list[_Mention] = []
        n = len(doc)
        for tok in self._tokens_matching(doc, _LIST_HEAD_RE):
            i = tok.i
            kind = self.plural_kind_nouns.get(tok.text)
            if (
                kind is None
                and tok.lower_ == "groups"
                and i >= 2
                and doc[i - 1].lower_ == "commissioning"
            ):
                kind = ("CCG", "commissioner")
            if kind is None or i + 2 >= n:
                continue
            if doc[i + 1].text in _DASHES:
                first = i + 2
                colon = False
            else:
                # a clause about the bodies, then the list after a colon ("Four CCGs were
                # rated outstanding: A, B and C")
                first = self._colon_list_start(doc, tok)
                colon = True
                if first is None:
                    continue
            if kind[0] == "CCG" and tok.text == "groups" and not self._doc_mentions_ccgs(doc):
                continue
            j = first
            while (
                j < n
                and (self._name_like(doc[j]) or doc[j].text in self.connectors)
                and "\n" not in doc[j].text
                and j not in taken
            ):
                j += 1
            end_ok = (
                j >= n
                or (doc[j].text in _DASHES and not colon)
                or doc[j].text in (".", ";", ")")
                or doc[j].is_space
            )
            if not end_ok or j - first < 3:
                continue
            pieces = self._split_coordination(doc, first, j)
            if len(pieces) < 2:
                continue
            if not all(any(t.pos_ == "PROPN" for t in doc[s:e]) for s, e in pieces):
                continue
            for s, e in pieces:
                bare = doc[s:e].text
                out.append(_Mention(s, e, f"{bare} {kind[0]}", kind[1], "list", bare=bare))
        return out

    def _care_setting_mentions(self, doc: Doc, taken: set[int]) -> list[_Mention]:
        """Care homes and GP practices introduced by what they are, named with a generic
        head: "One care home, Willowmere House, ..."; "three practices – A, B and C –"."""
        out: list[_Mention] = []
        n = len(doc)
        for m in _CARE_SETTING_RE.finditer(self._text):
            span = doc.char_span(m.start(), m.end(), alignment_mode="expand")
            if span is None or not len(span):
                continue
            tok = span[-1]
            if not tok.text.islower():
                continue  # part of a name ("Oak Tree Practice"), read from its head
            i = tok.i
            plural = tok.lower_.endswith("s")
            if i + 2 >= n or (doc[i + 1].text != "," and doc[i + 1].text not in _DASHES):
                continue
            first = i + 2
            j = first
            while (
                j < n
                and (self._name_like(doc[j]) or (plural and doc[j].text in self.connectors))
                and "\n" not in doc[j].text
                and j not in taken
            ):
                j += 1
            if j == first or j < n and doc[j].text not in (",", ".", ";", ")", *_DASHES):
                continue
            if plural:
                if j - first < 3:
                    continue
                pieces = self._split_coordination(doc, first, j)
                if len(pieces) < 2:
                    continue
            else:
                pieces = [(first, j)]
            if not all(any(t.pos_ == "PROPN" for t in doc[s:e]) for s, e in pieces):
                continue
            for s, e in pieces:
                out.append(_Mention(s, e, doc[s:e].text, "provider", "list"))
        return out

    def _colon_list_start(self, doc: Doc, tok: Token) -> int | None:
        """Where a list after a colon starts, when the plural kind noun ``tok`` is the subject
        or object of the clause before it; None otherwise."""
        if tok.dep_ not in ("nsubj", "nsubjpass", "dobj", "pobj", "appos", "attr"):
            return None
        # the parser may start a new sentence at the list: the colon may close the clause
        stop = min(tok.sent.end + 1, len(doc))
        for k in range(tok.i + 1, stop):
            t = doc[k]
            if t.text == ":":
                return k + 1 if k + 1 < len(doc) else None
            if t.text in (";", "(", ")") or t.text in _DASHES or "\n" in t.text:
                return None
        return None

    def _nhs_mentions(self, doc: Doc, taken: set[int]) -> list[_Mention]:
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
            out.append(_Mention(tok.i, tok.i + 1, "NHS", "national_body", "nhs"))
        return out

    def _ner_mentions(self, doc: Doc, taken: set[int]) -> list[_Mention]:
        """Stock NER ORG entities as a fallback for companies and media outlets."""
        out = []
        for ent in doc.ents:
            if ent.label_ != "ORG":
                continue
            start, end = ent.start, ent.end
            # a title keeps a capitalised "The" ("The Observer"), not a lowercase one
            # ("seen by the Bristol Post")
            if doc[start].lower_ == "the" and not (
                doc[start].text == "The"
                and end - start >= 2
                and doc[end - 1].text in self.media_words
            ):
                start += 1
            span = doc[start:end]
            if not len(span) or any(k in taken for k in range(start, end)):
                continue
            text = span.text
            if "\n" in text or any(t.like_num for t in span) or text in self.generic_acronyms:
                continue
            if all(t.text in self.generic_acronyms or t.text in self.descriptors for t in span):
                continue
            if not any(t.pos_ == "PROPN" for t in span):
                continue
            if not all(self._name_like(t) or t.text in self.connectors for t in span):
                continue
            # a cut-off name ("North" of "North Kent") or a modifier ("Francis review"); the
            # rest of a name its bracketed acronym spells ("Association of X Chief
            # Executives (AXCE)") belongs to it
            end = self._acronym_extension(doc, start, end)
            span = doc[start:end]
            text = span.text
            nxt = doc[end] if end < len(doc) else None
            if (
                nxt is not None
                and nxt.text == "-"
                and end + 1 < len(doc)
                and doc[end + 1].text.islower()
            ):
                continue  # a place in a compound modifier ("Yeovil-based")
            if nxt is not None and self._name_like(nxt) and not nxt.is_sent_start:
                continue
            if (
                nxt is not None
                and nxt.pos_ == "NOUN"
                and nxt.text.islower()
                and nxt.lower_ not in self.company_nouns
            ):
                continue
            if text in self.places or (doc[start].lower_ == "the" and span[1:].text in self.places):
                continue
            if self._locative(span):
                continue
            root = span.root
            if (
                root.dep_ in ("compound", "amod")
                and root.head.i >= end
                and root.head.pos_ == "NOUN"
                and root.head.lower_ not in self.company_nouns
            ):
                continue
            if _ACRONYM_RE.match(text) and text not in self.gaz_forms:
                continue  # unknown acronyms are resolved against named bodies instead
            if any(
                t.lower_.rstrip(".") in self.title_words for t in doc[max(0, start - 3) : start]
            ):
                continue  # a person after a job title ("chief executive Jane Smith")
            if span[-1].text in self.non_org_heads:
                continue  # laws, programmes, reports ("Health and Care Act")
            out.append(_Mention(start, end, text, self._fallback_type(span), "ner"))
        return out

    def _locative(self, span: Span) -> bool:
        """An entity the stock NER calls an organisation but the text uses as a place: the
        object of "across"/"throughout" ("across the Black Country") or the ends of a
        range ("from the Peak District to Sheffield")."""
        root = span.root
        if root.dep_ != "pobj":
            return False
        prep = root.head.lower_
        if prep in self.place_prepositions:
            return True
        if prep == "from":
            return any(
                c.dep_ == "prep" and c.lower_ == "to"
                for c in (*root.head.children, *root.head.head.children, *root.children)
            )
        if prep == "to":
            head = root.head.head
            return (
                head.lower_ == "from"
                or any(c.dep_ == "prep" and c.lower_ == "from" for c in head.children)
                or (head.dep_ == "pobj" and head.head.lower_ == "from")
            )
        return False

    def _acronym_extension(self, doc: Doc, start: int, end: int) -> int:
        """Extend a cut-off entity over the capitalised words before a bracketed acronym that
        spells the whole name."""
        k = end
        while (
            k < len(doc)
            and k - end < 6
            and (
                (self._name_like(doc[k]) and not doc[k].is_sent_start)
                or doc[k].lower_ in ("of", "and", "&", "for")
            )
        ):
            k += 1
        if (
            k == end
            or k + 2 >= len(doc)
            or doc[k].text != "("
            or doc[k + 2].text != ")"
            or not _ACRONYM_RE.match(doc[k + 1].text)
        ):
            return end
        if doc[k + 1].text.lower().replace("&", "a") in self._initialisms(doc[start:k].text):
            return k
        return end

    def _appositive_mentions(self, doc: Doc, taken: set[int]) -> list[_Mention]:
        """Names the text describes by kind: "Brightpath, the mental health charity, said",
        "the consultancy Acme"."""
        out: list[_Mention] = []
        n = len(doc)
        for tok in self._tokens_matching(doc, self._appositive_re) if self.appositive_nouns else []:
            i = tok.i
            kind = self.appositive_nouns.get(tok.lower_)
            if kind is None or tok.pos_ != "NOUN":
                continue
            # "the consultancy Acme": the name right after the noun
            k = i + 1
            while k < n and self._name_like(doc[k]) and doc[k].pos_ == "PROPN" and k - i <= 3:
                k += 1
            if (
                k > i + 1
                and i > 0
                and doc[i - 1].lower_ == "the"
                and not doc[i + 1].is_sent_start
                and (k >= n or not self._name_like(doc[k]))
                and not any(j in taken for j in range(i + 1, k))
                and not (k - i > 2 and all(t.ent_type_ == "PERSON" for t in doc[i + 1 : k]))
            ):
                out.append(_Mention(i + 1, k, doc[i + 1 : k].text, kind, "ner"))
                taken.update(range(i + 1, k))
                continue
            # "Acme, the pathology provider, said": the name before ", the ... noun"
            nxt = doc[i + 1] if i + 1 < n else None
            if nxt is None or nxt.text in ("’s", "'s") or nxt.pos_ in ("NOUN", "PROPN"):
                continue
            j = i - 1
            while j > 0 and i - j <= 5 and doc[j].lower_ != "the" and doc[j].text.islower():
                j -= 1
            if j < 2 or doc[j].lower_ != "the" or doc[j - 1].text != ",":
                continue
            end = j - 1
            s = end
            while s > 0 and self._name_like(doc[s - 1]) and end - s < 4:
                if doc[s - 1].is_sent_start:
                    s -= 1
                    break
                s -= 1
            if s == end or not (doc[s].is_sent_start or not self._name_like(doc[s - 1])):
                continue
            span = doc[s:end]
            if any(k in taken for k in range(s, end)) or (
                len(span) >= 2 and all(t.ent_type_ == "PERSON" for t in span)
            ):
                continue
            out.append(_Mention(s, end, span.text, kind, "ner"))
            taken.update(range(s, end))
        return out

    def _fallback_type(self, span: Span) -> str:
        if span[-1].text in self.provider_words:
            return "provider"  # a trust named without its suffix ("Oxford University Hospitals")
        if span[-1].text in self.company_words:
            return "company"
        if any(t.text in self.media_words for t in span[1:]) or any(
            t.lower_ in self.media_nouns for t in span.root.children
        ):
            return "media"
        return "company"

    # ------------------------------------------------------------------ aliases

    def _short_forms(self, org: _Org) -> list[str]:
        """Short forms a text may use later for a local body ("Frimley Health", "Frimley")."""
        if org.gaz_name is not None:
            return []
        words = org.name.split()
        forms = []
        while words and (words[-1] in self.short_form_suffixes or words[-1] in ("of",)):
            words.pop()
            # each step is a form in use ("Harbour Health" of "Harbour Health Partnerships Ltd")
            partial = " ".join(words)
            if (
                len(words) >= 2
                and words[-1] not in ("of", "and", "&")
                and self._proper_words(words)
            ):
                forms.append(partial)
        if words and len(words) < len(org.name.split()):
            short = " ".join(words)
            if short not in self.compass and not short.isdigit() and short not in forms:
                forms.append(short)
            if (
                org.type == "provider"
                and len(words) >= 2
                and words[0] not in self.compass
                and words[0] not in self.descriptors
                and words[1] not in ("and", "&", "of")
                and words[0] not in ("St", "St.")
            ):
                forms.append(words[0])
        return forms

    def _proper_words(self, words: list[str]) -> bool:
        return any(
            w not in self.descriptors and w not in self.connectors and w not in self.compass
            for w in words
        )

    @staticmethod
    def _initialisms(name: str) -> set[str]:
        words = re.findall(r"[A-Za-z]+|&", name.replace("’s", "").replace("'s", ""))
        variants = {""}
        for w in words:
            nxt = set()
            for v in variants:
                if w.lower() in ("and", "&"):
                    nxt.update({v, v + "a"})
                elif w.lower() in ("of", "the", "for", "on", "upon"):
                    nxt.update({v, v + w[0].lower()})
                else:
                    nxt.add(v + w[0].lower())
            variants = nxt
        return {v for v in variants if len(v) >= 2}

    def _alias_mentions(self, doc: Doc, orgs: list[_Org], taken: set[int]) -> list[_Mention]:
        out: list[_Mention] = []
        forms: dict[str, _Org] = {}
        for org in orgs:
            for f in self._short_forms(org):
                forms.setdefault(f, org)
        if forms:
            alternation = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
            pattern = re.compile(rf"(?<![\w-])({alternation})(?![\w-])")
            for m in pattern.finditer(self._text):
                span = doc.char_span(m.start(), m.end())
                if span is None or any(k in taken for k in range(span.start, span.end)):
                    continue
                nxt = doc[span.end] if span.end < len(doc) else None
                if (
                    nxt is not None
                    and self._name_like(nxt)
                    and nxt.text not in self.connectors
                    and not nxt.is_sent_start
                ):
                    continue
                org = forms[m.group(1)]
                out.append(
                    _Mention(span.start, span.end, org.name, org.type, "alias", bare=span.text)
                )
                taken.update(range(span.start, span.end))
        # acronyms: defined in brackets after a name, or matching a local body's initials
        by_end = {}
        for org in orgs:
            for m in org.mentions:
                by_end[m.end] = org
        initials: dict[str, _Org] = {}
        for org in orgs:
            if org.gaz_name is not None:
                continue
            words = org.name.split()
            # the name, its short forms and its leading words ("Shrewsbury and Telford
            # Hospital" gives SaTH)
            forms = [org.name, *self._short_forms(org)]
            forms += [
                " ".join(words[:k])
                for k in range(2, len(words))
                if words[k - 1].lower() not in ("and", "&", "of", "the")
            ]
            for form in forms:
                for v in self._initialisms(form):
                    initials.setdefault(v, org)
        # acronyms defined in brackets after a name hold for the whole document
        defined: dict[str, _Org] = {}
        acronyms = self._tokens_matching(doc, _ACRONYM_TEXT_RE)
        for tok in acronyms:
            if (
                _ACRONYM_RE.match(tok.text)
                and 0 < tok.i < len(doc) - 1
                and doc[tok.i - 1].text == "("
                and doc[tok.i + 1].text == ")"
                and tok.i - 1 in by_end
            ):
                defined.setdefault(tok.text, by_end[tok.i - 1])
        for tok in acronyms:
            text = tok.text
            if tok.i in taken or not _ACRONYM_RE.match(text) or text in self.generic_acronyms:
                continue
            org = defined.get(text)
            if org is None:
                org = initials.get(text.lower().replace("&", "a")) or initials.get(
                    text.lower().replace("&", "")
                )
            if org is not None:
                out.append(_Mention(tok.i, tok.i + 1, org.name, org.type, "alias", bare=text))
                taken.add(tok.i)
        return out

    def _tagline_end(self, doc: Doc) -> int:
        """Token index where a leading page tagline ends ("HSJ’s round-up of Tuesday’s
        must-read stories"): a masthead names the publisher, not an organisation of the news."""
        text = self._text
        first = text.lstrip()
        line = first.split("\n", 1)[0]
        if not line or not self.tagline_re.search(line):
            return 0
        end_char = len(text) - len(first) + len(line)
        span = doc.char_span(0, end_char, alignment_mode="expand")
        return span.end if span is not None else 0

    def _partner_mentions(
        self, doc: Doc, chosen: list[_Mention], taken: set[int]
    ) -> list[_Mention]:
        """A bare name that named local bodies merge with or join is a body of their kind
        ("A and B join C", with A and B known CCGs, gives "C CCG")."""
        out: list[_Mention] = []
        local = [m for m in chosen if m.type in ("commissioner", "provider")]
        if not local:
            return out
        for tok in self._tokens_matching(doc, self.merge_re):
            if tok.lemma_ not in self.merge_verbs and tok.lower_ not in self.merge_verbs:
                continue
            j = tok.i + 1
            if j < len(doc) and doc[j].lower_ == "with":
                j += 1
            k = j
            while k < len(doc) and self._name_like(doc[k]) and k not in taken:
                k += 1
            if k == j or doc[j:k].text in self.places or not self._has_proper(list(doc[j:k])):
                continue
            sent_start = tok.sent.start
            partners = [m for m in local if sent_start <= m.start and m.end <= tok.i]
            if not partners:
                continue
            last = partners[-1]
            head = next((h for h in self.kind_suffixes if last.name.endswith(" " + h)), None)
            if head is None:
                continue
            bare = doc[j:k].text
            out.append(_Mention(j, k, f"{bare} {head}", last.type, "partner", bare=bare))
            taken.update(range(j, k))
        return out

    # ------------------------------------------------------------------ assembly

    def _group(self, mentions: list[_Mention]) -> list[_Org]:
        orgs: list[_Org] = []
        by_key: dict[str, _Org] = {}
        for m in sorted(mentions, key=lambda m: m.start):
            key = m.gaz_name or org_key(m.name)
            org = by_key.get(key)
            if org is None:
                org = _Org(name=m.name, type=m.type, gaz_name=m.gaz_name)
                orgs.append(org)
                by_key[key] = org
                org.keys.add(key)
            org.mentions.append(m)
        return orgs

    def _finish(self, doc: Doc, org: _Org) -> dict[str, Any]:
        surface = []
        for m in org.mentions:
            text = doc[m.start : m.end].text
            if m.bare:
                surface.append(m.bare)
            if not m.fragment and m.source != "alias" and m.bare is None:
                surface.append(text)
        if org.gaz_name is not None:
            # the fullest form the text uses; an acronym used alone stays as written
            full = [s for s in surface if not _ACRONYM_RE.match(s)]
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
        # Doc.text is rebuilt on every access: read it once per document
        self._text = doc.text
        candidates = self._gazetteer_mentions(doc) + self._head_mentions(doc)
        furniture = self._tagline_end(doc)
        if furniture:
            candidates = [m for m in candidates if m.start >= furniture]
        # longest first; gazetteer wins ties
        candidates.sort(key=lambda m: (-(m.end - m.start), m.source != "gazetteer", m.start))
        taken: set[int] = set(range(furniture))
        chosen: list[_Mention] = []
        for m in candidates:
            if any(k in taken for k in range(m.start, m.end)):
                continue
            chosen.append(m)
            taken.update(range(m.start, m.end))
        for extra in (
            self._list_mentions(doc, taken),
            self._care_setting_mentions(doc, taken),
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
        use_ner=use_ner,
    )
