"""The HTML report: template data (snapshot), structure, no network, determinism, edge runs,
numbers vs run.json/quantstats.

Runs come from tests/outputs/conftest.py (a small synthetic demo lake, meta.json fixed).
"""

from __future__ import annotations

import importlib
import json
import math
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from qtc.errors import UserError
from qtc.outputs.report import (
    BenchmarkOverride,
    fmt_value,
    render_report,
    write_report,
)
from qtc.outputs.report_data import HEADLINE_ROWS, load_report_data
from tests.conftest import stable

SECTIONS = (
    "top",
    "headline",
    "equity",
    "drawdowns",
    "returns",
    "rolling",
    "activity",
    "sectors",
    "holdings",
    "events",
    "strategy",
    "plan",
    "provenance",
    "volatile",
)
VOLATILE = re.compile(r'(<p id="volatile">).*?(</p>)', re.S)
# Attributes and CSS that make a browser fetch something.
EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|xlink:href|action|poster|srcset|data)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//)|(?:@import)""",
    re.I,
)
PPY = 252


def masked(html: str) -> str:
    """The report with its only volatile element emptied."""
    return VOLATILE.sub(r"\1<!-- masked -->\2", html)


def metric_cells(html: str) -> dict[str, str]:
    """`data-metric` cell text by key (e.g. "strategy.cagr" -> "8.67%")."""
    return dict(re.findall(r'data-metric="([\w.]+)">([^<]*)<', html))


# ---------------------------------------------------------------- snapshot, network, determinism


def template_data(data: Any) -> dict[str, Any]:
    """What the template receives, small enough to review: every figure and table, and the
    daily series summarized (length, first and last value, extremes)."""
    from dataclasses import asdict

    def series(values: Any) -> dict[str, Any]:
        arr = np.asarray(values, dtype=np.float64)
        finite = arr[np.isfinite(arr)]
        ends = [float(arr[0]), float(arr[-1])] if arr.size else []
        extremes = [float(finite.min()), float(finite.max())] if finite.size else []
        return {"n": int(arr.size), "first_last": ends, "min_max": extremes}

    s = data.series
    return stable(
        {
            "title": [data.strategy_name, data.description, data.run_id, data.benchmark_symbol],
            "window": data.window,
            "initial_cash": data.initial_cash,
            "final_equity": data.final_equity,
            "headline": data.headline,
            "details": data.details,
            "series": {
                "dates": [str(s.dates[0]), str(s.dates[-1]), len(s.dates)],
                **{k: series(getattr(s, k)) for k in ("equity", "bench_equity", "drawdown",
                                                      "exposure", "holdings", "turnover_month")},
                **{k: series(v) for k, v in sorted(s.rolling.items())},
                "sectors": s.sector_names,
            },
            "drawdowns": [asdict(d) for d in data.drawdowns],
            "monthly": {str(y): [None if math.isnan(v) else v for v in row]
                        for y, row in zip(data.monthly_years, data.monthly.tolist(), strict=True)},
            "annual": [asdict(a) for a in data.annual],
            "top_average": [asdict(h) for h in data.top_average],
            "top_latest": [asdict(h) for h in data.top_latest],
            "contributors": [asdict(h) for h in data.contributors],
            "detractors": [asdict(h) for h in data.detractors],
            "contribution": [data.contribution_total, data.return_sum, data.cost_drag],
            "events": data.events,
            "warnings": data.warnings,
            "plan_tree": asdict(data.plan_tree),
            "provenance": data.provenance,
        }
    )  # fmt: skip


def test_template_data(base_run: Path, snapshot: Any) -> None:
    """The report's figures, reviewed as data (the page itself is checked structurally)."""
    assert template_data(load_report_data(base_run)) == snapshot


def test_no_external_reference(rendered: dict[str, str]) -> None:
    for html in rendered.values():
        assert not EXTERNAL.findall(html)
        # Stronger: no absolute URL at all (not even SVG namespaces or metadata).
        assert "http://" not in html and "https://" not in html
        for tag in ("<link", "<img", "<iframe", "<object", "<embed", "<script src"):
            assert tag not in html
        assert "default-src 'none'" in html  # the CSP blocks any request that slips in


def test_external_reference_regex_catches_urls() -> None:
    for bad in (
        '<img src="https://cdn.example/x.png">',
        "<link href='//fonts.example/css'>",
        "<style>@import 'x.css';</style>",
        "<div style=\"background:url('http://x/y.png')\">",
        '<use xlink:href="http://x/s.svg#a"/>',
    ):
        assert EXTERNAL.findall(bad), bad
    assert not EXTERNAL.findall('<a href="#equity">x</a><a href="quantstats.html">q</a>')


