"""The chapter's small U-Net with scalable skip connections (book/skip_tuning.md, "The U-Net and its skips").

Encoder outputs s_0, s_1, s_2 (8×8, 4×4, 2×2) are scaled by ρ_i and concatenated into the decoder blocks;
every block is conv → + noise embedding → GroupNorm → SiLU → conv, plus a 1×1 convolution shortcut."""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from kexue_utils import _validate as valid
from kexue_utils.skip_tuning.digits import bounded, images

Params = dict[str, Any]
WIDTHS = (16, 32, 32)  # channels at 8×8, 4×4 and 2×2
EMB_DIM, N_FREQ = 64, 16  # noise embedding: 16 sine/cosine pairs → 64 features
GROUP_SIZE = 8  # channels per GroupNorm group


def skip_scales(rho_bottom: float, rho_top: float = 1.0, n_skips: int = len(WIDTHS)) -> np.ndarray:
    """Return the skip scales ρ_0 (outermost) … ρ_{k−1} (innermost). Implements Eq. (skip-rho)."""
    top = valid.real_number("rho_top", rho_top, low=-1e6, high=1e6)
    bottom = valid.real_number("rho_bottom", rho_bottom, low=-1e6, high=1e6)
    k = valid.integer("n_skips", n_skips, 2, 10**6)
    return top + np.arange(k) / (k - 1) * (bottom - top)


def _conv_init(key: jax.Array, k: int, cin: int, cout: int, scale: float = 1.0) -> Params:
    w = jax.random.normal(key, (k, k, cin, cout)) * (scale / math.sqrt(k * k * cin))
    return {"w": w, "b": jnp.zeros(cout)}


def _block_init(key: jax.Array, cin: int, cout: int) -> Params:
    k1, k2, k3, k4 = jax.random.split(key, 4)
    emb = {"w": jax.random.normal(k4, (EMB_DIM, cout)) / math.sqrt(EMB_DIM), "b": jnp.zeros(cout)}
    return {
        "conv_a": _conv_init(k1, 3, cin, cout),
        "conv_b": _conv_init(k2, 3, cout, cout, scale=0.5),
        "short": _conv_init(k3, 1, cin, cout),
        "emb": emb,
    }


def init(seed: int) -> Params:
    """Return fresh U-Net parameters (a nested dict of JAX arrays) drawn from ``jax.random.key(seed)``."""
    ks = jax.random.split(jax.random.key(valid.integer("seed", seed, 0, 2**63 - 2)), 12)
    c0, c1, c2 = WIDTHS
    dense = lambda k, n, m: {"w": jax.random.normal(k, (n, m)) / math.sqrt(n), "b": jnp.zeros(m)}  # noqa: E731
    return {
        "emb1": dense(ks[0], 2 * N_FREQ, EMB_DIM),
        "emb2": dense(ks[1], EMB_DIM, EMB_DIM),
        "conv_in": _conv_init(ks[2], 3, 1, c0),
        "enc0": _block_init(ks[3], c0, c0),  # 8×8 → s_0
        "enc1": _block_init(ks[4], c0, c1),  # 4×4 → s_1
        "enc2": _block_init(ks[5], c1, c2),  # 2×2 → s_2
        "mid": _block_init(ks[6], c2, c2),
        "dec2": _block_init(ks[7], 2 * c2, c2),  # takes s_2
        "dec1": _block_init(ks[8], c2 + c1, c1),  # takes s_1
        "dec0": _block_init(ks[9], c1 + c0, c0),  # takes s_0
        "conv_out": _conv_init(ks[10], 3, c0, 1, scale=0.1),
    }


@functools.cache
def param_shapes() -> Any:
    """The pytree of parameter shapes of :func:`init` (what a checkpoint must hold)."""
    return jax.tree.map(lambda a: tuple(a.shape), jax.eval_shape(lambda: init(0)))


def check_params(params: Any) -> Params:
    """Return ``params`` if it is a dict of float arrays of the U-Net's structure; raise otherwise."""
    try:
        kinds = jax.tree.leaves(jax.tree.map(lambda a: np.dtype(a.dtype).kind, params))
        shapes = jax.tree.map(lambda a: tuple(a.shape), params)
    except (AttributeError, TypeError) as exc:
        raise TypeError("params must be a dict of U-Net parameter arrays") from exc
    if shapes != param_shapes() or set(kinds) != {"f"}:
        raise ValueError("params is not a dict of float arrays of the U-Net's structure and shapes")
    return params


