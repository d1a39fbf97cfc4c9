"""SQL over a lake: DuckDB views named after each dataset, results as polars frames.

Results travel through NumPy (`fetchnumpy`) rather than Arrow: this
environment has no pyarrow, and DuckDB's Arrow C-stream export leaks
objects that nanobind reports on stderr at exit. Column types are restored
from DuckDB's result types (DATE stays a date; lists and structs are rebuilt
by polars from Python values).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from qtc.errors import UserError


def run_query(views: Mapping[str, Path], sql: str) -> pl.DataFrame:
    """Run SQL with one view per dataset file.

    Args:
        views: View name -> Parquet file.
        sql: The query.

    Returns:
        The result (an empty frame for statements without a result).

    Raises:
        UserError: If DuckDB rejects the query.
    """
    con = duckdb.connect(":memory:")
    try:
        for name, path in views.items():
            quoted = str(path).replace("'", "''")
            con.execute(f"CREATE VIEW \"{name}\" AS SELECT * FROM read_parquet('{quoted}')")
        relation: duckdb.DuckDBPyRelation | None = con.sql(sql)
        if relation is None:
            return pl.DataFrame()
        types = [str(t) for t in relation.types]
        arrays = relation.fetchnumpy()
        return pl.DataFrame(
            [
                _series(name, arrays[name], kind)
                for name, kind in zip(relation.columns, types, strict=True)
            ]
        )
    except duckdb.Error as exc:
        raise UserError(f"query failed: {exc}", hint=f"views: {', '.join(views)}") from exc
    finally:
        con.close()


def _series(name: str, values: np.ndarray, duck_type: str) -> pl.Series:
    """Convert one fetched NumPy column to a polars series of the right type.

    Args:
        name: Column name.
        values: NumPy (masked) array from `fetchnumpy`.
        duck_type: DuckDB type name of the column.

    Returns:
        The series.
    """
    series = pl.Series(name, values)
    if duck_type == "DATE":
        return series.cast(pl.Date)
    if series.dtype == pl.Object:
        items = [v.tolist() if isinstance(v, np.ndarray) else v for v in series.to_list()]
        return pl.Series(name, items, strict=False)
    return series
