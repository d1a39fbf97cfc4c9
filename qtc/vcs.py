"""Git, read-only, through the `git` command: revisions, file contents, changed files, state.

qtc never checks anything out and never writes to a repository: it asks `git rev-parse`,
`git show`, `git diff --name-status` and `git status`. Every call has a timeout. When git
is not installed, or a path is not in a repository, the state functions answer `None`
(a run is still recorded, without a revision); the functions a command needs
(`resolve_revision`, `show_file`, `changed_files`) raise a `UserError` saying why.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from qtc.errors import UserError

TIMEOUT_S = 20.0
"""Seconds any one git call may take."""


@dataclass(frozen=True)
class GitState:
    """Where a file stands in its repository.

    Attributes:
        root: The repository's top folder.
        revision: The commit `HEAD` names (None in a repository with no commit yet).
        path: The file's path relative to `root`, with `/` separators.
        dirty: True when the file (or one of the files given with it) differs from
            `HEAD` or is not tracked.
    """

    root: Path
    revision: str | None
    path: str
    dirty: bool


def git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes] | None:
    """Run `git ARGS` in `cwd`; None when git is missing, times out or `cwd` is not a folder."""
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, timeout=TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None


def toplevel(folder: Path) -> Path | None:
    """The top folder of the repository holding `folder`, or None."""
    done = git(["rev-parse", "--show-toplevel"], folder)
    if done is None or done.returncode != 0:
        return None
    text = done.stdout.decode("utf-8", "replace").strip()
    return Path(text) if text else None


def file_state(path: Path, companions: list[Path] | None = None) -> GitState | None:
    """The git state of a file (and its `extends` parents), or None outside a repository.

    Args:
        path: The file.
        companions: Other files whose changes also make the state dirty.
    """
    absolute = path.resolve()
    root = toplevel(absolute.parent)
    if root is None:
        return None
    try:
        rel = absolute.relative_to(root.resolve()).as_posix()
    except ValueError:
        return None
    head = git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], root)
    revision = head.stdout.decode().strip() if head is not None and head.returncode == 0 else None
    files = [absolute, *(p.resolve() for p in companions or [])]
    status = git(["status", "--porcelain", "--untracked-files=all", "--", *map(str, files)], root)
    dirty = revision is None or status is None or status.returncode != 0 or bool(status.stdout)
    return GitState(root, revision, rel, dirty)


def resolve_revision(revision: str, cwd: Path) -> str:
    """The commit a revision names (`HEAD~1`, `main`, a tag, a hash).

    Raises:
        UserError: If git is missing, `cwd` is not in a repository, or the revision is unknown.
    """
    root = require_repository(cwd)
    if not revision or revision.startswith("-") or "\x00" in revision:
        raise UserError(f"{revision!r} is not a git revision", hint="e.g. HEAD~1, main or a hash")
    done = git(
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"], root
    )
    if done is None or done.returncode != 0:
        raise UserError(
            f"unknown git revision {revision!r} in {root}",
            hint="check the name (`git log --oneline`); in CI, fetch enough history "
            "(actions/checkout with fetch-depth: 0)",
        )
    return done.stdout.decode().strip()


def require_repository(cwd: Path) -> Path:
    """The repository holding `cwd`.

    Raises:
        UserError: If git is missing or `cwd` is not in a repository.
    """
    if git(["--version"], cwd) is None:
        raise UserError("git is not installed (or not on PATH)", hint="install git and run again")
    root = toplevel(cwd)
    if root is None:
        raise UserError(f"{cwd} is not inside a git repository", hint="run qtc from the repository")
    return root


def show_file(commit: str, rel_path: str, root: Path) -> str | None:
    """The text of `rel_path` (relative to the repository top) at `commit`; None if absent.

    Raises:
        UserError: If the file is not UTF-8 text.
    """
    done = git(["show", f"{commit}:{rel_path}"], root)
    if done is None or done.returncode != 0:
        return None
    try:
        return done.stdout.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{commit[:12]}:{rel_path} is not UTF-8 text") from None


def changed_files(commit: str, root: Path) -> list[tuple[str, str]]:
    """(status, path) of every file that differs between `commit` and the working tree.

    Status is git's letter: `A` added, `M` modified, `D` deleted (renames are split into a
    deletion and an addition). Untracked files count as added.

    Raises:
        UserError: If git fails.
    """
    done = git(["diff", "--name-status", "--no-renames", "-z", commit, "--"], root)
    if done is None or done.returncode != 0:
        raise UserError(f"git diff against {commit[:12]} failed", hint="run `git status`")
    parts = done.stdout.decode("utf-8", "replace").split("\x00")
    pairs = [(parts[i][:1], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
    untracked = git(["ls-files", "--others", "--exclude-standard", "-z"], root)
    if untracked is not None and untracked.returncode == 0:
        names = untracked.stdout.decode("utf-8", "replace").split("\x00")
        pairs += [("A", name) for name in names if name]
    return sorted(set(pairs), key=lambda p: p[1])


def repo_relative(path: Path, root: Path) -> str:
    """`path` (relative to the working folder, or absolute) as a path inside `root`.

    Raises:
        UserError: If the path is outside the repository.
    """
    absolute = (Path.cwd() / path).resolve() if not path.is_absolute() else path.resolve()
    try:
        return absolute.relative_to(root.resolve()).as_posix()
    except ValueError:
        raise UserError(f"{path} is outside the repository {root}") from None
