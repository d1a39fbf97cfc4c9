"""Inputs `qtc validate` refuses, as coded diagnostics in the user's terms (exit 2).

* QTC401: a used factor has no value on any signal date (inside the universe), or the
  universe itself is empty on every signal date.
* QTC402: a horizon is longer than the data: fewer than `MIN_DATES` signal dates have
  a forward return at it.
* QTC403: fewer trading days than the folds need (each test fold needs
  `folds.MIN_TEST_DAYS` days).

The window checks run before the market is read, on the lake's calendar; the factor
and signal-date checks after the signals are computed. Every problem found is reported
at once.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from qtc.errors import Diagnostic, Location, StrategyError
from qtc.manifest.paths import UserPath
from qtc.research.folds import MIN_TEST_DAYS, test_days
from qtc.research.forward import usable_dates
from qtc.research.request import Settings, ValidateRequest
from qtc.research.signals import Signals

MIN_DATES = 2
"""Fewest signal dates with a forward return for a horizon to be studied."""

Locate = Callable[[UserPath], Location | None]


def check_window(
    n_days: int, lag: int, settings: Settings, request: ValidateRequest, locate: Locate
) -> None:
    """Horizons and folds against the window's trading days (before reading the market).

    Raises:
        StrategyError: QTC402 / QTC403.
    """
    found = [
        _horizon_problem(h, n_days, settings, request, locate)
        for h in settings.horizons
        if lag + h >= n_days
    ]
    if test_days(n_days, settings.n_folds) < MIN_TEST_DAYS:
        found.append(_folds_problem(n_days, settings, request, locate))
    if found:
        raise StrategyError(found)


def check_signals(
    signals: Signals, n_rows: int, settings: Settings, request: ValidateRequest, locate: Locate
) -> None:
    """Every used factor has values; every horizon has enough signal dates.

    Raises:
        StrategyError: QTC401 / QTC402.
    """
    found = [] if signals.eligible.any() else [_empty_universe(locate)]
    found += [
        Diagnostic(
            code="QTC401",
            message=f'factor "{name}" has no value on any signal date in the window',
            location=locate(("factors", name)),
            key_path=f"factors.{name}",
            expected="a factor with values for some eligible names in the window",
            hint="check its inputs in the lake (fundamentals, benchmarks) and the window "
            "(`data.start`/`data.end`), or set its scoring weight to 0",
        )
        for name, values in signals.factors.items()
        if signals.eligible.any() and not np.isfinite(values).any()
    ]
    days = n_rows - int(signals.rows[0])
    for horizon in settings.horizons:
        if usable_dates(signals.rows, signals.lag, horizon, n_rows) < MIN_DATES:
            found.append(_horizon_problem(horizon, days, settings, request, locate))
    if found:
        raise StrategyError(found)


def _empty_universe(locate: Locate) -> Diagnostic:
    """QTC401 when no symbol is eligible on any signal date (so no factor has a value)."""
    return Diagnostic(
        code="QTC401",
        message="no symbol is in the universe on any signal date in the window, so no "
        "factor has a value",
        location=locate(("universe",)),
        key_path="universe",
        expected="a universe with eligible symbols inside the window",
        hint="check `universe.min_history_days` and the price filters against the window "
        "(`data.start`/`data.end`) and the lake's history",
    )


def _horizon_problem(
    horizon: int, n_days: int, settings: Settings, request: ValidateRequest, locate: Locate
) -> Diagnostic:
    """QTC402 at `--horizons` or at `validate.horizon_days`."""
    from_file = horizon == settings.gate_horizon and (
        request.horizons is None or str(horizon) not in request.horizons.split(",")
    )
    return Diagnostic(
        code="QTC402",
        message=f"horizon {horizon} is longer than the data: the window has {n_days} trading "
        f"days, and fewer than {MIN_DATES} signal dates have a return {horizon} days later",
        location=locate(("validate", "horizon_days")) if from_file else Location("--horizons"),
        key_path="validate.horizon_days" if from_file else "",
        expected=f"a horizon well below the window's {n_days} trading days",
        hint=(
            "give shorter --horizons or a longer window (`data.start`/`data.end`)"
            if request.horizons is not None or from_file
            else "the default --horizons are 1,5,21,63: give shorter ones (e.g. "
            "--horizons 1,5) or a longer window"
        ),
    )


def _folds_problem(
    n_days: int, settings: Settings, request: ValidateRequest, locate: Locate
) -> Diagnostic:
    """QTC403 at `--folds` or at `validate.n_splits`."""
    per_fold = test_days(n_days, settings.n_folds)
    given = request.folds is not None
    return Diagnostic(
        code="QTC403",
        message=f"{n_days} trading days are too few for {settings.n_folds} walk-forward folds "
        f"({per_fold} day(s) per test fold; at least {MIN_TEST_DAYS} are needed)",
        location=Location("--folds") if given else locate(("validate", "n_splits")),
        key_path="" if given else "validate.n_splits",
        expected=f"at most {max(n_days // MIN_TEST_DAYS - 1, 1)} folds for this window",
        hint="use fewer --folds or a longer window",
    )
