"""policywatch command line: crawl health-policy news, extract facts, cluster themes, query.

Each command is a thin layer over one library function. The jobs that join two stages
(crawling, processing stored stories with the NLP pipeline, embedding and clustering them, a
scheduled cycle) live in ``pipeline.py``, shared with the scheduler and any other front end.
Read commands open the database read-only for their query alone; see ``store.db`` for how
readers and writers share the file.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import json
import os
import re
import signal
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import duckdb

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pipeline  # noqa: E402
from pipeline import UserError, load_sources, sample_site_sources  # noqa: E402
from store import db as store_db  # noqa: E402
from store import export as store_export  # noqa: E402
from store import facts as store_facts  # noqa: E402
from store.amount_text import MONEY_HINT, format_gbp, parse_money  # noqa: E402,F401
from store.trend import BUCKETS  # noqa: E402
from store.vocab import ORG_TYPES, RATINGS, ROLES  # noqa: E402

ROOT = Path(__file__).resolve().parent
SAMPLE_SITE = ROOT / "fixtures" / "site"
# A century: longer --period-days reach before year 1 in the themes' growth arithmetic.
MAX_PERIOD_DAYS = 36_500


# ----------------------------------------------------------------------------- errors

# Exit codes (documented in the README, "Exit codes"). 1 and 2 are click's: an error the user
# can fix (one line on stderr) and a usage error.
EXIT_SOME_SOURCES_FAILED = 3
EXIT_ALL_SOURCES_FAILED = 4
EXIT_INTERRUPTED = 128 + signal.SIGINT  # Ctrl-C: 130
EXIT_TERMINATED = 128 + signal.SIGTERM  # kill, systemctl stop: 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises KeyboardInterrupt, so that every command stops
    the same way on both (a crawl stores what it fetched and records the run as interrupted)."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated


class PolicywatchGroup(click.Group):
    """Turns every error a user can cause into one line on stderr and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt as exc:
            terminated = isinstance(exc, Terminated)
            click.echo(f"Stopped by {'SIGTERM' if terminated else 'Ctrl-C'}; what was done "
                       "so far is stored.", err=True)
            raise click.exceptions.Exit(EXIT_TERMINATED if terminated
                                        else EXIT_INTERRUPTED) from None
        except BrokenPipeError:
            # The reader went away (`policywatch ... --nl | head`): stop quietly.
            quiet_stdout()
            raise click.exceptions.Exit(0) from None
        except store_db.StoreError as exc:
            raise click.ClickException(str(exc)) from None
        except store_export.ExportError as exc:
            raise click.ClickException(str(exc)) from None
        except duckdb.Error as exc:
            raise click.ClickException(f"database error: {str(exc).splitlines()[0]}") from None
        except OSError as exc:
            where = f" {exc.filename}" if exc.filename else ""
            raise click.ClickException(f"cannot access{where}: {exc.strerror or exc}") from None
        except UserError as exc:
            raise click.ClickException(str(exc)) from None


