"""`qtc audit show|verify` and `qtc positions` through the CLI."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from qtc.live.audit import AuditLog
from qtc.live.brokers.base import OrderRequest
from qtc.live.brokers.paper import PaperBroker


def clock() -> dt.datetime:
    return dt.datetime(2024, 1, 2, 15, 30, tzinfo=dt.UTC)


def make_log(path: Path) -> Path:
    with AuditLog(path, run_id="run-1", plan_hash="a" * 64, clock=clock) as log:
        log.append(
            "intent.submit",
            {"client_order_id": "c1", "symbol": "AAPL", "side": "buy", "quantity": 10},
        )
        log.append("result.submit", {"client_order_id": "c1", "status": "accepted"})
        log.append("fill", {"client_order_id": "c1", "quantity": 10, "price": 190.5})
    return path


def test_audit_show_and_verify(
    qtc: Callable[..., Result], tmp_path: Path, snapshot: object
) -> None:
    log = make_log(tmp_path / "audit.jsonl")
    shown = qtc("audit", "show", str(log), "--format", "json")
    assert shown.exit_code == 0, shown.output
    assert [r["event"] for r in json.loads(shown.stdout)] == [
        "intent.submit",
        "result.submit",
        "fill",
    ]
    ok = qtc("audit", "verify", str(log))
    assert ok.exit_code == 0
    assert ok.stdout.replace(str(log), "<log>") == snapshot


def test_audit_verify_detects_tampering(qtc: Callable[..., Result], tmp_path: Path) -> None:
    log = make_log(tmp_path / "audit.jsonl")
    lines = log.read_text().splitlines()
    lines[1] = lines[1].replace("accepted", "filled")
    log.write_text("\n".join(lines) + "\n")
    result = qtc("audit", "verify", str(log), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and any("line 2" in p for p in report["problems"])


def test_positions_of_a_paper_account(
    qtc: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QTC_STATE_DIR", str(tmp_path))
    path = tmp_path / "paper" / "default.json"
    broker = PaperBroker(path, prices=lambda s: {"AAA": 100.0}, initial_cash=10_000)
    broker.connect()
    broker.submit(OrderRequest("o1", "AAA", "buy", 10))
    result = qtc("positions", "--broker", "paper", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["positions"] == [{"symbol": "AAA", "quantity": 10.0, "avg_price": 100.0}]
    assert data["account"]["cash"] == pytest.approx(9_000)
    missing = qtc("positions", "--broker", "paper", "--account", "nope")
    assert missing.exit_code == 2 and "no paper account" in missing.stderr


def run_log(path: Path, run_id: str, *, end: bool, plan: str = "b" * 64) -> Path:
    """A rebalance run's records: start, one order, and (if `end`) the end record."""
    with AuditLog(path, run_id=run_id, plan_hash=plan, clock=clock) as log:
        log.append("run.start", {"orders": 1, "resume": run_id != "run-1"})
        log.append(
            "intent.submit",
            {"client_order_id": "c1", "symbol": "AAPL", "side": "buy", "quantity": 10},
        )
        log.append("result.submit", {"client_order_id": "c1", "status": "filled"})
        if end:
            log.append("run.end", {"complete": True})
    return path


def test_audit_verify_reports_an_empty_or_cut_log_as_truncated(
    qtc: Callable[..., Result], tmp_path: Path
) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    result = qtc("audit", "verify", str(empty), "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "ok": True, "complete": False, "records": 0, "problems": [],
        "truncated": ["the log has no records (empty)"],
    }  # fmt: skip
    whole = run_log(tmp_path / "whole.jsonl", "run-1", end=True)
    assert qtc("audit", "verify", str(whole)).exit_code == 0
    cut = tmp_path / "cut.jsonl"
    cut.write_text(whole.read_text().splitlines(keepends=True)[0])  # only run.start
    human = qtc("audit", "verify", str(cut))
    assert human.exit_code == 1
    assert "run run-1 (from line 1) has no end record" in human.stdout
    assert human.stdout.rstrip().endswith("1 records, truncated")


def test_a_crashed_run_finished_by_a_resume_is_complete(
    qtc: Callable[..., Result], tmp_path: Path
) -> None:
    log = run_log(tmp_path / "audit.jsonl", "run-1", end=False)  # killed mid-run
    assert qtc("audit", "verify", str(log)).exit_code == 1
    run_log(log, "run-2", end=True)  # --resume, same plan
    assert qtc("audit", "verify", str(log)).exit_code == 0
    with AuditLog(log, run_id="kill-1", plan_hash="c" * 64, clock=clock) as audit:
        audit.append("intent.cancel_all", {"open": []})  # killed before the result
    cut = qtc("audit", "verify", str(log), "--format", "json")
    assert cut.exit_code == 1
    assert json.loads(cut.stdout)["truncated"] == [
        "line 8: intent.cancel_all of run kill-1 has no result"
    ]
