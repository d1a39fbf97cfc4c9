"""The report cache: byte-identical reports with or without it, what a warm render skips,
and entries that are damaged, uncacheable or cannot be written.

Runs come from tests/outputs/conftest.py (a small synthetic demo lake).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qtc.outputs import report_cache
from qtc.outputs.report import render_report, write_report
from qtc.outputs.report_cache import CACHE_FOLDER, ReportCache, entry_key
from tests.conftest import REPO

STAMP = b"fixed for the test"
"""The code stamp of both processes (qtc's files may be edited while the tests run)."""
WARM_PROBE = f"""
import json, sys
from pathlib import Path
from qtc.outputs import report_cache
from qtc.outputs.report import render_report
report_cache._stamp = {STAMP!r}
render_report(Path(sys.argv[1]))
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in
      ("matplotlib", "pygments", "pydantic") or m.startswith("qtc.compile.plan"))))
"""


def test_cached_report_is_byte_identical(base_run: Path) -> None:
    shutil.rmtree(base_run / ".cache", ignore_errors=True)
    plain = render_report(base_run, cache=False)
    assert not (base_run / ".cache").exists()
    cold = render_report(base_run)
    entries = list((base_run / CACHE_FOLDER).glob("*.txt"))
    assert len(entries) == 10  # 8 charts, the plan tree, the highlighted strategy
    assert render_report(base_run) == cold == plain


def test_warm_render_skips_matplotlib_the_compiler_and_pygments(
    base_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_cache, "_stamp", STAMP)
    render_report(base_run)
    out = subprocess.run(
        [sys.executable, "-c", WARM_PROBE, str(base_run)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_damaged_entry_is_recomputed(base_run: Path) -> None:
    first = render_report(base_run)
    for entry in (base_run / CACHE_FOLDER).glob("*.txt"):
        entry.write_text(entry.read_text()[:-10])
    assert render_report(base_run) == first


def test_unwritable_uncacheable_or_unflushed_is_computed(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    calls: list[int] = []

    def make() -> str:
        calls.append(1)
        return "text"

    unwritable = ReportCache(blocked / "cache")
    assert unwritable.text("x", [1.5, "a"], make) == "text"
    unwritable.flush()  # the failure to write is ignored
    cache = ReportCache(tmp_path / "cache")
    assert cache.text("x", object(), make) == "text"  # no key for it: never stored
    assert cache.text("x", [np.arange(3)], make) == "text"
    assert not (tmp_path / "cache").exists()  # nothing is written before flush()
    cache.flush()
    assert cache.text("x", [np.arange(3)], make) == "text"  # a hit
    assert len(calls) == 3
    assert [p.suffix for p in (tmp_path / "cache").iterdir()] == [".txt"]


def test_a_failed_report_writes_no_cache(base_run: Path, tmp_path: Path) -> None:
    shutil.rmtree(base_run / ".cache", ignore_errors=True)
    (tmp_path / "taken").mkdir()
    with pytest.raises(OSError):
        write_report(base_run, tmp_path / "taken")  # a folder is never replaced
    assert not (base_run / ".cache").exists()


def test_keys_tell_inputs_apart() -> None:
    keys = {
        entry_key("chart", value)
        for value in (
            [1, 2],
            [1.0, 2.0],
            ["1", "2"],
            [np.array([1, 2])],
            [np.array([1.0, 2.0])],
            [np.array([[1.0, 2.0]])],
            [[1, 2]],
            [None, True],
        )
    }
    assert len(keys) == 8
    assert entry_key("a", [1]) != entry_key("b", [1])
