"""Helpers for the chapter *Self-consuming generative models* (book/mad.md).

A Gaussian refitted, generation after generation, to samples of its predecessor (Alemohammad et al.,
ICLR 2024). Generation 0 is the data N(μ₀, Σ₀); generation t ≥ 1 fits the sample mean μ_t and the
unbiased covariance Σ_t to n samples of generation t − 1 and samples from N(μ_t, λΣ_t), λ ∈ (0, 1] the
sampling bias: C_0 = Σ₀, C_t = λΣ_t (C_0 = λΣ₀ with ``bias_generation0=True``). Samplers use Cholesky
factors, never eigenvectors, so a seed draws the same points on every machine up to rounding.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats
from threadpoolctl import threadpool_limits

from kexue_utils import _validate as valid
from kexue_utils import metrics

__all__ = [
    "LOOPS",
    "expected_logdet",
    "expected_sampling_covariance",
    "fit_gaussian",
    "fresh_steady_state",
    "gmm_loop",
    "halving_generations",
    "identity_by_descent",
    "logdet_drift",
    "logdet_step_variance",
    "loop_metrics",
    "mean_covariance",
    "mean_excess_kurtosis",
    "memorising_loop",
    "sample_gmm",
    "sampling_variance_moments",
    "selection_bias",
    "simulate_chain",
    "simulate_loop",
]

LOOPS = ("fully-synthetic", "augmentation", "fresh")
Loop = Literal["fully-synthetic", "augmentation", "fresh"]


def _lam(value: object, name: str = "lam") -> float:  # λ and the kept share lie in (0, 1]
    return valid.real_number(name, value, low=0.0, high=1.0, low_open=True)


def _covariance(name: str, value: ArrayLike, *, definite: bool = False) -> np.ndarray:
    """A square, finite, symmetric positive-semidefinite (or, if ``definite``, -definite) matrix."""
    arr = valid.finite_array(name, value, ndim=(0, 2))
    arr = arr.reshape(1, 1) if arr.ndim == 0 else arr
    if arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty square matrix, got shape {arr.shape}")
    scale = max(float(np.max(np.abs(arr))), 1e-300)
    if not np.allclose(arr, arr.T, rtol=0.0, atol=1e-10 * scale):
        raise ValueError(f"{name} must be symmetric")
    low = np.min(np.linalg.eigvalsh(arr))
    if low < -1e-10 * scale or (definite and low <= 1e-12 * scale):
        raise ValueError(f"{name} must be positive {'definite' if definite else 'semidefinite'}")
    return (arr + arr.T) / 2


def _vector(name: str, value: ArrayLike, d: int) -> np.ndarray:
    arr = valid.finite_array(name, value).reshape(-1)
    if arr.shape != (d,):
        raise ValueError(f"{name} must have length {d} (the dimension of sigma0), got {arr.size}")
    return arr


def _fit_size(name: str, n: object, d: int) -> int:
    """n with n − 1 ≥ d (a non-singular fit) and n ≤ 2**53 (exact as a float)."""
    n_ = valid.integer(name, n, 2, 2**53)
    if n_ - 1 < d:
        raise ValueError(f"{name} must satisfy {name} − 1 ≥ d (= {d}) for a non-singular fit, got {n_}")
    return n_


# --- closed forms of the Gaussian chain -------------------------------------------------------


def mean_covariance(
    sigma0: ArrayLike, n: int, lam: float, t: int, *, bias_generation0: bool = False
) -> np.ndarray:
    """Return Cov(μ_t) = (1 − λ^t)/(n(1 − λ)) Σ₀, times λ with biased data. Implements Eq. (mad-cov)."""
    s0 = _covariance("sigma0", sigma0)
    n_, lam_, t_ = valid.integer("n", n, 2), _lam(lam), valid.integer("t", t, 0)
    geometric = float(t_) if lam_ == 1.0 else (1.0 - lam_**t_) / (1.0 - lam_)  # Σ_{s<t} λ^s
    return geometric / n_ * (lam_ if bias_generation0 else 1.0) * s0


def expected_sampling_covariance(sigma0: ArrayLike, lam: float, t: int) -> np.ndarray:
    """Return E[C_t] = λ^t Σ₀, the mean covariance generation t samples from. Implements Eq. (mad-ecov)."""
    return _lam(lam) ** valid.integer("t", t, 0) * _covariance("sigma0", sigma0)


def logdet_drift(d: int, n: int, lam: float = 1.0) -> float:
    """Return κ = E[log det C_t − log det C_{t−1}] = d ln λ + Σ_{i<d} [ψ((n−1−i)/2) + ln(2/(n−1))].

    Implements Eq. (mad-logdet); ψ is the digamma function.
    """
    d_ = valid.integer("d", d, 1)
    m = _fit_size("n", n, d_) - 1
    i = np.arange(d_)
    return float(d_ * math.log(_lam(lam)) + np.sum(special.digamma((m - i) / 2) + math.log(2 / m)))


def logdet_step_variance(d: int, n: int) -> float:
    """Return Var(log det C_t − log det C_{t−1}) = Σ_{i<d} ψ'((n−1−i)/2). Eq. (mad-logdet).

    Increments are independent, so Var(log det C_t) is t times this (the chapter's standard errors).
    """
    d_ = valid.integer("d", d, 1)
    m = _fit_size("n", n, d_) - 1
    return float(np.sum(special.polygamma(1, (m - np.arange(d_)) / 2)))


def expected_logdet(
    sigma0: ArrayLike, n: int, lam: float, t: int, *, bias_generation0: bool = False
) -> float:
    """Return E[log det C_t] = log det Σ₀ + tκ (+ d ln λ with biased data). Implements Eq. (mad-logdet)."""
    s0 = _covariance("sigma0", sigma0, definite=True)
    d = s0.shape[0]
    shift = d * math.log(_lam(lam)) if bias_generation0 else 0.0
    t_ = valid.integer("t", t, 0)
    return float(np.linalg.slogdet(s0)[1] + shift + t_ * logdet_drift(d, n, lam))


def sampling_variance_moments(sigma0_sq: float, n: int, lam: float, t: int) -> tuple[float, float]:
    """Return (E[c_t], Var(c_t)) of the 1-d sampling variance c_t = λσ_t². Implements Eq. (mad-varvar).

    E[c_t] = λ^t σ₀², E[c_t²] = λ^(2t) ((n+1)/(n−1))^t σ₀⁴."""
    s2 = valid.real_number("sigma0_sq", sigma0_sq, low=0.0, low_open=True)
    n_, lam_, t_ = valid.integer("n", n, 2), _lam(lam), valid.integer("t", t, 0)
    log_second = t_ * (2 * math.log(lam_) + math.log((n_ + 1) / (n_ - 1))) + 2 * math.log(s2)
    if log_second > 700:
        raise ValueError(f"sigma0_sq, n and t give a second moment that overflows (t = {t_})")
    mean = lam_**t_ * s2
    return mean, (lam_**2 * (n_ + 1) / (n_ - 1)) ** t_ * s2**2 - mean**2


def mean_excess_kurtosis(n: int, lam: float, t: int) -> float:
    """Return the exact excess kurtosis Q_t/V_t² − 3 of the 1-d fitted mean μ_t. Implements Eq. (mad-kurt).

    V = E X², Q = E X⁴, A = E[X² c], B = E c² with X_t = μ_t − μ₀ follow the recursion of Eq. (mad-kurt)
    from X_0 = 0 and c_0 = σ₀² = 1 (the result does not depend on σ₀).
    """
    n_, lam_, t_ = valid.integer("n", n, 2), _lam(lam), valid.integer("t", t, 1)
    c_mean, b, v, q, a = 1.0, 1.0, 0.0, 0.0, 0.0
    for _ in range(t_):
        v, q, a = v + c_mean / n_, q + 6 * a / n_ + 3 * b / n_**2, lam_ * (a + b / n_)
        c_mean, b = lam_ * c_mean, lam_**2 * (1 + 2 / (n_ - 1)) * b
    return q / v**2 - 3.0


def halving_generations(n: int, lam: float = 1.0, *, median: bool = False) -> float:
    """Return the generations until the 1-d sampling variance halves. Implements Eq. (mad-halving).
    ``median=False``: ln 2/|κ|, when the mean of log c_t reaches −ln 2. ``median=True``: (ln 2 + δ)/|κ|,
    δ = −ψ''(m/2)/(6ψ'(m/2)), m = n − 1: the median of log c_t sits δ above its mean (Cornish–Fisher).
    """
    kappa = logdet_drift(1, n, lam)
    if not kappa < 0:  # ψ(x) < ln x, so only rounding at astronomically large n gets here
        raise ValueError(f"n is too large for the drift to be resolved in floating point, got n = {n}")
    x = (n - 1) / 2
    delta = -special.polygamma(2, x) / (6 * special.polygamma(1, x)) if median else 0.0
    return float((math.log(2) + delta) / abs(kappa))


def fresh_steady_state(n_real: int, n_synth: int, lam: float) -> tuple[float, float]:
    """Return (γ, η) with E[C_t] → γΣ₀ and Cov(μ_t) → ηΣ₀ in the fresh-data loop. Eq. (mad-fresh).

    a = n_r/n, b = n_s/n, g = ab/((n−1)(1−b²)) from the gap between the group means;
    γ = λa(1+g)/(1 − λb(1+g)), η = (a + bγ)/(n(1 − b²)).
    """
    nr, ns = valid.integer("n_real", n_real, 1), valid.integer("n_synth", n_synth, 1)
    lam_, n = _lam(lam), nr + ns
    a, b = nr / n, ns / n
    g = a * b / ((n - 1) * (1 - b**2))
    gamma = lam_ * a * (1 + g) / (1 - lam_ * b * (1 + g))
    return gamma, (a + b * gamma) / (n * (1 - b**2))


def selection_bias(d: int, keep: float) -> float:
    """Return the λ of keeping the share ``keep`` of samples with the highest model density. Eq. (mad-reward).

    Kept z ~ N(0, I_d) have ‖z‖² ≤ q, the keep-quantile of χ²_d, and covariance λI, λ = P(χ²_{d+2} ≤ q)/keep.
    """
    d_, keep_ = valid.integer("d", d, 1), _lam(keep, "keep")
    return float(stats.chi2.cdf(stats.chi2.ppf(keep_, d_), d_ + 2) / keep_)


# --- simulators (vectorised over independent trials) -----------------------------------------


def _root(c: np.ndarray) -> np.ndarray:
    """Lower Cholesky factors L (L Lᵀ = C) of a batch of covariances; a jitter of 1e-12 · tr C/d on
    the diagonal only if some C is singular in floating point."""
    if c.shape[-1] == 1:
        return np.sqrt(c)
    try:
        return np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        scale = np.trace(c, axis1=-2, axis2=-1)[..., None, None] / c.shape[-1]
        return np.linalg.cholesky(c + 1e-12 * scale * np.eye(c.shape[-1]))


def fit_gaussian(x: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Return the sample mean and unbiased sample covariance of x (…, n, d). Implements Eq. (mad-fit)."""
    x_ = valid.finite_array("x", x)
    if x_.ndim < 2 or x_.shape[-2] < 2 or x_.shape[-1] < 1:
        raise ValueError(f"x must have shape (…, n, d) with n ≥ 2 samples and d ≥ 1, got {x_.shape}")
    mu = x_.mean(axis=-2)
    centred = x_ - mu[..., None, :]
    return mu, np.einsum("...ni,...nj->...ij", centred, centred) / (x_.shape[-2] - 1)


def _draw(rng: np.random.Generator, mu: np.ndarray, c: np.ndarray, n: int, keep: float = 1.0) -> np.ndarray:
    """n points of N(mu, c) per trial, (T, d) and (T, d, d) → (T, n, d); with keep < 1 only the densest
    share ``keep``: ‖z‖² from χ²_d truncated at its keep-quantile (inverse CDF), direction from N(0, I)."""
    z = rng.standard_normal((mu.shape[0], n, mu.shape[1]))
    if keep < 1.0:
        r2 = stats.chi2.ppf(keep * rng.random(z.shape[:2]), mu.shape[1])
        z *= np.sqrt(r2 / np.sum(z**2, axis=-1))[..., None]
    return mu[:, None, :] + z @ np.swapaxes(_root(c), -1, -2)


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
    keep: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the fitted (μ_t, Σ_t), t = 0…G, of independent fully synthetic chains (Eq. mad-step).

    Shapes (G + 1, trials, d) and (G + 1, trials, d, d); index 0 holds (μ₀, Σ₀). ``"samples"`` draws and
    fits n points; ``"statistics"`` draws μ_t ~ N(μ_{t−1}, C_{t−1}/n) and (n−1)Σ_t = L A Aᵀ Lᵀ, L Lᵀ =
    C_{t−1}, A lower triangular with A_ii² ~ χ²_{n−1−i} and N(0, 1) below (Bartlett). ``keep`` < 1
    (samples only) keeps that share of samples with the highest model density, a reward filter; like λ
    it applies from generation 2 on unless ``bias_generation0``.
    """
    s0 = _covariance("sigma0", sigma0, definite=True)
    d = s0.shape[0]
    m0 = _vector("mu0", mu0, d)
    n_, lam_ = _fit_size("n", n, d), _lam(lam)
    g_, trials_ = valid.integer("generations", generations, 0), valid.integer("trials", trials, 1)
    valid.choice("method", method, ("samples", "statistics"))
    keep_ = _lam(keep, "keep")
    if keep_ < 1 and method == "statistics":
        raise ValueError("keep < 1 needs method='samples' (filtered samples are not Gaussian)")
    rng = np.random.default_rng(valid.integer("seed", seed, 0))
    mus, sigmas = np.empty((g_ + 1, trials_, d)), np.empty((g_ + 1, trials_, d, d))
    mus[0], sigmas[0] = m0, s0
    m, (rows, cols) = n_ - 1, np.tril_indices(d, -1)
    for t in range(1, g_ + 1):
        biased = t > 1 or bias_generation0
        c_prev = (lam_ if biased else 1.0) * sigmas[t - 1]
        if method == "samples":
            mus[t], sigmas[t] = fit_gaussian(_draw(rng, mus[t - 1], c_prev, n_, keep_ if biased else 1.0))
            continue
        root = _root(c_prev)
        mus[t] = mus[t - 1] + np.einsum("tij,tj->ti", root, rng.standard_normal((trials_, d))) / np.sqrt(n_)
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
    """Return the fitted (μ_t, Σ_t), t = 0…G, of a Gaussian autophagous loop (Eq. mad-loops).

    Generation 1 fits n = n_real + n_synth data points; later ones fit n samples of N(μ_{t−1}, λΣ_{t−1})
    (``"fully-synthetic"``), or n_synth samples plus the first n_real data points of generation 1
    (``"augmentation"``) or n_real new ones (``"fresh"``). Shapes as in :func:`simulate_chain`.
    """
    s0 = _covariance("sigma0", sigma0, definite=True)
    d = s0.shape[0]
    m0 = _vector("mu0", mu0, d)
    loop_ = valid.choice("loop", loop, LOOPS)
    nr, ns = valid.integer("n_real", n_real, 0), valid.integer("n_synth", n_synth, 1)
    _fit_size("n_real + n_synth", nr + ns, d)
    lam_ = _lam(lam)
    g_, trials_ = valid.integer("generations", generations, 0), valid.integer("trials", trials, 1)
    rng = np.random.default_rng(valid.integer("seed", seed, 0))
    data_mu, data_c = np.broadcast_to(m0, (trials_, d)), np.broadcast_to(s0, (trials_, d, d))
    mus, sigmas = np.empty((g_ + 1, trials_, d)), np.empty((g_ + 1, trials_, d, d))
    mus[0], sigmas[0] = m0, s0
    fixed_real = np.empty((trials_, 0, d))
    for t in range(1, g_ + 1):
        if t == 1:
            x = _draw(rng, data_mu, data_c, nr + ns)
            fixed_real = x[:, :nr]
        elif loop_ == "fully-synthetic":
            x = _draw(rng, mus[t - 1], lam_ * sigmas[t - 1], nr + ns)
        else:
            real = fixed_real if loop_ == "augmentation" else _draw(rng, data_mu, data_c, nr)
            x = np.concatenate([real, _draw(rng, mus[t - 1], lam_ * sigmas[t - 1], ns)], axis=1)
        mus[t], sigmas[t] = fit_gaussian(x)
    return mus, sigmas


# --- the memorising generator: Wright–Fisher drift ---------------------------------------------


def identity_by_descent(n_real: int, n_synth: int, t: int | None = None) -> float:
    """Return E[F_t] for the memorising generator, or its limit F* (``t=None``). Implements Eq. (mad-wf).

    F_t: share of pairs of training points copied from one original. With q = n_s(n_s − 1)/(n(n − 1)),
    E F_t = q(1/n + (1 − 1/n)E F_{t−1}); from F_0 = 0, E F_t = F*(1 − r^t), r = q(1 − 1/n),
    F* = (q/n)/(1 − r).
    """
    nr, ns = valid.integer("n_real", n_real, 0), valid.integer("n_synth", n_synth, 1)
    n = valid.integer("n_real + n_synth", nr + ns, 2)
    q = ns * (ns - 1) / (n * (n - 1))
    r = q * (1 - 1 / n)
    f_star = q / n / (1 - r)
    return f_star if t is None else f_star * (1 - r ** valid.integer("t", t, 0))


def memorising_loop(n_real: int, n_synth: int, *, generations: int, trials: int, seed: int) -> np.ndarray:
    """Return F_t at the last generation per trial of the memorising generator (Eq. mad-wf), shape (trials,).
    It resamples its n training points with replacement (Wright–Fisher); n_real new points join each time.
    """
    nr, ns = valid.integer("n_real", n_real, 0), valid.integer("n_synth", n_synth, 1)
    n = valid.integer("n_real + n_synth", nr + ns, 2)
    g_, trials_ = valid.integer("generations", generations, 0), valid.integer("trials", trials, 1)
    rng = np.random.default_rng(valid.integer("seed", seed, 0))
    labels = np.broadcast_to(np.arange(n), (trials_, n))
    for t in range(1, g_ + 1):
        parents = np.take_along_axis(labels, rng.integers(0, n, (trials_, ns)), axis=1)
        fresh = np.broadcast_to(n + (t - 1) * nr + np.arange(nr), (trials_, nr))
        labels = np.concatenate([parents, fresh], axis=1)
    same = np.sum(labels[:, :, None] == labels[:, None, :], axis=(1, 2)) - n
    return same / (n * (n - 1))


# --- the real-data loop: a Gaussian mixture refitted on its own samples -----------------------


def sample_gmm(model: Any, size: int, lam: float, seed: int) -> np.ndarray:
    """Return ``size`` samples of a fitted full-covariance ``GaussianMixture``, covariances scaled by λ.

    The component is drawn with the mixture weights; the point is μ_k + √λ L_k z with L_k the Cholesky
    factor of Σ_k, so λ < 1 shrinks every component toward its mean (truncation for a mixture).
    """
    size_, lam_ = valid.integer("size", size, 1), _lam(lam)
    if not hasattr(model, "covariance_type"):
        raise TypeError(f"model must be a fitted GaussianMixture, got {type(model).__name__}")
    if model.covariance_type != "full" or not hasattr(model, "means_"):
        raise ValueError("model must be a fitted GaussianMixture with covariance_type='full'")
    rng = np.random.default_rng(valid.integer("seed", seed, 0))
    means, weights = np.asarray(model.means_), np.asarray(model.weights_, dtype=np.float64)
    comp = rng.choice(means.shape[0], size=size_, p=weights / weights.sum())
    z = rng.standard_normal((size_, means.shape[1]))
    roots = np.linalg.cholesky(np.asarray(model.covariances_))
    return means[comp] + math.sqrt(lam_) * np.einsum("nij,nj->ni", roots[comp], z)


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

    Shape (generations, n_samples, features). Generation 1 fits the first n_real + n_synth pool rows; later
    ones fit as in :func:`simulate_loop` (a fixed real set = the first n_real rows; fresh = n_real rows
    drawn anew). Each fit is a full-covariance ``GaussianMixture`` trained from scratch (k-means++,
    ``reg_covar`` on the diagonals), single-threaded.
    """
    from sklearn.mixture import GaussianMixture

    x_pool = valid.finite_array("pool", pool, 2, nonempty=True)
    loop_, lam_ = valid.choice("loop", loop, LOOPS), _lam(lam)
    g_ = valid.integer("generations", generations, 1)
    nr, ns = valid.integer("n_real", n_real, 0), valid.integer("n_synth", n_synth, 1)
    if nr + ns > x_pool.shape[0]:
        raise ValueError(f"n_real + n_synth must not exceed the pool size {x_pool.shape[0]}")
    n_samples_, k_ = valid.integer("n_samples", n_samples, 1), valid.integer("n_components", n_components, 1)
    valid.real_number("reg_covar", reg_covar, low=0.0)
    seeds = np.random.SeedSequence(valid.integer("seed", seed, 0)).generate_state(3 * g_ + 4)
    rng = np.random.default_rng(seeds[-1])
    out = np.empty((g_, n_samples_, x_pool.shape[1]))
    model, fit = None, {"covariance_type": "full", "reg_covar": reg_covar, "init_params": "k-means++"}
    with threadpool_limits(limits=1):
        for t in range(1, g_ + 1):
            if model is None:
                x = x_pool[: nr + ns]
            elif loop_ == "fully-synthetic":
                x = sample_gmm(model, nr + ns, lam_, int(seeds[3 * t]))
            else:
                real = x_pool[:nr] if loop_ == "augmentation" else x_pool[rng.permutation(len(x_pool))[:nr]]
                x = np.concatenate([real, sample_gmm(model, ns, lam_, int(seeds[3 * t]))])
            model = GaussianMixture(k_, random_state=int(seeds[3 * t + 1] % 2**31), **fit).fit(x)
            out[t - 1] = sample_gmm(model, n_samples_, lam_, int(seeds[3 * t + 2]))
    return out


def loop_metrics(reference: ArrayLike, samples: ArrayLike, projection: Any, k: int = 5) -> np.ndarray:
    """Return (precision, recall, Fréchet distance) per generation of ``samples`` (Eq. mad-pr, mad-w2).

    ``samples`` is (generations, points, features); precision/recall in pixel space, the Fréchet distance
    after ``projection.transform`` (a fixed, fitted projection such as a PCA). Shape (generations, 3).
    """
    ref = valid.finite_array("reference", reference, 2, nonempty=True)
    s = valid.finite_array("samples", samples)
    if s.ndim != 3 or s.shape[2] != ref.shape[1] or s.shape[0] == 0 or s.shape[1] == 0:
        raise ValueError(f"samples must have shape (generations, points, {ref.shape[1]}), got {s.shape}")
    if not hasattr(projection, "transform"):
        raise TypeError("projection must have a transform method (e.g. a fitted sklearn PCA)")
    k_ = valid.integer("k", k, 1, min(ref.shape[0], s.shape[1]) - 1)
    radii = metrics.knn_radii(ref, k_)
    out = np.empty((s.shape[0], 3))
    with threadpool_limits(limits=1):
        ref_proj = projection.transform(ref)
        for g in range(s.shape[0]):
            out[g, :2] = metrics.precision_recall(ref, s[g], k=k_, real_radii=radii)
            out[g, 2] = metrics.frechet_distance(ref_proj, projection.transform(s[g]))
    return out
