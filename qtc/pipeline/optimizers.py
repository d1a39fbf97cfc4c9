"""Closed-form and small exact solvers that reproduce riskfolio-lib's optimizer weights.

Each function takes one complete (L, k) window of returns (percent, as `qtc.pipeline.sizing`
hands them to riskfolio) and returns k long-only weights summing to 1, or None when it
cannot vouch for riskfolio's answer; the caller then runs riskfolio itself. The problems
are the ones riskfolio builds (`rm="MV"`, long-only, fully invested, no other constraint),
solved to machine precision instead of to an interior-point tolerance:

* minimum variance, `min w'Σw` s.t. `1'w = 1, w >= 0`, and maximum Sharpe ratio,
  `max μ'w / sqrt(w'Σw)` over the same set, both via the bound-constrained problem
  `min ½z'Σz - a'z, z >= 0` (a = 1 or μ): its KKT conditions are those of the original
  scaled by `λ = w'Σw > 0`, so `w = z / 1'z`. Solved by an exact active-set method
  (Lawson-Hanson) started from a guess of the support (the previous rebalance's).
* risk parity with equal budgets: riskfolio minimises `w'Σw` s.t. `b' log w >= 1`; its
  solution is proportional to the unique minimiser of `½y'Σy - b' log y` (Spinu), found by
  damped Newton.
* HRP: riskfolio's algorithm step by step (Pearson distance `sqrt((1 - ρ) / 2)`, scipy
  linkage with optimal leaf ordering, bisection of the leaf order in halves, inverse
  variance inside each half, split by cluster variance).

Covariances: `sample_cov` is `np.cov` (ddof=1); `ledoit_wolf` is sklearn's `LedoitWolf()`
estimate rewritten in numpy (centred data, empirical covariance with ddof=0, shrinkage to
`trace / k` times the identity). riskfolio replaces a covariance whose smallest eigenvalue
is below `PD_THRESHOLD` by a repaired one; `positive_definite` detects that case, in which
the mean-variance solvers here return None.
"""

from __future__ import annotations

import numpy as np

PD_THRESHOLD = 1e-6
"""riskfolio's `assets_stats` repairs a covariance with an eigenvalue below this."""

MAX_ITERATIONS = 200
"""Cap on active-set changes or Newton steps; reaching it means "ask riskfolio"."""


def sample_cov(x: np.ndarray) -> np.ndarray:
    """Sample covariance (ddof=1) of the (L, k) window `x`, as riskfolio's `"hist"`."""
    xc = x - x.mean(axis=0)
    out: np.ndarray = xc.T @ xc / (x.shape[0] - 1)
    return out


def ledoit_wolf(x: np.ndarray) -> np.ndarray:
    """Ledoit-Wolf shrunk covariance of `x`, as `sklearn.covariance.LedoitWolf().fit(x)`."""
    n, k = x.shape
    xc = x - x.mean(axis=0)
    emp: np.ndarray = xc.T @ xc / n
    if k == 1:
        return emp
    x2 = xc**2
    trace = x2.sum(axis=0) / n
    mu = trace.sum() / k
    delta_ = float(np.sum(emp**2))  # sum((xc'xc)²) / n², without a second product
    beta_ = float(np.sum(x2.T @ x2))
    beta = (beta_ / n - delta_) / (k * n)
    delta = (delta_ - 2.0 * mu * trace.sum() + k * mu**2) / k
    beta = min(beta, delta)
    shrinkage = 0.0 if beta == 0 else beta / delta
    shrunk: np.ndarray = (1.0 - shrinkage) * emp
    shrunk.flat[:: k + 1] += shrinkage * np.trace(emp) / k
    return shrunk


def positive_definite(cov: np.ndarray) -> bool:
    """Whether riskfolio would keep `cov` as is (smallest eigenvalue >= `PD_THRESHOLD`).

    A Cholesky factorisation of `cov - PD_THRESHOLD * I`, much cheaper than the
    eigenvalues; the two can differ only for an eigenvalue within rounding of the
    threshold.
    """
    shifted = cov.copy()
    shifted.flat[:: cov.shape[0] + 1] -= PD_THRESHOLD
    try:
        np.linalg.cholesky(shifted)
    except np.linalg.LinAlgError:
        return False
    return True


