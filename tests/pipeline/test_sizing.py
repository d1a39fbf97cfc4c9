"""Sizing: tiny markets with obvious answers, independent references, riskfolio on real data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize  # type: ignore[import-untyped]
from sklearn.covariance import LedoitWolf  # type: ignore[import-untyped]

from qtc.manifest.sizing import (
    EqualSizing,
    HrpSizing,
    InverseVolSizing,
    MaxSharpeSizing,
    MinVarianceSizing,
    RiskParitySizing,
)
from qtc.pipeline import optimizers, sizing
from qtc.pipeline.sizing import size, size_with_notes

EQUAL = EqualSizing(kind="equal")

OPTIMIZERS = [
    MinVarianceSizing(kind="min_variance", covariance="sample", lookback=60),
    MinVarianceSizing(kind="min_variance", covariance="ledoit_wolf", lookback=60),
    RiskParitySizing(kind="risk_parity", covariance="sample", lookback=60),
    RiskParitySizing(kind="risk_parity", covariance="ledoit_wolf", lookback=60),
    MaxSharpeSizing(kind="max_sharpe", covariance="ledoit_wolf", lookback=60),
    HrpSizing(kind="hrp", linkage="single", lookback=60),
    HrpSizing(kind="hrp", linkage="ward", lookback=60),
]


def spec_id(spec: object) -> str:
    """Test id: kind and estimator."""
    detail = getattr(spec, "covariance", None) or getattr(spec, "linkage", "")
    return f"{getattr(spec, 'kind', '?')}-{detail}"


def market(n_rows: int, n_names: int, seed: int = 0, drift: float = 0.001) -> np.ndarray:
    """Correlated daily-scale returns with a panel-style NaN first row."""
    rng = np.random.default_rng(seed)
    vols = rng.uniform(0.008, 0.03, n_names)
    common = rng.normal(0, 0.01, (n_rows, 1))
    rets = drift + common + rng.normal(0, 1, (n_rows, n_names)) * vols
    rets[0] = np.nan
    return rets


def one_window(cov: np.ndarray, mean: np.ndarray, n_rows: int, seed: int) -> np.ndarray:
    """Returns whose sample mean and covariance are exactly `mean` and `cov` (to ~1e-15)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n_rows, cov.shape[0]))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T
    out: np.ndarray = z @ np.linalg.cholesky(cov).T + mean
    return out


def random_cov(n: int, seed: int) -> np.ndarray:
    """A random daily-scale covariance with vols 0.8%-3% and mixed correlations."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, n + 2))
    c = a @ a.T
    d = np.sqrt(np.diag(c))
    vols = rng.uniform(0.008, 0.03, n)
    cov: np.ndarray = c / np.outer(d, d) * np.outer(vols, vols)
    return cov


def single(spec: object, window: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Size all names of one window, signal on its last row."""
    sel = np.ones((1, window.shape[1]), dtype=bool)
    w, notes = size_with_notes(spec, sel, window, np.array([window.shape[0] - 1]))  # type: ignore[arg-type]
    return w[0], notes


def simplex_min(fun: object, n: int, starts: int = 1, seed: int = 0) -> np.ndarray:
    """Independent long-only, fully invested minimiser (SLSQP, several starts)."""
    rng = np.random.default_rng(seed)
    best = None
    for k in range(starts):
        x0 = np.full(n, 1 / n) if k == 0 else rng.dirichlet(np.ones(n))
        res = minimize(
            fun,
            x0,
            method="SLSQP",
            bounds=[(0.0, 1.0)] * n,
            constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0}],
            options={"ftol": 1e-15, "maxiter": 2000},
        )
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    x: np.ndarray = best.x
    return x


# --- equal and inverse-vol -----------------------------------------------------------------


def test_equal_weight() -> None:
    sel = np.array(
        [[True, True, False, True], [False, False, False, False], [True, False, False, False]]
    )
    w = size(EQUAL, sel, np.full((5, 4), np.nan), np.array([0, 2, 4]))
    np.testing.assert_array_equal(w, [[1 / 3, 1 / 3, 0, 1 / 3], [0, 0, 0, 0], [1, 0, 0, 0]])
    assert w.dtype == np.float64


