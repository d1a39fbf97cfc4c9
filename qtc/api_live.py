"""The live part of the library facade: `qtc rebalance`, `positions`, `reconcile`, `kill`.

Targets come from the same Plan and pipeline stages as the backtest; positions, cash and prices
from the broker (the simulated `paper` and `mock` brokers price at the lake's closes on the
signal date). The checks around sending
(risk, hash, positions moved, one run per window) live in `qtc.live.session`.
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
class Planned:
    """A computed order plan, written, with the connected broker it was made against."""

    path: Path
    document: dict[str, Any]
    broker: Any


def state_dir() -> Path:
    """Return the state folder: `$QTC_STATE_DIR` or the user data dir (accounts, runs)."""
    from platformdirs import user_data_dir

    return Path(os.environ.get(STATE_ENV) or user_data_dir("qtc"))


def plan_rebalance(
    path: str,
    *,
    broker_kind: str | None,
    lake: LakeRef,
    overrides: list[str] | None = None,
    as_of: dt.date | None = None,
    out: Path = Path("orders"),
) -> Planned:
    """Compute targets, read the broker, plan and risk-check orders, write the order plan.

    `broker_kind` None means the strategy's own `[broker]`.
    """
    from qtc.live.brokers.factory import broker_settings, build_broker
    from qtc.live.history import history_path, peak_equity
    from qtc.live.orderplan import order_plan_document, write_order_plan
    from qtc.live.orders import plan_orders
    from qtc.live.risk import check_orders
    from qtc.live.runs import window_of
    from qtc.outputs.artifacts import git_commit

    strategy, targets, closes = _targets(path, lake, overrides, as_of)
    costs = {
        "commission_bps": strategy.costs.commission_bps,
        "slippage_bps": strategy.costs.slippage_bps,
    }
    kind = broker_kind or strategy.broker.kind
    settings = broker_settings(kind, strategy.broker)
    state = state_dir()
    broker = build_broker(
        settings,
        prices=closes,
        state=state,
        environ=os.environ,
        initial_cash=strategy.rebalance.initial_cash,
        **costs,
    )
    broker.connect()
    account, positions = broker.account(), broker.positions()
    wanted = sorted(set(targets.weights) | {p.symbol for p in positions})
    prices = _broker_prices(broker, wanted, kind, targets.signal_date)
    rules = {
        "fractional": strategy.rebalance.fractional_shares and broker.supports_fractional,
        "no_trade_band_bps": strategy.rebalance.no_trade_band_bps,
        "min_order_value": strategy.rebalance.min_order_value,
        "cash_buffer_bps": cash_buffer_bps(**costs),
    }
    orders = plan_orders(targets.weights, positions, account, prices, **rules)
    peak = peak_equity(history_path(state, kind, account.account_id))
    risk = check_orders(orders, account, positions, prices, strategy.risk, peak_equity=peak)
    doc = order_plan_document(
        strategy=strategy.name,
        targets=targets,
        broker={"kind": kind, "account": account.account_id, "settings": settings},
        account=account,
        positions=positions,
        prices=prices,
        orders=orders,
        risk=risk,
        git_commit=git_commit(path),
        window=window_of(strategy.rebalance.frequency, targets.signal_date),
        order_rules=rules,
        costs=costs,
        peak_equity=peak,
    )
    return Planned(write_order_plan(doc, out), doc, broker)


def cash_buffer_bps(commission_bps: float, slippage_bps: float) -> float:
    """Cash buys leave unspent: a buy at price p costs p (1 + slippage) (1 + commission).

    Plus 0.1 bp so that float rounding never makes the last buy exceed the cash.
    """
    return commission_bps + slippage_bps + commission_bps * slippage_bps / 10_000 + 0.1


def _targets(
    path: str, lake: LakeRef, overrides: list[str] | None, as_of: dt.date | None
) -> tuple[Any, Any, dict[str, float]]:
    """The strategy, its live targets and the lake's closes on the signal date."""
    from qtc.lake import Lake
    from qtc.live.targets import live_targets
    from qtc.pipeline.data import window_end

    store = Lake(lake.path)
    compiled = compile_file(path, overrides=overrides, as_of=as_of or window_end(store))
    strategy = compiled.loaded.strategy
    assert strategy is not None
    targets = live_targets(compiled.plan, store, as_of=as_of)
    return strategy, targets, _closes(store, targets.signal_date)


