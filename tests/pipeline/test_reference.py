"""An independent reference backtest reproduces qtc's daily equity on the real-data lake.

The reference below shares no code with qtc: it reads `prices_daily.parquet` with polars
(not the lake), pivots `adj_close` to a float64 (dates x symbols) array, rebuilds the
calendar, the signal dates, eligibility, 12-1 momentum, top-n selection and equal weights,
and simulates cash + shares with a plain Python/numpy loop over days. qtc itself is only
run (`compile_file` + `run_on_lake`) to compare against.

Strategies (universe `all`, 2005-01-01 .. 2023-10-18, monthly, next close, equal weight):
(a) every name priced on the signal date; (b) the top 50 by 12-1 momentum
(`adj_close[t-21] / adj_close[t-252] - 1`, ties by column order, scored with
`method = "rank"`, which orders exactly as raw momentum). Each runs with zero costs and with
10 bps commission + 5 bps slippage.

Conventions the reference follows (qtc/pipeline/engine/, schedule.py, NANOBOOK.md §3):

* Signals: the first trading day of the window and the last trading day of each month;
  execution at the next trading day's close (a signal whose execution would fall after
  the data is dropped). Equity is the initial cash until the first execution.
* A target whose symbol has no price on the execution day stays in cash. A held symbol
  whose data ends is sold at the close of its last priced day (unless the next execution
  is the following day: then it is sold there at its last price) and the cash waits for
  the next rebalance. Days without a price are marked at the last price.
* Daily equity = cash + shares x close (forward-filled), marked after that day's trades.

Two reference modes:

* `exact=True`: float64 dollars and fractional float shares, no rounding, commission =
  notional x bps, fill price = close x (1 +- slippage). Buys are trimmed to the cash left
  (sells first, then buys by ascending weight change).
* `exact=False`: qtc's integer engine conventions, emulated: nanobook runs in integer
  units of 1e-6 USD (`UNITS`); every trade price is `round(close x 1e6)` (half to even);
  order sizes are value differences truncated toward zero to whole micro-shares
  (1e-6 share); target value = `int(equity_units x weight)`; market value and cash flow
  = `trunc(micro_shares x price_units / 1e6)`; fill price = `round(price_units x (1 +-
  slippage))` (half away from zero); commission = `round(notional_units x bps / 1e4)`
  per fill; buys are trimmed to available cash in list order to the largest affordable
  micro-share count; orders are planned on the pre-trade equity and executed closes
  first, then targets sorted by (target weight - current weight), ascending, stable in
  column order. Marks use the unrounded float close: equity = cash_units / 1e6 +
  (micro_shares / 1e6) x close.

Measured on the shared data set (2005-01-03 .. 2023-10-18, 4,731 days, 556 symbols, 226
rebalances, 1e6 USD), max over days of |qtc equity / reference equity - 1|:

    case                               integer    exact float   budget at the end
    (a) all names, no costs            2.2e-15    2.1e-9        2.3e-6
    (a) all names, 10 + 5 bps          1.7e-15    4.8e-9        2.7e-6
    (b) top-50 momentum, no costs      6.7e-16    1.3e-8        3.0e-6
    (b) top-50 momentum, 10 + 5 bps    6.7e-16    4.7e-8        5.7e-6

So the integer emulation reproduces qtc to float round-off (asserted <= 1e-9, and the
shares held every day are asserted identical), and the exact float reference differs
only by the engine's roundings: asserted day by day to stay within the rounding budget
`Simulated.budget` (the largest measured ratio to the budget is 0.11). The budget sums, over
fills so far, the equity error one fill's roundings can make, relative to equity:
0.5e-6 USD per share for the trade price rounded to a unit (and again for the slipped
fill price), 1e-6 share x price for the micro-share truncation, and 4e-6 USD for the
truncated target value, market value, cash flow and the rounded commission.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from qtc.api.strategy import compile_file
from qtc.lake import Lake
from qtc.pipeline.runner import RunResult, run_on_lake

UNITS = 1_000_000
"""Engine units per USD, and micro-shares per share."""

AS_OF = dt.date(2023, 10, 18)
INITIAL_CASH = 1_000_000.0
LOOKBACK, SKIP, TOP_N = 252, 21, 50

COSTS = {
    "zero": {"commission_bps": 0.0, "slippage_bps": 0.0},
    "costs": {"commission_bps": 10.0, "slippage_bps": 5.0},
}

STRATEGY = """\
schema = 1
name = "{name}"
description = "reference check: {name}"

