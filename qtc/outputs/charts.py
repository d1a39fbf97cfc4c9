"""Charts of the HTML report: matplotlib figures as inline, deterministic SVG strings.

Why matplotlib: it is already installed (through quantstats), draws server-side without a
browser or JavaScript, and its SVG backend can be made byte-deterministic. No pyplot: each
chart is a `matplotlib.figure.Figure` rendered by the SVG backend inside an
`rc_context`, so nothing global changes and no GUI backend is touched.

Determinism and self-containment (every output is post-processed by `_finish`):

* `svg.hashsalt` is fixed (clip-path and marker ids are hashes salted with it) and the
  `Date` metadata is dropped; the whole `<metadata>` block (creator, matplotlib version
  and RDF namespace URLs) is removed, as are the XML prolog, DOCTYPE and `xmlns`
  attributes (inline SVG in HTML does not need them), so a chart holds no URL at all.
* `svg.fonttype = "none"`: text stays text (selectable, small); layout is measured with
  matplotlib's bundled DejaVu Sans, so it does not depend on the fonts of the machine.
* Ids that nothing references are removed; the others get a per-chart prefix, so ids are
  unique in the page. Path coordinates are cut to 2 decimals (1/100 pt).
* Width and height are written in CSS pixels (96 per inch): a 9.4 × 3.1 in chart is
  about 900 × 300 px and scales down with `max-width: 100%`.

Colours: the strategy is always blue and the benchmark always orange.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

STRATEGY_COLOR = "#1f5fa8"
BENCHMARK_COLOR = "#e8833a"
DRAWDOWN_COLOR = "#c0392b"
MUTED = "#555555"
WIDTH_IN = 9.4
HEIGHT_IN = 3.1
CSS_DPI = 96
SVG_PT_PER_IN = 72
MAX_POINTS = 2000

RC: dict[RcKeyType, Any] = {
    "svg.hashsalt": "qtc-report",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Helvetica", "Arial"],
    "font.size": 8.5,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 8.5,
    "axes.labelcolor": "#333333",
    "axes.edgecolor": "#888888",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e4e4e4",
    "grid.linewidth": 0.6,
    "xtick.color": "#444444",
    "ytick.color": "#444444",
    "legend.frameon": False,
    "legend.fontsize": 8,
    "lines.linewidth": 1.2,
    "path.simplify": True,
    "path.simplify_threshold": 0.25,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}

_PROLOG = re.compile(r"^.*?(?=<svg\b)", re.S)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)
_STYLE = re.compile(r"\s*<defs>\s*<style[^>]*>.*?</style>\s*</defs>", re.S)
_XMLNS = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')
_SIZE = re.compile(r'width="([\d.]+)pt" height="([\d.]+)pt"')
_ID = re.compile(r'\s+id="([^"]+)"')
_REF = re.compile(r'(xlink:href="#|href="#|url\(#)([^")]+)')
_PATH_D = re.compile(r' d="([^"]*)"')
_DECIMALS = re.compile(r"(\.\d\d)\d+")


@contextmanager
def _style() -> Iterator[None]:
    """The report's matplotlib settings (fonts, grid, SVG determinism), restored after."""
    import matplotlib

    with matplotlib.rc_context():
        matplotlib.rcdefaults()  # independent of styles others set (quantstats uses seaborn's)
        with matplotlib.rc_context(RC):
            yield


