"""The audit-log part of the library facade: what `qtc audit show|verify` calls.

The log module is imported inside the functions, so importing this one stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qtc.live.audit import VerifyReport as VerifyReport


def read_log(path: Path) -> list[dict[str, Any]]:
    """Every record of an audit log, in file order (only each line's JSON is checked).

    Raises:
        UserError: The file does not exist.
        QtcError: A line is incomplete or not a JSON object (the message gives its number).
    """
    from qtc.live.audit import read_log as read

    return read(path)


def verify(path: Path) -> VerifyReport:
    """Check an audit log: sequence, hash chain, record shapes and truncation.

    Raises:
        UserError: The file does not exist.
    """
    from qtc.live.audit import verify as check

    return check(path)
