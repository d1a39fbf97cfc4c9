"""Charts of the report's factor tear sheet (`qtc validate`): inline, deterministic SVG.

Drawn like every other chart of the report (`qtc.outputs.charts`: the same sizes, fonts,
axes and SVG conventions, no matplotlib). Quantile buckets run from Q1 (lowest signal,
red) to Qq (highest, blue) along matplotlib's coolwarm ramp reversed; the horizons of the
quantile chart are shades of its Blues ramp, short to long (`qtc.outputs.svg.ramp`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from qtc.outputs.charts import (
    BENCHMARK_COLOR,
    DRAWDOWN_COLOR,
    STRATEGY_COLOR,
    _box,
    _date_axes,
    _date_axis,
    _figure,
    _num_axis,
    _pct_axis,
    thin,
)
from qtc.outputs.svg import TAB10, log_ticks, number_labels, ramp
from qtc.outputs.svg_axes import days, limits

Array = npt.NDArray[np.float64]
MAX_BARS = 600
"""Above this many dates, the IC series is drawn as a line instead of bars."""


def quantile_colors(n: int) -> list[str]:
    """Colours from red (Q1) to blue (Qn), `n` of them."""
    return [ramp("coolwarm_r", 0.05 + 0.9 * i / max(n - 1, 1)) for i in range(n)]


def _shades(n: int) -> list[str]:
    """Blues from light to dark (the horizons, short to long), `n` of them."""
    return [ramp("Blues", 0.35 + 0.6 * i / max(n - 1, 1)) for i in range(n)]


def _floats(values: Sequence[float | None]) -> Array:
    """Values as floats, None as NaN."""
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def ic_chart(
    dates: np.ndarray, rank_ic: Array, rolling: Array, *, window: int, horizon: int
) -> str | None:
    """Rank IC per signal date (bars, or a line for long daily series) and its rolling mean."""
    if not np.isfinite(rank_ic).any():
        return None
    shown = np.nan_to_num(rank_ic)
    fig = _figure("chart-factor-ic")
    ax = _date_axes(fig, _box(fig), dates, limits(0.0, shown, rolling))
    if dates.size <= MAX_BARS:
        gap = float(np.diff(days(dates)).min()) if dates.size > 1 else 20.0
        colors = [STRATEGY_COLOR if v >= 0 else DRAWDOWN_COLOR for v in shown]
        ax.bars(days(dates), shown, 0.8 * gap, color=colors, label="rank IC")
    else:
        x, y = thin(dates, shown)
        ax.line(days(x), y, color=STRATEGY_COLOR, width=0.7, opacity=0.6, label="rank IC")
    if np.isfinite(rolling).any():
        x, y = thin(dates, rolling)
        label = f"mean of the last {window}"
        ax.line(days(x), y, color=BENCHMARK_COLOR, width=2.1, label=label)
    ax.hline(0.0)
    _num_axis(ax, f"rank IC, {horizon}-day returns")
    _date_axis(ax)
    ax.spines()
    ax.legend("upper left", ncols=2)
    return fig.render(f"Rank IC of the score per signal date ({horizon}-day forward returns)")


def quantile_chart(horizons: Sequence[int], means: Sequence[Sequence[float | None]]) -> str | None:
    """Mean forward return of each quantile bucket, one bar per horizon."""
    table = np.array([_floats(row) for row in means], dtype=np.float64)
    if table.size == 0 or not np.isfinite(table).any():
        return None
    n_q = table.shape[1]
    x = np.arange(n_q, dtype=np.float64)
    width = 0.8 / len(horizons)
    shades = _shades(len(horizons))
    fig = _figure("chart-factor-quantiles")
    xlim = limits([-0.4, n_q - 0.6])
    ax = fig.add(_box(fig), xlim, limits(0.0, np.nan_to_num(table), sticky=0.0))
    for i, (horizon, row) in enumerate(zip(horizons, table, strict=True)):
        offset = (i - (len(horizons) - 1) / 2) * width
        ax.bars(x + offset, np.nan_to_num(row), width, color=shades[i], label=f"{horizon}d")
    ax.hline(0.0)
    ticks = [(float(i), f"Q{i + 1}") for i in range(n_q)]
    ax.xaxis(ticks, label="quantile of the score (Q1 lowest)", grid=False)
    _pct_axis(ax, "mean forward return (%)")
    ax.spines()
    ax.legend("best", ncols=len(horizons))
    return fig.render("Mean forward return by quantile of the score, per horizon")


def decay_chart(
    horizons: Sequence[int], series: Sequence[tuple[str, Sequence[float | None]]]
) -> str | None:
    """Mean rank IC against the horizon, one line per signal (the score in bold)."""
    if not series:
        return None
    x = np.arange(len(horizons), dtype=np.float64)
    values = [_floats(v) for _name, v in series]
    fig = _figure("chart-factor-decay")
    ax = fig.add(_box(fig), limits(x), limits(0.0, *values))
    for i, ((name, _v), y) in enumerate(zip(series, values, strict=True)):
        main = i == 0
        color = STRATEGY_COLOR if main else TAB10[(i - 1) % len(TAB10)]
        width, marker = (2.4, 2.7) if main else (1.3, 2.0)
        ax.line(x, y, color=color, width=width, marker=marker, label=name)
    ax.hline(0.0)
    ticks = [(float(i), f"{h}d") for i, h in enumerate(horizons)]
    ax.xaxis(ticks, label="forward-return horizon (trading days)")
    _num_axis(ax, "mean rank IC")
    ax.spines()
    ax.legend("best", ncols=min(len(series), 4))
    return fig.render("IC decay: mean rank IC by horizon")


def cumulative_chart(dates: np.ndarray, growth: Array) -> str | None:
    """Growth of 1 held in each quantile of the score, signal to next signal."""
    if growth.size == 0 or dates.size < 2:
        return None
    colors = quantile_colors(growth.shape[1])
    fig = _figure("chart-factor-cumulative")
    ax = _date_axes(fig, _box(fig), dates, limits(growth, log=True), ylog=True)
    x, *ys = thin(dates, *(growth[:, i] for i in range(growth.shape[1])))
    for i, y in enumerate(ys):
        ax.line(days(x), y, color=colors[i], width=1.6, label=f"Q{i + 1}")
    finite = growth[np.isfinite(growth) & (growth > 0)]
    ticks = log_ticks(float(finite.min()), float(finite.max())) if finite.size else []
    ax.yaxis(ticks, number_labels(ticks), label="growth of 1 (log scale)")
    _date_axis(ax)
    ax.spines()
    ax.legend("upper left", ncols=min(growth.shape[1], 10))
    return fig.render("Cumulative return of each quantile of the score")
