"""Per-name cap (water-filling), the regime overlay and its exposure signal."""

from __future__ import annotations

from typing import get_args

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from qtc.errors import QtcError
from qtc.lake.schema import MACRO_COLUMNS
from qtc.manifest.regime import NoRegime, VixRegime, YieldCurveRegime
from qtc.pipeline.caps import (
    apply_regime,
    cap_weights,
    macro_key,
    regime_exposure,
    regime_exposure_with_notes,
)

# --- cap_weights: worked by hand ---------------------------------------------------------


def test_excess_goes_pro_rata_to_the_uncapped_names() -> None:
    # excess 0.1 split 0.3 : 0.2 -> +0.06, +0.04
    out = cap_weights(np.array([[0.5, 0.3, 0.2]]), 0.4)
    np.testing.assert_allclose(out, [[0.4, 0.36, 0.24]], rtol=0, atol=1e-15)


def test_redistribution_that_pushes_a_second_name_over_the_cap() -> None:
    # round 1: 0.6 -> 0.3, the others x 0.7/0.4 -> 0.4375 (over), 0.175, 0.0875
    # round 2: 0.25 -> 0.3 as well, the last two share 0.4 as 0.1 : 0.05
    out = cap_weights(np.array([[0.6, 0.25, 0.1, 0.05]]), 0.3)
    np.testing.assert_allclose(out, [[0.3, 0.3, 0.4 * 2 / 3, 0.4 / 3]], rtol=0, atol=1e-15)


def test_cap_times_count_below_one_leaves_cash() -> None:
    out = cap_weights(np.array([[0.5, 0.0, 0.3, 0.2]]), 0.25)
    np.testing.assert_array_equal(out, [[0.25, 0.0, 0.25, 0.25]])
    assert out.sum() == pytest.approx(0.75)


def test_cap_times_count_exactly_one_is_equal_weight() -> None:
    out = cap_weights(np.array([[0.7, 0.2, 0.1, 0.0]]), 1 / 3)
    np.testing.assert_allclose(out, [[1 / 3, 1 / 3, 1 / 3, 0.0]], rtol=0, atol=1e-15)


def test_rows_already_under_the_cap_zeros_and_empty_rows_are_unchanged() -> None:
    w = np.array([[0.0, 0.2, 0.3, 0.5], [0.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]])
    out = cap_weights(w, 0.5)
    np.testing.assert_allclose(out, w, rtol=0, atol=1e-15)
    assert (out[w == 0] == 0).all()


def test_rows_are_independent_and_1d_input_works() -> None:
    w = np.array([[0.5, 0.3, 0.2], [0.2, 0.3, 0.5]])
    out = cap_weights(w, 0.4)
    np.testing.assert_allclose(out[1], out[0][::-1], rtol=0, atol=1e-15)
    np.testing.assert_allclose(cap_weights(w[0], 0.4), out[0], rtol=0, atol=0)


@pytest.mark.parametrize(
    ("weights", "cap"),
    [([[0.5, -0.1, 0.6]], 0.5), ([[0.5, np.nan, 0.5]], 0.5), ([[1.0]], 0.0), ([[[1.0]]], 0.5)],
)
def test_bad_input_raises(weights: list[object], cap: float) -> None:
    with pytest.raises(ValueError):
        cap_weights(np.array(weights, dtype=float), cap)


# --- cap_weights: properties --------------------------------------------------------------


@st.composite
def weight_rows(draw: st.DrawFn) -> np.ndarray:
    """(R, N) non-negative rows summing to 1 (or all zero), with ties and zeros."""
    n_rows = draw(st.integers(1, 6))
    n_names = draw(st.integers(1, 12))
    raw = draw(
        arrays(
            np.float64,
            (n_rows, n_names),
            elements=st.one_of(st.just(0.0), st.sampled_from([0.1, 0.5, 1.0]), st.floats(1e-6, 1)),
        )
    )
    total = raw.sum(axis=1, keepdims=True)
    rows: np.ndarray = np.divide(raw, total, out=np.zeros_like(raw), where=total > 0)
    return rows


CAP = st.one_of(st.floats(0.01, 1.0), st.sampled_from([0.05, 0.1, 0.25, 0.5, 1.0]))


@settings(max_examples=300, deadline=None)
@given(w=weight_rows(), cap=CAP)
def test_cap_properties(w: np.ndarray, cap: float) -> None:
    out = cap_weights(w, cap)
    held = w > 0
    count = held.sum(axis=1)
    # never above the cap; zeros stay zero; never negative
    assert (out <= cap + 1e-12).all()
    assert (out[~held] == 0).all()
    assert (out >= 0).all()
    # fully invested unless the cap forbids it
    expected = np.where(count > 0, np.minimum(1.0, cap * count), 0.0)
    np.testing.assert_allclose(out.sum(axis=1), expected, rtol=0, atol=1e-12)
    # order preserved: a larger input weight never gets a smaller output weight
    for r in range(w.shape[0]):
        bigger = w[r][:, None] > w[r][None, :]
        assert (out[r][:, None] >= out[r][None, :] - 1e-12)[bigger].all()
    # names left under the cap keep their input proportions (pro rata)
    for r in range(w.shape[0]):
        free = held[r] & (out[r] < cap - 1e-9)
        if free.sum() > 1:
            ratio = out[r][free] / w[r][free]
            np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)
    # idempotent
    np.testing.assert_allclose(cap_weights(out, cap), out, rtol=0, atol=1e-12)


