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
