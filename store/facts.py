"""Storing and querying extracted facts: organisations, mentions, amounts and ratings.

Facts arrive as plain dicts (the extraction contract of ``GUIDELINES.md`` plus character
offsets); this module knows nothing of where they came from. Writes are bulk inserts from
Arrow tables inside one transaction per batch, so re-processing a story replaces its facts
atomically. Every query takes bound parameters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb
import pyarrow as pa

from store.db import as_datetime, fetch_dicts
from store.identity import Link, link_name, mention_method
from store.names import org_key

# The stories whose facts are not counted: those of an article linked as a near-duplicate
# (``articles.duplicate_of``: a republication of another stored article) and those of an
# article's earlier versions. Every search, count and export leaves their facts out, so a
# fact is counted once however often it was published.
UNCOUNTED_STORIES = """
    SELECT us.story_id FROM stories us JOIN articles ua ON ua.article_id = us.article_id
    WHERE ua.duplicate_of IS NOT NULL OR us.version <> ua.current_version
"""


# The same rule seen from the other side: the counted stories themselves, with the columns a
# page or report needs (headline, URL, source and the story's date).
STORY_DATE = "COALESCE(s.published, a.published, a.first_seen)"
COUNTED_STORIES = f"""
    SELECT s.story_id, COALESCE(s.headline, a.title) AS headline, a.url, a.source,
           {STORY_DATE} AS story_date
    FROM stories s JOIN articles a ON a.article_id = s.article_id
    WHERE a.duplicate_of IS NULL AND (a.current_version IS NULL OR s.version = a.current_version)
