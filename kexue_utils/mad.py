"""Helpers for the chapter *Self-consuming generative models* (book/mad.md).

The chapter follows a Gaussian model that is refitted, generation after generation, to samples of its
predecessor (Alemohammad et al., "Self-Consuming Generative Models Go MAD", ICLR 2024).

Convention used throughout (the chapter states it too). Generation 0 is the data distribution
N(μ₀, Σ₀). Generation t ≥ 1 fits the sample mean μ_t and the unbiased sample covariance Σ_t to n
samples of generation t − 1 and then *samples* from N(μ_t, λΣ_t), λ ∈ (0, 1] being the sampling bias
(truncation). The covariance generation t samples from is therefore

    C_0 = Σ₀,    C_t = λ Σ_t  (t ≥ 1).

With ``bias_generation0=True`` the data themselves are also drawn with the bias (C_0 = λΣ₀); that is the
convention under which Cov(μ_t) = λ(1 − λ^t)/(n(1 − λ)) Σ₀. Both are offered so that the chapter can let
a simulation decide which formula belongs to which convention.

Everything is numpy/scipy, except the real-data experiment, which uses scikit-learn's
``GaussianMixture`` on the bundled handwritten digits.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import special
from threadpoolctl import threadpool_limits

from kexue_utils import _validate as valid

__all__ = [
    "LOOPS",
    "expected_logdet",
    "expected_sampling_covariance",
    "fit_gaussian",
    "frechet_distance",
    "gaussian_w2",
    "gmm_loop",
    "halving_generations",
    "logdet_drift",
    "logdet_step_variance",
    "loop_metrics",
    "mean_covariance",
    "mean_excess_kurtosis",
    "precision_recall",
    "sample_gmm",
    "sampling_variance_moments",
    "simulate_chain",
    "simulate_loop",
]

LOOPS = ("fully-synthetic", "augmentation", "fresh")
Loop = Literal["fully-synthetic", "augmentation", "fresh"]


# ----------------------------------------------------------------------------------------------
# argument validation
# ----------------------------------------------------------------------------------------------


def _lam(value: object) -> float:
    """Return the sampling bias λ as a float after checking 0 < λ ≤ 1."""
    return valid.real_number("lam", value, low=0.0, high=1.0, low_open=True)


def _covariance(name: str, value: ArrayLike, *, rtol: float = 1e-10) -> np.ndarray:
    """Return ``value`` as a square, finite, symmetric positive-semidefinite float matrix."""
    arr = valid.finite_array(name, value, ndim=(0, 2))
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    if arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty square matrix, got shape {arr.shape}")
    scale = max(float(np.max(np.abs(arr))), 1e-300)
    if not np.allclose(arr, arr.T, rtol=0.0, atol=rtol * scale):
        raise ValueError(f"{name} must be symmetric")
    if np.min(np.linalg.eigvalsh(arr)) < -rtol * scale:
        raise ValueError(f"{name} must be positive semidefinite")
    return (arr + arr.T) / 2


def _vector(name: str, value: ArrayLike, d: int) -> np.ndarray:
    """Return ``value`` as a finite float vector of length ``d``."""
    arr = valid.finite_array(name, value).reshape(-1)
    if arr.shape != (d,):
        raise ValueError(f"{name} must have length {d} (the dimension of sigma0), got {arr.size}")
    return arr


def _points(name: str, value: ArrayLike) -> np.ndarray:
    """Return ``value`` as a non-empty finite 2-d float array of points (rows × features)."""
    return valid.finite_array(name, value, ndim=2, nonempty=True)


def _dimension_and_size(d: object, n: object) -> tuple[int, int]:
    """Return (d, n) after checking d ≥ 1 and d + 1 ≤ n ≤ 2**53 (a non-singular fit, n exact as a float)."""
    d_ = valid.integer("d", d, 1)
    n_ = valid.integer("n", n, 2)
    if n_ - 1 < d_:
        raise ValueError(f"n must satisfy n − 1 ≥ d (= {d_}) for a non-singular fit, got n = {n_}")
    if n_ > 2**53:
        raise ValueError(f"n must be ≤ 2**53 (exact in floating point), got {n_}")
    return d_, n_


def _same_features(r: np.ndarray, f: np.ndarray) -> None:
    """Check that the point sets ``real`` (r) and ``fake`` (f) live in the same feature space."""
    if r.shape[1] != f.shape[1]:
        raise ValueError(
            f"real and fake must have the same number of features, got {r.shape[1]} and {f.shape[1]}"
        )


# ----------------------------------------------------------------------------------------------
# closed forms of the Gaussian chain
# ----------------------------------------------------------------------------------------------


def mean_covariance(
    sigma0: ArrayLike, n: int, lam: float, t: int, *, bias_generation0: bool = False
) -> np.ndarray:
    """Return Cov(μ_t) = (1 − λ^t)/(n(1 − λ)) Σ₀ ((t/n)Σ₀ at λ = 1). Implements Eq. (mad-cov).

    μ_t is the mean fitted at generation t; μ_0 = μ₀ is fixed, so ``t = 0`` gives the zero matrix.
    With ``bias_generation0=True`` (generation 0 is sampled from N(μ₀, λΣ₀) too) every term gains a
    factor λ: Cov(μ_t) = λ(1 − λ^t)/(n(1 − λ)) Σ₀.
    """
    s0 = _covariance("sigma0", sigma0)
    n_ = valid.integer("n", n, 2)
    lam_ = _lam(lam)
    t_ = valid.integer("t", t, 0)
    # Σ_{s=0}^{t-1} λ^s, written so that λ = 1 is exact
    geometric = float(t_) if lam_ == 1.0 else (1.0 - lam_**t_) / (1.0 - lam_)
    factor = geometric / n_
    if bias_generation0:
        factor *= lam_
    return factor * s0


def expected_sampling_covariance(sigma0: ArrayLike, lam: float, t: int) -> np.ndarray:
    """Return E[C_t] = λ^t Σ₀, the mean covariance generation t samples from. Implements Eq. (mad-ecov).

    C_t = λΣ_t for t ≥ 1 and C_0 = Σ₀ (the convention of the module docstring), so E[Σ_t] = λ^(t−1) Σ₀.
    """
    s0 = _covariance("sigma0", sigma0)
    return _lam(lam) ** valid.integer("t", t, 0) * s0


def logdet_drift(d: int, n: int, lam: float = 1.0) -> float:
    """Return κ = E[log det C_t − log det C_{t−1}], the log-determinant drift. Implements Eq. (mad-logdet).

    κ = d ln λ + Σ_{i=0}^{d−1} [ψ((n−1−i)/2) + ln 2 − ln(n−1)], ψ the digamma function. Requires
    n − 1 ≥ d (otherwise the fitted covariance is singular and log det = −∞).
    """
    d_, n_ = _dimension_and_size(d, n)
    lam_ = _lam(lam)
    i = np.arange(d_)
    m = n_ - 1
    return float(d_ * math.log(lam_) + np.sum(special.digamma((m - i) / 2) + math.log(2) - math.log(m)))


def logdet_step_variance(d: int, n: int) -> float:
    """Return Var(log det C_t − log det C_{t−1}) = Σ_{i<d} ψ'((n−1−i)/2) (trigamma). Eq. (mad-logdet)."""
    d_, n_ = _dimension_and_size(d, n)
    i = np.arange(d_)
    return float(np.sum(special.polygamma(1, (n_ - 1 - i) / 2)))


