"""ComputeFactors: every factor of the Plan as a (dates x symbols) float64 panel.

`compute_factors(specs, panel)` returns `{factor name: (T, N) array}` on the
panel's grid. Point in time: the value on date t uses only data dated <= t
(prices up to t, fundamentals visible by t). Every factor is NaN on dates
where the symbol has no `adj_close` (not trading) and during its warm-up.

Semantics and units of each kind are documented on its function:
`qtc.pipeline.factors_price` (momentum, volatility, rsi, macd, bbands, atr,
beta, garch_vol) and `qtc.pipeline.factors_fundamental` (value, quality,
growth, size). nanobook is reached only through `qtc.pipeline.indicators`.

Only factors that change the result are computed: `used_factors` keeps those with a
non-zero weight in the resolved `scoring.weights` (no other stage reads factors), so a
declared but unweighted factor costs nothing.

`FactorCache` keeps computed panels keyed by the factor's canonical JSON
without its `name`, so renamed copies of one factor, and the many strategy
variants of a sweep over one panel, compute it once. Cached arrays are
read-only: copy before modifying in place.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from qtc.errors import QtcError
from qtc.manifest.factors import (
    AtrFactor,
    BbandsFactor,
    BetaFactor,
    FactorSpec,
    GarchVolFactor,
    GrowthFactor,
    MacdFactor,
    MomentumFactor,
    QualityFactor,
    RsiFactor,
    SizeFactor,
    ValueFactor,
    VolatilityFactor,
)
from qtc.pipeline import factors_fundamental as fundamental
from qtc.pipeline import factors_price as price
from qtc.pipeline.factors_fundamental import FundamentalsSource, lake_fundamentals
from qtc.pipeline.panel import Panel
from qtc.pipeline.progress import Tick

__all__ = [
    "FactorCache",
    "FundamentalsSource",
    "compute_factor",
    "compute_factors",
    "factor_key",
    "lake_fundamentals",
    "used_factors",
]

FUNDAMENTAL_KINDS = (ValueFactor, QualityFactor, GrowthFactor, SizeFactor)
"""Factor classes that read fundamentals (they need a FundamentalsSource)."""

MASKED_KINDS = (MomentumFactor,)
"""Factor classes whose function already leaves NaN where the symbol has no adj_close."""


def factor_key(spec: FactorSpec) -> str:
    """Canonical JSON of a factor without its `name` (the cache key).

    Args:
        spec: The factor.

    Returns:
        Sorted-key compact JSON of every field except `name`.
    """
    fields = spec.model_dump(mode="json", exclude={"name"})
    return json.dumps(fields, sort_keys=True, separators=(",", ":"))


def used_factors(
    specs: Sequence[FactorSpec], weights: Mapping[str, float]
) -> tuple[FactorSpec, ...]:
    """The factors a run must compute: those with a non-zero composite weight.

    Args:
        specs: The declared factors, in file order.
        weights: The resolved composite weights (`Score.factor_weights`: the file's
            `scoring.weights`, or weight 1 for every factor when it is empty).

    Returns:
        The factors whose weight is non-zero, in file order.
    """
    return tuple(f for f in specs if weights.get(f.name, 0.0) != 0.0)


def compute_factor(
    spec: FactorSpec,
    panel: Panel,
    fundamentals: FundamentalsSource | None = None,
    dates_needed: np.ndarray | None = None,
) -> np.ndarray:
    """Compute one factor on the whole panel (no caching).

    Args:
        spec: The factor.
        panel: The market panel.
        fundamentals: Point-in-time fundamentals (needed by value, quality,
            growth and size).
        dates_needed: (T,) bool: rows whose values are wanted, or None for all.
            Expensive kinds (garch_vol) compute only these rows and leave the
            others NaN; the other kinds ignore it.

    Returns:
        (T, N) float64, NaN where the symbol has no adj_close.

    Raises:
        QtcError: If a fundamental factor has no source, or inputs are missing.
    """
    out = _dispatch(spec, panel, fundamentals, dates_needed)
    if not isinstance(spec, MASKED_KINDS):
        np.copyto(out, np.nan, where=np.isnan(panel.adj_close))
    return out


def _dispatch(
    spec: FactorSpec,
    panel: Panel,
    fundamentals: FundamentalsSource | None,
    dates_needed: np.ndarray | None,
) -> np.ndarray:
    """Call the function of the factor's kind."""
    if isinstance(spec, FUNDAMENTAL_KINDS):
        if fundamentals is None:
            raise QtcError(
                f"factor {spec.name!r} ({spec.kind}) needs fundamentals, but none were given"
            )
        return _fundamental(spec, panel, fundamentals)
    match spec:
        case MomentumFactor():
            return price.momentum(spec, panel)
        case VolatilityFactor():
            return price.volatility(spec, panel)
        case RsiFactor():
            return price.rsi(spec, panel)
        case MacdFactor():
            return price.macd(spec, panel)
        case BbandsFactor():
            return price.bbands(spec, panel)
        case AtrFactor():
            return price.atr(spec, panel)
        case BetaFactor():
            return price.beta(spec, panel)
        case GarchVolFactor():
            return price.garch_vol(spec, panel, dates_needed)
    raise QtcError(f"unknown factor kind {spec.kind!r}")  # pragma: no cover


