"""Which body a name means: the one resolver used when facts are saved and when a user
names an organisation.

At save time (:func:`link_name`) an extracted name is matched against the register
(:mod:`store.register`: canonical name, alias or acronym, former name, normalised form);
a name the register does not know becomes an entity grown from what was extracted, with
the id ``x-<normalised name>`` and the extractor's type. Every stored organisation row is
one body (``organisations.body_id``), and every mention, amount and rating carries the
body's ``org_id``, ``body_id`` and ``org_type`` and the ``link_method`` that linked it.
:func:`relink` brings a database written before (or with an older register) to the same
state, merging the rows of one body.

At query time (:func:`resolve_org`) a user's name is matched exactly: an id, a register
name, or a stored name or alias; fuzzy matches are only a "did you mean" suggestion.
"""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from store.names import org_key, slug
from store.register import Body, register

GROWN_PREFIX = "x-"


class OrgNotFound(LookupError):
    """No organisation, or several different ones, answer to a name; one-line message."""


@dataclass(frozen=True)
class Link:
    """What an extracted name was linked to: the body's id, canonical name and type, and
    the link method (one of :data:`store.register.LINK_METHODS`)."""

    body_id: str
    name: str
    type: str | None
    method: str


def link_name(name: str, extracted_type: str | None = None) -> Link:
    """The body an extracted organisation name stands for: a registered body, or an
    entity grown from the name (id from its normalised form, the extractor's type)."""
    match = register().match(name)
    if match is not None:
        return Link(match.body.id, match.body.name, match.body.type, match.method)
    return Link(GROWN_PREFIX + slug(org_key(name)), name, extracted_type, "extracted")


# ----------------------------------------------------------------------------- relinking


def relink(con: duckdb.DuckDBPyConnection) -> int:
    """Link every stored organisation row through :func:`link_name` again, merging rows
    that are one body (their mentions, facts and names move to one row; the other names
    become aliases) and filling ``body_id``, ``org_type`` and ``link_method`` of every
    mention, amount and rating. For databases from before these columns and after a
    change of the register. Returns how many rows were merged away."""
    orgs = con.execute(
        "SELECT org_id, name, name_key, type, body_id, origin FROM organisations "
        "ORDER BY org_id").fetchall()
    if not orgs:
        return 0
    groups: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    links: dict[int, Link] = {}
    for row in orgs:
        org_id, name, _key, type_, body_id, origin = row
        if origin == "extracted" and body_id and register().match(name) is None:
            link = Link(body_id, name, type_, "extracted")  # grown before: keep it
        else:
            link = link_name(name, type_)
        links[org_id] = link
        groups[link.body_id].append(row)
    plan = []
    for body_id, rows in groups.items():
        link = links[rows[0][0]]
        canonical = org_key(link.name)
        keeper = next((r for r in rows if r[2] == canonical), rows[0])[0]
        for row in rows:
            plan.append({"org_id": row[0], "keeper": keeper, "body_id": body_id,
                         "name": link.name, "type": link.type or row[3],
                         "origin": "extracted" if link.method == "extracted" else "register",
                         # a row linked before to this same body keeps its mentions' methods
                         "method": None if row[4] == body_id else links[row[0]].method,
                         "old_name": row[1]})
    con.register("_plan", pa.Table.from_pylist(plan))
    try:
        for table in ("org_mentions", "amounts", "ratings"):
            con.execute(f"UPDATE {table} SET org_id = p.keeper, "
                        f"link_method = COALESCE(p.method, {table}.link_method) "
                        f"FROM _plan p WHERE {table}.org_id = p.org_id")
        con.execute("INSERT OR IGNORE INTO org_aliases SELECT p.keeper, a.alias FROM _plan p "
                    "JOIN org_aliases a ON a.org_id = p.org_id WHERE p.org_id <> p.keeper")
        con.execute("INSERT OR IGNORE INTO org_aliases SELECT keeper, old_name FROM _plan "
                    "WHERE old_name <> name")
        con.execute("DELETE FROM org_aliases WHERE org_id IN "
                    "(SELECT org_id FROM _plan WHERE org_id <> keeper)")
        con.execute("DELETE FROM org_aliases WHERE EXISTS (SELECT 1 FROM _plan p "
                    "WHERE p.keeper = org_aliases.org_id AND p.name = org_aliases.alias)")
        con.execute("DELETE FROM organisations WHERE org_id IN "
                    "(SELECT org_id FROM _plan WHERE org_id <> keeper)")
        con.execute("UPDATE organisations SET name = p.name, type = p.type, "
                    "body_id = p.body_id, origin = p.origin FROM _plan p "
                    "WHERE organisations.org_id = p.org_id AND p.org_id = p.keeper")
        for table in ("org_mentions", "amounts", "ratings"):
            con.execute(f"UPDATE {table} SET body_id = o.body_id, org_type = o.type "
                        f"FROM organisations o WHERE {table}.org_id = o.org_id")
        _link_mentions_by_their_words(con)
    finally:
        con.unregister("_plan")
    return sum(1 for p in plan if p["org_id"] != p["keeper"])


