"""Count what the property-based CLI harness tried: inputs, clean errors, tracebacks.

Run: `uv run python benchmarks/reliability.py [--examples N]` (default 150 per command
family). It runs `tests/cli/test_fuzz_cli.py` with `QTC_FUZZ_EXAMPLES=N` and a tally file,
and prints the table recorded in docs/RELIABILITY.md: per command family, the cases tried
and their exit codes, and every case whose outcome broke a rule (a traceback, an exit code
other than 0/1/2, JSON that does not parse, a file written on a usage error, a temp file
left). hypothesis shrinks a failing case, so a failure also shows up as several lines.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=150, help="cases per command family")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tally = Path(tmp) / "tally.jsonl"
        env = os.environ | {"QTC_FUZZ_EXAMPLES": str(args.examples), "QTC_FUZZ_TALLY": str(tally)}
        start = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
             "tests/cli/test_fuzz_cli.py"],
            cwd=REPO, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        seconds = time.perf_counter() - start
        records = [json.loads(line) for line in tally.read_text().splitlines()]
    print(run.stdout.strip().splitlines()[-1])
    by_family: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for r in records:
        by_family[r["family"]][str(r["exit"])] += 1
        by_family[r["family"]]["broken"] += bool(r["problems"])
    print(f"\n{len(records)} cases in {seconds:.0f} s\n")
    print("| family | cases | exit 0 | exit 1 | exit 2 | other | broke a rule |")
    print("|---|---|---|---|---|---|---|")
    for family, counts in sorted(by_family.items()):
        total = sum(v for k, v in counts.items() if k != "broken")
        other = total - counts["0"] - counts["1"] - counts["2"]
        print(f"| {family} | {total} | {counts['0']} | {counts['1']} | {counts['2']} | "
              f"{other} | {counts['broken']} |")  # fmt: skip
    for r in records:
        if r["problems"]:
            print("BROKE:", " ".join(r["argv"]), r["problems"])


if __name__ == "__main__":
    main()
