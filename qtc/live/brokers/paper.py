"""`PaperBroker`: qtc's own simulated account, persisted on disk as one JSON file.

The file holds cash, positions, every order by client order id and the fill history. It is
re-read at the start of every call and replaced atomically (mode 0600) after every change, so
the file is the truth: a new `PaperBroker` on the same path, in this process or after a crash,
sees the same account. Market orders fill immediately at the price the `prices` callable gives
(the lake's latest prices), with the strategy's commission and slippage. A limit order that is
not marketable stays open and is checked again, at fresh prices, on each later call.

Concurrent writers are not supported (one `qtc rebalance` per account at a time).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from qtc.atomic import write_text_atomic
from qtc.live.brokers.base import (
    Account,
    BrokerDisconnected,
    BrokerError,
    OrderRequest,
    OrderState,
    Position,
)
from qtc.live.brokers.capabilities import Capabilities
from qtc.live.brokers.mock import Fill, Ledger

FORMAT_VERSION = 1
"""Version of the paper account file."""

PriceSource = Callable[[list[str]], dict[str, float]]
"""Returns the latest price of each requested symbol (missing symbols are left out)."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class PaperBroker:
    """A simulated account on disk that fills market orders at supplied prices.

    Attributes:
        name: `"paper"`.
        capabilities: Simulated, on disk, priced at the lake's closes it is given.
        supports_fractional: Whether fractional quantities are accepted.
        path: The account file.
    """

    name = "paper"
    capabilities: ClassVar[Capabilities] = Capabilities(
        fractional=True, prices="lake_closes", persistence="disk", simulated=True
    )

    def __init__(
        self,
        path: Path,
        *,
        prices: PriceSource,
        initial_cash: float = 100_000.0,
        commission_bps: float = 0.0,
        slippage_bps: float = 0.0,
        fractional: bool = True,
        account_id: str = "paper",
    ) -> None:
        """Create a disconnected broker; `connect()` opens (or creates) the account file.

        Args:
            path: The account file (created on first `connect`).
            prices: Price source used for fills, quotes and equity.
            initial_cash: Cash of a new account (ignored when the file exists).
            commission_bps: Commission per fill, in bps of notional.
            slippage_bps: Fill price worse than the price by this many bps.
            fractional: Whether fractional quantities are accepted.
            account_id: Account id of a new account (the file's id wins when it exists).
        """
        self.path = Path(path)
        self.supports_fractional = fractional
        self._prices = prices
        self._initial_cash = float(initial_cash)
        self._commission_bps = float(commission_bps)
        self._slippage_bps = float(slippage_bps)
        self._account_id = account_id
        self._connected = False

    # -- Broker protocol -----------------------------------------------------------------------

    def connect(self) -> None:
        """Open the account file, creating a new account if there is none."""
        if not self.path.exists():
            ledger = self._new_ledger()
            self._save(ledger, self._account_id)
        self._load()
        self._connected = True

    def disconnect(self) -> None:
        """Close the session."""
        self._connected = False

    def account(self) -> Account:
        """Return cash and equity (positions at the latest prices)."""
        ledger, account_id = self._open("account")
        prices = self._quotes(list(ledger.positions))
        return ledger.account(account_id, prices)

    def positions(self) -> list[Position]:
        """Return holdings sorted by symbol."""
        ledger, _ = self._open("positions")
        return ledger.sorted_positions()

    def quotes(self, symbols: list[str]) -> dict[str, float]:
        """Return the latest prices of the symbols that have one."""
        self._open("quotes")
        return self._quotes(symbols)

    def submit(self, order: OrderRequest) -> OrderState:
        """Submit (idempotent on `client_order_id`); a marketable order fills at once."""
        ledger, account_id = self._open("submit")
        known = ledger.existing(order)
        if known is not None:
            return known
        quote = self._quotes([order.symbol]).get(order.symbol)
        reason = ledger.check(order, quote)
        if reason or quote is None:
            state = ledger.record(order, "rejected", reason=reason)
        else:
            state = ledger.record(order, "accepted", quote=quote)
            if ledger.marketable(order.client_order_id, quote):
                state = ledger.fill(order.client_order_id, state.quantity, quote)
        self._save(ledger, account_id)
        return state

    def order(self, client_order_id: str) -> OrderState | None:
        """Return an order's state, or `None` if unknown."""
        ledger, _ = self._open("order")
        return ledger.get(client_order_id)

    def open_orders(self) -> list[OrderState]:
        """Return the open (unfilled limit) orders."""
        ledger, _ = self._open("open_orders")
        return ledger.open_orders()

    def cancel(self, client_order_id: str) -> OrderState:
        """Cancel an open order (a closed one is returned unchanged)."""
        ledger, account_id = self._open("cancel")
        before = ledger.get(client_order_id)
        state = ledger.cancel(client_order_id)
        if state != before:
            self._save(ledger, account_id)
        return state

    def cancel_all(self) -> list[OrderState]:
        """Cancel every open order."""
        ledger, account_id = self._open("cancel_all")
        out = [ledger.cancel(s.client_order_id) for s in ledger.open_orders()]
        if out:
            self._save(ledger, account_id)
        return out

    # -- extras --------------------------------------------------------------------------------

    def fills(self) -> list[Fill]:
        """Return the fill history (oldest first)."""
        ledger, _ = self._open("fills")
        return list(ledger.fills)

    # -- internals -----------------------------------------------------------------------------

    def _new_ledger(self) -> Ledger:
        return Ledger(
            cash=self._initial_cash,
            fractional=self.supports_fractional,
            commission_bps=self._commission_bps,
            slippage_bps=self._slippage_bps,
            id_prefix="paper",
            clock=_now,
        )

    def _open(self, method: str) -> tuple[Ledger, str]:
        """Check the connection, load the account and fill any open limit order now marketable."""
        if not self._connected:
            raise BrokerDisconnected(f"paper broker is not connected ({method})")
        ledger, account_id = self._load()
        open_orders = ledger.open_orders()
        if open_orders:
            prices = self._quotes(sorted({s.symbol for s in open_orders}))
            changed = False
            for state in open_orders:
                quote = prices.get(state.symbol)
                if quote is not None and ledger.marketable(state.client_order_id, quote):
                    ledger.fill(state.client_order_id, state.remaining, quote)
                    changed = True
            if changed:
                self._save(ledger, account_id)
        return ledger, account_id

    def _quotes(self, symbols: list[str]) -> dict[str, float]:
        if not symbols:
            return {}
        got = self._prices(list(symbols))
        return {s: float(got[s]) for s in symbols if s in got}

    def _load(self) -> tuple[Ledger, str]:
        try:
            data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise BrokerError(
                f"paper account file {self.path} is missing",
                hint="connect() creates a new account; was the file deleted while in use?",
            ) from exc
        except (OSError, ValueError) as exc:
            raise BrokerError(f"cannot read paper account file {self.path}: {exc}") from exc
        if data.get("version") != FORMAT_VERSION:
            raise BrokerError(
                f"paper account file {self.path} has unsupported version {data.get('version')!r}"
            )
        ledger = self._new_ledger()
        try:
            ledger.load(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise BrokerError(f"paper account file {self.path} is corrupt: {exc}") from exc
        return ledger, str(data.get("account_id", self._account_id))

    def _save(self, ledger: Ledger, account_id: str) -> None:
        data: dict[str, Any] = {
            "version": FORMAT_VERSION,
            "account_id": account_id,
            "currency": "USD",
        }
        data.update(ledger.to_dict())
        write_text_atomic(self.path, json.dumps(data, indent=2) + "\n", mode=0o600)
