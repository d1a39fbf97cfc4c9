"""The trial ledger: every trial a strategy family has ever had, in one DuckDB file.

`qtc sweep` and `qtc evolve` record each trial (variant fingerprint, parameters, status,
metrics and daily returns) under its family (`qtc.search.family`). The selection-bias
statistics then use the family's true trial count and every trial's returns, not just
the current search's.

* One row per (family, variant fingerprint, search id): recording it again replaces it.
* A trial counts once per family however many searches ran it: `family_count` is the
  number of distinct variant fingerprints with status `ok` (a failed trial produced no
  Sharpe ratio that could have been selected, so it does not raise the bar).
* Family reads (`family_sharpes`, `family_returns`) take, per variant fingerprint, its
  most recent `ok` row, ordered by when that row was recorded (oldest first; ties by
  search id and trial number).
* Processes share the file: see `qtc.search.ledger_store` (short connections, lock
  retries). A batch is written in one transaction: all of it or nothing.

Importing this module is cheap; DuckDB and numpy load on first use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from qtc.search import ledger_codec as codec
from qtc.search.ledger_store import DEFAULT_LOCK_TIMEOUT, ensure_schema, reading, transaction

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike, NDArray

TrialKind = Literal["sweep", "evolve"]
TrialStatus = Literal["ok", "failed"]


@dataclass(frozen=True, slots=True)
class TrialRecord:
    """One trial to record.

    Attributes:
        family: The family key (`Family.key`).
        strategy: The strategy name.
        search_id: The id of the sweep or evolution that ran the trial.
        kind: `"sweep"` or `"evolve"`.
        trial_number: Position of the trial in its search (0-based).
        variant_fingerprint: The variant's plan fingerprint.
        params: The searched values, key path -> value.
        status: `"ok"`, or `"failed"` when the backtest did not complete.
        reason: Why it failed (empty when ok).
        metrics: Backtest metrics by name (`sharpe` annualised, `cagr`, `max_drawdown`, ...).
        dates: The trading dates of `returns`, strictly increasing (None when failed).
        returns: Daily returns, one per date, finite (None when failed).
    """

    family: str
    strategy: str
    search_id: str
    kind: TrialKind
    trial_number: int
    variant_fingerprint: str
    params: Mapping[str, Any]
    status: TrialStatus
    reason: str = ""
    metrics: Mapping[str, float] = field(default_factory=dict)
    dates: ArrayLike | None = None
    returns: ArrayLike | None = None

    def __post_init__(self) -> None:
        """Refuse records the ledger could not use (a programming error, hence ValueError)."""
        if self.kind not in ("sweep", "evolve"):
            raise ValueError(f"trial kind must be 'sweep' or 'evolve', got {self.kind!r}")
        if self.status not in ("ok", "failed"):
            raise ValueError(f"trial status must be 'ok' or 'failed', got {self.status!r}")
        if (self.dates is None) != (self.returns is None):
            raise ValueError("give both dates and returns, or neither")
        if self.returns is not None:
            _check_series(self.dates, self.returns)
        elif self.status == "ok":
            raise ValueError("an ok trial needs its dates and daily returns")


@dataclass(frozen=True, slots=True)
class TrialRow:
    """One recorded trial, without its returns."""

    family: str
    strategy: str
    search_id: str
    kind: str
    trial_number: int
    variant_fingerprint: str
    params: dict[str, Any]
    status: str
    reason: str
    sharpe: float | None
    cagr: float | None
    max_drawdown: float | None
    volatility: float | None
    total_return: float | None
    metrics: dict[str, Any]
    created_at: dt.datetime
    n_days: int


@dataclass(frozen=True, slots=True)
class FamilySummary:
    """One family of the ledger.

    Attributes:
        family: The family key.
        strategy: The strategy name.
        n_trials: Distinct variants with status ok (`Ledger.family_count`).
        n_failed: Failed trial rows.
        n_searches: Distinct search ids.
        first_at: When its first trial was recorded (UTC).
        last_at: When its last trial was recorded (UTC).
        best_sharpe: Highest annualised Sharpe ratio among ok trials (None if none).
    """

    family: str
    strategy: str
    n_trials: int
    n_failed: int
    n_searches: int
    first_at: dt.datetime
    last_at: dt.datetime
    best_sharpe: float | None


@dataclass(frozen=True, slots=True, eq=False)
class FamilyReturns:
    """A family's daily returns on the dates every one of its trials covers.

    Attributes:
        dates: The common dates, datetime64[D], increasing (T of them).
        variants: The variant fingerprint of each column (N of them).
        matrix: The (T, N) returns.
    """

    dates: NDArray[np.datetime64]
    variants: tuple[str, ...]
    matrix: NDArray[np.float64]


class Ledger:
    """The trial ledger in one DuckDB file (open it with `Ledger.open`)."""

    def __init__(self, path: Path, lock_timeout: float) -> None:
        self.path = path
        self.lock_timeout = lock_timeout

    @classmethod
    def open(cls, path: str | Path, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Ledger:
        """Open the ledger at `path`, creating the file and its tables if needed.

        Args:
            path: The DuckDB file.
            lock_timeout: Seconds to retry while another process holds the file.

        Raises:
            LedgerError: If the file stays locked, is damaged, is not a ledger, or has
                another schema version.
        """
        ledger = cls(Path(path), lock_timeout)
        ensure_schema(ledger.path, lock_timeout)
        return ledger

    def record(self, trials: Sequence[TrialRecord]) -> int:
        """Write trials in one transaction, replacing rows with the same key.

        The key is (family, variant fingerprint, search id); within the batch the last
        record of a key wins. Every row of the batch gets the same `created_at` (UTC).

        Returns:
            The number of rows written.

        Raises:
            LedgerError: If the file stays locked or the write fails (nothing is written).
        """
        latest = {(t.family, t.variant_fingerprint, t.search_id): t for t in trials}
        if not latest:
            return 0
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        rows, calendars = codec.trial_columns(list(latest.values()), now)
        with transaction(self.path, self.lock_timeout) as con:
            con.register("incoming_trials", rows)
            con.register("incoming_calendars", calendars)
            con.execute(_DELETE_REPLACED)
            con.execute(_INSERT_CALENDARS)
            con.execute(_INSERT_TRIALS)
        return len(latest)

    def family_count(self, family: str) -> int:
        """N for the statistics: distinct variant fingerprints of the family with status ok."""
        with reading(self.path, self.lock_timeout) as con:
            row = con.execute(_COUNT, [family]).fetchone()
        return 0 if row is None else int(row[0])

    def family_sharpes(self, family: str) -> NDArray[np.float64]:
        """The annualised Sharpe ratio of each ok variant (NaN where it was not finite).

        Same order as `family_returns().variants`. For the deflated Sharpe ratio's V on
        daily returns, divide the variance by the periods per year (252).
        """
        import numpy as np

        with reading(self.path, self.lock_timeout) as con:
            rows = con.execute(_LATEST_OK.format(columns="sharpe"), [family]).fetchall()
        return np.array([np.nan if s is None else s for (s,) in rows], dtype=np.float64)

    def family_returns(self, family: str) -> FamilyReturns:
        """Every ok variant's daily returns, aligned on the dates they all cover."""
        with reading(self.path, self.lock_timeout) as con:
            sql = _LATEST_OK.format(columns="variant_fingerprint, returns, calendar_id")
            rows = con.execute(sql, [family]).fetchall()
            ids = sorted({row[2] for row in rows})
            calendars = dict(con.execute(_CALENDARS, [ids]).fetchall()) if ids else {}
        return _aligned(rows, calendars)

    def families(self) -> list[FamilySummary]:
        """A summary of every family, by family key."""
        with reading(self.path, self.lock_timeout) as con:
            rows = con.execute(_FAMILIES).fetchall()
        return [FamilySummary(*row) for row in rows]

    def trials(self, *, family: str | None = None, search_id: str | None = None) -> list[TrialRow]:
        """Recorded trials (oldest first), optionally of one family and/or one search."""
        with reading(self.path, self.lock_timeout) as con:
            rows = con.execute(_TRIALS, [family, search_id]).fetchall()
        return [_trial_row(row) for row in rows]


