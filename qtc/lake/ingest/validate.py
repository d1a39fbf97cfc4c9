"""Validation of price panels and other datasets: findings, rules, severities.

A `Finding` names the dataset, the rule, the severity, the symbol and the date
(the first one, for a run of consecutive rows) and a detail line. Error findings
make an ingest refuse (`LakeValidationError`, nothing is written); warnings are
recorded in the catalog as counts per rule and returned to the caller.

Price rules (`check_prices`), all vectorized in polars on a frame sorted by
`(symbol, date)`; row rules report runs of consecutive rows of one symbol as
one finding dated on the first row of the run:

=====================  ========  ===============================================
rule                   severity  meaning
=====================  ========  ===============================================
duplicate              error     more than one row for a `(symbol, date)`
null                   error     null or NaN in a required column
non_positive_price     error     open/high/low/close/adj_close <= 0
negative_volume        error     volume < 0
high_below_low         error     high < low
close_outside_range    warning   close outside [low, high] by more than a
                                 relative tolerance (default 1e-5)
gap                    warning   trading days of the calendar missing strictly
                                 inside a symbol's own first..last date range
stale                  warning   close unchanged for >= `stale_days` rows
extreme_move           warning   abs(adj_close return) > `max_abs_return`
zero_volume            warning   volume == 0
=====================  ========  ===============================================

The calendar for gaps is the union of the frame's dates unless one is given.
Real data has genuine extreme moves (spin-offs, crashes), so they only warn.

`check_price_batches` runs the same rules on a panel given in batches of whole symbols
(a streamed ingest); each rule's results are joined as if the panel were one frame, so
the findings and their order are the same as `check_prices` gives.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from qtc.errors import Severity, UserError
from qtc.lake.schema import BAR_COLUMNS, PRICE_FIELDS, DatasetSpec

ERROR = Severity.ERROR
WARNING = Severity.WARNING

RULES: dict[str, Severity] = {
    "duplicate": ERROR,
    "null": ERROR,
    "non_positive_price": ERROR,
    "negative_volume": ERROR,
    "high_below_low": ERROR,
    "close_outside_range": WARNING,
    "gap": WARNING,
    "stale": WARNING,
    "extreme_move": WARNING,
    "zero_volume": WARNING,
    "missing_file": ERROR,
    "file_hash_mismatch": ERROR,
    "schema_mismatch": ERROR,
    "row_count_mismatch": ERROR,
    "unreadable_file": ERROR,
}
"""Every rule and its severity (the last five are lake integrity rules)."""

_FRAME_SCHEMA = {"symbol": pl.String, "date": pl.Date, "detail": pl.String}


@dataclass(frozen=True, slots=True)
class Finding:
    """One validation problem.

    Attributes:
        dataset: Dataset name (`prices`, `benchmarks`, ...).
        rule: Rule name, a key of `RULES`.
        severity: Error (ingest refuses) or warning (recorded).
        symbol: The symbol concerned, if any.
        date: The (first) date concerned, if any.
        detail: What was found, in one line.
    """

    dataset: str
    rule: str
    severity: Severity
    symbol: str | None
    date: date | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """Return the finding as JSON-ready data."""
        return {
            "dataset": self.dataset,
            "rule": self.rule,
            "severity": self.severity.value,
            "symbol": self.symbol,
            "date": None if self.date is None else self.date.isoformat(),
            "detail": self.detail,
        }

    def __str__(self) -> str:
        """Render as `error prices/duplicate AAPL 2020-01-02: detail`."""
        parts = [self.severity.value, f"{self.dataset}/{self.rule}"]
        parts += [str(x) for x in (self.symbol, self.date) if x is not None]
        return f"{' '.join(parts)}: {self.detail}"


@dataclass(frozen=True, slots=True)
class CheckConfig:
    """Thresholds of the price rules.

    Attributes:
        stale_days: Minimum run of identical closes reported as stale.
        max_abs_return: One-day abs(return) above which a move is extreme.
        range_tolerance: Relative tolerance of the close-within-[low, high] rule.
        calendar: Trading dates for the gap rule; None = union of the frame's dates.
    """

    stale_days: int = 10
    max_abs_return: float = 0.40
    range_tolerance: float = 1e-5
    calendar: Sequence[date] | None = None


class LakeValidationError(UserError):
    """Ingest refused because the data has error findings; nothing was written."""

    def __init__(self, findings: Sequence[Finding], *, what: str = "ingest") -> None:
        """Create the error.

        Args:
            findings: All findings (errors and warnings) of the refused data.
            what: The refused operation, for the message.
        """
        errors = [f for f in findings if f.severity is ERROR]
        counts = ", ".join(f"{rule}: {n}" for rule, n in summarize(errors).items())
        shown = "\n".join(f"  {f}" for f in errors[:10])
        more = f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else ""
        super().__init__(
            f"{what} refused, nothing was written: {len(errors)} error finding(s) "
            f"({counts})\n{shown}{more}",
            hint="fix the source data and ingest again; the lake is unchanged",
        )
        self.findings = list(findings)


def summarize(findings: Iterable[Finding]) -> dict[str, int]:
    """Count findings per rule.

    Args:
        findings: Findings.

    Returns:
        Rule -> count, sorted by rule name.
    """
    return dict(sorted(Counter(f.rule for f in findings).items()))


def errors_in(findings: Iterable[Finding]) -> list[Finding]:
    """Return the error-severity findings.

    Args:
        findings: Findings.

    Returns:
        Those with severity error.
    """
    return [f for f in findings if f.severity is ERROR]


def check_prices(
    df: pl.DataFrame,
    *,
    dataset: str = "prices",
    config: CheckConfig | None = None,
    required: Sequence[str] = ("date", "symbol", *BAR_COLUMNS),
    required_any: Sequence[Sequence[str]] = (),
) -> list[Finding]:
    """Run every price rule on a long price panel.

    Args:
        df: Frame with `date, symbol, open, high, low, close, adj_close, volume`.
        dataset: Dataset name for the findings.
        config: Thresholds; defaults to `CheckConfig()`.
        required: Columns that must not be null/NaN.
        required_any: Groups of columns of which at least one must be non-null
            per row (benchmarks: `[("close", "adj_close")]`).

    Returns:
        Findings ordered by rule, then symbol and date.

    Raises:
        UserError: If a column is missing.
    """
    rules = PriceRules(dataset, config or CheckConfig(), tuple(required), tuple(required_any))
    return check_price_batches([df], rules)


@dataclass(frozen=True, slots=True)
class PriceRules:
    """The price rules' settings for one dataset.

    Attributes:
        dataset: Dataset name for the findings.
        config: Thresholds.
        required: Columns that must not be null/NaN.
        required_any: Groups of columns of which at least one must be non-null per row.
        calendar: Trading dates for the gap rule when `config.calendar` is None; None =
            the union of the dates of each batch (right for a single batch only).
    """

    dataset: str
    config: CheckConfig
    required: tuple[str, ...] = ("date", "symbol", *BAR_COLUMNS)
    required_any: tuple[Sequence[str], ...] = ()
    calendar: Sequence[date] | NDArray[np.datetime64] | None = None


def check_price_batches(batches: Iterable[pl.DataFrame], rules: PriceRules) -> list[Finding]:
    """Run every price rule on a panel given in batches of whole symbols.

    Every symbol's rows must be in one batch and the batches in symbol order; the result is
    then the same as `check_prices` on the whole panel (with the gap calendar given).

    Args:
        batches: Frames with the price columns; at least one.
        rules: Settings; `calendar` should be the panel's dates when there are several batches.

    Returns:
        Findings ordered by rule, then symbol and date.

    Raises:
        UserError: If a column is missing.
    """
    slots: dict[str, list[list[pl.DataFrame]]] = {}
    for batch in batches:
        for rule, parts in _rule_parts(batch, rules).items():
            held = slots.setdefault(rule, [[] for _ in parts])
            for slot, part in zip(held, parts, strict=True):
                slot.append(part)
    return [
        f
        for rule, held in slots.items()
        for f in to_findings(_combine(rule, held), rules.dataset, rule)
    ]


def _rule_parts(df: pl.DataFrame, rules: PriceRules) -> dict[str, list[pl.DataFrame]]:
    """Run every price rule on one batch, keeping each rule's parts apart.

    Args:
        df: The batch (whole symbols).
        rules: Settings.

    Returns:
        Rule -> result frames (one per column for `null` and `non_positive_price`).

    Raises:
        UserError: If a column is missing.
    """
    cfg = rules.config
    missing = [c for c in ("date", "symbol", *BAR_COLUMNS) if c not in df.columns]
    if missing:
        raise UserError(f"{rules.dataset}: missing column(s) {', '.join(missing)}")
    data = df.select("date", "symbol", *BAR_COLUMNS).sort("symbol", "date", nulls_last=True)
    tol = cfg.range_tolerance
    close_out = (pl.col("close") > pl.col("high") * (1 + tol)) | (
        pl.col("close") < pl.col("low") * (1 - tol)
    )
    calendar = cfg.calendar if cfg.calendar is not None else rules.calendar
    return {
        "duplicate": [_sorted_duplicates(data)],
        "null": _nulls(data, rules.required, rules.required_any),
        "non_positive_price": _non_positive(data),
        "negative_volume": [_runs(data, pl.col("volume") < 0, _fmt("volume {}", "volume"))],
        "high_below_low": [
            _runs(data, pl.col("high") < pl.col("low"), _fmt("high {} < low {}", "high", "low"))
        ],
        "close_outside_range": [
            _runs(
                data, close_out, _fmt("close {} outside [low {}, high {}]", "close", "low", "high")
            )
        ],
        "gap": [_gaps(data, calendar)],
        "stale": [_stale(data, cfg.stale_days)],
        "extreme_move": [_extreme_moves(data, cfg.max_abs_return)],
        "zero_volume": [_runs(data, pl.col("volume") == 0, pl.lit("volume 0"))],
    }


def _combine(rule: str, slots: list[list[pl.DataFrame]]) -> pl.DataFrame:
    """Join one rule's parts over the batches: part by part, batch order within a part.

    Args:
        rule: Rule name (`non_positive_price` results are sorted by symbol and date).
        slots: Per part, its frames in batch order.

    Returns:
        The rule's result frame for the whole panel.
    """
    joined = pl.concat([frame for slot in slots for frame in slot])
    if rule == "non_positive_price":
        return joined.sort("symbol", "date", nulls_last=True)
    return joined


def check_table(df: pl.DataFrame, ds: DatasetSpec) -> list[Finding]:
    """Check a non-price dataset: no duplicate keys, no nulls in key or date columns.

    Args:
        df: Frame in canonical shape.
        ds: Its dataset spec.

    Returns:
        Findings (errors).
    """
    date_col = ds.date_column
    view = df.with_columns(
        symbol=pl.col("symbol") if "symbol" in df.columns else pl.lit(None, pl.String),
        date=pl.col(date_col) if date_col else pl.lit(None, pl.Date),
    )
    checked = dict.fromkeys((*ds.key, *([date_col] if date_col else [])))
    nulls = [_runs(view, pl.col(c).is_null(), pl.lit(f"{c} null")) for c in checked]
    findings = to_findings(_duplicates(view, ds.key), ds.name, "duplicate")
    return findings + to_findings(pl.concat(nulls), ds.name, "null")


def to_findings(frame: pl.DataFrame, dataset: str, rule: str) -> list[Finding]:
    """Turn a rule's result frame (`symbol, date, detail`) into findings.

    Args:
        frame: Result rows of one rule.
        dataset: Dataset name.
        rule: Rule name (decides the severity).

    Returns:
        The findings.
    """
    severity = RULES[rule]
    return [
        Finding(dataset, rule, severity, symbol, day, detail)
        for symbol, day, detail in frame.select("symbol", "date", "detail").iter_rows()
    ]


def _empty() -> pl.DataFrame:
    """Return an empty rule result frame."""
    return pl.DataFrame(schema=_FRAME_SCHEMA)


def _fmt(template: str, *values: str | pl.Expr) -> pl.Expr:
    """Format a detail string from columns, printing null values as `null`.

    Built on `pl.concat_str` (polars' `pl.format` can panic on some inputs).

    Args:
        template: Text with one `{}` per value.
        values: Column names or expressions, in order.

    Returns:
        A string expression.
    """
    texts = template.split("{}")
    if len(texts) != len(values) + 1:
        raise ValueError(f"template {template!r} needs {len(texts) - 1} values")
    parts: list[pl.Expr] = [pl.lit(texts[0])]
    for value, text in zip(values, texts[1:], strict=True):
        expr = pl.col(value) if isinstance(value, str) else value
        parts += [expr.cast(pl.String).fill_null("null"), pl.lit(text)]
    return pl.concat_str(parts)


def _same_symbol() -> pl.Expr:
    """True where a row has the same symbol as the row before it."""
    return (pl.col("symbol") == pl.col("symbol").shift(1)).fill_null(False)


def _runs(data: pl.DataFrame, condition: pl.Expr, detail: pl.Expr) -> pl.DataFrame:
    """Group consecutive rows of one symbol where a condition holds into runs.

    Args:
        data: Frame sorted by `symbol, date`, with `symbol` and `date` columns.
        condition: Boolean expression (null counts as false).
        detail: Detail expression, evaluated on the first row of each run only.

    Returns:
        One row per run: `symbol`, `date` (first), `detail` (with the run
        length and last date appended when the run is longer than one row).
    """
    flagged = data.with_columns(__flag=condition.fill_null(False))
    if not flagged["__flag"].any():
        return _empty()
    new_run = (pl.col("__flag") != pl.col("__flag").shift(1)).fill_null(True) | ~_same_symbol()
    runs = (
        flagged.with_columns(__run=new_run.cum_sum())
        .filter("__flag")
        .group_by("__run", maintain_order=True)
        .agg(pl.all().first(), __last=pl.col("date").last(), __n=pl.len())
    )
    more = _fmt(" ({} consecutive rows through {})", "__n", "__last")
    out = pl.when(pl.col("__n") > 1).then(detail + more).otherwise(detail)
    return runs.select("symbol", "date", detail=out)


def _sorted_duplicates(data: pl.DataFrame) -> pl.DataFrame:
    """`_duplicates` of `(symbol, date)` in a frame sorted by them, quick when there are none.

    Equal keys are neighbours in sorted rows, so without equal neighbours (nulls counting
    as equal) there is no duplicate and the full search is skipped.

    Args:
        data: Frame sorted by `symbol, date`.

    Returns:
        One row per duplicated key.
    """
    symbol, day = pl.col("symbol"), pl.col("date")
    same = symbol.eq_missing(symbol.shift(1)) & day.eq_missing(day.shift(1))
    if not data.select(same.any()).item():
        return _empty()
    return _duplicates(data, ("symbol", "date"))


def _duplicates(data: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    """Find keys that occur on more than one row.

    Args:
        data: Frame with `symbol`, `date` and the key columns.
        keys: Key columns.

    Returns:
        One row per duplicated key.
    """
    dup = data.filter(pl.struct(*keys).is_duplicated())
    if dup.is_empty():
        return _empty()
    counted = dup.group_by(*keys, maintain_order=True).agg(
        __symbol=pl.col("symbol").first(), __date=pl.col("date").first(), __n=pl.len()
    )
    values = pl.concat_str([pl.col(k).cast(pl.String) for k in keys], separator=", ")
    detail = _fmt("{} rows with the same ({}) = ({})", "__n", pl.lit(", ".join(keys)), values)
    return counted.select(symbol="__symbol", date="__date", detail=detail)


def _nulls(
    data: pl.DataFrame, required: Sequence[str], required_any: Sequence[Sequence[str]]
) -> list[pl.DataFrame]:
    """Find null/NaN values in required columns.

    Args:
        data: Frame sorted by `symbol, date`.
        required: Columns that must not be null/NaN.
        required_any: Groups of which one column must be non-null per row.

    Returns:
        Per column (then per group), one row per run of nulls.
    """

    def missing(c: str) -> pl.Expr:
        col = pl.col(c)
        return col.is_null() | col.is_nan() if data.schema[c].is_float() else col.is_null()

    parts = [_runs(data, missing(c), pl.lit(f"null/NaN {c}")) for c in required]
    for group in required_any:
        cond = pl.all_horizontal(missing(c) for c in group)
        parts.append(_runs(data, cond, pl.lit(f"all of {', '.join(group)} null/NaN")))
    return parts or [_empty()]


def _non_positive(data: pl.DataFrame) -> list[pl.DataFrame]:
    """Find prices <= 0, per price column (`_combine` sorts them by symbol and date).

    Args:
        data: Frame sorted by `symbol, date`.

    Returns:
        Per price column, one row per run.
    """
    return [_runs(data, pl.col(c) <= 0, _fmt(f"{c} {{}} <= 0", c)) for c in PRICE_FIELDS]


def _gaps(
    data: pl.DataFrame, calendar: Sequence[date] | NDArray[np.datetime64] | None
) -> pl.DataFrame:
    """Find calendar days missing strictly inside each symbol's date range.

    Args:
        data: Frame sorted by `symbol, date`.
        calendar: Trading dates; None = union of the frame's dates.

    Returns:
        One row per gap, dated on the first missing day.
    """
    rows = data.filter(pl.col("date").is_not_null() & pl.col("symbol").is_not_null())
    if rows.height < 2:
        return _empty()
    dates = rows["date"].to_numpy()
    cal = np.unique(dates if calendar is None else np.asarray(calendar, dtype="datetime64[D]"))
    pos = np.searchsorted(cal, dates)
    same = rows.select(_same_symbol()).to_series().to_numpy()
    prev = np.concatenate(([0], pos[:-1]))
    missing = np.where(same, pos - prev - 1, 0)
    idx = np.flatnonzero(missing > 0)
    if idx.size == 0:
        return _empty()
    gaps = pl.DataFrame(
        {
            "symbol": rows["symbol"].gather(idx),
            "date": cal[prev[idx] + 1],
            "last": cal[pos[idx] - 1],
            "n": missing[idx],
        }
    )
    detail = _fmt("{} trading day(s) missing, {} .. {}", "n", "date", "last")
    return gaps.select("symbol", pl.col("date").cast(pl.Date), detail=detail)


def _stale(data: pl.DataFrame, min_days: int) -> pl.DataFrame:
    """Find runs of at least `min_days` identical closes.

    Args:
        data: Frame sorted by `symbol, date`.
        min_days: Minimum run length.

    Returns:
        One row per stale run, dated on its first day.
    """
    rows = data.filter(pl.col("close").is_not_null())
    new_run = (pl.col("close") != pl.col("close").shift(1)).fill_null(True) | ~_same_symbol()
    rows = rows.with_columns(run=new_run.cum_sum(), __more=~new_run)
    if min_days > 1:  # only runs of two rows or more can be reported: keep just their rows
        rows = rows.filter(pl.col("__more") | pl.col("__more").shift(-1).fill_null(False))
    runs = (
        rows.group_by("run", maintain_order=True)
        .agg(
            pl.col("symbol").first(),
            pl.col("date").first(),
            pl.col("close").first(),
            last=pl.col("date").last(),
            n=pl.len(),
        )
        .filter(pl.col("n") >= min_days)
    )
    detail = _fmt("close unchanged at {} for {} rows, {} .. {}", "close", "n", "date", "last")
    return runs.select("symbol", "date", detail=detail)


def _extreme_moves(data: pl.DataFrame, threshold: float) -> pl.DataFrame:
    """Find one-day moves of adj_close (close when adj_close is null) above a threshold.

    Args:
        data: Frame sorted by `symbol, date`.
        threshold: abs(return) above which a move is reported.

    Returns:
        One row per extreme day.
    """
    px = pl.coalesce("adj_close", "close")
    prev = pl.when(_same_symbol()).then(px.shift(1))
    moves = data.select("symbol", "date", px=px, prev=prev).with_columns(
        ret=pl.col("px") / pl.col("prev") - 1.0
    )
    hits = moves.filter((pl.col("prev") > 0) & (pl.col("ret").abs() > threshold))
    detail = _fmt(
        "one-day return {}% ({} -> {})",
        (pl.col("ret") * 100).round(1),
        pl.col("prev").round(4),
        pl.col("px").round(4),
    )
    return hits.select("symbol", "date", detail=detail)
