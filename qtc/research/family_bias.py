"""Selection bias of the strategy against its family in the trial ledger.

What the gates `max_pbo` and `min_deflated_sharpe` read.
The family is the one `qtc sweep` and `qtc evolve` record the strategy's trials under
(`qtc.search.family`): the strategy minus its searched keys. With a `[search]` section
those keys are known; otherwise (a sweep over `--grid` keys) the ledger's families of
the same strategy name are tried, each with the keys its trials searched, and the
matching one with the most trials is used.

* PBO: the family's probability of backtest overfitting (CSCV, `qtc.search.cscv`).
* Deflated Sharpe: the strategy's own daily returns over the window, judged against the
  family's trial count and the variance of its trials' Sharpe ratios
  (`qtc.search.record.selection_bias`).

Nothing is created: without a ledger file, or without trials in the family, both are
"not evaluable" with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from qtc.manifest.strategy import Strategy


@dataclass(frozen=True)
class FamilyBias:
    """The family's selection-bias figures, or why they are missing.

    Attributes:
        family: The family key (None when no family was found).
        trials: Its trial count.
        pbo: Probability of backtest overfitting.
        deflated_sharpe: The strategy's deflated Sharpe ratio.
        pbo_reason: Why `pbo` is None (or its plain-language reading).
        deflated_reason: Why `deflated_sharpe` is None (or its reading).
    """

    family: str | None
    trials: int
    pbo: float | None
    deflated_sharpe: float | None
    pbo_reason: str
    deflated_reason: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "family": self.family,
            "trials": self.trials,
            "pbo": self.pbo,
            "deflated_sharpe": self.deflated_sharpe,
            "pbo_text": self.pbo_reason,
            "deflated_sharpe_text": self.deflated_reason,
        }


def missing(reason: str, family: str | None = None) -> FamilyBias:
    """Both figures not evaluable, for `reason`."""
    return FamilyBias(family, 0, None, None, reason, reason)


def family_bias(strategy: Strategy, returns: np.ndarray, sharpe: float | None) -> FamilyBias:
    """PBO and deflated Sharpe of the strategy against its family (see the module docstring)."""
    from qtc.search.evaluate import OK, Trial
    from qtc.search.record import ledger_path, selection_bias

    path = ledger_path()
    if not path.is_file():
        return missing(f"no trial ledger at {path}: run `qtc sweep` or `qtc evolve` first")
    from qtc.search.ledger import Ledger

    ledger = Ledger.open(path)
    key = _family_key(ledger, strategy)
    trials = ledger.family_count(key) if key else 0
    if not key or trials == 0:
        return missing(f"the trial ledger has no trials of {strategy.name}'s family", key)
    winner = Trial(0, "", OK, metrics={"sharpe": sharpe}, returns=returns)
    found = selection_bias(key, winner, ledger.family_returns(key))
    return FamilyBias(
        family=key,
        trials=trials,
        pbo=found.get("pbo"),
        deflated_sharpe=found.get("deflated_sharpe"),
        pbo_reason=str(found.get("pbo_text", "")),
        deflated_reason=str(found.get("deflated_sharpe_text", "")),
    )


def _family_key(ledger: Any, strategy: Strategy) -> str | None:
    """The strategy's family in the ledger (see the module docstring)."""
    from qtc.search.family import family_of

    own = family_of(strategy, list(strategy.search.root)).key
    if ledger.family_count(own):
        return own
    best: tuple[int, str] | None = None
    for summary in ledger.families():
        if summary.strategy != strategy.name or summary.family == own:
            continue
        rows = ledger.trials(family=summary.family)
        keys = list(rows[0].params) if rows else []
        if family_of(strategy, keys).key == summary.family and (
            best is None or summary.n_trials > best[0]
        ):
            best = (summary.n_trials, summary.family)
    return best[1] if best else own
