"""The extended `[search]` section and its evolution space, without data.

Ranges of every kind map to the optuna distribution that draws exactly their values;
bad ranges are coded diagnostics of `qtc check`; a sweep refuses a log-scale range
with a hint; the holdout's arithmetic and the Pareto front agree with plain rewrites.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from qtc.errors import StrategyError, UserError
from qtc.manifest.search import SearchRange, SearchSpace
from qtc.search import evolve_space, holdout
from qtc.search.pareto import front
from tests.conftest import REPO

STRATEGY = REPO / "strategies" / "momentum_us.toml"


def _space(table: dict[str, Any]) -> evolve_space.EvolveSpace:
    return evolve_space.from_search(SearchSpace.model_validate(table))


def test_every_entry_maps_to_the_distribution_of_its_values() -> None:
    from optuna import distributions as d

    space = _space(
        {
            "selection.top_n": [20, 50, 100],
            "factors.mom_12_1.lookback": {"min": 21, "max": 504, "step": 21},
            "sizing.max_weight": {"min": 0.02, "max": 0.1, "step": 0.02},
            "factors.mom_12_1.skip": {"min": 1, "max": 42, "log": True},
            "scoring.winsorize": {"min": 1.5, "max": 6.0, "log": True},
        }
    )
    found = space.distributions()
    assert found["selection.top_n"] == d.CategoricalDistribution([20, 50, 100])
    assert found["factors.mom_12_1.lookback"] == d.IntDistribution(21, 504, step=21)
    assert found["sizing.max_weight"] == d.IntDistribution(0, 4)  # the index of a candidate
    assert found["factors.mom_12_1.skip"] == d.IntDistribution(1, 42, log=True)
    assert found["scoring.winsorize"] == d.FloatDistribution(1.5, 6.0, log=True)
    point = space.point(
        {
            "selection.top_n": 50,
            "factors.mom_12_1.lookback": 42,
            "sizing.max_weight": 3,
            "factors.mom_12_1.skip": 7,
            "scoring.winsorize": 2.25,
        }
    )
    assert point["sizing.max_weight"] == pytest.approx(0.08)
    assert point["sizing.max_weight"] in SearchRange(min=0.02, max=0.1, step=0.02).values()
    assert point["factors.mom_12_1.lookback"] == 42
    assert math.isinf(space.size)


def test_size_counts_every_point() -> None:
    space = _space(
        {"selection.top_n": [20, 50], "factors.mom_12_1.lookback": {"min": 126, "max": 252,
                                                                    "step": 63}}
    )  # fmt: skip
    assert space.size == 2 * 3  # 126, 189, 252


@pytest.mark.parametrize(
    ("table", "code"),
    [
        ({}, "QTC212"),
        ({"selection.top_n": [20]}, "QTC213"),
        ({"selection.top_n": [20], "sizing.max_weight": {"min": 0.05, "max": 0.05, "step": 0.01}},
         "QTC213"),
        ({"scoring.winsorize": {"min": 2.0, "max": 2.0, "log": True}}, "QTC213"),
    ],
)  # fmt: skip
def test_a_space_without_choice_is_refused(table: dict[str, Any], code: str) -> None:
    with pytest.raises(StrategyError) as caught:
        evolve_space.check_searchable(_space(table), "s.toml")
    assert [d.code for d in caught.value.diagnostics] == [code]


def test_a_space_with_a_choice_passes() -> None:
    evolve_space.check_searchable(_space({"selection.top_n": [20, 50]}), "s.toml")


@pytest.mark.parametrize(
    ("entry", "code", "needle"),
    [
        ("{ min = 0, max = 0.1, log = true }", "QTC102", "log-scale range needs min > 0"),
        ("{ min = 0.01, max = 0.1 }", "QTC102", "a range needs a step"),
        ("{ min = 0.01, max = 0.1, step = 0.01, log = true }", "QTC102", "has no step"),
        ("{ min = 0.1, max = 0.01, log = true }", "QTC102", "max must be at least min"),
        ('{ min = 0.01, max = 0.1, log = "yes" }', "QTC103", "log"),
        ("{ min = 0.5, max = 2.0, log = true }", "QTC205", "search candidate"),
    ],
)
def test_bad_ranges_are_coded_diagnostics(
    qtc: Callable[..., Result], tmp_path: Path, entry: str, code: str, needle: str
) -> None:
    text = STRATEGY.read_text()
    bad = tmp_path / "s.toml"
    bad.write_text(text.replace("{ min = 0.03, max = 0.07, step = 0.01 }", entry))
    result = qtc("check", str(bad), "--format", "json")
    assert result.exit_code == 2, result.output
    found = json.loads(result.stdout)["files"][0]["diagnostics"]
    assert [d["code"] for d in found] == [code]
    assert needle in found[0]["message"] or needle in found[0]["key_path"]


def test_log_ranges_pass_check(qtc: Callable[..., Result], tmp_path: Path) -> None:
    text = STRATEGY.read_text()
    good = tmp_path / "s.toml"
    stepped, log = (
        "{ min = 0.03, max = 0.07, step = 0.01 }",
        "{ min = 0.02, max = 0.07, log = true }",
    )
    good.write_text(
        text.replace(stepped, log).replace("[126, 189, 252]", "{ min = 63, max = 504, log = true }")
    )
    result = qtc("check", str(good))
    assert result.exit_code == 0, result.output


def test_a_sweep_refuses_a_log_range_with_a_hint(tmp_path: Path) -> None:
    from qtc.search import space

    search = SearchSpace.model_validate({"sizing.max_weight": {"min": 0.02, "max": 0.1,
                                                               "log": True}})  # fmt: skip
    with pytest.raises(ValueError, match=r"sizing\.max_weight"):
        search.candidates()
    grid = tmp_path / "grid.toml"
    grid.write_text('"sizing.max_weight" = { min = 0.02, max = 0.1, log = true }\n')
    with pytest.raises(UserError) as caught:
        space.from_grid_file(grid)
    assert "cannot enumerate" in caught.value.message and "--grid" in caught.value.hint


def test_stepped_ranges_still_expand_for_the_sweep() -> None:
    search = SearchSpace.model_validate(
        {"selection.top_n": {"min": 10, "max": 30, "step": 10}, "x.y": {"min": 0.5, "max": 1.5,
                                                                         "step": 0.5}}
    )  # fmt: skip
    assert search.candidates() == {"selection.top_n": [10, 20, 30], "x.y": [0.5, 1, 1.5]}


def test_holdout_split_and_its_errors() -> None:
    start, end = dt.date(2010, 1, 1), dt.date(2011, 1, 1)
    split = holdout.split("2010-07-01", None, start, end)
    assert split is not None
    assert split.in_sample_end == dt.date(2010, 6, 30)
    assert split.in_sample_override() == "data.end=2010-06-30"
    fraction = holdout.split(None, 0.5, start, end)
    assert fraction is not None and fraction.date == dt.date(2010, 7, 3)  # 365 * 0.5 -> 183 days
    assert holdout.split(None, None, start, end) is None
    for date, part in (("2010-01-01", None), ("2011-01-02", None), (None, 0.0), (None, 1.0)):
        with pytest.raises(UserError):
            holdout.split(date, part, start, end)
    with pytest.raises(UserError, match="moves the window"):
        holdout.refuse_window_keys(["selection.top_n", "data.start"])


@pytest.mark.parametrize(
    ("inside", "outside", "warn"),
    [(1.0, 0.49, True), (1.0, 0.5, False), (1.0, None, True), (None, 0.1, False),
     (-0.4, -0.3, True), (-0.4, -0.1, False)],
)  # fmt: skip
def test_warning_when_out_of_sample_sharpe_is_under_half(
    inside: float | None, outside: float | None, warn: bool
) -> None:
    assert holdout.falls_short(inside, outside) is warn


def test_pareto_front_matches_a_plain_loop() -> None:
    rng = random.Random(5)
    maximize = (True, False, True)

    def beats(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
        pairs = list(zip(a, b, maximize, strict=True))
        no_worse = all((x >= y) if up else (x <= y) for x, y, up in pairs)
        return no_worse and any(x != y for x, y, _ in pairs)

    for _ in range(20):
        points = [(rng.randint(0, 5), rng.randint(0, 5), rng.random()) for _ in range(25)]
        expected = [i for i, p in enumerate(points) if not any(beats(q, p) for q in points)]
        assert front(points, maximize) == expected
    assert front([], (True,)) == []
    assert list(itertools.chain(front([(1.0,), (1.0,)], (True,)))) == [0, 1]
