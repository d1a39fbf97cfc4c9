"""Strategy families: the strategy name plus the fingerprint of everything not searched.

Every trial of a family counts toward its selection-bias statistics, across every
sweep and evolution ever run on it: changing a searched value (or the candidates of
`[search]`) stays in the family, changing anything else starts a new one.

The fingerprint is sha256 over the canonical JSON (`qtc.compile.fingerprint`) of the
user tree (`qtc.manifest.variants.user_tree`: defaults filled in, factors keyed by
name) with these parts removed:

* every searched key path (a path naming a table removes the whole table);
* the keys that never change a backtest's results, as for the plan fingerprint:
  `schema`, `name` (it is part of the family key itself), `description`, `extends`,
  `broker`, `validate` and `search`, plus `rebalance.max_signal_age_days`, which only
  `qtc rebalance` reads.

Compute the family once, from the base strategy before any searched value is set:
searching a `kind` (e.g. `sizing.kind`) changes which keys a variant's table has.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from qtc.compile.fingerprint import fingerprint, short
from qtc.manifest.paths import UserPath, format_path, parse_path
from qtc.manifest.strategy import Strategy
from qtc.manifest.variants import user_tree

NO_RESULT_PATHS: tuple[UserPath, ...] = (
    ("schema",),
    ("name",),
    ("description",),
    ("extends",),
    ("broker",),
    ("validate",),
    ("search",),
    ("rebalance", "max_signal_age_days"),
)
"""Key paths that never change a backtest's results, left out of every family."""


@dataclass(frozen=True, slots=True)
class Family:
    """A strategy family.

    Attributes:
        strategy: The strategy's name.
        fingerprint: `sha256:<hex>` of the unsearched settings.
        searched: The searched key paths, sorted, as the user writes them.
    """

    strategy: str
    fingerprint: str
    searched: tuple[str, ...]

    @property
    def key(self) -> str:
        """`<strategy>@<first 12 hex digits>`, the family's id in the trial ledger."""
        return f"{self.strategy}@{short(self.fingerprint)}"


def family_of(strategy: Strategy, searched: Iterable[str | UserPath]) -> Family:
    """The family of a validated strategy searched over `searched`.

    Args:
        strategy: The base strategy (before any searched value is set).
        searched: Key paths being searched (`factors.mom_12_1.lookback`), as text or tuples.
    """
    return family_of_tree(user_tree(strategy), searched)


def family_of_tree(tree: Mapping[str, Any], searched: Iterable[str | UserPath]) -> Family:
    """The family of a strategy given as a user tree (`user_tree`), searched over `searched`.

    A searched path that is not in the tree removes nothing.

    Args:
        tree: The user tree; its `name` names the family.
        searched: Key paths being searched, as text or tuples.
    """
    paths = sorted({parse_path(p) if isinstance(p, str) else tuple(p) for p in searched}, key=str)
    return Family(
        strategy=str(tree["name"]),
        fingerprint=fingerprint(unsearched(tree, paths)),
        searched=tuple(sorted(format_path(p) for p in paths)),
    )


def unsearched(tree: Mapping[str, Any], searched: Iterable[UserPath]) -> dict[str, Any]:
    """A copy of the user tree without the searched paths and the no-result keys."""
    out = copy.deepcopy(dict(tree))
    for path in (*NO_RESULT_PATHS, *searched):
        _remove(out, path)
    return out


def _remove(tree: dict[str, Any], path: UserPath) -> None:
    """Delete the value at `path` if it is there (tables are only walked through dicts)."""
    node: Any = tree
    for part in path[:-1]:
        node = node.get(str(part)) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(str(path[-1]), None)