def quiet_stdout() -> None:
    """Point standard output at /dev/null, so nothing more is written to a closed pipe (not
    even Python's flush at exit)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


# ----------------------------------------------------------------------------- options


def db_option(func: Callable) -> Callable:
    """``--db PATH``: the database file (default: $POLICYWATCH_DB or the user data dir)."""
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Database file (default: $POLICYWATCH_DB or the user data directory).",
    )(func)


def output_options(func: Callable) -> Callable:
    """``--table`` (default), ``--json``, ``--csv``, ``--nl``: how a read command prints rows."""
    options = [
        click.option("--table", "fmt", flag_value="table", default=True,
                     help="Print a table (default)."),
        click.option("--json", "fmt", flag_value="json", help="Print a JSON array."),
        click.option("--csv", "fmt", flag_value="csv", help="Print CSV with a header row."),
        click.option("--nl", "fmt", flag_value="nl", help="Print newline-delimited JSON."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def limit_option(default: int) -> Callable:
    return click.option("--limit", type=click.IntRange(min=1), default=default,
                        show_default=True, help="Most rows to return.")


class MoneyType(click.ParamType):
    name = "AMOUNT"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        if isinstance(value, float):
            return value
        try:
            return parse_money(str(value))
        except ValueError:
            self.fail(
                f"{value!r} is not an amount: {MONEY_HINT}",
                param, ctx,
            )


MONEY = MoneyType()
DATE = click.DateTime(formats=["%Y-%m-%d"])


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


# ----------------------------------------------------------------------------- output


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if column in ("value_gbp", "value_gbp_max"):
        return format_gbp(value)
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _csv_value(value: Any) -> Any:
    """A CSV cell: lists ';'-joined, dates ISO, whole floats as integers."""
    value = _plain(value)
    if isinstance(value, list):
        return ";".join("" if v is None else str(_plain(v)) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def emit(rows: list[dict[str, Any]], fmt: str, *, columns: list[str] | None = None,
         title: str | None = None, fields: list[str] | None = None,
         total: int | None = None) -> None:
    """Print ``rows`` as a table, JSON, CSV or newline-delimited JSON.

    ``fields`` is the full CSV header (so a CSV with no rows has the same columns as one
    with rows); ``total``, when more rows matched than are shown, is said on stderr."""
    if total is not None and total > len(rows):
        click.echo(f"showing {len(rows)} of {total} rows; use --limit to see more", err=True)
    if fmt == "json":
        click.echo(json.dumps([{k: _plain(v) for k, v in r.items()} for r in rows],
                              indent=2, ensure_ascii=False, default=str))
    elif fmt == "nl":
        for r in rows:
            click.echo(json.dumps({k: _plain(v) for k, v in r.items()},
                                  ensure_ascii=False, default=str))
    elif fmt == "csv":
        buffer = io.StringIO()
        header = fields or (list(rows[0]) if rows else (columns or []))
        writer = csv.DictWriter(buffer, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: _csv_value(v) for k, v in r.items()})
        click.echo(buffer.getvalue(), nl=False)
    else:
        print_table(rows, columns=columns, title=title)


def print_table(rows: list[dict[str, Any]], *, columns: list[str] | None = None,
                title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    terminal = sys.stdout.isatty()
    console = Console(width=None if terminal else PIPE_WIDTH, highlight=False)
    if not rows:
        console.print(f"[dim]{title + ': ' if title else ''}no rows[/dim]")
        return
    columns = columns or list(rows[0])
    cells = [[_cell(c, r.get(c)) for c in columns] for r in rows]
    shown = fit_columns(columns, cells, console.width if terminal else None)
    if len(shown) < len(columns):
        hidden = [c for c in columns if c not in shown]
        click.echo(f"(not shown to fit the terminal: {', '.join(hidden)}; "
                   "use --csv or --json for every column)", err=True)
    table = Table(title=title, title_justify="left", show_lines=False)
    for column in shown:
        numeric = column in NUMERIC_COLUMNS or all(
            _looks_numeric(row[columns.index(column)]) for row in cells)
        # Numbers and dates are never wrapped or cut; text wraps at spaces.
        table.add_column(column, justify="right" if numeric else "left",
                         no_wrap=numeric or column in UNBROKEN_COLUMNS,
                         overflow="fold", max_width=None if terminal else 80)
    for row in cells:
        table.add_row(*(row[columns.index(c)] for c in shown))
    if not terminal:
        console.width = min(PIPE_WIDTH, console.measure(table).maximum)
    console.print(table)


PIPE_WIDTH = 400  # piped tables are as wide as their content, up to this
NUMERIC_COLUMNS = {"value_gbp", "value_gbp_max", "mentions", "stories", "size", "score",
                   "growth", "rows", "columns", "value"}
UNBROKEN_COLUMNS = {"date", "published", "period", "last_story", "last_crawl",
                    "last_started", "story_id"}
_NUMBER_RE = re.compile(r"^-?[£$€]?[\d,.]+(?:bn|m|k)?%?$")


def _looks_numeric(text: str) -> bool:
    return text == "" or bool(_NUMBER_RE.match(text))


def fit_columns(columns: list[str], cells: list[list[str]], width: int | None) -> list[str]:
    """The columns that fit ``width`` characters when each column is at least as wide as
    its longest word (numbers and dates whole); low-value columns (the last ones) are
    dropped first, the first two are always kept. ``width`` None keeps all."""
    if width is None:
        return list(columns)

    def least(index: int) -> int:
        words = [w for row in cells for w in (row[index].split() if columns[index] not in
                                              UNBROKEN_COLUMNS else [row[index]])]
        return max([len(columns[index]) if len(columns[index]) < 12 else 12,
                    *(len(w) for w in words)])

    needed = {c: least(i) for i, c in enumerate(columns)}
    shown = list(columns)
    while len(shown) > 2 and sum(needed[c] for c in shown) + 3 * len(shown) + 1 > width:
        shown.pop()
    return shown


# ----------------------------------------------------------------------------- the CLI


@click.group(cls=PolicywatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="policywatch")
def cli() -> None:
    """policywatch: monitor UK health-policy news and query the facts in it.

    \b
    Crawl sources, extract organisations, money and ratings, cluster stories into
    themes, then search and export what was found. Start with:
        policywatch demo
    """


@contextmanager
def read_db(db_path: Path | None) -> Iterator[duckdb.DuckDBPyConnection]:
    """The database opened read-only for one query (waits briefly while a writer holds it)."""
    with store_db.session(db_path, read_only=True) as con:
        yield con


# ----------------------------------------------------------------------------- searches


@cli.command()
@click.argument("query", required=False, default="")
@click.option("--type", "type_", type=click.Choice(ORG_TYPES, case_sensitive=False),
              help="Only organisations of this type.")
@limit_option(20)
@db_option
@output_options
def orgs(query: str, type_: str | None, limit: int, db_path: Path | None, fmt: str) -> None:
    """Find organisations by name or alias, with mention counts.

    A query that is exactly an id, name, alias, acronym or former name of one body (CQC,
    DHSC, NHSE, "Leeds CCG") gives that body: its id, type, every name it goes by, its
    successor and predecessors from the register of NHS bodies, and how many of its
    mentions each link method linked. Otherwise names are matched fuzzily.

    \b
    Example:
        policywatch orgs "leeds ccg"
        policywatch orgs --type regulator --json
    """
    from store import identity

    with read_db(db_path) as con:
        rows = []
        if query.strip():
            try:  # a name, alias or acronym of one body: that body only
                body = identity.resolve_org(con, query)
                if type_ is None or body.type == type_:
                    rows = [identity.body_row(con, body)]
            except identity.OrgNotFound:
                pass
        one_body = bool(rows)
        if not rows:
            rows = store_facts.search_orgs(con, query, type_=type_, limit=None)
    columns = (["id", "name", "type", "mentions", "stories", "successor", "predecessors",
                "linked", "aliases"] if one_body
               else ["id", "name", "type", "mentions", "stories", "aliases"])
    emit(rows[:limit], fmt, columns=columns, title="Organisations", fields=ORG_FIELDS,
         total=len(rows))


# Every field each search prints in CSV, so a CSV with no rows has the same header.
ORG_FIELDS = ["id", "name", "type", "kind", "mentions", "stories", "aliases", "successor",
              "predecessors", "valid_from", "valid_to", "linked", "score"]
AMOUNT_FIELDS = ["value_gbp", "value_gbp_max", "currency", "value", "qualifier", "role", "per",
                 "org", "org_type", "org_id", "body_id", "link_method", "period", "text",
                 "published", "title", "url", "sentence", "story_id", "start_offset", "why"]
RATING_FIELDS = ["org", "type", "org_type", "org_id", "body_id", "link_method", "rating",
                 "previous_rating", "direction", "status", "period", "rater", "published",
                 "title", "url", "sentence", "story_id", "start_offset", "why"]
STORY_FIELDS = ["story_id", "published", "headline", "source", "url", "themes", "excerpt"]
EVENT_FIELDS = ["date", "kind", "what", "period", "previous_rating", "direction", "status",
                "rater", "value_gbp", "org_id", "org", "org_type", "title", "url", "sentence",
                "story_id", "start_offset", "text", "qualifier"]

@cli.command()
@click.option("--org", help="Owner's exact name, alias or acronym (a near miss gets a "
              "suggestion).")
@click.option("--type", "org_type", type=click.Choice(ORG_TYPES, case_sensitive=False),
              help="Only owners of this type, e.g. provider for trusts.")
@click.option("--min", "min_gbp", type=MONEY, help="Smallest value, e.g. 50m, £400k.")
@click.option("--max", "max_gbp", type=MONEY, help="Largest value, e.g. 1.2bn.")
@click.option("--role", type=click.Choice(ROLES, case_sensitive=False),
              help="What the money is.")
@click.option("--period", help="Financial year or year, e.g. 2018-19.")
@click.option("--since", type=DATE, help="Published on or after YYYY-MM-DD.")
@limit_option(50)
@db_option
@output_options
def amounts(org: str | None, org_type: str | None, min_gbp: float | None,
            max_gbp: float | None, role: str | None, period: str | None,
            since: datetime | None, limit: int, db_path: Path | None, fmt: str) -> None:
    """Search money amounts, largest first.

    \b
    Example:
        policywatch amounts --role deficit --min 50m
        policywatch amounts --org "NHS England" --period 2018-19 --csv
    """
    if min_gbp is not None and max_gbp is not None and min_gbp > max_gbp:
        raise UserError(f"--min ({format_gbp(min_gbp)}) is above --max ({format_gbp(max_gbp)})")
    with read_db(db_path) as con:
        org_ids = resolve_org_or_fail(con, org).org_ids if org else None
        rows = store_facts.search_amounts(
            con, org_ids=org_ids, org_type=org_type, min_gbp=min_gbp, max_gbp=max_gbp,
            role=role, period=period, since=_day(since), limit=None)
    emit(rows[:limit], fmt, columns=["value_gbp", "qualifier", "role", "org", "period",
                                     "published", "text", "title"], title="Amounts",
         fields=AMOUNT_FIELDS, total=len(rows))


@cli.command()
@click.option("--org", help="Organisation's exact name, alias or acronym (a near miss gets "
              "a suggestion).")
@click.option("--type", "org_type", type=click.Choice(ORG_TYPES, case_sensitive=False),
              help="Only organisations of this type, e.g. provider.")
@click.option("--rating", type=click.Choice(RATINGS, case_sensitive=False),
              help="Only this rating.")
@click.option("--with-previous", is_flag=True,
              help="Also list earlier ratings the text mentions (status previous).")
@click.option("--since", type=DATE, help="Published on or after YYYY-MM-DD.")
@limit_option(100)
@db_option
@output_options
def ratings(org: str | None, org_type: str | None, rating: str | None, with_previous: bool,
            since: datetime | None, limit: int, db_path: Path | None, fmt: str) -> None:
    """Search CQC / NHS England ratings and special measures, newest first.

    A body's earlier rating that a story mentions ("moved from inadequate to good": the
    inadequate) is left out unless --with-previous is given; previous_rating and direction
    say what each rating replaced.

    \b
    Example:
        policywatch ratings --rating inadequate
        policywatch ratings --org "Northfield" --json
    """
    with read_db(db_path) as con:
        org_ids = resolve_org_or_fail(con, org).org_ids if org else None
        rows = store_facts.search_ratings(con, org_ids=org_ids, org_type=org_type,
                                          rating=rating, since=_day(since), limit=None,
                                          include_previous=with_previous)
    emit(rows[:limit], fmt, columns=["org", "rating", "previous_rating", "direction", "period",
                                     "rater", "published", "title"],
         title="Ratings", fields=RATING_FIELDS, total=len(rows))


@cli.command()
@click.option("--org", help="Stories mentioning this organisation (exact name, alias or "
              "acronym).")
@click.option("--theme", type=int, help="Stories in this theme id.")
@click.option("--text", help="Stories whose text contains this (case-insensitive).")
@click.option("--since", type=DATE, help="Published on or after YYYY-MM-DD.")
@limit_option(50)
@db_option
@output_options
def stories(org: str | None, theme: int | None, text: str | None, since: datetime | None,
            limit: int, db_path: Path | None, fmt: str) -> None:
    """List stories by organisation, theme or text.

    \b
    Example:
        policywatch stories --org "CQC" --text "special measures"
    """
    with read_db(db_path) as con:
        org_ids = resolve_org_or_fail(con, org).org_ids if org else None
        rows = store_facts.search_stories(con, org_ids=org_ids, theme=theme, text=text,
                                          since=_day(since), limit=None)
    emit(rows[:limit], fmt, columns=["published", "headline", "themes", "url"], title="Stories",
         fields=STORY_FIELDS, total=len(rows))


@cli.command()
@click.argument("table", type=click.Choice(list(store_export.EXPORTS)))
@click.option("--format", "fmt", type=click.Choice(list(store_export.FORMATS)),
              help="File format (default: from the --output extension; csv for -).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, allow_dash=True),
              required=True, help="File to write, or - for standard output (csv, jsonl).")
@click.option("--force", is_flag=True, help="Overwrite --output if it exists.")
@db_option
def export(table: str, fmt: str | None, output: str, force: bool, db_path: Path | None) -> None:
    """Export a fact table to CSV, Parquet or JSON lines (DuckDB COPY).

    Refuses to overwrite an existing file unless --force is given.

    \b
    Example:
        policywatch export amounts --output amounts.parquet
        policywatch export ratings --format jsonl --output - | head
    """
    fmt = store_export.format_for(output, fmt)
    if output == "-":
        sys.stdout.flush()
        with read_db(db_path) as con:
            count = store_export.export_to_stream(con, table, fmt, sys.stdout.buffer)
        click.echo(f"wrote {count} rows of {table} to standard output", err=True)
        return
    path = Path(output)
    if path.parent and not path.parent.exists():
        raise UserError(f"cannot write {path}: folder {path.parent} does not exist")
    if path.exists() and not force:
        raise UserError(f"{path} exists; use --force to overwrite it")
    database = db_path if db_path is not None else store_db.default_db_path()
    if path.exists() and database.exists() and path.samefile(database):
        raise UserError(f"{path} is the database itself; choose another --output")
    with read_db(db_path) as con:
        count = store_export.export_to_file(con, table, fmt, path, force=force)
    click.echo(f"wrote {count} rows of {table} to {path}", err=True)


# ----------------------------------------------------------------------------- extract


def read_document(path: Path) -> dict[str, Any]:
    """Text and metadata of a local .txt, .html or .html.gz file.

    HTML, gzipped or not, is read up to the crawler's download cap (``DOWNLOAD_MAXSIZE``,
    10 MB, decompressed size for .gz), so a gzip bomb is refused, not inflated."""
    name = path.name.lower()
    if not path.is_file():
        raise UserError(f"cannot read {path}: no such file")
    if name.endswith((".html.gz", ".htm.gz")):
        return _html_document(path, _read_gzip(path, _max_html_bytes()))
    if name.endswith((".html", ".htm")):
        if path.stat().st_size > _max_html_bytes():
            raise UserError(f"cannot read {path}: larger than {_max_html_bytes():,} bytes")
        return _html_document(path, path.read_bytes())
    if name.endswith(".txt"):
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise UserError(f"cannot read {path}: not UTF-8 text") from None
        return {"id": _stem(path), "source": str(path), "body": text, "html": None,
                "published": None}
    raise UserError(f"cannot read {path}: expected a .txt, .html or .html.gz file")


def _max_html_bytes() -> int:
    from crawler.settings import DEFAULTS

    return int(DEFAULTS["DOWNLOAD_MAXSIZE"])


def _read_gzip(path: Path, limit: int) -> bytes:
    """The decompressed content of ``path``, refused once it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    try:
        with gzip.open(path, "rb") as stream:
            while chunk := stream.read(1024 * 1024):
                size += len(chunk)
                if size > limit:
                    raise UserError(f"cannot read {path}: larger than {limit:,} bytes "
                                    "once decompressed")
                chunks.append(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        raise UserError(f"cannot read {path}: not a valid gzip file ({exc})") from None
    return b"".join(chunks)


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".html.gz", ".htm.gz", ".html", ".htm", ".txt"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _html_document(path: Path, raw: bytes) -> dict[str, Any]:
    from crawler.article import ExtractionError, extract_article

    try:
        article = extract_article(raw, url=None)
    except ExtractionError as exc:
        raise UserError(f"cannot read {path}: {exc}") from None
    published = article.published
    return {"id": _stem(path), "source": str(path), "title": article.title,
            "published": published.isoformat() if published else None,
            "body": article.body or "", "html": raw, "published_date": pipeline.as_date(published)}


@functools.cache
def story_embedder() -> Callable[[list[str]], Any] | None:
    """The sentence-embedding function the story splitter uses for headline-less stories."""
    try:
        from nlp.embed import embed_texts
    except ImportError:
        return None
    return embed_texts


def extract_documents(paths: Iterable[Path], *, use_embeddings: bool = True,
                      n_process: int = 1) -> Iterator[dict[str, Any] | UserError]:
    """Run the story splitter and the fact extractor on local files, one record each."""
    from crawler.stories import split_stories
    from nlp.extract import extract_many

    docs: list[dict[str, Any]] = []
    for path in paths:
        try:
            docs.append(read_document(path))
        except UserError as exc:
            yield exc
    embed = story_embedder() if use_embeddings else None
    items = ((d["body"], d.get("published_date")) for d in docs)
    for doc, facts in zip(docs, extract_many(items, n_process=n_process), strict=True):
        html = doc.pop("html")
        doc.pop("published_date", None)
        # Raw bytes: the splitter decodes them as extract_article did (charset, cp1252).
        splits = split_stories(doc["body"], html=html, embed=embed)
        record = {"id": doc["id"], "source": doc["source"]}
        if html is not None:
            record.update(title=doc.get("title"), published=doc.get("published"),
                          body=doc["body"])
        record.update(facts)
        record["stories"] = [{"start": s.start, "headline": s.headline} for s in splits]
        yield record


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "json"]), default="jsonl",
              show_default=True, help="One JSON object per line, or one pretty JSON array.")