"""


def counted(column: str) -> str:
    """SQL condition: the fact whose story id is in ``column`` is counted."""
    return f"{column} NOT IN ({UNCOUNTED_STORIES})"


@dataclass(frozen=True)
class StoryToProcess:
    story_id: str
    body: str
    published: datetime | None


def _to_process_sql(nlp_version: str, reprocess: bool) -> tuple[str, list[Any]]:
    sql = """
        FROM stories s JOIN articles a USING (article_id)
        WHERE s.version = a.current_version AND a.duplicate_of IS NULL
    """
    params: list[Any] = []
    if not reprocess:
        sql += " AND (s.processed_at IS NULL OR s.nlp_version IS DISTINCT FROM ?)"
        params.append(nlp_version)
    return sql, params


def stories_to_process(
    con: duckdb.DuckDBPyConnection,
    nlp_version: str,
    *,
    reprocess: bool = False,
    limit: int | None = None,
    after: str | None = None,
) -> list[StoryToProcess]:
    """Current-version stories never processed, or processed by another ``nlp_version``,
    in story id order.

    With ``reprocess`` every current story is returned. ``after`` starts past that story id,
    so a caller can read a long backlog a page at a time (``limit``) without seeing a story
    twice.
    """
    where, params = _to_process_sql(nlp_version, reprocess)
    sql = "SELECT s.story_id, s.body, COALESCE(s.published, a.published) " + where
    if after is not None:
        sql += " AND s.story_id > ?"
        params.append(after)
    sql += " ORDER BY s.story_id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return [StoryToProcess(*row) for row in con.execute(sql, params).fetchall()]


def count_stories_to_process(con: duckdb.DuckDBPyConnection, nlp_version: str) -> int:
    """How many stories :func:`stories_to_process` would return."""
    where, params = _to_process_sql(nlp_version, False)
    return int(con.execute("SELECT count(*) " + where, params).fetchall()[0][0])


def save_facts(
    con: duckdb.DuckDBPyConnection,
    results: Sequence[tuple[str, dict[str, Any]]],
    nlp_version: str,
    *,
    published: dict[str, datetime | None] | None = None,
) -> dict[str, int]:
    """Replace the facts of each ``(story_id, facts)`` pair, all in one transaction.

    Every organisation name is linked to one body by :func:`store.identity.link_name`
    (the register of NHS bodies, else an entity grown from the extracted name); mentions,
    amounts and ratings are stored with the body's ``org_id``, ``body_id``, ``org_type``
    and the ``link_method``. Returns the number of rows written per table.
    """
    if not results:
        return {"organisations": 0, "org_mentions": 0, "amounts": 0, "ratings": 0}
    published = published or {}
    story_ids = [sid for sid, _ in results]
    now = datetime.now()

    org_rows: dict[str, dict[str, Any]] = {}
    alias_rows: set[tuple[str, str]] = set()
    mention_rows: list[dict[str, Any]] = []
    amount_rows: list[dict[str, Any]] = []
    rating_rows: list[dict[str, Any]] = []

    def body_of(name: str, extracted_type: str | None) -> Link:
        link = link_name(name, extracted_type)
        row = org_rows.setdefault(link.body_id, {
            "name": link.name, "name_key": org_key(link.name), "type": link.type,
            "body_id": link.body_id,
            "origin": "extracted" if link.method == "extracted" else "register"})
        if row["type"] is None:
            row["type"] = link.type
        if name != link.name:
            alias_rows.add((link.body_id, name))
        return link

    for story_id, facts in results:
        story_links: dict[str, Link] = {}
        for org in facts.get("organisations", []):
            name = org["name"]
            if not org_key(name):
                continue
            link = body_of(name, org.get("type"))
            story_links[name] = link
            for alias in org.get("aliases", []):
                if alias and alias != name and alias != link.name:
                    alias_rows.add((link.body_id, alias))
                    story_links.setdefault(alias, link)
            for m in org.get("mentions", []):
                mention_rows.append(
                    {"story_id": story_id, "body_id": link.body_id,
                     "start_offset": m["start"], "end_offset": m["end"], "text": m["text"],
                     "link_method": mention_method(m["text"], link)}
                )

        def owner(name: str | None, known: dict[str, Link] = story_links) -> Link | None:
            """The body a fact's owner names: as linked in this story, else linked now."""
            if not name or not org_key(name):
                return None
            return known.get(name) or body_of(name, None)

        when = as_datetime(published.get(story_id))
        for a in facts.get("amounts", []):
            org = a.get("org")
            link = owner(org)
            amount_rows.append(
                {"story_id": story_id, "text": a.get("text") or "",
                 "value_gbp": a.get("value_gbp"), "value_gbp_max": a.get("value_gbp_max"),
                 "currency": a.get("currency") or "GBP", "value": a.get("value"),
                 "qualifier": a.get("qualifier"), "role": a.get("role"), "per": a.get("per"),
                 "body_id": link.body_id if link else None, "org_name": org,
                 "link_method": link.method if link else None,
                 "period": a.get("period"), "published": when,
                 "start_offset": a.get("start"), "end_offset": a.get("end"),
                 "sentence": a.get("sentence"), "why": why_text(a.get("why"))}
            )
        for r in facts.get("ratings", []):
            org = r.get("org")
            if not org:
                continue
            link = owner(org)
            rating_rows.append(
                {"story_id": story_id, "body_id": link.body_id if link else None,
                 "org_name": org, "link_method": link.method if link else None,
                 "rating": r["rating"], "period": r.get("period"), "rater": r.get("rater"),
                 "published": when, "start_offset": r.get("start"),
                 "end_offset": r.get("end"), "sentence": r.get("sentence"),
                 "why": why_text(r.get("why")),
                 "previous_rating": r.get("previous_rating"), "direction": r.get("direction"),
                 "status": r.get("status")}
            )

    ids_table = pa.table({"story_id": pa.array(story_ids, pa.string())})
    con.begin()
    try:
        con.register("_ids", ids_table)
        for table in ("org_mentions", "amounts", "ratings"):
            con.execute(f"DELETE FROM {table} WHERE story_id IN (SELECT story_id FROM _ids)")
        if org_rows:
            con.register("_orgs", pa.Table.from_pylist(list(org_rows.values())))
            # a name first stored for another body keeps its key there: this body's row
            # is found by its id, so its key only has to be unique
            con.execute(
                "INSERT INTO organisations (name, name_key, type, body_id, origin) "
                "SELECT name, CASE WHEN name_key IN (SELECT name_key FROM organisations) "
                "THEN name_key || ' #' || body_id ELSE name_key END, type, body_id, origin "
                "FROM _orgs WHERE body_id NOT IN "
                "(SELECT body_id FROM organisations WHERE body_id IS NOT NULL)"
            )
            con.execute(
                "UPDATE organisations SET type = _orgs.type FROM _orgs "
                "WHERE organisations.body_id = _orgs.body_id AND organisations.type IS NULL"
            )
        if alias_rows:
            con.register(
                "_aliases",
                pa.Table.from_pylist([{"body_id": b, "alias": a} for b, a in sorted(alias_rows)]),
            )
            con.execute(
                "INSERT OR IGNORE INTO org_aliases "
                "SELECT o.org_id, x.alias FROM _aliases x JOIN organisations o USING (body_id)"
            )
        if mention_rows:
            con.register("_mentions", pa.Table.from_pylist(mention_rows))
            con.execute(
                "INSERT INTO org_mentions BY NAME SELECT m.*, o.org_id, o.type AS org_type "
                "FROM _mentions m JOIN organisations o USING (body_id)"
            )
        for table, rows, schema in (("amounts", amount_rows, _AMOUNT_SCHEMA),
                                    ("ratings", rating_rows, _RATING_SCHEMA)):
            if rows:
                con.register("_facts", _arrow(rows, schema))
                con.execute(
                    f"INSERT INTO {table} BY NAME SELECT f.*, o.org_id, o.type AS org_type "
                    "FROM _facts f LEFT JOIN organisations o USING (body_id)"
                )
                con.unregister("_facts")
        con.execute(
            "UPDATE stories SET processed_at = ?, nlp_version = ? "
            "WHERE story_id IN (SELECT story_id FROM _ids)",
            [now, nlp_version],
        )
        con.commit()
    except Exception:
        con.rollback()
        raise
    finally:
        for view in ("_ids", "_orgs", "_aliases", "_mentions", "_facts"):
            try:
                con.unregister(view)
            except duckdb.Error:
                pass
    return {
        "organisations": len(org_rows),
        "org_mentions": len(mention_rows),
        "amounts": len(amount_rows),
        "ratings": len(rating_rows),
    }


