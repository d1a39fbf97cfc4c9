"""`[broker]`: where `qtc rebalance` sends orders, a tagged union on `kind`.

Credentials never live in the strategy file: each broker reads them from
environment variables (`QTC_ALPACA_KEY_ID`, `QTC_ALPACA_SECRET_KEY`, ...).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from qtc.manifest.base import Section, spec


class MockBroker(Section):
    """qtc's in-memory broker with scriptable fills (tests and demos)."""

    kind: Literal["mock"] = spec(description="Broker kind.", unit="kind", example="mock")


class PaperBroker(Section):
    """qtc's simulated account persisted on disk, filled at the lake's latest prices."""

    kind: Literal["paper"] = spec(description="Broker kind.", unit="kind", example="paper")
    account: str = spec(
        "default",
        description="Name of the paper account.",
        unit="account name",
        example="default",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
    )
    initial_cash: float = spec(
        1_000_000.0,
        description="Cash of a new paper account.",
        unit="USD",
        example=100_000.0,
        gt=0,
    )


class AlpacaBroker(Section):
    """Alpaca through the official `alpaca-py` client (paper endpoint by default)."""

    kind: Literal["alpaca"] = spec(description="Broker kind.", unit="kind", example="alpaca")
    paper: bool = spec(
        True, description="Use Alpaca's paper-trading endpoint.", unit="boolean", example=True
    )
    key_id_env: str = spec(
        "QTC_ALPACA_KEY_ID",
        description="Environment variable holding the API key id.",
        unit="variable name",
        example="QTC_ALPACA_KEY_ID",
        pattern=r"^[A-Z_][A-Z0-9_]*$",
    )
    secret_key_env: str = spec(
        "QTC_ALPACA_SECRET_KEY",
        description="Environment variable holding the API secret.",
        unit="variable name",
        example="QTC_ALPACA_SECRET_KEY",
        pattern=r"^[A-Z_][A-Z0-9_]*$",
    )


class IbkrBroker(Section):
    """Interactive Brokers through TWS or IB Gateway (the IB API, via `ib_async`)."""

    kind: Literal["ibkr"] = spec(description="Broker kind.", unit="kind", example="ibkr")
    host: str = spec(
        "127.0.0.1", description="TWS / Gateway host.", unit="host", example="127.0.0.1"
    )
    port: int = spec(
        7497,
        description="TWS / Gateway port (7497 = paper TWS).",
        unit="port",
        example=7497,
        ge=1,
        le=65535,
    )
    client_id: int = spec(
        1,
        description="API client id (keep it stable: only that client can cancel its orders).",
        unit="id",
        example=1,
        ge=0,
        le=2**31 - 1,
    )
    account: str | None = spec(
        None,
        description="Account to trade (not a secret); required when the login manages several.",
        unit="account id",
        example="DU1234567",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
    )


BrokerSpec = Annotated[
    MockBroker | PaperBroker | AlpacaBroker | IbkrBroker, Field(discriminator="kind")
]
