"""Distances between distributions that several chapters use: W₂ between Gaussians, FD, precision/recall.

Shared by the chapters on self-consuming models (book/mad.md) and on skip-tuning (book/skip_tuning.md).
Every function is deterministic and uses no eigenvector *signs*: a symmetric square root V√ΛVᵀ is the
same whichever sign a LAPACK kernel gives each eigenvector, so the results agree across machines up to
rounding.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from threadpoolctl import ThreadpoolController

from kexue_utils import _validate as valid

__all__ = ["frechet_distance", "gaussian_w2", "knn_radii", "precision_recall", "sqrtm_psd"]

_BLAS: ThreadpoolController | None = None


def _one_blas_thread() -> Any:
    """A context with one BLAS thread: a fixed summation order, so ball-boundary cases cannot flip."""
    global _BLAS
    if _BLAS is None:  # scanning the loaded libraries costs milliseconds: do it once
        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


def sqrtm_psd(c: ArrayLike) -> np.ndarray:
    """Return the symmetric PSD square root of (a batch of) symmetric PSD matrices (…, d, d)."""
    w, v = np.linalg.eigh(np.asarray(c, dtype=float))
    return (v * np.sqrt(np.clip(w, 0, None))[..., None, :]) @ np.swapaxes(v, -1, -2)


def gaussian_w2(mu1: ArrayLike, cov1: ArrayLike, mu2: ArrayLike, cov2: ArrayLike) -> np.ndarray:
    """Return W₂² between N(μ₁, Σ₁) and N(μ₂, Σ₂). Implements Eq. (mad-w2).

    W₂² = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₂^{1/2} Σ₁ Σ₂^{1/2})^{1/2}). ``mu1``/``cov1`` may carry leading
    batch dimensions (…, d) and (…, d, d); ``mu2``/``cov2`` are one Gaussian, (d,) and (d, d).
    """
    c2 = valid.finite_array("cov2", cov2, 2)
    d = c2.shape[0]
    m2 = valid.finite_array("mu2", mu2, 1)
    m1 = valid.finite_array("mu1", mu1)
    c1 = valid.finite_array("cov1", cov1)
    if c2.shape != (d, d) or m2.shape != (d,):
        raise ValueError(f"cov2 must be (d, d) and mu2 (d,), got {c2.shape} and {m2.shape}")
    if m1.shape[-1:] != (d,) or c1.shape[-2:] != (d, d) or c1.shape[:-2] != m1.shape[:-1]:
        raise ValueError(
            f"mu1 (…, {d}) and cov1 (…, {d}, {d}) must match mu2/cov2, got {m1.shape}, {c1.shape}"
        )
    for name, c in (("cov1", c1), ("cov2", c2)):
        scale = max(float(np.max(np.abs(c), initial=0.0)), 1e-300)
        if np.max(np.abs(c - np.swapaxes(c, -1, -2)), initial=0.0) > 1e-10 * scale:
            raise ValueError(f"{name} must be symmetric")
        if c.size and np.min(np.linalg.eigvalsh(c)) < -1e-10 * scale:
            raise ValueError(f"{name} must be positive semidefinite")
    root2 = sqrtm_psd(c2)
    inner = root2 @ c1 @ root2
    trace_root = np.sum(
        np.sqrt(np.clip(np.linalg.eigvalsh((inner + np.swapaxes(inner, -1, -2)) / 2), 0, None)), -1
    )
    mean_term = np.sum((m1 - m2) ** 2, axis=-1)
    trace_term = np.trace(c1, axis1=-2, axis2=-1) + np.trace(c2) - 2 * trace_root
    return np.asarray(mean_term + np.clip(trace_term, 0, None))


def _point_sets(real: ArrayLike, fake: ArrayLike, min_rows: int) -> tuple[np.ndarray, np.ndarray]:
    r = valid.finite_array("real", real, 2)
    f = valid.finite_array("fake", fake, 2)
    for name, arr in (("real", r), ("fake", f)):
        if arr.shape[0] < min_rows or arr.shape[1] < 1:
            raise ValueError(f"{name} needs at least {min_rows} rows and 1 column, got shape {arr.shape}")
    if r.shape[1] != f.shape[1]:
        raise ValueError(f"real and fake must have the same number of columns, got {r.shape} and {f.shape}")
    return r, f


def frechet_distance(real: ArrayLike, fake: ArrayLike) -> float:
    """Return the Fréchet distance: W₂² between Gaussians fitted to two point sets (n, d), as in FID."""
    r, f = _point_sets(real, fake, 2)
    return float(
        gaussian_w2(
            f.mean(0),
            np.cov(f, rowvar=False).reshape(r.shape[1], -1),
            r.mean(0),
            np.cov(r, rowvar=False).reshape(r.shape[1], -1),
        )
    )


def _sq_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances between the rows of a and b (through BLAS, clipped at 0)."""
    return np.clip(np.sum(a**2, 1)[:, None] + np.sum(b**2, 1)[None, :] - 2.0 * (a @ b.T), 0.0, None)


def knn_radii(x: ArrayLike, k: int = 5) -> np.ndarray:
    """Return each point's squared distance to its k-th nearest *other* point of the set x (n, d)."""
    points = valid.finite_array("x", x, 2)
    k_ = valid.integer("k", k, 1, max(points.shape[0] - 1, 1))
    with _one_blas_thread():
        dist = _sq_distances(points, points)
    np.fill_diagonal(dist, np.inf)
    return np.partition(dist, k_ - 1, axis=1)[:, k_ - 1]


def _coverage(points: np.ndarray, centres: np.ndarray, radii_sq: np.ndarray) -> float:
    """The share of ``points`` inside the union of closed balls B(centre_i, √radii_sq_i)."""
    inside = np.zeros(points.shape[0], dtype=bool)
    with _one_blas_thread():
        for start in range(0, points.shape[0], 2048):
            block = _sq_distances(points[start : start + 2048], centres)
            inside[start : start + 2048] = np.any(block <= radii_sq[None, :], axis=1)
    return float(inside.mean())


def precision_recall(
    real: ArrayLike, fake: ArrayLike, k: int = 5, real_radii: ArrayLike | None = None
) -> tuple[float, float]:
    """Return the k-NN (precision, recall) of Kynkäänniemi et al. (2019). Implements Eq. (mad-pr).

    Each point gets the closed ball reaching its k-th nearest other point of the same set. Precision is
    the share of ``fake`` inside the union of the balls of ``real``; recall the share of ``real`` inside
    the balls of ``fake``. ``real_radii`` (squared, from :func:`knn_radii`) may be passed precomputed.
    """
    r, f = _point_sets(real, fake, 2)
    k_ = valid.integer("k", k, 1)
    if k_ >= min(r.shape[0], f.shape[0]):
        raise ValueError(f"k must be smaller than the number of points of each set, got k = {k_}")
    if real_radii is None:
        radii = knn_radii(r, k_)
    else:
        radii = valid.finite_array("real_radii", real_radii, 1)
        if radii.shape != (r.shape[0],) or np.any(radii < 0):
            raise ValueError(f"real_radii must hold one squared radius ≥ 0 per real point ({r.shape[0]})")
    return _coverage(f, r, radii), _coverage(r, f, knn_radii(f, k_))
