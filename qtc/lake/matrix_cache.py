"""A derived, disposable cache of the `prices` dataset as dense per-column matrices.

`<lake>/.cache/prices-<content sha256 12>/` holds `dates.npy` (epoch days), `symbols.json`
and one `<column>.npy` float64 (all dates x all symbols, NaN where missing) per column read
so far. It is keyed by the dataset's content hash, so a re-ingest makes a new key and the old
cache is never read again (older folders are removed when a new one is written). Files are
written to a temp name and renamed; a read-only lake simply gets no cache. Reads memory-map
the files, so a backtest slices its window without decoding Parquet.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

CACHE_DIR = ".cache"


class MatrixCache:
    """Per-column dense matrices of one `prices` content version."""

    def __init__(self, lake_path: Path, content_sha256: str) -> None:
        """Bind the cache to a lake folder and a prices content hash."""
        self.root = lake_path / CACHE_DIR
        self.folder = self.root / f"prices-{content_sha256[:12]}"

    def index(self) -> tuple[np.ndarray, list[str]] | None:
        """Cached `(dates as datetime64[D], symbols)`, or None."""
        try:
            days = np.load(self.folder / "dates.npy")
            names = json.loads((self.folder / "symbols.json").read_text())
        except (OSError, ValueError):
            return None
        return days.astype("datetime64[D]"), list(names)

    def column(self, name: str) -> np.ndarray | None:
        """The cached (dates, symbols) matrix of a column, memory-mapped, or None."""
        try:
            matrix: np.ndarray = np.load(self.folder / f"{name}.npy", mmap_mode="r")
        except (OSError, ValueError):
            return None
        return matrix

    def store(
        self,
        dates: np.ndarray,
        names: list[str],
        columns: dict[str, np.ndarray],
    ) -> None:
        """Write the index (if missing) and columns; failures leave no partial files."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if not (self.folder / "symbols.json").is_file():
                days = dates.astype("datetime64[D]").astype(np.int64)
                _atomic(self.folder / "dates.npy", lambda p: np.save(p, days))
                _atomic(self.folder / "symbols.json", lambda p: p.write_text(json.dumps(names)))
            for name, matrix in columns.items():
                _atomic(self.folder / f"{name}.npy", _saver(matrix))
            self._drop_old()
        except OSError:
            return

    def _drop_old(self) -> None:
        """Remove caches of older content versions."""
        for other in self.root.glob("prices-*"):
            if other != self.folder:
                shutil.rmtree(other, ignore_errors=True)


def _saver(matrix: np.ndarray) -> Callable[[Path], None]:
    """A writer that saves `matrix` as .npy to a path."""

    def write(path: Path) -> None:
        np.save(path, matrix)

    return write


def _atomic(target: Path, write: Callable[[Path], object]) -> None:
    """Write through a temp file in the same folder, then rename."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=target.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
