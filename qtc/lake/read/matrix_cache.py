"""A derived, disposable cache of the `prices` dataset as dense per-column matrices.

`<lake>/.cache/prices-<content sha256 12>/` holds `dates.npy` (epoch days), `symbols.json`,
one `<column>.npy` float64 (all dates x all symbols, NaN where missing) per column read so
far, and `manifest.json`: the sha256, size and mtime of the `prices.parquet` the cache was
built from, and the size and mtime of each cache file as written. It is keyed by the
dataset's content hash, so a re-ingest makes a new key and the old cache is never read
again (older folders are removed when a new one is written).

Nothing is served that changed since it was written:

* the cache is used only while the Parquet file on disk has the manifest's size and mtime,
  so a file that was truncated, garbled or replaced since (same catalog, other bytes)
  drops the cache; it is rebuilt from the file, and a rebuild first checks the file's
  sha256 against the catalog (see `Lake.bar_matrices`), so a damaged file is an error;
* a cache file whose size or mtime differs from the manifest, that does not load, or has
  the wrong shape or dtype, counts as missing and is rebuilt.

Files are written to a temp name and renamed, `manifest.json` last; a read-only lake simply
gets no cache. Reads memory-map the files, so a backtest slices its window without decoding
Parquet and a read of a few rows (live prices) touches only those. One `MatrixCache` object
keeps the small things it read (the parsed manifest, the index, which symbols are priced in
a window) while the files' stamps stay those it read them at, re-checking only the stamps
(`os.stat`); it keeps no matrix, so an open `Lake` holds no prices between runs.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

CACHE_DIR = ".cache"
MANIFEST = "manifest.json"
_LOAD_ERRORS = (OSError, ValueError, EOFError, TypeError, AttributeError)
"""What loading a missing, truncated or garbled cache file raises."""

Stamps = tuple[dict[str, int], ...]
"""The stamps (`_stamp`) of the files something was read from."""


def source_stamp(path: Path, file_sha256: str) -> dict[str, Any]:
    """The identity of the Parquet file a cache is built from: catalog sha256, size, mtime.

    Args:
        path: The dataset file.
        file_sha256: Its sha256 according to the catalog.

    Returns:
        JSON-ready mapping compared with the manifest's `source`.
    """
    return {"file_sha256": file_sha256, **_stamp(path)}


class MatrixCache:
    """Per-column dense matrices of one `prices` content version."""

    def __init__(self, lake_path: Path, content_sha256: str, source: dict[str, Any]) -> None:
        """Bind the cache to a lake folder, a prices content hash and its file's stamp."""
        self.root = lake_path / CACHE_DIR
        self.content_sha256 = content_sha256
        self.folder = self.root / f"prices-{content_sha256[:12]}"
        self.source = source
        self._read: dict[str, tuple[Stamps, Any]] = {}

    def index(self) -> tuple[np.ndarray, list[str]] | None:
        """Cached `(dates as datetime64[D], symbols)`, or None if absent, stale or damaged."""
        stamps = self._unchanged("dates.npy", "symbols.json")
        if stamps is None:
            return None
        index: tuple[np.ndarray, list[str]] | None = self._kept("index", stamps, self._load_index)
        return None if index is None else (index[0], list(index[1]))

    def column(self, name: str, shape: tuple[int, int]) -> np.ndarray | None:
        """The cached (dates, symbols) matrix of a column, memory-mapped, or None.

        Args:
            name: Column name.
            shape: The shape the index implies; a file of another shape or dtype is ignored.

        Returns:
            The read-only matrix, or None.
        """
        if self._unchanged(f"{name}.npy") is None:
            return None
        try:
            matrix: np.ndarray = np.load(self.folder / f"{name}.npy", mmap_mode="r")
        except _LOAD_ERRORS:
            return None
        if matrix.shape != shape or matrix.dtype != np.float64:
            return None
        return matrix

    def priced(self, name: str, rows: slice, matrix: np.ndarray) -> np.ndarray:
        """Which symbols have a finite value of a column in `rows`, (symbols,) bool.

        Kept per window while the column's file is unchanged, so a warm session scans
        each window once.

        Args:
            name: Column name.
            rows: The window's rows.
            matrix: The column's full matrix (as `column` serves it, or just built).

        Returns:
            The mask.
        """
        stamps = self._unchanged(f"{name}.npy")
        if stamps is None:
            return _priced(matrix[rows])
        key = f"priced:{name}:{rows.start}:{rows.stop}"
        mask: np.ndarray = self._kept(key, stamps, lambda: _priced(matrix[rows]))
        return mask

    def _kept(self, key: str, stamps: Stamps, load: Callable[[], Any]) -> Any:
        """What `load` returns, kept under `key` while the files' stamps are `stamps`."""
        held = self._read.get(key)
        if held is not None and held[0] == stamps:
            return held[1]
        value = load()
        self._read[key] = (stamps, value)
        return value

    def _load_index(self) -> tuple[np.ndarray, list[str]] | None:
        """Read and check the index files."""
        try:
            days = np.load(self.folder / "dates.npy")
            names = json.loads((self.folder / "symbols.json").read_text())
        except _LOAD_ERRORS:
            return None
        if not _valid_index(days, names):
            return None
        return days.astype("datetime64[D]"), list(names)

    def store(
        self,
        dates: np.ndarray,
        names: list[str],
        columns: dict[str, np.ndarray],
        *,
        fresh: bool,
    ) -> bool:
        """Write columns (and, when `fresh`, a new index); failures leave no partial files.

        Args:
            dates: Calendar dates of the rows.
            names: Symbols of the columns.
            columns: Column name -> (dates, symbols) float64 matrix.
            fresh: Drop whatever the folder holds and write the index too.

        Returns:
            Whether the cache was written (False for a read-only lake).
        """
        try:
            files = {} if fresh else dict(self._manifest().get("files", {}))
            if fresh:
                shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True, exist_ok=True)
            writes = {f"{name}.npy": _saver(matrix) for name, matrix in columns.items()}
            if fresh:
                writes["dates.npy"] = _saver(dates.astype("datetime64[D]").astype(np.int64))
                writes["symbols.json"] = _texter(json.dumps(names))
            for file, write in writes.items():
                files[file] = _atomic(self.folder / file, write)
            manifest = json.dumps({"source": self.source, "files": files}, sort_keys=True)
            _atomic(self.folder / MANIFEST, _texter(manifest))
            self._drop_old()
        except OSError:
            return False
        finally:
            self._read.clear()
        return True

    def _manifest(self) -> dict[str, Any]:
        """The manifest, if it exists, parses and names the current Parquet file; else {}."""
        try:
            stamp = _stamp(self.folder / MANIFEST)
        except OSError:
            return {}
        manifest: dict[str, Any] = self._kept(MANIFEST, (stamp,), self._load_manifest)
        return manifest

    def _load_manifest(self) -> dict[str, Any]:
        """Read and check the manifest ({} if it does not parse or names another file)."""
        try:
            data = json.loads((self.folder / MANIFEST).read_text())
        except _LOAD_ERRORS:
            return {}
        if not isinstance(data, dict) or data.get("source") != self.source:
            return {}
        return data

    def _unchanged(self, *names: str) -> Stamps | None:
        """The files' stamps if each is listed in the manifest and unchanged since written."""
        files = self._manifest().get("files")
        if not isinstance(files, dict):
            return None
        stamps = []
        for file in names:
            try:
                stamp = _stamp(self.folder / file)
            except OSError:
                return None
            if file not in files or files[file] != stamp:
                return None
            stamps.append(stamp)
        return tuple(stamps)

    def _drop_old(self) -> None:
        """Remove caches of older content versions."""
        for other in self.root.glob("prices-*"):
            if other != self.folder:
                shutil.rmtree(other, ignore_errors=True)


