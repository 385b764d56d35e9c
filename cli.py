"""policywatch command line: crawl health-policy news, extract facts, cluster themes, query.

Each command is a thin layer over one library function. The jobs that join two stages
(processing stored stories with the NLP pipeline, embedding and clustering them) live here
too, because only the CLI may use crawler/, nlp/ and store/ together.
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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
import duckdb

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from store import db as store_db  # noqa: E402
from store import export as store_export  # noqa: E402
from store import facts as store_facts  # noqa: E402

ROOT = Path(__file__).resolve().parent
SAMPLE_SITE = ROOT / "fixtures" / "site"


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


class UserError(Exception):
    """A problem with what the user asked for, reported as one line."""


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


_MONEY_RE = re.compile(
    r"^\s*£?\s*(\d+(?:,\d{3})*(?:\.\d+)?)\s*(k|thousand|m|mn|million|bn|b|billion)?\s*$",
    re.IGNORECASE,
)
_MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6,
                "b": 1e9, "bn": 1e9, "billion": 1e9}


def parse_money(text: str) -> float:
    """'50m' -> 50_000_000.0; '1.2bn', '£400k', '40,000' likewise. Raises ValueError."""
    match = _MONEY_RE.match(text)
    if not match:
        raise ValueError(text)
    number = float(match.group(1).replace(",", ""))
    suffix = (match.group(2) or "").lower()
    return number * _MULTIPLIERS.get(suffix, 1.0)


class MoneyType(click.ParamType):
    name = "AMOUNT"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        if isinstance(value, float):
            return value
        try:
            return parse_money(str(value))
        except ValueError:
            self.fail(
                f"{value!r} is not an amount: use a number with an optional k, m or bn "
                "suffix, e.g. 50m, 1.2bn, £400k",
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
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def format_gbp(value: float | None) -> str:
    """£1.2bn, £21.5m, £400k, £950 — how an analyst reads amounts."""
    if value is None:
        return ""
    for threshold, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(value) >= threshold:
            return f"£{value / threshold:,.2f}".rstrip("0").rstrip(".") + suffix
    return f"£{value:,.0f}"


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


def emit(rows: list[dict[str, Any]], fmt: str, *, columns: list[str] | None = None,
         title: str | None = None) -> None:
    """Print ``rows`` as a table, JSON, CSV or newline-delimited JSON."""
    if fmt == "json":
        click.echo(json.dumps([{k: _plain(v) for k, v in r.items()} for r in rows],
                              indent=2, ensure_ascii=False, default=str))
    elif fmt == "nl":
        for r in rows:
            click.echo(json.dumps({k: _plain(v) for k, v in r.items()},
                                  ensure_ascii=False, default=str))
    elif fmt == "csv":
        buffer = io.StringIO()
        fields = list(rows[0]) if rows else (columns or [])
        writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: _plain(v) for k, v in r.items()})
        click.echo(buffer.getvalue(), nl=False)
    else:
        print_table(rows, columns=columns, title=title)


def print_table(rows: list[dict[str, Any]], *, columns: list[str] | None = None,
                title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 120) if not sys.stdout.isatty() else None)
    if not rows:
        console.print(f"[dim]{title + ': ' if title else ''}no rows[/dim]")
        return
    columns = columns or list(rows[0])
    table = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        numeric = column in ("value_gbp", "value_gbp_max", "mentions", "stories", "size",
                             "score", "growth")
        table.add_column(column, justify="right" if numeric else "left",
                         overflow="fold", max_width=60)
    for r in rows:
        table.add_row(*(_cell(c, r.get(c)) for c in columns))
    console.print(table)


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
def open_db(db_path: Path | None, *, read_only: bool = False, create: bool = True
            ) -> Iterator[duckdb.DuckDBPyConnection]:
    con = store_db.connect(db_path, read_only=read_only, create=create)
    try:
        yield con
    finally:
        con.close()


# ----------------------------------------------------------------------------- searches


@cli.command()
@click.argument("query", required=False, default="")
@click.option("--type", "type_", type=click.Choice(
    ["commissioner", "provider", "national_body", "government", "regulator", "media",
     "company", "other"]), help="Only organisations of this type.")
@limit_option(20)
@db_option
@output_options
def orgs(query: str, type_: str | None, limit: int, db_path: Path | None, fmt: str) -> None:
    """Find organisations by name or alias (fuzzy), with mention counts.

    \b
    Example:
        policywatch orgs "leeds ccg"
        policywatch orgs --type regulator --json
    """
    with open_db(db_path, create=False) as con:
        rows = store_facts.search_orgs(con, query, type_=type_, limit=limit)
    emit(rows, fmt, columns=["name", "type", "mentions", "stories", "aliases"],
         title="Organisations")


ROLES = ["deficit", "surplus", "overspend", "underspend", "budget", "spending_limit",
         "control_total", "savings", "funding", "cost", "turnover", "income", "gap",
         "contract_value", "fine", "other"]
RATINGS = ["outstanding", "good", "requires improvement", "inadequate", "special measures",
           "out of special measures"]


@cli.command()
@click.option("--org", help="Owner's name or alias (fuzzy).")
@click.option("--min", "min_gbp", type=MONEY, help="Smallest value, e.g. 50m, £400k.")
@click.option("--max", "max_gbp", type=MONEY, help="Largest value, e.g. 1.2bn.")
@click.option("--role", type=click.Choice(ROLES), help="What the money is.")
@click.option("--period", help="Financial year or year, e.g. 2018-19.")
@click.option("--since", type=DATE, help="Published on or after YYYY-MM-DD.")
@limit_option(50)
@db_option
@output_options
def amounts(org: str | None, min_gbp: float | None, max_gbp: float | None, role: str | None,
            period: str | None, since: datetime | None, limit: int, db_path: Path | None,
            fmt: str) -> None:
    """Search money amounts, largest first.

    \b
    Example:
        policywatch amounts --role deficit --min 50m
        policywatch amounts --org "NHS England" --period 2018-19 --csv
    """
    if min_gbp is not None and max_gbp is not None and min_gbp > max_gbp:
        raise UserError(f"--min ({format_gbp(min_gbp)}) is above --max ({format_gbp(max_gbp)})")
    with open_db(db_path, create=False) as con:
        rows = store_facts.search_amounts(
            con, org=org, min_gbp=min_gbp, max_gbp=max_gbp, role=role, period=period,
            since=_day(since), limit=limit)
    emit(rows, fmt, columns=["value_gbp", "qualifier", "role", "org", "period", "published",
                             "text", "title"], title="Amounts")


@cli.command()
@click.option("--org", help="Organisation name or alias (fuzzy).")
@click.option("--rating", type=click.Choice(RATINGS), help="Only this rating.")
@click.option("--since", type=DATE, help="Published on or after YYYY-MM-DD.")
@limit_option(100)
@db_option
@output_options
def ratings(org: str | None, rating: str | None, since: datetime | None, limit: int,
            db_path: Path | None, fmt: str) -> None:
    """Search CQC / NHS England ratings and special measures, newest first.

    \b
    Example:
        policywatch ratings --rating inadequate
        policywatch ratings --org "Northfield" --json
    """
    with open_db(db_path, create=False) as con:
        rows = store_facts.search_ratings(con, org=org, rating=rating, since=_day(since),
                                          limit=limit)
    emit(rows, fmt, columns=["org", "rating", "period", "rater", "published", "title"],
         title="Ratings")


@cli.command()
@click.option("--org", help="Stories mentioning this organisation (fuzzy).")
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
    with open_db(db_path, create=False) as con:
        rows = store_facts.search_stories(con, org=org, theme=theme, text=text,
                                          since=_day(since), limit=limit)
    emit(rows, fmt, columns=["published", "headline", "themes", "url"], title="Stories")


@cli.command()
@click.argument("table", type=click.Choice(list(store_export.EXPORTS)))
@click.option("--format", "fmt", type=click.Choice(list(store_export.FORMATS)),
              default="csv", show_default=True, help="File format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="File to write.")
@db_option
def export(table: str, fmt: str, output: Path, db_path: Path | None) -> None:
    """Export a fact table to CSV, Parquet or JSON lines (DuckDB COPY).

    \b
    Example:
        policywatch export amounts --format parquet --output amounts.parquet
    """
    if output.parent and not output.parent.exists():
        raise UserError(f"cannot write {output}: folder {output.parent} does not exist")
    with open_db(db_path, create=False) as con:
        count = store_export.export_table(con, table, fmt, output)
    click.echo(f"wrote {count} rows of {table} to {output}", err=True)


# ----------------------------------------------------------------------------- extract


def read_document(path: Path) -> dict[str, Any]:
    """Text and metadata of a local .txt, .html or .html.gz file."""
    name = path.name.lower()
    if not path.is_file():
        raise UserError(f"cannot read {path}: no such file")
    if name.endswith((".html.gz", ".htm.gz")):
        try:
            raw = gzip.decompress(path.read_bytes())
        except (OSError, EOFError) as exc:
            raise UserError(f"cannot read {path}: not a valid gzip file ({exc})") from None
        return _html_document(path, raw)
    if name.endswith((".html", ".htm")):
        return _html_document(path, path.read_bytes())
    if name.endswith(".txt"):
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise UserError(f"cannot read {path}: not UTF-8 text") from None
        return {"id": _stem(path), "source": str(path), "body": text, "html": None,
                "published": None}
    raise UserError(f"cannot read {path}: expected a .txt, .html or .html.gz file")


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".html.gz", ".htm.gz", ".html", ".htm", ".txt"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _html_document(path: Path, raw: bytes) -> dict[str, Any]:
    from crawler.article import extract_article

    article = extract_article(raw, url=None)
    published = article.published
    return {"id": _stem(path), "source": str(path), "title": article.title,
            "published": published.isoformat() if published else None,
            "body": article.body or "", "html": raw, "published_date": _as_date(published)}


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


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


def process_stories(con: duckdb.DuckDBPyConnection, *, reprocess: bool = False,
                    batch_size: int = 64, progress: Callable[[int, int], None] | None = None,
                    ) -> dict[str, int]:
    """Extract facts from stories not yet processed by this extractor version and store
    them; each batch's facts replace the old ones in one transaction."""
    import nlp
    from nlp.extract import extract_many

    version = nlp.pipeline_version()
    todo = store_facts.stories_to_process(con, version, reprocess=reprocess)
    totals = {"stories": 0, "organisations": 0, "org_mentions": 0, "amounts": 0, "ratings": 0}
    if not todo:
        return totals
    n_process = 2 if len(todo) >= 200 else 1
    items = ((s.body, _as_date(s.published)) for s in todo)
    batch: list[tuple[str, dict[str, Any]]] = []
    published = {s.story_id: s.published for s in todo}
    done = 0
    for story, facts in zip(todo, extract_many(items, n_process=n_process), strict=True):
        batch.append((story.story_id, facts))
        if len(batch) >= batch_size:
            done += _save_batch(con, batch, version, published, totals)
            batch = []
            if progress:
                progress(done, len(todo))
    if batch:
        done += _save_batch(con, batch, version, published, totals)
    if progress:
        progress(done, len(todo))
    totals["stories"] = done
    return totals


