"""The Ray worker that processes stories: one loads the spaCy pipeline and the embedding model
once, in its constructor, then extracts facts from (and embeds) batch after batch.

It is a plain class; :mod:`scale.ray_process` makes it a Ray actor with ``ray.remote``, so this
module imports no Ray and can be tested as it is. Text in, facts and vectors out: it never
touches the database (the driver is the one writer).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np


@dataclass(frozen=True)
class StoryTask:
    """One story to process: its text and date, and its headline when it needs a vector."""

    story_id: str
    body: str
    published: date | None
    headline: str | None = None
    embed: bool = False


@dataclass
class BatchResult:
    """What a worker sends back for one batch."""

    facts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    embedded_ids: list[str] = field(default_factory=list)
    vectors: np.ndarray | None = None
    embed_model: str | None = None
    failed: list[tuple[str, str]] = field(default_factory=list)  # (story id, one-line error)
    seconds: float = 0.0  # time the worker spent computing the batch


def one_line(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class StoryWorker:
    """Extracts facts from stories and embeds those that need a vector.

    ``threads`` bounds the embedding model's threads (one per CPU the worker was given), so
    several workers on one machine do not fight over its cores.
    """

    def __init__(self, *, embed: bool = True, threads: int = 1) -> None:
        import nlp
        from nlp.extract import load_pipeline

        started = time.perf_counter()
        self.nlp_version = nlp.pipeline_version()
        self.pipeline = load_pipeline()
        self.embedder = None
        if embed:
            from nlp.embed import Embedder

            self.embedder = Embedder(threads=max(1, threads))
        self.load_seconds = time.perf_counter() - started

    def describe(self) -> dict[str, Any]:
        """The extractor version, the embedding model and the load time of this worker."""
        return {"nlp_version": self.nlp_version, "load_seconds": self.load_seconds,
                "embed_model": self.embedder.model_id if self.embedder else None}

    def peak_rss_mb(self) -> float:
        """The peak resident memory of this worker's process, in MiB."""
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def process(self, tasks: list[StoryTask]) -> BatchResult:
        """Facts for every story of ``tasks`` (in order) and vectors for those marked ``embed``.

        A story whose extraction raises is reported in ``failed`` with a one-line reason; the
        others of its batch still get their facts.
        """
        started = time.perf_counter()
        result = BatchResult()
        self._extract(tasks, result)
        to_embed = [t for t in tasks if t.embed]
        if to_embed and self.embedder is not None:
            try:
                result.vectors = self.embedder.embed_stories(
                    [(t.headline, t.body) for t in to_embed])
                result.embedded_ids = [t.story_id for t in to_embed]
                result.embed_model = self.embedder.model_id
            except Exception as exc:  # the facts stand; `themes` embeds these later
                failed = {sid for sid, _ in result.failed}
                result.failed.extend((t.story_id, f"embedding: {one_line(exc)}")
                                     for t in to_embed if t.story_id not in failed)
        result.seconds = time.perf_counter() - started
        return result

    def _extract(self, tasks: list[StoryTask], result: BatchResult) -> None:
        from nlp.extract import extract, extract_many

        try:
            facts = list(extract_many(((t.body, t.published) for t in tasks),
                                      nlp=self.pipeline))
        except Exception:
            facts = None
        if facts is not None:
            result.facts = [(t.story_id, f) for t, f in zip(tasks, facts, strict=True)]
            return
        # One story broke the batch: extract them one by one to find it.
        for task in tasks:
            try:
                result.facts.append((task.story_id, extract(task.body, published=task.published,
                                                            nlp=self.pipeline)))
            except Exception as exc:
                result.failed.append((task.story_id, one_line(exc)))
