"""Read-only SQL: only SELECT statements (and EXPLAIN of one) may run over a lake.

Statements are classified by DuckDB's own parser (`duckdb.extract_statements`), never by
regular expressions over the text: every statement of the input must be a SELECT (which in
DuckDB includes `WITH ... SELECT`, `VALUES`, `FROM t`, `DESCRIBE`, `SUMMARIZE` and
`SHOW`), or `EXPLAIN [ANALYZE]` followed by exactly one such statement. Anything else
(COPY, ATTACH, DETACH, CREATE, INSERT, UPDATE, DELETE, DROP, ALTER, INSTALL, LOAD,
SET, RESET, PRAGMA, EXPORT, IMPORT, CALL, ...) is refused before a connection is opened,
even as one statement among several. `qtc.lake.read.sql` then also locks the connection down
(no file access outside the lake's dataset files, configuration locked).
"""

from __future__ import annotations

import re

import duckdb

from qtc.errors import UserError

_EXPLAIN = re.compile(r"\s*EXPLAIN(\s+ANALYZE)?\s+", re.IGNORECASE)
_KEYWORD = re.compile(r"\s*([A-Za-z]+)")
_HINT = (
    "`qtc data query` is read-only: use SELECT (also WITH, DESCRIBE, SUMMARIZE, EXPLAIN "
    "SELECT); change a lake with `qtc data ingest`"
)


def check_read_only(sql: str) -> None:
    """Refuse SQL that is not made only of read-only statements.

    Args:
        sql: The query text (one or more statements).

    Raises:
        UserError: For an empty query, a syntax error, or any statement that is not a
            SELECT (the message names the statement kind).
    """
    statements = _statements(sql)
    if not statements:
        raise UserError("the query is empty", hint='e.g. "SELECT count(*) FROM prices"')
    for statement in statements:
        kind = _kind(statement)
        if kind is not None:
            raise UserError(f"{kind} statements are not allowed: queries are read-only", hint=_HINT)


def _statements(sql: str) -> list[duckdb.Statement]:
    """Split SQL into DuckDB statements.

    Raises:
        UserError: If DuckDB cannot parse it.
    """
    try:
        return list(duckdb.extract_statements(sql))
    except duckdb.Error as exc:
        raise UserError(f"query failed: {exc}", hint=_HINT) from exc


def _kind(statement: duckdb.Statement) -> str | None:
    """None for a read-only statement, else the name of its kind (`COPY`, `INSTALL`, ...)."""
    try:
        kind = statement.type
    except ValueError:  # a statement type this DuckDB's Python API cannot name
        kind = None
    if kind == duckdb.StatementType.SELECT:
        return None
    if kind == duckdb.StatementType.EXPLAIN:
        inner = _explained(statement.query)
        if len(inner) != 1:
            return "EXPLAIN (with options)"
        explained = _kind(inner[0])
        return None if explained is None else f"EXPLAIN {explained}"
    word = _KEYWORD.match(statement.query)
    return word.group(1).upper() if word else "this kind of"


def _explained(query: str) -> list[duckdb.Statement]:
    """The statements after `EXPLAIN [ANALYZE]` (empty if they do not parse on their own)."""
    prefix = _EXPLAIN.match(query)
    if prefix is None:
        return []
    try:
        return _statements(query[prefix.end() :])
    except UserError:
        return []
