"""The chapter's experiment (book/skip_tuning.md): sweeps over skip scales, and the mechanism measurements.

Sample quality is measured in the committed classifier's feature space with the shared
:mod:`kexue_utils.metrics` (Fréchet distance, precision/recall) and by the images' high-frequency share."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import numpy as np
from numpy.typing import ArrayLike

from kexue_utils import _validate as valid
from kexue_utils import metrics
from kexue_utils.skip_tuning import classifier, edm, unet
from kexue_utils.skip_tuning.digits import images

Rho = ArrayLike | Callable[[float], ArrayLike]  # skip scales, or a function of σ returning them
Cell = tuple[str, str, int]  # (setting, method, Karras steps)
METRICS = ("FD", "precision", "recall", "HF share")
BLOCK = 640  # images per network call in a sweep: one batch shape, so the network compiles once
_RADIUS = np.hypot(*np.meshgrid(np.fft.fftfreq(8), np.fft.fftfreq(8)))  # radial frequency of an 8×8 DFT


def high_freq_share(x: ArrayLike, cutoff: float = 0.25) -> np.ndarray:
    """Return, per image, the share of its (mean-removed) spectral energy at |f| ≥ ``cutoff`` cycles/pixel.

    |f| is the radial frequency of the 8×8 discrete Fourier transform; a flat image has share 0.
    """
    img = images("x", x)[..., 0]
    cutoff = valid.real_number("cutoff", cutoff, low=0.0, high=0.5, low_open=True)
    power = np.abs(np.fft.fft2(img - img.mean(axis=(1, 2), keepdims=True))) ** 2
    high = power[:, _RADIUS >= cutoff].sum(1)
    total = power.sum(axis=(1, 2))
    return np.divide(high, total, out=np.zeros_like(total), where=total > 1e-12)


def _rho_at(rho: Rho, sigma: float) -> np.ndarray:
    return unet.skip_rows("settings", rho(sigma) if callable(rho) else rho, 1).reshape(-1)


def sweep(
    params: Any,
    clf: Any,
    real_features: ArrayLike,
    settings: Mapping[str, Rho],
    budgets: Sequence[tuple[str, int]],
    seeds: Sequence[int],
    n_samples: int = 32,
    with_pr: bool = True,
) -> dict[Cell, np.ndarray]:
    """Return, per (setting, method, steps), the metrics (seed, 4): FD, precision, recall, HF share.

    ``settings`` maps a name to skip scales (3 numbers, or a function of σ returning them);
    ``budgets`` lists (method, Karras steps). Seed s draws the starting noise σ_max·n of
    ``n_samples`` images from ``jax.random.key(s)``; every setting and budget starts from the same
    noise (common random numbers), so paired differences isolate the effect of the skip scales.
    Samples are clipped to [−1, 1]; FD and precision/recall (k = 5; NaN unless ``with_pr``) use all
    of ``real_features``.
    """
    unet.check_params(params)
    classifier.check_params(clf)
    real = valid.finite_array("real_features", real_features, 2)
    if real.shape[0] < 6 or real.shape[1] != classifier.N_FEATURES:
        raise ValueError(f"real_features must be (≥ 6, {classifier.N_FEATURES}), got {real.shape}")
    if not isinstance(settings, Mapping) or not settings:
        raise TypeError("settings must be a non-empty dict of name → skip scales (or function of σ)")
    names = [str(k) for k in settings]
    for rho in settings.values():
        _rho_at(rho, edm.SIGMA_MAX)
    plan = [
        (valid.choice("budgets method", m, edm.METHODS), valid.integer("budgets steps", n, 1, 10**4))
        for m, n in valid.sequence("budgets", budgets, of="(method, steps) pairs")
    ]
    seed_list = valid.integers("seeds", seeds, 0)
    n = valid.integer("n_samples", n_samples, 6, 10**4)
    radii = metrics.knn_radii(real, 5) if with_pr else None
    k, m = len(names), len(seed_list)
    noise = [np.asarray(jax.random.normal(jax.random.key(s), (n, 8, 8, 1))) for s in seed_list]
    x_T = np.tile(edm.SIGMA_MAX * np.concatenate(noise), (k, 1, 1, 1))  # setting-major rows
    pad = -len(x_T) % BLOCK
    x_T = np.concatenate([x_T, np.zeros((pad, 8, 8, 1))])
    out = {(name, meth, st): np.full((m, len(METRICS)), np.nan) for name in names for meth, st in plan}

    def all_rows(sigma: float) -> np.ndarray:  # one row of skip scales per image; padding gets ρ = 1
        per_setting = np.stack([_rho_at(rho, sigma) for rho in settings.values()])
        return np.concatenate([np.repeat(per_setting, m * n, axis=0), np.ones((pad, 3))])

    for method, steps in plan:
        x = np.empty_like(x_T)
        for b in range(0, len(x_T), BLOCK):  # fixed blocks: the network compiles once
            rows = functools.partial(lambda sigma, b: all_rows(sigma)[b : b + BLOCK], b=b)
            x[b : b + BLOCK] = edm.sample(
                x_T[b : b + BLOCK], edm.karras_sigmas(steps), method, params=params, rho=rows
            )
        x = np.clip(x[: len(x) - pad], -1, 1)
        feats = classifier.features(clf, x).reshape(k, m, n, -1)
        hf = high_freq_share(x).reshape(k, m, n).mean(-1)
        for i, j in np.ndindex(k, m):
            cell = out[names[i], method, steps][j]
            cell[0], cell[3] = metrics.frechet_distance(real, feats[i, j]), hf[i, j]
            if radii is not None:
                cell[1:3] = metrics.precision_recall(real, feats[i, j], 5, real_radii=radii)
    return out


def paired(
    results: Mapping[Cell, np.ndarray], cell: Cell, base: str | Cell = "ρ = 1", metric: int = 0
) -> dict[str, Any]:
    """Return the change of a metric from ``base`` to ``cell`` over the seeds, paired by seed.

    ``base`` is a setting name (same sampler and steps as ``cell``) or another cell. Keys: ``delta``
    (per seed), its ``mean``, sample ``sd``, paired ``t`` = mean/(sd/√k) and ``better``, the number
    of seeds in which the metric fell.
    """
    ref: Cell = (base, cell[1], cell[2]) if isinstance(base, str) else base
    if not isinstance(results, Mapping) or cell not in results or ref not in results:
        raise ValueError(f"results must hold the cell {cell} and the base {ref}")
    metric = valid.integer("metric", metric, 0, len(METRICS) - 1)
    delta = results[cell][:, metric] - results[ref][:, metric]
    if len(delta) < 2 or not np.all(np.isfinite(delta)):
        raise ValueError(f"results of {cell} and {ref} must hold ≥ 2 seeds of finite metric {metric}")
    mean, sd = float(delta.mean()), float(delta.std(ddof=1))
    t = mean * np.sqrt(len(delta)) / sd if sd > 0 else 0.0
    return {"delta": delta, "mean": mean, "sd": sd, "t": float(t), "better": int((delta < 0).sum())}


def table(
    results: Mapping[Cell, np.ndarray], method: str, steps: Sequence[int], names: Sequence[str]
) -> list[str]:
    """Return printable rows: FD at ρ = 1, then per setting mean ± paired sd of ΔFD and seeds it fell."""
    method = valid.choice("method", method, edm.METHODS)
    steps = valid.integers("steps", steps, 1)
    fd_1 = [results[("ρ = 1", method, n)][:, 0].mean() for n in steps if ("ρ = 1", method, n) in results]
    rows = [f"{method:18s}" + "".join(f"{edm.nfe(n, method):13d} NFE" for n in steps)]
    rows.append(f"{'FD at ρ = 1':18s}" + "".join(f"{v:17.2f}" for v in fd_1))

    def cell(name: str, n: int) -> str:
        p = paired(results, (name, method, n)) if (name, method, n) in results else None
        return "·" if p is None else f"{p['mean']:+.2f}±{p['sd']:.2f} {p['better']}/{len(p['delta'])}"

    return rows + [f"{name:18s}" + "".join(cell(name, n).rjust(17) for n in steps) for name in names]


def equivalent_nfe(nfe_grid: ArrayLike, fd_curve: ArrayLike, fd: float) -> float:
    """Return the NFE at which an FD curve first reaches ``fd``, linear in log NFE (NaN if it never does)."""
    grid = valid.finite_array("nfe_grid", nfe_grid, 1)
    curve = valid.finite_array("fd_curve", fd_curve, 1)
    if grid.shape != curve.shape or len(grid) < 2 or np.any(np.diff(grid) <= 0) or grid[0] <= 0:
        raise ValueError("nfe_grid must increase from > 0 and match fd_curve, with ≥ 2 points")
    fd = valid.real_number("fd", fd)
    below = np.flatnonzero(curve <= fd)
    if len(below) == 0 or below[0] == 0:
        return float("nan") if len(below) == 0 else float(grid[0])
    i = below[0]
    w = (curve[i - 1] - fd) / (curve[i - 1] - curve[i])
    return float(np.exp((1 - w) * np.log(grid[i - 1]) + w * np.log(grid[i])))


def denoising_errors(
    params: Any, clf: Any, y: ArrayLike, sigmas: ArrayLike, rho: ArrayLike, seed: int = 0
) -> np.ndarray:
    """Return per-image denoising errors (σ, image, 2): pixel MSE and classifier-feature MSE.

    Image i at noise level σ is D(y_i + σ n_i; σ) with n from ``np.random.default_rng(seed)``
    (the same draw for every ρ and σ); the feature error compares classifier features of the clipped
    denoised image with those of y_i.
    """
    y_ = images("y", y)
    sig = edm._sigmas("sigmas", sigmas, 1)
    noise = np.random.default_rng(valid.integer("seed", seed, 0)).standard_normal(y_.shape)
    f_clean = classifier.features(clf, y_)
    out = np.empty((len(sig), len(y_), 2))
    for i, s in enumerate(sig):
        d = edm.denoise(params, y_ + s * noise, s, rho)
        out[i, :, 0] = np.mean((d - y_) ** 2, axis=(1, 2, 3))
        out[i, :, 1] = np.mean((classifier.features(clf, np.clip(d, -1, 1)) - f_clean) ** 2, axis=1)
    return out
