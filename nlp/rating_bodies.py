"""Which named bodies a rating is given to: the subject of the rating's clause, coordinated
groups, relative clauses, bodies named after an unnamed subject, plural anaphors, counts
named again, care homes, and service-level subjects that are no body."""

from __future__ import annotations

from spacy.tokens import Doc, Span

from nlp.rating_text import QUOTES, RATING_YEAR_RE, Mention, Unit

NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
PLACE_PREPOSITIONS = frozenset({"in", "at", "on"})


def _coordinated(doc: Doc, start: int, end: int) -> bool:
    """Whether doc[start:end] only links two names ("," / "and"), past a place phrase after
    the first ("Oakfield House in Stenby and Larkspur Lodge")."""
    toks = list(doc[start:end])
    if len(toks) >= 2 and toks[0].lower_ in PLACE_PREPOSITIONS and toks[1].text[:1].isupper():
        k = 1
        while k < len(toks) and toks[k].text[:1].isupper():
            k += 1
        toks = toks[k:]
    return bool(toks) and all(t.lower_ in (",", "and", "&", "or") for t in toks)


class BodyResolver:
    """Resolves the bodies a rating is given to (mixin of :class:`nlp.ratings.RatingExtractor`)."""

    def _coordination_group(self, doc: Doc, mentions: list[Span], before: int) -> list[Span]:
        prior = [m for m in mentions if m.end <= before]
        if not prior:
            return []
        group = [prior[-1]]
        for m in reversed(prior[:-1]):
            between = doc[m.end : group[0].start]
            if all(t.lower_ in (",", "and", "&", "or") or t.is_space for t in between):
                group.insert(0, m)
            else:
                break
        return group

    def _which_group(
        self, doc: Doc, unit: Unit, occ: Mention, mentions: list[Span]
    ) -> list[Span] | None:
        k = occ.start - 1
        steps = 0
        # "A, which came out of special measures after moving up from inadequate to good"
        while k >= unit.start and steps < 14:
            tok = doc[k]
            if tok.lower_ in ("which", "who"):
                j = k
                while j > unit.start and doc[j - 1].lower_ in (
                    "of",
                    "all",
                    "each",
                    "both",
                    "three",
                    "two",
                    "four",
                    "five",
                    "none",
                    ",",
                    "–",
                    "—",
                    "-",
                ):
                    j -= 1
                return self._coordination_group(doc, mentions, j)
            if tok.text in (".", ";", ":"):
                break
            k -= 1
            steps += 1
        return None

    @staticmethod
    def _pair_in_order(
        doc: Doc, occs: list[Mention], mentions: list[Span]
    ) -> dict[int, list[Span]]:
        """Pair alternating bodies and ratings ("A was rated good, B “requires improvement”
        and C “inadequate”"): each rating takes the body right before it."""
        plain = [o for o in occs if o.role == "plain"]
        if len(plain) < 2 or len(plain) != len(occs) or len(mentions) < len(plain):
            return {}
        pairs: dict[int, list[Span]] = {}
        bound = -1
        for occ in plain:
            before = [m for m in mentions if bound <= m.start and m.end <= occ.start]
            if len(before) != 1:
                return {}
            pairs[id(occ)] = before
            bound = occ.end
        return pairs

    def _subjects(self, doc: Doc, s: int, through: tuple[str, ...]) -> list:
        """The subject (and object, before the rating) of the rating's verb, looked for up
        through the given dependency labels."""
        verb = self._governor(self._rating_token(doc, s))
        # a title or dateline above without a full stop is no subject of the line's verb
        line_start = self._line_start(doc, s)
        for _ in range(3):
            args = [
                c
                for c in verb.children
                if (c.dep_ in ("nsubj", "nsubjpass") or (c.dep_ == "dobj" and c.i < s))
                and c.i >= line_start
            ]
            if args:
                return args
            if verb.dep_ not in through or verb.head.i == verb.i:
                return []
            verb = verb.head
        return []

    def _rated_by_name(self, span: Span) -> bool:
        """A body whose name says it is rated (a health board, a surgery, a medical centre)
        though the organisation finder typed it otherwise."""
        return self._body_name(span).endswith(self.rated_name_suffixes)

    def _body_name(self, span: Span) -> str:
        """The body's name without a rating word the name finder swallowed ("rated The Oak
        Practice Inadequate" names "Oak Practice")."""
        name = span._.org_name or ""
        words = name.split()
        while len(words) > 2 and words[-1].lower() in self.rank:
            words.pop()
        if len(words) > 3 and " ".join(words[-2:]).lower() == "requires improvement":
            words = words[:-2]
        return " ".join(words)

    def _indefinite_subject(self, doc: Doc, s: int) -> bool:
        """ "A GP practice in Kent has been rated inadequate": an unnamed body, named in the
        sentences after (also from a relative clause: "A practice that was rated inadequate
        ... has left special measures")."""
        verb = self._governor(self._rating_token(doc, s))
        # ... or a participle on it: "have led to a trust being downgraded to inadequate"
        if verb.dep_ in ("relcl", "acl") and self._unnamed_kind(verb.head):
            return True
        args = self._subjects(doc, s, ("xcomp", "acomp", "oprd", "conj"))
        for arg in args:
            if self._unnamed_kind(arg):
                return True
        return not args and self._line_opens_unnamed(doc, s)

    @staticmethod
    def _line_start(doc: Doc, s: int) -> int:
        """The first token of the line that holds token ``s``."""
        start = s
        while start > 0 and "\n" not in doc[start - 1].text:
            start -= 1
        return start

    def _line_opens_unnamed(self, doc: Doc, s: int) -> bool:
        """A line that opens with an unnamed body ("A care home where ... has been rated
        inadequate") whose noun the parse hung on a title or dateline above without a full
        stop, leaving the rating verb no subject."""
        line_start = self._line_start(doc, s)
        for tok in doc[line_start : min(s, line_start + 4)]:
            if self._unnamed_kind(tok) and tok.head.i < line_start:
                return True
        return False

    def _other_body_subject(self, doc: Doc, s: int) -> bool:
        """ "... while another home a few miles away has moved up to good": the rating's
        subject is a kind of body marked as a different one ("another", "a second")."""
        for arg in self._subjects(doc, s, ("xcomp", "acomp", "oprd", "conj")):
            if arg.lower_ in self.kind_nouns and any(
                c.dep_ in ("det", "amod") and c.lower_ in self.other_body_words
                for c in arg.children
            ):
                return True
        return False

    def _unnamed_kind(self, tok) -> bool:
        """ "a GP practice", "a mental health trust", "one practice": a kind of body with an
        indefinite article or "one"."""
        return (
            tok.lower_ in self.kind_nouns
            and tok.i not in self._org_tokens
            and any(
                (c.dep_ == "det" and c.lower_ in ("a", "an"))
                or (c.dep_ == "nummod" and c.lower_ == "one")
                for c in tok.children
            )
        )

    def _service_level(self, doc: Doc, s: int) -> bool:
        """Whether the rating is given to a service, ward or domain ("maternity services were
        rated inadequate", "inspectors rated its surgical unit good") or by a draft report
        ("the draft report rated it inadequate"), read from the rating verb's subject and
        object."""
        # "Its learning disability service, which inspectors rated outstanding": a relative
        # clause on a service
        verb = self._governor(self._rating_token(doc, s))
        if (
            verb.dep_ == "relcl"
            and verb.head.lower_ in self.service_nouns
            and verb.head.i not in self._org_tokens
            and not self._service_is_the_body(verb.head)
        ):
            return True
        for arg in self._subjects(doc, s, ("xcomp", "acomp", "oprd")):
            if any(c.lower_ in self.draft_words for c in arg.children):
                return True
            if any(
                t.lower_ in self.service_nouns
                and t.i not in self._org_tokens
                and not self._service_is_the_body(t)
                for t in (arg, *arg.conjuncts)
            ):
                return True
        return False

    def _service_is_the_body(self, tok) -> bool:
        """ "The service was rated inadequate": in a story about a care home or a GP practice
        the regulator's bare "the service" is the body itself, not one of its services; "the
        ambulance service" names a kind of body (``body_service_compounds``)."""
        if tok.lower_ != "service":
            return False
        if any(
            c.dep_ == "compound" and c.lower_ in self.body_service_compounds for c in tok.children
        ):
            return any(c.dep_ == "det" and c.lower_ in ("the", "this") for c in tok.children)
        return (
            self._small_provider_story
            and all(c.dep_ == "det" and c.lower_ in ("the", "this") for c in tok.children)
            and any(c.dep_ == "det" for c in tok.children)
        )

    def _clause_targets(self, unit: Unit, occ: Mention, mentions: list[Span]) -> list[Span]:
        """The named bodies in the rating's own clause ("X said Y was rated good" rates Y
        only): by the parse, else by punctuation; all of the sentence's bodies where neither
        links any to it."""
        if len(mentions) < 2:
            return mentions
        doc = mentions[0].doc
        tok = doc[occ.start]
        if tok.lower_ == "requires" and tok.head.i != tok.i:
            tok = tok.head  # the rating phrase "requires improvement" is itself a verb
        verb = self._governor(tok)
        # a participle after the body it rates ("A, rated good in 2021, is not affected")
        if verb.dep_ in ("acl", "relcl"):
            modified = [m for m in mentions if m.start <= verb.head.i < m.end]
            if modified:
                return modified
        same = [m for m in mentions if self._governor(m.root).i == verb.i]
        if not same:
            cs, ce = self._clause(doc, unit, occ.start, occ.end)
            same = [m for m in mentions if m.start >= cs and m.end <= ce]
        if not same:
            return mentions
        # with the bodies coordinated with them ("include A, B and C")
        chosen = {m.start for m in same}
        pairs = list(zip(mentions, mentions[1:], strict=False))
        for a, b in pairs + pairs[::-1]:
            linked = all(t.lower_ in (",", "and", "&", "or") for t in doc[a.end : b.start])
            if linked and (a.start in chosen or b.start in chosen):
                chosen.update((a.start, b.start))
        return [m for m in mentions if m.start in chosen]

    def _recount(self, doc: Doc, unit: Unit) -> str | None:
        """The number of a unit that opens by naming a rated count again ("The four CCGs:
        ..." or "These four groups are ..."), lower-cased, else None."""
        toks = doc[unit.start : min(unit.start + 4, unit.end)]
        if len(toks) < 3 or toks[0].lower_ not in ("the", "these", "those"):
            return None
        if not toks[1].like_num or toks[2].lower_ not in self.count_nouns:
            return None
        return toks[1].lower_

    def _has_count(self, doc: Doc, unit: Unit) -> bool:
        """A count of bodies ("24 groups were rated outstanding", "four are rated good"), not
        any number ("after a challenge running to 300 pages")."""
        for tok in doc[unit.start : unit.end]:
            if (
                tok.like_num
                and tok.tag_ == "CD"  # "the second time" is no count
                # "It was one of the first practices ..." is one body, not a count
                and not (
                    tok.lower_ == "one" and tok.i + 1 < len(doc) and doc[tok.i + 1].lower_ == "of"
                )
                # a year ("2017", "2017/18") is no count
                and not RATING_YEAR_RE.fullmatch(tok.text)
                and tok.ent_type_ not in ("DATE", "TIME", "MONEY", "PERCENT")
                and (
                    tok.dep_ not in ("nummod", "quantmod", "compound", "npadvmod", "pobj")
                    or self._counted_noun(tok) is not None
                    or (tok.dep_ == "pobj" and tok.head.lower_ == "of")
                )
            ):
                return True
        return False

    def _counted_noun(self, tok):
        """The kind of body a number counts ("Two GP surgeries"; also where the parser hangs
        the number on a compound: "Two care homes" -> "homes"), else None."""
        head = tok.head
        if head.lower_ in self.count_nouns:
            return head
        # (not a group named before: "the 11 Keogh review trusts")
        definite = tok.i > 0 and tok.doc[tok.i - 1].lower_ in ("the", "these", "those")
        if head.dep_ == "compound" and head.head.lower_ in self.count_nouns and not definite:
            return head.head
        return None

    @staticmethod
    def _salient(earlier: list[Span]) -> Span:
        """The body an anaphor points back to: the last one named, unless the sentence that
        names it has another body as its subject ("Oak Surgery, and its branch at Elm
        House, both shut. It was rated ..." -> Oak Surgery)."""
        last = earlier[-1]
        sent = last.sent
        for m in earlier:
            if m.sent == sent and m.root.dep_ in ("nsubj", "nsubjpass") and m is not last:
                return m
        return last

    def _count_number(self, doc: Doc, unit: Unit) -> int | None:
        """The number of a small count of bodies in the unit ("Two GP surgeries", "three
        homes"), else None."""
        for tok in doc[unit.start : unit.end]:
            if tok.tag_ == "CD" and self._counted_noun(tok) is not None:
                number = NUMBER_WORDS.get(tok.lower_) or (
                    int(tok.text) if tok.text.isdigit() else 0
                )
                return number if 2 <= number <= 6 else None
        return None

    def _has_anaphor(self, doc: Doc, unit: Unit) -> str | None:
        """Return the kind of an anaphor ("it", "the trust") in the unit, if any."""
        for tok in doc[unit.start : unit.end]:
            if tok.lower_ in ("it", "its"):
                # "It is the second commissioner to ...": the noun it is equated with says
                # what kind of body it is
                attr = next((c for c in tok.head.children if c.dep_ == "attr"), None)
                if (tok.dep_ == "nsubj" and tok.head.lemma_ == "be" and attr is not None
                        and attr.lower_ in self.anaphor_nouns):
                    return _anaphor_kind(attr.lower_)
                return "any"
            if self._service_is_the_body(tok):
                return "any"
            if tok.lower_ in self.anaphor_nouns and tok.i > unit.start:
                left = doc[max(unit.start, tok.i - 3) : tok.i]
                det = [t.i for t in left if t.lower_ in ("the", "this")]
                # "the trust", not "the 11 trusts" (a number before the article is no count)
                if det and not any(t.like_num for t in doc[det[-1] : tok.i]):
                    return _anaphor_kind(tok.lower_)
        return None

    @staticmethod
    def _named_together(doc: Doc, mentions: list[Span]) -> list[Span]:
        """The first group of two or more coordinated bodies ("A and B", "A, B and C")."""
        group: list[Span] = []
        for m in mentions:
            if group and _coordinated(doc, group[-1].end, m.start):
                group.append(m)
                continue
            if len(group) >= 2:
                return group
            group = [m]
        return group if len(group) >= 2 else []

    @staticmethod
    def _plural_anaphor(doc: Doc, unit: Unit) -> bool:
        """A unit opening with "Each", "Both", "They", "All three" ... of them."""
        first = [t.lower_ for t in doc[unit.start : unit.start + 2] if t.text not in QUOTES]
        return bool(first) and (
            first[0] in ("each", "both", "they")
            or first[:2] in (["all", "three"], ["all", "four"], ["the", "two"], ["the", "pair"])
        )

    def _indefinite(self, doc: Doc, unit: Unit) -> bool:
        """A sentence about an unnamed body: one that opens with it ("A village GP practice
        in Kent ... has left special measures") or rates one ("a practice rated ...")."""
        toks = doc[unit.start : unit.end]
        for i, tok in enumerate(toks):
            if tok.lower_ in ("a", "an"):
                window = [t.lower_ for t in toks[i + 1 : i + 5]]
                if any(w in self.kind_nouns for w in window) and (
                    i == 0 or "rated" in [t.lower_ for t in toks[i + 1 : i + 7]]
                ):
                    return True
        return False

    def _care_home(self, span: Span) -> bool:
        """A named care home ("Marlow Court", "Oak Care Home") in a text about care or nursing
        homes: the CQC rates those too, though the organisation finder may type them as
        companies."""
        name = span._.org_name or ""
        if span._.org_type not in ("company", "other") or not name.endswith(
            self.care_home_suffixes
        ):
            return False
        if name.endswith((" Care Home", " Nursing Home")):
            return True
        # "House", "Lodge", "Court", "Manor" name care homes only where the text says so
        return self._about_care_homes


def _anaphor_kind(noun: str) -> str:
    """The kind of body an anaphor noun ("the trust", "the CCG") points back to."""
    if noun == "trust":
        return "trust"
    if noun in ("hospital", "provider"):
        return "provider"
    if noun in ("ccg", "group", "commissioner"):
        return "commissioner"
    return "any"
