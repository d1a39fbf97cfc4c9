"""`qtc rebalance|positions|reconcile|kill --broker ibkr` end to end against the fake TWS.

The real `ib_async` client connects to the fake over a loopback socket, as it would to TWS on
port 7497 (`QTC_IBKR_PORT` points it at the fake's ephemeral port). The login manages a second
account, which qtc must never show. Each in-process command closes its IB session afterwards,
as a real process does when it exits (the default client id 1 is then free again).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fake_tws import FAST, FakeIbAccount, FakeTws
from typer.testing import Result

from qtc.lake import Lake
from qtc.live.audit import read_log, replay, verify
from qtc.live.brokers.ibkr import disconnect_all
from qtc.live.execute import client_order_id

SIGNAL = dt.date(2010, 6, 30)
OTHER = "DU9999999"
"""Another account of the same login: it must not appear anywhere."""

KILLER = """
import datetime, os, signal, sys
import ib_async.client
import qtc.cli.options
from qtc.live.brokers.ibkr import adapter

qtc.cli.options.today = lambda: datetime.date(2010, 6, 30)
ib_async.client.Client.MaxRequests = 0

original = adapter.IbkrAdapter.submit
seen = {"n": 0}

def submit(self, order):
    seen["n"] += 1
    state = original(self, order)
    if seen["n"] == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)
    return state

adapter.IbkrAdapter.submit = submit
from qtc.cli.main import app
app(["rebalance", "--apply", sys.argv[1], "--yes"])
"""


@pytest.fixture
def tws(demo: Path) -> Iterator[FakeTws]:
    frame = Lake(demo).prices(start=SIGNAL, end=SIGNAL, columns=("close",))
    prices = dict(zip(frame["symbol"].to_list(), frame["close"].to_list(), strict=True))
    fake = FakeTws(prices=prices).start()
    yield fake
    disconnect_all()  # a stale session's dropped socket would cancel the next test's calls
    fake.stop()
    assert fake.crashes == [] and fake.unknown == []  # every message the client sent, served


@pytest.fixture
def account(tws: FakeTws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeIbAccount:
    mine = tws.add_account(cash=1_000_000.0, code="DU1234567")
    tws.add_account(cash=5_000.0, code=OTHER)
    monkeypatch.setenv("QTC_IBKR_HOST", tws.host)
    monkeypatch.setenv("QTC_IBKR_PORT", str(tws.port))
    monkeypatch.setenv("QTC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr("qtc.cli.options.today", lambda: SIGNAL)  # the day the orders go out
    # ib_async paces requests at 45 a second for IB's limit of 50, and qtc its reconnects at
    # 1 a second; the fake has no limits
    monkeypatch.setattr("ib_async.client.Client.MaxRequests", 0)
    monkeypatch.setattr("qtc.live.brokers.ibkr.adapter.Timeouts", lambda: FAST)
    return mine


@pytest.fixture
def strategy(tmp_path: Path, in_repo: Path) -> str:
    """The example strategy, trading the login's first account at IBKR."""
    path = tmp_path / "momentum_ibkr.toml"
    path.write_text(
        f'schema = 1\nname = "momentum_ibkr"\nextends = "{in_repo}/strategies/momentum_us.toml"\n'
        '\n[broker]\nkind = "ibkr"\naccount = "DU1234567"\n'
    )
    return str(path)


@pytest.fixture
def run(qtc: Callable[..., Result]) -> Callable[..., Result]:
    """Run a command in process, then close its IB session (as the process exit would)."""

    def invoke(*args: str, input: str | None = None) -> Result:
        try:
            return qtc(*args, input=input)
        finally:
            disconnect_all()

    return invoke


def rebalance(
    run: Callable[..., Result],
    strategy: str,
    demo: Path,
    out: Path,
    *extra: str,
    input: str | None = None,
) -> Result:
    return run(
        "rebalance", strategy, "--broker", "ibkr", "--lake", str(demo), "--out", str(out),
        "--as-of", str(SIGNAL), *extra, input=input,
    )  # fmt: skip