def test_two_renders_are_byte_identical(base_run: Path) -> None:
    first = render_report(base_run)
    assert render_report(base_run) == first
    path = write_report(base_run)
    assert path == base_run / "report.html"
    assert path.read_bytes() == first.encode("utf-8")
    # atomic: no temp left (.cache holds the report cache, see test_report_cache.py)
    assert not [p for p in base_run.iterdir() if p.name.startswith(".") and p.name != ".cache"]
    assert not list((base_run / ".cache").rglob(".*"))


def test_volatile_part_is_only_the_footer(base_run: Path) -> None:
    before = render_report(base_run)
    meta = json.loads((base_run / "meta.json").read_text())
    meta["created_at"] = "2030-12-31T23:59:59Z"
    meta["host"] = "elsewhere"
    (base_run / "meta.json").write_text(json.dumps(meta))
    after = render_report(base_run)
    assert after != before
    assert masked(after) == masked(before)


def test_every_section_and_chart_is_present(rendered: dict[str, str]) -> None:
    html = rendered["base"]
    for section in SECTIONS:
        assert f'id="{section}"' in html, section
    charts = re.findall(r'<svg class="chart" id="([\w-]+)"', html)
    assert charts == [
        "chart-equity",
        "chart-drawdown",
        "chart-monthly",
        "chart-annual",
        "chart-rolling-sharpe",
        "chart-rolling-vol",
        "chart-activity",
        "chart-sectors",
    ]
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "ids must be unique in the page"
    for svg in re.findall(r"<svg\b[^>]*>", html):
        width, height = re.search(r'width="(\d+)" height="(\d+)"', svg).groups()  # type: ignore[union-attr]
        assert 300 <= int(width) <= 960 and 150 <= int(height) <= 700
    assert "<title id=" in html  # charts are labelled for screen readers


# ---------------------------------------------------------------- edge runs


def test_zero_trade_run_renders(rendered: dict[str, str]) -> None:
    html = rendered["zero_trades"]
    assert "Nothing was held during the run." in html
    assert "No position on the last date." in html
    assert metric_cells(html)["activity.rebalances"] == "0"
    assert metric_cells(html)["strategy.total_return"] == "0.00%"


def test_one_month_run_renders(report_runs: dict[str, Path], rendered: dict[str, str]) -> None:
    html = rendered["one_month"]
    doc = json.loads((report_runs["one_month"] / "run.json").read_text())
    assert doc["window"]["days"] < 30
    assert "Not enough history: a rolling window needs 126 daily returns" in html
    assert 'id="chart-monthly"' in html and 'id="chart-equity"' in html


def test_delisted_symbols_are_listed(
    report_runs: dict[str, Path], rendered: dict[str, str]
) -> None:
    doc = json.loads((report_runs["base"] / "run.json").read_text())
    ended = [e for e in doc["events"] if e["kind"] == "data_ended"]
    assert ended, "the base run must have a symbol whose data ends mid-run"
    html = rendered["base"]
    events = html[html.index('id="events"') : html.index('id="strategy"')]
    assert events.count("data ended: position sold at its last close") == len(ended)
    for event in ended:
        assert f'<td class="text">{event["symbol"]}</td>' in events


def test_stop_events_are_listed(report_runs: dict[str, Path], rendered: dict[str, str]) -> None:
    run = report_runs["stops"]
    stops = [e for e in json.loads((run / "run.json").read_text())["events"] if e["kind"] == "stop"]
    assert stops
    html = rendered["stops"]
    events = html[html.index('id="events"') : html.index('id="strategy"')]
    assert f"{len(stops)} stop exit" in events
    assert events.count('<td class="text">fixed</td>') == len(stops)


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not a run folder"):
        render_report(tmp_path)


def test_changed_file_is_flagged(base_run: Path) -> None:
    doc = json.loads((base_run / "run.json").read_text())
    doc["files"]["trades.parquet"] = "0" * 64
    (base_run / "run.json").write_text(json.dumps(doc))
    html = render_report(base_run)
    assert "trades.parquet changed after the run" in html
    assert "DIFFERS" in html


# ---------------------------------------------------------------- numbers


