"""`[validate]`: research gates for `qtc validate`; a broken gate exits 1."""

from __future__ import annotations

from qtc.manifest.base import Section, spec


class GatesSection(Section):
    """Minimum signal quality a strategy must show; unset gates are not checked."""

    min_rank_ic: float | None = spec(
        None,
        description="Minimum mean rank IC of the score vs forward returns.",
        unit="correlation",
        example=0.02,
        ge=-1,
        le=1,
    )
    min_icir: float | None = spec(
        None,
        description="Minimum IC information ratio (mean IC / std IC).",
        unit="ratio",
        example=0.2,
    )
    min_oos_sharpe: float | None = spec(
        None,
        description="Minimum walk-forward out-of-sample Sharpe.",
        unit="annualized Sharpe",
        example=0.3,
    )
    min_quantile_spread: float | None = spec(
        None,
        description="Minimum top-minus-bottom quantile forward return.",
        unit="return per horizon",
        example=0.002,
    )
    max_turnover: float | None = spec(
        None,
        description="Maximum average one-way turnover per rebalance.",
        unit="fraction of equity",
        example=0.5,
        gt=0,
    )
    horizon_days: int = spec(
        21,
        description="Forward-return horizon for IC and spreads.",
        unit="trading days",
        example=21,
        ge=1,
        le=252,
    )
    n_quantiles: int = spec(
        5, description="Buckets for the quantile spread.", unit="buckets", example=5, ge=2, le=20
    )
    n_splits: int = spec(
        5, description="Walk-forward splits.", unit="splits", example=5, ge=2, le=50
    )
