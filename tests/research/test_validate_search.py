"""`qtc validate --reselect` and the ledger gates, checked against `qtc sweep` of the same space.

The sweep records every variant's daily returns in a private trial ledger; from them the
test recomputes, with numpy, each fold's training Sharpe ratios (the lake's risk-free
rate subtracted, as qtc's metrics do), the variant each fold must pick, and the stitched
out-of-sample Sharpe. The family's probability of backtest overfitting must be the one
the sweep reported.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from typer.testing import Result

from tests.research.conftest import SHORT_WINDOW as WINDOW
from tests.research.conftest import STRATEGY, as_json

SPACE = '[search]\n"factors.mom_12_1.lookback" = [126, 252]\n"selection.top_n" = [5, 10]\n'


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """momentum_us with a 4-variant [search]."""
    text = Path(STRATEGY).read_text()
    path = tmp_path / "small.toml"
    path.write_text(text[: text.index("[search]")] + SPACE)
    return path


@pytest.fixture
def sweep(
    qtc: Callable[..., Result], demo_lake: Path, tmp_path: Path
) -> Callable[..., dict[str, Any]]:
    def run(*args: str) -> dict[str, Any]:
        out = ("--lake", str(demo_lake), "--out", str(tmp_path / "sw"), "--jobs", "1")
        return as_json(qtc("sweep", *args, *WINDOW, *out, "--format", "json"))

    return run


def _sharpe(returns: np.ndarray, rf: np.ndarray) -> float:
    return float((returns.mean() - rf.mean()) / returns.std(ddof=1) * np.sqrt(252))


def _ledger(tmp_path: Path, family: str) -> Any:
    from qtc.search.ledger import Ledger

    return Ledger.open(tmp_path / "ledger.duckdb").family_returns(family)


def test_each_fold_picks_the_best_training_sharpe(
    validate: Callable[..., Result],
    sweep: Callable[..., dict[str, Any]],
    small: Path,
    demo_lake: Path,
    tmp_path: Path,
) -> None:
    swept = sweep(str(small))
    gates = ("--set", "validate.max_pbo=1", "--set", "validate.min_deflated_sharpe=0")
    data = as_json(
        validate(str(small), *WINDOW, "--reselect", "--jobs", "1", *gates, "--format", "json")
    )
    history = _ledger(tmp_path, swept["family"])
    trials = pl.read_parquet(Path(swept["folder"]) / "trials.parquet")
    variant_of = dict(zip(trials["trial"], trials["variant"], strict=True))
    days = history.dates.astype("datetime64[D]")
    rates = pl.read_parquet(demo_lake / "rates.parquet")
    rf_by_day = dict(
        zip(rates["date"].to_numpy().astype("datetime64[D]"), rates["rf"], strict=True)
    )
    rf = np.array([rf_by_day.get(d, 0.0) for d in days])
    walk = data["walk_forward"]
    assert walk["reselect"] and walk["candidates"] == 4
    stitched = []
    for fold in walk["table"]:
        train = (days >= np.datetime64(fold["train"][0])) & (
            days <= np.datetime64(fold["train"][1])
        )
        test = (days >= np.datetime64(fold["test"][0])) & (days <= np.datetime64(fold["test"][1]))
        scores = [_sharpe(history.matrix[train, i], rf[train]) for i in range(4)]
        best = history.variants[int(np.argmax(scores))]
        assert variant_of[fold["trial"]] == best, fold
        assert fold["in_sample"]["sharpe"] == pytest.approx(max(scores), rel=1e-12)
        stitched.append(history.matrix[test, history.variants.index(best)])
    oos = np.concatenate(stitched)
    start = days.searchsorted(np.datetime64(walk["out_of_sample"]["start"]))
    expected = _sharpe(oos, rf[start : start + oos.size])
    assert walk["out_of_sample"]["sharpe"] == pytest.approx(expected, rel=1e-12)
    bias = data["bias"]
    assert bias["family"] == swept["family"] and bias["trials"] == 4
    assert bias["pbo"] == swept["bias"]["pbo"]  # the same family, the same history
    assert 0.0 <= bias["deflated_sharpe"] <= 1.0


def test_a_family_swept_over_grid_keys_is_found(
    validate: Callable[..., Result], sweep: Callable[..., dict[str, Any]], small: Path
) -> None:
    swept = sweep(str(small), "--grid", "selection.top_n=5,10,20")
    data = as_json(validate(str(small), *WINDOW, "--set", "validate.max_pbo=1", "--format", "json"))
    assert data["bias"]["family"] == swept["family"]
    assert data["bias"]["pbo"] == swept["bias"]["pbo"]
    gate = next(g for g in data["gates"] if g["gate"] == "max_pbo")
    assert gate["status"] == "PASS" and gate["value"] == swept["bias"]["pbo"]


def test_an_unknown_objective_is_refused(validate: Callable[..., Result], small: Path) -> None:
    result = validate(str(small), *WINDOW, "--reselect", "--objective", "sharp", "--format", "json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["hint"] == "did you mean 'sharpe'?"