def expected_logdet(
    sigma0: ArrayLike, n: int, lam: float, t: int, *, bias_generation0: bool = False
) -> float:
    """Return E[log det C_t] = log det Σ₀ + tκ for the sampling covariance C_t. Implements Eq. (mad-logdet).

    κ is :func:`logdet_drift`. Every step multiplies C by λ·W/(n−1) with W ~ Wishart(I, n−1) independent
    of the past, including the first (C_1 = λΣ_1), so no correction is needed in the module's convention.
    With ``bias_generation0=True`` (C_0 = λΣ₀) the result is log det Σ₀ + d ln λ + tκ.
    """
    s0 = _covariance("sigma0", sigma0)
    sign, logdet0 = np.linalg.slogdet(s0)
    if sign <= 0:
        raise ValueError("sigma0 must be positive definite for a finite log-determinant")
    t_ = valid.integer("t", t, 0)
    d = s0.shape[0]
    shift = d * math.log(_lam(lam)) if bias_generation0 else 0.0
    return float(logdet0 + shift + t_ * logdet_drift(d, n, lam))


def sampling_variance_moments(sigma0_sq: float, n: int, lam: float, t: int) -> tuple[float, float]:
    """Return (E[c_t], Var(c_t)) of the 1-d sampling variance c_t = λσ_t². Implements Eq. (mad-varvar).

    E[c_t] = λ^t σ₀², E[c_t²] = λ^(2t) ((n+1)/(n−1))^t σ₀⁴, so at λ = 1 the variance is
    σ₀⁴[((n+1)/(n−1))^t − 1]: it grows exponentially while the mean stays at σ₀².
    """
    valid.real_number("sigma0_sq", sigma0_sq, low=0.0, low_open=True)
    n_ = valid.integer("n", n, 2)
    lam_ = _lam(lam)
    t_ = valid.integer("t", t, 0)
    mean = lam_**t_ * sigma0_sq
    try:
        second = lam_ ** (2 * t_) * ((n_ + 1) / (n_ - 1)) ** t_ * sigma0_sq**2
    except OverflowError as exc:
        raise ValueError(f"sigma0_sq, n and t give a second moment that overflows (t = {t_})") from exc
    return mean, second - mean**2


