"""EDM preconditioning, Karras noise levels, Euler and Heun samplers (book/skip_tuning.md, "EDM in brief").

Noise levels σ are accepted in [1e-6, 1e6]: outside that range float32 sampling and the logarithm in
c_noise stop being meaningful, so such input is refused with a clear error.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from kexue_utils import _validate as valid
from kexue_utils.skip_tuning import unet
from kexue_utils.skip_tuning.digits import bounded, images

SIGMA_DATA = 0.85  # RMS of the digits scaled to [-1, 1] (checked in the chapter)
SIGMA_MIN, SIGMA_MAX = 0.002, 80.0
METHODS = ("euler", "heun")
Denoiser = Callable[[jax.Array, jax.Array], jax.Array]


def _sigmas(name: str, value: ArrayLike, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    s = valid.finite_array(name, value, ndim, nonempty=True)
    if np.any(s < 1e-6) or np.any(s > 1e6):
        raise ValueError(f"{name} must lie in [1e-6, 1e6]")
    return s


def preconditioning(sigma: Any, sigma_data: float = SIGMA_DATA) -> tuple[Any, Any, Any, Any]:
    """Return (c_skip, c_out, c_in, c_noise) at noise level σ. Implements Eq. (skip-precond).

    NumPy input is checked; JAX input (e.g. traced inside ``jit``) is computed as it is.
    """
    xp: Any = jnp if isinstance(sigma, jax.Array) else np
    sigma = sigma if xp is jnp else _sigmas("sigma", sigma)
    sigma_data = valid.real_number("sigma_data", sigma_data, low=1e-3, high=1e3)
    s2 = sigma**2 + sigma_data**2
    return sigma_data**2 / s2, sigma * sigma_data / xp.sqrt(s2), 1.0 / xp.sqrt(s2), xp.log(sigma) / 4.0


def training_target(
    y: ArrayLike, noise: ArrayLike, sigma: ArrayLike, sigma_data: float = SIGMA_DATA
) -> np.ndarray:
    """Return the regression target (y − c_skip (y + σ n)) / c_out. Implements Eq. (skip-target)."""
    y_, n_ = bounded("y", y), bounded("noise", noise)
    if n_.shape != y_.shape:
        raise ValueError(f"noise must have the shape of y {y_.shape}, got {n_.shape}")
    c_skip, c_out, _, _ = preconditioning(sigma, sigma_data)
    if np.ndim(c_skip) and np.shape(c_skip) != y_.shape:
        raise ValueError(f"sigma must be a scalar or have the shape of y {y_.shape}, got {np.shape(c_skip)}")
    s = np.asarray(sigma, dtype=float)
    return (y_ - c_skip * (y_ + s * n_)) / c_out


def karras_sigmas(
    n_steps: int, sigma_min: float = SIGMA_MIN, sigma_max: float = SIGMA_MAX, kappa: float = 7.0
) -> np.ndarray:
    """Return the n_steps + 1 Karras noise levels, ending with 0. Implements Eq. (skip-karras)."""
    n = valid.integer("n_steps", n_steps, 1, 10**5)
    lo = valid.real_number("sigma_min", sigma_min, low=1e-6, high=1e6)
    hi = valid.real_number("sigma_max", sigma_max, low=1e-6, high=1e6)
    kappa = valid.real_number("kappa", kappa, low=0.5, high=20.0)
    if not lo < hi:
        raise ValueError(f"sigma_min must be < sigma_max, got {lo} and {hi}")
    if n == 1:
        return np.array([hi, 0.0])
    sig = (hi ** (1 / kappa) + np.arange(n) / (n - 1) * (lo ** (1 / kappa) - hi ** (1 / kappa))) ** kappa
    if np.any(np.diff(sig) >= 0):
        raise ValueError(f"sigma_min and sigma_max are too close for n_steps={n} distinct levels")
    return np.append(sig, 0.0)


def nfe(n_steps: int, method: str) -> int:
    """Return the number of network evaluations of ``n_steps`` sampler steps. Implements Eq. (skip-nfe)."""
    n = valid.integer("n_steps", n_steps, 1)
    return n if valid.choice("method", method, METHODS) == "euler" else 2 * n - 1


def _denoise(params: Any, x: jax.Array, sigma: jax.Array, rho: jax.Array) -> jax.Array:
    c_skip, c_out, c_in, c_noise = preconditioning(sigma)
    c = (lambda v: v[:, None, None, None]) if sigma.ndim else (lambda v: v)
    c_noise_b = jnp.broadcast_to(c_noise, (x.shape[0],))
    return c(c_skip) * x + c(c_out) * unet.forward(params, c(c_in) * x, c_noise_b, rho)


_denoise_jit = jax.jit(_denoise)


def denoise(params: Any, x: ArrayLike, sigma: ArrayLike, rho: ArrayLike = (1.0, 1.0, 1.0)) -> np.ndarray:
    """Return D(x; σ) = c_skip x + c_out F(c_in x; c_noise). Implements Eq. (skip-denoiser).

    ``sigma`` is one noise level or one per image; ``rho`` the three skip scales (or a row per image).
    """
    x_ = images("x", x)
    s = _sigmas("sigma", sigma, (0, 1))
    if s.ndim == 1 and s.shape != (len(x_),):
        raise ValueError(f"sigma must be a scalar or one value per image ({len(x_)}), got {s.shape}")
    r = unet.skip_rows("rho", rho, len(x_))
    f32 = lambda a: jnp.asarray(a, jnp.float32)  # noqa: E731
    return np.asarray(_denoise_jit(unet.check_params(params), f32(x_), f32(s), f32(r)))


def _euler_step(den: Denoiser, x: jax.Array, s: jax.Array, s_next: jax.Array) -> jax.Array:
    """Eq. (skip-euler): one step of slope d = (x − D(x; σ))/σ."""
    d = (x - den(x, s)) / s
    return x + (s_next - s) * d


def _heun_step(den: Denoiser, x: jax.Array, s: jax.Array, s_next: jax.Array) -> jax.Array:
    """Eq. (skip-heun): the Euler step corrected with the slope at its end point."""
    d = (x - den(x, s)) / s
    x_euler = x + (s_next - s) * d
    d_next = (x_euler - den(x_euler, s_next)) / s_next
    return x + (s_next - s) * 0.5 * (d + d_next)


def sample(
    x_T: ArrayLike,
    sigmas: ArrayLike,
    method: str,
    *,
    params: Any = None,
    rho: ArrayLike | Callable[[float], ArrayLike] = (1.0, 1.0, 1.0),
    denoiser: Denoiser | None = None,
) -> np.ndarray:
    """Return the end point of the probability-flow ODE integrated from ``x_T`` along ``sigmas``.

    Implements Eqs. (skip-ode), (skip-euler), (skip-heun); the last step to σ = 0 is an Euler step.
    ``x_T`` is already scaled by ``sigmas[0]``. Give the U-Net ``params`` with skip scales ``rho``
    (3 numbers, a row per image, or a function of σ returning either), or any ``denoiser(x, σ)``.
    """
    heun = valid.choice("method", method, METHODS) == "heun"
    sig = valid.finite_array("sigmas", sigmas, 1)
    in_range = sig.size >= 2 and sig[0] <= 1e6 and sig[-2] >= 1e-6 and sig[-1] >= 0
    if not in_range or np.any(np.diff(sig.astype(np.float32)) >= 0):
        raise ValueError("sigmas must decrease strictly (in float32) from ≤ 1e6 to ≥ 1e-6, then end at ≥ 0")
    sig = sig.astype(np.float32)
    if (params is None) == (denoiser is None):
        raise ValueError("params or denoiser: give exactly one of the two")
    if denoiser is None:
        x = jnp.asarray(images("x_T", x_T), jnp.float32)
        net = unet.check_params(params)
        rho_at = rho if callable(rho) else (lambda _s: rho)
        rows = {float(v): jnp.asarray(unet.skip_rows("rho", rho_at(float(v)), len(x))) for v in sig}

        def denoiser(x_: jax.Array, s_: jax.Array) -> jax.Array:  # the network with the scales of level σ
            return _denoise_jit(net, x_, s_, rows[float(s_)])

    elif callable(denoiser):
        x = jnp.asarray(valid.finite_array("x_T", x_T, nonempty=True), jnp.float32)
    else:
        raise TypeError(f"denoiser must be callable, got {type(denoiser).__name__}")
    for s, s_next in itertools.pairwise(jnp.asarray(sig)):
        x = (_heun_step if heun and s_next > 0 else _euler_step)(denoiser, x, s, s_next)
    return np.asarray(x)


def count_nfe(n_steps: int, method: str) -> int:
    """Return the number of denoiser calls :func:`sample` makes for ``n_steps`` Karras steps (counted)."""
    sigmas = karras_sigmas(n_steps)
    calls = [0]

    def den(x: Any, s: Any) -> Any:
        calls[0] += 1
        return 0.5 * x

    sample(np.zeros((1, 1)), sigmas, method, denoiser=den)
    return calls[0]