def test_headline_numbers_equal_run_json(
    report_runs: dict[str, Path], rendered: dict[str, str]
) -> None:
    for name, run in report_runs.items():
        metrics = json.loads((run / "run.json").read_text())["metrics"]
        cells = metric_cells(rendered[name])
        for _label, key, kind in HEADLINE_ROWS:
            for side in ("strategy", "benchmark"):
                assert cells[f"{side}.{key}"] == fmt_value(metrics[side][key], kind), (side, key)
        assert cells["strategy.turnover"] == fmt_value(metrics["activity"]["turnover"], "pct")
        assert cells["strategy.cost_paid"] == fmt_value(metrics["activity"]["cost_paid"], "usd")
        assert cells["relative.beta"] == fmt_value(metrics["relative"]["beta"], "num")


def test_format_of_figures() -> None:
    assert fmt_value(0.086697, "pct") == "8.67%"
    assert fmt_value(-0.0295, "pct") == "-2.95%"
    assert fmt_value(0.4612, "num") == "0.46"
    assert fmt_value(332200.9, "usd") == "$332,201"
    assert fmt_value(None, "num") == "—"  # run.json null: undefined or infinite
    assert fmt_value(math.nan, "pct") == "—"
    assert fmt_value(229, "int") == "229"


def _returns(run: Path) -> tuple[np.ndarray, np.ndarray]:
    eq = pl.read_parquet(run / "equity.parquet")
    equity = eq["equity"].to_numpy()
    return eq["date"].to_numpy(), equity[1:] / equity[:-1] - 1.0


def test_agrees_with_quantstats(
    report_runs: dict[str, Path], report_lake: Path, rendered: dict[str, str]
) -> None:
    """qs.stats on the artifact's returns vs the report (tolerances of docs/METRICS.md)."""
    from qtc.lake import Lake

    pd = importlib.import_module("pandas")
    stats = importlib.import_module("quantstats").stats
    run = report_runs["base"]
    dates, r = _returns(run)
    rets = pd.Series(r, index=pd.DatetimeIndex(dates[1:]))
    rf_day = float(Lake(report_lake).rates(dates)["rf"].fill_null(0.0).to_numpy()[1:].mean())
    rf_annual = (1.0 + rf_day) ** PPY - 1.0  # quantstats de-annualizes it back
    data = load_report_data(run)
    fig = {row["key"]: row["strategy"] for row in data.headline}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        qs = {
            "cagr": stats.cagr(rets, periods=PPY),
            "volatility": stats.volatility(rets, periods=PPY),
            "max_drawdown": -stats.max_drawdown(rets),  # quantstats' is negative
            "sharpe": stats.sharpe(rets, rf=rf_annual, periods=PPY),
        }
    exact = 1e-9  # "exact" in docs/METRICS.md (1e-12) plus JSON round trip
    assert fig["cagr"] == pytest.approx(qs["cagr"], rel=exact)
    assert fig["volatility"] == pytest.approx(qs["volatility"], rel=exact)
    assert fig["max_drawdown"] == pytest.approx(qs["max_drawdown"], rel=exact)
    assert fig["sharpe"] == pytest.approx(qs["sharpe"], rel=1e-10)  # scalar rf round trip
    cells = metric_cells(rendered["base"])
    for key, kind in (("cagr", "pct"), ("volatility", "pct"), ("max_drawdown", "pct")):
        assert cells[f"strategy.{key}"] == fmt_value(qs[key], kind)
    assert cells["strategy.sharpe"] == fmt_value(qs["sharpe"], "num")


def test_period_returns_compound_to_the_total(report_runs: dict[str, Path]) -> None:
    for name in ("base", "one_month", "stops"):
        data = load_report_data(report_runs[name])
        total = data.run["metrics"]["strategy"]["total_return"]
        months = data.monthly[np.isfinite(data.monthly)]
        assert float(np.prod(1.0 + months) - 1.0) == pytest.approx(total, rel=1e-9, abs=1e-12)
        years = [a.strategy for a in data.annual]
        assert float(np.prod([1.0 + y for y in years if y is not None]) - 1.0) == pytest.approx(
            total, rel=1e-9, abs=1e-12
        )
        assert [a.partial for a in data.annual] == ([True] if name == "one_month" else [False] * 4)


def test_monthly_returns_use_calendar_months(report_runs: dict[str, Path]) -> None:
    run = report_runs["base"]
    data = load_report_data(run)
    eq = pl.read_parquet(run / "equity.parquet")
    # March 2009 by hand: last close of March over the last close of February.
    feb = eq.filter(pl.col("date").dt.strftime("%Y-%m") == "2009-02")["equity"][-1]
    mar = eq.filter(pl.col("date").dt.strftime("%Y-%m") == "2009-03")["equity"][-1]
    row = data.monthly_years.index(2009)
    assert data.monthly[row, 2] == pytest.approx(mar / feb - 1.0, rel=1e-12)
    assert data.monthly_years == [2007, 2008, 2009, 2010]
    assert np.isfinite(data.monthly).all()


