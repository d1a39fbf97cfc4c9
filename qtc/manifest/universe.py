"""`[universe]`: which symbols are eligible on each date."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from qtc.manifest.base import Section, Symbol, spec


class _UniverseBase(Section):
    """Filters shared by every universe kind."""

    min_price: float = spec(
        0.0,
        description="Drop symbols whose close on the signal date is below this price.",
        unit="USD",
        example=5.0,
        ge=0,
    )
    min_history_days: int = spec(
        0,
        description="Drop symbols with fewer priced days than this before the signal date.",
        unit="trading days",
        example=252,
        ge=0,
    )
    exclude: list[Symbol] = spec(
        [],
        description="Symbols never traded, whatever their score.",
        unit="symbols",
        example=["GE"],
    )
    sectors: list[str] = spec(
        [],
        description="Keep only these sectors (from the lake's `symbols`); empty = all.",
        unit="sector names",
        example=["Information Technology"],
    )


class AllUniverse(_UniverseBase):
    """Every symbol in the lake that has a price on the signal date."""

    kind: Literal["all"] = spec(description="Universe kind.", unit="kind", example="all")


class SymbolsUniverse(_UniverseBase):
    """A fixed list of symbols (survivorship-prone for past dates)."""

    kind: Literal["symbols"] = spec(description="Universe kind.", unit="kind", example="symbols")
    symbols: list[Symbol] = spec(
        description="The symbols to consider.",
        unit="symbols",
        example=["AAPL", "MSFT", "JNJ"],
        min_length=1,
    )


class IndexMembersUniverse(_UniverseBase):
    """Members of an index, taken from the membership snapshot in force on each date."""

    kind: Literal["index_members"] = spec(
        description="Universe kind.", unit="kind", example="index_members"
    )
    index: str = spec(
        "sp500",
        description="Index name in the lake's `membership` dataset.",
        unit="index name",
        example="sp500",
        min_length=1,
    )
    membership: Literal["point_in_time", "latest"] = spec(
        "point_in_time",
        description=(
            "`point_in_time` uses the snapshot in force on each date; `latest` uses "
            "today's members for every date (survivorship bias)."
        ),
        unit="mode",
        example="point_in_time",
    )


UniverseSpec = Annotated[
    AllUniverse | SymbolsUniverse | IndexMembersUniverse, Field(discriminator="kind")
]