[data]
start = 2005-01-01
end = 2023-10-18
benchmark = "SPY"

[universe]
kind = "all"
{factors}
[sizing]
kind = "equal"
max_weight = 1.0

[rebalance]
frequency = "monthly"
execution = "next_close"
initial_cash = {cash}

[costs]
commission_bps = {commission_bps}
slippage_bps = {slippage_bps}
"""

MOMENTUM = f"""
[[factors]]
name = "mom_12_1"
kind = "momentum"
lookback = {LOOKBACK}
skip = {SKIP}

[scoring]
method = "rank"

[selection]
top_n = {TOP_N}
"""


# ---------------------------------------------------------------------------------------
# Reference: data, calendar, signals, targets
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Market:
    """The price panel read straight from the parquet file."""

    dates: np.ndarray
    symbols: list[str]
    px: np.ndarray


def load_market(path: Path) -> Market:
    """Pivot `adj_close` (float32 in the file) to a float64 (dates x symbols) array."""
    df = pl.read_parquet(path, columns=["date", "symbol", "adj_close"])
    dates = np.unique(df["date"].to_numpy().astype("datetime64[D]"))
    symbols = sorted(set(df["symbol"].to_list()))
    rows = np.searchsorted(dates, df["date"].to_numpy().astype("datetime64[D]"))
    cols = np.searchsorted(np.array(symbols), df["symbol"].to_numpy())
    px = np.full((len(dates), len(symbols)), np.nan)
    px[rows, cols] = df["adj_close"].cast(pl.Float64).to_numpy()
    return Market(dates, symbols, px)


def forward_fill(px: np.ndarray) -> np.ndarray:
    """Each day's price, or the last known one (NaN before a symbol's first price)."""
    out = px.copy()
    for t in range(1, len(out)):
        gap = np.isnan(out[t])
        out[t, gap] = out[t - 1, gap]
    return out


def last_priced_row(px: np.ndarray) -> np.ndarray:
    """Row of each symbol's last price (-1 if never priced)."""
    out = np.full(px.shape[1], -1)
    for j in range(px.shape[1]):
        rows = np.flatnonzero(np.isfinite(px[:, j]))
        if rows.size:
            out[j] = rows[-1]
    return out


def monthly_signals(dates: np.ndarray, first: int) -> np.ndarray:
    """First day of the window plus each month's last day, if a next day exists."""
    month = dates.astype("datetime64[M]")
    rows = [first] + [t for t in range(first, len(dates) - 1) if month[t] != month[t + 1]]
    return np.array(sorted(set(rows)))


def eligible(px: np.ndarray, rows: np.ndarray, min_history: int = 0) -> np.ndarray:
    """Priced on the signal date with at least `min_history` priced days up to it."""
    history = np.cumsum(np.isfinite(px), axis=0)
    out: np.ndarray = np.isfinite(px[rows]) & (history[rows] >= min_history)
    return out


