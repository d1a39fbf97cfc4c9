"""Property-based CLI harness: every command, generated bad values, damaged files.

For every generated case (see `fuzz_cases.py`): exit code 0, 1 or 2; no traceback (nor a
pydantic dump, nor an internal error); JSON on stdout when `--format json` was asked; no
temporary file left; and when the input was wrong (exit 2), no file created or changed.
Each example starts from a fresh copy of the sandbox.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from qtc.lake import build_demo_lake
from qtc.manifest.load import load_strategy
from qtc.manifest.variants import leaf_paths, user_tree
from tests.cli.fuzz_cases import COMMANDS, STRATEGY, Sandbox, problems, snapshot

EXAMPLES = int(os.environ.get("QTC_FUZZ_EXAMPLES", "12"))
"""Examples per command family (`QTC_FUZZ_EXAMPLES=500 pytest ...` for a long run)."""

TALLY = os.environ.get("QTC_FUZZ_TALLY")
"""When set, a JSONL file that gets one line per case (`benchmarks/reliability.py`)."""


def build_pristine(root: Path) -> None:
    """Lake, run, order plan and audit log of the sandbox, made with the CLI itself."""
    from qtc.cli.main import app

    build_demo_lake(root / "lake", seed=11, n_symbols=30, years=6)
    strategy = root / "strategy.toml"
    strategy.write_text(STRATEGY.read_text())
    runner = CliRunner()
    lake = ["--lake", str(root / "lake")]
    window = ["--set", "data.start=2009-06-01", "--set", "data.end=2010-12-30"]
    done = runner.invoke(
        app, ["backtest", str(strategy), *lake, "--out", str(root / "runs"), *window]
    )
    assert done.exit_code == 0, done.output
    plan = ["rebalance", str(strategy), *lake, "--as-of", "2010-06-30", "--out"]
    made = runner.invoke(app, [*plan, str(root / "orders"), "--yes"])
    assert made.exit_code == 0, made.output
    dry = runner.invoke(app, [*plan, str(root / "plans"), "--dry-run", "--force"])
    assert dry.exit_code == 0, dry.output
    (root / "cwd").mkdir()
    (root / "regular.txt").write_text("not a qtc file\n")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("fuzz") / "box"
    old = {k: os.environ.get(k) for k in ("QTC_STATE_DIR", "QTC_CACHE_DIR", "QTC_LAKE")}
    os.environ["QTC_STATE_DIR"] = str(root / "state")
    os.environ["QTC_CACHE_DIR"] = str(root / "cache")
    os.environ.pop("QTC_LAKE", None)
    build_pristine(root)
    yield root
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def keys() -> list[str]:
    """Every key path of the example strategy, as `--set` takes it."""
    strategy = load_strategy(STRATEGY).strategy  # read only
    assert strategy is not None
    return [".".join(str(p) for p in path) for path in leaf_paths(user_tree(strategy))]


def fresh(pristine: Path) -> Sandbox:
    """A fresh copy of the sandbox beside the pristine one (same path every time)."""
    root = pristine.parent / "work"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(pristine, root)
    os.mkfifo(root / "fifo")
    link = root / "link.txt"
    link.symlink_to(root / "regular.txt")
    os.environ["QTC_STATE_DIR"] = str(root / "state")
    os.environ["QTC_CACHE_DIR"] = str(root / "cache")
    (run,) = (root / "runs" / "momentum_us").iterdir()
    (plan,) = (root / "plans" / "momentum_us").glob("*.json")
    (log,) = (root / "orders" / "momentum_us").glob("*.audit.jsonl")
    return Sandbox(
        root, root / "lake", run, plan, log, root / "fifo", root / "regular.txt", link,
        root / "strategy.toml",
    )  # fmt: skip


def invoke(argv: list[str], cwd: Path) -> object:
    from qtc.cli.main import app

    here = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(app, argv, input="n\n")
    finally:
        os.chdir(here)


def run_case(pristine: Path, keys: list[str], family: str, data: st.DataObject) -> None:
    box = fresh(pristine)
    argv = COMMANDS[family](box, data, keys)
    before = snapshot(box.root)
    result = invoke(argv, box.root / "cwd")
    found = problems(argv, result, before, snapshot(box.root))
    if TALLY:
        record = {"family": family, "argv": argv, "exit": result.exit_code, "problems": found}
        with open(TALLY, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
    assert not found, f"qtc {' '.join(argv)}\n{found}\n{getattr(result, 'output', '')[-2000:]}"


@pytest.mark.parametrize("family", sorted(COMMANDS))
def test_no_bad_input_ends_in_a_traceback_or_a_half_written_file(
    pristine: Path, keys: list[str], family: str
) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        run_case(pristine, keys, family, data)

    check()


def test_the_harness_catches_a_traceback() -> None:
    """`problems` flags what the harness exists to catch (it is not a test that cannot fail)."""
    from types import SimpleNamespace

    crash = SimpleNamespace(exit_code=1, output="Traceback (most recent call last):", stdout="")
    assert problems(["check"], crash, {}, {}) == ["output contains 'Traceback'"]
    bad_json = SimpleNamespace(exit_code=0, output="ok", stdout="ok")
    assert problems(["x", "--format", "json"], bad_json, {}, {}) == [
        "--format json but stdout is not JSON"
    ]
    wrote = SimpleNamespace(exit_code=2, output="error", stdout="")
    assert problems(["x"], wrote, {}, {"a": "dir"}) == ["exit 2 but files changed: ['a']"]
    left = SimpleNamespace(exit_code=1, output="error", stdout="")
    assert problems(["x"], left, {}, {".lake-1.tmp-2": "dir"})[0].startswith("temporary")
    odd: Callable[..., object] = SimpleNamespace
    assert problems(["x"], odd(exit_code=70, output="", stdout=""), {}, {}) == ["exit code 70"]
