"""The array forms of issue 14 give the bits of the whole-array numpy forms they replace.

Top-N selection without a stable argsort, the activity metrics read in row blocks, blocked
momentum, in-place returns, and a market loaded as read-only views of the matrix cache: each
is compared with the straightforward numpy expression it stands for, on inputs with ties,
signed zeros, NaN, infinities and other memory layouts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from qtc.compile.stages import LoadData
from qtc.errors import QtcError
from qtc.manifest.factors import MomentumFactor
from qtc.manifest.scoring import SelectionSection
from qtc.pipeline import metrics, selection
from qtc.pipeline.data import load_data
from qtc.pipeline.factors import compute_factor
from qtc.pipeline.panel import Panel


def make_panel(px: np.ndarray) -> Panel:
    """A panel of adj_close on consecutive days."""
    t, n = px.shape
    return Panel(
        dates=np.datetime64("2020-01-01", "D") + np.arange(t),
        symbols=[f"S{i}" for i in range(n)],
        adj_close=px,
        close=px.copy(),
        open=None,
        high=None,
        low=None,
        volume=None,
        sectors=[""] * n,
        benchmark=np.ones(t),
        rf=np.zeros(t),
        start=0,
    )


def argsort_top(spec: SelectionSection, scores: np.ndarray) -> np.ndarray:
    """The former selection: ranks from a stable argsort of the negated scores."""
    ok = np.isfinite(scores)
    if spec.min_score is not None:
        ok &= scores >= spec.min_score
    keyed = np.where(ok, -scores, np.inf)
    order = np.argsort(keyed, axis=1, kind="stable")
    ranks = np.empty(scores.shape, np.int64)
    np.put_along_axis(ranks, order, np.arange(scores.shape[1])[None, :], axis=1)
    counts = np.array([selection._count(spec, int(n)) for n in ok.sum(axis=1)], np.int64)
    out: np.ndarray = (ranks < counts[:, None]) & ok
    return out


def random_scores(rng: np.random.Generator, kind: int) -> np.ndarray:
    """Scores with many ties (kinds 1-3), signed zeros and infinities (kind 2), NaN."""
    shape = (int(rng.integers(1, 8)), int(rng.integers(1, 30)))
    if kind == 0:
        scores = rng.standard_normal(shape)
    elif kind == 1:
        scores = rng.integers(-3, 4, shape).astype(float)
    elif kind == 2:
        scores = rng.choice([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf], shape)
    else:
        scores = np.round(rng.standard_normal(shape), 1)
    scores[rng.random(shape) < rng.random() * 0.8] = np.nan
    return scores


SPECS = [
    SelectionSection(top_n=3),
    SelectionSection(top_n=1),
    SelectionSection(top_n=10, min_score=0.0),
    SelectionSection(quantile=0.3),
    SelectionSection(),
    SelectionSection(quantile=0.5, min_score=-0.5),
]


def test_top_n_without_argsort_keeps_the_same_names() -> None:
    rng = np.random.default_rng(1)
    for trial in range(800):
        scores = random_scores(rng, trial % 4)
        for spec in SPECS:
            got = selection.select(spec, scores)
            assert got.dtype == bool
            np.testing.assert_array_equal(got, argsort_top(spec, scores))
    for shape in [(0, 5), (3, 0), (0, 0)]:
        empty = np.zeros(shape)
        assert selection.select(SPECS[0], empty).shape == shape


def dense_activity(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The former activity sums: non-zero counts, gross and net row sums."""
    w = np.nan_to_num(weights, nan=0.0) if np.isnan(weights).any() else weights
    return np.count_nonzero(w, axis=1), np.abs(w).sum(axis=1), w.sum(axis=1)


def random_weights(rng: np.random.Generator, trial: int) -> np.ndarray:
    """Weights over several blocks of rows, with zeros of both signs, NaN, some negatives."""
    days, names = int(rng.integers(1, 700)), int(rng.integers(0, 600))
    w = rng.random((days, names)) * rng.choice([1e-300, 1e-5, 1.0])
    w[rng.random(w.shape) < rng.random()] = 0.0
    w[rng.random(w.shape) < 0.1] = -0.0
    if trial % 3 == 0:
        w[rng.random(w.shape) < 0.1] *= -1
    if trial % 5 == 0:
        w[int(rng.integers(0, days))] = -0.0
    if trial % 7 == 0:
        w = np.asfortranarray(w)
    if trial % 11 == 0:
        w[rng.random(w.shape) < 0.05] = np.nan
    return w


def test_activity_sums_read_in_blocks_are_the_dense_sums_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    for trial in range(150):
        w = random_weights(rng, trial)
        held, gross, net = dense_activity(w)
        clean, rows = metrics._weights(w, w.shape[0])
        assert rows.sums.tobytes() == net.tobytes()
        np.testing.assert_array_equal(rows.held, held)
        assert rows.held.dtype == held.dtype
        assert metrics._gross(clean, rows).tobytes() == gross.tobytes()


def test_infinite_weights_are_still_refused() -> None:
    w = np.ones((3, 2))
    w[1, 0] = np.inf
    with pytest.raises(QtcError, match="infinite"):
        metrics._weights(w, 3)


def test_blocked_momentum_is_the_whole_array_formula() -> None:
    rng = np.random.default_rng(7)
    px = 100 * np.cumprod(1 + 0.01 * rng.standard_normal((700, 5)), axis=0)
    px[rng.random(px.shape) < 0.05] = np.nan
    px[:40, 2] = np.nan
    spec = MomentumFactor(name="m", kind="momentum", lookback=252, skip=21)
    expected = np.full(px.shape, np.nan)
    with np.errstate(invalid="ignore"):
        expected[252:] = px[231:-21] / px[:-252] - 1.0
    expected[np.isnan(px)] = np.nan
    got = compute_factor(spec, make_panel(px))
    assert got.tobytes() == expected.tobytes()
    short = compute_factor(spec, make_panel(px[:100]))
    assert np.isnan(short).all()


def test_returns_in_place_are_the_former_expression() -> None:
    rng = np.random.default_rng(8)
    px = 50 + rng.random((300, 4))
    px[rng.random(px.shape) < 0.1] = np.nan
    expected = np.full(px.shape, np.nan)
    with np.errstate(invalid="ignore"):
        expected[1:] = px[1:] / px[:-1] - 1.0
    assert make_panel(px).returns().tobytes() == expected.tobytes()


def test_a_market_is_read_only_views_equal_to_the_copies(tiny_lake: Any) -> None:
    spec = LoadData(
        start=dt.date(2005, 6, 1),
        end=dt.date(2006, 12, 29),
        end_is_as_of=False,
        history_start=None,
        warmup_days=20,
        benchmark="SPY",
        datasets=("prices", "benchmarks", "rates", "symbols"),
    )
    panel = load_data(spec, tiny_lake, ohlc=False, raw_close=True, symbols=None)
    window = (str(panel.dates[0]), str(panel.dates[-1]))
    dates, names, copies = tiny_lake.bar_matrices(("adj_close", "close"), None, *window)
    keep = np.isfinite(copies["adj_close"]).any(axis=0)
    assert panel.symbols == [s for s, k in zip(names, keep, strict=True) if k]
    np.testing.assert_array_equal(panel.dates, dates)
    for got, column in ((panel.adj_close, "adj_close"), (panel.close, "close")):
        assert not got.flags.writeable
        assert got.tobytes() == np.ascontiguousarray(copies[column][:, keep]).tobytes()
    assert copies["adj_close"].flags.writeable  # the default read still copies
