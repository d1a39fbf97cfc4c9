"""`[sizing]`: selected symbols to weights, a tagged union on `kind`.

Weights are fractions of equity; every sizer is long-only and then capped at
`max_weight` per name with the excess redistributed pro rata.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from qtc.manifest.base import Section, spec


class _SizingBase(Section):
    """Fields every sizer has."""

    max_weight: float = spec(
        1.0,
        description="Cap on any one name's weight; the excess is redistributed pro rata.",
        unit="fraction of equity",
        example=0.05,
        gt=0,
        le=1,
    )

    def warmup_days(self) -> int:
        """Trading days of returns needed before the first rebalance."""
        return 0


class _LookbackSizing(_SizingBase):
    """Sizers that estimate risk from a window of past returns."""

    lookback: int = spec(
        252,
        description="Daily returns used to estimate volatility/covariance.",
        unit="trading days",
        example=252,
        ge=20,
        le=2520,
    )

    def warmup_days(self) -> int:
        """Trading days of returns needed before the first rebalance."""
        return self.lookback + 1


class EqualSizing(_SizingBase):
    """Every selected name gets the same weight."""

    kind: Literal["equal"] = spec(description="Sizing kind.", unit="kind", example="equal")


class InverseVolSizing(_LookbackSizing):
    """Weights proportional to 1 / volatility."""

    kind: Literal["inverse_vol"] = spec(
        description="Sizing kind.", unit="kind", example="inverse_vol"
    )
    lookback: int = spec(
        63,
        description="Daily returns used to estimate volatility.",
        unit="trading days",
        example=63,
        ge=5,
        le=2520,
    )


class MinVarianceSizing(_LookbackSizing):
    """Long-only minimum-variance portfolio (riskfolio-lib)."""

    kind: Literal["min_variance"] = spec(
        description="Sizing kind.", unit="kind", example="min_variance"
    )
    covariance: Literal["sample", "ledoit_wolf"] = spec(
        "ledoit_wolf", description="Covariance estimator.", unit="estimator", example="ledoit_wolf"
    )


class RiskParitySizing(_LookbackSizing):
    """Equal risk contribution portfolio (riskfolio-lib)."""

    kind: Literal["risk_parity"] = spec(
        description="Sizing kind.", unit="kind", example="risk_parity"
    )
    covariance: Literal["sample", "ledoit_wolf"] = spec(
        "ledoit_wolf", description="Covariance estimator.", unit="estimator", example="ledoit_wolf"
    )


class HrpSizing(_LookbackSizing):
    """Hierarchical risk parity (riskfolio-lib)."""

    kind: Literal["hrp"] = spec(description="Sizing kind.", unit="kind", example="hrp")
    linkage: Literal["single", "complete", "average", "ward"] = spec(
        "single", description="Clustering linkage.", unit="method", example="ward"
    )


class MaxSharpeSizing(_LookbackSizing):
    """Long-only maximum Sharpe ratio portfolio (riskfolio-lib)."""

    kind: Literal["max_sharpe"] = spec(
        description="Sizing kind.", unit="kind", example="max_sharpe"
    )
    covariance: Literal["sample", "ledoit_wolf"] = spec(
        "ledoit_wolf", description="Covariance estimator.", unit="estimator", example="ledoit_wolf"
    )


SizingSpec = Annotated[
    EqualSizing
    | InverseVolSizing
    | MinVarianceSizing
    | RiskParitySizing
    | HrpSizing
    | MaxSharpeSizing,
    Field(discriminator="kind"),
]
