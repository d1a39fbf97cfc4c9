"""`qtc sweep`: every variant of a space on one loaded market, ranked.

The steps: compile the base strategy; check the space against it; compile every
variant (duplicates of one plan run once); load the market once; evaluate the
variants in batches on an executor; rank the trials that pass the filters by the
objective; record every trial in the family's ledger; measure the winner's selection
bias against the family's whole history; write the artifact and the top strategies.

A sweep's id is the fingerprint of what decides its trials and ranking (the base
plan, the space and its sampling, objective, filters, data and versions), so the
same command finds its own folder again: a finished sweep is reused, and one that
was stopped (Ctrl-C) continues with the trials it has (`--resume ID`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qtc.compile.fingerprint import fingerprint
from qtc.errors import QtcError, UserError
from qtc.search.evaluate import FAILED, OK, Trial
from qtc.search.objective import Filter, Objective, known_metrics, parse_filter, parse_objective
from qtc.search.space import Space
from qtc.search.variants import Variant

DUPLICATE = "duplicate"
DEFAULT_MAX_VARIANTS = 5_000

Progress = Callable[[int, int, "Trial | None"], None]
"""Hears (trials done, trials to run, best trial so far) after each trial."""


@dataclass(frozen=True)
class SweepRequest:
    """Everything that defines a sweep (saved in sweep.json for `--resume`).

    Attributes:
        path: Strategy file.
        overrides: `--set` values.
        grid: `--grid` options (empty: the grid file or `[search]`).
        grid_file: `--grid-file` path, or None.
        sample: Run this many variants drawn at random, or None for all.
        seed: Seed of the draw.
        objective: Metric to rank by (`sharpe`, `min:volatility`).
        where: Filters (`max_drawdown < 0.3`).
        top: How many best strategies to write as TOML.
        max_variants: Refuse grids larger than this without --sample.
    """

    path: str
    overrides: tuple[str, ...] = ()
    grid: tuple[str, ...] = ()
    grid_file: str | None = None
    sample: int | None = None
    seed: int = 0
    objective: str = "sharpe"
    where: tuple[str, ...] = ()
    top: int = 5
    max_variants: int = DEFAULT_MAX_VARIANTS

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "path": self.path,
            "overrides": list(self.overrides),
            "grid": list(self.grid),
            "grid_file": self.grid_file,
            "sample": self.sample,
            "seed": self.seed,
            "objective": self.objective,
            "where": list(self.where),
            "top": self.top,
            "max_variants": self.max_variants,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepRequest:
        """The request saved in a sweep.json."""
        return cls(
            path=str(data["path"]),
            overrides=tuple(data.get("overrides", ())),
            grid=tuple(data.get("grid", ())),
            grid_file=data.get("grid_file"),
            sample=data.get("sample"),
            seed=int(data.get("seed", 0)),
            objective=str(data.get("objective", "sharpe")),
            where=tuple(data.get("where", ())),
            top=int(data.get("top", 5)),
            max_variants=int(data.get("max_variants", DEFAULT_MAX_VARIANTS)),
        )


@dataclass
class Prepared:
    """A sweep ready to run: compiled, checked, its variants built."""

    request: SweepRequest
    strategy_name: str
    base_fingerprint: str
    space: Space
    objective: Objective
    filters: list[Filter]
    variants: list[Variant]
    as_of: dt.date
    base: Any = None
    sweep_id: str = ""
    dataset_hashes: dict[str, str] = field(default_factory=dict)


class SweepInterruptedError(QtcError):
    """Ctrl-C during a sweep: the finished trials are saved; `--resume ID` continues."""

    exit_code = 130

    def __init__(self, sweep_id: str, folder: Path, done: int, total: int) -> None:
        super().__init__(
            f"sweep {sweep_id} stopped after {done} of {total} trials; the finished trials "
            f"are saved in {folder}",
            hint=f"continue with: {resume_command(sweep_id, folder)}",
        )
        self.sweep_id = sweep_id


def resume_command(sweep_id: str, folder: Path) -> str:
    """`qtc sweep --resume ID`, with `--out` when the sweeps are not in `sweeps/`."""
    out = folder.parent.parent
    return f"qtc sweep --resume {sweep_id}" + ("" if out == Path("sweeps") else f" --out {out}")


def prepare(request: SweepRequest, lake: Any) -> Prepared:
    """Compile the base, check the space, parse objective and filters, build the variants.

    Raises:
        StrategyError: If the strategy, a grid key or a candidate is invalid.
        UserError: For a bad objective, filter or grid, or a grid above the limit.
    """
    from qtc.pipeline.data import window_end
    from qtc.search import space as spaces
    from qtc.search.variants import build_variants, compile_base

    as_of = window_end(lake)
    strategy, base_plan = compile_base(request.path, list(request.overrides), as_of)
    space = _space(request, strategy)
    spaces.check_space(strategy, space)
    known = known_metrics()
    objective = parse_objective(request.objective, known)
    filters = [parse_filter(text, known) for text in request.where]
    indices = _indices(request, space)
    variants = build_variants(strategy, space.variants(indices), as_of)
    return Prepared(
        request=request,
        strategy_name=strategy.name,
        base_fingerprint=base_plan.fingerprint,
        space=space,
        objective=objective,
        filters=filters,
        variants=variants,
        as_of=as_of,
        base=strategy,
        dataset_hashes=lake.dataset_hashes(),
    )


def _space(request: SweepRequest, strategy: Any) -> Space:
    """The space the request names: --grid, else --grid-file, else [search]."""
    from qtc.search import space as spaces

    if request.grid and request.grid_file:
        raise UserError("give --grid or --grid-file, not both", hint="merge them into one file")
    if request.grid:
        return spaces.from_grid_options(request.grid)
    if request.grid_file:
        return spaces.from_grid_file(Path(request.grid_file))
    found = spaces.from_strategy(strategy)
    if not found.keys:
        raise UserError(
            f"{request.path} has no [search] section and no --grid was given",
            hint="add --grid KEY=V1,V2 (e.g. --grid selection.top_n=20,50) or a [search] section",
        )
    return found


def _indices(request: SweepRequest, space: Space) -> list[int]:
    """The grid points to run; refuses a grid above the limit unless sampled."""
    if request.sample is not None and request.sample < 1:
        raise UserError(f"--sample must be >= 1, got {request.sample}")
    if request.sample is None and space.size > request.max_variants:
        raise UserError(
            f"the grid has {space.size:,} variants, above the limit of {request.max_variants:,}",
            hint="draw some with --sample N (and --seed S), or raise --max-variants",
        )
    return space.indices(request.sample, request.seed)


def sweep_id(prepared: Prepared, versions: dict[str, str]) -> str:
    """The sweep's id: what decides its trials and their ranking, fingerprinted (12 hex)."""
    request = prepared.request
    doc = {
        "plan": prepared.base_fingerprint,
        "space": prepared.space.as_dict(),
        "sample": request.sample,
        "seed": request.seed if request.sample is not None else None,
        "objective": prepared.objective.label,
        "where": [f.text for f in prepared.filters],
        "top": request.top,
        "data": prepared.dataset_hashes,
        "versions": versions,
    }
    return fingerprint(doc).removeprefix("sha256:")[:12]


