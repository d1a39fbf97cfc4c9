"""The IBKR order journal: what qtc sent to each IB account, kept on disk.

IB itself is asked first about every order (by its `orderRef`), but TWS and IB Gateway forget
orders when they restart (daily): the journal is what lets a resume after a restart refuse to
send an order again whose outcome it can no longer see. One JSON file per account,
`<state>/ibkr/orders-<account>.json` (mode 0600, atomic writes), client order id ->

* the request and the `orderRef` it went out with, the API client id and IB order id;
* the date it was sent (the local date; TWS's memory is one trading day);
* IB's perm id once IB acknowledged the order (0 before: the order may not have arrived);
* the order's final state once seen (filled, canceled, rejected).

An entry is written *before* the order goes out, again when IB acknowledges it and when it
closes: at most three writes per order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qtc.atomic import write_text_atomic
from qtc.live.brokers.base import BrokerError, OrderRequest, OrderState

VERSION = 2
"""Format of the journal (1 was the nanobook adapter's order map, in another file)."""

_ACCOUNT = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(slots=True)
class Entry:
    """One order qtc sent to IB.

    Attributes:
        request: What was asked.
        order_ref: The `orderRef` it carries at IB.
        client_id: The API client id that placed it (only that client can cancel it).
        order_id: IB's order id (per client id).
        sent_on: The local date it was sent, ISO.
        perm_id: IB's permanent id once IB acknowledged the order, else 0.
        state: Its final state, once seen.
    """

    request: OrderRequest
    order_ref: str
    client_id: int
    order_id: int
    sent_on: str
    perm_id: int = 0
    state: OrderState | None = None


class Journal:
    """The journal of one account (bound on connect, once the account is known)."""

    def __init__(self, folder: Path) -> None:
        """Create an unbound journal whose files live in `folder`."""
        self.folder = Path(folder)
        self.path: Path | None = None
        self._entries: dict[str, Entry] = {}

    def bind(self, account: str) -> None:
        """Read (or start) the journal of `account`.

        Raises:
            BrokerError: The account code cannot be a file name, or the file is damaged.
        """
        if not _ACCOUNT.match(account):
            raise BrokerError(f"IBKR reported an account code qtc cannot use: {account[:64]!r}")
        self.path = self.folder / f"orders-{account}.json"
        self._entries = self._load(self.path)

    def get(self, client_order_id: str) -> Entry | None:
        """The entry of a client order id, if qtc sent it."""
        return self._entries.get(client_order_id)

    def by_ref(self, order_ref: str) -> str | None:
        """The client order id an `orderRef` belongs to, if qtc sent it."""
        for coid, entry in self._entries.items():
            if entry.order_ref == order_ref:
                return coid
        return None

    def put(self, entry: Entry) -> None:
        """Record (or replace) an entry and write the file.

        The file is read again first, so entries another qtc process wrote since (a `qtc kill`
        during a run) are kept.
        """
        if self.path is not None:
            self._entries = self._load(self.path)
        self._entries[entry.request.client_order_id] = entry
        self._save()

    def _save(self) -> None:
        if self.path is None:
            raise BrokerError("the IBKR order journal is not bound to an account (connect first)")
        data = {
            "version": VERSION,
            "orders": {coid: _to_json(e) for coid, e in self._entries.items()},
        }
        write_text_atomic(self.path, json.dumps(data, indent=2) + "\n", mode=0o600)

    @staticmethod
    def _load(path: Path) -> dict[str, Entry]:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise BrokerError(f"cannot read the IBKR order journal {path}: {exc}") from None
        try:
            data = json.loads(text)
            if data.get("version") != VERSION:
                raise ValueError(f"unsupported version {data.get('version')!r}")
            return {coid: _from_json(raw) for coid, raw in data["orders"].items()}
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BrokerError(
                f"the IBKR order journal {path} is damaged: {exc}",
                hint="restore it from a backup; qtc will not guess which orders it sent",
            ) from None


def _to_json(entry: Entry) -> dict[str, Any]:
    return {
        "request": asdict(entry.request),
        "order_ref": entry.order_ref,
        "client_id": entry.client_id,
        "order_id": entry.order_id,
        "sent_on": entry.sent_on,
        "perm_id": entry.perm_id,
        "state": None if entry.state is None else asdict(entry.state),
    }


def _from_json(raw: Mapping[str, Any]) -> Entry:
    state = raw["state"]
    return Entry(
        request=OrderRequest(**raw["request"]),
        order_ref=str(raw["order_ref"]),
        client_id=int(raw["client_id"]),
        order_id=int(raw["order_id"]),
        sent_on=str(raw["sent_on"]),
        perm_id=int(raw["perm_id"]),
        state=None if state is None else OrderState(**state),
    )
