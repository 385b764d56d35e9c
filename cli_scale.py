"""policywatch's scale-out commands: ``worker ...`` starts a worker, ``scale status`` shows the
queues (README, "Past one machine").

Thin, like ``cli.py``: the work is in ``scale/``. ``cli.py`` registers the two groups and
calls :func:`process_with_ray` from its ``process`` command when a Ray address is set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from scale.settings import ScaleSettings, ScaleSettingsError, load_scale_settings
from store import db as store_db

EXIT_NO_SERVICE = 2  # no address set, or nothing listening there


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    raise click.exceptions.Exit(EXIT_NO_SERVICE)


def scale_settings() -> ScaleSettings:
    try:
        return load_scale_settings()
    except ScaleSettingsError as exc:
        _fail(str(exc))
        raise  # unreachable: _fail exits


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
            _fail(str(exc))
            return
    totals = run.totals()
    click.echo(
        f"processed {totals['stories']} stories on {run.workers} Ray workers: "
        f"{totals['org_mentions']} organisation mentions, {totals['amounts']} amounts, "
        f"{totals['ratings']} ratings; {totals['embedded']} embedded"
        + (f"; {totals['failed']} failed" if totals["failed"] else ""), err=True)
    if totals["failed"]:
        raise click.exceptions.Exit(1)


@click.group()
def worker() -> None:
    """Start a scale-out worker (needs the [scale] setting: README, "Past one machine").

    \b
    Example:
        policywatch worker process --workers 2 --until-idle 600
    """


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
        _fail("no Ray address set: set [scale] ray = \"HOST:PORT\" in $POLICYWATCH_CONFIG "
              "or $POLICYWATCH_RAY_ADDRESS")
    process_with_ray(db_path, settings, workers=workers, batch_size=batch_size,
                     until_idle=until_idle)


@click.group()
def scale() -> None:
    """See the scale-out services: queues, parts, backlog, Ray cluster.

    \b
    Example:
        policywatch scale status
    """


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
