"""Opening the policywatch DuckDB file: where it lives, applying the schema, waiting for a
busy file, clear errors.

Every other module in ``store/`` takes the connection this returns. The schema is the one
file ``schema.sql`` beside this module; it is idempotent, so applying it on every read-write
open is the migration strategy for additive changes.

Sharing the file between processes. DuckDB lets one process open a file read-write, or any
number of processes open it read-only, never both at once; an open that conflicts fails at
once. So every policywatch process holds the file only briefly: writers (the crawl's item
pipeline, ``process``, the themes update) open it for one batch and close it again, readers
(the search and export commands) open it read-only for one query. :func:`connect` turns a
conflict into a short wait: it retries with a growing pause (10 ms doubling up to 250 ms)
until the file is free or a bound has passed, then raises :class:`DatabaseBusy` with a
one-line message naming the holder. The bounds are :data:`DEFAULT_READ_WAIT` seconds for a
read-only open and :data:`DEFAULT_WRITE_WAIT` for a read-write one (a reader must never make
a writer fail), overridden by ``$POLICYWATCH_READ_WAIT`` / ``$POLICYWATCH_WRITE_WAIT`` or by
the ``wait`` argument. :func:`session` is the open-use-close form every caller should use.
"""

from __future__ import annotations

import logging
import os
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import platformdirs

DB_ENV_VAR = "POLICYWATCH_DB"
DB_FILENAME = "policywatch.duckdb"
SCHEMA_VERSION = "4"  # bump with every schema.sql change: read-only opens upgrade older files

READ_WAIT_ENV_VAR = "POLICYWATCH_READ_WAIT"
WRITE_WAIT_ENV_VAR = "POLICYWATCH_WRITE_WAIT"
DEFAULT_READ_WAIT = 5.0
DEFAULT_WRITE_WAIT = 120.0
FIRST_PAUSE = 0.01
LONGEST_PAUSE = 0.25

logger = logging.getLogger(__name__)


class StoreError(Exception):
    """A database problem a user can act on; its message is one line."""


class DatabaseBusy(StoreError):
    """The file stayed locked by another process for longer than the wait allowed."""


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


def lock_wait(*, read_only: bool) -> float:
    """Seconds an open waits for a busy file: ``$POLICYWATCH_READ_WAIT`` or
    ``$POLICYWATCH_WRITE_WAIT`` if set, else :data:`DEFAULT_READ_WAIT` /
    :data:`DEFAULT_WRITE_WAIT`."""
    name = READ_WAIT_ENV_VAR if read_only else WRITE_WAIT_ENV_VAR
    text = os.environ.get(name, "").strip()
    if not text:
        return DEFAULT_READ_WAIT if read_only else DEFAULT_WRITE_WAIT
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise StoreError(f"${name} must be a number of seconds >= 0, got {text!r}")
    return seconds


def _is_lock_conflict(exc: duckdb.Error) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


class _LockConflict(Exception):
    """One open attempt met a conflicting lock (``holder``: ' by process N' or '')."""

    def __init__(self, path: Path, holder: str):
        super().__init__(str(path))
        self.path = path
        self.holder = holder


