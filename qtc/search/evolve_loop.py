"""The generations of an evolution: ask a whole generation, evaluate it, tell it back.

Each generation's trials are asked from the study together (so what is asked does not
depend on how fast trials finish), compiled (a variant with the plan of an earlier
trial is a duplicate and runs no second time), evaluated on the runner in parallel,
recorded in the trial ledger, then told to the study in trial-number order. The same
seed, data and versions therefore give the same trials in the same order whatever
`--jobs` is.

On Ctrl-C every finished trial of the generation is recorded and told; the others
stay `RUNNING` in the study, and a resumed evolution evaluates them first (their
parameters are in the journal), so it ends exactly where an uninterrupted run would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qtc.search import evolve_results as results
from qtc.search.evaluate import FAILED, OK, Trial
from qtc.search.evolve import Evolution
from qtc.search.evolve_study import ATTR, GenerationJournal
from qtc.search.objective import passes
from qtc.search.runners import Runner

Progress = Callable[[int, int, "Trial | None"], None]
"""Hears (trials done, trials asked for, best trial so far) after each trial."""


@dataclass
class Item:
    """One asked trial in the generation being evaluated.

    Attributes:
        number: Trial number.
        handle: optuna's trial (to set its record and tell it).
        values: The searched values (empty when its parameters are missing).
        plan: The compiled plan (None when it failed to compile).
        variant: The plan's fingerprint.
        problem: Why it cannot run.
        duplicate_of: An earlier trial with the same plan.
    """

    number: int
    handle: Any
    values: dict[str, Any] = field(default_factory=dict)
    plan: Any = None
    variant: str = ""
    problem: str = ""
    duplicate_of: int | None = None


class Generations:
    """Runs the generations of one evolution on its study."""

    def __init__(
        self,
        evolution: Evolution,
        study: Any,
        journal: GenerationJournal,
        progress: Progress | None = None,
    ) -> None:
        self.ev = evolution
        self.study = study
        self.journal = journal
        self.progress = progress
        self.first_of: dict[str, int] = {}
        self.metrics: dict[int, dict[str, Any]] = {}
        self.outcome: dict[int, str] = {}
        self.best: Trial | None = None
        self.settled = 0
        self.ledger: Any = None
        for row in results.rows(study):
            self._remember(row.number, row.variant, row.status, row.metrics, row.duplicate_of)

    def run(self, runner: Runner, jobs: int) -> bool:
        """Evaluate the interrupted trials, then new generations up to `--trials`.

        Returns:
            Whether any trial was evaluated.
        """
        from optuna.trial import Trial as OptunaTrial
        from optuna.trial import TrialState

        ran = False
        self._report()
        left = self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if left:
            items = [Item(t.number, OptunaTrial(self.study, t._trial_id)) for t in left]
            self._generation(items, [dict(t.params) for t in left], runner, jobs)
            ran = True
        while (first := len(self.study.get_trials(deepcopy=False))) < self.ev.request.trials:
            asked = self._ask(first)
            items = [Item(t.number, t) for t in asked]
            self._generation(items, [dict(t.params) for t in asked], runner, jobs)
            ran = True
        return ran

    def _ask(self, first: int) -> list[Any]:
        """Ask the generation starting at trial `first` with a sampler seeded for it."""
        from qtc.search.evolve_study import round_seed, sampler

        request = self.ev.request
        self.study.sampler = sampler(
            request.sampler,
            round_seed(request.seed, first),
            request.population,
            constrained=bool(self.ev.filters),
        )
        size = min(request.population, request.trials - first)
        distributions = self.ev.space.distributions()
        return [self.study.ask(distributions) for _ in range(size)]

    def _generation(
        self, items: list[Item], params: list[dict[str, Any]], runner: Runner, jobs: int
    ) -> None:
        """Compile, evaluate, record and tell one generation."""
        from qtc.search.executors import batches

        for item, raw in zip(items, params, strict=True):
            self._compile(item, raw)
        self._mark_duplicates(items)
        todo = [(i.number, i.plan) for i in items if i.plan is not None and i.duplicate_of is None]
        done: dict[int, Trial] = {}

        def on_trial(trial: Trial) -> None:
            done[trial.number] = trial
            self._report(len(done))

        try:
            if todo:
                runner.run(batches(todo, jobs), on_trial)
        finally:
            self._settle(items, done)

    def _compile(self, item: Item, raw: dict[str, Any]) -> None:
        """The item's values and plan."""
        from qtc.search.variants import compile_variant

        try:
            item.values = self.ev.space.point(raw)
        except KeyError:
            item.problem = "interrupted before its parameters were drawn"
            return
        variant = compile_variant(self.ev.base, item.number, item.values, self.ev.as_of)
        item.plan, item.problem = variant.plan, variant.problem
        item.variant = variant.plan.fingerprint if variant.plan is not None else ""

    def _mark_duplicates(self, items: list[Item]) -> None:
        """A variant whose plan an earlier trial had is a duplicate of that trial."""
        seen = dict(self.first_of)
        for item in items:
            if item.plan is None:
                continue
            item.duplicate_of = seen.get(item.variant)
            seen.setdefault(item.variant, item.number)

    def _settle(self, items: list[Item], done: dict[int, Trial]) -> None:
        """Record the evaluated trials in the ledger; tell each trial whose outcome is known."""
        from qtc.search.record import open_ledger, record_trials

        values = {i.number: i.values for i in items}
        if done:
            self.ledger = self.ledger or open_ledger()
            record_trials(
                done.values(),
                family=self.ev.family,
                strategy=self.ev.strategy_name,
                search_id=self.ev.evolve_id,
                kind="evolve",
                params=lambda number: values[number],
                ledger=self.ledger,
            )
        for item in sorted(items, key=lambda i: i.number):
            self._tell(item, done)
        self.journal.flush()

    def _tell(self, item: Item, done: dict[int, Trial]) -> None:
        """Tell one trial, if its outcome is known (else it stays RUNNING)."""
        status, reason, metrics = FAILED, item.problem, {}
        if item.plan is not None and item.duplicate_of is None:
            if item.number not in done:
                return
            trial = done[item.number]
            status, reason, metrics = trial.status, trial.reason, trial.metrics
        elif item.duplicate_of is not None:
            if item.duplicate_of not in self.outcome:
                return
            status, reason = results.DUPLICATE, f"same plan as trial {item.duplicate_of}"
        record = {
            "generation": item.number // self.ev.request.population,
            "values": item.values,
            "variant": item.variant,
            "status": status,
            "reason": reason,
            "duplicate_of": item.duplicate_of,
            "metrics": metrics,
        }
        scored = self._scored(item, status, metrics)
        record["constraints"] = results.violations(self.ev, scored)
        item.handle.set_user_attr(ATTR, record)
        objectives = results.objective_values(self.ev, scored) if scored else None
        self._tell_study(item, objectives)
        self._remember(item.number, item.variant, status, metrics, item.duplicate_of)

    def _scored(self, item: Item, status: str, metrics: dict[str, Any]) -> dict[str, Any]:
        """The metrics the study is told: the trial's, or its original's for a duplicate."""
        if status == OK:
            return metrics
        if item.duplicate_of is not None and self.outcome.get(item.duplicate_of) == OK:
            return self.metrics.get(item.duplicate_of, {})
        return {}

    def _tell_study(self, item: Item, objectives: list[float] | None) -> None:
        """Tell the study the objectives, or that the trial failed."""
        from optuna.trial import TrialState

        if objectives is None:
            self.study.tell(item.handle, state=TrialState.FAIL)
        else:
            self.study.tell(item.handle, objectives)

    def _remember(
        self,
        number: int,
        variant: str,
        status: str,
        metrics: dict[str, Any],
        duplicate_of: int | None,
    ) -> None:
        """Keep what later trials need: first trial of each plan, outcomes, the best so far."""
        self.settled += 1
        self.outcome[number] = status
        if duplicate_of is None and variant:
            self.first_of.setdefault(variant, number)
            self.metrics[number] = metrics
        if status == OK and passes(self.ev.filters, metrics):
            trial = Trial(number, variant, OK, metrics=metrics)
            if results.better(self.ev.objectives[0], trial, self.best):
                self.best = trial

    def _report(self, running: int = 0) -> None:
        """Tell the progress listener."""
        if self.progress is not None:
            total = max(self.ev.request.trials, self.settled)
            self.progress(min(self.settled + running, total), total, self.best)
