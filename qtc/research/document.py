"""A validation as data: validate.json and its Parquet tables.

The layout is `qtc.outputs.validation_files`. Floats that are not finite become null;
dates are ISO strings in JSON and `Date` columns in Parquet. Nothing volatile is in here
(time and command line go to meta.json), so the same validation on the same data gives
the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import polars as pl

from qtc.outputs.artifacts import json_safe
from qtc.outputs.validation_files import ARTIFACT, SCHEMA_VERSION
from qtc.research.factor_stats import SignalStudy
from qtc.research.result import Validation
from qtc.research.walkforward import WalkForward


def document(v: Validation, validation_id: str) -> dict[str, Any]:
    """validate.json."""
    dates = v.signals.dates
    doc = {
        "artifact": ARTIFACT,
        "schema_version": SCHEMA_VERSION,
        "validation_id": validation_id,
        "strategy": v.strategy,
        "plan_fingerprint": v.plan_fingerprint,
        "run_id": v.run_id,
        "as_of": v.as_of,
        "window": {"start": v.window[0], "end": v.window[1]},
        "request": v.request.as_dict(),
        "settings": v.settings.as_dict(),
        "signal_dates": {
            "count": int(dates.size),
            "first": _iso(dates[0]),
            "last": _iso(dates[-1]),
            "every_day": v.signals.every_day,
            "execution_lag": v.signals.lag,
        },
        "signals": [_signal(s) for s in v.research.studies],
        "correlation": {
            "names": [s.name for s in v.research.studies],
            "matrix": v.research.correlation,
        },
        "walk_forward": _walk(v.walk, v.days),
        "backtest": v.backtest,
        "bias": v.bias.as_dict() if v.bias is not None else None,
        "gates": [g.as_dict() for g in v.gates],
        "passed": v.passed,
        "dataset_hashes": v.dataset_hashes,
        "versions": v.versions,
        "warnings": v.warnings,
    }
    safe: dict[str, Any] = json_safe(doc)
    return safe


def _signal(s: SignalStudy) -> dict[str, Any]:
    """One signal's summary."""
    return {
        "kind": s.kind,
        "name": s.name,
        "weight": s.weight,
        "horizons": [
            {
                "horizon": h.horizon,
                "ic": h.ic_summary.as_dict(),
                "rank_ic": h.rank_ic_summary.as_dict(),
                "quantile_means": h.mean_by_quantile(),
                "spread": h.mean_spread(),
            }
            for h in s.horizons
        ],
        "autocorrelation": _mean(s.autocorrelation),
        "top_turnover": _mean(s.turnover),
        "coverage": {"mean": _mean(s.coverage), "min": _min(s.coverage)},
    }


def _walk(w: WalkForward, days: np.ndarray) -> dict[str, Any]:
    """The walk-forward's summary and fold table."""
    first, stop = w.oos_days
    return {
        "scheme": w.scheme,
        "folds": len(w.folds),
        "objective": w.objective.label,
        "reselect": w.reselect,
        "candidates": w.n_candidates,
        "out_of_sample": {
            "start": _iso(days[first]),
            "end": _iso(days[stop - 1]),
            "days": stop - first,
            **w.oos,
        },
        "in_sample": w.in_sample,
        "efficiency": w.efficiency,
        "table": [
            {
                "fold": f.fold.number,
                "train": [_iso(days[f.fold.train[0]]), _iso(days[f.fold.train[1] - 1])],
                "test": [_iso(days[f.fold.test[0]]), _iso(days[f.fold.test[1] - 1])],
                "trial": f.chosen,
                "params": f.params,
                "in_sample": f.in_sample,
                "out_of_sample": f.out_of_sample,
            }
            for f in w.folds
        ],
    }


def tables(v: Validation) -> dict[str, pl.DataFrame]:
    """The Parquet tables, by file name."""
    return {
        "ic.parquet": _ic_table(v),
        "quantiles.parquet": _quantile_table(v),
        "cumulative.parquet": _cumulative_table(v),
        "stability.parquet": _stability_table(v),
        "folds.parquet": _folds_table(v.walk, v.days),
        "oos.parquet": _oos_table(v.walk, v.days),
    }


def _ic_table(v: Validation) -> pl.DataFrame:
    """Per signal, horizon and date: IC, rank IC, spread."""
    parts = [
        _frame(
            s,
            v.signals.dates,
            {"horizon": h.horizon, "ic": h.ic, "rank_ic": h.rank_ic, "spread": h.spread},
        )
        for s in v.research.studies
        for h in s.horizons
    ]
    return pl.concat(parts)


def _quantile_table(v: Validation) -> pl.DataFrame:
    """Per signal, horizon, date and quantile: the bucket's mean forward return."""
    parts = []
    for s in v.research.studies:
        for h in s.horizons:
            q = h.quantile_means.shape[1]
            parts.append(
                _long(s, v.signals.dates, h.quantile_means, "mean_return", horizon=h.horizon, q=q)
            )
    return pl.concat(parts)


