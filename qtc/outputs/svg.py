"""Hand-written SVG for the report's charts: elements, numbers, ticks and colour ramps.

Why not matplotlib (what the report used until issue 14): its import alone takes longer
than the whole 0.5 s budget of `qtc report`, and the report's charts are simple (lines,
filled areas, bars, heatmaps, legends, axes with ticks), so a few hundred lines of numpy
and string building draw them. Why not another charting library: pygal would add a
dependency and its SVG is made for a browser with JavaScript (tooltips, external scripts
and styles by default); plotly, bokeh and altair emit JavaScript. Here nothing is
installed, nothing runs in the page, and every byte is under our control.

Conventions (shared with `qtc.outputs.svg_axes`, which lays out the axes):

* Units are CSS pixels; a chart's `viewBox` is its width × height, so it scales down
  with `max-width: 100%`. Coordinates are written with one decimal (0.1 px).
* Deterministic: the same inputs give the same bytes (fixed formats, no hashes, no
  clock, no font measurement). Text width is estimated as `CHAR_EM` × font size per
  character, which is close for DejaVu Sans and wide enough for Arial and Helvetica.
* Self-contained: no URL, no script, no external style; ids are prefixed by the chart's
  id, which is unique in the page.
* Colour ramps (`ramp`) interpolate linearly between anchor colours copied from
  matplotlib's colormaps (ColorBrewer's RdYlGn and Blues, Moreland's coolwarm at every
  fourth of its 33 anchors); `TAB10` and `TAB20` are matplotlib's categorical tables.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
FONT_FAMILY = "'DejaVu Sans', Helvetica, Arial, sans-serif"
CHAR_EM = 0.6
"""Estimated width of one character, in units of the font size."""
MINUS = "\u2212"
"""The minus sign of negative tick labels (as matplotlib writes it)."""
_ZERO_TENTH = re.compile(r"\.0(?![0-9])")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# ---------------------------------------------------------------------------- elements


def num(value: float) -> str:
    """A coordinate with at most one decimal: 12.34 -> "12.3", 5.0 -> "5", -0.04 -> "0".

    Rounded like `nums` (numpy's rule: ties of tenths to even); not finite -> "0".
    """
    if not math.isfinite(value):
        return "0"
    text = repr(round(float(value) * 10) / 10 + 0.0)
    return text[:-2] if text.endswith(".0") else text


def nums(values: Array) -> str:
    """`num` of each value, separated by spaces (vectorized: paths have thousands)."""
    rounded = (np.round(values, 1) + 0.0).tolist()
    return _ZERO_TENTH.sub("", " ".join(map(repr, rounded)))


def esc(text: str) -> str:
    """Escape text for an XML element or a double-quoted attribute."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def text_width(text: str, size: float) -> float:
    """Estimated width in pixels of `text` at font size `size` (no font is measured)."""
    return len(text) * size * CHAR_EM


def attrs(**values: str | float | None) -> str:
    """` name="value"` pairs for the values that are not None (`_` in names becomes `-`)."""
    out = []
    for name, value in values.items():
        if value is None:
            continue
        shown = num(value) if isinstance(value, float | int) else esc(value)
        out.append(f' {name.rstrip("_").replace("_", "-")}="{shown}"')
    return "".join(out)


def polyline(xs: Array, ys: Array) -> str:
    """Path data through the points, broken where a coordinate is not finite.

    Example: xs = [0, 1, nan, 3], ys = [0, 1, 1, 2] -> "M0 0L1 1M3 2".
    """
    ok = np.isfinite(xs) & np.isfinite(ys)
    parts = []
    for start, stop in runs(ok):
        flat = np.empty(2 * (stop - start))
        flat[0::2], flat[1::2] = xs[start:stop], ys[start:stop]
        words = nums(flat).split(" ", 2)
        parts.append(f"M{words[0]} {words[1]}" + (f"L{words[2]}" if len(words) > 2 else ""))
    return "".join(parts)


def polygon(xs: Array, ys: Array) -> str:
    """Closed path data through the points (all finite)."""
    return polyline(xs, ys) + "Z" if xs.size else ""


def runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(start, stop) of each run of True in `mask`."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


def text(
    x: float,
    y: float,
    label: str,
    *,
    size: float,
    color: str = "#444444",
    anchor: str = "start",
    weight: str | None = None,
    rotate: float = 0.0,
) -> str:
    """A `<text>` element; `label` may hold lines separated by newlines (centred on y)."""
    lines = label.split("\n")
    shown = attrs(
        font_size=size,
        fill=color,
        text_anchor=None if anchor == "start" else anchor,
        font_weight=weight,
    )
    if not rotate and len(lines) == 1:
        return f"<text{attrs(x=x, y=y)}{shown}>{esc(label)}</text>"
    turn = f" rotate({num(rotate)})" if rotate else ""
    shown = f' transform="translate({num(x)} {num(y)}){turn}"{shown}'
    if len(lines) == 1:
        return f"<text{shown}>{esc(label)}</text>"
    first = num(-(len(lines) - 1) * 0.6)
    spans = "".join(
        f'<tspan x="0" dy="{first if i == 0 else "1.2"}em">{esc(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f"<text{shown}>{spans}</text>"


def document(
    chart_id: str, title: str, width: int, height: int, defs: Sequence[str], body: Sequence[str]
) -> str:
    """The `<svg>` element of a chart, labelled by its title (for screen readers)."""
    head = (
        f'<svg class="chart" id="{esc(chart_id)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="{esc(chart_id)}-title" '
        f'font-family="{esc(FONT_FAMILY)}">'
    )
    lines = [head, f'<title id="{esc(chart_id)}-title">{esc(title)}</title>']
    if defs:
        lines += ["<defs>", *defs, "</defs>"]
    lines += [f'<rect width="{width}" height="{height}" fill="#ffffff"/>', *body, "</svg>"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- ticks


def nice_step(low: float, high: float, bins: int) -> float:
    """The smallest 1-2-5 step that cuts [low, high] into at most `bins` steps.

    A 1-2-5 step is 1, 2 or 5 times a power of ten (matplotlib's MaxNLocator rule with
    those steps).
    """
    span = high - low
    if not (math.isfinite(span) and span > 0):
        return 1.0
    exp = math.floor(math.log10(span / max(bins, 1)))
    while True:
        for mantissa in (1, 2, 5):
            step = mantissa * 10.0**exp
            if span / step <= bins + 1e-9:
                return step
        exp += 1


def nice_ticks(low: float, high: float, bins: int = 6) -> list[float]:
    """The multiples of a 1-2-5 step in [low, high], the step cutting it into <= `bins`.

    Example: nice_ticks(0.0, 1.05, 6) -> [0.0, 0.2, 0.4, 0.6, 0.8, 1.0].
    """
    step = nice_step(low, high, bins)
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [float(f"{k * step:.12g}") for k in range(first, last + 1)]


def log_ticks(low: float, high: float) -> list[float]:
    """About 4-8 round tick values between low and high for a log axis.

    Over more than a factor 8: 1, 2 and 5 times the powers of ten inside; otherwise
    `nice_ticks` (a log axis over a short range is almost linear).
    """
    if not (math.isfinite(low) and math.isfinite(high)) or low <= 0:
        return []
    if high <= low:
        return [low]
    if high / low > 8:
        out = []
        for exp in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
            out += [float(f"{m * 10.0**exp:.12g}") for m in (1, 2, 5)]
        ticks = [t for t in out if low <= t <= high]
        return ticks if len(ticks) >= 2 else out
    return [t for t in nice_ticks(low, high, 6) if t > 0]


def decimals(ticks: Sequence[float], scale: float = 1.0) -> int:
    """Decimals that tell the ticks (times `scale`) apart: steps of 10 -> 0, 0.5 -> 1."""
    if len(ticks) < 2:
        value = abs(ticks[0] * scale) if ticks else 1.0
        return 0 if value == 0 or value >= 1 else min(6, -math.floor(math.log10(value)))
    step = min(abs(b - a) for a, b in itertools.pairwise(ticks)) * scale
    return max(0, min(6, -math.floor(math.log10(step) + 1e-9)))


def signed(text: str) -> str:
    """A number's text with matplotlib's minus sign ("−1.5"); "-0" becomes "0"."""
    if text.startswith("-"):
        body = text[1:]
        return body if not body.strip("0.") else MINUS + body
    return text


def number_labels(ticks: Sequence[float]) -> list[str]:
    """Plain labels with as many decimals as the step needs: [0, 0.02] -> ["0.00", "0.02"]."""
    places = decimals(ticks)
    return [signed(f"{t:.{places}f}") for t in ticks]


def percent_labels(ticks: Sequence[float]) -> list[str]:
    """Fractions as percentages: [-0.1, 0, 0.1] -> ["−10%", "0%", "10%"]."""
    places = decimals(ticks, 100.0)
    return [signed(f"{t * 100:.{places}f}") + "%" for t in ticks]


def date_ticks(
    first: int, last: int, min_ticks: int = 4, max_ticks: int = 10
) -> list[tuple[int, str]]:
    """Ticks of a date axis from day `first` to day `last` (days since 1970-01-01).

    Like matplotlib's AutoDateLocator and ConciseDateFormatter: the coarsest unit (years,
    months, days) spanning at least `min_ticks`, every 1, 2, 4, 5, 10... years, 1, 2, 3,
    4, 6 months or 1, 2, 3, 7, 14 days so that at most `max_ticks` are shown. Labels are
    the year ("2008") for years and for January, the month ("Jul") for other months and
    for the first of a month, else the day ("04").

    Returns:
        (day, label) pairs inside [first, last].
    """
    start, end = (np.datetime64(int(d), "D") for d in (first, last))
    years, months = _whole_years_months(start, end)
    if years >= min_ticks:
        step = _interval(years, (1, 2, 4, 5, 10, 20, 40, 50, 100), max_ticks)
        days = _year_starts(start, end, step)
    elif months >= min_ticks:
        days = _month_starts(start, end, _interval(months, (1, 2, 3, 4, 6), max_ticks))
    else:
        step = _interval(last - first, (1, 2, 3, 7, 14), max_ticks)
        days = _month_days(start, end, step)
    return [(int(d.astype(np.int64)), _date_label(d)) for d in days]


def _whole_years_months(start: np.datetime64, end: np.datetime64) -> tuple[int, int]:
    """Whole years and whole months from start to end (like dateutil's relativedelta)."""
    months = int((end.astype("datetime64[M]") - start.astype("datetime64[M]")).astype(np.int64))
    if str(end)[8:] < str(start)[8:]:  # the day of the month (zero-padded)
        months -= 1
    return months // 12, months


def _interval(count: int, steps: Sequence[int], max_ticks: int) -> int:
    """The first step that shows `count` units with at most `max_ticks` ticks."""
    return next((s for s in steps if count <= s * (max_ticks - 1)), steps[-1])


def _year_starts(start: np.datetime64, end: np.datetime64, step: int) -> list[np.datetime64]:
    """January 1st of the years that are multiples of `step`, inside [start, end]."""
    first = int(str(start)[:4])
    last = int(str(end)[:4])
    days = [np.datetime64(f"{y:04d}-01-01") for y in range(first, last + 1) if y % step == 0]
    return [d for d in days if start <= d <= end]


def _month_starts(start: np.datetime64, end: np.datetime64, step: int) -> list[np.datetime64]:
    """The first day of months 1, 1 + step, ... of each year, inside [start, end]."""
    month = start.astype("datetime64[M]")
    out = []
    while month <= end.astype("datetime64[M]"):
        day = month.astype("datetime64[D]")
        if (int(str(month)[5:7]) - 1) % step == 0 and start <= day <= end:
            out.append(day)
        month = month + np.timedelta64(1, "M")
    return out


def _month_days(start: np.datetime64, end: np.datetime64, step: int) -> list[np.datetime64]:
    """Days 1, 1 + step, ... of each month inside [start, end].

    Every week is 1, 8, 15, 22 and every two weeks 1, 15 (as matplotlib: no tick two
    days before the next first).
    """
    shown = {7: (1, 8, 15, 22), 14: (1, 15)}.get(step, tuple(range(1, 32, step)))
    out = []
    day = start
    while day <= end:
        if int(str(day)[8:10]) in shown:
            out.append(day)
        day = day + np.timedelta64(1, "D")
    return out


def _date_label(day: np.datetime64) -> str:
    """Concise label of a tick: "2008" on January 1st, "Jul" on other firsts, else "04"."""
    text = str(day)
    month, dom = int(text[5:7]), text[8:10]
    if dom != "01":
        return dom
    return text[:4] if month == 1 else MONTHS[month - 1]


# ---------------------------------------------------------------------------- colours

RAMPS: dict[str, tuple[str, ...]] = {
    "RdYlGn": (
        "#a50026", "#d73027", "#f46d43", "#fdae61", "#fee08b", "#ffffbf",
        "#d9ef8b", "#a6d96a", "#66bd63", "#1a9850", "#006837",
    ),
    "Blues": (
        "#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6",
        "#4292c6", "#2171b5", "#08519c", "#08306b",
    ),
    "coolwarm": (
        "#3b4cc0", "#6282ea", "#8db0fe", "#b8d0f9", "#dddddd",
        "#f5c4ad", "#f49a7b", "#de604d", "#b40426",
    ),
}  # fmt: skip
TAB10 = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
TAB20 = (
    "#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728",
    "#ff9896", "#9467bd", "#c5b0d5", "#8c564b", "#c49c94", "#e377c2", "#f7b6d2",
    "#7f7f7f", "#c7c7c7", "#bcbd22", "#dbdb8d", "#17becf", "#9edae5",
)  # fmt: skip


def anchors(name: str) -> tuple[str, ...]:
    """The anchor colours of a ramp, low to high; a `_r` suffix reverses them."""
    if name.endswith("_r"):
        return tuple(reversed(RAMPS[name[:-2]]))
    return RAMPS[name]


def ramp(name: str, x: float) -> str:
    """The colour at `x` in [0, 1] (clipped) of a ramp, interpolated between its anchors."""
    table = anchors(name)
    where = min(max(float(x), 0.0), 1.0) * (len(table) - 1)
    low = min(math.floor(where), len(table) - 2)
    frac = where - low
    a, b = rgb(table[low]), rgb(table[low + 1])
    return hex_color(tuple(p + (q - p) * frac for p, q in zip(a, b, strict=True)))


def rgb(color: str) -> tuple[float, float, float]:
    """A "#rrggbb" colour as (r, g, b) in 0-255."""
    return (int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16))


def hex_color(channels: Sequence[float]) -> str:
    """(r, g, b) in 0-255 (rounded) -> "#rrggbb"."""
    return "#" + "".join(f"{min(max(round(c), 0), 255):02x}" for c in channels)


def is_dark(color: str) -> bool:
    """True when white text reads better than dark text on `color` (luma below 0.45)."""
    r, g, b = rgb(color)
    return (0.299 * r + 0.587 * g + 0.114 * b) / 255 < 0.45
