"""Kill the process mid-run (SIGKILL, a real crash), then `qtc rebalance --resume`.

The first process runs the real CLI (`qtc rebalance --apply PLAN --yes`) on the paper broker,
which is patched to kill its own process right before or right after its n-th order reaches
the account file. `--resume` must then finish the plan: every planned order at the broker
exactly once, and the audit log, replayed, agreeing with the paper account.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from qtc.live.audit import read_log, replay, verify
from qtc.live.execute import client_order_id

KILLER = """
import os, signal, sys
from qtc.live.brokers import paper

original = paper.PaperBroker.submit
seen = {"n": 0}

def submit(self, order):
    seen["n"] += 1
    if seen["n"] == int(sys.argv[2]) and sys.argv[3] == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    state = original(self, order)
    if seen["n"] == int(sys.argv[2]) and sys.argv[3] == "after":
        os.kill(os.getpid(), signal.SIGKILL)
    return state

paper.PaperBroker.submit = submit
from qtc.cli.main import app
app(["rebalance", "--apply", sys.argv[1], "--yes"])
"""


@pytest.mark.parametrize(("n", "when"), [(1, "before"), (1, "after"), (17, "after")])
def test_kill_mid_run_then_resume_neither_duplicates_nor_loses(
    qtc: Callable[..., Result],
    demo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    n: int,
    when: str,
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("QTC_STATE_DIR", str(state))
    dry = qtc(
        "rebalance", "strategies/momentum_us.toml", "--broker", "paper", "--lake", str(demo),
        "--out", str(tmp_path / "orders"), "--as-of", "2010-06-30", "--dry-run", "--format", "json",
    )  # fmt: skip
    assert dry.exit_code == 0, dry.output
    plan_path = Path(json.loads(dry.stdout)["order_plan"])
    plan = json.loads(plan_path.read_text())
    assert len(plan["orders"]) > n
    env = os.environ | {"QTC_STATE_DIR": str(state)}
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, str(plan_path), str(n), when],
        env=env,
        capture_output=True,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    account = state / "paper" / "default.json"
    at_broker = json.loads(account.read_text())["orders"]
    assert len(at_broker) == (n - 1 if when == "before" else n)
    # a plain re-run is refused: the window has an unfinished run
    again = qtc("rebalance", "--apply", str(plan_path), "--yes")
    assert again.exit_code == 1 and "unfinished run" in again.stderr and "--resume" in again.stderr
    resumed = qtc("rebalance", "strategies/momentum_us.toml", "--resume", "--format", "json")
    assert resumed.exit_code == 0, resumed.output
    done = json.loads(resumed.stdout)
    assert done["complete"] and done["run"]["status"] == "done"
    final = json.loads(account.read_text())
    planned = {client_order_id(plan["sha256"], i): o for i, o in enumerate(plan["orders"])}
    ids = [o["state"]["client_order_id"] for o in final["orders"]]
    assert sorted(ids) == sorted(planned)  # zero lost, zero duplicated, zero extra
    fills: dict[str, float] = {}
    for f in final["fills"]:
        fills[f["client_order_id"]] = fills.get(f["client_order_id"], 0.0) + f["quantity"]
    assert fills == {cid: o["quantity"] for cid, o in planned.items()}  # each filled once
    log = Path(done["audit_log"])
    assert verify(log).ok
    logged = replay(read_log(log))
    assert {cid: s.filled_quantity for cid, s in logged.items()} == fills
    assert all(s.status == "filled" and not s.outcome_unknown for s in logged.values())
