"""What a run held, as written in its artifact (schema 2): the book on change days, exposure,
sectors and the per-name summary; and readers refusing other schema versions.

Runs come from tests/outputs/conftest.py (a small synthetic demo lake).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from qtc.api.data import LakeRef
from qtc.errors import UserError
from qtc.outputs.holdings import (
    book_table,
    contributions,
    exposure_table,
    held_names,
    holdings_table,
    sectors_table,
)
from qtc.outputs.report import render_report
from qtc.outputs.report_holdings import Holdings
from tests.conftest import REPO
from tests.outputs.conftest import RUNS

DATES = np.array(["2024-01-01", "2024-01-02", "2024-01-03"], dtype="datetime64[D]")
EQUITY = np.array([100.0, 110.0, 104.5])
# Columns B, A (not sorted on purpose). A: 5 shares at 10, 12, sold out on day 3 at 10.8.
# B: 5 shares at 10, 10, 9.
WEIGHTS = np.array([[0.5, 0.5], [50 / 110, 60 / 110], [45 / 104.5, 0.0]])
SHARES = np.array([[5.0, 5.0], [5.0, 5.0], [5.0, 0.0]])
CLOSES = np.array([[10.0, 10.0], [10.0, 12.0], [9.0, 10.8]])
STOP = {"date": "2024-01-03", "kind": "stop", "symbol": "A", "exit_price": 10.8}


def test_contribution_convention_by_hand() -> None:
    """Σ_t w_{t-1} r_t with p_t = w_t E_t / q_t, plus the sold-out day at the exit price."""
    held = held_names(["B", "A"], ["S2", ""], WEIGHTS, SHARES)
    assert held.symbols == ["A", "B"] and held.sectors == ["Unknown", "S2"]
    unpriced = np.full_like(CLOSES, np.nan)
    plain = contributions(held, DATES, EQUITY, [], unpriced)
    assert plain[0] == pytest.approx(0.5 * 0.2)  # A: day 2 only, no exit price known
    assert plain[1] == pytest.approx(50 / 110 * -0.1)  # B: day 2 (0) + day 3 (-10 %)
    stopped = contributions(held, DATES, EQUITY, [STOP], unpriced)
    assert stopped[0] == pytest.approx(0.5 * 0.2 + 60 / 110 * (10.8 / 12 - 1))
    # The sale at the day's close does the same, and is counted once with the stop.
    assert contributions(held, DATES, EQUITY, [], CLOSES)[0] == pytest.approx(stopped[0])
    assert contributions(held, DATES, EQUITY, [STOP], CLOSES)[0] == pytest.approx(stopped[0])


def test_tables_by_hand() -> None:
    held = held_names(["B", "A"], ["S2", "S1"], WEIGHTS, SHARES)
    book = book_table(held, DATES)
    # Day 1 (bought), day 3 (A sold out: a zero row); day 2 changed nothing.
    assert book.select(pl.col("date").cast(pl.String), "symbol", "shares").rows() == [
        ("2024-01-01", "A", 5.0),
        ("2024-01-01", "B", 5.0),
        ("2024-01-03", "A", 0.0),
        ("2024-01-03", "B", 5.0),
    ]
    assert book.schema == pl.Schema(
        {"date": pl.Date, "symbol": pl.String, "sector": pl.String}
        | {"weight": pl.Float64, "shares": pl.Float64}
    )
    exposure = exposure_table(held, DATES)
    assert exposure["names"].to_list() == [2, 2, 1]
    assert exposure["gross"].to_list() == pytest.approx([1.0, 1.0, 45 / 104.5])
    sectors = sectors_table(held, DATES)
    assert sectors["sector"].to_list() == ["S1", "S2"] * 3
    assert sectors["weight"].to_list() == pytest.approx(WEIGHTS[:, [1, 0]].ravel().tolist())
    summary = holdings_table(held, contributions(held, DATES, EQUITY, [], CLOSES))
    assert summary["days_held"].to_list() == [2, 3]
    assert summary["held_weight"][0] == pytest.approx((0.5 + 60 / 110) / 2)
    view = Holdings(summary, exposure, sectors, book.filter(pl.col("date") == book["date"].max()),
                    DATES, EQUITY)  # fmt: skip
    assert view.sector_names == ["S2", "S1"]  # by average weight
    assert [h.symbol for h in view.top_latest()] == ["B"]
    assert view.top_latest()[0].shares == 5.0


def test_nothing_held_gives_empty_tables() -> None:
    held = held_names(["A"], ["S1"], np.zeros((3, 1)), np.zeros((3, 1)))
    assert book_table(held, DATES).height == 0
    assert sectors_table(held, DATES).height == 0
    assert exposure_table(held, DATES)["names"].to_list() == [0, 0, 0]
    assert holdings_table(held, contributions(held, DATES, EQUITY, [], CLOSES)).height == 0


@pytest.mark.parametrize("case", ["base", "stops"])
def test_book_gives_every_days_shares(report_lake: Path, case: str) -> None:
    """A name's position on any day is its last row in weights.parquet on or before it."""
    from qtc.api.strategy import compile_file
    from qtc.lake import Lake
    from qtc.outputs.tables import run_tables
    from qtc.pipeline.data import window_end
    from qtc.pipeline.runner import run_on_lake

    lake = Lake(report_lake)
    plan = compile_file(
        str(REPO / "strategies" / "momentum_us.toml"), overrides=RUNS[case], as_of=window_end(lake)
    ).plan
    result = run_on_lake(plan, lake)
    tables = run_tables(result)
    book, dates = tables["weights.parquet"], result.dates.astype("datetime64[D]")
    assert book.height < int((result.shares != 0).sum()) / 5  # far fewer rows than daily
    rows = np.searchsorted(dates, book["date"].to_numpy().astype("datetime64[D]"))
    cols = np.searchsorted(result.symbols, book["symbol"].to_list())
    listed = np.zeros(result.shares.shape, dtype=bool)
    listed[0] = listed[rows, cols] = True
    values = np.zeros(result.shares.shape)
    values[rows, cols] = book["shares"].to_numpy()
    last = np.maximum.accumulate(np.where(listed, np.arange(dates.size)[:, None], 0), axis=0)
    rebuilt = np.take_along_axis(values, last, axis=0)  # each name's last row on or before
    np.testing.assert_array_equal(rebuilt, result.shares)
    held = result.shares != 0
    exposure, summary = tables["exposure.parquet"], tables["holdings.parquet"]
    assert exposure["names"].to_list() == held.sum(axis=1).tolist()
    np.testing.assert_allclose(exposure["gross"], np.abs(result.weights).sum(axis=1), atol=1e-12)
    by_day = tables["sectors.parquet"].group_by("date", maintain_order=True).agg(pl.sum("weight"))
    np.testing.assert_allclose(by_day["weight"], exposure["net"], atol=1e-12)
    assert summary["symbol"].to_list() == sorted(np.array(result.symbols)[held.any(axis=0)])
    assert summary["days_held"].sum() == int(held.sum())