def _figure(
    height: float = HEIGHT_IN,
    width: float = WIDTH_IN,
    *,
    left: float = 0.85,
    right: float = 0.15,
    bottom: float = 0.5,
    top: float = 0.12,
    hspace: float = 0.12,
) -> Figure:
    """A new figure (no pyplot) with fixed margins in inches (faster than a layout engine)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(
        left=left / width,
        right=1.0 - right / width,
        bottom=bottom / height,
        top=1.0 - top / height,
        hspace=hspace,
    )
    return fig


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
    rows = np.unique(np.clip(np.concatenate(keep), 0, n - 1))
    return (dates[rows], *(values[rows] for values in series))


def _finish(fig: Figure, chart_id: str, title: str) -> str:
    """Render `fig` to a deterministic inline SVG string (see the module docstring)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = _PROLOG.sub("", buf.getvalue(), count=1)
    svg = _METADATA.sub("", svg, count=1)
    svg = _STYLE.sub("", svg, count=1)
    svg = _XMLNS.sub("", svg)
    referenced = {m.group(2) for m in _REF.finditer(svg)}

    def rename(match: re.Match[str]) -> str:
        name = match.group(1)
        return f' id="{chart_id}-{name}"' if name in referenced else ""

    svg = _ID.sub(rename, svg)
    svg = _REF.sub(lambda m: f"{m.group(1)}{chart_id}-{m.group(2)}", svg)
    svg = _PATH_D.sub(lambda m: ' d="' + _DECIMALS.sub(r"\1", m.group(1)) + '"', svg)

    def size(match: re.Match[str]) -> str:
        w = round(float(match.group(1)) * CSS_DPI / SVG_PT_PER_IN)
        h = round(float(match.group(2)) * CSS_DPI / SVG_PT_PER_IN)
        return f'width="{w}" height="{h}" role="img" aria-labelledby="{chart_id}-title"'

    svg = _SIZE.sub(size, svg, count=1)
    head_end = svg.index(">") + 1
    label = f'<title id="{chart_id}-title">{_xml_escape(title)}</title>'
    svg = f"{svg[:head_end]}\n {label}{svg[head_end:]}"
    svg = svg.replace("<svg ", f'<svg class="chart" id="{chart_id}" ', 1)
    return svg.strip() + "\n"


def _xml_escape(text: str) -> str:
    """Escape text for an XML element."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _date_axis(ax: Axes) -> None:
    """Concise date ticks on the x axis."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)  # type: ignore[no-untyped-call]
    formatter = mdates.ConciseDateFormatter(locator, show_offset=False)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(formatter)
    ax.set_xlabel("date")


def _legend(ax: Axes, **kwargs: Any) -> None:
    """A legend on a translucent white box (readable over the lines)."""
    ax.legend(frameon=True, facecolor="white", edgecolor="none", framealpha=0.85, **kwargs)


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
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

    with _style():
        fig = _figure()
        ax = fig.add_subplot()
        x, y, b = thin(dates, equity, bench)
        ax.plot(x, y, color=STRATEGY_COLOR, label=strategy_label, zorder=3)
        if _finite(bench):
            ax.plot(x, b, color=BENCHMARK_COLOR, label=benchmark_label, zorder=2)
        if exits:
            at = np.array(exits, dtype="datetime64[D]")
            rows = np.clip(np.searchsorted(dates, at), 0, dates.size - 1)
            ax.scatter(
                dates[rows],
                equity[rows],
                marker="v",
                s=28,
                color=DRAWDOWN_COLOR,
                label="drawdown exit (all sold)",
                zorder=4,
            )
        ax.set_yscale("log")
        both = np.concatenate([equity, bench[np.isfinite(bench)]])
        ax.yaxis.set_major_locator(FixedLocator(_log_ticks(float(both.min()), float(both.max()))))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _usd(v)))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_ylabel("value (USD, log scale)")
        ax.set_xlim(dates[0], dates[-1])
        _date_axis(ax)
        _legend(ax, loc="upper left")
        return _finish(fig, "chart-equity", "Equity vs benchmark, log scale (USD)")


