"""What an evolution found, read back from its study: the trials, the ranking, the front.

Every trial's record lives in the study (`qtc.search.evolve_study`); these functions
turn the finished trials into rows (duplicates carry the metrics of the trial they
repeat), rank them by one objective, or find the Pareto front of several. A trial is
ranked when it ran, passed every `--where` filter and has every objective.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from qtc.search.evaluate import OK, Trial
from qtc.search.evolve import Evolution
from qtc.search.objective import Objective, passes

DUPLICATE = "duplicate"


@dataclass
class Row:
    """One finished trial of an evolution.

    Attributes:
        number: Trial number (optuna's, 0-based, in the order asked).
        generation: Its generation (trial number // population).
        values: The searched values.
        variant: The variant's plan fingerprint (empty when it did not compile).
        status: `ok`, `failed` or `duplicate`.
        reason: Why it failed, or which trial it repeats.
        duplicate_of: The trial it repeats (same plan), or None.
        metrics: Flat metrics (a duplicate's are its original's).
    """

    number: int
    generation: int
    values: dict[str, Any]
    variant: str
    status: str
    reason: str = ""
    duplicate_of: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    def as_trial(self) -> Trial:
        """The row as a search trial (no returns)."""
        return Trial(self.number, self.variant, self.status, self.reason, self.metrics)


def rows(study: Any) -> list[Row]:
    """Every finished trial of the study, in trial order."""
    from qtc.search.evolve_study import record

    found: list[Row] = []
    for trial in study.get_trials(deepcopy=False):
        rec = record(trial)
        if not trial.state.is_finished() or not rec:
            continue
        found.append(
            Row(
                number=trial.number,
                generation=int(rec["generation"]),
                values=dict(rec["values"]),
                variant=str(rec["variant"]),
                status=str(rec["status"]),
                reason=str(rec.get("reason", "")),
                duplicate_of=rec.get("duplicate_of"),
                metrics=dict(rec.get("metrics") or {}),
            )
        )
    by_number = {row.number: row for row in found}
    for row in found:
        if row.duplicate_of is not None and row.duplicate_of in by_number:
            row.metrics = by_number[row.duplicate_of].metrics
    return sorted(found, key=lambda r: r.number)


def eligible(evolution: Evolution, row: Row) -> bool:
    """Whether a row is ranked: it ran, passes the filters and has every objective."""
    if row.status != OK or not passes(evolution.filters, row.metrics):
        return False
    return all(_finite(row.metrics.get(o.metric)) for o in evolution.objectives)


def ranking(evolution: Evolution, found: Sequence[Row]) -> list[Row]:
    """Ranked rows by the first objective, best first (ties: lower trial number)."""
    first = evolution.objectives[0]
    kept = [r for r in found if eligible(evolution, r)]
    return sorted(kept, key=lambda r: (first.key(r.metrics[first.metric]), r.number))


def pareto(evolution: Evolution, found: Sequence[Row]) -> list[Row]:
    """The ranked rows on the Pareto front, best first by the first objective."""
    from qtc.search.pareto import front

    kept = ranking(evolution, found)
    points = [[float(r.metrics[o.metric]) for o in evolution.objectives] for r in kept]
    members = front(points, [o.maximize for o in evolution.objectives])
    return [kept[i] for i in members]


def winners(evolution: Evolution, found: Sequence[Row]) -> list[Row]:
    """The rows written as strategies: the top K (one objective) or the Pareto front."""
    if len(evolution.objectives) > 1:
        return pareto(evolution, found)
    return ranking(evolution, found)[: evolution.request.top]


def better(objective: Objective, a: Trial, b: Trial | None) -> bool:
    """Whether trial `a` ranks before `b` by `objective` (ties: lower trial number)."""
    if b is None:
        return True
    x, y = a.metrics.get(objective.metric), b.metrics.get(objective.metric)
    if objective.key(x) == objective.key(y):
        return a.number < b.number
    return objective.better(x, y)


def objective_values(evolution: Evolution, metrics: dict[str, Any]) -> list[float] | None:
    """The objectives of a trial, or None when one is undefined."""
    found = [metrics.get(o.metric) for o in evolution.objectives]
    if not all(_finite(v) for v in found):
        return None
    return [float(v) for v in found if v is not None]


def violations(evolution: Evolution, metrics: dict[str, Any]) -> list[float]:
    """One constraint value per `--where` filter: 0 when it holds, else how far it misses."""
    out: list[float] = []
    for flt in evolution.filters:
        got = metrics.get(flt.metric)
        if got is None or not _finite(got):
            out.append(1.0)
        elif flt.holds(metrics):
            out.append(0.0)
        else:
            out.append(max(abs(float(got) - flt.value), 1e-12))
    return out


def _finite(value: Any) -> bool:
    """A finite number."""
    return isinstance(value, int | float) and math.isfinite(value)
