"""`qtc reconcile` and `qtc kill` end to end on a paper account over a small demo lake."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from qtc.live.audit import read_log, verify
from qtc.live.brokers.base import OrderRequest, Position
from qtc.live.brokers.paper import PaperBroker
from tests.conftest import stable


def rebalance(qtc: Callable[..., Result], demo: Path, out: Path, *extra: str) -> Result:
    return qtc(
        "rebalance", "strategies/momentum_us.toml", "--broker", "paper", "--lake", str(demo),
        "--out", str(out), "--as-of", "2010-06-30", *extra,
    )  # fmt: skip


def test_reconcile_shows_targets_against_holdings_and_sends_nothing(
    qtc: Callable[..., Result],
    demo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    snapshot: object,
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("QTC_STATE_DIR", str(state))
    base = ("reconcile", "strategies/momentum_us.toml", "--lake", str(demo))
    before = qtc(*base, "--as-of", "2010-06-30", "--format", "json")
    assert before.exit_code == 0, before.output
    doc = json.loads(before.stdout)
    # an empty account: every target is missed entirely, tracking error = half the targets
    assert all(r["weight"] == 0 for r in doc["residual"])
    total = sum(r["target_weight"] for r in doc["residual"])
    assert doc["turnover_to_targets"] == pytest.approx(total / 2)
    assert json.loads((state / "paper" / "default.json").read_text())["fills"] == []
    history = json.loads((state / "equity" / "paper-default.json").read_text())
    assert history == {"2010-06-30": 1_000_000.0}
    assert stable(doc) == snapshot
    assert rebalance(qtc, demo, tmp_path / "orders", "--yes").exit_code == 0
    after = qtc(*base, "--as-of", "2010-06-30", "--format", "json")
    residual = json.loads(after.stdout)["residual"]
    assert max(abs(r["diff"]) for r in residual) < 5e-4  # costs and truncation only
    human = qtc(*base, "--as-of", "2010-06-30")
    assert human.exit_code == 0 and human.stdout == snapshot


def test_kill_cancels_open_orders_and_flattens_after_confirmation(
    qtc: Callable[..., Result],
    demo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    snapshot: object,
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("QTC_STATE_DIR", str(state))
    account = state / "paper" / "default.json"
    prices = {"AAA": 100.0}
    paper = PaperBroker(account, prices=lambda s: {k: prices[k] for k in s if k in prices})
    paper.connect()
    paper.submit(OrderRequest("buy-1", "AAA", "buy", 10))  # fills at 100
    paper.submit(OrderRequest("limit-1", "AAA", "buy", 5, "limit", 50.0))  # stays open
    assert [s.client_order_id for s in paper.open_orders()] == ["limit-1"]
    declined = qtc("kill", "--broker", "paper", "--lake", str(demo), "--flatten", input="n\n")
    assert declined.exit_code == 1 and "nothing was sent" in declined.stderr
    assert len(paper.open_orders()) == 1
    # the demo lake has no AAA: flattening needs a price, so this kill only cancels
    result = qtc("kill", "--broker", "paper", "--lake", str(demo), "--format", "json")
    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout)
    assert [(c["client_order_id"], c["status"]) for c in done["canceled"]] == [
        ("limit-1", "canceled")
    ]
    assert paper.open_orders() == [] and done["flattened"] is None
    assert done["positions"] == [{"symbol": "AAA", "quantity": 10.0, "avg_price": 100.0}]
    log = Path(done["audit_log"])
    assert verify(log).ok
    assert [r["event"] for r in read_log(log)] == ["intent.cancel_all", "result.cancel_all"]
    assert stable(done | {"audit_log": "<log>"}) == snapshot


def test_kill_flatten_sells_every_position(
    qtc: Callable[..., Result],
    demo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    snapshot: object,
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("QTC_STATE_DIR", str(state))
    assert rebalance(qtc, demo, tmp_path / "orders", "--yes").exit_code == 0
    held = PaperBroker(state / "paper" / "default.json", prices=lambda s: {})
    held.connect()
    positions: list[Position] = held.positions()
    assert positions
    result = qtc("kill", "--broker", "paper", "--lake", str(demo), "--flatten", input="y\n")
    assert result.exit_code == 0, result.output
    assert held.positions() == []
    sold = {f.symbol: f.quantity for f in held.fills() if f.side == "sell"}
    assert sold == {p.symbol: p.quantity for p in positions}
    text = re.sub(r"qtc-[0-9a-f]{20}-\d{3}", "<cid>", result.stdout)
    text = re.sub(r"audit log \S+", "audit log <log>", text)
    assert text == snapshot


def test_reconcile_applies_broker_settings_to_another_broker_kind(
    qtc: Callable[..., Result], demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--broker paper --set broker.account=...` reaches the paper account of a mock strategy."""
    state = tmp_path / "state"
    monkeypatch.setenv("QTC_STATE_DIR", str(state))
    text = Path("strategies/momentum_us.toml").read_text(encoding="utf-8")
    mocked = tmp_path / "momentum_mock.toml"
    mocked.write_text(text.replace('kind = "paper"', 'kind = "mock"'), encoding="utf-8")
    result = qtc(
        "reconcile", str(mocked), "--broker", "paper", "--set", "broker.account=second",
        "--lake", str(demo), "--as-of", "2010-06-30", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (state / "paper" / "second.json").exists()
    assert not (state / "paper" / "default.json").exists()
    history = json.loads((state / "equity" / "paper-second.json").read_text())
    assert history == {"2010-06-30": 1_000_000.0}
