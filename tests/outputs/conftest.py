"""Fixtures of the report tests: small backtest runs on a small synthetic demo lake.

Every run is made through qtc's library (`qtc.api.run.backtest`) and its volatile
meta.json is replaced by fixed values, so reports of these runs are stable inputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qtc.api.data import LakeRef
from qtc.lake import build_demo_lake
from tests.conftest import REPO

WINDOW = ["data.start=2007-01-02", "data.end=2010-12-30"]
FIXED_META = {
    "argv": ["qtc", "backtest", "strategies/momentum_us.toml"],
    "created_at": "2024-01-02T03:04:05Z",
    "duration_s": 0.5,
    "git_commit": "0123456789abcdef0123456789abcdef01234567",
    "host": "test-host",
    "python": "3.11",
    "strategy_file": "strategies/momentum_us.toml",
}
RUNS: dict[str, list[str]] = {
    # 2007-2010 monthly momentum; 7 symbols' data end mid-run (data_ended events).
    "base": WINDOW,
    # No name passes the score threshold: nothing is ever bought.
    "zero_trades": [*WINDOW, "selection.min_score=1e9"],
    # One month (the demo lake ends 2010-12-31).
    "one_month": ["data.start=2010-12-01"],
    # Fixed 10 % stops on daily bars: stop events.
    "stops": [*WINDOW, "stops.kind=fixed", "stops.stop_pct=0.1"],
}


@pytest.fixture(scope="session")
def report_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic demo lake (60 symbols, 2005-2010, seed 11)."""
    path = tmp_path_factory.mktemp("report_demo") / "lake"
    build_demo_lake(path, seed=11, n_symbols=60, years=6)
    return path


@pytest.fixture(scope="session")
def report_runs(report_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Run folders by case name (see RUNS), each with a fixed meta.json."""
    from qtc.api.run import backtest

    out = tmp_path_factory.mktemp("report_runs")
    folders: dict[str, Path] = {}
    for name, overrides in RUNS.items():
        outcome = backtest(
            str(REPO / "strategies" / "momentum_us.toml"),
            lake=LakeRef(report_lake, "--lake"),
            overrides=overrides,
            out=out / name,
        )
        (outcome.run_dir / "meta.json").write_text(json.dumps(FIXED_META, indent=2) + "\n")
        folders[name] = outcome.run_dir
    return folders


@pytest.fixture
def base_run(report_runs: dict[str, Path], tmp_path: Path) -> Path:
    """A private copy of the base run (tests may write into it)."""
    import shutil

    target = tmp_path / "run"
    shutil.copytree(report_runs["base"], target)
    return target


@pytest.fixture(scope="session")
def rendered(report_runs: dict[str, Path]) -> dict[str, str]:
    """The report of every run in RUNS, rendered once per session."""
    from qtc.outputs.report import render_report

    return {name: render_report(path) for name, path in report_runs.items()}
