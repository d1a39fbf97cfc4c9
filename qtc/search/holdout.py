"""The held-out check of an evolution: the window split, and the winners' out-of-sample runs.

With `--holdout DATE` (or `--holdout-fraction F`: the last F of the window's calendar
days), the base strategy is compiled with `data.end` set to the day before DATE, so
every plan the search compiles ends there and no trial can read a price on or after
it. The winners are then run on the held-out window (`data.start = DATE`, `data.end`
the original end); their in-sample and out-of-sample figures are reported side by side.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qtc.errors import UserError
from qtc.manifest.strategy import Strategy
from qtc.search.evaluate import OK, Trial

FIGURES = ("sharpe", "cagr", "max_drawdown", "volatility")
"""The figures shown side by side (plus the objectives)."""

WARN_BELOW = 0.5
"""Warn when out-of-sample Sharpe is under this fraction of in-sample Sharpe."""


@dataclass(frozen=True)
class Holdout:
    """A split of the window into an in-sample part and a held-out part.

    Attributes:
        date: The first held-out day.
        start: The window's first day (in-sample start).
        end: The window's last day (held-out end).
    """

    date: dt.date
    start: dt.date
    end: dt.date

    @property
    def in_sample_end(self) -> dt.date:
        """The last in-sample day (the day before the holdout)."""
        return self.date - dt.timedelta(days=1)

    def in_sample_override(self) -> str:
        """The `--set` that truncates the base strategy's window."""
        return f"data.end={self.in_sample_end.isoformat()}"

    def out_of_sample_values(self) -> dict[str, dt.date]:
        """The values that put a strategy on the held-out window."""
        return {"data.start": self.date, "data.end": self.end}

    def as_dict(self) -> dict[str, str]:
        """JSON-ready."""
        return {
            "date": self.date.isoformat(),
            "in_sample": f"{self.start.isoformat()}..{self.in_sample_end.isoformat()}",
            "out_of_sample": f"{self.date.isoformat()}..{self.end.isoformat()}",
        }


def parse_date(text: str) -> dt.date:
    """`--holdout`'s value.

    Raises:
        UserError: If it is not a YYYY-MM-DD date.
    """
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f"--holdout {text!r} is not a date", hint="use YYYY-MM-DD, e.g. --holdout 2019-01-02"
        ) from None


def split(date: str | None, fraction: float | None, start: dt.date, end: dt.date) -> Holdout | None:
    """The holdout asked for, checked against the window `start..end` (None without one).

    Raises:
        UserError: For both options at once, a bad date or fraction, or a date outside
            the window.
    """
    if date is not None and fraction is not None:
        raise UserError("give --holdout or --holdout-fraction, not both")
    if fraction is not None:
        if not (math.isfinite(fraction) and 0 < fraction < 1):
            raise UserError(
                f"--holdout-fraction must be between 0 and 1, got {fraction}",
                hint="for example --holdout-fraction 0.3 holds out the last 30% of the window",
            )
        days = (end - start).days
        return _checked(start + dt.timedelta(days=math.ceil(days * (1 - fraction))), start, end)
    if date is None:
        return None
    return _checked(parse_date(date), start, end)


def _checked(date: dt.date, start: dt.date, end: dt.date) -> Holdout:
    """The holdout, refused unless both parts of the window have days."""
    if not start < date <= end:
        raise UserError(
            f"the holdout {date.isoformat()} is outside the window "
            f"{start.isoformat()}..{end.isoformat()}",
            hint="give a date after data.start and on or before data.end (or use --set)",
        )
    return Holdout(date, start, end)


def refuse_window_keys(keys: Sequence[str]) -> None:
    """The holdout fixes the window: `[search]` cannot search `data.*` keys with it.

    Raises:
        UserError: Naming the first such key.
    """
    for key in keys:
        if key.startswith("data."):
            raise UserError(
                f"[search] key {key} moves the window, which --holdout fixes",
                hint="drop it from [search], or search without --holdout",
            )


def out_of_sample(
    base: Strategy,
    holdout: Holdout,
    winners: Sequence[tuple[int, dict[str, Any]]],
    lake: Any,
    as_of: dt.date,
) -> dict[int, Trial]:
    """Run each winner (trial number, searched values) on the held-out window."""
    from qtc.pipeline.factors import FactorCache
    from qtc.pipeline.market import load_market, market_key
    from qtc.pipeline.runner import load_spec
    from qtc.search.evaluate import FAILED, evaluate
    from qtc.search.variants import compile_variant

    markets: dict[str, Any] = {}
    cache = FactorCache()
    out: dict[int, Trial] = {}
    for number, values in winners:
        variant = compile_variant(base, number, {**values, **holdout.out_of_sample_values()}, as_of)
        if variant.plan is None:
            out[number] = Trial(number, "", FAILED, reason=variant.problem)
            continue
        spec = load_spec(variant.plan)
        key = market_key(spec)
        if key not in markets:
            markets[key] = load_market(spec, lake)
        out[number] = evaluate(number, variant.plan, markets[key], cache)
    return out


def side_by_side(trial: Trial, oos: Trial | None, metrics: Sequence[str]) -> dict[str, Any]:
    """A winner's in-sample and out-of-sample figures, and whether OOS Sharpe fell short."""
    names = list(dict.fromkeys([*metrics, *FIGURES]))
    held = oos.metrics if oos is not None and oos.status == OK else {}
    row: dict[str, Any] = {
        "trial": trial.number,
        "variant": trial.variant,
        "in_sample": {m: trial.metrics.get(m) for m in names},
        "out_of_sample": {m: held.get(m) for m in names},
        "out_of_sample_status": oos.status if oos is not None else "missing",
        "out_of_sample_reason": oos.reason if oos is not None else "",
    }
    row["warning"] = falls_short(trial.metrics.get("sharpe"), held.get("sharpe"))
    return row


def falls_short(in_sample: float | None, out_of_sample: float | None) -> bool:
    """Whether out-of-sample Sharpe is under half of in-sample Sharpe (or missing)."""
    if in_sample is None or not math.isfinite(in_sample):
        return False
    if out_of_sample is None or not math.isfinite(out_of_sample):
        return True
    return out_of_sample < WARN_BELOW * in_sample
