"""Report speed: render the HTML tear sheet of a real-data momentum_us run.

Run: `uv run python benchmarks/bench_report.py --lake LAKE [--runs N]`
(build the real-data lake first: `uv run qtc data ingest ../shared/data --lake LAKE`),
or `--run RUN_DIR` to time an existing run folder.

Target (issue 6, this 2-core machine): rendering takes < 2 s. Two figures are printed:
`render_report` in process (imports done, a warm session) and a fresh Python process that
imports qtc, renders and writes the file (what `qtc report` costs, interpreter start
included). Each is the median of `--runs` repetitions.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STRATEGY = REPO / "strategies" / "momentum_us.toml"
TARGET_S = 2.0
FRESH = (
    "import sys; from pathlib import Path; from qtc.outputs.report import write_report; "
    "write_report(Path(sys.argv[1]), Path(sys.argv[2]))"
)


def make_run(lake: Path, out: Path) -> Path:
    """Backtest momentum_us on the lake (reused when identical) and return its folder."""
    from qtc.api.data import LakeRef
    from qtc.api.run import backtest

    return backtest(str(STRATEGY), lake=LakeRef(lake, "--lake"), out=out).run_dir


def in_process(run: Path, runs: int) -> list[float]:
    """Seconds per `render_report` call, after one warm-up render."""
    from qtc.outputs.report import render_report

    html = render_report(run)
    print(f"report size {len(html.encode()) / 1e6:.2f} MB")
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        render_report(run)
        times.append(time.perf_counter() - began)
    return times


def fresh_process(run: Path, runs: int) -> list[float]:
    """Wall seconds of a new Python process that imports qtc, renders and writes."""
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        args = [sys.executable, "-c", FRESH, str(run), str(Path(tmp) / "report.html")]
        subprocess.run(args, check=True)  # warm the OS file cache and bytecode
        for _ in range(runs):
            began = time.perf_counter()
            subprocess.run(args, check=True)
            times.append(time.perf_counter() - began)
    return times


def report(label: str, times: list[float]) -> None:
    """Print the median, min and max against the target."""
    med = statistics.median(times)
    verdict = "ok" if med < TARGET_S else "OVER TARGET"
    print(
        f"{label:<34} median {med:.3f} s  min {min(times):.3f} s  max {max(times):.3f} s  "
        f"(target < {TARGET_S:.0f} s: {verdict})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--lake", type=Path, help="real-data lake: backtest momentum_us on it")
    source.add_argument("--run", type=Path, help="an existing run folder")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = args.run if args.run else make_run(args.lake, Path(tmp) / "runs")
        doc = (run / "run.json").read_text()
        print(f"run {run.name}: {len(doc) / 1e3:.0f} kB run.json")
        report("render_report (in process)", in_process(run, args.runs))
        report("fresh process (import + write)", fresh_process(run, args.runs))


if __name__ == "__main__":
    main()
