"""The extractor version stored with processed stories follows the extraction files."""

from __future__ import annotations

import nlp


def test_pipeline_version_hashes_the_extraction_files():
    nlp.pipeline_version.cache_clear()
    first = nlp.pipeline_version()
    assert len(first) == 12
    assert first != "e3b0c44298fc"  # the hash of no input at all: files must be read
    nlp.pipeline_version.cache_clear()
    assert nlp.pipeline_version() == first
