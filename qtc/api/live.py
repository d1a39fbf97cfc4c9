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

from qtc.api.data import LakeRef
from qtc.api.strategy import compile_file
from qtc.errors import QtcError, UserError
from qtc.live.execute import Timing as Timing

STATE_ENV = "QTC_STATE_DIR"


@dataclass
class Planned:
    """A computed or loaded order plan, with the connected broker it was made against.

    `checked` is the plan re-checked against the account (set by `recheck`); what is shown
    and enforced before sending comes from it, not from the plan's stored risk column.
    """

    path: Path
    document: dict[str, Any]
    broker: Any
    checked: Any = None


def state_dir() -> Path:
    """Return the state folder: `$QTC_STATE_DIR` or the user data dir (accounts, runs)."""
    from platformdirs import user_data_dir

    return Path(os.environ.get(STATE_ENV) or user_data_dir("qtc"))


def plan_rebalance(
    path: str,
    *,
    broker_kind: str | None,
    lake: LakeRef,
    as_of: dt.date,
    today: dt.date,
    overrides: list[str] | None = None,
    out: Path = Path("orders"),
) -> Planned:
    """Compute targets, read the broker, plan and risk-check orders, write the signed plan.

    `broker_kind` None means the strategy's own `[broker]`; another kind starts from that
    kind's defaults, with the `broker.*` overrides applied to it. `as_of` is the date the plan
    is made for (the CLI's default is `today`); the signal is the lake's last trading day on
    or before it.
    """
    from qtc.live.brokers.factory import broker_settings, build_broker
    from qtc.live.history import history_path, peak_equity
    from qtc.live.orderplan import order_plan_document, write_order_plan
    from qtc.live.orders import plan_orders
    from qtc.live.risk import check_orders
    from qtc.live.runs import window_of
    from qtc.live.signing import signing_key
    from qtc.live.staleness import signal_age
    from qtc.outputs.artifacts import git_commit

    strategy, targets, closes = _targets(path, lake, overrides, as_of, broker_kind)
    costs = {
        "commission_bps": strategy.costs.commission_bps,
        "slippage_bps": strategy.costs.slippage_bps,
    }
    kind = strategy.broker.kind
    settings = broker_settings(kind, strategy.broker)
    state = state_dir()
    key = signing_key(state, os.environ)
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
    age = signal_age(
        kind, targets.signal_date, as_of, today, strategy.rebalance.max_signal_age_days
    )
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
        risk_limits=strategy.risk.model_dump(mode="json"),
        signal_age=age.to_dict(),
        key=key,
    )
    return Planned(write_order_plan(doc, out), doc, broker)


def cash_buffer_bps(commission_bps: float, slippage_bps: float) -> float:
    """Cash buys leave unspent: a buy at price p costs p (1 + slippage) (1 + commission).

    Plus 0.1 bp so that float rounding never makes the last buy exceed the cash.
    """
    return commission_bps + slippage_bps + commission_bps * slippage_bps / 10_000 + 0.1


def _targets(
    path: str,
    lake: LakeRef,
    overrides: list[str] | None,
    as_of: dt.date | None,
    broker_kind: str | None = None,
) -> tuple[Any, Any, dict[str, float]]:
    """The strategy, its live targets and the lake's closes on the signal date.

    The plan is compiled for the signal date (the lake's last day on or before `as_of`), so
    its fingerprint is the backtest's on the same lake.
    """
    from qtc.lake import Lake
    from qtc.live.targets import live_targets
    from qtc.pipeline.data import window_end

    store = Lake(lake.path)
    last = window_end(store)
    compile_as_of = last if as_of is None else min(as_of, last)
    settings = _broker_overrides(path, broker_kind, overrides)
    compiled = compile_file(path, overrides=settings, as_of=compile_as_of)
    strategy = compiled.loaded.strategy
    assert strategy is not None
    if broker_kind is not None and strategy.broker.kind != broker_kind:
        raise UserError(
            f"--broker {broker_kind} conflicts with --set broker.kind={strategy.broker.kind}",
            hint="give the broker once",
        )
    targets = live_targets(compiled.plan, store, as_of=as_of)
    return strategy, targets, _closes(store, targets.signal_date)


def _broker_overrides(path: str, broker_kind: str | None, overrides: list[str] | None) -> list[str]:
    """The `--set` list with `--broker KIND` applied first when it is not the file's broker.

    Another broker kind starts from its own defaults (`broker = {kind = "paper"}`), so the
    file's settings for its broker (an IBKR account, a port) never leak into another
    broker, while every `--set broker.*` still applies (or is rejected with a diagnostic).
    """
    from qtc.manifest.load import load_strategy

    if broker_kind is None:
        return list(overrides or [])
    strategy = load_strategy(path, overrides).strategy
    if strategy is not None and strategy.broker.kind == broker_kind:
        return list(overrides or [])
    return [f'broker={{kind = "{broker_kind}"}}', *(overrides or [])]


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
    """Refuse early (before asking for confirmation) when the window already ran or runs."""
    from qtc.live.runs import check_window as check
    from qtc.live.session import run_record

    check(state_dir(), run_record(planned.document, planned.path), force=force)


def recheck(planned: Planned, *, today: dt.date) -> Planned:
    """The plan re-checked against its broker account now (see `qtc.live.recheck`)."""
    from qtc.live.recheck import recheck as check

    checked = check(planned.document, planned.broker, state=state_dir(), today=today)
    planned.checked = checked
    return planned


def enforce(planned: Planned, *, today: dt.date, allow_stale: bool) -> None:
    """Refuse (before asking) a plan whose re-check fails: risk, staleness, date."""
    from qtc.live.recheck import enforce as refuse

    refuse(planned.document, planned.checked, today=today, allow_stale=allow_stale)


def execute(
    planned: Planned,
    *,
    force: bool,
    today: dt.date,
    allow_stale: bool = False,
    timing: Any = None,
) -> Any:
    """Execute a confirmed plan on its broker; it is re-checked first (`session.execute`)."""
    from qtc.live.session import execute as run

    return run(
        planned.document,
        planned.path,
        planned.broker,
        state=state_dir(),
        force=force,
        environ=os.environ,
        today=today,
        allow_stale=allow_stale,
        timing=timing,
    )


def load_plan(path: Path) -> Planned:
    """Read a saved order plan (hash and signature checked) and connect to its account."""
    from qtc.live.session import connect, load_plan
    from qtc.live.signing import signing_key

    state = state_dir()
    doc = load_plan(path, signing_key(state, os.environ))
    broker = connect(doc, state=state, environ=os.environ)
    return Planned(path, doc, broker)


def resume(
    plan: Path | None,
    strategy_file: str | None,
    *,
    today: dt.date,
    allow_stale: bool = False,
    timing: Any = None,
) -> Any:
    """Finish an interrupted run, named by its order plan or by its strategy file."""
    from qtc.live.session import resume as run
    from qtc.live.signing import signing_key

    state = state_dir()
    return run(
        plan or _unfinished_plan(strategy_file),
        state=state,
        environ=os.environ,
        key=signing_key(state, os.environ),
        today=today,
        allow_stale=allow_stale,
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
    from qtc.live.brokers.factory import paper_account_path, validated
    from qtc.manifest.broker import PaperBroker

    if broker_kind == "paper":
        name = validated(PaperBroker, {"kind": "paper", "account": account or "default"}).account
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
        "turnover_to_targets": sum(abs(r["diff"]) for r in residual) / 2,
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
        from qtc.api.data import find_lake

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
