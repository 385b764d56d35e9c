"""policywatch NLP: organisations, money and ratings extraction (spaCy) and themes (embeddings).

Text in, facts out: nothing here touches the database or the crawler.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

# Theme code and data do not change extracted facts.
_NOT_EXTRACTION = ("embed", "themes", "theme_", "plot", "__init__")


@cache
def pipeline_version() -> str:
    """A short hash of this package's code and data files.

    Stored with each processed story, so that `policywatch process` re-runs stories whose
    facts came from an older extractor without anyone having to bump a number by hand.
    """
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix == ".pyc" or "__pycache__" in path.parts:
            continue
        if path.name.startswith(_NOT_EXTRACTION):
            continue
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
