"""Report speed: render the HTML tear sheet of a real-data momentum_us run.

Run: `uv run python benchmarks/bench_report.py --lake LAKE [--runs N]`
(build the real-data lake first: `uv run qtc data ingest ../shared/data --lake LAKE`),
or `--run RUN_DIR` to time an existing run folder.

Target (issue 14, this 2-core machine): `qtc report` <= 0.5 s for the whole process. Four
figures are printed, each the median of `--runs` repetitions: `render_report` in process
(imports done, a warm session), with the run's report cache (`RUN_DIR/.cache/report`:
charts, plan tree, highlighted strategy) and without it; and a fresh Python process that
imports qtc, renders and writes the file (what `qtc report` costs, interpreter start
included), once with the cache filled by an earlier render and once as the first render
of the run (its cache folder removed before each repetition). Each figure is given as wall
time and as CPU time (user + system; of the child process for the fresh ones), with the load
average: this machine is shared, and CPU time varies less with the load than wall time.

Since issue 14 the charts are hand-written SVG (`qtc.outputs.svg`): no render imports
matplotlib, which alone took longer than the target.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STRATEGY = REPO / "strategies" / "momentum_us.toml"
TARGET_S = 0.5
CACHE = Path(".cache") / "report"
FRESH = (
    "import sys; from pathlib import Path; from qtc.outputs.report import write_report; "
    "write_report(Path(sys.argv[1]), Path(sys.argv[2]))"
)


def make_run(lake: Path, out: Path) -> Path:
    """Backtest momentum_us on the lake (reused when identical) and return its folder."""
    from qtc.api.data import LakeRef
    from qtc.api.run import backtest

    return backtest(str(STRATEGY), lake=LakeRef(lake, "--lake"), out=out).run_dir


Timing = tuple[list[float], list[float]]
"""(wall seconds, CPU seconds) of each repetition."""


def in_process(run: Path, runs: int, *, cache: bool) -> Timing:
    """Seconds per `render_report` call, after one warm-up render."""
    from qtc.outputs.report import render_report

    html = render_report(run, cache=cache)
    if cache:
        print(f"report size {len(html.encode()) / 1e6:.2f} MB")
    walls, cpus = [], []
    for _ in range(runs):
        began, cpu = time.perf_counter(), time.process_time()
        render_report(run, cache=cache)
        walls.append(time.perf_counter() - began)
        cpus.append(time.process_time() - cpu)
    return walls, cpus


def fresh_process(run: Path, runs: int, *, first: bool) -> Timing:
    """Seconds of a new Python process that imports qtc, renders and writes.

    With `first`, the run's report cache is removed before each repetition.
    """
    walls, cpus = [], []
    with tempfile.TemporaryDirectory() as tmp:
        args = [sys.executable, "-c", FRESH, str(run), str(Path(tmp) / "report.html")]
        subprocess.run(args, check=True)  # warm the OS file cache and bytecode
        for _ in range(runs):
            if first:
                shutil.rmtree(run / CACHE, ignore_errors=True)
            before = _children_cpu()
            began = time.perf_counter()
            subprocess.run(args, check=True)
            walls.append(time.perf_counter() - began)
            cpus.append(_children_cpu() - before)
    return walls, cpus


def _children_cpu() -> float:
    """User + system CPU seconds of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def report(label: str, timing: Timing) -> None:
    """Print the medians (wall and CPU), min and max of the wall time against the target."""
    walls, cpus = timing
    med = statistics.median(walls)
    verdict = "ok" if med <= TARGET_S else "OVER TARGET"
    print(
        f"{label:<34} median {med:.3f} s  min {min(walls):.3f} s  max {max(walls):.3f} s  "
        f"CPU median {statistics.median(cpus):.3f} s  (target <= {TARGET_S} s: {verdict})"
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
        report("render_report (in process)", in_process(run, args.runs, cache=True))
        report("render_report, no cache", in_process(run, args.runs, cache=False))
        report("fresh process (import + write)", fresh_process(run, args.runs, first=False))
        report("fresh process, first render", fresh_process(run, args.runs, first=True))
        print("load average " + " ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