def dry_run(
    run: Callable[..., Result], strategy: str, demo: Path, out: Path
) -> tuple[Path, dict[str, object]]:
    result = rebalance(run, strategy, demo, out, "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    return Path(doc["order_plan"]), doc


def assert_each_order_once(tws: FakeTws, account: FakeIbAccount, plan: dict, log: Path) -> None:  # type: ignore[type-arg]
    """Every planned order reached TWS exactly once and filled; the log replays to TWS."""
    planned = {client_order_id(plan["sha256"], i): o for i, o in enumerate(plan["orders"])}
    at_tws = tws.by_ref(account)
    assert sorted(at_tws) == sorted(planned)
    assert all(len(orders) == 1 for orders in at_tws.values())
    assert account.held() == pytest.approx({o["symbol"]: o["quantity"] for o in planned.values()})
    assert verify(log).ok
    logged = replay(read_log(log))
    assert {c: s.filled_quantity for c, s in logged.items()} == {
        ref: orders[0].wire.filled for ref, orders in at_tws.items()
    }
    assert all(s.status == "filled" and not s.outcome_unknown for s in logged.values())


def assert_never_shown(folder: Path, *results: Result) -> None:
    """The login's other account appears in no output and no file."""
    for result in results:
        assert OTHER not in result.output
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert OTHER not in path.read_text(encoding="utf-8", errors="replace"), path


def test_dry_run_confirm_positions_reconcile_and_kill(
    run: Callable[..., Result],
    strategy: str,
    demo: Path,
    tmp_path: Path,
    tws: FakeTws,
    account: FakeIbAccount,
) -> None:
    out = tmp_path / "orders"
    plan_path, plan = dry_run(run, strategy, demo, out)
    assert plan["broker"]["kind"] == "ibkr"  # type: ignore[index]
    assert plan["account"]["account_id"] == "DU1234567"  # type: ignore[index]
    assert plan["prices"] == {o["symbol"]: tws.prices[o["symbol"]] for o in plan["orders"]}  # type: ignore[attr-defined, index]
    assert tws.placed == 0  # a dry run sends nothing
    done = rebalance(run, strategy, demo, out, input="y\n")  # shown, asked, confirmed
    assert done.exit_code == 0, done.output
    assert "DU1234567" in done.output and "complete" in done.output
    assert tws.placed == len(plan["orders"])  # type: ignore[arg-type]
    log = plan_path.with_name(plan_path.stem + ".audit.jsonl")
    assert_each_order_once(tws, account, plan, log)  # type: ignore[arg-type]
    again = rebalance(run, strategy, demo, out, "--yes")
    assert again.exit_code == 1 and "already ran" in again.stderr
    shown = run("positions", "--broker", "ibkr", "--account", "DU1234567", "--format", "json")
    assert shown.exit_code == 0, shown.output
    held = {p["symbol"]: p["quantity"] for p in json.loads(shown.stdout)["positions"]}
    assert held == account.held()
    rec = run("reconcile", strategy, "--lake", str(demo), "--as-of", str(SIGNAL), "--format",
              "json")  # fmt: skip
    assert rec.exit_code == 0, rec.output
    assert json.loads(rec.stdout)["turnover_to_targets"] < 0.05
    resting = _resting_order(tws, account, tmp_path / "state" / "ibkr")
    killed = run("kill", "--broker", "ibkr", "--account", "DU1234567", "--format", "json")
    assert killed.exit_code == 0, killed.output
    canceled = json.loads(killed.stdout)["canceled"]
    assert [(c["client_order_id"], c["status"]) for c in canceled] == [(resting, "canceled")]
    flat = run("kill", "--broker", "ibkr", "--account", "DU1234567", "--flatten", "--yes",
               "--format", "json")  # fmt: skip
    assert flat.exit_code == 0, flat.output
    assert json.loads(flat.stdout)["positions"] == [] and account.held() == {}
    assert_never_shown(tmp_path, done, again, shown, rec, killed, flat)


def _resting_order(tws: FakeTws, account: FakeIbAccount, folder: Path) -> str:
    """A limit buy far below the market, left open by an earlier qtc session (client id 1)."""
    from fake_tws import adapter

    from qtc.live.brokers.base import OrderRequest

    tws.script("rest")
    earlier = adapter(tws, account, folder, client_id=1)
    earlier.connect()
    symbol = next(iter(tws.prices))
    earlier.submit(OrderRequest("resting-1", symbol, "buy", 1, order_type="limit", limit_price=0.5))
    earlier.disconnect()
    return "resting-1"


def test_apply_a_saved_plan(
    run: Callable[..., Result],
    strategy: str,
    demo: Path,
    tmp_path: Path,
    tws: FakeTws,
    account: FakeIbAccount,
) -> None:
    plan_path, plan = dry_run(run, strategy, demo, tmp_path / "orders")
    applied = run("rebalance", "--apply", str(plan_path), "--yes", "--format", "json")
    assert applied.exit_code == 0, applied.output
    report = json.loads(applied.stdout)
    assert report["complete"] and report["run"]["status"] == "done"
    assert_each_order_once(tws, account, plan, Path(report["audit_log"]))  # type: ignore[arg-type]


def test_resume_after_the_connection_drops_mid_run(
    run: Callable[..., Result],
    strategy: str,
    demo: Path,
    tmp_path: Path,
    tws: FakeTws,
    account: FakeIbAccount,
) -> None:
    plan_path, plan = dry_run(run, strategy, demo, tmp_path / "orders")
    assert len(plan["orders"]) > 3  # type: ignore[arg-type]
    tws.drop_on_place(3, "after", stay_down=True)  # the 3rd order arrives; then TWS is gone
    stopped = run("rebalance", "--apply", str(plan_path), "--yes", "--timeout", "5")
    assert stopped.exit_code == 1 and "--resume" in stopped.stderr
    assert "Traceback" not in stopped.output
    assert tws.placed == 3
    tws.come_back()
    resumed = run("rebalance", strategy, "--resume", "--format", "json")
    assert resumed.exit_code == 0, resumed.output
    report = json.loads(resumed.stdout)
    assert report["complete"] and report["run"]["status"] == "done"
    assert tws.placed == len(plan["orders"])  # type: ignore[arg-type]
    assert_each_order_once(tws, account, plan, Path(report["audit_log"]))  # type: ignore[arg-type]


def test_sigkill_after_a_submit_then_resume(
    run: Callable[..., Result],
    strategy: str,
    demo: Path,
    tmp_path: Path,
    tws: FakeTws,
    account: FakeIbAccount,
) -> None:
    plan_path, plan = dry_run(run, strategy, demo, tmp_path / "orders")
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, str(plan_path), "2"],
        env=dict(os.environ),
        capture_output=True,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    tws.wait_idle()  # TWS notices the dead client's socket
    assert tws.placed == 2
    resumed = run("rebalance", strategy, "--resume", "--format", "json")
    assert resumed.exit_code == 0, resumed.output
    report = json.loads(resumed.stdout)
    assert report["complete"]
    assert_each_order_once(tws, account, plan, Path(report["audit_log"]))  # type: ignore[arg-type]
