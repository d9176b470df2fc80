"""Helpers for the chapter *Input vs parameter gradient penalty* (``book/grad_penalty.md``).

The chapter follows Su Jianlin's note on the inequality of Dherin, Munn and Barrett (2021) that bounds a
weighted input-gradient norm of an MLP by its parameter-gradient norm. This module holds

* an explicit forward/backward pass for the MLP ``h¹ = x``, ``z^{t+1} = W^t h^t + b^t``,
  ``h^{t+1} = g(z^{t+1})`` written out in numpy (the notebook and the tests check it against JAX autodiff),
  together with the input Jacobians ``∂h^t/∂x`` propagated forward;
* :func:`inequality_sides`, the two sides of Eq. (gp-inequality), and :func:`inequality_terms`, the
  per-layer pieces behind them;
* weight initialisers and their spectral norms (the initialisation dispute, Eq. (gp-baiyin));
* two small JAX/Optax experiments on scikit-learn's digits: Adam training with diagnostics of the
  inequality's factors, and full-batch gradient descent at several step sizes run to a common loss
  (implicit gradient regularisation).

ReLU convention. ``relu'(0) = 0`` (as in JAX). When a whole layer is dead, ``h^t = 0`` and
``∂h^t/∂x = 0``, so the layer's term ``1/(‖W‖² ‖∂h^t/∂x‖²)`` is ``1/0``. But then ``∇_x f = 0`` exactly
(every path from ``x`` to the output passes through that layer), and the per-layer bound in its multiplied
form ``‖∇_x f‖² (1 + ‖h‖²) ≤ ‖W‖² ‖∂h/∂x‖² ‖δ‖² (1 + ‖h‖²)`` reads ``0 ≤ 0``. We therefore define every
term ``‖∇_x f‖² · (1 + ‖h^t‖²)/(‖W^t‖² ‖∂h^t/∂x‖²)`` as 0 whenever ``∇_x f = 0`` (the limit ``0·c = 0``
of the multiplied form); the left side is then 0 and the inequality holds trivially.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from scipy.special import erf

from kexue_utils import _validate as valid

__all__ = [
    "ACTIVATIONS",
    "INIT_SCHEMES",
    "Backprop",
    "InequalityTerms",
    "backprop",
    "backward_error",
    "gd_to_target_loss",
    "geometric_complexity",
    "igr_sweep",
    "inequality_sides",
    "inequality_terms",
    "init_spectral_norms",
    "init_weight",
    "load_digits_split",
    "loss_and_grad_norm",
    "loss_gradient_u",
    "matrix_norm",
    "random_mlp",
    "tightness_sweep",
    "train_adam",
    "training_diagnostics",
]

Layers = Sequence[tuple[np.ndarray, np.ndarray]]

_SQRT2 = np.sqrt(2.0)
_SQRT2PI = np.sqrt(2.0 * np.pi)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


# name -> (g, g'); GELU is the exact (erf) form, softplus is log(1 + e^z) written stably.
ACTIVATIONS: dict[str, tuple[Any, Any]] = {
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "gelu": (
        lambda z: 0.5 * z * (1.0 + erf(z / _SQRT2)),
        lambda z: 0.5 * (1.0 + erf(z / _SQRT2)) + z * np.exp(-0.5 * z**2) / _SQRT2PI,
    ),
    "softplus": (lambda z: np.logaddexp(0.0, z), _sigmoid),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
    "identity": (lambda z: z, np.ones_like),
}
NORMS = ("spectral", "frobenius")


# --------------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------------
def _check_labels(name: str, y: Any, n: int, classes: int) -> np.ndarray:
    """Return y as an int64 array of n class labels in [0, classes)."""
    labels = valid.integer_array(name, y)
    if labels.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) to match the inputs, got {labels.shape}")
    if n and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"{name} must hold labels in [0, {classes})")
    return labels


def _check_data(X: Any, y: Any, widths: Sequence[int]) -> None:
    """Validate (X, y) for the tanh/linear-output MLP with the given widths (d, ..., classes)."""
    X_arr = valid.finite_array("X", X, 2, nonempty=True)
    if X_arr.shape[1] != widths[0]:
        raise ValueError(f"X has {X_arr.shape[1]} columns but widths[0] = {widths[0]}")
    _check_labels("y", y, X_arr.shape[0], widths[-1])


def _check_layers(layers: Layers) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return the layers as a list of finite float (W, b) pairs whose shapes chain."""
    out: list[tuple[np.ndarray, np.ndarray]] = []
    for t, pair in enumerate(valid.sequence("layers", layers, of="(W, b) pairs")):
        if not isinstance(pair, (tuple, list)):
            raise TypeError(f"layers[{t}] must be a (W, b) pair, got {type(pair).__name__}")
        if len(pair) != 2:
            raise ValueError(f"layers[{t}] must be a (W, b) pair, got {len(pair)} entries")
        W = valid.finite_array(f"layers[{t}] W", pair[0], 2, nonempty=True)
        b = valid.finite_array(f"layers[{t}] b", pair[1], 1, nonempty=True)
        if b.shape[0] != W.shape[0]:
            raise ValueError(f"layers[{t}]: b has length {b.shape[0]} but W has {W.shape[0]} rows")
        if t > 0 and W.shape[1] != out[-1][0].shape[0]:
            raise ValueError(
                f"layers[{t}]: W has {W.shape[1]} columns but layers[{t - 1}] outputs {out[-1][0].shape[0]}"
            )
        out.append((W, b))
    return out


