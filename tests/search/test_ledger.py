"""The trial ledger: exact round trips, idempotent records, family reads, clear errors."""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from qtc.search.errors import LedgerError
from qtc.search.ledger import Ledger, TrialRecord
from qtc.search.ledger_store import transaction
from tests.conftest import REPO

START = np.datetime64("2020-01-02")


def days(n: int, offset: int = 0) -> np.ndarray:
    return np.arange(START + offset, START + offset + n)


def trial(number: int, **over: Any) -> TrialRecord:
    """Trial `number`: 10 days of constant returns 0.001·(number + 1), Sharpe 1 + number."""
    args: dict[str, Any] = {
        "family": "mom@aaaaaaaaaaaa",
        "strategy": "mom",
        "search_id": "sweep-1",
        "kind": "sweep",
        "trial_number": number,
        "variant_fingerprint": f"sha256:v{number}",
        "params": {"selection.top_n": 10 * (number + 1), "factors.mom.lookback": 126},
        "status": "ok",
        "metrics": {"sharpe": 1.0 + number, "cagr": 0.1, "max_drawdown": 0.2, "kelly": math.inf},
        "dates": days(10),
        "returns": np.full(10, 0.001 * (number + 1)),
    }
    args.update(over)
    return TrialRecord(**args)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger.open(tmp_path / "nested" / "ledger.duckdb")


def test_round_trip_of_every_field(ledger: Ledger) -> None:
    returns = np.random.default_rng(0).normal(0, 0.01, 10)
    failed = trial(3, status="failed", reason="no prices", dates=None, returns=None, metrics={})
    assert ledger.record([trial(0, returns=returns), failed]) == 2
    ok, bad = ledger.trials(family="mom@aaaaaaaaaaaa")
    assert (ok.strategy, ok.search_id, ok.kind, ok.trial_number) == ("mom", "sweep-1", "sweep", 0)
    assert ok.params == {"factors.mom.lookback": 126, "selection.top_n": 10}
    assert (ok.sharpe, ok.cagr, ok.max_drawdown, ok.volatility) == (1.0, 0.1, 0.2, None)
    assert ok.metrics == {"sharpe": 1.0, "cagr": 0.1, "max_drawdown": 0.2, "kelly": None}
    assert ok.n_days == 10 and ok.status == "ok"
    assert (bad.status, bad.reason, bad.n_days, bad.sharpe) == ("failed", "no prices", 0, None)
    got = ledger.family_returns("mom@aaaaaaaaaaaa")
    assert got.variants == ("sha256:v0",)
    assert got.matrix.tobytes() == returns.tobytes()  # bit for bit
    assert list(got.dates) == list(days(10))


def test_params_are_stored_as_json_with_sorted_keys(ledger: Ledger) -> None:
    ledger.record([trial(0)])
    with duckdb.connect(str(ledger.path), read_only=True) as con:
        text = con.execute("SELECT params FROM trials").fetchone()
    assert text == ('{"factors.mom.lookback":126,"selection.top_n":10}',)


def test_recording_again_replaces_the_row(ledger: Ledger) -> None:
    ledger.record([trial(0), trial(1)])
    ledger.record([trial(0, metrics={"sharpe": 9.0})])
    rows = ledger.trials(search_id="sweep-1")
    assert [(r.trial_number, r.sharpe) for r in rows] == [(1, 2.0), (0, 9.0)]
    ledger.record([trial(0), trial(0, metrics={"sharpe": 5.0})])  # last one of a batch wins
    assert [r.sharpe for r in ledger.trials() if r.trial_number == 0] == [5.0]


def test_family_count_is_distinct_ok_variants_across_searches(ledger: Ledger) -> None:
    ledger.record([trial(0), trial(1), trial(2, status="failed", dates=None, returns=None)])
    ledger.record([trial(1, search_id="sweep-2"), trial(4, search_id="sweep-2")])
    ledger.record([trial(7, family="other@bbbbbbbbbbbb")])
    assert ledger.family_count("mom@aaaaaaaaaaaa") == 3  # v0, v1, v4
    assert ledger.family_count("other@bbbbbbbbbbbb") == 1
    assert ledger.family_count("nobody@cccccccccccc") == 0
    assert len(ledger.trials(family="mom@aaaaaaaaaaaa")) == 5


def test_family_reads_take_each_variants_newest_ok_row_in_one_order(ledger: Ledger) -> None:
    ledger.record([trial(0), trial(1)])
    ledger.record(
        [trial(0, search_id="sweep-2", metrics={"sharpe": 3.5}, returns=np.full(10, 0.5))]
    )
    got = ledger.family_returns("mom@aaaaaaaaaaaa")
    assert got.variants == ("sha256:v1", "sha256:v0")
    np.testing.assert_array_equal(
        got.matrix, np.column_stack([np.full(10, 0.002), np.full(10, 0.5)])
    )
    np.testing.assert_array_equal(ledger.family_sharpes("mom@aaaaaaaaaaaa"), [2.0, 3.5])


