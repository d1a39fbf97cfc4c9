"""Bad input across commands: each a clean, coded error and nothing half-written.

The property-based harness (`test_fuzz_cli.py`) tries generated values everywhere; these
tests pin the exact message of the cases the reliability issue names.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from qtc.lake import build_demo_lake


@pytest.fixture(scope="module")
def small_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bad_inputs") / "lake"
    build_demo_lake(path, seed=11, n_symbols=30, years=6)
    return path


@pytest.mark.parametrize("kind", ["fifo", "symlink", "device", "directory"])
def test_out_that_is_not_a_regular_file_is_refused_and_left_alone(
    qtc: Callable[..., Result], tmp_path: Path, kind: str
) -> None:
    target = tmp_path / "schema.json"
    real = tmp_path / "real.json"
    real.write_text("{}")
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "symlink":
        target.symlink_to(real)
    elif kind == "directory":
        target.mkdir()
    else:
        target = Path("/dev/null")
    result = qtc("schema", "--out", str(target))
    assert result.exit_code == 1
    name = {"fifo": "FIFO", "symlink": "symlink", "device": "device", "directory": "directory"}
    assert f"it is a {name[kind]}; qtc only replaces regular files" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 2  # the error and its hint
    assert real.read_text() == "{}" and sorted(p.name for p in tmp_path.iterdir()) == sorted(
        {"real.json", "schema.json"} if kind != "device" else {"real.json"}
    )


def test_an_unwritable_out_is_one_line(qtc: Callable[..., Result], tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = qtc("schema", "--out", str(tmp_path / "file" / "schema.json"))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {tmp_path}/file/schema.json: Not a directory")
    assert "Traceback" not in result.output


@pytest.mark.parametrize("date", ["2023-02-30", "2023-13-45", "tomorrow"])
def test_a_bad_as_of_is_a_usage_error_on_every_command(
    qtc: Callable[..., Result], small_lake: Path, tmp_path: Path, date: str
) -> None:
    lake = ["--lake", str(small_lake)]
    for argv in (
        ["check", "strategies/momentum_us.toml"],
        ["compile", "strategies/momentum_us.toml"],
        ["backtest", "strategies/momentum_us.toml", *lake, "--out", str(tmp_path / "runs")],
        ["reconcile", "strategies/momentum_us.toml", *lake],
    ):
        result = qtc(*argv, "--as-of", date)
        assert result.exit_code == 2, (argv, result.output)
        assert f"'{date}' is not a date; use YYYY-MM-DD" in result.output
        as_json = qtc(*argv, "--as-of", date, "--format", "json")
        assert json.loads(as_json.stdout)["ok"] is False
    assert not (tmp_path / "runs").exists()


def test_report_refuses_a_run_json_without_its_keys(
    qtc: Callable[..., Result], small_lake: Path, tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    done = qtc(
        "backtest", "strategies/momentum_us.toml", "--lake", str(small_lake), "--out", str(out),
        "--set", "data.start=2009-06-01", "--set", "data.end=2010-12-30",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    (run,) = (out / "momentum_us").iterdir()
    doc = json.loads((run / "run.json").read_text())
    del doc["run_id"]
    doc["window"]["days"] = "many"
    (run / "run.json").write_text(json.dumps(doc))
    result = qtc("report", str(run))
    assert result.exit_code == 2
    assert "not a complete run artifact (no `run_id`; `window.days` is not a int)" in result.stderr
    assert not (run / "report.html").exists()
    (run / "run.json").write_text("[1, 2]")
    assert "not a JSON object" in qtc("report", str(run)).stderr


def test_kill_flatten_declined_exits_1_and_sends_nothing(
    qtc: Callable[..., Result], small_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QTC_STATE_DIR", str(tmp_path / "state"))
    result = qtc("kill", "--broker", "paper", "--flatten", "--lake", str(small_lake), input="n\n")
    assert result.exit_code == 1
    assert "not confirmed; nothing was sent" in result.stderr


def test_an_account_name_that_escapes_its_folder_is_a_clean_error(
    qtc: Callable[..., Result], small_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QTC_STATE_DIR", str(tmp_path / "state"))
    for argv in (
        ["kill", "--broker", "paper", "--account", "../../etc", "--lake", str(small_lake)],
        ["positions", "--broker", "paper", "--account", "../../etc"],
    ):
        result = qtc(*argv)
        assert result.exit_code == 2
        assert "invalid paper broker setting (broker.account = '../../etc'" in result.stderr
        assert "pydantic" not in result.output and "Traceback" not in result.output
    assert not (tmp_path / "etc.json").exists() and not (tmp_path / "state").exists()


def test_an_unexpected_exception_is_reported_as_a_bug_without_a_traceback(
    qtc: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("unexpected")

    monkeypatch.setattr("qtc.api.strategy.check_files", boom)
    result = qtc("check", "strategies/momentum_us.toml")
    assert result.exit_code == 70
    assert "internal error (RuntimeError: unexpected); this is a bug in qtc" in result.stderr
    assert "QTC_DEBUG=1" in result.stderr and "Traceback" not in result.output


def test_ctrl_c_says_interrupted(
    qtc: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("qtc.api.strategy.check_files", interrupt)
    result = qtc("check", "strategies/momentum_us.toml", "--format", "json")
    assert result.exit_code == 130
    assert json.loads(result.stdout)["error"].startswith("interrupted (Ctrl-C)")