def mention_method(text: str, link: Link) -> str:
    """How one mention of the body ``link`` was linked: by its own words where they name
    that body ("CQC" in a story about the Care Quality Commission: register_alias), else
    as the organisation's name was."""
    own = link_name(text)
    return own.method if own.body_id == link.body_id else link.method


def _link_mentions_by_their_words(con: duckdb.DuckDBPyConnection) -> None:
    """Give each stored mention whose words name its own body the method they link by
    (the rule :func:`mention_method` applies when facts are saved)."""
    pairs = con.execute("SELECT DISTINCT text, body_id FROM org_mentions "
                        "WHERE body_id IS NOT NULL").fetchall()
    own = []
    for text, body_id in pairs:
        link = link_name(text)
        if link.body_id == body_id:
            own.append({"text": text, "body_id": body_id, "method": link.method})
    if not own:
        return
    con.register("_own", pa.Table.from_pylist(own))
    try:
        con.execute("UPDATE org_mentions SET link_method = w.method FROM _own w "
                    "WHERE org_mentions.text = w.text AND org_mentions.body_id = w.body_id")
    finally:
        con.unregister("_own")


# ----------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class ResolvedOrg:
    """The body a user named: its stored rows (none when the register knows it but no
    story mentioned it yet), id, name and type, and its register entry if any."""

    name: str
    org_ids: tuple[int, ...]
    type: str | None
    body_id: str | None = None
    body: Body | None = None


def resolve_org(con: duckdb.DuckDBPyConnection, query: str) -> ResolvedOrg:
    """The one body ``query`` names exactly: an id (``nhs-england``, ``x-…``), a
    register name, alias, acronym, former or normalised name, or a stored name or alias.
    Raises :class:`OrgNotFound` with the closest names as a suggestion, or with the
    candidates when the name fits several bodies."""
    query = query.strip()
    if not query:
        raise OrgNotFound("give an organisation name")
    bodies = register()
    body = bodies.by_id.get(query.lower())
    if body is None:
        stored = con.execute("SELECT org_id, name, type, body_id FROM organisations "
                             "WHERE lower(body_id) = lower(?)", [query]).fetchall()
        if stored:
            return _resolved(con, stored[0][3])
        match = bodies.match(query)
        body = match.body if match else None
    if body is not None:
        return _resolved(con, body.id)
    sharing = bodies.sharing(query)
    if sharing:
        names = "; ".join(b.name for b in sharing)
        raise OrgNotFound(f"{query!r} names {len(sharing)} organisations ({names}); "
                          "give the full name")
    key = org_key(query)
    orgs = con.execute("SELECT org_id, name, name_key, type FROM organisations").fetchall()
    aliases = con.execute("SELECT org_id, alias FROM org_aliases").fetchall()
    found = {o[0] for o in orgs if key in (o[2], org_key(o[1]))}
    found |= {org_id for org_id, alias in aliases if org_key(alias) == key}
    if not found:
        raise OrgNotFound(f"no organisation named {query!r}{_suggestion(query, orgs, aliases)}")
    if len(found) > 1:
        names = "; ".join(sorted(o[1] for o in orgs if o[0] in found))
        raise OrgNotFound(f"{query!r} names {len(found)} organisations ({names}); "
                          "give the full name")
    (org_id,) = found
    row = next(o for o in orgs if o[0] == org_id)
    body_id = con.execute("SELECT body_id FROM organisations WHERE org_id = ?",
                          [org_id]).fetchone()[0]
    return ResolvedOrg(row[1], (org_id,), row[3], body_id, None)


