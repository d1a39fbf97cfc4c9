"""The write-ahead audit log: fsync, 0600, hash chain, tamper evidence, scrubbing, replay."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qtc.errors import QtcError, UserError
from qtc.live.audit import GENESIS, AuditLog, read_log, record_hash, replay, verify

PLAN = "a" * 64
PLAN2 = "b" * 64


def fake_clock(start: datetime | None = None) -> Callable[[], datetime]:
    """A clock that ticks one second (and seven microseconds) per call."""
    state = {"now": start or datetime(2025, 1, 2, 14, 30, tzinfo=UTC)}

    def now() -> datetime:
        state["now"] += timedelta(seconds=1, microseconds=7)
        return state["now"]

    return now


def open_log(path: Path, run_id: str = "run-1", plan_hash: str = PLAN, **kw: Any) -> AuditLog:
    kw.setdefault("clock", fake_clock())
    return AuditLog(path, run_id=run_id, plan_hash=plan_hash, **kw)


def intent(cid: str, qty: float = 10, symbol: str = "AAPL", side: str = "buy") -> dict[str, Any]:
    return {"client_order_id": cid, "symbol": symbol, "side": side, "quantity": qty}


def write_lines(path: Path, n: int = 5) -> list[dict[str, Any]]:
    with open_log(path) as log:
        return [log.append("reconcile", {"i": i}) for i in range(n)]


def raw_lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:-1]


# --- format, sequence and chain ------------------------------------------------------------


def test_record_format_and_chain_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / "audit.jsonl"
    with open_log(path, clock=fake_clock()) as log:
        first = log.append("intent.submit", intent("c1"))
        second = log.append("result.submit", {"client_order_id": "c1", "status": "accepted"})
    assert first["seq"] == 1 and first["prev"] == GENESIS
    assert first["ts"] == "2025-01-02T14:30:01.000007+00:00"
    assert first["run_id"] == "run-1" and first["plan_hash"] == PLAN
    assert first["hash"] == record_hash(first)
    assert second["seq"] == 2 and second["prev"] == first["hash"]

    # A later run (another plan) continues the same file's sequence and chain.
    with open_log(path, run_id="run-2", plan_hash=PLAN2) as log:
        assert log.seq == 2 and log.last_hash == second["hash"]
        third = log.append("reconcile", {"residual": 0.0})
    assert third["seq"] == 3 and third["prev"] == second["hash"]
    assert third["run_id"] == "run-2" and third["plan_hash"] == PLAN2

    assert read_log(path) == [first, second, third]
    report = verify(path)
    assert report.ok and report.records == 3 and report.problems == []

    # Each line is the canonical JSON of the record: sorted keys, no spaces.
    line = raw_lines(path)[0]
    assert line == json.dumps(first, sort_keys=True, separators=(",", ":")).encode()


def test_timestamps_are_utc_with_microseconds(tmp_path: Path) -> None:
    paris = timezone(timedelta(hours=1))
    with open_log(
        tmp_path / "a.jsonl", clock=lambda: datetime(2025, 3, 1, 10, 0, tzinfo=paris)
    ) as log:
        assert log.append("reconcile", {})["ts"] == "2025-03-01T09:00:00.000000+00:00"
    with (
        open_log(tmp_path / "b.jsonl", clock=lambda: datetime(2025, 3, 1)) as log,
        pytest.raises(QtcError, match="timezone-aware"),
    ):
        log.append("reconcile", {})


def test_append_fsyncs_before_returning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, int]] = []
    real_write, real_fsync = os.write, os.fsync

    def write(fd: int, data: Any) -> int:
        calls.append(("write", fd))
        return real_write(fd, data)

    def fsync(fd: int) -> None:
        calls.append(("fsync", fd))
        real_fsync(fd)

    log = open_log(tmp_path / "audit.jsonl")
    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(os, "fsync", fsync)
    for i in range(3):
        calls.clear()
        log.append("reconcile", {"i": i})
        fd = calls[0][1]
        assert calls == [("write", fd), ("fsync", fd)]  # the write is durable on return
    log.close()


def test_file_mode_is_0600_and_enforced(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    old = os.umask(0o777)  # even a umask that strips every bit yields 0600
    try:
        with open_log(path) as log:
            log.append("reconcile", {})
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    os.chmod(path, 0o644)
    with open_log(path) as log:
        log.append("reconcile", {})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_second_writer_is_refused_and_closed_log_refuses(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = open_log(path)
    with pytest.raises(QtcError, match="in use"):
        open_log(path)
    log.close()
    log.close()  # idempotent
    with pytest.raises(QtcError, match="closed"):
        log.append("reconcile", {})
    with open_log(path) as again:  # the lock is released on close
        again.append("reconcile", {})


def test_symlink_and_non_file_are_refused(tmp_path: Path) -> None:
    target = tmp_path / "real.jsonl"
    write_lines(target, 1)
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    with pytest.raises(QtcError, match="cannot open"):
        open_log(link)
    with pytest.raises(QtcError):
        open_log(tmp_path)


def test_bad_appends_write_nothing(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    with open_log(path) as log:
        with pytest.raises(QtcError, match="invalid audit event"):
            log.append("Intent Submit", {})
        with pytest.raises(QtcError, match="needs 'quantity'"):
            log.append("intent.submit", {"client_order_id": "c", "symbol": "X", "side": "buy"})
        with pytest.raises(QtcError, match="must be a number"):
            log.append("fill", {"client_order_id": "c", "quantity": "5", "price": 1.0})
        with pytest.raises(QtcError, match="not JSON-safe"):
            log.append("reconcile", {"x": float("nan")})
        with pytest.raises(QtcError, match="not JSON-safe"):
            log.append("reconcile", {"x": object()})
        with pytest.raises(QtcError, match="keys must be strings"):
            log.append("reconcile", {1: "x"})  # type: ignore[dict-item]
        assert log.seq == 0
        assert log.append("reconcile", {})["seq"] == 1
    assert len(read_log(path)) == 1 and verify(path).ok


# --- tamper evidence -----------------------------------------------------------------------


def test_edited_payload_in_the_middle_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_lines(path, 5)
    lines = raw_lines(path)
    lines[2] = lines[2].replace(b'"i":2', b'"i":9')
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = verify(path)
    assert not report.ok and report.records == 5
    assert report.problems == [
        "line 3: hash does not match the record's content (record was modified)"
    ]


def test_edited_payload_with_recomputed_hash_breaks_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    records = write_lines(path, 4)
    forged = dict(records[1], payload={"i": 99})
    forged["hash"] = record_hash(forged)
    lines = raw_lines(path)
    lines[1] = json.dumps(forged, sort_keys=True, separators=(",", ":")).encode()
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = verify(path)
    assert report.problems == ["line 3: prev does not match the hash of the record on line 2"]


def test_deleted_line_is_a_seq_gap(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_lines(path, 5)
    lines = raw_lines(path)
    del lines[2]
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = verify(path)
    assert not report.ok and report.records == 4
    assert "line 3: seq 4, expected 3 (1 record(s) missing)" in report.problems
    assert "line 3: prev does not match the hash of the record on line 2" in report.problems
    assert len(report.problems) == 2  # re-synchronized: lines 4 and 5 are fine


def test_swapped_lines_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_lines(path, 4)
    lines = raw_lines(path)
    lines[1], lines[2] = lines[2], lines[1]
    path.write_bytes(b"\n".join(lines) + b"\n")
    problems = verify(path).problems
    assert any(p.startswith("line 2: seq 3") for p in problems)
    assert any(p.startswith("line 3: seq 2") for p in problems)


def test_truncated_last_line_is_reported_and_append_refuses(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_lines(path, 3)
    data = path.read_bytes()
    path.write_bytes(data[:-20])  # crash in the middle of writing the last record
    report = verify(path)
    assert not report.ok and report.records == 2
    assert report.problems[0].startswith("line 3: incomplete last line")
    assert "line 3: not valid JSON" in report.problems
    with pytest.raises(QtcError, match="incomplete line") as err:
        open_log(path)
    assert "qtc audit verify" in err.value.hint
    with pytest.raises(QtcError, match="line 3 is incomplete"):
        read_log(path)
    assert path.read_bytes() == data[:-20]  # never silently truncated or repaired


def test_corrupt_last_record_with_newline_refuses_append(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_lines(path, 2)
    lines = raw_lines(path)
    lines[1] = lines[1].replace(b'"i":1', b'"i":7')
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(QtcError, match="last record is corrupt") as err:
        open_log(path)
    assert "qtc audit verify" in err.value.hint
    path.write_bytes(raw_lines(path)[0] + b"\n{not json\n")
    with pytest.raises(QtcError, match="not valid JSON"):
        open_log(path)
    assert verify(path).problems == ["line 2: not valid JSON"]


def test_missing_fields_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b'{"seq":1}\n[]\n\n')
    problems = verify(path).problems
    assert problems[0].startswith("line 1: missing field(s): event, hash, payload")
    assert "line 2: not a JSON object but list" in problems
    assert "line 3: empty line" in problems
    with pytest.raises(UserError, match="not found"):
        verify(tmp_path / "nope.jsonl")
    with pytest.raises(UserError, match="not found"):
        read_log(tmp_path / "nope.jsonl")


def test_empty_file_is_a_valid_empty_log(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.touch()
    assert verify(path).ok and read_log(path) == []
    with open_log(path) as log:
        assert log.append("reconcile", {})["seq"] == 1


# --- secrets -------------------------------------------------------------------------------


def test_secrets_never_reach_the_file(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    payload = {
        "api_key": "FAKEKEY",
        "nested": {"secret": "x-FAKESECRET", "ok": 1},
        "list": [{"Authorization": "Bearer FAKETOKEN"}, {"refresh_Token": "FAKETOKEN2"}],
        "PASSWORD": "FAKEPASS",
        "key_path": "/home/me/.ssh/id",
        "client_order_id": "qtc-1",
        "error": "401 for key FAKEENVKEY",
    }
    with open_log(path, redact=["FAKEENVKEY", ""]) as log:
        record = log.append("reconcile", payload)
    data = path.read_bytes()
    for secret in (b"FAKEKEY", b"FAKESECRET", b"FAKETOKEN", b"FAKEPASS", b"FAKEENVKEY"):
        assert secret not in data
    assert record["payload"] == {
        "api_key": "<redacted>",
        "nested": {"secret": "<redacted>", "ok": 1},
        "list": [{"Authorization": "<redacted>"}, {"refresh_Token": "<redacted>"}],
        "PASSWORD": "<redacted>",
        "key_path": "/home/me/.ssh/id",
        "client_order_id": "qtc-1",
        "error": "401 for key <redacted>",
    }
    assert payload["api_key"] == "FAKEKEY"  # the caller's data is not mutated
    assert verify(path).ok


# --- replay --------------------------------------------------------------------------------


def test_replay_realistic_run(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    with open_log(path) as log:
        log.append("run.start", {"orders": 4})
        # Sells first: fully filled in two parts.
        log.append("intent.submit", intent("s1", 30, "MSFT", "sell"))
        log.append(
            "result.submit",
            {"client_order_id": "s1", "status": "accepted", "broker_order_id": "B-1"},
        )
        log.append("fill", {"client_order_id": "s1", "quantity": 10, "price": 400.0})
        log.append("fill", {"client_order_id": "s1", "quantity": 20, "price": 401.5})
        # A buy partially filled, then cancelled on timeout.
        log.append("intent.submit", intent("b1", 50, "AAPL"))
        log.append("result.submit", {"client_order_id": "b1", "status": "accepted"})
        log.append("fill", {"client_order_id": "b1", "quantity": 20, "price": 190.0})
        log.append("intent.cancel", {"client_order_id": "b1"})
        log.append("result.cancel", {"client_order_id": "b1"})
        # A rejected buy.
        log.append("intent.submit", intent("b2", 5, "NVDA"))
        log.append("result.submit", {"client_order_id": "b2", "status": "rejected"})
        # A cancel whose outcome is unknown.
        log.append("intent.submit", intent("b3", 7, "AMZN"))
        log.append("result.submit", {"client_order_id": "b3", "status": "accepted"})
        log.append("intent.cancel", {"client_order_id": "b3"})
        # Crash: the last intent has no result.
        last = log.append("intent.submit", intent("b4", 3, "GOOG"))

    orders = replay(read_log(path))
    assert list(orders) == ["s1", "b1", "b2", "b3", "b4"]
    s1, b1, b2, b3, b4 = orders.values()
    assert (s1.status, s1.filled_quantity, s1.broker_order_id) == ("filled", 30, "B-1")
    assert s1.average_price == pytest.approx((10 * 400.0 + 20 * 401.5) / 30)
    assert (s1.side, s1.symbol, s1.quantity) == ("sell", "MSFT", 30)
    assert (b1.status, b1.filled_quantity, b1.pending) == ("cancelled", 20, None)
    assert (b2.status, b2.filled_quantity, b2.average_price) == ("rejected", 0, None)
    assert (b3.status, b3.pending, b3.outcome_unknown) == ("accepted", "cancel", True)
    assert (b4.status, b4.pending, b4.last_seq) == ("submitting", "submit", last["seq"])
    assert [o.client_order_id for o in orders.values() if o.outcome_unknown] == ["b3", "b4"]


def test_replay_fill_settles_pending_submit_and_rejects_orphans() -> None:
    base = {"seq": 1, "event": "intent.submit", "payload": intent("c1", 4)}
    fill = {
        "seq": 2,
        "event": "fill",
        "payload": {"client_order_id": "c1", "quantity": 1, "price": 2.0},
    }
    orders = replay([base, fill])
    assert (orders["c1"].status, orders["c1"].pending) == ("partially_filled", None)
    with pytest.raises(QtcError, match="seq 2: fill for order 'zz'"):
        replay(
            [
                base,
                {
                    "seq": 2,
                    "event": "fill",
                    "payload": {"client_order_id": "zz", "quantity": 1, "price": 2.0},
                },
            ]
        )
    with pytest.raises(QtcError, match=r"seq 3: result\.submit payload needs 'status'"):
        replay([base, {"seq": 3, "event": "result.submit", "payload": {"client_order_id": "c1"}}])


# --- properties ----------------------------------------------------------------------------

CIDS = ["c0", "c1", "c2"]

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("submit"), st.sampled_from(CIDS), st.integers(1, 100)),
        st.tuples(
            st.just("result"),
            st.sampled_from(CIDS),
            st.sampled_from(["accepted", "rejected", "new"]),
        ),
        st.tuples(st.just("fill"), st.sampled_from(CIDS), st.integers(1, 40)),
        st.tuples(st.just("cancel"), st.sampled_from(CIDS), st.booleans()),
        st.tuples(st.just("note"), st.text(max_size=20), st.integers()),
        st.tuples(st.just("reopen"), st.text(min_size=1, max_size=8), st.integers()),
    ),
    max_size=40,
)


@pytest.fixture
def scratch() -> Iterator[Callable[[], Path]]:
    """Fresh folders per Hypothesis example (tmp_path is shared across examples)."""
    with tempfile.TemporaryDirectory() as root:
        counter = iter(range(1_000_000))
        yield lambda: Path(root) / f"ex{next(counter)}"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS)
def test_random_appends_verify_and_replay_like_a_model(
    scratch: Callable[[], Path], ops: list[tuple[str, Any, Any]]
) -> None:
    path = scratch() / "audit.jsonl"
    log = open_log(path, run_id="r0")
    written: list[dict[str, Any]] = []
    model: dict[str, dict[str, Any]] = {}
    for op, a, b in ops:
        if op == "submit":
            written.append(log.append("intent.submit", intent(a, b)))
            prior = model.get(a, {"filled": 0})
            model[a] = {
                "qty": b,
                "filled": prior["filled"],
                "status": "submitting",
                "pending": "submit",
            }
        elif op == "note":
            written.append(log.append("note", {"text": a, "n": b}))
        elif op == "reopen":
            log.close()
            log = open_log(path, run_id=a, plan_hash=PLAN2)
        elif a not in model:
            continue
        elif op == "result":
            written.append(log.append("result.submit", {"client_order_id": a, "status": b}))
            model[a]["status"] = b
            if model[a]["pending"] == "submit":
                model[a]["pending"] = None
        elif op == "fill":
            written.append(log.append("fill", {"client_order_id": a, "quantity": b, "price": 1.5}))
            order = model[a]
            order["filled"] += b
            order["status"] = "filled" if order["filled"] >= order["qty"] else "partially_filled"
            if order["pending"] == "submit":
                order["pending"] = None
        elif op == "cancel":
            written.append(log.append("intent.cancel", {"client_order_id": a}))
            model[a]["pending"] = "cancel"
            if b:
                written.append(log.append("result.cancel", {"client_order_id": a}))
                model[a]["status"] = "cancelled"
                model[a]["pending"] = None
    log.close()

    if not written:
        assert not path.exists() or path.read_bytes() == b""
        return
    report = verify(path)
    assert report.ok, report.problems
    assert report.records == len(written)
    assert read_log(path) == written
    assert [r["seq"] for r in written] == list(range(1, len(written) + 1))
    state = replay(written)
    assert {
        cid: {
            "qty": o.quantity,
            "filled": o.filled_quantity,
            "status": o.status,
            "pending": o.pending,
        }
        for cid, o in state.items()
    } == model
