"""Checks of the `[search]` space: every key path exists and every candidate fits it."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from qtc.compile.checks import Locate, diag
from qtc.errors import Diagnostic
from qtc.manifest.paths import format_path, parse_path
from qtc.manifest.schema_walk import field_at
from qtc.manifest.strategy import Strategy
from qtc.manifest.variants import candidate_problems, leaf_paths, user_tree


def check_search(strategy: Strategy, locate: Locate) -> list[Diagnostic]:
    """QTC204 for unknown search keys, QTC205 for candidates that do not validate."""
    tree = user_tree(strategy)
    known = [format_path(p) for p in leaf_paths(tree) if p[0] not in ("search", "validate")]
    out: list[Diagnostic] = []
    ranges = {k for k, v in strategy.search.root.items() if not isinstance(v, list)}
    for key, values in strategy.search.probes().items():
        where = ("search", key)
        try:
            path = parse_path(key)
        except ValueError as exc:
            out.append(diag("QTC204", where, f"bad search key {key!r}: {exc}", locate))
            continue
        if path[0] in ("search", "validate", "name", "description", "extends", "schema") or (
            field_at(path, tree) is None
        ):
            near = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            out.append(
                diag(
                    "QTC204",
                    where,
                    f'search key "{key}" is not a parameter of this strategy',
                    locate,
                    at_key=True,
                    expected="a key path such as `selection.top_n` or `factors.<name>.lookback`",
                    hint=f'did you mean "{near[0]}"?' if near else "",
                )
            )
            continue
        out += _check_candidates(strategy, key, values, locate, is_range=key in ranges)
    return out


def _check_candidates(
    strategy: Strategy, key: str, values: Sequence[object], locate: Locate, *, is_range: bool
) -> list[Diagnostic]:
    """Validate the strategy with each candidate; report the first failure per key.

    A range's values are its probes: both ends (they bound every candidate) and one
    inside value (a fractional step, or a float range, on an integer key shows there).
    """
    others = strategy.search.probes()
    for index, value in enumerate(values):
        diags = candidate_problems(strategy, key, value, others, label="[search]")
        if diags:
            reason = diags[0].message
            return [
                diag(
                    "QTC205",
                    ("search", key) if is_range else ("search", key, index),
                    f"search candidate {value!r} for {key}: {reason}",
                    locate,
                    expected=diags[0].expected,
                    hint="every candidate must be a valid value of its key",
                )
            ]
    return []