def _cumulative_table(v: Validation) -> pl.DataFrame:
    """Per signal, date and quantile: growth of 1 over holding periods."""
    q = v.settings.n_quantiles
    parts = [_long(s, v.signals.dates, s.cumulative, "growth", q=q) for s in v.research.studies]
    return pl.concat(parts)


def _stability_table(v: Validation) -> pl.DataFrame:
    """Per signal and date: rank autocorrelation, top-quantile turnover, coverage."""
    return pl.concat(
        [
            _frame(
                s,
                v.signals.dates,
                {
                    "autocorrelation": s.autocorrelation,
                    "top_turnover": s.turnover,
                    "coverage": s.coverage,
                },
            )
            for s in v.research.studies
        ]
    )


def _folds_table(w: WalkForward, days: np.ndarray) -> pl.DataFrame:
    """One row per fold."""
    edges = {
        "train_start": [f.fold.train[0] for f in w.folds],
        "train_end": [f.fold.train[1] - 1 for f in w.folds],
        "test_start": [f.fold.test[0] for f in w.folds],
        "test_end": [f.fold.test[1] - 1 for f in w.folds],
    }
    data: dict[str, Any] = {"fold": [f.fold.number for f in w.folds]}
    data.update(
        {name: _dates(days[np.array(rows, dtype=np.int64)]) for name, rows in edges.items()}
    )
    data["trial"] = [f.chosen for f in w.folds]
    data["params"] = [json.dumps(f.params, sort_keys=True, default=str) for f in w.folds]
    for prefix, side in (("is", "in_sample"), ("oos", "out_of_sample")):
        for name in w.folds[0].in_sample:
            data[f"{prefix}_{name}"] = pl.Series(
                [_float(getattr(f, side).get(name)) for f in w.folds], dtype=pl.Float64
            )
    return pl.DataFrame(data)


def _oos_table(w: WalkForward, days: np.ndarray) -> pl.DataFrame:
    """Per out-of-sample day: fold, return and stitched equity (starting at 1)."""
    first, stop = w.oos_days
    fold = np.concatenate(
        [np.full(f.fold.test[1] - f.fold.test[0], f.fold.number) for f in w.folds]
    )
    return pl.DataFrame(
        {
            "date": _dates(days[first:stop]),
            "fold": fold.astype(np.int32),
            "return": w.oos_returns,
            "equity": np.cumprod(1.0 + w.oos_returns),
        }
    )


def _frame(s: SignalStudy, dates: np.ndarray, columns: dict[str, Any]) -> pl.DataFrame:
    """Rows of one signal on the signal dates; scalar columns broadcast."""
    n = dates.size
    data: dict[str, Any] = {
        "kind": [s.kind] * n,
        "name": [s.name] * n,
    }
    for key, value in columns.items():
        data[key] = np.full(n, value, dtype=np.int32) if isinstance(value, int) else value
    data["date"] = _dates(dates)
    order = ["kind", "name", *[k for k in columns if isinstance(columns[k], int)], "date"]
    order += [k for k in columns if not isinstance(columns[k], int)]
    return pl.DataFrame(data).select(order)


def _long(
    s: SignalStudy,
    dates: np.ndarray,
    matrix: np.ndarray,
    column: str,
    *,
    q: int,
    horizon: int | None = None,
) -> pl.DataFrame:
    """A (R, q) matrix as rows (date, quantile 1..q, value)."""
    n = dates.size
    data: dict[str, Any] = {"kind": [s.kind] * n * q, "name": [s.name] * n * q}
    if horizon is not None:
        data["horizon"] = np.full(n * q, horizon, dtype=np.int32)
    data["date"] = _dates(np.repeat(dates, q))
    data["quantile"] = np.tile(np.arange(1, q + 1, dtype=np.int32), n)
    data[column] = matrix.reshape(-1)
    return pl.DataFrame(data)


def _dates(values: np.ndarray) -> pl.Series:
    """datetime64[D] as a polars Date series."""
    return pl.Series(values.astype("datetime64[D]")).cast(pl.Date)


def _iso(day: Any) -> str:
    """A datetime64 as YYYY-MM-DD."""
    return str(np.datetime64(day, "D"))


def _float(value: Any) -> float | None:
    """A figure as a float column value."""
    return None if value is None else float(value)


def _mean(series: np.ndarray) -> float | None:
    """Mean of the finite values."""
    kept = series[np.isfinite(series)]
    return float(kept.mean()) if kept.size else None


def _min(series: np.ndarray) -> float | None:
    """Minimum of the finite values."""
    kept = series[np.isfinite(series)]
    return float(kept.min()) if kept.size else None
