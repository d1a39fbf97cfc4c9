"""The trial ledger's DuckDB file: schema, short-lived connections, lock retries, clear errors.

DuckDB lets one process write a file, and no other process read it meanwhile. So the
ledger never keeps a connection: each read opens the file read-only and each write
opens it read-write for one transaction, then closes it. A file locked by another
process is retried with backoff until `lock_timeout` seconds have passed, then reported
as a `LedgerError`; so is a damaged file or one from another schema version.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from qtc.search.errors import LedgerError

if TYPE_CHECKING:
    import duckdb

SCHEMA_VERSION = 1
DEFAULT_LOCK_TIMEOUT = 5.0
"""Seconds to keep retrying a ledger that another process holds."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger_info (
    schema_version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS calendars (
    calendar_id VARCHAR NOT NULL,
    first_date DATE NOT NULL,
    last_date DATE NOT NULL,
    n_days INTEGER NOT NULL,
    days BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    family VARCHAR NOT NULL,
    strategy VARCHAR NOT NULL,
    search_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL CHECK (kind IN ('sweep', 'evolve')),
    trial_number INTEGER NOT NULL,
    variant_fingerprint VARCHAR NOT NULL,
    params VARCHAR NOT NULL,
    status VARCHAR NOT NULL CHECK (status IN ('ok', 'failed')),
    reason VARCHAR NOT NULL,
    sharpe DOUBLE,
    cagr DOUBLE,
    max_drawdown DOUBLE,
    volatility DOUBLE,
    total_return DOUBLE,
    metrics VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    calendar_id VARCHAR,
    n_days INTEGER NOT NULL,
    returns BLOB
);
"""
"""Tables: the schema version, trading calendars (shared by trials) and one row per trial.

`calendars.days` holds the dates as little-endian int32 days since 1970-01-01;
`trials.returns` holds the daily returns as little-endian float64, one per calendar day.
"""

STAMP_VERSION = """
INSERT INTO ledger_info
    SELECT ?, now()::TIMESTAMP WHERE NOT EXISTS (SELECT 1 FROM ledger_info)
"""


def ensure_schema(path: Path, lock_timeout: float) -> None:
    """Create the ledger (or its tables) if needed, and refuse other schema versions.

    Raises:
        LedgerError: If the file is locked too long, damaged, not a ledger, or of
            another schema version.
    """
    if path.exists():
        version = _read_version(path, lock_timeout)
        if version is not None:
            _check_version(path, version)
            return
    path.parent.mkdir(parents=True, exist_ok=True)
    with transaction(path, lock_timeout) as con:
        con.execute(SCHEMA)
        con.execute(STAMP_VERSION, [SCHEMA_VERSION])


@contextmanager
def reading(path: Path, lock_timeout: float) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection, closed on exit; DuckDB errors become a `LedgerError`."""
    import duckdb

    if not path.exists():
        raise LedgerError(
            f"no trial ledger at {path}", hint="open it with `Ledger.open` to create it"
        )
    con = _connect(path, read_only=True, lock_timeout=lock_timeout)
    try:
        yield con
    except duckdb.Error as exc:
        raise damaged(path, exc) from exc
    finally:
        con.close()


@contextmanager
def transaction(path: Path, lock_timeout: float) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection inside one transaction: committed on success, else rolled back."""
    import duckdb

    con = _connect(path, read_only=False, lock_timeout=lock_timeout)
    try:
        con.begin()
        yield con
        con.commit()
    except BaseException as exc:
        _roll_back(con)
        if isinstance(exc, duckdb.Error):
            raise LedgerError(
                f"could not write to the trial ledger {path}: {exc}",
                hint="nothing of this batch was written; fix the cause and record it again",
            ) from exc
        raise
    finally:
        con.close()


def _roll_back(con: duckdb.DuckDBPyConnection) -> None:
    """Undo the open transaction (nothing to undo when DuckDB already aborted it)."""
    import duckdb

    with suppress(duckdb.Error):
        con.rollback()


def damaged(path: Path, exc: Exception) -> LedgerError:
    """The error for a ledger file DuckDB cannot read."""
    return LedgerError(
        f"the trial ledger {path} is damaged or is not a qtc trial ledger: {exc}",
        hint=(
            f"move it aside (e.g. `mv {path} {path}.damaged`) and run again; qtc starts a new "
            "ledger, whose trial counts start from zero"
        ),
    )


def _read_version(path: Path, lock_timeout: float) -> int | None:
    """The stored schema version; None for a file with no tables yet."""
    with reading(path, lock_timeout) as con:
        tables = {
            row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        if not tables:
            return None
        if "ledger_info" not in tables:
            raise damaged(
                path, ValueError(f"it has no ledger_info table (tables: {sorted(tables)})")
            )
        row = con.execute("SELECT max(schema_version) FROM ledger_info").fetchone()
    return None if row is None or row[0] is None else int(row[0])


def _check_version(path: Path, version: int) -> None:
    """Refuse a ledger of another schema version."""
    if version != SCHEMA_VERSION:
        newer = "a newer" if version > SCHEMA_VERSION else "an older"
        raise LedgerError(
            f"the trial ledger {path} has schema version {version}; this qtc reads version "
            f"{SCHEMA_VERSION} (it was written by {newer} qtc)",
            hint="use the qtc that wrote it, or give this qtc a new ledger path",
        )


def _connect(path: Path, *, read_only: bool, lock_timeout: float) -> duckdb.DuckDBPyConnection:
    """Open the file, retrying with backoff while another process holds its lock."""
    import duckdb

    deadline = time.monotonic() + lock_timeout
    pause = 0.02
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            if not _is_lock(exc):
                raise damaged(path, exc) from exc
            if time.monotonic() + pause > deadline:
                raise _locked(path, exc, lock_timeout) from exc
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


def _is_lock(exc: Exception) -> bool:
    """Whether DuckDB refused the file because another process holds its lock."""
    text = str(exc).lower()
    return "could not set lock" in text or "conflicting lock" in text


def _locked(path: Path, exc: Exception, lock_timeout: float) -> LedgerError:
    """The error for a ledger held by another process for longer than the timeout."""
    holder = str(exc).split("Conflicting lock is held in", 1)[-1].split(". See", 1)[0].strip()
    who = f": {holder}" if holder and holder != str(exc) else ""
    return LedgerError(
        f"the trial ledger {path} is in use by another process{who}; "
        f"gave up after {lock_timeout:g} s",
        hint="wait for the other qtc command to finish and run again",
    )
