"""Stage specs: what each pipeline stage will do, as frozen data.

The Plan is an ordered list of these specs (DESIGN §4). The runner dispatches
on the spec's class; `qtc compile --explain` renders the same list, with each
stage's own `requires`/`produces` text. Every spec holds only what changes
results, so the plan fingerprint is the hash of the list.

Each spec also carries what its handler needs from the rest of the strategy
(`derived` fields, e.g. the caps stage's `max_weight`, the load stage's columns,
symbols and schedule), so that no handler reads another stage's spec. Derived
fields are functions of the other stages (`qtc.compile.derive` fills them in),
so they stay out of the JSON and the fingerprint (`exclude=True`): the same
strategy keeps the same fingerprint and plan file.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from qtc.manifest.factors import FactorSpec
from qtc.manifest.regime import RegimeSpec
from qtc.manifest.risk import RiskSection
from qtc.manifest.scoring import ScoringSection, SelectionSection
from qtc.manifest.sizing import SizingSpec
from qtc.manifest.stops import StopsSpec
from qtc.manifest.trading import CostsSection
from qtc.manifest.universe import UniverseSpec

Frequency = Literal["daily", "weekly", "monthly", "quarterly"]
Execution = Literal["next_close", "close"]
First = Literal["window_start", "first_period_end"]


def derived(default: Any, description: str) -> Any:
    """A field filled in from the other stages: kept out of the JSON and the fingerprint."""
    return Field(default=default, exclude=True, description=description)


class StageSpec(BaseModel):
    """Base of every stage spec: frozen and strict.

    Attributes:
        requires: What the stage reads (shown by `qtc compile --explain`).
        produces: What the stage makes for the stages after it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    requires: ClassVar[str] = ""
    produces: ClassVar[str] = ""


class LoadData(StageSpec):
    """Read prices, and the datasets the later stages need, for the run window."""

    requires: ClassVar[str] = "the lake"
    produces: ClassVar[str] = "price panel, benchmark, risk-free and listed datasets"

    stage: Literal["load_data"] = "load_data"
    start: dt.date
    end: dt.date
    end_is_as_of: bool = Field(description="True when `end` came from `as_of`, not the file.")
    history_start: dt.date | None
    warmup_days: int = Field(description="Trading days read before `start` for warm-up.")
    benchmark: str
    datasets: tuple[str, ...]
    symbols: tuple[str, ...] | None = derived(None, "Only these symbols (`symbols` universe).")
    ohlc: bool = derived(False, "Also read open/high/low (ATR factors).")
    raw_close: bool = derived(True, "Read the raw close (price filter, fundamentals).")
    other_benchmarks: tuple[str, ...] = derived((), "Benchmarks of beta factors.")
    frequency: Frequency = derived("monthly", "Rebalance frequency (signal calendar).")
    execution: Execution = derived("next_close", "Execution of a signal (the calendar).")
    first: First = derived("window_start", "The first rebalance (the calendar).")
    signal_on_last_row: bool = derived(
        False, "Live: the last row is a signal even mid-period (today's signal)."
    )

    MARKET_FIELDS: ClassVar[tuple[str, ...]] = (
        "start",
        "end",
        "history_start",
        "warmup_days",
        "benchmark",
        "datasets",
        "symbols",
        "ohlc",
        "raw_close",
        "other_benchmarks",
    )
    """The fields that decide what is loaded: equal fields, equal market."""

    def market_fields(self) -> dict[str, object]:
        """The fields that identify the market this spec loads, JSON-ready."""
        return {name: _json_ready(getattr(self, name)) for name in self.MARKET_FIELDS}


class SelectUniverse(StageSpec):
    """Decide which symbols are eligible on each date."""

    requires: ClassVar[str] = "price panel (+ membership for index_members, sectors for filters)"
    produces: ClassVar[str] = "eligible symbols per date"

    stage: Literal["select_universe"] = "select_universe"
    universe: UniverseSpec


