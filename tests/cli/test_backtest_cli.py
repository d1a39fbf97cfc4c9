"""`qtc backtest` end to end: summary output, artifacts, reuse, byte-identical reruns.

Most tests use a small synthetic demo lake (60 symbols, 2005-2010); the slow ones run every
example strategy on the full demo market and on the real-data lake.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from typer.testing import Result

from qtc.lake import build_demo_lake
from tests.conftest import REPO, stable

WINDOW = ["--set", "data.start=2007-01-02", "--set", "data.end=2010-12-30"]
EXAMPLES = sorted(p.name for p in (REPO / "strategies").glob("*.toml"))
NOT_IN_THE_DEMO_MARKET = {"rsi_reversion.toml"}
"""Examples whose `universe.symbols` the synthetic demo market does not have (exit 2)."""
DIGESTS = REPO / "tests" / "cli" / "example_digests.json"
"""sha256 of every example run's run.json and Parquet files on the demo and real lakes,
recorded before issue 12's refactor (byte-identical artifacts across the reshaping).
Re-record on purpose only:
`QTC_RECORD_DIGESTS=1 uv run pytest tests/cli/test_backtest_cli.py -k every_example`.
The digests hold on this machine's numpy build (SIMD sums differ in the last bit by CPU)."""
PROGRESS_TEXT = ("load data", "compute factors", "select universe", "run engine", "\x1b", "⠋")


@pytest.fixture(scope="module")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bt_demo") / "lake"
    build_demo_lake(path, seed=11, n_symbols=60, years=6)
    return path


@pytest.fixture(scope="module")
def full_demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bt_full_demo") / "lake"
    build_demo_lake(path)
    return path


@pytest.fixture(scope="module")
def real_lake(shared_ingest: tuple[Path, object]) -> Path:
    return shared_ingest[0]


def masked(text: str, *paths: Path) -> str:
    for path in paths:
        text = text.replace(str(path), "<tmp>")
    return text


def hashes(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.name != "meta.json"
    }


def check_digests(lake: str, name: str, out: Path) -> None:
    """Compare the run's artifact digests with the recorded ones (or record them)."""
    (run,) = list(out.rglob("run.json"))
    found = hashes(run.parent)
    key = f"{lake}/{name}"
    recorded = json.loads(DIGESTS.read_text()) if DIGESTS.exists() else {}
    if os.environ.get("QTC_RECORD_DIGESTS") == "1":
        recorded[key] = found
        DIGESTS.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")
        return
    assert found == recorded[key], f"{key}: artifacts differ from the recorded digests"


def test_backtest_summary_and_artifact(
    qtc: Callable[..., Result], demo_lake: Path, tmp_path: Path, snapshot: object
) -> None:
    out = tmp_path / "runs"
    args = ["backtest", "strategies/momentum_us.toml", "--lake", str(demo_lake), "--out", str(out)]
    result = qtc(*args, *WINDOW)
    assert result.exit_code == 0, result.output
    assert "metric" in result.stdout and "benchmark" in result.stdout
    assert masked(result.stdout, out) == snapshot
    (run,) = list((out / "momentum_us").iterdir())
    assert {p.name for p in run.iterdir()} == {
        "run.json",
        "meta.json",
        "equity.parquet",
        "weights.parquet",
        "exposure.parquet",
        "sectors.parquet",
        "holdings.parquet",
        "targets.parquet",
        "trades.parquet",
    }
    doc = json.loads((run / "run.json").read_text())
    assert doc["schema_version"] == 2 and doc["artifact"] == "qtc.run"
    assert doc["plan_fingerprint"].startswith("sha256:")
    assert set(doc["dataset_hashes"]) >= {"prices", "benchmarks", "rates", "membership"}
    assert doc["window"]["start"] == "2007-01-02"
    for name, digest in doc["files"].items():
        assert hashlib.sha256((run / name).read_bytes()).hexdigest() == digest


