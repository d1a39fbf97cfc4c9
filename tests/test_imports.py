"""Start-up speed: `qtc --help`, `check` and `compile` never import heavy libraries, and
`qtc backtest` imports only the ones its strategy uses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

HEAVY = ("polars", "duckdb", "nanobook", "numpy", "riskfolio", "quantstats", "pandas", "jinja2")

PROBE = """
import json, sys
from typer.testing import CliRunner
from qtc.cli.main import app
runner = CliRunner()
runner.invoke(app, ["--help"])
runner.invoke(app, ["check", "strategies/momentum_us.toml", "--as-of", "2024-01-02"])
runner.invoke(app, ["compile", "strategies/momentum_us.toml", "--json", "--as-of", "2024-01-02"])
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)))
"""


def test_no_heavy_imports_for_check_and_compile() -> None:
    code = f"HEAVY = {HEAVY!r}\n{PROBE}"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


BACKTEST_UNNEEDED = ("duckdb", "riskfolio", "quantstats", "matplotlib", "pandas", "jinja2", "scipy")

BACKTEST_PROBE = """
import json, sys
from typer.testing import CliRunner
from qtc.cli.main import app
args = ["backtest", "strategies/momentum_us.toml", "--lake", LAKE, "--out", OUT]
result = CliRunner().invoke(app, args)
assert result.exit_code == 0, result.output
print(json.dumps(sorted(
    m for m in sys.modules
    if m.split(".")[0] in UNNEEDED or m.startswith("qtc.live") or m == "qtc.lake.read.sql"
)))
"""


def test_backtest_imports_only_what_it_uses(tmp_path: Path) -> None:
    """A top-N backtest (no optimizer sizing, no report, no SQL) never loads those libraries."""
    from qtc.lake import build_demo_lake

    lake = tmp_path / "lake"
    build_demo_lake(lake, seed=11, n_symbols=20, years=2)
    out_dir = tmp_path / "runs"
    code = (
        f"UNNEEDED = {BACKTEST_UNNEEDED!r}\nLAKE = {str(lake)!r}\nOUT = {str(out_dir)!r}\n"
        f"{BACKTEST_PROBE}"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
