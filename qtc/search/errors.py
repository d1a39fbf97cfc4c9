"""Errors of the search layer: bad statistics inputs and ledger problems."""

from __future__ import annotations

from qtc.errors import QtcError


class SelectionBiasError(QtcError, ValueError):
    """The inputs of a selection-bias statistic are invalid (also a `ValueError`)."""


class LedgerError(QtcError):
    """The trial ledger cannot be opened, read or written (names the file and what to do)."""
