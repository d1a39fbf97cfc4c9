"""vectorbt on qtc's reference strategy, for the side-by-side figures in docs/PERFORMANCE.md.

The strategy is benchmarks/strategies/momentum_top50.toml: top-50 12-1 momentum
(adj_close[t-21] / adj_close[t-252] - 1), equal weight, monthly, 2005-01-01 ->
2023-10-18, all 556 symbols, 10 bps commission, no slippage, fractional shares,
1,000,000 USD. Conventions follow qtc (qtc/pipeline/schedule.py, universe.py,
factors_price.py, selection.py, engine/):

* signals at the close of the first trading day of the window and of the last
  trading day of every month; each executes at the next trading day's close; a
  signal whose execution would fall after the last date is dropped;
* eligible on a signal date = priced that day with a finite momentum; the 50
  highest momentums are held (ties by column order, columns sorted by symbol),
  1/50 each;
* a selected name without a price on the execution day gets weight 0 (qtc
  drops that target and leaves its weight in cash).

vectorbt runs `Portfolio.from_orders` with `size_type="targetpercent"`,
`group_by=True`, `cash_sharing=True`, `call_seq="auto"` (sells first),
`fees=0.001`, orders only on execution rows (NaN elsewhere), on a forward-filled
close (see README.md for what happens with NaN prices).

vectorbt is NOT a qtc dependency: run this in its own venv (see README.md):

    /tmp/vbt-env/bin/python benchmarks/vectorbt/bench_vectorbt.py --data ../shared/data
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_T0 = time.perf_counter()
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import vectorbt as vbt  # noqa: E402

IMPORT_SECONDS = time.perf_counter() - _T0

START = np.datetime64("2005-01-01")
END = np.datetime64("2023-10-18")
LOOKBACK = 252
SKIP = 21
TOP_N = 50
FEES = 0.001  # 10 bps commission on traded notional
INIT_CASH = 1_000_000.0
PERIODS = 252


def load_panel(data_dir: Path) -> pd.DataFrame:
    """Wide float64 adj_close panel (dates x symbols, NaN where not priced), with pandas."""
    frame = pd.read_parquet(
        data_dir / "prices_daily.parquet", columns=["date", "symbol", "adj_close"]
    )
    frame["date"] = pd.to_datetime(frame["date"])
    return frame.pivot(index="date", columns="symbol", values="adj_close").astype(np.float64)


def orders(panel: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Close (forward-filled) and target-percent orders on the window's rows."""
    px = panel.to_numpy()
    t = px.shape[0]
    mom = np.full(px.shape, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        mom[LOOKBACK:] = px[LOOKBACK - SKIP : t - SKIP] / px[: t - LOOKBACK] - 1.0

    dates = panel.index.to_numpy().astype("datetime64[D]")
    first = int(np.searchsorted(dates, START))
    last = int(np.searchsorted(dates, END, side="right")) - 1
    months = dates.astype("datetime64[M]")
    ends = np.append(np.flatnonzero(months[:-1] != months[1:]), last)  # window end is one too
    signal = np.unique(np.concatenate([[first], ends[(ends >= first) & (ends <= last)]]))
    signal = signal[signal + 1 <= last]
    execute = signal + 1

    priced = np.isfinite(px)
    score = np.where(priced[signal], mom[signal], np.nan)
    order = np.argsort(-score, axis=1, kind="stable")[:, :TOP_N]  # NaN sort last
    chosen = np.zeros(score.shape, bool)
    np.put_along_axis(chosen, order, True, axis=1)
    chosen &= np.isfinite(score)
    count = chosen.sum(axis=1, keepdims=True)
    weights = np.divide(chosen, count, out=np.zeros(score.shape), where=count > 0)
    weights[~priced[execute]] = 0.0  # unpriced on the execution day: that weight stays cash

    close = panel.ffill().iloc[first : last + 1]
    size = np.full(close.shape, np.nan)
    size[execute - first] = weights
    size[np.isnan(close.to_numpy())] = np.nan  # not listed yet: no order at all
    return close, pd.DataFrame(size, index=close.index, columns=close.columns)


def simulate(close: pd.DataFrame, size: pd.DataFrame, engine: str) -> Any:
    """The vectorbt portfolio (one group, shared cash, sells first)."""
    return vbt.Portfolio.from_orders(
        close,
        size,
        size_type="targetpercent",
        direction="longonly",
        fees=FEES,
        init_cash=INIT_CASH,
        group_by=True,
        cash_sharing=True,
        call_seq="auto",
        freq="1D",
        engine=engine,
    )


def metrics(pf: Any) -> dict[str, float]:
    """Final equity, CAGR, Sharpe (qtc's conventions: 252 periods, rf 0), vectorbt's own."""
    equity = pf.value().to_numpy()
    r = equity[1:] / equity[:-1] - 1.0
    total = equity[-1] / INIT_CASH - 1.0
    return {
        "final_equity": float(equity[-1]),
        "cagr": float((1.0 + total) ** (PERIODS / len(r)) - 1.0),
        "sharpe": float(r.mean() / r.std(ddof=1) * np.sqrt(PERIODS)),
        "max_drawdown": float(-pf.max_drawdown()),
        "vbt_sharpe": float(pf.sharpe_ratio()),
        "vbt_annualized_return": float(pf.annualized_return()),
        "fees_paid": float(pf.orders.fees.sum()),
        "orders": int(pf.orders.count()),
    }


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """fn() and its wall time in seconds."""
    began = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - began


def run_once(panel: pd.DataFrame, engine: str) -> tuple[dict[str, float], dict[str, float], Any]:
    """Signals + simulation + metrics, timed per step."""
    (close, size), t_sig = timed(lambda: orders(panel))
    pf, t_sim = timed(lambda: simulate(close, size, engine))
    stats, t_met = timed(lambda: metrics(pf))
    steps = {"signals": t_sig, "from_orders": t_sim, "metrics": t_met}
    steps["total"] = t_sig + t_sim + t_met
    return steps, stats, pf


def main() -> None:
    """Load, warm up (JIT), time `--runs` runs, print figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--engine", default="numba", help="vectorbt engine: numba (default) or rust"
    )
    parser.add_argument(
        "--once", action="store_true", help="one load and one run (time the whole process)"
    )
    parser.add_argument("--equity-out", type=Path, help="write the daily equity here (CSV)")
    args = parser.parse_args()
    vbt.settings.returns["year_freq"] = f"{PERIODS} days"  # trading-day annualization

    print(f"vectorbt {vbt.__version__}, pandas {pd.__version__}, numpy {np.__version__}")
    print(f"import vectorbt (+numpy, pandas): {IMPORT_SECONDS:.3f} s")
    loads = []
    for _ in range(1 if args.once else 3):
        panel = None  # free the previous copy before loading again
        gc.collect()
        panel, seconds = timed(lambda: load_panel(args.data))
        loads.append(seconds)
    print(
        f"load panel with pandas (read_parquet + pivot), {panel.shape[0]} x {panel.shape[1]}: "
        f"first {loads[0]:.3f} s, median of {len(loads)} {statistics.median(loads):.3f} s"
    )

    first, stats, pf = run_once(panel, args.engine)
    print(
        f"first run (numba JIT compile or cache load): {first['total']:.3f} s "
        f"(from_orders {first['from_orders']:.3f} s, metrics {first['metrics']:.3f} s)"
    )
    runs = []
    for _ in range(0 if args.once else args.runs):
        del pf
        gc.collect()  # a Portfolio sits in reference cycles: free it before the next (untimed)
        steps, stats, pf = run_once(panel, args.engine)
        runs.append(steps)
    if runs:
        print(f"{'step':<14} {'median ms':>10}   (of {len(runs)} runs after the first)")
        for step in ("signals", "from_orders", "metrics", "total"):
            print(f"{step:<14} {statistics.median(r[step] for r in runs) * 1000:>10.1f}")
    print(f"final equity {stats['final_equity']:,.2f} USD over {len(pf.wrapper.index)} days")
    print(
        f"CAGR {stats['cagr']:.4%}  Sharpe {stats['sharpe']:.4f} (rf 0)  "
        f"max drawdown {stats['max_drawdown']:.4%}"
    )
    print(
        f"vectorbt's own: annualized return {stats['vbt_annualized_return']:.4%}, "
        f"Sharpe {stats['vbt_sharpe']:.4f}"
    )
    print(f"fees paid {stats['fees_paid']:,.2f} USD in {stats['orders']} orders")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB")
    if args.equity_out:
        pf.value().rename("equity").to_csv(args.equity_out)


if __name__ == "__main__":
    main()
