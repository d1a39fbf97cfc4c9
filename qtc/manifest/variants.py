"""Variants of a validated strategy: set values by key path and re-validate.

Used by `compile_strategy(..., overrides=...)`, by the `[search]` checks, and
by sweep/evolve to build one strategy per candidate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from qtc.errors import Diagnostic, Location
from qtc.manifest.diagnostics import Mapper
from qtc.manifest.document import Origin, from_user_tree, to_user_tree
from qtc.manifest.overrides import SET, set_at
from qtc.manifest.paths import UserPath, format_path, parse_path
from qtc.manifest.strategy import Strategy


def user_tree(strategy: Strategy) -> dict[str, Any]:
    """The strategy as a user tree (factors keyed by name), every default filled in."""
    tree, _ = to_user_tree(strategy.model_dump(mode="json", by_alias=True))
    return tree


def leaf_paths(node: Any, prefix: UserPath = ()) -> list[UserPath]:
    """Every leaf key path of a user tree (tables recursed, values are leaves)."""
    if not isinstance(node, dict) or (prefix and not node):
        return [prefix] if prefix else []
    out: list[UserPath] = []
    for key, value in node.items():
        out += leaf_paths(value, (*prefix, key))
    return out


def with_values(
    strategy: Strategy, values: Mapping[Any, Any], *, label: str = SET
) -> tuple[Strategy | None, list[Diagnostic]]:
    """Return the strategy with `values` set at their key paths, re-validated.

    Args:
        strategy: A validated strategy.
        values: Key path (dotted text or tuple) -> new value.
        label: What to call the source of these values in diagnostics.

    Returns:
        The new strategy (None on errors) and the diagnostics.
    """
    tree = user_tree(strategy)
    origins: dict[UserPath, Origin] = {}
    diags: list[Diagnostic] = []
    for raw_path, value in values.items():
        try:
            path = parse_path(raw_path) if isinstance(raw_path, str) else raw_path
            set_at(tree, path, value)
            origins[path] = Origin(label, None, f"{format_path(path)}={value!r}")
        except ValueError as exc:
            diags.append(_bad_path(str(raw_path), str(exc), label))
    if diags:
        return None, diags
    try:
        return Strategy.model_validate(from_user_tree(tree)), []
    except ValidationError as exc:
        mapper = Mapper(tree, origins, label)
        return None, mapper.map_all(exc.errors(include_url=False))


def candidate_problems(
    strategy: Strategy,
    key: str,
    value: Any,
    others: Mapping[str, Sequence[Any]],
    *,
    label: str = SET,
) -> list[Diagnostic]:
    """Why `value` cannot be a candidate of `key` (empty when it can).

    A candidate fits when the strategy validates with it alone, or together with one
    candidate of another searched key: a constraint between two keys (a momentum `skip`
    below its `lookback`) holds for some combinations of a space and not others, and only
    the combinations that break it are failed variants. A value that fits no such pair
    does not fit its field; the diagnostics are those of the value alone.
    """
    _, diags = with_values(strategy, {key: value}, label=label)
    if not diags:
        return []
    for other, candidates in others.items():
        if other == key:
            continue
        for paired in candidates:
            if with_values(strategy, {key: value, other: paired}, label=label)[0] is not None:
                return []
    return diags


def _bad_path(path: str, reason: str, label: str) -> Diagnostic:
    """Diagnostic for a key path that cannot be set."""
    return Diagnostic(
        code="QTC109",
        message=f"cannot set `{path}`: {reason}",
        location=Location(label),
        key_path=path,
        expected="a key path such as `selection.top_n` or `factors.<name>.lookback`",
    )
