"""Helpers for the chapter *Skip-tuning in diffusion sampling* (``book/skip_tuning.md``).

Everything the chapter needs lives here: the scikit-learn digits split, EDM preconditioning and the
Karras noise schedule, a small U-Net with scalable skip connections, the deterministic Euler and Heun
samplers, the training loop (``python -m kexue_utils.skip_tuning train --seed 0 --out PATH``), the
checkpoint with its SHA-256 check, and the quality metrics (a small digit classifier, the Fréchet
distance of its features, and k-NN precision/recall).

Equation labels (``skip-...``) refer to the chapter.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import itertools
import math
import os
import pickle
import re
import tempfile
import time
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from kexue_utils._validate import choice, finite_array, integer, integers, real_array, real_number

__all__ = [
    "CHECKPOINT_PATH",
    "CHECKPOINT_SHA256",
    "SIGMA_DATA",
    "SIGMA_MAX",
    "SIGMA_MIN",
    "WIDTHS",
    "apply_unet",
    "classifier_accuracy",
    "classifier_features",
    "count_nfe",
    "denoise",
    "denoising_mse",
    "draw_unet",
    "edm_preconditioning",
    "edm_training_target",
    "frechet_distance",
    "init_unet",
    "karras_sigmas",
    "load_checkpoint",
    "load_digit_split",
    "nfe",
    "precision_recall",
    "prenorm_skip_branch",
    "sample",
    "save_checkpoint",
    "skip_scales",
    "sweep",
    "sweep_table",
    "tile_images",
    "train",
    "train_classifier",
]

SIGMA_DATA = 0.85  # RMS of the digits scaled to [-1, 1] (checked in the chapter)
SIGMA_MIN = 0.002
SIGMA_MAX = 80.0
P_MEAN, P_STD = -1.2, 1.2  # log-normal training distribution of σ (EDM)
WIDTHS = (16, 32, 32)  # channels at 8×8, 4×4 and 2×2
EMB_DIM = 64
N_FREQ = 16
GROUPS_SIZE = 8  # channels per GroupNorm group
CHECKPOINT_PATH = Path(__file__).resolve().parent / "data" / "skip_tuning_unet.npz"
CHECKPOINT_SHA256 = "ae0836eb1d55fc00b53f51dfbe9cb3e9a49bd7388d6d539f4bada17e0f6e8c06"

Params = dict[str, Any]

_N_DIGITS = 1797  # images in scikit-learn's digits
_N_TRAIN = _N_DIGITS - 360  # training images of the default split (the U-Net's training set)
_MAX_SEED = 2**63 - 2  # jax.random.key takes a signed 64-bit seed; train also uses seed + 1
_MAX_STEPS = 10**6  # bound on step/skip counts: larger ones are typos that would exhaust memory or time
_F32_MAX = float(np.finfo(np.float32).max)  # the network and the samplers compute in float32
_SHA256 = re.compile(r"[0-9a-f]{64}")


# ----------------------------------------------------------------------------------------------------------
# argument checks (on top of kexue_utils._validate)
# ----------------------------------------------------------------------------------------------------------
def _positive_array(name: str, value: Any, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    arr = finite_array(name, value, ndim)
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0")
    return arr


def _float32_array(
    name: str, value: Any, ndim: int | tuple[int, ...] | None = None, *, positive: bool = False
) -> np.ndarray:
    """A non-empty finite float64 array whose entries stay finite (and > 0 if ``positive``) in float32."""
    arr = finite_array(name, value, ndim, nonempty=True)
    if np.max(np.abs(arr)) > _F32_MAX:
        raise ValueError(f"{name} must fit in float32 (|value| ≤ {_F32_MAX:.4g})")
    if positive and np.any(arr.astype(np.float32) <= 0):
        raise ValueError(f"{name} must be > 0 (also after rounding to float32)")
    return arr


def _images(name: str, value: Any) -> np.ndarray:
    arr = _float32_array(name, value, 4)
    if arr.shape[1:] != (8, 8, 1):
        raise ValueError(f"{name} must have shape (n, 8, 8, 1), got {arr.shape}")
    return arr


def _skip_rows(name: str, value: Any, n: int) -> np.ndarray:
    arr = _float32_array(name, value, (1, 2))
    if arr.shape not in ((len(WIDTHS),), (n, len(WIDTHS))):
        raise ValueError(
            f"{name} must hold {len(WIDTHS)} finite numbers (or one such row per image), got {arr.shape}"
        )
    return arr


def _digit_rows(name: str, value: Any) -> np.ndarray:
    """Images of 64 pixels each, any layout (n, 64), (n, 8, 8) or (n, 8, 8, 1)."""
    arr = _float32_array(name, value)
    if arr.ndim < 2 or math.prod(arr.shape[1:]) != 64:
        raise ValueError(f"{name} must hold 8×8 images, got shape {arr.shape}")
    return arr


def _labels(name: str, value: Any, n: int) -> np.ndarray:
    real_array(name, value)  # TypeError for strings, bools, complex, ragged input
    arr = np.asarray(value)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer labels, got dtype {arr.dtype}")
    if arr.shape != (n,) or (n and (arr.min() < 0 or arr.max() > 9)):
        raise ValueError(f"{name} must hold one label in 0..9 per image of x ({n}), got shape {arr.shape}")
    return arr


def _seed(name: str, value: Any) -> int:
    return integer(name, value, 0, _MAX_SEED)


def _path(name: str, value: Any) -> Path:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or os.PathLike, got {type(value).__name__}")
    path = Path(value)
    if path.is_dir():
        raise ValueError(f"{name} {path} is a directory, not a file")
    return path


def _tree_leaves(tree: Mapping[Any, Any], prefix: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], Any]:
    out: dict[tuple[Any, ...], Any] = {}
    for k, v in tree.items():
        if isinstance(v, Mapping):
            out.update(_tree_leaves(v, (*prefix, k)))
        else:
            out[(*prefix, k)] = v
    return out


def _check_tree(name: str, tree: Any, shapes: dict[tuple[str, ...], tuple[int, ...]], what: str) -> None:
    """Raise unless ``tree`` is a nested dict of float arrays with exactly the key paths and ``shapes``."""
    if not isinstance(tree, Mapping):
        raise TypeError(f"{name} must be a dict of {what} parameters, got {type(tree).__name__}")
    leaves = _tree_leaves(tree)
    missing, extra = set(shapes) - set(leaves), set(leaves) - set(shapes)
    if missing or extra:
        fmt = lambda keys: ", ".join(sorted("/".join(map(str, k)) for k in keys)[:3]) or "none"  # noqa: E731
        raise ValueError(
            f"{name} is not a dict of {what} parameters (missing: {fmt(missing)}; unexpected: {fmt(extra)})"
        )
    for path, leaf in leaves.items():
        where = name + "".join(f"[{k!r}]" for k in path)
        try:
            kind, shape = np.dtype(leaf.dtype).kind, tuple(leaf.shape)
        except (AttributeError, TypeError):
            kind, shape = "", ()
        if kind != "f":
            raise TypeError(f"{where} must be a float array, got {type(leaf).__name__}")
        if shape != shapes[path]:
            raise ValueError(f"{where} must have shape {shapes[path]}, got {shape}")


@functools.cache
def _unet_shapes() -> dict[tuple[str, ...], tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in _tree_leaves(jax.eval_shape(lambda: init_unet(0))).items()}


def _check_unet(params: Any) -> None:
    _check_tree("params", params, _unet_shapes(), "U-Net")


def _check_classifier(clf: Any) -> int:
    """Check the classifier pytree of :func:`train_classifier`; return its number of features."""
    dims: dict[str, int] = {}
    if isinstance(clf, Mapping):
        for key in ("w1", "w2"):
            shape = tuple(getattr(clf.get(key), "shape", ()))
            dims[key] = int(shape[1]) if len(shape) == 2 else 0
    h, f = dims.get("w1", 0), dims.get("w2", 0)
    shapes: dict[tuple[str, ...], tuple[int, ...]] = {
        ("w1",): (64, h),
        ("b1",): (h,),
        ("w2",): (h, f),
        ("b2",): (f,),
        ("w3",): (f, 10),
        ("b3",): (10,),
    }
    _check_tree("clf", clf, shapes, "classifier")
    return f


# ----------------------------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------------------------
def load_digit_split(
    test_size: int = 360, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(x_train, y_train, x_test, y_test)``: scikit-learn digits as (n, 8, 8, 1) images in [-1, 1].

    The split is a fixed permutation drawn from ``np.random.default_rng(seed)``; pixel values 0..16
    are mapped to ``v / 8 − 1``.
    """
    from sklearn.datasets import load_digits

    test_size = integer("test_size", test_size, 1, _N_DIGITS - 1)
    seed = integer("seed", seed, 0)
    digits = load_digits()
    x = (digits.data.astype(np.float32) / 8.0 - 1.0).reshape(-1, 8, 8, 1)
    y = digits.target.astype(np.int32)
    perm = np.random.default_rng(seed).permutation(len(x))
    test, tr = perm[:test_size], perm[test_size:]
    return x[tr], y[tr], x[test], y[test]


