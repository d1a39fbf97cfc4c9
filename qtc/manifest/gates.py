"""`[validate]`: research settings and gates for `qtc validate`; a broken gate exits 1.

Every gate is optional: an unset gate is not checked. The statistics behind the signal
gates (`min_rank_ic`, `min_icir`, `min_quantile_spread`) are those of the composite score
at `horizon_days`; `min_oos_sharpe` is the stitched walk-forward out-of-sample Sharpe;
`max_turnover` the backtest's average one-way turnover per rebalance; `max_pbo` and
`min_deflated_sharpe` come from the trial ledger of the strategy's family (its sweeps and
evolutions). Settings that `qtc validate` options override: `n_quantiles` (`--quantiles`)
and `n_splits` (`--folds`).
"""

from __future__ import annotations

from typing import Literal

from qtc.manifest.base import Section, spec

WalkForward = Literal["expanding", "rolling"]


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
        description="Minimum rank IC information ratio of the score (mean / std of rank IC).",
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
    max_pbo: float | None = spec(
        None,
        description="Maximum probability of backtest overfitting of the strategy's family "
        "(CSCV over its trials in the trial ledger).",
        unit="probability",
        example=0.5,
        ge=0,
        le=1,
    )
    min_deflated_sharpe: float | None = spec(
        None,
        description="Minimum deflated Sharpe ratio of the strategy against its family's "
        "trials in the trial ledger.",
        unit="probability",
        example=0.95,
        ge=0,
        le=1,
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
        5,
        description="Walk-forward folds: out-of-sample test windows after the first training "
        "window.",
        unit="folds",
        example=5,
        ge=2,
        le=50,
    )
    walk_forward: WalkForward = spec(
        "expanding",
        description="Training windows of the walk-forward: `expanding` (everything before "
        "the test fold) or `rolling` (the length of the first training window).",
        unit="scheme",
        example="expanding",
    )
