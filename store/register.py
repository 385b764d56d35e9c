"""The register of NHS bodies: loading and checking ``store/data/nhs_register.csv`` and
matching a name against it.

The register (compiled from public facts; its columns and sources are described in
``store/data/README.md``) lists ICBs, CCGs with their successors, NHS trusts and foundation
trusts, the health boards and trusts of Wales, Scotland and Northern Ireland, and national
bodies and regulators, each with a stable id, its aliases, acronyms and former names.

A name matches a body in this order, the first that answers giving the link method:
``register_name`` (the canonical name), ``register_alias`` (an alias or acronym),
``register_former_name``, then ``normalised`` (the forms of :func:`store.names.loose_key`,
when exactly one body has that form). Names the file lists as ``shared_names`` belong to
several bodies on purpose (two trusts both called "MFT"): they never match, and a user who
gives one is told which bodies it could be.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from importlib import resources

from store.names import loose_key, org_key
from store.vocab import ORG_TYPES

REGISTER_FILE = "data/nhs_register.csv"
COLUMNS = ["id", "name", "type", "kind", "nation", "foundation_trust", "aliases",
           "former_names", "shared_names", "successor", "valid_from", "valid_to", "note"]
LINK_METHODS = ["register_name", "register_alias", "register_former_name", "normalised",
                "extracted"]
_ID_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class RegisterError(ValueError):
    """The register file breaks one of its rules; the message lists every problem."""


@dataclass(frozen=True)
class Body:
    """One registered body."""

    id: str
    name: str
    type: str
    kind: str
    nation: str
    foundation_trust: bool
    aliases: tuple[str, ...]
    former_names: tuple[str, ...]
    shared_names: tuple[str, ...]
    successor: str | None
    valid_from: str | None
    valid_to: str | None
    note: str | None

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the body goes by, canonical first."""
        return (self.name, *self.aliases, *self.former_names, *self.shared_names)


@dataclass(frozen=True)
class Match:
    """A name matched to a body, and how."""

    body: Body
    method: str


def _split(cell: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (cell or "").split(";") if part.strip())


def _body(row: dict[str, str]) -> Body:
    return Body(
        id=row["id"].strip(), name=row["name"].strip(), type=row["type"].strip(),
        kind=row["kind"].strip(), nation=row["nation"].strip(),
        foundation_trust=row["foundation_trust"].strip() == "yes",
        aliases=_split(row["aliases"]), former_names=_split(row["former_names"]),
        shared_names=_split(row["shared_names"]), successor=row["successor"].strip() or None,
        valid_from=row["valid_from"].strip() or None, valid_to=row["valid_to"].strip() or None,
        note=row["note"].strip() or None)


def problems(bodies: list[Body]) -> list[str]:
    """Every broken rule of a register: ids unique and slug-shaped, known types, successors
    that exist (no chain back to the body itself), ISO dates in order, and no name shared by
    two bodies unless every body that has it lists it under shared_names."""
    found: list[str] = []
    by_id: dict[str, Body] = {}
    for body in bodies:
        if not _ID_RE.fullmatch(body.id):
            found.append(f"{body.name!r}: id {body.id!r} is not a lower-case slug")
        if body.id in by_id:
            found.append(f"id {body.id!r} is used twice")
        by_id[body.id] = body
        if not body.name:
            found.append(f"{body.id}: no name")
        if body.type not in ORG_TYPES:
            found.append(f"{body.id}: type {body.type!r} is not one of {ORG_TYPES}")
        for label, value in (("valid_from", body.valid_from), ("valid_to", body.valid_to)):
            if value is not None:
                try:
                    date.fromisoformat(value)
                except ValueError:
                    found.append(f"{body.id}: {label} {value!r} is not YYYY-MM-DD")
        if body.valid_from and body.valid_to and body.valid_from > body.valid_to:
            found.append(f"{body.id}: valid_from is after valid_to")
    for body in bodies:
        seen = {body.id}
        step = body
        while step.successor is not None:
            if step.successor not in by_id:
                found.append(f"{step.id}: successor {step.successor!r} is not in the register")
                break
            if step.successor in seen:
                found.append(f"{body.id}: its successors lead back to itself")
                break
            seen.add(step.successor)
            step = by_id[step.successor]
    holders: dict[str, set[str]] = defaultdict(set)
    shared: dict[str, set[str]] = defaultdict(set)
    for body in bodies:
        for name in body.names:
            holders[org_key(name)].add(body.id)
        for name in body.shared_names:
            shared[org_key(name)].add(body.id)
    for key, ids in sorted(holders.items()):
        if len(ids) > 1 and shared.get(key) != ids:
            found.append(f"the name {key!r} belongs to {sorted(ids)}; list it under "
                         "shared_names of each of them if that is deliberate")
        elif key in shared and len(ids) < 2:
            found.append(f"shared name {key!r} belongs to one body only ({sorted(ids)[0]})")
    return found


class Register:
    """The bodies of a register file, looked up by id, name and normalised name."""

    def __init__(self, bodies: list[Body], version: str):
        self.bodies = tuple(bodies)
        self.version = version
        self.by_id = {b.id: b for b in bodies}
        self._exact: dict[str, Match] = {}
        self._shared: dict[str, list[Body]] = defaultdict(list)
        self._loose: dict[str, set[str]] = defaultdict(set)
        self._successors_of: dict[str, list[Body]] = defaultdict(list)
        for body in bodies:
            for method, names in (("register_name", (body.name,)),
                                  ("register_alias", body.aliases),
                                  ("register_former_name", body.former_names)):
                for name in names:
                    self._exact.setdefault(org_key(name), Match(body, method))
                    self._loose[loose_key(name)].add(body.id)
            for name in body.shared_names:
                self._shared[org_key(name)].append(body)
                self._loose[loose_key(name)].update({body.id, "(shared)"})
            if body.successor:
                self._successors_of[body.successor].append(body)

    def match(self, name: str) -> Match | None:
        """The one body ``name`` names and how it was matched; None for an unknown name
        or a deliberately shared one."""
        key = org_key(name)
        if not key or key in self._shared:
            return None
        if key in self._exact:
            return self._exact[key]
        ids = self._loose.get(loose_key(name), set())
        if len(ids) == 1:
            return Match(self.by_id[next(iter(ids))], "normalised")
        return None

    def sharing(self, name: str) -> list[Body]:
        """The bodies that share ``name`` (a shared name), else an empty list."""
        return list(self._shared.get(org_key(name), []))

    def predecessors(self, body_id: str) -> list[Body]:
        """The bodies whose successor is ``body_id``, by name."""
        return sorted(self._successors_of.get(body_id, []), key=lambda b: b.name)


def parse_register(text: str) -> Register:
    """A register read from CSV text; :class:`RegisterError` lists every broken rule."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames != COLUMNS:
        raise RegisterError(f"register columns must be {COLUMNS}, got {reader.fieldnames}")
    bodies = [_body(row) for row in reader]
    found = problems(bodies)
    if found:
        raise RegisterError("; ".join(found))
    return Register(bodies, hashlib.sha1(text.encode("utf-8")).hexdigest()[:12])


@functools.cache
def register() -> Register:
    """The register shipped in ``store/data/nhs_register.csv``."""
    text = resources.files("store").joinpath(REGISTER_FILE).read_text(encoding="utf-8")
    return parse_register(text)