# ----------------------------------------------------------------------------------------------------------
# EDM preconditioning, schedule, skip scales
# ----------------------------------------------------------------------------------------------------------
def edm_preconditioning(sigma: Any, sigma_data: float = SIGMA_DATA) -> tuple[Any, Any, Any, Any]:
    """Return ``(c_skip, c_out, c_in, c_noise)`` at noise level ``sigma``. Implements Eq. (skip-precond).

    ``c_skip = σd²/(σ²+σd²)``, ``c_out = σ σd/√(σ²+σd²)``, ``c_in = 1/√(σ²+σd²)``, ``c_noise = ln(σ)/4``.
    Works on numpy or JAX arrays (JAX input gives JAX output; traced values inside ``jit`` are not checked).
    """
    real_number("sigma_data", sigma_data, low=0.0, low_open=True)
    xp: Any = np
    if isinstance(sigma, jax.Array):
        if not isinstance(sigma, jax.core.Tracer):
            _positive_array("sigma", np.asarray(sigma))
        xp = jnp
    else:
        sigma = _positive_array("sigma", sigma)
        with np.errstate(over="ignore", under="ignore"):
            s2_check = np.square(sigma) + np.square(np.float64(sigma_data))  # float ** 2 raises on overflow
        if not np.all(np.isfinite(s2_check) & (s2_check > 0)):
            raise ValueError("sigma and sigma_data are too extreme: σ² + σ_data² over- or underflows")
    s2 = sigma**2 + sigma_data**2
    c_skip = sigma_data**2 / s2
    c_out = sigma * sigma_data / xp.sqrt(s2)
    c_in = 1.0 / xp.sqrt(s2)
    c_noise = xp.log(sigma) / 4.0
    return c_skip, c_out, c_in, c_noise


def edm_training_target(x0: np.ndarray, noise: np.ndarray, sigma: Any, sigma_data: float = SIGMA_DATA) -> Any:
    """Return the regression target ``(x0 − c_skip (x0 + σ n)) / c_out``. Implements Eq. (skip-target).

    ``noise`` has the shape of ``x0``; ``sigma`` is a scalar or broadcasts against ``x0``.
    """
    x0_arr = finite_array("x0", x0)
    if finite_array("noise", noise).shape != x0_arr.shape:
        raise ValueError(f"noise must have the shape of x0 {x0_arr.shape}, got {np.shape(noise)}")
    c_skip, c_out, _, _ = edm_preconditioning(sigma, sigma_data)
    try:
        fits = np.broadcast_shapes(np.shape(c_skip), x0_arr.shape) == x0_arr.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"sigma of shape {np.shape(c_skip)} does not broadcast against x0 {x0_arr.shape}")
    x0, noise = np.asarray(x0), np.asarray(noise)
    with np.errstate(over="ignore", invalid="ignore"):
        target = (x0 - c_skip * (x0 + sigma * noise)) / c_out
    if not np.all(np.isfinite(target)):
        raise ValueError("x0, noise and sigma are too large: the target overflows")
    return target


def karras_sigmas(
    n_steps: int, sigma_min: float = SIGMA_MIN, sigma_max: float = SIGMA_MAX, kappa: float = 7.0
) -> np.ndarray:
    """Return the ``n_steps + 1`` Karras noise levels, ending with 0. Implements Eq. (skip-karras).

    ``σ_i = (σmax^{1/κ} + i/(N−1) (σmin^{1/κ} − σmax^{1/κ}))^κ`` for ``i = 0..N−1`` and ``σ_N = 0``
    (EDM calls the exponent ρ; we write κ to keep ρ for the skip scales).
    """
    n_steps = integer("n_steps", n_steps, 1, _MAX_STEPS)
    real_number("sigma_min", sigma_min, low=0.0, low_open=True)
    real_number("sigma_max", sigma_max, low=0.0, low_open=True)
    real_number("kappa", kappa, low=0.0, low_open=True)
    if not sigma_min < sigma_max:
        raise ValueError(
            f"sigma_min must be < sigma_max, got sigma_min={sigma_min!r}, sigma_max={sigma_max!r}"
        )
    if n_steps == 1:
        return np.array([sigma_max, 0.0])
    i = np.arange(n_steps)
    try:
        lo, hi = sigma_min ** (1 / kappa), sigma_max ** (1 / kappa)
        with np.errstate(over="ignore", invalid="ignore"):
            sig = (hi + i / (n_steps - 1) * (lo - hi)) ** kappa
    except OverflowError:
        sig = np.array([np.inf])
    if not (np.all(np.isfinite(sig)) and np.all(np.diff(sig) < 0) and sig[-1] > 0):
        raise ValueError(
            f"kappa={kappa!r} with sigma_min={sigma_min!r}, sigma_max={sigma_max!r} and n_steps={n_steps}"
            " gives noise levels that are not finite, positive and strictly decreasing in float64"
        )
    return np.append(sig, 0.0)


