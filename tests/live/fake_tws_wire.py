"""The IB API wire format, server side: framing, the requests the fake TWS reads, the answers it
writes (server version 178, the newest `ib_async` 2.1 speaks).

A message is a 4-byte big-endian length and the fields, each followed by a NUL byte. The client
opens with `API\\0` and a framed `v157..178`; the server answers with its version and time. Every
encoder below writes the fields in the order `ib_async.decoder.Decoder` reads them at version
178 (`test_ibkr.py` decodes each one with the real decoder).
"""

from __future__ import annotations

import socket
import struct
import zlib
from dataclasses import dataclass
from typing import Any

SERVER_VERSION = 178

# -- ids of the messages the client sends ---------------------------------------------------------
REQ_MKT_DATA = 1
CANCEL_MKT_DATA = 2
PLACE_ORDER = 3
CANCEL_ORDER = 4
REQ_OPEN_ORDERS = 5
REQ_ACCOUNT_UPDATES = 6
REQ_EXECUTIONS = 7
REQ_IDS = 8
REQ_CONTRACT_DATA = 9
REQ_AUTO_OPEN_ORDERS = 15
REQ_ALL_OPEN_ORDERS = 16
REQ_MANAGED_ACCTS = 17
REQ_CURRENT_TIME = 49
CONTRACT_DATA_END = 52
REQ_GLOBAL_CANCEL = 58
REQ_MARKET_DATA_TYPE = 59
REQ_POSITIONS = 61
START_API = 71
REQ_COMPLETED_ORDERS = 99

# -- ids of the messages the server sends ---------------------------------------------------------
TICK_PRICE = 1
ORDER_STATUS = 3
ERR_MSG = 4
OPEN_ORDER = 5
ACCT_VALUE = 6
PORTFOLIO_VALUE = 7
ACCT_UPDATE_TIME = 8
NEXT_VALID_ID = 9
CONTRACT_DATA = 10
EXECUTION_DATA = 11
MANAGED_ACCTS = 15
CURRENT_TIME = 49
OPEN_ORDER_END = 53
ACCT_DOWNLOAD_END = 54
EXECUTION_DATA_END = 55
TICK_SNAPSHOT_END = 57
MARKET_DATA_TYPE = 58
COMMISSION_REPORT = 59
POSITION_DATA = 61
POSITION_END = 62
COMPLETED_ORDER = 101
COMPLETED_ORDERS_END = 102

Fields = list[Any]


