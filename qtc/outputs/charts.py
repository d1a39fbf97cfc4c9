"""Charts of the HTML report: inline, deterministic SVG drawn without matplotlib.

Each chart is a `qtc.outputs.svg_axes.Figure` (numpy and string building only; why, and
the conventions, in `qtc.outputs.svg`): the same charts, series, colours, axis labels and
tick formats as the matplotlib figures they replace (issue 14: matplotlib's import alone
was over the 0.5 s budget of `qtc report`). Sizes are given in inches at 96 pixels per
inch, like those figures: a 9.4 × 3.1 in chart is 902 × 298 px and scales down with
`max-width: 100%`. Long daily series are thinned to `MAX_POINTS` per line (`thin`).

Colours: the strategy is always blue, the benchmark always orange, drawdowns red.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from qtc.outputs.svg import (
    MONTHS,
    TAB20,
    anchors,
    attrs,
    date_ticks,
    is_dark,
    log_ticks,
    nice_ticks,
    number_labels,
    percent_labels,
    ramp,
)
from qtc.outputs.svg_axes import Axes, Box, Figure, days, limits

STRATEGY_COLOR = "#1f5fa8"
BENCHMARK_COLOR = "#e8833a"
DRAWDOWN_COLOR = "#c0392b"
MUTED = "#555555"
PX_PER_IN = 96
WIDTH_IN = 9.4
HEIGHT_IN = 3.1
MAX_POINTS = 2000
TICK_SPACING = 22.7
"""Pixels per step between value ticks at least: twice the font (a 238 px axis: 9 steps)."""
SHORT_DASH = "3.2 1.6"
"""The dashes of short-window lines."""


def thin(dates: np.ndarray, *series: npt.NDArray[np.float64], points: int = MAX_POINTS) -> Any:
    """Keep each series' min and max per bucket of dates (visually lossless for lines).

    A daily series of D dates is drawn on about 900 pixels; keeping, per bucket of
    ceil(2 D / points) dates, the rows where any series has its minimum or maximum
    (plus the first and last rows) keeps every visible extreme with at most ~`points`
    rows per series. Short series are returned unchanged.

    Returns:
        (dates, *series) restricted to the kept rows.
    """
    n = dates.size
    if n <= points:
        return (dates, *series)
    size = math.ceil(2 * n / points)
    buckets = math.ceil(n / size)
    pad = buckets * size - n
    keep = [np.array([0, n - 1])]
    base = np.arange(buckets) * size
    for values in series:
        low = np.concatenate([np.where(np.isfinite(values), values, np.inf), np.full(pad, np.inf)])
        high = np.concatenate(
            [np.where(np.isfinite(values), values, -np.inf), np.full(pad, -np.inf)]
        )
        keep.append(base + low.reshape(buckets, size).argmin(axis=1))
        keep.append(base + high.reshape(buckets, size).argmax(axis=1))
        gap = ~np.isfinite(values)
        edge = gap & (np.roll(~gap, 1) | np.roll(~gap, -1))
        keep.append(np.flatnonzero(edge))
    kept = np.zeros(n, dtype=bool)
    kept[np.clip(np.concatenate(keep), 0, n - 1)] = True  # sorted, once (no np.unique:
    rows = np.flatnonzero(kept)  # it imports numpy.ma, 20-30 ms)
    return (dates[rows], *(values[rows] for values in series))


def percentile(values: npt.NDArray[np.float64], q: float) -> float:
    """The `q` quantile (0-1) of non-empty `values`, linear between the closest ranks.

    numpy's default method, without `np.percentile` (it imports numpy.ma, 20-30 ms).
    """
    ranked = np.sort(values)
    where = q * (ranked.size - 1)
    low = min(math.floor(where), ranked.size - 1)
    high = min(low + 1, ranked.size - 1)
    return float(ranked[low] + (ranked[high] - ranked[low]) * (where - low))


def _figure(chart_id: str, height: float = HEIGHT_IN, width: float = WIDTH_IN) -> Figure:
    """A new chart of `width` × `height` inches."""
    return Figure(chart_id, width * PX_PER_IN, height * PX_PER_IN)


def _box(
    fig: Figure,
    *,
    left: float = 0.85,
    right: float = 0.15,
    bottom: float = 0.5,
    top: float = 0.12,
) -> Box:
    """The plot box left by margins in inches."""
    return fig.box(left * PX_PER_IN, right * PX_PER_IN, top * PX_PER_IN, bottom * PX_PER_IN)


def _date_axes(
    fig: Figure, box: Box, dates: np.ndarray, ylim: tuple[float, float], *, ylog: bool = False
) -> Axes:
    """Axes whose x axis runs from the first to the last date."""
    return fig.add(box, (float(days(dates[0])), float(days(dates[-1]))), ylim, ylog=ylog)


def _date_axis(ax: Axes, *, label: str = "date", labels: bool = True) -> None:
    """Year, month or day ticks on the x axis (concise labels: 2008, Jul, 04)."""
    ticks = date_ticks(round(ax.x.low), round(ax.x.high))
    ax.xaxis([(float(d), t) for d, t in ticks], label=label if labels else "", labels=labels)


def value_ticks(ax: Axes) -> list[float]:
    """Round tick values for the y axis of `ax`, fewer on shorter axes."""
    bins = min(9, max(3, int(ax.box.height // TICK_SPACING)))
    return nice_ticks(ax.y.low, ax.y.high, bins)


def _pct_axis(ax: Axes, label: str) -> None:
    """A y axis of fractions shown as percentages."""
    ticks = value_ticks(ax)
    ax.yaxis(ticks, percent_labels(ticks), label=label)


def _num_axis(ax: Axes, label: str) -> None:
    """A y axis of plain numbers."""
    ticks = value_ticks(ax)
    ax.yaxis(ticks, number_labels(ticks), label=label)


def _usd(value: float) -> str:
    """Compact USD label: $950k, $1.2M, $3B."""
    for scale, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            text = f"{value / scale:.2f}".rstrip("0").rstrip(".")
            return f"${text}{unit}"
    return f"${value:,.0f}"


def _finite(values: npt.NDArray[np.float64]) -> bool:
    """True when at least one value is finite."""
    return bool(np.isfinite(values).any())


def equity_chart(
    dates: np.ndarray,
    equity: npt.NDArray[np.float64],
    bench: npt.NDArray[np.float64],
    *,
    strategy_label: str,
    benchmark_label: str,
    exits: Sequence[str] = (),
) -> str:
    """Equity vs the benchmark (rebased to the same money), log scale, in USD."""
    fig = _figure("chart-equity")
    ax = _date_axes(fig, _box(fig), dates, limits(equity, bench, log=True), ylog=True)
    x, y, b = thin(dates, equity, bench)
    if _finite(bench):
        ax.line(days(x), b, color=BENCHMARK_COLOR, label=benchmark_label)
    ax.line(days(x), y, color=STRATEGY_COLOR, label=strategy_label)  # over the benchmark
    ax.entries.reverse()  # the strategy first
    if exits:
        at = np.array(exits, dtype="datetime64[D]")
        rows = np.clip(np.searchsorted(dates, at), 0, dates.size - 1)
        ax.triangles(
            days(dates[rows]),
            equity[rows],
            color=DRAWDOWN_COLOR,
            size=8.4,
            label="drawdown exit (all sold)",
        )
    both = np.concatenate([equity, bench[np.isfinite(bench)]])
    ticks = log_ticks(float(both.min()), float(both.max()))
    ax.yaxis(ticks, [_usd(t) for t in ticks], label="value (USD, log scale)")
    _date_axis(ax)
    ax.spines()
    ax.legend("upper left")
    return fig.render("Equity vs benchmark, log scale (USD)")


def underwater_chart(
    dates: np.ndarray,
    drawdown: npt.NDArray[np.float64],
    bench_drawdown: npt.NDArray[np.float64],
    *,
    strategy_label: str,
    benchmark_label: str,
    troughs: Sequence[tuple[int, str]] = (),
) -> str:
    """Underwater chart: the drawdown from the running peak, with the worst ones numbered."""
    low = float(np.nanmin(np.concatenate([drawdown, bench_drawdown])))
    fig = _figure("chart-drawdown")
    ax = _date_axes(fig, _box(fig), dates, (min(low * 1.15, -0.01), 0.0))
    x, y, b = thin(dates, drawdown, bench_drawdown)
    ax.fill(days(x), y, 0.0, color=STRATEGY_COLOR, opacity=0.25, label=strategy_label)
    ax.line(days(x), y, color=STRATEGY_COLOR, width=1.2)
    if _finite(bench_drawdown):
        ax.line(days(x), b, color=BENCHMARK_COLOR, width=1.2, label=benchmark_label)
    for rank, day in troughs:
        row = min(int(np.searchsorted(dates, np.datetime64(day))), dates.size - 1)
        at = float(days(dates[row]))
        ax.note(at, float(drawdown[row]), str(rank), dy=13.3, color=DRAWDOWN_COLOR)
    _pct_axis(ax, "drawdown from peak (%)")
    _date_axis(ax)
    ax.spines()
    ax.legend("lower left")
    return fig.render("Drawdown from the running peak (%)")


def monthly_heatmap(years: Sequence[int], table: npt.NDArray[np.float64]) -> str | None:
    """Calendar-month returns (years × months) as a heatmap with the values written in.

    Colours run from red (a loss of `limit` or more) through yellow (0) to green (a gain
    of `limit` or more), `limit` being the 95th percentile of the absolute returns.
    """
    if not years or not _finite(table):
        return None
    limit = percentile(np.abs(table[np.isfinite(table)]), 0.95) or 0.01
    fig = _figure("chart-monthly", height=max(1.7, 0.75 + 0.24 * len(years)))
    box = _box(fig, left=0.75, right=1.1, bottom=0.5, top=0.1)
    ax = fig.add(box, (0.0, 12.0), (float(len(years)), 0.0))
    cells = []
    for (i, j), value in np.ndenumerate(table):
        if math.isfinite(value):
            fill = ramp("RdYlGn", (float(np.clip(value, -limit, limit)) + limit) / (2 * limit))
            ink = "#ffffff" if is_dark(fill) else "#222222"
            cells.append((i, j, fill, f"{value * 100:.1f}", ink))
    ax.cells(cells, size=10.0)
    ax.xaxis([(j + 0.5, MONTHS[j]) for j in range(12)], label="month", grid=False, tick=0.0)
    rows = [i + 0.5 for i in range(len(years))]
    ax.yaxis(rows, [str(y) for y in years], label="year", grid=False, tick=0.0)
    _colorbar(fig, box, limit, "RdYlGn", "monthly return (%)")
    return fig.render("Monthly returns (%), strategy")


def _colorbar(fig: Figure, box: Box, limit: float, name: str, label: str) -> None:
    """A vertical colour ramp from -limit to +limit right of `box`, with percent ticks."""
    gap, width = 0.012 * fig.width, 0.012 * fig.width
    bar = Box(box.right + gap, box.top, width, box.height)
    ax = fig.add(bar, (0.0, 1.0), (-limit, limit))
    ramp_id = f"{fig.chart_id}-ramp"
    table = anchors(name)
    stops = "".join(
        f'<stop offset="{k / (len(table) - 1):.4g}" stop-color="{color}"/>'
        for k, color in enumerate(table)
    )
    fig.defs.append(
        f'<linearGradient id="{ramp_id}" x1="0" y1="1" x2="0" y2="0">{stops}</linearGradient>'
    )
    area = attrs(x=bar.left, y=bar.top, width=bar.width, height=bar.height)
    ax.over.insert(0, f'<rect{area} fill="url(#{ramp_id})"/>')
    ticks = value_ticks(ax)
    ax.yaxis(ticks, percent_labels(ticks), label=label, grid=False, right=True)


def annual_chart(
    labels: Sequence[str],
    strategy: Sequence[float | None],
    benchmark: Sequence[float | None],
    *,
    strategy_label: str,
    benchmark_label: str,
) -> str | None:
    """Calendar-year returns, strategy and benchmark side by side."""
    if not labels:
        return None
    strat = np.nan_to_num(
        np.array([np.nan if v is None else v for v in strategy], dtype=np.float64)
    )
    raw = np.array([np.nan if v is None else v for v in benchmark], dtype=np.float64)
    bench = np.nan_to_num(raw)
    x = np.arange(len(labels), dtype=np.float64)
    rotate = len(labels) > 12
    pad = max(0.0, (6 - len(labels)) / 2)  # a few years: keep the bars narrow
    fig = _figure("chart-annual")
    shown = [strat, bench] if _finite(raw) else [strat]
    ylim = limits(0.0, *shown, sticky=0.0)
    ax = fig.add(
        _box(fig, bottom=0.75 if rotate else 0.5), (-0.6 - pad, len(labels) - 0.4 + pad), ylim
    )
    ax.bars(x - 0.2, strat, 0.4, color=STRATEGY_COLOR, label=strategy_label)
    if _finite(raw):
        ax.bars(x + 0.2, bench, 0.4, color=BENCHMARK_COLOR, label=benchmark_label)
    ax.hline(0.0)
    ax.xaxis(
        list(zip(x, labels, strict=True)),
        label="calendar year (* partial)",
        grid=False,
        rotate=rotate,
    )
    _pct_axis(ax, "return in the year (%)")
    ax.spines()
    ax.legend("best")
    return fig.render("Annual returns (%), strategy and benchmark")


def rolling_chart(
    dates: np.ndarray,
    lines: Sequence[tuple[str, npt.NDArray[np.float64], str, bool]],
    *,
    chart_id: str,
    title: str,
    ylabel: str,
    percent: bool,
) -> str | None:
    """Rolling statistics: lines of (label, values, colour, long window)."""
    shown = [line for line in lines if _finite(line[1])]
    if not shown:
        return None
    x, *ys = thin(dates, *(line[1] for line in shown))
    fig = _figure(chart_id)
    ax = _date_axes(fig, _box(fig), dates, limits(*ys))
    for (label, _values, color, long_window), y in zip(shown, ys, strict=True):
        ax.line(
            days(x),
            y,
            color=color,
            width=1.7 if long_window else 1.1,
            opacity=None if long_window else 0.6,
            dash=None if long_window else SHORT_DASH,
            label=label,
        )
    if percent:
        _pct_axis(ax, ylabel)
    else:
        ax.hline(0.0)
        _num_axis(ax, ylabel)
    _date_axis(ax)
    ax.spines()
    ax.legend("upper left", ncols=2)
    return fig.render(title)


def activity_chart(
    dates: np.ndarray,
    exposure: npt.NDArray[np.float64],
    holdings: npt.NDArray[np.float64],
    month_ends: np.ndarray,
    turnover: npt.NDArray[np.float64],
) -> str:
    """Gross exposure, number of holdings and monthly turnover, stacked on one date axis."""
    fig = _figure("chart-activity", height=5.2)
    top, mid, low = (
        _date_axes(fig, box, dates, ylim)
        for box, ylim in zip(
            _panels(_box(fig, left=1.0, top=0.1), 3, 0.12),
            [
                (0.0, max(1.05, float(np.nanmax(exposure)) * 1.05)),
                (0.0, max(1.0, float(np.nanmax(holdings)) * 1.15)),
                (0.0, max(0.01, float(np.nanmax(turnover)) * 1.15)),
            ],
            strict=True,
        )
    )
    x, gross, count = thin(dates, exposure, holdings)
    top.line(days(x), gross, color=STRATEGY_COLOR, label="gross exposure")
    _pct_axis(top, "gross exposure\n(% of equity)")
    mid.step(days(x), count, color=STRATEGY_COLOR, label="names held")
    _num_axis(mid, "holdings\n(names)")
    edges = np.concatenate([[dates[0]], month_ends[:-1] + np.timedelta64(1, "D"), [month_ends[-1]]])
    label = "one-way turnover in the month"
    low.stairs(turnover, days(edges), color=STRATEGY_COLOR, opacity=0.85, label=label)
    _pct_axis(low, "turnover\n(% of equity)")
    for ax in (top, mid, low):
        _date_axis(ax, labels=ax is low)
        ax.spines()
        ax.legend("lower left")
    return fig.render("Gross exposure, holdings and monthly turnover over time")


def _panels(box: Box, n: int, space: float) -> list[Box]:
    """`box` cut into `n` panels stacked top to bottom, `space` panel heights apart."""
    height = box.height / (n + space * (n - 1))
    return [Box(box.left, box.top + k * height * (1 + space), box.width, height) for k in range(n)]


def sector_colors(sectors: Sequence[str]) -> list[str]:
    """A tab20 colour per sector, by the sector's rank in alphabetical order."""
    by_name = sorted(sectors)
    ranks = [by_name.index(s) for s in sectors]
    return [TAB20[(2 * r) % 20 + (r // 10) % 2] for r in ranks]


def sector_chart(
    month_ends: np.ndarray, sectors: Sequence[str], weights: npt.NDArray[np.float64]
) -> str | None:
    """Sector weights at each month end, stacked (the rest is cash)."""
    if not sectors or not weights.size or not bool((weights != 0).any()):
        return None
    colors = sector_colors(sectors)
    fig = _figure("chart-sectors", height=3.4)
    box = _box(fig, right=2.3)
    ylim = (0.0, max(1.0, float(weights.sum(axis=1).max())))
    at = days(month_ends)
    if month_ends.size == 1:  # one month: one stacked bar, 10 days wide
        ax = fig.add(box, (at[0] - 45.0, at[0] + 45.0), ylim)
        bottoms = np.concatenate([[0.0], np.cumsum(weights[0])[:-1]])
        for k, sector in enumerate(sectors):
            ax.bars(
                at, weights[0, k : k + 1], 10.0, color=colors[k], bottom=bottoms[k], label=sector
            )
    else:
        ax = fig.add(box, (float(at[0]), float(at[-1])), ylim)
        ax.stack(at, weights.T, colors=colors, labels=list(sectors))
    _pct_axis(ax, "weight (% of equity)")
    _date_axis(ax, label="month end")
    ax.spines()
    ax.legend(size=10.0, reverse=True, outside=True)
    return fig.render("Sector weights at month ends (% of equity)")
