"""Layer (b): the compiled plans, stage by stage, and the parameters that differ.

Each stage spec (plan JSON) is flattened to `key path -> value`: tables are recursed,
a list of tables with a `name` (the factors) is keyed by name, other lists are values.
"""

from __future__ import annotations

import json
from typing import Any

from qtc.review.model import PlanChange, PlanDiff


def compare_plans(a: dict[str, Any], b: dict[str, Any]) -> PlanDiff:
    """Compare two plans given as their JSON documents (`stages`, `fingerprint`)."""
    stages_a = {s["stage"]: s for s in a.get("stages", [])}
    stages_b = {s["stage"]: s for s in b.get("stages", [])}
    order = [*stages_b, *(s for s in stages_a if s not in stages_b)]
    changes: list[PlanChange] = []
    for stage in order:
        if stage not in stages_a or stage not in stages_b:
            changes.append(
                PlanChange(stage, "", _present(stages_a, stage), _present(stages_b, stage))
            )
            continue
        changes += _stage_changes(stage, stages_a[stage], stages_b[stage])
    return PlanDiff(str(a.get("fingerprint", "")), str(b.get("fingerprint", "")), changes)


def _present(stages: dict[str, Any], stage: str) -> str | None:
    """`present` when a stage exists on a side, else None."""
    return "present" if stage in stages else None


def _stage_changes(stage: str, a: dict[str, Any], b: dict[str, Any]) -> list[PlanChange]:
    """The parameters of one stage that differ."""
    flat_a, flat_b = flatten(a), flatten(b)
    keys = [*flat_b, *(k for k in flat_a if k not in flat_b)]
    return [
        PlanChange(stage, key, _text(flat_a.get(key, _MISSING)), _text(flat_b.get(key, _MISSING)))
        for key in keys
        if key != "stage" and flat_a.get(key, _MISSING) != flat_b.get(key, _MISSING)
    ]


_MISSING = object()


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """`{dotted key: value}` of a JSON tree (named tables in lists keyed by name)."""
    if isinstance(node, dict) and node:
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if _named_tables(node):
        out = {}
        for item in node:
            out.update(flatten(item, f"{prefix}.{item['name']}" if prefix else item["name"]))
        return out
    return {prefix: node}


def _named_tables(node: Any) -> bool:
    """A non-empty list of tables that each have a distinct string `name`."""
    if not isinstance(node, list) or not node:
        return False
    names = [item.get("name") for item in node if isinstance(item, dict)]
    return (
        len(names) == len(node)
        and all(isinstance(n, str) for n in names)
        and len(set(names)) == len(names)
    )


def _text(value: Any) -> str | None:
    """A value as compact JSON (None when absent)."""
    return None if value is _MISSING else json.dumps(value, sort_keys=True)
