"""Interactive Brokers through TWS or IB Gateway, on `ib_async` (the successor of ib_insync).

`IbkrAdapter` speaks the IB API over TWS's socket (host, port and client id from `[broker]`,
overridden by `QTC_IBKR_HOST` / `QTC_IBKR_PORT` / `QTC_IBKR_CLIENT_ID`; paper TWS on 7497 by
default). What it does, and what qtc relies on:

* **Account and positions**: cash is IB's `TotalCashValue`, equity its `NetLiquidation`,
  downloaded afresh on every call; positions are the account's stocks (other instruments are
  left out; a short stock position is an error). A login that manages several accounts needs
  `[broker] account`.
* **Quotes**: snapshots, live where the login subscribes to market data, else delayed
  (`market`).
* **Orders**: whole-share market or limit DAY orders in US stocks through SMART, carrying qtc's
  client order id as IB's `orderRef`. Fills, partial fills, IB's rejects (error 201) and
  cancels are read from IB's order status and executions (`status`). A sell of more than is
  held (minus open sells) is refused before it reaches IB: IB would let a margin account go
  short.
* **Idempotency**: `submit` first asks IB for an order of the account with that `orderRef`
  (open or completed today, placed by any API client) and returns it instead of sending
  again. The order `journal` on disk, written before anything is sent, covers what IB forgets
  when TWS restarts: an order IB no longer reports is never sent again unless it was sent
  today and IB never acknowledged it (then it did not arrive).
* **Connection**: a dropped line, a refused connection and a request that times out raise
  `BrokerDisconnected`; `connect()` reconnects (pacing its attempts) and synchronises again,
  and the executor asks before sending again (`connection`).
* **Cancel**: IB lets only the API client that placed an order cancel it; keep `client_id`
  stable. `cancel_all` (the kill switch) also cancels other clients' and TWS's own orders with
  IB's global cancel when the login manages this one account.

Nothing secret passes through: IBKR's API has no keys (TWS is logged in already), the account
code is the user's own, and `ib_async`'s logs (which print orders) are silenced.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from qtc.live.brokers.ibkr.adapter import IbkrAdapter, disconnect_all, order_ref
from qtc.live.brokers.ibkr.connection import Timeouts
from qtc.live.brokers.ibkr.settings import endpoint

if TYPE_CHECKING:
    from qtc.manifest.broker import IbkrBroker as IbkrSettings

__all__ = ["IbkrAdapter", "Timeouts", "disconnect_all", "from_settings", "order_ref"]


def from_settings(section: IbkrSettings, environ: Mapping[str, str], folder: Path) -> IbkrAdapter:
    """A disconnected adapter from the strategy's `[broker]` section and the environment.

    Args:
        section: The `[broker]` section (`kind = "ibkr"`).
        environ: Environment variables (`QTC_IBKR_HOST`, `QTC_IBKR_PORT`, `QTC_IBKR_CLIENT_ID`).
        folder: Where the order journals live (`<state>/ibkr`).

    Raises:
        UserError: An override is malformed, or the client id does not fit IB's 32 bits.
    """
    where = endpoint(section, environ)
    return IbkrAdapter(
        folder, host=where.host, port=where.port, client_id=where.client_id, account=where.account
    )
