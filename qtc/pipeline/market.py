"""The market: one loaded panel and the lake it came from, keyed by its LoadData spec.

`load_market(spec, lake)` reads what the spec says (window, warm-up, columns, symbols,
benchmarks) into a `Market`. The spec's market fields alone identify it
(`market_key`), so any number of plans whose load stages agree run on one loaded
market (`qtc.pipeline.runner.run_on_market`) and share one `FactorCache`.

Tables that only some plans read (fundamentals, macro series) are read from the
market's lake on first use and kept for the next plan; so are the arrays every plan
derives from the panel alike (forward-filled marks, daily returns, last priced rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from qtc.compile.fingerprint import fingerprint
from qtc.compile.stages import LoadData
from qtc.lake.read.reader import Lake
from qtc.pipeline.data import load_data
from qtc.pipeline.engine import forward_filled, last_priced_rows
from qtc.pipeline.factors_fundamental import FundamentalsSource, lake_fundamentals
from qtc.pipeline.panel import Panel


def market_key(spec: LoadData) -> str:
    """The identity of the market a load spec reads: `sha256:` of its market fields."""
    return fingerprint(spec.market_fields())


@dataclass(eq=False)
class Market:
    """A loaded market.

    Attributes:
        key: `market_key` of the spec it was loaded for.
        spec: That spec.
        panel: The price panel (warm-up rows first; `panel.start` is the window's first row).
        lake: The lake it was read from (side tables are read from it on first use).
        dataset_hashes: The lake's dataset hashes when it was loaded (run ids, artifacts).
        next_date: The lake's first trading day after the panel's last one (None: the data
            ends there), which tells whether the last row closes its period.
    """

    key: str
    spec: LoadData
    panel: Panel
    lake: Lake
    dataset_hashes: dict[str, str]
    next_date: np.datetime64 | None = None
    _fundamentals: dict[tuple[str, int], FundamentalsSource] = field(default_factory=dict)
    _macro: dict[str, np.ndarray] | None = None

    def fundamentals(self, point_in_time: str, lag_days: int) -> FundamentalsSource:
        """The point-in-time fundamentals source for `(point_in_time, lag_days)` (kept)."""
        pair = (point_in_time, lag_days)
        if pair not in self._fundamentals:
            self._fundamentals[pair] = lake_fundamentals(self.lake, point_in_time, lag_days)
        return self._fundamentals[pair]

    def macro(self) -> dict[str, np.ndarray]:
        """The lake's macro series aligned to the panel dates (read once)."""
        if self._macro is None:
            frame = self.lake.macro(self.panel.dates)
            self._macro = {
                c: frame[c].cast(float).fill_null(np.nan).to_numpy()
                for c in frame.columns
                if c != "date"
            }
        return self._macro

    @cached_property
    def marks(self) -> np.ndarray:
        """Forward-filled total-return closes, (T, N): what positions are marked at."""
        marks = forward_filled(self.panel.adj_close)
        marks.flags.writeable = False
        return marks

    @cached_property
    def marks_or_zero(self) -> np.ndarray:
        """`marks` with 0 where there is no finite price yet: weights need no mask on it."""
        marks = np.where(np.isfinite(self.marks), self.marks, 0.0)
        marks.flags.writeable = False
        return marks

    @cached_property
    def last_rows(self) -> np.ndarray:
        """Each symbol's last priced row, (N,) (-1 if never priced): where its data ends."""
        rows = last_priced_rows(self.panel.adj_close)
        rows.flags.writeable = False
        return rows

    @cached_property
    def returns(self) -> np.ndarray:
        """Daily simple returns of adj_close, (T, N) (`Panel.returns`)."""
        returns = self.panel.returns()
        returns.flags.writeable = False
        return returns

    def serves(self, spec: LoadData) -> bool:
        """Whether this market is the one `spec` loads."""
        return market_key(spec) == self.key


def load_market(spec: LoadData, lake: Lake) -> Market:
    """Read the market a load spec describes.

    Args:
        spec: The plan's LoadData stage (its market fields decide what is read).
        lake: The lake.

    Returns:
        The market.

    Raises:
        UserError: If the window has no trading days in the lake, or the benchmark has no data.
    """
    panel = load_data(
        spec,
        lake,
        ohlc=spec.ohlc,
        raw_close=spec.raw_close,
        symbols=list(spec.symbols) if spec.symbols is not None else None,
        benchmarks=spec.other_benchmarks,
    )
    later = lake.calendar(None, None)
    later = later[later > panel.dates[-1]]
    next_date = later[0] if len(later) else None
    return Market(market_key(spec), spec, panel, lake, lake.dataset_hashes(), next_date)
