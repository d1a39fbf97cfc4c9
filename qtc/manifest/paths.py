"""Key paths in the user's terms.

A *user path* is a tuple of keys where factors are addressed by name:
`("factors", "mom_12_1", "lookback")`, written `factors.mom_12_1.lookback`.
Keys that are not bare TOML keys are quoted (`search."selection.top_n"`), and
list positions are written `[i]`.
"""

from __future__ import annotations

import re

UserPath = tuple[str | int, ...]

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")
_INDEX = re.compile(r"^\[\d+\]$")


def format_path(path: UserPath) -> str:
    """Render a user path as the user writes it (`factors.mom.lookback`, `a.b[2]`)."""
    out = ""
    for part in path:
        if isinstance(part, int) or _INDEX.match(part):
            out += part if isinstance(part, str) else f"[{part}]"
            continue
        key = part if _BARE.match(part) else '"' + part.replace('"', '\\"') + '"'
        out += key if not out else f".{key}"
    return out


def parse_path(text: str) -> UserPath:
    """Split a dotted key path, honouring double quotes (`search."a.b"` -> ("search", "a.b")).

    Args:
        text: A dotted path such as `factors.mom_12_1.lookback`.

    Returns:
        The path as a tuple of keys.

    Raises:
        ValueError: If the path is empty, has an empty segment or an unclosed quote.
    """
    parts: list[str | int] = []
    buf = ""
    quoted = False
    for ch in text.strip():
        if ch == '"':
            quoted = not quoted
        elif ch == "." and not quoted:
            parts.append(_segment(buf))
            buf = ""
        else:
            buf += ch
    if quoted:
        raise ValueError(f"unclosed quote in key path {text!r}")
    parts.append(_segment(buf))
    return tuple(parts)


def _segment(raw: str) -> str:
    """Validate one path segment."""
    seg = raw.strip()
    if not seg:
        raise ValueError("empty key in key path")
    return seg


def toml_value(value: object) -> str:
    """Render a value as TOML source text (inline form), for examples in messages."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{format_path((str(k),))} = {toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    return '"' + str(value) + '"'
