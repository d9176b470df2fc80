"""The digit classifier whose feature layer is the chapter's FID-like feature space (book/skip_tuning.md).

A 64 → 64 → 16 → 10 MLP (ReLU, then tanh) trained by full-batch AdamW; the 16 tanh units are the
features of the Fréchet distance and of precision/recall. The committed copy is loaded through
:mod:`kexue_utils.skip_tuning.checkpoints`.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from numpy.typing import ArrayLike

from kexue_utils import _validate as valid
from kexue_utils.skip_tuning.digits import bounded

Params = dict[str, Any]
HIDDEN, N_FEATURES = 64, 16


#: the parameter shapes (what a checkpoint of the classifier must hold)
SHAPES = dict(
    w1=(64, HIDDEN), b1=(HIDDEN,), w2=(HIDDEN, N_FEATURES), b2=(N_FEATURES,), w3=(N_FEATURES, 10), b3=(10,)
)


def check_params(clf: Any) -> Params:
    """Return ``clf`` if it is a dict of float arrays of the classifier's shapes; raise otherwise."""
    if not isinstance(clf, dict):
        raise TypeError(f"clf must be a dict of classifier parameters, got {type(clf).__name__}")
    shapes = {k: tuple(getattr(v, "shape", ())) for k, v in clf.items()}
    kinds = {np.dtype(getattr(v, "dtype", object)).kind for v in clf.values()}
    if shapes != SHAPES or kinds != {"f"}:
        raise ValueError("clf is not a dict of float arrays of the classifier's shapes")
    return clf


def _rows(name: str, value: ArrayLike) -> jax.Array:
    x = bounded(name, value)
    if x.ndim < 2 or math.prod(x.shape[1:]) != 64:
        raise ValueError(f"{name} must hold 8×8 images, got shape {x.shape}")
    return jnp.asarray(x.reshape(len(x), 64), jnp.float32)


def _labels(y: ArrayLike, n: int) -> jax.Array:
    labels = valid.integer_array("y", y)
    if labels.shape != (n,) or np.any((labels < 0) | (labels > 9)):
        raise ValueError(f"y must hold one label in 0..9 per image ({n}), got shape {labels.shape}")
    return jnp.asarray(labels)


def _mlp(p: Params, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    f = jnp.tanh(jax.nn.relu(x @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"])
    return f, f @ p["w3"] + p["b3"]


def train(x: ArrayLike, y: ArrayLike, seed: int = 0, steps: int = 300) -> Params:
    """Return classifier parameters trained on images ``x`` with labels ``y`` (cross-entropy, AdamW)."""
    xj = _rows("x", x)
    yj = _labels(y, xj.shape[0])
    seed = valid.integer("seed", seed, 0, 2**63 - 1)
    keys = dict(zip(("w1", "w2", "w3"), jax.random.split(jax.random.key(seed), 3), strict=True))
    steps = valid.integer("steps", steps, 1, 10**5)
    p = {
        k: jax.random.normal(keys[k], s) / math.sqrt(s[0]) if k in keys else jnp.zeros(s)
        for k, s in SHAPES.items()
    }
    return {k: np.asarray(v) for k, v in _fit(p, xj, yj, steps).items()}


@functools.partial(jax.jit, static_argnames="steps")
def _fit(p: Params, x: jax.Array, y: jax.Array, steps: int) -> Params:
    """Full-batch AdamW on the cross-entropy: jitted once per data shape and step count."""
    opt = optax.adamw(3e-3, weight_decay=1e-3)

    def loss(p: Params) -> jax.Array:
        return optax.softmax_cross_entropy_with_integer_labels(_mlp(p, x)[1], y).mean()

    def body(carry: tuple[Params, Any], _: None) -> tuple[tuple[Params, Any], None]:
        p, state = carry
        updates, state = opt.update(jax.grad(loss)(p), state, p)
        return (optax.apply_updates(p, updates), state), None

    return jax.lax.scan(body, (p, opt.init(p)), None, length=steps)[0][0]


def features(clf: Params, x: ArrayLike) -> np.ndarray:
    """Return the classifier's 16 tanh features of the images ``x``, as float64 (n, 16)."""
    return np.asarray(_mlp(check_params(clf), _rows("x", x))[0], dtype=np.float64)


def accuracy(clf: Params, x: ArrayLike, y: ArrayLike) -> float:
    """Return the fraction of the images ``x`` the classifier labels as ``y``."""
    xj = _rows("x", x)
    logits = _mlp(check_params(clf), xj)[1]
    return float(np.mean(np.asarray(jnp.argmax(logits, axis=1)) == np.asarray(_labels(y, xj.shape[0]))))