def _log_ticks(low: float, high: float) -> list[float]:
    """About 4-8 round tick values between low and high for a log axis."""
    if not (math.isfinite(low) and math.isfinite(high)) or low <= 0:
        return []
    if high <= low:
        return [low]
    if high / low > 8:
        out = []
        for exp in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
            out += [m * 10.0**exp for m in (1, 2, 5)]
        ticks = [t for t in out if low <= t <= high]
        return ticks if len(ticks) >= 2 else out
    from matplotlib.ticker import MaxNLocator

    locs = MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)
    return [float(t) for t in locs if low * 0.98 <= t <= high * 1.02 and t > 0]


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
    with _style():
        fig = _figure()
        ax = fig.add_subplot()
        x, y, b = thin(dates, drawdown, bench_drawdown)
        ax.fill_between(
            x, y, 0.0, color=STRATEGY_COLOR, alpha=0.25, linewidth=0, label=strategy_label
        )
        ax.plot(x, y, color=STRATEGY_COLOR, linewidth=0.9)
        if _finite(bench_drawdown):
            ax.plot(x, b, color=BENCHMARK_COLOR, label=benchmark_label, linewidth=0.9)
        for rank, day in troughs:
            row = min(int(np.searchsorted(dates, np.datetime64(day))), dates.size - 1)
            ax.annotate(
                str(rank),
                (dates[row], drawdown[row]),
                textcoords="offset points",
                xytext=(0, -10),
                ha="center",
                fontsize=7.5,
                fontweight="bold",
                color=DRAWDOWN_COLOR,
            )
        low = float(np.nanmin(np.concatenate([drawdown, bench_drawdown])))
        ax.set_ylim(min(low * 1.15, -0.01), 0.0)
        _pct_axis(ax)
        ax.set_ylabel("drawdown from peak (%)")
        ax.set_xlim(dates[0], dates[-1])
        _date_axis(ax)
        _legend(ax, loc="lower left")
        return _finish(fig, "chart-drawdown", "Drawdown from the running peak (%)")


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def monthly_heatmap(years: Sequence[int], table: npt.NDArray[np.float64]) -> str | None:
    """Calendar-month returns (years × months) as a heatmap with the values written in."""
    if not years or not _finite(table):
        return None
    from matplotlib.colors import TwoSlopeNorm

    limit = float(np.nanpercentile(np.abs(table), 95)) or 0.01
    norm = TwoSlopeNorm(vmin=-limit, vcenter=0.0, vmax=limit)
    height = max(1.7, 0.75 + 0.24 * len(years))
    with _style():
        fig = _figure(height=height, left=0.75, right=1.1, bottom=0.5, top=0.1)
        ax = fig.add_subplot()
        data = np.ma.masked_invalid(table)
        mesh = ax.pcolormesh(data, cmap="RdYlGn", norm=norm, edgecolors="white", linewidth=0.8)
        cmap = mesh.get_cmap()
        for (i, j), value in np.ndenumerate(table):
            if not math.isfinite(value):
                continue
            shade = cmap(norm(float(np.clip(value, -limit, limit))))
            dark = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2] < 0.45
            ax.text(
                j + 0.5,
                i + 0.5,
                f"{value * 100:.1f}",
                ha="center",
                va="center",
                fontsize=7.5,
                color="white" if dark else "#222222",
            )
        ax.set_xticks(np.arange(12) + 0.5, MONTHS)
        ax.set_yticks(np.arange(len(years)) + 0.5, [str(y) for y in years])
        ax.set_xlim(0, 12)
        ax.set_ylim(len(years), 0)
        ax.grid(False)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xlabel("month")
        ax.set_ylabel("year")
        box = ax.get_position()
        cax = fig.add_axes((box.x1 + 0.012, box.y0, 0.012, box.height))
        bar = fig.colorbar(mesh, cax=cax)
        bar.set_label("monthly return (%)")
        bar.ax.yaxis.set_major_formatter(_pct_formatter())
        bar.outline.set_visible(False)
        return _finish(fig, "chart-monthly", "Monthly returns (%), strategy")


def _pct_formatter(decimals: int | None = None) -> Any:
    """A tick formatter for fractions shown as percentages (decimals from the axis range)."""
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=decimals)


def _pct_axis(ax: Axes) -> None:
    """Format the y axis as percentages of fractions."""
    ax.yaxis.set_major_formatter(_pct_formatter())


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
    strat = np.array([np.nan if v is None else v for v in strategy], dtype=np.float64)
    bench = np.array([np.nan if v is None else v for v in benchmark], dtype=np.float64)
    x = np.arange(len(labels))
    rotate = len(labels) > 12
    with _style():
        fig = _figure(bottom=0.75 if rotate else 0.5)
        ax = fig.add_subplot()
        ax.bar(x - 0.2, np.nan_to_num(strat), width=0.4, color=STRATEGY_COLOR, label=strategy_label)
        if _finite(bench):
            ax.bar(
                x + 0.2,
                np.nan_to_num(bench),
                width=0.4,
                color=BENCHMARK_COLOR,
                label=benchmark_label,
            )
        ax.axhline(0.0, color="#888888", linewidth=0.8)
        ax.set_xticks(x, labels, rotation=45 if rotate else 0, ha="right" if rotate else "center")
        pad = max(0.0, (6 - len(labels)) / 2)  # a few years: keep the bars narrow
        ax.set_xlim(-0.6 - pad, len(labels) - 0.4 + pad)
        ax.grid(axis="x", visible=False)
        _pct_axis(ax)
        ax.set_ylabel("return in the year (%)")
        ax.set_xlabel("calendar year (* partial)")
        _legend(ax, loc="best")
        return _finish(fig, "chart-annual", "Annual returns (%), strategy and benchmark")


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
    with _style():
        fig = _figure()
        ax = fig.add_subplot()
        x, *ys = thin(dates, *(line[1] for line in shown))
        for (label, _values, color, long_window), y in zip(shown, ys, strict=True):
            ax.plot(
                x,
                y,
                color=color,
                label=label,
                linewidth=1.3 if long_window else 0.8,
                alpha=1.0 if long_window else 0.6,
                linestyle="-" if long_window else (0, (3, 1.5)),
            )
        if percent:
            _pct_axis(ax)
        else:
            ax.axhline(0.0, color="#888888", linewidth=0.8)
        ax.set_ylabel(ylabel)
        ax.set_xlim(dates[0], dates[-1])
        _date_axis(ax)
        _legend(ax, loc="upper left", ncols=2)
        return _finish(fig, chart_id, title)


