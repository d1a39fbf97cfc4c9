"""The artifact kinds the registry knows: where each lives and how its document names it.

A kind is a folder root (`runs/`), a document in every artifact folder (`run.json`) and
the document keys that hold its id. Evolutions and validations are listed already:
when their commands write `evolutions/<strategy>/<id>/evolve.json` and
`validations/<strategy>/<id>/validate.json`, the registry records and rebuilds them
with no other change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qtc.errors import UserError


@dataclass(frozen=True)
class Kind:
    """One artifact kind.

    Attributes:
        name: `backtest`, `sweep`, `evolve` or `validate`.
        root: The default artifact root folder (relative to the project).
        document: The JSON document every folder of this kind holds.
        id_keys: Document keys that may hold the id, first found wins (else the folder name).
    """

    name: str
    root: str
    document: str
    id_keys: tuple[str, ...]


KINDS: tuple[Kind, ...] = (
    Kind("backtest", "runs", "run.json", ("run_id",)),
    Kind("sweep", "sweeps", "sweep.json", ("sweep_id",)),
    Kind("evolve", "evolutions", "evolve.json", ("evolution_id", "evolve_id", "id")),
    Kind("validate", "validations", "validate.json", ("validation_id", "validate_id", "id")),
)
NAMES = tuple(k.name for k in KINDS)


def kind_named(name: str) -> Kind:
    """The kind called `name`.

    Raises:
        UserError: If there is none.
    """
    for kind in KINDS:
        if kind.name == name:
            return kind
    raise UserError(f"unknown run kind {name!r}", hint=f"kinds: {', '.join(NAMES)}")


def kind_of_folder(folder: Path) -> Kind | None:
    """The kind whose document `folder` holds (None when it is not an artifact folder)."""
    for kind in KINDS:
        if (folder / kind.document).is_file():
            return kind
    return None