def test_family_returns_are_aligned_on_the_dates_all_trials_cover(ledger: Ledger) -> None:
    a = np.arange(20, dtype=float)
    b = 100 + np.arange(15, dtype=float)
    ledger.record(
        [
            trial(0, returns=a, dates=days(20)),  # days 0..19
            trial(1, returns=b, dates=days(15, offset=8)),  # days 8..22
        ]
    )
    got = ledger.family_returns("mom@aaaaaaaaaaaa")
    assert list(got.dates) == list(days(12, offset=8))  # days 8..19
    np.testing.assert_array_equal(got.matrix[:, 0], a[8:20])
    np.testing.assert_array_equal(got.matrix[:, 1], b[0:12])


def test_families_summarise_each_family(ledger: Ledger) -> None:
    ledger.record([trial(0), trial(1), trial(2, status="failed", dates=None, returns=None)])
    ledger.record([trial(5, search_id="sweep-2", kind="evolve")])
    ledger.record([trial(0, family="b@bbbbbbbbbbbb", strategy="b")])
    first, second = ledger.families()
    assert (first.family, first.strategy) == ("b@bbbbbbbbbbbb", "b")
    assert (second.n_trials, second.n_failed, second.n_searches) == (3, 1, 2)
    assert second.best_sharpe == 6.0
    assert second.first_at <= second.last_at


def test_a_failed_batch_writes_nothing(ledger: Ledger) -> None:
    ledger.record([trial(0)])
    broken = trial(9)
    object.__setattr__(broken, "status", "lost")  # slips past validation, fails the CHECK
    with pytest.raises(LedgerError, match="could not write to the trial ledger"):
        ledger.record([trial(0, metrics={"sharpe": 42.0}), trial(1, dates=days(10, 3)), broken])
    assert [(r.trial_number, r.sharpe) for r in ledger.trials()] == [(0, 1.0)]
    with duckdb.connect(str(ledger.path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM calendars").fetchone() == (1,)


def test_an_interrupted_transaction_is_rolled_back(ledger: Ledger) -> None:
    ledger.record([trial(0)])
    with pytest.raises(KeyboardInterrupt), transaction(ledger.path, 1.0) as con:
        con.execute("DELETE FROM trials")
        raise KeyboardInterrupt
    assert len(ledger.trials()) == 1


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"kind": "grid"}, "kind"),
        ({"status": "done"}, "status"),
        ({"returns": None, "dates": None}, "needs its dates"),
        ({"returns": np.zeros(3)}, "as many dates"),
        ({"returns": np.array([0.0, math.nan] * 5)}, "NaN"),
        ({"dates": np.array(["2020-01-02"] * 10, dtype="datetime64[D]")}, "increasing"),
        ({"dates": None}, "both"),
    ],
)
def test_unusable_records_are_refused(over: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        trial(0, **over)


def test_dates_may_be_python_dates(ledger: Ledger) -> None:
    dates = [dt.date(2021, 3, 1) + dt.timedelta(days=i) for i in range(10)]
    ledger.record([trial(0, dates=dates)])
    assert ledger.family_returns("mom@aaaaaaaaaaaa").dates[0] == np.datetime64("2021-03-01")


def test_another_schema_version_is_refused(ledger: Ledger) -> None:
    with duckdb.connect(str(ledger.path)) as con:
        con.execute("UPDATE ledger_info SET schema_version = 2")
    with pytest.raises(LedgerError, match="schema version 2; this qtc reads version 1"):
        Ledger.open(ledger.path)


def test_a_foreign_duckdb_file_is_not_a_ledger(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE prices (x INTEGER)")
    with pytest.raises(LedgerError, match="not a qtc trial ledger") as err:
        Ledger.open(path)
    assert str(path) in str(err.value)


def test_an_empty_duckdb_file_becomes_a_ledger(tmp_path: Path) -> None:
    path = tmp_path / "blank.duckdb"
    duckdb.connect(str(path)).close()
    Ledger.open(path).record([trial(0)])
    assert Ledger.open(path).family_count("mom@aaaaaaaaaaaa") == 1


def garble(path: Path) -> None:
    raw = path.read_bytes()
    path.write_bytes(raw[:4096] + bytes(len(raw) - 8192) + raw[-4096:])


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b"not a database at all" * 100),
        lambda p: p.write_bytes(b""),
        lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
        garble,
    ],
    ids=["garbage", "empty", "truncated", "garbled"],
)
def test_a_damaged_ledger_names_the_file_and_what_to_do(tmp_path: Path, damage: Any) -> None:
    path = tmp_path / "ledger.duckdb"
    ledger = Ledger.open(path)
    ledger.record([trial(i) for i in range(50)])
    damage(path)
    with pytest.raises(LedgerError) as err:
        Ledger.open(path).family_returns("mom@aaaaaaaaaaaa")
    assert str(path) in err.value.message
    assert "damaged" in err.value.message
    assert "move it aside" in err.value.hint


def test_reading_a_ledger_that_is_gone(tmp_path: Path) -> None:
    ledger = Ledger.open(tmp_path / "ledger.duckdb")
    ledger.path.unlink()
    with pytest.raises(LedgerError, match="no trial ledger at"):
        ledger.trials()


def test_importing_the_ledger_loads_no_heavy_library() -> None:
    code = (
        "import sys, json; import qtc.search.ledger; "
        "print(json.dumps(sorted(m for m in ('numpy', 'duckdb', 'polars', 'scipy') "
        "if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []
