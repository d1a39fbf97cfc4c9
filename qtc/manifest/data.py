"""`[data]`: the backtest window and the benchmark."""

from __future__ import annotations

import datetime as dt

from pydantic import field_validator, model_validator
from pydantic_core import PydanticCustomError

from qtc.manifest.base import SYMBOL_PATTERN, FieldProblem, Section, spec


class DataSection(Section):
    """Which dates to run over and which benchmark to compare with."""

    start: dt.date = spec(
        description="First date of the backtest; factor warm-up is read from before it.",
        unit="YYYY-MM-DD",
        strict=False,
        example="2005-01-01",
    )
    end: dt.date | None = spec(
        None,
        description="Last date of the backtest; default: the last date in the lake (or `as_of`).",
        unit="YYYY-MM-DD",
        strict=False,
        example="2023-10-18",
    )
    history_start: dt.date | None = spec(
        None,
        description="Earliest date the pipeline may read for warm-up; default: as much as needed.",
        unit="YYYY-MM-DD",
        strict=False,
        example="2004-01-01",
    )
    benchmark: str = spec(
        "SPY",
        description="Benchmark symbol from the lake's `benchmarks` dataset.",
        unit="symbol",
        example="SPY",
        min_length=1,
        max_length=16,
        pattern=SYMBOL_PATTERN,
    )

    @field_validator("start", "end", "history_start", mode="before")
    @classmethod
    def _not_a_number(cls, value: object) -> object:
        """Dates are lax about strings only: `start = 0` is not 1970-01-01."""
        if isinstance(value, int | float):
            what = "true/false" if isinstance(value, bool) else "a number"
            raise PydanticCustomError("date_type", f"a date is written YYYY-MM-DD, not as {what}")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> DataSection:
        if self.end is not None and self.end <= self.start:
            raise FieldProblem(
                "end",
                "data.end must be after data.start",
                expected=f"a date after start ({self.start})",
            )
        if self.history_start is not None and self.history_start > self.start:
            raise FieldProblem(
                "history_start",
                "data.history_start must be on or before data.start",
                expected=f"a date on or before start ({self.start})",
            )
        return self
