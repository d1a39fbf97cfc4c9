"""What a validation is asked to do: the request (options) and its resolved settings.

Options override `[validate]`: `--quantiles` its `n_quantiles`, `--folds` its `n_splits`.
The gate horizon `validate.horizon_days` is always studied (added to `--horizons` when
missing). Out-of-range options are QTC404 diagnostics located at the option; problems
that need the data (a horizon longer than it, fewer days than folds) are checked by
`qtc.research.checks`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qtc.errors import Diagnostic, Location, StrategyError
from qtc.manifest.gates import GatesSection

DEFAULT_HORIZONS = (1, 5, 21, 63)
MAX_HORIZON = 252
MAX_QUANTILES = 20
MAX_FOLDS = 50


@dataclass(frozen=True)
class ValidateRequest:
    """The options of one `qtc validate`.

    Attributes:
        path: Strategy file.
        overrides: `--set` values.
        horizons: `--horizons` as given (`"1,5,21,63"`), or None for the default.
        quantiles: `--quantiles`, or None for `validate.n_quantiles`.
        folds: `--folds`, or None for `validate.n_splits`.
        every_day: Study every trading day instead of the rebalance dates.
        reselect: Re-pick the `[search]` variant on each training fold.
        objective: Metric the re-selection ranks by (a metric of daily returns).
        jobs: Worker processes for the re-selection's variants.
        strict: A gate that cannot be evaluated fails too.
    """

    path: str
    overrides: tuple[str, ...] = ()
    horizons: str | None = None
    quantiles: int | None = None
    folds: int | None = None
    every_day: bool = False
    reselect: bool = False
    objective: str = "sharpe"
    jobs: int = 1
    strict: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (saved in validate.json)."""
        return {
            "path": self.path,
            "overrides": list(self.overrides),
            "horizons": self.horizons,
            "quantiles": self.quantiles,
            "folds": self.folds,
            "every_day": self.every_day,
            "reselect": self.reselect,
            "objective": self.objective,
            "strict": self.strict,
        }


@dataclass(frozen=True)
class Settings:
    """The resolved research settings.

    Attributes:
        horizons: Forward-return horizons in trading days, ascending.
        gate_horizon: The horizon the signal gates read (`validate.horizon_days`).
        n_quantiles: Quantile buckets.
        n_folds: Walk-forward folds.
        scheme: `expanding` or `rolling`.
    """

    horizons: tuple[int, ...]
    gate_horizon: int
    n_quantiles: int
    n_folds: int
    scheme: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "horizons": list(self.horizons),
            "gate_horizon": self.gate_horizon,
            "n_quantiles": self.n_quantiles,
            "n_folds": self.n_folds,
            "scheme": self.scheme,
        }


def resolve(request: ValidateRequest, gates: GatesSection) -> Settings:
    """The settings of a request on a strategy's `[validate]` section.

    Raises:
        StrategyError: QTC404 for every out-of-range option, all at once.
    """
    problems: list[Diagnostic] = []
    horizons = _horizons(request.horizons, problems)
    quantiles = _bounded("--quantiles", request.quantiles, gates.n_quantiles, 2, MAX_QUANTILES)
    folds = _bounded("--folds", request.folds, gates.n_splits, 2, MAX_FOLDS)
    problems += [d for d in (quantiles, folds) if isinstance(d, Diagnostic)]
    if problems:
        raise StrategyError(problems)
    assert isinstance(quantiles, int) and isinstance(folds, int)
    return Settings(
        horizons=tuple(sorted({*horizons, gates.horizon_days})),
        gate_horizon=gates.horizon_days,
        n_quantiles=quantiles,
        n_folds=folds,
        scheme=gates.walk_forward,
    )


def option_problem(option: str, message: str, expected: str, hint: str = "") -> Diagnostic:
    """A QTC404 diagnostic located at a command-line option."""
    return Diagnostic(
        code="QTC404",
        message=message,
        location=Location(option),
        expected=expected,
        hint=hint,
    )


def _horizons(text: str | None, problems: list[Diagnostic]) -> tuple[int, ...]:
    """`--horizons 1,5,21,63` as integers (problems appended)."""
    if text is None:
        return DEFAULT_HORIZONS
    expected = f"whole numbers of trading days from 1 to {MAX_HORIZON}, e.g. `--horizons 1,5,21`"
    out: list[int] = []
    for part in text.split(","):
        value = part.strip()
        if not _whole(value) or not 1 <= int(value) <= MAX_HORIZON:
            shown = value if value.isprintable() else repr(value)
            problems.append(option_problem("--horizons", f"bad horizon {shown!r}", expected))
            return ()
        out.append(int(value))
    return tuple(out)


def _whole(text: str) -> bool:
    """A short string of ASCII digits (`int()` of it cannot fail)."""
    return 0 < len(text) <= 6 and text.isascii() and text.isdigit()


def _bounded(option: str, given: int | None, default: int, low: int, high: int) -> int | Diagnostic:
    """An integer option within [low, high], or its default."""
    if given is None:
        return default
    if low <= given <= high:
        return given
    return option_problem(
        option, f"{option} {given} is out of range", f"a whole number from {low} to {high}"
    )
