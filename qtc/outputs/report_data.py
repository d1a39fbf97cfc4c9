"""Everything the HTML report shows, computed from a run folder only (nothing is re-run).

`load_report_data(run_dir)` reads `run.json`, `meta.json`, `equity.parquet` and what the run
held (`holdings.parquet`, `exposure.parquet`, `sectors.parquet`, the last date of
`weights.parquet`) and returns a `ReportData`: plain numbers and numpy series that
`qtc.outputs.charts` draws and the templates format. No lake, no clock, no network.

Conventions (each one tested in tests/outputs/test_report.py or test_holdings.py):

* **Dates** are the run's trading days, `datetime64[D]`, D of them. Strategy returns are
  r_t = E_t / E_{t-1} - 1 for t = 1..D-1 (the same series `compute_metrics` used); the
  first date is the starting equity.
* **Headline figures** are run.json's `metrics` as written; nothing is recomputed unless a
  `BenchmarkOverride` replaces the benchmark (below).
* **Benchmark.** The close is aligned to the run's dates; leading NaNs are dropped (the
  benchmark starts on its first priced date), later gaps are forward-filled (a flat day) —
  the rule of `qtc.pipeline.metrics`. For charts it is rebased to the strategy's equity on
  its first priced date ("the same money in the benchmark").
* **Benchmark override** (`qtc report --benchmark SYMBOL`): its headline metrics are
  nanobook's (through `qtc.pipeline.nb_metrics`) on its daily returns in the run's window.
  The artifact has no risk-free series, so the scalar per-day rf that Sharpe and Sortino
  need is backed out of the run's own strategy metrics, rf = mean(r) - sharpe · std(r) / √P
  (exact: that is the rf the run used; from the run's benchmark metrics when the strategy's
  returns have no variance, else 0). The relative statistics (alpha, beta, ...) stay those
  of the run's own benchmark and are labelled so.
* **Drawdowns** are nanobook's episodes (`nb_metrics.drawdown_events`) of the equity
  curve: start = the last date at the running peak, trough, recovery = the first date back
  at the peak (None while under water), depth = 1 - trough / peak, length = trading days
  from start to recovery (to the last date when not recovered). The five deepest are
  listed (ties: earlier first).
* **Monthly and annual returns** are by calendar month / year of the real dates:
  E(last day of the period) / E(last day of the previous period) - 1, the first period
  from the first date. First and last periods may be partial (flagged).
* **Rolling** 6- and 12-month (126 / 252 trading days) Sharpe (nanobook, rf = 0) and
  volatility std(r, ddof=1) · √252 over windows ending on each date; NaN until a window
  fills.
* **Activity.** Gross exposure = Σ|w| per day (exposure.parquet's `gross`), holdings =
  number of names held, turnover = Σ over the days of a calendar month of traded_t / (2 E_t)
  (one-way, like `turnover_per_rebalance`).
* **Sector weights** are sampled on the last trading day of each calendar month.
* **Holdings** are ranked by average weight over all D days (0 when not held) and by the
  weight on the last date.
* **Contributions** are holdings.parquet's, computed when the run is written from the daily
  weights and shares (`qtc.outputs.holdings`): Σ_t w_{t-1} · r_t per name with the name's
  close p_t = w_t · E_t / q_t, plus the exit day of a name sold out completely (the stop's
  `exit_price`, else the day's close, which trades.parquet records as the sale's price).
  Since r_t = Σ_i w_{i,t-1} r_{i,t} - costs_t / E_{t-1} exactly, Σ_t r_t = Σ
  contributions - cost drag + the moves not attributed; that remainder, which the report
  shows, is ~0 (a non-zero value flags an artifact inconsistency).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from qtc.errors import UserError
from qtc.outputs.report_holdings import Holding, Holdings
from qtc.outputs.report_meta import (
    PlanNode,
    cached_plan_tree,
    provenance,
    strategy_toml,
    summarize_events,
)

if TYPE_CHECKING:
    from qtc.outputs.report_cache import ReportCache

HOLDINGS_TABLES = ("holdings", "exposure", "sectors", "weights")
"""The run's tables of what it held (see `qtc.outputs.holdings`), in `Holdings`' order."""
PERIODS_PER_YEAR = 252
ROLLING_WINDOWS: tuple[tuple[str, int], ...] = (("6m", 126), ("12m", 252))
WORST_DRAWDOWNS = 5

F64 = npt.NDArray[np.float64]

#: Headline rows: (label, metrics key, format kind). Shown for strategy and benchmark.
HEADLINE_ROWS: tuple[tuple[str, str, str], ...] = (
    ("Total return", "total_return", "pct"),
    ("CAGR", "cagr", "pct"),
    ("Volatility (annual)", "volatility", "pct"),
    ("Sharpe", "sharpe", "num"),
    ("Sortino", "sortino", "num"),
    ("Max drawdown", "max_drawdown", "pct"),
    ("Calmar", "calmar", "num"),
    ("CVaR 95 (daily)", "cvar_95", "pct"),
    ("Win rate (days)", "win_rate", "pct"),
    ("Profit factor", "profit_factor", "num"),
)
#: Activity rows (strategy only): (label, metrics key, format kind).
ACTIVITY_ROWS: tuple[tuple[str, str, str], ...] = (
    ("Turnover (one-way, a year)", "turnover", "pct"),
    ("Cost paid", "cost_paid", "usd"),
)
#: Secondary figures: (section, label, key, kind).
DETAIL_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("relative", "Alpha (annual)", "alpha", "pct"),
    ("relative", "Beta", "beta", "num"),
    ("relative", "Correlation", "correlation", "num"),
    ("relative", "Information ratio", "information_ratio", "num"),
    ("relative", "Tracking error", "tracking_error", "pct"),
    ("relative", "Up capture", "up_capture", "num"),
    ("relative", "Down capture", "down_capture", "num"),
    ("activity", "Cost (bps a year)", "cost_bps_per_year", "num"),
    ("activity", "Days with trades", "rebalances", "int"),
    ("activity", "Turnover per rebalance", "turnover_per_rebalance", "pct"),
    ("activity", "Gross exposure (mean)", "exposure", "pct"),
    ("activity", "Holdings (mean)", "avg_holdings", "num1"),
    ("activity", "Holdings (max)", "max_holdings", "int"),
)


@dataclass(frozen=True)
class BenchmarkOverride:
    """Another benchmark series for the report (read from the lake by the caller).

    Attributes:
        symbol: The benchmark's name, shown in the report.
        dates: Its dates, (M,), increasing (anything `astype("datetime64[D]")` takes).
        close: Its total-return close per date, (M,); NaN where missing.
    """

    symbol: str
    dates: np.ndarray
    close: np.ndarray


@dataclass(frozen=True)
class Drawdown:
    """One drawdown episode of the equity curve."""

    rank: int
    start: str
    trough: str
    recovery: str | None
    depth: float
    length: int
    to_trough: int


@dataclass(frozen=True)
class PeriodReturn:
    """A calendar year's return, strategy and benchmark (None where undefined)."""

    label: str
    strategy: float | None
    benchmark: float | None
    partial: bool


