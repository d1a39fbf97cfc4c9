"""The lookahead/survivorship lint: warnings with codes, errors under `--strict`.

* QTC301 same-close execution (`rebalance.execution = "close"`).
* QTC302 full-sample normalization (`scoring.normalization = "full_sample"`).
* QTC303 fundamentals joined on period end instead of publish date.
* QTC304 a static symbol list used for past dates.
* QTC305 today's index members used for past dates.
* QTC306 warm-up longer than the history window.
"""

from __future__ import annotations

import datetime as dt

from qtc.compile.checks import Locate, diag
from qtc.errors import Diagnostic, Severity
from qtc.manifest.factors import GrowthFactor, QualityFactor, SizeFactor, ValueFactor
from qtc.manifest.strategy import Strategy
from qtc.manifest.universe import IndexMembersUniverse, SymbolsUniverse

TRADING_DAYS_PER_YEAR = 252
WARN = Severity.WARNING


def lint(strategy: Strategy, as_of: dt.date, locate: Locate) -> list[Diagnostic]:
    """Run every lint rule."""
    return [
        *_same_close(strategy, locate),
        *_full_sample(strategy, locate),
        *_fundamentals(strategy, locate),
        *_survivorship(strategy, locate),
        *_warmup(strategy, as_of, locate),
    ]


def _same_close(strategy: Strategy, locate: Locate) -> list[Diagnostic]:
    """QTC301: trading at the close that produced the signal."""
    if strategy.rebalance.execution != "close":
        return []
    return [
        diag(
            "QTC301",
            ("rebalance", "execution"),
            "signals computed at a close are traded at that same close",
            locate,
            severity=WARN,
            expected='`execution = "next_close"`',
            hint="nobody can trade at the close they have just observed; use next_close",
        )
    ]


def _full_sample(strategy: Strategy, locate: Locate) -> list[Diagnostic]:
    """QTC302: factor statistics computed over all dates, future included."""
    if strategy.scoring.normalization != "full_sample":
        return []
    return [
        diag(
            "QTC302",
            ("scoring", "normalization"),
            "full-sample normalization uses future data on every past date",
            locate,
            severity=WARN,
            expected='`normalization = "cross_section"`',
        )
    ]


def _fundamentals(strategy: Strategy, locate: Locate) -> list[Diagnostic]:
    """QTC303: fundamentals visible at period end (before they were published)."""
    kinds = (ValueFactor, QualityFactor, GrowthFactor, SizeFactor)
    out: list[Diagnostic] = []
    for factor in strategy.factors:
        if isinstance(factor, kinds) and factor.point_in_time == "period_end":
            out.append(
                diag(
                    "QTC303",
                    ("factors", factor.name, "point_in_time"),
                    f'factor "{factor.name}" joins fundamentals on period end '
                    f"+ {factor.lag_days} days, not on their publish date",
                    locate,
                    severity=WARN,
                    expected='`point_in_time = "publish_date"`',
                    hint="reports are published weeks after the period ends",
                )
            )
    return out


def _survivorship(strategy: Strategy, locate: Locate) -> list[Diagnostic]:
    """QTC304/QTC305: universes chosen with today's knowledge."""
    uni = strategy.universe
    if isinstance(uni, SymbolsUniverse):
        return [
            diag(
                "QTC304",
                ("universe", "symbols"),
                f"a fixed list of {len(uni.symbols)} symbols chosen today is used from "
                f"{strategy.data.start}",
                locate,
                severity=WARN,
                hint='the list only holds survivors; prefer `kind = "index_members"`',
            )
        ]
    if isinstance(uni, IndexMembersUniverse) and uni.membership == "latest":
        return [
            diag(
                "QTC305",
                ("universe", "membership"),
                f"today's {uni.index} members are used for every past date",
                locate,
                severity=WARN,
                expected='`membership = "point_in_time"`',
            )
        ]
    return []


def warmup_days(strategy: Strategy) -> int:
    """Trading days of history the first rebalance needs."""
    days = [f.warmup_days() for f in strategy.factors]
    days.append(strategy.sizing.warmup_days())
    days.append(strategy.universe.min_history_days)
    days.append(getattr(strategy.stops, "period", 0))
    days.append(getattr(strategy.regime, "smoothing_days", 0))
    return max(days)


def _warmup(strategy: Strategy, as_of: dt.date, locate: Locate) -> list[Diagnostic]:
    """QTC306: warm-up longer than the history the strategy allows itself."""
    need = warmup_days(strategy)
    data = strategy.data
    first = data.history_start or data.start
    last = data.end or as_of
    window = _trading_days(first, last)
    has = _trading_days(first, data.start) if data.history_start else None
    if has is not None and need > has:
        return [
            diag(
                "QTC306",
                ("data", "history_start"),
                f"warm-up needs ~{need} trading days but history_start leaves ~{has}",
                locate,
                severity=WARN,
                hint="early rebalances will have missing factors; move history_start earlier",
            )
        ]
    if need > window > 0:
        return [
            diag(
                "QTC306",
                ("data", "start"),
                f"warm-up needs ~{need} trading days but the window has ~{window}",
                locate,
                severity=WARN,
                hint="extend the window or shorten the lookbacks",
            )
        ]
    return []


def _trading_days(start: dt.date, end: dt.date) -> int:
    """Approximate trading days between two dates (252 per 365.25 calendar days)."""
    return max(0, int((end - start).days * TRADING_DAYS_PER_YEAR / 365.25))
