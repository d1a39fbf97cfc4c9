"""Backtest speed: stage-by-stage breakdown in process, and the whole CLI process.

Run: `uv run python benchmarks/bench_backtest.py --lake LAKE [--runs N]`
(build the real-data lake first: `uv run qtc data ingest ../shared/data --lake LAKE`).

Targets (issue 5, this 2-core machine): data load + all stages + engine + metrics in process
after imports < 0.15 s; the whole `qtc backtest` process < 1.5 s; a strategy with trailing
stops < 1.5 s in process; peak memory < 1 GB. Issue 14 adds the widest book: every name of
the lake at equal weight (`benchmarks/strategies/equal_weight_all.toml`, ~500 held names),
whole process <= 0.5 s, which is what sizes the run artifact.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STRATEGY = REPO / "benchmarks" / "strategies" / "momentum_top50.toml"
EQUAL_WEIGHT_ALL = REPO / "benchmarks" / "strategies" / "equal_weight_all.toml"


def in_process(lake_dir: Path, strategy: Path, runs: int, overrides: list[str]) -> None:
    """Median seconds per stage over `runs` runs (the lake opened once, like a warm session)."""
    from qtc.api.strategy import compile_file
    from qtc.lake import Lake
    from qtc.pipeline.runner import run_on_lake

    lake = Lake(lake_dir)
    plan = compile_file(str(strategy), overrides=overrides, as_of=dt.date(2023, 10, 18)).plan
    run_on_lake(plan, lake)  # warm-up: imports, calendar cache
    stages: dict[str, list[float]] = {}
    totals = []
    for _ in range(runs):
        began = time.perf_counter()
        result = run_on_lake(plan, lake)
        totals.append(time.perf_counter() - began)
        for name, seconds in result.timings.items():
            stages.setdefault(name, []).append(seconds)
    print(f"{'stage':<22} {'median ms':>10}")
    for name, values in stages.items():
        print(f"{name:<22} {statistics.median(values) * 1000:>10.1f}")
    print(f"{'total (in process)':<22} {statistics.median(totals) * 1000:>10.1f}")
    print(f"final equity {result.equity[-1]:,.2f} USD over {len(result.dates)} days")


def whole_process(lake_dir: Path, strategy: Path, runs: int) -> None:
    """Median wall time of `qtc backtest --force` as a fresh process (artifacts written)."""
    qtc = str(Path(sys.executable).with_name("qtc"))
    with tempfile.TemporaryDirectory() as out:
        args = [qtc, "backtest", str(strategy), "--lake", str(lake_dir), "--out", out, "--force"]
        subprocess.run(args, capture_output=True, check=True)
        times = []
        for _ in range(runs):
            began = time.perf_counter()
            subprocess.run(args, capture_output=True, check=True)
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
    args = parser.parse_args()
    print("== top-50 12-1 momentum, monthly, 10 bps (in process)")
    in_process(args.lake, STRATEGY, args.runs, [])
    print("\n== same with a 15% trailing stop (in process)")
    in_process(args.lake, STRATEGY, args.runs, ['stops={kind="trailing", trail_pct=0.15}'])
    print()
    whole_process(args.lake, STRATEGY, args.runs)
    whole_process(args.lake, EQUAL_WEIGHT_ALL, args.runs)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the in-process runs: {peak:.0f} MB")


if __name__ == "__main__":
    main()