def test_inverse_vol_two_assets_one_twice_as_volatile() -> None:
    # A alternates +1%/-1%, B +2%/-2%: sigma_B = 2 sigma_A exactly
    n = 70
    a = np.where(np.arange(n) % 2 == 0, 0.01, -0.01)
    rets = np.column_stack([a, 2 * a, 3 * a])
    rets[0] = np.nan
    spec = InverseVolSizing(kind="inverse_vol", lookback=63)
    sel = np.array([[True, True, False]])
    w, notes = size_with_notes(spec, sel, rets, np.array([n - 1]))
    assert notes == []
    assert w[0, 0] == pytest.approx(2 / 3, abs=1e-15)
    assert w[0, 1] == pytest.approx(1 / 3, abs=1e-15)
    assert w[0, 2] == 0.0


def test_inverse_vol_matches_numpy_on_a_random_market() -> None:
    rets = market(300, 8, seed=3)
    sel = np.random.default_rng(1).random((4, 8)) < 0.6
    rows = np.array([100, 150, 220, 299])
    w = size(InverseVolSizing(kind="inverse_vol", lookback=63), sel, rets, rows)
    for r, s in enumerate(rows):
        inv = np.where(sel[r], 1 / rets[s - 62 : s + 1].std(axis=0, ddof=1), 0.0)
        np.testing.assert_allclose(w[r], inv / inv.sum(), rtol=1e-14, atol=1e-16)


def test_inverse_vol_drops_names_without_a_full_window() -> None:
    rets = market(120, 4, seed=2)
    rets[100, 1] = np.nan  # a gap inside the window
    rets[:, 2] = np.where(np.arange(120) > 0, 0.0, np.nan)  # constant price: sigma = 0
    spec = InverseVolSizing(kind="inverse_vol", lookback=20)
    w, notes = size_with_notes(spec, np.ones((2, 4), bool), rets, np.array([110, 119]))
    # rebalance 0 window = rows 91..110 holds the gap; rebalance 1 window = rows 100..119
    assert w[0, 1] == 0.0 and w[1, 1] == 0.0
    assert (w[:, 2] == 0.0).all()
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    assert len(notes) == 1 and "4 times a selected name got weight 0" in notes[0]
    assert "on 2 of 2 rebalances" in notes[0]


def test_no_usable_name_falls_back_to_equal_weight() -> None:
    rets = market(50, 3)
    spec = InverseVolSizing(kind="inverse_vol", lookback=30)
    # rebalance 0: window would start before row 0; rebalance 1: every name has a gap
    rets[35, :] = np.nan
    w, notes = size_with_notes(spec, np.ones((2, 3), bool), rets, np.array([10, 40]))
    np.testing.assert_array_equal(w, np.full((2, 3), 1 / 3))
    assert len(notes) == 2
    assert any("fewer than 30 return rows" in n for n in notes)
    assert any("no selected name has 30 finite" in n for n in notes)


def test_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError):
        size(EQUAL, np.ones((2, 3), bool), np.zeros((10, 4)), np.array([1, 2]))
    with pytest.raises(ValueError):
        size(EQUAL, np.ones((2, 3), bool), np.zeros((10, 3)), np.array([1]))
    with pytest.raises(ValueError):
        size(EQUAL, np.ones((2, 3), bool), np.zeros((10, 3)), np.array([1, 10]))


# --- optimizers against independent references -------------------------------------------


def test_min_variance_matches_slsqp_sample_covariance() -> None:
    cov = random_cov(5, seed=4)
    window = one_window(cov, np.full(5, 0.0005), 252, seed=5)
    w, notes = single(MinVarianceSizing(kind="min_variance", covariance="sample"), window)
    scaled = cov / cov.mean()
    ref = simplex_min(lambda x: x @ scaled @ x, 5)
    assert notes == []
    assert (ref < 1e-6).any(), "the example should have a binding long-only constraint"
    np.testing.assert_allclose(w, ref, atol=1e-3, rtol=0)
    assert (w[ref < 1e-6] == 0).all()  # solver dust removed