def _conv(p: Params, x: jax.Array) -> jax.Array:
    dims = ("NHWC", "HWIO", "NHWC")
    return jax.lax.conv_general_dilated(x, p["w"], (1, 1), "SAME", dimension_numbers=dims) + p["b"]


def _group_norm(x: jax.Array, group_size: int = GROUP_SIZE, eps: float = 1e-5) -> jax.Array:
    n, h, w, c = x.shape
    g = x.reshape(n, h, w, c // group_size, group_size)
    mean, var = g.mean(axis=(1, 2, 4), keepdims=True), g.var(axis=(1, 2, 4), keepdims=True)
    return ((g - mean) / jnp.sqrt(var + eps)).reshape(n, h, w, c)


def _block(p: Params, x: jax.Array, emb: jax.Array) -> jax.Array:
    # The first operation on the (concatenated) input is a convolution: a scale on some input
    # channels changes their weight in the sum before any normalisation sees them.
    h = _conv(p["conv_a"], x) + (emb @ p["emb"]["w"] + p["emb"]["b"])[:, None, None, :]
    return _conv(p["conv_b"], jax.nn.silu(_group_norm(h))) + _conv(p["short"], x)


def _down(x: jax.Array) -> jax.Array:
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def _up(x: jax.Array) -> jax.Array:
    return jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)


def _embedding(p: Params, c_noise: jax.Array) -> jax.Array:
    freqs = jnp.exp(-jnp.arange(N_FREQ) * (math.log(100.0) / N_FREQ)) * 4.0
    t = c_noise[:, None] * freqs[None, :]
    e = jax.nn.silu(jnp.concatenate([jnp.sin(t), jnp.cos(t)], axis=1) @ p["emb1"]["w"] + p["emb1"]["b"])
    return jax.nn.silu(e @ p["emb2"]["w"] + p["emb2"]["b"])


@jax.jit
def forward(params: Params, x_in: jax.Array, c_noise: jax.Array, rho: jax.Array) -> jax.Array:
    """Unchecked, jitted :func:`apply`: x_in (n, 8, 8, 1), c_noise (n,), rho (3,) or (n, 3)."""
    emb = _embedding(params, c_noise)
    s0 = _block(params["enc0"], _conv(params["conv_in"], x_in), emb)
    s1 = _block(params["enc1"], _down(s0), emb)
    s2 = _block(params["enc2"], _down(s1), emb)
    h = _block(params["mid"], s2, emb)
    r = jnp.reshape(rho, (-1, 1, 1, len(WIDTHS)))
    h = _block(params["dec2"], jnp.concatenate([h, r[..., 2:3] * s2], axis=-1), emb)
    h = _block(params["dec1"], jnp.concatenate([_up(h), r[..., 1:2] * s1], axis=-1), emb)
    h = _block(params["dec0"], jnp.concatenate([_up(h), r[..., 0:1] * s0], axis=-1), emb)
    return _conv(params["conv_out"], jax.nn.silu(_group_norm(h)))


def skip_rows(name: str, rho: ArrayLike, n: int) -> np.ndarray:
    """Check skip scales: 3 numbers, or one row of 3 per image (n, 3); return them as float32."""
    r = bounded(name, rho, (1, 2))
    if r.shape not in ((len(WIDTHS),), (n, len(WIDTHS))):
        raise ValueError(f"{name} must be 3 skip scales (or one row of 3 per image), got {r.shape}")
    return r.astype(np.float32)


def apply(params: Params, x_in: ArrayLike, c_noise: ArrayLike, rho: ArrayLike) -> np.ndarray:
    """Return the network output F(c_in x; c_noise) with skip s_i multiplied by ``rho[i]``.

    Implements Eqs. (skip-rho) and (skip-pitfall): the scale multiplies s_i before the concatenation,
    whose first consumer is a convolution. ``x_in`` is (n, 8, 8, 1), ``c_noise`` (n,), ``rho`` (3,)
    (outermost skip first) or (n, 3).
    """
    x = images("x_in", x_in)
    c = bounded("c_noise", c_noise, 1)
    if c.shape != (len(x),):
        raise ValueError(f"c_noise must hold one value per image ({len(x)}), got {c.shape}")
    r = skip_rows("rho", rho, len(x))
    f32 = lambda a: jnp.asarray(a, jnp.float32)  # noqa: E731
    return np.asarray(forward(check_params(params), f32(x), f32(c), f32(r)))


