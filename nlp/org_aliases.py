"""Aliases of organisations (a mixin of the ``policywatch_orgs`` component).

Short forms of a fuller name found in the same document, multi-word acronyms defined in
brackets ("(KM ICB)"), acronyms matching a local body's initials or defined after its name,
and bare names of bodies that named local bodies merge with or join ("A and B join C").
"""

from __future__ import annotations

import re

from spacy.tokens import Doc

from nlp.org_model import ACRONYM_RE, ACRONYM_TEXT_RE, Mention, OrgRecord, org_key


class OrgAliasRules:
    """Alias rules over the organisations found by the candidate passes."""

    def _merge_short_heads(self, orgs: list[OrgRecord], chosen: list[Mention]) -> None:
        """A name found by its own head or the NER that is the short form of a fuller name in the
        document ("X Ambulance Service" of "X Ambulance Service NHS Trust") is that body."""
        forms: dict[str, OrgRecord] = {}
        for org in orgs:
            words = org.name.split()
            while len(words) > 1 and words[-1] in self.short_form_suffixes:
                words.pop()
                forms.setdefault(" ".join(words), org)
        cores: dict[str, OrgRecord] = {}
        for org in orgs:
            core = self._core_key(org.name)
            if core and (core not in cores or len(org.name) > len(cores[core].name)):
                cores[core] = org
        for i, m in enumerate(chosen):
            org = forms.get(m.name)
            if (
                m.source in ("head", "ner")
                and org is not None
                and org_key(org.name) != org_key(m.name)
            ):
                chosen[i] = Mention(m.start, m.end, org.name, org.type, "alias", bare=m.name)
                continue
            # a conjunct built with the shared head ("B Foundation Trust" of "A and B
            # foundation trusts") is the body named in full elsewhere ("B NHS Foundation Trust")
            fuller = None
            if m.fragment:
                fuller = cores.get(self._core_key(m.name))
                if fuller is None or fuller.name == m.name:
                    fuller = self._unique_extension(m, orgs)
            if (
                fuller is not None
                and len(fuller.name) > len(m.name)
                and self._kind_words(m.name) <= self._kind_words(fuller.name)
            ):
                chosen[i] = Mention(
                    m.start, m.end, fuller.name, fuller.type, m.source, fragment=True
                )

    def _unique_extension(self, m: Mention, orgs: list[OrgRecord]) -> OrgRecord | None:
        """The one body of the fragment's kind whose name starts with the fragment's words
        ("Pendle Trust" of "Pendle and Ribble trusts" is "Pendle Valley Hospitals NHS
        Trust"); None when there is no such body or more than one."""
        core = self._core_key(m.name)
        if not core:
            return None
        kind = self._kind_words(m.name)
        matches = [
            org
            for org in orgs
            if self._core_key(org.name).startswith(core + " ")
            and kind <= self._kind_words(org.name)
            and not any(w in ("and", "&") for w in org.name.split()[: len(core.split()) + 1])
        ]
        return matches[0] if len(matches) == 1 else None

    def _kind_words(self, name: str) -> set[str]:
        """The trailing kind words of a name ("NHS", "Foundation", "Trust"), case-blind."""
        words = name.split()
        kind: set[str] = set()
        while len(words) > 1 and words[-1] in self.short_form_suffixes:
            kind.add(words.pop().lower())
        return kind

    def _core_key(self, name: str) -> str:
        """The key of a name without its trailing kind words ("Oxbury" of "Oxbury NHS
        Foundation Trust"); empty when nothing else is left."""
        words = name.split()
        stripped = False
        while len(words) > 1 and words[-1] in self.short_form_suffixes:
            words.pop()
            stripped = True
        return org_key(" ".join(words)) if stripped else ""

    def _bracket_acronyms(self, doc: Doc, orgs: list[OrgRecord], chosen: list[Mention]) -> None:
        """Multi-word short forms defined in brackets after a name ("... Integrated Care Board
        (KM ICB)") are aliases of that name wherever they occur, not bodies of their own."""
        defined: dict[str, OrgRecord] = {}
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
                    and all(ACRONYM_RE.match(t.text) for t in inner)
                ):
                    defined.setdefault(inner.text, org)
        if not defined:
            return
        for i, m in enumerate(chosen):
            bare = doc[m.start : m.end].text
            org = defined.get(bare)
            if org is not None and org_key(org.name) != org_key(m.name):
                chosen[i] = Mention(m.start, m.end, org.name, org.type, "alias", bare=bare)

    def _alias_mentions(self, doc: Doc, orgs: list[OrgRecord], taken: set[int]) -> list[Mention]:
        out: list[Mention] = []
        forms: dict[str, OrgRecord] = {}
        for org in orgs:
            for f in self._short_forms(org):
                forms.setdefault(f, org)
        # a short form that opens a longer name joined by "and" ("The Colne and Purbeck
        # Medical Committee") is not a mention of its own
        org_ent_starts = {e.start for e in doc.ents if e.label_ == "ORG"}
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
                if (
                    nxt is not None
                    and nxt.lower_ in ("and", "&")
                    and span.end + 1 in org_ent_starts
                    and self._and_extension(doc, span.end + 1) <= span.start
                ):
                    continue
                org = forms[m.group(1)]
                out.append(
                    Mention(span.start, span.end, org.name, org.type, "alias", bare=span.text)
                )
                taken.update(range(span.start, span.end))
        # acronyms: defined in brackets after a name, or matching a local body's initials
        by_end = {}
        for org in orgs:
            for m in org.mentions:
                by_end[m.end] = org
        initials: dict[str, OrgRecord] = {}
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
        defined: dict[str, OrgRecord] = {}
        acronyms = self._tokens_matching(doc, ACRONYM_TEXT_RE)
        for tok in acronyms:
            if (
                ACRONYM_RE.match(tok.text)
                and 0 < tok.i < len(doc) - 1
                and doc[tok.i - 1].text == "("
                and doc[tok.i + 1].text == ")"
                and tok.i - 1 in by_end
            ):
                defined.setdefault(tok.text, by_end[tok.i - 1])
        for tok in acronyms:
            text = tok.text
            if tok.i in taken or not ACRONYM_RE.match(text) or text in self.generic_acronyms:
                continue
            org = defined.get(text)
            if org is None:
                org = initials.get(text.lower().replace("&", "a")) or initials.get(
                    text.lower().replace("&", "")
                )
            if org is not None:
                out.append(Mention(tok.i, tok.i + 1, org.name, org.type, "alias", bare=text))
                taken.add(tok.i)
        return out

    def _partner_mentions(self, doc: Doc, chosen: list[Mention], taken: set[int]) -> list[Mention]:
        """A bare name that named local bodies merge with or join is a body of their kind
        ("A and B join C", with A and B known CCGs, gives "C CCG")."""
        out: list[Mention] = []
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
            out.append(Mention(j, k, f"{bare} {head}", last.type, "partner", bare=bare))
            taken.update(range(j, k))
        return out

    def _coordinated_bare_mentions(
        self, doc: Doc, chosen: list[Mention], taken: set[int]
    ) -> list[Mention]:
        """Bare names listed with a body's bare short form, in a sentence about bodies of its
        kind, are bodies of that kind ("one of four groups rated outstanding, alongside
        Wirral, Halton and Warrington" where Wirral CCG is named elsewhere)."""
        out: list[Mention] = []
        n = len(doc)
        for m in list(chosen):
            if m.source != "alias" or not m.bare or m.type not in ("commissioner", "provider"):
                continue
            head = next((h for h in self.kind_suffixes if m.name.endswith(" " + h)), None)
            sent = doc[m.start].sent
            if head is None or not any(t.lower_ in self.plural_kind_words for t in sent):
                continue
            found: list[tuple[int, int]] = []
            # a list after "alongside" / "including" in the same sentence ("Knowsley was one
            # of four groups ..., alongside Wirral, Halton and Warrington")
            anchors = [
                (t.i + 1, 1)
                for t in sent
                if t.lower_ in self.list_prepositions and t.i > m.start and t.i + 1 < n
            ]
            for start, step in [(m.end, 1), (m.start - 1, -1), *anchors]:
                k = start
                if (start, step) in anchors:
                    # the first name follows the preposition directly: read it as a separator
                    k = start - 1
                    first = True
                else:
                    first = False
                while True:
                    sep = k
                    if first:
                        sep, first = k + 1, False
                    while (
                        0 <= sep < n
                        and doc[sep].text == ","
                        or (0 <= sep < n and doc[sep].lower_ in ("and", "&"))
                    ):
                        sep += step
                    if sep == k or not (0 <= sep < n):
                        break
                    run_end = sep
                    while (
                        0 <= run_end < n
                        and run_end not in taken
                        and doc[run_end].pos_ == "PROPN"
                        and self._name_like(doc[run_end])
                        and sent.start <= run_end < sent.end
                    ):
                        run_end += step
                    if run_end == sep:
                        break
                    lo, hi = (sep, run_end) if step == 1 else (run_end + 1, sep + 1)
                    found.append((lo, hi))
                    k = run_end
            for lo, hi in found:
                if any(j in taken for j in range(lo, hi)):
                    continue
                bare = doc[lo:hi].text
                out.append(Mention(lo, hi, f"{bare} {head}", m.type, "list", bare=bare))
                taken.update(range(lo, hi))
        return out
