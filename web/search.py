"""The search page's logic: validating the query string, running the store's searches with
the CLI's filters, sorting, paginating, and writing exactly the shown rows as CSV or JSON.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb

from store import facts as store_facts
from store.amount_text import MONEY_HINT, parse_money
from store.vocab import ORG_TYPES, RATINGS, ROLES

KINDS = ("amounts", "ratings", "orgs")
# Which filters each kind understands (as in the CLI's amounts / ratings / orgs commands).
FILTERS = {
    "amounts": ("org", "role", "min", "max", "period", "since"),
    "ratings": ("org", "rating", "since"),
    "orgs": ("org", "type"),
}
COLUMNS = {
    "amounts": ("published", "org", "value_gbp", "role", "period", "text", "story_id"),
    "ratings": ("published", "org", "rating", "period", "rater", "story_id"),
    "orgs": ("name", "type", "mentions", "stories", "aliases"),
}
# The store's searches are asked for at most this many rows; sorting happens over them.
MAX_ROWS = 5000
PER_PAGE = 50


class BadRequest(ValueError):
    """A query-string value the page cannot use; the message is shown to the user."""


class NotFound(LookupError):
    """Something asked for does not exist (an organisation, a page past the end)."""


@dataclass
class Search:
    """A validated search request."""

    kind: str = "amounts"
    values: dict[str, str] = field(default_factory=dict)  # the raw non-empty inputs
    org: str | None = None
    type_: str | None = None
    role: str | None = None
    min_gbp: float | None = None
    max_gbp: float | None = None
    period: str | None = None
    rating: str | None = None
    since: date | None = None
    sort: str | None = None
    descending: bool = False
    page: int = 1
    ignored: list[str] = field(default_factory=list)


def _choice(name: str, value: str, allowed: tuple[str, ...] | list[str]) -> str:
    if value not in allowed:
        raise BadRequest(f"{name} {value!r} is not one of: {', '.join(allowed)}")
    return value


def parse_search(params: Mapping[str, str]) -> Search:
    """Validate the query string; raises :class:`BadRequest` with a one-line reason."""
    raw = {k: v.strip() for k, v in params.items() if isinstance(v, str) and v.strip()}
    search = Search(kind=_choice("kind", raw.get("kind", "amounts"), KINDS))
    usable = FILTERS[search.kind]
    for name in ("org", "type", "role", "min", "max", "period", "rating", "since"):
        if name not in raw:
            continue
        if name not in usable:
            search.ignored.append(name)
            continue
        value = raw[name]
        search.values[name] = value
        if name == "org":
            search.org = value
        elif name == "type":
            search.type_ = _choice("type", value, ORG_TYPES)
        elif name == "role":
            search.role = _choice("role", value, ROLES)
        elif name == "rating":
            search.rating = _choice("rating", value, RATINGS)
        elif name == "period":
            search.period = value
        elif name in ("min", "max"):
            try:
                amount = parse_money(value)
            except ValueError:
                raise BadRequest(f"{name} {value!r} is not an amount: {MONEY_HINT}") from None
            if name == "min":
                search.min_gbp = amount
            else:
                search.max_gbp = amount
        elif name == "since":
            try:
                search.since = date.fromisoformat(value)
            except ValueError:
                raise BadRequest(f"since {value!r} is not a date: use YYYY-MM-DD") from None
    if search.min_gbp is not None and search.max_gbp is not None \
            and search.min_gbp > search.max_gbp:
        raise BadRequest("min is larger than max")
    if "sort" in raw:
        search.sort = _choice("sort", raw["sort"], COLUMNS[search.kind])
        search.descending = raw.get("dir", "asc") == "desc"
    try:
        search.page = int(raw.get("page", "1"))
    except ValueError:
        raise BadRequest(f"page {raw['page']!r} is not a number") from None
    if search.page < 1:
        raise BadRequest("page must be 1 or more")
    return search


def run_search(con: duckdb.DuckDBPyConnection, search: Search) -> list[dict[str, Any]]:
    """All matching rows (up to :data:`MAX_ROWS`), sorted as asked.

    Raises :class:`NotFound` when an organisation filter matches no organisation.
    """
    if search.org and not store_facts.search_orgs(con, search.org, limit=1):
        raise NotFound(f"no organisation matches {search.org!r}")
    if search.kind == "amounts":
        rows = store_facts.search_amounts(
            con, org=search.org, min_gbp=search.min_gbp, max_gbp=search.max_gbp,
            role=search.role, period=search.period,
            since=search.since, limit=MAX_ROWS)
    elif search.kind == "ratings":
        rows = store_facts.search_ratings(
            con, org=search.org, rating=search.rating, since=search.since, limit=MAX_ROWS)
    else:
        rows = store_facts.search_orgs(con, search.org or "", type_=search.type_,
                                       limit=MAX_ROWS)
    if search.sort:
        column = search.sort
        present = [r for r in rows if r.get(column) is not None]
        missing = [r for r in rows if r.get(column) is None]
        present.sort(key=lambda r: _sort_key(r[column]), reverse=search.descending)
        rows = present + missing
    return rows


def _sort_key(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def page_of(rows: list[dict[str, Any]], page: int) -> tuple[list[dict[str, Any]], int]:
    """The rows of ``page`` (1-based) and the number of pages; a page past the end of a
    non-empty result raises :class:`NotFound`."""
    pages = max(1, -(-len(rows) // PER_PAGE))
    if page > pages:
        raise NotFound(f"page {page} is beyond the end: there are {pages} page(s)")
    return rows[(page - 1) * PER_PAGE: page * PER_PAGE], pages


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def as_csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """The rows' ``columns`` as CSV with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else _plain(row.get(c)) for c in columns])
    return buffer.getvalue()


def as_json(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """The rows' ``columns`` as a JSON array of objects."""
    return json.dumps([{c: _plain(row.get(c)) for c in columns} for row in rows],
                      ensure_ascii=False, indent=1)