def test_backtest_json(
    qtc: Callable[..., Result], demo_lake: Path, tmp_path: Path, snapshot: object
) -> None:
    out = tmp_path / "runs"
    args = ["backtest", "strategies/momentum_us.toml", "--lake", str(demo_lake), "--out", str(out)]
    result = qtc(*args, *WINDOW, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["reused"] is False
    data["run_dir"] = masked(data["run_dir"], out)
    assert stable(data) == snapshot


def test_rerun_is_reused_and_force_is_byte_identical(
    qtc: Callable[..., Result], demo_lake: Path, tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    args = ["backtest", "strategies/momentum_us.toml", "--lake", str(demo_lake), "--out", str(out)]
    first = json.loads(qtc(*args, *WINDOW, "--format", "json").stdout)
    run = Path(first["run_dir"])
    before = hashes(run)
    again = json.loads(qtc(*args, *WINDOW, "--format", "json").stdout)
    assert again["reused"] is True and again["run_id"] == first["run_id"]
    forced = json.loads(qtc(*args, *WINDOW, "--format", "json", "--force").stdout)
    assert forced["reused"] is False
    assert hashes(run) == before


def test_changed_value_gives_a_new_run(
    qtc: Callable[..., Result], demo_lake: Path, tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    args = ["backtest", "strategies/momentum_us.toml", "--lake", str(demo_lake), "--out", str(out)]
    a = json.loads(qtc(*args, *WINDOW, "--format", "json").stdout)
    b = json.loads(qtc(*args, *WINDOW, "--set", "selection.top_n=10", "--format", "json").stdout)
    assert a["run_id"] != b["run_id"]


def test_user_errors_exit_2(qtc: Callable[..., Result], demo_lake: Path, tmp_path: Path) -> None:
    bad = qtc("backtest", "tests/cases/invalid/unknown_key.toml", "--lake", str(demo_lake))
    assert bad.exit_code == 2 and "QTC101" in bad.stderr
    window = qtc(
        "backtest",
        "strategies/momentum_us.toml",
        "--lake",
        str(demo_lake),
        "--out",
        str(tmp_path),
        "--set",
        "data.start=2030-01-02",
        "--set",
        "data.end=2031-01-02",
    )
    assert window.exit_code == 2, window.output
    assert "Traceback" not in window.output


def test_names_the_lake_lacks_are_user_errors(
    qtc: Callable[..., Result], demo_lake: Path, tmp_path: Path
) -> None:
    args = ["backtest", "strategies/momentum_us.toml", "--lake", str(demo_lake)]
    args += ["--out", str(tmp_path), *WINDOW]
    symbols = qtc(
        *args, "--set", "universe.kind=symbols", "--set", 'universe.symbols=["ZZZZ"]',
        "--set", "selection.top_n=1", "--set", "selection.buffer=0",
    )  # fmt: skip
    assert symbols.exit_code == 2, symbols.output
    assert "error: universe.symbols: 1 symbol is not in the lake: ZZZZ" in symbols.stderr
    assert "the lake has 60 symbols" in symbols.stderr
    sectors = qtc(*args, "--set", 'universe.sectors=["Not A Sector"]')
    assert sectors.exit_code == 2, sectors.output
    assert 'universe.sectors: 1 sector is not in the lake: "Not A Sector"' in sectors.stderr
    assert "the lake's sectors are: " in sectors.stderr
    for result in (symbols, sectors):
        assert "Traceback" not in result.output and not (tmp_path / "momentum_us").exists()


def test_no_progress_without_a_terminal(
    qtc: Callable[..., Result], demo_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qtc.cli import console

    # no delay: only the terminal check can keep progress off
    monkeypatch.setattr(console, "stage_progress", partial(console.stage_progress, delay=0.0))
    args = ["backtest", "strategies/momentum_us.toml", "--lake", str(demo_lake)]
    short = ["--set", "data.start=2010-01-04", "--set", "data.end=2010-12-30"]
    result = qtc(*args, "--out", str(tmp_path), *short, "--set", "sizing.kind=min_variance")
    assert result.exit_code == 0, result.output
    assert not any(text in result.stderr for text in PROGRESS_TEXT), result.stderr


class Terminal(io.StringIO):
    """A stderr that claims to be a terminal."""

    def isatty(self) -> bool:
        return True


def test_progress_display_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from qtc.cli import console

    shown = Terminal()
    monkeypatch.setattr(sys, "stderr", shown)
    with console.stage_progress(delay=0.0) as progress:
        progress("size", 3, 10)
        time.sleep(0.5)
    assert "size" in shown.getvalue() and "3/10" in shown.getvalue()
    for kwargs in ({"delay": 30.0}, {"enabled": False, "delay": 0.0}):
        hidden = Terminal()
        monkeypatch.setattr(sys, "stderr", hidden)
        with console.stage_progress(**kwargs) as progress:  # type: ignore[arg-type]
            progress("size", 3, 10)
            time.sleep(0.2)
        assert hidden.getvalue() == ""


@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_runs_on_the_demo_market(
    qtc: Callable[..., Result], full_demo_lake: Path, tmp_path: Path, name: str
) -> None:
    result = qtc(
        "backtest",
        f"strategies/{name}",
        "--lake",
        str(full_demo_lake),
        "--out",
        str(tmp_path),
        "--format",
        "json",
    )
    if name in NOT_IN_THE_DEMO_MARKET:
        # its mega-cap symbols are real tickers the synthetic market does not have
        assert result.exit_code == 2, result.output
        assert "universe.symbols: 20 symbols are not in the lake: AAPL, AMZN" in result.stdout
        return
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)["metrics"]["strategy"]
    assert metrics["num_periods"] > 100
    check_digests("demo", name, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_runs_on_the_real_lake(
    qtc: Callable[..., Result], real_lake: Path, tmp_path: Path, name: str
) -> None:
    result = qtc(
        "backtest",
        f"strategies/{name}",
        "--lake",
        str(real_lake),
        "--out",
        str(tmp_path),
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["metrics"]["strategy"]["num_periods"] > 100
    check_digests("real", name, tmp_path)