def test_worst_drawdowns(report_runs: dict[str, Path]) -> None:
    data = load_report_data(report_runs["base"])
    assert 1 <= len(data.drawdowns) <= 5
    depths = [d.depth for d in data.drawdowns]
    assert depths == sorted(depths, reverse=True)
    assert depths[0] == pytest.approx(data.run["metrics"]["strategy"]["max_drawdown"], rel=1e-12)
    dates = [str(d) for d in data.series.dates]
    for dd in data.drawdowns:
        assert dd.start <= dd.trough and (dd.recovery is None or dd.trough < dd.recovery)
        end = dates.index(dd.recovery) if dd.recovery else len(dates) - 1
        assert dd.length == end - dates.index(dd.start)
        assert dd.to_trough == dates.index(dd.trough) - dates.index(dd.start)


def test_contributions_account_for_the_returns(report_runs: dict[str, Path]) -> None:
    """Σ r_t = Σ contributions - cost drag + not attributed; small with stops attributed."""
    for name in ("base", "stops"):
        data = load_report_data(report_runs[name])
        remainder = data.return_sum - data.contribution_total + data.cost_drag
        assert abs(remainder) < 0.02, (name, remainder)
    zero = load_report_data(report_runs["zero_trades"])
    assert zero.contribution_total == 0.0 and zero.return_sum == 0.0


def test_benchmark_override(report_runs: dict[str, Path], report_lake: Path) -> None:
    from qtc.lake import Lake

    run = report_runs["base"]
    lake = Lake(report_lake)
    frame = lake.read("benchmarks").filter(pl.col("symbol") == "SPY").sort("date")
    close_col = "adj_close" if "adj_close" in frame.columns else "close"
    same = BenchmarkOverride("SPY", frame["date"].to_numpy(), frame[close_col].to_numpy())
    data = load_report_data(run, same)
    doc = json.loads((run / "run.json").read_text())["metrics"]["benchmark"]
    for row in data.headline[: len(HEADLINE_ROWS)]:
        want = doc[row["key"]]
        assert row["benchmark"] == pytest.approx(want, rel=1e-9, abs=1e-12), row["key"]
    prices = lake.read("prices")
    symbol = str(prices["symbol"].sort()[0])
    one = prices.filter(pl.col("symbol") == symbol).sort("date")
    other = BenchmarkOverride(symbol, one["date"].to_numpy(), one["adj_close"].to_numpy())
    html = render_report(run, benchmark=other)
    assert f"{symbol} (override; the run's is SPY)" in html


def test_benchmark_override_without_prices(report_runs: dict[str, Path]) -> None:
    empty = BenchmarkOverride("NONE", np.array([], dtype="datetime64[D]"), np.array([]))
    with pytest.raises(UserError, match="no price"):
        render_report(report_runs["base"], benchmark=empty)


def test_strategy_toml_round_trips(report_runs: dict[str, Path], rendered: dict[str, str]) -> None:
    import tomllib

    data = load_report_data(report_runs["base"])
    parsed = tomllib.loads(data.strategy_toml)

    def drop_none(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: drop_none(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [drop_none(v) for v in value]
        return value

    resolved = drop_none(data.run["strategy"])
    parsed["data"] = {k: str(v) for k, v in parsed["data"].items()}
    assert parsed == resolved
    assert data.strategy_toml.index("[data]") < data.strategy_toml.index("[[factors]]")
    html = rendered["base"]
    assert 'class="hl"' in html and 'button type="button" class="copy"' in html


@pytest.mark.slow
def test_quantstats_tear_sheet_is_written_and_linked(base_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "site" / "momentum.html"
    path = write_report(base_run, out, quantstats=True)
    assert path == out
    qs_file = out.parent / "quantstats.html"
    assert qs_file.is_file() and "<html" in qs_file.read_text().lower()
    html = out.read_text()
    assert '<a href="quantstats.html">' in html
    assert not EXTERNAL.findall(html)
    # quantstats' global matplotlib state must not leak into qtc's charts.
    assert masked(render_report(base_run, quantstats_link="quantstats.html")) == masked(html)


def test_text_from_the_artifact_is_escaped(base_run: Path) -> None:
    doc = json.loads((base_run / "run.json").read_text())
    doc["strategy"]["description"] = '<script>alert("x")</script> & <b>bold</b>'
    doc["warnings"] = ["<img src=x onerror=alert(1)>"]
    (base_run / "run.json").write_text(json.dumps(doc))
    html = render_report(base_run)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
