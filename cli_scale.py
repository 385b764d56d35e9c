"""policywatch's scale-out commands: ``policywatch worker ...`` and ``policywatch scale ...``.

Registered on the main command group by ``cli.py``. Each command is a thin layer over
``scale/``: the one setting (``scale.settings``), crawl workers and compaction
(``scale.crawl_worker``). README, "Past one machine", says how they fit together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import click

__all__ = ["scale", "worker"]

# The exit status of a scale command run without the setting it needs (no Redis URL set,
# Redis not reachable): a usage error.
EXIT_NOT_SET_UP = 2


def _not_set_up(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    raise click.exceptions.Exit(EXIT_NOT_SET_UP)


def _scale_settings() -> Any:
    from scale.settings import ScaleSettingsError, load_scale_settings

    try:
        return load_scale_settings()
    except ScaleSettingsError as exc:
        _not_set_up(str(exc))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def worker() -> None:
    """Workers of a scale-out deployment (README, "Past one machine").

    Start as many as you like, on one or many machines, all with the same [scale] setting.
    """


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def scale() -> None:
    """Look after a scale-out deployment: compact the workers' output, show the queues."""


@worker.command("crawl")
@click.option("--sources", "sources_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Sources file (default: crawler/sources.toml).")
@click.option("--source", "names", multiple=True, help="Only this source (repeatable).")
@click.option("--until-idle", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Stop once the shared queue has had no work for this long "
                   "(default: wait for work until stopped).")
@click.option("--verbose", "-v", is_flag=True, help="Show Scrapy's log (INFO level).")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Database file (default: $POLICYWATCH_DB or the user data directory).")
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

    settings = _scale_settings()
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
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Database file (default: $POLICYWATCH_DB or the user data directory).")
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

    settings = _scale_settings()
    db = cli._db(db_path)
    result = compact_parts(db, settings)
    rows = ", ".join(f"{n} {table}" for table, n in sorted(result.rows.items())) or "no rows"
    click.echo(f"Compacted {result.parts} part(s) from {settings.parts_path(db)} into {db}: "
               f"{rows}" + (f"; {result.skipped} already done" if result.skipped else ""))
