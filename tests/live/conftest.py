"""Fixtures shared by the live-trading tests.

`QTC_IBKR_LOOPBACK_ONLY=1` (inherited by the CLI subprocesses the tests start) makes the IBKR
adapter refuse any host but a loopback address and the standard TWS / IB Gateway ports: the
tests reach a fake TWS on an ephemeral local port, never a real one. The adapter also turns
this on by itself whenever pytest runs (`PYTEST_CURRENT_TEST`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qtc.lake import build_demo_lake

os.environ["QTC_IBKR_LOOPBACK_ONLY"] = "1"


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic lake (60 symbols, 6 years) for the live commands, built once."""
    path = tmp_path_factory.mktemp("live") / "lake"
    build_demo_lake(path, seed=11, n_symbols=60, years=6)
    return path
