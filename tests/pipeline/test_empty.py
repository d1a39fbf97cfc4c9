"""Why a rebalance selected nothing: the first step that left no symbol, on tiny markets.

Each case is a hand-made panel of 6 daily rebalances x 3 symbols (A, B, C at 10, 20, 30)
where one step obviously empties some rebalances; the expected warning is written out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from qtc.compile.stages import Score, SelectUniverse
from qtc.lake.read.reader import Lake
from qtc.manifest.scoring import ScoringSection, SelectionSection
from qtc.manifest.universe import AllUniverse, SymbolsUniverse
from qtc.pipeline import universe
from qtc.pipeline.empty import EmptyInput, explain_empty
from qtc.pipeline.panel import Panel
from qtc.pipeline.runner import RunResult, run_on_lake
from qtc.pipeline.scoring import score
from qtc.pipeline.selection import select
from tests.pipeline.conftest import plan_from_text

DAYS = np.datetime64("2021-01-04", "D") + np.arange(6)
NAN = np.nan


def panel(prices: np.ndarray | None = None, sectors: tuple[str, ...] = ("x", "x", "y")) -> Panel:
    adj = np.tile([10.0, 20.0, 30.0], (6, 1)) if prices is None else prices
    return Panel(
        dates=DAYS,
        symbols=["A", "B", "C"],
        adj_close=adj,
        close=adj.copy(),
        open=None,
        high=None,
        low=None,
        volume=None,
        sectors=list(sectors),
        benchmark=np.ones(6),
        rf=np.zeros(6),
        start=0,
    )


def why(
    uni: Any,
    factors: dict[str, np.ndarray],
    *,
    weights: dict[str, float] | None = None,
    scoring: ScoringSection | None = None,
    selection: SelectionSection | None = None,
    market: Panel | None = None,
) -> list[str]:
    """Run universe -> score -> select on the panel and explain the empty rebalances."""
    p = market or panel()
    rows = np.arange(6)
    steps = universe.universe_steps(SelectUniverse(universe=uni), p, rows, None, [])  # type: ignore[arg-type]
    eligible = universe.eligible_mask(steps, p, rows)
    spec = Score(
        scoring=scoring or ScoringSection(method="rank"),
        factor_weights=weights if weights is not None else dict.fromkeys(factors, 1.0),
    )
    scores = (
        score(spec, factors, rows, eligible, p.sectors)
        if spec.factor_weights
        else np.where(eligible, 0.0, np.nan)
    )
    chosen = selection or SelectionSection(top_n=2)
    return explain_empty(
        EmptyInput(
            dates=p.dates,
            rows=rows,
            steps=steps,
            eligible=eligible,
            factors=factors,
            score=spec,
            scores=scores,
            selection=chosen,
            selected=select(chosen, scores),
        )
    )


def full(value: float = 1.0) -> np.ndarray:
    return np.array([[value, 2 * value, 3 * value]] * 6)


def test_nothing_to_say_when_every_rebalance_holds_names() -> None:
    assert why(AllUniverse(kind="all"), {"f": full()}) == []


def test_a_price_filter_that_leaves_nothing() -> None:
    assert why(AllUniverse(kind="all", min_price=5000), {"f": full()}) == [
        "6 of 6 rebalances (2021-01-04 .. 2021-01-09) selected nothing (held cash): "
        "universe filter `min_price = 5000` leaves no symbol"
    ]


def test_a_factor_without_values_before_a_date() -> None:
    f = full()
    f[:4] = NAN  # values from the 5th day (2021-01-08) on
    assert why(AllUniverse(kind="all"), {"mom": full(), "roa": f}) == [
        "4 of 6 rebalances (2021-01-04 .. 2021-01-07) selected nothing (held cash): "
        "factor `roa` has no values before 2021-01-08"
    ]


def test_a_factor_without_values_after_a_date() -> None:
    f = full()
    f[2:] = NAN
    assert why(AllUniverse(kind="all"), {"f": f}) == [
        "4 of 6 rebalances (2021-01-06 .. 2021-01-09) selected nothing (held cash): "
        "factor `f` has no values after 2021-01-05"
    ]


def test_a_factor_with_a_hole_names_when_its_values_start() -> None:
    f = full()
    f[3] = NAN
    assert why(AllUniverse(kind="all"), {"f": f}) == [
        "1 of 6 rebalances (2021-01-07) selected nothing (held cash): factor `f` has no "
        "value for any eligible symbol on that date (its values start 2021-01-04)"
    ]


def test_the_first_step_that_empties_is_blamed_and_causes_are_grouped() -> None:
    prices = np.tile([10.0, 20.0, 30.0], (6, 1))
    prices[:2] = NAN  # nothing priced on the first two days
    f = full()
    f[:4] = NAN  # the factor is also missing there: the price step comes first
    # min_price 15 keeps B and C; with both unpriced the universe itself is empty
    assert why(AllUniverse(kind="all", min_price=15), {"f": f}, market=panel(prices)) == [
        "2 of 6 rebalances (2021-01-04 .. 2021-01-05) selected nothing (held cash): "
        "no symbol has a price",
        "2 of 6 rebalances (2021-01-06 .. 2021-01-07) selected nothing (held cash): "
        "factor `f` has no values before 2021-01-08",
    ]


def test_sector_exclude_and_history_filters() -> None:
    sectors = AllUniverse(kind="all", sectors=["y"], exclude=["C"])
    assert why(sectors, {"f": full()})[0].endswith(
        'universe filter `exclude = ["C"]` leaves no symbol'
    )
    only_a = SymbolsUniverse(kind="symbols", symbols=["A"], sectors=["y"])
    assert why(only_a, {"f": full()})[0].endswith(
        'universe filter `sectors = ["y"]` leaves no symbol'
    )
    history = AllUniverse(kind="all", min_history_days=3)
    # priced days up to and including the signal: 1, 2, 3, ...: the first two fail
    assert why(history, {"f": full()}) == [
        "2 of 6 rebalances (2021-01-04 .. 2021-01-05) selected nothing (held cash): "
        "universe filter `min_history_days = 3` leaves no symbol"
    ]


def test_factors_without_a_common_symbol_under_drop() -> None:
    a = np.array([[1.0, NAN, NAN]] * 6)
    b = np.array([[NAN, 1.0, 2.0]] * 6)
    assert why(AllUniverse(kind="all"), {"a": a, "b": b}) == [
        "6 of 6 rebalances (2021-01-04 .. 2021-01-09) selected nothing (held cash): "
        'no symbol has values for all of `a`, `b` (scoring.missing = "drop")'
    ]
    zero = ScoringSection(method="rank", missing="zero")
    assert why(AllUniverse(kind="all"), {"a": a, "b": b}, scoring=zero) == []


def test_no_factor_has_values_under_zero() -> None:
    none = np.full((6, 3), NAN)
    zero = ScoringSection(method="rank", missing="zero")
    assert why(AllUniverse(kind="all"), {"a": none, "b": none}, scoring=zero) == [
        "6 of 6 rebalances (2021-01-04 .. 2021-01-09) selected nothing (held cash): "
        "none of the factors `a`, `b` has values for the symbols of the universe"
    ]


def test_a_zero_weight_factor_is_not_blamed() -> None:
    none = np.full((6, 3), NAN)
    assert why(AllUniverse(kind="all"), {"f": full(), "g": none}, weights={"f": 1, "g": 0}) == []


def test_an_undefined_zscore_and_a_min_score() -> None:
    one = AllUniverse(kind="all", min_price=25)  # only C: a z-score of one value is NaN
    zscore = ScoringSection(method="zscore")
    assert why(one, {"f": full()}, scoring=zscore) == [
        "6 of 6 rebalances (2021-01-04 .. 2021-01-09) selected nothing (held cash): "
        "the composite score is undefined for every symbol (a z-score needs two or more "
        "distinct factor values)"
    ]
    high = SelectionSection(top_n=2, min_score=0.9)  # ranks are -0.5, 0, 0.5
    assert why(AllUniverse(kind="all"), {"f": full()}, selection=high) == [
        "6 of 6 rebalances (2021-01-04 .. 2021-01-09) selected nothing (held cash): "
        "`selection.min_score = 0.9` leaves no symbol"
    ]


def test_steps_reproduce_the_eligibility_mask() -> None:
    prices = np.tile([10.0, 20.0, 30.0], (6, 1))
    prices[0, 1] = NAN
    prices[3:, 2] = 3.0
    uni = AllUniverse(kind="all", min_price=5, min_history_days=2, exclude=["A"])
    p = panel(prices)
    rows = np.arange(6)
    spec = SelectUniverse(universe=uni)
    mask = universe.select_universe(spec, p, rows, None, [])  # type: ignore[arg-type]
    # A excluded; B priced from day 2, so 2 priced days from day 3; C below 5 from day 4
    expected = np.array([[0, 0, 0], [0, 0, 1], [0, 1, 1], [0, 1, 0], [0, 1, 0], [0, 1, 0]])
    np.testing.assert_array_equal(mask, expected.astype(bool))


LAKE_STRATEGY = """
schema = 1
name = "empty"

