"""Wall time of `qtc --help` and `qtc check strategies/*.toml` (target: < 0.3 s each).

Run: `uv run python benchmarks/bench_cli.py [--runs N]`. Each command runs as a fresh
process (interpreter start included), like a user or a pre-commit hook runs it.
Bytecode is compiled first (`compileall`), as an installed package has it; this
matters where PYTHONDONTWRITEBYTECODE is set, which otherwise recompiles every
module on every start.
"""

from __future__ import annotations

import argparse
import compileall
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_S = 0.3


def time_command(args: list[str], runs: int) -> list[float]:
    """Wall-clock seconds of `runs` fresh runs of a command (after one warm-up run)."""
    subprocess.run(args, cwd=REPO, capture_output=True, check=False)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, cwd=REPO, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    """Print median / min / max per command and whether it meets the target."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    compileall.compile_dir(REPO / "qtc", quiet=1)
    qtc = str(Path(sys.executable).with_name("qtc"))
    examples = sorted(str(p.relative_to(REPO)) for p in (REPO / "strategies").glob("*.toml"))
    cases = {
        "qtc --help": [qtc, "--help"],
        f"qtc check strategies/*.toml ({len(examples)} files)": [
            qtc,
            "check",
            *examples,
            "--as-of",
            "2024-01-02",
        ],
        "qtc compile strategies/momentum_us.toml --json": [
            qtc,
            "compile",
            "strategies/momentum_us.toml",
            "--json",
            "--as-of",
            "2024-01-02",
        ],
    }
    print(f"{'command':<52} {'median':>8} {'min':>8} {'max':>8}  target {TARGET_S}s")
    for name, args in cases.items():
        t = time_command(args, runs)
        ok = "ok" if statistics.median(t) < TARGET_S else "SLOW"
        print(f"{name:<52} {statistics.median(t):>7.3f}s {min(t):>7.3f}s {max(t):>7.3f}s  {ok}")


if __name__ == "__main__":
    main()
