"""What a fill costs, as a typed value: simulated brokers charge it, buys keep cash for it.

Kept apart from the order rules (`qtc.live.rules`) so that brokers, which charge costs, and
the rules, which read brokers' positions, do not import each other.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from qtc.manifest.trading import CostsSection


class Costs(BaseModel):
    """What a fill costs: the simulated brokers charge it, and buys keep cash back for it.

    Attributes:
        commission_bps: Commission per fill, in bps of notional.
        slippage_bps: Fill price worse than the planned price by this many bps.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    commission_bps: float
    slippage_bps: float

    @classmethod
    def of(cls, section: CostsSection) -> Costs:
        """The costs of a strategy's `[costs]` section."""
        return cls(commission_bps=section.commission_bps, slippage_bps=section.slippage_bps)

    @classmethod
    def free(cls) -> Costs:
        """No costs (a broker opened to look at or close an account, not to rebalance it)."""
        return cls(commission_bps=0.0, slippage_bps=0.0)
