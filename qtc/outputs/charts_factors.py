"""Charts of the report's factor tear sheet (`qtc validate`): inline, deterministic SVG.

Drawn like every other chart of the report (`qtc.outputs.charts`: the same style, figure
size and SVG post-processing). Quantile buckets run from Q1 (lowest signal, red) to Qq
(highest, blue).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from qtc.outputs.charts import (
    BENCHMARK_COLOR,
    DRAWDOWN_COLOR,
    STRATEGY_COLOR,
    _date_axis,
    _figure,
    _finish,
    _legend,
    _pct_axis,
    _style,
    thin,
)

Array = npt.NDArray[np.float64]
MAX_BARS = 600
"""Above this many dates, the IC series is drawn as a line instead of bars."""


def quantile_colors(n: int) -> list[str]:
    """Colours from red (Q1) to blue (Qn), `n` of them."""
    import matplotlib
    from matplotlib.colors import to_hex

    ramp = matplotlib.colormaps["coolwarm_r"]
    return [to_hex(ramp(0.05 + 0.9 * i / max(n - 1, 1))) for i in range(n)]


def ic_chart(
    dates: np.ndarray, rank_ic: Array, rolling: Array, *, window: int, horizon: int
) -> str | None:
    """Rank IC per signal date (bars, or a line for long daily series) and its rolling mean."""
    if not np.isfinite(rank_ic).any():
        return None
    with _style():
        fig = _figure()
        ax = fig.add_subplot()
        shown = np.nan_to_num(rank_ic)
        if dates.size <= MAX_BARS:
            gap = np.diff(dates.astype("int64")).min() if dates.size > 1 else 20
            colors = [STRATEGY_COLOR if v >= 0 else DRAWDOWN_COLOR for v in shown]
            ax.bar(dates, shown, width=0.8 * float(gap), color=colors, label="rank IC")
        else:
            x, y = thin(dates, shown)
            ax.plot(x, y, color=STRATEGY_COLOR, linewidth=0.5, alpha=0.6, label="rank IC")
        if np.isfinite(rolling).any():
            x, y = thin(dates, rolling)
            ax.plot(x, y, color=BENCHMARK_COLOR, linewidth=1.6, label=f"mean of the last {window}")
        ax.axhline(0.0, color="#888888", linewidth=0.8)
        ax.set_ylabel(f"rank IC, {horizon}-day returns")
        ax.set_xlim(dates[0], dates[-1])
        _date_axis(ax)
        _legend(ax, loc="upper left", ncols=2)
        return _finish(
            fig,
            "chart-factor-ic",
            f"Rank IC of the score per signal date ({horizon}-day forward returns)",
        )


def quantile_chart(horizons: Sequence[int], means: Sequence[Sequence[float | None]]) -> str | None:
    """Mean forward return of each quantile bucket, one bar per horizon."""
    table = np.array([[np.nan if v is None else v for v in row] for row in means], dtype=np.float64)
    if table.size == 0 or not np.isfinite(table).any():
        return None
    n_q = table.shape[1]
    x = np.arange(n_q)
    width = 0.8 / len(horizons)
    shades = _shades(len(horizons))
    with _style():
        fig = _figure()
        ax = fig.add_subplot()
        for i, (horizon, row) in enumerate(zip(horizons, table, strict=True)):
            offset = (i - (len(horizons) - 1) / 2) * width
            ax.bar(
                x + offset, np.nan_to_num(row), width=width, color=shades[i], label=f"{horizon}d"
            )
        ax.axhline(0.0, color="#888888", linewidth=0.8)
        ax.set_xticks(x, [f"Q{i + 1}" for i in range(n_q)])
        ax.grid(axis="x", visible=False)
        _pct_axis(ax)
        ax.set_ylabel("mean forward return (%)")
        ax.set_xlabel("quantile of the score (Q1 lowest)")
        _legend(ax, loc="best", ncols=len(horizons))
        return _finish(
            fig,
            "chart-factor-quantiles",
            "Mean forward return by quantile of the score, per horizon",
        )


def decay_chart(
    horizons: Sequence[int], series: Sequence[tuple[str, Sequence[float | None]]]
) -> str | None:
    """Mean rank IC against the horizon, one line per signal (the score in bold)."""
    if not series:
        return None
    x = np.arange(len(horizons))
    with _style():
        fig = _figure()
        ax = fig.add_subplot()
        for i, (name, values) in enumerate(series):
            y = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
            main = i == 0
            ax.plot(
                x,
                y,
                marker="o",
                markersize=4 if main else 3,
                linewidth=1.8 if main else 1.0,
                color=STRATEGY_COLOR if main else None,
                label=name,
            )
        ax.axhline(0.0, color="#888888", linewidth=0.8)
        ax.set_xticks(x, [f"{h}d" for h in horizons])
        ax.set_ylabel("mean rank IC")
        ax.set_xlabel("forward-return horizon (trading days)")
        _legend(ax, loc="best", ncols=min(len(series), 4))
        return _finish(fig, "chart-factor-decay", "IC decay: mean rank IC by horizon")


def cumulative_chart(dates: np.ndarray, growth: Array) -> str | None:
    """Growth of 1 held in each quantile of the score, signal to next signal."""
    if growth.size == 0 or dates.size < 2:
        return None
    colors = quantile_colors(growth.shape[1])
    with _style():
        fig = _figure()
        ax = fig.add_subplot()
        x, *ys = thin(dates, *(growth[:, i] for i in range(growth.shape[1])))
        for i, y in enumerate(ys):
            ax.plot(x, y, color=colors[i], linewidth=1.2, label=f"Q{i + 1}")
        ax.set_yscale("log")
        ax.set_ylabel("growth of 1 (log scale)")
        ax.set_xlim(dates[0], dates[-1])
        _date_axis(ax)
        _legend(ax, loc="upper left", ncols=min(growth.shape[1], 10))
        return _finish(
            fig, "chart-factor-cumulative", "Cumulative return of each quantile of the score"
        )


def _shades(n: int) -> list[str]:
    """Blues from light to dark (the horizons, short to long), `n` of them."""
    import matplotlib
    from matplotlib.colors import to_hex

    ramp = matplotlib.colormaps["Blues"]
    return [to_hex(ramp(0.35 + 0.6 * i / max(n - 1, 1))) for i in range(n)]
