"""Axes of the report's charts: data mapped to pixels, drawn, with ticks, labels and legends.

A `Figure` is one `<svg>`; it holds `Axes`, each a plot box with an x and a y `Scale`.
Drawing calls (`line`, `fill`, `bars`, ...) take data values, map them to pixels and
keep three layers: the grid under the data, the data (clipped to the box) and the
spines, ticks, labels and legend over it. Sizes follow the matplotlib style the report
used before (fonts of 8.5 pt = 11.3 px, ticks of 3.5 pt, legends on a translucent white
box); `qtc.outputs.svg` has the elements, number formats, ticks and colours.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from qtc.outputs.svg import (
    Array,
    attrs,
    document,
    esc,
    num,
    polygon,
    polyline,
    runs,
    text,
    text_width,
)

FONT = 11.3
LEGEND_FONT = 10.7
TICK = 4.7
PAD = 4.7
LABEL_PAD = 5.3
TICK_COLOR = "#444444"
LABEL_COLOR = "#333333"
SPINE_COLOR = "#888888"
GRID_COLOR = "#e4e4e4"
SLACK = 0.5
"""Font sizes added to the estimated width of tick labels (wide glyphs: %, −, M)."""
MARGIN = 0.05
"""Fraction of the data range added on each side of an automatic axis limit."""
BEST = ("upper right", "upper left", "lower left", "lower right", "upper center", "lower center")
"""Where `loc="best"` may put a legend, in order of preference."""


class Scale(NamedTuple):
    """Maps data in [low, high] to pixels in [start, end] (through log10 when `log`).

    For a y axis `start` is the bottom pixel and `end` the top one.
    """

    low: float
    high: float
    start: float
    end: float
    log: bool = False

    def __call__(self, values: npt.ArrayLike) -> Array:
        """Pixel positions of `values` (NaN where a log scale gets a value <= 0)."""
        v = np.asarray(values, dtype=np.float64)
        low, high = self.low, self.high
        if self.log:
            with np.errstate(divide="ignore", invalid="ignore"):
                v = np.log10(np.where(v > 0, v, np.nan))
            low, high = math.log10(low), math.log10(high)
        return self.start + (v - low) * ((self.end - self.start) / (high - low))

    def at(self, value: float) -> float:
        """The pixel of one value."""
        return float(self(value))

    def inside(self, value: float) -> bool:
        """True when `value` lies within the limits (either order), with 1e-9 of slack."""
        low, high = sorted((self.low, self.high))
        slack = 1e-9 * max(abs(low), abs(high), 1.0)
        return low - slack <= value <= high + slack


def limits(
    *arrays: npt.ArrayLike, margin: float = MARGIN, log: bool = False, sticky: float | None = None
) -> tuple[float, float]:
    """Axis limits around the finite values, widened by `margin` of their range each side.

    Args:
        arrays: The values shown (non-finite ones are ignored; on a log axis, non-positive too).
        margin: Fraction of the range added below and above (in log10 space for `log`).
        log: Limits for a log axis.
        sticky: A value the margin may not cross (0 for bars: they start at 0).
    """
    values = np.concatenate([np.ravel(np.asarray(a, dtype=np.float64)) for a in arrays])
    values = values[np.isfinite(values) & ((values > 0) if log else True)]
    if not values.size:
        return (1.0, 10.0) if log else (0.0, 1.0)
    low, high = float(values.min()), float(values.max())
    if log:
        low, high = math.log10(low), math.log10(high)
    span = high - low or max(abs(low) * 0.1, 0.5 if not log else 0.05)
    lo, hi = low - margin * span, high + margin * span
    if sticky is not None and low >= sticky > lo:
        lo = sticky
    if sticky is not None and high <= sticky < hi:
        hi = sticky
    return (10.0**lo, 10.0**hi) if log else (lo, hi)


def days(dates: npt.ArrayLike) -> Array:
    """Dates as float days since 1970-01-01 (the x values of a date axis)."""
    return np.asarray(dates).astype("datetime64[D]").astype(np.int64).astype(np.float64)


class Box(NamedTuple):
    """A rectangle in pixels."""

    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        """The right edge."""
        return self.left + self.width

    @property
    def bottom(self) -> float:
        """The bottom edge."""
        return self.top + self.height


class Entry(NamedTuple):
    """A legend entry: its label and how its handle is drawn (a line, a patch, a marker)."""

    label: str
    kind: str
    color: str
    width: float = 1.6
    opacity: float | None = None
    dash: str | None = None
    marker: str | None = None


class Axes:
    """One plot box of a figure with its scales, layers and legend entries.

    Args:
        clip: Id of the clip path of the data layer (unique in the page).
        box: Where the plot area is, in pixels.
        x: The x scale (data to pixels, left to right).
        y: The y scale (data to pixels, bottom to top).

    Attributes:
        under: Elements drawn under the data (grid lines).
        body: The data, clipped to the box.
        over: Elements drawn over the data (spines, ticks, labels, legend).
        entries: Legend entries, in the order drawn.
        seen: Pixels of what was drawn (where `legend(loc="best")` looks for room).
    """

    def __init__(self, clip: str, box: Box, x: Scale, y: Scale) -> None:
        self.clip, self.box, self.x, self.y = clip, box, x, y
        self.under: list[str] = []
        self.body: list[str] = []
        self.over: list[str] = []
        self.entries: list[Entry] = []
        self.seen: list[Array] = []

    # ------------------------------------------------------------------ data

    def line(
        self,
        x: npt.ArrayLike,
        y: npt.ArrayLike,
        *,
        color: str,
        width: float = 1.6,
        opacity: float | None = None,
        dash: str | None = None,
        marker: float | None = None,
        label: str | None = None,
    ) -> None:
        """A line through the points (broken at NaN), with circles of radius `marker`."""
        px, py = self.x(x), self.y(y)
        self._path(polyline(px, py), stroke=color, width=width, opacity=opacity, dash=dash)
        if marker:
            ok = np.isfinite(px) & np.isfinite(py)
            for cx, cy in zip(px[ok], py[ok], strict=True):
                self.body.append(f"<circle{attrs(cx=cx, cy=cy, r=marker, fill=color)}/>")
        shape = "o" if marker else None
        self._note(px, py, label, Entry(label or "", "line", color, width, opacity, dash, shape))

    def step(
        self, x: npt.ArrayLike, y: npt.ArrayLike, *, color: str, label: str | None = None
    ) -> None:
        """A step line: each value holds until the next x (matplotlib's `where="post"`)."""
        px, py = self.x(x), self.y(y)
        sx, sy = np.repeat(px, 2)[1:], np.repeat(py, 2)[:-1]
        self._path(polyline(sx, sy), stroke=color, width=1.6)
        self._note(px, py, label, Entry(label or "", "line", color))

    def fill(
        self,
        x: npt.ArrayLike,
        y: npt.ArrayLike,
        base: float,
        *,
        color: str,
        opacity: float,
        label: str | None = None,
    ) -> None:
        """The area between the values and `base` (each finite run is one polygon)."""
        px, py = self.x(x), self.y(y)
        bottom = self.y.at(base)
        parts = []
        for start, stop in runs(np.isfinite(px) & np.isfinite(py)):
            xs = np.concatenate([px[start:stop], px[start:stop][::-1]])
            ys = np.concatenate([py[start:stop], np.full(stop - start, bottom)])
            parts.append(polygon(xs, ys))
        self._area("".join(parts), color, opacity)
        self._note(px, py, label, Entry(label or "", "patch", color, opacity=opacity))

    def stairs(
        self,
        heights: npt.ArrayLike,
        edges: npt.ArrayLike,
        *,
        color: str,
        opacity: float,
        label: str | None = None,
    ) -> None:
        """Filled stairs: `heights[i]` from `edges[i]` to `edges[i + 1]` (NaN counts as 0)."""
        ex = self.x(edges)
        hy = self.y(np.nan_to_num(np.asarray(heights, dtype=np.float64)))
        bottom = self.y.at(0.0)
        xs = np.concatenate([[ex[0]], np.repeat(ex, 2)[1:-1], [ex[-1]]])
        ys = np.concatenate([[bottom], np.repeat(hy, 2), [bottom]])
        self._area(polygon(xs, ys), color, opacity)
        self._note(xs, ys, label, Entry(label or "", "patch", color, opacity=opacity))

    def stack(
        self, x: npt.ArrayLike, layers: Array, *, colors: Sequence[str], labels: Sequence[str]
    ) -> None:
        """Areas stacked from 0: layer k lies between the sums of layers < k and <= k."""
        px = self.x(x)
        tops = np.cumsum(np.nan_to_num(layers), axis=0)
        lows = np.vstack([np.zeros_like(tops[:1]), tops[:-1]])
        for top, low, color, label in zip(tops, lows, colors, labels, strict=True):
            xs = np.concatenate([px, px[::-1]])
            ys = np.concatenate([self.y(top), self.y(low)[::-1]])
            self._area(polygon(xs, ys), color, None)
            self._note(px, self.y(top), label, Entry(label, "patch", color))

    def bars(
        self,
        x: npt.ArrayLike,
        heights: npt.ArrayLike,
        width: float,
        *,
        color: str | Sequence[str],
        bottom: npt.ArrayLike = 0.0,
        label: str | None = None,
    ) -> None:
        """Bars centred on x, `width` wide (in x units), from `bottom` up by `heights`."""
        xs = np.asarray(x, dtype=np.float64)
        base = np.broadcast_to(np.asarray(bottom, dtype=np.float64), xs.shape)
        tops = base + np.nan_to_num(np.asarray(heights, dtype=np.float64))
        x0, x1 = self.x(xs - width / 2), self.x(xs + width / 2)
        y0, y1 = self.y(base), self.y(tops)
        colors = [color] * xs.size if isinstance(color, str) else list(color)
        for shade in dict.fromkeys(colors):
            rows = [i for i, c in enumerate(colors) if c == shade and y0[i] != y1[i]]
            d = "".join(
                f"M{num(x0[i])} {num(y0[i])}H{num(x1[i])}V{num(y1[i])}H{num(x0[i])}Z" for i in rows
            )
            self._area(d, shade, None)
        mid = (x0 + x1) / 2
        entry = Entry(label or "", "patch", colors[0] if colors else "#000000")
        self._note(np.concatenate([mid, mid]), np.concatenate([y1, (y0 + y1) / 2]), label, entry)

    def triangles(
        self, x: npt.ArrayLike, y: npt.ArrayLike, *, color: str, size: float, label: str
    ) -> None:
        """Downward triangles (matplotlib's "v" marker) `size` pixels wide at the points."""
        px, py = self.x(x), self.y(y)
        self.body.append(f'<path d="{_triangles(px, py, size)}" fill="{esc(color)}"/>')
        self._note(px, py, label, Entry(label, "marker", color, width=size, marker="v"))

    def cells(self, cells: Sequence[tuple[int, int, str, str, str]], *, size: float) -> None:
        """Heatmap cells given as (row, column, fill, text, text colour).

        Cell (i, j) covers x in [j, j + 1] and y in [i, i + 1], with a white edge and its
        text in the middle.
        """
        for i, j, fill, label, ink in cells:
            x0, x1 = sorted((self.x.at(j), self.x.at(j + 1)))
            y0, y1 = sorted((self.y.at(i), self.y.at(i + 1)))
            rect = attrs(x=x0, y=y0, width=x1 - x0, height=y1 - y0, fill=fill)
            self.body.append(f'<rect{rect} stroke="#ffffff" stroke-width="1.1"/>')
            middle = (y0 + y1) / 2 + 0.35 * size
            self.body.append(
                text((x0 + x1) / 2, middle, label, size=size, color=ink, anchor="middle")
            )

    def hline(self, value: float, *, color: str = SPINE_COLOR, width: float = 1.1) -> None:
        """A horizontal line across the box at `value`."""
        y = self.y.at(value)
        self._path(
            f"M{num(self.box.left)} {num(y)}H{num(self.box.right)}", stroke=color, width=width
        )

    def note(
        self, x: float, y: float, label: str, *, dy: float, color: str, size: float = 10.0
    ) -> None:
        """Bold text centred at the point (x, y), `dy` pixels lower (over everything)."""
        px, py = self.x.at(x), self.y.at(y)
        self.over.append(
            text(px, py + dy, label, size=size, color=color, anchor="middle", weight="bold")
        )

    def _path(
        self,
        d: str,
        *,
        stroke: str,
        width: float,
        opacity: float | None = None,
        dash: str | None = None,
    ) -> None:
        if d:
            style = attrs(
                stroke=stroke,
                stroke_width=width,
                stroke_opacity=opacity,
                stroke_dasharray=dash,
            )
            self.body.append(f'<path d="{d}" fill="none"{style}/>')

    def _area(self, d: str, color: str, opacity: float | None) -> None:
        if d:
            self.body.append(f'<path d="{d}"{attrs(fill=color, fill_opacity=opacity)}/>')

    def _note(self, px: Array, py: Array, label: str | None, entry: Entry) -> None:
        """Remember what was drawn (for `legend(loc="best")`) and its legend entry."""
        ok = np.isfinite(px) & np.isfinite(py)
        self.seen.append(np.column_stack([px[ok], py[ok]]))
        if label:
            self.entries.append(entry)

    # ------------------------------------------------------------------ axes

    def spines(self, *, left: bool = True, bottom: bool = True) -> None:
        """The left and bottom edges of the box (matplotlib's visible spines)."""
        b = self.box
        style = f' stroke="{SPINE_COLOR}" stroke-width="1.1"'
        if left:
            self.over.append(f'<path d="M{num(b.left)} {num(b.top)}V{num(b.bottom)}"{style}/>')
        if bottom:
            self.over.append(f'<path d="M{num(b.left)} {num(b.bottom)}H{num(b.right)}"{style}/>')

    def xaxis(
        self,
        ticks: Sequence[tuple[float, str]],
        *,
        label: str = "",
        grid: bool = True,
        tick: float = TICK,
        rotate: bool = False,
        labels: bool = True,
    ) -> None:
        """Ticks, tick labels, grid lines and the axis label below the box."""
        b = self.box
        shown = [(self.x.at(v), t) for v, t in ticks if self.x.inside(v)]
        grid_d = "".join(f"M{num(x)} {num(b.top)}V{num(b.bottom)}" for x, _ in shown)
        tick_d = "".join(f"M{num(x)} {num(b.bottom)}v{num(tick)}" for x, _ in shown)
        if grid and grid_d:
            self.under.append(_stroke(grid_d, GRID_COLOR, 0.8))
        if tick and tick_d:
            self.over.append(_stroke(tick_d, TICK_COLOR, 1.1))
        if not labels:
            return
        top = b.bottom + tick + PAD
        for x, t in shown:
            if rotate:  # the end of the label at the tick, reading up to the right
                self.over.append(text(x + 2, top + 6, t, size=FONT, anchor="end", rotate=-45))
            else:
                self.over.append(text(x, top + 0.8 * FONT, t, size=FONT, anchor="middle"))
        drop = max((text_width(t, FONT) for _, t in shown), default=0.0) * 0.71 + FONT
        height = drop if rotate else FONT
        if label:
            y = top + height + LABEL_PAD + 0.8 * FONT
            middle = b.left + b.width / 2
            self.over.append(text(middle, y, label, size=FONT, color=LABEL_COLOR, anchor="middle"))

    def yaxis(
        self,
        ticks: Sequence[float],
        names: Sequence[str],
        *,
        label: str = "",
        grid: bool = True,
        tick: float = TICK,
        right: bool = False,
    ) -> None:
        """Ticks, tick labels, grid lines and the (rotated) axis label beside the box."""
        b = self.box
        shown = [(self.y.at(v), t) for v, t in zip(ticks, names, strict=True) if self.y.inside(v)]
        edge, sign = (b.right, 1.0) if right else (b.left, -1.0)
        grid_d = "".join(f"M{num(b.left)} {num(y)}H{num(b.right)}" for y, _ in shown)
        tick_d = "".join(f"M{num(edge)} {num(y)}h{num(sign * tick)}" for y, _ in shown)
        if grid and grid_d:
            self.under.append(_stroke(grid_d, GRID_COLOR, 0.8))
        if tick and tick_d:
            self.over.append(_stroke(tick_d, TICK_COLOR, 1.1))
        at = edge + sign * (tick + PAD)
        for y, t in shown:
            anchor = "start" if right else "end"
            self.over.append(text(at, y + 0.35 * FONT, t, size=FONT, anchor=anchor))
        if label:
            widest = max((text_width(t, FONT) for _, t in shown), default=0.0)
            self._ylabel(label, at, widest + SLACK * FONT, sign)

    def _ylabel(self, label: str, at: float, widest: float, sign: float) -> None:
        """The y axis label, rotated, beyond the widest tick label."""
        lines = label.count("\n") + 1
        half = (lines - 1) * 0.6 * FONT
        if sign < 0:
            x = max(at - widest - LABEL_PAD - 0.25 * FONT - half, 0.8 * FONT + half)
        else:
            x = at + widest + LABEL_PAD + 0.8 * FONT + half
        y = self.box.top + self.box.height / 2
        self.over.append(
            text(x, y, label, size=FONT, color=LABEL_COLOR, anchor="middle", rotate=-90)
        )

    # ------------------------------------------------------------------ legend

    def legend(
        self,
        loc: str = "best",
        *,
        ncols: int = 1,
        size: float = LEGEND_FONT,
        reverse: bool = False,
        outside: bool = False,
    ) -> None:
        """The legend of the labelled drawings on a translucent white box.

        Args:
            loc: "upper left", "lower left", ... or "best" (the corner covering the fewest
                drawn points).
            ncols: Columns, filled top to bottom then left to right.
            size: Font size in pixels.
            reverse: List the entries last drawn first (stacked areas, top layer first).
            outside: Put it right of the box, top-aligned, without a background.
        """
        entries = self.entries[::-1] if reverse else list(self.entries)
        if not entries:
            return
        layout = _Layout.of(entries, ncols, size)
        if outside:
            left, top = self.box.right + 0.01 * self.box.width + 0.5 * size, self.box.top
        else:
            where = self._best(layout) if loc == "best" else loc
            left, top = self._corner(where, layout)
        self.over.extend(layout.draw(entries, left, top, box=not outside))

    def _corner(self, loc: str, layout: _Layout) -> tuple[float, float]:
        """Top-left pixel of a legend placed at `loc` inside the box."""
        b, gap = self.box, 0.5 * layout.size
        vertical, horizontal = loc.split(" ")
        top = b.top + gap if vertical == "upper" else b.bottom - gap - layout.height
        if horizontal == "left":
            return b.left + gap, top
        if horizontal == "right":
            return b.right - gap - layout.width, top
        return b.left + (b.width - layout.width) / 2, top

    def _best(self, layout: _Layout) -> str:
        """The place in `BEST` whose legend box covers the fewest drawn points."""
        points = np.concatenate(self.seen) if self.seen else np.empty((0, 2))

        def covered(loc: str) -> int:
            left, top = self._corner(loc, layout)
            inside = (
                (points[:, 0] >= left)
                & (points[:, 0] <= left + layout.width)
                & (points[:, 1] >= top)
                & (points[:, 1] <= top + layout.height)
            )
            return int(inside.sum())

        return min(BEST, key=lambda loc: (covered(loc), BEST.index(loc)))


class _Layout(NamedTuple):
    """Sizes of a legend: rows and columns of (handle, label), in pixels."""

    size: float
    rows: int
    columns: tuple[float, ...]

    @classmethod
    def of(cls, entries: Sequence[Entry], ncols: int, size: float) -> _Layout:
        rows = math.ceil(len(entries) / max(ncols, 1))
        widths = []
        for start in range(0, len(entries), rows):
            widest = max(text_width(e.label, size) for e in entries[start : start + rows])
            widths.append(2.8 * size + widest)
        return cls(size, rows, tuple(widths))

    @property
    def width(self) -> float:
        """Width of the box."""
        return sum(self.columns) + 2.0 * self.size * (len(self.columns) - 1) + 0.8 * self.size

    @property
    def height(self) -> float:
        """Height of the box."""
        return self.rows * 1.5 * self.size + 0.3 * self.size

    def draw(self, entries: Sequence[Entry], left: float, top: float, *, box: bool) -> list[str]:
        """The legend's elements with its top-left corner at (left, top)."""
        s = self.size
        out = []
        if box:
            frame = attrs(x=left, y=top, width=self.width, height=self.height, rx=2.0)
            out.append(f'<rect{frame} fill="#ffffff" fill-opacity="0.85"/>')
        for i, entry in enumerate(entries):
            col, row = divmod(i, self.rows)
            x = left + 0.4 * s + sum(self.columns[:col]) + 2.0 * s * col
            y = top + 0.4 * s + row * 1.5 * s + 0.5 * s
            out.extend(_handle(entry, x, y, s))
            out.append(text(x + 2.8 * s, y + 0.35 * s, entry.label, size=s, color="#000000"))
        return out


def _handle(entry: Entry, x: float, y: float, size: float) -> list[str]:
    """A legend handle 2 font sizes long, its middle at height y."""
    length = 2.0 * size
    if entry.kind == "patch":
        box = attrs(x=x, y=y - 0.35 * size, width=length, height=0.7 * size)
        return [f"<rect{box}{attrs(fill=entry.color, fill_opacity=entry.opacity)}/>"]
    if entry.kind == "marker":
        d = _triangles(np.array([x + length / 2]), np.array([y]), entry.width)
        return [f'<path d="{d}" fill="{esc(entry.color)}"/>']
    style = attrs(
        stroke=entry.color,
        stroke_width=entry.width,
        stroke_opacity=entry.opacity,
        stroke_dasharray=entry.dash,
    )
    out = [f'<path d="M{num(x)} {num(y)}h{num(length)}" fill="none"{style}/>']
    if entry.marker == "o":
        out.append(
            f"<circle{attrs(cx=x + length / 2, cy=y, r=entry.width + 1.0, fill=entry.color)}/>"
        )
    return out


def _triangles(px: Array, py: Array, size: float) -> str:
    """Path data of downward triangles `size` wide centred on the points."""
    half = size / 2
    ok = np.isfinite(px) & np.isfinite(py)
    return "".join(
        f"M{num(x - half)} {num(y - half)}H{num(x + half)}L{num(x)} {num(y + half)}Z"
        for x, y in zip(px[ok], py[ok], strict=True)
    )


def _stroke(d: str, color: str, width: float) -> str:
    """An unfilled path."""
    return f'<path d="{d}" fill="none"{attrs(stroke=color, stroke_width=width)}/>'


class Figure:
    """One chart: a white canvas of `width` × `height` pixels holding axes.

    Args:
        chart_id: The `<svg>` id, unique in the page (clip path ids are derived from it).
        width: Width in pixels.
        height: Height in pixels.
    """

    def __init__(self, chart_id: str, width: float, height: float) -> None:
        self.chart_id = chart_id
        self.width = round(width)
        self.height = round(height)
        self.axes: list[Axes] = []
        self.defs: list[str] = []

    def add(
        self,
        box: Box,
        xlim: tuple[float, float],
        ylim: tuple[float, float],
        *,
        ylog: bool = False,
    ) -> Axes:
        """New axes on `box` showing x in `xlim` and y in `ylim` (bottom to top)."""
        x = Scale(xlim[0], xlim[1], box.left, box.right)
        y = Scale(ylim[0], ylim[1], box.bottom, box.top, log=ylog)
        ax = Axes(f"{self.chart_id}-clip{len(self.axes)}", box, x, y)
        self.axes.append(ax)
        return ax

    def box(self, left: float, right: float, top: float, bottom: float) -> Box:
        """The box left by margins (pixels) on each side."""
        return Box(left, top, self.width - left - right, self.height - top - bottom)

    def render(self, title: str) -> str:
        """The `<svg>` of the figure, with `title` for screen readers."""
        defs = list(self.defs)
        body: list[str] = []
        for ax in self.axes:
            b = ax.box
            rect = attrs(x=b.left, y=b.top, width=b.width, height=b.height)
            defs.append(f'<clipPath id="{ax.clip}"><rect{rect}/></clipPath>')
            body += ax.under
            if ax.body:
                body += [f'<g clip-path="url(#{ax.clip})">', *ax.body, "</g>"]
            body += ax.over
        return document(self.chart_id, title, self.width, self.height, defs, body)