def _check_activation(activation: str | Sequence[str], n_layers: int) -> list[str]:
    """Return one activation name per layer from one name or a list of names."""
    if isinstance(activation, str):
        names = [activation] * n_layers
    else:
        names = valid.sequence("activation", activation, 0, of="names")
    if len(names) != n_layers:
        raise ValueError(f"activation lists {len(names)} names for {n_layers} layers")
    return [valid.choice("activation", name, tuple(ACTIVATIONS)) for name in names]


# --------------------------------------------------------------------------------------------------
# forward and backward pass
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Backprop:
    """Everything the derivation needs, for a batch of n inputs and an l-layer MLP.

    ``h[t]`` is h^{(t+1)} in the chapter's 1-based notation (``h[0]`` = x), shape (n, width);
    ``delta[t]`` = ∂f/∂z^{(t+2)}, shape (n, width of layer t's output); ``jac[t]`` = ∂h^{(t+1)}/∂x,
    shape (n, width, d); ``grad_x`` (n, d). The parameter gradients ``grad_W[t]`` (n, out, in) and
    ``grad_b[t]`` (n, out) are formed on demand from ``delta`` and ``h``.
    """

    h: list[np.ndarray]
    delta: list[np.ndarray]
    jac: list[np.ndarray]
    grad_x: np.ndarray

    @property
    def grad_W(self) -> list[np.ndarray]:
        """∇_{W^t} f = δ^t (h^t)ᵀ for every layer, shape (n, out, in)."""
        return [dl[:, :, None] * h[:, None, :] for dl, h in zip(self.delta, self.h, strict=False)]

    @property
    def grad_b(self) -> list[np.ndarray]:
        """∇_{b^t} f = δ^t for every layer, shape (n, out)."""
        return [dl.copy() for dl in self.delta]


def backprop(
    layers: Layers,
    X: np.ndarray,
    U: np.ndarray,
    activation: str | Sequence[str] = "tanh",
    jacobians: bool = True,
) -> Backprop:
    """Return the explicit forward/backward pass of f = u · h^{(l+1)}; implements Eq. (gp-backprop).

    Forward: z^{t+1} = W^t h^t + b^t, h^{t+1} = g(z^{t+1}), with the input Jacobians propagated as
    ∂h^{t+1}/∂x = diag(g'(z^{t+1})) W^t ∂h^t/∂x. Backward: δ^l = g'(z^{l+1}) ⊙ u,
    δ^{t-1} = g'(z^t) ⊙ (W^t)ᵀ δ^t; then ∇_{W^t} f = δ^t (h^t)ᵀ, ∇_{b^t} f = δ^t, ∇_x f = (W¹)ᵀ δ¹.
    ``X`` has shape (n, d) and ``U`` shape (n, m); ``activation`` is one name or one name per layer.
    With ``jacobians=False`` the (costly) input Jacobians are skipped and ``jac`` is an empty list.
    """
    layers = _check_layers(layers)
    names = _check_activation(activation, len(layers))
    X = valid.finite_array("x", X, 2, nonempty=True)
    U = valid.finite_array("u", U, 2, nonempty=True)
    d, m = layers[0][0].shape[1], layers[-1][0].shape[0]
    if X.shape[1] != d:
        raise ValueError(f"x has dimension {X.shape[1]} but layers[0] expects {d}")
    if U.shape != (X.shape[0], m):
        raise ValueError(f"u must have shape {(X.shape[0], m)}, got {U.shape}")
    # Overflow is reported below as one ValueError naming the cause, not as numpy warnings on the way.
    with np.errstate(over="ignore", invalid="ignore"):
        hs, slopes = [X], []
        jacs = [np.broadcast_to(np.eye(d), (X.shape[0], d, d))]
        for (W, b), name in zip(layers, names, strict=True):
            g, dg = ACTIVATIONS[name]
            z = hs[-1] @ W.T + b
            slope = dg(z)
            slopes.append(slope)
            hs.append(g(z))
            if jacobians:
                jacs.append(slope[:, :, None] * np.matmul(W, jacs[-1]))
        deltas = [slopes[-1] * U]
        for t in range(len(layers) - 1, 0, -1):
            deltas.insert(0, slopes[t - 1] * (deltas[0] @ layers[t][0]))
        grad_x = deltas[0] @ layers[0][0]
    if not all(np.all(np.isfinite(a)) for a in [grad_x, *hs, *deltas, *(jacs if jacobians else [])]):
        raise ValueError(
            "overflow: the pass through layers with these x and u is not finite (values too large)"
        )
    return Backprop(hs, deltas, jacs[:-1] if jacobians else [], grad_x)