def connect(
    path: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
    create: bool = True,
    wait: float | None = None,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> duckdb.DuckDBPyConnection:
    """Open (and, unless ``read_only``, initialise) the database at ``path``.

    While another process holds the file in a conflicting mode, retries with a growing pause
    for up to ``wait`` seconds (default :func:`lock_wait`), then raises :class:`DatabaseBusy`.
    ``sleep`` and ``clock`` are the pause and the timer (tests pass their own).
    Raises :class:`StoreError` with a one-line message when the file is missing (with
    ``create=False`` or ``read_only``) or is not a DuckDB database.
    """
    bound = lock_wait(read_only=read_only) if wait is None else wait
    deadline = clock() + bound
    pause = FIRST_PAUSE
    waited = False
    while True:
        try:
            con = _open(path, read_only=read_only, create=create)
        except _LockConflict as conflict:
            remaining = deadline - clock()
            if remaining <= 0:
                raise DatabaseBusy(
                    f"database {conflict.path} is in use{conflict.holder} "
                    "(a crawl or another policywatch command is running); "
                    "try again when it ends"
                ) from None
            if not waited:
                logger.debug("database %s is in use%s; waiting up to %.1fs",
                             conflict.path, conflict.holder, bound)
                waited = True
            sleep(min(remaining, pause * random.uniform(0.5, 1.0)))
            pause = min(pause * 2, LONGEST_PAUSE)
            continue
        if read_only and _needs_upgrade(con):
            con.close()
            _upgrade(path, sleep=sleep, clock=clock)
            return connect(path, read_only=True, create=create, wait=wait, sleep=sleep,
                           clock=clock)
        return con


def _needs_upgrade(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether a policywatch file was written by an older schema (readers cannot add its
    new columns themselves)."""
    try:
        stored = _stored_versions(con)
    except duckdb.Error:
        return False  # not (yet) a policywatch database: nothing to upgrade
    return stored != _current_versions()


def _current_versions() -> dict[str, str]:
    """The schema version and the version (content hash) of the register of NHS bodies:
    a file written under either older one is upgraded, its organisations relinked."""
    from store.register import register

    return {"schema_version": SCHEMA_VERSION, "register_version": register().version}


def _stored_versions(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = con.execute("SELECT key, value FROM schema_info "
                       "WHERE key IN ('schema_version', 'register_version')").fetchall()
    return dict(rows)


def _upgrade(
    path: str | os.PathLike[str] | None,
    *,
    sleep: Callable[[float], object],
    clock: Callable[[], float],
) -> None:
    """Apply the (additive, idempotent) schema once, in a short write session, so that read
    commands of a newer policywatch work on a file an older one wrote."""
    logger.info("upgrading the database schema to version %s", SCHEMA_VERSION)
    try:
        connect(path, read_only=False, create=False, sleep=sleep, clock=clock).close()
    except StoreError as exc:
        raise StoreError(f"{exc} (the database needs a one-off schema upgrade)") from None


@contextmanager
def session(
    path: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
    create: bool = True,
    wait: float | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection for the ``with`` block, closed at its end so the file is free again.

    Hold it for one batch or one query, never across slow work (parsing, NLP, network):
    other processes wait for the file while it is open (see the module docstring).
    """
    con = connect(path, read_only=read_only, create=create, wait=wait)
    try:
        yield con
    finally:
        con.close()


def _open(
    path: str | os.PathLike[str] | None, *, read_only: bool, create: bool
) -> duckdb.DuckDBPyConnection:
    """One attempt at :func:`connect`; a lock conflict raises :class:`_LockConflict`."""
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
        if _is_lock_conflict(exc):
            raise _LockConflict(db_path, _lock_holder(message)) from None
        if "not a valid DuckDB database" in message or "database file" in message.lower():
            raise StoreError(f"{db_path} is not a policywatch (DuckDB) database") from None
        raise StoreError(f"cannot open {db_path}: {message.splitlines()[0]}") from None
    except duckdb.Error as exc:
        raise StoreError(f"cannot open {db_path}: {str(exc).splitlines()[0]}") from None
    if not read_only:
        try:
            _apply_schema(con)
        except duckdb.Error as exc:
            con.close()
            raise StoreError(f"cannot apply the schema to {db_path}: {exc}") from None
    return con


def _apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Apply ``schema.sql`` and, for a file written under an older schema or register,
    relink its organisations (:func:`store.identity.relink`), in one transaction."""
    from store.identity import relink

    current = _current_versions()
    try:
        stored = _stored_versions(con)
    except duckdb.Error:
        stored = {}  # a new file
    con.execute(schema_sql())
    if stored == current:
        return
    con.begin()
    try:
        if stored:
            merged = relink(con)
            logger.info("relinked organisations to the register (%d rows merged)", merged)
        con.executemany("INSERT OR REPLACE INTO schema_info VALUES (?, ?)",
                        list(current.items()))
        con.commit()
    except Exception:
        con.rollback()
        raise


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
