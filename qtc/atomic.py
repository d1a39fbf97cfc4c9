"""Atomic file writes: write a temp file beside the target, fsync, then rename.

A reader never sees a half-written file, and a failed write leaves the old one. Only a
regular file is ever replaced: a device, FIFO, socket or symlink at the target is refused
(an `OSError` naming it) before anything is written.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path


def write_bytes_atomic(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Replace `path` with `data` atomically (creating parent folders).

    Args:
        path: Target file.
        data: Full new content.
        mode: Permission bits for the new file (e.g. 0o600 for secrets-adjacent state);
            default: what a plain `open()` would give under the current umask.
    """
    refuse_special(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode if mode is not None else _default_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def refuse_special(path: Path) -> None:
    """Raise `OSError` when `path` exists and is not a regular file (never replace it).

    Raises:
        OSError: `path` is a directory, device, FIFO, socket or symlink.
    """
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
        raise OSError(errno.EEXIST, f"it is a {kind}; qtc only replaces regular files", str(path))


_KINDS = {
    stat.S_IFDIR: "directory",
    stat.S_IFLNK: "symlink",
    stat.S_IFIFO: "FIFO",
    stat.S_IFCHR: "device",
    stat.S_IFBLK: "device",
    stat.S_IFSOCK: "socket",
}


def _default_mode() -> int:
    """The mode a plain `open(path, "w")` would give (0o666 minus the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_text_atomic(path: Path, text: str, *, mode: int | None = None) -> None:
    """Replace `path` with UTF-8 `text` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"), mode=mode)