def _resolved(con: duckdb.DuckDBPyConnection, body_id: str) -> ResolvedOrg:
    rows = con.execute("SELECT org_id, name, type FROM organisations WHERE body_id = ? "
                       "ORDER BY org_id", [body_id]).fetchall()
    body = register().by_id.get(body_id)
    if body is not None:
        return ResolvedOrg(body.name, tuple(r[0] for r in rows), body.type, body_id, body)
    return ResolvedOrg(rows[0][1], tuple(r[0] for r in rows), rows[0][2], body_id, None)


def _suggestion(query: str, orgs: list[tuple[Any, ...]], aliases: list[tuple[Any, ...]]) -> str:
    names = {o[1] for o in orgs} | {a[1] for a in aliases}
    by_key: dict[str, str] = {org_key(n): n for n in sorted(names)}
    close = difflib.get_close_matches(org_key(query), list(by_key), n=3, cutoff=0.6)
    if not close:
        close_names = [n for k, n in by_key.items() if org_key(query) in k][:3]
    else:
        close_names = [by_key[k] for k in close]
    if not close_names:
        return "; `policywatch orgs` lists them"
    return "; did you mean " + " or ".join(repr(n) for n in close_names) + "?"


def _labelled(body_id: str | None) -> str | None:
    if body_id is None:
        return None
    body = register().by_id.get(body_id)
    return f"{body.name} ({body_id})" if body else body_id


def body_row(con: duckdb.DuckDBPyConnection, body: ResolvedOrg) -> dict[str, Any]:
    """One row for a resolved body, as `policywatch orgs` shows it: id, name, type, its
    mention and story counts, every name it goes by, its successor and predecessors from
    the register, and how many mentions each link method linked."""
    ids = list(body.org_ids)
    mentions, stories = con.execute(
        "SELECT count(*), count(DISTINCT story_id) FROM org_mentions "
        "WHERE list_contains($ids, org_id)", {"ids": ids}).fetchone()
    names = {r[0] for r in con.execute(
        "SELECT name FROM organisations WHERE list_contains($ids, org_id) UNION "
        "SELECT alias FROM org_aliases WHERE list_contains($ids, org_id)",
        {"ids": ids}).fetchall()}
    methods = Counter(dict(con.execute(
        "SELECT COALESCE(link_method, 'unknown'), count(*) FROM org_mentions "
        "WHERE list_contains($ids, org_id) GROUP BY 1", {"ids": ids}).fetchall()))
    registered = body.body
    if registered is not None:
        names |= set(registered.names)
    predecessors = register().predecessors(body.body_id) if body.body_id else []
    return {
        "id": body.body_id, "name": body.name, "type": body.type,
        "kind": registered.kind if registered else None,
        "mentions": mentions, "stories": stories,
        "aliases": sorted(n for n in names if n != body.name),
        "successor": _labelled(registered.successor) if registered else None,
        "predecessors": [f"{p.name} ({p.id})" for p in predecessors],
        "valid_from": registered.valid_from if registered else None,
        "valid_to": registered.valid_to if registered else None,
        "linked": [f"{method}: {count}" for method, count in sorted(methods.items())],
        "score": 1.0,
    }
