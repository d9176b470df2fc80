"""Helpers for the chapter *The quantization model of neural scaling laws* (book/quanta.md).

The quantization model (Michaud et al., NeurIPS 2023) says a network's skill comes in discrete
"quanta" used with Zipf frequencies p_k = k^-(γ+1)/ζ(γ+1), and that a network which has learned the
first n quanta has loss L = a + (b − a)·Σ_{k>n} p_k. Everything here is numpy/scipy, except the
multitask sparse-parity experiment, which trains a small MLP with JAX and Optax.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from numpy.typing import ArrayLike
from scipy import optimize, special, stats

from kexue_utils import _validate as valid

__all__ = [
    "data_law_asymptote",
    "data_law_moments",
    "finite_step_law",
    "fit_learning_steps",
    "fit_power_law",
    "geometric_tail_mass",
    "implied_gamma",
    "learning_steps",
    "make_sparse_parity_tasks",
    "predicted_exponents",
    "quanta_learned",
    "simulate_data_law",
    "simulate_parameter_law",
    "sparse_parity_summary",
    "tail_asymptote",
    "tail_mass",
    "train_sparse_parity",
    "truncated_tail_mass",
    "zipf_frequencies",
]

#: training steps per compiled call of the sparse-parity trainer; evaluation steps are multiples of it
CHUNK = 10


# --- argument checks ----------------------------------------------------------------------------


def _gamma(value: object) -> float:
    """Return γ > 0; γ + 1 must exceed 1 in floating point, else ζ(γ + 1) = ∞."""
    g = valid.real_number("gamma", value, low=0.0, low_open=True)
    if g + 1.0 == 1.0:
        raise ValueError(f"gamma must exceed the float resolution of 1 (γ + 1 > 1), got {g}")
    return g


def _counts(name: str, value: ArrayLike, *, minimum: int = 0) -> np.ndarray:
    """Return ``value`` (any shape, ≥ 1 entry) as int64 after checking it holds integers ≥ ``minimum``."""
    arr = valid.finite_array(name, value, nonempty=True)
    if np.any(arr != np.floor(arr)):
        raise ValueError(f"{name} must hold integers, got a non-integer value")
    if np.any(arr < minimum) or np.any(arr >= 2.0**63):
        raise ValueError(f"{name} must lie in [{minimum}, 2**63), got {arr.min():g}…{arr.max():g}")
    return arr.astype(np.int64)


def _positive(name: str, value: ArrayLike, *, scalar: bool = False) -> np.ndarray:
    """Return ``value`` as a non-empty 1-d float array (a scalar too if ``scalar``), finite and > 0."""
    arr = np.atleast_1d(valid.finite_array(name, value, ndim=(0, 1) if scalar else 1, nonempty=True))
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0 everywhere")
    return arr


# --- the quanta distribution and its tail --------------------------------------------------------


def zipf_frequencies(k: ArrayLike, gamma: float) -> np.ndarray:
    """Return the use frequencies p_k = k^-(γ+1)/ζ(γ+1) of quanta k ≥ 1. Implements Eq. (quanta-zipf)."""
    g = _gamma(gamma)
    return _counts("k", k, minimum=1).astype(float) ** (-(g + 1.0)) / special.zeta(g + 1.0)


def tail_mass(n: ArrayLike, gamma: float) -> np.ndarray:
    """Return T(n) = Σ_{k>n} p_k = ζ(γ+1, n+1)/ζ(γ+1) (Hurwitz zeta). Implements Eq. (quanta-tail).

    ``n`` is the number of quanta learned (integers ≥ 0, any shape); the result has its shape.
    """
    g = _gamma(gamma)
    n_ = _counts("n", n).astype(float)
    return np.asarray(special.zeta(g + 1.0, n_ + 1.0) / special.zeta(g + 1.0))


def tail_asymptote(n: ArrayLike, gamma: float, *, terms: int = 1) -> np.ndarray:
    """Return the Euler–Maclaurin expansion of T(n) with 1–4 terms. Implements Eq. (quanta-em).

    One term is n^-γ/(γ ζ(γ+1)) (Eq. (quanta-asym)); then −n^-(γ+1)/2, +(γ+1) n^-(γ+2)/12 and
    −(γ+1)(γ+2)(γ+3) n^-(γ+4)/720, all divided by ζ(γ+1).
    """
    g = _gamma(gamma)
    valid.integer("terms", terms, 1, 4)
    n_ = _counts("n", n, minimum=1).astype(float)
    s = g + 1.0
    parts = [
        n_ ** (-g) / g,
        -0.5 * n_ ** (-s),
        s * n_ ** (-s - 1.0) / 12.0,
        -s * (s + 1.0) * (s + 2.0) * n_ ** (-s - 3.0) / 720.0,
    ]
    return np.asarray(sum(parts[:terms]) / special.zeta(s))


def truncated_tail_mass(n: ArrayLike, gamma: float, n_quanta: int) -> np.ndarray:
    """Return T_K(n) = Σ_{n<k≤K} p_k for K quanta, p_k ∝ k^-(γ+1). Implements Eq. (quanta-finite).

    The frequencies are normalised over the K quanta: T_K(0) = 1 and T_K(n) = 0 for n ≥ K.
    """
    g = _gamma(gamma)
    K = valid.integer("n_quanta", n_quanta, 1)
    n_ = np.minimum(_counts("n", n), K).astype(float)
    s = g + 1.0
    beyond = special.zeta(s, K + 1.0)
    return np.asarray((special.zeta(s, n_ + 1.0) - beyond) / (special.zeta(s) - beyond))


def geometric_tail_mass(n: ArrayLike, ratio: float) -> np.ndarray:
    """Return Σ_{k>n} (1−r) r^(k−1) = r^n, the tail of geometric frequencies. Implements Eq. (quanta-geom)."""
    r = valid.real_number("ratio", ratio, low=0.0, high=1.0, low_open=True, high_open=True)
    return np.asarray(r ** _counts("n", n).astype(float))


# --- scaling exponents and fits -------------------------------------------------------------------


def predicted_exponents(gamma: float) -> dict[str, float]:
    """Return the predicted exponents {"N": γ, "D": γ/(γ+1), "S": γ/(γ+1)}. Implements Eq. (quanta-laws)."""
    g = valid.real_number("gamma", gamma, low=0.0, low_open=True)
    return {"N": g, "D": g / (g + 1.0), "S": g / (g + 1.0)}


def implied_gamma(alpha: float, kind: str) -> float:
    """Return the γ that a measured exponent implies: γ = α_N, or γ = α_D/(1 − α_D). Eq. (quanta-pair)."""
    a = valid.real_number("alpha", alpha, low=0.0, low_open=True)
    if valid.choice("kind", kind, ("N", "D", "S")) == "N":
        return a
    if a >= 1:
        raise ValueError(f"alpha must be < 1 for kind {kind!r} (γ/(γ+1) < 1), got {a}")
    return a / (1.0 - a)


def quanta_learned(samples: ArrayLike, gamma: float, tau: float) -> np.ndarray:
    """Return n*(D) = (D/(τ ζ(γ+1)))^(1/(γ+1)), where D p_n* = τ. Implements Eq. (quanta-nstar)."""
    g = _gamma(gamma)
    t = valid.real_number("tau", tau, low=0.0, low_open=True)
    d = _positive("samples", samples, scalar=True)
    return (d / (t * special.zeta(g + 1.0))) ** (1.0 / (g + 1.0))


def fit_power_law(x: ArrayLike, y: ArrayLike) -> tuple[float, float]:
    """Return (α, c) of the least-squares fit log y = log c − α·log x. Used for Eq. (quanta-laws)."""
    xa, ya = _positive("x", x), _positive("y", y)
    if xa.shape != ya.shape:
        raise ValueError(f"x {xa.shape} and y {ya.shape} must have the same shape")
    if np.ptp(xa) == 0:
        raise ValueError("x must hold at least two distinct values")
    slope, intercept = np.polyfit(np.log(xa), np.log(ya), 1)
    return float(-slope), float(np.exp(intercept))


def fit_learning_steps(
    p: ArrayLike, learned_at: ArrayLike, horizon: float, *, offset: bool = False
) -> dict[str, float]:
    """Return the censored fit log(S_t − S₀) = log c − β log p_t + σ ε_t, ε_t ~ N(0, 1). Eq. (quanta-offset).

    ``learned_at`` holds each task's learning step S_t, NaN for tasks not learned by ``horizon``.
    Those are right-censored (a Tobit regression): they contribute P[S_t > horizon] instead of a
    density, so rare tasks that happened to be learned early do not pull β down. With ``offset``
    the delay S₀ ∈ [0, 0.9 min S_t] is fitted by profiling the likelihood, else S₀ = 0. Returns
    ``beta``, ``c``, ``S0``, ``sigma`` and ``loglik``, the log-likelihood of the log S_t.
    """
    pa = _positive("p", p)
    S = valid.real_array("learned_at", learned_at)
    learned = np.isfinite(S)
    if S.shape != pa.shape or np.any(np.isinf(S)) or np.any(S[learned] <= 0) or learned.sum() < 3:
        raise ValueError("learned_at must match p, hold ≥ 3 steps > 0 and NaN for tasks never learned")
    h = valid.real_number("horizon", horizon, low=float(S[learned].max()))
    if not isinstance(offset, bool):
        raise TypeError(f"offset must be a bool, got {type(offset).__name__}")
    x, S_l = -np.log(pa), S[learned]

    def fit(S0: float) -> tuple[float, np.ndarray]:
        y, y_cens = np.log(S_l - S0), np.log(h - S0)

        def nll(theta: np.ndarray) -> float:
            log_sigma = max(theta[2], np.log(1e-3))  # steps are not known to better than 0.1 %
            z = (y - theta[1] - theta[0] * x[learned]) / np.exp(log_sigma)
            z_cens = (y_cens - theta[1] - theta[0] * x[~learned]) / np.exp(log_sigma)
            log_density = -0.5 * z**2 - 0.5 * np.log(2 * np.pi) - log_sigma  # Gaussian, learned tasks
            return -float(np.sum(log_density) + np.sum(special.log_ndtr(-z_cens)))  # P[above horizon]

        slope, intercept = np.polyfit(x[learned], y, 1)
        start = np.array([slope, intercept, np.log(np.std(y - slope * x[learned] - intercept) + 0.01)])
        res = optimize.minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-7, "fatol": 1e-9})
        return res.fun - float(np.sum(np.log(S_l / (S_l - S0)))), res.x

    S0 = 0.0
    if offset:  # the bounded search may miss the end S₀ = 0; compare with it
        res = optimize.minimize_scalar(lambda s0: fit(s0)[0], bounds=(0.0, 0.9 * S_l.min()), method="bounded")
        S0 = float(res.x) if res.fun < fit(0.0)[0] else 0.0
    nll_value, (beta, log_c, log_sigma) = fit(S0)
    sigma = np.exp(max(log_sigma, np.log(1e-3)))
    return {"beta": beta, "c": np.exp(log_c), "S0": S0, "sigma": sigma, "loglik": -nll_value}


# --- simulations and expectations of the quanta model (numpy) -----------------------------------


def _zipf_draws(gamma: float, size: int, seed: int, cap: int) -> np.ndarray:
    """Draw quanta indices k with P(k) = p_k (numpy's zipf sampler), clipped at ``cap`` + 1."""
    rng = np.random.default_rng(valid.integer("seed", seed, 0))
    return np.minimum(rng.zipf(gamma + 1.0, size=size), cap + 1)


def simulate_parameter_law(n_learned: ArrayLike, gamma: float, *, n_test: int, seed: int) -> np.ndarray:
    """Return the Monte-Carlo loss (b = 1, a = 0) of models knowing quanta 1..n. Implements Eq. (quanta-tail).

    A test sample is lost exactly when its quantum index exceeds n: the result is the empirical
    frequency of draws k > n, a Monte-Carlo estimate of :func:`tail_mass`.
    """
    g = _gamma(gamma)
    n_ = _counts("n_learned", n_learned)
    m = valid.integer("n_test", n_test, 1)
    draws = np.sort(_zipf_draws(g, m, seed, cap=int(n_.max())))
    return 1.0 - np.searchsorted(draws, n_, side="right") / m


def simulate_data_law(
    samples: ArrayLike, gamma: float, *, tau: int, seed: int, max_quanta: int = 1_000_000
) -> np.ndarray:
    """Return the loss after D Zipf samples; quanta seen ≥ τ times are learned. Eq. (quanta-dexact).

    One stream of draws, D runs over its prefixes (nested data sets); the loss is Σ p_k over the
    quanta not learned. Quanta beyond ``max_quanta`` count as not learned. S steps of B fresh samples
    are the same process with D = S·B, so this also simulates the step law.
    """
    g = _gamma(gamma)
    d = _counts("samples", samples, minimum=1)
    t = valid.integer("tau", tau, 1)
    K = valid.integer("max_quanta", max_quanta, 1)
    draws = _zipf_draws(g, int(d.max()), seed, cap=K)
    p = np.concatenate([[0.0], zipf_frequencies(np.arange(1, K + 1), g), [0.0]])
    return np.array([1.0 - p[np.bincount(draws[:di], minlength=K + 2) >= t].sum() for di in d])


def data_law_moments(
    samples: ArrayLike, gamma: float, *, tau: int, max_quanta: int = 1_000_000
) -> tuple[np.ndarray, np.ndarray]:
    """Return the mean and sd of the loss after D samples (learn at τ). Implements Eq. (quanta-dexact).

    E[L(D)] = Σ_k p_k q_k and sd ≈ (Σ_k p_k² q_k(1−q_k))^½, q_k = P[Bin(D, p_k) < τ]. The sd treats
    the counts of different quanta as independent (in a data set of fixed size they are slightly
    negatively correlated). Quanta beyond ``max_quanta`` count as unlearned (exact tail mass added).
    """
    g = _gamma(gamma)
    d = _counts("samples", samples, minimum=1)
    t = valid.integer("tau", tau, 1)
    K = valid.integer("max_quanta", max_quanta, 1)
    p = zipf_frequencies(np.arange(1, K + 1), g)
    q = stats.binom.cdf(t - 1, d[:, None], p[None, :])
    return q @ p + float(tail_mass(K, g)), np.sqrt((q * (1.0 - q)) @ p**2)


def data_law_asymptote(samples: ArrayLike, gamma: float, *, tau: int) -> np.ndarray:
    """Return the large-D limit C_τ D^-α of E[L(D)], α = γ/(γ+1). Implements Eq. (quanta-dconst).

    C_τ = ζ(γ+1)^(-1/(γ+1)) Γ(τ+α) / (γ Γ(τ)), the closed form of Eq. (quanta-ctau).
    """
    g = _gamma(gamma)
    t = valid.integer("tau", tau, 1)
    d = _positive("samples", samples, scalar=True)
    s, a = g + 1.0, g / (g + 1.0)
    c_tau = special.zeta(s) ** (-1.0 / s) * np.exp(special.gammaln(t + a) - special.gammaln(t)) / g
    return c_tau * d ** (-a)


def finite_step_law(steps: ArrayLike, p: ArrayLike, *, batch: int, tau: float) -> np.ndarray:
    """Return Σ_t p_t·1[S·B·p_t < τ], the step law for finitely many quanta. Implements Eq. (quanta-laws).

    Quantum t is learned once it has received τ samples in expectation, at step τ/(B p_t).
    """
    s = _positive("steps", steps, scalar=True)
    pa = _positive("p", p)
    b = valid.integer("batch", batch, 1)
    t = valid.real_number("tau", tau, low=0.0, low_open=True)
    return np.asarray((pa[None, :] * (s[:, None] * b * pa[None, :] < t)).sum(axis=1))


# --- multitask sparse parity (JAX + Optax) ---------------------------------------------------------


def make_sparse_parity_tasks(n_tasks: int, n_bits: int, subset_size: int, seed: int) -> np.ndarray:
    """Return a (n_tasks, n_bits) 0/1 mask whose rows are *distinct* subsets of ``subset_size`` bits.

    Row t marks the bits whose parity is task t's label. The subsets are drawn without replacement:
    distinct ranks in the combinatorial number system, each decoded into its subset.
    """
    T = valid.integer("n_tasks", n_tasks, 1)
    n = valid.integer("n_bits", n_bits, 1, 30)
    k = valid.integer("subset_size", subset_size, 1, n)
    if T > math.comb(n, k):
        raise ValueError(f"n_tasks ({T}) must be ≤ C(n_bits, subset_size) = {math.comb(n, k)}")
    ranks = np.random.default_rng(valid.integer("seed", seed, 0)).choice(math.comb(n, k), T, replace=False)
    mask = np.zeros((T, n), dtype=np.float32)
    for row, r in zip(mask, ranks.tolist(), strict=True):
        for m in range(k, 0, -1):  # the largest bit b with C(b, m) ≤ r is in the subset
            b = next(b for b in range(n - 1, -1, -1) if math.comb(b, m) <= r)
            row[b], r = 1.0, r - math.comb(b, m)
    return mask


def _parity_loss(params: dict[str, Any], tasks: jax.Array, codes: jax.Array, mask: jax.Array) -> jax.Array:
    """Per-sample cross-entropy of the ReLU MLP on (one-hot task ‖ the bits of the integer code)."""
    T, n = mask.shape
    bits = ((codes[..., None] >> jnp.arange(n)) & 1).astype(jnp.float32)
    labels = (jnp.sum(bits * mask[tasks], axis=-1) % 2).astype(jnp.int32)  # parity of the task's bits
    x = jnp.concatenate([jax.nn.one_hot(tasks, T), bits], axis=-1)
    logits = jax.nn.relu(x @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels)


@functools.lru_cache(maxsize=8)
def _adam_chunk(learning_rate: float) -> Any:
    """Return a jitted function doing CHUNK Adam steps, one fresh batch (tasks, codes) per step."""
    opt = optax.adam(learning_rate)

    @jax.jit
    def run(params: Any, state: Any, tasks: jax.Array, codes: jax.Array, mask: jax.Array) -> Any:
        def step(carry: Any, batch: tuple[jax.Array, jax.Array]) -> tuple[Any, None]:
            grads = jax.grad(lambda prm: _parity_loss(prm, *batch, mask).mean())(carry[0])
            updates, st = opt.update(grads, carry[1], carry[0])
            return (optax.apply_updates(carry[0], updates), st), None

        return jax.lax.scan(step, (params, state), (tasks, codes))[0]

    return run


_task_losses = jax.jit(lambda prm, tasks, codes, mask: _parity_loss(prm, tasks, codes, mask))


def train_sparse_parity(
    mask: np.ndarray,
    gamma: float,
    *,
    width: int,
    batch: int,
    eval_steps: ArrayLike,
    learning_rate: float,
    n_eval: int,
    seed: int,
) -> dict[str, Any]:
    """Return per-task test losses of a one-hidden-layer MLP trained online on multitask sparse parity.

    Tasks are drawn with truncated Zipf frequencies p_t ∝ t^-(γ+1) (Eq. (quanta-zipf)); a sample is
    (one-hot task, random bits), its label the parity of the task's bits; every Adam step sees a fresh
    batch. Data and initial weights come from ``np.random.default_rng(seed)``. ``eval_steps`` are
    increasing multiples of :data:`CHUNK`; returns ``steps``, ``task_loss`` (len(steps) × n_tasks mean
    cross-entropy on ``n_eval`` held-out samples per task) and ``p`` (the task frequencies).
    """
    g = valid.real_number("gamma", gamma, low=0.0, low_open=True)
    m = valid.numeric_array("mask", mask, "biuf").astype(np.float32)
    if m.ndim != 2 or m.size == 0 or m.shape[1] > 30 or not np.all((m == 0) | (m == 1)):
        raise ValueError("mask must be a 2-d 0/1 array (tasks × at most 30 bits)")
    W, B = valid.integer("width", width, 1), valid.integer("batch", batch, 1)
    steps = _counts("eval_steps", eval_steps, minimum=CHUNK)
    if steps.ndim != 1 or np.any(steps % CHUNK) or np.any(np.diff(steps) <= 0):
        raise ValueError(f"eval_steps must be increasing multiples of {CHUNK}")
    lr = valid.real_number("learning_rate", learning_rate, low=0.0, low_open=True)
    M = valid.integer("n_eval", n_eval, 1)
    rng = np.random.default_rng(valid.integer("seed", seed, 0))
    T, n = m.shape
    p = np.arange(1, T + 1, dtype=float) ** (-(g + 1.0))
    p /= p.sum()
    cdf = np.cumsum(p)
    d = T + n
    params = {  # He initialisation; numpy throughout, so the start is identical on every machine
        "W1": (rng.standard_normal((d, W)) * np.sqrt(2.0 / d)).astype(np.float32),
        "b1": np.zeros(W, dtype=np.float32),
        "W2": (rng.standard_normal((W, 2)) * np.sqrt(1.0 / W)).astype(np.float32),
        "b2": np.zeros(2, dtype=np.float32),
    }
    state = optax.adam(lr).init(params)
    eval_tasks = np.repeat(np.arange(T, dtype=np.int32), M)
    eval_codes = rng.integers(0, 2**n, size=T * M, dtype=np.int32)
    run, done, losses = _adam_chunk(lr), 0, []
    for s in steps:
        for _ in range((s - done) // CHUNK):
            tasks = np.minimum(np.searchsorted(cdf, rng.random((CHUNK, B))), T - 1).astype(np.int32)
            codes = rng.integers(0, 2**n, size=(CHUNK, B), dtype=np.int32)
            params, state = run(params, state, tasks, codes, m)
        done = s
        per_sample = np.asarray(_task_losses(params, eval_tasks, eval_codes, m), dtype=float)
        losses.append(per_sample.reshape(T, M).mean(axis=1))
    return {"steps": steps, "task_loss": np.array(losses), "p": p}


def learning_steps(steps: ArrayLike, task_loss: ArrayLike, threshold: float) -> np.ndarray:
    """Return, per task, the first evaluation step at which its loss is below ``threshold`` (NaN if never)."""
    s = valid.finite_array("steps", steps, ndim=1, nonempty=True)
    tl = valid.finite_array("task_loss", task_loss)
    thr = valid.real_number("threshold", threshold, low=0.0, low_open=True)
    if tl.ndim != 2 or tl.shape[0] != s.size or tl.shape[1] == 0:
        raise ValueError(f"task_loss must have shape (len(steps), n_tasks), got {tl.shape}")
    below = tl < thr
    return np.where(below.any(axis=0), s[np.argmax(below, axis=0)], np.nan)


def sparse_parity_summary(
    run: Mapping[str, Any], *, batch: int, threshold: float, fit_from: int
) -> dict[str, Any]:
    """Return the scaling analysis of one :func:`train_sparse_parity` run. Tests Eq. (quanta-laws).

    ``S_learn``: each task's learning step (first loss < ``threshold``, NaN if never); ``n_learned``;
    ``rho``, Spearman's correlation of frequency rank and learning step (learned tasks); the censored
    fits of :func:`fit_learning_steps` without (``beta``, ``c``) and with an offset (``beta_offset``,
    ``c_offset``, ``S0``) and twice their log-likelihood difference ``lr``; ``beta_prefix``, the
    uncensored least-squares fit over the most frequent tasks up to the first one never learned
    (``n_uncensored``); ``tau``, the median S_t·B·p_t over those; ``width``, the median over them of
    (S_t − last step with loss ≥ 0.9 ln 2)/S_t; and power-law exponents over steps ≥ ``fit_from`` of
    the total loss Σ p_t L_t (``alpha_total``), the unlearned mass Σ p_t 1[L_t ≥ threshold]
    (``alpha_unlearned``) and the finite quanta model :func:`finite_step_law` at τ (``alpha_model``).
    """
    B = valid.integer("batch", batch, 1)
    thr = valid.real_number("threshold", threshold, low=0.0, high=0.5, low_open=True)
    start = valid.integer("fit_from", fit_from, 1)
    if not isinstance(run, Mapping) or not all(key in run for key in ("steps", "task_loss", "p")):
        raise TypeError(
            "run must be a dict with keys 'steps', 'task_loss' and 'p' (from train_sparse_parity)"
        )
    steps, p = _positive("run['steps']", run["steps"]), _positive("run['p']", run["p"])
    task_loss = valid.finite_array("run['task_loss']", run["task_loss"])
    if task_loss.shape != (steps.size, p.size):
        raise ValueError(f"run['task_loss'] must have shape {(steps.size, p.size)}, got {task_loss.shape}")
    S = learning_steps(steps, task_loss, thr)
    learned = np.isfinite(S)
    n_unc = int(np.argmin(learned)) if not learned.all() else learned.size
    window = steps >= start
    if n_unc < 3 or window.sum() < 2 or learned.all():
        raise ValueError("run: need the 3 most frequent tasks learned, one task never, ≥ 2 steps ≥ fit_from")
    fit, fit_offset = (fit_learning_steps(p, S, steps[-1], offset=o) for o in (False, True))
    S_u, p_u = S[:n_unc], p[:n_unc]
    near_chance = (task_loss[:, :n_unc] >= 0.9 * np.log(2)) & (steps[:, None] < S_u)
    S_leave = np.where(near_chance, steps[:, None], 0.0).max(axis=0)
    tau = float(np.median(S_u * B * p_u))
    model = finite_step_law(steps, p, batch=B, tau=tau)
    return {
        "S_learn": S,
        "n_learned": int(learned.sum()),
        "n_uncensored": n_unc,
        "rho": float(stats.spearmanr(np.flatnonzero(learned), S[learned]).statistic),
        "beta": fit["beta"],
        "c": fit["c"],
        "beta_offset": fit_offset["beta"],
        "c_offset": fit_offset["c"],
        "S0": fit_offset["S0"],
        "lr": 2.0 * (fit_offset["loglik"] - fit["loglik"]),
        "beta_prefix": fit_power_law(p_u, S_u)[0],
        "tau": tau,
        "width": float(np.median((S_u - S_leave) / S_u)),
        "alpha_total": fit_power_law(steps[window], (task_loss @ p)[window])[0],
        "alpha_unlearned": fit_power_law(steps[window], ((task_loss >= thr) @ p)[window])[0],
        "alpha_model": fit_power_law(steps[window & (model > 0)], model[window & (model > 0)])[0],
    }
