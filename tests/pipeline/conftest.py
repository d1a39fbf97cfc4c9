"""Fixtures of the pipeline tests: the shared real data set and its session lake (root conftest)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

TINY_AS_OF = dt.date(2007, 1, 2)
"""The as-of date of plans run on `tiny_lake` (after its last day)."""


def plan_from_text(folder: Path, text: str, name: str = "strategy.toml") -> Any:
    """Write a strategy's TOML into `folder` and compile it for `tiny_lake` (a `Plan`)."""
    from qtc.api.strategy import compile_file

    path = folder / name
    path.write_text(text)
    return compile_file(path, as_of=TINY_AS_OF).plan


@pytest.fixture(scope="session")
def real_data_dir(shared_data: Path) -> Path:
    """The shared real data folder (skipped when absent, a failure on CI)."""
    return shared_data


@pytest.fixture(scope="session")
def real_data_lake(shared_ingest: tuple[Path, Any]) -> Path:
    """Folder of the lake ingested once per session from the shared real data set."""
    return shared_ingest[0]


@pytest.fixture(scope="session")
def tiny_lake(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A tiny synthetic demo lake (12 symbols, 2005-2006, seed 5) as a `Lake`."""
    from qtc.lake import build_demo_lake
    from qtc.lake.read.reader import Lake

    path = tmp_path_factory.mktemp("tiny") / "lake"
    build_demo_lake(path, seed=5, n_symbols=12, years=2)
    return Lake(path)
