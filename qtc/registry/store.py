"""The registry's DuckDB file: schema, short-lived connections, lock retries, clear errors.

As the trial ledger: DuckDB lets one process write a file and no other open it meanwhile,
so no connection is kept. Each read opens the file read-only, each write opens it
read-write for one transaction. A file another process holds is retried with backoff for
`lock_timeout` seconds, then reported. A damaged file, or one of another schema version,
is an error whose hint is `qtc runs rebuild` (the registry is rebuilt from the artifacts).
A rebuild writes a new file beside the old one and renames it into place.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtc.registry.errors import RegistryError
from qtc.registry.record import Record

if TYPE_CHECKING:
    import duckdb

SCHEMA_VERSION = 1
LOCK_TIMEOUT_S = 5.0

SCHEMA = """
CREATE TABLE registry_info (schema_version INTEGER NOT NULL, created_at TIMESTAMP NOT NULL);
CREATE TABLE runs (
    folder VARCHAR PRIMARY KEY,
    run_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    strategy VARCHAR NOT NULL,
    fingerprint VARCHAR,
    status VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    strategy_file VARCHAR,
    git_revision VARCHAR,
    git_path VARCHAR,
    git_dirty BOOLEAN,
    window_start DATE,
    window_end DATE,
    sharpe DOUBLE,
    cagr DOUBLE,
    max_drawdown DOUBLE,
    metrics VARCHAR NOT NULL,
    dataset_hashes VARCHAR NOT NULL,
    versions VARCHAR NOT NULL
);
"""
"""One row per artifact folder; JSON columns hold the maps, three metrics are also columns."""

COLUMNS = (
    *("folder", "run_id", "kind", "strategy", "fingerprint", "status", "created_at"),
    *("strategy_file", "git_revision", "git_path", "git_dirty", "window_start", "window_end"),
    *("sharpe", "cagr", "max_drawdown", "metrics", "dataset_hashes", "versions"),
)
JSON_COLUMNS = ("metrics", "dataset_hashes", "versions")


def read_all(path: Path, lock_timeout: float = LOCK_TIMEOUT_S) -> list[Record]:
    """Every record in the file (which must exist).

    Raises:
        RegistryError: If it is locked too long, damaged or of another schema version.
    """
    import duckdb

    con = _connect(path, read_only=True, lock_timeout=lock_timeout)
    try:
        _check_version(path, con)
        rows = con.execute(f"SELECT {', '.join(COLUMNS)} FROM runs").fetchall()
    except duckdb.Error as exc:
        raise damaged(path, exc) from exc
    finally:
        con.close()
    return [_record(row) for row in rows]


def upsert(path: Path, records: list[Record], lock_timeout: float = LOCK_TIMEOUT_S) -> None:
    """Insert or replace records (by folder) in one transaction."""
    with _transaction(path, lock_timeout) as con:
        _delete(con, [r.folder for r in records])
        _insert(con, records)


def delete(path: Path, folders: list[str], lock_timeout: float = LOCK_TIMEOUT_S) -> None:
    """Remove the rows of these folders in one transaction."""
    with _transaction(path, lock_timeout) as con:
        _delete(con, folders)


def write_new(path: Path, records: list[Record]) -> None:
    """Replace the file with a new registry holding exactly `records` (atomic rename)."""
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    _remove_db(tmp)
    try:
        con = duckdb.connect(str(tmp))
        try:
            con.execute(SCHEMA)
            con.execute("INSERT INTO registry_info VALUES (?, now()::TIMESTAMP)", [SCHEMA_VERSION])
            _insert(con, records)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        Path(f"{path}.wal").unlink(missing_ok=True)  # a stale log must not replay onto it
        os.replace(tmp, path)
    except duckdb.Error as exc:
        raise RegistryError(f"could not write the run registry {path}: {exc}") from exc
    finally:
        _remove_db(tmp)


def _remove_db(path: Path) -> None:
    """Delete a DuckDB file and its write-ahead log, if present."""
    path.unlink(missing_ok=True)
    Path(f"{path}.wal").unlink(missing_ok=True)


def _insert(con: duckdb.DuckDBPyConnection, records: list[Record]) -> None:
    """Insert rows."""
    if not records:
        return
    marks = ", ".join("?" for _ in COLUMNS)
    con.executemany(f"INSERT INTO runs VALUES ({marks})", [_row(r) for r in records])


def _delete(con: duckdb.DuckDBPyConnection, folders: list[str]) -> None:
    """Delete the rows of these folders."""
    if folders:
        con.execute("DELETE FROM runs WHERE list_contains(?, folder)", [folders])


def _row(record: Record) -> list[Any]:
    """A record as a row of `runs`."""
    data = record.to_dict()
    metrics = record.metrics
    data.update(
        created_at=record.created_at.replace("T", " ").rstrip("Z"),
        sharpe=metrics.get("sharpe"),
        cagr=metrics.get("cagr"),
        max_drawdown=metrics.get("max_drawdown"),
    )
    for key in JSON_COLUMNS:
        data[key] = json.dumps(data[key])
    return [data[c] for c in COLUMNS]


def _record(row: tuple[Any, ...]) -> Record:
    """A row of `runs` as a record."""
    data = dict(zip(COLUMNS, row, strict=True))
    for key in JSON_COLUMNS:
        data[key] = json.loads(data[key])
    data["created_at"] = data["created_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
    for key in ("window_start", "window_end"):
        data[key] = data[key].isoformat() if data[key] is not None else None
    for key in ("sharpe", "cagr", "max_drawdown"):
        data.pop(key)
    return Record.from_dict(data)


def _check_version(path: Path, con: duckdb.DuckDBPyConnection) -> None:
    """Refuse a file that is not a registry of this schema version."""
    tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if not {"registry_info", "runs"} <= tables:
        raise damaged(path, ValueError(f"it has no registry tables (tables: {sorted(tables)})"))
    row = con.execute("SELECT max(schema_version) FROM registry_info").fetchone()
    version = None if row is None else row[0]
    if version != SCHEMA_VERSION:
        raise RegistryError(
            f"the run registry {path} has schema version {version}; this qtc reads version "
            f"{SCHEMA_VERSION}",
            hint="`qtc runs rebuild` rebuilds it from the artifact folders",
        )


@contextmanager
def _transaction(path: Path, lock_timeout: float) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection inside one transaction: committed on success, else rolled back."""
    import duckdb

    con = _connect(path, read_only=False, lock_timeout=lock_timeout)
    try:
        _check_version(path, con)
        con.begin()
        yield con
        con.commit()
    except BaseException as exc:
        with suppress(duckdb.Error):
            con.rollback()
        if isinstance(exc, duckdb.Error):
            raise RegistryError(f"could not write to the run registry {path}: {exc}") from exc
        raise
    finally:
        con.close()


def damaged(path: Path, exc: Exception) -> RegistryError:
    """The error for a registry file DuckDB cannot read."""
    return RegistryError(
        f"the run registry {path} is damaged or is not a qtc run registry: {exc}",
        hint="`qtc runs rebuild` replaces it with one rebuilt from the artifact folders",
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
            if "lock" not in str(exc).lower():
                raise damaged(path, exc) from exc
            if time.monotonic() + pause > deadline:
                raise RegistryError(
                    f"the run registry {path} is in use by another process; gave up after "
                    f"{lock_timeout:g} s",
                    hint="wait for the other qtc command to finish and run again",
                ) from exc
        time.sleep(pause)
        pause = min(pause * 2, 0.5)
