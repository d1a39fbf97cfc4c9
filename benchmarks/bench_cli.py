"""Wall time of whole `qtc` processes: `--help`, `check`, `compile` and (with `--lake`) `backtest`.

Run: `uv run python benchmarks/bench_cli.py [--runs N] [--lake LAKE]`. Each command runs as a
fresh process (interpreter start included), like a user or a pre-commit hook runs it.
Bytecode is compiled first (`compileall`), as an installed package has it; this
matters where PYTHONDONTWRITEBYTECODE is set, which otherwise recompiles every
module on every start.

Targets: `--help` 0.1 s; `check` and `compile` 0.3 s; `backtest` of the top-50 momentum
benchmark strategy on the real-data lake (`uv run qtc data ingest ../shared/data --lake LAKE`)
0.35 s for the whole process (issue 14). With `--lake`, `--out` is a temporary folder and
`--force` makes every run a real one (no reuse).
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_S = 0.3
HELP_TARGET_S = 0.1
BACKTEST_TARGET_S = 0.35
BACKTEST_STRATEGY = "benchmarks/strategies/momentum_top50.toml"


def time_command(args: list[str], runs: int) -> list[float]:
    """Wall-clock seconds of `runs` fresh runs of a command (after one warm-up run).

    The runs are recorded in a registry of their own, not in the repository's `.qtc/`.
    """
    registry = Path(tempfile.gettempdir()) / "qtc-bench-cli" / "registry.duckdb"
    env = {**os.environ, "QTC_REGISTRY": str(registry)}
    subprocess.run(args, cwd=REPO, capture_output=True, check=False, env=env)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, cwd=REPO, capture_output=True, check=False, env=env)
        times.append(time.perf_counter() - start)
    return times


def cases(qtc: str, lake: Path | None, out: Path) -> dict[str, tuple[list[str], float]]:
    """Command name -> (argv, target seconds)."""
    examples = sorted(str(p.relative_to(REPO)) for p in (REPO / "strategies").glob("*.toml"))
    found: dict[str, tuple[list[str], float]] = {
        "qtc --help": ([qtc, "--help"], HELP_TARGET_S),
        f"qtc check strategies/*.toml ({len(examples)} files)": (
            [qtc, "check", *examples, "--as-of", "2024-01-02"],
            TARGET_S,
        ),
        "qtc compile strategies/momentum_us.toml --json": (
            [qtc, "compile", "strategies/momentum_us.toml", "--json", "--as-of", "2024-01-02"],
            TARGET_S,
        ),
    }
    if lake is not None:
        argv = [qtc, "backtest", BACKTEST_STRATEGY, "--lake", str(lake), "--out", str(out)]
        found["qtc backtest momentum_top50 --force"] = ([*argv, "--force"], BACKTEST_TARGET_S)
    return found


def main() -> None:
    """Print median / min / max per command and whether it meets its target."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--lake", type=Path, default=None, help="Real-data lake: time backtest.")
    ns = parser.parse_args()
    compileall.compile_dir(REPO / "qtc", quiet=1)
    qtc = str(Path(sys.executable).with_name("qtc"))
    print(f"{'command':<52} {'median':>8} {'min':>8} {'max':>8}  target")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (args, target) in cases(qtc, ns.lake, Path(tmp) / "runs").items():
            t = time_command(args, ns.runs)
            ok = "ok" if statistics.median(t) <= target else "SLOW"
            print(
                f"{name:<52} {statistics.median(t):>7.3f}s {min(t):>7.3f}s {max(t):>7.3f}s"
                f"  {target}s {ok}"
            )


if __name__ == "__main__":
    main()
