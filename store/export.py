"""Exporting the fact tables with DuckDB's own COPY (CSV, Parquet, JSON lines).

Each exportable table is a named query that joins in what an analyst needs to read a row on
its own (the organisation's name, the story's headline and URL), so an export is usable
without the database. Facts of stories of duplicate articles (republications linked through
``articles.duplicate_of``) and of earlier article versions are left out, as every search and
count leaves them out (``store.facts.counted``); the ``articles`` export lists every article,
duplicates with the id of their original in ``duplicate_of``.

An export never overwrites a file by accident: :func:`export_to_file` writes next to the
target and moves the result into place only if the target does not exist (or ``force``).
:func:`format_for` takes the format from the file's extension and refuses a mismatch, and
:func:`export_to_stream` writes CSV or JSON lines to an open binary stream (stdout).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

import duckdb

from store.facts import counted

EXPORTS: dict[str, str] = {
    "organisations": f"""
        SELECT o.org_id, o.body_id, o.name, o.type, o.origin,
               (SELECT list(alias ORDER BY alias) FROM org_aliases a
                WHERE a.org_id = o.org_id) AS aliases,
               (SELECT count(*) FROM org_mentions m
                WHERE m.org_id = o.org_id AND {counted('m.story_id')}) AS mentions,
               (SELECT count(DISTINCT story_id) FROM org_mentions m
                WHERE m.org_id = o.org_id AND {counted('m.story_id')}) AS stories
        FROM organisations o ORDER BY o.org_id""",
    "mentions": f"""
        SELECT m.story_id, m.org_id, m.body_id, o.name AS org, m.org_type, m.link_method,
               m.start_offset, m.end_offset, m.text
        FROM org_mentions m JOIN organisations o USING (org_id)
        WHERE {counted('m.story_id')}
        ORDER BY m.story_id, m.start_offset""",
    "amounts": f"""
        SELECT f.story_id, f.text, f.value_gbp, f.value_gbp_max, f.currency, f.value,
               f.qualifier, f.role, f.per, f.org_id, f.body_id,
               COALESCE(o.name, f.org_name) AS org, f.org_type, f.link_method, f.period,
               f.published, f.start_offset, f.end_offset,
               f.sentence, f.why, a.url, a.title
        FROM amounts f LEFT JOIN organisations o USING (org_id)
        LEFT JOIN stories s USING (story_id) LEFT JOIN articles a USING (article_id)
        WHERE {counted('f.story_id')}
        ORDER BY f.story_id, f.start_offset""",
    "ratings": f"""
        SELECT f.story_id, f.org_id, f.body_id, COALESCE(o.name, f.org_name) AS org,
               f.org_type, f.link_method, f.rating, f.previous_rating, f.direction, f.status,
               f.period, f.rater, f.published,
               f.start_offset, f.end_offset, f.sentence, f.why, a.url, a.title
        FROM ratings f LEFT JOIN organisations o USING (org_id)
        LEFT JOIN stories s USING (story_id) LEFT JOIN articles a USING (article_id)
        WHERE {counted('f.story_id')}
        ORDER BY f.story_id, f.start_offset""",
    "stories": """
        SELECT s.story_id, s.article_id, s.version, s.story_index, s.headline,
               COALESCE(s.published, a.published) AS published, a.source, a.url,
               a.title AS article_title, s.body
        FROM stories s JOIN articles a USING (article_id)
        WHERE s.version = a.current_version AND a.duplicate_of IS NULL
        ORDER BY s.story_id""",
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


# the format each known file extension stands for
EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
# formats that make sense on a terminal or in a pipe
STREAM_FORMATS = ("csv", "jsonl")


class ExportError(ValueError):
    """An export request that cannot be carried out (unknown table or format, a file that
    exists, a format that does not match the file name)."""


def format_for(output: str | Path, fmt: str | None) -> str:
    """The export format for ``output`` ("-" is standard output): ``fmt`` if given (it must
    agree with a known extension), else the one the extension names (CSV for stdout)."""
    if fmt is not None and fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose from: {', '.join(FORMATS)}")
    if str(output) == "-":
        chosen = fmt or "csv"
        if chosen not in STREAM_FORMATS:
            raise ExportError(f"cannot write {chosen} to standard output; "
                              f"use {' or '.join(STREAM_FORMATS)}, or an --output file")
        return chosen
    suffix = Path(output).suffix.lower()
    implied = EXTENSIONS.get(suffix)
    if fmt is None:
        if implied is None:
            known = ", ".join(EXTENSIONS)
            raise ExportError(f"cannot tell the format of {output} from its extension "
                              f"(known: {known}); give --format")
        return implied
    if implied is not None and implied != fmt:
        raise ExportError(f"--format {fmt} does not match the extension of {output} "
                          f"({implied}); change one of them")
    return fmt


def _sql_string(value: str) -> str:
    # COPY takes its target as a literal, not a bound parameter; quote it safely.
    return "'" + value.replace("'", "''") + "'"


def export_table(
    con: duckdb.DuckDBPyConnection, table: str, fmt: str, output: str | Path
) -> int:
    """Write ``table`` to ``output`` in ``fmt`` with COPY; returns the number of rows.

    This is the raw COPY, which replaces ``output``; callers that must not overwrite use
    :func:`export_to_file`."""
    if table not in EXPORTS:
        raise ExportError(f"unknown table {table!r}; choose from: {', '.join(EXPORTS)}")
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose from: {', '.join(FORMATS)}")
    query = EXPORTS[table]
    con.execute(f"COPY ({query}) TO {_sql_string(str(output))} {FORMATS[fmt]}")
    return con.execute(f"SELECT count(*) FROM ({query})").fetchone()[0]


def export_to_file(
    con: duckdb.DuckDBPyConnection, table: str, fmt: str, output: str | Path, *,
    force: bool = False,
) -> int:
    """Export ``table`` to the file ``output``, refusing an existing file unless ``force``.

    The rows go to a temporary file in the same folder first; it takes the name ``output``
    with a hard link (which fails if the name exists, so a file that appears meanwhile is
    not overwritten either) or, with ``force``, an atomic rename.
    """
    target = Path(output)
    if not force and (target.exists() or target.is_symlink()):
        raise ExportError(f"{target} exists; use --force to overwrite it")
    folder = target.parent
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        count = export_table(con, table, fmt, tmp)
        if force:
            os.replace(tmp, target)
        else:
            _move_unless_exists(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return count


def _move_unless_exists(tmp: Path, target: Path) -> None:
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise ExportError(f"{target} exists; use --force to overwrite it") from None
    except OSError:
        # a file system without hard links: check, then rename
        if target.exists():
            raise ExportError(f"{target} exists; use --force to overwrite it") from None
        os.replace(tmp, target)


def export_to_stream(
    con: duckdb.DuckDBPyConnection, table: str, fmt: str, stream: BinaryIO
) -> int:
    """Export ``table`` as CSV or JSON lines to an open binary ``stream`` (e.g. stdout)."""
    if fmt not in STREAM_FORMATS:
        raise ExportError(f"cannot write {fmt} to a stream; use {' or '.join(STREAM_FORMATS)}")
    with tempfile.TemporaryDirectory(prefix="policywatch-export-") as folder:
        tmp = Path(folder) / f"{table}.{fmt}"
        count = export_table(con, table, fmt, tmp)
        with tmp.open("rb") as rows:
            shutil.copyfileobj(rows, stream)
    stream.flush()
    return count
