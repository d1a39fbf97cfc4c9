"""The window registry: one record per strategy, broker account and rebalance window.

`qtc rebalance` claims `<state>/runs/<broker>-<account>/<strategy>/<window>.json` before it
sends anything and marks it `done` at the end. A second run for the same strategy, account
and window is refused unless forced; an unfinished one (`started`) is what `--resume` picks up.
While a run executes it holds an exclusive lock on `<window>.lock` (with its pid), so a
second `qtc rebalance` racing it is told that a run is in progress, not to resume it.

The folder keeps its historical name, `runs/`, so that every record written by an earlier
qtc is still found (a window that ran stays refused; an unfinished run can still be resumed).

The window is the rebalance period of the signal date, by the strategy's frequency:
`2024-03-28` (daily), `2024-W13` (weekly, ISO week), `2024-03` (monthly), `2024-Q1`
(quarterly). So a monthly strategy trades once per calendar month, whatever day it runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from qtc.atomic import write_text_atomic
from qtc.errors import QtcError, UserError

FOLDER = "runs"
"""The registry's folder in qtc's state folder (its name before it was the window registry)."""

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_name(text: str) -> str:
    """A file-name-safe form of a strategy, broker or account name."""
    return _SAFE.sub("_", text)


def window_of(frequency: str, day: dt.date) -> str:
    """The rebalance window containing `day` for a frequency."""
    if frequency == "daily":
        return day.isoformat()
    if frequency == "weekly":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if frequency == "monthly":
        return f"{day.year}-{day.month:02d}"
    if frequency == "quarterly":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    raise QtcError(f"unknown rebalance frequency {frequency!r}")


@dataclass(frozen=True)
class WindowRecord:
    """One executed (or executing) order plan in its window.

    Attributes:
        strategy: Strategy name.
        window: Rebalance window (see `window_of`).
        broker: Broker kind.
        account: Broker account id.
        order_plan: Absolute path of the order-plan file.
        plan_sha256: Its sha256.
        audit_log: Absolute path of the audit log.
        status: `"started"` or `"done"`.
    """

    strategy: str
    window: str
    broker: str
    account: str
    order_plan: str
    plan_sha256: str
    audit_log: str
    status: str = "started"


def read_record(path: Path) -> WindowRecord | None:
    """The record at `path`, or None when there is none.

    Raises:
        QtcError: The file exists but is not a window record.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return WindowRecord(**data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        raise QtcError(
            f"run record {path} is unreadable: {exc}",
            hint="inspect it; delete it only if you are sure that run is over",
        ) from exc


def _write(path: Path, record: WindowRecord) -> None:
    text = json.dumps(asdict(record), indent=2, sort_keys=True) + "\n"
    write_text_atomic(path, text, mode=0o600)


@dataclass(frozen=True)
class WindowRegistry:
    """The records of qtc's state folder `state` (see the module docstring)."""

    state: Path

    def path(self, record: WindowRecord) -> Path:
        """Where the record of a strategy, account and window lives."""
        account = safe_name(f"{record.broker}-{record.account}")
        return self.state / FOLDER / account / safe_name(record.strategy) / f"{record.window}.json"

    def claim(self, record: WindowRecord, *, force: bool) -> Path:
        """Register a run before anything is sent; refuse a second run in the same window.

        Call it while holding `lock`.

        Args:
            record: The run to start (status `"started"`).
            force: Start even though the window already has a run.

        Returns:
            The record's path.

        Raises:
            QtcError: The window already has a run for this plan's strategy and account, and
                `force` is false (nothing was sent).
        """
        path = self.path(record)
        _refuse_existing(path, force=force)
        _write(path, record)
        return path

    def check(self, record: WindowRecord, *, force: bool) -> Path:
        """Refuse (without writing anything) when the window already has a run; return its path.

        Raises:
            QtcError: The window has a run and `force` is false.
        """
        path = self.path(record)
        _refuse_in_progress(path, record)
        _refuse_existing(path, force=force)
        return path

    @contextlib.contextmanager
    def lock(self, record: WindowRecord) -> Iterator[None]:
        """Hold the window's lock while a run executes (released when the process ends).

        Raises:
            QtcError: Another process holds it (nothing was sent).
        """
        path = lock_path(self.path(record))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise _in_progress(record, os.pread(fd, 32, 0)) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            yield
        finally:
            os.close(fd)

    def unfinished(self, strategy: str) -> list[WindowRecord]:
        """Every started-but-unfinished run of a strategy, on any account, oldest window first."""
        name = safe_name(strategy)
        found = []
        for path in sorted((self.state / FOLDER).glob(f"*/{name}/*.json")):
            record = read_record(path)
            if record is not None and record.status != "done":
                found.append(record)
        return found

    def unfinished_plan(self, strategy: str) -> Path:
        """The order plan of the strategy's one unfinished run.

        Raises:
            QtcError: The strategy has no unfinished run.
            UserError: It has several (the plan must be named).
        """
        runs = self.unfinished(strategy)
        if not runs:
            raise QtcError(f"{strategy} has no unfinished run; nothing to resume")
        if len(runs) > 1:
            listed = ", ".join(r.order_plan for r in runs)
            raise UserError(
                f"{strategy} has {len(runs)} unfinished runs: {listed}",
                hint="name one: `qtc rebalance --apply ORDER_PLAN --resume`",
            )
        return Path(runs[0].order_plan)


def finish(path: Path, record: WindowRecord) -> WindowRecord:
    """Mark a run done."""
    done = replace(record, status="done")
    _write(path, done)
    return done


def lock_path(path: Path) -> Path:
    """The lock file beside a window record."""
    return path.with_suffix(".lock")


def _refuse_existing(path: Path, *, force: bool) -> None:
    existing = read_record(path)
    if existing is not None and not force:
        raise QtcError(_refusal(existing), hint=_refusal_hint(existing))


def _refuse_in_progress(path: Path, record: WindowRecord) -> None:
    """Refuse when another process is executing this window right now."""
    lock = lock_path(path)
    if not lock.exists():
        return
    fd = os.open(lock, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _in_progress(record, os.pread(fd, 32, 0)) from None
    finally:
        os.close(fd)


def _in_progress(record: WindowRecord, pid: bytes) -> QtcError:
    who = pid.decode(errors="replace").strip() or "?"
    return QtcError(
        f"another qtc rebalance (pid {who}) is executing {record.strategy} on "
        f"{record.broker}:{record.account} in window {record.window} right now; "
        "nothing was sent",
        hint="wait for it to finish and look at its output; --resume is only for a run "
        "that stopped",
    )


def _refusal(existing: WindowRecord) -> str:
    what = "already ran" if existing.status == "done" else "has an unfinished run"
    return (
        f"{existing.strategy} {what} on {existing.broker}:{existing.account} in window "
        f"{existing.window} (order plan {existing.order_plan}); nothing was sent"
    )


def _refusal_hint(existing: WindowRecord) -> str:
    if existing.status == "done":
        return "one run per rebalance window; pass --force to trade again anyway"
    return "finish it with `qtc rebalance --resume` (or pass --force to start a new plan)"
