"""Drawing theme sizes over time to a PNG (matplotlib, no display needed)."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path


def plot_theme_sizes(
    series: Iterable[tuple[datetime, int, str, int]],
    path: str | os.PathLike,
    *,
    cumulative: bool = True,
    title: str = "Theme sizes over time",
) -> Path:
    """Draw one line per theme from ``(period, theme_id, label, count)`` rows.

    ``cumulative`` plots the running total of stories (the theme's size at each date);
    otherwise stories per period. Returns the written path; an empty series is an error
    rather than a blank picture.
    """
    rows = list(series)
    if not rows:
        raise ValueError("no theme members with dates to plot; run `policywatch themes` first")
    out = Path(path)
    if out.suffix.lower() != ".png":
        raise ValueError(f"plot path must end in .png, got {out.name!r}")
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    by_theme: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    labels: dict[int, str] = {}
    for period, theme_id, label, count in rows:
        by_theme[theme_id].append((period, int(count)))
        labels[theme_id] = label
    periods = sorted({p for p, *_ in rows})
    fig, ax = plt.subplots(figsize=(10, 5.5), dpi=110)
    for theme_id, points in sorted(by_theme.items(), key=lambda kv: -sum(c for _, c in kv[1])):
        counts = dict(points)
        ys, total = [], 0
        for p in periods:
            total = total + counts.get(p, 0) if cumulative else counts.get(p, 0)
            ys.append(total)
        name = labels[theme_id]
        name = name if len(name) <= 40 else name[:39] + "…"
        ax.plot(periods, ys, marker="o", markersize=3, linewidth=1.6, label=f"{theme_id}: {name}")
    ax.set_title(title)
    ax.set_ylabel("stories (cumulative)" if cumulative else "stories per period")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", frameon=False)
    fig.autofmt_xdate()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


def plot_counts(
    points: Iterable[tuple[datetime, int]],
    path: str | os.PathLike,
    *,
    title: str,
    ylabel: str = "stories",
) -> Path:
    """Draw counts per period (``(period start, count)`` pairs) as bars to a PNG."""
    rows = list(points)
    if not rows:
        raise ValueError("nothing to plot: no dated stories match")
    out = Path(path)
    if out.suffix.lower() != ".png":
        raise ValueError(f"plot path must end in .png, got {out.name!r}")
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=110)
    ax.bar([str(p) for p, _ in rows], [int(c) for _, c in rows], color="#3b6ea5")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    step = max(1, len(rows) // 24)
    ax.set_xticks(range(0, len(rows), step))
    ax.set_xticklabels([str(rows[i][0]) for i in range(0, len(rows), step)], rotation=45,
                       ha="right", fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
