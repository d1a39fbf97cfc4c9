"""One `ib_async` connection to TWS / IB Gateway: connect with pacing, run calls, map failures.

`ib_async` is imported here, on connect, never when qtc starts. Its blocking calls run the
asyncio event loop until IB answers; every call made through `Connection.call` has a timeout
(`Timeouts.request`) and turns a dropped socket, a refused connection or a timeout into
`BrokerDisconnected` (the connection is then closed: `open` it again).

**Connecting** synchronises what the adapter needs (positions, this client's open orders, the
day's completed orders and executions) and fails fast, without waiting out the timeout, when
TWS closes the socket or says the client id is in use (error 326).

**Pacing.** Connection attempts are at least `Timeouts.reconnect_interval` apart (TWS refuses
a client id until the previous socket with it is gone, and throttles clients that reconnect in
a loop); "client id in use" is retried `Timeouts.attempts` times. Requests are throttled by
`ib_async` itself to 45 messages a second, under IB's limit of 50.

**Logs.** `ib_async` logs orders (with the account code) and IB's messages at warning and error
level; its loggers are silenced (no record is even made), so nothing reaches a terminal or file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from qtc.live.brokers.base import BrokerDisconnected
from qtc.live.brokers.ibkr.settings import PORT_HINT, Endpoint, check_reachable
from qtc.live.brokers.ibkr.status import clean_message

if TYPE_CHECKING:
    from ib_async import IB

T = TypeVar("T")

CLIENT_ID_IN_USE = 326
"""IB's error: another API client is connected with this client id."""

_QUIET = ("ib_async", "eventkit")

_OPEN: dict[int, Connection] = {}
"""Every open connection of the process (`close_all` closes them)."""


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long to wait for TWS.

    Attributes:
        connect: Seconds to connect and synchronise.
        request: Seconds any one request may take before the line counts as lost.
        ack: Seconds `submit` waits for IB to acknowledge a new order.
        cancel: Seconds `cancel` waits for IB to confirm a cancel.
        reconnect_interval: Least seconds between two connection attempts.
        attempts: Connection attempts while the client id is still in use.
    """

    connect: float = 15.0
    request: float = 30.0
    ack: float = 5.0
    cancel: float = 10.0
    reconnect_interval: float = 1.0
    attempts: int = 3


class _Refused(Exception):  # noqa: N818 - internal signal, never escapes this module
    """TWS closed the connection or refused the client id while connecting."""

    def __init__(self, text: str, *, code: int | None = None) -> None:
        super().__init__(text)
        self.code = code


class Connection:
    """A (re)connectable session with TWS / IB Gateway."""

    def __init__(
        self,
        endpoint: Endpoint,
        timeouts: Timeouts,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create a closed connection to `endpoint`."""
        self.endpoint = endpoint
        self.timeouts = timeouts
        self.errors: dict[int, tuple[int, str]] = {}
        self._sleep = sleep
        self._clock = clock
        self._ib: IB | None = None
        self._last_attempt = -float("inf")

    @property
    def connected(self) -> bool:
        """Whether the API session is up."""
        return self._ib is not None and self._ib.isConnected()

    def open(self) -> None:
        """Connect and synchronise (idempotent).

        Raises:
            BrokerDisconnected: TWS cannot be reached, refused the client id, or timed out.
        """
        if self.connected:
            return
        self.close()
        where = self.endpoint
        check_reachable(where.host, where.port)
        _quiet_logs()
        problem = ""
        for _attempt in range(max(self.timeouts.attempts, 1)):
            self._pace()
            try:
                self._ib = self._connect()
                _OPEN[id(self)] = self
                return
            except _Refused as exc:
                problem = str(exc)
                if exc.code != CLIENT_ID_IN_USE:
                    break
        raise self._unreachable(problem)

    def close(self) -> None:
        """Disconnect (idempotent)."""
        ib, self._ib = self._ib, None
        self.errors = {}
        _OPEN.pop(id(self), None)
        if ib is not None:
            with contextlib.suppress(Exception):  # the socket may already be gone
                ib.disconnect()

    def call(self, method: str, run: Callable[[IB], T]) -> T:
        """Run one `ib_async` call; a lost line or a timeout becomes `BrokerDisconnected`."""
        ib = self.require(method)
        try:
            return run(ib)
        except OSError as exc:  # ConnectionError, TimeoutError (asyncio's too)
            self.close()
            text = clean_message(str(exc)) or type(exc).__name__
            raise BrokerDisconnected(
                f"IBKR connection lost during {method}: {text}",
                hint="check TWS / IB Gateway; qtc reconnects and asks before sending again",
            ) from None

    def require(self, method: str) -> IB:
        """The live `IB` client, or `BrokerDisconnected`."""
        if self._ib is None or not self._ib.isConnected():
            raise BrokerDisconnected(f"IBKR is not connected ({method})")
        return self._ib

    def wait(self, seconds: float) -> None:
        """Let `ib_async` process IB's messages for `seconds`."""
        self.call("wait", lambda ib: ib.sleep(seconds))

    # -- internals -------------------------------------------------------------------------------

    def _pace(self) -> None:
        pause = self._last_attempt + self.timeouts.reconnect_interval - self._clock()
        if pause > 0:
            self._sleep(pause)
        self._last_attempt = self._clock()

    def _connect(self) -> IB:
        from ib_async import IB, util

        ib = IB()
        ib.RequestTimeout = self.timeouts.request
        where, limit = self.endpoint, self.timeouts.connect
        try:
            util.run(_connect(ib, where.host, where.port, where.client_id, limit))
        except _Refused:
            raise
        except (OSError, asyncio.CancelledError) as exc:
            with contextlib.suppress(Exception):
                ib.disconnect()
            detail = clean_message(str(exc)) or type(exc).__name__
            raise _Refused(detail) from None
        ib.errorEvent += self._on_error
        return ib

    def _on_error(self, req_id: int, code: int, text: str, _contract: Any) -> None:
        if req_id >= 0:
            self.errors[req_id] = (code, text)

    def _unreachable(self, problem: str) -> BrokerDisconnected:
        where = self.endpoint
        return BrokerDisconnected(
            f"cannot connect to IBKR at {where.host}:{where.port} (client id "
            f"{where.client_id}): {problem}",
            hint=f"start TWS or IB Gateway with API socket clients enabled ({PORT_HINT}); "
            "another program may be using this client id",
        )


