"""Load a strategy file: compose, check for secrets, validate, map every problem.

`load_strategy()` never raises for a user mistake: it returns a
`LoadedStrategy` whose `diagnostics` list every problem found in one pass, and
whose `strategy` is set only when there were none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from qtc.errors import Diagnostic, Location, Severity
from qtc.manifest.compose import SET, Composed, compose
from qtc.manifest.diagnostics import Mapper
from qtc.manifest.document import Origin, from_user_tree
from qtc.manifest.paths import UserPath
from qtc.manifest.secrets import find_secrets
from qtc.manifest.strategy import Strategy


@dataclass
class LoadedStrategy:
    """A strategy file after loading: the model (if valid) and everything needed to explain it."""

    path: str
    strategy: Strategy | None
    tree: dict[str, Any]
    origins: dict[UserPath, Origin]
    sources: dict[str, str]
    files: list[str]
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the strategy validated with no errors."""
        return self.strategy is not None and not self.errors

    @property
    def errors(self) -> list[Diagnostic]:
        """Diagnostics of error severity."""
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    def location_of(self, path: UserPath, key: bool = False) -> Location | None:
        """Where a user path was written (its value or key), or its nearest written ancestor."""
        return Mapper(self.tree, self.origins, self.path).locate(path, key=key) if path else None


def load_strategy(path: str | Path, overrides: list[str] | None = None) -> LoadedStrategy:
    """Read, compose and validate a strategy file.

    Args:
        path: The strategy TOML file.
        overrides: `--set key.path=value` strings.

    Returns:
        The loaded strategy; check `.ok` and `.diagnostics`.
    """
    shown = str(path)
    composed = compose(Path(path), overrides)
    loaded = LoadedStrategy(
        path=shown,
        strategy=None,
        tree=composed.tree,
        origins=composed.origins,
        sources=composed.sources,
        files=composed.files,
        diagnostics=list(composed.diagnostics),
    )
    if not composed.ok:
        return loaded
    secrets = find_secrets(composed.tree, composed.origins)
    loaded.diagnostics += secrets
    strategy, problems = _validate(composed, shown, {d.key_path for d in secrets})
    loaded.diagnostics += problems
    if not loaded.errors:
        loaded.strategy = strategy
    return loaded


def _validate(
    composed: Composed, shown: str, secret_paths: set[str]
) -> tuple[Strategy | None, list[Diagnostic]]:
    """Validate the composed tree with pydantic and map its errors."""
    try:
        return Strategy.model_validate(from_user_tree(composed.tree)), []
    except ValidationError as exc:
        mapper = Mapper(composed.tree, composed.origins, shown)
        diags = mapper.map_all(exc.errors(include_url=False))
        return None, [_from_set(d) for d in diags if d.key_path not in secret_paths]


def _from_set(diag: Diagnostic) -> Diagnostic:
    """Errors caused by a `--set` override are reported as bad overrides (QTC109)."""
    if diag.location is None or diag.location.file != SET:
        return diag
    return Diagnostic(
        code="QTC109",
        message=f"--set {diag.key_path}: {diag.message}",
        location=diag.location,
        key_path=diag.key_path,
        expected=diag.expected,
        hint=diag.hint,
    )
