"""Many plans on one market: 100 momentum top-N variants through `run_on_market`.

Run: `uv run python benchmarks/bench_variants.py --lake LAKE [--variants 100]`
(build the real-data lake first: `uv run qtc data ingest ../shared/data --lake LAKE`).

The market is loaded once (`load_market`) and every variant shares one `FactorCache`, as a
sweep does: the 12-1 momentum factor is computed once for all of them. Prints the load time,
the time per plan (compile excluded, then included), the factor computations counted by
the cache, and the in-process time of one plain backtest for comparison.

Target (issue 12, this 2-core machine): <= 40 ms per plan.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STRATEGY = REPO / "benchmarks" / "strategies" / "momentum_top50.toml"
AS_OF = dt.date(2023, 10, 18)


def main() -> None:
    """Parse arguments, run the variants and print the figures."""
    from qtc.api.strategy import compile_file
    from qtc.lake import Lake
    from qtc.pipeline.factors import FactorCache
    from qtc.pipeline.market import load_market
    from qtc.pipeline.runner import load_spec, run_on_lake, run_on_market

    parser = argparse.ArgumentParser()
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--variants", type=int, default=100)
    args = parser.parse_args()
    lake = Lake(args.lake)
    tops = [10 + i % 91 for i in range(args.variants)]
    began = time.perf_counter()
    plans = [
        compile_file(str(STRATEGY), overrides=[f"selection.top_n={n}"], as_of=AS_OF).plan
        for n in tops
    ]
    compiled = time.perf_counter() - began
    run_on_lake(plans[0], lake)  # warm-up: imports, calendar and matrix caches
    began = time.perf_counter()
    market = load_market(load_spec(plans[0]), lake)
    loaded = time.perf_counter() - began
    cache = FactorCache()
    times = []
    for plan in plans:
        began = time.perf_counter()
        run_on_market(plan, market, cache=cache)
        times.append(time.perf_counter() - began)
    total = sum(times)
    per_compile = compiled / len(plans) * 1000
    print(f"market load (once): {loaded * 1000:.1f} ms; compile: {per_compile:.1f} ms/plan")
    print(
        f"{len(plans)} variants (top_n 10..100): {total:.2f} s, "
        f"{total / len(plans) * 1000:.1f} ms per plan "
        f"(median {statistics.median(times) * 1000:.1f}, first {times[0] * 1000:.1f})"
    )
    print(f"factor computations: {cache.computed}, cache hits: {cache.hits}")
    began = time.perf_counter()
    run_on_lake(plans[0], lake)
    print(
        f"one plain backtest in process (load + run): {(time.perf_counter() - began) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
