"""The candidates of a walk-forward re-selection: every variant of the strategy's `[search]`.

Uses the sweep's core: the space from `[search]` (`qtc.search.space`), one compiled plan
per point (`qtc.search.variants`; points that compile to the same plan run once), each
run over the whole window by `qtc.search.evaluate` on the loaded market, or on the
sweep's local worker processes with `jobs > 1` (`qtc.search.executors`). A variant that
fails (a cross-section check, an error in the pipeline, never holding a position) is not
a candidate. The re-selection then picks among the candidates fold by fold
(`qtc.research.walkforward`); trials are not recorded in the trial ledger (a validation
is not a search of the family).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from qtc.errors import UserError
from qtc.manifest.strategy import Strategy
from qtc.pipeline.factors import FactorCache
from qtc.pipeline.market import Market
from qtc.research.walkforward import Candidate
from qtc.search.evaluate import OK, Trial
from qtc.search.sweep import DEFAULT_MAX_VARIANTS
from qtc.search.variants import Variant

NEEDS_SEARCH = "add a [search] section (key path = [candidates]) or drop --reselect"


def search_variants(strategy: Strategy, as_of: dt.date) -> list[Variant]:
    """Every point of `[search]`, compiled (duplicates marked).

    Raises:
        UserError: Without a `[search]` section, with a log-scale range or a `data.*` key
            (which would move the walk-forward's window), or above the variant limit.
    """
    from qtc.search.space import from_strategy
    from qtc.search.variants import build_variants

    space = from_strategy(strategy)
    if not space.keys:
        raise UserError(
            f"--reselect needs a [search] section in {strategy.name}", hint=NEEDS_SEARCH
        )
    moving = [k for k in space.keys if k.startswith("data.")]
    if moving:
        raise UserError(
            f"[search] key {moving[0]} moves the window the walk-forward cuts into folds",
            hint="drop it from [search] to validate with --reselect",
        )
    if space.size > DEFAULT_MAX_VARIANTS:
        raise UserError(
            f"[search] has {space.size:,} variants, above the limit of {DEFAULT_MAX_VARIANTS:,}",
            hint="narrow [search], or search it with `qtc sweep --sample` / `qtc evolve`",
        )
    return build_variants(strategy, space.variants(range(space.size)), as_of)


def candidates(
    variants: list[Variant],
    market: Market,
    cache: FactorCache,
    lake: Any,
    jobs: int,
    dates: np.ndarray,
) -> list[Candidate]:
    """Run every distinct variant and keep those that ran, returns on `dates`."""
    todo = [(v.number, v.plan) for v in variants if v.plan is not None and v.duplicate_of is None]
    trials: list[Trial] = []
    if jobs > 1 and len(todo) > 1:
        from qtc.search import executors

        executors.run_local(executors.batches(todo, jobs), lake, jobs, trials.append)
    else:
        trials = [_here(number, plan, market, cache, lake) for number, plan in todo]
    by_number = {v.number: v for v in variants}
    return [
        Candidate(t.number, dict(by_number[t.number].values), _aligned(t, dates))
        for t in sorted(trials, key=lambda t: t.number)
        if t.status == OK
    ]


def _here(number: int, plan: Any, market: Market, cache: FactorCache, lake: Any) -> Trial:
    """One variant in this process, on the loaded market when it is the variant's."""
    from qtc.pipeline.market import load_market
    from qtc.pipeline.runner import load_spec
    from qtc.search.evaluate import evaluate

    spec = load_spec(plan)
    own = market if market.serves(spec) else load_market(spec, lake)
    return evaluate(number, plan, own, cache if own is market else FactorCache())


def _aligned(trial: Trial, dates: np.ndarray) -> np.ndarray:
    """A trial's daily returns on `dates` (0 on a date it does not have)."""
    out = np.zeros(dates.size)
    where = np.searchsorted(trial.dates, dates)
    found = (where < trial.dates.size) & (
        trial.dates[np.minimum(where, trial.dates.size - 1)] == dates
    )
    out[found] = trial.returns[where[found]]
    return out
