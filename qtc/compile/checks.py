"""Checks across sections: problems no single section can see.

Each check returns diagnostics with a key path; locations are filled in by the
`locate` callback (a pure lookup into the loaded file's key origins).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

from qtc.errors import Diagnostic, Location, Severity
from qtc.manifest.overrides import SET
from qtc.manifest.paths import UserPath, format_path
from qtc.manifest.strategy import Strategy
from qtc.manifest.universe import IndexMembersUniverse, SymbolsUniverse

Locate = Callable[..., Location | None]
"""`locate(path, key=False)`: where a key path was written (its key or its value)."""

INDEX_SIZES = {"sp500": 505, "sp400": 400, "sp600": 600, "nasdaq100": 101, "dow30": 30}
ALL_UNIVERSE_LIMIT = 10_000


def diag(
    code: str,
    path: UserPath,
    message: str,
    locate: Locate,
    *,
    severity: Severity = Severity.ERROR,
    expected: str = "",
    hint: str = "",
    at_key: bool = False,
) -> Diagnostic:
    """Build a compiler diagnostic at a key path (its value, or its key with `at_key`)."""
    return Diagnostic(
        code=code,
        message=message,
        severity=severity,
        location=locate(path, key=True) if at_key else locate(path),
        key_path=format_path(path),
        expected=expected,
        hint=hint,
    )


def check_weights(strategy: Strategy, locate: Locate) -> list[Diagnostic]:
    """Scoring weights must name declared factors, not all be zero; factors should be used."""
    names = strategy.factor_names()
    weights = strategy.scoring.weights
    out = [_unknown_factor(name, names, locate) for name in weights if name not in names]
    if weights and not any(weights.values()):
        return [*out, _all_zero(weights, locate)]
    if weights:
        out += [_unused(name, locate) for name in names if weights.get(name, 0.0) == 0.0]
    return out


def _unknown_factor(name: str, names: list[str], locate: Locate) -> Diagnostic:
    """QTC201: a weight for a factor that is not declared."""
    return diag(
        "QTC201",
        ("scoring", "weights", name),
        f'scoring weight names unknown factor "{name}"',
        locate,
        expected="a factor `name` from [[factors]]: " + (", ".join(names) or "none"),
        hint=_near(name, names),
    )


def _unused(name: str, locate: Locate) -> Diagnostic:
    """QTC208 (warning): a declared factor with no (or a zero) weight."""
    return diag(
        "QTC208",
        ("factors", name, "name"),
        f'factor "{name}" has no scoring weight, so it is not computed',
        locate,
        severity=Severity.WARNING,
        hint=f"add `{name} = 1.0` to scoring.weights or remove the factor",
    )


def _all_zero(weights: dict[str, float], locate: Locate) -> Diagnostic:
    """QTC210: every score would be 0, so names would be held in alphabetical order."""
    first = next(iter(weights))
    here = ("scoring", "weights")
    found = diag(
        "QTC210",
        here,
        "scoring weights are all zero: every symbol would get the same score",
        locate,
        expected=f"at least one non-zero weight, e.g. `weights = {{ {first} = 1.0 }}`",
        hint="give at least one factor a non-zero weight (the sign sets its direction), "
        "or remove `weights` to weight every factor 1",
    )
    overrides = [loc for name in weights if (loc := locate((*here, name))) and loc.file == SET]
    return replace(found, location=overrides[-1]) if overrides else found


def check_caps(strategy: Strategy, locate: Locate) -> list[Diagnostic]:
    """Risk limits vs sizing caps, leverage, and whether the portfolio can be fully invested."""
    out: list[Diagnostic] = []
    cap, limit = strategy.sizing.max_weight, strategy.risk.max_position_pct
    if limit < cap:
        out.append(
            diag(
                "QTC202",
                ("risk", "max_position_pct"),
                f"risk.max_position_pct ({limit}) is below sizing.max_weight ({cap})",
                locate,
                expected=f"max_position_pct >= sizing.max_weight, e.g. `max_position_pct = {cap}`",
                hint="lower sizing.max_weight or raise risk.max_position_pct",
            )
        )
    if strategy.risk.max_leverage > 1.0:
        out.append(
            diag(
                "QTC206",
                ("risk", "max_leverage"),
                f"max_leverage = {strategy.risk.max_leverage}: the engine cannot borrow",
                locate,
                expected="`max_leverage = 1.0` or lower",
                hint="nanobook keeps cash >= 0, so gross exposure above 1 cannot be simulated",
            )
        )
    if strategy.costs.sizing == "net" and strategy.stops.kind != "none":
        out.append(
            diag(
                "QTC211",
                ("costs", "sizing"),
                f'costs.sizing = "net" with {strategy.stops.kind} stops: the stops path '
                "sizes on pre-trade equity only",
                locate,
                expected='`sizing = "gross"` with stops',
                hint='use `sizing = "gross"`, or remove [stops] to size on post-fee equity',
            )
        )
    top_n = strategy.selection.top_n
    if top_n is not None and top_n * min(cap, limit) < 1.0 - 1e-9:
        invested = top_n * min(cap, limit)
        binding = ("risk", "max_position_pct") if limit < cap else ("sizing", "max_weight")
        out.append(
            diag(
                "QTC209",
                binding,
                f"{top_n} names x cap {min(cap, limit)} invests at most {invested:.0%}",
                locate,
                severity=Severity.WARNING,
                hint="the rest stays in cash; raise the cap or top_n if that is not intended",
            )
        )
    return out


def check_selection(strategy: Strategy, locate: Locate) -> list[Diagnostic]:
    """Selection size vs the largest plausible universe."""
    top_n = strategy.selection.top_n
    if top_n is None:
        return []
    uni = strategy.universe
    if isinstance(uni, SymbolsUniverse):
        size, what = len(set(uni.symbols) - set(uni.exclude)), "symbols listed in universe.symbols"
    elif isinstance(uni, IndexMembersUniverse) and uni.index in INDEX_SIZES:
        size, what = INDEX_SIZES[uni.index], f"members of {uni.index}"
    else:
        size, what = ALL_UNIVERSE_LIMIT, "symbols any lake plausibly holds"
    if top_n <= size:
        return []
    return [
        diag(
            "QTC203",
            ("selection", "top_n"),
            f"selection.top_n = {top_n} but there are at most {size} {what}",
            locate,
            expected=f"top_n <= {size}",
            hint="lower top_n, or use `quantile` to select a fraction",
        )
    ]


def check_window(strategy: Strategy, as_of: dt.date, locate: Locate) -> list[Diagnostic]:
    """The run window must not be empty once `as_of` bounds it."""
    end = strategy.data.end or as_of
    if end > strategy.data.start and strategy.data.start <= as_of:
        return []
    return [
        diag(
            "QTC207",
            ("data", "start"),
            f"empty window: start {strategy.data.start} is not before end {end} / as_of {as_of}",
            locate,
            expected="data.start before data.end and before the as-of date",
        )
    ]


def _near(name: str, names: list[str]) -> str:
    """A did-you-mean hint among names."""
    import difflib

    near = difflib.get_close_matches(name, names, n=1)
    return f'did you mean "{near[0]}"?' if near else ""
