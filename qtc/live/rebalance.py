"""Planning a rebalance: targets -> prices -> orders -> risk checks -> a signed order plan.

Targets come from the same Plan and pipeline stages as the backtest (`qtc.live.targets`), and
so do the costs and order rules (the plan's `run_engine` stage); positions, cash and prices
from the broker. A broker priced at the lake's closes (its
`Capabilities.prices`) is handed the closes on the signal date and fills at them. Orders
follow the strategy's order rules (`qtc.live.rules`), are checked against its `[risk]` with
the account's recorded equity peak, and the plan is written (`qtc.live.planfile`) before
anything is sent. Sending is `qtc.live.session`'s job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtc.compile.stages import RunEngine
from qtc.errors import UserError
from qtc.live.brokers.base import Broker
from qtc.live.costs import Costs
from qtc.live.orderplan import BrokerRef, OrderPlan, build_order_plan
from qtc.live.rules import OrderRules
from qtc.live.targets import LiveTargets

if TYPE_CHECKING:
    from qtc.compile.plan import Plan
    from qtc.lake.read.reader import Lake
    from qtc.manifest.strategy import Strategy


@dataclass(frozen=True)
class Signal:
    """What a rebalance starts from.

    Attributes:
        strategy: The strategy (with any `--set` and `--broker` applied): broker, risk
            limits, rebalance schedule.
        engine: Its plan's `run_engine` stage: the costs and order rules.
        targets: Its live target weights at the signal date.
        closes: Every symbol's close in the lake on the signal date.
    """

    strategy: Strategy
    engine: RunEngine
    targets: LiveTargets
    closes: dict[str, float]


@dataclass(frozen=True)
class Rebalance:
    """A planned rebalance: the signed plan, where it was written, the connected broker."""

    plan: OrderPlan
    path: Path
    broker: Broker


def compile_date(store: Lake, as_of: dt.date | None) -> dt.date:
    """The date a live plan is compiled for: `as_of`, or the lake's last day if earlier.

    So the plan's fingerprint is the backtest's on the same lake.
    """
    from qtc.pipeline.data import window_end

    last = window_end(store)
    return last if as_of is None else min(as_of, last)


def read_signal(
    strategy: Strategy,
    plan: Plan,
    store: Lake,
    as_of: dt.date | None,
    broker_kind: str | None = None,
) -> Signal:
    """The strategy's live targets and the lake's closes on their signal date.

    Raises:
        UserError: `broker_kind` is not the strategy's broker (after `--set`).
    """
    from qtc.live.pricing import lake_closes
    from qtc.live.targets import live_targets

    if broker_kind is not None and strategy.broker.kind != broker_kind:
        raise UserError(
            f"--broker {broker_kind} conflicts with --set broker.kind={strategy.broker.kind}",
            hint="give the broker once",
        )
    targets = live_targets(plan, store, as_of=as_of)
    engine = plan.spec(RunEngine)
    return Signal(strategy, engine, targets, lake_closes(store, targets.signal_date))


def plan_rebalance(
    signal: Signal,
    *,
    strategy_file: str,
    as_of: dt.date,
    today: dt.date,
    state: Path,
    environ: Mapping[str, str],
    out: Path,
) -> Rebalance:
    """Read the broker, plan and risk-check the orders, write the signed plan.

    Args:
        signal: The strategy, its targets and the lake's closes.
        strategy_file: The strategy file (its git commit goes in the plan).
        as_of: The date the plan is made for (the signal is on or before it).
        today: Today's date (a real broker's signal is aged up to it).
        state: qtc's state folder (signing key, accounts, equity history).
        environ: Environment variables (signing key, credentials).
        out: Folder of order plans.
    """
    from qtc.live.brokers.factory import broker_settings
    from qtc.live.planfile import write_order_plan
    from qtc.live.signing import signing_key

    strategy = signal.strategy
    costs = Costs.of(signal.engine.costs)
    settings = broker_settings(strategy.broker.kind, strategy.broker)
    key = signing_key(state, environ)
    broker = _open(signal, settings, costs, state, environ)
    plan = _plan(signal, broker, settings, costs, strategy_file, as_of, today, state, key)
    return Rebalance(plan, write_order_plan(plan, out), broker)


def _open(
    signal: Signal,
    settings: dict[str, Any],
    costs: Costs,
    state: Path,
    environ: Mapping[str, str],
) -> Broker:
    """The strategy's broker, connected (a lake-priced one fills at the signal's closes)."""
    from qtc.live.brokers.factory import build_broker

    broker = build_broker(
        settings,
        prices=signal.closes,
        costs=costs,
        state=state,
        environ=environ,
        initial_cash=signal.strategy.rebalance.initial_cash,
    )
    broker.connect()
    return broker


def _plan(
    signal: Signal,
    broker: Broker,
    settings: dict[str, Any],
    costs: Costs,
    strategy_file: str,
    as_of: dt.date,
    today: dt.date,
    state: Path,
    key: bytes,
) -> OrderPlan:
    """The order plan against the broker's account now."""
    from qtc.live.history import history_path, peak_equity
    from qtc.live.pricing import broker_prices
    from qtc.live.risk import check_orders
    from qtc.live.staleness import signal_age
    from qtc.live.windows import window_of
    from qtc.outputs.artifacts import git_commit

    strategy, targets = signal.strategy, signal.targets
    kind = strategy.broker.kind
    account, positions = broker.account(), broker.positions()
    wanted = sorted(set(targets.weights) | {p.symbol for p in positions})
    prices = broker_prices(broker, wanted, targets.signal_date)
    rules = OrderRules.of(signal.engine, broker_fractional=broker.supports_fractional)
    orders = rules.orders(targets.weights, positions, account, prices)
    peak = peak_equity(history_path(state, kind, account.account_id))
    risk = check_orders(orders, account, positions, prices, strategy.risk, peak_equity=peak)
    max_days = strategy.rebalance.max_signal_age_days
    return build_order_plan(
        strategy=strategy.name,
        targets=targets,
        broker=BrokerRef(kind=kind, account=account.account_id, settings=dict(settings)),
        account=account,
        positions=positions,
        prices=prices,
        orders=orders,
        risk=risk,
        git_commit=git_commit(strategy_file),
        window=window_of(strategy.rebalance.frequency, targets.signal_date),
        order_rules=rules,
        costs=costs,
        peak_equity=peak,
        risk_limits=strategy.risk,
        signal_age=signal_age(kind, targets.signal_date, as_of, today, max_days),
        key=key,
    )
