"""Read-only SQL for analysts: one query, the list of tables and their columns.

:func:`run_query` runs exactly one SELECT (or WITH, FROM, SHOW, DESCRIBE, SUMMARIZE,
EXPLAIN) statement. Anything else (INSERT, CREATE, COPY, ATTACH, SET, PRAGMA ...) is
refused before it runs, with one line saying why; the connection is expected to be opened
read-only as a second guard, and file and network access is switched off for it, so a
query reads the database and nothing else.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import duckdb

from store.db import fetch_dicts

# Statement kinds that only read.
READ_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


class QueryError(ValueError):
    """A query that is refused or fails; the message is one line."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[dict[str, Any]]


def _statement_kind(statement: Any) -> str:
    return str(statement.type).rsplit(".", 1)[-1]


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Raise :class:`QueryError` unless ``sql`` is exactly one reading statement."""
    if not sql.strip():
        raise QueryError("empty query: give one SELECT statement")
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(f"SQL error: {_first_line(exc)}") from None
    if len(statements) != 1:
        raise QueryError(f"give one statement, not {len(statements)}")
    if statements[0].type not in READ_STATEMENTS:
        raise QueryError(
            f"refused: {_statement_kind(statements[0])} statements change things; "
            "`policywatch query` runs read-only SELECT queries")


def _first_line(exc: Exception) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def unique_columns(names: list[str]) -> list[str]:
    """Column names made unique for dict rows: a second ``id`` becomes ``id_2``."""
    seen: dict[str, int] = {}
    result = []
    for name in names:
        if name in seen:
            seen[name] += 1
            candidate = f"{name}_{seen[name]}"
            while candidate in seen:
                seen[name] += 1
                candidate = f"{name}_{seen[name]}"
            name = candidate
        seen.setdefault(name, 1)
        result.append(name)
    return result


def run_query(con: duckdb.DuckDBPyConnection, sql: str,
              params: dict[str, Any] | None = None) -> QueryResult:
    """Run one read-only statement and return its columns and rows (as dicts)."""
    check_read_only(con, sql)
    try:
        # No reading of files or URLs from a query: it sees the database only.
        con.execute("SET enable_external_access = false")
        cursor = con.execute(sql, params or {})
    except duckdb.Error as exc:
        raise QueryError(f"SQL error: {_first_line(exc)}") from None
    if cursor.description is None:
        return QueryResult([], [])
    columns = unique_columns([d[0] for d in cursor.description])
    rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return QueryResult(columns, rows)


def list_tables(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Base tables and views of the main schema with their row and column counts."""
    found = fetch_dicts(con.execute(
        "SELECT table_name AS name, lower(table_type) AS kind FROM information_schema.tables "
        "WHERE table_schema = 'main' ORDER BY table_name"))
    for table in found:
        table["kind"] = "view" if table["kind"] == "view" else "table"
        table["rows"] = con.execute(f"SELECT count(*) FROM {_ident(table['name'])}").fetchone()[0]
        table["columns"] = con.execute(
            "SELECT count(*) FROM information_schema.columns "
            "WHERE table_schema = 'main' AND table_name = ?", [table["name"]]).fetchone()[0]
    return found


def table_columns(con: duckdb.DuckDBPyConnection,
                  table: str | None = None) -> list[dict[str, Any]]:
    """The columns of ``table`` (every table when None): name, type, nullable, default.

    Raises :class:`QueryError` naming the closest table for an unknown name."""
    if table is not None:
        require_table(con, table)
    return fetch_dicts(con.execute(
        "SELECT table_name AS \"table\", column_name AS \"column\", data_type AS type, "
        "is_nullable = 'YES' AS nullable, column_default AS \"default\" "
        "FROM information_schema.columns WHERE table_schema = 'main' "
        "AND ($table IS NULL OR table_name = $table) "
        "ORDER BY table_name, ordinal_position", {"table": table}))


def table_sql(con: duckdb.DuckDBPyConnection, table: str | None = None) -> list[str]:
    """The CREATE statements of ``table`` (every table and view when None)."""
    if table is not None:
        require_table(con, table)
    rows = con.execute(
        "SELECT sql FROM (SELECT table_name AS name, sql FROM duckdb_tables() "
        "WHERE schema_name = 'main' AND NOT internal UNION ALL "
        "SELECT view_name, sql FROM duckdb_views() WHERE schema_name = 'main' "
        "AND NOT internal) WHERE $table IS NULL OR name = $table ORDER BY name",
        {"table": table}).fetchall()
    return [r[0] for r in rows]


def require_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Raise :class:`QueryError` unless ``table`` is a table or view of the database."""
    names = table_names(con)
    if table in names:
        return
    close = difflib.get_close_matches(table, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else "; `policywatch tables` lists them"
    raise QueryError(f"no table {table!r}{hint}")


def table_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of the tables and views of the main schema, sorted."""
    return [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'main' ORDER BY table_name").fetchall()]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