def momentum_top(
    px: np.ndarray,
    rows: np.ndarray,
    ok: np.ndarray,
    top: int,
    lookback: int = LOOKBACK,
    skip: int = SKIP,
) -> np.ndarray:
    """The `top` names by momentum `px[t-skip] / px[t-lookback] - 1` among `ok`.

    Ties are broken by column order; a name without both prices is not ranked.
    """
    chosen = np.zeros(ok.shape, bool)
    for r, t in enumerate(rows):
        if t < lookback:
            continue
        mom = px[t - skip] / px[t - lookback] - 1.0
        cands = [j for j in range(px.shape[1]) if ok[r, j] and np.isfinite(mom[j])]
        cands.sort(key=lambda j: (-mom[j], j))
        chosen[r, cands[:top]] = True
    return chosen


def equal_weights(chosen: np.ndarray) -> np.ndarray:
    """1/n over each row's chosen names."""
    out = np.zeros(chosen.shape)
    for r in range(chosen.shape[0]):
        n = int(chosen[r].sum())
        if n:
            out[r, chosen[r]] = 1.0 / n
    return out


# ---------------------------------------------------------------------------------------
# Reference: the simulation
# ---------------------------------------------------------------------------------------


def _trunc_div(a: int, b: int) -> int:
    """Integer division truncated toward zero (Rust's `/`)."""
    q = abs(a) // b
    return q if a >= 0 else -q


def _round_away(x: float) -> int:
    """Round half away from zero (Rust's `f64::round`) of a non-negative float."""
    f = math.floor(x)
    return f + 1 if x - f >= 0.5 else f