[data]
start = {start}
end = 2005-12-30
benchmark = "SPY"

[universe]
kind = "all"
min_price = {min_price}

[[factors]]
name = "mom"
kind = "momentum"
lookback = 60
skip = 0

[scoring]
method = "rank"

[selection]
top_n = 3

[rebalance]
frequency = "monthly"
"""


def lake_run(tmp_path: Path, lake: Lake, *, min_price: float = 0.0) -> RunResult:
    first = lake.calendar()[0].astype("datetime64[D]")
    text = LAKE_STRATEGY.format(start=first, min_price=min_price)
    return run_on_lake(plan_from_text(tmp_path, text), lake)


def test_on_a_lake_a_price_filter_empties_every_rebalance(tmp_path: Path, tiny_lake: Lake) -> None:
    result = lake_run(tmp_path, tiny_lake, min_price=1e9)
    days = result.signal_dates.astype("datetime64[D]")
    assert result.warnings == [
        f"{len(days)} of {len(days)} rebalances ({days[0]} .. {days[-1]}) selected nothing "
        "(held cash): universe filter `min_price = 1e+09` leaves no symbol"
    ]
    assert not result.weights.any()


def test_on_a_lake_a_factor_warm_up_names_its_first_date(tmp_path: Path, tiny_lake: Lake) -> None:
    result = lake_run(tmp_path, tiny_lake)
    # 60-day momentum needs a price 60 rows back: its first value, computed from the lake
    dates, _, m = tiny_lake.bar_matrices(["adj_close"])
    adj = m["adj_close"]
    valid = (np.isfinite(adj[60:]) & np.isfinite(adj[:-60])).any(axis=1)
    first = dates[60 + int(np.argmax(valid))].astype("datetime64[D]")
    days = result.signal_dates.astype("datetime64[D]")
    early = days[days < first]
    assert len(early) > 0
    assert result.warnings == [
        f"{len(early)} of {len(days)} rebalances ({early[0]} .. {early[-1]}) selected nothing "
        f"(held cash): factor `mom` has no values before {first}"
    ]
