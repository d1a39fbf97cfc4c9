"""Find credentials written into a strategy file (they belong in the environment).

A key is secret-like when its name contains `password`, `secret`, `token`,
`api_key`, `private_key`, `access_key` or `credential`, unless it ends in `_env`
(those hold the *name* of an environment variable, e.g. `secret_key_env`). The
value is never echoed.
"""

from __future__ import annotations

import re
from typing import Any

from qtc.errors import Diagnostic, Location
from qtc.manifest.document import Origin
from qtc.manifest.paths import UserPath, format_path

_SECRET = re.compile(
    r"(passw(or)?d|passphrase|secret|token|api_?key|private_?key|access_?key|credential)",
    re.IGNORECASE,
)


def is_secret_key(key: str) -> bool:
    """True when a key name looks like it holds a credential."""
    return bool(_SECRET.search(key)) and not key.lower().endswith("_env")


def find_secrets(tree: dict[str, Any], origins: dict[UserPath, Origin]) -> list[Diagnostic]:
    """Report every secret-like key in the composed tree (QTC106)."""
    return [_diagnostic(path, origins.get(path)) for path in _secret_paths(tree, ())]


def _secret_paths(node: Any, prefix: UserPath) -> list[UserPath]:
    """Paths of secret-like keys, depth first."""
    if not isinstance(node, dict):
        return []
    out: list[UserPath] = []
    for key, value in node.items():
        here = (*prefix, key)
        if is_secret_key(str(key)) and not isinstance(value, dict):
            out.append(here)
        else:
            out += _secret_paths(value, here)
    return out


def _diagnostic(path: UserPath, origin: Origin | None) -> Diagnostic:
    """The QTC106 diagnostic for one secret-like key (value not shown)."""
    where = "on the command line" if origin and origin.file == "--set" else "in files"
    return Diagnostic(
        code="QTC106",
        message=f"`{format_path(path)}` looks like a credential; secrets must not be {where}",
        location=origin.key_location() if origin else Location("<strategy>"),
        key_path=format_path(path),
        expected="no credentials in the strategy file (it is committed to git)",
        hint=(
            "delete this key and export the value as an environment variable instead "
            "(e.g. QTC_ALPACA_SECRET_KEY); qtc reads credentials only from the environment"
        ),
    )
