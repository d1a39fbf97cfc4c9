"""Number formats shared by the diff renderers.

Units: `pct` fractions shown as percent (deltas in percentage points, `pp`), `num`
plain numbers, `usd` dollars. A missing value is `-`.
"""

from __future__ import annotations

MISSING = "-"


def value(number: float | None, unit: str) -> str:
    """One figure in its unit."""
    if number is None:
        return MISSING
    if unit == "pct":
        return f"{number:.2%}"
    if unit == "usd":
        return f"${number:,.0f}"
    return f"{number:.3f}"


def delta(number: float | None, unit: str) -> str:
    """A difference B - A in its unit, signed (`+1.20 pp`, `-0.150`, `+$1,234`)."""
    if number is None:
        return MISSING
    if unit == "pct":
        return f"{number * 100:+.2f} pp"
    if unit == "usd":
        sign = "-" if number < 0 else "+"
        return f"{sign}${abs(number):,.0f}"
    return f"{number:+.3f}"


def weight(number: float) -> str:
    """A target weight as percent with two decimals."""
    return f"{number:.2%}"


def short(fingerprint: str | None) -> str:
    """The first 12 hex digits of a fingerprint or run id."""
    if not fingerprint:
        return MISSING
    return fingerprint.split(":", 1)[-1][:12]


def or_absent(text: str | None) -> str:
    """A value, or `(absent)` when a side does not have the key."""
    return "(absent)" if text is None else text
