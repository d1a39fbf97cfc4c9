"""The Plan: an ordered list of stage specs plus `as_of`, resolved values and a fingerprint.

A Plan is frozen and round-trips through JSON exactly (`to_json` / `from_json`).
Its fingerprint covers only the stage specs, which hold everything that
changes results; name, description, broker, gates and search space stay out.
The stages' derived fields (`qtc.compile.derive`) are filled in again on read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from qtc.compile.derive import complete
from qtc.compile.fingerprint import fingerprint, short
from qtc.compile.stages import AnyStage, StageSpec
from qtc.errors import UserError

PLAN_VERSION = 1

S = TypeVar("S", bound=StageSpec)


class Plan(BaseModel):
    """What will run, in order, as data."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    plan_version: Literal[1] = 1
    strategy_name: str
    description: str
    as_of: dt.date
    stages: tuple[AnyStage, ...]
    resolved: dict[str, Any]
    fingerprint: str

    @property
    def short_fingerprint(self) -> str:
        """First 12 hex digits of the fingerprint (run folder names)."""
        return short(self.fingerprint)

    def stage(self, name: str) -> AnyStage:
        """The stage spec called `name` (e.g. `"load_data"`)."""
        for spec in self.stages:
            if spec.stage == name:
                return spec
        raise KeyError(name)

    def spec(self, kind: type[S]) -> S:
        """The stage spec of class `kind` (e.g. `plan.spec(LoadData)`), typed.

        Raises:
            KeyError: If the plan has no such stage.
        """
        for spec in self.stages:
            if isinstance(spec, kind):
                return spec
        raise KeyError(kind.__name__)

    def to_json(self) -> str:
        """Serialize to JSON (stable key order, 2-space indent)."""
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        """Read a Plan written by `to_json`, refusing unknown versions and bad fingerprints.

        Raises:
            UserError: If the JSON is not a plan this qtc can read, or was edited.
        """
        try:
            plan = cls.model_validate_json(text)
        except ValueError as exc:
            raise UserError(f"not a qtc plan (version {PLAN_VERSION}): {exc}") from None
        if plan.fingerprint != stages_fingerprint(plan.stages):
            raise UserError(
                "plan fingerprint does not match its stages (the file was edited)",
                hint="recompile it with `qtc compile FILE --json`",
            )
        return plan.model_copy(update={"stages": complete(plan.stages)})


def stages_fingerprint(stages: tuple[AnyStage, ...]) -> str:
    """Fingerprint of an ordered list of stage specs."""
    return fingerprint([s.model_dump(mode="json") for s in stages])