def test_min_variance_ledoit_wolf_uses_the_shrunk_covariance() -> None:
    rets = market(253, 6, seed=7)[1:]
    w, _ = single(MinVarianceSizing(kind="min_variance", covariance="ledoit_wolf"), rets)
    shrunk = LedoitWolf().fit(rets).covariance_
    shrunk /= shrunk.mean()
    sample = np.cov(rets, rowvar=False)
    sample /= sample.mean()
    ref = simplex_min(lambda x: x @ shrunk @ x, 6)
    np.testing.assert_allclose(w, ref, atol=1e-3, rtol=0)
    assert np.abs(simplex_min(lambda x: x @ sample @ x, 6) - ref).max() > 1e-3  # it matters


def test_max_sharpe_matches_slsqp() -> None:
    cov = random_cov(5, seed=4)
    mean = np.array([0.0008, 0.0002, 0.0010, -0.0003, 0.0015])
    window = one_window(cov, mean, 252, seed=9)
    w, notes = single(MaxSharpeSizing(kind="max_sharpe", covariance="sample"), window)
    vol_scale = np.sqrt(cov.mean())
    ref = simplex_min(
        lambda x: -(mean / vol_scale) @ x / np.sqrt(x @ (cov / cov.mean()) @ x), 5, 20
    )
    assert notes == []
    np.testing.assert_allclose(w, ref, atol=1e-2, rtol=0)
    sharpe = mean @ w / np.sqrt(w @ cov @ w)
    assert sharpe >= mean @ ref / np.sqrt(ref @ cov @ ref) - 1e-6


def test_max_sharpe_without_a_positive_mean_falls_back_to_equal_weight() -> None:
    window = one_window(random_cov(4, seed=1), np.full(4, -0.001), 100, seed=2)
    w, notes = single(MaxSharpeSizing(kind="max_sharpe", lookback=100), window)
    np.testing.assert_allclose(w, 0.25)
    assert len(notes) == 1 and "equal weight on 1 of 1" in notes[0]


@pytest.mark.parametrize("covariance", ["sample", "ledoit_wolf"])
def test_risk_parity_has_equal_risk_contributions(covariance: str) -> None:
    rets = market(253, 7, seed=13)[1:]
    spec = RiskParitySizing(kind="risk_parity", covariance=covariance)  # type: ignore[arg-type]
    w, notes = single(spec, rets)
    cov = (
        np.cov(rets, rowvar=False) if covariance == "sample" else LedoitWolf().fit(rets).covariance_
    )
    contrib = w * (cov @ w) / (w @ cov @ w)
    assert notes == []
    assert (w > 0).all()
    np.testing.assert_allclose(contrib, 1 / 7, atol=1e-4, rtol=0)


@pytest.mark.parametrize("linkage", ["single", "complete", "average", "ward"])
@pytest.mark.parametrize("order", [(0, 1, 2), (2, 0, 1), (0, 2, 1)])
def test_hrp_textbook_three_assets(linkage: str, order: tuple[int, int, int]) -> None:
    # A and B: equal vol, correlation 0.9; C: same vol, uncorrelated. HRP clusters {A, B}
    # against C; inverse variance inside {A, B} gives 1/2 each, the cluster variance is
    # s^2 (1 + rho) / 2, so C gets (1 + rho) / (3 + rho) and A = B = 1 / (3 + rho).
    rho = 0.9
    cov = np.array([[1.0, rho, 0.0], [rho, 1.0, 0.0], [0.0, 0.0, 1.0]]) * 1e-4
    window = one_window(cov, np.full(3, 0.0003), 252, seed=0)[:, list(order)]
    w, notes = single(HrpSizing(kind="hrp", linkage=linkage), window)  # type: ignore[arg-type]
    expected = np.array([1 / (3 + rho), 1 / (3 + rho), (1 + rho) / (3 + rho)])[list(order)]
    assert notes == []
    np.testing.assert_allclose(w, expected, atol=1e-9, rtol=0)


