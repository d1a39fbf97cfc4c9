"""Live-trading speed: `qtc rebalance` of momentum_us on the real-data lake, paper broker.

Run: `uv run python benchmarks/bench_rebalance.py --lake LAKE [--runs N]`
(build the real-data lake first: `uv run qtc data ingest ../shared/data --lake LAKE`).

Three figures, each the median of `--runs` repetitions in fresh processes (what a user waits
for, interpreter start included), every repetition on a fresh state folder. Bytecode is
compiled first (`compileall`), as an installed package has it (see `bench_cli.py`):

* `--dry-run`: targets through the pipeline, the paper account, order planning, nanobook risk
  checks, the order-plan artifact.
* `--yes`: the same, then execution of every order on the paper account with the audit log
  (one fsync per record) and the reconciliation.
* `reconcile`: targets against the holdings after the execution.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STRATEGY = "strategies/momentum_us.toml"


def qtc(args: list[str], state: Path) -> float:
    """Wall seconds of one `qtc` process."""
    env = os.environ | {"QTC_STATE_DIR": str(state)}
    began = time.perf_counter()
    subprocess.run(["qtc", *args], cwd=REPO, env=env, check=True, capture_output=True)
    return time.perf_counter() - began


def measure(lake: Path, runs: int, as_of: str) -> dict[str, list[float]]:
    """Times of each step over `runs` fresh state folders."""
    times: dict[str, list[float]] = {"--dry-run": [], "--yes": [], "reconcile": []}
    common = ["--broker", "paper", "--lake", str(lake), "--as-of", as_of]
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            state, out = Path(tmp) / "state", ["--out", str(Path(tmp) / "orders")]
            times["--dry-run"].append(
                qtc(["rebalance", STRATEGY, *common, *out, "--dry-run"], state)
            )
            times["--yes"].append(qtc(["rebalance", STRATEGY, *common, *out, "--yes"], state))
            times["reconcile"].append(qtc(["reconcile", STRATEGY, *common], state))
    return times


def main() -> None:
    """Print a Markdown table of the medians."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--as-of",
        default="2023-10-18",
        help="the paper account replays this date (the shared data's last day); today the "
        "signal would be stale and nothing would be sent",
    )
    ns = parser.parse_args()
    compileall.compile_dir(REPO / "qtc", quiet=1)
    times = measure(ns.lake, ns.runs, ns.as_of)
    print("| step | median | min | max |\n|---|---|---|---|")
    for step, values in times.items():
        print(
            f"| `{step}` | {statistics.median(values):.2f} s | {min(values):.2f} s "
            f"| {max(values):.2f} s |"
        )


if __name__ == "__main__":
    main()
