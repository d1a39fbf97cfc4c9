"""Report data from run.json alone: events summary, the strategy as TOML, plan tree, provenance.

Split from `report_data` (which re-exports these names); no numerical work happens here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qtc.outputs.report_cache import ReportCache

MAX_EVENT_ROWS = 1000
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

#: Top-level order of a strategy file (run.json stores keys sorted).
STRATEGY_ORDER: tuple[str, ...] = (
    "schema",
    "name",
    "description",
    "extends",
    "data",
    "universe",
    "factors",
    "scoring",
    "selection",
    "sizing",
    "rebalance",
    "costs",
    "stops",
    "risk",
    "regime",
    "broker",
    "validate",
    "search",
)
VERSION_ORDER: tuple[str, ...] = ("qtc", "nanobook", "numpy", "python")


@dataclass(frozen=True)
class PlanNode:
    """One node of the plan tree."""

    label: str
    children: tuple[PlanNode, ...] = ()


def summarize_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Group run.json events: rebalances (summary), stops, risk events and others."""
    rebalances = [e for e in events if e.get("kind") == "rebalance"]
    stops = [e for e in events if e.get("kind") == "stop"]
    risk = [e for e in events if e.get("kind") in ("drawdown_exit", "data_ended")]
    known = {"rebalance", "stop", "drawdown_exit", "data_ended", "unpriced_targets"}
    other = [e for e in events if e.get("kind") not in known]
    unpriced = sorted(
        {str(s) for e in events if e.get("kind") == "unpriced_targets" for s in e["symbols"]}
    )
    reasons: dict[str, int] = {}
    for e in stops:
        reasons[str(e.get("reason", ""))] = reasons.get(str(e.get("reason", "")), 0) + 1
    names = [int(e.get("names", 0)) for e in rebalances]
    return {
        "rebalances": len(rebalances),
        "first_rebalance": rebalances[0]["date"] if rebalances else None,
        "last_rebalance": rebalances[-1]["date"] if rebalances else None,
        "avg_names": (sum(names) / len(names)) if names else None,
        "stops": stops[:MAX_EVENT_ROWS],
        "stop_count": len(stops),
        "stop_reasons": sorted(reasons.items()),
        "stop_symbols": len({e.get("symbol") for e in stops}),
        "risk": risk[:MAX_EVENT_ROWS],
        "risk_count": len(risk),
        "unpriced": unpriced,
        "other": [
            {
                "date": e.get("date", ""),
                "kind": e.get("kind", ""),
                "detail": ", ".join(f"{k}={e[k]}" for k in sorted(e) if k not in ("date", "kind")),
            }
            for e in other[:MAX_EVENT_ROWS]
        ],
        "max_rows": MAX_EVENT_ROWS,
    }


# ---------------------------------------------------------------------------- strategy, plan


def strategy_toml(resolved: dict[str, Any]) -> str:
    """The resolved strategy as TOML in a strategy file's order; unset (null) values omitted.

    Top-level values first, then one table per section (`[[factors]]` as an array of
    tables), in the order of `STRATEGY_ORDER` (run.json stores keys sorted).
    """
    import tomli_w

    data = _tomlable(resolved, top=True)
    keys = [k for k in STRATEGY_ORDER if k in data] + sorted(
        k for k in data if k not in STRATEGY_ORDER
    )
    scalars = {k: data[k] for k in keys if not _is_table(data[k])}
    parts = [
        "# The strategy as it was resolved for this run (defaults filled in, `extends` and\n"
        "# --set applied), from run.json. Unset (null) values are omitted.\n",
        tomli_w.dumps(scalars),
    ]
    for key in keys:
        value = data[key]
        if isinstance(value, list) and _is_table(value):
            parts += [f"\n[[{key}]]\n{tomli_w.dumps(item)}" for item in value]
        elif isinstance(value, dict):
            parts.append("\n" + tomli_w.dumps({key: value}))
    return "".join(parts)


def _is_table(value: Any) -> bool:
    """True for a table or a non-empty array of tables."""
    if isinstance(value, dict):
        return True
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _tomlable(value: Any, *, top: bool = False, section: str = "") -> Any:
    """Drop None values; turn ISO date strings of [data] back into TOML dates."""
    if isinstance(value, dict):
        return {
            k: _tomlable(v, section=k if top else section)
            for k, v in value.items()
            if v is not None
        }
    if isinstance(value, list):
        return [_tomlable(v, section=section) for v in value if v is not None]
    if section == "data" and isinstance(value, str) and _ISO_DATE.match(value):
        return dt.date.fromisoformat(value)
    return value


def cached_plan_tree(plan_doc: dict[str, Any], cache: ReportCache | None = None) -> PlanNode:
    """`plan_tree(plan_doc)`, through the report cache (the compiler's import is slow)."""
    if cache is None:
        return plan_tree(plan_doc)
    text = cache.text("plan_tree", plan_doc, lambda: json.dumps(_as_lists(plan_tree(plan_doc))))
    return _from_lists(json.loads(text or "[]"))


def _as_lists(node: PlanNode) -> list[Any]:
    """A plan tree as nested `[label, [children]]` lists (JSON)."""
    return [node.label, [_as_lists(c) for c in node.children]]


def _from_lists(data: list[Any]) -> PlanNode:
    """The inverse of `_as_lists`."""
    return PlanNode(str(data[0]), tuple(_from_lists(c) for c in data[1]))


def plan_tree(plan_doc: dict[str, Any]) -> PlanNode:
    """The plan as a tree (qtc.compile.explain, with what each stage requires/produces)."""
    from qtc.compile.explain import Node, explain
    from qtc.compile.plan import Plan

    plan = Plan.from_json(json.dumps(plan_doc))

    def convert(node: Node) -> PlanNode:
        return PlanNode(node.label, tuple(convert(c) for c in node.children))

    return convert(explain(plan, detail=True))


def provenance(run: dict[str, Any], meta: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    """Fingerprints, hashes, versions and where the strategy file came from."""
    return {
        "run_id": run.get("run_id"),
        "plan_fingerprint": run.get("plan_fingerprint"),
        "as_of": run.get("plan", {}).get("as_of"),
        "dataset_hashes": sorted(run.get("dataset_hashes", {}).items()),
        "versions": sorted(
            run.get("versions", {}).items(),
            key=lambda kv: (VERSION_ORDER.index(kv[0]) if kv[0] in VERSION_ORDER else 99, kv[0]),
        ),
        "files": [
            (name, digest, not any(p.startswith(name + " ") for p in problems))
            for name, digest in sorted(run.get("files", {}).items())
        ],
        "schema_version": run.get("schema_version"),
        "strategy_file": meta.get("strategy_file"),
        "git_commit": meta.get("git_commit"),
    }
