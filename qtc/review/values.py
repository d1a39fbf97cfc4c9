"""Layer (a): the resolved strategy, key by key, and the keys whose value changed.

A side's values are `{key path: (TOML text, origin)}`: every final value of the strategy
(defaults included) and where it came from (`file:line`, the parent's `file:line`,
`--set ...`, `default`, or the run it was read from).
"""

from __future__ import annotations

from typing import Any

from qtc.manifest.paths import format_path, toml_value
from qtc.manifest.strategy import Strategy
from qtc.manifest.variants import leaf_paths, user_tree
from qtc.review.model import ValueChange

Values = dict[str, tuple[str, str]]
ABSENT = "(absent)"


def values_of_run(resolved: dict[str, Any], origin: str) -> Values:
    """The values of a run's resolved strategy (run.json `strategy`), all from `origin`.

    Raises:
        ValueError: If the resolved strategy does not validate with this qtc.
    """
    tree = user_tree(Strategy.model_validate(resolved))
    out: Values = {}
    for path in leaf_paths(tree):
        node: Any = tree
        for part in path:
            node = node[part]
        out[format_path(path)] = (toml_value(node), origin)
    return out


def compare_values(a: Values, b: Values) -> list[ValueChange]:
    """The keys whose value differs (or exists on one side only), in B's key order."""
    keys = [*b, *(k for k in a if k not in b)]
    out: list[ValueChange] = []
    for key in keys:
        old, new = a.get(key), b.get(key)
        if old is not None and new is not None and old[0] == new[0]:
            continue
        out.append(
            ValueChange(
                key=key,
                old=None if old is None else old[0],
                new=None if new is None else new[0],
                old_from=ABSENT if old is None else old[1],
                new_from=ABSENT if new is None else new[1],
            )
        )
    return out
