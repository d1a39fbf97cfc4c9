"""The equity and drawdown overlay of two runs as one inline SVG (no script, no external file).

Top panel: each run's equity divided by its first day's equity. Bottom panel: each run's
drawdown below its running peak (0 at the top, the deepest at the bottom). Both share
one date axis; each curve keeps at most `MAX_POINTS` points (every k-th day and the last).
"""

from __future__ import annotations

import datetime as dt
from html import escape

from qtc.review.model import Series

WIDTH, HEIGHT, PAD = 760, 380, 44
SPLIT = 0.64
"""Share of the height taken by the equity panel."""
MAX_POINTS = 800
COLORS = ("#4c72b0", "#dd8452")


def overlay(series: Series) -> str:
    """The SVG of both curves."""
    curves = [_curve(series.dates_a, series.equity_a), _curve(series.dates_b, series.equity_b)]
    days = [d for c in curves for d, _, _ in c]
    if not days:
        return ""
    x0, x1 = min(days), max(days)
    top = (PAD / 2, HEIGHT * SPLIT - PAD / 2)
    bottom = (HEIGHT * SPLIT + PAD / 4, HEIGHT - PAD / 2)
    growth = [g for c in curves for _, g, _ in c]
    g0, g1 = min(growth), max(growth)
    deepest = max([dd for c in curves for _, _, dd in c] + [1e-9])
    parts = [_frame(top, f"{g1:.2f}x", f"{g0:.2f}x"), _frame(bottom, "0%", f"-{deepest:.0%}")]
    for curve, color in zip(curves, COLORS, strict=True):
        parts.append(_line([(d, g) for d, g, _ in curve], (x0, x1), (g0, g1), top, color))
        parts.append(
            _line([(d, -dd) for d, _, dd in curve], (x0, x1), (-deepest, 0.0), bottom, color)
        )
    parts += _axis(x0, x1) + _legend()
    body = "\n".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="equity and drawdown of A and B">\n{body}\n</svg>'
    )


def _curve(dates: list[str], equity: list[float]) -> list[tuple[int, float, float]]:
    """(day ordinal, growth of 1, drawdown) points, thinned to MAX_POINTS."""
    if not dates or equity[0] <= 0:
        return []
    step = max(1, len(dates) // MAX_POINTS)
    keep = set(range(0, len(dates), step)) | {len(dates) - 1}
    out, peak = [], equity[0]
    for i, (date, value) in enumerate(zip(dates, equity, strict=True)):
        peak = max(peak, value)
        if i in keep:
            day = dt.date.fromisoformat(date).toordinal()
            out.append((day, value / equity[0], 1.0 - value / peak))
    return out


def _scale(value: float, lo: float, hi: float, out_lo: float, out_hi: float) -> float:
    """Map value in [lo, hi] to [out_lo, out_hi] (the middle when lo == hi)."""
    if hi == lo:
        return (out_lo + out_hi) / 2
    return out_lo + (value - lo) / (hi - lo) * (out_hi - out_lo)


def _line(
    points: list[tuple[int, float]],
    xs: tuple[int, int],
    ys: tuple[float, float],
    box: tuple[float, float],
    color: str,
) -> str:
    """One polyline inside a panel (`box` is its top and bottom y)."""
    coords = " ".join(
        f"{_scale(x, xs[0], xs[1], PAD, WIDTH - PAD / 2):.1f},"
        f"{_scale(y, ys[0], ys[1], box[1], box[0]):.1f}"
        for x, y in points
    )
    return f'<polyline fill="none" stroke="{color}" stroke-width="1.4" points="{coords}"/>'


def _frame(box: tuple[float, float], high: str, low: str) -> str:
    """A panel's border and its y labels."""
    top, bottom = box
    label = '<text x="{}" y="{:.1f}" text-anchor="end" font-size="10">{}</text>'
    return (
        f'<rect x="{PAD}" y="{top:.1f}" width="{WIDTH - 1.5 * PAD:.1f}" '
        f'height="{bottom - top:.1f}" fill="none" stroke="#ccc"/>'
        + label.format(PAD - 4, top + 10, escape(high))
        + label.format(PAD - 4, bottom, escape(low))
    )


def _axis(x0: int, x1: int) -> list[str]:
    """First and last date under the chart."""
    first, last = dt.date.fromordinal(x0).isoformat(), dt.date.fromordinal(x1).isoformat()
    y = HEIGHT - 6
    return [
        f'<text x="{PAD}" y="{y}" font-size="10">{first}</text>',
        f'<text x="{WIDTH - PAD / 2}" y="{y}" text-anchor="end" font-size="10">{last}</text>',
    ]


def _legend() -> list[str]:
    """A and B, with their colours."""
    out = []
    for i, (name, color) in enumerate(zip(("A", "B"), COLORS, strict=True)):
        x = PAD + 8 + i * 44
        out.append(f'<rect x="{x}" y="{PAD / 2 + 6}" width="10" height="3" fill="{color}"/>')
        out.append(f'<text x="{x + 14}" y="{PAD / 2 + 11}" font-size="10">{name}</text>')
    return out
