"""`qtc rebalance --dry-run` end to end on a small demo lake with the paper broker."""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from qtc.lake import build_demo_lake
from qtc.live.orderplan import plan_hash


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rebalance") / "lake"
    build_demo_lake(path, seed=11, n_symbols=60, years=6)
    return path


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
    assert doc | {"git_commit": "<commit>", "sha256": "<sha256>"} == snapshot
    human = qtc(*args(demo, out, "--dry-run"))
    assert human.exit_code == 0
    text = re.sub(r"[0-9a-f]{12}", "<sha12>", human.stdout.replace(str(out), "<out>"))
    assert text == snapshot


def test_without_dry_run_nothing_is_sent(
    qtc: Callable[..., Result], demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QTC_STATE_DIR", str(tmp_path / "state"))
    result = qtc(*args(demo, tmp_path / "orders"))
    assert result.exit_code == 1
    assert "nothing was sent" in result.stderr
    assert not (tmp_path / "state").exists()


def test_unavailable_broker_is_a_user_error(
    qtc: Callable[..., Result], demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QTC_STATE_DIR", str(tmp_path / "state"))
    result = qtc(*[a if a != "paper" else "ibkr" for a in args(demo, tmp_path, "--dry-run")])
    assert result.exit_code == 2
    assert "not available yet" in result.stderr
