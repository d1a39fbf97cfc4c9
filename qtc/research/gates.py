"""The `[validate]` gates: each set gate against its figure, PASS, FAIL or NOT EVALUABLE.

A gate whose figure could not be computed (no trial ledger, an IC series without two
dates, an out-of-sample Sharpe of a flat series) is NOT EVALUABLE with the reason; it
does not fail unless the validation is strict. Unset gates are not listed. Exit codes
(decided by the CLI): 1 when a gate fails, else 0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from qtc.manifest.gates import GatesSection

PASS = "PASS"
FAIL = "FAIL"
NOT_EVALUABLE = "NOT EVALUABLE"

GATES: tuple[tuple[str, str], ...] = (
    ("min_rank_ic", ">="),
    ("min_icir", ">="),
    ("min_oos_sharpe", ">="),
    ("min_quantile_spread", ">="),
    ("max_turnover", "<="),
    ("max_pbo", "<="),
    ("min_deflated_sharpe", ">="),
)
"""Every gate key of `[validate]` with the comparison its figure must satisfy."""


@dataclass(frozen=True)
class Figure:
    """What a gate reads: its value (None when not computed), what it is, and why it is missing.

    Attributes:
        value: The figure.
        what: What the figure is, in words (`mean rank IC of the score at 21 days`).
        reason: Why `value` is None.
    """

    value: float | None
    what: str
    reason: str = ""


@dataclass(frozen=True)
class GateResult:
    """One gate of the table."""

    gate: str
    what: str
    value: float | None
    op: str
    threshold: float
    status: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def needs_ledger(gates: GatesSection) -> bool:
    """Whether a gate reads the trial ledger."""
    return gates.max_pbo is not None or gates.min_deflated_sharpe is not None


def evaluate(gates: GatesSection, figures: dict[str, Figure]) -> list[GateResult]:
    """Each set gate, in `GATES` order."""
    out: list[GateResult] = []
    for name, op in GATES:
        threshold = getattr(gates, name)
        if threshold is None:
            continue
        figure = figures[name]
        out.append(_judge(name, op, float(threshold), figure))
    return out


def _judge(name: str, op: str, threshold: float, figure: Figure) -> GateResult:
    """One gate against its figure."""
    if figure.value is None:
        return GateResult(name, figure.what, None, op, threshold, NOT_EVALUABLE, figure.reason)
    ok = figure.value >= threshold if op == ">=" else figure.value <= threshold
    return GateResult(name, figure.what, figure.value, op, threshold, PASS if ok else FAIL, "")


def verdict(results: list[GateResult], *, strict: bool) -> bool:
    """Whether the validation passes: no gate failed (nor, when strict, was not evaluable)."""
    bad = {FAIL, NOT_EVALUABLE} if strict else {FAIL}
    return not any(r.status in bad for r in results)