def _broker_prices(
    broker: Any, symbols: list[str], kind: str, signal_date: dt.date
) -> dict[str, float]:
    """The broker's price of every symbol orders may be sized at, or an error naming the missing."""
    prices: dict[str, float] = broker.quotes(symbols)
    missing = [s for s in symbols if s not in prices]
    if missing:
        where = f"the lake has no close on {signal_date}" if kind in ("paper", "mock") else ""
        raise QtcError(
            f"the {kind} broker has no price for: {', '.join(missing)}"
            + (f" ({where})" if where else ""),
            hint="without a price qtc cannot size orders; nothing was sent",
        )
    return {s: prices[s] for s in symbols}


def _closes(store: Any, day: dt.date) -> dict[str, float]:
    """Every symbol's close on a date (the price orders are sized at)."""
    frame = store.prices(start=day, end=day, columns=("close",))
    return dict(zip(frame["symbol"].to_list(), frame["close"].to_list(), strict=True))


def _last_closes(store: Any) -> dict[str, float]:
    """Every symbol's latest close in the lake (what a paper account sells at)."""
    frame = store.prices(columns=("close",)).drop_nulls("close")
    last = frame.sort("date").group_by("symbol").last()
    return dict(zip(last["symbol"].to_list(), last["close"].to_list(), strict=True))


def check_window(planned: Planned, *, force: bool) -> None:
    """Refuse early (before asking for confirmation) when the window already ran."""
    from qtc.live.runs import check_window as check
    from qtc.live.session import run_record

    check(state_dir(), run_record(planned.document, planned.path), force=force)


def execute(planned: Planned, *, force: bool, timing: Any = None) -> Any:
    """Execute a confirmed plan on the broker it was made against (see `session.execute`)."""
    from qtc.live.session import execute as run

    return run(
        planned.document,
        planned.path,
        planned.broker,
        state=state_dir(),
        force=force,
        environ=os.environ,
        timing=timing,
    )


def load_plan(path: Path) -> Planned:
    """Read a saved order plan (hash checked) and connect to its broker account."""
    from qtc.live.session import connect, load_plan

    doc = load_plan(path)
    broker = connect(doc, state=state_dir(), environ=os.environ)
    return Planned(path, doc, broker)


def resume(plan: Path | None, strategy_file: str | None, *, timing: Any = None) -> Any:
    """Finish an interrupted run, named by its order plan or by its strategy file."""
    from qtc.live.session import resume as run

    return run(
        plan or _unfinished_plan(strategy_file),
        state=state_dir(),
        environ=os.environ,
        timing=timing,
    )


def _unfinished_plan(strategy_file: str | None) -> Path:
    """The order plan of the strategy's one unfinished run."""
    from qtc.live.runs import unfinished

    if strategy_file is None:
        raise UserError(
            "--resume needs the strategy file or --apply ORDER_PLAN",
            hint="e.g. `qtc rebalance strategies/x.toml --resume`",
        )
    from qtc.manifest.load import load_strategy

    loaded = load_strategy(strategy_file, None)
    strategy = loaded.strategy
    if strategy is None:
        raise UserError(f"{strategy_file} is not a valid strategy; run `qtc check` on it")
    runs = unfinished(state_dir(), strategy.name)
    if not runs:
        raise QtcError(f"{strategy.name} has no unfinished run; nothing to resume")
    if len(runs) > 1:
        listed = ", ".join(r.order_plan for r in runs)
        raise UserError(
            f"{strategy.name} has {len(runs)} unfinished runs: {listed}",
            hint="name one: `qtc rebalance --apply ORDER_PLAN --resume`",
        )
    return Path(runs[0].order_plan)


