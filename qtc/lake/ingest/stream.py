"""Price datasets that stay on disk: a Parquet source read in batches of whole symbols.

A source whose rows are already in the dataset's order (the shared data set's
`prices_daily.parquet` is sorted by symbol and date) is never held in memory as a whole:
it is validated a batch of whole symbols at a time (`ingest.validate_dataset`) and written
into the lake with `LazyFrame.sink_parquet` (`store`), which streams it and gives the same
file bytes as `DataFrame.write_parquet` of the conformed frame. A source in another order
is read and conformed in memory as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from qtc.lake.ingest.source_index import SourceIndex, batch_ranges, collect, index_source
from qtc.lake.schema import conform, spec

BATCH_ROWS = 500_000
"""Rows per validation batch (whole symbols, so a batch can be larger)."""


@dataclass(frozen=True, slots=True)
class StreamedFrame:
    """A conformed price dataset that is read from its source file when needed.

    Attributes:
        name: Dataset name (`prices` or `benchmarks`).
        source: The Parquet source file.
        plan: Lazy scan of the source giving the dataset's columns, dtypes and row order.
        index: Row count, rows per symbol and calendar of the source.
    """

    name: str
    source: Path
    plan: pl.LazyFrame
    index: SourceIndex

    @property
    def schema(self) -> pl.Schema:
        """Columns and dtypes of the dataset."""
        return self.plan.collect_schema()

    def batches(self) -> Iterator[pl.DataFrame]:
        """Yield the rows in order, in batches of whole symbols (at least one batch).

        Yields:
            About `BATCH_ROWS` rows at a time.

        Raises:
            UserError: If the source cannot be read.
        """
        for start, length in batch_ranges(self.index.runs, BATCH_ROWS):
            yield collect(self.plan.slice(start, length), self.source)

    def collect(self) -> pl.DataFrame:
        """Return the whole dataset in memory.

        Raises:
            UserError: If the source cannot be read.
        """
        return collect(self.plan, self.source)


def stream_or_frame(scan: pl.LazyFrame, source: Path, name: str) -> StreamedFrame | pl.DataFrame:
    """Stream a price source that is in dataset order, else conform it in memory.

    Args:
        scan: Lazy scan of the source with (at least) the dataset's columns.
        source: The Parquet file.
        name: `prices` or `benchmarks` (datasets ordered by symbol, then date).

    Returns:
        A `StreamedFrame`, or the conformed frame when the rows need sorting.

    Raises:
        UserError: If the file cannot be read or a column cannot be cast.
    """
    ds = spec(name)
    plan = scan.select(pl.col(c).cast(dtype) for c, dtype in ds.columns)
    index = index_source(plan, source) if ds.sort_by == ("symbol", "date") else None
    if index is None:
        return conform(collect(scan, source), name)
    return StreamedFrame(name, source, plan, index)
