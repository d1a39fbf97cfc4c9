"""Fixtures shared by the live-trading tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from qtc.lake import build_demo_lake


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic lake (60 symbols, 6 years) for the live commands, built once."""
    path = tmp_path_factory.mktemp("live") / "lake"
    build_demo_lake(path, seed=11, n_symbols=60, years=6)
    return path