@dataclass
class Series:
    """Daily series of the run (dates and values aligned)."""

    dates: np.ndarray
    equity: F64
    bench_equity: F64
    drawdown: F64
    bench_drawdown: F64
    exposure: F64
    holdings: F64
    return_dates: np.ndarray
    rolling: dict[str, F64]
    month_ends: np.ndarray
    turnover_month: F64
    sector_names: list[str]
    sector_weights: F64
    drawdown_exit_dates: list[str]


@dataclass
class ReportData:
    """All the figures of one report."""

    run: dict[str, Any]
    meta: dict[str, Any]
    strategy_name: str
    description: str
    run_id: str
    benchmark_symbol: str
    run_benchmark_symbol: str
    benchmark_overridden: bool
    window: dict[str, Any]
    initial_cash: float
    final_equity: float
    headline: list[dict[str, Any]]
    details: list[dict[str, Any]]
    series: Series
    drawdowns: list[Drawdown]
    monthly_years: list[int]
    monthly: F64
    annual: list[PeriodReturn]
    top_average: list[Holding]
    top_latest: list[Holding]
    latest_date: str
    contributors: list[Holding]
    detractors: list[Holding]
    contribution_total: float
    return_sum: float
    cost_drag: float
    events: dict[str, Any]
    warnings: list[str]
    strategy_toml: str
    plan_tree: PlanNode
    provenance: dict[str, Any]
    file_problems: list[str] = field(default_factory=list)


