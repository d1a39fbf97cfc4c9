"""The order-plan artifact: what `qtc rebalance` would send, written before anything is sent.

`orders/<strategy>/<signal date>-<sha12>.json` holds the plan fingerprint, the strategy file's
git commit, the broker and account, the positions and cash snapshot, the prices used, the
targets, the order rules and costs, the orders (sells first), the risk limits and checks and
the signal's age, plus `sha256` (the hash of the canonical JSON of everything else, which
names the plan) and `signature` (an HMAC over all of it with a key that is not in the plan,
`qtc.live.signing`). `qtc rebalance --apply` executes such a file only after checking both
(`qtc.live.planfile`), and after re-checking it against the account (`qtc.live.recheck`).

`OrderPlan` is that document as a typed model; `OrderPlan.document()` is its JSON form, the
one hashed, signed and written. Numbers keep the form they were made in (an exit's target
weight is the integer 0): the hash and the signature cover the exact JSON, so a plan read
back and dumped again must give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, StrictFloat, StrictInt

from qtc.live.brokers.base import Account, Position, Side
from qtc.live.costs import Costs
from qtc.live.orders import PlannedOrder
from qtc.live.risk import RiskReport, Status
from qtc.live.rules import OrderRules
from qtc.live.signing import sign
from qtc.live.staleness import SignalAge
from qtc.live.targets import LiveTargets
from qtc.manifest.risk import RiskSection

ARTIFACT = "qtc.order_plan"
"""The `artifact` of every order plan."""

ORDER_PLAN_SCHEMA = 2
"""2: signed, with the risk limits and the signal's age (1 was unsigned)."""

Number = StrictInt | StrictFloat
"""A JSON number kept as it was made: an int stays an int, a float a float."""


class Record(BaseModel):
    """Base of the order plan's parts: frozen, unknown keys refused, built from attributes."""

    model_config = ConfigDict(frozen=True, extra="forbid", from_attributes=True)


class BrokerRef(Record):
    """The broker a plan was made against (enough to reconnect; never a secret).

    Attributes:
        kind: Broker kind (`mock`, `paper`, `alpaca`, `ibkr`).
        account: Account id the broker reported.
        settings: The strategy's `[broker]` section for that kind, as JSON (the names of
            credential variables, never their values).
    """

    kind: str
    account: str
    settings: dict[str, Any]


class AccountRecord(Record):
    """The account's balances when the plan was made (`brokers.base.Account`)."""

    account_id: str
    cash: Number
    equity: Number
    currency: str

    def to_account(self) -> Account:
        """As the broker protocol's value."""
        return Account(self.account_id, self.cash, self.equity, self.currency)


class PositionRecord(Record):
    """A holding when the plan was made (`brokers.base.Position`)."""

    symbol: str
    quantity: Number
    avg_price: Number

    def to_position(self) -> Position:
        """As the broker protocol's value."""
        return Position(self.symbol, self.quantity, self.avg_price)


class OrderRecord(Record):
    """One planned order (`orders.PlannedOrder`)."""

    symbol: str
    side: Side
    quantity: Number
    price: Number
    notional: Number
    current_weight: Number
    target_weight: Number

    def to_order(self) -> PlannedOrder:
        """As the order planner's value."""
        return PlannedOrder(
            self.symbol,
            self.side,
            self.quantity,
            self.price,
            self.notional,
            self.current_weight,
            self.target_weight,
        )


class CheckRecord(Record):
    """One risk check's outcome (`risk.RiskCheck`)."""

    name: str
    status: Status
    detail: str


class OrderRiskRecord(Record):
    """The checks of one order (`risk.OrderRisk`)."""

    symbol: str
    side: Side
    status: Status
    checks: list[CheckRecord]


class RiskRecord(Record):
    """A risk report with the equity peak it was checked against (the plan's `risk`)."""

    status: Status
    peak_equity: Number | None
    orders: list[OrderRiskRecord]
    batch: list[CheckRecord]

    @classmethod
    def of(cls, risk: RiskReport, peak_equity: float | None) -> RiskRecord:
        """The record of a risk report."""
        return cls(
            status=risk.status,
            peak_equity=peak_equity,
            orders=[OrderRiskRecord.model_validate(r) for r in risk.per_order],
            batch=[CheckRecord.model_validate(c) for c in risk.batch],
        )


class SignalAgeRecord(Record):
    """How old the signal was when the plan was made (`staleness.SignalAge`)."""

    signal_date: dt.date
    reference: dt.date
    trading_days: StrictInt
    max_days: StrictInt
    stale: bool

    @classmethod
    def of(cls, age: SignalAge) -> SignalAgeRecord:
        """The record of a signal's age."""
        return cls.model_validate(age.to_dict())


