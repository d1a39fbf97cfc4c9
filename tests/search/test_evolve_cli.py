"""`qtc evolve` end to end on a small synthetic demo lake.

The trials must not depend on the number of workers; Ctrl-C and `--resume` must end
where an uninterrupted run ends; the Pareto front must be exactly the non-dominated
trials; with a holdout no trial may see a date on or after it; bad input exits 2.
Every check is derived from the files the command wrote, not from its own summary.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner, Result

from qtc.lake import build_demo_lake
from tests.conftest import REPO, stable

STRATEGY = str(REPO / "strategies" / "momentum_us.toml")
WINDOW = ("--set", "data.start=2007-01-02", "--set", "data.end=2010-12-30")
SMALL = ("--trials", "8", "--population", "4", "--top", "3")

Run = Callable[..., Result]


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A demo lake and a private ledger shared by the module's evolutions."""
    root = tmp_path_factory.mktemp("evolve")
    build_demo_lake(root / "lake", seed=11, n_symbols=60, years=6)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QTC_LEDGER", str(root / "ledger.duckdb"))
        yield root


@pytest.fixture(scope="module")
def evolve(box: Path) -> Run:
    """`qtc evolve` on the demo lake; `out` names the output folder under the box."""

    def run(*args: str, out: str = "evo") -> Result:
        from qtc.cli.main import app

        where = ["--lake", str(box / "lake"), "--out", str(box / out)]
        return CliRunner().invoke(app, ["evolve", *args, *where])

    return run


@pytest.fixture(scope="module")
def clean(evolve: Run) -> Result:
    """One uninterrupted evolution (8 trials, 2 generations, one process)."""
    result = evolve(STRATEGY, *WINDOW, *SMALL, "--jobs", "1")
    assert result.exit_code == 0, result.output
    return result