def _fundamental(
    spec: ValueFactor | QualityFactor | GrowthFactor | SizeFactor,
    panel: Panel,
    source: FundamentalsSource,
) -> np.ndarray:
    """Call the function of a fundamental factor's kind."""
    match spec:
        case ValueFactor():
            return fundamental.value(spec, panel, source)
        case QualityFactor():
            return fundamental.quality(spec, panel, source)
        case GrowthFactor():
            return fundamental.growth(spec, panel, source)
        case SizeFactor():
            return fundamental.size(spec, panel, source)


@dataclass
class _Entry:
    """A cached factor panel and the rows it holds (None = every row)."""

    values: np.ndarray
    rows: np.ndarray | None


class FactorCache:
    """Computed factor panels keyed by (market identity, factor spec without its `name`).

    Renamed-but-identical factors and any number of plans on one market share work.
    A market is named by its key (`qtc.pipeline.market.market_key`: two loads of one
    LoadData spec are the same market); a bare panel passed without a key is its own
    market (the cache keeps a reference, so its identity cannot be recycled). Factor
    values are only valid on the market they were computed from. The fundamentals
    source is assumed to be the market's lake.

    Attributes:
        computed: Number of factor computations done (misses).
        hits: Number of requests served from the cache.
    """

    def __init__(self) -> None:
        self._markets: dict[str, tuple[int, int]] = {}
        self._panels: dict[str, Panel] = {}
        self._entries: dict[tuple[str, str], _Entry] = {}
        self.computed = 0
        self.hits = 0

    def __len__(self) -> int:
        """Number of distinct factors held."""
        return len(self._entries)

    def __bool__(self) -> bool:
        """Always true, so `cache or FactorCache()` keeps an empty cache."""
        return True

    def get_or_compute(
        self,
        spec: FactorSpec,
        panel: Panel,
        fundamentals: FundamentalsSource | None,
        *,
        dates_needed: np.ndarray | None = None,
        market: str | None = None,
    ) -> np.ndarray:
        """Return a factor's panel, computing it on first request.

        Args:
            spec: The factor.
            panel: The market's panel.
            fundamentals: Point-in-time fundamentals (fundamental kinds only).
            dates_needed: (T,) bool rows wanted, or None for all (see `compute_factor`).
                For garch_vol, rows computed earlier are reused and only the
                missing ones computed; the result is NaN outside `dates_needed`.
            market: The market's key; None: the panel object is its own market.

        Returns:
            Read-only (T, N) float64.

        Raises:
            QtcError: If the panel's shape is not its market's, or `dates_needed` is malformed.
        """
        scope = self._scope(panel, market)
        wanted = _rows_mask(dates_needed, panel) if isinstance(spec, GarchVolFactor) else None
        key = (scope, factor_key(spec))
        entry = self._entries.get(key)
        if entry is not None and _covers(entry.rows, wanted):
            self.hits += 1
            return _restrict(entry, wanted)
        if entry is None or entry.rows is None:
            rows = wanted
            values = compute_factor(spec, panel, fundamentals, wanted)
        else:
            missing = ~entry.rows if wanted is None else wanted & ~entry.rows
            fresh = compute_factor(spec, panel, fundamentals, missing)
            values = np.where(missing[:, None], fresh, entry.values)
            rows = entry.rows | missing
        self.computed += 1
        values.flags.writeable = False
        entry = _Entry(values, None if rows is None or bool(rows.all()) else rows)
        self._entries[key] = entry
        return _restrict(entry, wanted)

    def forget(self, market: str) -> None:
        """Drop every factor computed on `market` (a search that has moved on to another)."""
        self._entries = {k: v for k, v in self._entries.items() if k[0] != market}
        self._markets.pop(market, None)
        self._panels.pop(market, None)

    def _scope(self, panel: Panel, market: str | None) -> str:
        """The market the entries of `panel` belong to (checked against its shape)."""
        if market is None:
            market = f"panel:{id(panel)}"
            self._panels.setdefault(market, panel)
        shape = self._markets.setdefault(market, panel.shape)
        if shape != panel.shape:
            raise QtcError(
                f"market {market} was cached with a panel of shape {shape}; "
                f"got one of shape {panel.shape} (a bug in qtc)"
            )
        return market