def frame(fields: Fields) -> bytes:
    """One framed message: the length, then every field followed by NUL."""
    payload = "".join(f"{_text(f)}\0" for f in fields).encode()
    return struct.pack(">I", len(payload)) + payload


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def read_exact(sock: socket.socket, size: int) -> bytes:
    """Read exactly `size` bytes; raise `ConnectionError` at end of stream."""
    chunks, left = [], size
    while left:
        chunk = sock.recv(left)
        if not chunk:
            raise ConnectionError("client closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_message(sock: socket.socket) -> list[str]:
    """Read one framed message and split it into fields."""
    (size,) = struct.unpack(">I", read_exact(sock, 4))
    fields = read_exact(sock, size).decode(errors="replace").split("\0")
    return fields[:-1] if fields and fields[-1] == "" else fields


def con_id(symbol: str) -> int:
    """A stable contract id per symbol."""
    return 100_000 + zlib.crc32(symbol.encode()) % 900_000


def _contract(symbol: str, exchange: str = "SMART") -> Fields:
    """conId .. tradingClass as openOrder, completedOrder, position and execDetails carry it."""
    return [con_id(symbol), symbol, "STK", "", 0.0, "", "", exchange, "USD", symbol, symbol]


# -- what the client sends -----------------------------------------------------------------------


@dataclass(frozen=True)
class PlacedOrder:
    """The fields of a placeOrder message the fake uses."""

    order_id: int
    symbol: str
    action: str
    quantity: float
    order_type: str
    limit_price: float | None
    tif: str
    account: str
    order_ref: str


def parse_place_order(fields: list[str]) -> PlacedOrder:
    """Read a placeOrder message: id, contract (12 fields), then the order's first fields."""
    contract = fields[2:14]
    rest = fields[14:]
    # rest: secIdType, secId, action, totalQuantity, orderType, lmtPrice, auxPrice, tif,
    # ocaGroup, account, openClose, origin, orderRef, transmit, ...
    limit = rest[5]
    return PlacedOrder(
        order_id=int(fields[1]),
        symbol=contract[1],
        action=rest[2],
        quantity=float(rest[3]),
        order_type=rest[4],
        limit_price=float(limit) if limit else None,
        tif=rest[7],
        account=rest[9],
        order_ref=rest[12],
    )


def parse_contract_request(fields: list[str]) -> tuple[int, str, str]:
    """Read a reqContractDetails message: request id, symbol, security type."""
    return int(fields[2]), fields[4], fields[5]


def parse_market_data_request(fields: list[str]) -> tuple[int, str, bool]:
    """Read a reqMktData message: request id, symbol, snapshot flag."""
    contract = fields[3:15]
    snapshot = fields[17] == "1"
    return int(fields[2]), contract[1], snapshot


# -- what the server sends -----------------------------------------------------------------------


def handshake(now: str) -> bytes:
    """The server's answer to the client's version range."""
    return frame([SERVER_VERSION, now])


def error(req_id: int, code: int, text: str) -> Fields:
    return [ERR_MSG, 2, req_id, code, text, ""]


def next_valid_id(order_id: int) -> Fields:
    return [NEXT_VALID_ID, 1, order_id]


def managed_accounts(codes: list[str]) -> Fields:
    return [MANAGED_ACCTS, 1, ",".join(codes)]


def current_time(epoch: int) -> Fields:
    return [CURRENT_TIME, 1, epoch]


@dataclass
class WireOrder:
    """What the fake knows of an order, as the encoders need it."""

    order_id: int
    client_id: int
    perm_id: int
    account: str
    symbol: str
    action: str
    quantity: float
    order_type: str
    limit_price: float | None
    tif: str
    order_ref: str
    status: str
    filled: float = 0.0
    avg_price: float = 0.0
    last_price: float = 0.0


def open_order(o: WireOrder) -> Fields:
    """openOrder (5) at server version 178."""
    limit = o.limit_price if o.limit_price is not None else ""
    head: Fields = [
        OPEN_ORDER, o.order_id, *_contract(o.symbol),
        o.action, o.quantity, o.order_type, limit, "", o.tif, "", o.account, "O", 0,
        o.order_ref, o.client_id, o.perm_id, 0, 0, 0.0, "", "", "", "", "",
    ]  # fmt: skip
    # modelCode .. deltaNeutralAuxPrice (29 fields), then continuousUpdate .. comboLegsDescrip
    middle: Fields = [""] * 29 + ["", "", "", "", "", "", ""]
    legs: Fields = [0, 0, 0, "", "", "", ""]  # legs, order legs, params; scale (3); hedgeType
    routing: Fields = [0, "", "", 0, 0, ""]  # optOutSmartRouting .. notHeld, dnc, algoStrategy
    state: Fields = [0, 0, o.status] + [""] * 12 + ["", "", 0, 0]
    tail: Fields = [0] + [""] * 16 + ["", "", ""] + ["", "", "", "", ""]
    return head + middle + legs + routing + state + tail


def contract_details(req_id: int, symbol: str) -> Fields:
    """contractDetails (10) of a US stock at server version 178."""
    head: Fields = [
        CONTRACT_DATA, req_id, symbol, "STK", "", 0.0, "", "SMART", "USD", symbol, "NMS",
        symbol, con_id(symbol), 0.01,
    ]  # fmt: skip
    details: Fields = [
        "", "ACTIVETIM,LMT,MKT", "SMART,NYSE", 1, "", f"{symbol} INC", "NYSE", "", "", "", "",
        "US/Eastern", "", "", "", "", 0,
    ]  # fmt: skip
    tail: Fields = [1, "", "", "26", "", "COMMON", 1, 1, 100]
    return head + details + tail


def order_status(o: WireOrder) -> Fields:
    """orderStatus (3): id, status, filled, remaining, average, permId, parent, last, client."""
    remaining = max(o.quantity - o.filled, 0.0) if o.status not in _DONE else 0.0
    return [
        ORDER_STATUS, o.order_id, o.status, o.filled, remaining, o.avg_price, o.perm_id, 0,
        o.last_price, o.client_id, "", 0.0,
    ]  # fmt: skip


_DONE = frozenset({"Filled", "Cancelled", "ApiCancelled", "Inactive"})


def completed_order(o: WireOrder, completed_time: str) -> Fields:
    """completedOrder (101) at server version 178."""
    limit = o.limit_price if o.limit_price is not None else ""
    head: Fields = [
        COMPLETED_ORDER, *_contract(o.symbol),
        o.action, o.quantity, o.order_type, limit, "", o.tif, "", o.account, "O", 0,
        o.order_ref, o.perm_id, 0, 0, 0.0, "", "", "", "",
    ]  # fmt: skip
    # modelCode .. deltaNeutralAuxPrice (23 fields), continuousUpdate .. comboLegsDescrip (5)
    middle: Fields = [""] * 23 + ["", "", "", "", ""]
    legs: Fields = [0, 0, 0, "", "", "", ""]
    routing: Fields = ["", "", 0, 0, ""]  # clearingAccount, clearingIntent, notHeld, dnc, algo
    state: Fields = [0, o.status, 0, 0, 0]  # solicited, status, randomize (2), conditions
    tail: Fields = ["", "", "", 0, 0, "", o.filled, 0, 0, "", 0, 0, 0, completed_time, o.status]
    return head + middle + legs + routing + state + tail + ["", "", "", "", ""]


@dataclass(frozen=True)
class WireExecution:
    """One execution as execDetails carries it."""

    exec_id: str
    order: WireOrder
    shares: float
    price: float
    cum_qty: float
    avg_price: float
    time: int


def exec_details(req_id: int, e: WireExecution) -> Fields:
    """execDetails (11) at server version 178."""
    side = "BOT" if e.order.action == "BUY" else "SLD"
    return [
        EXECUTION_DATA, req_id, e.order.order_id, *_contract(e.order.symbol, "NYSE"),
        e.exec_id, e.time, e.order.account, "NYSE", side, e.shares, e.price, e.order.perm_id,
        e.order.client_id, 0, e.cum_qty, e.avg_price, e.order.order_ref, "", "", "", 1, 0,
    ]  # fmt: skip


def commission_report(exec_id: str) -> Fields:
    return [COMMISSION_REPORT, 1, exec_id, 0.0, "USD", "", "", ""]


def position(account: str, symbol: str, quantity: float, avg_cost: float) -> Fields:
    return [POSITION_DATA, 3, account, *_contract(symbol), quantity, avg_cost]


def portfolio_value(
    account: str, symbol: str, quantity: float, price: float, avg_cost: float
) -> Fields:
    contract = _contract(symbol)
    contract[7] = "NYSE"  # primaryExchange takes the exchange's place here
    value = quantity * price
    unrealized = value - quantity * avg_cost
    return [PORTFOLIO_VALUE, 8, *contract, quantity, price, value, avg_cost, unrealized, 0.0,
            account]  # fmt: skip


def account_value(key: str, value: str, currency: str, account: str) -> Fields:
    return [ACCT_VALUE, 2, key, value, currency, account]


def tick_price(req_id: int, tick_type: int, price: float) -> Fields:
    return [TICK_PRICE, 6, req_id, tick_type, price, 100, 0]
