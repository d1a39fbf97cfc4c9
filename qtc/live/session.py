"""Execute, apply and resume order plans: the checks around the executor.

Before anything is sent, in this order: a saved plan's sha256 and signature must match its
content (`planfile.read_order_plan`); the broker account must be the plan's (`connect`);
then, holding the window's lock, the plan is re-checked against the account as it is now
(`recheck`: positions not moved, orders rebuilt from the targets and equal, risk checks
re-run, signal not stale) and the rebalance window must not already have a run (unless
forced). Then the run is registered (`windows`), the equity observed (`history`), and the
executor runs with the audit log beside the order plan (`<plan>.audit.jsonl`, 0600), whose
first record of the run states what was checked.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qtc.errors import QtcError, UserError
from qtc.live import audit
from qtc.live.brokers.base import Broker
from qtc.live.brokers.factory import build_broker, secret_values
from qtc.live.execute import ExecutionPlan, ExecutionReport, Executor, Timing
from qtc.live.history import history_path, record_equity
from qtc.live.orderplan import OrderPlan
from qtc.live.planfile import read_order_plan
from qtc.live.recheck import Recheck, enforce, recheck
from qtc.live.staleness import check_fresh, signal_age
from qtc.live.windows import WindowRecord, WindowRegistry, finish, read_record


@dataclass
class Executed:
    """A finished (or stopped) execution.

    Attributes:
        report: What the executor did.
        audit_log: The audit log's path.
        run: The run's window record (status `done` once every order reached a final state).
    """

    report: ExecutionReport
    audit_log: Path
    run: WindowRecord


def audit_path(plan_path: Path) -> Path:
    """The audit log of an order plan: beside it, `<plan>.audit.jsonl`."""
    return plan_path.with_name(plan_path.stem + ".audit.jsonl")


def connect(plan: OrderPlan, *, state: Path, environ: Mapping[str, str]) -> Broker:
    """Build and connect the plan's broker and check that it is the plan's account.

    A broker priced at the lake's closes fills at the plan's prices, with the plan's costs.

    Raises:
        UserError: The broker reports another account than the plan's.
    """
    broker = build_broker(
        plan.broker.settings,
        prices=plan.prices,
        costs=plan.costs,
        state=state,
        environ=environ,
        initial_cash=float(plan.account.cash),
    )
    broker.connect()
    account = broker.account().account_id
    if account != plan.account.account_id:
        raise UserError(
            f"the broker account is {account!r} but the order plan was made for "
            f"{plan.account.account_id!r}; nothing was sent"
        )
    return broker


def window_record(plan: OrderPlan, plan_path: Path) -> WindowRecord:
    """The window-registry record of executing this plan."""
    return WindowRecord(
        strategy=plan.strategy,
        window=plan.window,
        broker=plan.broker.kind,
        account=plan.account.account_id,
        order_plan=str(plan_path.resolve()),
        plan_sha256=plan.sha256,
        audit_log=str(audit_path(plan_path).resolve()),
    )


def check_window(plan: OrderPlan, plan_path: Path, *, state: Path, force: bool) -> None:
    """Refuse early (before asking for confirmation) when the plan's window ran or runs.

    Raises:
        QtcError: The window has a run (unless `force`) or one is executing now.
    """
    WindowRegistry(state).check(window_record(plan, plan_path), force=force)


def execute(
    plan: OrderPlan,
    plan_path: Path,
    broker: Broker,
    *,
    state: Path,
    force: bool,
    environ: Mapping[str, str],
    today: dt.date,
    allow_stale: bool = False,
    timing: Timing | None = None,
) -> Executed:
    """Re-check, register and execute a confirmed order plan on a connected broker.

    Raises:
        QtcError: A check refused the plan (nothing was sent), or the run stopped
            (`ExecutionInterrupted`: finish it with `--resume`).
    """
    record = window_record(plan, plan_path)
    registry = WindowRegistry(state)
    with registry.lock(record):
        checked = recheck(plan, broker, state=state, today=today)
        enforce(plan, checked, today=today, allow_stale=allow_stale)
        path = registry.claim(record, force=force)
        return _run(
            plan, broker, record, path, state=state, environ=environ, timing=timing,
            checked=_checked(checked, allow_stale),
        )  # fmt: skip


def _checked(checked: Recheck, allow_stale: bool) -> dict[str, Any]:
    """What was checked right before sending (the audit log's `run.checks` record)."""
    return {
        "signature": "ok",
        "orders_rebuilt": "equal",
        "risk": checked.risk.status,
        "signal_age": checked.age.to_dict(),
        "allow_stale": allow_stale,
    }


def resume(
    plan_path: Path,
    *,
    state: Path,
    environ: Mapping[str, str],
    key: bytes,
    today: dt.date,
    allow_stale: bool = False,
    timing: Timing | None = None,
) -> Executed:
    """Finish an interrupted run of a plan from its audit log and the broker's state.

    The plan's signature and the signal's age are checked again (positions have moved by
    design: part of the plan was executed).

    Raises:
        QtcError: The plan has no unfinished run, its audit log does not verify, another
            process is executing it, or its signal has gone stale.
    """
    plan = read_order_plan(plan_path, key)
    record = window_record(plan, plan_path)
    with WindowRegistry(state).lock(record):
        return _resume(plan, plan_path, record, state, environ, today, allow_stale, timing)


def plan_to_resume(state: Path, strategy_file: str | None) -> Path:
    """The order plan of a strategy file's one unfinished run.

    Raises:
        UserError: No strategy file, an invalid one, or several unfinished runs.
        QtcError: No unfinished run.
    """
    from qtc.live.strategy_file import valid_strategy

    if strategy_file is None:
        raise UserError(
            "--resume needs the strategy file or --apply ORDER_PLAN",
            hint="e.g. `qtc rebalance strategies/x.toml --resume`",
        )
    return WindowRegistry(state).unfinished_plan(valid_strategy(strategy_file).name)


def _resume(
    plan: OrderPlan,
    plan_path: Path,
    record: WindowRecord,
    state: Path,
    environ: Mapping[str, str],
    today: dt.date,
    allow_stale: bool,
    timing: Timing | None,
) -> Executed:
    path = WindowRegistry(state).path(record)
    existing = read_record(path)
    if existing is None or existing.plan_sha256 != plan.sha256:
        raise QtcError(
            f"no run of {plan_path} was started; nothing to resume",
            hint=f"execute it with `qtc rebalance --apply {plan_path}`",
        )
    if existing.status == "done":
        raise QtcError(f"the run of {plan_path} already finished; nothing to resume")
    kind, max_days = plan.broker.kind, plan.signal_age.max_days
    age = signal_age(kind, plan.signal_date, plan.as_of, today, max_days)
    check_fresh(age, allow_stale=allow_stale)
    broker = connect(plan, state=state, environ=environ)
    checked = {"signature": "ok", "signal_age": age.to_dict(), "allow_stale": allow_stale}
    return _run(
        plan, broker, existing, path, state=state, environ=environ, timing=timing,
        checked=checked,
    )  # fmt: skip


def _run(
    plan: OrderPlan,
    broker: Broker,
    record: WindowRecord,
    record_path: Path,
    *,
    state: Path,
    environ: Mapping[str, str],
    timing: Timing | None,
    checked: dict[str, Any],
) -> Executed:
    log_path = Path(record.audit_log)
    known = _known_orders(log_path, plan.sha256)
    history = history_path(state, record.broker, record.account)
    day = str(plan.signal_date)
    record_equity(history, day, broker.account().equity)
    redact = secret_values(plan.broker.settings, environ)
    run_id = uuid.uuid4().hex[:16]
    with audit.AuditLog(log_path, run_id=run_id, plan_hash=plan.sha256, redact=redact) as log:
        log.append("run.checks", checked)
        report = Executor(broker, log, ExecutionPlan.of(plan), timing=timing, known=known).run()
    record_equity(history, day, report.account.equity)
    if report.complete:
        record = finish(record_path, record)
    return Executed(report, log_path, record)


def _known_orders(log_path: Path, sha256: str) -> dict[str, audit.OrderState]:
    """The orders a previous run of this plan logged (empty for a first run)."""
    if not log_path.exists():
        return {}
    checked = audit.verify(log_path)
    if not checked.ok:
        raise QtcError(
            f"the audit log {log_path} does not verify; nothing was sent",
            hint=f"run `qtc audit verify {log_path}` to see the problems",
        )
    return audit.replay(r for r in audit.read_log(log_path) if r["plan_hash"] == sha256)
