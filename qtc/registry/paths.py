"""Where the registry lives, and the artifact roots it scans by default.

The registry is `$QTC_REGISTRY`, else `.qtc/registry.duckdb` in the working folder (the
project, like the trial ledger). Its inbox is the folder beside it, `registry.duckdb.inbox`.
Paths are resolved against the working folder when they are used.
"""

from __future__ import annotations

import os
from pathlib import Path

REGISTRY_ENV = "QTC_REGISTRY"
DEFAULT_REGISTRY = Path(".qtc") / "registry.duckdb"


def registry_path() -> Path:
    """The project's registry file: `$QTC_REGISTRY`, else `.qtc/registry.duckdb` here."""
    env = os.environ.get(REGISTRY_ENV)
    return Path(env) if env else DEFAULT_REGISTRY


def inbox_path(registry: Path) -> Path:
    """The folder of records not yet folded into `registry`."""
    return registry.with_name(registry.name + ".inbox")


def absolute(path: Path) -> Path:
    """`path` made absolute (symlinks resolved), as the registry stores folders."""
    return path.resolve()
