"""Bare lists of names after a plural kind noun (a mixin of the ``policywatch_orgs``
component).

"three CCGs – A, B and C – were ..." and "Four CCGs were rated outstanding: A, B and C" give
"<name> <kind>" for each listed name; the kind noun is the subject or object of the clause
the colon closes.
"""

from __future__ import annotations

import re

from spacy.tokens import Doc, Token

from nlp.org_model import DASHES, Mention

LIST_HEAD_RE = re.compile(r"(?<!\w)(?:CCGs|groups|ICSs|ICBs|trusts|councils)(?!\w)")


class OrgListRules:
    """List rules over plural kind nouns ("CCGs", "trusts", "councils")."""

    def _list_mentions(self, doc: Doc, taken: set[int]) -> list[Mention]:
        """Bare lists after a plural kind noun: "three CCGs – A, B and C – were ..."."""
        out: list[Mention] = []
        n = len(doc)
        for tok in self._tokens_matching(doc, LIST_HEAD_RE):
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
            if doc[i + 1].text in DASHES:
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
                or (doc[j].text in DASHES and not colon)
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
                out.append(Mention(s, e, f"{bare} {kind[0]}", kind[1], "list", bare=bare))
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
            if t.text in (";", "(", ")") or t.text in DASHES or "\n" in t.text:
                return None
        return None
