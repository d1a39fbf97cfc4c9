"""`[regime]`: an optional exposure overlay scaling gross weight in risky regimes.

The regime is read on the signal date from the lake's `macro` dataset (data
dated on or before the signal date only).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from qtc.manifest.base import Section, spec


class NoRegime(Section):
    """No overlay: always fully invested as sized."""

    kind: Literal["none"] = spec(description="Regime kind.", unit="kind", example="none")


class _OverlayBase(Section):
    """Fields shared by overlays."""

    exposure: float = spec(
        0.5,
        description="Gross exposure while the regime is risk-off (the rest is cash).",
        unit="fraction of equity",
        example=0.5,
        ge=0,
        le=1,
    )
    smoothing_days: int = spec(
        1,
        description="Average the signal over this many days before comparing.",
        unit="trading days",
        example=5,
        ge=1,
        le=252,
    )


class VixRegime(_OverlayBase):
    """Risk-off while the VIX close is above `threshold`."""

    kind: Literal["vix"] = spec(description="Regime kind.", unit="kind", example="vix")
    threshold: float = spec(
        30.0,
        description="VIX level above which exposure is cut.",
        unit="VIX points",
        example=30.0,
        gt=0,
        le=150,
    )


class YieldCurveRegime(_OverlayBase):
    """Risk-off while the long-minus-short Treasury yield spread is below `threshold`."""

    kind: Literal["yield_curve"] = spec(
        description="Regime kind.", unit="kind", example="yield_curve"
    )
    short: Literal["1m", "3m", "6m", "1y", "2y"] = spec(
        "3m", description="Short tenor.", unit="tenor", example="3m"
    )
    long: Literal["5y", "7y", "10y", "20y", "30y"] = spec(
        "10y", description="Long tenor.", unit="tenor", example="10y"
    )
    threshold: float = spec(
        0.0,
        description="Spread (long - short) below which exposure is cut; 0 = inverted curve.",
        unit="decimal yield (0.01 = 1 pp)",
        example=0.0,
        ge=-0.1,
        le=0.1,
    )


RegimeSpec = Annotated[NoRegime | VixRegime | YieldCurveRegime, Field(discriminator="kind")]
