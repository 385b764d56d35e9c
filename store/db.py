"""Opening the policywatch DuckDB file: where it lives, applying the schema, clear errors.

Every other module in ``store/`` takes the connection this returns. The schema is the one
file ``schema.sql`` beside this module; it is idempotent, so applying it on every open is the
migration strategy for additive changes.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import platformdirs

DB_ENV_VAR = "POLICYWATCH_DB"
DB_FILENAME = "policywatch.duckdb"
SCHEMA_VERSION = "1"


class StoreError(Exception):
    """A database problem a user can act on; its message is one line."""


def default_db_path() -> Path:
    """``$POLICYWATCH_DB`` if set, else ``policywatch.duckdb`` in the user's data directory."""
    env = os.environ.get(DB_ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("policywatch", appauthor=False)) / DB_FILENAME


def schema_sql() -> str:
    """The text of ``schema.sql``."""
    return resources.files("store").joinpath("schema.sql").read_text(encoding="utf-8")


def _lock_holder(message: str) -> str:
    match = re.search(r"\(PID (\d+)\)", message)
    return f" by process {match.group(1)}" if match else ""


def connect(
    path: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
    create: bool = True,
) -> duckdb.DuckDBPyConnection:
    """Open (and, unless ``read_only``, initialise) the database at ``path``.

    Raises :class:`StoreError` with a one-line message when the file is missing (with
    ``create=False`` or ``read_only``), is not a DuckDB database, or is locked by another
    process such as a running crawl.
    """
    db_path = Path(path).expanduser() if path is not None else default_db_path()
    if not db_path.exists():
        if read_only or not create:
            raise StoreError(
                f"no database at {db_path}: run `policywatch crawl` (or `policywatch demo`) first"
            )
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {db_path.parent}: {exc.strerror}") from None
    elif db_path.is_dir():
        raise StoreError(f"{db_path} is a directory, not a database file")
    try:
        con = duckdb.connect(str(db_path), read_only=read_only)
    except duckdb.IOException as exc:
        message = str(exc)
        if "lock" in message.lower():
            raise StoreError(
                f"database {db_path} is in use{_lock_holder(message)} "
                "(a crawl or another policywatch command is running); try again when it ends"
            ) from None
        if "not a valid DuckDB database" in message or "database file" in message.lower():
            raise StoreError(f"{db_path} is not a policywatch (DuckDB) database") from None
        raise StoreError(f"cannot open {db_path}: {message.splitlines()[0]}") from None
    except duckdb.Error as exc:
        raise StoreError(f"cannot open {db_path}: {str(exc).splitlines()[0]}") from None
    if not read_only:
        try:
            con.execute(schema_sql())
            con.execute(
                "INSERT OR REPLACE INTO schema_info VALUES ('schema_version', ?)",
                [SCHEMA_VERSION],
            )
        except duckdb.Error as exc:
            con.close()
            raise StoreError(f"cannot apply the schema to {db_path}: {exc}") from None
    return con


def table_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of the base tables in the main schema, sorted."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name"
    ).fetchall()
    return [r[0] for r in rows]


def fetch_dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The rows of an executed query as dicts keyed by column name."""
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def as_datetime(value: date | datetime | None) -> datetime | None:
    """A date as midnight of that day; datetimes and None unchanged (for TIMESTAMP params)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day)


def utcnow() -> datetime:
    """Now in UTC, naive, as stored in TIMESTAMP columns."""
    return datetime.now(UTC).replace(tzinfo=None)
