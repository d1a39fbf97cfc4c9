"""The compiler: stage order, purity, cross-section checks, lint, strict mode."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from qtc.compile.compiler import analyze, compile_strategy
from qtc.compile.lint import warmup_days
from qtc.compile.stages import STAGE_ORDER
from qtc.errors import Location, Severity, StrategyError
from qtc.manifest.load import load_strategy
from qtc.manifest.strategy import Strategy
from tests.conftest import AS_OF_DATE, REPO


def strategy(**sections: object) -> Strategy:
    base: dict[str, object] = {
        "schema": 1,
        "name": "t",
        "data": {"start": "2010-01-04", "end": "2015-12-31"},
        "factors": [{"name": "mom", "kind": "momentum"}, {"name": "vol", "kind": "volatility"}],
    }
    base.update(sections)
    return Strategy.model_validate(base)


def codes(s: Strategy, **kw: object) -> list[str]:
    return sorted(d.code for d in analyze(s, as_of=AS_OF_DATE, **kw))  # type: ignore[arg-type]


def test_stages_in_fixed_order() -> None:
    plan = compile_strategy(strategy(), as_of=AS_OF_DATE)
    assert tuple(s.stage for s in plan.stages) == STAGE_ORDER


def test_compile_is_pure_and_deterministic() -> None:
    s = strategy()
    assert compile_strategy(s, as_of=AS_OF_DATE) == compile_strategy(s, as_of=AS_OF_DATE)


def test_default_weights_are_all_factors() -> None:
    plan = compile_strategy(strategy(), as_of=AS_OF_DATE)
    assert plan.stage("score").factor_weights == {"mom": 1.0, "vol": 1.0}  # type: ignore[union-attr]


def test_warmup_is_longest_need() -> None:
    s = strategy(sizing={"kind": "min_variance", "lookback": 500})
    assert warmup_days(s) == 501
    assert compile_strategy(s, as_of=AS_OF_DATE).stage("load_data").warmup_days == 501  # type: ignore[union-attr]


def test_end_defaults_to_as_of() -> None:
    s = strategy(data={"start": "2010-01-04"})
    load = compile_strategy(s, as_of=dt.date(2020, 5, 1)).stage("load_data")
    assert load.end == dt.date(2020, 5, 1) and load.end_is_as_of  # type: ignore[union-attr]


def test_datasets_follow_the_strategy() -> None:
    s = strategy(
        factors=[{"name": "v", "kind": "value"}],
        universe={"kind": "index_members"},
        regime={"kind": "vix"},
    )
    datasets = compile_strategy(s, as_of=AS_OF_DATE).stage("load_data").datasets  # type: ignore[union-attr]
    assert datasets == (
        "prices",
        "benchmarks",
        "rates",
        "symbols",
        "fundamentals",
        "membership",
        "macro",
    )


def test_unknown_factor_in_weights() -> None:
    s = strategy(scoring={"weights": {"mom": 1.0, "mmo": 0.5, "vol": -1.0}})
    assert codes(s) == ["QTC201"]


def test_unused_factor_warns() -> None:
    s = strategy(scoring={"weights": {"mom": 1.0}})
    found = analyze(s, as_of=AS_OF_DATE)
    assert [(d.code, d.severity) for d in found] == [("QTC208", Severity.WARNING)]


@pytest.mark.parametrize(
    "weights",
    [{"mom": 0.0, "vol": 0.0}, {"mom": 0.0}, {"mom": -0.0, "vol": 0}],
    ids=["both", "one_of_two", "negative_zero_and_int"],
)
def test_all_zero_weights_are_an_error(weights: dict[str, float]) -> None:
    found = analyze(strategy(scoring={"weights": weights}), as_of=AS_OF_DATE)
    assert [(d.code, d.severity, d.key_path) for d in found] == [
        ("QTC210", Severity.ERROR, "scoring.weights")
    ]
    with pytest.raises(StrategyError):
        compile_strategy(strategy(scoring={"weights": weights}), as_of=AS_OF_DATE)


def test_all_zero_weights_still_name_unknown_factors() -> None:
    s = strategy(scoring={"weights": {"mom": 0.0, "vom": 0.0}})
    assert codes(s) == ["QTC201", "QTC210"]


def test_one_non_zero_weight_is_enough() -> None:
    s = strategy(scoring={"weights": {"mom": 0.0, "vol": -0.5}})
    assert codes(s) == ["QTC208"]


def test_all_zero_weights_after_extends_and_set(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text(
        'schema = 1\nname = "base"\n[data]\nstart = 2010-01-04\nend = 2015-12-31\n'
        '[[factors]]\nname = "mom"\nkind = "momentum"\n'
        '[[factors]]\nname = "vol"\nkind = "volatility"\n'
        "[scoring]\nweights = { mom = 0.0, vol = 1.0 }\n"
    )
    child = tmp_path / "child.toml"
    child.write_text('extends = "base.toml"\nname = "child"\n\n[scoring.weights]\nmom = 0.0\n')
    loaded = load_strategy(child, ["scoring.weights.vol=0"])
    assert loaded.strategy is not None, loaded.diagnostics
    (diag,) = analyze(loaded.strategy, as_of=AS_OF_DATE, locate=loaded.location_of)
    assert (diag.code, diag.location) == ("QTC210", Location("--set"))
    loaded = load_strategy(child)
    assert codes(loaded.strategy, locate=loaded.location_of) == ["QTC208"]  # type: ignore[arg-type]


def test_risk_below_cap_and_leverage() -> None:
    s = strategy(
        sizing={"kind": "equal", "max_weight": 0.2},
        risk={"max_position_pct": 0.1, "max_leverage": 1.5},
    )
    assert codes(s) == ["QTC202", "QTC206"]


def test_cap_too_small_to_invest_warns() -> None:
    s = strategy(selection={"top_n": 10}, sizing={"kind": "equal", "max_weight": 0.05})
    found = analyze(s, as_of=AS_OF_DATE)
    assert [d.code for d in found] == ["QTC209"]
    assert "50%" in found[0].message


def test_selection_larger_than_universe() -> None:
    s = strategy(universe={"kind": "symbols", "symbols": ["A", "B"]}, selection={"top_n": 3})
    assert "QTC203" in codes(s)
    s = strategy(universe={"kind": "index_members", "index": "sp500"}, selection={"top_n": 600})
    assert codes(s) == ["QTC203"]


def test_search_keys_checked() -> None:
    s = strategy(
        search={
            "factors.mom.lookback": [126, 252],
            "factors.mom.lookbak": [1],
            "selection.top_n": [10, -5],
            "sizing.max_weight": {"min": 0.05, "max": 1.5, "step": 0.5},
        }
    )
    found = {d.key_path: d.code for d in analyze(s, as_of=AS_OF_DATE)}
    assert found == {
        'search."factors.mom.lookbak"': "QTC204",
        'search."selection.top_n"[1]': "QTC205",
        'search."sizing.max_weight"': "QTC205",
    }


@pytest.mark.parametrize(
    ("sections", "code"),
    [
        ({"rebalance": {"execution": "close"}}, "QTC301"),
        ({"scoring": {"normalization": "full_sample"}}, "QTC302"),
        ({"factors": [{"name": "v", "kind": "value", "point_in_time": "period_end"}]}, "QTC303"),
        ({"universe": {"kind": "symbols", "symbols": ["AAPL"]}}, "QTC304"),
        ({"universe": {"kind": "index_members", "membership": "latest"}}, "QTC305"),
        ({"data": {"start": "2010-01-04", "end": "2010-06-30"}}, "QTC306"),
        ({"data": {"start": "2010-01-04", "history_start": "2009-12-01"}}, "QTC306"),
    ],
)
def test_lint_warns_and_strict_promotes(sections: dict[str, object], code: str) -> None:
    s = strategy(**sections)
    found = analyze(s, as_of=AS_OF_DATE)
    assert code in [d.code for d in found]
    assert all(d.severity is Severity.WARNING for d in found if d.code == code)
    compile_strategy(s, as_of=AS_OF_DATE)  # warnings do not stop compilation
    with pytest.raises(StrategyError) as info:
        compile_strategy(s, as_of=AS_OF_DATE, strict=True)
    assert code in [d.code for d in info.value.diagnostics]


def test_overrides_apply_and_validate() -> None:
    s = strategy()
    plan = compile_strategy(s, as_of=AS_OF_DATE, overrides={"factors.mom.lookback": 126})
    assert plan.stage("compute_factors").factors[0].lookback == 126  # type: ignore[union-attr]
    with pytest.raises(StrategyError) as info:
        compile_strategy(s, as_of=AS_OF_DATE, overrides={"factors.mom.lookback": -1})
    assert info.value.diagnostics[0].key_path == "factors.mom.lookback"


def test_diagnostics_carry_file_positions() -> None:
    loaded = load_strategy(REPO / "strategies" / "momentum_us.toml", ["risk.max_position_pct=0.01"])
    assert loaded.strategy is not None
    (diag,) = [
        d
        for d in analyze(loaded.strategy, as_of=AS_OF_DATE, locate=loaded.location_of)
        if d.code == "QTC202"
    ]
    assert diag.location is not None and diag.location.file == "--set"


def test_every_example_compiles(tmp_path: Path) -> None:
    for path in sorted((REPO / "strategies").glob("*.toml")):
        loaded = load_strategy(path)
        assert loaded.ok, (path, loaded.diagnostics)
        assert loaded.strategy is not None
        compile_strategy(loaded.strategy, as_of=AS_OF_DATE)