@click.option("--no-embeddings", is_flag=True,
              help="Split stories on layout and lexical cues only (faster start-up).")
def extract(paths: tuple[Path, ...], fmt: str, no_embeddings: bool) -> None:
    """Extract facts and stories from local .txt/.html/.html.gz files (no database).

    Prints one JSON object per file: id, source (and for HTML title, published, body),
    organisations, amounts, ratings and stories, in the format of the evaluation guidelines.

    \b
    Example:
        policywatch extract docs/*.txt > pred.jsonl
    """
    failures = 0
    records = []
    for item in extract_documents(paths, use_embeddings=not no_embeddings,
                                  n_process=2 if len(paths) >= 50 else 1):
        if isinstance(item, UserError):
            failures += 1
            click.echo(f"Error: {item}", err=True)
        elif fmt == "jsonl":
            click.echo(json.dumps(item, ensure_ascii=False, default=str))
        else:
            records.append(item)
    if fmt == "json":
        click.echo(json.dumps(records, ensure_ascii=False, indent=2, default=str))
    if failures:
        raise click.exceptions.Exit(1)


# ----------------------------------------------------------------------------- process


@cli.command()
@click.option("--reprocess", is_flag=True, help="Re-extract every story, not only new ones.")
@db_option
def process(reprocess: bool, db_path: Path | None) -> None:
    """Extract organisations, amounts and ratings from stories not yet processed.

    With a Ray address set ([scale] in $POLICYWATCH_CONFIG or $POLICYWATCH_RAY_ADDRESS) the
    stories are processed (and embedded) on that Ray cluster, as `worker process` does.

    \b
    Example:
        policywatch process
    """
    import cli_scale

    settings = cli_scale.scale_settings()
    if settings.ray_address:
        cli_scale.process_with_ray(db_path, settings, reprocess=reprocess)
        return
    with _progress() as bar:
        task = bar.add_task("Extracting facts", total=None)
        totals = pipeline.process_stories(
            db_path, reprocess=reprocess,
            progress=lambda done, total: bar.update(task, completed=done, total=total))
    click.echo(
        f"processed {totals['stories']} stories: {totals['org_mentions']} organisation "
        f"mentions, {totals['amounts']} amounts, {totals['ratings']} ratings", err=True)


