"""Symbols, sectors and benchmarks the lake does not know: errors (or a warning for exclude)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qtc.compile.plan import Plan
from qtc.errors import UserError
from qtc.lake.read.reader import Lake
from qtc.pipeline.runner import RunResult, run_on_lake
from tests.pipeline.conftest import plan_from_text

STRATEGY = """
schema = 1
name = "names"

[data]
start = 2005-03-01
end = 2006-06-30
benchmark = "{benchmark}"

[universe]
{universe}

[[factors]]
name = "mom"
kind = "momentum"
lookback = 21
skip = 0

[[factors]]
name = "beta"
kind = "beta"
window = 21
benchmark = "NOPE"

[scoring]
method = "rank"
weights = {{ mom = 1.0, beta = {beta_weight} }}

[selection]
top_n = 2

[rebalance]
frequency = "monthly"
"""


@pytest.fixture
def lake(tiny_lake: Lake) -> Lake:
    return tiny_lake


def plan(
    tmp_path: Path, universe: str, *, benchmark: str = "SPY", beta_weight: float = 0.0
) -> Plan:
    text = STRATEGY.format(universe=universe, benchmark=benchmark, beta_weight=beta_weight)
    plan: Plan = plan_from_text(tmp_path, text)
    return plan


def run(tmp_path: Path, lake: Lake, universe: str, **kw: object) -> RunResult:
    return run_on_lake(plan(tmp_path, universe, **kw), lake)  # type: ignore[arg-type]


def symbols(lake: Lake) -> list[str]:
    return sorted(lake.symbols()["symbol"].to_list())


def test_known_names_run(tmp_path: Path, lake: Lake) -> None:
    first, second = symbols(lake)[:2]
    sector = lake.symbols()["sector"][0]
    result = run(tmp_path, lake, f'kind = "symbols"\nsymbols = ["{first}", "{second}"]')
    assert result.warnings == []
    assert run(tmp_path, lake, f'kind = "all"\nsectors = ["{sector}"]').warnings == []


def test_unknown_symbols_are_an_error_naming_only_them(tmp_path: Path, lake: Lake) -> None:
    first, second = symbols(lake)[:2]
    typo = second + "X"
    universe = f'kind = "symbols"\nsymbols = ["{first}", "ZZZZ", "{typo}"]'
    with pytest.raises(UserError) as err:
        run(tmp_path, lake, universe)
    assert err.value.exit_code == 2
    assert err.value.message == (
        f"universe.symbols: 2 symbols are not in the lake: {', '.join(sorted([typo, 'ZZZZ']))}"
    )
    assert f"did you mean {typo} -> {second}?" in err.value.hint
    assert "ZZZZ ->" not in err.value.hint
    assert "the lake has 12 symbols" in err.value.hint


def test_unknown_sectors_are_an_error_listing_the_lake_sectors(tmp_path: Path, lake: Lake) -> None:
    valid = sorted(set(lake.symbols()["sector"].to_list()))
    with pytest.raises(UserError) as err:
        run(tmp_path, lake, 'kind = "all"\nsectors = ["Not A Sector"]')
    assert err.value.message == 'universe.sectors: 1 sector is not in the lake: "Not A Sector"'
    assert err.value.hint == "the lake's sectors are: " + ", ".join(f'"{s}"' for s in valid)
    with pytest.raises(UserError) as case:
        run(tmp_path, lake, f'kind = "all"\nsectors = ["{valid[0].lower()}"]')
    assert f"did you mean {valid[0].lower()} -> {valid[0]}?" in case.value.hint


def test_unknown_exclude_is_a_warning(tmp_path: Path, lake: Lake) -> None:
    first = symbols(lake)[0]
    result = run(tmp_path, lake, f'kind = "all"\nexclude = ["ZZZZ", "{first}"]')
    assert result.warnings == [
        "universe.exclude: 1 symbol is not in the lake, nothing to exclude: ZZZZ"
    ]
    assert first not in result.symbols or not result.weights[:, result.symbols.index(first)].any()


def test_unknown_benchmarks(tmp_path: Path, lake: Lake) -> None:
    with pytest.raises(UserError) as err:
        run(tmp_path, lake, 'kind = "all"', benchmark="SPYY")
    assert err.value.message == "data.benchmark: benchmark 'SPYY' is not in the lake"
    assert err.value.hint == "did you mean SPYY -> SPY?; the lake's benchmarks are: SPY"
    # the beta factor's benchmark NOPE only matters when the factor is used
    with pytest.raises(UserError) as beta:
        run(tmp_path, lake, 'kind = "all"', beta_weight=1.0)
    assert beta.value.message == "factors.beta.benchmark: benchmark 'NOPE' is not in the lake"
