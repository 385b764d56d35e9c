"""Tests for nlp/msgpack_codecs.py: the codec lookup switched off only when it finds nothing."""

from __future__ import annotations

import numpy
import pytest
import srsly
import srsly.msgpack
from spacy.tokens import Doc

from nlp.extract import extract, load_pipeline
from nlp.msgpack_codecs import skip_empty_codec_entry_points

REGISTRIES = (srsly.msgpack.msgpack_encoders, srsly.msgpack.msgpack_decoders)


@pytest.fixture
def looking_registries(monkeypatch):
    """Both registries as srsly creates them: looking up entry points on every call."""
    for registry in REGISTRIES:
        monkeypatch.setattr(registry, "entry_points", True)
    return REGISTRIES


def test_lookup_switched_off_when_no_package_offers_codecs(looking_registries, monkeypatch):
    for registry in looking_registries:
        monkeypatch.setattr(registry, "get_entry_points", lambda: {})
    skip_empty_codec_entry_points()
    assert [r.entry_points for r in looking_registries] == [False, False]
    # srsly's own numpy codec is still in the chain
    array = numpy.arange(6, dtype="float32").reshape(2, 3)
    assert numpy.array_equal(srsly.msgpack_loads(srsly.msgpack_dumps(array)), array)


def test_lookup_kept_when_a_package_offers_codecs(looking_registries, monkeypatch):
    encoders, decoders = looking_registries
    monkeypatch.setattr(encoders, "get_entry_points", lambda: {"other": lambda obj, chain: obj})
    monkeypatch.setattr(decoders, "get_entry_points", lambda: {})
    skip_empty_codec_entry_points()
    assert encoders.entry_points is True
    assert decoders.entry_points is False


def test_docs_serialise_to_the_same_bytes_either_way(looking_registries):
    nlp = load_pipeline()
    text = "Oakmere Hospitals NHS Trust reported a £4m deficit and was rated good by the CQC."
    doc = nlp(text)
    looked_up = doc.to_bytes()
    skip_empty_codec_entry_points()
    assert doc.to_bytes() == looked_up
    again = Doc(nlp.vocab).from_bytes(looked_up)
    assert again._.amounts == doc._.amounts
    assert again._.amounts == extract(text)["amounts"]
