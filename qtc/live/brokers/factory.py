"""Build a broker adapter: the one place a broker is made, from its kind and settings.

An order plan stores the broker kind and its settings (the strategy's `[broker]` section:
account names, hosts, ports, the *names* of credential variables, never their values), so
`qtc rebalance --apply PLAN` reconnects to the same account. Credentials are read here, from
the environment, at the last moment. `capabilities(kind)` answers what a kind can do without
building it (the adapter classes declare it).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from qtc.errors import UserError
from qtc.live.brokers.base import Broker
from qtc.live.brokers.capabilities import Capabilities
from qtc.live.costs import Costs
from qtc.manifest.broker import AlpacaBroker, IbkrBroker, MockBroker, PaperBroker

KINDS = ("mock", "paper", "alpaca", "ibkr")
"""Broker kinds `--broker` accepts."""

_SECTIONS: dict[str, Any] = {
    "mock": MockBroker,
    "paper": PaperBroker,
    "alpaca": AlpacaBroker,
    "ibkr": IbkrBroker,
}


def broker_class(kind: str) -> type[Broker]:
    """The adapter class of a broker kind (imported on demand).

    Raises:
        UserError: `kind` is not a broker kind.
    """
    if kind == "mock":
        from qtc.live.brokers.mock import MockBroker as Mock

        return Mock
    if kind == "paper":
        from qtc.live.brokers.paper import PaperBroker as Paper

        return Paper
    if kind == "alpaca":
        from qtc.live.brokers.alpaca import AlpacaBroker as Alpaca

        return Alpaca
    if kind == "ibkr":
        from qtc.live.brokers.ibkr import IbkrAdapter

        return IbkrAdapter
    raise _unknown(kind)


def capabilities(kind: str) -> Capabilities:
    """What a broker kind can do (its adapter class's `capabilities`).

    Raises:
        UserError: `kind` is not a broker kind.
    """
    return broker_class(kind).capabilities


def _unknown(kind: object) -> UserError:
    return UserError(f"unknown broker {kind!r}", hint=f"use one of: {', '.join(KINDS)}")


def broker_settings(kind: str, section: Any) -> dict[str, Any]:
    """The settings of broker `kind`: the strategy's `[broker]` if it is that kind, else defaults.

    Raises:
        UserError: `kind` is not a broker kind.
    """
    if kind not in _SECTIONS:
        raise _unknown(kind)
    if section is not None and getattr(section, "kind", None) == kind:
        data: dict[str, Any] = section.model_dump(mode="json")
        return data
    default: dict[str, Any] = _SECTIONS[kind](kind=kind).model_dump(mode="json")
    return default


def build_broker(
    settings: Mapping[str, Any],
    *,
    prices: Mapping[str, float],
    costs: Costs,
    state: Path,
    environ: Mapping[str, str],
    initial_cash: float = 1_000_000.0,
) -> Broker:
    """A disconnected adapter for `settings` (as from `broker_settings`).

    Args:
        settings: Broker kind and settings.
        prices: Prices the brokers priced at the lake's closes fill at (the closes on the
            signal date, or a plan's prices).
        costs: The strategy's costs, charged by the simulated brokers.
        state: qtc's state folder (paper accounts, IBKR order journals).
        environ: Environment variables (credentials, host overrides).
        initial_cash: Cash of the in-memory mock account.

    Raises:
        UserError: The settings are invalid or a credential variable is missing.
    """
    kind = settings.get("kind")
    if kind == "mock":
        from qtc.live.brokers.mock import MockBroker as Mock

        return Mock(cash=initial_cash, prices=prices, account_id="mock-account")
    if kind == "paper":
        return _paper(settings, prices, costs, state)
    if kind == "alpaca":
        from qtc.live.brokers import alpaca

        return alpaca.from_settings(validated(AlpacaBroker, settings), environ)
    if kind == "ibkr":
        from qtc.live.brokers import ibkr

        return ibkr.from_settings(validated(IbkrBroker, settings), environ, state / "ibkr")
    raise _unknown(kind)


def connect_broker(
    kind: str,
    section: Any,
    account: str | None,
    *,
    prices: Mapping[str, float],
    state: Path,
    environ: Mapping[str, str],
) -> Broker:
    """A connected broker opened to look at or close an account (no costs charged).

    Args:
        kind: Broker kind.
        section: A strategy's `[broker]` section (its settings are used if it is `kind`).
        account: Another account than the settings' (for kinds that name accounts).
        prices: Prices a broker priced at the lake's closes quotes and fills at.
        state: qtc's state folder.
        environ: Environment variables (credentials).

    Raises:
        UserError: Unknown kind, invalid settings or missing credentials.
    """
    settings = broker_settings(kind, section)
    if account is not None and "account" in settings:
        settings["account"] = account
    broker = build_broker(settings, prices=prices, costs=Costs.free(), state=state, environ=environ)
    broker.connect()
    return broker


def require_saved_account(kind: str, account: str | None, state: Path) -> None:
    """Refuse to read an account kept in qtc's state folder before it exists.

    Raises:
        UserError: The kind keeps its accounts on disk and `account` (default: the kind's
            default account) has no file yet, or the name is invalid.
    """
    if kind not in KINDS or capabilities(kind).persistence != "disk":
        return  # an unknown kind is refused where the broker is built
    settings = broker_settings(kind, None)
    if account:
        settings["account"] = account
    name = validated(_SECTIONS[kind], settings).account
    path = saved_account_path(state, kind, name)
    if not path.is_file():
        raise UserError(
            f"no {kind} account {name!r} at {path}",
            hint=f"it is created by the first `qtc rebalance --broker {kind}`",
        )


def _paper(
    settings: Mapping[str, Any], prices: Mapping[str, float], costs: Costs, state: Path
) -> Broker:
    from qtc.live.brokers.paper import PaperBroker as Paper

    section = validated(PaperBroker, settings)

    def source(symbols: list[str]) -> dict[str, float]:
        return {s: prices[s] for s in symbols if s in prices}

    return Paper(
        paper_account_path(state, section.account),
        prices=source,
        initial_cash=section.initial_cash,
        commission_bps=costs.commission_bps,
        slippage_bps=costs.slippage_bps,
        account_id=section.account,
    )


def validated(model: Any, settings: Mapping[str, Any]) -> Any:
    """`settings` as a `[broker]` model, or a `UserError` naming each bad setting.

    Raises:
        UserError: A setting does not fit (e.g. a paper account name with `/`).
    """
    from pydantic import ValidationError

    try:
        return model.model_validate(dict(settings))
    except ValidationError as exc:
        bad = "; ".join(
            f"broker.{'.'.join(str(p) for p in e['loc'])} = {e.get('input')!r}: {e['msg']}"
            for e in exc.errors()
        )
        raise UserError(
            f"invalid {settings.get('kind')} broker setting ({bad})",
            hint="account names are 1-64 letters, digits, `_` or `-`; see `qtc schema`",
        ) from None


def saved_account_path(state: Path, kind: str, account: str) -> Path:
    """The file of an account a broker kind keeps in qtc's state folder."""
    return state / kind / f"{account}.json"


def paper_account_path(state: Path, account: str) -> Path:
    """The file of a paper account."""
    return saved_account_path(state, "paper", account)


def secret_values(settings: Mapping[str, Any], environ: Mapping[str, str]) -> list[str]:
    """The credential values a broker reads from the environment (to scrub from logs)."""
    names = [v for k, v in settings.items() if k.endswith("_env") and isinstance(v, str)]
    return [environ[n] for n in names if environ.get(n)]
