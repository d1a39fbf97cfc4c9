"""`qtc evolve`: what an evolution is, checked and compiled before anything runs.

An evolution is a seeded optuna study over the strategy's `[search]` space: a sampler
(NSGA-II by default) proposes a generation of variants, they run on the sweep's
executors, their objectives are told back, and so on until `--trials` variants ran.

Its id is the fingerprint of what decides its trials (the base plan, which carries
the in-sample window, the space, sampler, population, seed, objectives, filters, the
holdout, data and versions). `--trials` is not part of it: asking for more trials
continues the same study.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from qtc.compile.fingerprint import fingerprint, short
from qtc.errors import QtcError, UserError
from qtc.manifest.strategy import Strategy
from qtc.search.evolve_space import EvolveSpace
from qtc.search.holdout import Holdout
from qtc.search.objective import Filter, Objective

SAMPLERS = ("nsga2", "tpe", "cmaes", "random")
DEFAULT_SAMPLER = "nsga2"
DEFAULT_TRIALS = 64
DEFAULT_POPULATION = 16
DEFAULT_TOP = 5
MAX_TRIALS = 100_000
CMAES_INSTALL = "install the `cmaes` package (`uv add cmaes` or `pip install cmaes`)"


@dataclass(frozen=True)
class EvolveRequest:
    """Everything that defines an evolution (saved in evolve.json for `--resume`).

    Attributes:
        path: Strategy file.
        overrides: `--set` values.
        trials: Run until the study has this many trials.
        seed: Seed of the sampler.
        sampler: `nsga2`, `tpe`, `cmaes` or `random`.
        population: Trials per generation (asked together, evaluated in parallel).
        objectives: Metrics to optimise (`sharpe`, `min:max_drawdown`); several: a Pareto front.
        where: Filters (`max_drawdown < 0.3`): constraints of the search.
        holdout: First held-out date (YYYY-MM-DD), or None.
        holdout_fraction: Or: hold out this last fraction of the window.
        top: How many best strategies to write (one objective).
    """

    path: str
    overrides: tuple[str, ...] = ()
    trials: int = DEFAULT_TRIALS
    seed: int = 0
    sampler: str = DEFAULT_SAMPLER
    population: int = DEFAULT_POPULATION
    objectives: tuple[str, ...] = ("sharpe",)
    where: tuple[str, ...] = ()
    holdout: str | None = None
    holdout_fraction: float | None = None
    top: int = DEFAULT_TOP

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "path": self.path,
            "overrides": list(self.overrides),
            "trials": self.trials,
            "seed": self.seed,
            "sampler": self.sampler,
            "population": self.population,
            "objectives": list(self.objectives),
            "where": list(self.where),
            "holdout": self.holdout,
            "holdout_fraction": self.holdout_fraction,
            "top": self.top,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvolveRequest:
        """The request saved in an evolve.json."""
        fraction = data.get("holdout_fraction")
        return cls(
            path=str(data["path"]),
            overrides=tuple(data.get("overrides", ())),
            trials=int(data.get("trials", DEFAULT_TRIALS)),
            seed=int(data.get("seed", 0)),
            sampler=str(data.get("sampler", DEFAULT_SAMPLER)),
            population=int(data.get("population", DEFAULT_POPULATION)),
            objectives=tuple(data.get("objectives", ("sharpe",))),
            where=tuple(data.get("where", ())),
            holdout=data.get("holdout"),
            holdout_fraction=None if fraction is None else float(fraction),
            top=int(data.get("top", DEFAULT_TOP)),
        )

    def updated(self, *, trials: int | None = None, top: int | None = None) -> EvolveRequest:
        """The request with a new trial count and/or top (for `--resume ID --trials N`)."""
        return replace(
            self,
            trials=self.trials if trials is None else trials,
            top=self.top if top is None else top,
        )


@dataclass
class Evolution:
    """An evolution ready to run: compiled, checked.

    Attributes:
        request: What was asked.
        strategy_name: The strategy's name.
        base: The base strategy the variants derive from (its window ends before the holdout).
        original: The base strategy with the user's window (written winners use it).
        base_plan: The base strategy's plan.
        space: The searched dimensions.
        objectives: The objectives, in the order given.
        filters: The `--where` filters.
        as_of: The plans' as-of date (the lake's last date).
        holdout: The window split, or None.
        dataset_hashes: The lake's dataset hashes.
        evolve_id: The id (12 hex digits).
        family: The strategy family's key.
    """

    request: EvolveRequest
    strategy_name: str
    base: Strategy
    original: Strategy
    base_plan: Any
    space: EvolveSpace
    objectives: list[Objective]
    filters: list[Filter]
    as_of: dt.date
    holdout: Holdout | None = None
    dataset_hashes: dict[str, str] = field(default_factory=dict)
    evolve_id: str = ""
    family: str = ""

    @property
    def metrics(self) -> list[str]:
        """The objectives' metric names."""
        return [o.metric for o in self.objectives]