@pytest.mark.parametrize("spec", OPTIMIZERS, ids=spec_id)
def test_optimizers_give_long_only_full_rows_on_the_selected_names(spec: object) -> None:
    rets = market(200, 12, seed=21)
    rets[150:160, 3] = np.nan  # name 3 has a gap in the last windows
    rng = np.random.default_rng(4)
    sel = rng.random((4, 12)) < 0.5
    sel[1] = False  # nothing selected
    sel[2, :] = False
    sel[2, 5] = True  # a single name
    sel[3, 3] = True
    rows = np.array([80, 120, 170, 199])
    w, notes = size_with_notes(spec, sel, rets, rows)  # type: ignore[arg-type]
    assert w.shape == (4, 12)
    assert (w >= 0).all()
    assert (w[~sel] == 0).all()
    np.testing.assert_allclose(w.sum(axis=1), [1.0, 0.0, 1.0, 1.0], atol=1e-12)
    assert w[2, 5] == 1.0
    assert w[3, 3] == 0.0  # dropped: gap in its window
    assert any("got weight 0" in n for n in notes)
    assert not any("equal weight" in n for n in notes)


def test_hrp_weights_are_positive_and_sum_to_one() -> None:
    rets = market(253, 20, seed=8)[1:]
    w, _ = single(HrpSizing(kind="hrp", linkage="ward"), rets)
    assert (w > 0).all()
    assert w.sum() == pytest.approx(1.0, abs=1e-12)


def test_optimizer_error_falls_back_to_equal_weight(monkeypatch: pytest.MonkeyPatch) -> None:
    import riskfolio as rp

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(rp.Portfolio, "optimization", boom)
    monkeypatch.setattr(sizing, "_solve_fast", lambda *args: None)
    rets = market(100, 4)
    spec = MinVarianceSizing(kind="min_variance", lookback=60)
    w, notes = size_with_notes(spec, np.ones((2, 4), bool), rets, np.array([80, 99]))
    np.testing.assert_array_equal(w, np.full((2, 4), 0.25))
    assert notes == [
        "sizing min_variance: equal weight on 2 of 2 rebalances "
        "(optimizer raised RuntimeError; rebalances 0, 1)"
    ]


