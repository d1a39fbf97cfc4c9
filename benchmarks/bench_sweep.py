"""Sweep speed: the issue's 108-variant momentum grid as a whole `qtc sweep` process.

Run: `uv run python benchmarks/bench_sweep.py --lake LAKE [--jobs N] [--executor local|ray]
[--sample N]` (build the real-data lake first: `uv run qtc data ingest ../shared/data --lake
LAKE`). The grid: lookback {63,126,189,252,315,378} x skip {0,5,21} x top_n {10,20,30,50,75,
100} on `benchmarks/strategies/momentum_top50.toml` (equal weight, monthly, 2005-01-01 ->
2023-10-18, 10 bps). With `--sample N` the space is widened (top_n 5..200 step 5, lookback
21..378 step 21) and N variants are drawn, to show how time grows with the trial count.

Prints the wall time and the peak RSS of the process and its workers (every run starts on a
fresh output folder and ledger, so nothing is reused). Target (issue 15): <= 3 s, <= 1 GB.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STRATEGY = REPO / "benchmarks" / "strategies" / "momentum_top50.toml"
GRID = [
    "--grid", "factors.mom_12_1.lookback=63,126,189,252,315,378",
    "--grid", "factors.mom_12_1.skip=0,5,21",
    "--grid", "selection.top_n=10,20,30,50,75,100",
]  # fmt: skip
WIDE = [
    "--grid", "factors.mom_12_1.lookback=" + ",".join(str(21 * k) for k in range(1, 19)),
    "--grid", "factors.mom_12_1.skip=0,5,10,21",
    "--grid", "selection.top_n=" + ",".join(str(5 * k) for k in range(1, 41)),
]  # fmt: skip


def main() -> None:
    """Run the sweep once as a fresh process and print its figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--executor", default="local")
    parser.add_argument("--sample", type=int, default=None)
    args = parser.parse_args()
    qtc = str(Path(sys.executable).with_name("qtc"))
    grid = GRID if args.sample is None else [*WIDE, "--sample", str(args.sample)]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "QTC_LEDGER": str(Path(tmp) / "ledger.duckdb")}
        command = [
            qtc, "sweep", str(STRATEGY), *grid, "--lake", str(args.lake), "--out", tmp,
            "--jobs", str(args.jobs), "--executor", args.executor, "--top", "5",
        ]  # fmt: skip
        began = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        seconds = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(done.stderr)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    variants = args.sample or 108
    print(f"{variants} variants, {args.executor} x{args.jobs}: {seconds:.2f} s, "
          f"peak RSS of one process {peak:.0f} MB")  # fmt: skip
    print(done.stdout.splitlines()[0])


if __name__ == "__main__":
    main()
