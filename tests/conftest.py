"""Shared test helpers: the repo root, a fixed as-of date, and an in-process CLI runner."""

from __future__ import annotations

import datetime as dt
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
"""The real data set, `../shared/data` relative to the repository root."""
AS_OF = "2024-01-02"
AS_OF_DATE = dt.date(2024, 1, 2)


@pytest.fixture(autouse=True)
def _keep_sigint() -> Iterator[None]:
    """Restore Ctrl-C handling after a test (the CLI ignores a second Ctrl-C while exiting)."""
    handler = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, handler)


@pytest.fixture(autouse=True, scope="session")
def _session_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Runs the tests make are recorded in a run registry of their own, never the project's.

    Every backtest and sweep records itself in `$QTC_REGISTRY` (default `.qtc/` in the
    working folder, which is the repository for most tests); subprocesses inherit it.
    """
    old = os.environ.get("QTC_REGISTRY")
    os.environ["QTC_REGISTRY"] = str(tmp_path_factory.mktemp("registry") / "registry.duckdb")
    yield
    if old is None:
        os.environ.pop("QTC_REGISTRY", None)
    else:
        os.environ["QTC_REGISTRY"] = old


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run with the repository root as the working directory (stable relative paths)."""
    monkeypatch.chdir(REPO)
    return REPO


@pytest.fixture
def qtc(in_repo: Path) -> Callable[..., Result]:
    """Invoke the qtc CLI in process: `qtc("check", "file.toml")`."""
    from qtc.cli.main import app

    def run(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(app, list(args), input=input)

    return run


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real data folder; skipped when absent (a failure on CI)."""
    if not (SHARED_DATA / "prices_daily.parquet").is_file():
        message = f"shared data set not found at {SHARED_DATA}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return SHARED_DATA


@pytest.fixture(scope="session")
def shared_ingest(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """A lake built once per session from the shared real data set, with its ingest report."""
    from qtc.lake import ingest_shared_dataset

    lake_dir = tmp_path_factory.mktemp("shared") / "lake"
    report = ingest_shared_dataset(shared_data, lake_dir)
    return lake_dir, report


def stable(value: Any, digits: int = 10) -> Any:
    """`value` with every float rounded to `digits` significant digits, for JSON snapshots.

    numpy's SIMD reductions sum in a different order on AVX2 and AVX-512 CPUs, so results
    agree across machines to about 1e-15 relative, not to the last bit; a snapshot must not
    depend on the machine it was taken on.
    """
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {k: stable(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [stable(v, digits) for v in value]
    return value
