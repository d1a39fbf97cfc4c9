"""SelectUniverse: which symbols are eligible on each signal date.

Requires the panel (and the lake's `membership` for `index_members`).
Produces an (R, N) bool mask over signal rows. A symbol is eligible when it
has a price on the signal date, passes `min_price` (raw close) and
`min_history_days` (priced days up to and including the signal date), is not
excluded, is in the chosen sectors, and (for `index_members`) is a member on
that date. Before an index's first membership snapshot the first snapshot is
used and a warning says so (membership is unknown there).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from qtc.compile.stages import SelectUniverse
from qtc.lake.reader import Lake
from qtc.manifest.universe import IndexMembersUniverse, SymbolsUniverse
from qtc.pipeline.panel import Panel


def select_universe(
    spec: SelectUniverse, panel: Panel, rows: np.ndarray, lake: Lake, warnings: list[str]
) -> np.ndarray:
    """The eligibility mask on signal rows, (len(rows), N)."""
    uni = spec.universe
    priced = np.isfinite(panel.adj_close[rows])
    history = np.cumsum(np.isfinite(panel.adj_close), axis=0)[rows]
    with np.errstate(invalid="ignore"):
        ok = priced & (history >= uni.min_history_days) & ~(panel.close[rows] < uni.min_price)
    columns = np.ones(len(panel.symbols), bool)
    if uni.exclude:
        columns &= ~np.isin(panel.symbols, uni.exclude)
    if uni.sectors:
        columns &= np.isin(panel.sectors, uni.sectors)
    if isinstance(uni, SymbolsUniverse):
        columns &= np.isin(panel.symbols, uni.symbols)
        missing = sorted(set(uni.symbols) - set(panel.symbols))
        if missing:
            warnings.append(f"universe symbols not in the lake: {', '.join(missing)}")
    mask: np.ndarray = ok & columns[None, :]
    if isinstance(uni, IndexMembersUniverse):
        mask &= _members(uni, panel, rows, lake, warnings)
    return mask


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
