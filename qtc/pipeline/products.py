"""Typed stage outputs: what each pipeline stage hands to the stages after it.

Each stage handler (`qtc.pipeline.handlers`) returns one of these; the runner keeps them
in `Products`, where a later stage asks for the type it requires (`need`). A stage that
runs out of order finds its input missing and says so, instead of reading a None field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from qtc.compile.stages import Score
from qtc.errors import QtcError
from qtc.pipeline.engine import EngineResult
from qtc.pipeline.universe import UniverseStep

T = TypeVar("T")


@dataclass(frozen=True)
class Calendar:
    """LoadData's rebalance calendar: signal rows and their execution rows, (R,) each."""

    rows: np.ndarray
    exec_rows: np.ndarray


@dataclass(frozen=True)
class Eligibility:
    """SelectUniverse: the universe rules in order and their conjunction, (R, N) bool."""

    steps: list[UniverseStep]
    eligible: np.ndarray


@dataclass(frozen=True)
class FactorValues:
    """ComputeFactors: factor name -> read-only (T, N) values."""

    values: dict[str, np.ndarray]


@dataclass(frozen=True)
class Scores:
    """Score: composite scores on signal rows, (R, N), and the rules that made them."""

    values: np.ndarray
    rules: Score


@dataclass(frozen=True)
class Selection:
    """Select: the names to hold at each rebalance, (R, N) bool."""

    selected: np.ndarray


@dataclass(frozen=True)
class Targets:
    """Size, then ApplyRiskCaps: target weights per rebalance, (R, N)."""

    weights: np.ndarray


@dataclass(frozen=True)
class Schedule:
    """ScheduleWeights: the targets placed on their execution rows."""

    exec_rows: np.ndarray
    targets: np.ndarray


@dataclass(frozen=True)
class Execution:
    """RunEngine: the engine's result and the forward-filled marks it used, (T, N)."""

    result: EngineResult
    marks: np.ndarray


@dataclass(frozen=True)
class Metrics:
    """ComputeMetrics: metric groups and the daily weights they were computed from."""

    values: dict[str, dict[str, float]]
    daily_weights: np.ndarray


class Products:
    """The outputs of the stages run so far, one per type (a later one replaces it)."""

    def __init__(self) -> None:
        self._by_type: dict[type, object] = {}

    def put(self, product: object) -> None:
        """Keep a stage's output."""
        self._by_type[type(product)] = product

    def get(self, kind: type[T]) -> T | None:
        """The output of type `kind`, or None when no stage made it."""
        found = self._by_type.get(kind)
        return found if isinstance(found, kind) else None

    def need(self, kind: type[T]) -> T:
        """The output of type `kind`.

        Raises:
            QtcError: If no stage made it (a stage ran out of order: a bug in qtc).
        """
        found = self.get(kind)
        if found is None:
            raise QtcError(f"pipeline stage needs {kind.__name__}, which no stage made (a bug)")
        return found
