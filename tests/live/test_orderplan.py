"""The typed order plan: its file is exactly its JSON, and a signed plan missing a part of its
rules is refused by name, never read as zero.

The account holds 10 AAA ($100) and $10,000 cash; the targets are BBB 50 %: sell the 10 AAA
(an exit: target weight 0, the integer the planner writes) and buy 100 BBB ($50).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from qtc.errors import UserError
from qtc.live.brokers.factory import KINDS, broker_class, capabilities
from qtc.live.brokers.mock import MockBroker
from qtc.live.costs import Costs
from qtc.live.orderplan import BrokerRef, OrderPlan, build_order_plan, plan_hash
from qtc.live.planfile import read_order_plan, write_order_plan
from qtc.live.risk import check_orders
from qtc.live.rules import OrderRules, cash_buffer_bps
from qtc.live.signing import sign
from qtc.live.staleness import signal_age
from qtc.live.targets import LiveTargets
from qtc.manifest.risk import RiskSection

KEY = bytes(range(32))
DAY = dt.date(2024, 3, 28)
PRICES = {"AAA": 100.0, "BBB": 50.0}
COSTS = Costs(commission_bps=1.0, slippage_bps=5.0)


def make_plan() -> OrderPlan:
    from qtc.live.brokers.base import Position

    broker = MockBroker(cash=10_000.0, prices=PRICES, positions=[Position("AAA", 10.0, 90.0)])
    broker.connect()
    account, positions = broker.account(), broker.positions()
    rules = OrderRules(
        fractional=False,
        no_trade_band_bps=0.0,
        min_order_value=0.0,
        cash_buffer_bps=cash_buffer_bps(COSTS),
    )
    orders = rules.orders({"BBB": 0.5}, positions, account, PRICES)
    risk = RiskSection()
    return build_order_plan(
        strategy="test",
        targets=LiveTargets(DAY, DAY, {"BBB": 0.5}, "f" * 64),
        broker=BrokerRef(kind="mock", account=account.account_id, settings={"kind": "mock"}),
        account=account,
        positions=positions,
        prices=PRICES,
        orders=orders,
        risk=check_orders(orders, account, positions, PRICES, risk, peak_equity=None),
        git_commit=None,
        window="2024-03",
        order_rules=rules,
        costs=COSTS,
        peak_equity=None,
        risk_limits=risk,
        signal_age=signal_age("mock", DAY, DAY, DAY, 2),
        key=KEY,
    )


def test_the_file_is_the_plan_byte_for_byte_and_an_exit_stays_the_integer_zero(
    tmp_path: Path,
) -> None:
    plan = make_plan()
    path = write_order_plan(plan, tmp_path)
    assert path == tmp_path / "test" / f"2024-03-28-{plan.sha256[:12]}.json"
    text = path.read_text()
    assert '"target_weight": 0\n' in text  # the exit, as `plan_orders` makes it
    assert plan_hash(json.loads(text)) == plan.sha256
    again = read_order_plan(path, KEY)
    assert again == plan and again.to_json() == text
    assert again.document(sort_keys=True) == json.loads(text)
    assert list(plan.document())[:3] == ["artifact", "schema_version", "strategy"]


def test_the_cash_buffer_covers_both_costs() -> None:
    # a buy at p costs p (1 + 5 bp)(1 + 1 bp) = p (1 + 6.0005 bp); plus 0.1 bp of margin
    assert cash_buffer_bps(COSTS) == pytest.approx(6.1005)


def resigned(path: Path, change: Callable[[dict[str, Any]], object]) -> None:
    """Edit the plan at `path`, then re-hash and re-sign it with the right key."""
    doc = json.loads(path.read_text())
    change(doc)
    doc["sha256"] = plan_hash(doc)
    doc["signature"] = sign(doc, KEY)
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize(
    ("part", "key"),
    [("costs", "commission_bps"), ("costs", "slippage_bps"), ("order_rules", "min_order_value")],
)
def test_a_signed_plan_missing_a_cost_or_rule_is_refused_by_name(
    tmp_path: Path, part: str, key: str
) -> None:
    path = write_order_plan(make_plan(), tmp_path)
    resigned(path, lambda d: d[part].pop(key))
    with pytest.raises(UserError, match=rf"not a complete order plan \({part}\.{key}: Field req"):
        read_order_plan(path, KEY)


def test_a_signed_plan_whose_numbers_changed_form_is_refused(tmp_path: Path) -> None:
    path = write_order_plan(make_plan(), tmp_path)
    resigned(path, lambda d: d["costs"].update(commission_bps=1))  # 1, not 1.0
    with pytest.raises(UserError, match="does not read back as the plan its sha256 names"):
        read_order_plan(path, KEY)


def test_every_broker_declares_its_capabilities() -> None:
    assert {k: broker_class(k).name for k in KINDS} == {k: k for k in KINDS}
    simulated = {k for k in KINDS if capabilities(k).simulated}
    assert simulated == {"mock", "paper"}
    assert {k for k in KINDS if capabilities(k).prices == "lake_closes"} == simulated
    assert {k: capabilities(k).persistence for k in KINDS} == {
        "mock": "memory", "paper": "disk", "alpaca": "remote", "ibkr": "remote",
    }  # fmt: skip
    assert not capabilities("ibkr").fractional
    with pytest.raises(UserError, match="unknown broker 'nope'"):
        capabilities("nope")
