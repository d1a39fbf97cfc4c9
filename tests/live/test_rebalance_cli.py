"""`qtc rebalance --dry-run` end to end on a small demo lake with the paper broker."""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from qtc.live.orderplan import plan_hash
from tests.conftest import stable


def args(demo: Path, out: Path, *extra: str) -> list[str]:
    return [
        "rebalance",
        "strategies/momentum_us.toml",
        "--broker",
        "paper",
        "--lake",
        str(demo),
        "--out",
        str(out),
        "--as-of",
        "2010-06-30",
        *extra,
    ]


def test_dry_run_writes_a_hashed_order_plan(
    qtc: Callable[..., Result],
    demo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    snapshot: object,
) -> None:
    monkeypatch.setenv("QTC_STATE_DIR", str(tmp_path / "state"))
    out = tmp_path / "orders"
    result = qtc(*args(demo, out, "--dry-run", "--format", "json"))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    path = Path(doc.pop("order_plan"))
    saved = json.loads(path.read_text())
    assert saved == doc and plan_hash(saved) == saved["sha256"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert doc["risk"]["status"] == "PASS"
    sides = [o["side"] for o in doc["orders"]]
    assert sides == sorted(sides, key=lambda s: s != "sell")  # sells first
    spent = sum(o["notional"] for o in doc["orders"] if o["side"] == "buy")
    assert spent <= doc["account"]["cash"] + 1e-6
    # the git commit of the strategy file (and so the plan hash) changes with every commit
    assert doc["git_commit"] is None or len(doc["git_commit"]) == 40
    assert doc["signature"]["alg"] == "hmac-sha256"  # the key differs per state folder
    masked = {"git_commit": "<commit>", "sha256": "<sha256>", "signature": "<signature>"}
    assert stable(doc | masked) == snapshot
    human = qtc(*args(demo, out, "--dry-run"))
    assert human.exit_code == 0
    text = re.sub(r"[0-9a-f]{12}", "<sha12>", human.stdout.replace(str(out), "<out>"))
    assert text == snapshot


def paper_file(state: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((state / "paper" / "default.json").read_text())
    return data


def test_declined_confirmation_sends_nothing(
    qtc: Callable[..., Result], demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("QTC_STATE_DIR", str(state))
    result = qtc(*args(demo, tmp_path / "orders"), input="n\n")
    assert result.exit_code == 1, result.output
    assert "Send " in result.stdout and "not confirmed; nothing was sent" in result.stderr
    assert "--apply" in result.stderr
    assert paper_file(state)["fills"] == [] and not (state / "runs").exists()


def test_yes_executes_on_paper_and_a_second_run_in_the_window_is_refused(
    qtc: Callable[..., Result], demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("QTC_STATE_DIR", str(state))
    out = tmp_path / "orders"
    result = qtc(*args(demo, out, "--yes", "--format", "json"))
    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout)
    plan = json.loads(Path(done["order_plan"]).read_text())
    assert done["complete"] and done["run"]["status"] == "done"
    assert [o["status"] for o in done["orders"]] == ["filled"] * len(plan["orders"])
    # the paper account now holds exactly the planned quantities
    held = {p["symbol"]: p["quantity"] for p in paper_file(state)["positions"]}
    assert held == {o["symbol"]: o["quantity"] for o in plan["orders"]}
    # cash: start minus every buy at the close plus slippage (9 bps) and commission (1 bp)
    costs = sum(o["quantity"] * o["price"] * 1.0009 * 1.0001 for o in plan["orders"])
    assert paper_file(state)["cash"] == pytest.approx(plan["account"]["cash"] - costs)
    assert paper_file(state)["cash"] >= 0
    log = Path(done["audit_log"])
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert qtc("audit", "verify", str(log)).exit_code == 0
    again = qtc(*args(demo, out, "--yes"))
    assert again.exit_code == 1
    assert "already ran" in again.stderr and "nothing was sent" in again.stderr
    assert "--force" in again.stderr
    assert len(paper_file(state)["fills"]) == len(plan["orders"])


def test_apply_executes_a_saved_plan_and_refuses_moved_or_modified_ones(
    qtc: Callable[..., Result], demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("QTC_STATE_DIR", str(state))
    out = tmp_path / "orders"
    dry = qtc(*args(demo, out, "--dry-run", "--format", "json"))
    saved = Path(json.loads(dry.stdout)["order_plan"])
    tampered = tmp_path / "tampered.json"
    doc = json.loads(saved.read_text())
    doc["orders"][0]["quantity"] += 1
    tampered.write_text(json.dumps(doc))
    bad = qtc("rebalance", "--apply", str(tampered), "--yes")
    assert bad.exit_code == 2 and "was modified after it was written" in bad.stderr
    # the reproduction: a quantity raised 40x and the sha256 recomputed
    doc["orders"][0]["quantity"] *= 40
    doc["sha256"] = plan_hash(doc)
    tampered.write_text(json.dumps(doc))
    rehashed = qtc("rebalance", "--apply", str(tampered), "--yes")
    assert rehashed.exit_code == 2, rehashed.output
    assert "was modified after it was signed" in rehashed.stderr
    assert paper_file(state)["fills"] == []
    doc = json.loads(saved.read_text())
    other = qtc("rebalance", "--apply", str(saved), "--broker", "mock", "--yes")
    assert other.exit_code == 2 and "was made for broker 'paper'" in other.stderr
    applied = qtc("rebalance", "--apply", str(saved), "--yes", "--format", "json")
    assert applied.exit_code == 0, applied.output
    assert json.loads(applied.stdout)["complete"]
    fills = len(paper_file(state)["fills"])
    assert fills == len(doc["orders"])
    # the same plan again: the window ran; forced, the positions have moved since the plan
    again = qtc("rebalance", "--apply", str(saved), "--yes")
    assert again.exit_code == 1 and "already ran" in again.stderr
    forced = qtc("rebalance", "--apply", str(saved), "--yes", "--force")
    assert forced.exit_code == 1, forced.output
    assert "positions have moved since the order plan was made" in forced.stderr
    assert len(paper_file(state)["fills"]) == fills


def test_a_risk_fail_sends_nothing(
    qtc: Callable[..., Result], demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("QTC_STATE_DIR", str(state))
    # momentum_us buys 50 names of about $20,000 each: a $10,000 order cap fails them
    result = qtc(*args(demo, tmp_path / "orders", "--yes", "--set", "risk.max_order_value=10000"))
    assert result.exit_code == 1
    assert "fails its risk checks against the account now" in result.stderr
    assert "nothing was sent" in result.stderr
    # the detail is in dollars against the limit as written in [risk]
    assert re.search(
        r"Max order value: order value \$\d{2},\d{3}\.\d\d > \$10,000\.00 "
        r"risk.max_order_value",
        result.stderr.replace("\n", " "),
    ), result.stderr
    assert "FAIL" in result.stdout
    assert paper_file(state)["fills"] == [] and not (state / "runs").exists()


def test_execution_output_human_and_json(
    qtc: Callable[..., Result],
    demo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    snapshot: object,
) -> None:
    monkeypatch.setenv("QTC_STATE_DIR", str(tmp_path / "state"))
    out = tmp_path / "orders"
    human = qtc(*args(demo, out, "--yes"))
    assert human.exit_code == 0, human.output
    text = re.sub(r"[0-9a-f]{12}", "<sha12>", human.stdout.replace(str(tmp_path), "<tmp>"))
    assert text == snapshot
    forced = qtc(*args(demo, out, "--yes", "--force", "--format", "json"))
    assert forced.exit_code == 0, forced.output
    doc = json.loads(forced.stdout)
    masked = mask(doc, str(tmp_path))
    assert doc["complete"] and stable(masked) == snapshot


def mask(value: Any, tmp: str) -> Any:
    """Mask temporary paths and hashes inside string values (numbers stay exact)."""
    if isinstance(value, dict):
        return {k: mask(v, tmp) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, tmp) for v in value]
    if isinstance(value, str):
        return re.sub(r"[0-9a-f]{12,64}", "<hex>", value.replace(tmp, "<tmp>"))
    return value


def test_stale_data_is_shown_on_a_dry_run_and_refused_unless_allowed(
    qtc: Callable[..., Result], demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    state = tmp_path / "state"
    monkeypatch.setenv("QTC_STATE_DIR", str(state))
    monkeypatch.setattr("qtc.cli.options.today", lambda: dt.date(2011, 3, 1))
    # no --as-of: the plan is for today, 2011-03-01; the lake ends Friday 2010-12-31, and
    # the weekdays from 2011-01-03 to 2011-03-01 are 21 + 20 + 1 = 42 > 2
    base = [a for a in args(demo, tmp_path / "orders") if a not in ("--as-of", "2010-06-30")]
    dry = qtc(*base, "--dry-run")
    assert dry.exit_code == 0, dry.output
    first = dry.stdout.splitlines()[0]
    assert first.startswith("STALE DATA: signal 2010-12-31 is 42 trading days before 2011-03-01")
    dry_json = json.loads(qtc(*base, "--dry-run", "--format", "json").stdout)
    assert dry_json["as_of"] == "2011-03-01" and dry_json["signal_date"] == "2010-12-31"
    assert dry_json["signal_age"]["stale"] is True
    refused = qtc(*base, "--yes")
    assert refused.exit_code == 1
    assert "stale data: signal 2010-12-31 is 42 trading days" in refused.stderr
    assert "--allow-stale" in refused.stderr
    assert paper_file(state)["fills"] == []
    allowed = qtc(*base, "--yes", "--allow-stale", "--format", "json")
    assert allowed.exit_code == 0, allowed.output
    assert json.loads(allowed.stdout)["complete"]


def test_a_broker_override_is_honoured_or_rejected(
    qtc: Callable[..., Result], demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QTC_STATE_DIR", str(tmp_path / "state"))
    out = tmp_path / "orders"
    # value_quality trades on ibkr: --broker paper starts from paper's defaults and the
    # --set applies to them (it was silently dropped)
    honoured = qtc(
        "rebalance", "strategies/value_quality.toml", "--broker", "paper", "--lake", str(demo),
        "--out", str(out), "--as-of", "2010-06-30", "--dry-run", "--format", "json",
        "--set", "broker.account=conf", "--set", "data.history_start=2005-01-03",
        "--set", "data.start=2006-01-02",
    )  # fmt: skip
    assert honoured.exit_code == 0, honoured.output
    assert json.loads(honoured.stdout)["account"]["account_id"] == "conf"
    rejected = qtc(*args(demo, out, "--dry-run", "--set", "broker.host=example.com"))
    assert rejected.exit_code == 2
    assert "broker.host" in rejected.output and "Traceback" not in rejected.output
    mock = qtc(*args(demo, out, "--dry-run", "--set", "broker.account=x")[:3], "mock",
               *args(demo, out, "--dry-run", "--set", "broker.account=x")[4:])  # fmt: skip
    assert mock.exit_code == 2 and "broker.account" in mock.output
    clash = qtc(*args(demo, out, "--dry-run", "--set", "broker.kind=mock"))
    assert clash.exit_code == 2 and "conflicts" in clash.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--as-of", "2023-13-45"], "is not a date"),
        (["--as-of", "2023-02-30"], "is not a date"),
        (["--timeout", "-1"], "--timeout"),
    ],
)
def test_bad_options_are_usage_errors(
    qtc: Callable[..., Result],
    demo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
    message: str,
) -> None:
    monkeypatch.setenv("QTC_STATE_DIR", str(tmp_path / "state"))
    base = [a for a in args(demo, tmp_path / "orders") if a not in ("--as-of", "2010-06-30")]
    result = qtc(*base, "--dry-run", *extra)
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output and not (tmp_path / "orders").exists()


def test_symbols_the_lake_lacks_are_named_before_anything_is_planned(
    qtc: Callable[..., Result], demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QTC_STATE_DIR", str(tmp_path / "state"))
    # rsi_reversion's 20 real tickers are not in the synthetic demo market
    result = qtc(
        "rebalance", "strategies/rsi_reversion.toml", "--broker", "paper", "--lake", str(demo),
        "--out", str(tmp_path / "orders"), "--as-of", "2010-06-30", "--dry-run",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "universe.symbols: 20 symbols are not in the lake: AAPL" in result.stderr
    assert not (tmp_path / "orders").exists()
