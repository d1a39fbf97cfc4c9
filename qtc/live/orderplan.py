"""The order-plan artifact: what `qtc rebalance` would send, written before anything is sent.

`orders/<strategy>/<signal date>-<sha12>.json` holds the plan fingerprint, the strategy file's
git commit, the broker and account, the positions and cash snapshot, the prices used, the
targets, the orders (sells first), the risk limits and checks and the signal's age, plus
`sha256` (the hash of the canonical JSON of everything else, which names the plan) and
`signature` (an HMAC over all of it with a key that is not in the plan, `qtc.live.signing`).
`qtc rebalance --apply` executes such a file only after checking both, and after re-checking
it against the account (`qtc.live.recheck`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from qtc.atomic import write_text_atomic
from qtc.live.brokers.base import Account, Position
from qtc.live.orders import PlannedOrder
from qtc.live.risk import RiskReport
from qtc.live.signing import sign
from qtc.live.targets import LiveTargets

ORDER_PLAN_SCHEMA = 2
"""2: signed, with the risk limits and the signal's age (1 was unsigned)."""


def order_plan_document(
    *,
    strategy: str,
    targets: LiveTargets,
    broker: dict[str, Any],
    account: Account,
    positions: list[Position],
    prices: dict[str, float],
    orders: list[PlannedOrder],
    risk: RiskReport,
    git_commit: str | None,
    window: str,
    order_rules: dict[str, Any],
    costs: dict[str, float],
    peak_equity: float | None,
    risk_limits: dict[str, Any],
    signal_age: dict[str, Any],
    key: bytes,
) -> dict[str, Any]:
    """The order plan as JSON-ready data, with its sha256 and signature.

    `broker` holds the kind, the account id and the non-secret settings needed to reconnect
    (`--apply`); `order_rules` the sizing rules the executor re-applies when it fits buys to
    the cash left after the sells; `window` the rebalance window (one run per window);
    `risk_limits` the strategy's `[risk]`, which the checks are re-run against before
    sending; `signal_age` how old the signal is (`qtc.live.staleness`); `key` the signing key.
    """
    doc: dict[str, Any] = {
        "artifact": "qtc.order_plan",
        "schema_version": ORDER_PLAN_SCHEMA,
        "strategy": strategy,
        "plan_fingerprint": targets.plan_fingerprint,
        "as_of": str(targets.as_of_date),
        "signal_date": str(targets.signal_date),
        "window": window,
        "git_commit": git_commit,
        "broker": broker,
        "account": asdict(account),
        "positions": [asdict(p) for p in positions],
        "prices": {s: prices[s] for s in sorted(prices)},
        "targets": targets.weights,
        "order_rules": order_rules,
        "costs": costs,
        "orders": [asdict(o) for o in orders],
        "risk_limits": risk_limits,
        "risk": risk_document(risk, peak_equity),
        "signal_age": signal_age,
    }
    doc["sha256"] = plan_hash(doc)
    doc["signature"] = sign(doc, key)
    return doc


def risk_document(risk: RiskReport, peak_equity: float | None) -> dict[str, Any]:
    """A risk report as JSON-ready data (the order plan's `risk`)."""
    return {
        "status": risk.status,
        "peak_equity": peak_equity,
        "orders": [
            {
                "symbol": r.symbol,
                "side": r.side,
                "status": r.status,
                "checks": [asdict(c) for c in r.checks],
            }
            for r in risk.per_order
        ],
        "batch": [asdict(c) for c in risk.batch],
    }


def plan_hash(doc: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of an order plan without `sha256` and `signature`."""
    body = {k: v for k, v in doc.items() if k not in ("sha256", "signature")}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_order_plan(doc: dict[str, Any], out: Path) -> Path:
    """Write the plan to `<out>/<strategy>/<signal date>-<sha12>.json` (atomic, mode 0600)."""
    path: Path = out / doc["strategy"] / f"{doc['signal_date']}-{doc['sha256'][:12]}.json"
    write_text_atomic(path, json.dumps(doc, indent=2, sort_keys=True) + "\n", mode=0o600)
    return path


def positions_moved(doc: dict[str, Any], positions: list[Position], account: Account) -> list[str]:
    """How the account differs from the plan's snapshot (empty when it has not moved).

    Quantities must match exactly (within 1e-9 shares); cash may have grown (a deposit) but
    not shrunk, since the buys were sized to it.
    """
    before = {p["symbol"]: float(p["quantity"]) for p in doc["positions"]}
    now = {p.symbol: p.quantity for p in positions}
    changes = [
        f"{s}: {before.get(s, 0.0):g} -> {now.get(s, 0.0):g} shares"
        for s in sorted(set(before) | set(now))
        if abs(before.get(s, 0.0) - now.get(s, 0.0)) > 1e-9
    ]
    cash = float(doc["account"]["cash"])
    if account.cash < cash - 0.01:
        changes.append(f"cash: {cash:,.2f} -> {account.cash:,.2f}")
    return changes
