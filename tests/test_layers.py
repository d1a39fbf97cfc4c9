"""The import-linter contracts hold, and a deliberate upward import breaks them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

LINT = Path(sys.executable).with_name("lint-imports")


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on the `qtc` package found under `root`, with root's pyproject."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, check=False
    )


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The package and its pyproject.toml, copied to a scratch folder."""
    shutil.copytree(REPO / "qtc", tmp_path / "qtc", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_contracts_hold(copy: Path) -> None:
    done = lint(copy)
    assert done.returncode == 0, done.stdout
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("manifest/base.py", "import qtc.pipeline.runner", "Layers (docs/ARCHITECTURE.md)"),
        ("lake/schema.py", "import qtc.compile.plan", "Layers (docs/ARCHITECTURE.md)"),
        ("pipeline/panel.py", "import qtc.pipeline.runner", "Pipeline: runner > handlers"),
        ("lake/read/reader.py", "import qtc.lake.ingest.store", "Lake: resolve > demo"),
        ("live/brokers/base.py", "import qtc.live.session", "Live: commands > planning"),
        ("cli/options.py", "import qtc.live.audit", "The CLI imports only qtc.api"),
        ("pipeline/scoring.py", "import nanobook", "Only the engine adapter imports nanobook"),
    ],
)
def test_an_upward_import_breaks_a_contract(
    copy: Path, module: str, line: str, contract: str
) -> None:
    target = copy / "qtc" / module
    target.write_text(target.read_text() + f"\n{line}  # deliberate violation\n")
    done = lint(copy)
    assert done.returncode == 1, done.stdout
    assert verdict(done.stdout, contract) == "BROKEN", done.stdout


def verdict(report: str, contract: str) -> str:
    """KEPT or BROKEN: the verdict printed after a contract's name."""
    text = " ".join(report.split())
    after = text[text.index(contract) :]
    found = {word: after.find(f" {word}") for word in ("KEPT", "BROKEN")}
    return min((word for word in found if found[word] >= 0), key=found.__getitem__)
