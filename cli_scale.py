"""policywatch's scale-out commands: ``policywatch worker crawl|process`` starts a worker,
``policywatch scale compact|status`` looks after the deployment (README, "Past one machine").

Registered on the main command group by ``cli.py``, which also calls
:func:`process_with_ray` from its ``process`` command when a Ray address is set. Each command
is a thin layer over ``scale/``: the one setting (``scale.settings``), crawl workers and
compaction (``scale.crawl_worker``), processing on Ray (``scale.ray_process``) and the
status report (``scale.status``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NoReturn

import click

from scale.settings import ScaleSettings, ScaleSettingsError, load_scale_settings
from store import db as store_db

__all__ = ["process_with_ray", "scale", "scale_settings", "worker"]

# The exit status of a scale command run without the setting it needs (no Redis URL or Ray
# address set, or nothing answering there): a usage error.
EXIT_NOT_SET_UP = 2


def _not_set_up(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    raise click.exceptions.Exit(EXIT_NOT_SET_UP)


def scale_settings() -> ScaleSettings:
    """The [scale] setting, or one line and exit 2 when it cannot be used."""
    try:
        return load_scale_settings()
    except ScaleSettingsError as exc:
        _not_set_up(str(exc))


def _db_option(func: Any) -> Any:
    return click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path),
                        default=None, help="Database file (default: $POLICYWATCH_DB or the "
                        "user data directory).")(func)


def process_with_ray(db_path: Path | None, settings: ScaleSettings, *,
                     workers: int | None = None, batch_size: int = 32,
                     until_idle: float | None = None, reprocess: bool = False) -> None:
    """Run ``scale.ray_process.process_on_ray`` with a progress line and a summary; one line
    and exit 2 when there is no cluster, exit 1 when some stories failed."""
    from rich.console import Console

    from scale.ray_process import RayUnavailable, process_on_ray

    db = db_path if db_path is not None else store_db.default_db_path()
    console = Console(stderr=True)
    with console.status("Processing on Ray…") as line:
        try:
            run = process_on_ray(
                db, settings, workers=workers, batch_size=batch_size, until_idle=until_idle,
                reprocess=reprocess,
                progress=lambda done, _: line.update(f"Processing on Ray: {done} stories"),
                echo=lambda text: click.echo(f"Error: {text}", err=True))
        except RayUnavailable as exc:
            _not_set_up(str(exc))
    totals = run.totals()
    click.echo(
        f"processed {totals['stories']} stories on {run.workers} Ray workers: "
        f"{totals['org_mentions']} organisation mentions, {totals['amounts']} amounts, "
        f"{totals['ratings']} ratings; {totals['embedded']} embedded"
        + (f"; {totals['failed']} failed" if totals["failed"] else ""), err=True)
    if totals["failed"]:
        raise click.exceptions.Exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def worker() -> None:
    """Workers of a scale-out deployment (README, "Past one machine").

    Start as many as you like, on one or many machines, all with the same [scale] setting.

    \b
    Example:
        policywatch worker crawl --until-idle 60
        policywatch worker process --workers 2 --until-idle 600
    """


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def scale() -> None:
    """Look after a scale-out deployment: compact the workers' output, show the queues.

    \b
    Example:
        policywatch scale status
    """


@worker.command("crawl")
@click.option("--sources", "sources_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Sources file (default: crawler/sources.toml).")
@click.option("--source", "names", multiple=True, help="Only this source (repeatable).")
@click.option("--until-idle", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Stop once the shared queue has had no work for this long "
                   "(default: wait for work until stopped).")
@click.option("--verbose", "-v", is_flag=True, help="Show Scrapy's log (INFO level).")
@_db_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as a JSON array.")
def worker_crawl(sources_path: Path | None, names: tuple[str, ...], until_idle: float | None,
                 verbose: bool, db_path: Path | None, as_json: bool) -> None:
    """Start one crawl worker on the shared frontier in Redis.

    The first worker of a round pushes each source's feeds, sitemaps and listings; every
    worker then takes requests from the shared queue, each article once per round, with
    per-host politeness held over all workers. With store = "parts" the worker writes
    Parquet parts (run `policywatch scale compact` to bring them into the database).
    Needs [scale] redis (or $POLICYWATCH_REDIS_URL); exits 2 without it.

    \b
    Example:
        POLICYWATCH_REDIS_URL=redis://127.0.0.1:6379/0 POLICYWATCH_STORE=parts \\
            policywatch worker crawl --until-idle 30
    """
    import cli
    import pipeline
    from crawler.run import CrawlError
    from scale.crawl_worker import ScaleError, check_redis, run_crawl_worker

    settings = scale_settings()
    try:
        check_redis(settings)
    except ScaleError as exc:
        _not_set_up(str(exc))
    sources = pipeline.load_sources(sources_path, names)
    db = cli._db(db_path)
    crawl_settings = {"POLICYWATCH_EMBED": pipeline.STORY_EMBEDDER,
                      "LOG_LEVEL": "INFO" if verbose else "WARNING"}
    try:
        report = run_crawl_worker(db, sources, settings, until_idle=until_idle,
                                  crawl_settings=crawl_settings)
    except (CrawlError, ScaleError) as exc:
        raise pipeline.UserError(str(exc)) from None
    cli.emit(cli.crawl_rows(report), "json" if as_json else "table", title="Crawl worker")
    code = cli.crawl_exit_code(report)
    if code:
        raise click.exceptions.Exit(code)


@scale.command("compact")
@_db_option
def scale_compact(db_path: Path | None) -> None:
    """Bring the Parquet parts crawl workers wrote into the database, oldest first.

    Each part is written through the same save functions as a single-machine crawl, in one
    transaction that also records it, then deleted; running it twice, or after a crash,
    writes nothing twice.

    \b
    Example:
        policywatch scale compact --db /data/policywatch.duckdb
    """
    import cli
    from scale.crawl_worker import compact_parts

    settings = scale_settings()
    db = cli._db(db_path)
    result = compact_parts(db, settings)
    rows = ", ".join(f"{n} {table}" for table, n in sorted(result.rows.items())) or "no rows"
    click.echo(f"Compacted {result.parts} part(s) from {settings.parts_path(db)} into {db}: "
               f"{rows}" + (f"; {result.skipped} already done" if result.skipped else ""))


@worker.command("process")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Ray actors to start (default: the cluster's CPUs).")
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True,
              help="Stories per batch sent to a worker.")
@click.option("--until-idle", type=click.FloatRange(min=0), default=None,
              help="Keep looking for new stories; stop after this many seconds without any "
              "(default: process what is waiting and stop).")
@_db_option
def process_worker(workers: int | None, batch_size: int, until_idle: float | None,
                   db_path: Path | None) -> None:
    """Extract facts from (and embed) waiting stories on the Ray cluster.

    \b
    Example:
        POLICYWATCH_RAY_ADDRESS=127.0.0.1:6380 policywatch worker process --workers 4
    """
    settings = scale_settings()
    if not settings.ray_address:
        _not_set_up("no Ray address set: set [scale] ray = \"HOST:PORT\" in $POLICYWATCH_CONFIG "
              "or $POLICYWATCH_RAY_ADDRESS")
    process_with_ray(db_path, settings, workers=workers, batch_size=batch_size,
                     until_idle=until_idle)


@scale.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@_db_option
def status(as_json: bool, db_path: Path | None) -> None:
    """Show the setting, the crawl queues in Redis, the parts waiting for compaction, the
    stories waiting for processing and the Ray cluster.

    \b
    Example:
        policywatch scale status --json
    """
    from scale.status import scale_status

    db = db_path if db_path is not None else store_db.default_db_path()
    report = scale_status(scale_settings(), db)
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
        return
    for part, value in report.items():
        click.echo(f"{part}: {_describe(value)}")


def _describe(value: Any) -> str:
    if value is None:
        return "not configured"
    if isinstance(value, dict):
        if "error" in value:
            return f"unreachable: {value['error']}"
        return ", ".join(f"{k} {'-' if v is None else _describe(v)}"
                         for k, v in value.items()) or "none"
    return str(value)