def matrix_norm(A: np.ndarray, norm: str = "spectral") -> np.ndarray:
    """Return the spectral (largest singular value) or Frobenius norm of A, batched over leading axes."""
    norm = valid.choice("norm", norm, NORMS)
    A = valid.finite_array("A", A, range(2, 33), nonempty=True)  # so at least one row and one column
    if norm == "frobenius":
        top = np.max(np.abs(A), axis=(-2, -1))
        if np.all((top == 0) | ((top > 1e-150) & (top < 1e150))):  # A**2 neither underflows nor overflows
            return np.sqrt(np.sum(A**2, axis=(-2, -1)))
        top = np.where(top > 0, top, 1.0)
        return top * np.sqrt(np.sum((A / top[..., None, None]) ** 2, axis=(-2, -1)))
    return np.linalg.svd(A, compute_uv=False)[..., 0]


@dataclass(frozen=True)
class InequalityTerms:
    """Per-sample, per-layer pieces of Eq. (gp-inequality) for a batch of n inputs and l layers.

    ``grad_x_sq`` (n,) = ‖∇_x f‖²; ``h_sq`` (n, l) = ‖h^t‖²; ``W_norm`` (l,) = ‖W^t‖;
    ``jac_norm`` (n, l) = ‖∂h^t/∂x‖; ``delta_sq`` (n, l) = ‖δ^t‖²; ``param_sq`` (n, l) =
    ‖∇_{W^t} f‖² + ‖∇_{b^t} f‖²; ``coef`` (n, l) = (1 + ‖h^t‖²)/(‖W^t‖² ‖∂h^t/∂x‖²) (inf where the
    denominator is 0); ``lhs_terms`` (n, l) with the dead-layer convention of the module docstring;
    ``lhs`` and ``rhs`` (n,).
    """

    grad_x_sq: np.ndarray
    h_sq: np.ndarray
    W_norm: np.ndarray
    jac_norm: np.ndarray
    delta_sq: np.ndarray
    param_sq: np.ndarray
    coef: np.ndarray
    lhs_terms: np.ndarray
    lhs: np.ndarray
    rhs: np.ndarray


def inequality_terms(
    layers: Layers,
    X: np.ndarray,
    U: np.ndarray,
    activation: str | Sequence[str] = "tanh",
    norm: str = "spectral",
) -> InequalityTerms:
    """Return the per-layer pieces of both sides of Eq. (gp-inequality) for a batch (n, d) of inputs."""
    norm = valid.choice("norm", norm, NORMS)
    bp = backprop(layers, X, U, activation)
    n_layers = len(bp.grad_W)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below as a ValueError
        grad_x_sq = np.sum(bp.grad_x**2, axis=1)
        h_sq = np.stack([np.sum(bp.h[t] ** 2, axis=1) for t in range(n_layers)], axis=1)
        W_norm = np.array([matrix_norm(np.asarray(W, dtype=float), norm) for W, _ in layers])
        # J^(1) = I for every sample: one norm serves the whole batch
        jac_norm = np.stack(
            [np.full(len(bp.grad_x), float(matrix_norm(bp.jac[0][0], norm)))]
            + [matrix_norm(bp.jac[t], norm) for t in range(1, n_layers)],
            axis=1,
        )
        delta_sq = np.stack([np.sum(dl**2, axis=1) for dl in bp.delta], axis=1)
        param_sq = np.stack(
            [
                np.sum(bp.grad_W[t] ** 2, axis=(1, 2)) + np.sum(bp.grad_b[t] ** 2, axis=1)
                for t in range(n_layers)
            ],
            axis=1,
        )
        denom = W_norm[None, :] ** 2 * jac_norm**2
        with np.errstate(divide="ignore"):
            coef = np.where(denom > 0, (1.0 + h_sq) / np.where(denom > 0, denom, 1.0), np.inf)
    # Dead-layer convention: ∇_x f = 0 makes every term 0 (a zero denominator forces ∇_x f = 0).
    zero = grad_x_sq == 0.0
    if np.any(~zero[:, None] & (denom == 0)):
        raise RuntimeError("a layer has zero ‖W‖‖∂h/∂x‖ but ∇_x f ≠ 0, which the chain rule forbids")
    with np.errstate(over="ignore", invalid="ignore"):
        lhs_terms = np.where(zero[:, None], 0.0, grad_x_sq[:, None] * np.where(np.isinf(coef), 0.0, coef))
    if not (np.all(np.isfinite(lhs_terms)) and np.all(np.isfinite(param_sq))):
        raise ValueError("overflow: the sides for these layers, x and u exceed float64 (values too large)")
    return InequalityTerms(
        grad_x_sq=grad_x_sq,
        h_sq=h_sq,
        W_norm=W_norm,
        jac_norm=jac_norm,
        delta_sq=delta_sq,
        param_sq=param_sq,
        coef=coef,
        lhs_terms=lhs_terms,
        lhs=lhs_terms.sum(axis=1),
        rhs=param_sq.sum(axis=1),
    )


