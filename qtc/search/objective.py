"""Objectives and filters of a search, on the flat metric names of a trial.

A trial's metrics are flattened: the strategy's own metrics keep their names
(`sharpe`, `max_drawdown`), the other sections are prefixed (`activity.turnover`,
`relative.information_ratio`, `benchmark.sharpe`). A bare name the strategy section
does not have is looked up in `activity`, then `relative` (`turnover` means
`activity.turnover`).

An objective is a metric, maximised unless it is a cost or a risk figure
(`volatility`, `turnover`, ...); `min:NAME` or `max:NAME` says so explicitly.
A filter is `METRIC OP NUMBER` with OP one of `<`, `<=`, `>`, `>=`, `==`, `!=`;
several filters must all hold.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qtc.errors import UserError

SECTIONS = ("strategy", "activity", "relative", "benchmark")
FALLBACK = ("activity", "relative")
STRATEGY_METRICS = (
    "total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar",
    "num_periods", "winning_periods", "losing_periods", "cvar_95", "win_rate",
    "profit_factor", "payoff_ratio", "kelly",
)  # fmt: skip
RELATIVE_METRICS = (
    "active_return", "alpha", "beta", "correlation", "days", "down_capture",
    "information_ratio", "r_squared", "tracking_error", "up_capture",
)  # fmt: skip
ACTIVITY_METRICS = (
    "avg_holdings", "cost_bps_per_year", "cost_paid", "days", "exposure", "max_holdings",
    "net_exposure", "rebalances", "traded_notional", "turnover", "turnover_per_rebalance",
)  # fmt: skip
LOWER_IS_BETTER = frozenset(
    {
        "volatility",
        "max_drawdown",
        "losing_periods",
        "activity.turnover",
        "activity.turnover_per_rebalance",
        "activity.traded_notional",
        "activity.cost_paid",
        "activity.cost_bps_per_year",
        "relative.tracking_error",
    }
)
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
_FILTER = re.compile(
    r"^\s*([A-Za-z_][\w.]*)\s*(<=|>=|==|!=|<|>)\s*([-+]?[\d.]+(?:[eE][-+]?\d+)?)\s*$"
)


def flatten_metrics(metrics: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """`{"strategy": {"sharpe": 1}, "activity": {...}}` -> `{"sharpe": 1, "activity.x": ...}`."""
    flat: dict[str, Any] = {}
    for section in SECTIONS:
        for name, value in metrics.get(section, {}).items():
            flat[name if section == "strategy" else f"{section}.{name}"] = value
    return flat


def known_metrics() -> list[str]:
    """Every flat metric name a trial has (`compute_metrics`'s sections, flattened)."""
    return [
        *STRATEGY_METRICS,
        *(f"activity.{m}" for m in ACTIVITY_METRICS),
        *(f"relative.{m}" for m in RELATIVE_METRICS),
        *(f"benchmark.{m}" for m in STRATEGY_METRICS),
    ]


def resolve(name: str, known: Sequence[str]) -> str:
    """The flat metric name `name` refers to.

    Raises:
        UserError: If no metric has that name (with did-you-mean).
    """
    if name in known:
        return name
    for section in FALLBACK:
        if f"{section}.{name}" in known:
            return f"{section}.{name}"
    import difflib

    near = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    raise UserError(
        f"unknown metric {name!r}",
        hint=f"did you mean {near[0]!r}?" if near else f"metrics: {', '.join(sorted(known))}",
    )


@dataclass(frozen=True)
class Objective:
    """The metric a search ranks by, and whether higher is better."""

    metric: str
    maximize: bool

    @property
    def label(self) -> str:
        """`max sharpe`, `min volatility`."""
        return f"{'max' if self.maximize else 'min'} {self.metric}"

    def key(self, value: float | None) -> float:
        """Sort key: smaller is better; undefined values rank last."""
        if value is None or not math.isfinite(value):
            return math.inf
        return -value if self.maximize else value

    def better(self, a: float | None, b: float | None) -> bool:
        """Whether `a` ranks strictly before `b`."""
        return self.key(a) < self.key(b)


def parse_objective(text: str, known: Sequence[str]) -> Objective:
    """`sharpe`, `min:volatility`, `max:activity.turnover` -> an Objective.

    Raises:
        UserError: For an unknown metric.
    """
    direction, sep, name = text.strip().partition(":")
    if not sep:
        name, direction = direction, ""
    if direction not in ("", "min", "max"):
        raise UserError(
            f"bad objective {text!r}", hint="write METRIC, min:METRIC or max:METRIC, e.g. sharpe"
        )
    metric = resolve(name.strip(), known)
    maximize = metric not in LOWER_IS_BETTER if not direction else direction == "max"
    return Objective(metric, maximize)


@dataclass(frozen=True)
class Filter:
    """`METRIC OP NUMBER`, e.g. `max_drawdown > -0.3`."""

    text: str
    metric: str
    op: str
    value: float

    def holds(self, metrics: Mapping[str, Any]) -> bool:
        """Whether a trial's flat metrics pass (an undefined metric never passes)."""
        got = metrics.get(self.metric)
        if got is None or not math.isfinite(float(got)):
            return False
        return OPERATORS[self.op](float(got), self.value)


def parse_filter(text: str, known: Sequence[str]) -> Filter:
    """Parse one `--where` expression.

    Raises:
        UserError: If it is not `METRIC OP NUMBER` or names an unknown metric.
    """
    match = _FILTER.match(text)
    if match is None:
        raise UserError(
            f"bad --where {text!r}: expected METRIC OP NUMBER",
            hint='for example --where "max_drawdown > -0.3" (OP: < <= > >= == !=)',
        )
    name, op, number = match.groups()
    try:
        value = float(number)
    except ValueError:
        raise UserError(f"bad number {number!r} in --where {text!r}") from None
    return Filter(text.strip(), resolve(name, known), op, value)


def passes(filters: Sequence[Filter], metrics: Mapping[str, Any]) -> bool:
    """Whether every filter holds."""
    return all(f.holds(metrics) for f in filters)
