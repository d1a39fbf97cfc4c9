"""Backtest speed: stage-by-stage breakdown in process, and the whole CLI process.

Run: `uv run python benchmarks/bench_backtest.py --lake LAKE [--runs N] [--clock cpu|wall]`
(build the real-data lake first: `uv run qtc data ingest ../shared/data --lake LAKE`).

Targets (issue 5, this 2-core machine): data load + all stages + engine + metrics in process
after imports < 0.15 s; the whole `qtc backtest` process < 1.5 s; a strategy with trailing
stops < 1.5 s in process; peak memory < 1 GB. Issue 14 adds the widest book: every name of
the lake at equal weight (`benchmarks/strategies/equal_weight_all.toml`, ~500 held names),
whole process <= 0.5 s, which is what sizes the run artifact; and top-50 momentum in
process <= 0.04 s, below a plain numpy loop of the same strategy measured in the same run.

The numpy loop (`numpy_loop`) shares no code with qtc: it memory-maps the lake's matrix
cache (`<lake>/.cache/prices-*/adj_close.npy`, what qtc reads too), takes the month ends,
12-1 momentum z-scored and clipped at 3 among the priced names, the top 50 (ties by column),
equal weight, and simulates cash and fractional shares rebalance by rebalance (next close,
10 bps on the traded value, held names marked at their last price), then equity metrics.
Each repetition runs qtc and the loop back to back, so both see the same machine load.
`--clock cpu` (the default) times stages with `time.process_time`: on a shared machine CPU
time varies less than wall time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
STRATEGY = REPO / "benchmarks" / "strategies" / "momentum_top50.toml"
EQUAL_WEIGHT_ALL = REPO / "benchmarks" / "strategies" / "equal_weight_all.toml"
CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}

START, END = np.datetime64("2005-01-01"), np.datetime64("2023-10-18")
LOOKBACK, SKIP, TOP_N, CLIP = 252, 21, 50, 3.0
COMMISSION = 10.0 / 1e4
INITIAL_CASH = 1_000_000.0


def in_process(
    lake_dir: Path,
    strategy: Path,
    runs: int,
    overrides: list[str],
    *,
    clock: str = "cpu",
    numpy_beside: bool = False,
) -> None:
    """Median ms per stage over `runs` runs (the lake opened once, like a warm session).

    Args:
        lake_dir: The lake.
        strategy: The strategy file.
        runs: Repetitions (after one warm-up run).
        overrides: `--set` overrides.
        clock: `cpu` (process time) or `wall`, for the stages and the totals.
        numpy_beside: Also run `numpy_loop` after each qtc run and print its median.
    """
    from qtc.api.strategy import compile_file
    from qtc.lake import Lake
    from qtc.pipeline import runner

    runner.CLOCK = CLOCKS[clock]
    lake = Lake(lake_dir)
    plan = compile_file(str(strategy), overrides=overrides, as_of=dt.date(2023, 10, 18)).plan
    runner.run_on_lake(plan, lake)  # warm-up: imports, calendar cache
    loop_equity = numpy_loop(lake_dir) if numpy_beside else 0.0
    stages: dict[str, list[float]] = {}
    totals, loops = [], []
    for _ in range(runs):
        began = runner.CLOCK()
        result = runner.run_on_lake(plan, lake)
        totals.append(runner.CLOCK() - began)
        for name, seconds in result.timings.items():
            stages.setdefault(name, []).append(seconds)
        if numpy_beside:
            began = runner.CLOCK()
            numpy_loop(lake_dir)
            loops.append(runner.CLOCK() - began)
    print(f"{'stage':<22} {f'median ms ({clock})':>16}")
    for name, values in stages.items():
        print(f"{name:<22} {statistics.median(values) * 1000:>16.1f}")
    print(f"{'total (in process)':<22} {statistics.median(totals) * 1000:>16.1f}")
    if numpy_beside:
        print(f"{'plain numpy loop':<22} {statistics.median(loops) * 1000:>16.1f}")
    print(f"final equity {result.equity[-1]:,.2f} USD over {len(result.dates)} days", end="")
    print(f" (numpy loop {loop_equity:,.2f})" if numpy_beside else "")


def numpy_loop(lake_dir: Path) -> float:
    """Top-50 12-1 momentum, equal weight, monthly, 10 bps, in plain numpy (module docstring).

    Args:
        lake_dir: The lake (its matrix cache must exist: run qtc on it once).

    Returns:
        The final equity, USD.
    """
    dates, px = cached_prices(lake_dir)
    last = int(np.searchsorted(dates, END, side="right"))
    dates, px = dates[:last], px[:last]
    first = int(np.searchsorted(dates, START))
    signals = month_ends(dates, first)
    picks = top_momentum(px, signals)
    equity = simulate(px, first, signals + 1, picks)
    equity_metrics(equity)
    return float(equity[-1])


def cached_prices(lake_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """The matrix cache's dates and memory-mapped adj_close (all dates x all symbols)."""
    (folder,) = (lake_dir / ".cache").glob("prices-*")
    dates = np.load(folder / "dates.npy").astype("datetime64[D]")
    return dates, np.load(folder / "adj_close.npy", mmap_mode="r").view(np.ndarray)