def gn_first_block(
    params: Params, backbone: ArrayLike, skip: ArrayLike, rho: float, group_size: int = GROUP_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """Return (normalised branch, 1×1 shortcut) of an EDM-style block on ``concat(backbone, ρ·skip)``.

    EDM's blocks start with GroupNorm → SiLU → conv on the raw concatenation and add a 1×1 projection
    of it; here both use the ``dec0`` weights. Eq. (skip-pitfall): when no GroupNorm group of
    ``group_size`` channels straddles the backbone/skip boundary, the first output does not depend on
    ρ > 0 (up to the norm's ε); the shortcut is linear in ρ·skip whatever the groups.
    """
    p = check_params(params)["dec0"]
    h, s = bounded("backbone", backbone, 4), bounded("skip", skip, 4)
    c_in = p["conv_a"]["w"].shape[2]
    if s.shape[:3] != h.shape[:3] or h.shape[-1] + s.shape[-1] != c_in:
        raise ValueError(f"backbone and skip must share (n, h, w) and have {c_in} channels together")
    rho = valid.real_number("rho", rho, low=-1e6, high=1e6)
    if c_in % valid.integer("group_size", group_size, 1, c_in):
        raise ValueError(f"group_size must divide {c_in}, got {group_size}")
    z = jnp.concatenate([jnp.asarray(h, jnp.float32), rho * jnp.asarray(s, jnp.float32)], axis=-1)
    main = _conv(p["conv_a"], jax.nn.silu(_group_norm(z, group_size)))
    return np.asarray(main), np.asarray(_conv(p["short"], z))


def draw(ax: Any, rho: ArrayLike) -> None:
    """Draw the U-Net on the matplotlib axes ``ax``, labelling skip s_i with its scale ``rho[i]``."""
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be matplotlib Axes, got {type(ax).__name__}")
    r = skip_rows("rho", rho, 1).reshape(-1)
    arrow = {"arrowstyle": "-|>", "lw": 0.9}

    def box(x: float, y: float, text: str, color: str) -> None:
        ax.text(x, y, text, ha="center", va="center", fontsize=8, bbox={"fc": color, "boxstyle": "square"})

    box(0, 4, "x_in → conv", "#eeeeee")
    box(6, 4, "GN → SiLU → conv → F", "#eeeeee")
    ax.annotate("", (0, 3.3), (0, 3.7), arrowprops=arrow)
    ax.annotate("", (6, 3.7), (6, 3.3), arrowprops=arrow)
    for i, (c, res) in enumerate(zip(WIDTHS, ("8×8", "4×4", "2×2"), strict=True)):
        y = 3 - 1.2 * i
        box(0, y, f"enc{i}: {c} ch, {res}", "#cfe2f3")
        box(6, y, f"dec{i}: {c} ch, {res}", "#d9ead3")
        ax.annotate("", (5.0, y), (1.0, y), arrowprops=arrow | {"color": "#cc0000", "ls": "--"})
        ax.text(3, y + 0.12, f"s_{i} × ρ_{i} = {r[i]:.2f}", ha="center", fontsize=8, color="#cc0000")
        if i < len(WIDTHS) - 1:  # avg-pool down the encoder, upsample up the decoder
            ax.annotate("", (0, y - 0.9), (0, y - 0.3), arrowprops=arrow)
            ax.annotate("", (6, y - 0.3), (6, y - 0.9), arrowprops=arrow)
    yb = 3 - 1.2 * len(WIDTHS)
    box(3, yb, f"mid: {WIDTHS[-1]} ch, 2×2", "#fff2cc")
    ax.annotate("", (2.1, yb), (0, yb + 0.9), arrowprops=arrow)
    ax.annotate("", (6, yb + 0.9), (3.9, yb), arrowprops=arrow)
    ax.set(xlim=(-1.2, 7.2), ylim=(-1.2, 4.5))
    ax.set_axis_off()