@contextmanager
def _progress():
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        yield bar


# ----------------------------------------------------------------------------- crawl

def crawl_rows(report: Any) -> list[dict[str, Any]]:
    rows = []
    for name, r in report.sources.items():
        rows.append({"source": name, "status": r.get("status"),
                     "pages": r.get("pages_fetched"), "new_articles": r.get("new_articles"),
                     "new_stories": r.get("new_stories"), "new_versions": r.get("new_versions"),
                     "duplicates": r.get("duplicates"), "not_modified": r.get("not_modified"),
                     "errors": ", ".join(f"{k}={v}" for k, v in sorted(r["errors"].items()))
                     if r.get("errors") else ""})
    return rows


def _db(db_path: Path | None) -> Path:
    return db_path if db_path is not None else store_db.default_db_path()


def crawl_exit_code(report: Any) -> int:
    """0 when every source was crawled, else 3 (some sources failed) or 4 (all failed); one
    line on stderr per failed source, with its error counts."""
    failed = report.failed
    for name in failed:
        errors = report.sources[name].get("errors") or {}
        kinds = ", ".join(f"{k}={v}" for k, v in sorted(errors.items())) or "no page fetched"
        click.echo(f"Error: source {name} failed: {kinds}", err=True)
    if not failed:
        return 0
    return EXIT_ALL_SOURCES_FAILED if len(failed) == len(report.sources) \
        else EXIT_SOME_SOURCES_FAILED


