"""Layer (c): two backtest run folders compared.

* Metrics: the headline figures of both run.json files, with B - A.
* Years: per calendar year, each side's return (year-end equity over the previous
  year-end's, or over the first day's equity in the first year) and its worst drawdown
  within the year (below the running peak since the window's start).
* Holdings overlap per rebalance, from targets.parquet, on every signal date both runs
  have targets for: Jaccard (names held by both / names held by either) and shared weight
  (the sum over names of the smaller of the two target weights: 1 for the same book,
  0 for disjoint books). Signal dates with targets on one side only are listed apart.
* The last rebalance: each side's target weights on its last signal date, and the
  symbols whose weight differs (the orders that differ), largest change first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qtc.review.model import MetricRow, Overlap, Results, RunRef, Series, WeightDiff, YearRow

METRICS: tuple[tuple[str, str, str, str], ...] = (
    ("total return", "strategy", "total_return", "pct"),
    ("CAGR", "strategy", "cagr", "pct"),
    ("volatility", "strategy", "volatility", "pct"),
    ("Sharpe", "strategy", "sharpe", "num"),
    ("Sortino", "strategy", "sortino", "num"),
    ("max drawdown", "strategy", "max_drawdown", "pct"),
    ("Calmar", "strategy", "calmar", "num"),
    ("alpha", "relative", "alpha", "pct"),
    ("beta", "relative", "beta", "num"),
    ("information ratio", "relative", "information_ratio", "num"),
    ("tracking error", "relative", "tracking_error", "pct"),
    ("turnover / year", "activity", "turnover", "pct"),
    ("turnover / rebalance", "activity", "turnover_per_rebalance", "pct"),
    ("costs paid", "activity", "cost_paid", "usd"),
    ("average holdings", "activity", "avg_holdings", "num"),
)
"""(label, run.json metrics section, key, unit) of every metric compared."""

WEIGHT_TOLERANCE = 1e-9
"""Target weights closer than this are the same (no order)."""


def compare_runs(folder_a: Path, folder_b: Path) -> Results:
    """Compare two backtest run folders.

    Raises:
        UserError: If a folder is not a readable run of this qtc.
    """
    from qtc.outputs.artifacts import read_run

    doc_a, doc_b = read_run(folder_a), read_run(folder_b)
    dates_a, equity_a = _equity(folder_a)
    dates_b, equity_b = _equity(folder_b)
    targets_a, targets_b = _targets(folder_a), _targets(folder_b)
    overlaps, only_a, only_b = overlap_by_rebalance(targets_a, targets_b)
    last_a, last_b = max(targets_a, default=None), max(targets_b, default=None)
    return Results(
        run_a=_ref(folder_a, doc_a),
        run_b=_ref(folder_b, doc_b),
        metrics=metric_rows(doc_a["metrics"], doc_b["metrics"]),
        years=year_rows(dates_a, equity_a, dates_b, equity_b),
        overlaps=overlaps,
        only_a=only_a,
        only_b=only_b,
        last_a=last_a,
        last_b=last_b,
        last_changes=weight_changes(
            targets_a.get(last_a, {}) if last_a else {}, targets_b.get(last_b, {}) if last_b else {}
        ),
        series=Series(dates_a, equity_a, dates_b, equity_b),
    )


def _ref(folder: Path, doc: dict[str, Any]) -> RunRef:
    """The run's id, folder, window and data."""
    window = doc["window"]
    return RunRef(
        doc["run_id"], str(folder), window["start"], window["end"], window["rebalances"],
        dict(doc["dataset_hashes"]),
    )  # fmt: skip


def metric_rows(a: dict[str, Any], b: dict[str, Any]) -> list[MetricRow]:
    """The headline metrics of both runs."""

    def pick(doc: dict[str, Any], section: str, key: str) -> float | None:
        value = (doc.get(section) or {}).get(key)
        return float(value) if isinstance(value, int | float) else None

    return [
        MetricRow(label, key, unit, pick(a, section, key), pick(b, section, key))
        for label, section, key, unit in METRICS
    ]


def _equity(folder: Path) -> tuple[list[str], list[float]]:
    """Dates (ISO) and equity of a run's equity.parquet."""
    import polars as pl

    frame = pl.read_parquet(folder / "equity.parquet", columns=["date", "equity"])
    return [str(d) for d in frame["date"].to_list()], [float(v) for v in frame["equity"]]


