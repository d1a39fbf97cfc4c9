"""Reading an account without trading: its holdings, and how far they are from the targets.

`holdings` is `qtc positions` (an account kept on disk must exist already: reading it must
not create it). `reconcile` is `qtc reconcile`: the live targets against the holdings at the
broker's prices (the lake's closes on the signal date where the broker quotes none), with
the account's equity recorded in its history (the drawdown check's peak). Neither sends an
order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtc.live.brokers.base import Account, Position

if TYPE_CHECKING:
    from qtc.live.rebalance import Signal


@dataclass
class Reconciled:
    """Targets against holdings (no orders).

    Attributes:
        document: JSON-ready: strategy, broker, signal date, account, turnover to the
            targets and the residual per symbol (`execute.residual_weights`).
    """

    document: dict[str, Any]


def holdings(
    kind: str,
    account: str | None,
    strategy_file: str | None,
    *,
    state: Path,
    environ: Mapping[str, str],
) -> tuple[Account, list[Position]]:
    """Account and positions at a broker (a paper account is marked at its last fills).

    Raises:
        UserError: An account kept on disk that does not exist yet, an invalid strategy
            file, or missing credentials.
    """
    from qtc.live.brokers.factory import connect_broker, require_saved_account
    from qtc.live.strategy_file import broker_section

    require_saved_account(kind, account, state)
    section = broker_section(strategy_file)
    broker = connect_broker(kind, section, account, prices={}, state=state, environ=environ)
    return broker.account(), broker.positions()


def reconcile(
    signal: Signal, broker_kind: str | None, *, state: Path, environ: Mapping[str, str]
) -> Reconciled:
    """Compare the signal's targets with the broker's holdings; record the equity."""
    from qtc.live.brokers.factory import broker_settings, build_broker
    from qtc.live.costs import Costs
    from qtc.live.execute import residual_weights
    from qtc.live.history import history_path, record_equity

    strategy, targets, closes = signal.strategy, signal.targets, signal.closes
    kind = broker_kind or strategy.broker.kind
    broker = build_broker(
        broker_settings(kind, strategy.broker),
        prices=closes,
        costs=Costs.of(strategy.costs),
        state=state,
        environ=environ,
        initial_cash=strategy.rebalance.initial_cash,
    )
    broker.connect()
    account, positions = broker.account(), broker.positions()
    held = sorted(set(targets.weights) | {p.symbol for p in positions})
    residual = residual_weights(closes | broker.quotes(held), targets.weights, account, positions)
    day = str(targets.signal_date)
    record_equity(history_path(state, kind, account.account_id), day, account.equity)
    doc = {
        "strategy": strategy.name,
        "broker": kind,
        "signal_date": day,
        "account": asdict(account),
        "turnover_to_targets": sum(abs(r["diff"]) for r in residual) / 2,
        "residual": residual,
    }
    return Reconciled(doc)