def _set_schema(run: Path, version: object) -> None:
    doc = json.loads((run / "run.json").read_text())
    doc["schema_version"] = version
    (run / "run.json").write_text(json.dumps(doc))


def test_an_older_schema_is_refused_with_a_rerun_hint(base_run: Path) -> None:
    _set_schema(base_run, 1)
    with pytest.raises(UserError, match="written by an older qtc") as caught:
        render_report(base_run)
    assert "qtc backtest" in caught.value.hint


def test_an_unknown_schema_is_refused(base_run: Path) -> None:
    _set_schema(base_run, 3)
    with pytest.raises(UserError, match="schema 3 is not version 2"):
        render_report(base_run)


def test_backtest_rewrites_an_older_schema_run(report_lake: Path, report_runs: dict[str, Path],
                                               tmp_path: Path) -> None:  # fmt: skip
    """A run folder of schema 1 with the same run id is not reused: it is run again."""
    from qtc.api.run import backtest

    out = tmp_path / "runs"
    old = out / report_runs["base"].relative_to(report_runs["base"].parents[1])
    shutil.copytree(report_runs["base"], old)
    _set_schema(old, 1)
    outcome = backtest(
        str(REPO / "strategies" / "momentum_us.toml"),
        lake=LakeRef(report_lake, "--lake"),
        overrides=RUNS["base"],
        out=out,
    )
    assert outcome.run_dir == old and not outcome.reused
    assert json.loads((old / "run.json").read_text())["schema_version"] == 2


def test_inconsistent_exposure_is_refused(base_run: Path) -> None:
    frame = pl.read_parquet(base_run / "exposure.parquet")
    frame.head(10).write_parquet(base_run / "exposure.parquet")
    with pytest.raises(UserError, match=r"exposure\.parquet does not have one row per day"):
        render_report(base_run)
