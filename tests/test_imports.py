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


DRY_RUN_UNNEEDED = (*BACKTEST_UNNEEDED, "alpaca", "ib_async", "optuna", "ray")
"""Libraries a paper dry run never needs: no SQL, optimizer, report, broker SDK or search."""

SENDING = ("qtc.live.execute", "qtc.live.audit", "qtc.live.session", "qtc.live.control")
"""The modules that send orders and log them: a dry run sends nothing."""

DRY_RUN_PROBE = """
import json, os, sys
from typer.testing import CliRunner
from qtc.cli.main import app
os.environ["QTC_STATE_DIR"] = STATE
args = ["rebalance", "strategies/momentum_us.toml", "--dry-run", "--broker", "paper",
        "--lake", LAKE, "--out", OUT, "--as-of", AS_OF]
result = CliRunner().invoke(app, args)
assert result.exit_code == 0, result.output
print(json.dumps(sorted(
    m for m in sys.modules
    if m.split(".")[0] in UNNEEDED or m.startswith(SENDING) or m == "qtc.lake.read.sql"
    or m.startswith(("qtc.live.brokers.alpaca", "qtc.live.brokers.ibkr"))
)))
"""


def test_dry_run_imports_nothing_that_sends(tmp_path: Path) -> None:
    """`qtc rebalance --dry-run` on the paper broker loads no sender and no broker SDK."""
    from qtc.lake import build_demo_lake

    lake = tmp_path / "lake"
    build_demo_lake(lake, seed=11, n_symbols=20, years=2)
    as_of = json.loads((lake / "catalog.json").read_text())["datasets"]["prices"]["max_date"]
    code = (
        f"UNNEEDED = {DRY_RUN_UNNEEDED!r}\nSENDING = {SENDING!r}\nLAKE = {str(lake)!r}\n"
        f"OUT = {str(tmp_path / 'orders')!r}\nSTATE = {str(tmp_path / 'state')!r}\n"
        f"AS_OF = {as_of!r}\n{DRY_RUN_PROBE}"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_a_command_line_builds_only_its_command() -> None:
    """`main` registers only the named command (faster start); the output is the whole app's."""
    from typer.testing import CliRunner

    from qtc.cli.main import app, app_for

    assert [c.name for c in app_for(["rebalance", "--dry-run"]).registered_commands] == [
        "rebalance"
    ]
    for argv in (["data", "info"], ["rebalanc"]):
        assert app_for(argv) is app
    for argv in (["--help"], ["--version"], []):  # the listing: commands without parameters
        assert app_for(argv) is not app  # (same output: tests/cli/test_cli.py)
    runner = CliRunner()
    for argv in (
        ["rebalance", "--help"],
        ["rebalance", "--as-of", "2024-13-01", "x.toml"],
        ["rebalance", "--format", "json", "--bogus"],
        ["compile", "strategies/momentum_us.toml", "--json", "--as-of", "2024-01-02"],
        ["check", "missing.toml"],
    ):
        whole, narrowed = runner.invoke(app, argv), runner.invoke(app_for(argv), argv)
        assert (narrowed.exit_code, narrowed.stdout, narrowed.stderr) == (
            whole.exit_code,
            whole.stdout,
            whole.stderr,
        ), argv
