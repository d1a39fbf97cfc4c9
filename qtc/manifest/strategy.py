"""The root manifest model: one validated strategy file."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from qtc.manifest.base import Section, spec
from qtc.manifest.broker import BrokerSpec, PaperBroker
from qtc.manifest.data import DataSection
from qtc.manifest.factors import FactorSpec
from qtc.manifest.gates import GatesSection
from qtc.manifest.regime import NoRegime, RegimeSpec
from qtc.manifest.risk import RiskSection
from qtc.manifest.scoring import ScoringSection, SelectionSection
from qtc.manifest.search import SearchSpace
from qtc.manifest.sizing import EqualSizing, SizingSpec
from qtc.manifest.stops import NoStops, StopsSpec
from qtc.manifest.trading import CostsSection, RebalanceSection
from qtc.manifest.universe import AllUniverse, UniverseSpec

SCHEMA_VERSION = 1


class Strategy(Section):
    """A systematic equity strategy: universe, factors, scoring, sizing, trading and risk."""

    schema_version: Literal[1] = spec(
        SCHEMA_VERSION,
        description="Manifest schema version.",
        unit="version",
        example=1,
        alias="schema",
    )
    name: str = spec(
        description="Strategy identifier, used for run folders.",
        unit="identifier",
        example="momentum_us",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
    )
    description: str = spec(
        "", description="One line for humans.", unit="text", example="12-1 momentum, top 50"
    )
    extends: str | None = spec(
        None,
        description="Parent strategy file, relative to this one; deep-merged under this file.",
        unit="path",
        example="base.toml",
    )
    data: DataSection = Field(description="The backtest window and benchmark.")
    universe: UniverseSpec = Field(
        default_factory=lambda: AllUniverse(kind="all"),
        description="Which symbols are eligible on each date (all | symbols | index_members).",
    )
    factors: list[FactorSpec] = Field(
        default_factory=list,
        description="Per-symbol, per-date signals; each has a unique `name` and a `kind`.",
    )
    scoring: ScoringSection = Field(
        default_factory=ScoringSection,
        description="How factors are normalized per date and combined into one score.",
    )
    selection: SelectionSection = Field(
        default_factory=SelectionSection, description="Which scored symbols are held."
    )
    sizing: SizingSpec = Field(
        default_factory=lambda: EqualSizing(kind="equal"),
        description="Selected symbols to weights (equal | inverse_vol | optimizers).",
    )
    rebalance: RebalanceSection = Field(
        default_factory=RebalanceSection,
        description="Rebalance calendar, execution timing and order sizing.",
    )
    costs: CostsSection = Field(
        default_factory=CostsSection, description="Trading costs charged on every fill."
    )
    stops: StopsSpec = Field(
        default_factory=lambda: NoStops(kind="none"),
        description="Per-position exits checked on every close (none | fixed | trailing | atr).",
    )
    risk: RiskSection = Field(
        default_factory=RiskSection,
        description="Portfolio limits, checked in backtests and before every live order.",
    )
    regime: RegimeSpec = Field(
        default_factory=lambda: NoRegime(kind="none"),
        description="Optional exposure overlay (none | vix | yield_curve).",
    )
    broker: BrokerSpec = Field(
        default_factory=lambda: PaperBroker(kind="paper"),
        description="Where `qtc rebalance` sends orders; credentials from the environment only.",
    )
    gates: GatesSection = Field(
        default_factory=GatesSection,
        alias="validate",
        description="Research gates checked by `qtc validate`.",
    )
    search: SearchSpace = Field(
        default_factory=lambda: SearchSpace({}),
        description="Parameter space for sweep/evolve: key path -> candidates or a range.",
    )

    def factor_names(self) -> list[str]:
        """Names of the declared factors, in file order."""
        return [f.name for f in self.factors]
