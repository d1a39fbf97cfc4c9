"""Finding the lake: `--lake`, then `QTC_LAKE`, then `./lake`, else the demo lake.

The demo lake is a SYNTHETIC market (see `qtc.lake.demo.build`) built once into the
user cache folder, `<cache>/demo-lake-v1-seed<seed>`, where `<cache>` is
`$QTC_CACHE_DIR` when set, else platformdirs' user cache dir for `qtc`
(`~/.cache/qtc` on Linux). The origin returned with the path lets the CLI say
in one line that the demo market is in use.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from qtc.errors import QtcError
from qtc.lake.layout import CATALOG_FILE

LakeOrigin = Literal["--lake", "QTC_LAKE", "./lake", "demo"]
DEMO_SEED = 7
DEMO_VERSION = "v1"
ENV_LAKE = "QTC_LAKE"
ENV_CACHE = "QTC_CACHE_DIR"


def cache_root(env: Mapping[str, str] | None = None) -> Path:
    """Return qtc's cache folder (`$QTC_CACHE_DIR` or the platform user cache dir).

    Args:
        env: Environment; defaults to `os.environ`.

    Returns:
        The folder (not created).
    """
    environ = os.environ if env is None else env
    override = environ.get(ENV_CACHE, "").strip()
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("qtc", appauthor=False))


def demo_lake_path(seed: int = DEMO_SEED, env: Mapping[str, str] | None = None) -> Path:
    """Return where the demo lake for a seed lives in the cache.

    Args:
        seed: Demo market seed.
        env: Environment; defaults to `os.environ`.

    Returns:
        `<cache>/demo-lake-v1-seed<seed>`.
    """
    return cache_root(env) / f"demo-lake-{DEMO_VERSION}-seed{seed}"


def ensure_demo_lake(seed: int = DEMO_SEED, env: Mapping[str, str] | None = None) -> Path:
    """Return the cached demo lake, building it first if it is not there.

    Args:
        seed: Demo market seed.
        env: Environment; defaults to `os.environ`.

    Returns:
        The demo lake folder.

    Raises:
        QtcError: If the demo lake cannot be built.
    """
    # Imported here: resolving a lake must not import numpy/polars unless a demo is built.
    from qtc.lake.demo.build import build_demo_lake

    path = demo_lake_path(seed, env)
    if (path / CATALOG_FILE).is_file():
        return path
    if path.exists():
        shutil.rmtree(path, ignore_errors=True)
    try:
        build_demo_lake(path, seed=seed)
    except QtcError:
        if not (path / CATALOG_FILE).is_file():
            raise
    return path


def resolve_lake(
    explicit: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    *,
    seed: int = DEMO_SEED,
    build_demo: bool = True,
) -> tuple[Path, LakeOrigin]:
    """Find the lake to use.

    Order: `explicit` (`--lake`), then `$QTC_LAKE`, then `./lake` if that
    folder exists, else the demo lake in the cache (built on first use).
    Explicit and environment paths are returned even if they do not exist
    yet (an ingest creates them; reading one reports a clear error).

    Args:
        explicit: The `--lake` option, if given.
        env: Environment; defaults to `os.environ`.
        cwd: Folder for relative paths and `./lake`; defaults to the current folder.
        seed: Demo market seed.
        build_demo: Build the demo lake when it is missing (False: just return its path).

    Returns:
        `(path, origin)` with origin one of `--lake`, `QTC_LAKE`, `./lake`, `demo`.
    """
    environ = os.environ if env is None else env
    base = Path.cwd() if cwd is None else Path(cwd)
    if explicit is not None and str(explicit).strip():
        return _absolute(Path(explicit), base), "--lake"
    from_env = environ.get(ENV_LAKE, "").strip()
    if from_env:
        return _absolute(Path(from_env), base), "QTC_LAKE"
    local = base / "lake"
    if local.is_dir():
        return local, "./lake"
    if build_demo:
        return ensure_demo_lake(seed, environ), "demo"
    return demo_lake_path(seed, environ), "demo"


def _absolute(path: Path, base: Path) -> Path:
    """Expand `~` and make a path absolute against a base folder.

    Args:
        path: The path.
        base: Folder for relative paths.

    Returns:
        The absolute path.
    """
    path = path.expanduser()
    return path if path.is_absolute() else base / path
