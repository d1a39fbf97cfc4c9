"""`[rebalance]` and `[costs]`: when and how the portfolio trades, and what it pays."""

from __future__ import annotations

from typing import Literal

from qtc.manifest.base import Section, spec


class RebalanceSection(Section):
    """Rebalance calendar, execution timing and order sizing."""

    frequency: Literal["daily", "weekly", "monthly", "quarterly"] = spec(
        "monthly",
        description="How often targets are recomputed (on the last trading day of the period).",
        unit="period",
        example="monthly",
    )
    execution: Literal["next_close", "close"] = spec(
        "next_close",
        description=(
            "`next_close`: signal at the close of the signal date, trade at the next close; "
            "`close`: trade at the signal close itself (lookahead)."
        ),
        unit="timing",
        example="next_close",
    )
    first: Literal["window_start", "first_period_end"] = spec(
        "window_start",
        description=(
            "First rebalance of a backtest: `window_start` trades on the window's first "
            "trading day (invested from the start); `first_period_end` stays in cash until "
            "the first period end, the common month-end convention."
        ),
        unit="choice",
        example="first_period_end",
    )
    initial_cash: float = spec(
        1_000_000.0,
        description="Starting equity of a backtest.",
        unit="USD",
        example=1_000_000.0,
        gt=0,
        le=1e12,
    )
    fractional_shares: bool = spec(
        True,
        description="Trade fractional shares (micro-shares); false = whole shares only.",
        unit="boolean",
        example=True,
    )
    no_trade_band_bps: float = spec(
        0.0,
        description="Skip a trade when the weight change is smaller than this.",
        unit="bps of equity",
        example=25.0,
        ge=0,
        le=10_000,
    )
    min_order_value: float = spec(
        0.0,
        description="Skip orders smaller than this notional.",
        unit="USD",
        example=100.0,
        ge=0,
    )
    max_signal_age_days: int = spec(
        2,
        description=(
            "Live trading: `qtc rebalance` sends nothing when the signal date is more than "
            "this many trading days before the day the orders go out (`--allow-stale` "
            "overrides)."
        ),
        unit="trading days",
        example=2,
        ge=0,
        le=10_000,
    )


class CostsSection(Section):
    """Trading costs charged by the engine on every fill."""

    commission_bps: float = spec(
        1.0, description="Commission on traded notional.", unit="bps", example=1.0, ge=0, le=1000
    )
    slippage_bps: float = spec(
        5.0,
        description="Fill price moved against the trade by this much.",
        unit="bps",
        example=5.0,
        ge=0,
        le=1000,
    )
    min_trade_fee: float = spec(
        0.0, description="Minimum commission per fill.", unit="USD", example=1.0, ge=0
    )
    sizing: Literal["gross", "net"] = spec(
        "gross",
        description=(
            "How targets pay their fees: `gross` sizes targets on pre-trade equity and trims "
            "the last buys to the cash left (vectorbt, bt); `net` sizes them on post-fee "
            "equity V' = V - fees, so holdings are exactly w x V' and cash ends near zero "
            "(spreadsheet and paper convention). Not with stops."
        ),
        unit="choice",
        example="net",
    )
