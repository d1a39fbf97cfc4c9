"""The runner's progress callback: each stage as it starts, then the steps of long loops."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qtc.lake.read.reader import Lake
from qtc.pipeline import sizing
from qtc.pipeline.runner import run_on_lake
from tests.pipeline.conftest import plan_from_text

STRATEGY = """
schema = 1
name = "progress"

[data]
start = 2005-03-01
end = 2006-06-30
benchmark = "SPY"

[[factors]]
name = "mom"
kind = "momentum"
lookback = 21
skip = 0

[[factors]]
name = "vol"
kind = "volatility"
window = 10

[[factors]]
name = "unused"
kind = "volatility"
window = 5

[scoring]
method = "rank"
weights = {{ mom = 1.0, vol = -0.5 }}

[selection]
top_n = 4

[sizing]
kind = "{sizing}"
lookback = 20

[rebalance]
frequency = "monthly"
"""

STAGES = [
    "load_data",
    "select_universe",
    "compute_factors",
    "score",
    "select",
    "size",
    "apply_risk_caps",
    "schedule_weights",
    "run_engine",
    "compute_metrics",
]


def calls(tmp_path: Path, lake: Lake, sizing: str) -> tuple[list[tuple[str, int, int]], int]:
    """The progress calls of one run, and its number of rebalances."""
    plan = plan_from_text(tmp_path, STRATEGY.format(sizing=sizing))
    seen: list[tuple[str, int, int]] = []
    result = run_on_lake(plan, lake, progress=lambda *call: seen.append(call))
    return seen, len(result.signal_dates)


def test_stages_in_order_with_factor_and_optimizer_ticks(
    tmp_path: Path, tiny_lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the optimizer itself is irrelevant here (and slow to import): equal weights stand in
    def solve(spec: object, x: np.ndarray) -> tuple[np.ndarray, str]:
        return np.full(x.shape[1], 1.0 / x.shape[1]), ""

    monkeypatch.setattr(sizing, "_solve", solve)
    seen, rebalances = calls(tmp_path, tiny_lake, "min_variance")
    assert [s for s, done, total in seen if total == 0] == STAGES
    assert all(done == 0 for _, done, total in seen if total == 0)
    # two weighted factors (the unused one is not computed), then one tick per rebalance
    assert [c for c in seen if c[0] == "compute_factors"] == [
        ("compute_factors", 0, 0),
        ("compute_factors", 1, 2),
        ("compute_factors", 2, 2),
    ]
    size = [c for c in seen if c[0] == "size"]
    assert rebalances == 16  # the first day, then 15 month ends (2005-03 .. 2006-05)
    assert size == [("size", 0, 0)] + [("size", r, 16) for r in range(1, 17)]
    # ticks come between the stage's start and the next stage
    start = seen.index(("size", 0, 0))
    assert seen[start + 17] == ("apply_risk_caps", 0, 0)


def test_fast_sizing_has_no_ticks(tmp_path: Path, tiny_lake: Lake) -> None:
    seen, _ = calls(tmp_path, tiny_lake, "inverse_vol")
    assert [c for c in seen if c[0] == "size"] == [("size", 0, 0)]
