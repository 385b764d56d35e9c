"""Owner candidates of an amount and their features, for the learned owner ranker
(:mod:`nlp.owner_model`).

An amount whose owner comes from the running text (not a table row or list item) has as
candidates every organisation the document names before it (and in its own and the next
sentence after it), by canonical name, plus ``None`` (nobody's money: a sector, several
bodies, an unnamed body). Each candidate gets a set of binary features: where its nearest
mention stands (same clause, sentence, previous sentence, story), how far, whether it comes
before or after, how the parse ties it to the amount (subject of the governing verb,
possessor, "for/to/by/from X", object, apposition), its type, how often and how early the
story names it, whether it is coordinated with another body or a collective plural, and
whether it is the rules' choice, with the rule's name. Back-references in the amount's clause
("the trust", "the company's loss", "its deficit") say which type of body is meant: a candidate
of that type, and the latest one named, gets features for it; so does the latest subject when
the clause's subject is "it". Candidates are also ranked by how recently they were named, and
their relation to the amount is crossed with the clause's verb. Everything is computed per
amount from the per-document :class:`nlp.money_context.MoneyContext` (a walk over the amount's
own clause), so it costs little.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from spacy.tokens import Token

from nlp.money_context import FoundAmount, MoneyContext, OrgMention
from nlp.owner_coordination import SUBJECT_DEPS
from nlp.owner_topic import section_owner

NULL = None  # the "nobody" candidate
NOT_OWNER = "not_owner_ok"  # the feature of a body whose type cannot own the amount
_PREPS = frozenset({"for", "to", "by", "from", "at", "of", "with", "in", "on"})
_OBJECT_DEPS = frozenset({"dobj", "dative", "iobj"})
# features crossed with the amount's role ("rel=subj&role=funding")
_ROLE_CROSSED = ("rel=", "type=", "pos=", "recency:", "last_before", "salient", "story_first",
                 "latest_subject", "ref_")
_LEAD_AHEAD = 3  # sentences after a headline or lead figure whose bodies are candidates
_DEFINITE = frozenset({"the", "this", "that", "its", "their"})
_PRONOUNS = frozenset({"it", "its", "they", "their", "itself"})


@dataclass
class Candidate:
    """One owner candidate of an amount (``name`` None: nobody) and its binary features."""

    name: str | None
    features: set[str] = field(default_factory=set)


def _bucket(value: int, edges: tuple[int, ...]) -> str:
    for edge in edges:
        if value <= edge:
            return f"<={edge}"
    return f">{edges[-1]}"


def rule_family(how: str) -> tuple[str, str]:
    """(family, via) of a rule name: "parse:nsubj+salience:the_trust" gives
    ("parse:nsubj", "salience")."""
    head, _, via = how.partition("+")
    family = head if head.startswith("parse:") else head.split(":")[0]
    return family, via.split(":")[0]


class OwnerFeaturizer:
    """Builds the candidates of each amount of one document (one instance per document)."""

    def __init__(self, ctx: MoneyContext) -> None:
        self.ctx = ctx
        self.collective = ctx.lex.collective
        # the root token of each organisation mention (the one whose head lies outside it)
        self.mention_root: dict[int, Token] = {}
        for i, mention in ctx.token_org.items():
            tok = ctx.doc[i]
            if ctx.token_org.get(tok.head.i) is not mention or tok.head.i == i:
                self.mention_root.setdefault(id(mention), tok)
        self.conj_mentions: set[int] = set()
        for mention_id, tok in self.mention_root.items():
            mates = [c for c in tok.children if c.dep_ == "conj"]
            if tok.dep_ == "conj":
                mates.append(tok.head)
            if any(m.i in ctx.token_org and id(ctx.token_org[m.i]) != mention_id
                   for m in mates):
                self.conj_mentions.add(mention_id)

    def _chain(self, f: FoundAmount) -> list[Token]:
        """The amount's root token and its heads up to its sentence's root."""
        ctx = self.ctx
        span = ctx.doc.char_span(f.start, f.end, alignment_mode="expand")
        if span is None or not ctx.parsed:
            return []
        s_start, s_end = ctx.sents[f.sent]
        chain = [span.root]
        cur = span.root
        while cur.head is not cur and s_start <= cur.head.idx < s_end and len(chain) < 12:
            cur = cur.head
            chain.append(cur)
        return chain

    def _relation(self, tok: Token, chain_pos: dict[int, int]) -> str | None:
        """How the parse ties a mention's root token to the amount's chain of heads."""
        head = tok.head
        depth = chain_pos.get(head.i)
        if tok.dep_ in SUBJECT_DEPS and depth is not None:
            return "subj" if depth <= 2 else "subj_far"
        if tok.dep_ == "poss":
            if depth is not None:
                return "poss"
            if head.dep_ in SUBJECT_DEPS and head.head.i in chain_pos:
                return "subj_poss"
        if tok.dep_ in _OBJECT_DEPS and depth is not None:
            return "obj"
        if tok.dep_ == "pobj" and head.dep_ == "prep" and head.head.i in chain_pos:
            prep = head.lower_ if head.lower_ in _PREPS else "other"
            return f"prep_{prep}"
        if tok.dep_ == "compound" and depth is not None:
            return "compound"
        if tok.dep_ == "appos" and depth is not None:
            return "appos"
        if tok.dep_ == "conj" and head.dep_ in SUBJECT_DEPS and head.head.i in chain_pos:
            return "subj_conj"
        if tok.i in chain_pos:
            return "on_chain"
        return None

    def candidates(self, f: FoundAmount, rule_owner: str | None, rule_how: str,
                   prev_owner: str | None) -> list[Candidate]:
        """The candidates of ``f`` (the NULL candidate first) with their features."""
        ctx = self.ctx
        role = f.role
        family, via = rule_family(rule_how)
        rule_tags = (f"fam={family}", f"how={rule_how}", f"via={via}")
        story_start = ctx.story_starts[ctx.story_index(f.start)]
        first_sent = ctx.sent_index(story_start)
        # a figure in a story's headline or first sentence may belong to a body the next
        # few sentences name ("Hospital trust told to find £27m ...")
        ahead = _LEAD_AHEAD if f.sent - first_sent <= 1 else 1
        next_sent = min(f.sent + ahead, len(ctx.sents) - 1)
        limit = ctx.sents[next_sent][1]
        chain = self._chain(f)
        chain_pos = {t.i: k for k, t in enumerate(chain)}
        amount_tok = chain[0].i if chain else None
        salient = ctx.salient_org(f.start, (), story_start)
        heading = section_owner(ctx, f.start)
        last = ctx.last_org_before(f.start, (), story_start)
        by_name: dict[str, Candidate] = {}
        seen_before: dict[str, int] = {}
        story_first: str | None = None
        doc_first: str | None = ctx.orgs[0].name if ctx.orgs else None
        end = bisect.bisect_left(ctx.org_starts, limit)
        nearest: dict[str, int] = {}
        last_seen: dict[str, int] = {}  # name -> start of its latest mention before, this story
        subject_seen: dict[str, int] = {}  # ... as a subject (or a subject's possessor)
        types: dict[str, str | None] = {}
        for mention in ctx.orgs[:end]:
            name = mention.name
            before = mention.end <= f.start
            types.setdefault(name, mention.type)
            if before and mention.start >= story_start and ctx.owner_ok(mention):
                last_seen[name] = mention.start
                root = self.mention_root.get(id(mention))
                if root is not None and (root.dep_ in SUBJECT_DEPS or (
                        root.dep_ == "poss" and root.head.dep_ in SUBJECT_DEPS)):
                    subject_seen[name] = mention.start
            if story_first is None and mention.start >= story_start:
                story_first = name
            cand = by_name.get(name)
            if cand is None:
                cand = by_name[name] = Candidate(name)
            if before:
                seen_before[name] = seen_before.get(name, 0) + 1
            feats = cand.features
            self._mention_features(f, mention, before, feats, chain_pos, amount_tok,
                                   story_start, first_sent, role, nearest)
        null_feats = self._null_features(f, role, rule_owner, rule_tags, by_name)
        null_feats |= self._clause_features(chain, family, f.clause)
        verb = next((x[len("null&verb="):] for x in null_feats if x.startswith("null&verb=")),
                    None)
        refs = self._back_references(chain, f.clause, chain_pos)
        for key, _types in refs:
            null_feats.add(f"null&ref={key}")
        # candidates by how recently the story named them before the amount (1: the latest)
        recency = sorted(last_seen, key=lambda n: -last_seen[n])
        latest_subject = max(subject_seen, key=subject_seen.__getitem__) if subject_seen else None
        latest_of_type: dict[str | None, str] = {}
        for name in recency:
            latest_of_type.setdefault(types.get(name), name)
        cands = [Candidate(NULL, null_feats)]
        for name, cand in by_name.items():
            feats = cand.features
            if name in last_seen:
                rank = recency.index(name) + 1
                feats.add(f"recency:{_bucket(rank, (1, 2, 3))}")
                if latest_of_type.get(types.get(name)) == name:
                    feats.add("latest_of_its_type")
            if name == latest_subject:
                feats.add("latest_subject")
            self._reference_features(name, types.get(name), refs, feats,
                                     latest_of_type.get(types.get(name)) == name,
                                     name == latest_subject)
            if verb is not None:
                for tag in [t for t in feats if t.startswith("rel=")]:
                    feats.add(f"{tag}&verb={verb}")
            count = seen_before.get(name, 0)
            feats.add(f"count:{_bucket(count, (0, 1, 2, 4))}")
            if name == story_first:
                feats.add("story_first")
            if name == doc_first:
                feats.add("doc_first")
            if name == heading:
                feats.add("heading_name")
            if name == salient:
                feats.add("salient")
            if last is not None and name == last.name:
                feats.add("last_before")
            if prev_owner is not None and name == prev_owner:
                feats.add("prev_owner")
            if name.split()[-1].lower() in self.collective:
                feats.add("collective_name")
            cands.append(cand)
        if rule_owner is not None and rule_owner not in by_name:
            cands.append(Candidate(rule_owner, {"not_mentioned"}))
        for cand in cands[1:]:
            feats = cand.features
            feats.add("cand")
            if cand.name == rule_owner:
                feats.add("rule_pick")
                feats.update(f"rule_pick&{t}" for t in rule_tags)
                feats.add(f"rule_pick&role={role}")
            for tag in [t for t in feats if t.startswith(_ROLE_CROSSED)]:
                feats.add(f"{tag}&role={role}")
        return cands

    def _back_references(self, chain: list[Token], clause: tuple[int, int],
                         chain_pos: dict[int, int]) -> list[tuple[str, tuple[str, ...]]]:
        """Back-references in the amount's clause: ("subj:trust", types) for "the trust" as
        the subject (or the subject's possessor) of the amount's chain of heads, ("poss:...")
        as its possessor, ("near:...") anywhere else in the clause; ("subj:it", ()) for a
        pronoun subject or possessor."""
        if not chain:
            return []
        ctx = self.ctx
        generic = ctx.lex.generic
        lo, hi = clause
        refs: list[tuple[str, tuple[str, ...]]] = []
        for tok in chain[0].sent:
            if not lo <= tok.idx < hi or tok.i in ctx.token_org:
                continue
            head = tok.head
            if tok.dep_ in SUBJECT_DEPS and head.i in chain_pos:
                where = "subj"
            elif tok.dep_ == "poss" and (head.i in chain_pos or (
                    head.dep_ in SUBJECT_DEPS and head.head.i in chain_pos)):
                where = "subj" if head.dep_ in SUBJECT_DEPS else "poss"
            else:
                where = "near"
            if tok.lower_ in _PRONOUNS:
                if where != "near":
                    refs.append((f"{where}:it", ()))
                continue
            if tok.pos_ not in ("NOUN", "PROPN"):
                continue
            key = tok.lower_
            if tok.i > 0 and f"{tok.nbor(-1).lower_} {key}" in generic:
                key = f"{tok.nbor(-1).lower_} {key}"
            if key not in generic:
                continue
            dets = {c.lower_ for c in tok.children if c.dep_ in ("det", "poss")}
            if dets & _DEFINITE:
                refs.append((f"{where}:{key}", generic[key]))
        return refs

    @staticmethod
    def _reference_features(name: str, kind: str | None,
                            refs: list[tuple[str, tuple[str, ...]]], feats: set[str],
                            latest_of_type: bool, latest_subject: bool) -> None:
        """A candidate's fit to the clause's back-references: of the type "the trust" means
        (and the latest such), with the noun in its name; the latest subject for "it"."""
        lowered = f" {name.lower()} "
        for key, ref_types in refs:
            where, _, noun = key.partition(":")
            if noun == "it":
                if "subj_of_reporting_verb" in feats:
                    feats.add(f"ref_{where}_it&reporter")  # "X said it had given ..."
                if latest_subject:
                    feats.add(f"ref_{where}_it&latest_subject")
                if latest_of_type:
                    feats.add(f"ref_{where}_it&latest_of_type")
                continue
            if f" {noun} " in lowered:
                feats.add(f"ref_{where}&noun_in_name")
            if kind in ref_types:
                feats.add(f"ref_{where}&type_match")
                if latest_of_type:
                    feats.add(f"ref_{where}&type_match&latest")
            elif ref_types:
                feats.add(f"ref_{where}&type_clash")

    def _mention_features(self, f: FoundAmount, mention: OrgMention, before: bool,
                          feats: set[str], chain_pos: dict[int, int],
                          amount_tok: int | None, story_start: int, first_sent: int,
                          role: str, nearest: dict[str, int]) -> None:
        ctx = self.ctx
        sent = ctx.sent_index(mention.start)
        feats.add(f"type={mention.type}")
        if not ctx.owner_ok(mention):
            feats.add(NOT_OWNER)
        if id(mention) in self.conj_mentions:
            feats.add("coordinated" if sent == f.sent else "coordinated_elsewhere")
        if sent == f.sent:
            in_clause = f.clause[0] <= mention.start < f.clause[1]
            where = "clause" if in_clause else "sentence"
            feats.add(f"pos={where}_{'before' if before else 'after'}")
            root = self.mention_root.get(id(mention))
            if root is not None and chain_pos:
                rel = self._relation(root, chain_pos)
                if rel is not None:
                    feats.add(f"rel={rel}")
                    # the word the mention hangs on: "said", "for", "awarded"
                    governor = root.head.head if root.dep_ == "pobj" else root.head
                    lemma = governor.lemma_.lower()
                    feats.add(f"rel={rel}&head={lemma}")
                    if rel.startswith("subj") and lemma in ctx.lex.reporting_verbs:
                        feats.add("subj_of_reporting_verb")
                if amount_tok is not None:
                    gap = abs(root.i - amount_tok)
                    best = nearest.get(mention.name)
                    if best is None or gap < best:
                        nearest[mention.name] = gap
                        for old in [t for t in feats if t.startswith("tokdist:")]:
                            feats.discard(old)
                        feats.add(f"tokdist:{_bucket(gap, (3, 8, 15, 30))}")
            return
        if not before:
            feats.add("pos=next_sentence" if sent == f.sent + 1 else "pos=later_in_lead")
            return
        root = self.mention_root.get(id(mention))
        if root is not None and (root.dep_ in SUBJECT_DEPS or (
                root.dep_ == "poss" and root.head.dep_ in SUBJECT_DEPS)):
            feats.add("subject_before" if sent < f.sent - 1 else "subject_previous_sentence")
        if mention.start >= story_start:
            gap = f.sent - sent
            if gap == 1:
                feats.add("pos=previous_sentence")
            else:
                feats.add(f"pos=story_sents:{_bucket(gap, (3, 8))}")
            if sent == first_sent:
                feats.add("story_lead")
            if ctx.paragraph_index(mention.start) == ctx.paragraph_index(f.start):
                feats.add("same_paragraph")
        else:
            feats.add("pos=earlier_story")
            if sent == 0:
                feats.add("doc_headline")

    def _clause_features(self, chain: list[Token], family: str, clause: tuple[int, int]
                         ) -> set[str]:
        """What the governing clause says about whose the amount can be (on the NULL
        candidate): its verb, and whether its subject is a body, a pronoun or a plural
        noun ("trusts have spent ...")."""
        feats: set[str] = set()
        for tok in chain:
            subjects = [c for c in tok.children if c.dep_ in SUBJECT_DEPS]
            if not subjects and tok.pos_ not in ("VERB", "AUX"):
                continue
            feats.add(f"null&verb={tok.lemma_.lower()}")
            if not subjects:
                feats.add("null&no_subject")
                break
            subj = subjects[0]
            if subj.i in self.ctx.token_org:
                kind = "org"
            elif subj.pos_ == "PRON":
                kind = f"pron_{subj.lower_}"
            else:
                kind = subj.tag_
                feats.add(f"null&subj_lemma={subj.lemma_.lower()}")
                feats |= self._subject_shape(subj)
            feats.add(f"null&subj={kind}")
            feats.add(f"null&subj={kind}&fam={family}")
            break
        else:
            feats.add("null&no_clause")
        if len(chain) > 1:
            # the noun the amount hangs on and its modifiers: "a combined deficit of £96m"
            noun = chain[1].head if chain[1].dep_ == "prep" else chain[1]
            if noun.pos_ == "NOUN":
                feats.update(f"null&amount_mod={c.lemma_.lower()}" for c in noun.children
                             if c.dep_ in ("amod", "compound") and c.i not in self.ctx.token_org)
        if chain:
            # closed-class words of the clause ("across", "all", "each", "per", "between")
            s_start, s_end = clause
            for tok in chain[0].sent:
                if s_start <= tok.idx < s_end and tok.pos_ in ("ADP", "DET", "ADV", "PRON") \
                        and tok.i not in self.ctx.token_org:
                    feats.add(f"null&clause_word={tok.lower_}")
        return feats

    def _subject_shape(self, subj: Token) -> set[str]:
        """What marks a noun subject as many bodies or none in particular: a collective
        word ("the sector", "providers"), an indefinite or numeric determiner ("a trust",
        "two trusts"), a possessor ("the region's providers", "its trusts")."""
        feats: set[str] = set()
        if subj.lower_ in self.collective or subj.lemma_.lower() in self.collective:
            feats.add("null&subj_collective")
        for child in subj.children:
            if child.dep_ == "det":
                feats.add(f"null&subj_det={child.lower_}")
            elif child.dep_ == "nummod":
                feats.add("null&subj_number")
            elif child.dep_ == "poss":
                kind = ("org" if child.i in self.ctx.token_org else
                        "pron" if child.pos_ == "PRON" else "noun")
                feats.add(f"null&subj_poss={kind}")
        return feats

    def _null_features(self, f: FoundAmount, role: str, rule_owner: str | None,
                       rule_tags: tuple[str, ...], by_name: dict[str, Candidate]
                       ) -> set[str]:
        feats = {"null", f"null&role={role}"}
        if rule_owner is None:
            feats.add("null&rule_pick")
            feats.update(f"null&rule_pick&{t}" for t in rule_tags)
        in_sentence = [c for c in by_name.values()
                       if any(t.startswith("pos=clause") or t.startswith("pos=sentence")
                              for t in c.features)]
        feats.add(f"null&sent_orgs:{_bucket(len(in_sentence), (0, 1, 2))}")
        if any("coordinated" in c.features for c in in_sentence):
            feats.add("null&coordinated_in_sentence")
        if not by_name:
            feats.add("null&no_orgs")
        if f.headline:
            feats.add("null&headline")
        return feats
