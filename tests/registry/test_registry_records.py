"""The run registry without running anything: records read from hand-made artifact folders.

Each folder is written here with the few fields the registry reads, so every expected
value is the one the test wrote.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from qtc.api import registry as api
from qtc.errors import QtcError, UserError
from qtc.registry import service, store
from qtc.registry.gc import plan
from qtc.registry.kinds import kind_named
from qtc.registry.paths import inbox_path
from qtc.registry.record import read_folder
from qtc.registry.source import strategy_source


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder as the working folder, with its own registry."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QTC_REGISTRY", str(tmp_path / ".qtc" / "registry.duckdb"))
    return tmp_path


def make_run(root: Path, strategy: str, hex_id: str, created: str, sharpe: float = 1.0) -> Path:
    """A backtest folder `<root>/<strategy>/<id12>` with run.json and meta.json."""
    folder = root / strategy / hex_id[:12]
    folder.mkdir(parents=True)
    doc = {
        "artifact": "qtc.run",
        "run_id": f"sha256:{hex_id}",
        "plan_fingerprint": f"sha256:{'f' * 64}",
        "strategy": {"name": strategy},
        "dataset_hashes": {"prices": "a" * 64},
        "versions": {"qtc": "0.1.0"},
        "window": {"start": "2007-01-02", "end": "2010-12-30"},
        "metrics": {
            "strategy": {"sharpe": sharpe, "cagr": 0.1, "max_drawdown": 0.2},
            "activity": {"turnover": 0.5},
        },
    }
    (folder / "run.json").write_text(json.dumps(doc))
    meta = {"created_at": created, "strategy_file": f"{strategy}.toml", "git_commit": "c" * 40}
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder


def hex_id(n: int) -> str:
    return f"{n:04d}" + "0" * 60


def test_a_record_holds_what_run_json_and_meta_json_say(project: Path) -> None:
    folder = make_run(project / "runs", "mom", hex_id(1), "2024-03-01T10:00:00Z", sharpe=1.25)
    rec = read_folder(folder, kind_named("backtest"))
    assert rec.run_id == f"sha256:{hex_id(1)}"
    assert rec.short_id == hex_id(1)[:12]
    assert (rec.kind, rec.strategy, rec.created_at) == ("backtest", "mom", "2024-03-01T10:00:00Z")
    assert rec.metrics["sharpe"] == 1.25
    assert rec.metrics["turnover"] == 0.5
    assert (rec.window_start, rec.window_end) == ("2007-01-02", "2010-12-30")
    assert (rec.git_revision, rec.git_dirty) == ("c" * 40, None)  # dirty: unknown from disk
    assert rec.dataset_hashes == {"prices": "a" * 64}


def test_a_missing_registry_is_rebuilt_from_the_artifact_folders(project: Path) -> None:
    make_run(project / "runs", "mom", hex_id(1), "2024-03-01T10:00:00Z")
    make_run(project / "runs", "mom", hex_id(2), "2024-03-02T10:00:00Z")
    make_run(project / "runs", "value", hex_id(3), "2024-03-03T10:00:00Z")
    found = api.list_runs()
    assert [r["short_id"] for r in found["runs"]] == [hex_id(n)[:12] for n in (3, 2, 1)]
    assert (project / ".qtc" / "registry.duckdb").is_file()  # written once read
    assert [r["short_id"] for r in api.list_runs(strategy="mom")["runs"]] == [
        hex_id(2)[:12],
        hex_id(1)[:12],
    ]
    assert [r["short_id"] for r in api.list_runs(since=_date("2024-03-03"))["runs"]] == [
        hex_id(3)[:12]
    ]
    assert api.list_runs(kind="sweep")["runs"] == []


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_recorded_runs_go_through_the_inbox_into_the_file(project: Path) -> None:
    api.list_runs()  # creates an empty registry
    folder = make_run(project / "elsewhere", "mom", hex_id(7), "2024-05-01T00:00:00Z")
    warnings: list[str] = []
    api.record_artifact(folder, "backtest", "mom.toml", warnings)
    inbox = inbox_path(project / ".qtc" / "registry.duckdb")
    assert warnings == [] and len(list(inbox.iterdir())) == 1
    rows = api.list_runs()["runs"]
    assert [r["folder"] for r in rows] == [str(folder.resolve())]  # a root it did not scan
    assert list(inbox.iterdir()) == []  # folded in
    assert [r.folder for r in store.read_all(project / ".qtc" / "registry.duckdb")] == [
        str(folder.resolve())
    ]


def test_a_run_is_found_by_a_prefix_of_its_id_or_its_folder(project: Path) -> None:
    make_run(project / "runs", "mom", "abcd1111" + "0" * 56, "2024-03-01T10:00:00Z")
    other = make_run(project / "runs", "mom", "abcd2222" + "0" * 56, "2024-03-02T10:00:00Z")
    assert api.show_run("abcd1")["short_id"] == "abcd11110000"
    assert api.show_run("sha256:abcd2222")["short_id"] == "abcd22220000"
    assert api.show_run(str(other))["short_id"] == "abcd22220000"
    with pytest.raises(UserError, match="matches 2 runs"):
        api.show_run("abcd")
    with pytest.raises(UserError, match="no run 'ffff'"):
        api.show_run("ffff")
    with pytest.raises(UserError, match="is not a run id"):
        api.show_run("ab")


def test_a_damaged_registry_is_reported_and_rebuild_replaces_it(project: Path) -> None:
    make_run(project / "runs", "mom", hex_id(1), "2024-03-01T10:00:00Z")
    path = project / ".qtc" / "registry.duckdb"
    path.parent.mkdir()
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(QtcError, match="damaged") as caught:
        api.list_runs()
    assert "qtc runs rebuild" in caught.value.hint
    done = api.rebuild()
    assert done["runs"] == 1 and any("could not be read" in n for n in done["notes"])
    assert len(api.list_runs()["runs"]) == 1


def test_a_registry_of_another_schema_version_is_refused(project: Path) -> None:
    make_run(project / "runs", "mom", hex_id(1), "2024-03-01T10:00:00Z")
    api.list_runs()
    import duckdb

    path = project / ".qtc" / "registry.duckdb"
    con = duckdb.connect(str(path))
    con.execute("UPDATE registry_info SET schema_version = 99")
    con.close()
    with pytest.raises(QtcError, match="schema version 99"):
        api.list_runs()


def test_rebuild_keeps_the_git_state_only_the_registry_knew(project: Path) -> None:
    folder = make_run(project / "runs", "mom", hex_id(1), "2024-03-01T10:00:00Z")
    source = {"strategy_file": "x.toml", "git_revision": "d" * 40, "git_path": "x.toml",
              "git_dirty": True}  # fmt: skip
    api.record_folder(folder, "backtest", source)
    api.list_runs()
    api.rebuild()
    (row,) = api.list_runs()["runs"]
    assert (row["git_revision"], row["git_dirty"], row["git_path"]) == ("d" * 40, True, "x.toml")


def test_gc_keeps_the_newest_n_per_strategy_and_kind(project: Path) -> None:
    for n, day in enumerate(["01", "03", "02"], start=1):
        make_run(project / "runs", "mom", hex_id(n), f"2024-03-{day}T00:00:00Z")
    make_run(project / "runs", "value", hex_id(9), "2024-01-01T00:00:00Z")
    preview = api.gc_preview(1)
    doomed = sorted(r["short_id"] for r in preview.as_dict()["delete"])
    assert doomed == [hex_id(1)[:12], hex_id(3)[:12]]  # mom keeps 03 (id 2); value keeps its one
    done = api.gc_apply(preview)
    assert len(done["deleted"]) == 2
    left = sorted(p.name for p in (project / "runs").glob("*/*"))
    assert left == sorted([hex_id(2)[:12], hex_id(9)[:12]])
    assert len(api.list_runs()["runs"]) == 2
    assert not list((project / "runs").rglob(".gc-*"))


def test_gc_never_deletes_a_folder_that_is_not_the_recorded_artifact(project: Path) -> None:
    victim = make_run(project / "runs", "mom", hex_id(1), "2024-03-01T00:00:00Z")
    make_run(project / "runs", "mom", hex_id(2), "2024-03-02T00:00:00Z")
    api.list_runs()
    doc = json.loads((victim / "run.json").read_text())
    doc["run_id"] = "sha256:" + "9" * 64  # the folder now holds another run
    (victim / "run.json").write_text(json.dumps(doc))
    preview = api.gc_preview(1)
    assert preview.as_dict()["delete"] == []
    (skipped,) = preview.as_dict()["skipped"]
    assert "names another id" in skipped["reason"]
    assert victim.is_dir()


def test_gc_does_not_follow_a_symlinked_run_folder(project: Path) -> None:
    outside = make_run(project / "outside", "mom", hex_id(1), "2024-03-01T00:00:00Z")
    make_run(project / "runs", "mom", hex_id(2), "2024-03-02T00:00:00Z")
    api.list_runs()
    record = read_folder(outside, kind_named("backtest"))
    link = project / "runs" / "mom" / "linked"
    link.symlink_to(outside)
    fake = replace(record, folder=str(link))
    view = service.load()
    view.records.append(fake)
    gc = plan(view.records, 1)
    assert str(link) in [r.folder for r, _ in gc.skipped]
    assert outside.is_dir()


def test_gc_forgets_runs_whose_folder_is_gone(project: Path) -> None:
    gone = make_run(project / "runs", "mom", hex_id(1), "2024-03-01T00:00:00Z")
    make_run(project / "runs", "mom", hex_id(2), "2024-03-02T00:00:00Z")
    api.list_runs()
    for f in gone.iterdir():
        f.unlink()
    gone.rmdir()
    preview = api.gc_preview(5)
    assert [r["short_id"] for r in preview.as_dict()["forget"]] == [hex_id(1)[:12]]
    api.gc_apply(preview)
    assert [r["short_id"] for r in api.list_runs()["runs"]] == [hex_id(2)[:12]]


def test_a_search_record_keeps_its_counts_and_its_winner(project: Path) -> None:
    folder = project / "sweeps" / "mom" / "0123456789ab"
    folder.mkdir(parents=True)
    doc = {
        "schema_version": 1, "sweep_id": "0123456789ab", "status": "complete",
        "strategy": "mom", "base_fingerprint": "sha256:" + "e" * 64,
        "request": {"path": "strategies/mom.toml"},
        "objective": {"metric": "sharpe", "maximize": True},
        "counts": {"variants": 4, "ranked": 3},
        "top": [{"rank": 1, "objective": 1.5}],
    }  # fmt: skip
    (folder / "sweep.json").write_text(json.dumps(doc))
    (folder / "meta.json").write_text(json.dumps({"finished_at": "2024-04-01T12:00:00+00:00"}))
    (row,) = api.list_runs(kind="sweep")["runs"]
    assert row["metrics"] == {"variants": 4.0, "ranked": 3.0, "best_sharpe": 1.5}
    assert (row["strategy_file"], row["created_at"]) == (
        "strategies/mom.toml",
        "2024-04-01T12:00:00Z",
    )


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True,
        env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
             "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"},
    )  # fmt: skip
    return done.stdout.strip()


def test_the_git_state_of_a_strategy_and_its_parent(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "s").mkdir(parents=True)
    git(repo, "init", "-q")
    (repo / "s" / "base.toml").write_text('schema = 1\nname = "base"\n')
    (repo / "s" / "child.toml").write_text('schema = 1\nname = "child"\nextends = "base.toml"\n')
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "one")
    head = git(repo, "rev-parse", "HEAD")
    clean = strategy_source(str(repo / "s" / "child.toml"))
    assert clean["git_revision"] == head
    assert (clean["git_path"], clean["git_dirty"]) == ("s/child.toml", False)
    (repo / "s" / "base.toml").write_text('schema = 1\nname = "base"\n# edited\n')
    assert strategy_source(str(repo / "s" / "child.toml"))["git_dirty"] is True  # parent edited
    outside = tmp_path / "loose.toml"
    outside.write_text('schema = 1\nname = "x"\n')
    assert strategy_source(str(outside)) == {"strategy_file": str(outside)}


def test_folders_no_command_recorded_are_found_under_the_default_roots(project: Path) -> None:
    api.list_runs()  # the registry exists (empty)
    make_run(project / "runs", "mom", hex_id(1), "2024-03-01T00:00:00Z")  # copied in by hand
    folder = project / "evolutions" / "mom" / "feedfacecafe"
    folder.mkdir(parents=True)
    doc = {"evolve_id": "feedfacecafe", "status": "complete", "strategy": "mom",
           "counts": {"trials": 8, "ranked": 6},
           "best": {"objectives": {"sharpe": 1.1}}}  # fmt: skip
    (folder / "evolve.json").write_text(json.dumps(doc))
    rows = {r["kind"]: r for r in api.list_runs()["runs"]}
    assert rows["backtest"]["short_id"] == hex_id(1)[:12]
    assert rows["evolve"]["run_id"] == "feedfacecafe"
    assert rows["evolve"]["metrics"] == {"trials": 8.0, "ranked": 6.0, "best_sharpe": 1.1}
    kept = store.read_all(project / ".qtc" / "registry.duckdb")
    assert sorted(r.kind for r in kept) == ["backtest", "evolve"]  # written to the file