_AMOUNT_SCHEMA = pa.schema(
    [("story_id", pa.string()), ("text", pa.string()), ("value_gbp", pa.float64()),
     ("value_gbp_max", pa.float64()), ("currency", pa.string()), ("value", pa.float64()),
     ("qualifier", pa.string()), ("role", pa.string()), ("per", pa.string()),
     ("body_id", pa.string()), ("org_name", pa.string()), ("link_method", pa.string()),
     ("period", pa.string()),
     ("published", pa.timestamp("us")), ("start_offset", pa.int32()),
     ("end_offset", pa.int32()), ("sentence", pa.string()), ("why", pa.string())]
)
_RATING_SCHEMA = pa.schema(
    [("story_id", pa.string()), ("body_id", pa.string()), ("org_name", pa.string()),
     ("link_method", pa.string()), ("rating", pa.string()), ("period", pa.string()),
     ("rater", pa.string()),
     ("published", pa.timestamp("us")), ("start_offset", pa.int32()),
     ("end_offset", pa.int32()), ("sentence", pa.string()), ("why", pa.string()),
     ("previous_rating", pa.string()), ("direction", pa.string()), ("status", pa.string())]
)


def why_text(why: Any) -> str | None:
    """A fact's ``why`` (which rules decided it) as the JSON text stored in the ``why``
    column; None when the extractor gave none."""
    if why is None or why == {}:
        return None
    return json.dumps(why, sort_keys=True, ensure_ascii=False)


