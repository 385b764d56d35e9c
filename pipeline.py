"""policywatch's jobs: crawl, process stories, update themes, and one scheduled cycle of all three.

These are the functions that join two stages (crawler/, nlp/, store/); the CLI, the scheduler
and any other front end (a web page) call them, so every front end runs the same jobs. Each
takes the database *path*, never a connection: a job opens the file only for short sessions
(``store.db.session``: one batch read or written, then closed) and does its slow work -- the
crawl, spaCy, embedding, clustering -- with the file closed, so read commands can query the
database while a job runs (the guarantee is described in the README, "Using the database while
the pipeline runs").

Imports run one way: this module uses ``crawler/``, ``nlp/`` and ``store/``; of the project only
``cli.py`` imports it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from store import db as store_db
from store import facts as store_facts

ROOT = Path(__file__).resolve().parent
SAMPLE_SOURCES = ROOT / "fixtures" / "sample_sources.toml"
# The crawl runs in a child process; it imports the story embedder by this dotted path.
STORY_EMBEDDER = "nlp.embed.embed_texts"
EMBED_BATCH = 512

DbPath = str | os.PathLike[str] | None


class UserError(Exception):
    """A problem with what the user asked for, reported as one line."""


def as_date(value: Any) -> date | None:
    """The day of a datetime; dates and None unchanged (anything else is None)."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


# ----------------------------------------------------------------------------- sources


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


# ----------------------------------------------------------------------------- crawl


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
                console.print("Stopping: finishing the requests in flight and storing what was "
                              "fetched")
            doing = "Stopping, storing what was fetched" if counts.get("stopping") else "Crawling"
            status.update(f"{doing} {', '.join(s.name for s in sources)}: "
                          f"{counts['articles']} articles, {counts['errors']} errors")

        try:
            return crawl(db_path, sources, settings=crawl_settings, progress=progress)
        except (CrawlError, LockedError) as exc:
            raise UserError(str(exc)) from None


# ----------------------------------------------------------------------------- process


def process_stories(db_path: DbPath, *, reprocess: bool = False, batch_size: int = 64,
                    progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Extract facts from stories not yet processed by this extractor version and store
    them; each batch's facts replace the old ones in one transaction.

    The stories to do are read in one short session; extraction runs with the database
    closed, and each batch is saved in its own session.
    """
    import nlp
    from nlp.extract import extract_many

    version = nlp.pipeline_version()
    with store_db.session(db_path, create=False) as con:
        todo = store_facts.stories_to_process(con, version, reprocess=reprocess)
    totals = {"stories": 0, "organisations": 0, "org_mentions": 0, "amounts": 0, "ratings": 0}
    if not todo:
        return totals
    n_process = 2 if len(todo) >= 200 else 1
    items = ((s.body, as_date(s.published)) for s in todo)
    batch: list[tuple[str, dict[str, Any]]] = []
    published = {s.story_id: s.published for s in todo}
    done = 0
    for story, facts in zip(todo, extract_many(items, n_process=n_process), strict=True):
        batch.append((story.story_id, facts))
        if len(batch) >= batch_size:
            done += _save_batch(db_path, batch, version, published, totals)
            batch = []
            if progress:
                progress(done, len(todo))
    if batch:
        done += _save_batch(db_path, batch, version, published, totals)
    if progress:
        progress(done, len(todo))
    totals["stories"] = done
    return totals


def _save_batch(db_path: DbPath, batch: list[tuple[str, dict[str, Any]]],
                version: str, published: dict[str, datetime | None],
                totals: dict[str, int]) -> int:
    with store_db.session(db_path, create=False) as con:
        written = store_facts.save_facts(con, batch, version, published=published)
    for key, value in written.items():
        totals[key] += value
    return len(batch)


# ----------------------------------------------------------------------------- themes


def embed_stories_job(db_path: DbPath, *, embedder: Any = None,
                      progress: Callable[[str], None] | None = None) -> int:
    """Embed the current stories that have no vector from ``embedder`` yet (default: the
    shared default model) and store the vectors; returns how many were embedded.

    In batches, each saved in its own short session as it is done, so an interrupted
    backlog keeps its progress.
    """
    from nlp.embed import Embedder
    from store import themes as store_themes

    embedder = embedder or Embedder()
    embedded = 0
    while True:
        with store_db.session(db_path, create=False) as con:
            todo = store_themes.stories_without_embeddings(con, embedder.model_id,
                                                           limit=EMBED_BATCH)
        if not todo:
            return embedded
        if progress:
            progress(f"Embedding stories ({embedded} done)")
        vectors = embedder.embed_stories([(headline, body) for _, headline, body in todo])
        with store_db.session(db_path, create=False) as con:
            store_themes.save_embeddings(con, [sid for sid, _, _ in todo], vectors,
                                         embedder.model_id)
        embedded += len(todo)


def update_themes_job(db_path: DbPath, *, recluster: bool = False,
                      progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Embed stories that have no vector yet, then bring themes up to date with all stories
    (new stories join existing themes; a full re-clustering keeps ids by overlap).

    Embedding and clustering run with the database closed; each read and each save is its
    own short session.
    """
    from nlp.embed import Embedder
    from nlp.themes import THEME, ThemeState, update_themes
    from store import themes as store_themes

    embedder = Embedder()
    embedded = embed_stories_job(db_path, embedder=embedder, progress=progress)
    with store_db.session(db_path, create=False) as con:
        story_ids, vectors = store_themes.load_embeddings(con, embedder.model_id)
        if not story_ids:
            return {"embedded": embedded, "stories": 0, "themes": 0}
        rows = store_themes.load_theme_state(con)
        texts = store_themes.story_texts(con, story_ids)
    if progress:
        progress(f"Clustering {len(story_ids)} stories")
    previous = ThemeState.from_dict(rows) if rows else None
    state = update_themes(vectors, story_ids, texts, previous, full_recluster=recluster)
    with store_db.session(db_path, create=False) as con:
        store_themes.save_theme_state(con, state.to_dict())
    return {"embedded": embedded, "stories": len(story_ids),
            "themes": len(state.active(THEME))}


# ----------------------------------------------------------------------------- schedule


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def pipeline_job(db_path: Path, sources: list[Any], *,
                 echo: Callable[[str], None] = _to_stderr) -> dict[str, Any]:
    """One scheduled cycle: crawl the due sources, then process and update themes.

    ``echo`` receives a one-line summary; the crawl report and the counts are returned.
    """
    report = run_crawl(db_path, sources, quiet=True)
    processed = process_stories(db_path)
    themed = update_themes_job(db_path)
    echo(
        f"{datetime.now():%Y-%m-%d %H:%M} crawled {', '.join(s.name for s in sources)}: "
        f"{report.total('new_stories')} new stories, {report.total('new_versions')} new "
        f"versions; {processed['amounts']} amounts, {processed['ratings']} ratings; "
        f"{themed['themes']} themes"
        + (f"; failed: {', '.join(report.failed)}" if report.failed else ""))
    return {"crawl": report, "processed": processed, "themes": themed}
