"""NHS boards named by their area (a mixin of the ``policywatch_orgs`` component).

Welsh health boards are "<area> (University|Teaching) Health Board" and Scottish boards
"NHS <area>"; news often names them by the area alone ("Hywel Dda", "Tayside, Highland and
Borders"), by "the <area> board", or in a coordination sharing "health boards". The areas are
public names kept in ``data/orgs_boards.json``; they also settle coordinations with "and"
inside a name ("Cardiff and Vale and Powys health boards" is two boards). A bare area is a
board only in a document that speaks of boards of that nation, and not when it is a place
("in Fife") or part of another name ("Powys County Council").

English integrated care boards call themselves "NHS <area>" ("NHS Devon"): an "NHS" followed
by a capitalised area that is no known national body, service or plan is such a board.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from nlp.org_model import Mention

_BOARD_WORD_RE = re.compile(r"\bboards?\b", re.IGNORECASE)


class OrgBoardRules:
    """Board rules; the areas and word lists come from ``data/orgs_boards.json``."""

    def _load_boards(self, nlp: Language, path: Path) -> None:
        with path.open(encoding="utf-8") as f:
            data = json.load(f)
        self.board_nations: dict[str, dict[str, Any]] = {n["nation"]: n for n in data["nations"]}
        self.board_words = set(data["board_words"])
        self.bare_place_prepositions = set(data["bare_place_prepositions"])
        self.nhs_area_type: str = data["nhs_area_type"]
        self.nhs_area_stop_words = set(data["nhs_area_stop_words"])
        self.board_context_res = {
            n["nation"]: re.compile(r"\b(?:" + "|".join(n["context"]) + r")\b")
            for n in data["nations"]
        }
        self.board_matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        for nation in data["nations"]:
            for area in nation["areas"]:
                self.board_matcher.add(f"{nation['nation']}|{area}", [nlp.make_doc(area)])

    def _board_suffix_end(self, doc: Doc, end: int, nation: dict[str, Any]) -> int:
        """End of "(University) Health Board(s)", "NHS Board" or "board(s)" right after an
        area."""
        k = end
        n = len(doc)
        if k < n and doc[k].text in nation["qualifiers"]:
            k += 1
        if k + 1 < n and doc[k].text == "NHS" and doc[k + 1].lower_ in self.board_words:
            return k + 2  # "Ayrshire and Arran NHS Board"
        if k + 1 < n and doc[k].lower_ == "health" and doc[k + 1].lower_ in self.board_words:
            return k + 2
        if k < n and doc[k].lower_ in self.board_words:
            return k + 1
        return end

    def _bare_area_is_board(self, doc: Doc, start: int, end: int, in_context: bool) -> bool:
        """Whether an area named alone stands for its board."""
        if not in_context:
            return False
        n = len(doc)
        nxt = doc[end] if end < n else None
        if (
            nxt is not None
            and self._name_like(nxt)
            and nxt.text not in self.connectors
            and not nxt.is_sent_start
            and "\n" not in doc[end - 1].whitespace_
        ):
            return False  # part of another name ("Powys County Council")
        if start == 0:
            return True
        prev = doc[start - 1]
        if prev.lower_ in self.bare_place_prepositions:
            return False  # a place ("in Fife")
        return not (
            self._name_like(prev)
            and prev.text not in self.connectors
            and not self._is_stop(prev)
            and not doc[start].is_sent_start
            and "\n" not in prev.whitespace_
            and not prev.is_space
        )

    def _board_mentions(self, doc: Doc) -> list[Mention]:
        """Welsh and Scottish boards named by their area."""
        matches = self.board_matcher(doc)
        if not matches:
            return []
        matches = sorted(matches, key=lambda m: (m[1], -(m[2] - m[1])))
        has_board_word = bool(_BOARD_WORD_RE.search(self._text))
        context = {
            nation: has_board_word and bool(pattern.search(self._text))
            for nation, pattern in self.board_context_res.items()
        }
        out: list[Mention] = []
        last_end = -1
        for match_id, s, e in matches:
            if s < last_end:
                continue
            nation_id, area = doc.vocab.strings[match_id].split("|", 1)
            nation = self.board_nations[nation_id]
            area = area.replace(" & ", " and ")
            start, end = s, e
            suffix_end = self._board_suffix_end(doc, e, nation)
            explicit = suffix_end > e
            end = suffix_end
            prefix = nation.get("prefix")
            if prefix:
                name = f"{prefix} {area}"
                if s > 0 and doc[s - 1].text == prefix:
                    start, explicit = s - 1, True
            else:
                written = doc[s:end]
                qualified = (
                    explicit and doc[e].text in nation["qualifiers"] and written[-1].text == "Board"
                )
                name = written.text if qualified else f"{area} {nation['suffix']}"
            in_context = context[nation_id] or area in nation.get("unambiguous_areas", ())
            if not explicit and not self._bare_area_is_board(doc, s, e, in_context):
                continue
            plural = doc[end - 1].lower_ == "boards"
            out.append(
                Mention(
                    start,
                    end,
                    name,
                    nation["type"],
                    "board",
                    fragment=plural,
                    bare=None if explicit else doc[s:e].text,
                    key=f"board:{nation_id}:{area}".lower(),
                )
            )
            last_end = end
        return out

    def _nhs_area_mentions(self, doc: Doc, taken: set[int]) -> list[Mention]:
        """English integrated care boards named "NHS <area>" ("NHS Devon", "NHS Bath and
        North East Somerset, Swindon and Wiltshire" on a heading line of its own)."""
        out: list[Mention] = []
        n = len(doc)
        for tok in self._tokens_matching(doc, re.compile(r"\bNHS\b")):
            i = tok.i
            if tok.text != "NHS" or i in taken or i + 1 >= n or "\n" in tok.whitespace_:
                continue
            prev = doc[i - 1] if i > 0 else None
            if (
                prev is not None
                and self._name_like(prev)
                and not tok.is_sent_start
                and "\n" not in prev.whitespace_
            ):
                continue  # inside another name ("Keep Our NHS Safe")
            k = i + 1
            while k < n and k not in taken:
                t = doc[k]
                if t.is_space or "\n" in t.text or t.text == "NHS":
                    break
                if self._name_like(t) and t.pos_ == "PROPN" and not t.like_num:
                    k += 1
                elif (
                    t.lower_ in ("and", "&")
                    and k > i + 1
                    and k + 1 < n
                    and self._name_like(doc[k + 1])
                    and doc[k + 1].text != "NHS"
                    and "\n" not in t.whitespace_
                ):
                    k += 1
                else:
                    break
                if "\n" in doc[k - 1].whitespace_:
                    break
            if k == i + 1:
                continue
            k = self._line_end_of_names(doc, k)
            toks = list(doc[i + 1 : k])
            if any(
                t.text in self.nhs_area_stop_words
                or t.text in self.descriptors
                or t.text in self.non_org_heads
                or t.text in self.gaz_forms
                for t in toks
            ):
                continue
            if any(j in taken for j in range(i, k)):
                continue
            out.append(Mention(i, k, doc[i:k].text, self.nhs_area_type, "head"))
        return out

    def _line_end_of_names(self, doc: Doc, k: int) -> int:
        """A name that fills a line of its own may hold commas ("NHS A, B and C" as a
        heading): extend over them when only names run to the end of the line."""
        n = len(doc)
        if k >= n or doc[k].text != "," or "\n" in doc[k - 1].whitespace_:
            return k
        j = k
        while j < n:
            t = doc[j]
            if t.is_space or "\n" in t.text:
                break
            if not (self._name_like(t) or t.text == "," or t.lower_ in ("and", "&")):
                return k
            j += 1
            if "\n" in t.whitespace_:
                break
        end_line = j >= n or doc[j].is_space or "\n" in doc[j - 1].whitespace_
        return j if end_line and self._name_like(doc[j - 1]) else k
