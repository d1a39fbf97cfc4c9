"""Lake speed: ingest of ../shared/data, the warm adj_close panel read, the demo build.

Run: `uv run python benchmarks/bench_lake.py [--runs N] [--data DIR]`. Targets (this
2-core machine): ingest < 15 s, 556-symbol x 2005-01-01..2023-10-18 adj_close into a
wide float64 array < 0.15 s warm, demo market build < 10 s. "Warm" means the Parquet
file is in the OS page cache and the `Lake` is open; the timed call includes the scan,
the filter, and the scatter into the (dates x symbols) array. Prints medians.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from qtc.lake.demo.build import build_demo_lake
from qtc.lake.ingest.ingest import ingest_shared_dataset
from qtc.lake.read.reader import Lake

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
TARGETS_S = {"ingest": 15.0, "panel": 0.15, "demo": 10.0}
WINDOW = ("2005-01-01", "2023-10-18")

Row = tuple[str, str, list[float]]


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    """Wall-clock seconds of `runs` calls of `fn`.

    Args:
        fn: The call to time.
        runs: How many times.

    Returns:
        The durations.
    """
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def bench_panel(lake_dir: Path, runs: int) -> list[Row]:
    """Time the adj_close panel read, on an open lake and on a freshly opened one.

    Args:
        lake_dir: A lake holding the real data set.
        runs: Runs per case.

    Returns:
        Table rows.
    """
    lake = Lake(lake_dir)
    dates, symbols, matrix = lake.adj_close_matrix(None, *WINDOW)
    print(f"panel: {len(dates)} dates x {len(symbols)} symbols, {matrix.dtype}")
    warm = timed(lambda: lake.adj_close_matrix(None, *WINDOW), runs)
    fresh = timed(lambda: Lake(lake_dir).adj_close_matrix(None, *WINDOW), runs)
    return [
        ("panel", "adj_close 556 x 2005-01-01..2023-10-18 (warm)", warm),
        ("panel", "same, fresh Lake() each time (calendar not cached)", fresh),
    ]


def print_table(rows: list[Row]) -> None:
    """Print median / min / max per benchmark against its target.

    Args:
        rows: `(target key, label, durations)` per benchmark.
    """
    print(f"{'benchmark':<52} {'median s':>9} {'min s':>8} {'max s':>8} {'target s':>9}  ok")
    for key, label, times in rows:
        target = TARGETS_S[key]
        med = statistics.median(times)
        ok = "yes" if med < target else "NO"
        low, high = min(times), max(times)
        print(f"{label:<52} {med:>9.3f} {low:>8.3f} {high:>8.3f} {target:>9.2f}  {ok}")


def main() -> None:
    """Run the three benchmarks and print a table of medians."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5, help="runs of ingest and demo")
    parser.add_argument("--panel-runs", type=int, default=30, help="runs of the panel read")
    parser.add_argument("--data", type=Path, default=DATA, help="shared data folder")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qtc-bench-lake-"))
    counter = iter(range(1_000_000))
    try:
        rows: list[Row] = [
            (
                "ingest",
                "ingest ../shared/data (7 datasets)",
                timed(
                    lambda: ingest_shared_dataset(args.data, work / f"l{next(counter)}"), args.runs
                ),
            )
        ]
        rows += bench_panel(work / "l0", args.panel_runs)
        demo = timed(lambda: build_demo_lake(work / f"d{next(counter)}"), args.runs)
        rows.append(("demo", "build demo market (300 symbols, 2005-2023)", demo))
        print_table(rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
