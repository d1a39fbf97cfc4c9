"""`[risk]`: one declaration, checked in backtests and before every live order."""

from __future__ import annotations

from qtc.manifest.base import Section, spec


class RiskSection(Section):
    """Portfolio limits."""

    max_position_pct: float = spec(
        1.0,
        description="Largest weight any one name may have.",
        unit="fraction of equity",
        example=0.08,
        gt=0,
        le=1,
    )
    max_leverage: float = spec(
        1.0,
        description="Gross exposure limit (nanobook cannot borrow: above 1 is rejected).",
        unit="multiple of equity",
        example=1.0,
        gt=0,
        le=10,
    )
    max_drawdown_pct: float | None = spec(
        None,
        description=(
            "Drawdown from the equity peak that moves the portfolio to cash until the next "
            "rebalance (backtest) or blocks new buys (live); unset = no limit."
        ),
        unit="fraction of peak equity",
        example=0.25,
        gt=0,
        lt=1,
    )
    allow_short: bool = spec(
        False, description="Allow negative weights.", unit="boolean", example=False
    )
    max_short_pct: float = spec(
        0.0,
        description="Largest total short exposure when shorts are allowed.",
        unit="fraction of equity",
        example=0.3,
        ge=0,
        le=1,
    )
    max_order_value: float | None = spec(
        None,
        description="Largest single order notional (live); unset = no limit.",
        unit="USD",
        example=100_000.0,
        gt=0,
    )
