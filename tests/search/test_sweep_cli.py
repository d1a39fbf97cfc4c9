"""`qtc sweep` end to end on a small synthetic demo lake.

Every variant's metrics must equal a separate `qtc backtest` of it, byte for byte; the
trials must not depend on the number of workers; failures, limits, duplicates,
Ctrl-C and `--resume` behave as documented.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from typer.testing import Result

from qtc.lake import build_demo_lake
from tests.conftest import REPO, stable

STRATEGY = str(REPO / "strategies" / "momentum_us.toml")
WINDOW = ("--set", "data.start=2007-01-02", "--set", "data.end=2010-12-30")
GRID = ("--grid", "selection.top_n=5,10", "--grid", "factors.mom_12_1.lookback=126,252")


@pytest.fixture(scope="module")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sweep_demo") / "lake"
    build_demo_lake(path, seed=11, n_symbols=60, years=6)
    return path


@pytest.fixture
def sweep(
    qtc: Callable[..., Result], demo_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    """`qtc sweep` on the demo lake with a private ledger and output folder."""
    monkeypatch.setenv("QTC_LEDGER", str(tmp_path / "ledger.duckdb"))

    def run(*args: str, out: Path | None = None) -> Result:
        where = out or tmp_path / "sweeps"
        return qtc("sweep", *args, "--lake", str(demo_lake), "--out", str(where))

    return run


def _json(result: Result) -> dict[str, object]:
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def _trials(folder: str) -> pl.DataFrame:
    return pl.read_parquet(Path(folder) / "trials.parquet")


def test_every_variant_equals_its_own_backtest(
    sweep: Callable[..., Result], qtc: Callable[..., Result], demo_lake: Path, tmp_path: Path
) -> None:
    data = _json(sweep(STRATEGY, *WINDOW, *GRID, "--jobs", "1", "--top", "4", "--format", "json"))
    trials = _trials(str(data["folder"]))
    assert trials.height == 4
    assert trials["status"].to_list() == ["ok"] * 4
    for entry in data["top"]:  # type: ignore[attr-defined]
        strategy_file = Path(str(data["folder"])) / entry["file"]
        run = qtc(
            "backtest", str(strategy_file), "--lake", str(demo_lake),
            "--out", str(tmp_path / "runs"), "--format", "json",
        )  # fmt: skip
        assert run.exit_code == 0, run.output
        metrics = json.loads(run.stdout)["metrics"]
        row = trials.filter(pl.col("trial") == entry["trial"]).row(0, named=True)
        for name, value in metrics["strategy"].items():
            assert row[name] == value, name  # exact: the same engine on the same market
        for name, value in metrics["activity"].items():
            assert row[f"activity.{name}"] == value, name
        for name, value in metrics["relative"].items():
            assert row[f"relative.{name}"] == value, name


def test_trials_do_not_depend_on_the_number_of_workers(
    sweep: Callable[..., Result], tmp_path: Path
) -> None:
    one = _json(
        sweep(STRATEGY, *WINDOW, *GRID, "--jobs", "1", "--format", "json", out=tmp_path / "a")
    )
    two = _json(
        sweep(STRATEGY, *WINDOW, *GRID, "--jobs", "2", "--format", "json", out=tmp_path / "b")
    )
    assert one["sweep_id"] == two["sweep_id"]
    a, b = Path(str(one["folder"])), Path(str(two["folder"]))
    assert (a / "trials.parquet").read_bytes() == (b / "trials.parquet").read_bytes()
    assert (a / "sweep.json").read_bytes() != b""
    tops_a = sorted(p.name for p in (a / "top").iterdir())
    assert tops_a == sorted(p.name for p in (b / "top").iterdir())
    for name in tops_a:
        assert (a / "top" / name).read_bytes() == (b / "top" / name).read_bytes()


def test_ranking_follows_the_objective_and_filters(sweep: Callable[..., Result]) -> None:
    data = _json(
        sweep(STRATEGY, *WINDOW, *GRID, "--jobs", "1", "--objective", "min:volatility",
              "--where", "sharpe > -10", "--format", "json")
    )  # fmt: skip
    trials = _trials(str(data["folder"]))
    expected = trials.sort(["volatility", "trial"])["trial"].to_list()
    assert [e["trial"] for e in data["top"]] == expected  # type: ignore[attr-defined]
    cut = trials["sharpe"].median()
    filtered = _json(
        sweep(STRATEGY, *WINDOW, *GRID, "--jobs", "1", "--where", f"sharpe >= {cut!r}",
              "--format", "json")
    )  # fmt: skip
    kept = trials.filter(pl.col("sharpe") >= cut).sort("sharpe", descending=True)["trial"]
    assert [e["trial"] for e in filtered["top"]] == kept.to_list()  # type: ignore[attr-defined]


def test_duplicates_run_once_and_failures_are_recorded(sweep: Callable[..., Result]) -> None:
    data = _json(
        sweep(STRATEGY, *WINDOW, "--grid", "universe.min_price=5,100000", "--grid",
              "rebalance.max_signal_age_days=2,3", "--jobs", "1", "--format", "json")
    )  # fmt: skip
    trials = _trials(str(data["folder"]))
    # max_signal_age_days is a live setting: both of its values compile to one plan.
    assert trials["status"].to_list() == ["ok", "duplicate", "failed", "duplicate"]
    assert trials["duplicate_of"].to_list() == [None, 0, None, 2]
    assert trials["sharpe"][1] == trials["sharpe"][0]
    assert trials["reason"][2].startswith("never held a position")
    assert data["counts"] == {"variants": 4, "ok": 1, "duplicate": 2, "failed": 1, "ranked": 1}


def test_unknown_key_and_bad_candidate_are_coded_errors(sweep: Callable[..., Result]) -> None:
    bad_key = sweep(STRATEGY, *WINDOW, "--grid", "selection.top_m=5,10")
    assert bad_key.exit_code == 2
    assert "QTC204" in bad_key.output and "selection.top_n" in bad_key.output
    bad_value = sweep(STRATEGY, *WINDOW, "--grid", "selection.top_n=5,-3")
    assert bad_value.exit_code == 2
    assert "QTC205" in bad_value.output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--where", "sharpe >> 1"), "bad --where"),
        (("--where", "sharpy > 1"), "did you mean 'sharpe'"),
        (("--objective", "sharp"), "did you mean 'sharpe'"),
        (("--grid", "sizing.max_weight="), "has no values"),
        (("--grid", "sizing.max_weight"), "expected KEY=V1,V2"),
        (("--jobs", "0"), "--jobs must be >= 1"),
        (("--sample", "0"), "--sample must be >= 1"),
        (("--resume", "*"), "is not a sweep id"),
    ],
)
def test_bad_options_exit_2_without_traceback(
    sweep: Callable[..., Result], args: tuple[str, ...], needle: str
) -> None:
    result = sweep(STRATEGY, *WINDOW, *GRID[:2], *args)
    assert result.exit_code == 2, result.output
    assert needle in result.output
    assert "Traceback" not in result.output


def test_grid_above_the_limit_is_refused_with_its_count(sweep: Callable[..., Result]) -> None:
    result = sweep(STRATEGY, *WINDOW, *GRID, "--max-variants", "3")
    assert result.exit_code == 2
    assert "the grid has 4 variants, above the limit of 3" in result.output
    sampled = _json(sweep(STRATEGY, *WINDOW, *GRID, "--max-variants", "3", "--sample", "2",
                          "--seed", "7", "--jobs", "1", "--format", "json"))  # fmt: skip
    again = _json(sweep(STRATEGY, *WINDOW, *GRID, "--max-variants", "3", "--sample", "2",
                        "--seed", "7", "--jobs", "1", "--format", "json"))  # fmt: skip
    assert sampled["counts"]["variants"] == 2  # type: ignore[index]
    assert again["reused"] is True
    assert again["top"] == sampled["top"]


def test_strategy_search_section_is_the_default_space(sweep: Callable[..., Result]) -> None:
    data = _json(
        sweep(STRATEGY, *WINDOW, "--sample", "3", "--seed", "1", "--jobs", "1", "--format", "json")
    )
    trials = _trials(str(data["folder"]))
    assert {"factors.mom_12_1.lookback", "selection.top_n", "sizing.max_weight"} <= set(
        trials.columns
    )


def test_ctrl_c_keeps_finished_trials_and_resume_completes(
    sweep: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from qtc.search import executors

    clean = _json(sweep(STRATEGY, *WINDOW, *GRID, "--jobs", "1", "--format", "json",
                        out=tmp_path / "clean"))  # fmt: skip
    real = executors.evaluate
    calls = {"n": 0}

    def flaky(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(executors, "evaluate", flaky)
    stopped = sweep(STRATEGY, *WINDOW, *GRID, "--jobs", "1", out=tmp_path / "s")
    assert stopped.exit_code == 130
    assert f"qtc sweep --resume {clean['sweep_id']} --out {tmp_path / 's'}" in stopped.output
    folder = tmp_path / "s" / "momentum_us" / str(clean["sweep_id"])
    partial = json.loads((folder / "sweep.json").read_text())
    assert partial["status"] == "interrupted"
    assert _trials(str(folder))["status"].to_list() == ["ok", "ok"]
    monkeypatch.setattr(executors, "evaluate", real)
    resumed = _json(sweep("--resume", str(clean["sweep_id"]), "--jobs", "1", "--format", "json",
                          out=tmp_path / "s"))  # fmt: skip
    assert resumed["top"] == clean["top"]
    assert (folder / "trials.parquet").read_bytes() == (
        Path(str(clean["folder"])) / "trials.parquet"
    ).read_bytes()


def test_human_output(sweep: Callable[..., Result], tmp_path: Path, snapshot: object) -> None:
    result = sweep(STRATEGY, *WINDOW, *GRID, "--jobs", "1", "--top", "3")
    assert result.exit_code == 0, result.output
    assert result.stdout.replace(str(tmp_path), "<tmp>") == snapshot


def test_json_output(sweep: Callable[..., Result], snapshot: object) -> None:
    data = _json(sweep(STRATEGY, *WINDOW, *GRID, "--jobs", "1", "--top", "2", "--format", "json"))
    data.pop("folder")
    assert stable(data) == snapshot


def test_ray_executor_without_ray_says_how_to_install(
    sweep: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    from qtc.search import executors

    monkeypatch.setattr(executors, "ray_available", lambda: False)
    result = sweep(STRATEGY, *WINDOW, *GRID, "--executor", "ray")
    assert result.exit_code == 2
    assert "uv sync --extra ray" in result.output


def test_trials_lists_the_ledger(sweep: Callable[..., Result], qtc: Callable[..., Result]) -> None:
    empty = qtc("trials")
    assert empty.exit_code == 0 and "the trial ledger is empty" in empty.output
    first = _json(sweep(STRATEGY, *WINDOW, *GRID, "--jobs", "1", "--format", "json"))
    _json(sweep(STRATEGY, *WINDOW, *GRID, "--jobs", "1", "--top", "1", "--format", "json"))
    families = json.loads(qtc("trials", "--format", "json").stdout)["families"]
    assert [(f["family"], f["trials"], f["searches"]) for f in families] == [
        (first["family"], 4, 2)  # the same 4 variants in two sweeps: 4 trials, not 8
    ]
    shown = json.loads(qtc("trials", str(first["family"]), "--format", "json").stdout)
    assert len(shown["trials"]) == 8
    assert {t["status"] for t in shown["trials"]} == {"ok"}
    unknown = qtc("trials", "nope@000000000000")
    assert unknown.exit_code == 2 and first["family"] in unknown.output


def test_a_killed_worker_keeps_the_finished_trials(
    sweep: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from qtc.search.executors import FAULT_ENV

    grid = ("--grid", "selection.top_n=5,10,15,20")
    monkeypatch.setenv(FAULT_ENV, "3")  # the worker that gets trial 3 dies (os._exit)
    broken = sweep(STRATEGY, *WINDOW, *grid, "--jobs", "2", out=tmp_path / "k")
    assert broken.exit_code == 1, broken.output
    assert "a worker died during the search" in broken.output
    assert "Traceback" not in broken.output
    (folder,) = (tmp_path / "k" / "momentum_us").iterdir()
    assert json.loads((folder / "sweep.json").read_text())["status"] == "interrupted"
    finished = _trials(str(folder))
    assert set(finished["status"]) <= {"ok"} and 3 not in finished["trial"].to_list()
    monkeypatch.delenv(FAULT_ENV)
    resumed = _json(sweep("--resume", folder.name, "--jobs", "1", "--format", "json",
                          out=tmp_path / "k"))  # fmt: skip
    assert resumed["counts"]["ok"] == 4  # type: ignore[index]


def test_a_constraint_between_two_keys_fails_only_the_variants_that_break_it(
    sweep: Callable[..., Result],
) -> None:
    data = _json(
        sweep(STRATEGY, *WINDOW, "--grid", "factors.mom_12_1.lookback=21,126",
              "--grid", "factors.mom_12_1.skip=0,21", "--jobs", "1", "--format", "json")
    )  # fmt: skip
    trials = _trials(str(data["folder"]))
    # (21, 21) breaks skip < lookback; 21 is still a candidate because (21, 0) is valid.
    assert trials["status"].to_list() == ["ok", "failed", "ok", "ok"]
    assert "skip must be smaller than lookback" in trials["reason"][1]
    alone = sweep(STRATEGY, *WINDOW, "--grid", "factors.mom_12_1.lookback=21,126")
    assert alone.exit_code == 2 and "QTC205" in alone.output  # the file's skip is 21