def load_report_data(
    run_dir: Path, benchmark: BenchmarkOverride | None = None, cache: ReportCache | None = None
) -> ReportData:
    """Read a run folder and compute every figure of its report.

    Args:
        run_dir: The run folder (`runs/<strategy>/<run id>`).
        benchmark: Another benchmark to compare with (default: the run's own).
        cache: Where the plan tree may be cached (default: computed).

    Returns:
        The report's data.

    Raises:
        UserError: If the folder is not a readable run artifact, or the override
            benchmark has no price in the run's window.
    """
    from qtc.outputs.artifacts import read_run

    run = read_run(run_dir)
    meta = _read_meta(run_dir)
    problems = _check_files(run_dir, run.get("files", {}))
    eq = read_table(run_dir, "equity.parquet")
    dates = eq["date"].to_numpy().astype("datetime64[D]")
    if dates.size < 2:
        raise UserError(f"{run_dir}: the run has {dates.size} date(s); a report needs two")
    equity = eq["equity"].to_numpy().astype(np.float64)
    traded = eq["traded_notional"].to_numpy().astype(np.float64)
    strategy = run["strategy"]
    run_bench_symbol = str(strategy.get("data", {}).get("benchmark", "benchmark"))
    metrics = run["metrics"]
    bench_metrics = dict(metrics.get("benchmark", {}))
    close = eq["benchmark"].to_numpy().astype(np.float64)
    bench_symbol = run_bench_symbol
    if benchmark is not None:
        run_close = close
        close = align_close(benchmark, dates)
        bench_symbol = benchmark.symbol
        bench_metrics = _override_metrics(close, equity, run_close, metrics)
    bench_filled, first = fill_benchmark(close)
    bench_equity = np.full(dates.size, np.nan)
    if first is not None:
        bench_equity[first:] = bench_filled[first:] / bench_filled[first] * equity[first]
    hold = read_holdings(run_dir, dates, equity)
    month_end = period_ends(dates, "M")
    series = Series(
        dates=dates,
        equity=equity,
        bench_equity=bench_equity,
        drawdown=underwater(equity),
        bench_drawdown=underwater(bench_equity),
        exposure=hold.gross,
        holdings=hold.count,
        return_dates=dates[1:],
        rolling=rolling_stats(equity, bench_equity),
        month_ends=dates[month_end],
        turnover_month=monthly_turnover(traded, equity, month_end),
        sector_names=hold.sector_names,
        sector_weights=hold.sector_weights(month_end),
        drawdown_exit_dates=[
            e["date"] for e in run.get("events", []) if e.get("kind") == "drawdown_exit"
        ],
    )
    years, monthly = monthly_table(dates, equity)
    contributors, detractors = hold.contributions()
    returns = equity[1:] / equity[:-1] - 1.0
    return ReportData(
        run=run,
        meta=meta,
        strategy_name=str(strategy.get("name", "")),
        description=str(strategy.get("description", "")),
        run_id=str(run["run_id"]),
        benchmark_symbol=bench_symbol,
        run_benchmark_symbol=run_bench_symbol,
        benchmark_overridden=benchmark is not None,
        window=dict(run["window"]),
        initial_cash=_initial_cash(run),
        final_equity=float(equity[-1]),
        headline=headline(metrics.get("strategy", {}), bench_metrics, metrics.get("activity", {})),
        details=details(metrics),
        series=series,
        drawdowns=worst_drawdowns(dates, equity),
        monthly_years=years,
        monthly=monthly,
        annual=annual_returns(dates, equity, bench_equity),
        top_average=hold.top_average(),
        top_latest=hold.top_latest(),
        latest_date=str(dates[-1]),
        contributors=contributors,
        detractors=detractors,
        contribution_total=hold.contribution_total,
        return_sum=float(returns.sum()),
        cost_drag=float((eq["costs_paid"].to_numpy()[1:] / equity[:-1]).sum()),
        events=summarize_events(run.get("events", [])),
        warnings=[str(w) for w in run.get("warnings", [])],
        strategy_toml=strategy_toml(strategy),
        plan_tree=cached_plan_tree(run["plan"], cache),
        provenance=provenance(run, meta, problems),
        file_problems=problems,
    )


# ---------------------------------------------------------------------------- artifact files