def nonnegative_quadratic(
    cov: np.ndarray, a: np.ndarray, guess: np.ndarray | None = None
) -> np.ndarray | None:
    """Exact minimiser of `½z'Σz - a'z` over `z >= 0` (Lawson-Hanson active set).

    Args:
        cov: (k, k) positive definite Σ.
        a: (k,) linear term.
        guess: (k,) bool, names expected to be positive at the optimum (a warm start;
            any guess gives the same answer).

    Returns:
        The (k,) minimiser, or None if the iteration cap is reached.
    """
    k = a.size
    tol = 1e-12 * max(float(np.abs(a).max()), 1e-300)
    z = np.zeros(k)
    free = np.zeros(k, dtype=bool)
    if guess is not None and guess.any():
        trial = _solve_free(cov, a, guess)
        if trial.min() > 0:
            free = guess.copy()
            z[free] = trial
    for _ in range(MAX_ITERATIONS):
        grad = a - cov @ z  # negative gradient: positive where z_i should grow
        grad[free] = 0.0
        j = int(np.argmax(grad))
        if grad[j] <= tol:
            return z
        free[j] = True
        for _ in range(MAX_ITERATIONS):
            s = np.zeros(k)
            s[free] = _solve_free(cov, a, free)
            bad = free & (s <= 0)
            if not bad.any():
                z = s
                break
            step = float(np.min(z[bad] / (z[bad] - s[bad])))
            z = z + step * (s - z)
            free &= z > 0
            z[~free] = 0.0
        else:
            return None
    return None


def _solve_free(cov: np.ndarray, a: np.ndarray, free: np.ndarray) -> np.ndarray:
    """`Σ_FF⁻¹ a_F` on the free set F."""
    sub = cov[np.ix_(free, free)]
    out: np.ndarray = np.linalg.solve(sub, a[free])
    return out


def spinu_risk_parity(cov: np.ndarray) -> np.ndarray | None:
    """Equal-risk-contribution weights: the minimiser of `½y'Σy - Σ log(y_i) / k`, scaled.

    Newton from inverse-volatility weights, damped (backtracking) while far from the
    optimum and undamped once the Newton decrement is small, where the objective can no
    longer tell the steps apart. Returns None if it does not converge within the cap or
    the risk contributions are not equal to rounding level.
    """
    k = cov.shape[0]
    b = np.full(k, 1.0 / k)
    y = 1.0 / np.sqrt(np.diag(cov))
    y /= np.sqrt(y @ cov @ y)  # at the optimum y'Σy = sum(b) = 1
    f = _spinu_objective(cov, b, y)
    for _ in range(MAX_ITERATIONS):
        grad = cov @ y - b / y
        hess = cov.copy()
        hess.flat[:: k + 1] += b / y**2
        step = -np.linalg.solve(hess, grad)
        decrement = float(-grad @ step)
        if decrement < 1e-26:
            break
        neg = step < 0
        t = min(1.0, 0.99 * float(np.min(-y[neg] / step[neg]))) if neg.any() else 1.0
        if decrement > 1e-10:
            while t > 1e-12:
                f_trial = _spinu_objective(cov, b, y + t * step)
                if f_trial <= f - 0.25 * t * decrement:
                    break
                t *= 0.5
        y = y + t * step
        f = _spinu_objective(cov, b, y)
    else:
        return None
    contributions = y * (cov @ y)
    if not np.all(y > 0) or np.abs(contributions - b).max() > 1e-10:
        return None
    weights: np.ndarray = y / y.sum()
    return weights


def _spinu_objective(cov: np.ndarray, b: np.ndarray, y: np.ndarray) -> float:
    """`½y'Σy - b' log y` (+inf outside y > 0)."""
    if not np.all(y > 0):
        return float("inf")
    return float(0.5 * y @ cov @ y - b @ np.log(y))


