"""Which stored organisations a name given by a user means: exact matching by canonical
name, alias or acronym, with a register of national bodies, and fuzzy matches only as a
"did you mean" suggestion.

The register (``store/data/bodies.json``, compiled from public facts) lists national NHS
bodies, departments and regulators with their acronyms and former names, so "CQC" and
"Care Quality Commission" are one body even where the extractor stored them as two rows.
"""

from __future__ import annotations

import difflib
import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import duckdb

from store.facts import org_key


class OrgNotFound(LookupError):
    """No organisation, or several different ones, answer to a name; one-line message."""


@dataclass(frozen=True)
class Body:
    """A registered body: canonical name, type, every name it goes by, its successor."""

    name: str
    type: str | None
    names: tuple[str, ...]
    successor: str | None = None
    until: str | None = None
    keys: frozenset[str] = field(default_factory=frozenset)


@functools.cache
def register() -> tuple[Body, ...]:
    """The bodies of ``store/data/bodies.json``."""
    text = resources.files("store").joinpath("data/bodies.json").read_text(encoding="utf-8")
    bodies = []
    for entry in json.loads(text)["bodies"]:
        names = (entry["name"], *entry.get("aliases", []), *entry.get("former_names", []))
        bodies.append(Body(entry["name"], entry.get("type"), names, entry.get("successor"),
                           entry.get("until"), frozenset(org_key(n) for n in names)))
    return tuple(bodies)


def registered_body(name: str) -> Body | None:
    """The registered body ``name`` is a name of, if any."""
    key = org_key(name)
    for body in register():
        if key in body.keys:
            return body
    return None


@dataclass(frozen=True)
class ResolvedOrg:
    """The stored rows that make up one body, and the name to show for it."""

    name: str
    org_ids: tuple[int, ...]
    type: str | None


def resolve_org(con: duckdb.DuckDBPyConnection, query: str) -> ResolvedOrg:
    """The one body ``query`` names exactly (canonical name, alias or acronym, or a name
    of a registered body). Raises :class:`OrgNotFound` with the closest names as a
    suggestion, or with the candidates when the name fits several bodies."""
    query = query.strip()
    if not query:
        raise OrgNotFound("give an organisation name")
    orgs = con.execute("SELECT org_id, name, name_key, type FROM organisations").fetchall()
    aliases = con.execute("SELECT org_id, alias FROM org_aliases").fetchall()
    body = registered_body(query)
    keys = set(body.keys) if body else {org_key(query)}
    by_name = [o for o in orgs if o[2] in keys]
    if body is None and not by_name:
        alias_ids = {org_id for org_id, alias in aliases if org_key(alias) in keys}
        by_name = [o for o in orgs if o[0] in alias_ids]
    elif body is not None:
        alias_ids = {org_id for org_id, alias in aliases if org_key(alias) in keys}
        by_name += [o for o in orgs if o[0] in alias_ids and o not in by_name]
    if not by_name:
        raise OrgNotFound(f"no organisation named {query!r}{_suggestion(query, orgs, aliases)}")
    if body is None and len(by_name) > 1:
        names = "; ".join(sorted(o[1] for o in by_name))
        raise OrgNotFound(f"{query!r} names {len(by_name)} organisations ({names}); "
                          "give the full name")
    ids = tuple(sorted(o[0] for o in by_name))
    if body is not None:
        return ResolvedOrg(body.name, ids, body.type or by_name[0][3])
    return ResolvedOrg(by_name[0][1], ids, by_name[0][3])


def _suggestion(query: str, orgs: list[tuple[Any, ...]], aliases: list[tuple[Any, ...]]) -> str:
    names = {o[1] for o in orgs} | {a[1] for a in aliases}
    by_key: dict[str, str] = {org_key(n): n for n in sorted(names)}
    close = difflib.get_close_matches(org_key(query), list(by_key), n=3, cutoff=0.6)
    if not close:
        contains = [n for k, n in by_key.items() if org_key(query) in k][:3]
        close_names = contains
    else:
        close_names = [by_key[k] for k in close]
    if not close_names:
        return "; `policywatch orgs` lists them"
    return "; did you mean " + " or ".join(repr(n) for n in close_names) + "?"


def body_row(con: duckdb.DuckDBPyConnection, body: ResolvedOrg) -> dict[str, Any]:
    """One row for a resolved body, as `policywatch orgs` lists organisations: its mention
    and story counts over all its stored rows, and every name it goes by."""
    mentions, stories = con.execute(
        "SELECT count(*), count(DISTINCT story_id) FROM org_mentions "
        "WHERE list_contains($ids, org_id)", {"ids": list(body.org_ids)}).fetchone()
    names = {r[0] for r in con.execute(
        "SELECT name FROM organisations WHERE list_contains($ids, org_id) UNION "
        "SELECT alias FROM org_aliases WHERE list_contains($ids, org_id)",
        {"ids": list(body.org_ids)}).fetchall()}
    registered = registered_body(body.name)
    if registered is not None:
        names |= set(registered.names)
    aliases = sorted(n for n in names if n != body.name)
    return {"name": body.name, "type": body.type, "mentions": mentions, "stories": stories,
            "aliases": aliases, "score": 1.0}
