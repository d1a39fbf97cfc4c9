"""Post-sizing weight transforms: the per-name cap and the regime overlay.

Stage `apply_risk_caps` (DESIGN §4) runs after `size`:

1. `cap_weights` caps every name at `min(sizing.max_weight, risk.max_position_pct)` and
   hands the excess to the uncapped names pro rata to their weights (water-filling).
2. `regime_exposure` reads the macro series known on each signal date and returns the
   gross exposure per rebalance; `apply_regime` scales the capped rows by it (the rest
   is cash).

All functions work on whole (R, N) arrays (R rebalances x N symbols) at once.
"""

from __future__ import annotations

import numpy as np

from qtc.errors import QtcError
from qtc.manifest.regime import NoRegime, RegimeSpec, VixRegime, YieldCurveRegime


def cap_weights(weights: np.ndarray, cap: float) -> np.ndarray:
    """Cap every weight at `cap` and redistribute the excess pro rata (water-filling).

    Row by row: names whose weight would exceed `cap` are fixed at `cap`; the room left
    (`row total - cap x capped names`) is shared by the other held names in proportion to
    their input weights; repeated until no name exceeds the cap (at most N rounds, all
    rows at once). Example: `[0.5, 0.3, 0.2]` with cap 0.4 gives `[0.4, 0.36, 0.24]`.

    If `cap x held names` is below the row total the row cannot stay fully invested:
    every held name gets exactly `cap` and the rest is cash. Zeros stay zero, and a
    larger input weight never gets a smaller output weight.

    Args:
        weights: (R, N) or (N,) non-negative weights; rows normally sum to 1 (or 0).
        cap: Largest weight of any one name, > 0.

    Returns:
        Array of the input's shape; each row sums to `min(row total, cap x held names)`
        (so `min(1, cap x count)` for fully invested input) and no weight exceeds `cap`.

    Raises:
        ValueError: If `cap <= 0`, the array is not 1-D/2-D, or a weight is negative or
            not finite.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim not in (1, 2):
        raise ValueError(f"weights must be 1-D or 2-D, got shape {w.shape}")
    if not cap > 0:
        raise ValueError(f"cap must be > 0, got {cap}")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be finite and non-negative")
    w2 = np.atleast_2d(w)
    held = w2 > 0
    total = w2.sum(axis=1)
    target = np.minimum(total, cap * held.sum(axis=1))
    capped = np.zeros_like(held)
    trial = w2
    for _ in range(w2.shape[1] + 1):
        free = held & ~capped
        free_sum = np.where(free, w2, 0.0).sum(axis=1)
        room = target - cap * capped.sum(axis=1)
        scale = np.divide(room, free_sum, out=np.zeros_like(room), where=free_sum > 0)
        trial = np.where(free, w2 * scale[:, None], 0.0)
        over = free & (trial > cap)
        if not over.any():
            break
        capped |= over
    out = np.where(capped, cap, trial)
    np.minimum(out, cap, out=out)  # guard against a last-bit rounding above the cap
    return out.reshape(w.shape)


def apply_regime(weights: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """Scale each rebalance's weights by its gross exposure; the rest is cash.

    Args:
        weights: (R, N) capped weights.
        exposure: (R,) gross exposure per rebalance, each in [0, 1].

    Returns:
        (R, N) weights, row r multiplied by `exposure[r]`.

    Raises:
        ValueError: If the shapes do not match or an exposure is outside [0, 1].
    """
    w = np.asarray(weights, dtype=np.float64)
    e = np.asarray(exposure, dtype=np.float64)
    if w.ndim != 2 or e.shape != (w.shape[0],):
        raise ValueError(f"exposure shape {e.shape} does not match weights {w.shape}")
    if not ((e >= 0) & (e <= 1)).all():
        raise ValueError("exposure must be within [0, 1]")
    return w * e[:, None]


def macro_key(tenor: str) -> str:
    """Name of the lake's `macro` column for a treasury tenor: `"3m"` -> `"y_3m"`."""
    return f"y_{tenor}"


