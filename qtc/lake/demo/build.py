"""The built-in demo market: a SYNTHETIC lake for trying qtc without data.

Everything in the demo lake is made up: the tickers, the companies, the
prices, the fundamentals, the index, the benchmark, the rates and the macro
series. It is generated from a seed with NumPy's PCG64 generator, so the same
seed always gives byte-identical Parquet files and `catalog.json` (with the
same library versions), and it is shaped like a real market so that example
strategies behave plausibly: a market factor with volatility clustering and
fat tails, 11 sectors, momentum persistence, listings and delistings, index
membership changes, annual fundamentals with publish dates, a cap-weighted
`SPY` benchmark, a risk-free rate and VIX/yields. See `qtc.lake.demo.market`
and `qtc.lake.demo.tables` for the model. Results on it say nothing about
real markets.
"""

from __future__ import annotations

import time
from datetime import date
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from qtc.errors import UserError
from qtc.lake.demo.market import simulate_market
from qtc.lake.demo.tables import all_tables, demo_window
from qtc.lake.ingest.ingest import IngestReport, make_report, validate_dataset
from qtc.lake.ingest.store import DatasetWrite, write_lake
from qtc.lake.ingest.validate import LakeValidationError, errors_in, summarize

DEMO_START = date(2005, 1, 3)
DEMO_END = date(2023, 12, 29)
DEMO_SYMBOLS = 300
GENERATOR = "qtc.lake.demo.build v1"


def build_demo_lake(
    path: str | PathLike[str],
    seed: int = 7,
    *,
    n_symbols: int = DEMO_SYMBOLS,
    years: int | None = None,
) -> IngestReport:
    """Build the SYNTHETIC demo market into a lake folder.

    Args:
        path: The lake folder (created; existing datasets are replaced atomically).
        seed: Seed of the PCG64 generator; the same seed gives identical files.
        n_symbols: Number of stocks (default 300).
        years: Calendar years from 2005 to simulate (default: 2005-01-03 .. 2023-12-29).

    Returns:
        The report (rows, hashes, warning findings).

    Raises:
        UserError: For bad parameters.
        LakeValidationError: If the generated data fails validation (a bug).
    """
    started = time.perf_counter()
    if n_symbols < 10:
        raise UserError(f"the demo market needs at least 10 symbols, got {n_symbols}")
    if years is not None and years < 2:
        raise UserError(f"the demo market needs at least 2 years, got {years}")
    start, end = demo_window(years, DEMO_START, DEMO_END)
    rng = np.random.Generator(np.random.PCG64(seed))
    market = simulate_market(rng, n_symbols, start, end)
    tables = all_tables(market, rng)
    findings = {name: validate_dataset(name, frame) for name, frame in tables.items()}
    everything = [f for items in findings.values() for f in items]
    if errors_in(everything):
        raise LakeValidationError(everything, what="demo build")
    provenance = _provenance(seed, n_symbols, start, end)
    writes = {
        name: DatasetWrite(frame, provenance, {}, summarize(findings[name]))
        for name, frame in tables.items()
    }
    lake = Path(path).expanduser()
    catalog = write_lake(lake, writes, operation="build_demo_lake", meta={"*": {"seed": seed}})
    notes = ("SYNTHETIC demo market",)
    return make_report(lake, catalog, writes, findings, started=started, notes=notes)


def _provenance(seed: int, n_symbols: int, start: date, end: date) -> dict[str, Any]:
    """Catalog provenance of every demo dataset.

    Args:
        seed: Generator seed.
        n_symbols: Number of stocks.
        start: First date.
        end: Last date.

    Returns:
        The provenance mapping (deterministic).
    """
    return {
        "synthetic": True,
        "generator": GENERATOR,
        "seed": seed,
        "n_symbols": n_symbols,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "notes": ["SYNTHETIC demo market: made-up symbols and prices, not real data"],
    }
