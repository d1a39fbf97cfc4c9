"""A cache of the slow parts of a report, kept beside the run, and of its templates.

Explaining the plan (the compiler's pydantic models), drawing the eight charts (hand-written
SVG, `qtc.outputs.svg`, about 0.1 s) and highlighting the strategy (pygments) are what a first
`qtc report` of a run adds to a cached one, and each result depends only on its inputs and
on the code. So each is kept in `<run>/.cache/report/` as `<key>.txt`, where the key is the
sha256 of:

* what is computed: the chart's name and every argument (arrays by dtype, shape and bytes;
  text; numbers by `repr`), the plan document, or the strategy's TOML;
* a code stamp: qtc's version and the bytes of every qtc source file, and for jinja2,
  numpy, pydantic and pygments the path, size and modification time of their installed
  `__init__.py` (an upgrade or a reinstall is a miss). The charts no longer use
  matplotlib, so its version is not part of the stamp.

A hit returns the stored text byte for byte (each entry carries the sha256 of its text and
is ignored when it does not match), so a report is byte-identical with or without the
cache. The folder keeps the newest `MAX_ENTRIES` entries and goes away with the run (a
re-run replaces the whole run folder). New entries are written once the report is (a
failed render leaves nothing); when they cannot be (a read-only run folder), nothing is
cached; an argument of a type the key does not know is never cached. Compiled templates go
to qtc's cache folder instead (`ReportCache.templates`): they do not depend on a run.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

CACHE_FOLDER = Path(".cache") / "report"
MAX_ENTRIES = 64
HEADER = "qtc-report-cache 1 "
TEMPLATE_FOLDER = "report-templates"
LIBRARIES = ("jinja2", "numpy", "pydantic", "pygments")
_QTC_ROOT = Path(__file__).resolve().parents[1]
_stamp: bytes | None = None


class UncacheableError(TypeError):
    """An input the cache key cannot encode."""


class ReportCache:
    """Texts computed for a report, stored by the hash of their inputs and the code.

    New entries are kept in memory until `flush()`, which the report calls once its file
    is written: a render that fails leaves no file behind.

    Args:
        folder: Where entries live (`run_dir/.cache/report`); None caches nothing.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._pending: list[Callable[[], None]] = []

    @classmethod
    def for_run(cls, run_dir: Path) -> ReportCache:
        """The cache of a run folder."""
        return cls(run_dir / CACHE_FOLDER)

    def text(self, name: str, inputs: Any, make: Callable[[], str | None]) -> str | None:
        """The cached text for (name, inputs), else `make()` (stored unless None).

        Args:
            name: What is computed (a chart's function name, "plan_tree").
            inputs: Everything the result depends on besides the code.
            make: Computes the text on a miss.
        """
        if self.folder is None:
            return make()
        try:
            key = entry_key(name, inputs)
        except UncacheableError:
            return make()
        path = self.folder / f"{key}.txt"
        found = _read(path)
        if found is not None:
            return found
        made = make()
        if made is not None:
            self._pending.append(lambda: _write(path, made))
        return made

    def chart(self, draw: Callable[..., str | None], *args: Any, **kwargs: Any) -> str | None:
        """`draw(*args, **kwargs)` (an SVG chart), cached by its name and arguments."""
        inputs = (args, sorted(kwargs.items()))
        return self.text(draw.__name__, inputs, lambda: draw(*args, **kwargs))

    def templates(self) -> Any:
        """A jinja2 bytecode cache in qtc's cache folder (`<cache>/report-templates`).

        Compiling the report's templates is most of what is left of a render once the
        charts are cached. Compiled code is keyed by the template's name and file and the
        code stamp (jinja2 also checks the template's source against its checksum); the
        folder keeps the newest `MAX_ENTRIES`. None when this cache caches nothing.
        """
        if self.folder is None:
            return None
        from jinja2 import FileSystemBytecodeCache

        from qtc.lake.resolve import cache_root

        folder = cache_root() / TEMPLATE_FOLDER
        pending = self._pending

        class _Cache(FileSystemBytecodeCache):
            def get_cache_key(self, name: str, filename: str | None = None) -> str:
                return entry_key("template", [name, filename or ""])

            def dump_bytecode(self, bucket: Any) -> None:
                pending.append(lambda: self._dump(bucket))

            def _dump(self, bucket: Any) -> None:
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                    super().dump_bytecode(bucket)
                    _prune(folder, "*.cache")
                except OSError:
                    return

        return _Cache(str(folder))

    def flush(self) -> None:
        """Store the entries computed since the last flush (failures are ignored)."""
        pending, self._pending[:] = list(self._pending), []
        for store in pending:
            store()


