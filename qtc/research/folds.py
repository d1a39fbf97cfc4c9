"""Walk-forward folds over the window's trading days (nanobook's time-series split).

nanobook's `py_time_series_split(n, k)` has scikit-learn's `TimeSeriesSplit` semantics:
k consecutive test folds of n // (k + 1) days each at the end of the window, fold i
training on every day before its test fold (`expanding`). `rolling` keeps the first
fold's training length: each fold trains on that many days right before its test fold.
Test folds never overlap and together form the out-of-sample stretch.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_TEST_DAYS = 2
"""Fewest trading days in a test fold (a Sharpe ratio needs two returns)."""


@dataclass(frozen=True)
class Fold:
    """One walk-forward fold as half-open day ranges [start, stop) of the window.

    Attributes:
        number: 1-based.
        train: (first, stop) of the training days.
        test: (first, stop) of the test days.
    """

    number: int
    train: tuple[int, int]
    test: tuple[int, int]


def test_days(n_days: int, n_folds: int) -> int:
    """Days in each test fold for `n_days` days and `n_folds` folds."""
    return n_days // (n_folds + 1)


def split(n_days: int, n_folds: int, scheme: str) -> list[Fold]:
    """The folds of a window of `n_days` trading days.

    Raises:
        ValueError: If a test fold would have fewer than `MIN_TEST_DAYS` days (callers
            check `test_days` first and report it in the user's terms).
    """
    if test_days(n_days, n_folds) < MIN_TEST_DAYS:
        raise ValueError(f"{n_days} days cannot make {n_folds} folds")
    import nanobook as nb

    pairs = nb.py_time_series_split(int(n_days), int(n_folds))
    first_train = len(pairs[0][0])
    out = []
    for number, (train, test) in enumerate(pairs, start=1):
        stop = train[-1] + 1
        start = 0 if scheme == "expanding" else stop - first_train
        out.append(Fold(number, (start, stop), (test[0], test[-1] + 1)))
    return out
