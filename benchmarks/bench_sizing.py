"""Optimizer sizing speed: 230 rebalances of 50 names of real data, per sizing kind.

Run: `uv run python benchmarks/bench_sizing.py --lake LAKE [--runs N] [--riskfolio-every K]`
(build the real-data lake first: `uv run qtc data ingest ../shared/data --lake LAKE`).

Target (issue 14): <= 0.3 s per 230 rebalances x 50 names for `min_variance`,
`risk_parity`, `hrp` and `max_sharpe`, with weights equal to riskfolio-lib's within 1e-6
(checked by `tests/pipeline/test_sizing.py`, not here). The panel: the 60 most complete
names of the lake, 230 signal dates every 21 trading days ending 2023-10-18, 50 of the 60
drawn at random (seeded) per rebalance, a 252-day window. `size_with_notes` is timed in
process (minimum and median CPU seconds of `--runs`), with BLAS limited to one thread as
in a backtest (the 50 x 50 products contend for the two cores otherwise). With
`--riskfolio-every K`, every K-th rebalance is also solved by riskfolio-lib alone and its
time is scaled to 230 rebalances, for the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

REBALANCES = 230
NAMES = 50
POOL = 60
SPECS = {
    "min_variance, sample": {"kind": "min_variance", "covariance": "sample"},
    "min_variance, ledoit_wolf": {"kind": "min_variance", "covariance": "ledoit_wolf"},
    "max_sharpe, sample": {"kind": "max_sharpe", "covariance": "sample"},
    "max_sharpe, ledoit_wolf": {"kind": "max_sharpe", "covariance": "ledoit_wolf"},
    "risk_parity, sample": {"kind": "risk_parity", "covariance": "sample"},
    "risk_parity, ledoit_wolf": {"kind": "risk_parity", "covariance": "ledoit_wolf"},
    "hrp, single": {"kind": "hrp", "linkage": "single"},
    "hrp, ward": {"kind": "hrp", "linkage": "ward"},
}


def panel(lake_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(selected, returns, signal rows) of the benchmark, from the lake's adj_close."""
    from qtc.lake import Lake

    _, _, prices = Lake(lake_dir).adj_close_matrix(start="2003-01-01", end="2023-10-18")
    rets = np.vstack([np.full((1, prices.shape[1]), np.nan), prices[1:] / prices[:-1] - 1.0])
    complete = np.isfinite(rets[1:]).mean(axis=0)
    rets = rets[:, np.sort(np.argsort(-complete, kind="stable")[:POOL])]
    rows = np.arange(rets.shape[0] - 1 - 21 * (REBALANCES - 1), rets.shape[0], 21)
    rng = np.random.default_rng(0)
    sel = np.zeros((rows.size, POOL), dtype=bool)
    for r in range(rows.size):
        sel[r, rng.choice(POOL, NAMES, replace=False)] = True
    return sel, rets, rows


def spec_of(fields: dict[str, str]) -> object:
    """The manifest sizing section for `fields` (252-day window)."""
    from pydantic import TypeAdapter

    from qtc.manifest.sizing import SizingSpec

    return TypeAdapter(SizingSpec).validate_python({**fields, "lookback": 252})


def timed(call: object, runs: int) -> tuple[float, float]:
    """(minimum, median) CPU seconds of `call()` over `runs` runs after one warm-up."""
    call()  # type: ignore[operator]
    seconds = []
    for _ in range(runs):
        began = time.process_time()
        call()  # type: ignore[operator]
        seconds.append(time.process_time() - began)
    return min(seconds), statistics.median(seconds)


def riskfolio_seconds(spec: object, sel: np.ndarray, rets: np.ndarray, rows: np.ndarray,
                      every: int) -> float:  # fmt: skip
    """riskfolio-lib alone on every `every`-th rebalance, scaled to all of them."""
    from qtc.pipeline import sizing

    fast = sizing._solve_fast
    sizing._solve_fast = lambda *a: None  # type: ignore[assignment]
    try:
        part = rows[::every]
        began = time.process_time()
        sizing.size_with_notes(spec, sel[::every], rets, part)  # type: ignore[arg-type]
        return (time.process_time() - began) * rows.size / part.size
    finally:
        sizing._solve_fast = fast  # type: ignore[assignment]


def main() -> None:
    """Print, per sizing kind, the fast path's CPU time (and riskfolio's, if asked)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--riskfolio-every", type=int, default=0)
    args = parser.parse_args()
    from qtc.pipeline.sizing import size_with_notes

    sel, rets, rows = panel(args.lake)
    threads = os.environ["OPENBLAS_NUM_THREADS"]
    load = os.getloadavg()[0]
    print(f"{rows.size} rebalances x {NAMES} names, BLAS threads {threads}, load {load:.1f}")
    print(f"{'sizing':<28} {'min s':>7} {'median s':>9} {'target':>7}")
    for name, fields in SPECS.items():
        spec = spec_of(fields)
        low, mid = timed(lambda s=spec: size_with_notes(s, sel, rets, rows), args.runs)  # type: ignore[misc]
        line = f"{name:<28} {low:>7.3f} {mid:>9.3f} {'ok' if low <= 0.3 else 'MISSED':>7}"
        if args.riskfolio_every:
            slow = riskfolio_seconds(spec, sel, rets, rows, args.riskfolio_every)
            line += f"   riskfolio ~{slow:.1f} s ({slow / low:.0f}x)"
        print(line)


if __name__ == "__main__":
    main()
