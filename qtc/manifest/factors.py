"""`[[factors]]`: per-symbol, per-date signals, a tagged union on `kind`.

Every factor has a `name` (used in key paths and scoring weights) and a `kind`.
Conventions: windows are in trading days; price factors read `adj_close`
(total return) unless they need OHLC; fundamental factors join the lake's
`fundamentals` point in time on their publish date.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from qtc.manifest.base import NAME_PATTERN, SYMBOL_PATTERN, FieldProblem, Section, spec

PointInTime = Literal["publish_date", "period_end"]


class _FactorBase(Section):
    """Fields every factor has."""

    name: str = spec(
        description="Identifier used in key paths (`factors.<name>.…`) and scoring weights.",
        unit="identifier",
        example="mom_12_1",
        pattern=NAME_PATTERN,
    )

    def warmup_days(self) -> int:
        """Trading days of history needed before the first valid value."""
        return 0


class MomentumFactor(_FactorBase):
    """Total return over `lookback` days, skipping the most recent `skip` days."""

    kind: Literal["momentum"] = spec(description="Factor kind.", unit="kind", example="momentum")
    lookback: int = spec(
        252, description="Return window length.", unit="trading days", example=252, gt=0, le=2520
    )
    skip: int = spec(
        21,
        description="Most recent days left out (short-term reversal).",
        unit="trading days",
        example=21,
        ge=0,
        le=252,
    )

    @model_validator(mode="after")
    def _skip_inside(self) -> MomentumFactor:
        if self.skip >= self.lookback:
            raise FieldProblem(
                "skip",
                "skip must be smaller than lookback",
                expected=f"skip < lookback ({self.lookback}), e.g. `skip = 21`",
            )
        return self

    def warmup_days(self) -> int:
        """Trading days of history needed before the first valid value."""
        return self.lookback + 1


class VolatilityFactor(_FactorBase):
    """Standard deviation of daily returns over `window` days."""

    kind: Literal["volatility"] = spec(
        description="Factor kind.", unit="kind", example="volatility"
    )
    window: int = spec(
        63, description="Rolling window.", unit="trading days", example=63, ge=2, le=2520
    )
    annualize: bool = spec(True, description="Multiply by sqrt(252).", unit="boolean", example=True)

    def warmup_days(self) -> int:
        """Trading days of history needed before the first valid value."""
        return self.window + 1


class RsiFactor(_FactorBase):
    """Wilder's relative strength index (0-100) of the adjusted close."""

    kind: Literal["rsi"] = spec(description="Factor kind.", unit="kind", example="rsi")
    period: int = spec(14, description="RSI period.", unit="trading days", example=14, ge=2, le=500)

    def warmup_days(self) -> int:
        """Trading days of history needed before the first valid value."""
        return self.period + 1


class MacdFactor(_FactorBase):
    """MACD of the adjusted close (EMA fast - EMA slow), its signal line or histogram."""

    kind: Literal["macd"] = spec(description="Factor kind.", unit="kind", example="macd")
    fast: int = spec(12, description="Fast EMA period.", unit="trading days", example=12, ge=1)
    slow: int = spec(26, description="Slow EMA period.", unit="trading days", example=26, ge=2)
    signal: int = spec(9, description="Signal EMA period.", unit="trading days", example=9, ge=1)
    output: Literal["hist", "macd", "signal"] = spec(
        "hist", description="Which line is the factor value.", unit="line", example="hist"
    )
    normalize: bool = spec(
        True,
        description="Divide by the close so values compare across prices.",
        unit="boolean",
        example=True,
    )

    @model_validator(mode="after")
    def _fast_below_slow(self) -> MacdFactor:
        if self.fast >= self.slow:
            raise FieldProblem(
                "fast",
                "fast must be smaller than slow",
                expected=f"fast < slow ({self.slow}), e.g. `fast = 12`",
            )
        return self

    def warmup_days(self) -> int:
        """Trading days of history needed before the first valid value."""
        return self.slow + self.signal


class BbandsFactor(_FactorBase):
    """Bollinger %b: where the close sits between the bands (0 = lower, 1 = upper)."""

    kind: Literal["bbands"] = spec(description="Factor kind.", unit="kind", example="bbands")
    period: int = spec(
        20, description="Moving-average period.", unit="trading days", example=20, ge=2
    )
    num_std: float = spec(
        2.0, description="Band width.", unit="standard deviations", example=2.0, gt=0, le=10
    )

    def warmup_days(self) -> int:
        """Trading days of history needed before the first valid value."""
        return self.period


