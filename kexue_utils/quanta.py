"""Helpers for the chapter *The quantization model of neural scaling laws* (book/quanta.md).

The quantization model (Michaud et al., NeurIPS 2023) says a network's skill comes in discrete
"quanta" used with Zipf frequencies p_k = k^-(γ+1)/ζ(γ+1), and that a network which has learned the
first n quanta has loss L = a + (b − a)·Σ_{k>n} p_k. Everything here is numpy/scipy, except the
multitask sparse-parity experiment, which trains a small MLP with JAX and Optax.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from numpy.typing import ArrayLike
from scipy import special, stats

from kexue_utils import _validate as valid

__all__ = [
    "data_law_asymptote",
    "data_law_expected_loss",
    "finite_step_law",
    "fit_power_law",
    "geometric_tail_mass",
    "implied_gamma",
    "learning_steps",
    "make_sparse_parity_tasks",
    "predicted_exponents",
    "quanta_learned",
    "simulate_data_law",
    "simulate_parameter_law",
    "simulate_step_law",
    "sparse_parity_summary",
    "tail_asymptote",
    "tail_mass",
    "train_sparse_parity",
    "truncated_tail_mass",
    "zipf_frequencies",
]


# ----------------------------------------------------------------------------------------------
# argument validation
# ----------------------------------------------------------------------------------------------


def _gamma(value: object) -> float:
    """Return γ after checking it is finite, > 0 and large enough that γ + 1 > 1 in floating point."""
    g = valid.real_number("gamma", value, low=0.0, low_open=True)
    if g + 1.0 == 1.0:  # ζ(γ + 1) = ζ(1) = ∞: every frequency would be 0/∞
        raise ValueError(f"gamma must exceed the float resolution of 1 (γ + 1 > 1), got {g}")
    return g


def _counts(name: str, value: ArrayLike, *, minimum: int = 0) -> np.ndarray:
    """Return ``value`` as an int64 array after checking it holds integers ≥ ``minimum``.

    Any shape with at least one entry; integer-valued floats count: ``[1.0, 2.0]`` passes, ``[1.5]`` not.
    """
    arr = valid.finite_array(name, value, nonempty=True)
    if np.any(arr != np.floor(arr)):
        raise ValueError(f"{name} must hold integers, got a non-integer value")
    if np.any(arr < minimum):
        raise ValueError(f"{name} must be ≥ {minimum}, got {arr.min():g}")
    if np.any(arr >= 2.0**63):
        raise ValueError(f"{name} must be < 2**63 (int64), got {arr.max():g}")
    return arr.astype(np.int64)


def _positive_array(name: str, value: ArrayLike, *, scalar: bool = False) -> np.ndarray:
    """Return ``value`` as a non-empty 1-d float array (a scalar too if ``scalar``), finite and > 0."""
    arr = np.atleast_1d(valid.finite_array(name, value, ndim=(0, 1) if scalar else 1, nonempty=True))
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0 everywhere")
    return arr


# ----------------------------------------------------------------------------------------------
# the quanta distribution and its tail
# ----------------------------------------------------------------------------------------------


def zipf_frequencies(k: ArrayLike, gamma: float) -> np.ndarray:
    """Return the use frequencies p_k = k^-(γ+1)/ζ(γ+1) of quanta k ≥ 1. Implements Eq. (quanta-zipf)."""
    g = _gamma(gamma)
    kk = _counts("k", k, minimum=1).astype(float)
    return kk ** (-(g + 1.0)) / special.zeta(g + 1.0)


def tail_mass(n: ArrayLike, gamma: float) -> np.ndarray:
    """Return Σ_{k>n} p_k = ζ(γ+1, n+1)/ζ(γ+1) exactly (Hurwitz zeta). Implements Eq. (quanta-tail).

    ``n`` is the number of quanta learned (an integer ≥ 0, or an array of them); the result has
    the shape of ``n``. The relative accuracy is that of :func:`scipy.special.zeta`, ~1e-15.
    """
    g = _gamma(gamma)
    nn = _counts("n", n, minimum=0).astype(float)
    return np.asarray(special.zeta(g + 1.0, nn + 1.0) / special.zeta(g + 1.0))


def tail_asymptote(n: ArrayLike, gamma: float, *, terms: int = 1) -> np.ndarray:
    """Return the Euler–Maclaurin expansion of Σ_{k>n} p_k with 1–4 terms. Implements Eq. (quanta-em).

    One term is the article's n^-γ/(γ ζ(γ+1)) (Eq. (quanta-asym)); the next terms are
    −n^-(γ+1)/2, +(γ+1) n^-(γ+2)/12 and −(γ+1)(γ+2)(γ+3) n^-(γ+4)/720, all divided by ζ(γ+1).
    """
    g = _gamma(gamma)
    valid.integer("terms", terms, 1, 4)
    nn = _counts("n", n, minimum=1).astype(float)
    s = g + 1.0
    parts = [
        nn ** (-g) / g,
        -0.5 * nn ** (-s),
        s * nn ** (-s - 1.0) / 12.0,
        -s * (s + 1.0) * (s + 2.0) * nn ** (-s - 3.0) / 720.0,
    ]
    return np.asarray(sum(parts[:terms]) / special.zeta(s))


def truncated_tail_mass(n: ArrayLike, gamma: float, n_quanta: int) -> np.ndarray:
    """Return the unlearned mass Σ_{n<k≤K} p_k for K quanta, p_k ∝ k^-(γ+1). Implements Eq. (quanta-finite).

    The frequencies are normalised over the K quanta, so the result is 1 at n = 0 and exactly 0
    for n ≥ K: with finitely many quanta the loss reaches its floor at a finite model size.
    """
    g = _gamma(gamma)
    K = valid.integer("n_quanta", n_quanta, 1)
    nn = np.minimum(_counts("n", n, minimum=0), K).astype(float)
    s = g + 1.0
    beyond = special.zeta(s, K + 1.0)
    return np.asarray((special.zeta(s, nn + 1.0) - beyond) / (special.zeta(s) - beyond))


def geometric_tail_mass(n: ArrayLike, ratio: float) -> np.ndarray:
    """Return Σ_{k>n} (1−r) r^(k−1) = r^n, the tail of geometric frequencies. Implements Eq. (quanta-geom)."""
    r = valid.real_number("ratio", ratio, low=0.0, high=1.0, low_open=True, high_open=True)
    nn = _counts("n", n, minimum=0).astype(float)
    return np.asarray(r**nn)


# ----------------------------------------------------------------------------------------------
# scaling exponents
# ----------------------------------------------------------------------------------------------


def predicted_exponents(gamma: float) -> dict[str, float]:
    """Return the predicted exponents {"N": γ, "D": γ/(γ+1), "S": γ/(γ+1)}. Implements Eq. (quanta-laws)."""
    g = valid.real_number("gamma", gamma, low=0.0, low_open=True)
    return {"N": g, "D": g / (g + 1.0), "S": g / (g + 1.0)}


def implied_gamma(alpha: float, kind: str) -> float:
    """Return the γ that a measured exponent implies: γ = α_N, or γ = α_D/(1 − α_D). Eq. (quanta-pair)."""
    a = valid.real_number("alpha", alpha, low=0.0, low_open=True)
    if valid.choice("kind", kind, ("N", "D", "S")) == "N":
        return a
    if a >= 1:  # kind "D" or "S"
        raise ValueError(f"alpha must be < 1 for kind {kind!r} (γ/(γ+1) < 1), got {a}")
    return a / (1.0 - a)


def quanta_learned(samples: ArrayLike, gamma: float, tau: float) -> np.ndarray:
    """Return n*(D) = (D/(τ ζ(γ+1)))^(1/(γ+1)), where D p_n* = τ. Implements Eq. (quanta-nstar)."""
    g = _gamma(gamma)
    t = valid.real_number("tau", tau, low=0.0, low_open=True)
    d = _positive_array("samples", samples, scalar=True)
    return (d / (t * special.zeta(g + 1.0))) ** (1.0 / (g + 1.0))


def fit_power_law(x: ArrayLike, y: ArrayLike) -> tuple[float, float]:
    """Return (alpha, c) of the least-squares fit log y = log c − alpha·log x. Used for Eq. (quanta-laws)."""
    xa = _positive_array("x", x)
    ya = _positive_array("y", y)
    if xa.shape != ya.shape:
        raise ValueError(f"x {xa.shape} and y {ya.shape} must have the same shape")
    if xa.size < 2 or np.ptp(xa) == 0:
        raise ValueError("x must hold at least two distinct values")
    slope, intercept = np.polyfit(np.log(xa), np.log(ya), 1)
    return float(-slope), float(np.exp(intercept))


# ----------------------------------------------------------------------------------------------
# simulations of the quanta model (numpy)
# ----------------------------------------------------------------------------------------------


def _zipf_draws(gamma: float, size: int, seed: int, cap: int) -> np.ndarray:
    """Draw quanta indices k with P(k) = p_k (numpy's zipf sampler), clipped at ``cap`` + 1."""
    rng = np.random.default_rng(seed)
    return np.minimum(rng.zipf(gamma + 1.0, size=size), cap + 1)


def simulate_parameter_law(n_learned: ArrayLike, gamma: float, *, n_test: int, seed: int) -> np.ndarray:
    """Return the Monte-Carlo loss (b = 1, a = 0) of models knowing quanta 1..n. Implements Eq. (quanta-tail).

    A test sample is lost exactly when its quantum index exceeds n, so the result is the
    empirical frequency of draws k > n: a Monte-Carlo estimate of :func:`tail_mass`.
    """
    g = _gamma(gamma)
    nn = _counts("n_learned", n_learned, minimum=0)
    m = valid.integer("n_test", n_test, 1)
    draws = np.sort(_zipf_draws(g, m, valid.integer("seed", seed, 0), cap=int(nn.max())))
    return 1.0 - np.searchsorted(draws, nn, side="right") / m


def _learned_mass(counts: np.ndarray, p: np.ndarray, tau: int) -> float:
    """Return 1 − Σ_{k: counts_k ≥ τ} p_k, the mass of quanta seen fewer than τ times."""
    return float(1.0 - p[counts >= tau].sum())


def simulate_data_law(
    samples: ArrayLike, gamma: float, *, tau: int, seed: int, max_quanta: int = 1_000_000
) -> np.ndarray:
    """Return the loss after D Zipf samples; quanta seen ≥ τ times are learned. Eq. (quanta-nstar).

    One stream of draws is used and D runs over its prefixes (nested data sets). The loss is
    evaluated exactly, Σ p_k over the quanta not learned; quanta beyond ``max_quanta`` count as
    not learned (choose ``max_quanta`` with D_max·p_max_quanta ≪ τ).
    """
    g = _gamma(gamma)
    d = _counts("samples", samples, minimum=1)
    t = valid.integer("tau", tau, 1)
    K = valid.integer("max_quanta", max_quanta, 1)
    draws = _zipf_draws(g, int(d.max()), valid.integer("seed", seed, 0), cap=K)
    p = np.concatenate([[0.0], zipf_frequencies(np.arange(1, K + 1), g), [0.0]])
    return np.array([_learned_mass(np.bincount(draws[:di], minlength=K + 2), p, t) for di in d])


def data_law_expected_loss(
    samples: ArrayLike, gamma: float, *, tau: int, max_quanta: int = 1_000_000
) -> np.ndarray:
    """Return E[L(D)] = Σ_k p_k P(Binomial(D, p_k) < τ) for the data law. Implements Eq. (quanta-dexact).

    Quanta beyond ``max_quanta`` are counted as unlearned (their tail mass is added exactly).
    """
    g = _gamma(gamma)
    d = _counts("samples", samples, minimum=1)
    t = valid.integer("tau", tau, 1)
    K = valid.integer("max_quanta", max_quanta, 1)
    p = zipf_frequencies(np.arange(1, K + 1), g)
    rest = float(tail_mass(K, g))
    return np.array([float(np.dot(p, stats.binom.cdf(t - 1, di, p))) + rest for di in d])


def data_law_asymptote(samples: ArrayLike, gamma: float, *, tau: int) -> np.ndarray:
    """Return the large-D limit of E[L(D)]: C_τ D^-γ/(γ+1). Implements Eq. (quanta-dconst).

    With α = γ/(γ+1) and s = γ+1, C_τ = ζ(s)^(-1/s)/s · Σ_{j<τ} Γ(j+α)/Γ(j+1); it comes from
    replacing the binomial counts by Poisson ones and the sum over quanta by an integral.
    """
    g = _gamma(gamma)
    t = valid.integer("tau", tau, 1)
    d = _positive_array("samples", samples, scalar=True)
    s, a = g + 1.0, g / (g + 1.0)
    j = np.arange(t, dtype=float)
    const = (
        special.zeta(s) ** (-1.0 / s)
        / s
        * float(np.exp(special.gammaln(j + a) - special.gammaln(j + 1)).sum())
    )
    return const * d ** (-a)


def simulate_step_law(
    steps: ArrayLike, gamma: float, *, batch: int, tau: int, seed: int, max_quanta: int = 1_000_000
) -> np.ndarray:
    """Return the loss after S steps of B fresh Zipf samples (learn at τ samples). Eq. (quanta-laws).

    Counts are accumulated batch by batch, so a quantum is learned at the first step at which
    it has received τ samples in total; the loss at step S is the mass of quanta not yet learned.
    """
    g = _gamma(gamma)
    s = _counts("steps", steps, minimum=1)
    b = valid.integer("batch", batch, 1)
    t = valid.integer("tau", tau, 1)
    K = valid.integer("max_quanta", max_quanta, 1)
    rng = np.random.default_rng(valid.integer("seed", seed, 0))
    p = np.concatenate([[0.0], zipf_frequencies(np.arange(1, K + 1), g), [0.0]])
    counts = np.zeros(K + 2, dtype=np.int64)
    out = np.empty(s.size)
    done = 0
    for i in np.argsort(s):
        new = int(s[i]) - done
        if new > 0:
            batch_draws = np.minimum(rng.zipf(g + 1.0, size=new * b), K + 1)
            counts += np.bincount(batch_draws, minlength=K + 2)
            done = int(s[i])
        out[i] = _learned_mass(counts, p, t)
    return out


def finite_step_law(steps: ArrayLike, p: ArrayLike, *, batch: int, tau: float) -> np.ndarray:
    """Return Σ_t p_t·1[S·B·p_t < τ], the step law for finitely many quanta. Implements Eq. (quanta-laws).

    Quantum t is learned once it has received τ samples in expectation, at step τ/(B p_t);
    the loss (b = 1, a = 0) is the total frequency of the quanta not learned by step S.
    """
    s = _positive_array("steps", steps, scalar=True)
    pa = _positive_array("p", p)
    b = valid.integer("batch", batch, 1)
    t = valid.real_number("tau", tau, low=0.0, low_open=True)
    return np.asarray((pa[None, :] * (s[:, None] * b * pa[None, :] < t)).sum(axis=1))


# ----------------------------------------------------------------------------------------------
# multitask sparse parity (JAX + Optax)
# ----------------------------------------------------------------------------------------------


def make_sparse_parity_tasks(n_tasks: int, n_bits: int, subset_size: int, seed: int) -> np.ndarray:
    """Return a (n_tasks, n_bits) 0/1 mask: row t marks the bits whose parity is task t's label."""
    T = valid.integer("n_tasks", n_tasks, 1)
    n = valid.integer("n_bits", n_bits, 1)
    k = valid.integer("subset_size", subset_size, 1)
    if k > n:
        raise ValueError(f"subset_size ({k}) must be ≤ n_bits ({n})")
    rng = np.random.default_rng(valid.integer("seed", seed, 0))
    mask = np.zeros((T, n), dtype=np.float32)
    for t in range(T):
        mask[t, rng.choice(n, size=k, replace=False)] = 1.0
    return mask


def _parity_inputs(task: jax.Array, bits: jax.Array, mask: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Return (one-hot task ‖ bits, parity label) for task ids and 0/1 bits (int8)."""
    b = bits.astype(jnp.float32)
    label = (jnp.sum(b * mask[task], axis=-1) % 2).astype(jnp.int32)
    return jnp.concatenate([jax.nn.one_hot(task, mask.shape[0]), b], axis=-1), label


def _mlp(params: dict[str, jax.Array], x: jax.Array) -> jax.Array:
    return jax.nn.relu(x @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]


@functools.lru_cache(maxsize=8)
def _parity_chunk(learning_rate: float) -> Any:
    """Return a jitted function running one chunk of Adam steps on sparse parity, then evaluating per task.

    Cached per learning rate, so repeated runs (several seeds) compile it only once per input shape.
    """
    opt = optax.adam(learning_rate)

    def loss_fn(prm: dict[str, jax.Array], x: jax.Array, y: jax.Array) -> jax.Array:
        return optax.softmax_cross_entropy_with_integer_labels(_mlp(prm, x), y).mean()

    @jax.jit
    def run_chunk(
        prm: dict[str, jax.Array],
        state: Any,
        tasks: jax.Array,
        bits: jax.Array,
        mask: jax.Array,
        eval_x: jax.Array,
        eval_y: jax.Array,
    ) -> tuple[Any, ...]:
        def one_step(carry: tuple[Any, Any], xs: tuple[jax.Array, jax.Array]) -> tuple[tuple[Any, Any], None]:
            prm_, st_ = carry
            x, y = _parity_inputs(xs[0], xs[1], mask)
            grads = jax.grad(loss_fn)(prm_, x, y)
            updates, st_ = opt.update(grads, st_, prm_)
            return (optax.apply_updates(prm_, updates), st_), None

        (prm, state), _ = jax.lax.scan(one_step, (prm, state), (tasks, bits))
        logits = _mlp(prm, eval_x)
        T = mask.shape[0]
        per_sample = optax.softmax_cross_entropy_with_integer_labels(logits, eval_y).reshape(T, -1)
        wrong = (jnp.argmax(logits, axis=-1) != eval_y).reshape(T, -1)
        return prm, state, per_sample.mean(axis=1), wrong.mean(axis=1)

    return run_chunk


def train_sparse_parity(
    mask: np.ndarray,
    gamma: float,
    *,
    width: int,
    batch: int,
    steps: int,
    eval_every: int,
    learning_rate: float,
    n_eval: int,
    seed: int,
) -> dict[str, Any]:
    """Return per-task test losses of a one-hidden-layer MLP trained online on multitask sparse parity.

    Tasks are drawn with truncated Zipf frequencies p_t ∝ t^-(γ+1) (Eq. (quanta-zipf)); a sample is
    (one-hot task, random bits) with label the parity of the task's bits; every step draws a fresh
    batch and Adam updates the MLP. Data and initial weights come from ``np.random.default_rng(seed)``
    (the training itself is deterministic). Returns ``steps`` (evaluation steps), ``task_loss``
    (n_evals × n_tasks mean cross-entropy on a fixed test set of ``n_eval`` samples per task),
    ``task_error`` (same shape, error rate) and ``p`` (the task frequencies).
    """
    g = valid.real_number("gamma", gamma, low=0.0, low_open=True)
    m = valid.numeric_array("mask", mask, "biuf").astype(np.float32, copy=False)
    if m.ndim != 2 or m.size == 0 or not np.all((m == 0) | (m == 1)):
        raise ValueError("mask must be a 2-d 0/1 array (tasks × bits)")
    W = valid.integer("width", width, 1)
    B = valid.integer("batch", batch, 1)
    S = valid.integer("steps", steps, 1)
    E = valid.integer("eval_every", eval_every, 1)
    lr = valid.real_number("learning_rate", learning_rate, low=0.0, low_open=True)
    M = valid.integer("n_eval", n_eval, 1)
    valid.integer("seed", seed, 0)
    if S % E:
        raise ValueError(f"steps ({S}) must be a multiple of eval_every ({E})")
    T, n = m.shape
    p = np.arange(1, T + 1, dtype=float) ** (-(g + 1.0))
    p /= p.sum()
    mask_j = jnp.asarray(m)
    rng = np.random.default_rng(seed)

    # everything outside the jitted chunk is numpy: eager JAX ops would each be compiled separately
    d = T + n
    params = {
        "W1": (rng.standard_normal((d, W)) * np.sqrt(2.0 / d)).astype(np.float32),
        "b1": np.zeros(W, dtype=np.float32),
        "W2": (rng.standard_normal((W, 2)) * np.sqrt(1.0 / W)).astype(np.float32),
        "b2": np.zeros(2, dtype=np.float32),
    }
    opt_state = optax.adam(lr).init(params)

    eval_task = np.repeat(np.arange(T), M)
    eval_bits = rng.integers(0, 2, size=(T * M, n), dtype=np.int8)
    eval_x = jnp.asarray(np.concatenate([np.eye(T, dtype=np.float32)[eval_task], eval_bits], axis=1))
    eval_y = jnp.asarray((eval_bits.astype(np.int64) @ m.T.astype(np.int64))[np.arange(T * M), eval_task] % 2)

    run_chunk = _parity_chunk(lr)
    losses, errors = [], []
    for _ in range(S // E):
        tasks = rng.choice(T, size=(E, B), p=p).astype(np.int32)
        bits = rng.integers(0, 2, size=(E, B, n), dtype=np.int8)
        params, opt_state, tl, te = run_chunk(params, opt_state, tasks, bits, mask_j, eval_x, eval_y)
        losses.append(np.asarray(tl, dtype=float))
        errors.append(np.asarray(te, dtype=float))
    return {
        "steps": np.arange(1, S // E + 1) * E,
        "task_loss": np.array(losses),
        "task_error": np.array(errors),
        "p": p,
    }


def learning_steps(steps: ArrayLike, task_loss: ArrayLike, threshold: float) -> np.ndarray:
    """Return, per task, the first evaluation step at which its loss is below ``threshold`` (NaN if never)."""
    s = valid.finite_array("steps", steps, ndim=1, nonempty=True)
    tl = valid.finite_array("task_loss", task_loss)
    thr = valid.real_number("threshold", threshold, low=0.0, low_open=True)
    if tl.ndim != 2 or tl.shape[0] != s.size or tl.shape[1] == 0:
        raise ValueError(f"task_loss must have shape (len(steps), n_tasks), got {tl.shape}")
    below = tl < thr
    first = np.argmax(below, axis=0)
    return np.where(below.any(axis=0), s[first], np.nan)


def sparse_parity_summary(
    run: dict[str, Any], *, batch: int, threshold: float, fit_from: int
) -> dict[str, float]:
    """Return the scaling summary of one :func:`train_sparse_parity` run. Tests Eq. (quanta-laws).

    Keys: ``n_learned`` (tasks below ``threshold`` by the last step), ``n_uncensored`` (the most frequent
    tasks up to the first one never learned), ``rho`` (Spearman correlation of frequency rank and learning
    step, learned tasks), ``beta`` (fit S_t ∝ p_t^-β over the uncensored tasks; the quanta model says 1),
    ``tau`` (median samples S_t·B·p_t a learned task needed), and the power-law exponents fitted over steps
    ≥ ``fit_from`` of the total loss Σ p_t L_t (``alpha_total``), the unlearned mass Σ p_t 1[L_t > threshold]
    (``alpha_unlearned``) and the finite quanta model :func:`finite_step_law` with that τ (``alpha_model``).
    """
    B = valid.integer("batch", batch, 1)
    thr = valid.real_number("threshold", threshold, low=0.0, low_open=True)
    start = valid.integer("fit_from", fit_from, 1)
    if not isinstance(run, Mapping) or not all(key in run for key in ("steps", "task_loss", "p")):
        raise TypeError(
            "run must be a dict with keys 'steps', 'task_loss' and 'p' (from train_sparse_parity)"
        )
    steps = _positive_array("run['steps']", run["steps"])
    p = _positive_array("run['p']", run["p"])
    task_loss = valid.finite_array("run['task_loss']", run["task_loss"])
    if task_loss.shape != (steps.size, p.size):
        raise ValueError(f"run['task_loss'] must have shape {(steps.size, p.size)}, got {task_loss.shape}")
    S = learning_steps(steps, task_loss, thr)
    learned = np.isfinite(S)
    if learned.sum() < 3:
        raise ValueError("run: fewer than 3 tasks were learned, nothing to fit")
    n_unc = int(np.argmin(learned)) if not learned.all() else learned.size
    if n_unc < 2:
        raise ValueError("run: the two most frequent tasks must be learned to fit β")
    window = steps >= start
    if window.sum() < 2:
        raise ValueError(f"fit_from ({start}) leaves fewer than two evaluation steps")
    tau = float(np.median(S[learned] * B * p[learned]))
    model = finite_step_law(steps, p, batch=B, tau=tau)
    window_model = window & (model > 0)
    return {
        "n_learned": float(learned.sum()),
        "n_uncensored": float(n_unc),
        "rho": float(stats.spearmanr(np.arange(p.size)[learned], S[learned]).statistic),
        "beta": fit_power_law(p[:n_unc], S[:n_unc])[0],
        "tau": tau,
        "alpha_total": fit_power_law(steps[window], (task_loss @ p)[window])[0],
        "alpha_unlearned": fit_power_law(steps[window], ((task_loss > thr) @ p)[window])[0],
        "alpha_model": fit_power_law(steps[window_model], model[window_model])[0],
    }
