"""Many plans on one loaded market: shared factor work, identical results, one dispatch table."""

from __future__ import annotations

import datetime as dt
import hashlib
import typing
from pathlib import Path

import numpy as np
import pytest

from qtc.compile.plan import Plan
from qtc.compile.stages import AnyStage, WriteArtifacts
from qtc.errors import QtcError
from qtc.lake.read.reader import Lake
from qtc.outputs.artifacts import write_run
from qtc.pipeline.factors import FactorCache
from qtc.pipeline.handlers import HANDLERS
from qtc.pipeline.market import load_market, market_key
from qtc.pipeline.runner import RunResult, load_spec, run_on_lake, run_on_market
from tests.pipeline.conftest import plan_from_text

STRATEGY = """
schema = 1
name = "top{top_n}"

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

[selection]
top_n = {top_n}

[rebalance]
frequency = "monthly"
"""


def plan(folder: Path, top_n: int, start: str = "2005-03-01") -> Plan:
    text = STRATEGY.format(top_n=top_n).replace("2005-03-01", start)
    return plan_from_text(folder, text, f"top{top_n}.toml")  # type: ignore[no-any-return]


def digests(result: RunResult, out: Path) -> dict[str, str]:
    """sha256 of every artifact file but the volatile meta.json."""
    folder = write_run(result, out, meta={}).path
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.name != "meta.json"
    }


def test_top_n_variants_share_the_market_and_the_factor(tmp_path: Path, tiny_lake: Lake) -> None:
    three, five = plan(tmp_path, 3), plan(tmp_path, 5)
    assert three.fingerprint != five.fingerprint
    assert market_key(load_spec(three)) == market_key(load_spec(five))
    market, cache = load_market(load_spec(three), tiny_lake), FactorCache()
    shared = [run_on_market(p, market, cache=cache) for p in (three, five)]
    assert cache.computed == 1 and cache.hits == 1  # momentum computed once for both
    for p, together in zip((three, five), shared, strict=True):
        alone = run_on_lake(p, tiny_lake)
        assert digests(together, tmp_path / "shared") == digests(alone, tmp_path / "alone")
    assert shared[0].weights.astype(bool).sum(axis=1).max() == 3
    assert shared[1].weights.astype(bool).sum(axis=1).max() == 5


def test_a_market_serves_only_its_own_load_spec(tmp_path: Path, tiny_lake: Lake) -> None:
    market = load_market(load_spec(plan(tmp_path, 3)), tiny_lake)
    later = plan(tmp_path, 3, start="2005-06-01")
    assert market_key(load_spec(later)) != market.key
    with pytest.raises(QtcError, match="another load_data spec"):
        run_on_market(later, market)


def test_every_stage_the_plan_names_has_a_handler_and_an_explanation() -> None:
    stage_classes = typing.get_args(typing.get_args(AnyStage)[0])
    assert len(stage_classes) == 11
    for cls in stage_classes:
        assert cls.requires and cls.produces, cls.__name__
        assert (cls in HANDLERS) != (cls is WriteArtifacts), cls.__name__


def test_a_lake_of_the_users_own_prices_runs_without_a_symbols_dataset(tmp_path: Path) -> None:
    """Prices and a benchmark ingested from CSV files, no `symbols` dataset: sectors unknown."""
    from qtc.api.strategy import compile_file
    from qtc.lake import Lake, ingest_prices

    header = "date,symbol,open,high,low,close,adj_close,volume\n"
    days = [
        d for d in np.arange("2021-01-01", "2021-07-01", dtype="datetime64[D]") if np.is_busday(d)
    ]
    prices, bench = [header], [header]
    for k, day in enumerate(days):
        for j, name in enumerate(("AAA", "BBB", "CCC")):
            px = 100.0 * (1 + 0.001 * (j + 1)) ** k
            prices.append(f"{day},{name},{px},{px},{px},{px},{px},1000\n")
        bench.append(f"{day},SPY,{300 + k},{300 + k},{300 + k},{300 + k},{300 + k},1000\n")
    (tmp_path / "prices.csv").write_text("".join(prices))
    (tmp_path / "spy.csv").write_text("".join(bench))
    ingest_prices(tmp_path / "prices.csv", tmp_path / "lake")
    ingest_prices(tmp_path / "spy.csv", tmp_path / "lake", dataset="benchmarks")
    lake = Lake(tmp_path / "lake")
    assert "symbols" not in lake.datasets
    text = (
        STRATEGY.format(top_n=1)
        .replace("2005-03-01", "2021-03-01")
        .replace("2006-06-30", "2021-06-30")
    )
    (tmp_path / "own.toml").write_text(text)
    own = compile_file(tmp_path / "own.toml", as_of=dt.date(2021, 6, 30)).plan
    result = run_on_lake(own, lake)
    assert result.sectors == ["", "", ""]
    held = result.weights[-1]
    assert result.symbols[int(np.argmax(held))] == "CCC"  # the fastest grower is held
