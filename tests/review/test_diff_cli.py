"""`qtc diff` end to end on a git repository with two commits of a tiny strategy.

The change (top 5 -> top 3 of the same scores, equal weight) has answers known without
running anything (see `tiny_repo.py`); the three outputs are snapshot-tested with temp
paths and run ids masked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner, Result

from qtc.lake import build_demo_lake
from tests.conftest import stable
from tests.review.tiny_repo import TINY, git, make_repo

CHANGE = ("HEAD~1:tiny.toml", "tiny.toml")


@pytest.fixture(scope="module")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("diff_demo") / "lake"
    build_demo_lake(path, seed=11, n_symbols=60, years=6)
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One runs folder for the module: identical backtests are reused across tests."""
    return tmp_path_factory.mktemp("diff_runs") / "runs"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(tmp_path / "repo")
    monkeypatch.chdir(root)
    monkeypatch.setenv("QTC_REGISTRY", str(tmp_path / "registry.duckdb"))
    return root


@pytest.fixture
def diff(repo: Path, demo_lake: Path, runs: Path) -> Callable[..., Result]:
    """`qtc diff ...` on the demo lake, its backtests in the module's runs folder."""
    from qtc.cli.main import app

    def run(*args: str) -> Result:
        argv = ["diff", *args, "--lake", str(demo_lake), "--runs", str(runs)]
        return CliRunner().invoke(app, argv)

    return run


def _json(result: Result) -> dict:  # type: ignore[type-arg]
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def masked(text: str, *, runs: Path, data: dict) -> str:  # type: ignore[type-arg]
    """Temp paths and run ids (they carry package versions) replaced by names."""
    comp = data["comparisons"][0]
    text = text.replace(str(runs), "<runs>")
    for side in ("a", "b"):
        run_id = comp[side]["run_id"]
        text = text.replace(run_id, f"<run {side}>").replace(run_id[7:19], f"<run {side}>")
    return text


def test_human_output(diff: Callable[..., Result], runs: Path, snapshot: object) -> None:
    data = _json(diff(*CHANGE, "--format", "json"))
    result = diff(*CHANGE)
    assert result.exit_code == 0, result.output
    assert masked(result.stdout, runs=runs, data=data) == snapshot


