"""Write-ahead audit log for live trading: append-only, fsynced, hash-chained JSONL.

`qtc rebalance` writes an *intent* record and fsyncs it **before** every broker call and
a *result* record after it, so that after a crash `--resume` can tell which orders were
possibly sent (an intent without a result) and ask the broker about them instead of
sending them again (DESIGN §8, issue 7).

Record format (one JSON object per line, UTF-8)::

    {"event": "intent.submit", "hash": "...", "payload": {...}, "plan_hash": "...",
     "prev": "...", "run_id": "...", "seq": 1, "ts": "2025-01-02T15:30:00.000123+00:00"}

* `seq`: 1, 2, 3, ... contiguous within the file (across runs appending to it).
* `ts`: UTC ISO-8601 timestamp with microseconds.
* `run_id`, `plan_hash`: the run and the order-plan sha256 the record belongs to; one
  file may hold several runs and plans.
* `event`: a dotted lower-case name (`intent.submit`, `result.submit`, `fill`, ...).
* `payload`: a JSON object, scrubbed of secrets (below).
* `prev`: the `hash` of the previous record (`"0" * 64` for the first record).
* `hash`: sha256 hex of the record's canonical JSON without the `hash` key.

Canonical JSON is `json.dumps(..., sort_keys=True, separators=(",", ":"),
ensure_ascii=False, allow_nan=False)` encoded as UTF-8; each line is the canonical JSON
of the whole record (with `hash`) followed by a newline. Editing, deleting or reordering
records breaks the seq sequence or the chain, which `verify` reports line by line. The
chain is tamper *evidence*, not protection: whoever can write the file can rebuild it.

Files are created with mode 0600 (and an existing log is set back to 0600 when opened),
locked with `flock` while an `AuditLog` holds them (a second writer is refused), and each
`append` returns only after `os.fsync`. A log whose last line is incomplete or corrupt
(a crash mid-write, or an edit) is never appended to or truncated: `AuditLog` raises a
`QtcError` that asks the user to run `qtc audit verify`.

Secrets: `append` replaces, recursively through nested objects and lists, the value of
every key whose lower-cased name contains `key`, `secret`, `token`, `password`,
`passwd`, `auth` or `credential` with `"<redacted>"` (except the known-safe names in
`SAFE_KEYS`, such as `key_path`). Values passed as `redact=` to `AuditLog` (e.g. the
API key read from the environment) are also replaced wherever they occur inside string
values, so an error message that echoes a credential is scrubbed too.

Payload fields read by `replay` (and checked by `append` for these events):

* `intent.submit`: `client_order_id` (str), `symbol` (str), `side` (str),
  `quantity` (number) - written before the order is sent.
* `result.submit`: `client_order_id`, `status` (str, the broker's answer such as
  `"accepted"` or `"rejected"`), optional `broker_order_id` (str).
* `fill`: `client_order_id`, `quantity` (number, this fill only), `price` (number).
* `intent.cancel`: `client_order_id` - written before a cancel request.
* `result.cancel`: `client_order_id`, optional `status` (str, default `"cancelled"`).
* `order.status`: `client_order_id`, `status` - a status the broker reported on its own
  while qtc polled (e.g. an order the broker canceled or expired).

Other events (`reconcile`, `run.start`, ...) are logged and verified but ignored by
`replay`. Extra payload fields are always allowed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from qtc.errors import QtcError, UserError

GENESIS = "0" * 64
"""The `prev` of the first record in a file."""

REDACTED = "<redacted>"
"""What a scrubbed secret is replaced with."""

SECRET_MARKERS = ("key", "secret", "token", "password", "passwd", "auth", "credential")
"""Lower-case substrings that make a payload key a credential."""

SAFE_KEYS = frozenset({"client_order_id", "broker_order_id", "key_path"})
"""Payload keys that match no marker or are known not to hold a secret value."""

FIELDS = frozenset({"seq", "ts", "run_id", "plan_hash", "event", "payload", "prev", "hash"})
"""The keys of every record."""

FILE_MODE = 0o600

_EVENT_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_HEX64_RE = re.compile(r"^[0-9a-f]{64}$")
_VERIFY_HINT = "run `qtc audit verify {path}` to see every problem; the log was not modified"

# event -> (required fields, {field: expected kind}) for the events `replay` reads.
_STR, _NUM = "a string", "a number"
_EVENT_FIELDS: dict[str, dict[str, str]] = {
    "intent.submit": {"client_order_id": _STR, "symbol": _STR, "side": _STR, "quantity": _NUM},
    "result.submit": {"client_order_id": _STR, "status": _STR},
    "fill": {"client_order_id": _STR, "quantity": _NUM, "price": _NUM},
    "intent.cancel": {"client_order_id": _STR},
    "result.cancel": {"client_order_id": _STR},
    "order.status": {"client_order_id": _STR, "status": _STR},
}
_OPTIONAL_FIELDS: dict[str, dict[str, str]] = {
    "result.submit": {"broker_order_id": _STR},
    "result.cancel": {"status": _STR},
}


def canonical_json(obj: Any) -> bytes:
    """Return the canonical JSON encoding: sorted keys, no spaces, UTF-8, no NaN.

    Raises:
        ValueError: `obj` holds NaN or infinity, or a string that is not valid Unicode.
        TypeError: `obj` holds a value JSON cannot encode.
    """
    text = json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def record_hash(record: Mapping[str, Any]) -> str:
    """Return the sha256 hex of a record's canonical JSON without its `hash` key."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def _looks_secret(key: str) -> bool:
    lowered = key.lower()
    return lowered not in SAFE_KEYS and any(marker in lowered for marker in SECRET_MARKERS)


