"""Fixtures of the `qtc validate` tests: a small synthetic demo lake and a private ledger."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from qtc.lake import build_demo_lake
from tests.conftest import REPO

STRATEGY = str(REPO / "strategies" / "momentum_us.toml")
WINDOW = ("--set", "data.start=2007-01-02", "--set", "data.end=2010-12-30")
SHORT_WINDOW = ("--set", "data.start=2009-06-01", "--set", "data.end=2010-12-30")
"""A shorter window for the slower tests (searches, reports, subprocesses)."""


@pytest.fixture(scope="session")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("validate_demo") / "lake"
    build_demo_lake(path, seed=11, n_symbols=60, years=6)
    return path


@pytest.fixture
def validate(
    qtc: Callable[..., Result], demo_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    """`qtc validate` on the demo lake with a private ledger and output folder."""
    monkeypatch.setenv("QTC_LEDGER", str(tmp_path / "ledger.duckdb"))

    def run(*args: str) -> Result:
        return qtc("validate", *args, "--lake", str(demo_lake), "--out", str(tmp_path / "va"))

    return run


def as_json(result: Result, code: int = 0) -> dict[str, Any]:
    """The JSON on stdout, after checking the exit code."""
    assert result.exit_code == code, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data
