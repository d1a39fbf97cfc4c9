"""The kill switch: cancel every open order, then (optionally) sell every position.

Both steps go to an audit log like a rebalance (intent before each broker call); flattening
runs through the same executor as a rebalance, with a one-off plan of market sells whose hash
includes the time, so its client order ids never collide with another kill's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qtc.live.audit import AuditLog
from qtc.live.brokers.base import Broker, OrderState, Position
from qtc.live.execute import ExecutionPlan, ExecutionReport, Executor, PlanOrder, Timing
from qtc.live.orderplan import plan_hash
from qtc.live.rules import OrderRules

KILL_PLAN = "kill"
"""The `plan_hash` of the cancel-all records (there is no order plan)."""


@dataclass
class Killed:
    """What `qtc kill` did.

    Attributes:
        canceled: The orders canceled.
        flattened: The flatten's execution report (None without `--flatten`).
        audit_log: The kill's audit log.
        positions: The holdings left.
    """

    canceled: list[OrderState]
    flattened: ExecutionReport | None
    audit_log: Path
    positions: list[Position]


def kill(broker: Broker, *, state: Path, flatten: bool, timing: Timing | None = None) -> Killed:
    """Cancel every open order (logged first); with `flatten`, sell every position.

    The audit log is `<state>/audit/kill-<broker>-<account>.jsonl`.
    """
    log_path = state / "audit" / f"kill-{broker.name}-{broker.account().account_id}.jsonl"
    canceled = cancel_everything(broker, log_path)
    sold = flatten_positions(broker, log_path, timing=timing) if flatten else None
    return Killed(canceled, sold, log_path, broker.positions())


def cancel_everything(
    broker: Broker, log_path: Path, *, redact: list[str] | None = None
) -> list[OrderState]:
    """Cancel every open order at the broker, logging the intent first."""
    with AuditLog(log_path, run_id=_run_id(), plan_hash=KILL_PLAN, redact=redact or []) as log:
        still_open = broker.open_orders()
        log.append("intent.cancel_all", {"open": [s.client_order_id for s in still_open]})
        states = broker.cancel_all()
        log.append(
            "result.cancel_all",
            {"orders": {s.client_order_id: s.status for s in states}},
        )
    return states


def flatten_plan(broker: Broker) -> dict[str, Any]:
    """A one-off plan that sells every position at market (priced at the broker's quotes)."""
    positions = broker.positions()
    quotes = broker.quotes([p.symbol for p in positions])
    orders = [
        {
            "symbol": p.symbol,
            "side": "sell",
            "quantity": p.quantity,
            "price": quotes.get(p.symbol, p.avg_price),
        }
        for p in positions
        if p.quantity > 0
    ]
    doc: dict[str, Any] = {
        "strategy": "kill",
        "orders": orders,
        "prices": {o["symbol"]: o["price"] for o in orders},
        "targets": {},
        "order_rules": {"fractional": broker.supports_fractional},
        "created": datetime.now(UTC).isoformat(),
    }
    doc["sha256"] = plan_hash(doc)
    return doc


def flatten_positions(
    broker: Broker,
    log_path: Path,
    *,
    timing: Timing | None = None,
    redact: list[str] | None = None,
) -> ExecutionReport:
    """Sell every position (after `cancel_everything`), waiting for fills like a rebalance."""
    doc = flatten_plan(broker)
    plan = _execution(doc, fractional=broker.supports_fractional)
    with AuditLog(log_path, run_id=_run_id(), plan_hash=doc["sha256"], redact=redact or []) as log:
        log.append("flatten.plan", {"orders": doc["orders"]})
        return Executor(broker, log, plan, timing=timing).run()


def _execution(doc: dict[str, Any], *, fractional: bool) -> ExecutionPlan:
    """The flatten plan as the executor runs it: market sells, no band, minimum or buffer."""
    orders = [
        PlanOrder(o["symbol"], "sell", float(o["quantity"]), float(o["price"]))
        for o in doc["orders"]
    ]
    rules = OrderRules.sells_only(fractional=fractional)
    return ExecutionPlan(doc["sha256"], orders, doc["prices"], doc["targets"], rules)


def _run_id() -> str:
    return uuid.uuid4().hex[:16]
