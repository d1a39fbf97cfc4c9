"""The hand-written SVG of the report's charts (`qtc.outputs.svg`, `qtc.outputs.svg_axes`).

Expected values are derived by hand in each test: pixel positions from the box and the
limits, ticks from the 1-2-5 rule, colours from the anchor tables.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from qtc.outputs import svg
from qtc.outputs.svg_axes import Axes, Box, Figure, Scale, days, limits

NAN = math.nan


def _axes(*, ylog: bool = False, ylim: tuple[float, float] = (0.0, 10.0)) -> tuple[Figure, Axes]:
    """A 200 × 100 figure whose plot box is x 10..110, y 20..70, showing x 0..4."""
    fig = Figure("t", 200, 100)
    return fig, fig.add(Box(10, 20, 100, 50), (0.0, 4.0), ylim, ylog=ylog)


def _paths(document: str) -> list[str]:
    return re.findall(r' d="([^"]*)"', document)


# ---------------------------------------------------------------- data to pixels


def test_a_line_maps_data_to_pixels() -> None:
    fig, ax = _axes()
    # x: 10 + x / 4 * 100; y: 70 - y / 10 * 50 (the y axis points up).
    ax.line([0, 1, 4], [0, 5, 10], color="#000000")
    assert _paths(fig.render("t")) == ["M10 70L35 45 110 20"]


def test_a_line_breaks_at_missing_values() -> None:
    fig, ax = _axes()
    ax.line([0, 1, 2, 3], [1, NAN, 2, 3], color="#000000")
    # (0, 1) -> (10, 65) alone; (2, 2) -> (60, 60); (3, 3) -> (85, 55).
    assert _paths(fig.render("t")) == ["M10 65M60 60L85 55"]


def test_a_log_axis_maps_decades_evenly() -> None:
    fig, ax = _axes(ylog=True, ylim=(1.0, 100.0))
    ax.line([0, 2, 4], [1, 10, 100], color="#000000")
    assert _paths(fig.render("t")) == ["M10 70L60 45 110 20"]


def test_bars_fill_from_zero_to_their_height() -> None:
    fig, ax = _axes()
    # x 0.8..1.2 -> 30..40; y 0..5 -> 70..45.
    ax.bars([1.0], [5.0], 0.4, color="#123456")
    assert '<path d="M30 70H40V45H30Z" fill="#123456"/>' in fig.render("t")


def test_a_step_line_holds_each_value_until_the_next_x() -> None:
    fig, ax = _axes()
    ax.step([0, 2, 4], [0, 10, 5], color="#000000")
    assert _paths(fig.render("t")) == ["M10 70L60 70 60 20 110 20 110 45"]


def test_scale_and_limits() -> None:
    scale = Scale(0.0, 4.0, 10.0, 110.0)
    assert scale.at(1.0) == 35.0
    assert scale.inside(4.0) and not scale.inside(4.1)
    assert limits([0.0, 10.0]) == pytest.approx((-0.5, 10.5))  # 5 % of the range each side
    assert limits([0.0, 10.0], sticky=0.0) == pytest.approx((0.0, 10.5))
    lo, hi = limits([1.0, 100.0], log=True)
    assert (math.log10(lo), math.log10(hi)) == pytest.approx((-0.1, 2.1))
    assert days(np.array(["1970-01-02", "2000-01-01"], dtype="datetime64[D]")).tolist() == [
        1.0,
        10957.0,
    ]


# ---------------------------------------------------------------- ticks and labels


@pytest.mark.parametrize(
    ("low", "high", "bins", "ticks"),
    [
        (0.0, 1.05, 6, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (-0.64, 0.0, 9, [-0.6, -0.5, -0.4, -0.3, -0.2, -0.1, 0.0]),
        (-4.2, 4.9, 9, [-4.0, -2.0, 0.0, 2.0, 4.0]),
        (0.9, 2.6, 6, [1.0, 1.5, 2.0, 2.5]),
        (0.0, 57.5, 6, [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]),
        (0.012, 0.0131, 5, [0.012, 0.0125, 0.013]),
    ],
)
def test_nice_ticks(low: float, high: float, bins: int, ticks: list[float]) -> None:
    """The smallest step of 1, 2 or 5 times a power of ten with (high - low) / step <= bins."""
    assert svg.nice_ticks(low, high, bins) == ticks


def test_log_ticks() -> None:
    # Over more than a factor 8: 1, 2, 5 times the powers of ten inside the range.
    assert svg.log_ticks(0.6e6, 5.5e6) == [1e6, 2e6, 5e6]
    assert svg.log_ticks(0.5, 60.0) == [0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0]
    # A narrow range is almost linear: nice ticks.
    assert svg.log_ticks(1.0, 3.0) == [1.0, 1.5, 2.0, 2.5, 3.0]
    assert svg.log_ticks(0.0, 3.0) == []


def test_tick_labels() -> None:
    assert svg.percent_labels([-0.1, 0.0, 0.1]) == ["\u221210%", "0%", "10%"]
    assert svg.percent_labels([0.0, 0.005, 0.01]) == ["0.0%", "0.5%", "1.0%"]
    assert svg.number_labels([-0.04, -0.02, 0.0, 0.02]) == [
        "\u22120.04",
        "\u22120.02",
        "0.00",
        "0.02",
    ]
    assert svg.number_labels([-2.0, 0.0, 2.0]) == ["\u22122", "0", "2"]


def _day(text: str) -> int:
    return int(np.datetime64(text, "D").astype(np.int64))


def test_date_ticks_of_many_years_are_every_other_year() -> None:
    ticks = svg.date_ticks(_day("2005-01-03"), _day("2023-10-18"))
    assert [label for _, label in ticks] == [str(y) for y in range(2006, 2023, 2)]
    assert ticks[0][0] == _day("2006-01-01")


def test_date_ticks_of_four_years_are_half_years() -> None:
    ticks = svg.date_ticks(_day("2007-01-02"), _day("2010-12-30"))
    labels = ["Jul", "2008", "Jul", "2009", "Jul", "2010", "Jul"]
    assert [label for _, label in ticks] == labels
    assert ticks[0][0] == _day("2007-07-01")


def test_date_ticks_of_a_month_are_weekly_days() -> None:
    ticks = svg.date_ticks(_day("2010-12-01"), _day("2010-12-31"))
    assert [label for _, label in ticks] == ["Dec", "08", "15", "22"]  # as matplotlib: no 29
    ticks = svg.date_ticks(_day("2010-11-16"), _day("2011-02-14"))  # 90 days: 1st and 15th
    assert [label for _, label in ticks] == ["Dec", "15", "2011", "15", "Feb"]


# ---------------------------------------------------------------- colours


@pytest.mark.parametrize("name", ["RdYlGn", "Blues", "coolwarm", "coolwarm_r"])
def test_a_ramp_at_its_anchors_is_the_anchor_colour(name: str) -> None:
    table = svg.anchors(name)
    for k, color in enumerate(table):
        assert svg.ramp(name, k / (len(table) - 1)) == color


def test_a_ramp_interpolates_linearly_between_anchors() -> None:
    # A quarter of the way from Blues' first anchor #f7fbff to its second #deebf7:
    # 247 - 25/4 = 240.75 -> f1, 251 - 16/4 = 247 -> f7, 255 - 8/4 = 253 -> fd.
    assert svg.ramp("Blues", 0.25 / 8) == "#f1f7fd"
    assert svg.ramp("coolwarm_r", 0.0) == "#b40426"  # reversed: red first
    assert svg.ramp("RdYlGn", -3.0) == "#a50026" and svg.ramp("RdYlGn", 7.0) == "#006837"


def test_dark_colours_get_white_text() -> None:
    assert svg.is_dark("#a50026") and svg.is_dark("#08306b")
    assert not svg.is_dark("#ffffbf") and not svg.is_dark("#ffffff")


# ---------------------------------------------------------------- documents


def test_a_document_is_self_contained_labelled_and_deterministic() -> None:
    def draw() -> str:
        fig, ax = _axes()
        ax.line([0, 4], [0, 10], color="#000000", label="a <b> & c")
        ax.yaxis([0.0, 5.0, 10.0], ["0", "5", "10"], label="value")
        ax.legend("upper left")
        return fig.render("Title & <more>")

    first = draw()
    assert draw() == first
    assert first.startswith(
        '<svg class="chart" id="t" width="200" height="100" viewBox="0 0 200 100"'
    )
    assert '<title id="t-title">Title &amp; &lt;more&gt;</title>' in first
    assert "a &lt;b&gt; &amp; c" in first and "<b>" not in first
    assert "http" not in first and "<script" not in first
    ids = re.findall(r'\bid="([^"]+)"', first)
    assert len(ids) == len(set(ids)) and all(i == "t" or i.startswith("t-") for i in ids)
    for ref in re.findall(r"url\(#([^)]+)\)", first):
        assert ref in ids


def test_numbers_and_text() -> None:
    assert [svg.num(v) for v in (12.34, 5.0, -0.04, 1234.56)] == ["12.3", "5", "0", "1234.6"]
    assert svg.text_width("abcd", 10.0) == pytest.approx(4 * 10.0 * svg.CHAR_EM)
    assert svg.polyline(np.array([0.0, 1.0]), np.array([2.0, NAN])) == "M0 2"
    two = svg.text(5, 6, "a\nb", size=10, rotate=-90)
    assert 'transform="translate(5 6) rotate(-90)"' in two and two.count("<tspan") == 2


def test_one_number_and_many_are_rounded_alike() -> None:
    values = np.array([0.05, 0.15, 0.25, 2.675, -1.45, 1e4 + 0.35, 0.0, -0.0, 3.0])
    assert svg.nums(values) == " ".join(svg.num(float(v)) for v in values)