def _targets(folder: Path) -> dict[str, dict[str, float]]:
    """Signal date -> {symbol: target weight} (non-zero weights only)."""
    import polars as pl

    frame = pl.read_parquet(
        folder / "targets.parquet", columns=["signal_date", "symbol", "target_weight"]
    )
    out: dict[str, dict[str, float]] = {}
    for date, symbol, weight in frame.iter_rows():
        if abs(weight) > WEIGHT_TOLERANCE:
            out.setdefault(str(date), {})[symbol] = float(weight)
    return out


def year_rows(
    dates_a: list[str], equity_a: list[float], dates_b: list[str], equity_b: list[float]
) -> list[YearRow]:
    """Each calendar year's return and worst drawdown on both sides."""
    years_a, years_b = by_year(dates_a, equity_a), by_year(dates_b, equity_b)
    rows = []
    for year in sorted({*years_a, *years_b}):
        ra, da = years_a.get(year, (None, None))
        rb, db = years_b.get(year, (None, None))
        rows.append(YearRow(year, ra, rb, da, db))
    return rows


def by_year(dates: list[str], equity: list[float]) -> dict[int, tuple[float, float]]:
    """Year -> (return over the year, worst drawdown within it) of one equity curve."""
    out: dict[int, tuple[float, float]] = {}
    if not dates:
        return out
    base, peak = equity[0], equity[0]
    year, worst, last = int(dates[0][:4]), 0.0, equity[0]
    for date, value in zip(dates, equity, strict=True):
        if int(date[:4]) != year:
            out[year] = (last / base - 1.0, worst)
            year, worst, base = int(date[:4]), 0.0, last
        peak = max(peak, value)
        worst = max(worst, 1.0 - value / peak)
        last = value
    out[year] = (last / base - 1.0, worst)
    return out


def overlap_by_rebalance(
    a: dict[str, dict[str, float]], b: dict[str, dict[str, float]]
) -> tuple[list[Overlap], list[str], list[str]]:
    """The overlap on every signal date both sides have, and the dates on one side only."""
    rows = [overlap(date, a[date], b[date]) for date in sorted(set(a) & set(b))]
    return rows, sorted(set(a) - set(b)), sorted(set(b) - set(a))


def overlap(date: str, a: dict[str, float], b: dict[str, float]) -> Overlap:
    """Jaccard and shared weight of two target books on one date."""
    common = set(a) & set(b)
    either = set(a) | set(b)
    shared = sum(min(a[s], b[s]) for s in common if a[s] > 0 and b[s] > 0)
    jaccard = len(common) / len(either) if either else 1.0
    return Overlap(date, len(a), len(b), len(common), jaccard, shared)


def weight_changes(a: dict[str, float], b: dict[str, float]) -> list[WeightDiff]:
    """Symbols whose target weight differs, largest absolute change first."""
    rows = [
        WeightDiff(symbol, a.get(symbol, 0.0), b.get(symbol, 0.0))
        for symbol in sorted(set(a) | set(b))
        if abs(b.get(symbol, 0.0) - a.get(symbol, 0.0)) > WEIGHT_TOLERANCE
    ]
    return sorted(rows, key=lambda w: (-round(abs(w.delta), 12), w.symbol))


def data_warning(a: RunRef, b: RunRef) -> str | None:
    """A warning naming each dataset whose hash differs between the runs (None if none)."""
    names = sorted(set(a.dataset_hashes) | set(b.dataset_hashes))
    differ = [n for n in names if a.dataset_hashes.get(n) != b.dataset_hashes.get(n)]
    if not differ:
        return None
    shown = "; ".join(
        f"{n} {_hash(a.dataset_hashes, n)} vs {_hash(b.dataset_hashes, n)}" for n in differ
    )
    return (
        f"the two runs were made on different data ({shown}): results differ by the data "
        "as well as by the strategy; run both on one lake (--lake) to compare the change alone"
    )


def _hash(hashes: dict[str, str], name: str) -> str:
    """A dataset's hash, first 12 digits (or `absent`)."""
    return hashes[name][:12] if name in hashes else "absent"
