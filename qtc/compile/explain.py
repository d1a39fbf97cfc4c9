"""Explain a Plan as a tree of labelled nodes (rendered by the CLI console).

The same stage list that runs is what is explained: one node per stage with
its settings, and with `detail=True` what each stage requires and produces, as
the stage spec itself states it (`StageSpec.requires`/`produces`; the runner
dispatches on the same classes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qtc.compile.plan import Plan
from qtc.manifest.paths import toml_value


@dataclass
class Node:
    """One line of the explain tree and its children."""

    label: str
    children: list[Node] = field(default_factory=list)


def explain(plan: Plan, *, detail: bool = False) -> Node:
    """Build the explain tree of a plan."""
    root = Node(f"plan {plan.strategy_name}  {plan.short_fingerprint}  as of {plan.as_of}")
    for i, spec in enumerate(plan.stages, start=1):
        doc = (type(spec).__doc__ or "").strip().splitlines()[0]
        node = Node(f"{i}. {spec.stage}: {doc}")
        if detail:
            node.children.append(Node(f"requires: {spec.requires}"))
            node.children.append(Node(f"produces: {spec.produces}"))
        data = spec.model_dump(mode="json", exclude={"stage"})
        node.children += _settings(data)
        root.children.append(node)
    return root


def _settings(data: dict[str, Any], prefix: str = "") -> list[Node]:
    """Flatten a stage's settings into `key = value` nodes (factors as sub-trees)."""
    out: list[Node] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out += _settings(value, f"{name}.")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                label = item.get("name") or item.get("kind") or name
                child = Node(f"{name}.{label}")
                child.children = _settings({k: v for k, v in item.items() if k != "name"})
                out.append(child)
        else:
            out.append(Node(f"{name} = {toml_value(value) if value is not None else 'unset'}"))
    return out