@dataclass
class IntegerBook:
    """Cash in 1e-6 USD units and positions in micro-shares, traded as qtc's engine does."""

    cash: int
    commission_bps: float
    slippage_bps: float
    q: dict[int, int] = field(default_factory=dict)
    fills: list[tuple[float, float]] = field(default_factory=list)

    def cash_usd(self) -> float:
        """Cash in USD."""
        return self.cash / UNITS

    def shares(self, n: int) -> np.ndarray:
        """Shares per column."""
        out = np.zeros(n)
        for j, k in self.q.items():
            out[j] = k / UNITS
        return out

    def held(self) -> list[int]:
        """Columns with a non-zero position, ascending."""
        return sorted(j for j, n in self.q.items() if n)

    def current_weights(self, marks: np.ndarray) -> dict[int, float]:
        """Held weights at the unit prices of `marks`."""
        held = self.held()
        mv = {j: _trunc_div(self.q[j] * round(float(marks[j]) * UNITS), UNITS) for j in held}
        total = self.cash + sum(mv.values())
        return {j: float(mv[j]) / float(total) for j in held}

    def rebalance(self, weights: dict[int, float], marks: np.ndarray) -> None:
        """Trade to `weights` (column -> weight, in column order) at the closes `marks`."""
        held = self.held()
        units = {j: round(float(marks[j]) * UNITS) for j in set(held) | set(weights)}
        mv = {j: _trunc_div(self.q[j] * units[j], UNITS) for j in held}
        total = self.cash + sum(mv.values())
        if total <= 0:
            return
        current = {j: float(mv[j]) / float(total) for j in held}
        order = sorted(weights, key=lambda j: weights[j] - current.get(j, 0.0))
        planned = [(j, -self.q[j]) for j in held if j not in weights]
        for j in order:
            diff = int(float(total) * weights[j]) - mv.get(j, 0)
            size = abs(diff) * UNITS // units[j]
            if diff and size:
                planned.append((j, size if diff > 0 else -size))
        for j, qty in planned:
            self._fill(j, qty, units[j])

    def _fill(self, j: int, qty: int, price: int) -> None:
        """One fill at `price` units: slippage, affordability trim, commission."""
        sign = 1.0 if qty > 0 else -1.0
        fill = _round_away(float(price) * (1.0 + sign * self.slippage_bps / 10_000.0))
        if qty > 0 and self._needed(qty, fill) > self.cash:
            lo, hi = 0, qty
            while lo < hi:
                mid = lo + (hi - lo + 1) // 2
                lo, hi = (mid, hi) if self._needed(mid, fill) <= self.cash else (lo, mid - 1)
            qty = lo
            if qty == 0:
                return
        flow = _trunc_div(qty * fill, UNITS)
        cost = self._commission(abs(qty) * fill // UNITS)
        if qty < 0 and self.cash - (flow + cost) < 0:
            return
        self.q[j] = self.q.get(j, 0) + qty
        self.cash -= flow + cost
        self.fills.append((abs(qty) / UNITS, price / UNITS))

    def _needed(self, qty: int, fill: int) -> int:
        """Cash a buy of `qty` micro-shares at `fill` units needs, commission included."""
        notional = qty * fill // UNITS
        return notional + self._commission(notional)

    def _commission(self, notional: int) -> int:
        return _round_away(float(notional) * self.commission_bps / 10_000.0)


@dataclass
class ExactBook:
    """Float dollars and float shares: the frictionless ideal plus the same cost rules."""

    cash: float
    commission_bps: float
    slippage_bps: float
    q: dict[int, float] = field(default_factory=dict)
    fills: list[tuple[float, float]] = field(default_factory=list)

    def equity(self, marks: np.ndarray) -> float:
        """Cash + shares x close, USD."""
        return self.cash + sum(float(n * marks[j]) for j, n in self.q.items() if n)

    def cash_usd(self) -> float:
        """Cash in USD."""
        return self.cash

    def shares(self, n: int) -> np.ndarray:
        """Shares per column."""
        out = np.zeros(n)
        for j, k in self.q.items():
            out[j] = k
        return out

    def held(self) -> list[int]:
        """Columns with a non-zero position, ascending."""
        return sorted(j for j, n in self.q.items() if n)

    def current_weights(self, marks: np.ndarray) -> dict[int, float]:
        """Held weights at `marks`."""
        total = self.equity(marks)
        return {j: self.q[j] * marks[j] / total for j in self.held()}

    def rebalance(self, weights: dict[int, float], marks: np.ndarray) -> None:
        """Trade to `weights` at `marks`: closes, then targets by ascending weight change."""
        total = self.equity(marks)
        current = self.current_weights(marks)
        order = sorted(weights, key=lambda j: weights[j] - current.get(j, 0.0))
        planned = [(j, -self.q[j]) for j in self.held() if j not in weights]
        for j in order:
            diff = total * weights[j] - self.q.get(j, 0.0) * marks[j]
            if diff:
                planned.append((j, diff / marks[j]))
        for j, qty in planned:
            self._fill(j, qty, float(marks[j]))

    def _fill(self, j: int, qty: float, price: float) -> None:
        """One fill at `price`: slippage, buys trimmed to the cash left, commission."""
        fill = price * (1.0 + math.copysign(self.slippage_bps, qty) / 10_000.0)
        rate = self.commission_bps / 10_000.0
        if qty > 0 and qty * fill * (1.0 + rate) > self.cash:
            qty = max(self.cash, 0.0) / (fill * (1.0 + rate))
        self.q[j] = self.q.get(j, 0.0) + qty
        self.cash -= qty * fill + abs(qty * fill) * rate
        self.fills.append((abs(qty), price))


@dataclass(frozen=True)
class Simulated:
    """A reference run, rows aligned to the window's days.

    Attributes:
        equity: Daily equity after trading, USD, (D,).
        shares: Shares held at each close, (D, N).
        budget: Rounding budget, (D,): the sum over fills so far of
            `(|shares| x 0.5e-6 x (1 + [slippage]) + 1e-6 x close + 4e-6) / equity`,
            the relative equity error the integer engine's roundings can introduce.
    """

    equity: np.ndarray
    shares: np.ndarray
    budget: np.ndarray


def simulate(
    px: np.ndarray,
    first: int,
    exec_rows: np.ndarray,
    targets: np.ndarray,
    *,
    cash: float,
    commission_bps: float = 0.0,
    slippage_bps: float = 0.0,
    exact: bool = False,
) -> Simulated:
    """Run targets through the reference book, one day at a time, from `first` to the end.

    Args:
        px: (T, N) closes, NaN where not priced.
        first: First row of the window.
        exec_rows: (R,) increasing execution rows.
        targets: (R, N) target weights.
        cash: Initial cash, USD.
        commission_bps: Commission per fill.
        slippage_bps: Fill price moved against the trade.
        exact: Float dollars and shares (True) or qtc's integer units (False).

    Returns:
        Daily equity, shares and rounding budget.
    """
    t_count, n = px.shape
    marks = forward_fill(px)
    last = last_priced_row(px)
    book: IntegerBook | ExactBook
    if exact:
        book = ExactBook(cash, commission_bps, slippage_bps)
    else:
        book = IntegerBook(round(cash * UNITS), commission_bps, slippage_bps)
    execs = {int(t): r for r, t in enumerate(exec_rows)}
    nxt = iter([*(int(t) for t in exec_rows[1:]), t_count])
    next_exec = int(exec_rows[0]) if len(exec_rows) else t_count
    per_share = 0.5e-6 * (2 if slippage_bps else 1)
    equity = np.zeros(t_count - first)
    shares = np.zeros((t_count - first, n))
    budget = np.zeros(t_count - first)
    vec, held, spent = np.zeros(n), np.zeros(0, int), 0.0
    for t in range(first, t_count):
        done = len(book.fills)
        if t in execs:
            w = targets[execs[t]]
            wanted = {j: float(w[j]) for j in range(n) if w[j] != 0 and np.isfinite(px[t, j])}
            book.rebalance(wanted, marks[t])
            next_exec = next(nxt)
        ending = [j for j in book.held() if last[j] == t]
        if ending and t < next_exec - 1:
            keep = {j: w for j, w in book.current_weights(marks[t]).items() if j not in ending}
            book.rebalance(keep, marks[t])
        if len(book.fills) > done:
            vec = book.shares(n)
            held = np.flatnonzero(vec)
        equity[t - first] = book.cash_usd() + float(marks[t, held] @ vec[held])
        shares[t - first] = vec
        fills = book.fills[done:]
        spent += sum(q * per_share + p * 1e-6 + 4e-6 for q, p in fills) / equity[t - first]
        budget[t - first] = spent
    return Simulated(equity, shares, budget)


# ---------------------------------------------------------------------------------------
# The reference against hand-computed answers (so the reference itself can fail)
# ---------------------------------------------------------------------------------------


def test_reference_signals_and_momentum_on_a_tiny_panel() -> None:
    days = np.array(
        ["2021-01-28", "2021-01-29", "2021-02-01", "2021-02-26", "2021-03-01", "2021-03-31"],
        dtype="datetime64[D]",
    )
    # first day, Jan 29 and Feb 26 (month ends); Mar 31 has no next day to execute on
    assert monthly_signals(days, 0).tolist() == [0, 1, 3]
    px = np.array(
        [
            [1.0, 1.0, 1.0, 1.0],
            [1.0, 2.0, 1.0, 1.0],
            [3.0, 2.0, 3.0, 3.0],
            [9.0, 9.0, np.nan, 9.0],
        ]
    )
    ok = eligible(px, np.array([3]))
    assert ok.tolist() == [[True, True, False, True]]
    # momentum at row 3 with lookback 2, skip 1: px[2] / px[1] - 1 = [2, 0, (2), 2]
    top = momentum_top(px, np.array([3]), ok, 2, lookback=2, skip=1)
    assert top.tolist() == [[True, False, False, True]]  # C is unpriced; A, D tie (2.0)
    assert equal_weights(top).tolist() == [[0.5, 0.0, 0.0, 0.5]]


HAND_PX = np.array(
    [
        [10.0, 20.0],
        [10.0, 20.0],  # execution 1: 50 A + 25 B
        [11.0, 18.0],  # B's last price: B is sold at this close
        [12.0, np.nan],
        [12.5, np.nan],  # execution 2: B unpriced, its half stays in cash
    ]
)
HAND_TARGETS = np.array([[0.5, 0.5], [0.5, 0.5]])


@pytest.mark.parametrize("exact", [True, False])
def test_reference_two_assets_without_costs(exact: bool) -> None:
    sim = simulate(HAND_PX, 0, np.array([1, 4]), HAND_TARGETS, cash=1000.0, exact=exact)
    # day 3: 50 A x 12 + 450 cash; day 4: 50 x 12.5 + 450 = 1075, rebalanced to 43 A
    assert sim.equity.tolist() == [1000.0, 1000.0, 1000.0, 1050.0, 1075.0]
    assert sim.shares[1].tolist() == [50.0, 25.0]
    assert sim.shares[2].tolist() == [50.0, 0.0]
    assert sim.shares[4].tolist() == [43.0, 0.0]


def test_reference_two_assets_with_commission() -> None:
    # day 1, 10 bps: A 50 sh = 500 + 0.5 fee; B is trimmed to the 499.5 left:
    # exact q_B = 499.5 / (20 x 1.001); integer: largest micro-share count k with
    # 20k + round(20k x 0.001) <= 499_500_000 units, k = 24_950_049, 19 units left
    q_b = 499.5 / (20 * 1.001)
    exact_b = q_b * 18 * (1 - 0.001)  # day 2: B sold at 18 less 10 bps
    exact_e4 = 50 * 12.5 + exact_b
    sell = 50 * 12.5 - exact_e4 / 2  # day 4: A sold down to half of equity, 10 bps fee
    expected_exact = [1000.0, 500 + 20 * q_b, 550 + exact_b, 600 + exact_b, exact_e4 - sell / 1e3]
    sim = simulate(
        HAND_PX, 0, np.array([1, 4]), HAND_TARGETS, cash=1000.0, commission_bps=10.0, exact=True
    )
    np.testing.assert_allclose(sim.equity, expected_exact, rtol=1e-14)
    integer = simulate(HAND_PX, 0, np.array([1, 4]), HAND_TARGETS, cash=1000.0, commission_bps=10.0)
    # units: day 1 19 cash + 24_950_049 x 20; day 2 cash = 19 + 449_100_882 - 449_101 fee;
    # day 4 target 536_825_900, sell 7_053_928 micro-shares of A for 88_174_100 - 88_174
    expected_integer = [
        1000.0,
        500 + 499.00098 + 19e-6,
        550 + 448.6518,
        600 + 448.6518,
        536.737726 + 42.946072 * 12.5,
    ]
    np.testing.assert_allclose(integer.equity, expected_integer, rtol=1e-14)
    assert integer.shares[1].tolist() == [50.0, 24.950049]
    assert integer.shares[4].tolist() == [42.946072, 0.0]


# ---------------------------------------------------------------------------------------
# qtc against the reference on the real data
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """The reference calendar of the test window."""

    first: int
    signals: np.ndarray
    executions: np.ndarray


@pytest.fixture(scope="module")
def market(real_data_dir: Path) -> Market:
    return load_market(real_data_dir / "prices_daily.parquet")


@pytest.fixture(scope="module")
def window(market: Market) -> Window:
    first = int(np.searchsorted(market.dates, np.datetime64("2005-01-01")))
    signals = monthly_signals(market.dates, first)
    return Window(first, signals, signals + 1)


@pytest.fixture(scope="module")
def reference_targets(market: Market, window: Window) -> dict[str, np.ndarray]:
    ok = eligible(market.px, window.signals)
    return {
        "equal_all": equal_weights(ok),
        "momentum_top50": equal_weights(momentum_top(market.px, window.signals, ok, TOP_N)),
    }


def write_strategy(folder: Path, strategy: str, costs: str) -> Path:
    """A strategy file for one case."""
    path = folder / f"{strategy}_{costs}.toml"
    factors = MOMENTUM if strategy == "momentum_top50" else ""
    text = STRATEGY.format(name=strategy, factors=factors, cash=INITIAL_CASH, **COSTS[costs])
    path.write_text(text)
    return path


def run_qtc(path: Path, lake_dir: Path, overrides: list[str] | None = None) -> RunResult:
    """Compile and run a strategy with qtc (every stage, metrics included)."""
    plan = compile_file(path, overrides=overrides or [], as_of=AS_OF).plan
    return run_on_lake(plan, Lake(lake_dir))


@pytest.mark.slow
@pytest.mark.parametrize("costs", ["zero", "costs"])
@pytest.mark.parametrize("strategy", ["equal_all", "momentum_top50"])
def test_qtc_equity_matches_the_reference(
    strategy: str,
    costs: str,
    market: Market,
    window: Window,
    reference_targets: dict[str, np.ndarray],
    real_data_lake: Path,
    tmp_path: Path,
) -> None:
    result = run_qtc(write_strategy(tmp_path, strategy, costs), real_data_lake)
    first = window.first
    assert result.symbols == market.symbols
    np.testing.assert_array_equal(result.dates, market.dates[first:])
    np.testing.assert_array_equal(result.signal_dates, market.dates[window.signals])
    np.testing.assert_array_equal(result.execution_dates, market.dates[window.executions])
    targets = reference_targets[strategy]
    np.testing.assert_array_equal(result.targets, targets)

    fees = COSTS[costs]

    def reference(exact: bool) -> Simulated:
        return simulate(
            market.px,
            first,
            window.executions,
            targets,
            cash=INITIAL_CASH,
            commission_bps=fees["commission_bps"],
            slippage_bps=fees["slippage_bps"],
            exact=exact,
        )

    integer = reference(exact=False)
    rel = np.abs(result.equity / integer.equity - 1.0)
    assert rel.max() <= 1e-9, f"max rel diff {rel.max():.3g} on {result.dates[rel.argmax()]}"
    np.testing.assert_array_equal(result.shares, integer.shares)

    exact = reference(exact=True)
    rel = np.abs(result.equity / exact.equity - 1.0)
    over = np.flatnonzero(rel > exact.budget)
    assert not over.size, (
        f"{over.size} days beyond the rounding budget, first {result.dates[over[0]]}: "
        f"{rel[over[0]]:.3g} > {exact.budget[over[0]]:.3g}"
    )


# ---------------------------------------------------------------------------------------
# regressions: qtc bugs found by the reference, fixed
# ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_zero_cost_run_reaches_metrics(real_data_lake: Path, tmp_path: Path) -> None:
    # With zero costs the engine's per-day "cost" (equity before - after trading) picks up
    # the gain of trading at micro-dollar-rounded prices while marking at float closes,
    # e.g. -1.8e-4 USD on 2005-03-01; compute_metrics then raises "costs_paid must be >= 0".
    path = write_strategy(tmp_path, "equal_all", "zero")
    plan = compile_file(path, overrides=[], as_of=AS_OF).plan
    result = run_on_lake(plan, Lake(real_data_lake))
    assert result.metrics


@pytest.mark.slow
def test_min_history_counts_the_whole_history(
    market: Market, window: Window, real_data_lake: Path, tmp_path: Path
) -> None:
    # The panel is loaded from warmup_days (+5) rows before the start, and warmup_days
    # ignores universe.min_history_days, so with no factors a symbol's history is counted
    # from 2004-12-23: every 2005 rebalance (2005-01-03 .. 2005-11-30) holds nothing,
    # though 404-413 names have >= 252 priced days in the data.
    path = write_strategy(tmp_path, "equal_all", "zero")
    result = run_qtc(path, real_data_lake, ["universe.min_history_days=252"])
    expected = eligible(market.px, window.signals, min_history=252)
    np.testing.assert_array_equal(result.targets > 0, expected)
