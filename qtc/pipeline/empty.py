"""Why a rebalance selected nothing: the first pipeline step that left no symbol.

`explain_empty` walks the steps on the empty rebalances only, vectorised over them: the
universe rules in order (`qtc.pipeline.universe.universe_steps`), then each weighted
factor's coverage among the symbols left (with `scoring.missing = "drop"` a symbol needs
every factor, with `"zero"` any one), then the composite score, then the selection
(`selection.min_score`). Each empty rebalance is blamed on the first step after which no
symbol is left; rebalances with the same cause share one warning, e.g.

    78 of 132 rebalances (2006-01-31 .. 2012-06-29) selected nothing (held cash):
    factor `roa` has no values before 2012-07-31

For a factor, the warning says from (or until) when it has values for any symbol the
universe ever admits, when the empty dates are all before (or after) that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qtc.compile.stages import Score
from qtc.manifest.scoring import SelectionSection
from qtc.pipeline.universe import UniverseStep


@dataclass(frozen=True)
class EmptyInput:
    """What the steps produced, for the rebalances of one run.

    Attributes:
        dates: Panel dates, (T,).
        rows: Signal row of each rebalance, (R,).
        steps: The universe rules in order.
        eligible: (R, N) eligibility (the conjunction of `steps`).
        factors: Factor name -> (T, N) values.
        score: The Score stage (weights, missing policy, method).
        scores: (R, N) composite scores.
        selection: The `[selection]` section.
        selected: (R, N) selection.
    """

    dates: np.ndarray
    rows: np.ndarray
    steps: list[UniverseStep]
    eligible: np.ndarray
    factors: dict[str, np.ndarray]
    score: Score
    scores: np.ndarray
    selection: SelectionSection
    selected: np.ndarray


@dataclass(frozen=True)
class _Cause:
    """A step that emptied some rebalances (a factor name when the step is a factor)."""

    reason: str
    factor: str = ""


def explain_empty(inp: EmptyInput) -> list[str]:
    """One warning per cause of empty rebalances (none when every rebalance holds names).

    Args:
        inp: The run's step outputs.

    Returns:
        Warnings, ordered by the first rebalance of each cause.
    """
    empty = np.flatnonzero(~inp.selected.any(axis=1))
    if not empty.size:
        return []
    blamed = _blame(inp, empty)
    groups: dict[_Cause, list[int]] = {}
    for r, cause in zip(empty.tolist(), blamed, strict=True):
        groups.setdefault(cause, []).append(r)
    return [_message(inp, cause, rebs) for cause, rebs in groups.items()]


def _blame(inp: EmptyInput, empty: np.ndarray) -> list[_Cause]:
    """The cause of each empty rebalance (positions in `empty`)."""
    causes: list[_Cause | None] = [None] * len(empty)
    alive = np.ones((len(empty), inp.eligible.shape[1]), bool)
    for step in inp.steps:
        alive &= step.keep[empty] if step.keep.ndim == 2 else step.keep
        _assign(causes, ~alive.any(axis=1), _Cause(step.reason))
    _blame_factors(inp, empty, alive, causes)
    unscored = ~np.isfinite(inp.scores[empty]).any(axis=1)
    _assign(causes, unscored, _Cause(_score_reason(inp.score)))
    _assign(causes, np.ones(len(empty), bool), _Cause(_selection_reason(inp.selection)))
    return [c if c is not None else _Cause("") for c in causes]


def _blame_factors(
    inp: EmptyInput, empty: np.ndarray, alive: np.ndarray, causes: list[_Cause | None]
) -> None:
    """Blame the weighted factors in order: the first that leaves no symbol with values."""
    names = [n for n, w in inp.score.factor_weights.items() if w != 0]
    if not names:
        return
    rows = inp.rows[empty]
    drop = inp.score.scoring.missing == "drop"
    left = alive.copy()
    covered = np.zeros_like(alive)
    for i, name in enumerate(names):
        has = alive & np.isfinite(inp.factors[name][rows])
        if drop:
            left &= has
            alone = ~has.any(axis=1)
            _assign(causes, alone, _Cause(f"factor `{name}`", name))
            _assign(causes, ~left.any(axis=1), _Cause(_joint(names[: i + 1])))
        covered |= has
    if not drop:
        single = names[0] if len(names) == 1 else ""
        _assign(causes, ~covered.any(axis=1), _Cause(_none_of(names), single))


def _assign(causes: list[_Cause | None], hit: np.ndarray | np.bool_, cause: _Cause) -> None:
    """Set `cause` where `hit` and no earlier step was blamed."""
    for i in np.flatnonzero(hit).tolist():
        if causes[i] is None:
            causes[i] = cause


def _joint(names: list[str]) -> str:
    """Reason: no symbol has every one of these factors."""
    listed = ", ".join(f"`{n}`" for n in names)
    return f'no symbol has values for all of {listed} (scoring.missing = "drop")'


def _none_of(names: list[str]) -> str:
    """Reason: none of the factors has a value (missing = "zero")."""
    if len(names) == 1:
        return f"factor `{names[0]}`"
    listed = ", ".join(f"`{n}`" for n in names)
    return f"none of the factors {listed} has values for the symbols of the universe"


def _score_reason(score: Score) -> str:
    """Reason: every composite score is undefined."""
    if score.scoring.method == "zscore":
        return (
            "the composite score is undefined for every symbol (a z-score needs two or "
            "more distinct factor values)"
        )
    return "the composite score is undefined for every symbol"


def _selection_reason(selection: SelectionSection) -> str:
    """Reason: the selection rules keep none of the scored symbols."""
    if selection.min_score is not None:
        return f"`selection.min_score = {selection.min_score:g}` leaves no symbol"
    return "the selection keeps no scored symbol"


def _message(inp: EmptyInput, cause: _Cause, rebs: list[int]) -> str:
    """The warning for the rebalances of one cause."""
    days = inp.dates[inp.rows[rebs]].astype("datetime64[D]")
    span = str(days[0]) if len(days) == 1 else f"{days[0]} .. {days[-1]}"
    head = f"{len(rebs)} of {len(inp.rows)} rebalances ({span}) selected nothing (held cash)"
    reason = cause.reason
    if cause.factor:
        reason += " " + _coverage(inp, cause.factor, days)
    return f"{head}: {reason}" if reason else head


def _coverage(inp: EmptyInput, name: str, days: np.ndarray) -> str:
    """When a factor has values for any symbol the universe ever admits."""
    cols = inp.eligible.any(axis=0)
    valid = np.flatnonzero(np.isfinite(inp.factors[name][:, cols]).any(axis=1))
    if not valid.size:
        return "has no values for any symbol of the universe"
    first, last = inp.dates[valid[0]], inp.dates[valid[-1]]
    if days[-1] < first:
        return f"has no values before {first.astype('datetime64[D]')}"
    if days[0] > last:
        return f"has no values after {last.astype('datetime64[D]')}"
    where = "that date" if len(days) == 1 else "those dates"
    return (
        f"has no value for any eligible symbol on {where} "
        f"(its values start {first.astype('datetime64[D]')})"
    )
