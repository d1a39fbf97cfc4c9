"""The search space of an evolution: `[search]` as optuna distributions.

Each key of `[search]` becomes one dimension:

* a list of candidates: a categorical choice among them;
* an integer stepped range (`{ min = 21, max = 504, step = 21 }`): an integer
  distribution with that step;
* a float stepped range (`{ min = 0.02, max = 0.10, step = 0.01 }`): the index of a
  candidate (an integer distribution over 0..n-1), so an evolution draws exactly the
  candidates a sweep of the same range would run, with no floating-point drift;
* a log-scale range (`{ min = 0.001, max = 0.1, log = true }`): a log-uniform integer
  or float distribution.

A space that cannot be searched is a diagnostic: QTC212 when it is empty, QTC213 when
it has one point in total (nothing to choose).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from qtc.errors import Diagnostic, Location, StrategyError
from qtc.manifest.search import SearchRange, SearchSpace

CATEGORICAL = "categorical"
INT = "int"
FLOAT = "float"
INDEX = "index"


@dataclass(frozen=True)
class Dimension:
    """One searched key.

    Attributes:
        key: The key path (`factors.mom_12_1.lookback`).
        kind: `categorical`, `int`, `float` (log-scale) or `index` (a float stepped range).
        choices: The candidates (categorical and index dimensions).
        low: Smallest value (int and float dimensions).
        high: Largest value (int and float dimensions).
        step: Spacing of an int dimension (1 when log-scale).
        log: Log-scale.
    """

    key: str
    kind: str
    choices: tuple[Any, ...] = ()
    low: float = 0.0
    high: float = 0.0
    step: int = 1
    log: bool = False

    @property
    def size(self) -> float:
        """How many values it has (infinite for a continuous range)."""
        if self.kind in (CATEGORICAL, INDEX):
            return len(self.choices)
        if self.kind == INT:
            return (int(self.high) - int(self.low)) // self.step + 1
        return 1 if self.low == self.high else math.inf

    def distribution(self) -> Any:
        """The optuna distribution of the dimension."""
        from optuna import distributions as d

        if self.kind == CATEGORICAL:
            return d.CategoricalDistribution(self.choices)
        if self.kind == INDEX:
            return d.IntDistribution(0, len(self.choices) - 1)
        if self.kind == INT:
            return d.IntDistribution(int(self.low), int(self.high), log=self.log, step=self.step)
        return d.FloatDistribution(self.low, self.high, log=self.log)

    def value(self, raw: Any) -> Any:
        """The key's value for optuna's parameter `raw`."""
        if self.kind == INDEX:
            return self.choices[int(raw)]
        if self.kind == INT:
            return int(raw)
        if self.kind == FLOAT:
            return float(raw)
        return raw

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (evolve.json)."""
        if self.kind in (CATEGORICAL, INDEX):
            return {"kind": self.kind, "choices": list(self.choices)}
        if self.kind == INT:
            bounds = {"min": int(self.low), "max": int(self.high), "step": self.step}
            return {"kind": INT, **bounds, "log": self.log}
        return {"kind": FLOAT, "min": float(self.low), "max": float(self.high), "log": self.log}


@dataclass(frozen=True)
class EvolveSpace:
    """The dimensions of an evolution, in `[search]` order."""

    dimensions: tuple[Dimension, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        """The searched key paths."""
        return tuple(d.key for d in self.dimensions)

    @property
    def size(self) -> float:
        """How many points the space has (infinite with a continuous dimension)."""
        total = 1.0
        for dim in self.dimensions:
            total *= dim.size
        return total

    def distributions(self) -> dict[str, Any]:
        """Key path -> optuna distribution."""
        return {d.key: d.distribution() for d in self.dimensions}

    def point(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The searched values of a trial from optuna's parameters.

        Raises:
            KeyError: If a parameter is missing.
        """
        return {d.key: d.value(params[d.key]) for d in self.dimensions}

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (evolve.json, the evolution id)."""
        return {d.key: d.as_dict() for d in self.dimensions}


def from_search(search: SearchSpace) -> EvolveSpace:
    """The evolution's space from a (checked) `[search]` section."""
    return EvolveSpace(tuple(_dimension(k, v) for k, v in search.root.items()))


def _dimension(key: str, entry: list[Any] | SearchRange) -> Dimension:
    """One `[search]` entry as a dimension."""
    if not isinstance(entry, SearchRange):
        return Dimension(key, CATEGORICAL, choices=tuple(entry))
    if entry.step is None:
        kind = INT if entry.integer else FLOAT
        return Dimension(key, kind, low=entry.min, high=entry.max, log=True)
    values = entry.values()
    if entry.integer:
        return Dimension(key, INT, low=values[0], high=values[-1], step=int(entry.step))
    return Dimension(key, INDEX, choices=tuple(values))


def check_searchable(space: EvolveSpace, source: str) -> None:
    """Refuse a space with nothing to choose.

    Raises:
        StrategyError: QTC212 for an empty space, QTC213 for a space of one point.
    """
    if not space.dimensions:
        raise StrategyError(
            [
                _diag(
                    "QTC212",
                    source,
                    "the search space is empty: the strategy has no [search] section",
                    hint='add one, e.g. [search] "selection.top_n" = [20, 50, 100]',
                )
            ]
        )
    if space.size == 1:
        raise StrategyError(
            [
                _diag(
                    "QTC213",
                    source,
                    "the search space has one point: every key of [search] has one candidate",
                    hint="give at least one key two or more candidates (or a range)",
                )
            ]
        )


def _diag(code: str, source: str, message: str, *, hint: str) -> Diagnostic:
    """A diagnostic about the whole `[search]` section."""
    return Diagnostic(
        code=code,
        message=message,
        location=Location(source),
        key_path="search",
        expected='[search] keys with several candidates, e.g. "selection.top_n" = [20, 50]',
        hint=hint,
    )
