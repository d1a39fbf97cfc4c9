"""`[stops]`: per-position exits checked on every close, a tagged union on `kind`.

A stopped name stays out of the portfolio until the next rebalance.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from qtc.manifest.base import Section, spec


class NoStops(Section):
    """No stops: positions change only at rebalances."""

    kind: Literal["none"] = spec(description="Stop kind.", unit="kind", example="none")


class FixedStop(Section):
    """Exit when the close falls this far below the entry price."""

    kind: Literal["fixed"] = spec(description="Stop kind.", unit="kind", example="fixed")
    stop_pct: float = spec(
        description="Loss from entry that triggers the exit.",
        unit="fraction of entry price",
        example=0.1,
        gt=0,
        lt=1,
    )


class TrailingStop(Section):
    """Exit when the close falls this far below its high since entry."""

    kind: Literal["trailing"] = spec(description="Stop kind.", unit="kind", example="trailing")
    trail_pct: float = spec(
        description="Drop from the running high that triggers the exit.",
        unit="fraction of the high",
        example=0.15,
        gt=0,
        lt=1,
    )


class AtrStop(Section):
    """Exit when the close falls `multiple` x average absolute daily move below its high."""

    kind: Literal["atr"] = spec(description="Stop kind.", unit="kind", example="atr")
    multiple: float = spec(
        3.0, description="Stop distance in ATRs.", unit="ATR multiples", example=3.0, gt=0, le=50
    )
    period: int = spec(14, description="ATR window.", unit="trading days", example=14, ge=1, le=250)


StopsSpec = Annotated[NoStops | FixedStop | TrailingStop | AtrStop, Field(discriminator="kind")]
