"""`qtc --help`, `check` and `compile` never import heavy libraries (start-up speed)."""

from __future__ import annotations

import json
import subprocess
import sys

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
