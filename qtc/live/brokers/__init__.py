"""Brokers behind one small protocol (`base.Broker`): `mock`, `paper`, `alpaca`, `ibkr`."""

from qtc.live.brokers.base import (
    FRACTIONAL_NOT_SUPPORTED,
    OPEN_STATUSES,
    Account,
    Broker,
    BrokerDisconnected,
    BrokerError,
    OrderRequest,
    OrderState,
    OrderStatus,
    OrderType,
    Position,
    Quote,
    Side,
)
from qtc.live.brokers.capabilities import Capabilities

__all__ = [
    "FRACTIONAL_NOT_SUPPORTED",
    "OPEN_STATUSES",
    "Account",
    "Broker",
    "BrokerDisconnected",
    "BrokerError",
    "Capabilities",
    "OrderRequest",
    "OrderState",
    "OrderStatus",
    "OrderType",
    "Position",
    "Quote",
    "Side",
]