@cli.command()
@click.option("--sources", "sources_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Sources file (default: crawler/sources.toml).")
@click.option("--source", "names", multiple=True, help="Only this source (repeatable).")
@click.option("--verbose", "-v", is_flag=True, help="Show Scrapy's log (INFO level).")
@db_option
@output_options
def crawl(sources_path: Path | None, names: tuple[str, ...], verbose: bool,
          db_path: Path | None, fmt: str) -> None:
    """Crawl the configured sources and store new articles and stories.

    A second crawl fetches only what is new or changed. Ctrl-C or SIGTERM stops it cleanly;
    the next crawl picks up where it stopped. Exits 3 when some sources failed, 4 when all
    did (each failed request is one line on stderr; -v shows Scrapy's detail).

    \b
    Example:
        policywatch crawl --source dhsc
    """
    sources = load_sources(sources_path, names)
    db = _db(db_path)
    store_db.connect(db).close()  # fail early, with one line, on a bad or locked file
    report = pipeline.run_crawl(db, sources,
                                settings={"LOG_LEVEL": "INFO"} if verbose else None)
    emit(crawl_rows(report), fmt, title="Crawl")
    code = crawl_exit_code(report)
    if code:
        raise click.exceptions.Exit(code)


@cli.command()
@click.option("--sources", "sources_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Sources file (default: crawler/sources.toml).")
@db_option
@output_options
def sources(sources_path: Path | None, db_path: Path | None, fmt: str) -> None:
    """List the configured sources with their last crawl.

    \b
    Example:
        policywatch sources --json
    """
    from store import runs as store_runs

    configured = load_sources(sources_path)
    last: dict[str, dict[str, Any]] = {}
    db = _db(db_path)
    if db.exists():
        with read_db(db) as con:
            for run in store_runs.recent_runs(con, per_source=1):
                last[run["source"]] = run
    rows = []
    for s in configured:
        run = last.get(s.name, {})
        rows.append({
            "source": s.name, "description": s.description,
            "interval": str(s.interval) if s.interval else "",
            "feeds": len(s.feeds), "sitemaps": len(s.sitemaps), "listings": len(s.listings),
            "last_crawl": run.get("started_at"), "last_status": run.get("status"),
        })
    emit(rows, fmt, title="Sources")


@cli.command()
@db_option
@output_options
def stats(db_path: Path | None, fmt: str) -> None:
    """What is stored per source, the last crawl's time and outcome, and health flags.

    A source is flagged "failing" when its last crawl failed, "no-yield" when its last three
    crawls brought nothing new, "error-jump" when its error rate jumps.

    \b
    Example:
        policywatch stats
    """
    from store import runs as store_runs

    with read_db(db_path) as con:
        rows = store_runs.source_stats(con)
        counts = store_facts.stored_counts(con)
    for r in rows:
        r["last_errors"] = ", ".join(f"{k}={v}" for k, v in sorted(r["last_errors"].items())) \
            if r.get("last_errors") else ""
    emit(rows, fmt, columns=["source", "articles", "stories", "runs", "last_started",
                             "last_status", "last_pages", "last_new_stories", "last_errors",
                             "flag", "flag_reason"], title="Sources")
    if fmt == "table":
        click.echo("Stored: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


# ----------------------------------------------------------------------------- themes


@cli.command()
@click.option("--since", type=DATE, help="Count only stories published on or after this date.")
@click.option("--trending", is_flag=True, help="Sort by growth over the last period.")
@click.option("--period-days", type=click.IntRange(min=1, max=MAX_PERIOD_DAYS), default=7,
              show_default=True, help="Length of the period growth is measured over.")
@click.option("--as-of", "as_of", type=DATE,
              help="Measure growth up to the end of this day (default: now), for back data.")
@click.option("--recluster", is_flag=True,
              help="Re-cluster all stories (theme ids and labels carry over by overlap).")
@click.option("--no-update", is_flag=True, help="List themes without embedding new stories.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw theme sizes over time to this PNG file.")
@limit_option(30)
@db_option
@output_options
def themes(since: datetime | None, trending: bool, period_days: int, as_of: datetime | None,
           recluster: bool,
           no_update: bool, plot_path: Path | None, limit: int, db_path: Path | None,
           fmt: str) -> None:
    """Bring themes up to date and list them with size, label and growth.

    \b
    Example:
        policywatch themes --trending
        policywatch themes --trending --as-of 2024-06-30 --period-days 90 --no-update
        policywatch themes --since 2024-01-01 --plot themes.png
    """
    from store import themes as store_themes

    if plot_path is not None and plot_path.suffix.lower() != ".png":
        raise UserError(f"--plot needs a .png file name, got {plot_path.name!r}")
    if not no_update:
        from rich.console import Console

        with Console(stderr=True).status("Updating themes…") as status:
            pipeline.update_themes_job(db_path, recluster=recluster,
                                       progress=lambda msg: status.update(msg))
    with read_db(db_path) as con:
        rows = store_themes.list_themes(
            con, since=_day(since), trending=trending, period_days=period_days, limit=limit,
            now=as_of + timedelta(days=1) if as_of else None)
        series = store_themes.theme_size_series(con, since=_day(since)) if plot_path else None
    emit(rows, fmt, columns=["theme_id", "size", "growth", "label", "last_story"],
         title="Themes")
    if plot_path is not None:
        from nlp.plot import plot_theme_sizes

        if not series:
            raise UserError("no themed stories with dates to plot")
        plot_theme_sizes(series, plot_path)
        click.echo(f"wrote {plot_path}", err=True)


@cli.command()
@click.argument("theme_id", type=int)
@db_option
@output_options
def theme(theme_id: int, db_path: Path | None, fmt: str) -> None:
    """Show one theme: label, example stories, organisations, largest amounts, ratings.

    --json prints the whole theme as one object; --nl and --csv print one row per item
    with the section it belongs to (examples, organisations, amounts, ratings, events,
    changes).

    \b
    Example:
        policywatch theme 3
        policywatch theme 3 --nl | grep '"section": "amounts"'
    """
    from store import themes as store_themes

    with read_db(db_path) as con:
        detail = store_themes.theme_detail(con, theme_id)
    if detail is None:
        raise UserError(f"no theme {theme_id}; `policywatch themes` lists them")
    if fmt == "json":
        click.echo(json.dumps(detail, indent=2, ensure_ascii=False, default=_json_default))
        return
    if fmt in ("nl", "csv"):
        rows = [{"section": key, **item} for key, items in detail.items()
                if isinstance(items, list) for item in items]
        fields = ["section", *dict.fromkeys(k for r in rows for k in r if k != "section")]
        emit([{k: _json_default(v) if hasattr(v, "tolist") else v for k, v in r.items()}
              for r in rows], fmt, fields=fields)
        return
    head = detail["theme"]
    click.echo(f"Theme {head['theme_id']}: {head['label']}  ({head['size']} stories, "
               f"{head['level']}, {head['status']})")
    if head.get("keywords"):
        click.echo("Key phrases: " + ", ".join(head["keywords"]))
    sections = [
        ("examples", "Example stories", ["story_date", "headline", "score"]),
        ("organisations", "Organisations most involved", ["name", "type", "stories", "mentions"]),
        ("amounts", "Largest amounts", ["value_gbp", "role", "org_name", "period", "text"]),
        ("ratings", "Ratings", ["org_name", "rating", "period", "rater", "published"]),
        ("events", "Events (the same news reported several times)", ["theme_id", "size", "label"]),
        ("changes", "History", ["changed_at", "kind", "other_ids", "detail"]),
    ]
    for key, title, columns in sections:
        print_table(detail.get(key, []), columns=columns, title=title)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


# ----------------------------------------------------------------------------- schedule


@cli.command()
@click.option("--sources", "sources_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Sources file (default: crawler/sources.toml).")
@click.option("--source", "names", multiple=True, help="Only this source (repeatable).")
@click.option("--once", is_flag=True, help="Run the sources due now, then exit (for cron).")
@db_option
def schedule(sources_path: Path | None, names: tuple[str, ...], once: bool,
             db_path: Path | None) -> None:
    """Crawl, process and update themes for each source on its interval, in the foreground.

    A lock file beside the database makes a second scheduler exit at once, so runs never
    overlap. Stop it with Ctrl-C or SIGTERM; the next run resumes. With --once, exits 3 when
    some crawled sources failed and 4 when all did.

    \b
    Example:
        policywatch schedule            # a long-running service
        policywatch schedule --once     # from cron
    """
    import logging

    from crawler.schedule import LockedError, run_schedule

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    sources = load_sources(sources_path, names)
    db = _db(db_path)
    store_db.connect(db).close()
    lock = db.with_name(db.name + ".schedule.lock")
    reports: list[Any] = []
    try:
        jobs = run_schedule(lambda due: reports.append(pipeline.pipeline_job(db, due)["crawl"]),
                            sources, once=once, lock_path=lock, db_path=db)
    except LockedError as exc:
        raise UserError(str(exc)) from None
    if once and not jobs:
        click.echo("no source is due", err=True)
    if once and reports:
        code = crawl_exit_code(reports[-1])
        if code:
            raise click.exceptions.Exit(code)


# ----------------------------------------------------------------------------- demo

DEMO_MARKER = "demo"


def prepare_demo_db(path: Path) -> None:
    """Start the demo from an empty database, refusing to replace anything but an earlier
    demo database."""
    if path.exists():
        try:
            con = duckdb.connect(str(path), read_only=True)
            try:
                row = con.execute(
                    "SELECT value FROM schema_info WHERE key = 'created_by'").fetchone()
            finally:
                con.close()
        except duckdb.Error:
            row = None
        if not row or row[0] != DEMO_MARKER:
            raise UserError(f"{path} exists and is not a demo database; choose another --db")
        path.unlink()
        wal = path.with_name(path.name + ".wal")
        if wal.exists():
            wal.unlink()
    with store_db.session(path) as con:
        con.execute("INSERT OR REPLACE INTO schema_info VALUES ('created_by', ?)",
                    [DEMO_MARKER])


@cli.command()
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("demo.duckdb"), show_default=True,
              help="Demo database (rebuilt on every run).")
