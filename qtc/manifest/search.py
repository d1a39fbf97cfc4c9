"""`[search]`: the parameter space for `qtc sweep` and `qtc evolve`, by key path.

Keys are dotted key paths in the user's terms (`"factors.mom_12_1.lookback"`);
values are a list of candidates or a `{ min, max, step }` range.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, RootModel, model_validator

from qtc.manifest.base import FieldProblem, Section, spec

MAX_CANDIDATES = 10_000
Scalar = bool | int | float | str
Candidates = Annotated[list[Scalar], Field(min_length=1)]


class SearchRange(Section):
    """An evenly spaced numeric range, both ends included."""

    min: float = spec(description="Smallest value.", unit="as the key", example=126)
    max: float = spec(description="Largest value.", unit="as the key", example=252)
    step: float = spec(description="Spacing.", unit="as the key", example=21, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> SearchRange:
        if self.max < self.min:
            raise FieldProblem(
                "max", "max must be at least min", expected=f"max >= min ({self.min})"
            )
        if (self.max - self.min) / self.step > MAX_CANDIDATES:
            raise FieldProblem(
                "step",
                f"the range has more than {MAX_CANDIDATES} candidates",
                expected=f"step >= {(self.max - self.min) / MAX_CANDIDATES:g}",
            )
        return self

    def values(self) -> list[float]:
        """Expand the range into its candidate values."""
        count = round((self.max - self.min) / self.step) + 1
        return [self.min + i * self.step for i in range(count)]


class SearchSpace(RootModel[dict[str, Candidates | SearchRange]]):
    """Key path -> candidates."""

    model_config = {"frozen": True, "allow_inf_nan": False}

    def candidates(self) -> dict[str, list[Scalar]]:
        """Return every key path with its list of candidate values."""
        out: dict[str, list[Scalar]] = {}
        for path, space in self.root.items():
            if isinstance(space, SearchRange):
                vals = space.values()
                out[path] = [int(v) if float(v).is_integer() else v for v in vals]
            else:
                out[path] = list(space)
        return out