def _priced(window: np.ndarray) -> np.ndarray:
    """Whether each column of a (dates, symbols) window has a finite value."""
    mask: np.ndarray = np.isfinite(window).any(axis=0)
    mask.flags.writeable = False
    return mask


def _stamp(path: Path) -> dict[str, int]:
    """A file's size and mtime (ns): changes whenever the file is rewritten."""
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _valid_index(days: object, names: object) -> bool:
    """Whether loaded index data is well formed (1-D increasing int days, unique symbols)."""
    if not isinstance(days, np.ndarray) or days.ndim != 1 or days.dtype != np.int64:
        return False
    if not isinstance(names, list):
        return False
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        return False
    return bool(np.all(np.diff(days) > 0))


def _saver(array: np.ndarray) -> Callable[[Path], None]:
    """A writer that saves `array` as .npy to a path."""

    def write(path: Path) -> None:
        np.save(path, array)

    return write


def _texter(text: str) -> Callable[[Path], None]:
    """A writer that writes `text` to a path."""

    def write(path: Path) -> None:
        path.write_text(text)

    return write


def _atomic(target: Path, write: Callable[[Path], object]) -> dict[str, int]:
    """Write through a temp file in the same folder, then rename; return the file's stamp."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent, suffix=target.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        stamp = _stamp(Path(tmp))
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return stamp