def evaluate_all(
    prepared: Prepared,
    lake: Any,
    done: dict[int, Trial],
    *,
    executor: str,
    jobs: int,
    ray_address: str | None,
    progress: Progress | None,
) -> None:
    """Evaluate every runnable variant not yet in `done` (filled in as trials finish)."""
    from qtc.search import executors

    todo = [
        (v.number, v.plan)
        for v in prepared.variants
        if v.plan is not None and v.duplicate_of is None and v.number not in done
    ]
    total = len(todo) + sum(1 for n in done if _runnable(prepared, n))
    best: list[Trial | None] = [_best(prepared, done.values())]

    def on_trial(trial: Trial) -> None:
        done[trial.number] = trial
        if trial.status == OK and _ranks_before(prepared, trial, best[0]):
            best[0] = trial
        if progress is not None:
            progress(sum(1 for n in done if _runnable(prepared, n)), total, best[0])

    if progress is not None:
        progress(total - len(todo), total, best[0])
    if not todo:
        return
    work = executors.batches(todo, jobs)
    if executor == "ray":
        executors.run_ray(work, lake, jobs, ray_address, on_trial)
    else:
        executors.run_local(work, lake, jobs, on_trial)


def _runnable(prepared: Prepared, number: int) -> bool:
    """Whether a trial number is a variant that runs (not failed at compile, not a duplicate)."""
    variant = prepared.variants[number]
    return variant.plan is not None and variant.duplicate_of is None


def _ranks_before(prepared: Prepared, trial: Trial, other: Trial | None) -> bool:
    """Whether `trial` passes the filters and beats `other` (ties: lower trial number)."""
    from qtc.search.objective import passes

    if not passes(prepared.filters, trial.metrics):
        return False
    if other is None:
        return True
    metric = prepared.objective.metric
    a, b = trial.metrics.get(metric), other.metrics.get(metric)
    if prepared.objective.key(a) == prepared.objective.key(b):
        return trial.number < other.number
    return prepared.objective.better(a, b)


def _best(prepared: Prepared, trials: Any) -> Trial | None:
    """The best trial so far."""
    best: Trial | None = None
    for trial in trials:
        if trial.status == OK and _ranks_before(prepared, trial, best):
            best = trial
    return best


def ranking(prepared: Prepared, done: dict[int, Trial]) -> list[Trial]:
    """Trials that ran, passed the filters, and have the objective, best first."""
    from qtc.search.objective import passes

    metric = prepared.objective.metric
    kept = [
        t
        for t in done.values()
        if t.status == OK
        and passes(prepared.filters, t.metrics)
        and t.metrics.get(metric) is not None
    ]
    return sorted(kept, key=lambda t: (prepared.objective.key(t.metrics[metric]), t.number))


def all_trials(prepared: Prepared, done: dict[int, Trial]) -> list[Trial]:
    """One trial per variant, in order: evaluated, failed at compile, or a duplicate's copy."""
    out: list[Trial] = []
    for variant in prepared.variants:
        if variant.plan is None:
            out.append(Trial(variant.number, "", FAILED, reason=variant.problem))
        elif variant.duplicate_of is not None:
            first = done.get(variant.duplicate_of)
            copy = Trial(variant.number, variant.plan.fingerprint, DUPLICATE)
            if first is not None:
                copy.metrics = first.metrics
                copy.reason = f"same plan as trial {variant.duplicate_of}"
            out.append(copy)
        elif variant.number in done:
            out.append(done[variant.number])
    return out


def elapsed_since(began: float) -> float:
    """Seconds since `began` (perf_counter), rounded for meta.json."""
    return round(time.perf_counter() - began, 3)
