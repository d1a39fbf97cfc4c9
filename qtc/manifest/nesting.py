"""How deep a parsed value nests: no strategy key is more than a few levels deep.

Every tree walk in the manifest (merging, origins, secrets, diagnostics) recurses,
so a runaway `[a.b.c.d...]` header or `[[[[...]]]]` value is refused first, with
a diagnostic, instead of ending in a RecursionError.
"""

from __future__ import annotations

from typing import Any

from qtc.manifest.paths import UserPath

MAX_DEPTH = 16
"""Levels of tables and arrays a strategy may nest (the deepest real key has 4)."""


def too_deep(value: Any, limit: int = MAX_DEPTH) -> UserPath | None:
    """The first path into `value` that is more than `limit` levels deep, or None.

    Iterative, so it cannot itself overflow the stack.

    Args:
        value: A parsed TOML value (tables as dicts, arrays as lists).
        limit: The deepest path allowed (number of keys and indices).

    Returns:
        A path of `limit + 1` parts, or None when `value` is shallow enough.
    """
    stack: list[tuple[Any, UserPath]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if len(path) > limit:
            return path
        if isinstance(node, dict):
            stack.extend((child, (*path, str(key))) for key, child in node.items())
        elif isinstance(node, list):
            stack.extend((child, (*path, i)) for i, child in enumerate(node))
    return None
