"""Factors without a composite weight are neither loaded for nor computed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qtc.compile.plan import Plan
from qtc.lake.read.reader import Lake
from qtc.manifest.factors import FactorSpec
from qtc.pipeline import factors, runner
from qtc.pipeline.market import load_market
from qtc.pipeline.panel import Panel
from qtc.pipeline.runner import run_on_lake
from tests.pipeline.conftest import plan_from_text

HEAD = """
schema = 1
name = "unused"

[data]
start = 2005-03-01
end = 2006-06-30
benchmark = "SPY"

[universe]
kind = "all"

[[factors]]
name = "mom"
kind = "momentum"
lookback = 21
skip = 0
"""

UNUSED = """
[[factors]]
name = "vol"
kind = "volatility"
window = 10

[[factors]]
name = "beta_nope"
kind = "beta"
window = 20
benchmark = "NOPE"

[[factors]]
name = "atr"
kind = "atr"
period = 5

[[factors]]
name = "ey"
kind = "value"
metric = "earnings_yield"
"""

TAIL = """
[scoring]
method = "rank"
{weights}

[selection]
top_n = 4

[rebalance]
frequency = "monthly"
"""


def plan(tmp_path: Path, extra: str, weights: str) -> Plan:
    plan: Plan = plan_from_text(tmp_path, HEAD + extra + TAIL.format(weights=weights))
    return plan


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the factors computed (compute_factor calls), in order."""
    calls: list[str] = []
    original = factors.compute_factor

    def record(spec: FactorSpec, panel: Panel, *args: object, **kw: object) -> np.ndarray:
        calls.append(spec.name)
        return original(spec, panel, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(factors, "compute_factor", record)
    return calls


def test_unweighted_factors_are_not_computed(
    tmp_path: Path, tiny_lake: Lake, computed: list[str]
) -> None:
    # vol has weight 0, the others are not named; beta_nope's benchmark is not in the lake
    # and `ey` needs fundamentals: computing either would fail or read more data
    weights = "weights = { mom = 1.0, vol = 0.0 }"
    result = run_on_lake(plan(tmp_path, UNUSED, weights), tiny_lake)
    assert computed == ["mom"]
    alone = run_on_lake(plan(tmp_path, "", "weights = { mom = 1.0 }"), tiny_lake)
    np.testing.assert_array_equal(result.equity, alone.equity)
    np.testing.assert_array_equal(result.targets, alone.targets)
    assert result.warnings == alone.warnings


def test_unused_factors_do_not_shape_the_panel(tmp_path: Path, tiny_lake: Lake) -> None:
    # an unused ATR factor would load open/high/low; an unused beta, its benchmark
    spec = runner.load_spec(plan(tmp_path, UNUSED, "weights = { mom = 1.0 }"))
    assert not spec.ohlc and spec.other_benchmarks == ()
    panel = load_market(spec, tiny_lake).panel
    assert panel.high is None and panel.low is None
    assert list(panel.extra) == ["benchmark:SPY"]


def test_empty_weights_mean_every_factor_with_weight_one(tmp_path: Path) -> None:
    p = plan(tmp_path, "[[factors]]\nname = 'vol'\nkind = 'volatility'\nwindow = 10\n", "")
    assert [f.name for f in runner.used_factors(p)] == ["mom", "vol"]
    zero = plan(tmp_path, "[[factors]]\nname = 'vol'\nkind = 'volatility'\nwindow = 10\n",
                "weights = { mom = 0.0, vol = -1.0 }")  # fmt: skip
    assert [f.name for f in runner.used_factors(zero)] == ["vol"]