def _check_series(dates: Any, returns: Any) -> None:
    """Dates strictly increasing, returns finite, equal lengths, at least one."""
    import numpy as np

    days = codec.as_days(dates)
    values = np.asarray(returns, dtype=np.float64)
    if days.ndim != 1 or values.ndim != 1 or days.size != values.size or days.size == 0:
        raise ValueError(f"need as many dates as returns (got {days.size} and {values.size})")
    if not np.isfinite(values).all():
        raise ValueError("the daily returns hold NaN or infinite values")
    if (np.diff(days.astype("int64")) <= 0).any():
        raise ValueError("the dates must be strictly increasing")


def _aligned(rows: list[tuple[Any, ...]], calendars: dict[str, bytes]) -> FamilyReturns:
    """Trials' returns restricted to the dates every calendar has."""
    import numpy as np

    days = {key: codec.decode_days(blob) for key, blob in calendars.items()}
    common = _intersection(list(days.values()))
    columns = [
        codec.decode_returns(blob)[np.searchsorted(days[cal], common)] for _, blob, cal in rows
    ]
    matrix = np.column_stack(columns) if columns else np.empty((common.size, 0))
    return FamilyReturns(common, tuple(row[0] for row in rows), matrix)


def _intersection(calendars: list[NDArray[np.datetime64]]) -> NDArray[np.datetime64]:
    """Dates present in every calendar."""
    import numpy as np

    if not calendars:
        return np.array([], dtype="datetime64[D]")
    common = calendars[0]
    for days in calendars[1:]:
        common = np.intersect1d(common, days, assume_unique=True)
    return common


