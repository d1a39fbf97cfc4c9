"""`qtc sweep --executor ray` against a local 2-CPU Ray: the same files as the local executor.

In a file of its own so pytest-xdist can run it beside the other sweep tests (Ray's start
takes most of its time).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from tests.search.test_sweep_cli import GRID, STRATEGY, WINDOW, _json, demo_lake, sweep

__all__ = ["demo_lake", "sweep"]  # fixtures used here


@pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="the ray extra is not installed (CI installs it: uv sync --all-extras)",
)
def test_ray_executor_gives_the_local_results(sweep: Callable[..., Result], tmp_path: Path) -> None:
    local = _json(
        sweep(STRATEGY, *WINDOW, *GRID, "--jobs", "1", "--format", "json", out=tmp_path / "l")
    )
    on_ray = _json(
        sweep(STRATEGY, *WINDOW, *GRID, "--executor", "ray", "--jobs", "2", "--format", "json",
              out=tmp_path / "r")
    )  # fmt: skip
    assert on_ray["sweep_id"] == local["sweep_id"]
    a, b = Path(str(local["folder"])), Path(str(on_ray["folder"]))
    assert (a / "trials.parquet").read_bytes() == (b / "trials.parquet").read_bytes()
    assert on_ray["top"] == local["top"]