def _json(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _folder(box: Path, out: str = "evo") -> Path:
    (found,) = (box / out / "momentum_us").iterdir()
    return found


def _trials(folder: Path) -> pl.DataFrame:
    return pl.read_parquet(folder / "trials.parquet")


def test_trials_do_not_depend_on_the_number_of_workers(
    clean: Result, evolve: Run, box: Path
) -> None:
    two = evolve(STRATEGY, *WINDOW, *SMALL, "--jobs", "2", out="two")
    assert two.exit_code == 0, two.output
    a, b = _folder(box), _folder(box, "two")
    assert a.name == b.name
    for name in ("trials.parquet", "evolve.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    tops = sorted(p.name for p in (a / "top").iterdir())
    assert len(tops) == 3 and tops == sorted(p.name for p in (b / "top").iterdir())
    for name in tops:
        assert (a / "top" / name).read_bytes() == (b / "top" / name).read_bytes()


def test_trials_are_generations_of_the_population_and_duplicates_run_once(
    clean: Result, box: Path
) -> None:
    trials = _trials(_folder(box))
    assert trials["trial"].to_list() == list(range(8))
    assert trials["generation"].to_list() == [n // 4 for n in range(8)]
    first: dict[str, dict[str, Any]] = {}
    for row in trials.iter_rows(named=True):
        if row["status"] == "duplicate":
            original = first[row["variant"]]
            assert row["duplicate_of"] == original["trial"] < row["trial"]
            assert row["sharpe"] == original["sharpe"]
        else:
            assert row["variant"] not in first  # a plan runs once
            first[row["variant"]] = row


def test_top_is_the_best_by_sharpe_and_reproduces_with_backtest(
    clean: Result, evolve: Run, box: Path
) -> None:
    data = _json(evolve(STRATEGY, *WINDOW, *SMALL, "--jobs", "1", "--format", "json"))
    assert data["reused"] is True  # the same command finds its finished evolution
    trials = _trials(_folder(box)).filter(pl.col("status") == "ok")
    expected = trials.sort(["sharpe", "trial"], descending=[True, False])["trial"].to_list()[:3]
    assert [entry["trial"] for entry in data["top"]] == expected
    best = data["top"][0]
    from qtc.cli.main import app

    run = CliRunner().invoke(
        app,
        ["backtest", str(_folder(box) / best["file"]), "--lake", str(box / "lake"),
         "--out", str(box / "runs"), "--format", "json"],
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    row = trials.filter(pl.col("trial") == best["trial"]).row(0, named=True)
    for name, value in json.loads(run.stdout)["metrics"]["strategy"].items():
        assert row[name] == value, name


def test_ctrl_c_keeps_finished_trials_and_resume_ends_like_a_clean_run(
    clean: Result, evolve: Run, box: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qtc.search import executors

    evolve_id = _folder(box).name
    real = executors.evaluate
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(executors, "evaluate", flaky)
    stopped = evolve(STRATEGY, *WINDOW, *SMALL, "--jobs", "1", out="stopped")
    assert stopped.exit_code == 130
    assert f"qtc evolve --resume {evolve_id}" in stopped.output
    folder = _folder(box, "stopped")
    assert json.loads((folder / "evolve.json").read_text())["status"] == "interrupted"
    partial = _trials(folder)
    assert 0 < partial.height < 8 and set(partial["status"]) <= {"ok", "duplicate"}
    monkeypatch.setattr(executors, "evaluate", real)
    resumed = evolve("--resume", evolve_id, "--jobs", "1", "--format", "json", out="stopped")
    assert _json(resumed)["reused"] is False
    clean_folder = _folder(box)
    for name in ("trials.parquet", "evolve.json"):
        assert (folder / name).read_bytes() == (clean_folder / name).read_bytes(), name


@pytest.fixture
def own_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ledger of the test's own (the shared one holds only the clean run's family)."""
    monkeypatch.setenv("QTC_LEDGER", str(tmp_path / "ledger.duckdb"))


@pytest.mark.usefixtures("own_ledger")
def test_resume_with_more_trials_continues_the_study(
    evolve: Run, box: Path, tmp_path: Path
) -> None:
    strategy = tmp_path / "s.toml"
    strategy.write_text(Path(STRATEGY).read_text())
    args = (str(strategy), *WINDOW, "--sampler", "random", "--population", "2", "--jobs", "1")
    first = _json(evolve(*args, "--trials", "2", "--format", "json", out="more"))
    before = _trials(_folder(box, "more"))
    resume = ("--resume", first["evolve_id"], "--jobs", "1", "--format", "json")
    more = _json(evolve(*resume, "--trials", "4", out="more"))
    after = _trials(_folder(box, "more"))
    assert more["counts"]["trials"] == after.height == 4
    assert after.head(2).equals(before)
    strategy.write_text(strategy.read_text().replace("slippage_bps = 9.0", "slippage_bps = 8.0"))
    changed = evolve(*resume, "--trials", "6", out="more")
    assert changed.exit_code == 2
    assert f"evolution {first['evolve_id']} cannot continue" in changed.output
    assert _trials(_folder(box, "more")).height == 4


@pytest.mark.usefixtures("own_ledger")
def test_pareto_front_is_every_non_dominated_trial(evolve: Run, box: Path) -> None:
    data = _json(
        evolve(STRATEGY, *WINDOW, "--trials", "12", "--population", "4", "--jobs", "1",
               "--objective", "sharpe", "--objective", "max_drawdown", "--format", "json",
               out="pareto")
    )  # fmt: skip
    assert [(o["metric"], o["maximize"]) for o in data["objectives"]] == [
        ("sharpe", True),
        ("max_drawdown", False),
    ]
    folder = _folder(box, "pareto")
    ok = [r for r in _trials(folder).iter_rows(named=True) if r["status"] == "ok"]

    def dominates(a: dict[str, Any], b: dict[str, Any]) -> bool:
        no_worse = a["sharpe"] >= b["sharpe"] and a["max_drawdown"] <= b["max_drawdown"]
        better = a["sharpe"] > b["sharpe"] or a["max_drawdown"] < b["max_drawdown"]
        return no_worse and better

    front = {r["trial"] for r in ok if not any(dominates(o, r) for o in ok)}
    assert {m["trial"] for m in data["pareto"]} == front
    assert data["top"] == []
    written = sorted(p.name for p in (folder / "pareto").iterdir())
    assert sorted(Path(m["file"]).name for m in data["pareto"]) == written
    assert len(written) == len(front)


@pytest.mark.usefixtures("own_ledger")
def test_holdout_keeps_every_trial_before_it_and_checks_winners_after_it(
    evolve: Run, box: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qtc.compile.stages import LoadData
    from qtc.search import evaluate as evaluate_module
    from qtc.search import executors

    seen: dict[str, list[tuple[Any, Any, Any]]] = {"in": [], "out": []}

    def spy(kind: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def run(number: int, plan: Any, market: Any, cache: Any) -> Any:
            trial = real(number, plan, market, cache)
            spec = plan.spec(LoadData)
            seen[kind].append((spec, market.panel.dates, trial.dates))
            return trial

        return run

    monkeypatch.setattr(executors, "evaluate", spy("in", executors.evaluate))
    monkeypatch.setattr(evaluate_module, "evaluate", spy("out", evaluate_module.evaluate))
    holdout = dt.date(2009, 7, 1)
    data = _json(
        evolve(STRATEGY, *WINDOW, "--trials", "4", "--population", "4", "--top", "2",
               "--jobs", "1", "--holdout", "2009-07-01", "--format", "json", out="holdout")
    )  # fmt: skip
    assert seen["in"] and len(seen["out"]) == 2
    last = _day(holdout) - 1
    for spec, market_dates, trial_dates in seen["in"]:
        assert spec.end < holdout and spec.start == dt.date(2007, 1, 2)
        assert _day(market_dates[-1]) <= last and _day(trial_dates[-1]) <= last
    for spec, _, trial_dates in seen["out"]:
        assert spec.start == holdout and spec.end == dt.date(2010, 12, 30)
        assert _day(trial_dates[0]) >= _day(holdout)
    assert data["holdout"]["date"] == "2009-07-01"
    trials = _trials(_folder(box, "holdout"))
    for winner in data["holdout"]["winners"]:
        row = trials.filter(pl.col("trial") == winner["trial"]).row(0, named=True)
        assert winner["in_sample"]["sharpe"] == row["sharpe"]
        inside, outside = winner["in_sample"]["sharpe"], winner["out_of_sample"]["sharpe"]
        assert winner["warning"] == (outside < inside / 2)


def _day(value: Any) -> int:
    """Days since 1970 of a date or a numpy datetime64."""
    if isinstance(value, dt.date):
        return (value - dt.date(1970, 1, 1)).days
    return int(value.astype("datetime64[D]").astype("int64"))


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--sampler", "genetic"), "unknown sampler 'genetic'"),
        (("--holdout", "2010-02-30"), "is not a date"),
        (("--holdout", "2012-01-03"), "outside the window 2007-01-02..2010-12-30"),
        (("--holdout", "2007-01-02"), "outside the window"),
        (("--holdout", "2009-07-01", "--holdout-fraction", "0.2"), "not both"),
        (("--holdout-fraction", "1.5"), "between 0 and 1"),
        (("--objective", "sharp"), "did you mean 'sharpe'"),
        (("--objective", "sharpe", "--objective", "sharpe"), "given twice"),
        (("--where", "sharpe >> 1"), "bad --where"),
        (("--trials", "0"), "--trials must be between 1 and 100,000"),
        (("--trials", "100001"), "--trials must be between 1 and 100,000"),
        (("--population", "1"), "--population must be between 2 and"),
        (("--sampler", "cmaes", "--objective", "sharpe", "--objective", "cagr"), "one objective"),
        (("--jobs", "0"), "--jobs must be >= 1"),
        (("--set", "data.end=2006-01-01"), "QTC"),
    ],
)
def test_bad_options_exit_2_and_write_nothing(
    evolve: Run, box: Path, args: tuple[str, ...], needle: str
) -> None:
    result = evolve(STRATEGY, *WINDOW, *args, out="bad")
    assert result.exit_code == 2, result.output
    assert needle in result.output
    assert "Traceback" not in result.output
    assert not (box / "bad").exists()


def test_resume_of_an_unknown_id_exits_2(clean: Result, evolve: Run) -> None:
    result = evolve("--resume", "000000000000")
    assert result.exit_code == 2
    assert "no evolution '000000000000'" in result.output
    pattern = evolve("--resume", "*")
    assert pattern.exit_code == 2 and "is not an evolution id" in pattern.output


@pytest.mark.parametrize(
    ("search", "code"),
    [
        ('"selection.top_n" = [20]\n"sizing.max_weight" = { min = 0.05, max = 0.05, step = 0.01 }',
         "QTC213"),
        ('"selection.top_n" = { min = 5, max = 50, step = 2.5 }', "QTC205"),
        ('"selection.top_n" = { min = 5.0, max = 50.0, log = true }', "QTC205"),
        ('"selection.top_m" = [5, 10]', "QTC204"),
        ("", "QTC212"),
    ],
)  # fmt: skip
def test_a_space_that_cannot_be_searched_is_a_coded_error(
    evolve: Run, box: Path, tmp_path: Path, search: str, code: str
) -> None:
    text = Path(STRATEGY).read_text()
    head = text[: text.index("[search]")]
    strategy = tmp_path / "one.toml"
    strategy.write_text(head + ("[search]\n" + search + "\n" if search else ""))
    result = evolve(str(strategy), *WINDOW, "--format", "json", out="bad")
    assert result.exit_code == 2, result.output
    assert [d["code"] for d in json.loads(result.stdout)["diagnostics"]] == [code]
    assert not (box / "bad").exists()


def test_human_output(clean: Result, box: Path, snapshot: object) -> None:
    assert clean.stdout.replace(str(box), "<tmp>") == snapshot


def test_json_output(clean: Result, evolve: Run, snapshot: object) -> None:
    data = _json(evolve(STRATEGY, *WINDOW, *SMALL, "--jobs", "1", "--format", "json"))
    data.pop("folder")
    assert stable(data) == snapshot
