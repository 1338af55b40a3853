"""Charts drawn on the server as inline SVG: no script, no CDN, a few kilobytes each.

Two shapes cover the dashboard: horizontal bars (long labels such as agency names
stay readable) and a line over months. A value hidden for privacy (``"<5"``) is
drawn as a short hatched stub with its text, never as a length that would give
the number back. Every chart has a ``<title>`` and ``<desc>`` for screen readers;
the table beside it holds the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
"""The drawing's width in SVG units; it scales to the page (``viewBox``)."""

BAR_HEIGHT = 18
BAR_GAP = 6
LABEL_WIDTH = 200
VALUE_WIDTH = 80
LABEL_CHARS = 30
"""Labels longer than this are cut (the full label is in the bar's tooltip)."""

INK = "#0d3b2e"
MUTED = "#555"
GRID = "#ccc"


@dataclass(frozen=True)
class Point:
    """One bar or one point: its label, its length (None: nothing to draw) and its text."""

    label: str
    value: float | None
    text: str
    hidden: bool = False
    """Hidden for privacy: drawn as a hatched stub, whatever ``value`` says."""


def _cut(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _open(chart_id: str, title: str, desc: str, height: int) -> list[str]:
    return [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'preserveAspectRatio="xMinYMin meet" style="max-width:{WIDTH}px">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
        f'<defs><pattern id="{chart_id}-hidden" width="6" height="6" '
        f'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="#fff"/><line x1="0" y1="0" x2="0" y2="6" '
        f'stroke="{MUTED}" stroke-width="3"/></pattern></defs>',
    ]


def bar_chart(chart_id: str, title: str, points: Sequence[Point],
              top: float | None = None) -> Markup:
    """Draw horizontal bars, one per point; ``top`` (default the largest value) spans the plot."""
    if not points:
        return empty(chart_id, title)
    top = top or max((p.value for p in points if p.value is not None and not p.hidden),
                     default=0) or 1
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = len(points) * (BAR_HEIGHT + BAR_GAP) + BAR_GAP
    parts = _open(chart_id, title, f"Bar chart, {len(points)} bars.", height)
    for i, point in enumerate(points):
        y = BAR_GAP + i * (BAR_HEIGHT + BAR_GAP)
        middle = y + BAR_HEIGHT / 2 + 4
        parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{middle:.0f}" text-anchor="end" '
                     f'font-size="12" fill="#1b1b1b">{escape(_cut(point.label))}</text>')
        if point.hidden:
            length, fill = 12, f"url(#{chart_id}-hidden)"
        elif point.value is None:
            length, fill = 0, INK
        else:
            length, fill = max(point.value / top * plot, 0), INK
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" '
                     f'height="{BAR_HEIGHT}" fill="{fill}"><title>{escape(point.label)}: '
                     f'{escape(point.text)}</title></rect>')
        parts.append(f'<text x="{LABEL_WIDTH + length + 4:.1f}" y="{middle:.0f}" '
                     f'font-size="12" fill="{MUTED}">{escape(point.text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(chart_id: str, title: str, points: Sequence[Point],
               top: float | None = None) -> Markup:
    """Draw a line over points in order (months); hidden points break the line."""
    if not points:
        return empty(chart_id, title)
    height, left, right, top_pad, bottom = 240, 48, 36, 16, 40
    plot_w, plot_h = WIDTH - left - right, height - top_pad - bottom
    top = top or max((p.value for p in points if p.value is not None and not p.hidden),
                     default=0) or 1
    step = plot_w / max(len(points) - 1, 1)
    parts = _open(chart_id, title, f"Line chart, {len(points)} points.", height)
    for fraction in (0, 0.5, 1):
        y = top_pad + plot_h * (1 - fraction)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - right}" y2="{y:.1f}" '
                     f'stroke="{GRID}"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="{MUTED}">{_number(top * fraction)}</text>')
    every = max(1, len(points) // 12)
    runs: list[list[str]] = [[]]
    for i, point in enumerate(points):
        x = left + i * step
        if i % every == 0 or i == len(points) - 1:
            parts.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                         f'font-size="11" fill="{MUTED}">{escape(point.label)}</text>')
        if point.hidden or point.value is None:
            runs.append([])
            if not point.hidden:
                continue
            parts.append(f'<rect x="{x - 4:.1f}" y="{top_pad + plot_h - 8:.1f}" width="8" '
                         f'height="8" fill="url(#{chart_id}-hidden)" stroke="{MUTED}">'
                         f'<title>{escape(point.label)}: {escape(point.text)}</title></rect>')
            continue
        y = top_pad + plot_h * (1 - point.value / top)
        runs[-1].append(f"{x:.1f},{y:.1f}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{INK}">'
                     f'<title>{escape(point.label)}: {escape(point.text)}</title></circle>')
    for run in runs:
        if len(run) > 1:
            parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{INK}" '
                         f'stroke-width="2"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def empty(chart_id: str, title: str) -> Markup:
    """Draw the frame of a chart with nothing to show."""
    parts = _open(chart_id, title, "No data for these filters.", 40)
    parts.append(f'<text x="8" y="24" font-size="13" fill="{MUTED}">No data for these '
                 f'filters.</text></svg>')
    return Markup("".join(parts))


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"