def inequality_sides(
    layers: Layers,
    x: np.ndarray,
    u: np.ndarray,
    activation: str | Sequence[str] = "tanh",
    norm: str = "spectral",
) -> tuple[Any, Any]:
    """Return (lhs, rhs) of Eq. (gp-inequality) for f = u · h^{(l+1)}; implements Eq. (gp-inequality).

    lhs = ‖∇_x f‖² Σ_t (1 + ‖h^t‖²) / (‖W^t‖² ‖∂h^t/∂x‖²) and rhs = ‖∇_θ f‖² over all weights and
    biases, with matrix norms ``norm`` ∈ {"spectral", "frobenius"}. ``layers`` is a list of (W, b);
    the activation is applied after every layer (one name, or one name per layer). ``x`` of shape (d,)
    and ``u`` of shape (m,) give two floats; ``x`` (n, d) and ``u`` (n, m) give two arrays of shape (n,).
    Dead ReLU layers follow the convention of the module docstring (lhs = 0 when ∇_x f = 0).
    """
    x_arr = valid.finite_array("x", x, (1, 2), nonempty=True)
    u_arr = valid.finite_array("u", u, (1, 2), nonempty=True)
    if x_arr.ndim != u_arr.ndim:
        raise ValueError(f"x and u must both be 1-D or both 2-D, got shapes {x_arr.shape} and {u_arr.shape}")
    single = x_arr.ndim == 1
    terms = inequality_terms(
        layers, x_arr[None] if single else x_arr, u_arr[None] if single else u_arr, activation, norm
    )
    if single:
        return float(terms.lhs[0]), float(terms.rhs[0])
    return terms.lhs, terms.rhs


