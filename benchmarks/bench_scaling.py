"""How a backtest's cost grows with the number of held names: equal weight of every name.

Run: `uv run python benchmarks/bench_scaling.py [--sizes 278,556,1112,2224] [--runs 3]`.
Builds synthetic demo lakes of each size (seeded, 2005-2023, in a temp folder), then times
`run_on_lake` of `benchmarks/strategies/equal_weight_all.toml` in process (median of
`--runs` after a warm-up) and the engine stage alone. Prints each time and its ratio to the
556-name time. Target (issue 14): 2,224 names <= 4x the 556-name time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STRATEGY = REPO / "benchmarks" / "strategies" / "equal_weight_all.toml"


def main() -> None:
    """Build the lakes, time the runs, print the curve."""
    from qtc.api.strategy import compile_file
    from qtc.lake import Lake, build_demo_lake
    from qtc.pipeline.runner import run_on_lake

    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="278,556,1112,2224")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    plan = compile_file(str(STRATEGY), as_of=dt.date(2023, 10, 18)).plan
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            lake_dir = Path(tmp) / f"lake{n}"
            build_demo_lake(lake_dir, seed=3, n_symbols=n)
            lake = Lake(lake_dir)
            run_on_lake(plan, lake)
            totals, engine = [], []
            for _ in range(args.runs):
                began = time.perf_counter()
                result = run_on_lake(plan, lake)
                totals.append(time.perf_counter() - began)
                engine.append(result.timings["run_engine"])
            held = float(result.metrics["activity"]["avg_holdings"])
            rows.append((n, held, statistics.median(totals), statistics.median(engine)))
    base = next((r for r in rows if r[0] == 556), rows[0])
    print(f"{'names':>6} {'avg held':>9} {'total s':>8} {'x556':>6} {'engine s':>9} {'x556':>6}")
    for n, held, total, eng in rows:
        print(f"{n:>6} {held:>9.0f} {total:>8.3f} {total / base[2]:>6.2f} {eng:>9.3f} "
              f"{eng / base[3]:>6.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