def test_optimizer_without_a_solution_falls_back_silently(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import riskfolio as rp

    def no_solution(*args: object, **kwargs: object) -> None:
        print("The problem doesn't have a solution with actual input parameters")

    monkeypatch.setattr(rp.Portfolio, "rp_optimization", no_solution)
    monkeypatch.setattr(sizing, "_solve_fast", lambda *args: None)
    rets = market(100, 4)
    spec = RiskParitySizing(kind="risk_parity", lookback=60)
    w, notes = size_with_notes(spec, np.ones((1, 4), bool), rets, np.array([99]))
    np.testing.assert_array_equal(w, np.full((1, 4), 0.25))
    assert notes == [
        "sizing risk_parity: equal weight on 1 of 1 rebalances "
        "(optimizer found no solution; rebalances 0)"
    ]
    assert capsys.readouterr().out == ""


# --- fast paths against riskfolio-lib --------------------------------------------------------

REAL_SPECS = [
    MinVarianceSizing(kind="min_variance", covariance="sample"),
    MinVarianceSizing(kind="min_variance", covariance="ledoit_wolf"),
    MaxSharpeSizing(kind="max_sharpe", covariance="sample"),
    MaxSharpeSizing(kind="max_sharpe", covariance="ledoit_wolf"),
    RiskParitySizing(kind="risk_parity", covariance="sample"),
    RiskParitySizing(kind="risk_parity", covariance="ledoit_wolf"),
    HrpSizing(kind="hrp", linkage="single"),
    HrpSizing(kind="hrp", linkage="complete"),
    HrpSizing(kind="hrp", linkage="average"),
    HrpSizing(kind="hrp", linkage="ward"),
]


TIGHT = {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12, "tol_ktratio": 1e-10}
"""Clarabel tolerances for the riskfolio reference (its defaults are ~1e-8 on the objective)."""


def riskfolio_only(
    monkeypatch: pytest.MonkeyPatch, spec: object, *args: np.ndarray, tight: bool = True
) -> tuple[np.ndarray, list[str]]:
    """`size_with_notes` with every rebalance solved by riskfolio-lib (the reference).

    With `tight`, riskfolio's Clarabel runs at `TIGHT` tolerances: at its defaults its
    weights are off the optimum by up to ~2e-5 on real data (a worse objective than the
    fast paths'), more than the 1e-6 the fast paths are held to.
    """
    import riskfolio as rp

    assets_stats = rp.Portfolio.assets_stats

    def tightened(self: Any, *a: Any, **kw: Any) -> Any:
        self.sol_params = {s: TIGHT if s == "CLARABEL" else {} for s in self.solvers}
        return assets_stats(self, *a, **kw)

    with monkeypatch.context() as patch:
        patch.setattr(sizing, "_solve_fast", lambda *a: None)
        if tight:
            patch.setattr(rp.Portfolio, "assets_stats", tightened)
        return size_with_notes(spec, *args)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def real_panel(real_data_lake: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Real returns 2019-2023 of the 60 most complete names; 32 monthly rebalances of 50."""
    from qtc.lake import Lake

    _, _, prices = Lake(real_data_lake).adj_close_matrix(start="2019-01-01", end="2023-10-18")
    rets = np.vstack([np.full((1, prices.shape[1]), np.nan), prices[1:] / prices[:-1] - 1.0])
    complete = np.isfinite(rets[1:]).mean(axis=0)
    rets = rets[:, np.sort(np.argsort(-complete, kind="stable")[:60])]
    rows = np.arange(rets.shape[0] - 1 - 21 * 31, rets.shape[0], 21)
    rng = np.random.default_rng(0)
    sel = np.zeros((rows.size, 60), dtype=bool)
    for r in range(rows.size):
        sel[r, rng.choice(60, 50, replace=False)] = True
    return sel, rets, rows


@pytest.mark.slow
@pytest.mark.parametrize("spec", REAL_SPECS, ids=spec_id)
def test_fast_paths_match_riskfolio_on_real_data(
    spec: object,
    real_panel: tuple[np.ndarray, np.ndarray, np.ndarray],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sel, rets, rows = real_panel
    assert rows.size >= 30 and rows[0] >= 252
    calls: list[int] = []
    reference_solve = sizing._solve

    def counted(*args: object) -> tuple[np.ndarray | None, str]:
        calls.append(1)
        return reference_solve(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(sizing, "_solve", counted)
    fast, notes = size_with_notes(spec, sel, rets, rows)  # type: ignore[arg-type]
    assert calls == [], "every rebalance should take the fast path"
    ref, ref_notes = riskfolio_only(monkeypatch, spec, sel, rets, rows)
    assert len(calls) == rows.size
    assert notes == ref_notes
    assert np.abs(fast - ref).max() <= 1e-6
    np.testing.assert_allclose(fast.sum(axis=1), 1.0, atol=1e-12)
    if isinstance(spec, MinVarianceSizing | MaxSharpeSizing):
        # riskfolio at its default tolerances: close, and never a better objective
        loose, _ = riskfolio_only(monkeypatch, spec, sel, rets, rows, tight=False)
        assert np.abs(fast - loose).max() <= 5e-5
        for r, s in enumerate(rows):
            x = rets[s - spec.lookback + 1 : s + 1][:, sel[r]]
            cov = (
                np.cov(x, rowvar=False)
                if spec.covariance == "sample"
                else LedoitWolf().fit(x).covariance_
            )
            f, g = fast[r, sel[r]], loose[r, sel[r]]
            if isinstance(spec, MinVarianceSizing):
                assert f @ cov @ f <= g @ cov @ g * (1 + 1e-9)
            else:
                mu = x.mean(axis=0)
                assert mu @ f / np.sqrt(f @ cov @ f) >= mu @ g / np.sqrt(g @ cov @ g) * (1 - 1e-9)


def test_a_covariance_riskfolio_would_repair_is_left_to_riskfolio(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rets = market(253, 5, seed=3)[1:]
    window = np.column_stack([rets, rets[:, 0]])  # a duplicated name: singular covariance
    spec = MinVarianceSizing(kind="min_variance", covariance="sample")
    x = window * sizing.RETURN_SCALE
    assert not optimizers.positive_definite(optimizers.sample_cov(x))
    assert sizing._solve_fast(spec, x, np.zeros(6, dtype=bool)) is None
    w, notes = single(spec, window)
    assert notes == []
    sel = np.ones((1, 6), dtype=bool)
    ref, _ = riskfolio_only(monkeypatch, spec, sel, window, np.array([251]), tight=False)
    np.testing.assert_array_equal(w, ref[0])


def test_ledoit_wolf_matches_sklearn() -> None:
    x = market(253, 30, seed=5)[1:] * 100
    np.testing.assert_allclose(
        optimizers.ledoit_wolf(x), LedoitWolf().fit(x).covariance_, rtol=1e-12, atol=0
    )


@pytest.mark.parametrize("linear", ["ones", "means"])
def test_active_set_answer_does_not_depend_on_the_warm_start(linear: str) -> None:
    x = market(253, 25, seed=6, drift=0.0003)[1:] * 100
    cov = optimizers.sample_cov(x)
    a = np.ones(25) if linear == "ones" else x.mean(axis=0)
    cold = optimizers.nonnegative_quadratic(cov, a)
    assert cold is not None and (cold == 0).any() and (cold > 0).any()
    rng = np.random.default_rng(0)
    for guess in [cold > 0, np.ones(25, bool), rng.random(25) < 0.5]:
        warm = optimizers.nonnegative_quadratic(cov, a, guess)
        assert warm is not None
        np.testing.assert_allclose(warm, cold, rtol=0, atol=1e-12)
    # KKT: gradient zero on the support, non-negative off it
    grad = cov @ cold - a
    assert np.abs(grad[cold > 0]).max() < 1e-10
    assert grad[cold == 0].min() > -1e-10


# --- no lookahead ----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    lookback=st.integers(5, 40),
    rows=st.lists(st.integers(0, 79), min_size=1, max_size=5),
)
def test_inverse_vol_never_reads_rows_after_the_signal(
    seed: int, lookback: int, rows: list[int]
) -> None:
    rets = market(80, 6, seed=seed)
    rng = np.random.default_rng(seed)
    rets[rng.random(rets.shape) < 0.03] = np.nan
    sel = rng.random((len(rows), 6)) < 0.7
    signal = np.array(rows)
    spec = InverseVolSizing(kind="inverse_vol", lookback=lookback)
    base = size(spec, sel, rets, signal)
    for r, s in enumerate(signal):
        altered = rets.copy()
        altered[s + 1 :] = rng.normal(0, 0.5, altered[s + 1 :].shape)
        altered[s + 1 :][rng.random(altered[s + 1 :].shape) < 0.2] = np.nan
        np.testing.assert_array_equal(size(spec, sel, altered, signal)[r], base[r])


@pytest.mark.parametrize("spec", OPTIMIZERS, ids=spec_id)
def test_optimizers_never_read_rows_after_the_signal(spec: object) -> None:
    rets = market(160, 6, seed=31)
    sel = np.ones((2, 6), bool)
    signal = np.array([100, 130])
    base = size(spec, sel, rets, signal)  # type: ignore[arg-type]
    altered = rets.copy()
    altered[101:] = np.random.default_rng(0).normal(0, 0.3, altered[101:].shape)
    after = size(spec, sel, altered, signal)  # type: ignore[arg-type]
    np.testing.assert_array_equal(after[0], base[0])
    assert not np.array_equal(after[1], base[1])


def test_equal_weight_needs_no_returns_and_the_others_refuse_none() -> None:
    sel = np.array([[True, False, True, True], [False, False, False, False]])
    weights, notes = size_with_notes(EQUAL, sel, None, np.array([5, 9]))
    np.testing.assert_array_equal(weights, [[1 / 3, 0, 1 / 3, 1 / 3], [0, 0, 0, 0]])
    assert notes == []
    rets = np.full((10, 4), 0.01)
    np.testing.assert_array_equal(weights, size(EQUAL, sel, rets, np.array([5, 9])))
    assert not sizing.needs_returns(EQUAL)
    with pytest.raises(ValueError, match="needs the returns"):
        size_with_notes(
            InverseVolSizing(kind="inverse_vol", lookback=20), sel, None, np.array([5, 9])
        )