def mean_excess_kurtosis(n: int, lam: float, t: int) -> float:
    """Return the exact excess kurtosis of the 1-d fitted mean μ_t (0 for t = 1). Implements Eq. (mad-kurt).

    With X_t = μ_t − μ₀ and the 1-d sampling variance c_t, the moments V_t = E X_t², Q_t = E X_t⁴,
    A_t = E[X_t² c_t] and B_t = E c_t² obey V_t = V_{t−1} + E c_{t−1}/n,
    Q_t = Q_{t−1} + 6 A_{t−1}/n + 3 B_{t−1}/n², A_t = λ(A_{t−1} + B_{t−1}/n) and
    B_t = λ²(1 + 2/(n−1)) B_{t−1}, from X_0 = 0 and a fixed c_0. The result, Q_t / V_t² − 3, does not
    depend on σ₀.
    """
    n_ = valid.integer("n", n, 2)
    lam_ = _lam(lam)
    t_ = valid.integer("t", t, 1)
    m = n_ - 1
    c_mean, b = 1.0, 1.0  # E c_0, E c_0² (σ₀ = 1 without loss of generality)
    v, q, a = 0.0, 0.0, 0.0  # E X², E X⁴, E[X² c]
    for _ in range(t_):
        v, q, a = v + c_mean / n_, q + 6 * a / n_ + 3 * b / n_**2, lam_ * (a + b / n_)
        c_mean, b = lam_ * c_mean, lam_**2 * (1 + 2 / m) * b
    return q / v**2 - 3.0


def halving_generations(n: int, lam: float = 1.0) -> float:
    """Return ln 2 / |κ|: generations for the median 1-d sampling variance to halve. Eq. (mad-halving).

    log c_t is a random walk with drift κ = logdet_drift(1, n, λ) < 0; its median falls by ln 2 in
    about ln 2/|κ| generations, which is ≈ (n − 1) ln 2 at λ = 1.
    """
    kappa = logdet_drift(1, n, lam)
    if not kappa < 0:  # ψ(x) < ln x, so only rounding at astronomically large n gets here
        raise ValueError(f"n is too large for the drift to be resolved in floating point, got n = {n}")
    return math.log(2) / abs(kappa)


