"""A strategy file at a git revision, as files qtc can load (no checkout).

`git show REV:path` gives the file's text; it is written into a temp folder at the same
path inside the repository, with every parent it `extends` (read at the same revision),
so the loader composes it exactly as it would have at that revision. Paths in messages
and origins are shown as `REV:path`, never as the temp folder.
"""

from __future__ import annotations

import posixpath
import shutil
import tempfile
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from qtc.errors import Diagnostic, StrategyError, UserError
from qtc.vcs import resolve_revision, show_file

MAX_PARENTS = 16
"""Longest `extends` chain followed (the loader reports longer chains and cycles)."""


@dataclass(frozen=True)
class AtRevision:
    """A strategy file written out from a revision.

    Attributes:
        revision: The revision as the user wrote it (`HEAD~1`).
        commit: The commit it names.
        rel_path: The file's path inside the repository.
        folder: The temp folder standing for the repository's top.
    """

    revision: str
    commit: str
    rel_path: str
    folder: Path

    @property
    def path(self) -> Path:
        """The file in the temp folder."""
        return self.folder / self.rel_path

    @property
    def label(self) -> str:
        """`REV:path`, as the user wrote it."""
        return f"{self.revision}:{self.rel_path}"

    def mask(self, text: str) -> str:
        """`text` with the temp folder's paths shown as `REV:path`."""
        return text.replace(f"{self.folder}/", f"{self.revision}:")

    def masked_error(self, exc: StrategyError) -> StrategyError:
        """The same strategy error, its files shown as `REV:path`."""
        diags = [self._masked(d) for d in exc.diagnostics]
        sources = {self.mask(k): v for k, v in exc.sources.items()}
        return StrategyError(diags, sources=sources)

    def _masked(self, diag: Diagnostic) -> Diagnostic:
        """One diagnostic with masked paths."""
        loc = diag.location
        return replace(
            diag,
            message=self.mask(diag.message),
            hint=self.mask(diag.hint),
            notes=tuple(self.mask(n) for n in diag.notes),
            location=None if loc is None else replace(loc, file=self.mask(loc.file)),
        )

    def remove(self) -> None:
        """Delete the temp folder."""
        shutil.rmtree(self.folder, ignore_errors=True)


def at_revision(revision: str, rel_path: str, repo: Path) -> AtRevision:
    """Write `rel_path` as of `revision` (and its `extends` parents) to a new temp folder.

    Raises:
        UserError: If the revision is unknown or the file does not exist in it.
    """
    commit = resolve_revision(revision, repo)
    text = show_file(commit, rel_path, repo)
    if text is None:
        raise UserError(
            f"{rel_path} does not exist at {revision} ({commit[:12]})",
            hint=f"`git ls-tree -r --name-only {revision}` lists the files of that revision",
        )
    folder = Path(tempfile.mkdtemp(prefix="qtc-diff-"))
    out = AtRevision(revision, commit, rel_path, folder)
    try:
        _write(out.path, text)
        _write_parents(out, rel_path, text, repo, seen={rel_path})
    except BaseException:
        out.remove()
        raise
    return out


def _write(path: Path, text: str) -> None:
    """Write one file, creating its folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _write_parents(out: AtRevision, rel: str, text: str, repo: Path, seen: set[str]) -> None:
    """Write the file's `extends` parent (and its parents) as of the same commit."""
    parent = _parent_of(rel, text)
    if parent is None or parent in seen or len(seen) > MAX_PARENTS:
        return
    parent_text = show_file(out.commit, parent, repo)
    if parent_text is None:
        return  # the loader reports the missing parent at its `extends` line
    _write(out.folder / parent, parent_text)
    _write_parents(out, parent, parent_text, repo, {*seen, parent})


def _parent_of(rel: str, text: str) -> str | None:
    """The repository path of the file a strategy `extends` (None if none or not inside)."""
    try:
        name = tomllib.loads(text).get("extends")
    except tomllib.TOMLDecodeError:
        return None
    if not isinstance(name, str) or not name.lower().endswith(".toml"):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(rel), name))
    return None if joined.startswith("../") or joined.startswith("/") else joined
