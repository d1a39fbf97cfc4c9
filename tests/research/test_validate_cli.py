"""`qtc validate` end to end on a small synthetic demo lake: output, artifact, exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from typer.testing import Result

from tests.conftest import stable
from tests.research.conftest import SHORT_WINDOW, STRATEGY, WINDOW, as_json

GATES = (
    "--set",
    "validate.min_icir=0.1",
    "--set",
    "validate.max_turnover=0.05",
    "--set",
    "validate.max_pbo=0.5",
)


def _mask(text: str, folder: Path) -> str:
    return text.replace(str(folder), "<out>" if folder.name == "va" else "<tmp>")


def test_human_output(validate: Callable[..., Result], tmp_path: Path, snapshot: object) -> None:
    result = validate(STRATEGY, *WINDOW, *GATES)
    assert result.exit_code == 1, result.output  # max_turnover fails
    assert "Traceback" not in result.output
    vid = next((tmp_path / "va" / "momentum_us").iterdir()).name  # depends on versions
    shown = _mask(_mask(result.stdout, tmp_path / "va"), tmp_path).replace(vid, "<id>")
    assert shown == snapshot


def test_json_output(validate: Callable[..., Result], tmp_path: Path, snapshot: object) -> None:
    data = as_json(validate(STRATEGY, *WINDOW, *GATES, "--format", "json"), code=1)
    assert data["ok"] is False and data["passed"] is False
    statuses = {g["gate"]: g["status"] for g in data["gates"]}
    assert statuses == {
        "min_rank_ic": "PASS",
        "min_icir": "PASS",
        "min_oos_sharpe": "PASS",
        "max_turnover": "FAIL",
        "max_pbo": "NOT EVALUABLE",
    }
    data["folder"] = _mask(data["folder"], tmp_path / "va").replace(data["validation_id"], "<id>")
    data["validation_id"] = data["run_id"] = "<id>"  # fingerprints of the versions too
    for gate in data["gates"]:
        gate["reason"] = _mask(gate["reason"], tmp_path)
    data["bias"] = {
        k: _mask(v, tmp_path) if isinstance(v, str) else v for k, v in data["bias"].items()
    }
    data["request"]["path"] = Path(data["request"]["path"]).name  # the clone's own location
    assert stable(data) == snapshot


def test_every_gate_passing_exits_0_and_the_artifact_is_reproducible(
    validate: Callable[..., Result], tmp_path: Path
) -> None:
    first = as_json(validate(STRATEGY, *WINDOW, "--format", "json"))
    folder = Path(first["folder"])
    files = sorted(p.name for p in folder.iterdir())
    assert files == [
        "cumulative.parquet",
        "folds.parquet",
        "ic.parquet",
        "meta.json",
        "oos.parquet",
        "quantiles.parquet",
        "stability.parquet",
        "validate.json",
    ]
    before = {name: (folder / name).read_bytes() for name in files if name != "meta.json"}
    second = as_json(validate(STRATEGY, *WINDOW, "--format", "json"))
    assert second["folder"] == first["folder"]
    assert {name: (folder / name).read_bytes() for name in before} == before
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_tables_agree_with_the_document(validate: Callable[..., Result]) -> None:
    data = as_json(validate(STRATEGY, *WINDOW, "--horizons", "5,21", "--format", "json"))
    folder = Path(data["folder"])
    ic = pl.read_parquet(folder / "ic.parquet")
    score = ic.filter((pl.col("kind") == "score") & (pl.col("horizon") == 21))
    summary = data["signals"][0]["horizons"][1]
    assert summary["horizon"] == 21
    assert score["rank_ic"].drop_nans().mean() == pytest.approx(summary["rank_ic"]["mean"])
    assert score.height == data["signal_dates"]["count"]
    quantiles = pl.read_parquet(folder / "quantiles.parquet")
    assert quantiles["quantile"].unique().sort().to_list() == [1, 2, 3, 4, 5]
    oos = pl.read_parquet(folder / "oos.parquet")
    walk = data["walk_forward"]
    assert oos.height == walk["out_of_sample"]["days"]
    assert oos["equity"][-1] == pytest.approx(1 + walk["out_of_sample"]["total_return"])
    folds = pl.read_parquet(folder / "folds.parquet")
    assert folds["oos_sharpe"].to_list() == [f["out_of_sample"]["sharpe"] for f in walk["table"]]


def test_every_day_studies_each_trading_day(
    validate: Callable[..., Result], demo_lake: Path
) -> None:
    from qtc.lake import Lake

    args = ("--every-day", "--horizons", "1", "--format", "json")
    dates = as_json(validate(STRATEGY, *WINDOW, *args))["signal_dates"]
    days = Lake(demo_lake).calendar("2007-01-02", "2010-12-30")
    assert dates["every_day"] is True
    # every trading day whose next close (the execution) is inside the window
    assert dates["count"] == days.size - 1
    assert (dates["first"], dates["last"]) == (str(days[0]), str(days[-2]))


SHORT = ("--set", "data.start=2010-11-01", "--horizons", "1")
EMPTY_MOMENTUM = (
    *("--set", "data.start=2005-02-01", "--set", "data.end=2005-12-30"),
    *("--set", "universe.min_history_days=0"),
)
BAD_INPUTS = [
    (("--horizons", "0,x"), "QTC404", "--horizons"),
    (("--quantiles", "1"), "QTC404", "--quantiles"),
    (("--folds", "99"), "QTC404", "--folds"),
    (("--set", "data.start=2010-06-01", "--horizons", "150"), "QTC402", "--horizons"),
    ((*SHORT, "--folds", "30"), "QTC403", "--folds"),
    (EMPTY_MOMENTUM, "QTC401", STRATEGY),
]


@pytest.mark.parametrize(("args", "code", "where"), BAD_INPUTS)
def test_bad_input_is_a_coded_error_and_writes_nothing(
    validate: Callable[..., Result], tmp_path: Path, args: tuple[str, ...], code: str, where: str
) -> None:
    data = as_json(validate(STRATEGY, *WINDOW, *args, "--format", "json"), code=2)
    found = data["diagnostics"]
    assert found[0]["code"] == code, found
    assert found[0]["location"]["file"] == where
    assert not (tmp_path / "va").exists()
    assert not (tmp_path / "ledger.duckdb").exists()


def test_a_factor_without_values_is_named(validate: Callable[..., Result]) -> None:
    result = validate(STRATEGY, *WINDOW, *EMPTY_MOMENTUM)
    assert result.exit_code == 2
    assert 'error[QTC401]: factor "mom_12_1" has no value on any signal date' in result.stderr
    assert "vol_63" not in result.stderr  # it has values after its 63-day window


def test_reselect_without_search_is_refused(
    validate: Callable[..., Result], tmp_path: Path
) -> None:
    plain = tmp_path / "plain.toml"
    text = Path(STRATEGY).read_text()
    plain.write_text(text[: text.index("[search]")])
    result = validate(str(plain), *WINDOW, "--reselect", "--format", "json")
    assert result.exit_code == 2
    assert "needs a [search] section" in json.loads(result.stdout)["error"]


UNNEEDED = (
    "duckdb",
    "matplotlib",
    "pandas",
    "jinja2",
    "scipy",
    "quantstats",
    "riskfolio",
    "optuna",
)
PROBE = """
import json, sys
from typer.testing import CliRunner
from qtc.cli.main import app
args = ["validate", STRATEGY, "--lake", LAKE, "--out", OUT, *WINDOW]
result = CliRunner().invoke(app, args)
assert result.exit_code in (0, 1), result.output
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in UNNEEDED)))
"""


def test_validate_imports_only_what_it_uses(demo_lake: Path, tmp_path: Path) -> None:
    """Without --report and ledger gates: no report, ledger, pandas or search libraries."""
    import subprocess
    import sys

    from tests.conftest import REPO

    code = (
        f"UNNEEDED = {UNNEEDED!r}\nSTRATEGY = {STRATEGY!r}\nLAKE = {str(demo_lake)!r}\n"
        f"OUT = {str(tmp_path / 'va')!r}\nWINDOW = {list(SHORT_WINDOW)!r}\n{PROBE}"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_a_validation_is_recorded_in_the_run_registry(
    validate: Callable[..., Result], qtc: Callable[..., Result], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("QTC_REGISTRY", str(tmp_path / "registry.duckdb"))
    data = as_json(validate(STRATEGY, *WINDOW, "--format", "json"))
    listed = json.loads(qtc("runs", "list", "--kind", "validate", "--format", "json").stdout)
    rows = listed["runs"]
    assert [(r["kind"], r["strategy"]) for r in rows] == [("validate", "momentum_us")]
    assert str(data["validation_id"]).startswith(rows[0]["run_id"][:12])
