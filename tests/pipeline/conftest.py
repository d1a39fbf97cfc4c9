"""Fixtures of the pipeline tests: the shared real data set and a lake built from it once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qtc.lake import ingest_shared_dataset

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
"""The real data set, `../shared/data` relative to the repository root."""


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The shared real data folder; skipped when absent (a failure on CI)."""
    if not (SHARED_DATA / "prices_daily.parquet").is_file():
        message = f"shared data set not found at {SHARED_DATA}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return SHARED_DATA


@pytest.fixture(scope="session")
def real_data_lake(real_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a lake ingested once per session from the shared real data set."""
    lake_dir = tmp_path_factory.mktemp("pipeline_real") / "lake"
    ingest_shared_dataset(real_data_dir, lake_dir)
    return lake_dir
