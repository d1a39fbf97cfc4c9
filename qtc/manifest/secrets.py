"""Credentials: find them in a strategy file (they belong in the environment), never echo them.

A key is secret-like when its name contains `password`, `passwd`, `passphrase`,
`secret`, `token`, `api_key`, `private_key`, `access_key`, `key_id`, `auth` or
`credential`, unless it ends in `_env` (those hold the *name* of an environment
variable, e.g. `secret_key_env`). The value is never echoed: `redact_line` hides it
in any source line that is quoted back to the user (a diagnostic's frame), and also
hides netrc-style `login`/`password` words, `Authorization:` headers and
`user:password@` in URLs, since a frame may quote a file that is not a strategy.
"""

from __future__ import annotations

import re
from typing import Any

from qtc.errors import Diagnostic, Location
from qtc.manifest.document import Origin
from qtc.manifest.paths import UserPath, format_path

REDACTED = "<redacted>"
_SECRET = re.compile(
    r"(passw(or)?d|passphrase|secret|token|api_?key|private_?key|access_?key|key_?id"
    r"|auth(?!ors?(?:[^a-z]|$))|credential)",
    re.IGNORECASE,
)
_PAIR = re.compile(r"""(["']?)([A-Za-z0-9_.-]+)\1([ \t]*[=:][ \t]*)""")
"""A `key = value` or `key: value` pair (TOML, YAML, JSON, .env, HTTP headers)."""
_NETRC_WORD = re.compile(r"(?i)(?<![\w.-])(login|passw(?:or)?d|account)([ \t]+)(?![=:\s])(\S+)")
"""A netrc token followed by its value (`machine h login u password p`)."""
_URL_USER = re.compile(r"(://)[^/\s:@]+:[^/\s@]+@")
"""`scheme://user:password@host`."""


def is_secret_key(key: str) -> bool:
    """True when a key name looks like it holds a credential."""
    return bool(_SECRET.search(key)) and not key.lower().endswith("_env")


def redact_line(text: str) -> str:
    """One source line with every credential-looking value replaced by `<redacted>`.

    The first pair whose key looks like a credential has everything after its `=`
    (or `:`) replaced; netrc words and `user:password@` in URLs are replaced too.
    Lines without anything credential-like are returned unchanged.

    Args:
        text: A line of any text file (strategy, parent, or a file named by mistake).

    Returns:
        The line, safe to print.
    """
    head, tail = _URL_USER.sub(rf"\1{REDACTED}@", text), ""
    for match in _PAIR.finditer(head):
        if is_secret_key(match.group(2).split(".")[-1]):
            quoted = head[match.end() :].startswith(('"', "'"))
            head, tail = head[: match.end()], f'"{REDACTED}"' if quoted else REDACTED
            break
    return _NETRC_WORD.sub(rf"\1\2{REDACTED}", head) + tail


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
