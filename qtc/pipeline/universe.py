"""SelectUniverse: which symbols are eligible on each signal date.

Requires the panel (and the lake's `membership` for `index_members`).
Produces an (R, N) bool mask over signal rows. A symbol is eligible when it
has a price on the signal date, passes `min_price` (raw close) and
`min_history_days` (priced days up to and including the signal date), is not
excluded, is in the chosen sectors, and (for `index_members`) is a member on
that date. Before an index's first membership snapshot the first snapshot is
used and a warning says so (membership is unknown there).

`universe_steps` returns the same rules one by one, in a fixed order (the kind's
priced members, sectors, exclude, min_history_days, min_price), so a rebalance
that selects nothing can be traced to the first rule that left no symbol
(`qtc.pipeline.empty`); `select_universe` is their conjunction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from qtc.compile.stages import SelectUniverse
from qtc.lake.read.reader import Lake
from qtc.manifest.universe import IndexMembersUniverse, SymbolsUniverse, UniverseSpec
from qtc.pipeline.panel import Panel


@dataclass(frozen=True)
class UniverseStep:
    """One universe rule and the symbols it keeps.

    Attributes:
        reason: Why a rebalance is empty when this rule leaves no symbol (user terms).
        keep: (R, N) bool on signal rows, or (N,) bool for a rule on symbols only.
    """

    reason: str
    keep: np.ndarray


def select_universe(
    spec: SelectUniverse, panel: Panel, rows: np.ndarray, lake: Lake, warnings: list[str]
) -> np.ndarray:
    """The eligibility mask on signal rows, (len(rows), N)."""
    return eligible_mask(universe_steps(spec, panel, rows, lake, warnings), panel, rows)


def eligible_mask(steps: list[UniverseStep], panel: Panel, rows: np.ndarray) -> np.ndarray:
    """The conjunction of the steps' masks, (len(rows), N)."""
    mask = np.ones((len(rows), len(panel.symbols)), bool)
    for step in steps:
        mask &= step.keep
    return mask


def universe_steps(
    spec: SelectUniverse, panel: Panel, rows: np.ndarray, lake: Lake, warnings: list[str]
) -> list[UniverseStep]:
    """The universe rules in order, each with the symbols it keeps on signal rows."""
    uni = spec.universe
    steps = [_base(uni, panel, rows, lake, warnings)]
    if uni.sectors:
        steps.append(UniverseStep(_filter("sectors", uni.sectors), _sectors(uni, panel)))
    if uni.exclude:
        keep = ~np.isin(panel.symbols, uni.exclude)
        steps.append(UniverseStep(_filter("exclude", uni.exclude), keep))
    if uni.min_history_days > 0:
        history = np.cumsum(np.isfinite(panel.adj_close), axis=0)[rows]
        keep = history >= uni.min_history_days
        steps.append(UniverseStep(_filter("min_history_days", uni.min_history_days), keep))
    if uni.min_price > 0:
        with np.errstate(invalid="ignore"):
            keep = ~(panel.close[rows] < uni.min_price)
        steps.append(UniverseStep(_filter("min_price", uni.min_price), keep))
    return steps


def _base(
    uni: UniverseSpec, panel: Panel, rows: np.ndarray, lake: Lake, warnings: list[str]
) -> UniverseStep:
    """The kind's own rule: priced symbols (of the list, or members of the index)."""
    priced = np.isfinite(panel.adj_close[rows])
    if isinstance(uni, SymbolsUniverse):
        missing = sorted(set(uni.symbols) - set(panel.symbols))
        if missing:
            warnings.append(f"universe symbols not in the lake: {', '.join(missing)}")
        listed = np.isin(panel.symbols, uni.symbols)
        return UniverseStep("no symbol of `universe.symbols` has a price", priced & listed)
    if isinstance(uni, IndexMembersUniverse):
        members = _members(uni, panel, rows, lake, warnings)
        return UniverseStep(f"no member of index `{uni.index}` has a price", priced & members)
    return UniverseStep("no symbol has a price", priced)


def _sectors(uni: UniverseSpec, panel: Panel) -> np.ndarray:
    """Symbols in the chosen sectors, (N,)."""
    keep: np.ndarray = np.isin(panel.sectors, uni.sectors)
    return keep


def _filter(key: str, value: object) -> str:
    """'universe filter `min_price = 5` leaves no symbol'."""
    if isinstance(value, list):
        shown = ", ".join(f'"{v}"' for v in value[:3]) + (", ..." if len(value) > 3 else "")
        text = f"[{shown}]"
    else:
        text = f"{value:g}" if isinstance(value, float) else str(value)
    return f"universe filter `{key} = {text}` leaves no symbol"


def _members(
    uni: IndexMembersUniverse, panel: Panel, rows: np.ndarray, lake: Lake, warnings: list[str]
) -> np.ndarray:
    """Membership mask on signal rows from the snapshot in force (or the latest one)."""
    dates = panel.dates[rows]
    members = lake.membership_asof(uni.index, None if uni.membership == "latest" else dates)
    if uni.membership == "latest":
        last = members["date"].max()
        members = members.filter(pl.col("date") == last)
        names = set(members["symbol"].to_list())
        return np.broadcast_to(np.isin(panel.symbols, list(names)), (len(rows), len(panel.symbols)))
    snapshots = lake.read("membership").filter(pl.col("index") == uni.index)["snapshot_date"]
    first_known = np.datetime64(str(snapshots.min()), "D")
    early = dates < first_known
    if early.any():
        first = lake.membership_asof(uni.index, np.array([first_known]))
        fill = first.select(pl.Series("date", dates[early]).alias("d")).join(first, how="cross")
        members = pl.concat([members, fill.select(pl.col("d").alias("date"), "symbol")])
        warnings.append(
            f"{uni.index} membership is unknown before {first_known}: "
            f"{int(early.sum())} rebalances use the first snapshot (survivorship bias)"
        )
    return _scatter(members, dates, panel.symbols)


def _scatter(members: pl.DataFrame, dates: np.ndarray, symbols: list[str]) -> np.ndarray:
    """A (dates, symbols) bool mask from a long `date, symbol` frame."""
    col = {s: j for j, s in enumerate(symbols)}
    mask = np.zeros((len(dates), len(symbols)), bool)
    days = members["date"].to_numpy().astype("datetime64[D]")
    syms = members["symbol"].to_list()
    r = np.searchsorted(dates, days)
    c = np.array([col.get(s, -1) for s in syms], dtype=np.int64)
    ok = (c >= 0) & (r < len(dates))
    ok[ok] &= dates[r[ok]] == days[ok]
    mask[r[ok], c[ok]] = True
    return mask