@click.option("--serve", "then_serve", is_flag=True,
              help="Then open the web pages over it (policywatch serve) on 127.0.0.1:8000.")
def demo(db_path: Path, then_serve: bool) -> None:
    """Crawl the bundled sample site, extract facts, cluster themes and show a summary.

    Serves fixtures/site on 127.0.0.1 (an ephemeral port); nothing leaves the machine.

    \b
    Example:
        policywatch demo --db /tmp/demo.duckdb
        policywatch demo --serve        # then browse http://127.0.0.1:8000
    """
    import time

    from rich.console import Console

    from crawler.sample_site import serve_site

    console = Console(stderr=True)
    started = time.monotonic()
    prepare_demo_db(db_path)
    with serve_site(SAMPLE_SITE) as site:
        console.print(f"Serving the sample site at {site.base_url}")
        report = pipeline.run_crawl(db_path, sample_site_sources(site.base_url))
    console.print(f"Crawled {report.total('pages_fetched')} pages: "
                  f"{report.total('new_articles')} articles, "
                  f"{report.total('new_stories')} stories")
    with _progress() as bar:
        task = bar.add_task("Extracting facts", total=None)
        processed = pipeline.process_stories(
            db_path, progress=lambda done, total: bar.update(task, completed=done, total=total))
    console.print(f"Extracted {processed['org_mentions']} organisation mentions, "
                  f"{processed['amounts']} amounts, {processed['ratings']} ratings")
    with console.status("Updating themes…") as status:
        themed = pipeline.update_themes_job(db_path, progress=lambda msg: status.update(msg))
    console.print(f"Clustered {themed['stories']} stories into {themed['themes']} themes")
    with read_db(db_path) as con:
        show_summary(con)
    console.print(f"Done in {time.monotonic() - started:.0f}s. Explore it with, for example:\n"
                  f"  policywatch amounts --db {db_path} --role deficit\n"
                  f"  policywatch ratings --db {db_path} --rating inadequate\n"
                  f"  policywatch themes --db {db_path} --no-update")
    if then_serve:
        start_server(db_path, "127.0.0.1", 8000, open_browser=True)


def show_summary(con: duckdb.DuckDBPyConnection) -> None:
    """The demo's report: counts, top organisations, largest amounts, ratings, themes."""
    from store import themes as store_themes

    info = store_facts.summary(con, top=10)
    click.echo("Stored: " + ", ".join(f"{v} {k}" for k, v in info["counts"].items()))
    print_table(info["top_orgs"], columns=["name", "type", "mentions", "stories"],
                title="Organisations most mentioned")
    print_table(info["top_amounts"], columns=["value_gbp", "qualifier", "role", "org",
                                              "period", "text"],
                title="Largest amounts")
    print_table(info["ratings"], columns=["org", "rating", "period", "rater", "published"],
                title="Ratings")
    print_table(store_themes.list_themes(con, limit=12),
                columns=["theme_id", "size", "label"], title="Themes")

