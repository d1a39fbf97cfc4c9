"""Execute, apply and resume order plans: the checks around the executor.

Before anything is sent, in this order: the plan's risk status must not be FAIL; its sha256
must match its content; the broker account must be the plan's; positions must not have moved
since the plan was made (`--apply`); the rebalance window must not already have a run (unless
forced). Then the run is registered (`runs`), the equity observed (`history`), and the
executor runs with the audit log beside the order plan (`<plan>.audit.jsonl`, 0600).
"""

from __future__ import annotations

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
from qtc.live.orderplan import ORDER_PLAN_SCHEMA, plan_hash, positions_moved
from qtc.live.runs import RunRecord, claim, finish, read_run, run_path


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


def load_plan(path: Path) -> dict[str, Any]:
    """Read an order plan and check that it is one, and unmodified.

    Raises:
        UserError: The file is missing, not JSON, not an order plan, of an unknown schema
            version, or its content does not match its sha256.
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


def check_sendable(doc: Mapping[str, Any], broker: Broker) -> None:
    """Refuse a plan whose risk checks failed or whose account has moved since.

    Raises:
        QtcError: Risk FAIL, or positions/cash differ from the plan's snapshot.
    """
    if doc["risk"]["status"] == "FAIL":
        raise QtcError(
            "the order plan failed its risk checks; nothing was sent",
            hint="see the risk column and the failed checks in the order plan",
        )
    moved = positions_moved(dict(doc), broker.positions(), broker.account())
    if moved:
        raise QtcError(
            "positions have moved since the order plan was made ("
            + "; ".join(moved[:5])
            + ("; ..." if len(moved) > 5 else "")
            + "); nothing was sent",
            hint="make a new plan: `qtc rebalance FILE --broker B --dry-run`",
        )


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
    timing: Timing | None = None,
) -> Executed:
    """Check, register and execute a confirmed order plan on a connected broker.

    Raises:
        QtcError: A check refused the plan (nothing was sent), or the run stopped
            (`ExecutionInterrupted`: finish it with `--resume`).
    """
    check_sendable(doc, broker)
    record = run_record(doc, plan_path)
    registry = claim(state, record, force=force)
    return _run(doc, broker, record, registry, state=state, environ=environ, timing=timing)


def resume(
    plan_path: Path,
    *,
    state: Path,
    environ: Mapping[str, str],
    timing: Timing | None = None,
) -> Executed:
    """Finish an interrupted run of a plan from its audit log and the broker's state.

    Raises:
        QtcError: The plan has no unfinished run, or its audit log does not verify.
    """
    doc = load_plan(plan_path)
    record = run_record(doc, plan_path)
    registry = run_path(state, record)
    existing = read_run(registry)
    if existing is None or existing.plan_sha256 != doc["sha256"]:
        raise QtcError(
            f"no run of {plan_path} was started; nothing to resume",
            hint=f"execute it with `qtc rebalance --apply {plan_path}`",
        )
    if existing.status == "done":
        raise QtcError(f"the run of {plan_path} already finished; nothing to resume")
    broker = connect(doc, state=state, environ=environ)
    return _run(doc, broker, existing, registry, state=state, environ=environ, timing=timing)


def _run(
    doc: Mapping[str, Any],
    broker: Broker,
    record: RunRecord,
    registry: Path,
    *,
    state: Path,
    environ: Mapping[str, str],
    timing: Timing | None,
) -> Executed:
    log_path = Path(record.audit_log)
    known = _known_orders(log_path, doc["sha256"])
    history = history_path(state, record.broker, record.account)
    record_equity(history, doc["signal_date"], broker.account().equity)
    redact = secret_values(doc["broker"]["settings"], environ)
    run_id = uuid.uuid4().hex[:16]
    with audit.AuditLog(log_path, run_id=run_id, plan_hash=doc["sha256"], redact=redact) as log:
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