def random_mlp(
    widths: Sequence[int], seed: int, weight_gain: float = 1.0, bias_std: float = 0.1
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return random layers [(W, b), ...] for widths (d, n_2, ..., m).

    W ~ N(0, weight_gain²/fan_in) and b ~ N(0, bias_std²), drawn from ``np.random.default_rng(seed)``.
    """
    valid.integers("widths", widths, 1, 2)
    valid.integer("seed", seed, 0)
    valid.real_number("weight_gain", weight_gain, low=0.0, low_open=True)
    valid.real_number("bias_std", bias_std, low=0.0)
    rng = np.random.default_rng(seed)
    return [
        (rng.normal(0.0, weight_gain / np.sqrt(n_in), (n_out, n_in)), rng.normal(0.0, bias_std, n_out))
        for n_in, n_out in itertools.pairwise(widths)
    ]


# --------------------------------------------------------------------------------------------------
# initialisation (Eq. gp-baiyin)
# --------------------------------------------------------------------------------------------------
INIT_SCHEMES = ("glorot_uniform", "he_normal", "lecun_normal", "orthogonal", "torch_default")


def init_weight(n_out: int, n_in: int, scheme: str, rng: np.random.Generator) -> np.ndarray:
    """Return one (n_out, n_in) weight matrix drawn with a common initialisation scheme.

    glorot_uniform: U(±√(6/(n_in+n_out))); he_normal: N(0, 2/n_in); lecun_normal: N(0, 1/n_in);
    orthogonal: Q of a Gaussian matrix (sign-corrected); torch_default: U(±1/√n_in), PyTorch's nn.Linear.
    """
    valid.choice("scheme", scheme, INIT_SCHEMES)
    valid.integer("n_out", n_out, 1)
    valid.integer("n_in", n_in, 1)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    if scheme == "glorot_uniform":
        a = np.sqrt(6.0 / (n_in + n_out))
        return rng.uniform(-a, a, (n_out, n_in))
    if scheme == "he_normal":
        return rng.normal(0.0, np.sqrt(2.0 / n_in), (n_out, n_in))
    if scheme == "lecun_normal":
        return rng.normal(0.0, np.sqrt(1.0 / n_in), (n_out, n_in))
    if scheme == "torch_default":
        a = 1.0 / np.sqrt(n_in)
        return rng.uniform(-a, a, (n_out, n_in))
    A = rng.normal(size=(max(n_out, n_in), min(n_out, n_in)))
    Q, R = np.linalg.qr(A)
    Q = Q * np.sign(np.diag(R))
    return Q if n_out >= n_in else Q.T


def init_spectral_norms(widths: Sequence[int], scheme: str, draws: int, seed: int) -> np.ndarray:
    """Return ‖W‖₂ of ``draws`` square (n, n) draws per width n, shape (len(widths), draws).

    Implements the measurement behind Eq. (gp-baiyin).
    """
    valid.integer("draws", draws, 1)
    valid.integers("widths", widths, 1, 1)
    valid.integer("seed", seed, 0)
    valid.choice("scheme", scheme, INIT_SCHEMES)
    rng = np.random.default_rng(seed)
    return np.array([[matrix_norm(init_weight(n, n, scheme, rng)) for _ in range(draws)] for n in widths])


# --------------------------------------------------------------------------------------------------
# experiments on digits (JAX + Optax)
# --------------------------------------------------------------------------------------------------
def load_digits_split(n_train: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (X_train, y_train, X_test, y_test): scikit-learn's bundled digits, pixels scaled to [0, 1]."""
    from sklearn.datasets import load_digits

    valid.integer("n_train", n_train, 1)
    valid.integer("seed", seed, 0)
    X, y = load_digits(return_X_y=True)
    if n_train >= len(y):
        raise ValueError(f"n_train must be < {len(y)} (the number of digits), got {n_train!r}")
    perm = np.random.default_rng(seed).permutation(len(y))
    X = X / 16.0
    return X[perm[:n_train]], y[perm[:n_train]], X[perm[n_train:]], y[perm[n_train:]]


def _mlp_logits(params: list[tuple[jax.Array, jax.Array]], X: jax.Array) -> jax.Array:
    h = X
    for W, b in params[:-1]:
        h = jnp.tanh(h @ W.T + b)
    W, b = params[-1]
    return h @ W.T + b


def _mean_loss(params: list[tuple[jax.Array, jax.Array]], X: jax.Array, y: jax.Array) -> jax.Array:
    return optax.softmax_cross_entropy_with_integer_labels(_mlp_logits(params, X), y).mean()


def _glorot_params(widths: Sequence[int], seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [
        (init_weight(n_out, n_in, "glorot_uniform", rng), np.zeros(n_out))
        for n_in, n_out in itertools.pairwise(widths)
    ]


def _to_numpy(params: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.asarray(W, dtype=float), np.asarray(b, dtype=float)) for W, b in params]


def train_adam(
    X: np.ndarray,
    y: np.ndarray,
    widths: Sequence[int],
    steps: int,
    lr: float,
    batch_size: int,
    n_checkpoints: int,
    seed: int,
) -> tuple[list[list[tuple[np.ndarray, np.ndarray]]], np.ndarray, np.ndarray]:
    """Return (checkpoints, checkpoint_steps, losses): Adam on minibatches, tanh hidden layers, linear output.

    Glorot-uniform weights and zero biases; ``n_checkpoints`` parameter snapshots (numpy layers) are
    taken at evenly spaced steps including step 0 and the last; ``losses`` is the full training loss there.
    """
    valid.integer("steps", steps, 1)
    valid.integer("n_checkpoints", n_checkpoints, 2)
    valid.integer("batch_size", batch_size, 1)
    valid.real_number("lr", lr, low=0.0, low_open=True)
    valid.integer("seed", seed, 0)
    _check_data(X, y, valid.integers("widths", widths, 1, 2))
    params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in _glorot_params(widths, seed)]
    opt = optax.adam(lr)
    state = opt.init(params)
    Xj, yj = jnp.asarray(X), jnp.asarray(y)
    batches = np.random.default_rng(seed + 1).integers(0, len(y), size=(steps, batch_size))

    @jax.jit
    def run(params: Any, state: Any, idx: jax.Array) -> tuple[Any, Any]:
        def step(carry: Any, i: jax.Array) -> tuple[Any, None]:
            p, s = carry
            g = jax.grad(_mean_loss)(p, Xj[i], yj[i])
            upd, s = opt.update(g, s, p)
            return (optax.apply_updates(p, upd), s), None

        return jax.lax.scan(step, (params, state), idx)[0]

    marks = np.unique(np.linspace(0, steps, n_checkpoints).astype(int))
    checkpoints, losses = [_to_numpy(params)], [float(_jit_mean_loss(params, Xj, yj))]
    for a, b in itertools.pairwise(marks):
        params, state = run(params, state, jnp.asarray(batches[a:b]))
        checkpoints.append(_to_numpy(params))
        losses.append(float(_jit_mean_loss(params, Xj, yj)))
    return checkpoints, marks, np.array(losses)