# ----------------------------------------------------------------------------- analyst


def _param_pairs(pairs: tuple[str, ...]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UserError(f"--param takes NAME=VALUE, got {pair!r}")
        params[name.strip()] = value
    return params


@cli.command()
@click.argument("sql")
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE",
              help="Bind $NAME in the query to VALUE (repeatable).")
@db_option
@output_options
def query(sql: str, params: tuple[str, ...], db_path: Path | None, fmt: str) -> None:
    """Run one read-only SQL query (DuckDB dialect) on the database.

    Only SELECT-like statements run (SELECT, WITH, FROM, SHOW, DESCRIBE, SUMMARIZE,
    EXPLAIN); the database is opened read-only and files and URLs cannot be read.
    `policywatch tables` and `policywatch schema` list what there is to query; SQL given
    as - is read from standard input.

    \b
    Example:
        policywatch query "select rating, count(*) from ratings group by 1"
        policywatch query "select * from amounts where role = $role" -p role=deficit --csv
    """
    from store import query as store_query

    if sql == "-":
        sql = sys.stdin.read()
    with read_db(db_path) as con:
        try:
            result = store_query.run_query(con, sql, _param_pairs(params))
        except store_query.QueryError as exc:
            raise UserError(str(exc)) from None
    emit(result.rows, fmt, columns=result.columns)


@cli.command()
@db_option
@output_options
def tables(db_path: Path | None, fmt: str) -> None:
    """List the tables with their row and column counts.

    \b
    Example:
        policywatch tables
        policywatch schema ratings
    """
    from store import query as store_query

    with read_db(db_path) as con:
        rows = store_query.list_tables(con)
    emit(rows, fmt, columns=["name", "kind", "rows", "columns"], title="Tables")


@cli.command()
@click.argument("table_name", metavar="[TABLE]", required=False)
@click.option("--sql", "as_sql", is_flag=True, help="Print the CREATE statements instead.")
@db_option
@output_options
def schema(table_name: str | None, as_sql: bool, db_path: Path | None, fmt: str) -> None:
    """Show the columns of one table (or of every table): name, type, nullable, default.

    docs/data-dictionary.md says what each column means and which values it takes.

    \b
    Example:
        policywatch schema ratings
        policywatch schema --sql
    """
    from store import query as store_query

    with read_db(db_path) as con:
        try:
            if as_sql:
                for statement in store_query.table_sql(con, table_name):
                    click.echo(statement.rstrip(";") + ";")
                return
            rows = store_query.table_columns(con, table_name)
        except store_query.QueryError as exc:
            raise UserError(str(exc)) from None
    emit(rows, fmt, columns=["table", "column", "type", "nullable", "default"],
         title=f"Columns of {table_name}" if table_name else "Columns")


FACT_STYLES = {"organisation": "bold cyan", "amount": "bold green", "rating": "bold yellow"}


@cli.command()
@click.argument("story_id")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the story and its facts as JSON.")
def story(story_id: str, db_path: Path | None, as_json: bool) -> None:
    """Show one story: title, date, URL, its text with the facts highlighted, and its facts
    sentence by sentence.

    STORY_ID is a story id as other commands print it, a unique beginning of one, or an
    article id. Colours on a terminal; plain text when piped.

    \b
    Example:
        policywatch story 3f2a9c41d0b7e5a2-v1-s0
        policywatch stories --text "special measures" --json | head
    """
    from store import story as store_story

    with read_db(db_path) as con:
        try:
            detail = store_story.story_detail(con, story_id)
        except store_story.StoryNotFound as exc:
            raise UserError(str(exc)) from None
    if as_json:
        click.echo(json.dumps(detail, indent=2, ensure_ascii=False, default=_json_default))
        return
    print_story(detail)


def print_story(detail: dict[str, Any]) -> None:
    """Print a story_detail(): header, highlighted text, then the facts by sentence."""
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False)
    plain = not console.is_terminal
    head = detail["story"]
    body = head["body"]
    console.print(Text(head["headline"] or head["title"] or "(no headline)", style="bold"),
                  soft_wrap=plain)
    when = head["published"].isoformat() if head["published"] else "undated"
    console.print(Text(f"{when}  {head['url']}", style="dim"), soft_wrap=plain)
    if head["title"] and head["title"] != head["headline"]:
        console.print(Text(f"from: {head['title']}", style="dim"), soft_wrap=plain)
    console.print(Text(f"source {head['source']}, story {head['story_id']}", style="dim"),
                  soft_wrap=plain)
    console.print()
    text = Text(body)
    for fact in detail["facts"]:
        text.stylize(FACT_STYLES[fact["kind"]], fact["start"], fact["end"])
    console.print(text, soft_wrap=plain)
    with_facts = [s for s in detail["sentences"] if s["facts"]]
    console.print()
    if not with_facts:
        console.print("No facts were extracted from this story.")
        return
    console.print(Text("Facts by sentence", style="bold underline"))
    for sentence in with_facts:
        line = text[sentence["start"]:sentence["end"]]
        console.print(Text("> ") + line, soft_wrap=plain)
        for index in sentence["facts"]:
            fact = detail["facts"][index]
            console.print(Text("    - ") + Text(fact["label"], style=FACT_STYLES[fact["kind"]])
                          + Text(f'  "{body[fact["start"]:fact["end"]]}"', style="dim"),
                          soft_wrap=plain)


def resolve_org_or_fail(con: duckdb.DuckDBPyConnection, name: str) -> Any:
    """The one body ``name`` names exactly, or a UserError with a suggestion."""
    from store import identity

    try:
        return identity.resolve_org(con, name)
    except identity.OrgNotFound as exc:
        raise UserError(str(exc)) from None


