"""Two processes and one ledger: a held lock is retried then reported, a killed writer
leaves whole batches only."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from qtc.search.errors import LedgerError
from qtc.search.ledger import Ledger, TrialRecord
from tests.conftest import REPO

HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("SELECT count(*) FROM trials").fetchall()
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
print("released", flush=True)
time.sleep(30)
"""

WRITE_FOREVER = """
import sys
import numpy as np
from qtc.search.ledger import Ledger, TrialRecord
ledger = Ledger.open(sys.argv[1])
dates = np.arange(np.datetime64("2010-01-04"), np.datetime64("2010-01-04") + 2000)
rng = np.random.default_rng(0)
for k in range(10_000):
    ledger.record([
        TrialRecord(family="f@000000000000", strategy="f", search_id=f"s{k}", kind="sweep",
                    trial_number=i, variant_fingerprint=f"v{k}-{i}", params={"i": i},
                    status="ok", metrics={"sharpe": 1.0}, dates=dates,
                    returns=rng.normal(0, 0.01, dates.size))
        for i in range(40)
    ])
    print(k, flush=True)
"""


def record_one(ledger: Ledger) -> None:
    ledger.record(
        [
            TrialRecord(
                family="f@000000000000",
                strategy="f",
                search_id="mine",
                kind="evolve",
                trial_number=0,
                variant_fingerprint="v",
                params={},
                status="ok",
                dates=["2020-01-02", "2020-01-03"],
                returns=[0.01, -0.01],
            )
        ]
    )


def start(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], cwd=REPO, stdout=subprocess.PIPE, text=True
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        proc.kill()
        proc.wait()


def test_a_held_ledger_is_retried_then_a_clear_error(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    path = tmp_path / "ledger.duckdb"
    Ledger.open(path)
    holder = start(HOLD, str(path), "60")
    processes.append(holder)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    began = time.monotonic()
    with pytest.raises(LedgerError, match="in use by another process") as err:
        record_one(Ledger(path, lock_timeout=0.5))
    assert time.monotonic() - began >= 0.25  # it retried (the timeout is 0.5 s)
    assert str(path) in err.value.message
    assert f"PID {holder.pid}" in err.value.message
    with pytest.raises(LedgerError, match="in use"):
        Ledger.open(path, lock_timeout=0.2)


def test_a_lock_released_in_time_is_waited_for(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    path = tmp_path / "ledger.duckdb"
    ledger = Ledger.open(path, lock_timeout=20)
    holder = start(HOLD, str(path), "1.0")
    processes.append(holder)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    record_one(ledger)
    assert holder.stdout.readline().strip() == "released"
    assert ledger.family_count("f@000000000000") == 1


def test_a_writer_killed_mid_batch_leaves_only_whole_batches(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    path = tmp_path / "ledger.duckdb"
    writer = start(WRITE_FOREVER, str(path))
    processes.append(writer)
    assert writer.stdout is not None
    done = [writer.stdout.readline().strip() for _ in range(3)]
    time.sleep(0.07)  # somewhere inside a later batch
    writer.kill()
    writer.wait()
    per_search = Counter(row.search_id for row in Ledger.open(path).trials())
    assert {f"s{k}" for k in done} <= set(per_search)
    assert set(per_search.values()) == {40}