def positions(
    broker_kind: str, account: str | None = None, strategy_file: str | None = None
) -> tuple[Any, list[Any]]:
    """Account and positions at a broker (a paper account is marked at its last fills).

    Raises:
        UserError: A paper account that does not exist yet, or missing credentials.
    """
    from qtc.live.brokers.factory import paper_account_path

    if broker_kind == "paper":
        name = account or "default"
        path = paper_account_path(state_dir(), name)
        if not path.is_file():
            raise UserError(
                f"no paper account {name!r} at {path}",
                hint="it is created by the first `qtc rebalance --broker paper`",
            )
    broker = connect_broker(broker_kind, strategy_file, account, prices={})
    return broker.account(), broker.positions()


@dataclass
class Reconciled:
    """Targets against holdings (no orders)."""

    document: dict[str, Any]


def reconcile(
    path: str,
    *,
    broker_kind: str | None,
    lake: LakeRef,
    overrides: list[str] | None = None,
    as_of: dt.date | None = None,
) -> Reconciled:
    """Compare today's targets with the broker's holdings; record the equity; send nothing."""
    from dataclasses import asdict

    from qtc.live.brokers.factory import broker_settings, build_broker
    from qtc.live.execute import residual_weights
    from qtc.live.history import history_path, record_equity

    strategy, targets, prices = _targets(path, lake, overrides, as_of)
    kind = broker_kind or strategy.broker.kind
    state = state_dir()
    broker = build_broker(
        broker_settings(kind, strategy.broker),
        prices=prices,
        commission_bps=strategy.costs.commission_bps,
        slippage_bps=strategy.costs.slippage_bps,
        state=state,
        environ=os.environ,
        initial_cash=strategy.rebalance.initial_cash,
    )
    broker.connect()
    account, positions = broker.account(), broker.positions()
    held = sorted(set(targets.weights) | {p.symbol for p in positions})
    plan = {"prices": prices | broker.quotes(held), "targets": targets.weights}
    residual = residual_weights(plan, account, positions)
    record_equity(
        history_path(state, kind, account.account_id), str(targets.signal_date), account.equity
    )
    doc = {
        "strategy": strategy.name,
        "broker": kind,
        "signal_date": str(targets.signal_date),
        "account": asdict(account),
        "tracking_error": sum(abs(r["diff"]) for r in residual) / 2,
        "residual": residual,
    }
    return Reconciled(doc)


@dataclass
class Killed:
    """What `qtc kill` did."""

    canceled: list[Any]
    flattened: Any
    audit_log: Path
    positions: list[Any]


def kill_broker(
    broker_kind: str, strategy_file: str | None, account: str | None, lake: str | None = None
) -> Any:
    """The connected broker `qtc kill` acts on (settings from the strategy file if given).

    Paper and mock accounts sell at each symbol's latest close in the lake.
    """
    from qtc.lake import Lake

    prices: dict[str, float] = {}
    if broker_kind in ("paper", "mock"):
        from qtc.api_data import find_lake

        prices = _last_closes(Lake(find_lake(lake).path))
    return connect_broker(broker_kind, strategy_file, account, prices=prices)


def connect_broker(
    broker_kind: str,
    strategy_file: str | None,
    account: str | None,
    *,
    prices: dict[str, float],
) -> Any:
    """A connected broker of a kind, with the strategy file's `[broker]` settings if given."""
    from qtc.live.brokers.factory import broker_settings, build_broker
    from qtc.manifest.load import load_strategy

    section = None
    if strategy_file is not None:
        strategy = load_strategy(strategy_file, None).strategy
        if strategy is None:
            raise UserError(f"{strategy_file} is not a valid strategy; run `qtc check` on it")
        section = strategy.broker
    settings = broker_settings(broker_kind, section)
    if account is not None and "account" in settings:
        settings["account"] = account
    broker = build_broker(
        settings, prices=prices, commission_bps=0.0, slippage_bps=0.0, state=state_dir(),
        environ=os.environ,
    )  # fmt: skip
    broker.connect()
    return broker


def kill(broker: Any, *, flatten: bool, timing: Any = None) -> Killed:
    """Cancel every open order (logged first); with `flatten`, sell every position."""
    from qtc.live.control import cancel_everything, flatten_positions

    log_path = state_dir() / "audit" / f"kill-{broker.name}-{broker.account().account_id}.jsonl"
    canceled = cancel_everything(broker, log_path)
    sold = flatten_positions(broker, log_path, timing=timing) if flatten else None
    return Killed(canceled, sold, log_path, broker.positions())