def nfe(n_steps: int, method: str) -> int:
    """Return the number of network evaluations of ``n_steps`` steps of a sampler. Implements Eq. (skip-nfe).

    Euler: one per step. Heun: two per step, except the last step to σ = 0, which is an Euler step.
    """
    n_steps = integer("n_steps", n_steps, 1)
    if choice("method", method, ("euler", "heun")) == "euler":
        return n_steps
    return 2 * n_steps - 1


def skip_scales(rho_bottom: float, rho_top: float = 1.0, n_skips: int = len(WIDTHS)) -> np.ndarray:
    """Return the skip scales ρ_0 (outermost) … ρ_{k-1} (innermost). Implements Eq. (skip-rho)."""
    gap = real_number("rho_top", rho_top) - real_number("rho_bottom", rho_bottom)
    if not math.isfinite(gap):
        raise ValueError(f"rho_bottom and rho_top are too far apart: rho_top − rho_bottom = {gap}")
    n_skips = integer("n_skips", n_skips, 2, _MAX_STEPS)
    return np.linspace(rho_top, rho_bottom, n_skips)


# ----------------------------------------------------------------------------------------------------------
# the U-Net
# ----------------------------------------------------------------------------------------------------------
def _conv_init(key: jax.Array, k: int, cin: int, cout: int, scale: float = 1.0) -> Params:
    w = jax.random.normal(key, (k, k, cin, cout)) * (scale / math.sqrt(k * k * cin))
    return {"w": w, "b": jnp.zeros(cout)}


