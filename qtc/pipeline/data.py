"""LoadData: read the panel for the run window (plus warm-up) from the lake.

Requires the lake's `prices`, `benchmarks`, `rates`, `symbols` (and `macro`
for a regime overlay). Produces a `Panel` whose rows start `warmup_days`
trading days before `start` (or at `history_start`), ending at `end` clipped
to the lake's last date. Without a symbol list, the panel has the symbols priced
in that window.

The price matrices are read-only: when every symbol of the lake is priced in the
window they are views of the lake's memory-mapped matrix cache, not copies
(`Lake.bar_matrices(views=True)`), and an open `Lake` reads its small tables once
(`Lake._kept`), so a warm session loads a market in a few milliseconds.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from qtc.compile.stages import LoadData
from qtc.errors import UserError
from qtc.lake.read.reader import Lake
from qtc.pipeline.panel import Panel

PRICE_COLUMNS = ("adj_close",)
OHLC_COLUMNS = ("open", "high", "low")


def load_data(
    spec: LoadData,
    lake: Lake,
    *,
    ohlc: bool,
    symbols: list[str] | None,
    raw_close: bool = True,
    benchmarks: tuple[str, ...] = (),
) -> Panel:
    """Read the run's market data into a Panel.

    Args:
        spec: Window, warm-up, benchmark and datasets.
        lake: The lake.
        ohlc: Also read open/high/low (ATR factors).
        raw_close: Read the raw close (price filters, market caps); otherwise `close`
            is the adj_close array itself (no filter or factor reads it).
        symbols: Restrict to these symbols (a `symbols` universe), or None for all.
        benchmarks: Other benchmark series to load into `extra["benchmark:<symbol>"]`
            (beta factors against another index); the run's benchmark is always there.

    Returns:
        The panel; `panel.start` is the first row on or after `spec.start`.

    Raises:
        UserError: If the window has no trading days in the lake.
    """
    calendar = lake.calendar(None, spec.end)
    days = calendar.astype("datetime64[D]")
    first = int(np.searchsorted(days, np.datetime64(spec.start)))
    if first >= len(days):
        raise UserError(
            f"no trading days in the lake between {spec.start} and {spec.end}",
            hint="check data.start/data.end against `qtc data info`",
        )
    load_from = max(0, first - spec.warmup_days - 5)
    if spec.history_start is not None:
        load_from = max(load_from, int(np.searchsorted(days, np.datetime64(spec.history_start))))
    columns = (
        PRICE_COLUMNS + (("close",) if raw_close or ohlc else ()) + (OHLC_COLUMNS if ohlc else ())
    )
    dates, names, m = lake.bar_matrices(
        columns, symbols, str(days[load_from]), spec.end, priced_by="adj_close", views=True
    )
    bench = _benchmark(lake, spec.benchmark, dates)
    extra = {f"benchmark:{spec.benchmark}": bench}
    for other in benchmarks:
        extra.setdefault(f"benchmark:{other}", _benchmark(lake, other, dates))
    return Panel(
        extra=extra,
        dates=dates,
        symbols=names,
        adj_close=m["adj_close"],
        close=m.get("close", m["adj_close"]),
        open=_adjusted(m, "open") if ohlc else None,
        high=_adjusted(m, "high") if ohlc else None,
        low=_adjusted(m, "low") if ohlc else None,
        volume=None,
        sectors=_sectors(lake, names),
        benchmark=bench,
        rf=_risk_free(lake, dates),
        start=int(np.searchsorted(dates, np.datetime64(spec.start))),
    )


def _adjusted(m: dict[str, np.ndarray], column: str) -> np.ndarray:
    """Rescale a raw OHLC column to the adj_close basis."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out: np.ndarray = m[column] * (m["adj_close"] / m["close"])
    return out


def _sectors(lake: Lake, names: list[str]) -> list[str]:
    """Sector per symbol ("" when unknown)."""
    table = lake.symbols()
    by_symbol = dict(zip(table["symbol"].to_list(), table["sector"].to_list(), strict=True))
    return [by_symbol.get(s) or "" for s in names]


def benchmark_series(
    lake: Lake, symbol: str, start: str, end: str
) -> tuple[np.ndarray, np.ndarray]:
    """A benchmark's dates and total-return close (adj_close, or close for price indices).

    Raises:
        UserError: If the lake has no data for it in the window.
    """
    frame = lake.benchmark(symbol, start, end)
    if frame.is_empty():
        raise UserError(
            f"benchmark {symbol!r} has no data in the lake for {start}..{end}",
            hint="set data.benchmark to a symbol in the lake's `benchmarks` dataset",
        )
    col = "adj_close" if frame["adj_close"].null_count() < frame.height else "close"
    days = frame["date"].to_numpy().astype("datetime64[D]")
    return days, frame[col].cast(float).fill_null(np.nan).to_numpy()


def _benchmark(lake: Lake, symbol: str, dates: np.ndarray) -> np.ndarray:
    """Benchmark total-return close aligned to the panel dates (NaN where missing)."""
    days, values = benchmark_series(lake, symbol, str(dates[0]), str(dates[-1]))
    out = np.full(len(dates), np.nan)
    pos = np.searchsorted(dates, days)
    ok = (pos < len(dates)) & (dates[np.minimum(pos, len(dates) - 1)] == days)
    out[pos[ok]] = values[ok]
    return out


def _risk_free(lake: Lake, dates: np.ndarray) -> np.ndarray:
    """Daily risk-free return per panel date (0 where unknown)."""
    if "rates" not in lake.datasets:
        return np.zeros(len(dates))
    frame = lake.rates(dates)
    return frame["rf"].cast(float).fill_null(0.0).to_numpy()


def window_end(lake: Lake) -> dt.date:
    """Last date with prices in the lake."""
    cal = lake.calendar(None, None)
    return dt.date.fromisoformat(str(cal[-1].astype("datetime64[D]")))