class ComputeFactors(StageSpec):
    """Compute every distinct factor once, for all symbols and dates."""

    requires: ClassVar[str] = "price panel (+ fundamentals for fundamental factors)"
    produces: ClassVar[str] = "one value per factor, symbol and date"

    stage: Literal["compute_factors"] = "compute_factors"
    factors: tuple[FactorSpec, ...]
    used: tuple[str, ...] = derived((), "Factors with a non-zero score weight.")

    def used_factors(self) -> tuple[FactorSpec, ...]:
        """The factors that are computed: those with a non-zero score weight."""
        return tuple(f for f in self.factors if f.name in self.used)


class Score(StageSpec):
    """Normalize factors per date and combine them into one score."""

    requires: ClassVar[str] = "factor values, sectors"
    produces: ClassVar[str] = "one composite score per symbol and date"

    stage: Literal["score"] = "score"
    scoring: ScoringSection
    factor_weights: dict[str, float] = Field(description="Resolved weight of every used factor.")


class Select(StageSpec):
    """Pick the symbols to hold on each rebalance date."""

    requires: ClassVar[str] = "scores on rebalance dates"
    produces: ClassVar[str] = "the names to hold at each rebalance"

    stage: Literal["select"] = "select"
    selection: SelectionSection


class Size(StageSpec):
    """Turn the selection into target weights."""

    requires: ClassVar[str] = "selection, return history"
    produces: ClassVar[str] = "target weights per rebalance date"

    stage: Literal["size"] = "size"
    sizing: SizingSpec


class ApplyRiskCaps(StageSpec):
    """Cap weights by the risk limits and scale gross exposure by the regime overlay."""

    requires: ClassVar[str] = "target weights (+ macro series for a regime overlay)"
    produces: ClassVar[str] = "capped, regime-scaled targets"

    stage: Literal["apply_risk_caps"] = "apply_risk_caps"
    risk: RiskSection
    regime: RegimeSpec
    max_weight: float = derived(1.0, "The sizing's `max_weight` (the smaller cap applies).")


class ScheduleWeights(StageSpec):
    """Place targets on rebalance dates and execution dates."""

    requires: ClassVar[str] = "targets, trading calendar"
    produces: ClassVar[str] = "weights on execution dates"

    stage: Literal["schedule_weights"] = "schedule_weights"
    frequency: Frequency
    execution: Execution
    first: First = "window_start"


class RunEngine(StageSpec):
    """Execute the schedule in nanobook: fills, costs, stops, daily equity."""

    requires: ClassVar[str] = "scheduled weights, prices"
    produces: ClassVar[str] = "fills, daily equity, stop events"

    stage: Literal["run_engine"] = "run_engine"
    initial_cash: float
    fractional_shares: bool
    no_trade_band_bps: float
    min_order_value: float
    costs: CostsSection
    stops: StopsSpec
    max_drawdown_pct: float | None


class ComputeMetrics(StageSpec):
    """Performance and benchmark-relative metrics from daily returns."""

    requires: ClassVar[str] = "daily returns, benchmark, risk-free"
    produces: ClassVar[str] = "performance metrics"

    stage: Literal["compute_metrics"] = "compute_metrics"
    benchmark: str
    periods_per_year: int = 252
    risk_free: Literal["lake_rates", "zero"] = "lake_rates"


class WriteArtifacts(StageSpec):
    """Write the run folder: run.json and Parquet files."""

    requires: ClassVar[str] = "everything above"
    produces: ClassVar[str] = "run.json + Parquet files in runs/"

    stage: Literal["write_artifacts"] = "write_artifacts"
    artifact_schema: int = 1


AnyStage = Annotated[
    LoadData
    | SelectUniverse
    | ComputeFactors
    | Score
    | Select
    | Size
    | ApplyRiskCaps
    | ScheduleWeights
    | RunEngine
    | ComputeMetrics
    | WriteArtifacts,
    Field(discriminator="stage"),
]

STAGE_ORDER: tuple[str, ...] = (
    "load_data",
    "select_universe",
    "compute_factors",
    "score",
    "select",
    "size",
    "apply_risk_caps",
    "schedule_weights",
    "run_engine",
    "compute_metrics",
    "write_artifacts",
)


def _json_ready(value: object) -> object:
    """Dates as ISO strings, tuples as lists (for fingerprints)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value
