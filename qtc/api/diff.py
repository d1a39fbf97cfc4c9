"""The diff part of the library facade: `qtc diff A B` and `qtc diff --git BASE`.

A side is a strategy file, `REV:path` (the file at a git revision, read with `git show`),
a run folder or a run id from the registry. Strategy sides are compiled on the lake's
last date (as `qtc backtest` does) and, when results are asked for, backtested into the
runs folder, where an identical earlier run is reused. `--set` values apply to B.
What is compared and how it is rendered is `qtc.review`'s job.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtc.api.diff_sides import Opened, Options, clean, open_file, open_git, open_side, shown
from qtc.errors import UserError

if TYPE_CHECKING:
    from qtc.review.model import Comparison, Report

__all__ = ["Options", "diff", "diff_git", "output_format", "render", "write"]

FORMATS = ("human", "json", "markdown", "html")
SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
            ".json": "json"}  # fmt: skip
"""`--out` file suffixes and the format they imply when no --format is given."""


def diff(a: str, b: str, options: Options) -> Report:
    """Compare two sides (strategy files, `REV:path`, run folders or run ids).

    Raises:
        UserError: For a side that is none of those, an unknown revision, a file missing
            from its revision, or `--set` with a run as B.
        StrategyError: When a side's strategy has errors.
    """
    from qtc.review.model import Report

    try:
        left = open_side(a, options, [])
        right = open_side(b, options, options.overrides)
        comp = _compare(f"{a} -> {b}", left, right, options)
    finally:
        clean(options)
    return Report(f"qtc diff: {a} -> {b}", [comp])


def diff_git(base: str, options: Options) -> Report:
    """Compare every strategy file changed since `base` with its version at `base`.

    Raises:
        UserError: Outside a repository or for an unknown revision.
        StrategyError: When a changed strategy has errors.
    """
    from qtc.review.changed import changed_strategies
    from qtc.review.model import Report
    from qtc.vcs import require_repository, resolve_revision

    repo = require_repository(Path.cwd())
    commit = resolve_revision(base, repo)
    files = changed_strategies(commit, repo)
    try:
        comps = [_compare_file(base, f, repo, options) for f in files]
    finally:
        clean(options)
    title = f"qtc diff --git {base} ({commit[:12]}): {len(files)} strategy file(s) changed"
    notes = [] if files else [f"no strategy file changed since {base}"]
    return Report(title, comps, base=base, notes=notes)


def _compare_file(base: str, changed: Any, repo: Path, options: Options) -> Comparison:
    """One changed file: its version at `base` against the working tree's."""
    from qtc.review.model import ADDED, REMOVED, Comparison

    label = shown(repo / changed.rel_path)
    note = [] if changed.reason == "changed" else [f"compared because it {changed.reason}"]
    if changed.status == "A":
        side = open_file(Path(label), label, options, [])
        return Comparison(changed.rel_path, ADDED, None, side.side, notes=[f"new since {base}"])
    if changed.status == "D":
        side = open_git(f"{base}:{changed.rel_path}", options, repo)
        return Comparison(
            changed.rel_path, REMOVED, side.side, None, notes=[f"deleted since {base}"]
        )
    left = open_git(f"{base}:{changed.rel_path}", options, repo)
    right = open_file(Path(label), label, options, [])
    comp = _compare(changed.rel_path, left, right, options)
    comp.notes = [*note, *comp.notes]
    return comp


def _compare(title: str, left: Opened, right: Opened, options: Options) -> Comparison:
    """The three layers of one comparison."""
    from qtc.review.model import CHANGED, UNCHANGED, Comparison
    from qtc.review.plan_diff import compare_plans
    from qtc.review.values import compare_values

    values = compare_values(left.values, right.values)
    plan = compare_plans(left.plan, right.plan)
    same_runs = left.side.run_id == right.side.run_id
    if not values and plan.same and (left.run_dir is None or right.run_dir is None or same_runs):
        return Comparison(title, UNCHANGED, left.side, right.side, plan=plan)
    comp = Comparison(title, CHANGED, left.side, right.side, values, plan)
    if not options.results:
        comp.notes.append("results not compared (--no-run)")
    elif plan.same and not (left.run_dir and right.run_dir):
        comp.notes.append(
            "the plan is unchanged, so the results are identical on the same data; "
            "no backtest was run"
        )
    else:
        _results(comp, left, right, options)
    return comp


def _results(comp: Comparison, left: Opened, right: Opened, options: Options) -> None:
    """Run (or reuse) both backtests and compare them."""
    from dataclasses import replace

    from qtc.review.results import compare_runs, data_warning

    _check_names([s for s in (left, right) if s.run_dir is None], options)
    folder_a, folder_b = _run(left, options), _run(right, options)
    comp.results = compare_runs(folder_a, folder_b)
    comp.a = replace(left.side, run_id=comp.results.run_a.run_id)
    comp.b = replace(right.side, run_id=comp.results.run_b.run_id)
    warning = data_warning(comp.results.run_a, comp.results.run_b)
    if warning:
        comp.warnings.append(warning)


def _check_names(sides: list[Opened], options: Options) -> None:
    """Check every strategy side's names against the lake before anything runs."""
    from qtc.lake import Lake
    from qtc.pipeline.names import check_names
    from qtc.pipeline.runner import used_factors

    lake = Lake(options.lake_ref().path)
    for side in sides:
        check_names(side.compiled.plan, lake, used_factors(side.compiled.plan), [])


def _run(side: Opened, options: Options) -> Path:
    """The side's run folder: its own, or a backtest (reused when identical)."""
    from qtc.api.registry import record_folder
    from qtc.api.run import backtest

    if side.run_dir is not None:
        return side.run_dir
    assert side.path is not None
    outcome = backtest(
        str(side.path),
        lake=options.lake_ref(),
        overrides=side.overrides,
        out=options.runs,
        argv=["qtc", "diff"],
        progress=options.progress,
    )
    if side.at is not None and not outcome.reused:
        source = {"strategy_file": side.at.label, "git_revision": side.at.commit,
                  "git_path": side.at.rel_path, "git_dirty": False}  # fmt: skip
        record_folder(outcome.run_dir, "backtest", source)
    return Path(outcome.run_dir)


def render(report: Report, fmt: str) -> str:
    """The report as JSON, markdown, HTML or plain text.

    Raises:
        UserError: For an unknown format.
    """
    if fmt == "json":
        return json.dumps({"ok": True, **report.to_dict()}, indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        from qtc.review import markdown

        return markdown.render(report)
    if fmt == "html":
        from qtc.review import html

        return html.render(report)
    if fmt == "human":
        from qtc.review import text

        return "\n".join(text.render(report)) + "\n"
    raise UserError(f"unknown format {fmt!r}", hint=f"formats: {', '.join(FORMATS)}")


def output_format(fmt: str | None, out: Path | None) -> str:
    """The format to render: `--format`, else the `--out` suffix's, else human.

    Raises:
        UserError: If `--out` has a suffix that names no format and none was given.
    """
    if fmt is not None:
        return fmt
    if out is None:
        return "human"
    if out.suffix.lower() in SUFFIXES:
        return SUFFIXES[out.suffix.lower()]
    raise UserError(
        f"--out {out}: cannot tell the format from its suffix",
        hint="give --format markdown|html|json, or an --out ending in .md, .html or .json",
    )


def write(out: Path, text: str) -> None:
    """Write the rendered report atomically (never replacing a non-regular file)."""
    from qtc.atomic import write_text_atomic

    write_text_atomic(out, text)
