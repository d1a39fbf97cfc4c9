"""What `qtc diff` reports, as data: one `Comparison` per strategy, in three layers.

* values: the resolved strategy's keys that changed, old -> new, with where each came from;
* plan: the stage parameters that differ, and both plan fingerprints;
* results: both runs' headline metrics with deltas, a yearly equity and drawdown table,
  the holdings overlap per rebalance and the target weights that differ on the last one.

Every renderer (human, JSON, markdown, HTML) reads these objects and nothing else.
Conventions: weights and returns are fractions (0.05 is 5 %); a drawdown is a positive
fraction below the running peak; a delta is B - A.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

UNCHANGED = "unchanged"
CHANGED = "changed"
ADDED = "added"
REMOVED = "removed"


@dataclass(frozen=True)
class Side:
    """One side of a comparison.

    Attributes:
        label: As the user gave it (`HEAD~1:strategies/a.toml`, a file, a run id).
        source: `file`, `git` or `run`.
        strategy: The strategy name.
        fingerprint: The plan fingerprint.
        revision: The commit of a `git` side.
        run_id: The run's id, once it has a run.
    """

    label: str
    source: str
    strategy: str
    fingerprint: str
    revision: str | None = None
    run_id: str | None = None


@dataclass(frozen=True)
class ValueChange:
    """One key of the resolved strategy that differs (None: the key is absent on that side)."""

    key: str
    old: str | None
    new: str | None
    old_from: str
    new_from: str


@dataclass(frozen=True)
class PlanChange:
    """One stage parameter that differs (`key` empty: the whole stage is added or removed)."""

    stage: str
    key: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class PlanDiff:
    """The plan layer: fingerprints and differing stage parameters."""

    fingerprint_a: str
    fingerprint_b: str
    changes: list[PlanChange]

    @property
    def same(self) -> bool:
        """True when both plans have the same fingerprint."""
        return self.fingerprint_a == self.fingerprint_b


@dataclass(frozen=True)
class MetricRow:
    """A headline metric of both runs (`unit`: pct, num or usd)."""

    label: str
    key: str
    unit: str
    a: float | None
    b: float | None

    @property
    def delta(self) -> float | None:
        """B - A (None when either is missing)."""
        return None if self.a is None or self.b is None else self.b - self.a


@dataclass(frozen=True)
class YearRow:
    """One calendar year: each side's return and its worst drawdown within the year."""

    year: int
    return_a: float | None
    return_b: float | None
    drawdown_a: float | None
    drawdown_b: float | None


@dataclass(frozen=True)
class Overlap:
    """Holdings overlap on one rebalance (signal date) both runs have targets for.

    Attributes:
        date: The signal date.
        names_a: Names with a non-zero target weight in A.
        names_b: The same in B.
        common: Names in both.
        jaccard: common / names in either (1: the same names).
        shared_weight: Sum over names of min(target A, target B) (1: the same book).
    """

    date: str
    names_a: int
    names_b: int
    common: int
    jaccard: float
    shared_weight: float


@dataclass(frozen=True)
class WeightDiff:
    """A symbol whose target weight differs on the last rebalance."""

    symbol: str
    a: float
    b: float

    @property
    def delta(self) -> float:
        """B - A."""
        return self.b - self.a


@dataclass(frozen=True)
class RunRef:
    """A run used for the results layer."""

    run_id: str
    folder: str
    start: str
    end: str
    rebalances: int
    dataset_hashes: dict[str, str]


@dataclass
class Series:
    """Daily equity of both runs, for the HTML overlay (not in JSON)."""

    dates_a: list[str]
    equity_a: list[float]
    dates_b: list[str]
    equity_b: list[float]


@dataclass
class Results:
    """The results layer of a comparison."""

    run_a: RunRef
    run_b: RunRef
    metrics: list[MetricRow]
    years: list[YearRow]
    overlaps: list[Overlap]
    only_a: list[str]
    only_b: list[str]
    last_a: str | None
    last_b: str | None
    last_changes: list[WeightDiff]
    series: Series | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (without the daily series)."""
        out = {k: v for k, v in asdict(self).items() if k != "series"}
        out["metrics"] = [{**asdict(m), "delta": m.delta} for m in self.metrics]
        out["last_changes"] = [{**asdict(w), "delta": w.delta} for w in self.last_changes]
        out["overlap_summary"] = overlap_summary(self.overlaps)
        return out


def overlap_summary(overlaps: list[Overlap]) -> dict[str, Any]:
    """Mean, lowest and last overlap over the compared rebalances."""
    if not overlaps:
        return {"rebalances": 0}
    lowest = min(overlaps, key=lambda o: (o.shared_weight, o.date))
    n = len(overlaps)
    return {
        "rebalances": n,
        "mean_shared_weight": sum(o.shared_weight for o in overlaps) / n,
        "mean_jaccard": sum(o.jaccard for o in overlaps) / n,
        "lowest_shared_weight": lowest.shared_weight,
        "lowest_date": lowest.date,
        "last_shared_weight": overlaps[-1].shared_weight,
        "last_jaccard": overlaps[-1].jaccard,
    }


@dataclass
class Comparison:
    """One strategy compared: A (old) against B (new)."""

    title: str
    status: str
    a: Side | None
    b: Side | None
    values: list[ValueChange] = field(default_factory=list)
    plan: PlanDiff | None = None
    results: Results | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "title": self.title,
            "status": self.status,
            "a": asdict(self.a) if self.a else None,
            "b": asdict(self.b) if self.b else None,
            "values": [asdict(v) for v in self.values],
            "plan": None if self.plan is None else {**asdict(self.plan), "same": self.plan.same},
            "results": None if self.results is None else self.results.to_dict(),
            "notes": self.notes,
            "warnings": self.warnings,
        }


@dataclass
class Report:
    """Everything `qtc diff` found: one comparison, or one per changed file (`--git`)."""

    title: str
    comparisons: list[Comparison]
    base: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        """True when nothing changed at all."""
        return all(c.status == UNCHANGED for c in self.comparisons)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "title": self.title,
            "base": self.base,
            "unchanged": self.unchanged,
            "notes": self.notes,
            "comparisons": [c.to_dict() for c in self.comparisons],
        }