def loss_gradient_u(layers: Layers, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Return U = ∂ℓ/∂h^{(l+1)} = softmax(logits) − onehot(y), the u that linearises the per-sample loss ℓ."""
    layers = _check_layers(layers)
    names = ["tanh"] * (len(layers) - 1) + ["identity"]
    X = valid.finite_array("X", X, 2, nonempty=True)
    zeros = np.zeros((len(X), layers[-1][0].shape[0]))
    logits = backprop(layers, X, zeros, names, jacobians=False).h[-1]
    _check_labels("y", y, X.shape[0], layers[-1][0].shape[0])
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), np.asarray(y, dtype=int)] -= 1.0
    return p


@jax.jit
def _gd_loop(
    params: Any, X: jax.Array, y: jax.Array, lr: Any, target: Any, max_steps: Any
) -> tuple[Any, Any]:
    value_and_grad = jax.value_and_grad(_mean_loss)

    def cond(carry: Any) -> jax.Array:
        _, loss, _, k = carry
        return (loss > target) & (k <= max_steps)

    def body(carry: Any) -> Any:
        p, _, g, k = carry
        p = jax.tree.map(lambda a, ga: a - lr * ga, p, g)
        loss, g = value_and_grad(p, X, y)
        return p, loss, g, k + 1

    loss, g = value_and_grad(params, X, y)
    p, _, _, k = jax.lax.while_loop(cond, body, (params, loss, g, 0))
    return p, k


_jit_mean_loss = jax.jit(_mean_loss)


def gd_to_target_loss(
    X: np.ndarray,
    y: np.ndarray,
    widths: Sequence[int],
    lr: float,
    target_loss: float,
    max_steps: int,
    seed: int,
) -> tuple[list[tuple[np.ndarray, np.ndarray]], int]:
    """Return (layers, steps): full-batch gradient descent with step ``lr`` until the loss ≤ ``target_loss``.

    Same architecture and initialisation as :func:`train_adam` (so one ``seed`` gives one starting point
    for every step size). ``steps`` is ``max_steps`` + 1 if the target was not reached.
    """
    valid.real_number("lr", lr, low=0.0, low_open=True)
    valid.real_number("target_loss", target_loss, low=0.0, low_open=True)
    valid.integer("max_steps", max_steps, 1)
    valid.integer("seed", seed, 0)
    _check_data(X, y, valid.integers("widths", widths, 1, 2))
    params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in _glorot_params(widths, seed)]
    p, k = _gd_loop(params, jnp.asarray(X), jnp.asarray(y), lr, target_loss, max_steps)
    return _to_numpy(p), int(k)


def geometric_complexity(layers: Layers, X: np.ndarray) -> float:
    """Return the geometric complexity (mean over X of ‖∂logits/∂x‖_F²) of the tanh/linear-output MLP."""
    layers = _check_layers(layers)
    names = ["tanh"] * (len(layers) - 1) + ["identity"]
    X = valid.finite_array("X", X, 2, nonempty=True)
    m = layers[-1][0].shape[0]
    total = 0.0
    for k in range(m):  # ‖J‖_F² = Σ_k ‖∇_x logit_k‖²: one backward pass per output
        U = np.zeros((len(X), m))
        U[:, k] = 1.0
        total += float(np.mean(np.sum(backprop(layers, X, U, names, jacobians=False).grad_x ** 2, axis=1)))
    return total


def loss_and_grad_norm(layers: Layers, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Return (L, ‖∇_θ L‖²) for the mean cross-entropy L of the tanh/linear-output MLP over (X, y)."""
    layers = _check_layers(layers)
    names = ["tanh"] * (len(layers) - 1) + ["identity"]
    X = valid.finite_array("X", X, 2, nonempty=True)
    U = loss_gradient_u(layers, X, y) / len(X)  # ∂L/∂logits for the mean loss
    bp = backprop(layers, X, U, names, jacobians=False)
    # the batch gradient of W^t is Σ_n δ_n h_nᵀ = Δᵀ H (per-sample outer products summed)
    grad_sq = sum(
        float(np.sum((dl.T @ h) ** 2) + np.sum(dl.sum(axis=0) ** 2))
        for dl, h in zip(bp.delta, bp.h, strict=False)
    )
    logits = bp.h[-1]
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.mean(logp[np.arange(len(y)), np.asarray(y, dtype=int)])), grad_sq


