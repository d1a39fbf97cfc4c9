"""Where a run's strategy came from: the file, its git revision and whether it was dirty.

The revision is the commit `HEAD` named in the repository holding the file when the run
was recorded; the file is dirty when it, or a parent it `extends`, differs from that
commit or is not tracked. With git absent, or a file outside any repository, only the
file is known. Nothing here fails a run: every problem just leaves the fields empty.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qtc.vcs import file_state


def strategy_source(path: str | None) -> dict[str, Any]:
    """`strategy_file`, `git_revision`, `git_path` and `git_dirty` of a strategy file."""
    if not path:
        return {}
    out: dict[str, Any] = {"strategy_file": path}
    file = Path(path)
    if not file.is_file():
        return out
    state = file_state(file, _parents(file))
    if state is None:
        return out
    return {**out, "git_revision": state.revision, "git_path": state.path, "git_dirty": state.dirty}


def _parents(file: Path) -> list[Path]:
    """The files a strategy `extends` (directly or through its parents), if it loads."""
    from qtc.manifest.compose import compose

    try:
        files = compose(file).files
    except (OSError, ValueError):
        return []
    return [Path(f) for f in files[1:]]