@cli.command()
@click.argument("org")
@db_option
@output_options
def history(org: str, db_path: Path | None, fmt: str) -> None:
    """One organisation's ratings and money facts in time order, with each rating's
    direction (up, down, same).

    ORG is matched exactly by name, alias or acronym (CQC, DHSC, NHSE); a near miss gets
    a "did you mean". A direction comes from the text ("from inadequate to good") or,
    where the text gave none, from the body's rating before it (direction_from: order).

    \b
    Example:
        policywatch history "Castlebridge NHS Trust"
        policywatch history CQC --json
    """
    from store import history as store_history
    from store import identity

    with read_db(db_path) as con:
        body = resolve_org_or_fail(con, org)
        rows = store_history.org_history(con, list(body.org_ids))
        about = identity.body_row(con, body)
    title = f"History of {body.name}"
    if about["successor"]:
        until = f"until {about['valid_to']}; " if about["valid_to"] else ""
        title += f" ({until}succeeded by {about['successor']})"
        if fmt != "table":
            click.echo(f"{body.name}: {until}succeeded by {about['successor']}", err=True)
    emit(rows, fmt, columns=["date", "period", "kind", "what", "previous_rating", "direction",
                             "status", "value_gbp", "rater", "title"],
         title=title, fields=[*EVENT_FIELDS, "direction_from"])


NOTHING_CHANGED_EXIT = 3


@cli.command()
@click.option("--since", type=DATE, required=True, help="Stories published on or after "
              "YYYY-MM-DD.")
@click.option("--watch", "watch_path", type=click.Path(dir_okay=False, path_type=Path),
              help="File of organisation names, one a line ('#' starts a comment).")
@db_option
@output_options
def changes(since: datetime, watch_path: Path | None, db_path: Path | None, fmt: str) -> None:
    """New rating changes, special-measures moves, other new ratings and deficits since a
    date, newest first, for a watch list of bodies (default: every body).

    Exit status: 0 when something changed, 3 when nothing did (1 on an error), so a
    script can alert only when there is news.

    \b
    Example:
        policywatch changes --since 2024-01-01 --watch trusts.txt --json
        policywatch changes --since 2024-06-01 --csv > changes.csv || echo "no news"
    """
    from store import history as store_history

    names: list[str] | None = None
    if watch_path is not None:
        if not watch_path.is_file():
            raise UserError(f"cannot read {watch_path}: no such file")
        names = store_history.read_watch_list(watch_path.read_text(encoding="utf-8"))
        if not names:
            raise UserError(f"{watch_path} names no organisation")
    with read_db(db_path) as con:
        org_ids = None
        if names is not None:
            org_ids = sorted({i for n in names for i in resolve_org_or_fail(con, n).org_ids})
        rows = store_history.changes_since(con, _day(since), org_ids)
    emit(rows, fmt, columns=["date", "change", "org", "what", "previous_rating", "direction",
                             "value_gbp", "period", "title"],
         title=f"Changes since {_day(since)}", fields=[*EVENT_FIELDS, "change"])
    if not rows:
        raise click.exceptions.Exit(NOTHING_CHANGED_EXIT)


@cli.command()
@click.option("--org", help="Stories mentioning this organisation (exact name, alias or "
              "acronym).")
@click.option("--theme", type=int, help="Stories in this theme id.")
@click.option("--text", help="Stories containing these words (case-insensitive).")
@click.option("--by", type=click.Choice(list(BUCKETS), case_sensitive=False), default="month",
              show_default=True, help="Length of each period.")
@click.option("--since", type=DATE, help="Published on or after YYYY-MM-DD.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw the counts to this PNG file.")
@db_option
@output_options
def trend(org: str | None, theme: int | None, text: str | None, by: str,
          since: datetime | None, plot_path: Path | None, db_path: Path | None,
          fmt: str) -> None:
    """Stories per day, week or month about an organisation, in a theme or with some words.

    Give at least one of --org, --theme and --text (several narrow the stories down).
    Periods with no story between the first and the last count 0; a week starts on Monday.

    \b
    Example:
        policywatch trend --org "NHS England" --by month
        policywatch trend --text "special measures" --by week --since 2024-01-01 --plot sm.png
    """
    from store import trend as store_trend

    if org is None and theme is None and text is None:
        raise UserError("give --org, --theme or --text")
    if plot_path is not None and plot_path.suffix.lower() != ".png":
        raise UserError(f"--plot needs a .png file name, got {plot_path.name!r}")
    with read_db(db_path) as con:
        body = resolve_org_or_fail(con, org) if org is not None else None
        try:
            rows = store_trend.story_counts(
                con, org_ids=list(body.org_ids) if body else None, theme=theme, text=text,
                by=by.lower(), since=_day(since))
        except store_trend.TrendError as exc:
            raise UserError(str(exc)) from None
    what = " and ".join(part for part in (
        body.name if body else None, f"theme {theme}" if theme is not None else None,
        f"“{text}”" if text else None) if part)
    emit(rows, fmt, columns=["period", "stories"], title=f"Stories per {by.lower()}: {what}")
    if plot_path is not None:
        from nlp.plot import plot_counts

        if not rows:
            raise UserError("no dated stories match; nothing to plot")
        plot_counts([(r["period"], r["stories"]) for r in rows], plot_path,
                    title=f"Stories per {by.lower()}: {what}")
        click.echo(f"wrote {plot_path}", err=True)


# ----------------------------------------------------------------------------- serve


def start_server(db_path: Path, host: str, port: int, *, open_browser: bool = False) -> None:
    """Serve the web pages over ``db_path`` until Ctrl-C (optionally opening a browser)."""
    import socket
    import threading
    import webbrowser

    from web.app import serve as serve_web

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    url = f"http://{host}:{port}/"
    click.echo(f"Serving {db_path} read-only at {url} (Ctrl-C stops)", err=True)
    # Only where a graphical browser can open: on a text console webbrowser would start a
    # terminal browser in the middle of the server's output.
    graphical = sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if open_browser and graphical:
        threading.Timer(1.0, webbrowser.open, [url]).start()
    serve_web(db_path, host=host, port=port)


@cli.command()
@db_option
@click.option("--port", type=click.IntRange(min=1, max=65535), default=8000, show_default=True,
              help="TCP port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (127.0.0.1: this machine only).")
def serve(db_path: Path | None, port: int, host: str) -> None:
    """Browse the database in a web browser: search, organisations, stories, themes.

    Read-only: the database is opened per request, never locked for a running crawl.

    \b
    Example:
        policywatch serve --db demo.duckdb --port 8000
    """
    db = _db(db_path)
    store_db.connect(db, read_only=True).close()
    start_server(db, host, port)


# ----------------------------------------------------------------------------- scale-out

from cli_scale import scale as scale_group  # noqa: E402
from cli_scale import worker as worker_group  # noqa: E402

cli.add_command(worker_group)
cli.add_command(scale_group)


def main() -> None:
    signal.signal(signal.SIGTERM, _raise_terminated)
    cli(prog_name="policywatch")


if __name__ == "__main__":
    main()