def gaussian_w2(mu1: ArrayLike, cov1: ArrayLike, mu2: ArrayLike, cov2: ArrayLike) -> np.ndarray:
    """Return the squared 2-Wasserstein (Fréchet) distance between Gaussians. Implements Eq. (mad-w2).

    W₂² = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₂^{1/2} Σ₁ Σ₂^{1/2})^{1/2}). ``mu1``/``cov1`` may carry leading
    batch dimensions (…, d) and (…, d, d); ``mu2``/``cov2`` are one reference Gaussian (d,), (d, d).
    """
    c2 = _covariance("cov2", cov2)
    d = c2.shape[0]
    m2 = _vector("mu2", mu2, d)
    m1 = valid.finite_array("mu1", mu1)
    c1 = valid.finite_array("cov1", cov1)
    if m1.shape[-1:] != (d,) or c1.shape[-2:] != (d, d) or c1.shape[:-2] != m1.shape[:-1]:
        raise ValueError(
            f"mu1 (…, {d}) and cov1 (…, {d}, {d}) must match mu2/cov2, got {m1.shape}, {c1.shape}"
        )
    if c1.size:
        scale = np.max(np.abs(c1), axis=(-2, -1))
        if np.any(np.abs(c1 - np.swapaxes(c1, -1, -2)).max(axis=(-2, -1)) > 1e-10 * scale):
            raise ValueError("cov1 must be symmetric")
        if np.any(np.linalg.eigvalsh(c1)[..., 0] < -1e-10 * scale):
            raise ValueError("cov1 must be positive semidefinite")
    w, v = np.linalg.eigh(c2)
    root2 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = root2 @ c1 @ root2
    inner = (inner + np.swapaxes(inner, -1, -2)) / 2
    trace_root = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(inner), 0, None)), axis=-1)
    mean_term = np.sum((m1 - m2) ** 2, axis=-1)
    trace_term = np.trace(c1, axis1=-2, axis2=-1) + np.trace(c2) - 2 * trace_root
    return np.asarray(mean_term + np.clip(trace_term, 0, None))


# ----------------------------------------------------------------------------------------------
# simulators (vectorised over independent trials)
# ----------------------------------------------------------------------------------------------


def _sqrt_psd(c: np.ndarray) -> np.ndarray:
    """Return a batched square root L (L Lᵀ = C) of PSD matrices via the eigendecomposition."""
    if c.shape[-1] == 1:
        return np.sqrt(np.clip(c, 0, None))
    w, v = np.linalg.eigh(c)
    return v * np.sqrt(np.clip(w, 0, None))[..., None, :]


