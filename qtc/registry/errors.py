"""Errors of the run registry."""

from __future__ import annotations

from qtc.errors import QtcError


class RegistryError(QtcError):
    """The registry file cannot be opened, read or written (names the file and what to do)."""
