"""`[scoring]` and `[selection]`: factors to one score per symbol, then what to hold."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from qtc.manifest.base import FieldProblem, Section, spec


class ScoringSection(Section):
    """How factors are normalized per date and combined into one score."""

    method: Literal["zscore", "rank"] = spec(
        "zscore",
        description="Per-date normalization of each factor: z-score or percentile rank.",
        unit="method",
        example="zscore",
    )
    winsorize: float | None = spec(
        3.0,
        description="Clip z-scores at +/- this many standard deviations; unset = no clipping.",
        unit="standard deviations",
        example=3.0,
        gt=0,
        le=20,
    )
    neutralize: Literal["none", "sector"] = spec(
        "none",
        description="Demean each factor within sectors before combining.",
        unit="method",
        example="sector",
    )
    normalization: Literal["cross_section", "full_sample"] = spec(
        "cross_section",
        description=(
            "`cross_section` normalizes each date on its own; `full_sample` uses statistics "
            "over all dates (lookahead)."
        ),
        unit="method",
        example="cross_section",
    )
    weights: dict[str, float] = spec(
        {},
        description="Factor name -> weight in the composite score; empty = all factors, weight 1.",
        unit="weight per factor (sign = direction)",
        example={"mom_12_1": 1.0, "vol_63": -0.5},
    )
    missing: Literal["drop", "zero"] = spec(
        "drop",
        description="A symbol missing a factor is dropped (`drop`) or gets a neutral 0 (`zero`).",
        unit="policy",
        example="drop",
    )


class SelectionSection(Section):
    """Which scored symbols are held: the top `top_n`, or a top `quantile`."""

    top_n: int | None = spec(
        None,
        description="Hold the N best-scored symbols; unset with `quantile` unset = hold all.",
        unit="symbols",
        example=50,
        gt=0,
    )
    quantile: float | None = spec(
        None,
        description="Hold the best fraction of scored symbols instead of a fixed count.",
        unit="fraction of scored symbols",
        example=0.2,
        gt=0,
        le=1,
    )
    buffer: int = spec(
        0,
        description="Hysteresis: a held symbol stays while its rank is within top_n + buffer.",
        unit="ranks",
        example=10,
        ge=0,
    )
    min_score: float | None = spec(
        None,
        description="Never hold a symbol whose composite score is below this.",
        unit="score",
        example=0.0,
    )

    @model_validator(mode="after")
    def _one_rule(self) -> SelectionSection:
        if self.top_n is not None and self.quantile is not None:
            raise FieldProblem(
                "quantile",
                "set either selection.top_n or selection.quantile, not both",
                expected="one of `top_n = 50` or `quantile = 0.2`",
                code="QTC113",
            )
        return self
