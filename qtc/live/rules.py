"""The trading rules a rebalance sizes orders by: its costs and its order rules.

Both come from the compiled Plan (its `run_engine` stage: the very costs and trading rules
the backtest ran with) and the broker, as typed values that travel into the order plan and
back: the executor and the re-check read the very rules the
plan was made with. A plan read from disk without one of them is refused (the model has no
defaults), never sized with a silent zero.

Conventions: costs and bands in basis points (1 bp = 0.01 %), values in account currency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from qtc.compile.stages import RunEngine
from qtc.live.brokers.base import Account, Position
from qtc.live.costs import Costs
from qtc.live.orders import PlannedOrder, plan_orders

CASH_BUFFER_MARGIN_BPS = 0.1
"""Kept back on top of the costs, so that float rounding never makes the last buy exceed the
cash."""


class OrderRules(BaseModel):
    """How target weights become orders (see `qtc.live.orders`).

    Attributes:
        fractional: Whether quantities may be fractional (the strategy asks and the broker
            instance supports it).
        no_trade_band_bps: Skip a symbol whose weight is within this many bps of its target.
        min_order_value: Skip orders below this notional.
        cash_buffer_bps: Share of the cash buys leave unspent for costs (`cash_buffer_bps`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    fractional: bool
    no_trade_band_bps: float
    min_order_value: float
    cash_buffer_bps: float

    @classmethod
    def of(cls, engine: RunEngine, *, broker_fractional: bool) -> OrderRules:
        """The plan's trading rules on a broker, with the cash buffer for the plan's costs."""
        return cls(
            fractional=engine.fractional_shares and broker_fractional,
            no_trade_band_bps=engine.no_trade_band_bps,
            min_order_value=engine.min_order_value,
            cash_buffer_bps=cash_buffer_bps(Costs.of(engine.costs)),
        )

    @classmethod
    def sells_only(cls, *, fractional: bool) -> OrderRules:
        """Rules for a plan of sells (a kill's flatten): no band, no minimum, no buffer."""
        return cls(
            fractional=fractional, no_trade_band_bps=0.0, min_order_value=0.0, cash_buffer_bps=0.0
        )

    def orders(
        self,
        targets: Mapping[str, float],
        positions: Sequence[Position],
        account: Account,
        prices: Mapping[str, float],
    ) -> list[PlannedOrder]:
        """The orders that move the account to the targets under these rules."""
        return plan_orders(
            targets,
            list(positions),
            account,
            prices,
            fractional=self.fractional,
            no_trade_band_bps=self.no_trade_band_bps,
            min_order_value=self.min_order_value,
            cash_buffer_bps=self.cash_buffer_bps,
        )


def cash_buffer_bps(costs: Costs) -> float:
    """The cash buys leave unspent: a buy at price p costs p (1 + slippage) (1 + commission).

    Plus `CASH_BUFFER_MARGIN_BPS`, so that float rounding never makes the last buy exceed the
    cash.
    """
    commission, slippage = costs.commission_bps, costs.slippage_bps
    return commission + slippage + commission * slippage / 10_000 + CASH_BUFFER_MARGIN_BPS
