"""Shared test helpers: the repo root, a fixed as-of date, and an in-process CLI runner."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

REPO = Path(__file__).resolve().parents[1]
AS_OF = "2024-01-02"
AS_OF_DATE = dt.date(2024, 1, 2)


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run with the repository root as the working directory (stable relative paths)."""
    monkeypatch.chdir(REPO)
    return REPO


@pytest.fixture
def qtc(in_repo: Path) -> Callable[..., Result]:
    """Invoke the qtc CLI in process: `qtc("check", "file.toml")`."""
    from qtc.cli.main import app

    def run(*args: str) -> Result:
        return CliRunner().invoke(app, list(args))

    return run
