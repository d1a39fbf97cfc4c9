"""The live part of the library facade: `qtc rebalance` (dry run so far).

Targets come from the same Plan and pipeline stages as the backtest; positions and cash from
the broker; prices from the lake's closes on the signal date.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qtc.api import compile_file
from qtc.api_data import LakeRef
from qtc.errors import QtcError, UserError

STATE_ENV = "QTC_STATE_DIR"


@dataclass
class DryRun:
    """A computed (not executed) rebalance."""

    path: Path
    document: dict[str, Any]


def state_dir() -> Path:
    """Where local brokers keep their accounts: `$QTC_STATE_DIR` or the user data dir."""
    from platformdirs import user_data_dir

    return Path(os.environ.get(STATE_ENV) or user_data_dir("qtc"))


def rebalance_dry_run(
    path: str,
    *,
    broker_kind: str,
    lake: LakeRef,
    overrides: list[str] | None = None,
    as_of: dt.date | None = None,
    out: Path = Path("orders"),
) -> DryRun:
    """Compute targets, read the broker, plan and risk-check orders, write the order plan."""
    from qtc.lake import Lake
    from qtc.live.orderplan import order_plan_document, write_order_plan
    from qtc.live.orders import plan_orders
    from qtc.live.risk import check_orders
    from qtc.live.targets import live_targets
    from qtc.outputs.artifacts import git_commit
    from qtc.pipeline.data import window_end

    store = Lake(lake.path)
    compiled = compile_file(path, overrides=overrides, as_of=as_of or window_end(store))
    strategy = compiled.loaded.strategy
    assert strategy is not None
    targets = live_targets(compiled.plan, store, as_of=as_of)
    prices = _closes(store, targets.signal_date)
    broker = _broker(broker_kind, strategy, prices)
    broker.connect()
    account, positions = broker.account(), broker.positions()
    wanted = sorted(set(targets.weights) | {p.symbol for p in positions})
    missing = [s for s in wanted if s not in prices]
    if missing:
        raise QtcError(f"no close on {targets.signal_date} for: {', '.join(missing)}")
    rebalance = strategy.rebalance
    orders = plan_orders(
        targets.weights,
        positions,
        account,
        prices,
        fractional=rebalance.fractional_shares and broker.supports_fractional,
        no_trade_band_bps=rebalance.no_trade_band_bps,
        min_order_value=rebalance.min_order_value,
    )
    risk = check_orders(orders, account, positions, prices, strategy.risk, peak_equity=None)
    doc = order_plan_document(
        strategy=strategy.name,
        targets=targets,
        broker={"kind": broker_kind, "account": account.account_id},
        account=account,
        positions=positions,
        prices={s: prices[s] for s in wanted},
        orders=orders,
        risk=risk,
        git_commit=git_commit(path),
    )
    return DryRun(write_order_plan(doc, out), doc)


def _closes(store: Any, day: dt.date) -> dict[str, float]:
    """Every symbol's close on a date (the price orders are sized at)."""
    frame = store.prices(start=day, end=day, columns=("close",))
    return dict(zip(frame["symbol"].to_list(), frame["close"].to_list(), strict=True))


def _broker(kind: str, strategy: Any, prices: dict[str, float]) -> Any:
    """The broker adapter for a kind (mock and paper so far)."""
    from qtc.live.brokers.mock import MockBroker
    from qtc.live.brokers.paper import PaperBroker

    def source(symbols: list[str]) -> dict[str, float]:
        return {s: prices[s] for s in symbols if s in prices}

    cash = strategy.rebalance.initial_cash
    if kind == "mock":
        return MockBroker(cash=cash, prices=prices)
    if kind == "paper":
        account = getattr(strategy.broker, "account", "default")
        return PaperBroker(
            state_dir() / "paper" / f"{account}.json",
            prices=source,
            initial_cash=cash,
            commission_bps=strategy.costs.commission_bps,
            slippage_bps=strategy.costs.slippage_bps,
            account_id=account,
        )
    raise UserError(
        f"broker {kind!r} is not available yet (issue #7): use --broker paper or mock",
    )


def positions(broker_kind: str, account: str = "default") -> tuple[Any, list[Any]]:
    """Account and positions of a local broker account (paper), marked at its last fills.

    Raises:
        UserError: For a broker kind that is not available here, or a paper account that
            does not exist yet.
    """
    from qtc.live.brokers.paper import PaperBroker

    if broker_kind != "paper":
        raise UserError(
            f"`qtc positions` reads paper accounts so far, not {broker_kind!r} (issue #7)"
        )
    path = state_dir() / "paper" / f"{account}.json"
    if not path.is_file():
        raise UserError(
            f"no paper account {account!r} at {path}",
            hint="it is created by the first `qtc rebalance --broker paper` that trades",
        )
    broker = PaperBroker(path, prices=lambda symbols: {}, account_id=account)
    broker.connect()
    return broker.account(), broker.positions()
