"""Server-rendered SVG charts: bars per year or week, and a ratings timeline.

No JavaScript and no chart library: each function returns one ``<svg>`` element as
:class:`markupsafe.Markup`, with every label escaped, so the pages work offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from markupsafe import Markup, escape

from store.amount_text import format_gbp

ROLE_COLOURS = ["#2f6690", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d6a9f", "#9c6644"]
RATING_COLOURS = {
    "outstanding": "#1b7837",
    "good": "#5aae61",
    "requires improvement": "#f1a340",
    "inadequate": "#d7301f",
    "special measures": "#67001f",
    "out of special measures": "#4393c3",
}
ARROWS = {"up": "▲", "down": "▼", "same": "▶"}


def _svg(width: int, height: int, body: list[str], label: str, css_class: str) -> Markup:
    return Markup(
        f'<svg class="chart {css_class}" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg">' + "".join(body) + "</svg>"
    )


def stacked_bars(
    rows: Sequence[dict[str, Any]], *, x: str, y: str, stack: str | None, label: str,
    money: bool = False, css_class: str = "bars",
) -> Markup:
    """Vertical bars, one per distinct ``x`` value (in the order given), stacked by
    ``stack`` when set; each segment has a ``<title>`` tooltip."""
    columns: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        columns.setdefault(row[x], []).append(row)
    groups = sorted({str(r[stack]) for r in rows}) if stack else []
    colour = {g: ROLE_COLOURS[i % len(ROLE_COLOURS)] for i, g in enumerate(groups)}
    width, height, left, right, bottom, top = 1000, 260, 70, 40, 40, 14
    plot_h = height - bottom - top
    peak = max((sum(float(r[y]) for r in col) for col in columns.values()), default=0.0)
    peak = peak or 1.0
    slot = (width - left - right) / max(len(columns), 1)
    bar_w = max(min(slot * 0.7, 60), 2)
    body = [
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{width - right}" '
        f'y2="{top + plot_h}" />',
        f'<text class="tick" x="{left - 6}" y="{top + 4}" text-anchor="end">'
        f'{escape(format_gbp(peak) if money else f"{peak:g}")}</text>',
        f'<text class="tick" x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>',
    ]
    every = max(1, len(columns) // 12)
    for i, (key, col) in enumerate(columns.items()):
        cx = left + slot * i + (slot - bar_w) / 2
        base = top + plot_h
        for row in col:
            value = float(row[y])
            h = plot_h * value / peak
            base -= h
            fill = colour.get(str(row[stack]), ROLE_COLOURS[0]) if stack else ROLE_COLOURS[0]
            shown = format_gbp(value) if money else f"{value:g}"
            tip = f"{key}: {shown}" + (f" ({row[stack]})" if stack else "")
            body.append(
                f'<rect class="bar" x="{cx:.1f}" y="{base:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{fill}"><title>{escape(tip)}</title></rect>'
            )
        if i % every == 0:
            body.append(
                f'<text class="tick" x="{cx + bar_w / 2:.1f}" y="{top + plot_h + 16}" '
                f'text-anchor="middle">{escape(str(key))}</text>'
            )
    for i, group in enumerate(groups):
        gx = left + i * 120
        body.append(
            f'<rect x="{gx}" y="{height - 14}" width="10" height="10" fill="{colour[group]}" />'
            f'<text class="legend" x="{gx + 14}" y="{height - 5}">{escape(group)}</text>'
        )
    return _svg(width, height, body, label, css_class)


def ratings_timeline(ratings: Sequence[dict[str, Any]], *, label: str) -> Markup:
    """Ratings along a time line, one column per publication date (in date order), each
    rating a coloured dot with its name and an arrow for the direction from the previous
    rating; undated ratings are left out."""
    dated = [r for r in ratings if isinstance(r.get("published"), date)]
    groups: dict[date, list[dict[str, Any]]] = {}
    for row in dated:
        groups.setdefault(row["published"], []).append(row)
    width, left, right, axis_y, line = 1000, 20, 20, 36, 17
    height = axis_y + 24 + line * max((len(g) for g in groups.values()), default=1)
    body = [f'<line class="axis" x1="{left}" y1="{axis_y}" x2="{width - right}" '
            f'y2="{axis_y}" />']
    slot = (width - left - right) / max(len(groups), 1)
    for i, (day, rows) in enumerate(groups.items()):
        cx = left + slot * i + slot / 2
        body.append(
            f'<circle class="date-mark" cx="{cx:.1f}" cy="{axis_y}" r="5" />'
            f'<text class="tick" x="{cx:.1f}" y="{axis_y - 12}" text-anchor="middle">'
            f"{escape(day.isoformat())}</text>"
        )
        for j, row in enumerate(rows):
            y = axis_y + 24 + j * line
            fill = RATING_COLOURS.get(row["rating"], "#555")
            arrow = ARROWS.get(row.get("direction") or "", "")
            tip = f"{day}: {row['rating']}" + (f" ({row['period']})" if row.get("period") else "")
            body.append(
                f'<g class="rating-point" data-rating="{escape(row["rating"])}">'
                f"<title>{escape(tip)}</title>"
                f'<circle cx="{cx - slot / 2 + 10:.1f}" cy="{y - 4}" r="5" fill="{fill}" />'
                f'<text class="rating-label" x="{cx - slot / 2 + 19:.1f}" y="{y}">'
                f"{escape(arrow + ' ' if arrow else '')}{escape(row['rating'])}</text></g>"
            )
    return _svg(width, height, body, label, "timeline")