# --- regime overlay -------------------------------------------------------------------------


def test_apply_regime_scales_each_row() -> None:
    w = np.array([[0.5, 0.5], [0.2, 0.8], [0.0, 0.0]])
    out = apply_regime(w, np.array([1.0, 0.5, 0.3]))
    np.testing.assert_array_equal(out, [[0.5, 0.5], [0.1, 0.4], [0.0, 0.0]])


@pytest.mark.parametrize("exposure", [[1.0, 0.5], [1.0, 1.5, 0.5], [1.0, -0.1, 0.5]])
def test_apply_regime_rejects_bad_exposure(exposure: list[float]) -> None:
    with pytest.raises(ValueError):
        apply_regime(np.ones((3, 2)) / 2, np.array(exposure))


def test_every_yield_tenor_maps_to_a_lake_macro_column() -> None:
    for field in ("short", "long"):
        for tenor in get_args(YieldCurveRegime.model_fields[field].annotation):
            assert macro_key(tenor) in MACRO_COLUMNS
    assert "vix" in MACRO_COLUMNS


def test_no_regime_is_fully_invested() -> None:
    out = regime_exposure(NoRegime(kind="none"), {}, np.array([0, 3, 7]))
    np.testing.assert_array_equal(out, [1.0, 1.0, 1.0])


VIX = np.array([10.0, 20.0, 40.0, 35.0, 10.0, np.nan, np.nan, 31.0, 29.0, 30.0])
#               0     1     2     3     4     5       6       7     8     9


def test_vix_regime_unsmoothed() -> None:
    spec = VixRegime(kind="vix", threshold=30.0, exposure=0.4)
    rows = np.array([0, 2, 3, 4, 5, 7, 8, 9])
    out, notes = regime_exposure_with_notes(spec, {"vix": VIX}, rows)
    # > threshold cuts; exactly 30 does not; NaN on the signal date -> 1 and counted
    np.testing.assert_array_equal(out, [1.0, 0.4, 0.4, 1.0, 1.0, 0.4, 1.0, 1.0])
    assert len(notes) == 1
    assert "1 of 8" in notes[0]


def test_vix_regime_smoothed_over_known_values_and_rows_on_or_before_the_signal() -> None:
    spec = VixRegime(kind="vix", threshold=30.0, exposure=0.5, smoothing_days=3)
    rows = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8])
    out, notes = regime_exposure_with_notes(spec, {"vix": VIX}, rows)
    # means: [10], [10,20]=15, [10,20,40]=23.3, [20,40,35]=31.7, [40,35,10]=28.3,
    # [35,10]=22.5, [10]=10, [31]=31, [31,29]=30
    np.testing.assert_array_equal(out, [1.0, 1.0, 1.0, 0.5, 1.0, 1.0, 1.0, 0.5, 1.0])
    assert notes == []


def test_vix_regime_ignores_later_rows() -> None:
    spec = VixRegime(kind="vix", threshold=30.0, exposure=0.5, smoothing_days=3)
    rows = np.array([1, 3, 4, 7])
    base = regime_exposure(spec, {"vix": VIX}, rows)
    for i, r in enumerate(rows):
        altered = VIX.copy()
        altered[r + 1 :] = 1000.0
        assert regime_exposure(spec, {"vix": altered}, np.array([r]))[0] == base[i]
        altered[r] = 1000.0  # the signal row itself does count
        assert regime_exposure(spec, {"vix": altered}, np.array([r]))[0] == 0.5


def test_yield_curve_regime() -> None:
    y10 = np.array([0.040, 0.040, 0.035, 0.030, np.nan, 0.030])
    y3m = np.array([0.030, 0.041, 0.036, 0.027, 0.030, np.nan])
    y2 = np.array([0.030, 0.030, 0.030, 0.030, 0.030, 0.030])
    macro = {"y_10y": y10, "y_3m": y3m, "y_2y": y2}
    spec = YieldCurveRegime(kind="yield_curve", exposure=0.25)
    out, notes = regime_exposure_with_notes(spec, macro, np.arange(6))
    # spreads: +0.010, -0.001, -0.001, +0.003, missing, missing
    np.testing.assert_array_equal(out, [1.0, 0.25, 0.25, 1.0, 1.0, 1.0])
    assert "2 of 6" in notes[0]
    # smoothing over 2 rows: +0.0045, -0.001, +0.001, +0.003 (only row 3 known), missing
    smooth = spec.model_copy(update={"smoothing_days": 2})
    out = regime_exposure(smooth, macro, np.array([1, 2, 3, 4, 5]))
    np.testing.assert_array_equal(out, [1.0, 0.25, 1.0, 1.0, 1.0])
    # another tenor pair and a threshold
    other = YieldCurveRegime(kind="yield_curve", short="2y", threshold=0.006, exposure=0.0)
    out = regime_exposure(other, macro, np.arange(4))
    # spreads 10y-2y: 0.010, 0.010, 0.005, 0.000
    np.testing.assert_array_equal(out, [1.0, 1.0, 0.0, 0.0])


def test_missing_macro_series_is_a_clear_error() -> None:
    spec = YieldCurveRegime(kind="yield_curve")
    with pytest.raises(QtcError, match="y_3m"):
        regime_exposure(spec, {"y_10y": np.zeros(3)}, np.array([0]))
    with pytest.raises(QtcError, match="vix"):
        regime_exposure(VixRegime(kind="vix"), {}, np.array([0]))