def _conv(p: Params, x: jax.Array) -> jax.Array:
    return (
        jax.lax.conv_general_dilated(x, p["w"], (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
        + p["b"]
    )


def _group_norm(x: jax.Array, eps: float = 1e-5) -> jax.Array:
    n, h, w, c = x.shape
    xg = x.reshape(n, h, w, c // GROUPS_SIZE, GROUPS_SIZE)
    mean = xg.mean(axis=(1, 2, 4), keepdims=True)
    var = xg.var(axis=(1, 2, 4), keepdims=True)
    return ((xg - mean) / jnp.sqrt(var + eps)).reshape(n, h, w, c)


def _block_init(key: jax.Array, cin: int, cout: int) -> Params:
    k1, k2, k3, k4 = jax.random.split(key, 4)
    return {
        "conv_a": _conv_init(k1, 3, cin, cout),
        "conv_b": _conv_init(k2, 3, cout, cout, scale=0.5),
        "short": _conv_init(k3, 1, cin, cout),
        "emb": {"w": jax.random.normal(k4, (EMB_DIM, cout)) / math.sqrt(EMB_DIM), "b": jnp.zeros(cout)},
    }


def _block(p: Params, x: jax.Array, emb: jax.Array) -> jax.Array:
    # conv → +emb → GroupNorm → SiLU → conv, plus a 1×1 shortcut. The first operation is a convolution of
    # the raw input: a scalar on some input channels changes their weight inside the sum before any norm.
    h = _conv(p["conv_a"], x) + (emb @ p["emb"]["w"] + p["emb"]["b"])[:, None, None, :]
    h = _conv(p["conv_b"], jax.nn.silu(_group_norm(h)))
    return h + _conv(p["short"], x)


def _down(x: jax.Array) -> jax.Array:
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def _up(x: jax.Array) -> jax.Array:
    return jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)


def init_unet(seed: int) -> Params:
    """Return fresh U-Net parameters (a nested dict of JAX arrays) from ``jax.random.key(seed)``."""
    seed = _seed("seed", seed)
    c0, c1, c2 = WIDTHS
    ks = jax.random.split(jax.random.key(seed), 12)
    return {
        "emb1": {
            "w": jax.random.normal(ks[0], (2 * N_FREQ, EMB_DIM)) / math.sqrt(2 * N_FREQ),
            "b": jnp.zeros(EMB_DIM),
        },
        "emb2": {
            "w": jax.random.normal(ks[1], (EMB_DIM, EMB_DIM)) / math.sqrt(EMB_DIM),
            "b": jnp.zeros(EMB_DIM),
        },
        "conv_in": _conv_init(ks[2], 3, 1, c0),
        "enc0": _block_init(ks[3], c0, c0),  # 8×8 → skip s_0
        "enc1": _block_init(ks[4], c0, c1),  # 4×4 → skip s_1
        "enc2": _block_init(ks[5], c1, c2),  # 2×2 → skip s_2
        "mid": _block_init(ks[6], c2, c2),
        "dec2": _block_init(ks[7], 2 * c2, c2),  # 2×2, takes s_2
        "dec1": _block_init(ks[8], c2 + c1, c1),  # 4×4, takes s_1
        "dec0": _block_init(ks[9], c1 + c0, c0),  # 8×8, takes s_0
        "conv_out": _conv_init(ks[10], 3, c0, 1, scale=0.1),
    }


def _embedding(p: Params, c_noise: jax.Array) -> jax.Array:
    freqs = jnp.exp(-jnp.arange(N_FREQ) * (math.log(100.0) / N_FREQ)) * 4.0
    t = c_noise[:, None] * freqs[None, :]
    e = jnp.concatenate([jnp.sin(t), jnp.cos(t)], axis=1)
    e = jax.nn.silu(e @ p["emb1"]["w"] + p["emb1"]["b"])
    return jax.nn.silu(e @ p["emb2"]["w"] + p["emb2"]["b"])


def apply_unet(params: Params, x_in: Any, c_noise: Any, rho: Any) -> jax.Array:
    """Return the raw network output F(c_in x; c_noise) with skip ``s_i`` multiplied by ``rho[i]``.

    ``x_in`` has shape (n, 8, 8, 1), ``c_noise`` shape (n,), ``rho`` shape (3,) or (n, 3) (outermost skip
    first; one row per image lets a single call evaluate several skip settings). The scale multiplies the
    skip tensor before the concatenation; the decoder block's first operation is a convolution, so no
    normalisation sees the skip channels on their own (Eqs. (skip-rho), (skip-pitfall)).
    Inside ``jax.jit`` (traced arguments, e.g. in a custom denoiser passed to :func:`sample`) values cannot
    be inspected, so only ``params`` is checked there.
    """
    _check_unet(params)
    if any(isinstance(a, jax.core.Tracer) for a in (x_in, c_noise, rho)):
        return _apply_unet(params, x_in, jnp.broadcast_to(c_noise, (jnp.shape(x_in)[0],)), rho)
    x = _images("x_in", x_in)
    c_noise_arr = _float32_array("c_noise", c_noise, 1)
    if c_noise_arr.shape != (len(x),):
        raise ValueError(f"c_noise must hold one value per image ({len(x)}), got shape {c_noise_arr.shape}")
    r = _skip_rows("rho", rho, len(x))
    f32 = lambda a: jnp.asarray(a, dtype=jnp.float32)  # noqa: E731  (what jit does to float64 input)
    return _apply_unet(params, f32(x), f32(c_noise_arr), f32(r))


@jax.jit
def _apply_unet(params: Params, x_in: jax.Array, c_noise: jax.Array, rho: jax.Array) -> jax.Array:
    emb = _embedding(params, c_noise)
    h = _conv(params["conv_in"], x_in)
    s0 = _block(params["enc0"], h, emb)
    s1 = _block(params["enc1"], _down(s0), emb)
    s2 = _block(params["enc2"], _down(s1), emb)
    h = _block(params["mid"], s2, emb)
    r = jnp.reshape(rho, (-1, 1, 1, 1, len(WIDTHS)))[..., 0, :]  # (1 or n, 1, 1, 3)
    h = _block(params["dec2"], jnp.concatenate([h, r[..., 2:3] * s2], axis=-1), emb)
    h = _block(params["dec1"], jnp.concatenate([_up(h), r[..., 1:2] * s1], axis=-1), emb)
    h = _block(params["dec0"], jnp.concatenate([_up(h), r[..., 0:1] * s0], axis=-1), emb)
    return _conv(params["conv_out"], jax.nn.silu(_group_norm(h)))


def prenorm_skip_branch(params: Params, backbone: jax.Array, skip: jax.Array, rho: float) -> jax.Array:
    """Return conv(SiLU(GroupNorm(concat(backbone, ρ·skip)))) with the ``dec0`` weights: the pitfall layout.

    When every GroupNorm group holds only skip channels or only backbone channels, the output does not
    depend on ρ > 0 (up to the norm's ε): the scale is normalised away. Used to check Eq. (skip-pitfall).
    """
    _check_unet(params)
    h, s = _float32_array("backbone", backbone, 4), _float32_array("skip", skip, 4)
    if s.shape[:3] != h.shape[:3]:
        raise ValueError(f"skip must match backbone in (n, height, width) {h.shape[:3]}, got {s.shape[:3]}")
    for name, c in (("backbone", h.shape[-1]), ("skip", s.shape[-1])):
        if c % GROUPS_SIZE:
            raise ValueError(f"{name} channel count {c} is not among the multiples of {GROUPS_SIZE}")
    c_in = params["dec0"]["conv_a"]["w"].shape[2]
    if h.shape[-1] + s.shape[-1] != c_in:
        raise ValueError(
            f"backbone and skip channel counts must add up to {c_in}, got {h.shape[-1]} + {s.shape[-1]}"
        )
    rho = real_number("rho", rho, low=-_F32_MAX, high=_F32_MAX)
    return _prenorm_branch(params["dec0"]["conv_a"], jnp.asarray(h), jnp.asarray(s), jnp.float32(rho))


@jax.jit
def _prenorm_branch(conv: Params, backbone: jax.Array, skip: jax.Array, rho: jax.Array) -> jax.Array:
    z = jnp.concatenate([backbone, rho * skip], axis=-1)
    return _conv(conv, jax.nn.silu(_group_norm(z)))


def _denoise(params: Params, x: jax.Array, sigma: jax.Array, rho: jax.Array) -> jax.Array:
    c_skip, c_out, c_in, c_noise = edm_preconditioning(sigma)
    c = (lambda v: v[:, None, None, None]) if sigma.ndim else (lambda v: v)
    c_noise_b = jnp.broadcast_to(c_noise, (x.shape[0],))
    return c(c_skip) * x + c(c_out) * _apply_unet(params, c(c_in) * x, c_noise_b, rho)


_denoise_jit = jax.jit(_denoise)


def denoise(params: Params, x: Any, sigma: Any, rho: Any = (1.0, 1.0, 1.0)) -> np.ndarray:
    """Return the denoiser D(x; σ) = c_skip x + c_out F(c_in x; c_noise). Implements Eq. (skip-denoiser).

    ``sigma`` is a positive scalar or one value per image; ``rho`` the three skip scales.
    """
    _check_unet(params)
    n = len(_images("x", x))
    sig = _float32_array("sigma", sigma, (0, 1), positive=True)
    if sig.ndim == 1 and sig.shape[0] != n:
        raise ValueError(f"sigma must be a scalar or have one value per image ({n}), got shape {sig.shape}")
    r = _skip_rows("rho", rho, n).astype(np.float32)
    x = jnp.asarray(x, dtype=jnp.float32)
    return np.asarray(_denoise_jit(params, x, jnp.asarray(sig, jnp.float32), jnp.asarray(r)))


# ----------------------------------------------------------------------------------------------------------
# samplers
# ----------------------------------------------------------------------------------------------------------
Denoiser = Callable[[jax.Array, jax.Array], jax.Array]


def _euler_step(den: Denoiser, x: jax.Array, s: jax.Array, s_next: jax.Array) -> jax.Array:
    d = (x - den(x, s)) / s
    return x + (s_next - s) * d


def _heun_step(den: Denoiser, x: jax.Array, s: jax.Array, s_next: jax.Array) -> jax.Array:
    d = (x - den(x, s)) / s
    x_euler = x + (s_next - s) * d
    d_next = (x_euler - den(x_euler, s_next)) / s_next
    return x + (s_next - s) * 0.5 * (d + d_next)


def _make_steppers(params: Params | None, den_fn: Denoiser | None) -> tuple[Callable, Callable]:
    if den_fn is None:
        if params is None:
            raise ValueError("params must be given when no denoiser is")
        p: Params = params

        def den(x: jax.Array, s: jax.Array, rho: jax.Array) -> jax.Array:
            return _denoise(p, x, s, rho)
    else:

        def den(x: jax.Array, s: jax.Array, rho: jax.Array) -> jax.Array:
            return den_fn(x, s)

    euler = jax.jit(lambda x, s, sn, rho: _euler_step(lambda a, b: den(a, b, rho), x, s, sn))
    heun = jax.jit(lambda x, s, sn, rho: _heun_step(lambda a, b: den(a, b, rho), x, s, sn))
    return euler, heun


_STEPPER_CACHE: dict[int, tuple[Callable, Callable]] = {}
_DENOISER_CACHE: dict[int, tuple[Callable, Callable, Callable]] = {}


def sample(
    x_T: Any,
    sigmas: Any,
    method: str,
    *,
    params: Params | None = None,
    rho: Any = (1.0, 1.0, 1.0),
    denoiser: Denoiser | None = None,
) -> np.ndarray:
    """Return the result of integrating the probability-flow ODE from ``x_T`` along ``sigmas``.

    Implements Eqs. (skip-ode), (skip-euler) and (skip-heun): deterministic Euler or Heun steps; the
    last step to σ = 0 is always an Euler step. ``x_T`` is already scaled by ``sigmas[0]``. Give either
    the U-Net ``params`` (with skip scales ``rho``) or a ``denoiser(x, σ)`` callable.
    """
    choice("method", method, ("euler", "heun"))
    sig = _float32_array("sigmas", sigmas, 1)
    if sig.size < 2 or np.any(np.diff(sig) >= 0):
        raise ValueError(f"sigmas must be a strictly decreasing 1-D array of ≥ 2 finite values, got {sig}")
    if sig[-1] < 0 or np.float32(sig[-2]) <= 0:
        raise ValueError("sigmas must be ≥ 0, with only the last one allowed to be 0 (in float32)")
    if (params is None) == (denoiser is None):
        raise ValueError("params or denoiser: give exactly one of the two")
    if denoiser is None:
        _check_unet(params)
        n = len(_images("x_T", x_T))
        r_arr = _skip_rows("rho", rho, n)
    else:
        if not callable(denoiser):
            raise TypeError(f"denoiser must be callable, got {type(denoiser).__name__}")
        _float32_array("x_T", x_T)
        r_arr = _float32_array("rho", rho)
    x = jnp.asarray(x_T, dtype=jnp.float32)
    r = jnp.asarray(r_arr.astype(np.float32))
    if denoiser is None:
        key = id(params)
        if key not in _STEPPER_CACHE:
            _STEPPER_CACHE.clear()
            _STEPPER_CACHE[key] = _make_steppers(params, None)
        euler, heun = _STEPPER_CACHE[key]
    else:
        key = id(denoiser)
        if key not in _DENOISER_CACHE or _DENOISER_CACHE[key][0] is not denoiser:
            _DENOISER_CACHE.clear()
            _DENOISER_CACHE[key] = (denoiser, *_make_steppers(None, denoiser))
        _, euler, heun = _DENOISER_CACHE[key]
    for s, s_next in itertools.pairwise(sig):
        s_j, sn_j = jnp.float32(s), jnp.float32(s_next)
        if method == "heun" and s_next > 0:
            x = heun(x, s_j, sn_j, r)
        else:
            x = euler(x, s_j, sn_j, r)
    return np.asarray(x)


def count_nfe(n_steps: int, method: str) -> int:
    """Return the number of denoiser calls :func:`sample` makes for ``n_steps`` Karras steps (counted).

    Used to check Eq. (skip-nfe): the sampler is run un-jitted on a scalar toy denoiser that counts its calls.
    """
    n_steps = integer("n_steps", n_steps, 1, _MAX_STEPS)
    choice("method", method, ("euler", "heun"))
    calls = [0]

    def den(x: Any, s: Any) -> Any:
        calls[0] += 1
        return 0.5 * x

    sig = karras_sigmas(n_steps)
    with jax.disable_jit():
        sample(np.zeros((1, 1)), sig, method, denoiser=den)
    return calls[0]


# ----------------------------------------------------------------------------------------------------------
# training
# ----------------------------------------------------------------------------------------------------------
def _edm_loss(params: Params, x0: jax.Array, key: jax.Array) -> jax.Array:
    k1, k2 = jax.random.split(key)
    n = x0.shape[0]
    sigma = jnp.exp(P_MEAN + P_STD * jax.random.normal(k1, (n,)))
    noise = jax.random.normal(k2, x0.shape)
    c_skip, c_out, c_in, c_noise = edm_preconditioning(sigma)
    c = lambda v: v[:, None, None, None]  # noqa: E731
    x_noisy = x0 + c(sigma) * noise
    target = (x0 - c(c_skip) * x_noisy) / c(c_out)
    out = _apply_unet(params, c(c_in) * x_noisy, c_noise, jnp.ones(len(WIDTHS)))
    return jnp.mean((out - target) ** 2)


def train(
    seed: int = 0,
    steps: int = 1200,
    batch: int = 128,
    lr: float = 2e-3,
    ema: float = 0.995,
    verbose: bool = False,
) -> tuple[Params, dict[str, float]]:
    """Return ``(ema_params, info)``: the U-Net trained with the EDM loss of Eq. (skip-loss).

    Adam with linear warm-up and cosine decay; an exponential moving average of the weights is returned.
    Deterministic given ``seed`` (JAX on CPU).
    """
    seed = _seed("seed", seed)
    steps = integer("steps", steps, 2)
    batch = integer("batch", batch, 2, _N_TRAIN)
    real_number("lr", lr, low=0.0, high=1.0, low_open=True, high_open=True)
    real_number("ema", ema, low=0.0, high=1.0, high_open=True)
    if not isinstance(verbose, (bool, np.bool_)):
        raise TypeError(f"verbose must be a bool, got {type(verbose).__name__}")
    x_train, _, _, _ = load_digit_split()
    data = jnp.asarray(x_train)
    params = init_unet(seed)
    sched = optax.warmup_cosine_decay_schedule(0.0, lr, min(100, steps // 2), steps, lr * 0.05)
    opt = optax.adam(sched)
    state = opt.init(params)

    @jax.jit
    def step(
        params: Params, ema_p: Params, state: Any, key: jax.Array
    ) -> tuple[Params, Params, Any, jax.Array]:
        k1, k2 = jax.random.split(key)
        idx = jax.random.choice(k1, data.shape[0], (batch,), replace=False)
        loss, grads = jax.value_and_grad(_edm_loss)(params, data[idx], k2)
        updates, state = opt.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        ema_p = jax.tree.map(lambda e, p: ema * e + (1 - ema) * p, ema_p, params)
        return params, ema_p, state, loss

    ema_params = params
    key = jax.random.key(seed + 1)
    t0 = time.perf_counter()
    losses = []
    for i in range(steps):
        key, sub = jax.random.split(key)
        params, ema_params, state, loss = step(params, ema_params, state, sub)
        losses.append(loss)
        if verbose and (i + 1) % 250 == 0:
            print(
                f"step {i + 1:5d}  loss(last 250) {float(jnp.mean(jnp.stack(losses[-250:]))):.4f}", flush=True
            )
    final = float(jnp.mean(jnp.stack(losses[-100:])))
    return ema_params, {"final_loss": final, "seconds": time.perf_counter() - t0}


# ----------------------------------------------------------------------------------------------------------
# checkpoint
# ----------------------------------------------------------------------------------------------------------
def _flatten(tree: Params) -> dict[str, np.ndarray]:
    """The leaves as float32 arrays named "a/b/c", in sorted key order (this fixes the checkpoint bytes)."""
    return {"/".join(k): np.asarray(v, dtype=np.float32) for k, v in sorted(_tree_leaves(tree).items())}


def _unflatten(flat: dict[str, np.ndarray]) -> Params:
    tree: Params = {}
    for name, v in flat.items():
        node = tree
        *parents, leaf = name.split("/")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = jnp.asarray(v)
    return tree


def save_checkpoint(params: Params, path: str | Path) -> str:
    """Return the SHA-256 of the ``.npz`` file written at ``path`` holding ``params`` as float32 arrays."""
    _check_unet(params)
    path = _path("path", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        np.savez(f, **_flatten(params))  # type: ignore[arg-type]
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_checkpoint(path: str | Path = CHECKPOINT_PATH, sha256: str | None = CHECKPOINT_SHA256) -> Params:
    """Return the U-Net parameters stored at ``path``; raise ``ValueError`` if its SHA-256 is not ``sha256``.

    Pass ``sha256=None`` to load a freshly retrained checkpoint without the check.
    """
    path = _path("path", path)
    if sha256 is not None:
        if not isinstance(sha256, str):
            raise TypeError(f"sha256 must be a str or None, got {type(sha256).__name__}")
        if not _SHA256.fullmatch(sha256):
            raise ValueError(f"sha256 must be 64 lowercase hexadecimal digits, got {sha256!r}")
    if not path.is_file():
        raise ValueError(f"path {path} does not exist")
    blob = path.read_bytes()
    if sha256 is not None:
        digest = hashlib.sha256(blob).hexdigest()
        if digest != sha256:
            raise ValueError(f"path {path} has sha256 {digest}, expected {sha256}")
    try:
        with np.load(path) as z:
            flat = {k: z[k] for k in z.files}
    except (
        OSError,
        ValueError,
        EOFError,
        TypeError,
        AttributeError,
        zipfile.BadZipFile,
        pickle.PickleError,
    ) as exc:
        raise ValueError(f"path {path} is not a readable .npz checkpoint ({exc})") from exc
    ref = {"/".join(k): v for k, v in _unet_shapes().items()}
    if set(ref) != set(flat) or any(ref[k] != flat[k].shape or flat[k].dtype.kind != "f" for k in ref):
        raise ValueError(f"path {path} does not hold parameters of the U-Net architecture")
    return _unflatten(flat)


# ----------------------------------------------------------------------------------------------------------
# metrics
# ----------------------------------------------------------------------------------------------------------
def _mlp(params: Params, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    h = jax.nn.relu(x @ params["w1"] + params["b1"])
    f = jnp.tanh(h @ params["w2"] + params["b2"])
    return f, f @ params["w3"] + params["b3"]


def train_classifier(
    x: np.ndarray, y: np.ndarray, seed: int = 0, steps: int = 300, hidden: int = 64, n_features: int = 16
) -> Params:
    """Return the parameters of a 64→hidden→n_features→10 MLP digit classifier trained with Adam (full batch).

    Its ``n_features``-dimensional tanh layer gives the features of :func:`frechet_distance`.
    """
    x = _digit_rows("x", x).astype(np.float32)
    x = x.reshape(len(x), -1)
    y = _labels("y", y, len(x))
    seed = _seed("seed", seed)
    steps = integer("steps", steps, 1, _MAX_STEPS)
    hidden = integer("hidden", hidden, 1, 4096)
    n_features = integer("n_features", n_features, 1, 4096)
    ks = jax.random.split(jax.random.key(seed), 3)
    p = {
        "w1": jax.random.normal(ks[0], (64, hidden)) / 8.0,
        "b1": jnp.zeros(hidden),
        "w2": jax.random.normal(ks[1], (hidden, n_features)) / math.sqrt(hidden),
        "b2": jnp.zeros(n_features),
        "w3": jax.random.normal(ks[2], (n_features, 10)) / math.sqrt(n_features),
        "b3": jnp.zeros(10),
    }
    opt = optax.adamw(3e-3, weight_decay=1e-3)
    xj, yj = jnp.asarray(x), jnp.asarray(y)

    def loss(p: Params) -> jax.Array:
        return optax.softmax_cross_entropy_with_integer_labels(_mlp(p, xj)[1], yj).mean()

    @jax.jit
    def run(p: Params) -> Params:
        def body(carry: tuple[Params, Any], _: None) -> tuple[tuple[Params, Any], None]:
            p, s = carry
            g = jax.grad(loss)(p)
            u, s = opt.update(g, s, p)
            return (optax.apply_updates(p, u), s), None

        (p, _), _ = jax.lax.scan(body, (p, opt.init(p)), None, length=steps)
        return p

    return run(p)


def classifier_features(clf: Params, x: np.ndarray) -> np.ndarray:
    """Return the classifier's feature vectors (n, n_features) of images ``x`` (n, 8, 8, 1), as float64."""
    _check_classifier(clf)
    x = _digit_rows("x", x).astype(np.float32)
    return np.asarray(_mlp(clf, jnp.asarray(x.reshape(len(x), 64)))[0], dtype=np.float64)


def classifier_accuracy(clf: Params, x: np.ndarray, y: np.ndarray) -> float:
    """Return the fraction of images ``x`` the classifier labels as ``y``."""
    _check_classifier(clf)
    x = _digit_rows("x", x).astype(np.float32)
    y = _labels("y", y, len(x))
    logits = _mlp(clf, jnp.asarray(x.reshape(len(x), 64)))[1]
    return float(np.mean(np.asarray(jnp.argmax(logits, axis=1)) == y))


def frechet_distance(f1: np.ndarray, f2: np.ndarray) -> float:
    """Return ‖μ1−μ2‖² + tr(Σ1 + Σ2 − 2(Σ1Σ2)^{1/2}) of two feature sets. Implements Eq. (skip-fd)."""
    f1, f2 = _feature_sets("f1", f1, "f2", f2)
    m1, m2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    w, v = np.linalg.eigh(s1)
    r1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    cross = np.linalg.eigvalsh(r1 @ s2 @ r1)
    tr_sqrt = float(np.sum(np.sqrt(np.clip(cross, 0, None))))
    return float(np.sum((m1 - m2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt)


def _feature_sets(name1: str, f1: Any, name2: str, f2: Any) -> tuple[np.ndarray, np.ndarray]:
    """Two finite 2-D float64 arrays of ≥ 2 rows each with the same number of columns (≥ 1)."""
    a, b = finite_array(name1, f1, 2), finite_array(name2, f2, 2)
    for name, arr in ((name1, a), (name2, b)):
        if arr.shape[0] < 2 or arr.shape[1] < 1:
            raise ValueError(f"{name} needs ≥ 2 rows and ≥ 1 column, got shape {arr.shape}")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{name1} and {name2} must have the same number of columns, got {a.shape} and {b.shape}"
        )
    return a, b


def _pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    sq = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(sq, 0.0))


def _kth_radius(f: np.ndarray, k: int) -> np.ndarray:
    d = _pairwise_distances(f, f)
    np.fill_diagonal(d, -1.0)  # the point itself is not its own neighbour
    return np.partition(d, k, axis=1)[:, k]


def precision_recall(
    real: np.ndarray, fake: np.ndarray, k: int = 5, real_radii: np.ndarray | None = None
) -> tuple[float, float]:
    """Return k-NN (precision, recall): the share of fake points inside the real manifold, and vice versa.

    Implements Eq. (skip-pr). A manifold is the union of balls around each point with radius its
    distance to the k-th nearest other point of the same set. ``real_radii`` may pass the real radii
    precomputed (they do not depend on ``fake``).
    """
    real, fake = _feature_sets("real", real, "fake", fake)
    k = integer("k", k, 1)
    if k >= min(len(real), len(fake)):
        raise ValueError(
            f"k must be < min(n_real, n_fake) = {min(len(real), len(fake))} (real and fake need more than k"
            f" points each), got {k}"
        )
    if real_radii is None:
        r_real = _kth_radius(real, k)
    else:
        r_real = finite_array("real_radii", real_radii)
        if r_real.shape != (len(real),) or np.any(r_real < 0):
            raise ValueError(f"real_radii must hold one radius ≥ 0 per real point ({len(real)})")
    r_fake = _kth_radius(fake, k)
    d = _pairwise_distances(fake, real)
    precision = float(np.mean(np.any(d <= r_real[None, :], axis=1)))
    recall = float(np.mean(np.any(d <= r_fake[:, None], axis=0)))
    return precision, recall


def denoising_mse(params: Params, x0: np.ndarray, sigmas: Any, rho: Any, seed: int = 0) -> np.ndarray:
    """Return the per-pixel error ‖D(x0 + σn; σ) − x0‖² at each σ (one noise draw per image)."""
    _check_unet(params)
    x0 = _images("x0", x0).astype(np.float32)
    sigmas = _float32_array("sigmas", sigmas, 1, positive=True)
    _skip_rows("rho", rho, len(x0))
    seed = integer("seed", seed, 0)
    noise = np.random.default_rng(seed).standard_normal(x0.shape).astype(np.float32)
    out = []
    for s in np.asarray(sigmas, dtype=float):
        d = denoise(params, x0 + np.float32(s) * noise, float(s), rho)
        out.append(float(np.mean((d - x0) ** 2)))
    return np.array(out)


def _steps_dict(steps: Any) -> dict[str, list[int]]:
    if not isinstance(steps, Mapping):
        raise TypeError(
            f"steps must be a dict of sampler name → list of step counts, got {type(steps).__name__}"
        )
    if not steps:
        raise ValueError("steps must name at least one sampler ('euler' or 'heun')")
    out = {
        choice("steps key", m, ("euler", "heun")): integers(f"steps[{m!r}]", v, 1) for m, v in steps.items()
    }
    for m, v in out.items():
        if max(v) > _MAX_STEPS:
            raise ValueError(f"steps[{m!r}] must be ≤ {_MAX_STEPS}, got {max(v)}")
    if len({len(v) for v in out.values()}) != 1:
        raise ValueError("steps must map 'euler'/'heun' to lists of equal length")
    return out


def _rho_bottoms(value: Any) -> list[float]:
    return [float(r) for r in _float32_array("rho_bottoms", value, 1)]


def sweep(
    params: Params,
    clf: Params,
    real_features: np.ndarray,
    rho_bottoms: Any,
    steps: dict[str, list[int]],
    seeds: list[int],
    n_samples: int,
    vary: str = "bottom",
) -> np.ndarray:
    """Return an array (method, step count, ρ, seed, metric) of (Fréchet distance, precision, recall).

    With ``vary="bottom"`` (the paper's setting) each value of ``rho_bottoms`` is ρ_bottom and ρ_top = 1;
    with ``vary="top"`` each value is ρ_top and ρ_bottom = 1 (the schedule reversed). ``steps`` maps
    'euler'/'heun' to lists of equal length of Karras step counts. For each seed the same starting noise
    ``σ_max · n`` (from ``jax.random.key(seed)``) is used for every sampler, step count and ρ (common random
    numbers), so differences between settings are not blurred by sampling noise. Samples are clipped to
    [-1, 1] before the classifier sees them. The Fréchet distance and precision/recall
    (k = 5) use all of ``real_features``.
    """
    _check_unet(params)
    n_features = _check_classifier(clf)
    real = finite_array("real_features", real_features, 2)
    if real.shape[0] < 6 or real.shape[1] != n_features:
        raise ValueError(
            f"real_features must have ≥ 6 rows (k = 5) and n_features = {n_features} columns of clf,"
            f" got shape {real.shape}"
        )
    rbs = _rho_bottoms(rho_bottoms)
    lengths = {len(v) for v in _steps_dict(steps).values()}
    seeds = [integer(f"seeds[{i}]", s, 0, _MAX_SEED) for i, s in enumerate(integers("seeds", seeds, 0))]
    n_samples = integer("n_samples", n_samples, 10)
    vary = choice("vary", vary, ("bottom", "top"))
    n_rho = len(rbs)
    real_radii = _kth_radius(np.asarray(real_features, dtype=float), 5)
    rows = [skip_scales(r) if vary == "bottom" else skip_scales(1.0, rho_top=r) for r in rbs]
    rho_rows = np.repeat(np.stack(rows), n_samples, axis=0)  # (n_rho·n, 3)
    out = np.zeros((len(steps), lengths.pop(), n_rho, len(seeds), 3))
    for si, seed in enumerate(seeds):
        x_T = SIGMA_MAX * np.asarray(jax.random.normal(jax.random.key(seed), (n_samples, 8, 8, 1)))
        x_T = np.tile(x_T, (n_rho, 1, 1, 1))  # the same noise for every ρ_bottom, evaluated in one batch
        for mi, (method, step_list) in enumerate(steps.items()):
            for ni, n in enumerate(step_list):
                x = sample(x_T, karras_sigmas(n), method, params=params, rho=rho_rows)
                feats = classifier_features(clf, np.clip(x, -1, 1)).reshape(n_rho, n_samples, -1)
                for ri in range(n_rho):
                    fd = frechet_distance(real_features, feats[ri])
                    p, r = precision_recall(real_features, feats[ri], k=5, real_radii=real_radii)
                    out[mi, ni, ri, si] = fd, p, r
    return out


def sweep_table(
    results: np.ndarray, steps: dict[str, list[int]], rho_bottoms: Any, vary: str = "bottom"
) -> list[str]:
    """Return printable lines summarising :func:`sweep`: per sampler and NFE, the Fréchet distance (mean ± std
    over seeds) for each ρ (ρ_bottom, or ρ_top when ``vary="top"``), the paired change ΔFD = FD(ρ) − FD(ρ = 1)
    and in how many seeds it is < 0.
    """
    tag = "ρ_" + choice("vary", vary, ("bottom", "top"))[0]
    results = finite_array("results", results, 5, nonempty=True)
    lengths = {len(v) for v in _steps_dict(steps).values()}
    rbs = _rho_bottoms(rho_bottoms)
    if rbs[0] != 1.0:
        raise ValueError(f"rho_bottoms[0] must be 1 (the baseline of ΔFD), got {rbs[0]}")
    if results.shape[:3] != (len(steps), lengths.pop(), len(rbs)) or results.shape[4] != 3:
        raise ValueError(
            f"results of shape {results.shape} does not come from sweep(steps, rho_bottoms) with these steps"
            f" ({len(steps)} samplers) and rho_bottoms ({len(rbs)} values)"
        )
    n_seeds = results.shape[3]
    head = "sampler NFE | " + " | ".join(f"{tag}={r:.1f}".center(11) for r in rbs)
    lines = [head, "-" * len(head)]
    for mi, (method, step_list) in enumerate(steps.items()):
        for ni, n in enumerate(step_list):
            fd = results[mi, ni, :, :, 0]
            cells = [f"{fd[ri].mean():5.2f}±{fd[ri].std():4.2f}" for ri in range(len(rbs))]
            lines.append(f"{method:5s} {nfe(n, method):4d} | " + " | ".join(cells))
            delta = fd[1:] - fd[:1]
            better = (delta < 0).sum(axis=1)
            cells = [" " * 11] + [
                f"{d:+5.2f} {b}/{n_seeds}".rjust(11) for d, b in zip(delta.mean(1), better, strict=True)
            ]
            lines.append(" " * 10 + " | ".join(cells))
    return lines


def tile_images(x: np.ndarray, n_rows: int) -> np.ndarray:
    """Return the (n, 8, 8, 1) images ``x`` arranged as one 2-D array with ``n_rows`` rows of 8×8 tiles."""
    x = finite_array("x", x, 4, nonempty=True)
    if x.shape[1:] != (8, 8, 1):
        raise ValueError(f"x must have shape (n, 8, 8, 1), got {x.shape}")
    n_rows = integer("n_rows", n_rows, 1)
    if len(x) % n_rows:
        raise ValueError(f"n_rows must divide the number of images {len(x)}, got {n_rows}")
    n_cols = len(x) // n_rows
    pad = np.full((len(x), 10, 10), 1.0)
    pad[:, 1:9, 1:9] = -x[..., 0]
    return pad.reshape(n_rows, n_cols, 10, 10).transpose(0, 2, 1, 3).reshape(n_rows * 10, n_cols * 10)


def draw_unet(ax: Any, rho: Any) -> None:
    """Draw the chapter's U-Net on the matplotlib axes ``ax``, labelling skip ``s_i`` with ``rho[i]``."""
    from matplotlib.axes import Axes
    from matplotlib.patches import FancyArrowPatch, Rectangle

    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be matplotlib Axes, got {type(ax).__name__}")
    r = finite_array("rho", rho, 1)
    if r.shape != (len(WIDTHS),):
        raise ValueError(f"rho must hold {len(WIDTHS)} numbers, got shape {r.shape}")
    res = ("8×8", "4×4", "2×2")

    def box(x: float, y: float, text: str, color: str) -> None:
        ax.add_patch(Rectangle((x - 0.9, y - 0.3), 1.8, 0.6, facecolor=color, edgecolor="k", lw=0.8))
        ax.text(x, y, text, ha="center", va="center", fontsize=8)

    def arrow(a: tuple[float, float], b: tuple[float, float], **kw: Any) -> None:
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=9, lw=0.9, **kw))

    box(0, 4, "x_in → conv", "#eeeeee")
    for i, c in enumerate(WIDTHS):
        y = 3 - 1.2 * i
        box(0, y, f"enc{i}: {c} ch, {res[i]}", "#cfe2f3")
        box(6, y, f"dec{i}: {c} ch, {res[i]}", "#d9ead3")
        arrow((0.9, y), (5.1, y), color="#cc0000", linestyle="--")
        ax.text(
            3,
            y + 0.12,
            f"s_{i} × ρ_{i} = {r[i]:.2f}  (concat)",
            ha="center",
            va="bottom",
            fontsize=8,
            color="#cc0000",
        )
        if i < len(WIDTHS) - 1:
            arrow((0, y - 0.3), (0, y - 0.9))
            ax.text(0.1, y - 0.6, "avg-pool", fontsize=7, va="center")
            arrow((6, y - 0.9), (6, y - 0.3))
            ax.text(6.1, y - 0.6, "upsample", fontsize=7, va="center")
    arrow((0, 3.7), (0, 3.3))
    yb = 3 - 1.2 * len(WIDTHS)
    box(3, yb, f"mid: {WIDTHS[-1]} ch, 2×2", "#fff2cc")
    arrow((0, yb + 0.9), (2.1, yb))
    arrow((3.9, yb), (6, yb + 0.9))
    box(6, 4, "GN → SiLU → conv → F", "#eeeeee")
    arrow((6, 3.3), (6, 3.7))
    ax.set_xlim(-1.2, 7.2)
    ax.set_ylim(yb - 0.6, 4.5)
    ax.set_axis_off()


# ----------------------------------------------------------------------------------------------------------
# command line
# ----------------------------------------------------------------------------------------------------------
_REPRO_STEPS = {"euler": [3, 11], "heun": [3, 10]}  # 3, 11 NFE and 5, 19 NFE
_REPRO_SIGMAS = (0.05, 0.5, 5.0)


@functools.cache
def _reference_classifier() -> tuple[Params, np.ndarray]:
    x_train, y_train, _, _ = load_digit_split()
    clf = train_classifier(x_train, y_train, seed=0)
    return clf, classifier_features(clf, x_train)


def _compare_checkpoints(
    reference: Params, candidate: Params, steps: dict[str, list[int]] = _REPRO_STEPS
) -> tuple[list[str], bool]:
    """Return (printable lines, ok): sample quality of ``candidate`` against ``reference``, as in the chapter.

    For Euler and Heun at two budgets each, three seeds of 32 samples (the chapter's protocol), the Fréchet
    distance of both checkpoints is computed from the same starting noise; ``ok`` is True when every mean
    difference lies within the reference's seed spread (one standard deviation over seeds). The held-out
    denoising MSE at a few noise levels is printed alongside (not part of the verdict).
    """
    _, _, x_test, _ = load_digit_split()
    clf, real = _reference_classifier()
    fds = [
        sweep(p, clf, real, [1.0], steps, seeds=[0, 1, 2], n_samples=32)[:, :, 0, :, 0]
        for p in (reference, candidate)
    ]
    lines, ok = ["sampler NFE | FD reference  | FD candidate  | difference / seed spread"], True
    for mi, (method, step_list) in enumerate(steps.items()):
        for ni, n in enumerate(step_list):
            ref, new = fds[0][mi, ni], fds[1][mi, ni]
            ratio = abs(new.mean() - ref.mean()) / max(ref.std(), 1e-12)
            ok &= bool(ratio <= 1.0)
            lines.append(
                f"{method:5s} {nfe(n, method):4d} | {ref.mean():5.3f}±{ref.std():5.3f} | "
                f"{new.mean():5.3f}±{new.std():5.3f} | {ratio:.2f}"
            )
    mse = [
        denoising_mse(p, x_test[:120], _REPRO_SIGMAS, skip_scales(1.0), seed=0)
        for p in (reference, candidate)
    ]
    lines.append(
        "held-out denoising MSE, candidate / reference at σ = "
        + ", ".join(map(str, _REPRO_SIGMAS))
        + ": "
        + " ".join(f"{v:.4f}" for v in mse[1] / mse[0])
    )
    return lines, ok


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kexue_utils.skip_tuning")
    sub = parser.add_subparsers(dest="cmd", required=True)
    tr = sub.add_parser("train", help="train the U-Net and write the checkpoint")
    rp = sub.add_parser(
        "reproduce",
        help="retrain into a temporary file; compare hash and sample quality with the committed checkpoint",
    )
    for p in (tr, rp):
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--steps", type=int, default=1200)
    tr.add_argument("--out", type=Path, default=CHECKPOINT_PATH)
    args = parser.parse_args(argv)
    params, info = train(seed=args.seed, steps=args.steps, verbose=True)
    if args.cmd == "train":
        digest = save_checkpoint(params, args.out)
        size = args.out.stat().st_size
        print(
            f"final loss {info['final_loss']:.4f}; {info['seconds']:.1f} s; wrote {args.out} ({size} bytes)"
        )
        print(f"sha256 {digest}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        digest = save_checkpoint(params, Path(tmp) / "retrained.npz")
    same = digest == CHECKPOINT_SHA256
    print(
        f"retrained in {info['seconds']:.1f} s; sha256 {digest[:16]}… "
        f"{'equals' if same else 'differs from'} the committed {CHECKPOINT_SHA256[:16]}…"
    )
    lines, ok = _compare_checkpoints(load_checkpoint(), params)
    print("\n".join(lines))
    print(
        "reproduced: "
        + ("yes" if ok else "NO")
        + " (sample quality within the seed spread of the committed model)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(_main())
