"""Where the IBKR adapter connects: `[broker]` settings, environment overrides, the test guard.

`QTC_IBKR_HOST`, `QTC_IBKR_PORT` and `QTC_IBKR_CLIENT_ID` override the section's `host`, `port`
and `client_id`. IBKR has no API keys: TWS / IB Gateway is already logged in, and whoever
reaches its API port trades its accounts; nothing here is a secret.

**Test guard.** Under pytest (`PYTEST_CURRENT_TEST` is set) or with `QTC_IBKR_LOOPBACK_ONLY=1`,
`check_reachable` refuses any host that is not a loopback address and the standard TWS / IB
Gateway ports (7496, 7497, 4001, 4002), so a test can reach a fake TWS on an ephemeral local
port and never a real TWS, even one running on the developer's machine.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qtc.errors import UserError
from qtc.live.brokers.base import BrokerDisconnected

if TYPE_CHECKING:
    from qtc.manifest.broker import IbkrBroker as IbkrSettings

ENV_HOST = "QTC_IBKR_HOST"
ENV_PORT = "QTC_IBKR_PORT"
ENV_CLIENT_ID = "QTC_IBKR_CLIENT_ID"
ENV_LOOPBACK_ONLY = "QTC_IBKR_LOOPBACK_ONLY"
"""`1`: refuse non-loopback hosts and the standard TWS / Gateway ports (set by the tests)."""

MAX_CLIENT_ID = 2**31 - 1
"""IB API client ids are 32-bit signed integers."""

STANDARD_PORTS = {
    7496: "TWS live",
    7497: "TWS paper",
    4001: "IB Gateway live",
    4002: "IB Gateway paper",
}
"""The ports TWS and IB Gateway listen on by default."""

PORT_HINT = "TWS: 7497 paper, 7496 live; IB Gateway: 4002 paper, 4001 live"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where to connect and as whom.

    Attributes:
        host: TWS / Gateway host.
        port: TWS / Gateway API port.
        client_id: IB API client id (keep it stable: only that client can cancel its orders).
        account: The account to trade, or `None` for the login's only account.
    """

    host: str
    port: int
    client_id: int
    account: str | None


def endpoint(section: IbkrSettings, environ: Mapping[str, str]) -> Endpoint:
    """The section's endpoint with the environment's overrides.

    Raises:
        UserError: An override is malformed (a port out of range, a client id that does not
            fit IB's 32 bits, ...).
    """
    host = _env_host(environ.get(ENV_HOST), section.host)
    port = _env_int(environ.get(ENV_PORT), section.port, ENV_PORT, 1, 65535, "a port, e.g. 7497")
    client_id = _env_int(
        environ.get(ENV_CLIENT_ID),
        section.client_id,
        ENV_CLIENT_ID,
        0,
        MAX_CLIENT_ID,
        f"a whole number from 0 to {MAX_CLIENT_ID}, e.g. 1",
    )
    return Endpoint(host, port, client_id, section.account)


def loopback_only(environ: Mapping[str, str] | None = None) -> bool:
    """Whether connections are limited to a fake TWS (under pytest, or when asked)."""
    env = os.environ if environ is None else environ
    return env.get(ENV_LOOPBACK_ONLY) == "1" or "PYTEST_CURRENT_TEST" in env


def check_reachable(host: str, port: int) -> None:
    """In test mode, refuse anything but a non-standard port on the loopback address.

    Reads the process environment itself (a caller cannot pass a different one).

    Raises:
        BrokerDisconnected: Test mode and a real TWS could be behind `host`:`port`.
    """
    if not loopback_only():
        return
    if not is_loopback(host):
        raise BrokerDisconnected(
            f"test mode: refusing to connect to IBKR at {host}:{port} (loopback addresses only)",
            hint=f"tests talk to a fake TWS on 127.0.0.1; unset {ENV_LOOPBACK_ONLY} otherwise",
        )
    if port in STANDARD_PORTS:
        raise BrokerDisconnected(
            f"test mode: refusing to connect to port {port} ({STANDARD_PORTS[port]}): a real "
            "TWS may be listening there",
            hint="tests talk to a fake TWS on an ephemeral port",
        )


def is_loopback(host: str) -> bool:
    """Whether `host` is `localhost` or a loopback IP address."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


def _env_host(value: str | None, default: str) -> str:
    if value is None:
        return default
    if not value or any(c.isspace() or not c.isprintable() for c in value):
        raise UserError(
            f"{ENV_HOST}={_shown(value)} is not a host name",
            hint=f"set {ENV_HOST} to a host name or IP address, e.g. 127.0.0.1",
        )
    return value


def _env_int(value: str | None, default: int, name: str, low: int, high: int, expected: str) -> int:
    if value is None:
        return default
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise UserError(
            f"{name}={_shown(value)} is not valid",
            hint=f"set {name} to {expected} (from {low} to {high})",
        )
    return int(text)
