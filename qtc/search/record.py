"""What every search keeps of its trials: the trial ledger and the winner's selection bias.

Both `qtc sweep` and `qtc evolve` record each evaluated trial in the project's trial
ledger under the strategy family, then judge their winner against every trial the
family has ever had (deflated Sharpe ratio, probability of backtest overfitting and
minimum backtest length).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtc.search.evaluate import OK, Trial

if TYPE_CHECKING:
    from qtc.search.ledger import FamilyReturns, Ledger

LEDGER_ENV = "QTC_LEDGER"
DEFAULT_LEDGER = Path(".qtc") / "ledger.duckdb"
PBO_BLOCKS = 16


def ledger_path() -> Path:
    """The project's trial ledger: `$QTC_LEDGER`, else `.qtc/ledger.duckdb` here."""
    return Path(os.environ[LEDGER_ENV]) if os.environ.get(LEDGER_ENV) else DEFAULT_LEDGER


def open_ledger() -> Ledger:
    """The project's trial ledger, opened (created if needed)."""
    from qtc.search.ledger import Ledger

    return Ledger.open(ledger_path())


def record_trials(
    trials: Iterable[Trial],
    *,
    family: str,
    strategy: str,
    search_id: str,
    kind: str,
    params: Callable[[int], dict[str, Any]],
    ledger: Ledger | None = None,
) -> int:
    """Write evaluated trials to the ledger (in trial order); return how many were written.

    Args:
        trials: The evaluated trials.
        family: The family key.
        strategy: The strategy name.
        search_id: The sweep or evolution id.
        kind: `sweep` or `evolve`.
        params: The searched values of a trial number.
        ledger: The ledger (default: the project's, opened here).
    """
    from qtc.search.ledger import TrialRecord

    records = []
    for trial in sorted(trials, key=lambda t: t.number):
        ok = trial.status == OK
        records.append(
            TrialRecord(
                family=family,
                strategy=strategy,
                search_id=search_id,
                kind=kind,  # type: ignore[arg-type]
                trial_number=trial.number,
                variant_fingerprint=trial.variant,
                params=params(trial.number),
                status="ok" if ok else "failed",
                reason=trial.reason,
                metrics={k: v for k, v in trial.metrics.items() if v is not None},
                dates=trial.dates if ok else None,
                returns=trial.returns if ok else None,
            )
        )
    return (ledger or open_ledger()).record(records)


def with_returns(history: FamilyReturns, trial: Trial) -> Trial:
    """The trial with its daily returns from the family's history (unchanged if absent)."""
    if trial.variant not in history.variants:
        return trial
    column = history.variants.index(trial.variant)
    series = history.matrix[:, column].copy()
    return Trial(trial.number, trial.variant, OK, "", trial.metrics, series, history.dates)


def selection_bias(
    family: str, winner: Trial | None, history: FamilyReturns | None = None
) -> dict[str, Any]:
    """Deflated Sharpe, PBO and MinBTL of the winner against the family's history.

    Args:
        family: The family key.
        winner: The best trial (with its daily returns), or None.
        history: The family's returns (default: read from the project's ledger).
    """
    if winner is None:
        return {}
    import numpy as np

    from qtc.search import bias
    from qtc.search.errors import SelectionBiasError

    if history is None:
        history = open_ledger().family_returns(family)
    n = history.matrix.shape[1]
    out: dict[str, Any] = {"trials": n}
    try:
        sharpes = bias.sharpe_ratios(history.matrix) if n >= 1 else np.zeros(0)
        variance = float(np.var(sharpes, ddof=1)) if n >= 2 else 0.0
        dsr = bias.deflated_sharpe_of_returns(
            winner.returns, n_trials=max(n, 1), trials_sharpe_variance=variance
        )
        out["deflated_sharpe"] = finite(dsr.probability)
        out["deflated_sharpe_text"] = dsr.explain()
    except SelectionBiasError as exc:
        out["deflated_sharpe_text"] = f"not computed: {exc}"
    try:
        pbo = bias.probability_of_overfitting(history.matrix, PBO_BLOCKS)
        out["pbo"] = finite(pbo.probability)
        out["pbo_text"] = pbo.explain()
    except SelectionBiasError as exc:
        out["pbo_text"] = f"not computed: {exc}"
    annual = winner.metrics.get("sharpe")
    try:
        years = len(winner.returns) / 252.0
        btl = bias.minimum_backtest_length(max(n, 1), float(annual or 0.0), years_of_data=years)
        out["min_backtest_years"] = finite(btl.years)
        out["min_backtest_text"] = btl.explain()
    except SelectionBiasError as exc:
        out["min_backtest_text"] = f"not computed: {exc}"
    return out


def finite(value: float) -> float | None:
    """JSON-safe float."""
    return value if math.isfinite(value) else None
