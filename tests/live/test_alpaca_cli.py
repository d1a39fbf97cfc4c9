"""`qtc rebalance|positions|reconcile|kill --broker alpaca` end to end: the real `alpaca-py`
client against the fake Alpaca server, credentials from the environment only.

Every output and every file the commands write is searched for the fake key id and secret.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fake_alpaca import FakeAccount, FakeAlpacaServer
from typer.testing import Result

from qtc.lake import Lake
from qtc.live.audit import read_log, verify

SIGNAL = dt.date(2010, 6, 30)


@pytest.fixture
def server() -> Iterator[FakeAlpacaServer]:
    fake = FakeAlpacaServer().start()
    yield fake
    fake.stop()


@pytest.fixture
def account(
    server: FakeAlpacaServer, demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> FakeAccount:
    frame = Lake(demo).prices(start=SIGNAL, end=SIGNAL, columns=("close",))
    prices = dict(zip(frame["symbol"].to_list(), frame["close"].to_list(), strict=True))
    fake = server.add_account(cash=1_000_000.0, prices=prices)
    monkeypatch.setenv("QTC_ALPACA_KEY_ID", fake.key_id)
    monkeypatch.setenv("QTC_ALPACA_SECRET_KEY", fake.secret_key)
    monkeypatch.setenv("QTC_ALPACA_TRADING_URL", server.url)
    monkeypatch.setenv("QTC_ALPACA_DATA_URL", server.url)
    monkeypatch.setenv("QTC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr("qtc.cli.options.today", lambda: SIGNAL)  # the day the orders go out
    return fake


def rebalance(qtc: Callable[..., Result], demo: Path, out: Path, *extra: str) -> Result:
    return qtc(
        "rebalance", "strategies/momentum_us.toml", "--broker", "alpaca", "--lake", str(demo),
        "--out", str(out), "--as-of", str(SIGNAL), *extra,
    )  # fmt: skip


def assert_no_secret(fake: FakeAccount, folder: Path, *results: Result) -> None:
    secrets = (fake.key_id, fake.secret_key)
    for result in results:
        for secret in secrets:
            assert secret not in result.output
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for secret in secrets:
            assert secret not in text, path


def test_rebalance_on_alpaca_plans_executes_and_never_shows_the_keys(
    qtc: Callable[..., Result], demo: Path, tmp_path: Path, account: FakeAccount
) -> None:
    out = tmp_path / "orders"
    dry = rebalance(qtc, demo, out, "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.output
    plan = json.loads(dry.stdout)
    assert plan["broker"]["kind"] == "alpaca" and plan["account"]["account_id"] == "PA00000001"
    assert plan["broker"]["settings"]["key_id_env"] == "QTC_ALPACA_KEY_ID"  # the name only
    assert account.posts() == 0  # a dry run sends nothing
    human = rebalance(qtc, demo, out, "--dry-run")
    done = rebalance(qtc, demo, out, "--yes", "--format", "json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["complete"]
    assert account.posts() == len(plan["orders"])
    held = {p.symbol: p.quantity for p in account.ledger.sorted_positions()}
    assert held == pytest.approx({o["symbol"]: o["quantity"] for o in plan["orders"]})
    log = Path(report["audit_log"])
    assert verify(log).ok
    assert sum(r["event"] == "intent.submit" for r in read_log(log)) == len(plan["orders"])
    again = rebalance(qtc, demo, out, "--yes")
    assert again.exit_code == 1 and "already ran" in again.stderr
    shown = qtc("positions", "--broker", "alpaca", "--format", "json")
    assert shown.exit_code == 0, shown.output
    assert len(json.loads(shown.stdout)["positions"]) == len(held)
    rec = qtc("reconcile", "strategies/momentum_us.toml", "--broker", "alpaca",
              "--lake", str(demo), "--as-of", str(SIGNAL))  # fmt: skip
    assert rec.exit_code == 0, rec.output
    killed = qtc("kill", "--broker", "alpaca", "--format", "json")
    assert killed.exit_code == 0 and json.loads(killed.stdout)["canceled"] == []
    assert_no_secret(account, tmp_path, dry, human, done, again, shown, rec, killed)


def test_missing_or_wrong_credentials_are_named_never_echoed(
    qtc: Callable[..., Result],
    demo: Path,
    tmp_path: Path,
    account: FakeAccount,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("QTC_ALPACA_SECRET_KEY")
    missing = rebalance(qtc, demo, tmp_path / "orders", "--dry-run", "--format", "json")
    assert missing.exit_code == 2
    problem = json.loads(missing.stdout)
    assert "QTC_ALPACA_SECRET_KEY" in json.dumps(problem)
    wrong = "wrong-" + account.secret_key[::-1]
    monkeypatch.setenv("QTC_ALPACA_SECRET_KEY", wrong)
    refused = rebalance(qtc, demo, tmp_path / "orders", "--dry-run")
    assert refused.exit_code == 1
    assert "Traceback" not in refused.output
    for secret in (account.key_id, account.secret_key, wrong):
        assert secret not in refused.output
    assert account.posts() == 0


def test_orders_are_sized_at_the_brokers_prices_not_the_lakes(
    qtc: Callable[..., Result], demo: Path, tmp_path: Path, account: FakeAccount
) -> None:
    lake = dict(account.prices)
    for symbol, price in lake.items():
        account.set_price(symbol, round(price * 1.25, 2))  # the market moved since the close
    dry = rebalance(qtc, demo, tmp_path / "orders", "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.output
    plan = json.loads(dry.stdout)
    assert plan["prices"] == {s: round(lake[s] * 1.25, 2) for s in plan["prices"]}
    assert all(o["price"] == plan["prices"][o["symbol"]] for o in plan["orders"])