# --------------------------------------------------------------------------------------------------
# loops behind the chapter's figures
# --------------------------------------------------------------------------------------------------
def tightness_sweep(
    activations: Sequence[str],
    depths: Sequence[int],
    widths: Sequence[int],
    nets: int,
    inputs: int,
    seed: int,
    weight_gain: float = 1.0,
) -> dict[str, np.ndarray]:
    """Return lhs/rhs of Eq. (gp-inequality) on random MLPs, for both norms.

    For every activation, depth and width, ``nets`` random MLPs (d = 8 inputs, 3 outputs, hidden layers of
    the given width) are each evaluated at ``inputs`` Gaussian pairs (x, u). Returns arrays of shape
    (len(activations), len(depths), len(widths), nets * inputs) under "spectral" and "frobenius"
    (NaN where both sides vanish, which happens only for dead ReLU nets), and "dead", the fraction of pairs
    with ∇_x f = 0.
    """
    _check_activation(valid.sequence("activations", activations, of="activation names"), len(activations))
    valid.integers("depths", depths, 1, 1)
    valid.integers("widths", widths, 1, 1)
    valid.integer("nets", nets, 1)
    valid.integer("inputs", inputs, 1)
    valid.integer("seed", seed, 0)
    valid.real_number("weight_gain", weight_gain, low=0.0, low_open=True)
    rng = np.random.default_rng(seed)
    shape = (len(activations), len(depths), len(widths), nets * inputs)
    out = {
        "spectral": np.full(shape, np.nan),
        "frobenius": np.full(shape, np.nan),
        "dead": np.zeros(shape[:3]),
    }
    for i, act in enumerate(activations):
        for j, depth in enumerate(depths):
            for k, width in enumerate(widths):
                for n in range(nets):
                    layers = random_mlp(
                        [8] + [width] * (depth - 1) + [3], int(rng.integers(2**31)), weight_gain
                    )
                    X, U = rng.normal(size=(inputs, 8)), rng.normal(size=(inputs, 3))
                    sl = slice(n * inputs, (n + 1) * inputs)
                    for norm in NORMS:
                        T = inequality_terms(layers, X, U, act, norm)
                        live = T.rhs > 0
                        out[norm][i, j, k, sl] = np.where(live, T.lhs / np.where(live, T.rhs, 1.0), np.nan)
                    out["dead"][i, j, k] += np.mean(T.grad_x_sq == 0) / nets
    return out


def training_diagnostics(
    checkpoints: Sequence[Layers], X: np.ndarray, y: np.ndarray, norm: str = "spectral"
) -> dict[str, np.ndarray]:
    """Return the factors of Eq. (gp-inequality) at each checkpoint, for f = the per-sample loss ℓ(x, y).

    Each checkpoint is a tanh/linear-output MLP; u = ∂ℓ/∂h^{(l+1)} linearises the loss (Eq. gp-any-f).
    Per checkpoint: medians over samples of ‖∇_x ℓ‖², ‖∇_θ ℓ‖², K = ‖∇_θ ℓ‖²/‖∇_x ℓ‖², C = Σ_t coef_t
    and lhs/rhs; the max of lhs/rhs; per layer ‖W^t‖, mean ‖h^t‖² and mean ‖∂h^t/∂x‖.
    """
    norm = valid.choice("norm", norm, NORMS)
    checked = []  # every checkpoint is checked before any is evaluated
    for i, layers in enumerate(valid.sequence("checkpoints", checkpoints, of="layer lists")):
        try:
            checked.append(_check_layers(layers))
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"checkpoints[{i}]: {exc}") from exc
    keys = ("grad_x_sq", "grad_theta_sq", "K", "C", "ratio", "ratio_max", "W_norm", "h_sq", "jac_norm")
    out: dict[str, list[Any]] = {key: [] for key in keys}
    for layers in checked:
        names = ["tanh"] * (len(layers) - 1) + ["identity"]
        T = inequality_terms(layers, X, loss_gradient_u(layers, X, y), names, norm)
        out["grad_x_sq"].append(np.median(T.grad_x_sq))
        out["grad_theta_sq"].append(np.median(T.rhs))
        out["K"].append(np.median(T.rhs / T.grad_x_sq))
        out["C"].append(np.median(T.coef.sum(axis=1)))
        out["ratio"].append(np.median(T.lhs / T.rhs))
        out["ratio_max"].append(np.max(T.lhs / T.rhs))
        out["W_norm"].append(T.W_norm)
        out["h_sq"].append(T.h_sq.mean(axis=0))
        out["jac_norm"].append(T.jac_norm.mean(axis=0))
    return {key: np.array(val) for key, val in out.items()}