def fit_gaussian(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the sample mean and unbiased sample covariance of x (…, n, d) over its samples (Eq. mad-fit)."""
    x = valid.finite_array("x", x)
    if x.ndim < 2 or x.shape[-2] < 2 or x.shape[-1] < 1:
        raise ValueError(f"x must have shape (…, n, d) with n ≥ 2 samples and d ≥ 1, got {x.shape}")
    mu = x.mean(axis=-2)
    centred = x - mu[..., None, :]
    cov = np.einsum("...ni,...nj->...ij", centred, centred) / (x.shape[-2] - 1)
    return mu, cov


def _draw(rng: np.random.Generator, mu: np.ndarray, c: np.ndarray, n: int) -> np.ndarray:
    """Draw n points from N(mu, c) for every trial: mu (T, d), c (T, d, d) → (T, n, d)."""
    z = rng.standard_normal((mu.shape[0], n, mu.shape[1]))
    return mu[:, None, :] + z @ np.swapaxes(_sqrt_psd(c), -1, -2)


def simulate_chain(
    mu0: ArrayLike,
    sigma0: ArrayLike,
    *,
    n: int,
    lam: float,
    generations: int,
    trials: int,
    seed: int,
    method: Literal["samples", "statistics"] = "samples",
    bias_generation0: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the fitted (μ_t, Σ_t), t = 0…generations, of independent fully synthetic chains (Eq. mad-step).

    Shapes: μ (generations + 1, trials, d), Σ (generations + 1, trials, d, d); index 0 holds (μ₀, Σ₀).
    ``method="samples"`` draws the n points of every generation and fits them; ``"statistics"`` draws
    the fitted statistics directly from their exact laws — μ_t ~ N(μ_{t−1}, C_{t−1}/n) and, independently,
    (n−1)Σ_t ~ Wishart(C_{t−1}, n−1) via the Bartlett decomposition — which is much cheaper for long chains.
    """
    s0 = _covariance("sigma0", sigma0)
    d = s0.shape[0]
    m0 = _vector("mu0", mu0, d)
    n_ = valid.integer("n", n, 2)
    lam_ = _lam(lam)
    g_ = valid.integer("generations", generations, 0)
    trials_ = valid.integer("trials", trials, 1)
    valid.choice("method", method, ("samples", "statistics"))
    if method == "statistics" and d > 1 and n_ - 1 < d:
        raise ValueError(f"n must satisfy n − 1 ≥ d (= {d}) for method='statistics' (Bartlett), got n = {n_}")
    rng = np.random.default_rng(valid.integer("seed", seed, 0))
    mus = np.empty((g_ + 1, trials_, d))
    sigmas = np.empty((g_ + 1, trials_, d, d))
    mus[0], sigmas[0] = m0, s0
    m = n_ - 1
    rows, cols = np.tril_indices(d, -1)
    for t in range(1, g_ + 1):
        scale = lam_ if (t > 1 or bias_generation0) else 1.0
        c_prev = scale * sigmas[t - 1]
        if method == "statistics" and d == 1:  # scalar fast path of the same laws
            mus[t] = mus[t - 1] + np.sqrt(c_prev[:, :, 0] / n_) * rng.standard_normal((trials_, 1))
            sigmas[t] = c_prev * (rng.chisquare(m, size=(trials_, 1, 1)) / m)
        elif method == "samples":
            mus[t], sigmas[t] = fit_gaussian(_draw(rng, mus[t - 1], c_prev, n_))
        else:
            root = _sqrt_psd(c_prev)
            mus[t] = mus[t - 1] + np.einsum("tij,tj->ti", root, rng.standard_normal((trials_, d))) / np.sqrt(
                n_
            )
            a = np.zeros((trials_, d, d))
            a[:, np.arange(d), np.arange(d)] = np.sqrt(rng.chisquare(m - np.arange(d), size=(trials_, d)))
            a[:, rows, cols] = rng.standard_normal((trials_, rows.size))
            la = root @ a
            sigmas[t] = la @ np.swapaxes(la, -1, -2) / m
    return mus, sigmas


def simulate_loop(
    mu0: ArrayLike,
    sigma0: ArrayLike,
    *,
    loop: Loop,
    n_real: int,
    n_synth: int,
    lam: float,
    generations: int,
    trials: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the fitted (μ_t, Σ_t), t = 0…generations, of a Gaussian autophagous loop (Eq. mad-loops).

    Every generation fits n = n_real + n_synth points. Generation 1 fits n points of the data N(μ₀, Σ₀).
    From generation 2 on the training set is

    * ``"fully-synthetic"``: n points sampled from generation t − 1;
    * ``"augmentation"``: the first n_real data points of generation 1 (a fixed real set) plus n_synth
      points sampled from generation t − 1;
    * ``"fresh"``: n_real new data points plus n_synth points sampled from generation t − 1.

    Synthetic points are drawn from N(μ_{t−1}, λΣ_{t−1}). Shapes as in :func:`simulate_chain`.
    """
    s0 = _covariance("sigma0", sigma0)
    d = s0.shape[0]
    m0 = _vector("mu0", mu0, d)
    loop_ = valid.choice("loop", loop, LOOPS)
    nr = valid.integer("n_real", n_real, 0)
    ns = valid.integer("n_synth", n_synth, 1)
    n = nr + ns
    if n < 2:
        raise ValueError(f"n_real + n_synth must be ≥ 2, got {n}")
    lam_ = _lam(lam)
    g_ = valid.integer("generations", generations, 0)
    trials_ = valid.integer("trials", trials, 1)
    rng = np.random.default_rng(valid.integer("seed", seed, 0))
    data_mu = np.broadcast_to(m0, (trials_, d))
    data_c = np.broadcast_to(s0, (trials_, d, d))
    mus = np.empty((g_ + 1, trials_, d))
    sigmas = np.empty((g_ + 1, trials_, d, d))
    mus[0], sigmas[0] = m0, s0
    fixed_real = None
    for t in range(1, g_ + 1):
        if t == 1:
            x = _draw(rng, data_mu, data_c, n)
            fixed_real = x[:, :nr]
        elif loop_ == "fully-synthetic":
            x = _draw(rng, mus[t - 1], lam_ * sigmas[t - 1], n)
        else:
            real = fixed_real if loop_ == "augmentation" else _draw(rng, data_mu, data_c, nr)
            x = np.concatenate([real, _draw(rng, mus[t - 1], lam_ * sigmas[t - 1], ns)], axis=1)
        mus[t], sigmas[t] = fit_gaussian(x)
    return mus, sigmas


# ----------------------------------------------------------------------------------------------
# metrics for samples: k-NN precision/recall and the Fréchet distance
# ----------------------------------------------------------------------------------------------


def _sq_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the matrix of squared Euclidean distances between the rows of a and b (BLAS, clipped at 0)."""
    sq = np.sum(a**2, axis=1)[:, None] + np.sum(b**2, axis=1)[None, :] - 2.0 * (a @ b.T)
    return np.clip(sq, 0.0, None)


def _knn_radii(x: np.ndarray, k: int) -> np.ndarray:
    """Return each point's squared distance to its k-th nearest *other* point of x."""
    dist = _sq_distances(x, x)
    np.fill_diagonal(dist, np.inf)
    return np.partition(dist, k - 1, axis=1)[:, k - 1]


def _coverage(points: np.ndarray, centres: np.ndarray, radii_sq: np.ndarray) -> float:
    """Return the share of ``points`` inside the union of closed balls B(centres_i, √radii_sq_i)."""
    inside = np.zeros(points.shape[0], dtype=bool)
    for start in range(0, points.shape[0], 2048):
        block = _sq_distances(points[start : start + 2048], centres)
        inside[start : start + 2048] = np.any(block <= radii_sq[None, :], axis=1)
    return float(inside.mean())


def precision_recall(real: ArrayLike, fake: ArrayLike, k: int = 5) -> tuple[float, float]:
    """Return (precision, recall) by the k-NN manifold estimate of Kynkäänniemi et al. 2019 (Eq. mad-pr).

    Each point of a set gets the closed ball whose radius is the distance to its k-th nearest other point
    of the same set. Precision is the share of ``fake`` inside the union of the balls of ``real``; recall
    is the share of ``real`` inside the union of the balls of ``fake``. A point that coincides with a
    centre lies in that centre's ball, so ``precision_recall(x, x) == (1.0, 1.0)``.
    """
    r = _points("real", real)
    f = _points("fake", fake)
    _same_features(r, f)
    k_ = valid.integer("k", k, 1)
    if k_ >= min(r.shape[0], f.shape[0]):
        raise ValueError(f"k must be smaller than the number of points of each set, got k = {k_}")
    with threadpool_limits(limits=1):  # fixed summation order: ball-boundary cases cannot flip between runs
        precision = _coverage(f, r, _knn_radii(r, k_))
        recall = _coverage(r, f, _knn_radii(f, k_))
    return precision, recall


def frechet_distance(real: ArrayLike, fake: ArrayLike) -> float:
    """Return the Fréchet distance W₂² between Gaussians fitted to two point sets (Eq. mad-w2, as in FID)."""
    r = _points("real", real)
    f = _points("fake", fake)
    _same_features(r, f)
    if min(r.shape[0], f.shape[0]) < 2:
        raise ValueError("real and fake need at least 2 points each")
    mr, cr = fit_gaussian(r)
    mf, cf = fit_gaussian(f)
    return float(gaussian_w2(mf, cf, mr, cr))


# ----------------------------------------------------------------------------------------------
# the real-data loop: a Gaussian mixture refitted on its own samples
# ----------------------------------------------------------------------------------------------


def sample_gmm(model: Any, size: int, lam: float, seed: int) -> np.ndarray:
    """Return ``size`` samples of a fitted full-covariance ``GaussianMixture``, covariances scaled by λ.

    The component is drawn with the mixture weights; the point is μ_k + √λ L_k z with L_k L_kᵀ = Σ_k, so
    λ < 1 shrinks every component toward its mean (the mixture analogue of truncation).
    """
    size_ = valid.integer("size", size, 1)
    lam_ = _lam(lam)
    if not hasattr(model, "covariance_type"):
        raise TypeError(f"model must be a fitted GaussianMixture, got {type(model).__name__}")
    if model.covariance_type != "full" or not hasattr(model, "means_"):
        raise ValueError("model must be a fitted GaussianMixture with covariance_type='full'")
    rng = np.random.default_rng(valid.integer("seed", seed, 0))
    means = np.asarray(model.means_)
    roots = _sqrt_psd(np.asarray(model.covariances_))
    weights = np.asarray(model.weights_, dtype=np.float64)
    comp = rng.choice(means.shape[0], size=size_, p=weights / weights.sum())
    z = rng.standard_normal((size_, means.shape[1]))
    out = means[comp].copy()
    for k in range(means.shape[0]):
        rows = comp == k
        out[rows] += math.sqrt(lam_) * z[rows] @ roots[k].T
    return out


def gmm_loop(
    pool: ArrayLike,
    *,
    loop: Loop,
    lam: float,
    generations: int,
    n_real: int,
    n_synth: int,
    n_samples: int,
    n_components: int,
    seed: int,
    reg_covar: float = 1e-2,
) -> np.ndarray:
    """Return ``n_samples`` samples of each generation 1…G of a Gaussian-mixture loop (Eq. mad-loops).

    Result shape (generations, n_samples, features). Generation 1 fits the first n_real + n_synth rows of
    ``pool`` (real data). From generation 2 on it fits, as in :func:`simulate_loop`: n_real + n_synth
    synthetic points (fully synthetic); the first n_real pool rows plus n_synth synthetic points
    (augmentation); n_real rows drawn afresh without replacement from the whole pool plus n_synth
    synthetic points (fresh). Synthetic points come from the previous generation via :func:`sample_gmm`
    with bias λ. The fits are full-covariance ``GaussianMixture`` models (k-means++ initialisation,
    ``reg_covar`` added to the diagonals) run single-threaded so that results do not depend on the
    machine's thread count.
    """
    from sklearn.mixture import GaussianMixture

    x_pool = _points("pool", pool)
    loop_ = valid.choice("loop", loop, LOOPS)
    lam_ = _lam(lam)
    g_ = valid.integer("generations", generations, 1)
    nr = valid.integer("n_real", n_real, 0)
    ns = valid.integer("n_synth", n_synth, 1)
    if nr + ns > x_pool.shape[0]:
        raise ValueError(f"n_real + n_synth must not exceed the pool size {x_pool.shape[0]}")
    n_samples_ = valid.integer("n_samples", n_samples, 1)
    k_ = valid.integer("n_components", n_components, 1)
    valid.real_number("reg_covar", reg_covar, low=0.0)
    seeds = np.random.SeedSequence(valid.integer("seed", seed, 0)).generate_state(3 * g_ + 4)
    rng = np.random.default_rng(seeds[-1])
    out = np.empty((g_, n_samples_, x_pool.shape[1]))
    model = None
    with threadpool_limits(limits=1):
        for t in range(1, g_ + 1):
            if t == 1:
                x = x_pool[: nr + ns]
            elif loop_ == "fully-synthetic":
                x = sample_gmm(model, nr + ns, lam_, int(seeds[3 * t]))
            else:
                real = (
                    x_pool[:nr] if loop_ == "augmentation" else x_pool[rng.permutation(x_pool.shape[0])[:nr]]
                )
                x = np.concatenate([real, sample_gmm(model, ns, lam_, int(seeds[3 * t]))])
            model = GaussianMixture(
                n_components=k_,
                covariance_type="full",
                reg_covar=reg_covar,
                init_params="k-means++",
                random_state=int(seeds[3 * t + 1] % 2**31),
            ).fit(x)
            out[t - 1] = sample_gmm(model, n_samples_, lam_, int(seeds[3 * t + 2]))
    return out


def loop_metrics(reference: ArrayLike, samples: ArrayLike, projection: Any, k: int = 5) -> np.ndarray:
    """Return (precision, recall, Fréchet distance) per generation of ``samples`` (Eq. mad-pr, mad-w2).

    ``samples`` has shape (generations, points, features); precision and recall use :func:`precision_recall`
    in pixel space, the Fréchet distance is :func:`frechet_distance` after ``projection.transform`` (a
    fixed, already fitted projection such as a PCA). Result shape (generations, 3).
    """
    ref = _points("reference", reference)
    s = valid.finite_array("samples", samples)
    if s.ndim != 3 or s.shape[2] != ref.shape[1] or s.shape[0] == 0 or s.shape[1] == 0:
        raise ValueError(f"samples must have shape (generations, points, {ref.shape[1]}), got {s.shape}")
    if not hasattr(projection, "transform"):
        raise TypeError("projection must have a transform method (e.g. a fitted sklearn PCA)")
    out = np.empty((s.shape[0], 3))
    with threadpool_limits(limits=1):
        ref_proj = projection.transform(ref)
        for g in range(s.shape[0]):
            out[g, :2] = precision_recall(ref, s[g], k=k)
            out[g, 2] = frechet_distance(ref_proj, projection.transform(s[g]))
    return out