class AtrFactor(_FactorBase):
    """Wilder's average true range from high/low/close."""

    kind: Literal["atr"] = spec(description="Factor kind.", unit="kind", example="atr")
    period: int = spec(14, description="ATR period.", unit="trading days", example=14, ge=1, le=500)
    normalize: bool = spec(
        True,
        description="Divide by the close (ATR as a fraction of price).",
        unit="boolean",
        example=True,
    )

    def warmup_days(self) -> int:
        """Trading days of history needed before the first valid value."""
        return self.period + 1


class _FundamentalFactor(_FactorBase):
    """Fields shared by factors read from the `fundamentals` dataset."""

    point_in_time: PointInTime = spec(
        "publish_date",
        description=(
            "Join fundamentals on their publish date (`publish_date`) or on the fiscal "
            "period end plus `lag_days` (`period_end`, lookahead-prone)."
        ),
        unit="join key",
        example="publish_date",
    )
    lag_days: int = spec(
        0,
        description="Extra calendar days before a report counts as known.",
        unit="calendar days",
        example=0,
        ge=0,
        le=730,
    )


class ValueFactor(_FundamentalFactor):
    """Cheapness: earnings yield or book-to-price."""

    kind: Literal["value"] = spec(description="Factor kind.", unit="kind", example="value")
    metric: Literal["earnings_yield", "book_to_price", "sales_to_price"] = spec(
        "earnings_yield", description="Which ratio.", unit="ratio", example="earnings_yield"
    )


class QualityFactor(_FundamentalFactor):
    """Profitability: return on equity or gross profitability (gross profit / assets)."""

    kind: Literal["quality"] = spec(description="Factor kind.", unit="kind", example="quality")
    metric: Literal["roe", "gross_profitability", "roa"] = spec(
        "roe", description="Which ratio.", unit="ratio", example="gross_profitability"
    )


class GrowthFactor(_FundamentalFactor):
    """Year-over-year growth of revenue or net income."""

    kind: Literal["growth"] = spec(description="Factor kind.", unit="kind", example="growth")
    metric: Literal["revenue_growth", "earnings_growth"] = spec(
        "revenue_growth",
        description="Which line item grows.",
        unit="ratio",
        example="revenue_growth",
    )


class SizeFactor(_FundamentalFactor):
    """Log market capitalisation (shares outstanding from fundamentals x close)."""

    kind: Literal["size"] = spec(description="Factor kind.", unit="kind", example="size")


class BetaFactor(_FactorBase):
    """Rolling OLS beta of daily returns against the benchmark."""

    kind: Literal["beta"] = spec(description="Factor kind.", unit="kind", example="beta")
    window: int = spec(252, description="Rolling window.", unit="trading days", example=252, ge=20)
    benchmark: str | None = spec(
        None,
        description="Benchmark symbol; default: `data.benchmark`.",
        unit="symbol",
        example="SPY",
        pattern=SYMBOL_PATTERN,
    )

    def warmup_days(self) -> int:
        """Trading days of history needed before the first valid value."""
        return self.window + 1


class GarchVolFactor(_FactorBase):
    """One-day-ahead volatility forecast from a GARCH(1,1)."""

    kind: Literal["garch_vol"] = spec(description="Factor kind.", unit="kind", example="garch_vol")
    method: Literal["ewma", "mle"] = spec(
        "ewma",
        description=(
            "`ewma`: nanobook's fixed-parameter recursion (fast); `mle`: fitted with `arch`."
        ),
        unit="method",
        example="ewma",
    )
    window: int = spec(
        500,
        description="Returns used for each forecast.",
        unit="trading days",
        example=500,
        ge=50,
        le=5000,
    )
    annualize: bool = spec(True, description="Multiply by sqrt(252).", unit="boolean", example=True)

    def warmup_days(self) -> int:
        """Trading days of history needed before the first valid value."""
        return self.window + 1


FundamentalFactor = ValueFactor | QualityFactor | GrowthFactor | SizeFactor

FactorSpec = Annotated[
    MomentumFactor
    | VolatilityFactor
    | RsiFactor
    | MacdFactor
    | BbandsFactor
    | AtrFactor
    | ValueFactor
    | QualityFactor
    | GrowthFactor
    | SizeFactor
    | BetaFactor
    | GarchVolFactor,
    Field(discriminator="kind"),
]

FACTOR_KINDS: tuple[str, ...] = (
    "momentum",
    "volatility",
    "rsi",
    "macd",
    "bbands",
    "atr",
    "value",
    "quality",
    "growth",
    "size",
    "beta",
    "garch_vol",
)
