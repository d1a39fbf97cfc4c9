"""The staging folder of a lake write, and what killed writes left behind.

A write (ingest, demo build) first goes to a staging folder next to the lake,
`.<lake name>.tmp-<pid>-<8 random chars>`, and is then moved into the lake (see
`qtc.lake.ingest.store`). The staging folder is removed on any exit, including Ctrl-C: the
removal (like the polars writes into it and the move into the lake) runs with SIGINT held
back by `interrupts_held`, so a second Ctrl-C cannot cut it short; the held-back interrupt
is raised right after. (polars turns one SIGINT into a KeyboardInterrupt and leaves
Python's own one pending, so without this one Ctrl-C arrives twice.)

A process killed outright (SIGKILL, power loss) cannot clean up, so each new write of the
same lake first removes stale staging folders: those whose name matches the pattern above
exactly and whose process is gone, plus folders of the older pattern without a pid
(`.<lake name>.tmp-<8 random chars>`) last modified more than `LEGACY_AGE_S` ago. Nothing
else is ever removed: not other names, not files, not symlinks, not folders of a process
that is still running.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType

LEGACY_AGE_S = 600.0
"""Age after which a staging folder without a pid in its name counts as left behind."""

_RANDOM = r"[a-z0-9_]{8}"
"""The 8 characters `tempfile.mkdtemp` appends to a prefix."""


def staging_prefix(lake_dir: Path) -> str:
    """The name prefix of this process's staging folders for a lake.

    Args:
        lake_dir: The lake folder.

    Returns:
        `.<lake name>.tmp-<pid>-`.
    """
    return f".{lake_dir.name}.tmp-{os.getpid()}-"


def make_staging(lake_dir: Path) -> Path:
    """Create a new, empty staging folder next to a lake.

    Args:
        lake_dir: The lake folder (its parent must exist).

    Returns:
        The staging folder (mode 0755).

    Raises:
        OSError: If the folder cannot be created.
    """
    tmp = Path(tempfile.mkdtemp(prefix=staging_prefix(lake_dir), dir=lake_dir.parent))
    tmp.chmod(0o755)
    return tmp


def is_staging_name(lake_dir: Path, name: str) -> bool:
    """Whether a folder name is one of qtc's staging names for this lake (any pid)."""
    return _pattern(lake_dir).fullmatch(name) is not None


def sweep_stale(lake_dir: Path) -> list[Path]:
    """Remove the staging folders that killed writes of this lake left behind.

    Args:
        lake_dir: The lake folder.

    Returns:
        The folders removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(lake_dir.parent))
    except OSError:
        return removed
    pattern = _pattern(lake_dir)
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or not entry.is_dir(follow_symlinks=False):
            continue
        if _is_stale(Path(entry.path), match.group("pid")):
            remove_tree(Path(entry.path))
            removed.append(Path(entry.path))
    return removed


def remove_tree(path: Path) -> None:
    """Remove a folder tree completely, even if Ctrl-C is pressed meanwhile.

    Args:
        path: The folder (missing is fine).

    Raises:
        KeyboardInterrupt: After the removal, if SIGINT arrived during it.
    """
    with interrupts_held():
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold SIGINT back during a short block, then deliver it.

    Only the main thread can change signal handlers; elsewhere the block runs unprotected.

    Yields:
        Nothing.

    Raises:
        KeyboardInterrupt: After the block, if SIGINT arrived during it (with Python's
            default handler; another handler is called instead, an ignored SIGINT stays so).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received and callable(previous):
        previous(signal.SIGINT, None)
    elif received and previous == signal.SIG_DFL:
        signal.raise_signal(signal.SIGINT)


def _pattern(lake_dir: Path) -> re.Pattern[str]:
    """Staging names of a lake: with a pid (now) or without (older qtc versions)."""
    return re.compile(rf"\.{re.escape(lake_dir.name)}\.tmp-(?:(?P<pid>[0-9]+)-)?{_RANDOM}")


def _is_stale(path: Path, pid: str | None) -> bool:
    """Whether a staging folder's writer is gone (its pid is not running, or old-style aged)."""
    if pid is None:
        with suppress(OSError):
            return time.time() - path.stat().st_mtime > LEGACY_AGE_S
        return False
    return not _running(int(pid))


def _running(pid: int) -> bool:
    """Whether a process id is in use (assumed so where this cannot be asked safely)."""
    if pid == os.getpid() or os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