def _rows_mask(dates_needed: np.ndarray | None, panel: Panel) -> np.ndarray | None:
    """Validate `dates_needed` as a (T,) bool mask (None stays None)."""
    if dates_needed is None:
        return None
    mask = np.asarray(dates_needed)
    if mask.dtype != np.bool_ or mask.shape != (panel.shape[0],):
        raise QtcError(
            f"dates_needed must be a bool array of shape ({panel.shape[0]},), "
            f"got {mask.dtype} {mask.shape}"
        )
    return mask


def _covers(held: np.ndarray | None, wanted: np.ndarray | None) -> bool:
    """Whether the rows held include the rows wanted."""
    if held is None:
        return True
    if wanted is None:
        return False
    return not bool((wanted & ~held).any())


def _restrict(entry: _Entry, wanted: np.ndarray | None) -> np.ndarray:
    """The cached values, NaN outside the wanted rows when the entry holds more."""
    if wanted is None or (entry.rows is not None and np.array_equal(entry.rows, wanted)):
        return entry.values
    out = entry.values.copy()
    out[~wanted] = np.nan
    out.flags.writeable = False
    return out


def compute_factors(
    specs: Sequence[FactorSpec],
    panel: Panel,
    *,
    cache: FactorCache | None = None,
    fundamentals: Callable[[str, int], FundamentalsSource] | None = None,
    dates_needed: np.ndarray | None = None,
    tick: Tick | None = None,
    market: str | None = None,
) -> dict[str, np.ndarray]:
    """Compute every factor of a strategy on a panel.

    Args:
        specs: The factors (names must be unique).
        panel: The market panel.
        cache: A cache shared across calls on the same panel; None = a fresh one
            (identical factors within `specs` are still computed once).
        fundamentals: Makes a point-in-time source for `(point_in_time,
            lag_days)`, e.g. `lambda pit, lag: lake_fundamentals(lake, pit, lag)`;
            called at most once per distinct pair. Needed by value, quality,
            growth and size.
        dates_needed: (T,) bool rows whose values are wanted (e.g. the signal
            dates), or None for all. Only expensive kinds (garch_vol) use it to
            skip work, leaving other rows NaN.
        tick: Called with `(done, total)` after each factor (progress).
        market: The market's key (see `FactorCache`); None: the panel is its own market.

    Returns:
        Factor name -> read-only (T, N) float64; the value on date t uses only
        data dated <= t.

    Raises:
        QtcError: For duplicate names, a fundamental factor without a source,
            or missing panel inputs.
    """
    if cache is None:
        cache = FactorCache()
    sources: dict[tuple[str, int], FundamentalsSource] = {}
    out: dict[str, np.ndarray] = {}
    for done, spec in enumerate(specs, start=1):
        if spec.name in out:
            raise QtcError(f"duplicate factor name {spec.name!r}")
        source = None
        if isinstance(spec, FUNDAMENTAL_KINDS) and fundamentals is not None:
            pair = (spec.point_in_time, spec.lag_days)
            if pair not in sources:
                sources[pair] = fundamentals(*pair)
            source = sources[pair]
        out[spec.name] = cache.get_or_compute(
            spec, panel, source, dates_needed=dates_needed, market=market
        )
        if tick is not None:
            tick(done, len(specs))
    return out
