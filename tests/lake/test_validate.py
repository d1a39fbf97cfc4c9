"""One test per validation rule, on small synthetic frames and on corrupted real data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import polars as pl
import pytest

from qtc.errors import Severity, UserError
from qtc.lake.ingest.validate import (
    RULES,
    CheckConfig,
    Finding,
    LakeValidationError,
    check_prices,
    check_table,
    summarize,
)
from qtc.lake.read.reader import Lake
from qtc.lake.schema import SPECS, conform

Build = Callable[[Sequence[tuple[str, str, float, float, float, float, float, int]]], pl.DataFrame]
Series = Callable[..., list[tuple[str, str, float, float, float, float, float, int]]]

D = dt.date.fromisoformat


def only(findings: list[Finding], rule: str) -> list[Finding]:
    """Findings of one rule."""
    return [f for f in findings if f.rule == rule]


def test_clean_frame_has_no_findings(price_frame: Build, series: Series) -> None:
    rows = series("AAA", "2020-01-06", [10, 10.5, 10.2, 10.4]) + series(
        "BBB", "2020-01-06", [50, 51, 49, 50.5]
    )
    assert check_prices(price_frame(rows)) == []


def test_duplicate(price_frame: Build, series: Series) -> None:
    rows = series("AAA", "2020-01-06", [10, 11, 12])
    rows.append(rows[1])
    found = only(check_prices(price_frame(rows)), "duplicate")
    assert [(f.symbol, f.date, f.severity) for f in found] == [
        ("AAA", D("2020-01-07"), Severity.ERROR)
    ]
    assert "2 rows" in found[0].detail


def test_null_and_nan(price_frame: Build, series: Series) -> None:
    rows = series("AAA", "2020-01-06", [10, 11, 12, 13])
    df = price_frame(rows).with_columns(
        close=pl.when(pl.col("date") == D("2020-01-07")).then(None).otherwise(pl.col("close")),
        adj_close=pl.when(pl.col("date") == D("2020-01-09"))
        .then(float("nan"))
        .otherwise(pl.col("adj_close")),
    )
    found = only(check_prices(df), "null")
    assert {(f.symbol, f.date) for f in found} == {
        ("AAA", D("2020-01-07")),
        ("AAA", D("2020-01-09")),
    }
    assert all(f.severity is Severity.ERROR for f in found)
    assert any("close" in f.detail for f in found)


def test_non_positive_price(price_frame: Build, series: Series) -> None:
    rows = series("AAA", "2020-01-06", [10, 11, 12])
    rows[2] = ("2020-01-08", "AAA", 0.0, 12.1, 0.0, 12.0, 12.0, 1000)
    found = only(check_prices(price_frame(rows)), "non_positive_price")
    assert {(f.symbol, f.date) for f in found} == {("AAA", D("2020-01-08"))}
    assert {f.detail.split()[0] for f in found} == {"open", "low"}


def test_negative_volume(price_frame: Build, series: Series) -> None:
    rows = series("AAA", "2020-01-06", [10, 11, 12])
    rows[0] = (*rows[0][:7], -5)
    found = only(check_prices(price_frame(rows)), "negative_volume")
    assert [(f.symbol, f.date) for f in found] == [("AAA", D("2020-01-06"))]


def test_high_below_low(price_frame: Build, series: Series) -> None:
    rows = series("AAA", "2020-01-06", [10, 11, 12])
    rows[1] = ("2020-01-07", "AAA", 11.0, 10.0, 12.0, 11.0, 11.0, 1000)
    found = check_prices(price_frame(rows))
    hits = only(found, "high_below_low")
    assert [(f.symbol, f.date, f.severity) for f in hits] == [
        ("AAA", D("2020-01-07"), Severity.ERROR)
    ]


def test_close_outside_range_warns_with_tolerance(price_frame: Build, series: Series) -> None:
    rows = series("AAA", "2020-01-06", [10, 11, 12])
    rows[1] = ("2020-01-07", "AAA", 11.0, 11.5, 10.8, 11.6, 11.6, 1000)
    rows[2] = ("2020-01-08", "AAA", 12.0, 12.0, 11.9, 12.0000001, 12.0, 1000)
    found = only(check_prices(price_frame(rows)), "close_outside_range")
    assert [(f.symbol, f.date, f.severity) for f in found] == [
        ("AAA", D("2020-01-07"), Severity.WARNING)
    ]


def test_gap_against_calendar(price_frame: Build, series: Series) -> None:
    full = series("AAA", "2020-01-06", [10] * 1 + [11, 12, 13, 14, 15, 16])
    holey = [
        r
        for r in series("BBB", "2020-01-06", [20, 21, 22, 23, 24, 25, 26])
        if r[0]
        not in (
            "2020-01-08",
            "2020-01-09",
        )
    ]
    found = only(check_prices(price_frame(full + holey)), "gap")
    assert [(f.symbol, f.date, f.severity) for f in found] == [
        ("BBB", D("2020-01-08"), Severity.WARNING)
    ]
    assert found[0].detail.startswith("2 trading day(s) missing")


def test_gap_only_inside_own_range(price_frame: Build, series: Series) -> None:
    early = series("AAA", "2020-01-06", [10, 11, 12, 13, 14])
    late = series("BBB", "2020-01-08", [20, 21])
    assert only(check_prices(price_frame(early + late)), "gap") == []


def test_gap_with_explicit_calendar(price_frame: Build, series: Series) -> None:
    rows = series("AAA", "2020-01-06", [10, 11])
    calendar = [D("2020-01-06"), D("2020-01-07")]
    rows = [rows[0], ("2020-01-08", "AAA", 11, 11.1, 10.9, 11, 11, 1000)]
    cfg = CheckConfig(calendar=[*calendar, D("2020-01-08")])
    found = only(check_prices(price_frame(rows), config=cfg), "gap")
    assert [(f.symbol, f.date) for f in found] == [("AAA", D("2020-01-07"))]


def test_stale_run(price_frame: Build, series: Series) -> None:
    closes = [10.0, 10.5] + [11.0] * 12 + [11.5]
    found = only(check_prices(price_frame(series("AAA", "2020-01-06", closes))), "stale")
    assert len(found) == 1
    assert (found[0].symbol, found[0].date) == ("AAA", D("2020-01-08"))
    assert "12 rows" in found[0].detail
    short = [10.0] + [11.0] * 9 + [12.0]
    assert only(check_prices(price_frame(series("BBB", "2020-01-06", short))), "stale") == []
    cfg = CheckConfig(stale_days=5)
    assert (
        len(
            only(check_prices(price_frame(series("BBB", "2020-01-06", short)), config=cfg), "stale")
        )
        == 1
    )


def test_extreme_move(price_frame: Build, series: Series) -> None:
    rows = series("KSU", "2000-07-10", [87.5, 87.6, 87.5, 5.66, 5.7])
    found = only(check_prices(price_frame(rows)), "extreme_move")
    assert [(f.symbol, f.date, f.severity) for f in found] == [
        ("KSU", D("2000-07-13"), Severity.WARNING)
    ]
    assert "-93.5%" in found[0].detail
    cfg = CheckConfig(max_abs_return=0.99)
    assert only(check_prices(price_frame(rows), config=cfg), "extreme_move") == []


def test_extreme_move_does_not_cross_symbols(price_frame: Build, series: Series) -> None:
    rows = series("AAA", "2020-01-06", [10, 10]) + series("BBB", "2020-01-06", [100, 100])
    assert only(check_prices(price_frame(rows)), "extreme_move") == []


def test_zero_volume_runs(price_frame: Build, series: Series) -> None:
    rows = series("AAA", "2020-01-06", [10, 11, 12, 13, 14])
    rows[1] = (*rows[1][:7], 0)
    rows[2] = (*rows[2][:7], 0)
    found = only(check_prices(price_frame(rows)), "zero_volume")
    assert [(f.symbol, f.date) for f in found] == [("AAA", D("2020-01-07"))]
    assert "2 consecutive rows through 2020-01-08" in found[0].detail


def test_benchmark_style_required_columns(price_frame: Build, series: Series) -> None:
    df = price_frame(series("IDX", "2020-01-06", [10, 11])).with_columns(
        adj_close=pl.lit(None, pl.Float64)
    )
    loose = check_prices(df, required=("date", "symbol"), required_any=(("close", "adj_close"),))
    assert loose == []
    df = df.with_columns(close=pl.lit(None, pl.Float64))
    strict = check_prices(df, required=("date", "symbol"), required_any=(("close", "adj_close"),))
    assert {f.rule for f in strict} == {"null"}


def test_missing_column_is_a_user_error(price_frame: Build, series: Series) -> None:
    with pytest.raises(UserError, match="volume"):
        check_prices(price_frame(series("AAA", "2020-01-06", [1.0])).drop("volume"))


def test_check_table_duplicates_and_null_keys() -> None:
    df = pl.DataFrame(
        {
            "index": ["sp500", "sp500", "sp500"],
            "snapshot_date": [D("2020-01-01"), D("2020-01-01"), None],
            "symbol": ["AAA", "AAA", "BBB"],
        }
    )
    found = check_table(conform(df, "membership"), SPECS["membership"])
    assert {(f.rule, f.symbol, f.date) for f in found} == {
        ("duplicate", "AAA", D("2020-01-01")),
        ("null", "BBB", None),
    }


def test_error_carries_findings_and_summary() -> None:
    findings = [
        Finding("prices", "duplicate", Severity.ERROR, "AAA", D("2020-01-01"), "2 rows"),
        Finding("prices", "stale", Severity.WARNING, "BBB", D("2020-01-02"), "x"),
    ]
    err = LakeValidationError(findings)
    assert isinstance(err, UserError)
    assert err.exit_code == 2
    assert err.findings == findings
    assert "duplicate: 1" in err.message
    assert "AAA 2020-01-01" in err.message
    assert summarize(findings) == {"duplicate": 1, "stale": 1}
    assert findings[0].to_dict()["date"] == "2020-01-01"


def test_rule_severities() -> None:
    errors = {r for r, s in RULES.items() if s is Severity.ERROR}
    assert {"duplicate", "null", "non_positive_price", "high_below_low"} <= errors
    warnings = {r for r, s in RULES.items() if s is Severity.WARNING}
    assert warnings == {"close_outside_range", "gap", "stale", "extreme_move", "zero_volume"}


def _corrupt(rule: str, df: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """Inject one problem of a rule into AAPL on a day of a real-data slice."""
    on = (pl.col("symbol") == "AAPL") & (pl.col("date") == day)
    if rule == "duplicate":
        return pl.concat([df, df.filter(on)])
    if rule == "gap":
        return df.filter(~on)
    changes = {
        "null": {"close": None},
        "non_positive_price": {"low": -1.0},
        "high_below_low": {"high": 1.0, "low": 2.0, "close": 1.5, "open": 1.5},
        "close_outside_range": {"close": 10_000.0},
        "extreme_move": {"adj_close": 1_000_000.0},
        "zero_volume": {"volume": 0},
    }[rule]
    return df.with_columns(
        pl.when(on).then(pl.lit(v)).otherwise(pl.col(c)).alias(c)
        if v is not None
        else pl.when(on).then(None).otherwise(pl.col(c)).alias(c)
        for c, v in changes.items()
    )


@pytest.mark.parametrize(
    "rule",
    [
        "duplicate",
        "null",
        "non_positive_price",
        "high_below_low",
        "close_outside_range",
        "gap",
        "extreme_move",
        "zero_volume",
    ],
)
@pytest.mark.slow
def test_rule_on_corrupted_real_copy(real_lake: Lake, rule: str) -> None:
    df = real_lake.prices(["AAPL", "MSFT", "JNJ"], "2021-01-01", "2021-06-30")
    assert check_prices(df) == []
    day = D("2021-03-03")
    found = only(check_prices(_corrupt(rule, df, day)), rule)
    assert found, rule
    assert (found[0].symbol, found[0].date, found[0].dataset) == ("AAPL", day, "prices")


@pytest.mark.slow
def test_stale_on_corrupted_real_copy(real_lake: Lake) -> None:
    df = real_lake.prices(["AAPL", "MSFT"], "2021-01-01", "2021-06-30")
    days = df.filter(pl.col("symbol") == "MSFT")["date"].to_list()[40:52]
    stale = df.with_columns(
        close=pl.when((pl.col("symbol") == "MSFT") & pl.col("date").is_in(days))
        .then(pl.lit(230.0))
        .otherwise(pl.col("close"))
    )
    found = only(check_prices(stale), "stale")
    assert [(f.symbol, f.date) for f in found] == [("MSFT", days[0])]
