"""A search's best strategies as TOML files: the variant's strategy, with a header comment.

Written with tomli-w from the strategy's user tree (defaults filled in, factors keyed by
name), so `qtc backtest` of the file runs exactly the variant the search evaluated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qtc.manifest.strategy import Strategy


def strategy_toml(strategy: Strategy, header: Sequence[str]) -> str:
    """The strategy as TOML text after `header` (each line a `# ` comment)."""
    import tomli_w

    from qtc.manifest.variants import user_tree

    body = tomli_w.dumps(toml_ready(user_tree(strategy)))
    return "\n".join(header) + "\n\n" + body


def toml_ready(tree: Any) -> Any:
    """Drop None values (TOML has no null) recursively."""
    if isinstance(tree, dict):
        return {k: toml_ready(v) for k, v in tree.items() if v is not None}
    if isinstance(tree, list):
        return [toml_ready(v) for v in tree]
    return tree


def file_name(rank: int, count: int, variant: str) -> str:
    """`<rank>-<variant12>.toml`, the rank zero-padded to the width of `count`."""
    width = len(str(max(1, count)))
    return f"{rank:0{width}d}-{variant.removeprefix('sha256:')[:12]}.toml"


def engine_versions(found: dict[str, str]) -> dict[str, str]:
    """Versions that change results (Python's own version does not)."""
    return {k: v for k, v in found.items() if k != "python"}
