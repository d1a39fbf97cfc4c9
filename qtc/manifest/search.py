"""`[search]`: the parameter space for `qtc sweep` and `qtc evolve`, by key path.

Keys are dotted key paths in the user's terms (`"factors.mom_12_1.lookback"`); values are

* a list of candidates: `[126, 189, 252]`;
* a stepped range, both ends included: `{ min = 0.03, max = 0.07, step = 0.01 }` (an
  integer range when `min`, `max` and `step` are all written as integers);
* a log-scale range without a step: `{ min = 0.001, max = 0.1, log = true }` (integers
  when both ends are integers). `qtc evolve` samples it continuously; `qtc sweep` cannot
  enumerate it.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import (
    Field,
    RootModel,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from qtc.manifest.base import FieldProblem, Section, spec

MAX_CANDIDATES = 10_000
Scalar = bool | int | float | str
Number = int | float
Candidates = Annotated[list[Scalar], Field(min_length=1)]


class SearchRange(Section):
    """A numeric range: evenly spaced (`step`) or log-scale (`log = true`), both ends included."""

    min: Number = spec(description="Smallest value.", unit="as the key", example=126)
    max: Number = spec(description="Largest value.", unit="as the key", example=252)
    step: Number | None = spec(
        None,
        description="Spacing, > 0 (required unless `log = true`).",
        unit="as the key",
        example=21,
    )
    log: bool = spec(
        False,
        description="Sample on a log scale between min and max (no step; `qtc evolve` only).",
        unit="boolean",
        example=True,
    )

    @model_validator(mode="after")
    def _ordered(self) -> SearchRange:
        if self.max < self.min:
            raise FieldProblem(
                "max", "max must be at least min", expected=f"max >= min ({self.min})"
            )
        if self.step is not None and self.step <= 0:
            raise FieldProblem("step", "step must be > 0", expected="step > 0, e.g. 21")
        if self.log:
            self._check_log()
        elif self.step is None:
            raise FieldProblem(
                "step",
                "a range needs a step (or `log = true` for a log-scale range)",
                expected="step > 0, e.g. { min = 126, max = 252, step = 21 }",
            )
        elif (self.max - self.min) / self.step > MAX_CANDIDATES:
            raise FieldProblem(
                "step",
                f"the range has more than {MAX_CANDIDATES} candidates",
                expected=f"step >= {(self.max - self.min) / MAX_CANDIDATES:g}",
            )
        return self

    def _check_log(self) -> None:
        """A log-scale range starts above 0 and has no step."""
        if self.min <= 0:
            raise FieldProblem(
                "min", "a log-scale range needs min > 0", expected="min > 0, e.g. 0.001"
            )
        if self.step is not None:
            raise FieldProblem(
                "step",
                "a log-scale range has no step",
                expected="{ min = 0.001, max = 0.1, log = true } (or drop `log` to step)",
            )

    @model_serializer(mode="wrap")
    def _written(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Dump only what a user writes: no `step = None`, no `log = false`.

        A stepped range dumps as it always has, so resolved strategies, run artifacts
        and written TOML files of existing strategies do not change.
        """
        data: dict[str, Any] = handler(self)
        if data.get("step") is None:
            data.pop("step", None)
        if data.get("log") is False:
            data.pop("log", None)
        return data

    @property
    def integer(self) -> bool:
        """Whether the range holds integers (every bound, and the step, written as one)."""
        numbers = (self.min, self.max, self.step if self.step is not None else 1)
        return all(isinstance(n, int) for n in numbers)

    @property
    def enumerable(self) -> bool:
        """Whether the range is a finite list of candidates (it has a step)."""
        return self.step is not None

    def values(self) -> list[Number]:
        """Expand a stepped range into its candidates (integral values as ints).

        Raises:
            ValueError: For a log-scale range (it has no step to expand by).
        """
        if self.step is None:
            raise ValueError("a log-scale range has no step to expand")
        count = round((self.max - self.min) / self.step) + 1
        return [_tidy(self.min + i * self.step) for i in range(count)]

    def probes(self) -> list[Number]:
        """Values that show whether the range fits its key: both ends and one inside value.

        A stepped range's probes are candidates (so the second candidate catches a
        fractional step on an integer key); a log-scale float range's are floats.
        """
        if self.step is not None:
            found = self.values()
            return found[:2] + found[-1:] if len(found) > 2 else found
        if self.integer:
            return [int(self.min), int(self.max)]
        middle = math.sqrt(float(self.min) * float(self.max))
        return [float(self.min), middle, float(self.max)]


def _tidy(value: float) -> Number:
    """An integral value as an int (a range's candidates are typed like written values)."""
    return int(value) if float(value).is_integer() else value


class SearchSpace(RootModel[dict[str, Candidates | SearchRange]]):
    """Key path -> candidates."""

    model_config = {"frozen": True, "allow_inf_nan": False}

    def candidates(self) -> dict[str, list[Scalar]]:
        """Return every key path with its list of candidate values.

        Raises:
            ValueError: If a key is a log-scale range (it has no finite list); the message
                names the key.
        """
        out: dict[str, list[Scalar]] = {}
        for path, space in self.root.items():
            if isinstance(space, SearchRange):
                if not space.enumerable:
                    raise ValueError(path)
                out[path] = list(space.values())
            else:
                out[path] = list(space)
        return out

    def probes(self) -> dict[str, list[Scalar]]:
        """Every key path with the values that show whether it fits (see `SearchRange.probes`)."""
        return {
            path: list(space.probes()) if isinstance(space, SearchRange) else list(space)
            for path, space in self.root.items()
        }
