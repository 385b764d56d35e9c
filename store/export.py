"""Exporting the fact tables with DuckDB's own COPY (CSV, Parquet, JSON lines).

Each exportable table is a named query that joins in what an analyst needs to read a row on
its own (the organisation's name, the story's headline and URL), so an export is usable
without the database.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

EXPORTS: dict[str, str] = {
    "organisations": """
        SELECT o.org_id, o.name, o.type,
               (SELECT list(alias ORDER BY alias) FROM org_aliases a
                WHERE a.org_id = o.org_id) AS aliases,
               (SELECT count(*) FROM org_mentions m WHERE m.org_id = o.org_id) AS mentions,
               (SELECT count(DISTINCT story_id) FROM org_mentions m
                WHERE m.org_id = o.org_id) AS stories
        FROM organisations o ORDER BY o.org_id""",
    "mentions": """
        SELECT m.story_id, m.org_id, o.name AS org, m.start_offset, m.end_offset, m.text
        FROM org_mentions m JOIN organisations o USING (org_id)
        ORDER BY m.story_id, m.start_offset""",
    "amounts": """
        SELECT f.story_id, f.text, f.value_gbp, f.value_gbp_max, f.currency, f.value,
               f.qualifier, f.role, f.per, f.org_id, COALESCE(o.name, f.org_name) AS org,
               o.type AS org_type, f.period, f.published, f.start_offset, f.end_offset,
               f.sentence, f.why, a.url, a.title
        FROM amounts f LEFT JOIN organisations o USING (org_id)
        LEFT JOIN stories s USING (story_id) LEFT JOIN articles a USING (article_id)
        ORDER BY f.story_id, f.start_offset""",
    "ratings": """
        SELECT f.story_id, f.org_id, COALESCE(o.name, f.org_name) AS org,
               o.type AS org_type, f.rating, f.period, f.rater, f.published,
               f.start_offset, f.end_offset, f.sentence, f.why, a.url, a.title
        FROM ratings f LEFT JOIN organisations o USING (org_id)
        LEFT JOIN stories s USING (story_id) LEFT JOIN articles a USING (article_id)
        ORDER BY f.story_id, f.start_offset""",
    "stories": """
        SELECT s.story_id, s.article_id, s.version, s.story_index, s.headline,
               COALESCE(s.published, a.published) AS published, a.source, a.url,
               a.title AS article_title, s.body
        FROM stories s JOIN articles a USING (article_id)
        WHERE s.version = a.current_version ORDER BY s.story_id""",
    "articles": """
        SELECT article_id, source, url, title, author, published, updated, language,
               first_seen, last_fetched, current_version, duplicate_of
        FROM articles ORDER BY article_id""",
    "themes": """
        SELECT t.theme_id, t.level, t.parent_id, t.label, t.keywords, t.status,
               (SELECT count(*) FROM theme_members m WHERE m.theme_id = t.theme_id) AS size,
               t.created_at, t.updated_at
        FROM themes t ORDER BY t.theme_id""",
    "theme_members": """
        SELECT m.theme_id, t.label, m.story_id, m.score, m.assigned_at
        FROM theme_members m JOIN themes t USING (theme_id)
        ORDER BY m.theme_id, m.score DESC""",
}

FORMATS: dict[str, str] = {
    "csv": "(FORMAT csv, HEADER true)",
    "parquet": "(FORMAT parquet)",
    "jsonl": "(FORMAT json)",
}


class ExportError(ValueError):
    """An export request that cannot be carried out (unknown table or format)."""


def _sql_string(value: str) -> str:
    # COPY takes its target as a literal, not a bound parameter; quote it safely.
    return "'" + value.replace("'", "''") + "'"


def export_table(
    con: duckdb.DuckDBPyConnection, table: str, fmt: str, output: str | Path
) -> int:
    """Write ``table`` to ``output`` in ``fmt`` with COPY; returns the number of rows."""
    if table not in EXPORTS:
        raise ExportError(f"unknown table {table!r}; choose from: {', '.join(EXPORTS)}")
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose from: {', '.join(FORMATS)}")
    query = EXPORTS[table]
    con.execute(f"COPY ({query}) TO {_sql_string(str(output))} {FORMATS[fmt]}")
    return con.execute(f"SELECT count(*) FROM ({query})").fetchone()[0]
