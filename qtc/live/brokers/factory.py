"""Build the broker adapter an order plan names, from non-secret settings.

An order plan stores the broker kind and its settings (the strategy's `[broker]` section:
account names, hosts, ports, the *names* of credential variables, never their values), so
`qtc rebalance --apply PLAN` reconnects to the same account. Credentials are read here, from
the environment, at the last moment.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from qtc.errors import UserError
from qtc.live.brokers.base import Broker
from qtc.manifest.broker import AlpacaBroker, IbkrBroker, MockBroker, PaperBroker

KINDS = ("mock", "paper", "alpaca", "ibkr")
"""Broker kinds `--broker` accepts."""

_SECTIONS: dict[str, Any] = {
    "mock": MockBroker,
    "paper": PaperBroker,
    "alpaca": AlpacaBroker,
    "ibkr": IbkrBroker,
}


def broker_settings(kind: str, section: Any) -> dict[str, Any]:
    """The settings of broker `kind`: the strategy's `[broker]` if it is that kind, else defaults.

    Raises:
        UserError: `kind` is not a broker kind.
    """
    if kind not in _SECTIONS:
        raise UserError(f"unknown broker {kind!r}", hint=f"use one of: {', '.join(KINDS)}")
    if section is not None and getattr(section, "kind", None) == kind:
        data: dict[str, Any] = section.model_dump(mode="json")
        return data
    default: dict[str, Any] = _SECTIONS[kind](kind=kind).model_dump(mode="json")
    return default


def build_broker(
    settings: Mapping[str, Any],
    *,
    prices: Mapping[str, float],
    commission_bps: float,
    slippage_bps: float,
    state: Path,
    environ: Mapping[str, str],
    initial_cash: float = 1_000_000.0,
) -> Broker:
    """A disconnected adapter for `settings` (as from `broker_settings`).

    Args:
        settings: Broker kind and settings.
        prices: Prices the simulated brokers fill at (the lake's closes on the signal date).
        commission_bps: The strategy's commission, charged by the simulated brokers.
        slippage_bps: The strategy's slippage, charged by the simulated brokers.
        state: qtc's state folder (paper accounts, IBKR order ids).
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
        return _paper(settings, prices, commission_bps, slippage_bps, state)
    if kind == "alpaca":
        from qtc.live.brokers import alpaca

        return alpaca.from_settings(validated(AlpacaBroker, settings), environ)
    if kind == "ibkr":
        from qtc.live.brokers import ibkr

        section = validated(IbkrBroker, settings)
        orders = state / "ibkr" / f"{section.account or 'default'}.json"
        return ibkr.from_settings(section, environ, orders)
    raise UserError(f"unknown broker {kind!r}", hint=f"use one of: {', '.join(KINDS)}")


def _paper(
    settings: Mapping[str, Any],
    prices: Mapping[str, float],
    commission_bps: float,
    slippage_bps: float,
    state: Path,
) -> Broker:
    from qtc.live.brokers.paper import PaperBroker as Paper

    section = validated(PaperBroker, settings)

    def source(symbols: list[str]) -> dict[str, float]:
        return {s: prices[s] for s in symbols if s in prices}

    return Paper(
        paper_account_path(state, section.account),
        prices=source,
        initial_cash=section.initial_cash,
        commission_bps=commission_bps,
        slippage_bps=slippage_bps,
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


def paper_account_path(state: Path, account: str) -> Path:
    """The file of a paper account."""
    return state / "paper" / f"{account}.json"


def secret_values(settings: Mapping[str, Any], environ: Mapping[str, str]) -> list[str]:
    """The credential values a broker reads from the environment (to scrub from logs)."""
    names = [v for k, v in settings.items() if k.endswith("_env") and isinstance(v, str)]
    return [environ[n] for n in names if environ.get(n)]