def _trial_row(row: tuple[Any, ...]) -> TrialRow:
    """A `TrialRow` from a `_TRIALS` result row (params and metrics parsed)."""
    values = list(row)
    values[6] = codec.loads(values[6])
    values[14] = codec.loads(values[14])
    return TrialRow(*values)


_COLUMN_LIST = ", ".join(codec.TRIAL_COLUMNS)

_DELETE_REPLACED = """
DELETE FROM trials USING incoming_trials i
WHERE trials.family = i.family
  AND trials.variant_fingerprint = i.variant_fingerprint
  AND trials.search_id = i.search_id
"""

_INSERT_CALENDARS = """
INSERT INTO calendars
SELECT calendar_id, DATE '1970-01-01' + first_day::INTEGER, DATE '1970-01-01' + last_day::INTEGER,
       n_days::INTEGER, days::BLOB
FROM incoming_calendars i
WHERE NOT EXISTS (SELECT 1 FROM calendars c WHERE c.calendar_id = i.calendar_id)
"""

_INSERT_TRIALS = f"""
INSERT INTO trials ({_COLUMN_LIST}, created_at)
SELECT family, strategy, search_id, kind, trial_number::INTEGER, variant_fingerprint, params,
       status, reason, sharpe::DOUBLE, cagr::DOUBLE, max_drawdown::DOUBLE, volatility::DOUBLE,
       total_return::DOUBLE, metrics, calendar_id::VARCHAR, n_days::INTEGER, returns::BLOB,
       created_at
FROM incoming_trials
"""

_COUNT = """
SELECT count(DISTINCT variant_fingerprint) FROM trials WHERE family = ? AND status = 'ok'
"""

_LATEST_OK = """
SELECT {columns} FROM (
    SELECT *, row_number() OVER (
        PARTITION BY variant_fingerprint ORDER BY created_at DESC, search_id DESC, trial_number DESC
    ) AS newest
    FROM trials WHERE family = ? AND status = 'ok'
) WHERE newest = 1
ORDER BY created_at, search_id, trial_number, variant_fingerprint
"""

_CALENDARS = "SELECT calendar_id, days FROM calendars WHERE list_contains(?, calendar_id)"

_FAMILIES = """
SELECT family, arg_max(strategy, created_at),
       count(DISTINCT variant_fingerprint) FILTER (WHERE status = 'ok'),
       count(*) FILTER (WHERE status = 'failed'),
       count(DISTINCT search_id), min(created_at), max(created_at),
       max(sharpe) FILTER (WHERE status = 'ok')
FROM trials GROUP BY family ORDER BY family
"""

_TRIALS = """
SELECT family, strategy, search_id, kind, trial_number, variant_fingerprint, params, status,
       reason, sharpe, cagr, max_drawdown, volatility, total_return, metrics, created_at, n_days
FROM trials
WHERE ($1::VARCHAR IS NULL OR family = $1) AND ($2::VARCHAR IS NULL OR search_id = $2)
ORDER BY created_at, search_id, trial_number
"""
