"""The account equity history qtc keeps, for the drawdown check nanobook does not do.

`<state>/equity/<broker>-<account>.json` maps dates to the account's equity as qtc saw it
(before and after each executed rebalance, and at each `qtc reconcile`). The drawdown check
compares today's equity with the peak of that history.
"""

from __future__ import annotations

import json
from pathlib import Path

from qtc.atomic import write_text_atomic
from qtc.errors import QtcError
from qtc.live.windows import safe_name


def history_path(state: Path, broker: str, account: str) -> Path:
    """The equity history file of a broker account."""
    return state / "equity" / (safe_name(f"{broker}-{account}") + ".json")


def read_history(path: Path) -> dict[str, float]:
    """Date (ISO) -> equity; empty when there is no history yet.

    Raises:
        QtcError: The file exists but is not an equity history.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise QtcError(f"equity history {path} is unreadable: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, int | float) for v in data.values()):
        raise QtcError(f"equity history {path} is not a date -> equity object")
    return {str(k): float(v) for k, v in data.items()}


def record_equity(path: Path, day: str, equity: float) -> None:
    """Add (or, for the same day, raise to the larger of) an equity observation."""
    history = read_history(path)
    history[day] = max(equity, history.get(day, equity))
    text = json.dumps(dict(sorted(history.items())), indent=2) + "\n"
    write_text_atomic(path, text, mode=0o600)


def peak_equity(path: Path) -> float | None:
    """The highest equity on record, or None without history."""
    history = read_history(path)
    return max(history.values()) if history else None