class EvolveInterruptedError(QtcError):
    """Ctrl-C during an evolution: the finished trials are saved; `--resume ID` continues."""

    exit_code = 130

    def __init__(self, evolve_id: str, folder: Any, done: int, total: int, out: str = "") -> None:
        super().__init__(
            f"evolution {evolve_id} stopped after {done} of {total} trials; the finished "
            f"trials are saved in {folder}",
            hint=f"continue with: qtc evolve --resume {evolve_id}{out}",
        )
        self.evolve_id = evolve_id


def check_request(request: EvolveRequest) -> None:
    """Checks that need neither the strategy nor the lake.

    Raises:
        UserError: For a bad number, an unknown sampler, or CMA-ES where it cannot work.
    """
    if not 1 <= request.trials <= MAX_TRIALS:
        raise UserError(f"--trials must be between 1 and {MAX_TRIALS:,}, got {request.trials}")
    if request.top < 0:
        raise UserError(f"--top must be >= 0, got {request.top}")
    if request.sampler not in SAMPLERS:
        raise UserError(
            f"unknown sampler {request.sampler!r}",
            hint=f"use --sampler {' | '.join(SAMPLERS)} (default {DEFAULT_SAMPLER})",
        )
    least = 2 if request.sampler == "nsga2" else 1
    if not least <= request.population <= MAX_TRIALS:
        raise UserError(
            f"--population must be between {least} and {MAX_TRIALS:,} for the "
            f"{request.sampler} sampler, got {request.population}"
        )
    if not request.objectives:
        raise UserError("give at least one --objective", hint="for example --objective sharpe")
    if request.sampler == "cmaes":
        _check_cmaes(request)


def _check_cmaes(request: EvolveRequest) -> None:
    """CMA-ES optimises one objective and needs the `cmaes` package."""
    import importlib.util

    if len(request.objectives) > 1:
        raise UserError(
            "the cmaes sampler optimises one objective",
            hint="use --sampler nsga2 (or tpe) for several objectives",
        )
    if importlib.util.find_spec("cmaes") is None:
        raise UserError("the cmaes sampler needs the cmaes package", hint=CMAES_INSTALL)


def prepare(request: EvolveRequest, lake: Any) -> Evolution:
    """Check the request, compile the base (truncated at the holdout), build the space.

    Raises:
        StrategyError: If the strategy or its `[search]` is invalid, or cannot be searched.
        UserError: For a bad option, objective, filter or holdout.
    """
    from qtc.pipeline.data import window_end
    from qtc.search import evolve_space, holdout
    from qtc.search.objective import known_metrics, parse_filter
    from qtc.search.variants import compile_base

    check_request(request)
    known = known_metrics()
    objectives = _objectives(request.objectives, known)
    filters = [parse_filter(text, known) for text in request.where]
    as_of = window_end(lake)
    original, plan = compile_base(request.path, list(request.overrides), as_of)
    split = holdout.split(
        request.holdout, request.holdout_fraction, original.data.start, original.data.end or as_of
    )
    base = original
    if split is not None:
        holdout.refuse_window_keys(list(original.search.root))
        overrides = [*request.overrides, split.in_sample_override()]
        base, plan = compile_base(request.path, overrides, as_of)
    space = evolve_space.from_search(base.search)
    evolve_space.check_searchable(space, request.path)
    return Evolution(
        request=request,
        strategy_name=base.name,
        base=base,
        original=original,
        base_plan=plan,
        space=space,
        objectives=objectives,
        filters=filters,
        as_of=as_of,
        holdout=split,
        dataset_hashes=lake.dataset_hashes(),
    )


def _objectives(texts: tuple[str, ...], known: list[str]) -> list[Objective]:
    """Parse every `--objective`; one metric twice is refused."""
    from qtc.search.objective import parse_objective

    found = [parse_objective(text, known) for text in texts]
    metrics = [o.metric for o in found]
    for metric in metrics:
        if metrics.count(metric) > 1:
            raise UserError(f"--objective {metric} is given twice", hint="give each metric once")
    return found


def evolve_id(evolution: Evolution, versions: dict[str, str]) -> str:
    """The evolution's id: what decides its trials, fingerprinted (12 hex)."""
    request = evolution.request
    doc = {
        "plan": evolution.base_plan.fingerprint,
        "space": evolution.space.as_dict(),
        "sampler": request.sampler,
        "population": request.population,
        "seed": request.seed,
        "objectives": [o.label for o in evolution.objectives],
        "where": [f.text for f in evolution.filters],
        "holdout": evolution.holdout.as_dict() if evolution.holdout else None,
        "data": evolution.dataset_hashes,
        "versions": versions,
    }
    return short(fingerprint(doc))
