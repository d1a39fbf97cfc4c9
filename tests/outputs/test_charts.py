"""The report's charts without matplotlib: what `qtc report` imports, where data lands in
the page, the heatmap's colours, thinning, and the factor charts.

Runs come from tests/outputs/conftest.py (a small synthetic demo lake).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qtc.outputs import charts, charts_factors
from qtc.outputs.report import render_report
from qtc.outputs.svg import anchors
from tests.conftest import REPO

PROBE = """
import json, sys
import numpy as np
from qtc.cli.main import main
from qtc.outputs import charts_factors as f
sys.argv = ["qtc", "report", sys.argv[1], "--out", sys.argv[2]]
try:
    main()
except SystemExit as exit:
    assert not exit.code, exit.code
d = np.arange("2020-01-01", "2020-03-01", dtype="datetime64[D]")
ic = np.linspace(-0.2, 0.3, d.size)
f.ic_chart(d, ic, ic, window=5, horizon=21)
f.quantile_chart([1, 5], [[0.01, -0.02], [0.03, None]])
f.decay_chart([1, 5], [("score", [0.1, 0.2]), ("mom", [None, 0.1])])
f.cumulative_chart(d, np.exp(np.outer(ic, [1.0, 2.0])))
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == "matplotlib")))
"""
LEFT = 0.85 * 96  # the plot box of a 9.4 in chart (902 px, at 96 px per inch) is
RIGHT = 902 - 0.15 * 96  # 0.85 in from its left edge and 0.15 in from its right edge


def test_qtc_report_never_imports_matplotlib(report_runs: dict[str, Path], tmp_path: Path) -> None:
    """A first render (no report cache) through the CLI, in a fresh process with another
    hash seed: no matplotlib module is loaded, and the page is byte-identical to one
    rendered here."""
    run = tmp_path / "run"
    shutil.copytree(report_runs["base"], run)
    shutil.rmtree(run / ".cache", ignore_errors=True)
    page = tmp_path / "report.html"
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(run), str(page)],
        cwd=REPO,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
    assert page.read_text(encoding="utf-8") == render_report(run, cache=False)


def test_the_equity_lines_span_the_plot_box(rendered: dict[str, str]) -> None:
    svg = _chart(rendered["base"], "chart-equity")
    lines = re.findall(r'<path d="(M[^"]*)" fill="none" stroke="#1f5fa8"', svg)
    assert len(lines) == 2  # the strategy in blue, and its legend handle
    xs = [float(v) for v in re.findall(r"-?[\d.]+", lines[0])[::2]]
    assert (min(xs), max(xs)) == (round(LEFT, 1), round(RIGHT, 1))
    assert 'stroke="#e8833a"' in svg  # the benchmark, in orange


def test_heatmap_colours_at_the_ramp_ends_and_middle() -> None:
    # |returns| are 0.1 but for one 0: the 95th percentile, hence the colour limit, is 0.1.
    table = np.array([[-0.1] * 6 + [0.1] * 5 + [0.0]])
    svg = charts.monthly_heatmap([2020], table)
    assert svg is not None
    fills = re.findall(r'<rect [^>]*fill="(#[0-9a-f]{6})" stroke="#ffffff"', svg)
    ramp = anchors("RdYlGn")
    assert fills == [ramp[0]] * 6 + [ramp[-1]] * 5 + [ramp[len(ramp) // 2]]
    cells = re.findall(r'fill="(#[0-9a-f]{6})" text-anchor="middle">(-?[\d.]+)<', svg)
    assert cells[0] == ("#ffffff", "-10.0") and cells[-1] == ("#222222", "0.0")


def test_long_series_are_thinned() -> None:
    dates = np.arange("1990-01-01", "2017-05-19", dtype="datetime64[D]")  # 10,000 days
    values = np.sin(np.arange(dates.size) / 50.0)
    line = ("a", values, charts.STRATEGY_COLOR, True)
    svg = charts.rolling_chart(dates, [line], chart_id="c", title="t", ylabel="y", percent=False)
    assert svg is not None
    path = re.search(r'<path d="(M[^"]*)" fill="none" stroke="#1f5fa8"', svg)
    assert path is not None
    assert dates.size == 10_000 and path.group(1).count(" ") <= 2 * charts.MAX_POINTS + 4


def test_one_month_of_sectors_is_one_stacked_bar_with_the_top_listed_first() -> None:
    month = np.array(["2020-01-31"], dtype="datetime64[D]")
    svg = charts.sector_chart(month, ["Energy", "Utilities"], np.array([[0.3, 0.5]]))
    assert svg is not None
    assert svg.index(">Utilities<") < svg.index(">Energy<")  # the legend reads top down
    assert len(re.findall(r'<path d="M[^"]*Z" fill="#', svg)) == 2


def test_factor_charts_with_nothing_to_draw_are_none() -> None:
    dates = np.array(["2020-01-01", "2020-02-01"], dtype="datetime64[D]")
    nan = np.full(2, np.nan)
    assert charts_factors.ic_chart(dates, nan, nan, window=2, horizon=5) is None
    assert charts_factors.quantile_chart([5], [[None, None]]) is None
    assert charts_factors.decay_chart([5], []) is None
    assert charts_factors.cumulative_chart(dates[:1], np.ones((1, 2))) is None
    # coolwarm reversed at 0.05 and 0.95: 0.4 of the way from its first anchor #b40426 to
    # #de604d (180 + 0.4 * 42 = 196.8 -> c5, 4 + 0.4 * 92 = 40.8 -> 29, 38 + 0.4 * 39 =
    # 53.6 -> 36), and 0.6 of the way from #6282ea to the last one, #3b4cc0.
    assert charts_factors.quantile_colors(2) == ["#c52936", "#4b62d1"]


def _chart(html: str, chart_id: str) -> str:
    start = html.index(f'<svg class="chart" id="{chart_id}"')
    return html[start : html.index("</svg>", start)]


def test_percentile_is_linear_between_ranks() -> None:
    values = np.array([4.0, 1.0, 3.0, 2.0])  # ranked 1, 2, 3, 4: 0.95 of 3 steps = 2.85
    assert charts.percentile(values, 0.95) == pytest.approx(3.85, abs=1e-12)
    assert charts.percentile(values, 0.0) == 1.0 and charts.percentile(values, 1.0) == 4.0
    assert charts.percentile(np.array([7.0]), 0.95) == 7.0