def hrp(x: np.ndarray, linkage: str) -> np.ndarray:
    """The weights of riskfolio's `HCPortfolio(model="HRP", codependence="pearson", rm="MV")`.

    Args:
        x: (L, k) complete window, k >= 2.
        linkage: scipy linkage method (`single`, `complete`, `average`, `ward`, ...).
    """
    from scipy.cluster import hierarchy  # type: ignore[import-untyped]

    cov = sample_cov(x)
    sd = np.sqrt(np.diag(cov))
    corr = np.clip(cov / np.outer(sd, sd), -1.0, 1.0)
    dist = np.sqrt(np.clip((1.0 - corr) / 2.0, 0.0, 1.0))
    condensed = dist[np.triu_indices(dist.shape[0], 1)]  # squareform(dist, checks=False)
    tree = hierarchy.linkage(condensed, method=linkage)
    tree = _optimal_leaf_ordering(tree, condensed)
    order = _leaves(tree)
    k = order.size
    # Inverse-variance cluster variance of the sorted block [lo, hi) is
    # sum(M[lo:hi, lo:hi]) / sum(u[lo:hi])², M = Σ * u u', u = 1 / diag(Σ) in leaf order:
    # both from prefix sums, so every cluster of a level costs O(1).
    sub = cov[np.ix_(order, order)]
    u = 1.0 / np.diag(sub)
    block = np.zeros((k + 1, k + 1))
    block[1:, 1:] = (sub * np.outer(u, u)).cumsum(axis=0).cumsum(axis=1)
    mass = np.concatenate([[0.0], u.cumsum()])

    def variance(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        quad = block[hi, hi] - block[lo, hi] - block[hi, lo] + block[lo, lo]
        out: np.ndarray = quad / (mass[hi] - mass[lo]) ** 2
        return out

    sorted_weights = np.ones(k)
    bounds = np.array([0, k])
    while True:
        lo, hi = bounds[:-1], bounds[1:]
        split = hi - lo > 1
        if not split.any():
            break
        lo, hi = lo[split], hi[split]
        mid = lo + (hi - lo) // 2
        left_var, right_var = variance(lo, mid), variance(mid, hi)
        alpha = 1.0 - left_var / (left_var + right_var)
        new_bounds = np.union1d(bounds, mid)
        starts = new_bounds[:-1]
        seg_factor = np.ones(starts.size)
        seg_factor[np.searchsorted(starts, lo)] = alpha
        seg_factor[np.searchsorted(starts, mid)] = 1.0 - alpha
        sorted_weights *= np.repeat(seg_factor, np.diff(new_bounds))
        bounds = new_bounds
    weights = np.empty(k)
    weights[order] = sorted_weights
    return weights


def _optimal_leaf_ordering(tree: np.ndarray, condensed: np.ndarray) -> np.ndarray:
    """`scipy.cluster.hierarchy.optimal_leaf_ordering(tree, condensed)`.

    scipy's compiled kernel called directly when present: the public function validates
    its input through the array-API layer, which costs a third of the kernel's time here.
    """
    try:
        from scipy.cluster._optimal_leaf_ordering import (  # type: ignore[import-untyped]
            optimal_leaf_ordering,
        )
    except ImportError:  # pragma: no cover - a scipy without the private module
        from scipy.cluster.hierarchy import optimal_leaf_ordering  # type: ignore[import-untyped]
    out: np.ndarray = optimal_leaf_ordering(tree, condensed)
    return out


def _leaves(tree: np.ndarray) -> np.ndarray:
    """Leaf order of a linkage matrix, left to right (`scipy...hierarchy.leaves_list`)."""
    k = tree.shape[0] + 1
    children = tree[:, :2].astype(np.int64)
    out = []
    stack = [2 * k - 2]
    while stack:
        node = stack.pop()
        if node < k:
            out.append(node)
        else:
            left, right = children[node - k]
            stack.append(int(right))
            stack.append(int(left))
    return np.array(out, dtype=np.int64)