class Signature(Record):
    """The plan's HMAC (`qtc.live.signing`)."""

    alg: str
    key_id: str
    value: str


class OrderPlanBody(Record):
    """Everything in an order plan that its `sha256` covers.

    `broker` is what reconnects (`--apply`); `order_rules` and `costs` are what the executor
    and the re-check size orders with; `window` the rebalance window (one run per window);
    `risk_limits` the strategy's `[risk]`, which the checks are re-run against before
    sending; `signal_age` how old the signal is (`qtc.live.staleness`).
    """

    artifact: Literal["qtc.order_plan"]
    schema_version: Literal[2]
    strategy: str
    plan_fingerprint: str
    as_of: dt.date
    signal_date: dt.date
    window: str
    git_commit: str | None
    broker: BrokerRef
    account: AccountRecord
    positions: list[PositionRecord]
    prices: dict[str, Number]
    targets: dict[str, Number]
    order_rules: OrderRules
    costs: Costs
    orders: list[OrderRecord]
    risk_limits: RiskSection
    risk: RiskRecord
    signal_age: SignalAgeRecord


class OrderPlan(OrderPlanBody):
    """A signed order plan (see the module docstring)."""

    sha256: str
    signature: Signature

    def document(self, *, sort_keys: bool = False) -> dict[str, Any]:
        """The plan as JSON-ready data: in the order it is built, or sorted as in its file."""
        doc = self.model_dump(mode="json")
        return json.loads(json.dumps(doc, sort_keys=True)) if sort_keys else doc

    def to_json(self) -> str:
        """The file's text: 2-space indent, sorted keys, trailing newline."""
        return json.dumps(self.document(), indent=2, sort_keys=True) + "\n"

    def planned_orders(self) -> list[PlannedOrder]:
        """The orders as the planner's values (sells first)."""
        return [o.to_order() for o in self.orders]

    def snapshot(self) -> tuple[Account, list[Position]]:
        """The account and holdings the plan was made against."""
        return self.account.to_account(), [p.to_position() for p in self.positions]


def build_order_plan(
    *,
    strategy: str,
    targets: LiveTargets,
    broker: BrokerRef,
    account: Account,
    positions: Sequence[Position],
    prices: Mapping[str, float],
    orders: Sequence[PlannedOrder],
    risk: RiskReport,
    git_commit: str | None,
    window: str,
    order_rules: OrderRules,
    costs: Costs,
    peak_equity: float | None,
    risk_limits: RiskSection,
    signal_age: SignalAge,
    key: bytes,
) -> OrderPlan:
    """The order plan, hashed and signed with `key`."""
    body = OrderPlanBody(
        artifact=ARTIFACT,
        schema_version=ORDER_PLAN_SCHEMA,
        strategy=strategy,
        plan_fingerprint=targets.plan_fingerprint,
        as_of=targets.as_of_date,
        signal_date=targets.signal_date,
        window=window,
        git_commit=git_commit,
        broker=broker,
        account=AccountRecord.model_validate(account),
        positions=[PositionRecord.model_validate(p) for p in positions],
        prices={s: prices[s] for s in sorted(prices)},
        targets=targets.weights,
        order_rules=order_rules,
        costs=costs,
        orders=[OrderRecord.model_validate(o) for o in orders],
        risk_limits=risk_limits,
        risk=RiskRecord.of(risk, peak_equity),
        signal_age=SignalAgeRecord.of(signal_age),
    )
    doc = body.model_dump(mode="json")
    doc["sha256"] = plan_hash(doc)
    doc["signature"] = sign(doc, key)
    return OrderPlan.model_validate(doc)


def plan_hash(doc: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of an order plan without `sha256` and `signature`."""
    body = {k: v for k, v in doc.items() if k not in ("sha256", "signature")}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def positions_moved(plan: OrderPlan, positions: list[Position], account: Account) -> list[str]:
    """How the account differs from the plan's snapshot (empty when it has not moved).

    Quantities must match exactly (within 1e-9 shares); cash may have grown (a deposit) but
    not shrunk, since the buys were sized to it.
    """
    before = {p.symbol: float(p.quantity) for p in plan.positions}
    now = {p.symbol: p.quantity for p in positions}
    changes = [
        f"{s}: {before.get(s, 0.0):g} -> {now.get(s, 0.0):g} shares"
        for s in sorted(set(before) | set(now))
        if abs(before.get(s, 0.0) - now.get(s, 0.0)) > 1e-9
    ]
    cash = float(plan.account.cash)
    if account.cash < cash - 0.01:
        changes.append(f"cash: {cash:,.2f} -> {account.cash:,.2f}")
    return changes
