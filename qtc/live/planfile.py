"""Order-plan files: written atomically before anything is sent, verified before any use.

Reading checks, in this order, that the file is an order plan of the schema this qtc reads,
that its content matches its `sha256`, that its signature is this machine's key's, and only
then that every part is present and typed (a missing cost or order rule is an error naming
the key). The typed plan must dump to exactly the JSON that was hashed (its sha256 again).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from qtc.atomic import write_text_atomic
from qtc.errors import UserError
from qtc.live.orderplan import ARTIFACT, ORDER_PLAN_SCHEMA, OrderPlan, plan_hash
from qtc.live.signing import check_signature

NEW_PLAN = "make a new plan with `qtc rebalance FILE --broker B --dry-run`"


def plan_path(plan: OrderPlan, out: Path) -> Path:
    """Where a plan is written: `<out>/<strategy>/<signal date>-<sha12>.json`."""
    return out / plan.strategy / f"{plan.signal_date}-{plan.sha256[:12]}.json"


def write_order_plan(plan: OrderPlan, out: Path) -> Path:
    """Write the plan under `out` (atomic, mode 0600) and return its path (`plan_path`)."""
    path = plan_path(plan, out)
    write_text_atomic(path, plan.to_json(), mode=0o600)
    return path


def read_order_plan(path: Path, key: bytes) -> OrderPlan:
    """Read an order plan and check that it is one, unmodified, signed with `key` and whole.

    Raises:
        UserError: The file is missing, not JSON, not an order plan, of an unknown schema
            version, its content does not match its sha256, its signature is missing, from
            another key or does not match, or a part is missing or mistyped.
    """
    doc = _read_json(path)
    if not isinstance(doc, dict) or doc.get("artifact") != ARTIFACT:
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
            hint=NEW_PLAN,
        )
    check_signature(doc, key, path)
    return _typed(doc, path)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UserError(f"no order plan at {path}") from exc
    except (OSError, ValueError) as exc:
        raise UserError(f"{path} is not a readable order plan: {exc}") from exc


def _typed(doc: dict[str, Any], path: Path) -> OrderPlan:
    """The verified document as an `OrderPlan`, or an error naming each bad key."""
    try:
        plan = OrderPlan.model_validate(doc)
    except ValidationError as exc:
        bad = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise UserError(
            f"{path} is not a complete order plan ({bad}); nothing was sent", hint=NEW_PLAN
        ) from None
    if plan_hash(plan.document()) != plan.sha256:
        raise UserError(
            f"{path} does not read back as the plan its sha256 names (a value is not in "
            "the form qtc writes); nothing was sent",
            hint=NEW_PLAN,
        )
    return plan