def close_all() -> None:
    """Close every open connection of the process.

    A session left open whose socket TWS later closes would, through `ib_async`'s global
    error event, cancel whatever blocking call another session is running then.
    """
    for connection in list(_OPEN.values()):
        connection.close()


async def _connect(ib: IB, host: str, port: int, client_id: int, timeout: float) -> None:
    """`ib.connectAsync`, failing as soon as TWS closes the socket or refuses the client id."""
    from ib_async.ib import StartupFetch

    fetch = StartupFetch.ORDERS_OPEN | StartupFetch.ORDERS_COMPLETE | StartupFetch.EXECUTIONS
    refused: asyncio.Future[_Refused] = asyncio.get_running_loop().create_future()

    def on_error(req_id: int, code: int, text: str, _contract: Any) -> None:
        if req_id == -1 and code == CLIENT_ID_IN_USE and not refused.done():
            refused.set_result(_Refused(f"{code} {clean_message(text)}", code=code))

    def on_api_error(text: str) -> None:
        if not refused.done():
            refused.set_result(_Refused(clean_message(text)))

    def on_closed(_text: str) -> None:
        if not refused.done():
            refused.set_result(_Refused("TWS closed the connection"))

    ib.errorEvent += on_error
    ib.client.apiError += on_api_error
    ib.client.conn.disconnected += on_closed
    task = asyncio.ensure_future(
        ib.connectAsync(host, port, client_id, timeout=timeout, fetchFields=fetch)
    )
    try:
        done, _ = await asyncio.wait(
            {task, refused}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        ib.errorEvent -= on_error
        ib.client.apiError -= on_api_error
        ib.client.conn.disconnected -= on_closed
    if task in done:
        task.result()
        return
    task.cancel()
    with contextlib.suppress(BaseException):
        await task
    if refused in done:
        raise refused.result()
    raise TimeoutError(f"no answer within {timeout:g} s")


def _quiet_logs() -> None:
    """Silence `ib_async`'s loggers (they print orders, with the account, at warning level)."""
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