def _save_batch(con: duckdb.DuckDBPyConnection, batch: list[tuple[str, dict[str, Any]]],
                version: str, published: dict[str, datetime | None],
                totals: dict[str, int]) -> int:
    written = store_facts.save_facts(con, batch, version, published=published)
    for key, value in written.items():
        totals[key] += value
    return len(batch)


@cli.command()
@click.option("--reprocess", is_flag=True, help="Re-extract every story, not only new ones.")
@db_option
def process(reprocess: bool, db_path: Path | None) -> None:
    """Extract organisations, amounts and ratings from stories not yet processed.

    \b
    Example:
        policywatch process
    """
    with open_db(db_path, create=False) as con, _progress() as bar:
        task = bar.add_task("Extracting facts", total=None)
        totals = process_stories(
            con, reprocess=reprocess,
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

SAMPLE_SOURCES = ROOT / "fixtures" / "sample_sources.toml"
# The crawl runs in a child process; it imports the story embedder by this dotted path.
STORY_EMBEDDER = "nlp.embed.embed_texts"


def load_sources(path: Path | None, names: tuple[str, ...] = ()) -> list[Any]:
    """Sources from ``path`` (default: the shipped ``crawler/sources.toml``), optionally only
    those named."""
    from crawler.sources import SourcesError
    from crawler.sources import load_sources as _load

    try:
        sources = _load(path)
    except SourcesError as exc:
        raise UserError(str(exc)) from None
    if names:
        known = {s.name for s in sources}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise UserError(
                f"unknown source {unknown[0]!r}; configured: {', '.join(sorted(known))}")
        sources = [s for s in sources if s.name in names]
    return sources


def sample_site_sources(base_url: str) -> list[Any]:
    """The bundled sample site as a source list, for a site served at ``base_url``."""
    import tomllib

    from crawler.sources import parse_sources

    text = SAMPLE_SOURCES.read_text(encoding="utf-8").replace("{{BASE_URL}}", base_url)
    return parse_sources(tomllib.loads(text), origin=str(SAMPLE_SOURCES))


def run_crawl(db_path: Path, sources: list[Any], *, quiet: bool = False,
              settings: dict[str, Any] | None = None) -> Any:
    """Crawl ``sources`` into ``db_path`` with a live count of pages and stories."""
    from rich.console import Console

    from crawler.run import CrawlError, crawl
    from crawler.schedule import LockedError

    console = Console(stderr=True, quiet=quiet)
    counts = {"articles": 0, "errors": 0}
    crawl_settings = {"POLICYWATCH_EMBED": STORY_EMBEDDER, "LOG_LEVEL": "WARNING",
                      **(settings or {})}
    with console.status("Crawling…") as status:
        def progress(event: dict[str, Any]) -> None:
            if event.get("event") == "article":
                counts["articles"] += 1
            elif event.get("event") == "error":
                counts["errors"] += 1
            elif event.get("event") == "stopping":
                counts["stopping"] = 1
                click.echo("Stopping: finishing the requests in flight and storing what was "
                           "fetched", err=True)
            doing = "Stopping, storing what was fetched" if counts.get("stopping") else "Crawling"
            status.update(f"{doing} {', '.join(s.name for s in sources)}: "
                          f"{counts['articles']} articles, {counts['errors']} errors")

        try:
            return crawl(db_path, sources, settings=crawl_settings, progress=progress)
        except (CrawlError, LockedError) as exc:
            raise UserError(str(exc)) from None


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
    report = run_crawl(db, sources, settings={"LOG_LEVEL": "INFO"} if verbose else None)
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
        with open_db(db, create=False) as con:
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

    with open_db(db_path, create=False) as con:
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


EMBED_BATCH = 512


def update_themes_job(con: duckdb.DuckDBPyConnection, *, recluster: bool = False,
                      progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Embed stories that have no vector yet, then bring themes up to date with all stories
    (new stories join existing themes; a full re-clustering keeps ids by overlap)."""
    from nlp.embed import Embedder
    from nlp.themes import THEME, ThemeState, update_themes
    from store import themes as store_themes

    embedder = Embedder()
    embedded = 0
    # In batches, each saved as it is done, so an interrupted backlog keeps its progress.
    while todo := store_themes.stories_without_embeddings(con, embedder.model_id,
                                                          limit=EMBED_BATCH):
        if progress:
            progress(f"Embedding stories ({embedded} done)")
        vectors = embedder.embed_stories([(headline, body) for _, headline, body in todo])
        store_themes.save_embeddings(con, [sid for sid, _, _ in todo], vectors,
                                     embedder.model_id)
        embedded += len(todo)
    story_ids, vectors = store_themes.load_embeddings(con, embedder.model_id)
    if not story_ids:
        return {"embedded": embedded, "stories": 0, "themes": 0}
    if progress:
        progress(f"Clustering {len(story_ids)} stories")
    rows = store_themes.load_theme_state(con)
    previous = ThemeState.from_dict(rows) if rows else None
    state = update_themes(vectors, story_ids, store_themes.story_texts(con, story_ids),
                          previous, full_recluster=recluster)
    store_themes.save_theme_state(con, state.to_dict())
    return {"embedded": embedded, "stories": len(story_ids),
            "themes": len(state.active(THEME))}


@cli.command()
@click.option("--since", type=DATE, help="Count only stories published on or after this date.")
@click.option("--trending", is_flag=True, help="Sort by growth over the last period.")
@click.option("--period-days", type=click.IntRange(min=1), default=7, show_default=True,
              help="Length of the period growth is measured over.")
@click.option("--recluster", is_flag=True,
              help="Re-cluster all stories (theme ids and labels carry over by overlap).")
@click.option("--no-update", is_flag=True, help="List themes without embedding new stories.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw theme sizes over time to this PNG file.")
@limit_option(30)
@db_option
@output_options
def themes(since: datetime | None, trending: bool, period_days: int, recluster: bool,
           no_update: bool, plot_path: Path | None, limit: int, db_path: Path | None,
           fmt: str) -> None:
    """Bring themes up to date and list them with size, label and growth.

    \b
    Example:
        policywatch themes --trending
        policywatch themes --since 2024-01-01 --plot themes.png
    """
    from store import themes as store_themes

    if plot_path is not None and plot_path.suffix.lower() != ".png":
        raise UserError(f"--plot needs a .png file name, got {plot_path.name!r}")
    with open_db(db_path, create=False) as con:
        if not no_update:
            from rich.console import Console

            with Console(stderr=True).status("Updating themes…") as status:
                update_themes_job(con, recluster=recluster,
                                  progress=lambda msg: status.update(msg))
        rows = store_themes.list_themes(con, since=_day(since), trending=trending,
                                        period_days=period_days, limit=limit)
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
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def theme(theme_id: int, db_path: Path | None, as_json: bool) -> None:
    """Show one theme: label, example stories, organisations, largest amounts, ratings.

    \b
    Example:
        policywatch theme 3
    """
    from store import themes as store_themes

    with open_db(db_path, create=False) as con:
        detail = store_themes.theme_detail(con, theme_id)
    if detail is None:
        raise UserError(f"no theme {theme_id}; `policywatch themes` lists them")
    if as_json:
        click.echo(json.dumps(detail, indent=2, ensure_ascii=False, default=_json_default))
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


def pipeline_job(db_path: Path, sources: list[Any]) -> Any:
    """One scheduled cycle: crawl the due sources, then process and update themes; returns
    the crawl report."""
    report = run_crawl(db_path, sources, quiet=True)
    with open_db(db_path) as con:
        processed = process_stories(con)
        themed = update_themes_job(con)
    click.echo(
        f"{datetime.now():%Y-%m-%d %H:%M} crawled {', '.join(s.name for s in sources)}: "
        f"{report.total('new_stories')} new stories, {report.total('new_versions')} new "
        f"versions; {processed['amounts']} amounts, {processed['ratings']} ratings; "
        f"{themed['themes']} themes"
        + (f"; failed: {', '.join(report.failed)}" if report.failed else ""), err=True)
    return report


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
        jobs = run_schedule(lambda due: reports.append(pipeline_job(db, due)), sources,
                            once=once, lock_path=lock, db_path=db)
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
    with open_db(path) as con:
        con.execute("INSERT OR REPLACE INTO schema_info VALUES ('created_by', ?)",
                    [DEMO_MARKER])


@cli.command()
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("demo.duckdb"), show_default=True,
              help="Demo database (rebuilt on every run).")
def demo(db_path: Path) -> None:
    """Crawl the bundled sample site, extract facts, cluster themes and show a summary.

    Serves fixtures/site on 127.0.0.1 (an ephemeral port); nothing leaves the machine.

    \b
    Example:
        policywatch demo --db /tmp/demo.duckdb
    """
    import time

    from rich.console import Console

    from crawler.sample_site import serve_site

    console = Console(stderr=True)
    started = time.monotonic()
    prepare_demo_db(db_path)
    with serve_site(SAMPLE_SITE) as site:
        console.print(f"Serving the sample site at {site.base_url}")
        report = run_crawl(db_path, sample_site_sources(site.base_url))
    console.print(f"Crawled {report.total('pages_fetched')} pages: "
                  f"{report.total('new_articles')} articles, "
                  f"{report.total('new_stories')} stories")
    with open_db(db_path) as con:
        with _progress() as bar:
            task = bar.add_task("Extracting facts", total=None)
            processed = process_stories(
                con, progress=lambda done, total: bar.update(task, completed=done, total=total))
        console.print(f"Extracted {processed['org_mentions']} organisation mentions, "
                      f"{processed['amounts']} amounts, {processed['ratings']} ratings")
        with console.status("Updating themes…") as status:
            themed = update_themes_job(con, progress=lambda msg: status.update(msg))
        console.print(f"Clustered {themed['stories']} stories into {themed['themes']} themes")
        show_summary(con)
    console.print(f"Done in {time.monotonic() - started:.0f}s. Explore it with, for example:\n"
                  f"  policywatch amounts --db {db_path} --role deficit\n"
                  f"  policywatch ratings --db {db_path} --rating inadequate\n"
                  f"  policywatch themes --db {db_path} --no-update")


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


def main() -> None:
    signal.signal(signal.SIGTERM, _raise_terminated)
    cli(prog_name="policywatch")


if __name__ == "__main__":
    main()