def regime_exposure(
    spec: RegimeSpec, macro: dict[str, np.ndarray], signal_rows: np.ndarray
) -> np.ndarray:
    """Gross exposure per rebalance from the regime overlay; see `regime_exposure_with_notes`."""
    return regime_exposure_with_notes(spec, macro, signal_rows)[0]


def regime_exposure_with_notes(
    spec: RegimeSpec, macro: dict[str, np.ndarray], signal_rows: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """Gross exposure per rebalance from the macro series known on each signal date.

    The signal on rebalance r is the mean of the series over the `smoothing_days` rows
    ending at `signal_rows[r]` inclusive (never a later row). Rows before the first
    panel row and missing (NaN) values are left out of the mean; the lake already
    forward-fills macro series point in time up to a staleness limit, so a NaN means
    "not known". A window with no value at all is a missing signal: exposure 1 (fully
    invested), and the count of such rebalances is reported in the notes.

    * `none`: exposure 1 everywhere.
    * `vix`: `mean(vix) > threshold` -> `exposure`, else 1.
    * `yield_curve`: spread `y_<long> - y_<short>` per row (missing if either leg is),
      then smoothed the same way; `spread < threshold` -> `exposure`, else 1.

    Args:
        spec: The `[regime]` section.
        macro: (T,) series aligned to the panel dates, keyed by the lake's `macro`
            column names (`vix`, `y_1m` ... `y_30y`, see `macro_key`).
        signal_rows: (R,) row of each rebalance's signal date.

    Returns:
        `(exposure, notes)`: (R,) float64 exposure in [0, 1] and human-readable notes
        (empty when every signal was known).

    Raises:
        QtcError: If a series the overlay needs is not in `macro`.
        ValueError: If a signal row is outside the series.
    """
    rows = np.asarray(signal_rows, dtype=np.int64)
    if isinstance(spec, NoRegime):
        return np.ones(rows.shape[0]), []
    if isinstance(spec, VixRegime):
        series = _series(macro, "vix", spec.kind)
        label = "vix"
    elif isinstance(spec, YieldCurveRegime):
        long_leg = _series(macro, macro_key(spec.long), spec.kind)
        short_leg = _series(macro, macro_key(spec.short), spec.kind)
        if long_leg.shape != short_leg.shape:
            raise ValueError("yield series have different lengths")
        series = long_leg - short_leg
        label = f"{macro_key(spec.long)} - {macro_key(spec.short)}"
    else:  # pragma: no cover - exhaustive over RegimeSpec
        raise TypeError(f"unknown regime spec {type(spec).__name__}")
    if rows.size and (rows.min() < 0 or rows.max() >= series.shape[0]):
        raise ValueError("signal row outside the macro series")
    smoothed = _trailing_mean(series, rows, spec.smoothing_days)
    missing = np.isnan(smoothed)
    if isinstance(spec, VixRegime):
        risk_off = smoothed > spec.threshold
    else:
        risk_off = smoothed < spec.threshold
    exposure = np.where(risk_off & ~missing, spec.exposure, 1.0)
    notes: list[str] = []
    if missing.any():
        notes.append(
            f"regime {spec.kind}: {label} unknown on {int(missing.sum())} of {rows.size} "
            "signal dates; fully invested on those"
        )
    return exposure, notes


def _series(macro: dict[str, np.ndarray], key: str, kind: str) -> np.ndarray:
    """One macro series as float64, or a clear error when the lake has none."""
    if key not in macro:
        raise QtcError(
            f"regime {kind!r} needs the macro series {key!r}, which is not loaded",
            hint="build the lake with the `macro` dataset (VIX and treasury yields)",
        )
    return np.asarray(macro[key], dtype=np.float64)


def _trailing_mean(series: np.ndarray, rows: np.ndarray, days: int) -> np.ndarray:
    """Mean of the known values in `series[row - days + 1 : row + 1]` per row; NaN if none."""
    idx = rows[:, None] - (days - 1) + np.arange(days)[None, :]
    inside = idx >= 0
    vals = series[np.clip(idx, 0, None)]
    known = inside & np.isfinite(vals)
    count = known.sum(axis=1)
    total = np.where(known, vals, 0.0).sum(axis=1)
    out: np.ndarray = np.divide(total, count, out=np.full(rows.shape[0], np.nan), where=count > 0)
    return out
