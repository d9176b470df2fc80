"""Helpers of the chapter *Input gradients versus parameter gradients* (``book/grad_penalty.md``).

The MLP ``h¹ = x``, ``z^{t+1} = W^t h^t + b^t``, ``h^{t+1} = g(z^{t+1})`` with its backward pass written
out in numpy (Eq. gp-backprop); the two sides of the inequality of Dherin, Munn and Barrett (2021), Eq.
(gp-inequality); common weight initialisers (Eq. gp-baiyin); small JAX/Optax experiments on scikit-learn's
digits: Adam training, gradient descent run to a common loss, one GD step against two flows (Eq. gp-igr).

ReLU convention: ``relu'(0) = 0``, as in JAX. A dead layer has ``∂h^t/∂x = 0`` and an infinite coefficient
``(1 + ‖h^t‖²)/(‖W^t‖² ‖∂h^t/∂x‖²)``; then ``∇_x f = 0`` exactly, and every term of the left side is defined
as 0 (the limit of the multiplied form of the per-layer bound, which reads ``0 ≤ 0``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree
from scipy.sparse.linalg import LinearOperator, eigsh
from scipy.special import erf, softmax
from sklearn.datasets import load_digits

from kexue_utils import _validate as valid

__all__ = [
    "ACTIVATIONS", "INIT_SCHEMES", "NORMS", "Backprop", "InequalityTerms", "backprop", "backward_error",
    "igr_sweep", "inequality_sides", "inequality_terms", "init_spectral_norms", "init_weight",
    "load_digits_split", "loss_gradient_u", "matrix_norm", "random_mlp", "tightness_sweep", "train_adam",
    "training_diagnostics",
]  # fmt: skip

Array = np.ndarray
Layers = Sequence[tuple[Array, Array]]
Params = list[tuple[Array, Array]]
Act = str | Sequence[str]  # one activation name, or one per layer
Ints = Sequence[int]
Floats = Sequence[float]

_SQRT2 = np.sqrt(2.0)
_SQRT2PI = np.sqrt(2.0 * np.pi)

# name -> (g, g'); GELU is the exact (erf) form, softplus is log(1 + e^z) written stably.
ACTIVATIONS: dict[str, tuple[Callable[[Array], Array], Callable[[Array], Array]]] = {
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "gelu": (
        lambda z: 0.5 * z * (1.0 + erf(z / _SQRT2)),
        lambda z: 0.5 * (1.0 + erf(z / _SQRT2)) + z * np.exp(-0.5 * z**2) / _SQRT2PI,
    ),
    "softplus": (lambda z: np.logaddexp(0.0, z), lambda z: 0.5 * (1.0 + np.tanh(0.5 * z))),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
    "identity": (lambda z: z, np.ones_like),
}
NORMS = ("spectral", "frobenius")


def _classifier(n_layers: int) -> list[str]:
    """Activations of the digits classifier: tanh hidden layers and linear logits."""
    return ["tanh"] * (n_layers - 1) + ["identity"]


def _check_data(X: Any, y: Any, d: int, classes: int, names: tuple[str, str] = ("X", "y")) -> None:
    """Inputs (n, d) and n labels in [0, classes)."""
    X_arr, labels = valid.finite_array(names[0], X, 2, nonempty=True), valid.integer_array(names[1], y)
    if X_arr.shape[1] != d:
        raise ValueError(f"{names[0]} has {X_arr.shape[1]} columns but the network takes {d} inputs")
    if labels.shape != (len(X_arr),) or labels.min() < 0 or labels.max() >= classes:
        raise ValueError(
            f"{names[1]} must hold {len(X_arr)} labels in [0, {classes}), got shape {labels.shape}"
        )


def _check_layers(layers: Layers, name: str = "layers") -> Params:
    """Return the layers as finite float (W, b) pairs whose shapes chain."""
    out: Params = []
    for t, pair in enumerate(valid.sequence(name, layers, of="(W, b) pairs")):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"{name}[{t}] must be a (W, b) pair, got {type(pair).__name__}")
        W = valid.finite_array(f"{name}[{t}] W", pair[0], 2, nonempty=True)
        b = valid.finite_array(f"{name}[{t}] b", pair[1], 1, nonempty=True)
        if b.shape[0] != W.shape[0]:
            raise ValueError(f"{name}[{t}]: b has length {b.shape[0]} but W has {W.shape[0]} rows")
        if t > 0 and W.shape[1] != out[-1][0].shape[0]:
            raise ValueError(f"{name}[{t}]: W has {W.shape[1]} columns but {name}[{t - 1}] has more rows")
        out.append((W, b))
    return out


def _check_activation(activation: Act, n_layers: int) -> list[str]:
    names = valid.sequence(
        "activation", [activation] * n_layers if isinstance(activation, str) else activation
    )
    if len(names) != n_layers:
        raise ValueError(f"activation lists {len(names)} names for {n_layers} layers")
    return [valid.choice("activation", name, tuple(ACTIVATIONS)) for name in names]


def _check_positive_list(name: str, values: Any) -> list[float]:
    seq = valid.sequence(name, values, of="positive numbers")
    return [valid.real_number(f"{name}[{i}]", v, low=0.0, low_open=True) for i, v in enumerate(seq)]


# ------------------------------------------------------------------------- forward and backward pass
@dataclass(frozen=True)
class Backprop:
    """The forward and backward pass for a batch of n inputs through an l-layer MLP.

    ``h[t]`` is h^{(t+1)} in the chapter's 1-based notation (``h[0]`` = x), shape (n, width);
    ``delta[t]`` = ∂f/∂z^{(t+2)}; ``jac[t]`` = ∂h^{(t+1)}/∂x, shape (n, width, d); ``grad_x`` (n, d).
    """

    h: list[Array]
    delta: list[Array]
    jac: list[Array]
    grad_x: Array

    @property
    def grad_W(self) -> list[Array]:
        """∇_{W^t} f = δ^t (h^t)ᵀ for every layer, shape (n, out, in)."""
        return [dl[:, :, None] * h[:, None, :] for dl, h in zip(self.delta, self.h, strict=False)]

    @property
    def grad_b(self) -> list[Array]:
        """∇_{b^t} f = δ^t for every layer, shape (n, out)."""
        return list(self.delta)


def backprop(
    layers: Layers, X: Array, U: Array, activation: Act = "tanh", jacobians: bool = True
) -> Backprop:
    """Return the explicit forward/backward pass of f = u · h^{(l+1)}; implements Eq. (gp-backprop).

    Forward: z^{t+1} = W^t h^t + b^t, h^{t+1} = g(z^{t+1}), ∂h^{t+1}/∂x = diag(g'(z^{t+1})) W^t ∂h^t/∂x.
    Backward: δ^l = g'(z^{l+1}) ⊙ u, δ^{t-1} = g'(z^t) ⊙ (W^t)ᵀ δ^t, and ∇_x f = (W¹)ᵀ δ¹.
    ``X`` is (n, d), ``U`` is (n, m); ``activation`` is one name or one per layer; ``jacobians=False``
    skips the input Jacobians (``jac`` is then empty).
    """
    layers = _check_layers(layers)
    names = _check_activation(activation, len(layers))
    X = valid.finite_array("x", X, 2, nonempty=True)
    U = valid.finite_array("u", U, 2, nonempty=True)
    d, m = layers[0][0].shape[1], layers[-1][0].shape[0]
    if X.shape[1] != d:
        raise ValueError(f"x has dimension {X.shape[1]} but layers[0] expects {d}")
    if U.shape != (X.shape[0], m):
        raise ValueError(f"u must have shape {(X.shape[0], m)} to match x, got {U.shape}")
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below, as one ValueError
        hs, slopes, jacs = [X], [], [np.broadcast_to(np.eye(d), (X.shape[0], d, d))]
        for (W, b), name in zip(layers, names, strict=True):
            g, dg = ACTIVATIONS[name]
            z = hs[-1] @ W.T + b
            slopes.append(dg(z))
            hs.append(g(z))
            if jacobians:
                jacs.append(slopes[-1][:, :, None] * np.matmul(W, jacs[-1]))
        deltas = [slopes[-1] * U]
        for t in range(len(layers) - 1, 0, -1):
            deltas.insert(0, slopes[t - 1] * (deltas[0] @ layers[t][0]))
        grad_x = deltas[0] @ layers[0][0]
    if not all(np.all(np.isfinite(a)) for a in [grad_x, *hs, *deltas, *(jacs if jacobians else [])]):
        raise ValueError("overflow: the pass through layers with these x and u is not finite")
    return Backprop(hs, deltas, jacs[:-1] if jacobians else [], grad_x)


def matrix_norm(A: Array, norm: str = "spectral") -> Array:
    """Return the spectral (largest singular value) or Frobenius norm of A, batched over leading axes."""
    norm = valid.choice("norm", norm, NORMS)
    A = valid.finite_array("A", A, range(2, 33), nonempty=True)
    if norm == "frobenius":
        return np.sqrt(np.sum(A**2, axis=(-2, -1)))
    return np.linalg.svd(A, compute_uv=False)[..., 0]


@dataclass(frozen=True)
class InequalityTerms:
    """Per-sample, per-layer pieces of Eq. (gp-inequality) for n inputs and l layers.

    ``grad_x_sq`` (n,) = ‖∇_x f‖²; ``h_sq`` (n, l) = ‖h^t‖²; ``W_norm`` (l,) = ‖W^t‖; ``jac_norm``
    (n, l) = ‖∂h^t/∂x‖; ``delta_sq`` (n, l) = ‖δ^t‖²; ``param_sq`` (n, l) = ‖∇_{W^t} f‖² + ‖∇_{b^t} f‖²;
    ``coef`` (n, l) = (1 + ‖h^t‖²)/(‖W^t‖² ‖∂h^t/∂x‖²) (inf for a dead layer); ``lhs_terms`` (n, l)
    with the dead-layer convention of the module docstring; ``lhs`` and ``rhs`` (n,).
    """

    grad_x_sq: Array
    h_sq: Array
    W_norm: Array
    jac_norm: Array
    delta_sq: Array
    param_sq: Array
    coef: Array
    lhs_terms: Array
    lhs: Array
    rhs: Array


def inequality_terms(
    layers: Layers, X: Array, U: Array, activation: Act = "tanh", norm: str = "spectral"
) -> InequalityTerms:
    """Return the per-layer pieces of both sides of Eq. (gp-inequality) for a batch (n, d) of inputs."""
    norm = valid.choice("norm", norm, NORMS)
    bp = backprop(layers, X, U, activation)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # overflow: ValueError below
        grad_x_sq = np.sum(bp.grad_x**2, axis=1)
        h_sq = np.stack([np.sum(h**2, axis=1) for h in bp.h[:-1]], axis=1)
        delta_sq = np.stack([np.sum(dl**2, axis=1) for dl in bp.delta], axis=1)
        # the parameter gradient as the pass gives it, δhᵀ and δ: Eq. (gp-identity) is checked, not assumed
        param_sq = np.stack([np.sum(gW**2, axis=(1, 2)) for gW in bp.grad_W], axis=1)
        param_sq += np.stack([np.sum(gb**2, axis=1) for gb in bp.grad_b], axis=1)
        W_norm = np.array([matrix_norm(W, norm) for W, _ in layers])
        first = matrix_norm(bp.jac[0][0], norm) * np.ones(len(X))  # J^(1) = I: one norm serves the batch
        jac_norm = np.stack([first] + [matrix_norm(J, norm) for J in bp.jac[1:]], axis=1)
        denom = W_norm**2 * jac_norm**2
        coef = np.where(denom > 0, (1.0 + h_sq) / np.where(denom > 0, denom, 1.0), np.inf)
        zero = grad_x_sq == 0.0
        lhs_terms = np.where(zero[:, None], 0.0, grad_x_sq[:, None] * coef)
    if not (np.all(np.isfinite(lhs_terms)) and np.all(np.isfinite(param_sq))):
        raise ValueError("overflow: the sides for these layers, x and u exceed float64")
    sides = (lhs_terms, lhs_terms.sum(axis=1), param_sq.sum(axis=1))
    return InequalityTerms(grad_x_sq, h_sq, W_norm, jac_norm, delta_sq, param_sq, coef, *sides)


def inequality_sides(
    layers: Layers, x: Array, u: Array, activation: Act = "tanh", norm: str = "spectral"
) -> tuple[Any, Any]:
    """Return (lhs, rhs) of Eq. (gp-inequality) for f = u · h^{(l+1)} at input x.

    ``x`` (d,) and ``u`` (m,) give floats; a batch ``x`` (n, d) with ``u`` (n, m) gives arrays of length n.
    """
    x_arr, u_arr = valid.finite_array("x", x, (1, 2), nonempty=True), valid.real_array("u", u)
    T = inequality_terms(layers, np.atleast_2d(x_arr), np.atleast_2d(u_arr), activation, norm)
    return (float(T.lhs[0]), float(T.rhs[0])) if x_arr.ndim == 1 else (T.lhs, T.rhs)


def random_mlp(widths: Sequence[int], seed: int, weight_gain: float = 1.0, bias_std: float = 0.1) -> Params:
    """Return random layers [(W, b), ...] for widths (d, ..., m): W ~ N(0, gain²/fan_in), b ~ N(0, std²)."""
    valid.integers("widths", widths, 1, 2)
    valid.integer("seed", seed, 0)
    valid.real_number("weight_gain", weight_gain, low=0.0, low_open=True)
    valid.real_number("bias_std", bias_std, low=0.0)
    rng = np.random.default_rng(seed)
    return [
        (rng.normal(0.0, weight_gain / np.sqrt(n_in), (n_out, n_in)), rng.normal(0.0, bias_std, n_out))
        for n_in, n_out in itertools.pairwise(widths)
    ]


# ----------------------------------------------------------------------- initialisation (Eq. gp-baiyin)
#: scheme -> (distribution, entry variance σ² as a function of (n_out, n_in)); a uniform law has a = √3 σ
INIT_SCHEMES: dict[str, tuple[str, Callable[[int, int], float]]] = {
    "glorot_uniform": ("uniform", lambda m, n: 2.0 / (m + n)),
    "he_normal": ("normal", lambda m, n: 2.0 / n),
    "lecun_normal": ("normal", lambda m, n: 1.0 / n),
    "torch_default": ("uniform", lambda m, n: 1.0 / (3.0 * n)),  # nn.Linear: U(±1/√fan_in)
    "orthogonal": ("orthogonal", lambda m, n: 1.0 / max(m, n)),
}


def init_weight(n_out: int, n_in: int, scheme: str, rng: np.random.Generator) -> Array:
    """Return one (n_out, n_in) weight matrix drawn with a scheme of :data:`INIT_SCHEMES`.

    "orthogonal" is the sign-corrected Q factor of a Gaussian matrix (orthonormal rows or columns).
    """
    law, variance = INIT_SCHEMES[valid.choice("scheme", scheme, tuple(INIT_SCHEMES))]
    valid.integer("n_out", n_out, 1)
    valid.integer("n_in", n_in, 1)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    σ = np.sqrt(variance(n_out, n_in))
    if law == "uniform":
        return rng.uniform(-np.sqrt(3.0) * σ, np.sqrt(3.0) * σ, (n_out, n_in))
    if law == "normal":
        return rng.normal(0.0, σ, (n_out, n_in))
    Q, R = np.linalg.qr(rng.normal(size=(max(n_out, n_in), min(n_out, n_in))))
    Q = Q * np.sign(np.diag(R))
    return Q if n_out >= n_in else Q.T


def init_spectral_norms(shapes: Sequence[tuple[int, int]], scheme: str, draws: int, seed: int) -> Array:
    """Return ‖W‖₂ of ``draws`` draws per (n_out, n_in) shape, shape (len(shapes), draws); Eq. (gp-baiyin)."""
    valid.choice("scheme", scheme, tuple(INIT_SCHEMES))
    valid.integer("draws", draws, 1)
    valid.integer("seed", seed, 0)
    pairs = [valid.integers(f"shapes[{i}]", s, 1, 2) for i, s in enumerate(valid.sequence("shapes", shapes))]
    if any(len(p) != 2 for p in pairs):
        raise ValueError("shapes must hold (n_out, n_in) pairs")
    rng = np.random.default_rng(seed)
    return np.array([[matrix_norm(init_weight(m, n, scheme, rng)) for _ in range(draws)] for m, n in pairs])


# --------------------------------------------------------------------- experiments on digits (JAX + Optax)
def load_digits_split(n_train: int, seed: int) -> tuple[Array, Array, Array, Array]:
    """Return (X_train, y_train, X_test, y_test): scikit-learn's bundled digits, pixels scaled to [0, 1]."""
    valid.integer("n_train", n_train, 1, 1796)
    valid.integer("seed", seed, 0)
    X, y = load_digits(return_X_y=True)
    perm = np.random.default_rng(seed).permutation(len(y))
    X = X / 16.0
    return X[perm[:n_train]], y[perm[:n_train]], X[perm[n_train:]], y[perm[n_train:]]


def _logits(params: Any, X: jax.Array) -> jax.Array:
    h = X
    for W, b in params[:-1]:
        h = jnp.tanh(h @ W.T + b)
    W, b = params[-1]
    return h @ W.T + b


def _mean_loss(params: Any, X: jax.Array, y: jax.Array) -> jax.Array:
    return optax.softmax_cross_entropy_with_integer_labels(_logits(params, X), y).mean()


def _glorot_params(widths: Sequence[int], seed: int, jitter: float = 0.0, jitter_seed: int = 0) -> Any:
    """Glorot-uniform weights, zero biases; ``jitter`` multiplies each weight by 1 + jitter·N(0, 1)."""
    rng, noise = np.random.default_rng(seed), np.random.default_rng([seed, jitter_seed])
    Ws = [init_weight(n_out, n_in, "glorot_uniform", rng) for n_in, n_out in itertools.pairwise(widths)]
    return [(jnp.asarray(W * (1.0 + jitter * noise.normal(size=W.shape))), jnp.zeros(len(W))) for W in Ws]


def _to_numpy(params: Any) -> Params:
    return [(np.asarray(W, dtype=float), np.asarray(b, dtype=float)) for W, b in params]


@jax.jit
def _adam_segment(params: Any, state: Any, X: jax.Array, y: jax.Array, idx: jax.Array, lr: Any) -> Any:
    opt = optax.adam(lr)

    def step(carry: Any, i: jax.Array) -> tuple[Any, None]:
        p, s = carry
        upd, s = opt.update(jax.grad(_mean_loss)(p, X[i], y[i]), s, p)
        return (optax.apply_updates(p, upd), s), None

    return jax.lax.scan(step, (params, state), idx)[0]


_jit_loss = jax.jit(_mean_loss)


def train_adam(
    X: Array, y: Array, widths: Ints, steps: int, lr: float, batch_size: int, n_checkpoints: int, seed: int
) -> tuple[list[Params], Array, Array]:
    """Return (checkpoints, checkpoint_steps, losses) of Adam on minibatches for the digits classifier.

    Glorot-uniform weights and zero biases; the ``n_checkpoints`` snapshots are evenly spaced from step 0 to
    the last; ``losses`` is the full training loss at each.
    """
    widths = valid.integers("widths", widths, 1, 2)
    _check_data(X, y, widths[0], widths[-1])
    valid.integer("steps", steps, 1)
    valid.real_number("lr", lr, low=0.0, low_open=True)
    valid.integer("batch_size", batch_size, 1)
    valid.integer("n_checkpoints", n_checkpoints, 2)
    valid.integer("seed", seed, 0)
    params = _glorot_params(widths, seed)
    state = optax.adam(lr).init(params)
    Xj, yj = jnp.asarray(X), jnp.asarray(y)
    batches = np.random.default_rng([seed, 1]).integers(0, len(y), size=(steps, batch_size))
    marks = np.unique(np.linspace(0, steps, n_checkpoints).astype(int))
    checkpoints, losses = [_to_numpy(params)], [float(_jit_loss(params, Xj, yj))]
    for a, b in itertools.pairwise(marks):
        params, state = _adam_segment(params, state, Xj, yj, jnp.asarray(batches[a:b]), lr)
        checkpoints.append(_to_numpy(params))
        losses.append(float(_jit_loss(params, Xj, yj)))
    return checkpoints, marks, np.array(losses)


def loss_gradient_u(layers: Layers, X: Array, y: Array) -> Array:
    """Return U = ∂ℓ/∂logits = softmax(logits) − onehot(y), the u that linearises the per-sample loss ℓ."""
    layers = _check_layers(layers)
    m = layers[-1][0].shape[0]
    _check_data(X, y, layers[0][0].shape[1], m)
    logits = backprop(layers, X, np.zeros((len(X), m)), _classifier(len(layers)), jacobians=False).h[-1]
    p = softmax(logits, axis=1)
    p[np.arange(len(X)), np.asarray(y, dtype=int)] -= 1.0
    return p


def _geometric_complexity(layers: Params, X: Array) -> float:
    """mean_x ‖∂logits/∂x‖_F², the Dirichlet energy of the classifier's logits over X; Eq. (gp-gc)."""
    names, m = _classifier(len(layers)), layers[-1][0].shape[0]
    # ‖∂logits/∂x‖_F² = Σ_k ‖∇_x logit_k‖²: one backward pass with u = e_k per output k
    passes = (backprop(layers, X, np.tile(e, (len(X), 1)), names, False) for e in np.eye(m))
    return float(sum(np.mean(np.sum(bp.grad_x**2, axis=1)) for bp in passes))


def _grad_norms(layers: Params, X: Array, y: Array) -> tuple[float, float]:
    """(‖∇_θ L‖², mean_n ‖∇_θ ℓ_n‖²) for the mean cross-entropy L = mean_n ℓ_n of the classifier."""
    bp = backprop(layers, X, loss_gradient_u(layers, X, y), _classifier(len(layers)), False)
    pairs = list(zip(bp.delta, bp.h, strict=False))
    # the gradient of L with respect to W^t is mean_n δ_n h_nᵀ = Δᵀ H / n; per sample, use Eq. (gp-identity)
    batch = sum(np.sum((dl.T @ h) ** 2) + np.sum(dl.sum(axis=0) ** 2) for dl, h in pairs) / len(X) ** 2
    sample = sum(np.sum(dl**2, axis=1) * (1 + np.sum(h**2, axis=1)) for dl, h in pairs)
    return float(batch), float(np.mean(sample))


@jax.jit
def _hvp(params: Any, X: jax.Array, y: jax.Array, v: jax.Array) -> jax.Array:
    theta, unravel = ravel_pytree(params)
    return jax.jvp(jax.grad(lambda th: _mean_loss(unravel(th), X, y)), (theta,), (v,))[1]


def _sharpness(layers: Params, X: Array, y: Array) -> float:
    """λ_max, the top eigenvalue of the Hessian of the mean cross-entropy (Lanczos iteration)."""
    params, Xj, yj = [(jnp.asarray(W), jnp.asarray(b)) for W, b in layers], jnp.asarray(X), jnp.asarray(y)
    size = sum(W.size + b.size for W, b in layers)
    matvec = lambda v: np.asarray(_hvp(params, Xj, yj, jnp.asarray(v.ravel())))  # noqa: E731
    H = LinearOperator((size, size), matvec, dtype=float)
    return float(eigsh(H, k=1, which="LA", v0=np.ones(size), tol=1e-10, return_eigenvectors=False)[0])


@jax.jit
def _gd_to_loss(params: Any, X: jax.Array, y: jax.Array, lr: Any, target: Any, max_steps: Any) -> Any:
    """Full-batch GD until the loss first reaches ``target``, the last step shortened to land on it exactly.

    Returns (params, steps, rise): steps = k − 1 + s/lr when the k-th step, cut to length s, lands on the
    target; rise = the largest ratio of the loss to its running minimum (below 1 if the loss never rises).
    """
    value_and_grad = jax.value_and_grad(_mean_loss)
    move = lambda p, g, s: jax.tree.map(lambda a, ga: a - s * ga, p, g)  # noqa: E731

    def body(c: Any) -> Any:
        p, g, _, _, _, k, low, rise = c
        loss, g_new = value_and_grad(move(p, g, lr), X, y)
        return move(p, g, lr), g_new, loss, p, g, k + 1, jnp.minimum(low, loss), jnp.maximum(rise, loss / low)

    loss0, g0 = value_and_grad(params, X, y)
    start = (params, g0, loss0, params, g0, 0, loss0, 0.0)
    running = lambda c: (c[2] > target) & (c[5] < max_steps)  # noqa: E731
    *_, loss, prev, g_prev, k, _, rise = jax.lax.while_loop(running, body, start)

    def bisect(_: Any, ab: Any) -> Any:  # L(prev − s g_prev) − target changes sign on [0, lr]
        a, b = ab
        s = (a + b) / 2
        above = _mean_loss(move(prev, g_prev, s), X, y) > target
        return jnp.where(above, s, a), jnp.where(above, b, s)

    a, b = jax.lax.fori_loop(0, 60, bisect, (0.0 * lr, lr + 0.0 * loss))
    s = jnp.where(k > 0, (a + b) / 2, 0.0)
    steps = jnp.where(loss <= target, jnp.maximum(k - 1, 0) + s / lr, jnp.nan)
    return move(prev, g_prev, s), steps, rise


def igr_sweep(
    data: tuple[Array, Array, Array, Array],
    widths: Ints,
    lrs: Floats,
    seeds: Ints,
    *,
    target_loss: float,
    max_steps: int,
    jitter: tuple[float, int] = (0.0, 0),
    hessian: bool = True,
) -> dict[str, Array]:
    """Return full-batch gradient descent on (X, y) of ``data`` = (X, y, X_test, y_test), stopped at exactly
    ``target_loss``, for every seed (one Glorot initialisation for all step sizes; ``jitter`` = (ε, j)
    multiplies its weights by 1 + ε·N(0, 1) drawn with seed j) and step size. Arrays (len(seeds), len(lrs)):
    "steps" (fractional), "rise" (largest loss over its running minimum), "grad_sq" = ‖∇_θ L‖²,
    "sample_grad_sq" = mean ‖∇_θ ℓ‖², "gc" (Eq. gp-gc), "acc" (test accuracy), with ``hessian`` "sharpness"
    (λ_max) and "sharpness0" (len(seeds),) at initialisation; NaN where the target was missed.
    """
    widths = valid.integers("widths", widths, 1, 2)
    X, y, X_test, y_test = valid.sequence("data", data, 4, of="arrays (X, y, X_test, y_test)")
    _check_data(X, y, widths[0], widths[-1], ("data: X", "data: y"))
    _check_data(X_test, y_test, widths[0], widths[-1], ("data: X_test", "data: y_test"))
    lrs = _check_positive_list("lrs", lrs)
    seeds = valid.integers("seeds", seeds, 0)
    valid.real_number("target_loss", target_loss, low=0.0, low_open=True)
    valid.integer("max_steps", max_steps, 1)
    scale, j_seed = valid.sequence("jitter", jitter, 2, of="(scale, seed)")[:2]
    scale, j_seed = valid.real_number("jitter[0]", scale, low=0.0), valid.integer("jitter[1]", j_seed, 0)
    keys = ["steps", "rise", "grad_sq", "sample_grad_sq", "gc", "acc"] + (["sharpness"] if hessian else [])
    out: dict[str, Array] = {key: np.full((len(seeds), len(lrs)), np.nan) for key in keys}
    out["sharpness0"] = np.full(len(seeds), np.nan)
    Xj, yj = jnp.asarray(X), jnp.asarray(y)
    for i, seed in enumerate(seeds):
        init = _glorot_params(widths, seed, scale, j_seed)
        if hessian:
            out["sharpness0"][i] = _sharpness(_to_numpy(init), X, y)
        for j, lr in enumerate(lrs):
            params, steps, rise = _gd_to_loss(init, Xj, yj, lr, target_loss, max_steps)
            layers = _to_numpy(params)
            if not np.isfinite(steps) or not all(np.all(np.isfinite(W)) for W, _ in layers):
                continue
            out["steps"][i, j], out["rise"][i, j] = float(steps), float(rise)
            out["grad_sq"][i, j], out["sample_grad_sq"][i, j] = _grad_norms(layers, X, y)
            out["gc"][i, j] = _geometric_complexity(layers, X)
            zeros = np.zeros((len(X_test), widths[-1]))
            logits = backprop(layers, X_test, zeros, _classifier(len(layers)), False).h[-1]
            out["acc"][i, j] = np.mean(logits.argmax(axis=1) == y_test)
            if hessian:
                out["sharpness"][i, j] = _sharpness(layers, X, y)
    return out


@partial(jax.jit, static_argnames="substeps")
def _one_step_errors(params: Any, X: jax.Array, y: jax.Array, h: Any, substeps: int) -> Any:
    theta0, unravel = ravel_pytree(params)
    loss = lambda th: _mean_loss(unravel(th), X, y)  # noqa: E731
    grad = jax.grad(loss)
    modified_grad = jax.grad(lambda th: loss(th) + h / 4 * jnp.sum(grad(th) ** 2))

    def flow(field: Callable[[jax.Array], jax.Array]) -> jax.Array:
        dt = h / substeps  # classical Runge–Kutta for θ' = −field(θ)

        def rk4(_: Any, th: jax.Array) -> jax.Array:
            k1 = -field(th)
            k2 = -field(th + dt / 2 * k1)
            k3 = -field(th + dt / 2 * k2)
            k4 = -field(th + dt * k3)
            return th + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

        return jax.lax.fori_loop(0, substeps, rk4, theta0)

    gd, hg = theta0 - h * grad(theta0), jax.jvp(grad, (theta0,), (grad(theta0),))[1]
    errors = jnp.linalg.norm(gd - flow(grad)), jnp.linalg.norm(gd - flow(modified_grad))
    return (*errors, jnp.linalg.norm(hg) / 2)


def backward_error(
    X: Array, y: Array, widths: Ints, hs: Floats, seed: int, substeps: int = 64
) -> tuple[Array, Array, float]:
    """Return (err_flow, err_modified, c): a GD step of size h against two flows run for time h; Eq. (gp-igr).

    err_flow[i] = ‖θ₀ − h∇L(θ₀) − φ_h(θ₀)‖ for the flow φ of L, err_modified[i] the same for the flow of
    L̃ = L + (h/4)‖∇L‖² (flows integrated with ``substeps`` Runge–Kutta steps), and c = ‖H∇L(θ₀)‖/2, the
    predicted limit of err_flow/h². Uses the Glorot-initialised classifier of :func:`train_adam` on (X, y).
    """
    widths = valid.integers("widths", widths, 1, 2)
    _check_data(X, y, widths[0], widths[-1])
    hs = _check_positive_list("hs", hs)
    valid.integer("seed", seed, 0)
    valid.integer("substeps", substeps, 1)
    params, Xj, yj = _glorot_params(widths, seed), jnp.asarray(X), jnp.asarray(y)
    out = np.array([[float(e) for e in _one_step_errors(params, Xj, yj, h, substeps)] for h in hs])
    return out[:, 0], out[:, 1], float(out[0, 2])


def tightness_sweep(
    acts: Sequence[str], depths: Ints, widths: Ints, nets: int, inputs: int, seed: int, gain: float = 1.0
) -> dict[str, Array]:
    """Return lhs/rhs of Eq. (gp-inequality) on random MLPs, for both norms.

    For every activation in ``acts``, depth and width, ``nets`` random MLPs (8 inputs, 3 outputs, hidden
    layers of that width, weights ``gain`` times the LeCun scale) are evaluated at ``inputs`` Gaussian pairs
    (x, u). Arrays of shape (acts, depths, widths, nets·inputs) under "spectral" and "frobenius"; a ratio is
    0 when ∇_x f = 0 and NaN when both sides vanish.
    """
    acts = _check_activation(valid.sequence("acts", acts), len(acts))
    depths = valid.integers("depths", depths, 1)
    widths = valid.integers("widths", widths, 1)
    valid.integer("nets", nets, 1)
    valid.integer("inputs", inputs, 1)
    valid.integer("seed", seed, 0)
    valid.real_number("gain", gain, low=0.0, low_open=True)
    rng = np.random.default_rng(seed)
    shape = (len(acts), len(depths), len(widths), nets * inputs)
    out = {norm: np.full(shape, np.nan) for norm in NORMS}
    for (i, act), (j, depth), (k, width), n in itertools.product(
        enumerate(acts), enumerate(depths), enumerate(widths), range(nets)
    ):
        layers = random_mlp([8] + [width] * (depth - 1) + [3], int(rng.integers(2**31)), gain)
        X, U = rng.normal(size=(inputs, 8)), rng.normal(size=(inputs, 3))
        for norm in NORMS:
            T = inequality_terms(layers, X, U, act, norm)
            ratio = np.where(T.rhs > 0, T.lhs / np.where(T.rhs > 0, T.rhs, 1), np.nan)
            out[norm][i, j, k, n * inputs : (n + 1) * inputs] = ratio
    return out


def training_diagnostics(
    checkpoints: Sequence[Layers], X: Array, y: Array, norm: str = "spectral"
) -> dict[str, Array]:
    """Return the factors of Eq. (gp-inequality) at each checkpoint, for f = the per-sample loss ℓ(x, y).

    Each checkpoint is the digits classifier; u = ∂ℓ/∂logits linearises the loss (section "Any scalar f").
    Per checkpoint: medians over samples of ‖∇_x ℓ‖², ‖∇_θ ℓ‖², K = ‖∇_θ ℓ‖²/‖∇_x ℓ‖², C = Σ_t coef_t and
    lhs/rhs; the max of lhs/rhs; per layer ‖W^t‖, mean ‖h^t‖² and mean ‖∂h^t/∂x‖.
    """
    norm = valid.choice("norm", norm, NORMS)
    seq = valid.sequence("checkpoints", checkpoints, of="layer lists")
    checked = [_check_layers(layers, f"checkpoints[{i}]") for i, layers in enumerate(seq)]
    keys = ("grad_x_sq", "grad_theta_sq", "K", "C", "ratio", "ratio_max", "W_norm", "h_sq", "jac_norm")
    out: dict[str, list[Any]] = {key: [] for key in keys}
    for layers in checked:
        T = inequality_terms(layers, X, loss_gradient_u(layers, X, y), _classifier(len(layers)), norm)
        values = (T.grad_x_sq, T.rhs, T.rhs / T.grad_x_sq, T.coef.sum(axis=1), T.lhs / T.rhs)
        for key, v in zip(keys, values, strict=False):
            out[key].append(np.median(v))
        out["ratio_max"].append(np.max(T.lhs / T.rhs))
        out["W_norm"].append(T.W_norm)
        out["h_sq"].append(T.h_sq.mean(axis=0))
        out["jac_norm"].append(T.jac_norm.mean(axis=0))
    return {key: np.array(val) for key, val in out.items()}
