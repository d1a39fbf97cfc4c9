"""Score: normalize factors per signal date and combine them into one score.

Requires factor panels and the eligibility mask. Produces an (R, N) score
array, NaN for ineligible symbols. `zscore`: (x - mean) / std across eligible
symbols on the date (ddof=0), clipped at +/- `winsorize`; `rank`: percentile
rank in [-0.5, 0.5]. `sector` neutralization subtracts the sector mean of each
normalized factor. The composite is the weighted sum; with `missing = "drop"`
a symbol missing any weighted factor gets no score, with `"zero"` a missing
factor counts as 0 (neutral). `full_sample` normalization (flagged as
lookahead by the lint) uses mean/std over all dates.
"""

from __future__ import annotations

import numpy as np

from qtc.compile.stages import Score


def score(
    spec: Score,
    factors: dict[str, np.ndarray],
    rows: np.ndarray,
    eligible: np.ndarray,
    sectors: list[str],
) -> np.ndarray:
    """Composite scores on signal rows, (R, N)."""
    total = np.zeros(eligible.shape)
    present = np.zeros(eligible.shape, dtype=np.int64)
    complete = np.ones(eligible.shape, bool)
    for name, weight in spec.factor_weights.items():
        if weight == 0:
            continue
        x = np.where(eligible, factors[name][rows], np.nan)
        z = _normalize(x, spec)
        if spec.scoring.neutralize == "sector":
            z = _neutralize(z, sectors)
        ok = np.isfinite(z)
        total += np.where(ok, weight * z, 0.0)
        present += ok
        complete &= ok
    keep = complete if spec.scoring.missing == "drop" else present > 0
    return np.where(eligible & keep, total, np.nan)


def _normalize(x: np.ndarray, spec: Score) -> np.ndarray:
    """Per-date (or full-sample) z-score or centered percentile rank."""
    if spec.scoring.method == "rank":
        return _rank(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        if spec.scoring.normalization == "full_sample":
            mean, std = np.nanmean(x), np.nanstd(x)
        else:
            mean = _row_stat(np.nanmean, x)
            std = _row_stat(np.nanstd, x)
        z: np.ndarray = (x - mean) / np.where(std > 0, std, np.nan)
    if spec.scoring.winsorize is not None:
        z = np.clip(z, -spec.scoring.winsorize, spec.scoring.winsorize)
    return z


def _row_stat(fn: object, x: np.ndarray) -> np.ndarray:
    """A nan-aware statistic per row as a column vector (NaN for empty rows, no warning)."""
    out = np.full((x.shape[0], 1), np.nan)
    rows = np.isfinite(x).any(axis=1)
    if rows.any():
        out[rows, 0] = fn(x[rows], axis=1)  # type: ignore[operator]
    return out


def _rank(x: np.ndarray) -> np.ndarray:
    """Percentile rank per row in [-0.5, 0.5] (ties get their average rank)."""
    out = np.full(x.shape, np.nan)
    for r in range(x.shape[0]):
        ok = np.isfinite(x[r])
        n = int(ok.sum())
        if n == 0:
            continue
        values = x[r, ok]
        order = np.argsort(values, kind="stable")
        ranks = np.empty(n)
        ranks[order] = np.arange(n, dtype=float)
        inverse = np.unique(values, return_inverse=True)[1]
        avg = np.bincount(inverse, ranks) / np.bincount(inverse)
        out[r, ok] = (avg[inverse] / (n - 1) - 0.5) if n > 1 else 0.0
    return out


def _neutralize(z: np.ndarray, sectors: list[str]) -> np.ndarray:
    """Subtract each sector's mean score per row."""
    out = z.copy()
    labels = np.asarray(sectors)
    for sector in np.unique(labels):
        cols = labels == sector
        block = z[:, cols]
        with np.errstate(invalid="ignore"):
            mean = _row_stat(np.nanmean, block)
        out[:, cols] = block - mean
    return out