def scrub(value: Any, redact: Iterable[str] = ()) -> Any:
    """Return a copy of `value` with credentials replaced by `"<redacted>"`.

    Args:
        value: A JSON-like value (dicts, lists, tuples, scalars).
        redact: Secret strings to replace wherever they occur inside string values.

    Returns:
        The scrubbed copy; tuples become lists. Dict keys must be strings.

    Raises:
        QtcError: A dict key is not a string.
    """
    secrets = tuple(s for s in redact if s)
    return _scrub(value, secrets)


def _scrub(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise QtcError(f"audit payload keys must be strings, got {key!r}")
            out[key] = REDACTED if _looks_secret(key) else _scrub(item, secrets)
        return out
    if isinstance(value, list | tuple):
        return [_scrub(item, secrets) for item in value]
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _payload_problem(event: str, payload: Mapping[str, Any]) -> str | None:
    """Return why `payload` lacks the fields `replay` needs for `event`, or None."""
    checks = [(name, kind, True) for name, kind in _EVENT_FIELDS.get(event, {}).items()]
    checks += [(name, kind, False) for name, kind in _OPTIONAL_FIELDS.get(event, {}).items()]
    for name, kind, required in checks:
        if name not in payload:
            if required:
                return f"{event} payload needs {name!r} ({kind})"
            continue
        value = payload[name]
        if (kind == _STR and not isinstance(value, str)) or (
            kind == _NUM and not _is_number(value)
        ):
            return f"{event} payload field {name!r} must be {kind}, got {value!r}"
    return None


def _record_problems(record: Any) -> list[str]:
    """Return the shape and hash problems of one parsed record (not its chain links)."""
    if not isinstance(record, dict):
        return [f"not a JSON object but {type(record).__name__}"]
    problems = []
    missing = sorted(FIELDS - record.keys())
    extra = sorted(record.keys() - FIELDS)
    if missing:
        problems.append(f"missing field(s): {', '.join(missing)}")
    if extra:
        problems.append(f"unexpected field(s): {', '.join(extra)}")
    seq = record.get("seq")
    if "seq" in record and (not isinstance(seq, int) or isinstance(seq, bool) or seq < 1):
        problems.append(f"seq must be a positive integer, got {seq!r}")
    for name in ("ts", "run_id", "plan_hash", "event"):
        if name in record and not isinstance(record[name], str):
            problems.append(f"{name} must be a string, got {record[name]!r}")
    if "payload" in record and not isinstance(record["payload"], dict):
        problems.append("payload must be a JSON object")
    for name in ("prev", "hash"):
        value = record.get(name)
        if name in record and not (isinstance(value, str) and _HEX64_RE.match(value)):
            problems.append(f"{name} must be 64 lower-case hex digits, got {value!r}")
    if not problems and record_hash(record) != record["hash"]:
        problems.append("hash does not match the record's content (record was modified)")
    return problems


def _parse_line(raw: bytes) -> Any:
    """Parse one log line (without its newline); raises ValueError when it is not JSON."""
    return json.loads(raw.decode("utf-8"))


def _read_last_line(fd: int, size: int) -> bytes:
    """Return the last line of a file that ends with a newline (without that newline)."""
    pos = size - 1  # the final newline is at `pos`; the line is the bytes before it
    buf = b""
    while pos > 0:
        start = max(0, pos - 65536)
        buf = os.pread(fd, pos - start, start) + buf
        pos = start
        cut = buf.rfind(b"\n")
        if cut != -1:
            return buf[cut + 1 :]
    return buf


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AuditLog:
    """An append-only audit log file, open for appending.

    Opening validates the last record and continues its sequence and chain; use it as a
    context manager (or call `close`) to release the file and its lock.

    Example:
        >>> with AuditLog(path, run_id=run_id, plan_hash=plan_hash) as log:  # doctest: +SKIP
        ...     log.append("intent.submit", {"client_order_id": cid, "symbol": "AAPL",
        ...                                  "side": "buy", "quantity": 10})
        ...     result = broker.submit(order)
        ...     log.append("result.submit", {"client_order_id": cid, "status": result.status})
    """

    def __init__(
        self,
        path: Path,
        *,
        run_id: str,
        plan_hash: str,
        clock: Callable[[], datetime] = _utc_now,
        redact: Iterable[str] = (),
    ) -> None:
        """Open (or create) the log at `path`.

        Args:
            path: The JSONL file; it and its parent folder are created when missing.
            run_id: Identifier of this run, written in every record.
            plan_hash: sha256 of the order plan this run executes.
            clock: Returns the current time as a timezone-aware datetime (tests inject one).
            redact: Secret values (e.g. API keys) to scrub from string values.

        Raises:
            QtcError: The path is not a regular file, another process holds the log, or
                its last record is incomplete or corrupt.
        """
        if not run_id or not plan_hash:
            raise QtcError("an audit log needs a run id and an order-plan hash")
        self.path = Path(path)
        self.run_id = run_id
        self.plan_hash = plan_hash
        self._clock = clock
        self._secrets = tuple(s for s in redact if s)
        self._broken = False
        self._fd: int | None = None
        self._fd = self._open()
        try:
            self.seq, self.last_hash = self._read_tail(self._fd)
        except BaseException:
            self.close()
            raise

    def _open(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # O_RDWR (not O_WRONLY) so the tail is read from the very file that is locked.
        flags = os.O_RDWR | os.O_APPEND | os.O_CLOEXEC | os.O_NOFOLLOW
        created = True
        try:
            fd = os.open(self.path, flags | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            created = False
            try:
                fd = os.open(self.path, flags)
            except OSError as exc:
                raise QtcError(f"cannot open audit log {self.path}: {exc.strerror}") from exc
        except OSError as exc:
            raise QtcError(f"cannot create audit log {self.path}: {exc.strerror}") from exc
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise QtcError(f"audit log {self.path} is not a regular file")
            if stat.S_IMODE(info.st_mode) != FILE_MODE:
                os.fchmod(fd, FILE_MODE)  # created under a strict umask, or loosened later
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise QtcError(
                    f"audit log {self.path} is in use by another qtc process",
                    hint="wait for the other run to finish; two writers would break the log",
                ) from exc
            if created:
                _fsync_dir(self.path.parent)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _read_tail(self, fd: int) -> tuple[int, str]:
        size = os.fstat(fd).st_size
        if size == 0:
            return 0, GENESIS
        hint = _VERIFY_HINT.format(path=self.path)
        if os.pread(fd, 1, size - 1) != b"\n":
            raise QtcError(
                f"audit log {self.path} ends with an incomplete line "
                "(a write was interrupted); refusing to append",
                hint=hint,
            )
        raw = _read_last_line(fd, size)
        try:
            record = _parse_line(raw)
        except ValueError as exc:
            raise QtcError(
                f"audit log {self.path}: the last line is not valid JSON; refusing to append",
                hint=hint,
            ) from exc
        problems = _record_problems(record)
        if problems:
            raise QtcError(
                f"audit log {self.path}: the last record is corrupt ({problems[0]}); "
                "refusing to append",
                hint=hint,
            )
        return int(record["seq"]), str(record["hash"])

    def append(self, event: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Write one record and fsync it before returning.

        Args:
            event: Dotted lower-case event name, e.g. `"intent.submit"`.
            payload: JSON-safe data; credentials are scrubbed (see the module docstring).

        Returns:
            The record exactly as written (and as `read_log` will return it).

        Raises:
            QtcError: The log is closed or failed earlier, the event name is malformed,
                the payload lacks fields its event needs, or it is not JSON-safe. Nothing
                is written in these cases.
        """
        if self._fd is None:
            raise QtcError(f"audit log {self.path} is closed")
        if self._broken:
            raise QtcError(
                f"an earlier write to audit log {self.path} failed; refusing to append",
                hint=_VERIFY_HINT.format(path=self.path),
            )
        if not isinstance(event, str) or not _EVENT_RE.match(event):
            raise QtcError(f"invalid audit event name {event!r}")
        if not isinstance(payload, Mapping):
            raise QtcError(f"audit payload for {event} must be a mapping")
        clean = scrub(payload, self._secrets)
        problem = _payload_problem(event, clean)
        if problem:
            raise QtcError(f"cannot log {event}: {problem}")
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise QtcError("the audit clock must return timezone-aware datetimes")
        record: dict[str, Any] = {
            "seq": self.seq + 1,
            "ts": now.astimezone(UTC).isoformat(timespec="microseconds"),
            "run_id": self.run_id,
            "plan_hash": self.plan_hash,
            "event": event,
            "payload": clean,
            "prev": self.last_hash,
        }
        try:
            record["hash"] = record_hash(record)
            line = canonical_json(record) + b"\n"
        except (TypeError, ValueError) as exc:
            raise QtcError(f"audit payload for {event} is not JSON-safe: {exc}") from exc
        try:
            view = memoryview(line)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            os.fsync(self._fd)
        except OSError as exc:
            self._broken = True
            raise QtcError(
                f"cannot write audit log {self.path}: {exc.strerror}",
                hint=_VERIFY_HINT.format(path=self.path),
            ) from exc
        self.seq = record["seq"]
        self.last_hash = record["hash"]
        written_record: dict[str, Any] = json.loads(line)
        return written_record

    def close(self) -> None:
        """Release the lock and close the file (idempotent)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _fsync_dir(folder: Path) -> None:
    """Make a new directory entry durable (best effort where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _read_lines(path: Path) -> list[bytes]:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise UserError(f"audit log {path} not found") from exc
    except OSError as exc:
        raise QtcError(f"cannot read audit log {path}: {exc.strerror}") from exc
    if not data:
        return []
    lines = data.split(b"\n")  # never str.splitlines: U+2028 etc. may occur inside strings
    if lines[-1] == b"":
        lines.pop()
    return lines


def read_log(path: Path) -> list[dict[str, Any]]:
    """Return every record of a log, in file order.

    Only the JSON of each line is checked; call `verify` for the sequence and the chain.

    Raises:
        UserError: The file does not exist.
        QtcError: A line is incomplete or not a JSON object (the message gives its number).
    """
    lines = _read_lines(path)
    data_ends_cleanly = _ends_with_newline(Path(path))
    records: list[dict[str, Any]] = []
    for number, raw in enumerate(lines, start=1):
        if number == len(lines) and not data_ends_cleanly:
            raise QtcError(
                f"audit log {path}: line {number} is incomplete (no final newline)",
                hint=_VERIFY_HINT.format(path=path),
            )
        try:
            record = _parse_line(raw)
        except ValueError as exc:
            raise QtcError(
                f"audit log {path}: line {number} is not valid JSON",
                hint=_VERIFY_HINT.format(path=path),
            ) from exc
        if not isinstance(record, dict):
            raise QtcError(
                f"audit log {path}: line {number} is not a JSON object",
                hint=_VERIFY_HINT.format(path=path),
            )
        records.append(record)
    return records


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        if fh.tell() == 0:
            return True
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of `verify`.

    Attributes:
        ok: True when no problem was found in the records and their chain.
        records: Number of lines that parsed as JSON objects.
        problems: One message per problem, each starting with `line N:`.
        truncated: Why the log is incomplete though intact: it is empty, or a run has no
            end record (and no later run of its plan finished it), or an intent has no
            result. Empty for a complete log.
    """

    ok: bool
    records: int
    problems: list[str] = field(default_factory=list)
    truncated: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Intact and not truncated."""
        return self.ok and not self.truncated

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {
            "ok": self.ok,
            "complete": self.complete,
            "records": self.records,
            "problems": list(self.problems),
            "truncated": list(self.truncated),
        }


def verify(path: Path) -> VerifyReport:
    """Check a log: JSON on every line, contiguous `seq` from 1, the `prev` chain, hashes.

    After a problem the check re-synchronizes on the next readable record, so one edit is
    reported once or twice (the record, and the link to it) rather than on every later
    line. Different run ids and plan hashes in one file are allowed.

    Raises:
        UserError: The file does not exist.
    """
    path = Path(path)
    lines = _read_lines(path)
    ends_cleanly = _ends_with_newline(path)
    problems: list[str] = []
    count = 0
    expected_seq = 1
    prev_hash: str | None = GENESIS  # None: the previous line was unreadable
    prev_line = 0
    for number, raw in enumerate(lines, start=1):
        if number == len(lines) and not ends_cleanly:
            problems.append(
                f"line {number}: incomplete last line (no final newline; "
                "a write was probably interrupted)"
            )
        if not raw.strip():
            problems.append(f"line {number}: empty line")
            prev_hash = None
            continue
        try:
            record = _parse_line(raw)
        except ValueError:
            problems.append(f"line {number}: not valid JSON")
            prev_hash = None
            continue
        if isinstance(record, dict):
            count += 1
        shape = _record_problems(record)
        problems.extend(f"line {number}: {p}" for p in shape)
        if not isinstance(record, dict):
            prev_hash = None
            continue
        seq = record.get("seq")
        if isinstance(seq, int) and not isinstance(seq, bool):
            if seq != expected_seq:
                if seq > expected_seq:
                    detail = f"{seq - expected_seq} record(s) missing"
                else:
                    detail = "out of order or repeated"
                problems.append(f"line {number}: seq {seq}, expected {expected_seq} ({detail})")
            expected_seq = seq + 1
        else:
            expected_seq += 1
        prev = record.get("prev")
        if prev_hash is not None and prev != prev_hash:
            where = f"the record on line {prev_line}" if prev_line else "the start of the chain"
            problems.append(f"line {number}: prev does not match the hash of {where}")
        own = record.get("hash")
        prev_hash = own if isinstance(own, str) else None
        prev_line = number
    return VerifyReport(
        ok=not problems, records=count, problems=problems, truncated=_truncation(lines)
    )


END_EVENTS = frozenset({"run.end", "run.interrupted"})
"""Events that close a run (an interrupted run is closed; `--resume` starts a new one)."""


@dataclass(slots=True)
class _RunSeen:
    plan: str
    line: int
    started: bool = False
    ended: bool = False
    open_intents: dict[tuple[str, str], int] = field(default_factory=dict)


def _truncation(lines: list[bytes]) -> list[str]:
    """Why an intact log is incomplete (see `VerifyReport.truncated`)."""
    runs: dict[str, _RunSeen] = {}
    for number, raw in enumerate(lines, start=1):
        try:
            record = _parse_line(raw)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("payload"), dict):
            _see(runs, record, number)
    if not runs:
        return ["the log has no records (empty)"]
    finished = {r.plan for r in runs.values() if r.ended}
    notes = []
    for run_id, run in runs.items():
        if run.started and not run.ended and run.plan not in finished:
            notes.append(
                f"run {run_id} (from line {run.line}) has no end record: the process "
                "stopped mid-run; finish it with `qtc rebalance --apply PLAN --resume`"
            )
        elif not run.started:
            notes += [
                f"line {line}: intent.{what} of run {run_id} has no result"
                for (what, _), line in run.open_intents.items()
            ]
    return notes


def _see(runs: dict[str, _RunSeen], record: Mapping[str, Any], number: int) -> None:
    run = runs.setdefault(str(record.get("run_id")), _RunSeen(str(record.get("plan_hash")), number))
    event, payload = str(record.get("event")), record["payload"]
    which = (event.partition(".")[2], str(payload.get("client_order_id", "")))
    if event == "run.start":
        run.started = True
    elif event in END_EVENTS:
        run.ended = True
    elif event.startswith("intent."):
        run.open_intents[which] = number
    elif event.startswith("result."):
        run.open_intents.pop(which, None)


@dataclass(slots=True)
class OrderState:
    """What the log says about one order, after `replay`.

    Attributes:
        client_order_id: The id qtc gave the order (derived from the order-plan hash).
        symbol: From the last `intent.submit` (None if the log never had one).
        side: From the last `intent.submit`.
        quantity: Ordered quantity from the last `intent.submit`.
        status: Last known status: `"submitting"` after an intent with no result yet,
            then the broker's `result.submit` status, `"partially_filled"` / `"filled"`
            after fills, or the `result.cancel` status (`"cancelled"` by default). The
            last event about the order wins.
        filled_quantity: Sum of the `fill` quantities.
        fill_notional: Sum of `quantity * price` over the fills.
        broker_order_id: From `result.submit`, when the broker gave one.
        pending: `"submit"` or `"cancel"` when that intent has no result yet: the outcome
            of the broker call is unknown and must be asked from the broker on resume.
            A fill also settles a pending submit (the order evidently reached the broker).
        last_seq: `seq` of the last record about this order.
    """

    client_order_id: str
    symbol: str | None = None
    side: str | None = None
    quantity: float | None = None
    status: str = "unknown"
    filled_quantity: float = 0
    fill_notional: float = 0
    broker_order_id: str | None = None
    pending: str | None = None
    last_seq: int = 0

    @property
    def outcome_unknown(self) -> bool:
        """True when an intent was logged without its result (ask the broker)."""
        return self.pending is not None

    @property
    def average_price(self) -> float | None:
        """Volume-weighted fill price, or None before any fill."""
        return self.fill_notional / self.filled_quantity if self.filled_quantity else None


def replay(records: Iterable[Mapping[str, Any]]) -> dict[str, OrderState]:
    """Fold audit records into the state of each order, keyed by client order id.

    Args:
        records: Records in log order (from `read_log`; run `verify` first to trust them).

    Returns:
        Order states in the order their first record appears. Orders whose submission or
        cancel outcome is unknown have `pending` set (see `OrderState`).

    Raises:
        QtcError: A record the fold needs is malformed, or a result, fill or cancel names
            an order with no earlier `intent.submit` (the message gives its `seq`).
    """
    orders: dict[str, OrderState] = {}
    for record in records:
        event = record.get("event")
        if event not in _EVENT_FIELDS:
            continue
        seq = record.get("seq")
        payload = record.get("payload")
        if not isinstance(payload, Mapping):
            raise QtcError(f"audit record seq {seq}: {event} payload is not an object")
        problem = _payload_problem(str(event), payload)
        if problem:
            raise QtcError(f"audit record seq {seq}: {problem}")
        cid = str(payload["client_order_id"])
        if event == "intent.submit":
            order = orders.setdefault(cid, OrderState(client_order_id=cid))
            order.symbol = str(payload["symbol"])
            order.side = str(payload["side"])
            order.quantity = payload["quantity"]
            order.status = "submitting"
            order.pending = "submit"
        else:
            found = orders.get(cid)
            if found is None:
                raise QtcError(
                    f"audit record seq {seq}: {event} for order {cid!r} "
                    "that has no earlier intent.submit"
                )
            order = found
            _apply(order, str(event), payload)
        if isinstance(seq, int):
            order.last_seq = seq
    return orders


def _apply(order: OrderState, event: str, payload: Mapping[str, Any]) -> None:
    if event == "result.submit":
        order.status = str(payload["status"])
        if payload.get("broker_order_id") is not None:
            order.broker_order_id = str(payload["broker_order_id"])
        if order.pending == "submit":
            order.pending = None
    elif event == "fill":
        order.filled_quantity += payload["quantity"]
        order.fill_notional += payload["quantity"] * payload["price"]
        target = order.quantity or 0
        order.status = "filled" if order.filled_quantity >= target else "partially_filled"
        if order.pending == "submit":
            order.pending = None  # a fill proves the order reached the broker
    elif event == "intent.cancel":
        order.pending = "cancel"
    elif event == "result.cancel":
        order.status = str(payload.get("status", "cancelled"))
        if order.pending == "cancel":
            order.pending = None
    elif event == "order.status":
        order.status = str(payload["status"])
