"""Finding the lake: --lake, QTC_LAKE, ./lake, then the demo lake in the cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from qtc.lake.catalog import CATALOG_FILE
from qtc.lake.demo import build as demo
from qtc.lake.ingest.ingest import IngestReport
from qtc.lake.read.reader import Lake
from qtc.lake.resolve import cache_root, demo_lake_path, ensure_demo_lake, resolve_lake


def test_explicit_wins(tmp_path: Path) -> None:
    env = {"QTC_LAKE": str(tmp_path / "env")}
    (tmp_path / "lake").mkdir()
    path, origin = resolve_lake("mine", env=env, cwd=tmp_path)
    assert (path, origin) == (tmp_path / "mine", "--lake")
    path, origin = resolve_lake(str(tmp_path / "abs"), env=env, cwd=tmp_path)
    assert (path, origin) == (tmp_path / "abs", "--lake")


def test_env_then_local_folder(tmp_path: Path) -> None:
    env = {"QTC_LAKE": "rel/lake"}
    assert resolve_lake(None, env=env, cwd=tmp_path) == (tmp_path / "rel" / "lake", "QTC_LAKE")
    (tmp_path / "lake").mkdir()
    assert resolve_lake(None, env={}, cwd=tmp_path) == (tmp_path / "lake", "./lake")
    assert resolve_lake("", env={"QTC_LAKE": " "}, cwd=tmp_path)[1] == "./lake"


def test_cache_root_override_and_default(tmp_path: Path) -> None:
    assert cache_root({"QTC_CACHE_DIR": str(tmp_path)}) == tmp_path
    default = cache_root({})
    assert default.name == "qtc"
    assert demo_lake_path(7, {"QTC_CACHE_DIR": str(tmp_path)}) == tmp_path / "demo-lake-v1-seed7"


def test_no_lake_resolves_to_demo_path_without_building(tmp_path: Path) -> None:
    env = {"QTC_CACHE_DIR": str(tmp_path / "cache")}
    path, origin = resolve_lake(None, env=env, cwd=tmp_path, build_demo=False)
    assert origin == "demo"
    assert path == tmp_path / "cache" / "demo-lake-v1-seed7"
    assert not path.exists()


def test_demo_is_built_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"QTC_CACHE_DIR": str(tmp_path / "cache")}
    calls: list[int] = []
    real = demo.build_demo_lake

    def small(path: Path, seed: int = 7) -> IngestReport:
        calls.append(seed)
        return real(path, seed=seed, n_symbols=20, years=2)

    monkeypatch.setattr(demo, "build_demo_lake", small)
    path, origin = resolve_lake(None, env=env, cwd=tmp_path, seed=3)
    assert origin == "demo"
    assert (path / CATALOG_FILE).is_file()
    assert Lake(path).entry("prices").symbols == 20
    again, _ = resolve_lake(None, env=env, cwd=tmp_path, seed=3)
    assert again == path
    assert calls == [3]


def test_broken_demo_cache_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"QTC_CACHE_DIR": str(tmp_path)}
    broken = demo_lake_path(5, env)
    broken.mkdir(parents=True)
    (broken / "prices.parquet").write_text("half written")
    real = demo.build_demo_lake
    monkeypatch.setattr(
        demo, "build_demo_lake", lambda path, seed=7: real(path, seed=seed, n_symbols=12, years=2)
    )
    path = ensure_demo_lake(5, env)
    assert path == broken
    assert Lake(path).entry("symbols").rows == 12
