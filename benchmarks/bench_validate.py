"""Validation speed: the whole `qtc validate` process, and alphalens-reloaded's time for the
same tear sheet.

Run: `uv run python benchmarks/bench_validate.py --lake LAKE [--runs N]` (build the real-data
lake first: `uv run qtc data ingest ../shared/data --lake LAKE`).

1. `qtc validate strategies/momentum_us.toml --lake LAKE` (4 horizons 1, 5, 21, 63 and 5
   quantiles, the defaults; walk-forward without re-selection), `--runs` fresh processes
   (median wall time; exit 1 is expected: the strategy fails its own `min_rank_ic` gate on
   the real data). Target (issue 17): <= 2 s on 2 cores.
2. The same statistics for the same three signals (the score and the two factors on the
   rebalance dates, the same forward returns from the next close) computed in process by
   qtc's research step and by alphalens-reloaded: `get_clean_factor_and_forward_returns`,
   `factor_information_coefficient`, `mean_return_by_quantile` (by date and overall),
   `compute_mean_returns_spread`, `quantile_turnover` of the top quantile,
   `factor_rank_autocorrelation` and `cumulative_returns` of each quantile. The inputs
   (signals, prices) are taken from one run of qtc's pipeline and shared; neither side's
   time includes loading the market or the backtest, and alphalens draws no plot.

Prints one line per measure, and the largest difference between qtc's and alphalens'
rank IC series, mean quantile returns and spreads (the spread is alphalens' times 2).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
STRATEGY = REPO / "strategies" / "momentum_us.toml"
HORIZONS = (1, 5, 21, 63)
QUANTILES = 5


def main() -> None:
    """Time the process, then both research steps, and compare their numbers."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    process(args.lake, args.runs)
    inputs = signals(args.lake)
    ours, qtc_seconds = timed(lambda: qtc_research(inputs))
    theirs, al_seconds = timed(lambda: alphalens_research(inputs))
    print(
        f"research step, 3 signals x 4 horizons: qtc {qtc_seconds:.3f} s, "
        f"alphalens-reloaded {al_seconds:.3f} s ({al_seconds / qtc_seconds:.0f}x)"
    )
    compare(inputs, ours, theirs)


def process(lake: Path, runs: int) -> None:
    """Median wall time of the whole `qtc validate` process."""
    qtc = str(Path(sys.executable).with_name("qtc"))
    seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        command = [qtc, "validate", str(STRATEGY), "--lake", str(lake), "--out", tmp]
        for _ in range(runs):
            began = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            seconds.append(time.perf_counter() - began)
            if done.returncode not in (0, 1):
                sys.exit(done.stderr)
    first = done.stdout.splitlines()[0]
    print(
        f"qtc validate (whole process, median of {runs}): {statistics.median(seconds):.2f} s "
        f"(min {min(seconds):.2f} s); exit {done.returncode}"
    )
    print(f"  {first}")


def timed(work: Any) -> tuple[Any, float]:
    """(result, seconds) of a call."""
    began = time.perf_counter()
    out = work()
    return out, time.perf_counter() - began


def signals(lake: Path) -> dict[str, Any]:
    """The strategy's signals and marks, from one run of qtc's pipeline."""
    from qtc.lake import Lake
    from qtc.research.measure import _backtest
    from qtc.research.request import ValidateRequest
    from qtc.research.signals import rebalance_signals
    from qtc.research.validate import prepare

    store = Lake(lake)
    prepared = prepare(ValidateRequest(path=str(STRATEGY)), store)
    market, _, job, _ = _backtest(prepared.plan, store, lambda *a: None)
    found = rebalance_signals(prepared.plan, job)
    series = {"score": found.score, **found.factors}
    return {
        "signals": found,
        "series": series,
        "marks": market.marks,
        "settings": prepared.settings,
        "dates": market.panel.dates,
    }


def qtc_research(inputs: dict[str, Any]) -> Any:
    """qtc's research step on the signals."""
    from qtc.research.study import study_all

    return study_all(inputs["signals"], inputs["marks"], inputs["settings"])


def alphalens_research(inputs: dict[str, Any]) -> dict[str, Any]:
    """alphalens-reloaded's statistics for every signal (prices shifted for next close)."""
    import alphalens.performance as ap
    import alphalens.utils as au
    import pandas as pd

    found = inputs["signals"]
    dates = pd.DatetimeIndex(inputs["dates"].astype("datetime64[ns]"))
    names = [f"s{i}" for i in range(inputs["marks"].shape[1])]
    prices = pd.DataFrame(inputs["marks"], index=dates, columns=names).shift(-found.lag)
    prices = prices.iloc[: len(dates) - found.lag]
    out: dict[str, Any] = {}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        for name, values in inputs["series"].items():
            rows = dates[found.rows]
            factor = pd.DataFrame(values, index=rows, columns=names).stack().rename("factor")
            factor.index.names = ["date", "asset"]
            per_horizon = {}
            for h in HORIZONS:  # one horizon at a time: qtc keeps each horizon's dates
                clean = au.get_clean_factor_and_forward_returns(
                    factor, prices, periods=(h,), quantiles=QUANTILES, max_loss=1.0
                )
                ic = ap.factor_information_coefficient(clean)
                by_date, _ = ap.mean_return_by_quantile(clean, by_date=True, demeaned=False)
                mean, _ = ap.mean_return_by_quantile(clean, by_date=False, demeaned=False)
                spread, _ = ap.compute_mean_returns_spread(by_date, QUANTILES, 1)
                ap.quantile_turnover(clean["factor_quantile"], QUANTILES)
                ap.factor_rank_autocorrelation(clean)
                for q in range(1, QUANTILES + 1):
                    ap.cumulative_returns(by_date.iloc[:, 0].xs(q, level="factor_quantile"))
                per_horizon[h] = (ic.iloc[:, 0], mean.iloc[:, 0], spread.iloc[:, 0])
            out[name] = per_horizon
    return out


def compare(inputs: dict[str, Any], ours: Any, theirs: dict[str, Any]) -> None:
    """The largest differences between qtc's and alphalens' numbers."""
    import pandas as pd

    rows = pd.DatetimeIndex(inputs["dates"][inputs["signals"].rows].astype("datetime64[ns]"))
    worst = {"rank IC": 0.0, "mean quantile return": 0.0, "spread": 0.0}
    for study in ours.studies:
        for h in study.horizons:
            ic, mean, spread = theirs[study.name][h.horizon]
            at = rows.get_indexer(ic.index)
            worst["rank IC"] = max(worst["rank IC"], float(np.nanmax(np.abs(h.rank_ic[at] - ic))))
            diff = np.abs(np.array(h.mean_by_quantile(), dtype=float) - mean.to_numpy())
            worst["mean quantile return"] = max(worst["mean quantile return"], float(diff.max()))
            at = rows.get_indexer(spread.index)
            gap = np.nanmax(np.abs(h.spread[at] - 2 * spread.to_numpy()))
            worst["spread"] = max(worst["spread"], float(gap))
    print("largest |qtc - alphalens|: " + ", ".join(f"{k} {v:.1e}" for k, v in worst.items()))


if __name__ == "__main__":
    main()
