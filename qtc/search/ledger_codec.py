"""Exact, compact encodings of a trial's dates and returns, and trials as insertable columns.

Returns are stored as little-endian float64 bytes (exact, 8 bytes a day); dates as
little-endian int32 days since 1970-01-01 in a calendar row shared by every trial on
the same dates, keyed by the first 16 hex digits of the sha256 of those bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from qtc.compile.fingerprint import canonical_json

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike, NDArray

    from qtc.search.ledger import TrialRecord

HEADLINE = ("sharpe", "cagr", "max_drawdown", "volatility", "total_return")
"""Metrics stored in their own DOUBLE columns (all metrics are also kept as JSON)."""


def encode_returns(returns: ArrayLike) -> bytes:
    """Daily returns as little-endian float64 bytes."""
    import numpy as np

    return np.ascontiguousarray(returns, dtype="<f8").tobytes()


def decode_returns(blob: bytes) -> NDArray[np.float64]:
    """Daily returns from `encode_returns` bytes."""
    import numpy as np

    return np.frombuffer(blob, dtype="<f8").astype(np.float64)


def as_days(dates: ArrayLike) -> NDArray[np.datetime64]:
    """Dates (dates, datetime64 values or ISO strings) as a datetime64[D] array."""
    import numpy as np

    return np.asarray(dates, dtype="datetime64[D]")


def encode_days(days: NDArray[np.datetime64]) -> bytes:
    """Dates as little-endian int32 days since 1970-01-01."""
    return days.astype("int64").astype("<i4").tobytes()


def decode_days(blob: bytes) -> NDArray[np.datetime64]:
    """Dates from `encode_days` bytes, as datetime64[D]."""
    import numpy as np

    return np.frombuffer(blob, dtype="<i4").astype("int64").astype("datetime64[D]")


def calendar_id(days_blob: bytes) -> str:
    """Content key of a calendar."""
    return hashlib.sha256(days_blob).hexdigest()[:16]


def metrics_json(metrics: Mapping[str, float]) -> str:
    """All metrics as canonical JSON; NaN and infinities become null (JSON has neither)."""
    return canonical_json({k: _finite_or_none(v) for k, v in metrics.items()})


def trial_columns(
    trials: Sequence[TrialRecord], created_at: dt.datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The trials and their distinct calendars as dicts of numpy columns (for DuckDB)."""
    import numpy as np

    rows: dict[str, list[Any]] = {name: [] for name in TRIAL_COLUMNS}
    calendars: dict[str, tuple[bytes, NDArray[np.datetime64]]] = {}
    for trial in trials:
        cal = _calendar_of(trial, calendars)
        for name, value in _trial_row(trial, cal).items():
            rows[name].append(value)
    columns = {name: _column(values) for name, values in rows.items()}
    columns["created_at"] = np.full(len(trials), np.datetime64(created_at, "us"))
    return columns, _calendar_columns(calendars)


TRIAL_COLUMNS = (
    "family",
    "strategy",
    "search_id",
    "kind",
    "trial_number",
    "variant_fingerprint",
    "params",
    "status",
    "reason",
    *HEADLINE,
    "metrics",
    "calendar_id",
    "n_days",
    "returns",
)


def _trial_row(trial: TrialRecord, cal: str | None) -> dict[str, Any]:
    """One trial's column values."""
    headline = {k: _finite_or_none(trial.metrics.get(k)) for k in HEADLINE}
    returns = None if trial.returns is None else encode_returns(trial.returns)
    return {
        "family": trial.family,
        "strategy": trial.strategy,
        "search_id": trial.search_id,
        "kind": trial.kind,
        "trial_number": trial.trial_number,
        "variant_fingerprint": trial.variant_fingerprint,
        "params": canonical_json(dict(trial.params)),
        "status": trial.status,
        "reason": trial.reason,
        **headline,
        "metrics": metrics_json(trial.metrics),
        "calendar_id": cal,
        "n_days": 0 if returns is None else len(returns) // 8,
        "returns": returns,
    }


def _calendar_of(
    trial: TrialRecord, calendars: dict[str, tuple[bytes, NDArray[np.datetime64]]]
) -> str | None:
    """The trial's calendar id, remembering the calendar for insertion."""
    if trial.dates is None:
        return None
    days = as_days(trial.dates)
    blob = encode_days(days)
    key = calendar_id(blob)
    calendars.setdefault(key, (blob, days))
    return key


def _calendar_columns(calendars: dict[str, tuple[bytes, NDArray[np.datetime64]]]) -> dict[str, Any]:
    """The distinct calendars as numpy columns (first and last date as days since 1970)."""
    import numpy as np

    items = list(calendars.items())
    return {
        "calendar_id": _column([k for k, _ in items]),
        "first_day": np.array([d[0] for _, (_, d) in items], dtype="datetime64[D]").astype("int64"),
        "last_day": np.array([d[-1] for _, (_, d) in items], dtype="datetime64[D]").astype("int64"),
        "n_days": np.array([d.size for _, (_, d) in items], dtype=np.int64),
        "days": _column([b for _, (b, _) in items]),
    }


def _column(values: list[Any]) -> Any:
    """A list as a numpy object column (None stays None, i.e. NULL)."""
    import numpy as np

    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _finite_or_none(value: Any) -> float | None:
    """A finite float, or None for missing, NaN or infinite values."""
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def loads(text: str) -> Any:
    """Read JSON stored by the ledger."""
    return json.loads(text)
