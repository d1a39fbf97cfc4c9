"""The sides of `qtc diff`: what the user typed, opened as something to compare.

A side is a strategy file, `REV:path` (the file at a git revision, read with `git show`
into a temp folder with the parents it `extends`), a run folder or a registered run id.
Strategy sides are compiled on the lake's last date, as `qtc backtest` does, and carry
their resolved values with where each came from; run sides carry run.json's. `Options`
holds the temp folders of git sides until `clean` removes them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtc.api.data import LakeRef
from qtc.errors import StrategyError, UserError

if TYPE_CHECKING:
    from qtc.api.run import Progress
    from qtc.review.model import Side
    from qtc.review.revision import AtRevision


@dataclass
class Options:
    """How to compare.

    Attributes:
        lake: Gives the lake to compile and run strategy sides on (called when needed).
        overrides: `--set` values, applied to B.
        runs: Root folder of the backtests run for the comparison.
        results: Run (or reuse) the backtests and compare their results.
        progress: Hears each backtest's pipeline stages (`qtc.api.run.backtest`).
    """

    lake: Callable[[], LakeRef]
    overrides: list[str] = field(default_factory=list)
    runs: Path = Path("runs")
    results: bool = True
    progress: Progress | None = None
    _lake: LakeRef | None = None
    _temps: list[AtRevision] = field(default_factory=list)

    def lake_ref(self) -> LakeRef:
        """The lake (resolved once)."""
        if self._lake is None:
            self._lake = self.lake()
        return self._lake


@dataclass
class Opened:
    """One side, loaded: what the review compares, and how to get its run."""

    side: Side
    values: dict[str, tuple[str, str]]
    plan: dict[str, Any]
    compiled: Any = None
    path: Path | None = None
    overrides: list[str] = field(default_factory=list)
    run_dir: Path | None = None
    at: AtRevision | None = None


def shown(path: Path) -> str:
    """A path relative to the working folder when it is below it."""
    rel = os.path.relpath(path)
    return str(path) if rel.startswith("..") else rel


def open_side(spec: str, options: Options, overrides: list[str]) -> Opened:
    """Open one side from what the user typed."""
    path = Path(spec)
    if path.is_dir() and (path / "run.json").is_file():
        return _no_set(open_run(path, spec), overrides)
    if path.is_file():
        if path.name == "run.json":
            return _no_set(open_run(path.parent, spec), overrides)
        return open_file(path, spec, options, overrides)
    if ":" in spec:
        return open_git(spec, options, None, overrides)
    return _no_set(open_run(_registered(spec), spec), overrides)


def _registered(spec: str) -> Path:
    """The folder of a run id, or why `spec` names nothing."""
    from qtc.api.registry import run_folder

    try:
        return run_folder(spec)
    except UserError:
        raise UserError(
            f"{spec!r} is not a strategy file, a REV:path, a run folder or a registered run id",
            hint="e.g. strategies/a.toml, HEAD~1:strategies/a.toml, runs/a/3379463619e8, or "
            "an id from `qtc runs list`",
        ) from None


def _no_set(opened: Opened, overrides: list[str]) -> Opened:
    """Refuse `--set` on a run side."""
    if overrides:
        raise UserError(
            f"--set applies to B, and B ({opened.side.label}) is a run, which is not recompiled",
            hint="give B as a strategy file to try a change with --set",
        )
    return opened


def open_file(path: Path, label: str, options: Options, overrides: list[str]) -> Opened:
    """A strategy file on disk."""
    from qtc.review.model import Side

    compiled, values = _compile(path, options, overrides, mask=None)
    plan = json.loads(compiled.plan.to_json())
    side = Side(label, "file", compiled.plan.strategy_name, compiled.plan.fingerprint)
    return Opened(side, values, plan, compiled, path, overrides)


def open_git(
    spec: str, options: Options, repo: Path | None, overrides: list[str] | None = None
) -> Opened:
    """`REV:path`: the file written out from that revision, with its parents.

    As in git, the path is relative to the repository's top, unless it starts with
    `./` or `../` (then it is relative to the working folder).
    """
    from qtc.review.model import Side
    from qtc.review.revision import at_revision
    from qtc.vcs import repo_relative, require_repository

    revision, _, rel = spec.partition(":")
    root = repo or require_repository(Path.cwd())
    if rel.startswith(("./", "../")):
        rel = repo_relative(Path(rel), root)
    at = at_revision(revision, rel, root)
    options._temps.append(at)
    compiled, values = _compile(at.path, options, list(overrides or []), mask=at)
    plan = json.loads(compiled.plan.to_json())
    name, fp = compiled.plan.strategy_name, compiled.plan.fingerprint
    side = Side(at.label, "git", name, fp, revision=at.commit)
    return Opened(side, values, plan, compiled, at.path, list(overrides or []), at=at)


def _compile(path: Path, options: Options, overrides: list[str], mask: Any) -> tuple[Any, Any]:
    """Compile on the lake's last date; the values with their origins (masked for git)."""
    from qtc.api.strategy import compile_file, resolved_values
    from qtc.lake import Lake
    from qtc.pipeline.data import window_end

    as_of = window_end(Lake(options.lake_ref().path))
    try:
        compiled = compile_file(path, overrides=overrides, as_of=as_of)
    except StrategyError as exc:
        raise (mask.masked_error(exc) if mask is not None else exc) from None
    show = mask.mask if mask is not None else (lambda text: text)
    values = {r.key_path: (r.value, show(r.origin)) for r in resolved_values(compiled.loaded)}
    return compiled, values


def open_run(folder: Path, label: str) -> Opened:
    """A run folder: its resolved strategy and plan, from run.json."""
    from qtc.outputs.artifacts import read_run
    from qtc.review.model import Side
    from qtc.review.values import values_of_run

    doc = read_run(folder)
    origin = f"run {folder.name}"
    try:
        values = values_of_run(doc["strategy"], origin)
    except ValueError as exc:
        raise UserError(
            f"{folder}: its resolved strategy does not load with this qtc "
            f"({exc.__class__.__name__})",
            hint="compare the strategy files instead (or re-run the backtest with this qtc)",
        ) from None
    side = Side(
        label, "run", doc["strategy"]["name"], doc["plan_fingerprint"], run_id=doc["run_id"]
    )
    return Opened(side, values, doc["plan"], run_dir=folder)


def clean(options: Options) -> None:
    """Remove the temp folders of git sides."""
    for at in options._temps:
        at.remove()
    options._temps.clear()
