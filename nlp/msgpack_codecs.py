"""Cheaper Doc serialisation for ``nlp.pipe(n_process=...)``: srsly's codec lookup done once.

Docs travel between ``nlp.pipe``'s worker processes and the parent as msgpack. A policywatch
Doc takes seven msgpack calls each way (the Doc, its user data's keys and values, the span
groups, and one per span group: orgs, amounts, ratings); the stock model's Doc takes two.
srsly builds its encoder (decoder) chain anew on every call from a catalogue registry that
accepts entry points, and checking for entry points filters every installed package's entry
points each time: about half a millisecond a call in this environment, more than the rest of
serialising a document, so the five extra calls each way cost about as much as a third of
the policywatch components' own work.

catalogue reads the installed entry points once, when it is imported, so the answer cannot
change in a running process. When no package offers msgpack codecs as entry points (the
usual case), the lookup is switched off: the chain is built from the same in-code codecs
(srsly's numpy codec), so every Doc serialises to the same bytes. When some package does
offer codecs, nothing is changed.
"""

from __future__ import annotations

import srsly.msgpack


def skip_empty_codec_entry_points() -> None:
    """Stop srsly looking for msgpack codec entry points when none are installed.

    Safe to call repeatedly; a registry that has entry points keeps looking them up."""
    for registry in (srsly.msgpack.msgpack_encoders, srsly.msgpack.msgpack_decoders):
        if registry.entry_points and not registry.get_entry_points():
            registry.entry_points = False
