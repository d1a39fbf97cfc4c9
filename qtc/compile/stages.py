"""Stage specs: what each pipeline stage will do, as frozen data.

The Plan is an ordered list of these specs (DESIGN §4). The runner dispatches
on `stage`; `qtc compile --explain` renders the same list. Every spec holds
only what changes results, so the plan fingerprint is the hash of the list.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from qtc.manifest.factors import FactorSpec
from qtc.manifest.regime import RegimeSpec
from qtc.manifest.risk import RiskSection
from qtc.manifest.scoring import ScoringSection, SelectionSection
from qtc.manifest.sizing import SizingSpec
from qtc.manifest.stops import StopsSpec
from qtc.manifest.trading import CostsSection
from qtc.manifest.universe import UniverseSpec


class StageSpec(BaseModel):
    """Base of every stage spec: frozen and strict."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class LoadData(StageSpec):
    """Read prices, and the datasets the later stages need, for the run window."""

    stage: Literal["load_data"] = "load_data"
    start: dt.date
    end: dt.date
    end_is_as_of: bool = Field(description="True when `end` came from `as_of`, not the file.")
    history_start: dt.date | None
    warmup_days: int = Field(description="Trading days read before `start` for warm-up.")
    benchmark: str
    datasets: tuple[str, ...]


class SelectUniverse(StageSpec):
    """Decide which symbols are eligible on each date."""

    stage: Literal["select_universe"] = "select_universe"
    universe: UniverseSpec


class ComputeFactors(StageSpec):
    """Compute every distinct factor once, for all symbols and dates."""

    stage: Literal["compute_factors"] = "compute_factors"
    factors: tuple[FactorSpec, ...]


class Score(StageSpec):
    """Normalize factors per date and combine them into one score."""

    stage: Literal["score"] = "score"
    scoring: ScoringSection
    factor_weights: dict[str, float] = Field(description="Resolved weight of every used factor.")


class Select(StageSpec):
    """Pick the symbols to hold on each rebalance date."""

    stage: Literal["select"] = "select"
    selection: SelectionSection


class Size(StageSpec):
    """Turn the selection into target weights."""

    stage: Literal["size"] = "size"
    sizing: SizingSpec


class ApplyRiskCaps(StageSpec):
    """Cap weights by the risk limits and scale gross exposure by the regime overlay."""

    stage: Literal["apply_risk_caps"] = "apply_risk_caps"
    risk: RiskSection
    regime: RegimeSpec


class ScheduleWeights(StageSpec):
    """Place targets on rebalance dates and execution dates."""

    stage: Literal["schedule_weights"] = "schedule_weights"
    frequency: Literal["daily", "weekly", "monthly", "quarterly"]
    execution: Literal["next_close", "close"]


class RunEngine(StageSpec):
    """Execute the schedule in nanobook: fills, costs, stops, daily equity."""

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

    stage: Literal["compute_metrics"] = "compute_metrics"
    benchmark: str
    periods_per_year: int = 252
    risk_free: Literal["lake_rates", "zero"] = "lake_rates"


class WriteArtifacts(StageSpec):
    """Write the run folder: run.json and Parquet files."""

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