def test_markdown_output(diff: Callable[..., Result], runs: Path, snapshot: object) -> None:
    data = _json(diff(*CHANGE, "--format", "json"))
    result = diff(*CHANGE, "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert masked(result.stdout, runs=runs, data=data) == snapshot


def test_json_output(diff: Callable[..., Result], runs: Path, snapshot: object) -> None:
    data = _json(diff(*CHANGE, "--format", "json"))
    text = masked(json.dumps(data), runs=runs, data=data)
    assert stable(json.loads(text)) == snapshot


def test_the_change_is_what_it_implies(diff: Callable[..., Result], repo: Path) -> None:
    comp = _json(diff(*CHANGE, "--format", "json"))["comparisons"][0]
    (value,) = comp["values"]
    assert (value["key"], value["old"], value["new"]) == ("selection.top_n", "5", "3")
    assert value["old_from"] == "HEAD~1:tiny.toml:20"  # line 20 of the file, at that commit
    assert value["new_from"] == "tiny.toml:20"
    assert comp["a"]["revision"] == git(repo, "rev-parse", "HEAD~1")
    (change,) = comp["plan"]["changes"]
    assert (change["stage"], change["key"]) == ("select", "selection.top_n")
    res = comp["results"]
    assert res["overlaps"] and res["only_a"] == res["only_b"] == []
    for row in res["overlaps"]:  # B's 3 names are A's top 3 on every rebalance
        assert (row["names_a"], row["names_b"], row["common"]) == (5, 3, 3)
        assert row["jaccard"] == pytest.approx(0.6)
        assert row["shared_weight"] == pytest.approx(0.6)
    deltas = sorted(round(w["delta"], 9) for w in res["last_changes"])
    assert deltas == [-0.2, -0.2, *[round(1 / 3 - 1 / 5, 9)] * 3]


def test_metrics_and_years_are_the_runs_own(diff: Callable[..., Result]) -> None:
    res = _json(diff(*CHANGE, "--format", "json"))["comparisons"][0]["results"]
    docs = [
        json.loads((Path(res[k]["folder"]) / "run.json").read_text()) for k in ("run_a", "run_b")
    ]
    by_key = {m["key"]: m for m in res["metrics"]}
    for side, doc in zip(("a", "b"), docs, strict=True):
        assert by_key["sharpe"][side] == doc["metrics"]["strategy"]["sharpe"]
        assert by_key["turnover"][side] == doc["metrics"]["activity"]["turnover"]
    equity = pl.read_parquet(Path(res["run_b"]["folder"]) / "equity.parquet")
    year_end = equity.group_by(pl.col("date").dt.year().alias("y")).agg(pl.col("equity").last())
    ends = dict(year_end.sort("y").iter_rows())
    first = equity["equity"][0]
    expected = {2009: ends[2009] / first - 1, 2010: ends[2010] / ends[2009] - 1}
    assert {y["year"]: y["return_b"] for y in res["years"]} == pytest.approx(expected)


def test_html_is_one_offline_page(diff: Callable[..., Result], tmp_path: Path) -> None:
    out = tmp_path / "diff.html"
    result = diff(*CHANGE, "--out", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert "<svg" in page and "<polyline" in page and "default-src 'none'" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "<script" not in page and "<link" not in page


def test_nothing_changed_says_so(diff: Callable[..., Result]) -> None:
    for sides in (("tiny.toml", "tiny.toml"), ("HEAD:tiny.toml", "tiny.toml")):
        result = diff(*sides)
        assert result.exit_code == 0, result.output
        assert "no change: both sides resolve to the same strategy and plan" in result.stdout
        assert _json(diff(*sides, "--format", "json"))["unchanged"] is True


def test_git_mode_compares_every_changed_strategy(diff: Callable[..., Result], repo: Path) -> None:
    base = repo / "strategies" / "base.toml"
    base.write_text(base.read_text().replace("top_n = 5", "top_n = 4"))
    data = _json(diff("--git", "HEAD", "--no-run", "--format", "json"))
    found = {c["title"]: c for c in data["comparisons"]}
    assert sorted(found) == ["strategies/base.toml", "strategies/child.toml"]
    assert [v["key"] for v in found["strategies/base.toml"]["values"]] == ["selection.top_n"]
    child = found["strategies/child.toml"]
    assert child["status"] == "unchanged"  # it sets top_n itself
    assert child["notes"] == ["compared because it extends strategies/base.toml"]
    assert _json(diff("--git", "HEAD~1", "--no-run", "--format", "json"))["comparisons"]
    md = diff("--git", "HEAD~1", "--no-run", "--format", "markdown")
    assert "### `tiny.toml` (changed)" in md.stdout  # a strategy outside strategies/


def test_runs_on_different_data_are_compared_with_a_warning(
    repo: Path, demo_lake: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from qtc.cli.main import app

    other = tmp_path_factory.mktemp("diff_other") / "lake"
    build_demo_lake(other, seed=12, n_symbols=60, years=6)
    runner = CliRunner()
    folders = []
    for lake in (demo_lake, other):
        done = runner.invoke(
            app, ["backtest", "tiny.toml", "--lake", str(lake), "--format", "json"]
        )
        assert done.exit_code == 0, done.output
        folders.append(json.loads(done.stdout)["run_dir"])
    result = runner.invoke(app, ["diff", *folders])
    assert result.exit_code == 0, result.output
    hashes = [json.loads((p / "catalog.json").read_text())["datasets"]["prices"]["content_sha256"]
              for p in (demo_lake, other)]  # fmt: skip
    assert f"prices {hashes[0][:12]} vs {hashes[1][:12]}" in result.output
    assert "different data" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope:tiny.toml", "tiny.toml"), "unknown git revision 'nope'"),
        (("HEAD~1:missing.toml", "tiny.toml"), "missing.toml does not exist at HEAD~1"),
        (("tiny.toml", "nothing-here"), "is not a strategy file, a REV:path"),
        (("tiny.toml",), "give two sides"),
        (("tiny.toml", "tiny.toml", "--out", "x.txt"), "cannot tell the format"),
        (("--git", "HEAD", "tiny.toml"), "give no A, B or --set"),
        (("--git", "no-such-ref"), "unknown git revision"),
    ],
)
def test_bad_input_is_one_message_and_exit_2(
    diff: Callable[..., Result], repo: Path, args: tuple[str, ...], message: str
) -> None:
    before = sorted(p.name for p in repo.iterdir())
    result = diff(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in repo.iterdir()) == before


def test_set_on_a_run_and_errors_at_a_revision(diff: Callable[..., Result], repo: Path) -> None:
    run = _json(diff(*CHANGE, "--format", "json"))["comparisons"][0]["results"]["run_b"]
    refused = diff("tiny.toml", run["folder"], "--set", "selection.top_n=2")
    assert refused.exit_code == 2 and "--set applies to B" in refused.output
    (repo / "tiny.toml").write_text(TINY.replace("top_n = 5", "top_n = -1"))
    git(repo, "commit", "-qam", "broken")
    (repo / "tiny.toml").write_text(TINY)
    broken = diff("HEAD:tiny.toml", "tiny.toml")
    assert broken.exit_code == 2
    assert "--> HEAD:tiny.toml:20:9" in broken.output  # the revision, never the temp folder
    assert "qtc-diff-" not in broken.output
