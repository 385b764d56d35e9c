"""Amounts as analysts write them: parsing filter values (``50m``, ``1.2bn``) and
formatting stored values (``£21.5m``).

Shared by the command line and the web pages so both accept and show the same spellings.
"""

from __future__ import annotations

import re

_MONEY_RE = re.compile(
    r"^\s*£?\s*(\d+(?:,\d{3})*(?:\.\d+)?)\s*(k|thousand|m|mn|million|bn|b|billion)?\s*$",
    re.IGNORECASE,
)
_MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6,
                "b": 1e9, "bn": 1e9, "billion": 1e9}

MONEY_HINT = "use a number with an optional k, m or bn suffix, e.g. 50m, 1.2bn, £400k"


def parse_money(text: str) -> float:
    """'50m' -> 50_000_000.0; '1.2bn', '£400k', '40,000' likewise. Raises ValueError."""
    match = _MONEY_RE.match(text)
    if not match:
        raise ValueError(text)
    number = float(match.group(1).replace(",", ""))
    suffix = (match.group(2) or "").lower()
    return number * _MULTIPLIERS.get(suffix, 1.0)


def format_gbp(value: float | None) -> str:
    """£1.2bn, £21.5m, £400k, £950 — how an analyst reads amounts."""
    if value is None:
        return ""
    for threshold, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(value) >= threshold:
            return f"£{value / threshold:,.2f}".rstrip("0").rstrip(".") + suffix
    return f"£{value:,.0f}"
