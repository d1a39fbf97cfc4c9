"""`qtc runs` end to end: backtests and sweeps record themselves; list, show, gc, rebuild.

A small synthetic demo lake and the tiny strategy of `tests/review/tiny_repo.py`, in a
git repository made in a temp folder (so the recorded revision is known).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from qtc.lake import build_demo_lake
from tests.review.tiny_repo import git, make_repo


@pytest.fixture(scope="module")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("runs_demo") / "lake"
    build_demo_lake(path, seed=11, n_symbols=60, years=6)
    return path


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny repository as the working folder, with a registry of its own."""
    root = make_repo(tmp_path / "repo")
    monkeypatch.chdir(root)
    monkeypatch.setenv("QTC_REGISTRY", str(root / ".qtc" / "registry.duckdb"))
    monkeypatch.setenv("QTC_LEDGER", str(tmp_path / "ledger.duckdb"))
    return root


@pytest.fixture
def qtc_here(repo: Path) -> Callable[..., Result]:
    from qtc.cli.main import app

    def run(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(app, list(args), input=input)

    return run


def _json(result: Result) -> dict:  # type: ignore[type-arg]
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_a_backtest_is_recorded_with_its_git_revision(
    qtc_here: Callable[..., Result], repo: Path, demo_lake: Path
) -> None:
    done = _json(qtc_here("backtest", "tiny.toml", "--lake", str(demo_lake), "--format", "json"))
    (row,) = _json(qtc_here("runs", "list", "--format", "json"))["runs"]
    assert row["folder"] == str((repo / done["run_dir"]).resolve())
    assert row["run_id"] == done["run_id"]
    assert (row["kind"], row["strategy"], row["present"]) == ("backtest", "tiny", True)
    assert row["git_revision"] == git(repo, "rev-parse", "HEAD")
    assert (row["git_path"], row["git_dirty"]) == ("tiny.toml", False)
    assert row["metrics"]["sharpe"] == done["metrics"]["strategy"]["sharpe"]
    run_json = json.loads((repo / done["run_dir"] / "run.json").read_text())
    assert row["dataset_hashes"] == run_json["dataset_hashes"]
    shown = qtc_here("runs", "show", done["run_id"][7:13])
    assert shown.exit_code == 0, shown.output
    assert "git dirty        │ no" in shown.stdout and "tiny.toml" in shown.stdout


def test_an_edited_strategy_is_recorded_dirty_and_gc_asks_first(
    qtc_here: Callable[..., Result], repo: Path, demo_lake: Path
) -> None:
    lake = ["--lake", str(demo_lake)]
    first = _json(qtc_here("backtest", "tiny.toml", *lake, "--format", "json"))
    (repo / "tiny.toml").write_text(
        (repo / "tiny.toml").read_text().replace("top_n = 3", "top_n = 4")
    )
    second = _json(qtc_here("backtest", "tiny.toml", *lake, "--format", "json"))
    rows = _json(qtc_here("runs", "list", "--strategy", "tiny", "--format", "json"))["runs"]
    dirty = {r["run_id"]: r["git_dirty"] for r in rows}
    assert dirty == {first["run_id"]: False, second["run_id"]: True}
    refused = qtc_here("runs", "gc", "--keep", "1", input="n\n")
    assert refused.exit_code == 1 and "not confirmed" in refused.output
    assert (repo / first["run_dir"]).is_dir()
    assert qtc_here("runs", "gc", "--keep", "1", "--format", "json").exit_code == 2
    done = qtc_here("runs", "gc", "--keep", "1", input="y\n")
    assert done.exit_code == 0, done.output
    assert first["run_id"][7:19] in done.stdout  # it was shown before the question
    assert not (repo / first["run_dir"]).exists() and (repo / second["run_dir"]).is_dir()
    (left,) = _json(qtc_here("runs", "list", "--format", "json"))["runs"]
    assert left["run_id"] == second["run_id"]


def test_a_sweep_is_recorded_and_a_lost_registry_is_rebuilt(
    qtc_here: Callable[..., Result], repo: Path, demo_lake: Path
) -> None:
    swept = _json(
        qtc_here("sweep", "tiny.toml", "--grid", "selection.top_n=2,3", "--jobs", "1",
                 "--lake", str(demo_lake), "--format", "json")
    )  # fmt: skip
    (row,) = _json(qtc_here("runs", "list", "--kind", "sweep", "--format", "json"))["runs"]
    assert row["run_id"] == swept["sweep_id"]
    assert (row["metrics"]["variants"], row["git_dirty"]) == (2.0, False)
    shutil.rmtree(repo / ".qtc")
    rebuilt = _json(qtc_here("runs", "rebuild", "--format", "json"))
    assert rebuilt["kinds"] == {"sweep": 1}
    (again,) = _json(qtc_here("runs", "list", "--format", "json"))["runs"]
    assert again["run_id"] == swept["sweep_id"] and again["git_dirty"] is None


def test_bad_input_is_one_line_and_exit_2(qtc_here: Callable[..., Result]) -> None:
    for args, text in [
        (["runs", "show", "zz"], "is not a run id"),
        (["runs", "show", "abcdef"], "no run 'abcdef'"),
        (["runs", "list", "--kind", "nope"], "unknown run kind"),
        (["runs", "list", "--since", "yesterday"], "is not a date"),
        (["runs", "gc", "--keep", "-1"], "--keep must be 0 or more"),
        (["runs", "rebuild", "--root", "missing"], "not a folder"),
    ]:
        result = qtc_here(*args)
        assert result.exit_code == 2, (args, result.output)
        assert text in result.output and "Traceback" not in result.output