def igr_sweep(
    X: np.ndarray,
    y: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    widths: Sequence[int],
    lrs: Sequence[float],
    seeds: Sequence[int],
    target_loss: float,
    max_steps: int,
) -> dict[str, np.ndarray]:
    """Return gradient descent run to a common training loss for every (seed, step size).

    Arrays of shape (len(seeds), len(lrs)): "steps" (max_steps + 1 if the target was missed), "loss",
    "grad_sq" = ‖∇_θ L‖² at the end, "gc" = geometric complexity on the training inputs, "gc_test" on the
    test inputs, "acc" = test accuracy. Entries of runs that missed the target are NaN (except "steps").
    """
    widths = valid.integers("widths", widths, 1, 2)
    _check_data(X, y, widths)
    try:
        _check_data(X_test, y_test, widths)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"X_test/y_test: {exc}") from exc
    for i, lr in enumerate(valid.sequence("lrs", lrs, of="step sizes")):
        valid.real_number(f"lrs[{i}]", lr, low=0.0, low_open=True)
    valid.integers("seeds", seeds, 0, 1)
    valid.real_number("target_loss", target_loss, low=0.0, low_open=True)
    valid.integer("max_steps", max_steps, 1)
    shape = (len(seeds), len(lrs))
    out = {key: np.full(shape, np.nan) for key in ("steps", "loss", "grad_sq", "gc", "gc_test", "acc")}
    names = ["tanh"] * (len(widths) - 2) + ["identity"]
    for i, seed in enumerate(seeds):
        for j, lr in enumerate(lrs):
            layers, k = gd_to_target_loss(X, y, widths, lr, target_loss, max_steps, seed)
            out["steps"][i, j] = k
            if k > max_steps or not all(np.all(np.isfinite(W)) for W, _ in layers):
                continue
            out["loss"][i, j], out["grad_sq"][i, j] = loss_and_grad_norm(layers, X, y)
            out["gc"][i, j] = geometric_complexity(layers, X)
            out["gc_test"][i, j] = geometric_complexity(layers, X_test)
            zeros = np.zeros((len(X_test), widths[-1]))
            logits = backprop(layers, X_test, zeros, names, jacobians=False).h[-1]
            out["acc"][i, j] = np.mean(logits.argmax(axis=1) == y_test)
    return out


def backward_error(
    X: np.ndarray, y: np.ndarray, widths: Sequence[int], hs: Sequence[float], seed: int, substeps: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """Return (err_flow, err_modified): distances of one GD step of size h to two flows run for time h.

    err_flow[i] = ‖θ₀ − h∇L(θ₀) − φ_h(θ₀)‖ for the flow φ of L; err_modified[i] is the same for the flow of
    the modified loss L̃ = L + (h/4)‖∇L‖² of Barrett & Dherin (Eq. gp-igr). The flows are integrated with
    ``substeps`` classical Runge–Kutta steps. Backward error analysis predicts O(h²) and O(h³) respectively.
    Uses the tanh/linear-output MLP of :func:`train_adam` with the mean cross-entropy on (X, y).
    """
    from jax.flatten_util import ravel_pytree

    valid.integer("substeps", substeps, 1)
    valid.integer("seed", seed, 0)
    for i, h in enumerate(valid.sequence("hs", hs, of="step sizes")):
        valid.real_number(f"hs[{i}]", h, low=0.0, low_open=True)
    _check_data(X, y, valid.integers("widths", widths, 1, 2))
    theta0, unravel = ravel_pytree(
        [(jnp.asarray(W), jnp.asarray(b)) for W, b in _glorot_params(widths, seed)]
    )
    Xj, yj = jnp.asarray(X), jnp.asarray(y)
    loss = lambda th: _mean_loss(unravel(th), Xj, yj)  # noqa: E731
    grad = jax.grad(loss)

    @jax.jit
    def errors(h: jax.Array) -> tuple[jax.Array, jax.Array]:
        modified_grad = jax.grad(lambda th: loss(th) + h / 4 * jnp.sum(grad(th) ** 2))

        def flow(field: Any) -> jax.Array:
            dt = h / substeps

            def rk4(_: Any, th: jax.Array) -> jax.Array:
                k1 = -field(th)
                k2 = -field(th + dt / 2 * k1)
                k3 = -field(th + dt / 2 * k2)
                k4 = -field(th + dt * k3)
                return th + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

            return jax.lax.fori_loop(0, substeps, rk4, theta0)

        gd = theta0 - h * grad(theta0)
        return jnp.linalg.norm(gd - flow(grad)), jnp.linalg.norm(gd - flow(modified_grad))

    out = np.array([[float(e) for e in errors(jnp.asarray(h))] for h in hs])
    return out[:, 0], out[:, 1]
