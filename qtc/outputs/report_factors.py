"""The report's factor tear sheet: what `qtc validate` found, beside the run it validated.

A run written by `qtc validate --report` lives in `<validation>/run/`; when the folder
above a run holds a validate.json whose `run_id` is the run's, the report gains the
"Factors" section: the gates, every signal's IC figures at the gate horizon, the rank IC
per signal date with its rolling mean (one year of signal dates), the IC decay across
horizons, the mean forward return by quantile of the score, the cumulative return of
each quantile, the walk-forward fold table and the signals' correlation matrix. Any
other run renders exactly as before (no section, no link).

Only the validation's own files are read (validate.json, ic.parquet, cumulative.parquet);
nothing is recomputed but the rolling mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qtc.outputs import validation_files as files

if TYPE_CHECKING:
    from qtc.outputs.report_cache import ReportCache

DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class FactorSection:
    """Everything the factor section shows.

    Attributes:
        doc: The validation's validate.json.
        horizon: The gate horizon (the signal table and IC chart use it).
        signals: One row per signal: name, weight and the figures at `horizon`.
        decay: One row per signal: its mean rank IC at each horizon.
        charts: Chart name -> inline SVG (None when there is nothing to draw).
        window: Signal dates in the rolling mean of the IC chart.
    """

    doc: dict[str, Any]
    horizon: int
    signals: list[dict[str, Any]]
    decay: list[dict[str, Any]]
    charts: dict[str, str | None] = field(default_factory=dict)
    window: int = 0


def factor_section(
    run_dir: Path, run_id: str, cache: ReportCache | None = None
) -> FactorSection | None:
    """The factor section of a run validated by `qtc validate --report` (else None)."""
    folder = Path(run_dir).resolve().parent
    if not files.is_validation(folder):
        return None
    doc = files.read_validation(folder)
    if doc.get("run_id") != run_id:
        return None
    horizon = int(doc["settings"]["gate_horizon"])
    signals = [_signal_row(s, horizon) for s in doc["signals"]]
    decay = [
        {"name": s["name"], "values": [h["rank_ic"]["mean"] for h in s["horizons"]]}
        for s in doc["signals"]
    ]
    from markupsafe import Markup

    window, charts = _charts(folder, doc, horizon, decay, cache)
    shown: dict[str, str | None] = {k: Markup(v) if v else None for k, v in charts.items()}
    return FactorSection(doc, horizon, signals, decay, shown, window)


def _signal_row(signal: dict[str, Any], horizon: int) -> dict[str, Any]:
    """A signal's figures at the gate horizon."""
    at = next(h for h in signal["horizons"] if h["horizon"] == horizon)
    return {
        "name": signal["name"],
        "kind": signal["kind"],
        "weight": signal["weight"],
        "rank_ic": at["rank_ic"],
        "ic": at["ic"],
        "spread": at["spread"],
        "turnover": signal["top_turnover"],
        "autocorrelation": signal["autocorrelation"],
        "coverage": signal["coverage"]["mean"],
    }


def _charts(
    folder: Path,
    doc: dict[str, Any],
    horizon: int,
    decay: list[dict[str, Any]],
    cache: ReportCache | None,
) -> tuple[int, dict[str, str | None]]:
    """The rolling window and the four charts."""
    import polars as pl

    from qtc.outputs import charts_factors as charts
    from qtc.outputs.report_cache import ReportCache

    draw = (cache or ReportCache(None)).chart
    ic = files.read_table(folder, "ic.parquet").filter(
        (pl.col("kind") == "score") & (pl.col("horizon") == horizon)
    )
    dates = ic["date"].to_numpy().astype("datetime64[D]")
    rank_ic = ic["rank_ic"].to_numpy().astype(np.float64)
    window = year_of_dates(dates)
    cumulative = files.read_table(folder, "cumulative.parquet").filter(pl.col("kind") == "score")
    n_q = int(doc["settings"]["n_quantiles"])
    growth = cumulative["growth"].to_numpy().astype(np.float64).reshape(-1, n_q)
    horizons = [int(h) for h in doc["settings"]["horizons"]]
    score = doc["signals"][0]
    return window, {
        "ic": draw(
            charts.ic_chart,
            dates,
            rank_ic,
            rolling_mean(rank_ic, window),
            window=window,
            horizon=horizon,
        ),
        "decay": draw(charts.decay_chart, horizons, [(d["name"], d["values"]) for d in decay]),
        "quantiles": draw(
            charts.quantile_chart, horizons, [h["quantile_means"] for h in score["horizons"]]
        ),
        "cumulative": draw(charts.cumulative_chart, dates, growth),
    }


def year_of_dates(dates: np.ndarray) -> int:
    """How many signal dates make about a year (at least 2)."""
    if dates.size < 2:
        return 2
    days = float((dates[-1] - dates[0]).astype("int64"))
    per_year = (dates.size - 1) / max(days / DAYS_PER_YEAR, 1e-9)
    return max(2, min(round(per_year), dates.size))


def rolling_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the finite values among the last `window` (NaN until `window` dates passed)."""
    ok = np.isfinite(values)
    sums = np.concatenate([[0.0], np.cumsum(np.where(ok, values, 0.0))])
    counts = np.concatenate([[0], np.cumsum(ok)])
    out = np.full(values.size, np.nan)
    if values.size < window:
        return out
    total = sums[window:] - sums[:-window]
    count = counts[window:] - counts[:-window]
    with np.errstate(invalid="ignore", divide="ignore"):
        out[window - 1 :] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return out
