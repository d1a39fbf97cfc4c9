"""Execute, apply and resume order plans: the checks around the executor.

Before anything is sent, in this order: a saved plan's sha256 and signature must match its
content (`load_plan`); the broker account must be the plan's (`connect`); then, holding the
window's lock, the plan is re-checked against the account as it is now (`recheck`: positions
not moved, orders rebuilt from the targets and equal, risk checks re-run, signal not stale)
and the rebalance window must not already have a run (unless forced). Then the run is
registered (`runs`), the equity observed (`history`), and the executor runs with the audit
log beside the order plan (`<plan>.audit.jsonl`, 0600), whose first record of the run states
what was checked.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qtc.errors import QtcError, UserError
from qtc.live import audit
from qtc.live.brokers.base import Broker
from qtc.live.brokers.factory import build_broker, secret_values
from qtc.live.execute import ExecutionReport, Executor, Timing
from qtc.live.history import history_path, record_equity
from qtc.live.orderplan import ORDER_PLAN_SCHEMA, plan_hash
from qtc.live.recheck import Recheck, enforce, recheck
from qtc.live.runs import RunRecord, claim, finish, read_run, run_path, window_lock
from qtc.live.signing import check_signature
from qtc.live.staleness import check_fresh, signal_age


@dataclass
class Executed:
    """A finished (or stopped) execution.

    Attributes:
        report: What the executor did.
        audit_log: The audit log's path.
        run: The run record (status `done` once every order reached a final state).
    """

    report: ExecutionReport
    audit_log: Path
    run: RunRecord


def audit_path(plan_path: Path) -> Path:
    """The audit log of an order plan: beside it, `<plan>.audit.jsonl`."""
    return plan_path.with_name(plan_path.stem + ".audit.jsonl")


def load_plan(path: Path, key: bytes) -> dict[str, Any]:
    """Read an order plan and check that it is one, unmodified, and signed with `key`.

    Raises:
        UserError: The file is missing, not JSON, not an order plan, of an unknown schema
            version, its content does not match its sha256, or its signature is missing,
            from another key or does not match.
    """
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UserError(f"no order plan at {path}") from exc
    except (OSError, ValueError) as exc:
        raise UserError(f"{path} is not a readable order plan: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("artifact") != "qtc.order_plan":
        raise UserError(f"{path} is not a qtc order plan (no artifact = qtc.order_plan)")
    if doc.get("schema_version") != ORDER_PLAN_SCHEMA:
        raise UserError(
            f"{path} has order-plan schema {doc.get('schema_version')!r}; "
            f"this qtc reads {ORDER_PLAN_SCHEMA}",
            hint="make a new plan with this version of qtc",
        )
    if doc.get("sha256") != plan_hash(doc):
        raise UserError(
            f"{path} was modified after it was written (its sha256 does not match); "
            "nothing was sent",
            hint="make a new plan with `qtc rebalance FILE --broker B --dry-run`",
        )
    check_signature(doc, key, path)
    return doc


def connect(doc: Mapping[str, Any], *, state: Path, environ: Mapping[str, str]) -> Broker:
    """Build and connect the plan's broker and check that it is the plan's account.

    Raises:
        UserError: The broker reports another account than the plan's.
    """
    costs = doc.get("costs", {})
    broker = build_broker(
        doc["broker"]["settings"],
        prices=doc["prices"],
        commission_bps=float(costs.get("commission_bps", 0.0)),
        slippage_bps=float(costs.get("slippage_bps", 0.0)),
        state=state,
        environ=environ,
        initial_cash=float(doc["account"]["cash"]),
    )
    broker.connect()
    account = broker.account().account_id
    if account != doc["account"]["account_id"]:
        raise UserError(
            f"the broker account is {account!r} but the order plan was made for "
            f"{doc['account']['account_id']!r}; nothing was sent"
        )
    return broker


def run_record(doc: Mapping[str, Any], plan_path: Path) -> RunRecord:
    """The run-registry record of executing this plan."""
    return RunRecord(
        strategy=doc["strategy"],
        window=doc["window"],
        broker=doc["broker"]["kind"],
        account=doc["account"]["account_id"],
        order_plan=str(plan_path.resolve()),
        plan_sha256=doc["sha256"],
        audit_log=str(audit_path(plan_path).resolve()),
    )


def execute(
    doc: Mapping[str, Any],
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
    record = run_record(doc, plan_path)
    with window_lock(state, record):
        checked = recheck(doc, broker, state=state, today=today)
        enforce(doc, checked, today=today, allow_stale=allow_stale)
        registry = claim(state, record, force=force)
        return _run(
            doc, broker, record, registry, state=state, environ=environ, timing=timing,
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
    doc = load_plan(plan_path, key)
    record = run_record(doc, plan_path)
    with window_lock(state, record):
        return _resume(doc, plan_path, record, state, environ, today, allow_stale, timing)


def _resume(
    doc: dict[str, Any],
    plan_path: Path,
    record: RunRecord,
    state: Path,
    environ: Mapping[str, str],
    today: dt.date,
    allow_stale: bool,
    timing: Timing | None,
) -> Executed:
    registry = run_path(state, record)
    existing = read_run(registry)
    if existing is None or existing.plan_sha256 != doc["sha256"]:
        raise QtcError(
            f"no run of {plan_path} was started; nothing to resume",
            hint=f"execute it with `qtc rebalance --apply {plan_path}`",
        )
    if existing.status == "done":
        raise QtcError(f"the run of {plan_path} already finished; nothing to resume")
    kind, as_of = doc["broker"]["kind"], dt.date.fromisoformat(doc["as_of"])
    signal = dt.date.fromisoformat(doc["signal_date"])
    age = signal_age(kind, signal, as_of, today, int(doc["signal_age"]["max_days"]))
    check_fresh(age, allow_stale=allow_stale)
    broker = connect(doc, state=state, environ=environ)
    checked = {"signature": "ok", "signal_age": age.to_dict(), "allow_stale": allow_stale}
    return _run(
        doc, broker, existing, registry, state=state, environ=environ, timing=timing,
        checked=checked,
    )  # fmt: skip


def _run(
    doc: Mapping[str, Any],
    broker: Broker,
    record: RunRecord,
    registry: Path,
    *,
    state: Path,
    environ: Mapping[str, str],
    timing: Timing | None,
    checked: dict[str, Any],
) -> Executed:
    log_path = Path(record.audit_log)
    known = _known_orders(log_path, doc["sha256"])
    history = history_path(state, record.broker, record.account)
    record_equity(history, doc["signal_date"], broker.account().equity)
    redact = secret_values(doc["broker"]["settings"], environ)
    run_id = uuid.uuid4().hex[:16]
    with audit.AuditLog(log_path, run_id=run_id, plan_hash=doc["sha256"], redact=redact) as log:
        log.append("run.checks", checked)
        report = Executor(broker, log, doc, timing=timing, known=known).run()
    record_equity(history, doc["signal_date"], report.account.equity)
    if report.complete:
        record = finish(registry, record)
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