def month_ends(dates: np.ndarray, first: int) -> np.ndarray:
    """Signal rows: the window's first row and every month's last trading day after it.

    A signal executes at the next close, so one on the last row is dropped.
    """
    months = dates.astype("datetime64[M]")
    ends = np.flatnonzero(months[:-1] != months[1:])
    rows = np.unique(np.append(ends[ends >= first], first))
    return rows[rows + 1 < len(dates)]


def top_momentum(px: np.ndarray, rows: np.ndarray) -> list[np.ndarray]:
    """Columns of the `TOP_N` best clipped momentum z-scores on each row (ties by column)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        momentum = px[rows - SKIP] / px[rows - LOOKBACK] - 1.0
    ranked = np.isfinite(px[rows]) & np.isfinite(momentum) & (rows >= LOOKBACK)[:, None]
    picks = []
    for values, ok in zip(momentum, ranked, strict=True):
        cols = np.flatnonzero(ok)
        x = values[cols]
        z = np.clip((x - x.mean()) / x.std(), -CLIP, CLIP) if cols.size else x
        picks.append(cols[np.argsort(-z, kind="stable")[:TOP_N]])
    return picks


def simulate(px: np.ndarray, first: int, trades: np.ndarray, picks: list[np.ndarray]) -> np.ndarray:
    """Daily equity from `first`: trade to 1/n of each pick at its row's close, then hold.

    Args:
        px: (T, N) closes, NaN where not priced.
        first: First row of the window.
        trades: (R,) increasing rows where the picks are traded.
        picks: Columns bought at each trade (unpriced ones are skipped, their share kept
            in cash).

    Returns:
        (T - first,) equity after each day's trades, USD.
    """
    equity = np.full(len(px) - first, INITIAL_CASH)
    cash, held, shares, marks = INITIAL_CASH, np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    stops = [*trades[1:].tolist(), len(px)]
    for row, stop, pick in zip(trades.tolist(), stops, picks, strict=True):
        marks = np.where(np.isfinite(px[row, held]), px[row, held], marks)
        value = cash + float(shares @ marks)
        cols = pick[np.isfinite(px[row, pick])]
        target = value / len(pick) if len(pick) else 0.0
        change = np.zeros(px.shape[1])
        change[held] -= shares * marks
        change[cols] += target
        cash += float(change.sum()) * -1.0 - COMMISSION * float(np.abs(change).sum())
        held, shares = cols, target / px[row, cols]
        block = filled(px[row:stop, held])
        equity[row - first : stop - first] = cash + block @ shares
        marks = block[-1]
    return equity


def filled(block: np.ndarray) -> np.ndarray:
    """Forward-fill each column of a block whose first row is finite."""
    source = np.where(np.isfinite(block), np.arange(len(block))[:, None], 0)
    np.maximum.accumulate(source, axis=0, out=source)
    out: np.ndarray = np.take_along_axis(block, source, axis=0)
    return out


def equity_metrics(equity: np.ndarray) -> dict[str, float]:
    """CAGR, volatility, Sharpe (rf 0) and maximum drawdown of daily equity."""
    returns = equity[1:] / equity[:-1] - 1.0
    years = len(returns) / 252.0
    drawdown = equity / np.maximum.accumulate(equity) - 1.0
    volatility = float(returns.std(ddof=1)) * np.sqrt(252.0)
    return {
        "cagr": float((equity[-1] / equity[0]) ** (1.0 / years) - 1.0),
        "volatility": volatility,
        "sharpe": float(returns.mean()) * 252.0 / volatility,
        "max_drawdown": float(-drawdown.min()),
    }


def whole_process(lake_dir: Path, strategy: Path, runs: int) -> None:
    """Median wall time of `qtc backtest --force` as a fresh process (artifacts written)."""
    qtc = str(Path(sys.executable).with_name("qtc"))
    with tempfile.TemporaryDirectory() as out:
        args = [qtc, "backtest", str(strategy), "--lake", str(lake_dir), "--out", out, "--force"]
        env = {**os.environ, "QTC_REGISTRY": str(Path(out) / "registry.duckdb")}  # not yours
        subprocess.run(args, capture_output=True, check=True, env=env)
        times = []
        for _ in range(runs):
            began = time.perf_counter()
            subprocess.run(args, capture_output=True, check=True, env=env)
            times.append(time.perf_counter() - began)
    print(
        f"whole `qtc backtest {strategy.name}` process: median {statistics.median(times):.3f} s "
        f"(min {min(times):.3f}, max {max(times):.3f})"
    )


def main() -> None:
    """Parse arguments and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("== top-50 12-1 momentum, monthly, 10 bps (in process)")
    in_process(args.lake, STRATEGY, args.runs, [], clock=args.clock, numpy_beside=True)
    print("\n== same with a 15% trailing stop (in process)")
    stops = ['stops={kind="trailing", trail_pct=0.15}']
    in_process(args.lake, STRATEGY, args.runs, stops, clock=args.clock)
    print()
    whole_process(args.lake, STRATEGY, args.runs)
    whole_process(args.lake, EQUAL_WEIGHT_ALL, args.runs)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the in-process runs: {peak:.0f} MB")


if __name__ == "__main__":
    main()
