"""SQL over a lake: DuckDB views named after each dataset, results as polars frames.

Queries are read-only: `qtc.lake.read.readonly` refuses every statement that is not a SELECT
before a connection is opened, and once the views exist the connection is locked down:
no extension installs or autoloads, no temp directory, file access only to the lake's
dataset files (`allowed_paths` + `enable_external_access = false`), and the configuration
locked, so a statement cannot turn these back on.

Results travel through NumPy (`fetchnumpy`) rather than Arrow: this
environment has no pyarrow, and DuckDB's Arrow C-stream export leaks
objects that nanobind reports on stderr at exit. Column types are restored
from DuckDB's result types (DATE stays a date; lists and structs are rebuilt
by polars from Python values).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from qtc.errors import UserError
from qtc.lake.read.readonly import check_read_only


class QueryError(UserError):
    """DuckDB failed running a query: a mistake in the SQL, or a dataset file it could not read.

    Attributes:
        view: The view whose file DuckDB named in its error, if any.
        cause: DuckDB's exception.
    """

    def __init__(self, message: str, *, hint: str, view: str | None, cause: BaseException):
        """Create the error."""
        super().__init__(message, hint=hint)
        self.view = view
        self.cause = cause

    @property
    def in_the_sql(self) -> bool:
        """Whether DuckDB rejected the SQL itself (syntax, unknown name), before reading data."""
        return isinstance(
            self.cause, duckdb.ParserException | duckdb.BinderException | duckdb.CatalogException
        )


def run_query(views: Mapping[str, Path], sql: str) -> pl.DataFrame:
    """Run read-only SQL with one view per dataset file.

    Args:
        views: View name -> Parquet file.
        sql: The query.

    Returns:
        The result.

    Raises:
        UserError: If the query is not read-only.
        QueryError: If DuckDB fails running it.
    """
    check_read_only(sql)
    con = duckdb.connect(":memory:")
    try:
        _create_views(con, views)
        _lock_down(con, views.values())
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
    except (duckdb.Error, RuntimeError) as exc:
        raise _query_error(views, exc) from exc
    finally:
        con.close()


def _query_error(views: Mapping[str, Path], exc: BaseException) -> QueryError:
    """The error for a failed query, naming the view whose file DuckDB named, if any."""
    view = next((name for name, path in views.items() if str(path) in str(exc)), None)
    hint = f"views: {', '.join(views)}"
    if isinstance(exc, duckdb.PermissionException):
        message = f"query refused: {exc}"
        hint = f"queries can read only the lake's datasets; {hint}"
    else:
        message = f"query failed: {exc}"
    return QueryError(message, hint=hint, view=view, cause=exc)


def _literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _create_views(con: duckdb.DuckDBPyConnection, views: Mapping[str, Path]) -> None:
    """Create one view per dataset file."""
    for name, path in views.items():
        quoted = name.replace('"', '""')
        con.execute(f'CREATE VIEW "{quoted}" AS SELECT * FROM read_parquet({_literal(str(path))})')


def _lock_down(con: duckdb.DuckDBPyConnection, files: Iterable[Path]) -> None:
    """Allow reading only the dataset files and lock the configuration."""
    allowed = ", ".join(_literal(str(p)) for p in files)
    for setting in (
        "SET autoinstall_known_extensions = false",
        "SET autoload_known_extensions = false",
        "SET temp_directory = ''",
        f"SET allowed_paths = [{allowed}]",
        "SET enable_external_access = false",
        "SET lock_configuration = true",
    ):
        con.execute(setting)


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