def _read_meta(run_dir: Path) -> dict[str, Any]:
    """meta.json (volatile facts), or {} when absent or unreadable."""
    try:
        data = json.loads((run_dir / "meta.json").read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _check_files(run_dir: Path, files: dict[str, str]) -> list[str]:
    """Compare every file's sha256 with run.json; one message per mismatch."""
    from qtc.lake.hashing import file_sha256

    problems: list[str] = []
    for name in sorted(files):
        path = run_dir / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif file_sha256(path) != files[name]:
            problems.append(f"{name} changed after the run (sha256 differs from run.json)")
    return problems


def read_holdings(run_dir: Path, dates: np.ndarray, equity: F64) -> Holdings:
    """What the run held: its holdings, exposure and sectors tables and its last book."""
    import polars as pl

    summary, exposure, sectors, book = (
        read_table(run_dir, f"{name}.parquet") for name in HOLDINGS_TABLES
    )
    last = dt.date.fromisoformat(str(dates[-1]))
    try:
        book = book.filter(pl.col("date") == last)
        return Holdings(summary, exposure, sectors, book, dates, equity)
    except (ValueError, IndexError, KeyError, TypeError, pl.exceptions.PolarsError) as exc:
        raise UserError(
            f"{run_dir}: what the run held cannot be read ({type(exc).__name__}: {exc})",
            hint="re-run the backtest (`qtc backtest FILE --force`)",
        ) from None


def read_table(run_dir: Path, name: str, columns: list[str] | None = None) -> Any:
    """One Parquet file of a run, or a `UserError` naming it when it cannot be read.

    Raises:
        UserError: The file is missing, truncated, not Parquet or lacks a column.
    """
    import polars as pl

    try:
        return pl.read_parquet(run_dir / name, columns=columns)
    except (OSError, pl.exceptions.PolarsError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(
            f"{run_dir}: the run's {name} cannot be read ({reason})",
            hint="re-run the backtest (`qtc backtest FILE --force`)",
        ) from None


def _initial_cash(run: dict[str, Any]) -> float:
    """Initial cash of the run (the engine stage's, else the strategy's)."""
    for stage in run.get("plan", {}).get("stages", []):
        if stage.get("stage") == "run_engine" and "initial_cash" in stage:
            return float(stage["initial_cash"])
    return float(run["strategy"].get("rebalance", {}).get("initial_cash", math.nan))


# ---------------------------------------------------------------------------- benchmark


def align_close(override: BenchmarkOverride, dates: np.ndarray) -> F64:
    """The override's close on the run's dates (NaN where it has no row)."""
    src = np.asarray(override.dates).astype("datetime64[D]")
    close = np.asarray(override.close, dtype=np.float64)
    if src.shape != close.shape or src.ndim != 1:
        raise UserError(
            f"benchmark {override.symbol}: dates and close must be 1-D of the same length"
        )
    order = np.argsort(src, kind="stable")
    src, close = src[order], close[order]
    out = np.full(dates.size, np.nan)
    if src.size:
        idx = np.clip(np.searchsorted(src, dates), 0, src.size - 1)
        hit = src[idx] == dates
        out[hit] = close[idx[hit]]
    return out


def fill_benchmark(close: F64) -> tuple[F64, int | None]:
    """Forward-fill a close after its first priced date; return it and that date's index."""
    priced = np.flatnonzero(np.isfinite(close) & (close > 0))
    if priced.size == 0:
        return np.full(close.size, np.nan), None
    first = int(priced[0])
    idx = np.where(np.isfinite(close) & (close > 0), np.arange(close.size), 0)
    idx = np.maximum.accumulate(idx)
    out = close[idx].astype(np.float64)
    out[:first] = np.nan
    return out, first


def implied_rf(returns: F64, sharpe: Any) -> float | None:
    """Per-day rf that a Sharpe figure implies: mean(r) - sharpe · std(r, ddof=1) / √P."""
    if sharpe is None or returns.size < 2:
        return None
    std = float(returns.std(ddof=1))
    if std == 0.0 or not math.isfinite(std):
        return None
    return float(returns.mean()) - float(sharpe) * std / math.sqrt(PERIODS_PER_YEAR)


def _override_metrics(
    close: F64, equity: F64, run_close: F64, metrics: dict[str, Any]
) -> dict[str, Any]:
    """Nanobook metrics of an override benchmark, with the run's implied per-day rf."""
    from qtc.outputs.artifacts import json_safe
    from qtc.pipeline.nb_metrics import nanobook_metrics

    filled, first = fill_benchmark(close)
    if first is None or first >= close.size - 1:
        raise UserError(
            "the benchmark has no price before the last date of the run",
            hint="choose a symbol the lake prices over the run's window",
        )
    bench_r = filled[first + 1 :] / filled[first:-1] - 1.0
    rf = implied_rf(equity[1:] / equity[:-1] - 1.0, metrics.get("strategy", {}).get("sharpe"))
    if rf is None:
        run_filled, run_first = fill_benchmark(run_close)
        if run_first is not None and run_first < run_close.size - 1:
            run_r = run_filled[run_first + 1 :] / run_filled[run_first:-1] - 1.0
            rf = implied_rf(run_r, metrics.get("benchmark", {}).get("sharpe"))
    result: dict[str, Any] = json_safe(nanobook_metrics(bench_r, PERIODS_PER_YEAR, rf or 0.0))
    return result


# ---------------------------------------------------------------------------- headline


def headline(
    strategy: dict[str, Any], benchmark: dict[str, Any], activity: dict[str, Any]
) -> list[dict[str, Any]]:
    """Rows of the headline table: label, kind, key, strategy and benchmark values."""
    rows = [
        {
            "label": label,
            "key": key,
            "kind": kind,
            "strategy": strategy.get(key),
            "benchmark": benchmark.get(key),
        }
        for label, key, kind in HEADLINE_ROWS
    ]
    rows += [
        {"label": label, "key": key, "kind": kind, "strategy": activity.get(key), "benchmark": None}
        for label, key, kind in ACTIVITY_ROWS
    ]
    return rows


def details(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the relative and activity table."""
    return [
        {
            "section": section,
            "label": label,
            "key": key,
            "kind": kind,
            "value": metrics.get(section, {}).get(key),
        }
        for section, label, key, kind in DETAIL_ROWS
    ]


# ---------------------------------------------------------------------------- series


def underwater(values: F64) -> F64:
    """Drawdown from the running peak, value / peak - 1 (<= 0; NaN before the first value)."""
    out = np.full(values.size, np.nan)
    ok = np.flatnonzero(np.isfinite(values))
    if ok.size:
        tail = values[ok[0] :]
        out[ok[0] :] = tail / np.maximum.accumulate(tail) - 1.0
    return out


def worst_drawdowns(dates: np.ndarray, equity: F64, n: int = WORST_DRAWDOWNS) -> list[Drawdown]:
    """The `n` deepest drawdown episodes (nanobook's episodes; see the module docstring)."""
    from qtc.pipeline.nb_metrics import drawdown_events

    episodes = [e for e in drawdown_events(equity) if float(e["drawdown_pct"] or 0.0) > 0.0]
    episodes.sort(key=lambda e: (-float(e["drawdown_pct"] or 0.0), int(e["peak_index"] or 0)))
    last = dates.size - 1
    out: list[Drawdown] = []
    for rank, e in enumerate(episodes[:n], start=1):
        peak, trough = int(e["peak_index"] or 0), int(e["trough_index"] or 0)
        rec = e["recovery_index"]
        end = int(rec) if rec is not None else last
        out.append(
            Drawdown(
                rank=rank,
                start=str(dates[peak]),
                trough=str(dates[trough]),
                recovery=str(dates[int(rec)]) if rec is not None else None,
                depth=float(e["drawdown_pct"] or 0.0),
                length=end - peak,
                to_trough=trough - peak,
            )
        )
    return out


def period_ends(dates: np.ndarray, unit: str) -> npt.NDArray[np.intp]:
    """Row of the last date of each calendar period (`"M"` month or `"Y"` year)."""
    key = dates.astype(f"datetime64[{unit}]")
    change = np.flatnonzero(key[1:] != key[:-1])
    out: npt.NDArray[np.intp] = np.concatenate([change, [dates.size - 1]]).astype(np.intp)
    return out


def period_returns(values: F64, ends: npt.NDArray[np.intp]) -> F64:
    """values[end] / values[base] - 1 per period; base = the previous period's end.

    The first period starts at row 0; a series with leading NaNs starts at its first
    finite value; a period that ends before it is NaN.
    """
    finite = np.flatnonzero(np.isfinite(values))
    out = np.full(ends.size, np.nan)
    if finite.size == 0:
        return out
    first = int(finite[0])
    base = np.maximum(np.concatenate([[0], ends[:-1]]), first)
    ok = ends >= first
    out[ok] = values[ends[ok]] / values[base[ok]] - 1.0
    return out


def monthly_table(dates: np.ndarray, values: F64) -> tuple[list[int], F64]:
    """Calendar-month returns as a (years, 12) array (NaN outside the window)."""
    ends = period_ends(dates, "M")
    rets = period_returns(values, ends)
    month = dates[ends].astype("datetime64[M]").astype(np.int64)
    years = sorted({int(m // 12 + 1970) for m in month})
    table = np.full((len(years), 12), np.nan)
    for m, r in zip(month, rets, strict=True):
        table[years.index(int(m // 12 + 1970)), int(m % 12)] = r
    return years, table


def annual_returns(dates: np.ndarray, equity: F64, bench: F64) -> list[PeriodReturn]:
    """Calendar-year returns of strategy and benchmark (partial first/last years flagged)."""
    ends = period_ends(dates, "Y")
    strat = period_returns(equity, ends)
    bench_r = period_returns(bench, ends)
    out: list[PeriodReturn] = []
    starts = np.concatenate([[0], ends[:-1] + 1])
    for k, end in enumerate(ends):
        first, last = dates[starts[k]], dates[end]
        year = int(str(last)[:4])
        partial = bool(
            first > np.datetime64(f"{year}-01-07") or last < np.datetime64(f"{year}-12-24")
        )
        label = str(year)
        if partial:
            label = f"{year} ({_short_date(first)}–{_short_date(last)})"
        out.append(PeriodReturn(label, _opt(strat[k]), _opt(bench_r[k]), partial))
    return out


def _short_date(day: np.datetime64) -> str:
    """`Mar 05` from a date."""
    return dt.date.fromisoformat(str(day)).strftime("%b %d")


def _opt(value: float) -> float | None:
    """A float, or None when it is not finite."""
    return float(value) if math.isfinite(value) else None


def rolling_stats(equity: F64, bench_equity: F64) -> dict[str, F64]:
    """Rolling Sharpe and volatility, 6 and 12 months, strategy and benchmark (D-1 values)."""
    strat_r = equity[1:] / equity[:-1] - 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        bench_r = bench_equity[1:] / bench_equity[:-1] - 1.0
    out: dict[str, F64] = {}
    for label, window in ROLLING_WINDOWS:
        for name, r in (("strategy", strat_r), ("benchmark", bench_r)):
            sharpe, vol = _rolling(r, window)
            out[f"{name}_sharpe_{label}"] = sharpe
            out[f"{name}_vol_{label}"] = vol
    return out


def _rolling(returns: F64, window: int) -> tuple[F64, F64]:
    """Rolling Sharpe (nanobook) and volatility of the finite tail of `returns`."""
    from qtc.pipeline.nb_metrics import rolling_sharpe

    sharpe = np.full(returns.size, np.nan)
    vol = np.full(returns.size, np.nan)
    finite = np.flatnonzero(np.isfinite(returns))
    if finite.size == 0:
        return sharpe, vol
    start = int(finite[0])
    tail = returns[start:]
    if tail.size < window or not np.isfinite(tail).all():
        return sharpe, vol
    sharpe[start:] = rolling_sharpe(tail, window, PERIODS_PER_YEAR)
    windows = np.lib.stride_tricks.sliding_window_view(tail, window)
    vol[start + window - 1 :] = windows.std(axis=1, ddof=1) * math.sqrt(PERIODS_PER_YEAR)
    return sharpe, vol


def monthly_turnover(traded: F64, equity: F64, ends: npt.NDArray[np.intp]) -> F64:
    """One-way turnover per calendar month: Σ traded_t / (2 E_t) over its days."""
    daily = traded / (2.0 * equity)
    cum = np.concatenate([[0.0], np.cumsum(daily)])
    starts = np.concatenate([[0], ends[:-1] + 1])
    out: F64 = cum[ends + 1] - cum[starts]
    return out


# ---------------------------------------------------------------------------- holdings