def activity_chart(
    dates: np.ndarray,
    exposure: npt.NDArray[np.float64],
    holdings: npt.NDArray[np.float64],
    month_ends: np.ndarray,
    turnover: npt.NDArray[np.float64],
) -> str:
    """Gross exposure, number of holdings and monthly turnover, stacked on one date axis."""
    with _style():
        fig = _figure(height=5.2, left=1.0, top=0.1)
        top, mid, low = fig.subplots(3, 1, sharex=True)
        x, gross, count = thin(dates, exposure, holdings)
        top.plot(x, gross, color=STRATEGY_COLOR, label="gross exposure")
        top.set_ylim(0.0, max(1.05, float(np.nanmax(exposure)) * 1.05))
        _pct_axis(top)
        top.set_ylabel("gross exposure\n(% of equity)")
        mid.step(x, count, where="post", color=STRATEGY_COLOR, label="names held")
        mid.set_ylim(0.0, max(1.0, float(np.nanmax(holdings)) * 1.15))
        mid.set_ylabel("holdings\n(names)")
        edges = np.concatenate(
            [[dates[0]], month_ends[:-1] + np.timedelta64(1, "D"), [month_ends[-1]]]
        ).astype("datetime64[D]")
        low.stairs(
            turnover,
            edges,
            fill=True,
            color=STRATEGY_COLOR,
            alpha=0.85,
            label="one-way turnover in the month",
        )
        low.set_ylim(0.0, max(0.01, float(np.nanmax(turnover)) * 1.15))
        _pct_axis(low)
        low.set_ylabel("turnover\n(% of equity)")
        low.set_xlim(dates[0], dates[-1])
        _date_axis(low)
        for ax in (top, mid, low):
            _legend(ax, loc="lower left")
        return _finish(
            fig, "chart-activity", "Gross exposure, holdings and monthly turnover over time"
        )


def sector_chart(
    month_ends: np.ndarray, sectors: Sequence[str], weights: npt.NDArray[np.float64]
) -> str | None:
    """Sector weights at each month end, stacked (the rest is cash)."""
    if not sectors or not weights.size or not bool((weights != 0).any()):
        return None
    import matplotlib

    cmap = matplotlib.colormaps["tab20"]
    palette = [cmap(i) for i in range(20)]
    by_name = sorted(sectors)
    colors = [palette[(2 * by_name.index(s)) % 20 + (by_name.index(s) // 10) % 2] for s in sectors]
    with _style():
        fig = _figure(height=3.4, right=2.3)
        ax = fig.add_subplot()
        if month_ends.size == 1:  # one month: one stacked bar
            bottom = 0.0
            for k, sector in enumerate(sectors):
                ax.bar(
                    month_ends,
                    weights[0, k],
                    bottom=bottom,
                    width=np.timedelta64(10, "D"),
                    color=colors[k],
                    label=sector,
                )
                bottom += float(weights[0, k])
            ax.set_xlim(
                month_ends[0] - np.timedelta64(45, "D"), month_ends[0] + np.timedelta64(45, "D")
            )
        else:
            ax.stackplot(month_ends, weights.T, labels=list(sectors), colors=colors, linewidth=0)
            ax.set_xlim(month_ends[0], month_ends[-1])
        ax.set_ylim(0.0, max(1.0, float(weights.sum(axis=1).max())))
        _pct_axis(ax)
        ax.set_ylabel("weight (% of equity)")
        _date_axis(ax)
        ax.set_xlabel("month end")
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(
            handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5
        )
        return _finish(fig, "chart-sectors", "Sector weights at month ends (% of equity)")
