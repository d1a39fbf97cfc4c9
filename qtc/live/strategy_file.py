"""What the live commands read from a strategy file without compiling it.

Its `[broker]` section (the settings `positions` and `kill` connect with), its name (which
`--resume` looks unfinished runs up by), and how `--broker KIND` becomes `--set` overrides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qtc.errors import UserError

if TYPE_CHECKING:
    from qtc.manifest.strategy import Strategy


def valid_strategy(path: str) -> Strategy:
    """The strategy of a file (no overrides).

    Raises:
        UserError: The file is not a valid strategy.
    """
    from qtc.manifest.load import load_strategy

    strategy = load_strategy(path, None).strategy
    if strategy is None:
        raise UserError(f"{path} is not a valid strategy; run `qtc check` on it")
    return strategy


def broker_section(path: str | None) -> Any:
    """The `[broker]` section of a strategy file, or None without a file.

    Raises:
        UserError: The file is not a valid strategy.
    """
    return None if path is None else valid_strategy(path).broker


def broker_overrides(path: str, broker_kind: str | None, overrides: list[str] | None) -> list[str]:
    """The `--set` list with `--broker KIND` applied first when it is not the file's broker.

    Another broker kind starts from its own defaults (`broker = {kind = "paper"}`), so the
    file's settings for its broker (an IBKR account, a port) never leak into another
    broker, while every `--set broker.*` still applies (or is rejected with a diagnostic).
    """
    from qtc.manifest.load import load_strategy

    if broker_kind is None:
        return list(overrides or [])
    strategy = load_strategy(path, overrides).strategy
    if strategy is not None and strategy.broker.kind == broker_kind:
        return list(overrides or [])
    return [f'broker={{kind = "{broker_kind}"}}', *(overrides or [])]
