"""The optuna study of an evolution, kept in a journal file in the evolution's folder.

The journal is optuna's own format (one JSON operation a line, what
`optuna.storages.journal.JournalFileBackend` writes and reads), so the file can be
loaded with optuna directly. qtc's backend keeps the operations of a generation in
memory and appends them in one write at the end of the generation (optuna's file
backend syncs the disk after every operation, about 3 ms each, which would cost more
than the trials). A process killed mid-generation loses that generation's asks, and
`--resume` asks them again: the same seed and history ask the same trials.

Every generation's sampler is seeded from (seed, its first trial number), so what it
proposes depends only on the seed and the trials told before it, never on a sampler's
internal state: a resumed evolution asks exactly what an uninterrupted one would.
Each trial carries qtc's record of it in the user attribute `qtc` (searched values,
variant fingerprint, status, reason, metrics, constraint values).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, cast

from qtc.errors import QtcError, UserError

JOURNAL = "study.journal"
ATTR = "qtc"


class GenerationJournal:
    """A journal file written once per generation (see the module docstring).

    It has the two methods of optuna's `BaseJournalBackend` (`read_logs`, `append_logs`),
    which is all `JournalStorage` calls; only this process writes the file.

    Attributes:
        path: The journal file.
        logs: Every operation (read from the file, then appended).
        pending: Operations not yet written.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = _lock(path)
        self.logs: list[dict[str, Any]] = _read(path)
        self.pending: list[dict[str, Any]] = []

    def close(self) -> None:
        """Write what is pending and let another process open the study."""
        try:
            self.flush()
        finally:
            self.lock.close()

    def read_logs(self, log_number_from: int) -> Iterable[dict[str, Any]]:
        """Operations from `log_number_from` on."""
        return self.logs[log_number_from:]

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        """Keep new operations (written by `flush`)."""
        self.logs.extend(logs)
        self.pending.extend(logs)

    def flush(self) -> None:
        """Append the pending operations to the file in one write, and sync it."""
        if not self.pending:
            return
        text = "".join(json.dumps(log, separators=(",", ":")) + "\n" for log in self.pending)
        with open(self.path, "ab") as fh:
            fh.write(text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        self.pending.clear()


def _lock(path: Path) -> Any:
    """Hold the journal exclusively (an open file with a lock; closing it releases it).

    Raises:
        QtcError: If another process is running this evolution.
    """
    handle = open(path, "ab")  # noqa: SIM115 - held open for the whole evolution
    try:
        import fcntl
    except ImportError:  # no advisory locks on this platform
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise QtcError(
            f"{path}: another qtc process is running this evolution",
            hint="wait for it to finish (or stop it), then run the command again",
        ) from None
    return handle


def _read(path: Path) -> list[dict[str, Any]]:
    """The operations in a journal file; a torn last line (a killed write) is cut off.

    Raises:
        UserError: If a complete line is not an operation (the file is damaged).
    """
    if not path.is_file():
        return []
    data = path.read_bytes()
    whole = data[: data.rfind(b"\n") + 1]
    if len(whole) != len(data):
        with open(path, "r+b") as fh:
            fh.truncate(len(whole))
    logs: list[dict[str, Any]] = []
    for number, line in enumerate(whole.splitlines(), start=1):
        try:
            log = json.loads(line)
        except ValueError:
            log = None
        if not isinstance(log, dict) or "op_code" not in log:
            raise UserError(
                f"{path}:{number}: the study journal is damaged",
                hint="delete the evolution's folder and run it again",
            )
        logs.append(log)
    return logs


def open_study(path: Path, name: str, maximize: Sequence[bool]) -> tuple[Any, GenerationJournal]:
    """Create or load the study `name` in the journal at `path`.

    Raises:
        UserError: If the journal is damaged or holds a study with other directions.
        QtcError: If another process is running this evolution.
    """
    quiet()
    journal = GenerationJournal(path)
    try:
        study = _study(journal, name, ["maximize" if up else "minimize" for up in maximize])
    except BaseException:
        journal.close()
        raise
    journal.flush()
    return study, journal


def _study(journal: GenerationJournal, name: str, directions: list[Any]) -> Any:
    """Create or load the study in the journal.

    Raises:
        UserError: If the journal holds something else under that name.
    """
    import optuna
    from optuna.storages import JournalStorage

    storage = JournalStorage(cast(Any, journal))
    try:
        study = optuna.create_study(
            storage=storage, study_name=name, directions=directions, load_if_exists=True
        )
    except (ValueError, KeyError) as exc:
        raise UserError(
            f"{journal.path}: cannot open the study ({exc})", hint="delete the evolution's folder"
        ) from None
    if [d.name.lower() for d in study.directions] != directions:
        raise UserError(f"{journal.path}: the study has other objectives", hint="delete it")
    return study


def quiet() -> None:
    """Silence optuna's log lines and experimental-feature warnings (qtc reports itself)."""
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def round_seed(seed: int, first: int) -> int:
    """The seed of the generation starting at trial `first` (32 bits, from sha256)."""
    digest = hashlib.sha256(f"qtc-evolve:{seed}:{first}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def sampler(name: str, seed: int, population: int, constrained: bool) -> Any:
    """A fresh optuna sampler.

    Args:
        name: `nsga2`, `tpe`, `cmaes` or `random`.
        seed: Its seed (`round_seed`).
        population: NSGA-II's population size / CMA-ES's population.
        constrained: Whether the trials carry constraint values (from `--where`).

    Raises:
        QtcError: For an unknown name (checked before; a bug if it happens).
    """
    from optuna import samplers

    constraints = _constraints if constrained else None
    if name == "nsga2":
        return samplers.NSGAIISampler(
            population_size=population, seed=seed, constraints_func=constraints
        )
    if name == "tpe":
        return samplers.TPESampler(seed=seed, constraints_func=constraints)
    if name == "cmaes":
        return samplers.CmaEsSampler(seed=seed, popsize=max(population, 2))
    if name == "random":
        return samplers.RandomSampler(seed=seed)
    raise QtcError(f"unknown sampler {name!r}")


def _constraints(trial: Any) -> Sequence[float]:
    """A trial's constraint values (<= 0: the `--where` filter holds)."""
    found: list[float] = trial.user_attrs.get(ATTR, {}).get("constraints", [])
    return found


def record(trial: Any) -> dict[str, Any]:
    """The record qtc keeps of a trial (empty if it has none yet)."""
    found: dict[str, Any] = trial.user_attrs.get(ATTR, {})
    return found
