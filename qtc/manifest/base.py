"""Shared base for manifest sections: strict frozen models and documented fields.

Every field is declared with `spec()`, which records a description, a unit, a
default and an example. They feed the JSON Schema (`qtc schema`) and the
"expected" line of diagnostics.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo

UNIT_KEY = "x-unit"
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,47}$"
SYMBOL_PATTERN = r"^[!-~]{1,32}$"
"""A ticker: 1 to 32 printable ASCII characters, no spaces (`AAPL`, `BRK.B`, `^VIX`)."""
Symbol = Annotated[str, Field(pattern=SYMBOL_PATTERN)]
PATTERN_WORDS = {
    NAME_PATTERN: "a lower-case identifier (a letter, then letters, digits or _; at most 48)",
    SYMBOL_PATTERN: "a symbol: 1 to 32 printable ASCII characters, no spaces",
}
"""How diagnostics describe a pattern instead of quoting the regular expression."""


class Section(BaseModel):
    """Base of every manifest model: frozen, strict types, unknown keys forbidden.

    Strict: `top_n = "50"` or `paper = "yes"` are type errors, not silently converted
    (dates are the exception: `start = "2005-01-01"` is accepted like `start = 2005-01-01`).
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", strict=True, allow_inf_nan=False, defer_build=True
    )


def spec(
    default: Any = ...,
    description: str = "",
    *,
    unit: str,
    example: Any,
    alias: str | None = None,
    **constraints: Any,
) -> Any:
    """Declare a documented manifest field.

    Args:
        default: Default value; `...` marks the field required.
        description: One sentence saying what the field controls.
        unit: Unit of the value (`"trading days"`, `"fraction of equity"`, `"bps"`, ...).
        example: A typical value, shown in the schema and in diagnostics.
        alias: The TOML key when it differs from the attribute name.
        **constraints: Pydantic constraints (`gt`, `ge`, `le`, `pattern`, ...).

    Returns:
        A pydantic `FieldInfo` (typed `Any` so it can be a default value).
    """
    return Field(
        default,
        description=description,
        examples=[example],
        alias=alias,
        json_schema_extra={UNIT_KEY: unit},
        **constraints,
    )


def field_unit(info: FieldInfo) -> str:
    """Return the unit recorded by `spec()` for a field, or an empty string."""
    extra = info.json_schema_extra
    if isinstance(extra, dict):
        unit = extra.get(UNIT_KEY, "")
        return str(unit)
    return ""


def field_example(info: FieldInfo) -> Any:
    """Return the example recorded by `spec()` for a field, or None."""
    return info.examples[0] if info.examples else None


class FieldProblem(ValueError):  # noqa: N818 - reads as a domain term
    """A model-level check that blames one key of its table (e.g. `skip` vs `lookback`)."""

    def __init__(self, key: str, message: str, *, expected: str, code: str = "QTC102") -> None:
        """Create the problem.

        Args:
            key: The key (in this table) the diagnostic should point at.
            message: What is wrong, in the user's terms.
            expected: The relation that must hold, e.g. `skip < lookback (252)`.
            code: Diagnostic code (QTC102 invalid value, QTC113 conflicting keys).
        """
        super().__init__(message)
        self.key = key
        self.expected = expected
        self.code = code
