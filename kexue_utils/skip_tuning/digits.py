"""The 8×8 scikit-learn digits as images in [-1, 1] (book/skip_tuning.md, Setup), and a tiling for display."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from kexue_utils import _validate as valid

N_DIGITS = 1797  # images in scikit-learn's digits


def load_split(test_size: int = 360, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(x_train, y_train, x_test, y_test)``, images (n, 8, 8, 1) in [-1, 1] and labels 0..9.

    The split is a fixed permutation from ``np.random.default_rng(seed)``; a pixel value v ∈ 0..16
    becomes v/8 − 1.
    """
    from sklearn.datasets import load_digits

    test_size = valid.integer("test_size", test_size, 1, N_DIGITS - 1)
    seed = valid.integer("seed", seed, 0)
    digits = load_digits()
    x = (digits.data.astype(np.float32) / 8.0 - 1.0).reshape(-1, 8, 8, 1)
    y = digits.target.astype(np.int32)
    perm = np.random.default_rng(seed).permutation(len(x))
    test, train = perm[:test_size], perm[test_size:]
    return x[train], y[train], x[test], y[test]


def bounded(name: str, value: ArrayLike, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Check that ``value`` is a non-empty finite real array within ±1e6 (safe in float32); return it."""
    a = valid.finite_array(name, value, ndim, nonempty=True)
    if np.max(np.abs(a)) > 1e6:
        raise ValueError(f"{name} must lie within ±1e6")
    return a


def images(name: str, value: ArrayLike) -> np.ndarray:
    """Check that ``value`` is a batch of 8×8 images (n, 8, 8, 1) within ±1e6; return it."""
    x = bounded(name, value, 4)
    if x.shape[1:] != (8, 8, 1):
        raise ValueError(f"{name} must be images of shape (n, 8, 8, 1), got {x.shape}")
    return x


def tile(x: ArrayLike, n_rows: int) -> np.ndarray:
    """Return the images ``x`` (n, 8, 8, 1) as one 2-D array of ``n_rows`` rows, dark ink on white."""
    imgs = images("x", x)
    n_rows = valid.integer("n_rows", n_rows, 1)
    if len(imgs) % n_rows:
        raise ValueError(f"n_rows must divide the number of images {len(imgs)}, got {n_rows}")
    pad = np.ones((len(imgs), 10, 10))
    pad[:, 1:9, 1:9] = -imgs[..., 0]
    return pad.reshape(n_rows, -1, 10, 10).transpose(0, 2, 1, 3).reshape(n_rows * 10, -1)
