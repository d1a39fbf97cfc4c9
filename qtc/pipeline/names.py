"""Names a plan takes from the lake: symbols, sectors and benchmarks must exist there.

`check_names(plan, lake, warnings)` runs before a backtest reads any data. A name the lake
does not know is a user mistake (a typo, usually), not a reason to sit in cash:

* `universe.symbols`: every unknown symbol is an error (even when others exist), with
  close matches (difflib) and the number of symbols in the lake;
* `universe.sectors`: an unknown sector is an error listing the lake's sectors (from its
  `symbols` dataset);
* `data.benchmark`, and the `benchmark` of a used beta factor: an error listing the lake's
  benchmarks;
* `universe.exclude`: an unknown symbol only gives a warning (excluding it changes nothing).

A symbol is known when it is in the lake's `symbols` dataset or has prices.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import polars as pl

from qtc.compile.plan import Plan
from qtc.compile.stages import LoadData, SelectUniverse
from qtc.errors import UserError
from qtc.lake.read.reader import Lake
from qtc.manifest.factors import BetaFactor, FactorSpec
from qtc.manifest.universe import SymbolsUniverse, UniverseSpec

SYMBOLS_QUERY = 'qtc data query "SELECT symbol, name, sector FROM symbols ORDER BY 1"'
"""How a user lists the lake's symbols."""

CUTOFF = 0.75
"""difflib similarity above which a name is offered as a did-you-mean (MSFTT -> MSFT)."""


def check_names(plan: Plan, lake: Lake, factors: Iterable[FactorSpec], warnings: list[str]) -> None:
    """Check the plan's symbols, sectors and benchmarks against the lake.

    Args:
        plan: The plan to run.
        lake: The lake it runs on.
        factors: The factors that will be computed (their benchmarks are checked).
        warnings: Run warnings; an unknown `universe.exclude` symbol is added here.

    Raises:
        UserError: For an unknown universe symbol, sector or benchmark.
    """
    uni: UniverseSpec = plan.spec(SelectUniverse).universe
    table = lake.symbols()
    listed = [*uni.exclude, *(uni.symbols if isinstance(uni, SymbolsUniverse) else [])]
    known = _known(lake, table, listed)
    if isinstance(uni, SymbolsUniverse):
        _check_symbols(uni.symbols, known)
    if uni.sectors:
        _check_sectors(uni.sectors, table)
    if uni.exclude:
        _check_exclude(uni.exclude, known, warnings)
    benchmark = plan.spec(LoadData).benchmark
    _check_benchmark(benchmark, "data.benchmark", lake)
    for spec in factors:
        if isinstance(spec, BetaFactor) and spec.benchmark:
            _check_benchmark(spec.benchmark, f"factors.{spec.name}.benchmark", lake)


def _known(lake: Lake, table: pl.DataFrame, names: list[str]) -> set[str]:
    """The lake's `symbols` dataset, plus priced symbols when one of `names` is not in it."""
    known = set(table["symbol"].to_list())
    if any(n not in known for n in names):
        known |= set(lake.last_dates()["symbol"].to_list())
    return known


def _unknown(names: Iterable[str], known: set[str]) -> list[str]:
    """The names not in `known`, sorted, once each."""
    return sorted({n for n in names if n not in known})


def _check_symbols(symbols: list[str], known: set[str]) -> None:
    """Every `universe.symbols` entry must be in the lake."""
    missing = _unknown(symbols, known)
    if not missing:
        return
    raise UserError(
        f"universe.symbols: {_count(missing, 'symbol')} not in the lake: {', '.join(missing)}",
        hint=_joined(
            _suggest(missing, known),
            f"the lake has {len(known)} symbols (list them with `{SYMBOLS_QUERY}`)",
        ),
    )


def _check_sectors(sectors: list[str], table: pl.DataFrame) -> None:
    """Every `universe.sectors` entry must be a sector of the lake's `symbols` dataset."""
    valid = sorted({s for s in table["sector"].to_list() if s})
    missing = sorted({s for s in sectors if s not in valid})
    if not missing:
        return
    raise UserError(
        f"universe.sectors: {_count(missing, 'sector')} not in the lake: "
        + ", ".join(f'"{s}"' for s in missing),
        hint=_joined(
            _suggest(missing, set(valid)),
            "the lake's sectors are: " + ", ".join(f'"{s}"' for s in valid),
        ),
    )


def _check_exclude(exclude: list[str], known: set[str], warnings: list[str]) -> None:
    """An unknown `universe.exclude` symbol is only worth a warning."""
    missing = _unknown(exclude, known)
    if missing:
        near = _suggest(missing, known)
        warnings.append(
            f"universe.exclude: {_count(missing, 'symbol')} not in the lake, nothing to "
            f"exclude: {', '.join(missing)}" + (f" ({near})" if near else "")
        )


def _check_benchmark(symbol: str, key: str, lake: Lake) -> None:
    """A benchmark must be in the lake's `benchmarks` dataset."""
    available = lake.benchmark_symbols()
    if symbol in available:
        return
    raise UserError(
        f"{key}: benchmark {symbol!r} is not in the lake",
        hint=_joined(
            _suggest([symbol], set(available)),
            "the lake's benchmarks are: " + ", ".join(available),
        ),
    )


def _count(names: list[str], noun: str) -> str:
    """'1 symbol is' / '2 symbols are'."""
    return f"1 {noun} is" if len(names) == 1 else f"{len(names)} {noun}s are"


def _suggest(missing: list[str], known: set[str]) -> str:
    """Did-you-mean text for the missing names that have close matches ("" when none do)."""
    choices = sorted(known)
    parts = []
    for name in missing:
        near = difflib.get_close_matches(name, choices, n=3, cutoff=CUTOFF)
        near = near or [c for c in choices if c.casefold() == name.casefold()]
        if near:
            parts.append(f"{name} -> {' or '.join(near)}")
    return f"did you mean {', '.join(parts)}?" if parts else ""


def _joined(*parts: str) -> str:
    """The non-empty parts, joined with '; '."""
    return "; ".join(p for p in parts if p)