def entry_key(name: str, inputs: Any) -> str:
    """sha256 hex of the code stamp, `name` and `inputs`.

    Raises:
        UncacheableError: An input is of a type the key does not encode.
    """
    digest = hashlib.sha256(code_stamp())
    digest.update(name.encode() + b"\0")
    _encode(inputs, digest)
    return digest.hexdigest()


def code_stamp() -> bytes:
    """sha256 of qtc's source files and of the installed libraries' stamps (computed once)."""
    global _stamp  # noqa: PLW0603 - one stamp per process: the code does not change under it
    if _stamp is None:
        from qtc import __version__

        digest = hashlib.sha256(f"qtc {__version__}\0".encode())
        for path in sorted(_QTC_ROOT.rglob("*.py")):
            digest.update(str(path.relative_to(_QTC_ROOT)).encode() + b"\0")
            digest.update(path.read_bytes())
        for name in LIBRARIES:
            digest.update(_library_stamp(name).encode() + b"\0")
        _stamp = digest.digest()
    return _stamp


def _library_stamp(name: str) -> str:
    """`name:path:size:mtime` of a library's `__init__.py`, found without importing it."""
    spec = importlib.util.find_spec(name)
    origin = spec.origin if spec is not None else None
    try:
        stat = os.stat(origin) if origin is not None else None
    except OSError:
        stat = None
    if stat is None:
        return f"{name}:{origin}"
    return f"{name}:{origin}:{stat.st_size}:{stat.st_mtime_ns}"


def _encode(value: Any, digest: Any) -> None:
    """Feed an unambiguous encoding of `value` to `digest`.

    Raises:
        UncacheableError: For a type not listed here.
    """
    if value is None or isinstance(value, bool | int | float | np.integer | np.floating):
        digest.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, str):
        data = value.encode()
        digest.update(f"s{len(data)}:".encode() + data)
    elif isinstance(value, np.ndarray) and not value.dtype.hasobject:
        data = np.ascontiguousarray(value).tobytes()
        digest.update(f"a{value.dtype.str}{value.shape}{len(data)}:".encode() + data)
    elif isinstance(value, list | tuple):
        digest.update(f"l{len(value)}[".encode())
        for item in value:
            _encode(item, digest)
        digest.update(b"]")
    elif isinstance(value, dict):
        _encode(sorted(value.items()), digest)
    else:
        raise UncacheableError(f"cannot key a {type(value).__name__}")


def _read(path: Path) -> str | None:
    """The text of an entry, or None when absent, unreadable or not matching its digest."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    head, _, body = raw.partition("\n")
    if head != HEADER + hashlib.sha256(body.encode()).hexdigest():
        return None
    return body


def _write(path: Path, text: str) -> None:
    """Store an entry (temp file, then rename) and prune the oldest; failures are ignored.

    No fsync: an entry torn by a crash fails its digest check and is recomputed.
    """
    head = HEADER + hashlib.sha256(text.encode()).hexdigest()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(f"{head}\n{text}", encoding="utf-8")
        os.replace(tmp, path)
        _prune(path.parent, "*.txt")
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _prune(folder: Path, pattern: str, keep: int = MAX_ENTRIES) -> None:
    """Remove all but the `keep` newest entries."""
    entries = sorted(folder.glob(pattern), key=lambda p: (p.stat().st_mtime_ns, p.name))
    for old in entries[:-keep] if len(entries) > keep else []:
        old.unlink(missing_ok=True)
