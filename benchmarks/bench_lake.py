"""Lake speed: ingest of ../shared/data, the warm adj_close panel read, the demo build.

Run: `uv run python benchmarks/bench_lake.py [--runs N] [--mem-runs N] [--data DIR]`.
Targets (this 2-core machine): ingest < 15 s, 556-symbol x 2005-01-01..2023-10-18
adj_close into a wide float64 array < 0.15 s warm, demo market build < 10 s. "Warm" means
the Parquet file is in the OS page cache and the `Lake` is open; the timed call includes
the scan, the filter, and the scatter into the (dates x symbols) array. Prints medians.

Ingest memory: each ingest runs in a fresh child process that reports its ingest time and
peak resident set size (VmHWM of /proc/self/status, so Linux only), on the shared data set
and on a 4x data set built in a temporary folder (the prices repeated under renamed
symbols `AAPL-X1` ..., sorted by symbol and date like the source; the other files linked).
Targets: peak <= 600 MB on the shared data set, <= 1 GB at 4x.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

import qtc
from qtc.lake.demo.build import build_demo_lake
from qtc.lake.ingest.ingest import ingest_shared_dataset
from qtc.lake.read.reader import Lake

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
TARGETS_S = {"ingest": 15.0, "panel": 0.15, "demo": 10.0, "ingest4x": 60.0}
TARGETS_MB = {"ingest": 600.0, "ingest4x": 1000.0}
WINDOW = ("2005-01-01", "2023-10-18")
COPIES = 4
PRICES = "prices_daily.parquet"

CHILD = """
import json, sys, time
from pathlib import Path
from qtc.lake.ingest.ingest import ingest_shared_dataset
start = time.perf_counter()
ingest_shared_dataset(sys.argv[1], sys.argv[2])
seconds = time.perf_counter() - start
status = Path("/proc/self/status").read_text().splitlines()
peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024}))
"""
"""One ingest in a child process; prints its time and peak RSS. The peak is VmHWM (Linux):
`ru_maxrss` would not do, it keeps the parent's high-water mark across fork and exec."""

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


def make_copies(data: Path, folder: Path, copies: int = COPIES) -> Path:
    """Build a data set with `copies` times the prices: renamed symbols, other files linked.

    Args:
        data: The shared data folder.
        folder: Folder to create.
        copies: How many times the prices are repeated.

    Returns:
        The folder.
    """
    folder.mkdir()
    for item in data.iterdir():
        if item.name != PRICES:
            (folder / item.name).symlink_to(item.resolve())
    scan = pl.scan_parquet(data / PRICES)
    renamed = [scan.with_columns(pl.col("symbol") + f"-X{k}") for k in range(1, copies)]
    both = pl.concat([scan, *renamed]).sort("symbol", "date", maintain_order=True)
    both.sink_parquet(folder / PRICES, compression="zstd", row_group_size=122_880)
    return folder


def ingest_in_child(data: Path, lake: Path) -> tuple[float, float]:
    """Ingest in a fresh child process (the same qtc as this one).

    Args:
        data: Shared data folder.
        lake: Lake folder to create.

    Returns:
        Ingest seconds and peak RSS in MB of the child.
    """
    root = str(Path(qtc.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(data), str(lake)],
        env={**os.environ, "PYTHONPATH": path},
        check=True,
        capture_output=True,
        text=True,
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    return float(found["seconds"]), float(found["peak_mb"])


def bench_ingest_memory(data: Path, work: Path, runs: int) -> tuple[list[Row], list[Row]]:
    """Ingest the shared data set and its 4x copy in child processes, alternating.

    Args:
        data: Shared data folder.
        work: Scratch folder.
        runs: Runs per data set.

    Returns:
        Time rows and memory rows.
    """
    sets = {"ingest": data, "ingest4x": make_copies(data, work / "data4x")}
    seconds: dict[str, list[float]] = {key: [] for key in sets}
    peaks: dict[str, list[float]] = {key: [] for key in sets}
    for run in range(runs):
        for key, folder in sets.items():
            lake = work / f"child-{key}-{run}"
            took, peak = ingest_in_child(folder, lake)
            shutil.rmtree(lake)
            seconds[key].append(took)
            peaks[key].append(peak)
    label = {"ingest": "shared data set", "ingest4x": f"{COPIES}x the prices"}
    time_rows = [("ingest4x", f"ingest {label['ingest4x']} (child process)", seconds["ingest4x"])]
    mem_rows = [(key, f"ingest {label[key]}: peak RSS", peaks[key]) for key in sets]
    return time_rows, mem_rows


def print_memory(rows: list[Row]) -> None:
    """Print median / min / max peak RSS per benchmark against its target.

    Args:
        rows: `(target key, label, peaks in MB)` per benchmark.
    """
    print(f"{'memory':<52} {'median MB':>9} {'min MB':>8} {'max MB':>8} {'target MB':>9}  ok")
    for key, label, peaks in rows:
        target = TARGETS_MB[key]
        med = statistics.median(peaks)
        ok = "yes" if med <= target else "NO"
        low, high = min(peaks), max(peaks)
        print(f"{label:<52} {med:>9.0f} {low:>8.0f} {high:>8.0f} {target:>9.0f}  {ok}")


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
    """Run the benchmarks and print tables of medians (time, then ingest memory)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5, help="runs of ingest and demo")
    parser.add_argument("--panel-runs", type=int, default=30, help="runs of the panel read")
    parser.add_argument("--mem-runs", type=int, default=3, help="child ingests per data set")
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
        time_rows, mem_rows = bench_ingest_memory(args.data, work, args.mem_runs)
        print_table(rows + time_rows)
        print_memory(mem_rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