def _with_why(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with their stored ``why`` JSON text read back as an object."""
    for row in rows:
        text = row.get("why")
        if isinstance(text, str):
            try:
                row["why"] = json.loads(text)
            except json.JSONDecodeError:
                pass  # text stored by hand stays as written
    return rows


def _arrow(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema)


# ----------------------------------------------------------------------------- queries


# Matches an organisation by name or alias: exact key, substring, or fuzzy (Jaro-Winkler).
_ORG_MATCH_CTE = """
    org_match AS (
        SELECT o.org_id, max(GREATEST(
            CASE WHEN o.name_key = $key THEN 1.0 ELSE 0 END,
            -- contains(), not LIKE: "%" and "_" in a query are literal characters
            CASE WHEN contains(lower(o.name), lower($q)) THEN 0.95 ELSE 0 END,
            CASE WHEN lower(al.alias) = lower($q) THEN 0.97 ELSE 0 END,
            jaro_winkler_similarity(o.name_key, $key),
            -- a misspelt beginning of a long name ("northfeld hosp")
            jaro_winkler_similarity(left(o.name_key, length($key)), $key) - 0.02,
            COALESCE(jaro_winkler_similarity(lower(al.alias), lower($q)), 0)
        )) AS score
        FROM organisations o LEFT JOIN org_aliases al USING (org_id)
        GROUP BY o.org_id
    )
"""
FUZZY_THRESHOLD = 0.88


def search_orgs(
    con: duckdb.DuckDBPyConnection, query: str = "", *, type_: str | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """Organisations matching ``query`` (fuzzy, on names and aliases), best first,
    with their mention and story counts. An empty query lists the most mentioned."""
    sql = f"""
        WITH {_ORG_MATCH_CTE},
        counts AS (
            SELECT org_id, count(*) AS mentions, count(DISTINCT story_id) AS stories
            FROM org_mentions WHERE {counted('story_id')} GROUP BY org_id
        )
        SELECT o.body_id AS id, o.name, o.type, COALESCE(c.mentions, 0) AS mentions,
               COALESCE(c.stories, 0) AS stories,
               (SELECT list(alias ORDER BY alias) FROM org_aliases a
                WHERE a.org_id = o.org_id) AS aliases,
               round(m.score, 3) AS score
        FROM organisations o JOIN org_match m USING (org_id)
        LEFT JOIN counts c USING (org_id)
        WHERE ($q = '' OR m.score >= {FUZZY_THRESHOLD})
          AND ($type IS NULL OR o.type = $type)
        ORDER BY (CASE WHEN $q = '' THEN 0 ELSE m.score END) DESC, mentions DESC, o.name
        LIMIT $limit
    """
    params = {"q": query, "key": org_key(query) if query else "", "type": type_, "limit": limit}
    return fetch_dicts(con.execute(sql, params))


def _org_filter(column: str) -> str:
    # $org: a name matched fuzzily; $org_ids: the rows of one body, matched exactly
    # (store.identity.resolve_org); $org_type: the organisation's type, as stored on the
    # fact row when it was saved.
    return (
        f"($org IS NULL OR {column} IN (SELECT org_id FROM org_match "
        f"WHERE score >= {FUZZY_THRESHOLD})) "
        f"AND ($org_ids IS NULL OR list_contains($org_ids, {column})) "
        f"AND ($org_type IS NULL OR {column.replace('org_id', 'org_type')} = $org_type)"
    )


def _org_params(org: str | None, org_ids: Sequence[int] | None = None,
                org_type: str | None = None) -> dict[str, Any]:
    return {"org": org, "q": org or "", "key": org_key(org) if org else "",
            "org_ids": list(org_ids) if org_ids is not None else None, "org_type": org_type}


_STORY_CONTEXT = """
    LEFT JOIN stories s ON s.story_id = f.story_id
    LEFT JOIN articles ar ON ar.article_id = s.article_id
"""


def search_amounts(
    con: duckdb.DuckDBPyConnection,
    *,
    org: str | None = None,
    min_gbp: float | None = None,
    max_gbp: float | None = None,
    role: str | None = None,
    period: str | None = None,
    since: date | None = None,
    limit: int = 50,
    org_ids: Sequence[int] | None = None,
    org_type: str | None = None,
) -> list[dict[str, Any]]:
    """Amounts filtered by owner (fuzzy), value bounds in GBP, role, period and date,
    largest first, with the story they come from."""
    sql = f"""
        WITH {_ORG_MATCH_CTE}
        SELECT f.value_gbp, f.value_gbp_max, f.currency, f.value, f.qualifier, f.role, f.per,
               COALESCE(o.name, f.org_name) AS org, f.org_type, f.org_id, f.body_id,
               f.link_method, f.period,
               f.text,
               CAST(COALESCE(f.published, s.published, ar.published) AS DATE) AS published,
               ar.title, ar.url, f.sentence, f.story_id, f.start_offset, f.why
        FROM amounts f LEFT JOIN organisations o USING (org_id) {_STORY_CONTEXT}
        WHERE {_org_filter('f.org_id')} AND {counted('f.story_id')}
          AND ($min IS NULL OR COALESCE(f.value_gbp_max, f.value_gbp) >= $min)
          AND ($max IS NULL OR f.value_gbp <= $max)
          AND ($role IS NULL OR f.role = $role)
          AND ($period IS NULL OR replace(replace(f.period, '/', '-'), '–', '-') = $period)
          AND ($since IS NULL OR COALESCE(f.published, s.published, ar.published) >= $since)
        ORDER BY f.value_gbp DESC NULLS LAST, published DESC NULLS LAST
        LIMIT $limit
    """
    params = {
        **_org_params(org, org_ids, org_type), "min": min_gbp, "max": max_gbp, "role": role,
        "period": normalise_period(period) if period else None,
        "since": since, "limit": limit,
    }
    return _with_why(fetch_dicts(con.execute(sql, params)))


def search_ratings(
    con: duckdb.DuckDBPyConnection,
    *,
    org: str | None = None,
    rating: str | None = None,
    since: date | None = None,
    limit: int = 100,
    org_ids: Sequence[int] | None = None,
    org_type: str | None = None,
    include_previous: bool = True,
) -> list[dict[str, Any]]:
    """Ratings filtered by organisation (fuzzy), rating value and date, newest first.

    Without ``include_previous``, ratings the text gives as a body's earlier rating
    (status 'previous') are left out, so "rated inadequate" lists bodies that are, not
    bodies that were."""
    from store.history import rating_event_select

    sql = f"""
        WITH {_ORG_MATCH_CTE}
        SELECT COALESCE(o.name, f.org_name) AS org, o.type, f.org_type, f.org_id, f.body_id,
               f.link_method, f.rating, {rating_event_select(con)}, f.period, f.rater,
               CAST(COALESCE(f.published, s.published, ar.published) AS DATE) AS published,
               ar.title, ar.url, f.sentence, f.story_id, f.start_offset, f.why
        FROM ratings f LEFT JOIN organisations o USING (org_id) {_STORY_CONTEXT}
        WHERE {_org_filter('f.org_id')} AND {counted('f.story_id')}
          AND ($rating IS NULL OR f.rating = $rating)
          AND ($since IS NULL OR COALESCE(f.published, s.published, ar.published) >= $since)
          AND ($previous OR status IS DISTINCT FROM 'previous')
        ORDER BY published DESC NULLS LAST, f.period DESC NULLS LAST, org
        LIMIT $limit
    """
    params = {**_org_params(org, org_ids, org_type), "rating": rating, "since": since,
              "limit": limit, "previous": include_previous}
    return _with_why(fetch_dicts(con.execute(sql, params)))


def search_stories(
    con: duckdb.DuckDBPyConnection,
    *,
    org: str | None = None,
    theme: int | None = None,
    text: str | None = None,
    since: date | None = None,
    limit: int = 50,
    org_ids: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Current stories mentioning an organisation, in a theme, or containing ``text``
    (literally, case-insensitive: "%" and "_" are no wildcards)."""
    sql = f"""
        WITH {_ORG_MATCH_CTE}
        SELECT s.story_id, CAST(COALESCE(s.published, a.published) AS DATE) AS published,
               COALESCE(s.headline, a.title) AS headline, a.source, a.url,
               (SELECT string_agg(DISTINCT CAST(tm.theme_id AS VARCHAR), ',')
                FROM theme_members tm JOIN themes t USING (theme_id)
                WHERE tm.story_id = s.story_id AND t.level = 'theme') AS themes,
               left(s.body, 160) AS excerpt
        FROM stories s JOIN articles a USING (article_id)
        WHERE s.version = a.current_version AND a.duplicate_of IS NULL
          AND (($org IS NULL AND $org_ids IS NULL) OR s.story_id IN (
                SELECT story_id FROM org_mentions WHERE {_org_filter('org_id')}))
          AND ($theme IS NULL OR s.story_id IN (
                SELECT story_id FROM theme_members WHERE theme_id = $theme))
          AND ($text IS NULL OR contains(lower(s.body), lower($text))
               OR contains(lower(s.headline), lower($text)))
          AND ($since IS NULL OR COALESCE(s.published, a.published) >= $since)
        ORDER BY published DESC NULLS LAST, s.story_id
        LIMIT $limit
    """
    params = {**_org_params(org, org_ids), "theme": theme, "text": text, "since": since,
              "limit": limit}
    return fetch_dicts(con.execute(sql, params))


def normalise_period(value: str) -> str:
    """'2018/19', '2018–19', '2018-2019' -> '2018-19'; other strings unchanged."""
    s = re.sub(r"[/\u2013\u2014-]", "-", value.strip())
    m = re.fullmatch(r"(\d{4})-(\d{2}|\d{4})", s)
    if m and len(m.group(2)) == 4:
        return f"{m.group(1)}-{m.group(2)[2:]}"
    return s


_COUNTS = {
    "articles": "SELECT count(*) FROM articles WHERE duplicate_of IS NULL",
    "stories": "SELECT count(*) FROM stories s JOIN articles a USING (article_id) "
               "WHERE s.version = a.current_version AND a.duplicate_of IS NULL",
    "organisations": f"SELECT count(DISTINCT org_id) FROM org_mentions WHERE {counted('story_id')}",
    "amounts": f"SELECT count(*) FROM amounts WHERE {counted('story_id')}",
    "ratings": f"SELECT count(*) FROM ratings WHERE {counted('story_id')}",
    "themes": "SELECT count(*) FROM themes WHERE level = 'theme' AND status = 'active'",
}


def stored_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """How many articles, stories, organisations, amounts, ratings and themes are stored
    (duplicates and their facts not counted)."""
    return {name: con.execute(sql).fetchone()[0] for name, sql in _COUNTS.items()}


def summary(con: duckdb.DuckDBPyConnection, *, top: int = 10) -> dict[str, Any]:
    """Counts and highlights of what is stored, for the demo's report."""
    return {
        "counts": stored_counts(con),
        "top_orgs": search_orgs(con, "", limit=top),
        "top_amounts": search_amounts(con, limit=top),
        "ratings": search_ratings(con, limit=top * 2),
    }
