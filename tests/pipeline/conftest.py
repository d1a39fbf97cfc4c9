"""Fixtures of the pipeline tests: the shared real data set and its session lake (root conftest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


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
    from qtc.lake.reader import Lake

    path = tmp_path_factory.mktemp("tiny") / "lake"
    build_demo_lake(path, seed=5, n_symbols=12, years=2)
    return Lake(path)
