"""Unargmaxable classes of a softmax layer, each verdict with a checked proof (chapter ``book/unargmax.md``).

A class ``k`` of the logits ``W x + b`` (``W`` of shape ``(n, d)``) is *argmaxable* when some ``x ∈ ℝ^d``
makes it the strict argmax, and *unargmaxable* otherwise. :func:`detect` gives every class one of three
verdicts, each with a proof that is checked before it is returned:

* argmaxable — a witness ``x`` at which ``k`` provably beats every other class: the float64 logits must
  clear a rigorous rounding bound (Eq. (unargmax-margin)); near-ties are re-evaluated in exact rational
  arithmetic (:func:`is_strict_argmax`).
* unargmaxable — convex weights ``α`` with ``Σ α_i w_i = w_k`` and ``Σ α_i b_i ≥ b_k`` (Eq. (unargmax-cert)),
  satisfied to within ``CERT_TOL`` times the scale of ``W`` and ``b`` (:func:`certificate_error`).
* undecided — neither proof was found (the class lies within rounding distance of the boundary of the
  hull); the violation of the best convex weights found is reported instead.

A witness always wins: convex weights are accepted only after the witness search has failed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import nnls
from threadpoolctl import threadpool_limits

from kexue_utils import _validate as valid

__all__ = [
    "ARGMAXABLE",
    "CERT_TOL",
    "UNARGMAXABLE",
    "UNDECIDED",
    "Detection",
    "argmax_grid",
    "box_lp_argmaxable",
    "braid_reflect",
    "certificate_error",
    "count_curve",
    "detect",
    "facet_problem",
    "frank_wolfe_min_norm",
    "hull_interior",
    "is_strict_argmax",
    "load_minilm_embeddings",
    "load_minilm_vocab",
    "min_norm_point",
    "random_softmax",
    "strict_argmax_margin",
    "unargmaxable_classes",
]

#: Certificate tolerance: |Σα − 1|, α_k and the negative parts of α may not exceed it; |Σ α_i w_i − w_k|
#: and the bias shortfall may not exceed ``CERT_TOL · max(max|W|, max|b|)``.
CERT_TOL = 1e-12
#: the three verdicts of :func:`detect`
ARGMAXABLE, UNARGMAXABLE, UNDECIDED = 1, -1, 0
_U64, _U32 = 2.0**-53, 2.0**-24
_BLOCK = 512  # rows per block of the float32 products (≈ 60 MB per block for 30k columns)
_RIVALS = 64  # competitors added to the working set of the exact search per round
_MAX_EXACT = 256  # near-ties re-evaluated in rational arithmetic, at most


def _gamma(m: int, u: float) -> float:
    """Higham's γ_m = m u / (1 − m u): bound on the relative rounding error of an m-term dot product."""
    return m * u / (1.0 - m * u)


def _validate(W: ArrayLike, b: ArrayLike | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Return W as a finite non-empty 2-D float64 array and b (or None) as a finite vector, one per row."""
    W_arr = valid.finite_array("W", W, ndim=2, nonempty=True)
    return W_arr, None if b is None else _vector("b", b, W_arr.shape[0], "the rows of W")


def _vector(name: str, value: object, length: int, of: str) -> np.ndarray:
    arr = valid.finite_array(name, value)
    if arr.shape != (length,):
        raise ValueError(f"{name} must have shape ({length},) to match {of}, got {arr.shape}")
    return arr


def _class_indices(name: str, value: object, n: int) -> np.ndarray:
    arr = valid.integer_array(name, value)
    if arr.ndim != 1 or np.any(arr < 0) or np.any(arr >= n):
        raise ValueError(f"{name} must be a 1-D array of class indices in [0, {n})")
    return arr


# ------------------------------------------------------------------------------------ checking proofs
def _gaps(
    W: np.ndarray, norms: np.ndarray, b: np.ndarray | None, x: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Float64 logit gaps ŝ_k − ŝ_i and the rounding bounds 2(e_k + e_i) of Eq. (unargmax-margin)."""
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow leaves a gap that proves nothing
        s = W @ x + (0.0 if b is None else b)
        e = norms * math.hypot(*x) + (0.0 if b is None else np.abs(b))  # (hypot: no overflow in ‖x‖²)
        e = _gamma(W.shape[1] + 1, _U64) * e + W.shape[1] * 2.0**-1070  # (the last term: underflow)
        gaps, bounds = s[k] - s, 2.0 * (e[k] + e)
    gaps[k] = np.inf
    return gaps, bounds


def _exact_gap(W: np.ndarray, b: np.ndarray | None, x: np.ndarray, k: int, i: int) -> Fraction:
    """s_k − s_i in exact rational arithmetic (every float is a rational number)."""
    gap = Fraction(0) if b is None else Fraction(float(b[k])) - Fraction(float(b[i]))
    for wk, wi, xj in zip(W[k].tolist(), W[i].tolist(), x.tolist(), strict=True):
        gap += (Fraction(wk) - Fraction(wi)) * Fraction(xj)
    return gap


def _settled(
    W: np.ndarray, b: np.ndarray | None, x: np.ndarray, k: int, gaps: np.ndarray, bounds: np.ndarray
) -> bool:
    """True only if k is the strict argmax of the exact logits W x + b, given the float gaps and bounds."""
    others = np.arange(len(gaps)) != k
    if not np.all(np.isfinite(gaps[others])) or np.any(gaps < -bounds):  # overflow, or k provably loses
        return False
    unsure = np.nonzero(gaps <= bounds)[0]
    return len(unsure) <= _MAX_EXACT and all(_exact_gap(W, b, x, k, int(i)) > 0 for i in unsure)


def _proves(W: np.ndarray, norms: np.ndarray, b: np.ndarray | None, x: np.ndarray, k: int) -> bool:
    """True only if k is the strict argmax of the exact logits W x + b (the check behind every witness)."""
    return _settled(W, b, x, k, *_gaps(W, norms, b, x, k))


def strict_argmax_margin(W: ArrayLike, x: ArrayLike, k: int, b: ArrayLike | None = None) -> float:
    """Return the certified margin of class k at x: positive only if k is the strict argmax of W x + b.

    Implements Eq. (unargmax-margin): ``min_{i≠k} (ŝ_k − ŝ_i − 2(e_k + e_i))`` with float64 logits ŝ and
    ``e_i = γ_{d+1}(‖w_i‖‖x‖ + |b_i|)`` (Higham, Eq. 3.5, with Cauchy–Schwarz); the factor 2 covers the
    rounding of the bound and of the subtraction. With a single class the margin is +inf.
    """
    W_arr, b_arr = _validate(W, b)
    n, d = W_arr.shape
    k = valid.integer("k", k, 0, n - 1)
    x_arr = _vector("x", x, d, "the columns of W")
    gaps, bounds = _gaps(W_arr, np.linalg.norm(W_arr, axis=1), b_arr, x_arr, k)
    return float(np.min(gaps - bounds))


def is_strict_argmax(W: ArrayLike, x: ArrayLike, k: int, b: ArrayLike | None = None) -> bool:
    """Return True if k is the strict argmax of the exact logits W x + b (Eq. (unargmax-strict)).

    Competitors that Eq. (unargmax-margin) cannot separate from k are compared in exact rational
    arithmetic; with more than 256 such near-ties the answer is False (not proved).
    """
    W_arr, b_arr = _validate(W, b)
    n, d = W_arr.shape
    k = valid.integer("k", k, 0, n - 1)
    return _proves(W_arr, np.linalg.norm(W_arr, axis=1), b_arr, _vector("x", x, d, "the columns of W"), k)


def _violation(W: np.ndarray, b: np.ndarray | None, k: int, alpha: np.ndarray) -> float:
    """Largest violation of Eq. (unargmax-cert) by alpha, the rows relative to max(max|W|, max|b|)."""
    weights = max(-float(alpha.min()), abs(float(alpha[k])), abs(float(alpha.sum()) - 1.0))
    nz = alpha != 0  # (the sums run over the support only)
    rows = float(np.abs(alpha[nz] @ W[nz] - W[k]).max())
    if b is not None:
        rows = max(rows, float(b[k] - alpha[nz] @ b[nz]))
    return max(weights, rows / _scale(W, b))


def _scale(W: np.ndarray, b: np.ndarray | None) -> float:
    """max(max|W|, max|b|), at least the smallest normal float."""
    top = max(float(W.max()), -float(W.min()), 0.0 if b is None else float(np.abs(b).max()))
    return max(top, 2.0**-1022)


def certificate_error(W: ArrayLike, k: int, alpha: ArrayLike, b: ArrayLike | None = None) -> float:
    """Return how far alpha is from proving class k unargmaxable, in units of the tolerance.

    Implements Eq. (unargmax-cert): ``α ≥ 0``, ``α_k = 0``, ``Σα = 1`` (each to within ``CERT_TOL``),
    ``Σ α_i w_i = w_k`` and ``Σ α_i b_i ≥ b_k`` (to within ``CERT_TOL · max(max|W|, max|b|)``). The
    result is the largest violation over its tolerance; the certificate is accepted when it is ≤ 1.
    """
    W_arr, b_arr = _validate(W, b)
    k = valid.integer("k", k, 0, W_arr.shape[0] - 1)
    return _violation(W_arr, b_arr, k, _vector("alpha", alpha, W_arr.shape[0], "the rows of W")) / CERT_TOL


# ------------------------------------------------------------------------------- the exact search
def _cone_fit(A: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-negative α minimising ‖A α − y‖, the residual ρ = y − A α, and the support columns A_T.

    At the optimum ρ is orthogonal to the support, and a_j·ρ ≤ 0 < y·ρ for every column when y lies
    outside their cone. ρ is small when y is near the cone, so it is recomputed by projecting twice onto
    the complement of the support's span: its error is then relative to ‖ρ‖, not to ‖y‖.
    """
    try:
        alpha, _ = nnls(A, y, maxiter=20 * A.shape[1])
    except RuntimeError:  # iteration limit: no certificate, and ρ = y
        alpha = np.zeros(A.shape[1])
    T = A[:, alpha > 0]
    U = _span(T)[0]
    rho = y - U @ (U.T @ y)
    for _ in range(2):
        rho = rho - U @ (U.T @ rho)
    return alpha, rho, T


def _span(T: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The singular triplets (U, σ, Vᵀ) of T that are not zero to rounding (numerical rank)."""
    U, sv, Vt = np.linalg.svd(T, full_matrices=False)
    r = int(np.sum(sv > sv[:1].max(initial=0.0) * max(T.shape) * _U64))
    return U[:, :r], sv[:r], Vt[:r]


def _polish(T: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """ρ minus its component in the span of T, computed from the exactly rounded residuals a_j·ρ."""
    U, sv, Vt = _span(T)
    xs = [Fraction(v) for v in rho.tolist()]
    res = [float(sum(Fraction(a) * v for a, v in zip(col, xs, strict=True))) for col in T.T.tolist()]
    return rho - (U / sv) @ (Vt @ np.array(res))


def _witness(
    W: np.ndarray, scale: tuple[float, float], b: np.ndarray | None, k: int, S: np.ndarray, rho: np.ndarray
) -> np.ndarray | None:
    """The point read off a separating ρ = (x, ·[, ρ_b]): x without bias, x/t with t = ρ_b σ/β."""
    d = W.shape[1]
    x = rho[:d]
    if not np.any(x):
        return None
    if b is None:
        return np.ldexp(x, -np.frexp(np.abs(x).max())[1])  # exact rescale to max |x_j| in [1/2, 1)
    t = float(rho[-1]) / scale[1] * scale[0]  # (Python floats: an overflow gives inf, no warning)
    if t <= 0:  # x beats S at infinity, where the biases stop mattering: go far enough along x
        m, db = (W[k] - W[S]) @ x, np.abs(b[k] - b[S])
        t = min(1.0, float(m.min()) / (2.0 * float(db.max()) + 1e-300))
    return x / t if t > 0 else None


def _decide(
    W: np.ndarray, norms: np.ndarray, b: np.ndarray | None, k: int, start: np.ndarray, max_rounds: int = 200
) -> tuple[int, np.ndarray | None, np.ndarray | None, float]:
    """Decide class k by constraint generation. Returns (verdict, witness, certificate, distance).

    The other classes enter as lifted columns a_i = (w_i/σ, 1[, b_i/β]) (with a bias also a slack column
    (0, 0, −1) for Σ α_i b_i ≥ b_k); k is unargmaxable iff y = (w_k/σ, 1[, b_k/β]) lies in their cone
    (Eq. (unargmax-cert)). On a working set S the cone fit gives either weights (a certificate for S, hence
    for all) or a separating ρ whose x-part beats S; the classes it does not provably beat join S.
    """
    n, d = W.shape
    # σ ≈ max ‖w_i‖ and β ≈ max |b_i|, powers of two (exact divisions): every row of the fit is O(1)
    sigma, beta = (2.0 ** float(np.frexp(v)[1]) for v in (norms.max(), 0.0 if b is None else np.abs(b).max()))
    lift = (
        (lambda i: np.c_[W[i] / sigma, np.ones(len(i))])
        if b is None
        else (lambda i: np.c_[W[i] / sigma, np.ones(len(i)), b[i] / beta])
    )
    y = lift([k])[0]
    slack = np.zeros((len(y), 0)) if b is None else np.r_[np.zeros(d + 1), -1.0][:, None]
    S = np.setdiff1d(np.r_[np.asarray(start, dtype=np.int64), (k + 1) % n], [k])
    alpha = np.zeros(n)
    for _ in range(max_rounds):
        A = np.c_[lift(S).T, slack]
        weights, rho, T = _cone_fit(A, y)
        alpha = np.zeros(n)
        alpha[S] = weights[: len(S)]
        near = np.linalg.norm(rho) <= 16 * (d + 3) * _U64 * (np.linalg.norm(y) + np.abs(A).sum(0).max())
        tries = [rho, _polish(T, rho)] if near and len(_span(T)[1]) < len(rho) else [rho]
        for r in tries:  # a witness always wins over a certificate that holds only within CERT_TOL
            x = _witness(W, (sigma, beta), b, k, S, r)
            if x is None:
                continue
            gaps, bounds = _gaps(W, norms, b, x, k)
            if _settled(W, b, x, k, gaps, bounds):
                return ARGMAXABLE, x, None, 0.0
        if near or x is None:
            break  # y lies in the cone of S up to rounding: no separating direction to follow
        gaps[S] = np.inf
        new = np.nonzero(gaps <= bounds)[0]  # the classes outside S that x does not provably beat
        if len(new) == 0:
            break
        S = np.union1d(S, new[np.argsort(gaps[new])[:_RIVALS]])
    violation = _violation(W, b, k, alpha)
    if violation <= CERT_TOL:
        return UNARGMAXABLE, None, alpha, 0.0
    return UNDECIDED, None, None, violation * _scale(W, b)


# --------------------------------------------------------------------------- the float32 fast path
def _f32_errors(W: np.ndarray, norms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """W in float32 and per-row e_i with |fl32(w_i·x) − w_i·x| ≤ e_i ‖x‖ for every float32 point x.

    e_i = γ_d^{(32)}‖w_i‖ + ‖w_i − fl32(w_i)‖ + 2^-50‖w_i‖ (float32 dot product, rounding of W to float32,
    slack for the float64 norms and the conversion back to float64).
    """
    W32 = W.astype(np.float32)
    return W32, (_gamma(W.shape[1], _U32) + 2.0**-50) * norms + np.linalg.norm(W - W32, axis=1)


def _scan32(
    W32: np.ndarray, err: np.ndarray, b: np.ndarray | None, X: np.ndarray, own: np.ndarray, first: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """Float32 logits of the columns first[j]: of W32 at the points X[j] (float32), own class own[j].

    Returns (margin, certified, winner, rivals): ŝ_own − max of the other scanned columns, whether it
    clears the rounding bound 2(e_own + max e)‖x‖ (+ the rounding of adding b), the best rival, and the
    top-64 rivals of every uncertified row (the start of the exact search).
    """
    m, n = len(X), len(W32)
    err_max = np.maximum.accumulate(err[::-1])[::-1]  # largest error among the columns from j on
    b_max = None if b is None else np.maximum.accumulate(np.abs(b)[::-1])[::-1]
    margin, certified, winner = np.full(m, np.inf), np.zeros(m, dtype=bool), np.zeros(m, dtype=np.int64)
    rivals: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * m
    for a in range(0, m, _BLOCK):
        r = np.arange(a, min(a + _BLOCK, m))
        c0 = int(first[r].min())
        S = X[r] @ W32[c0:].T
        if b is not None:
            S = S.astype(np.float64) + b[c0:]
        loc = np.arange(len(r))
        s_own = S[loc, own[r] - c0].astype(np.float64)
        S[loc, own[r] - c0] = -np.inf
        for j in np.nonzero(first[r] > c0)[0]:  # columns a row does not need (shorter than its w_k)
            S[j, : first[r[j]] - c0] = -np.inf
        winner[r] = c0 + np.argmax(S, axis=1)
        margin[r] = s_own - S[loc, winner[r] - c0].astype(np.float64) if n > 1 else np.inf
        tau = 2.0 * (err[own[r]] + err_max[first[r]]) * np.linalg.norm(X[r].astype(np.float64), axis=1)
        if b is not None:
            tau += 2.0**-49 * (np.abs(b[own[r]]) + b_max[first[r]])  # type: ignore[index]
        certified[r] = margin[r] > tau + W32.shape[1] * 2.0**-140
        for j in np.nonzero(~certified[r])[0]:
            top = min(_RIVALS, S.shape[1] - 1)
            rivals[a + j] = c0 + np.argpartition(-S[j], top - 1)[:top] if top > 0 else rivals[a + j]
    return margin, certified, winner, rivals


def _braid(
    W: np.ndarray, W32: np.ndarray, err: np.ndarray, b: np.ndarray | None, ks: np.ndarray, steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Braid reflections on validated inputs: (found mask, points X); found ⇒ X[j] is a certified witness.

    The points are float32 and scored by :func:`_scan32`, so an accepted point is an exact witness.
    """
    found, X, active = np.zeros(len(ks), dtype=bool), W32[ks].copy(), np.arange(len(ks))
    first = np.zeros(len(ks), dtype=np.int64)
    for step in range(steps + 1):
        with np.errstate(over="ignore", invalid="ignore"):  # a point that overflowed is never certified
            _, ok, winner, _ = _scan32(W32, err, b, X[active], ks[active], first[active])
        found[active[ok]] = True
        active, winner = active[~ok], winner[~ok]
        if step == steps or len(active) == 0:
            break
        # reflect x across the boundary (w_k − w_j)·x + (b_k − b_j) = 0 between k and the current winner j
        dv = W[ks[active]] - W[winner]
        x = X[active].astype(np.float64)
        off = np.einsum("ij,ij->i", x, dv) + (0.0 if b is None else b[ks[active]] - b[winner])
        with np.errstate(over="ignore", invalid="ignore"):
            x -= (2.0 * off / np.maximum(np.einsum("ij,ij->i", dv, dv), 1e-300))[:, None] * dv
            X[active] = x.astype(np.float32)
    return found, X.astype(np.float64)


def braid_reflect(W: ArrayLike, ks: ArrayLike, b: ArrayLike | None = None, *, steps: int = 10) -> np.ndarray:
    """Return a boolean mask over ks: True where the braid-reflect heuristic found a certified witness.

    Heuristic of Grivas et al.: start at x = w_k; while another class j is the argmax, reflect x across
    the decision boundary (w_k − w_j)·x + b_k − b_j = 0. A True entry is certified by Eq. (unargmax-margin);
    False only means "not found within ``steps`` reflections": it never proves a class unargmaxable.
    """
    W_arr, b_arr = _validate(W, b)
    ks_arr = _class_indices("ks", ks, W_arr.shape[0])
    steps = valid.integer("steps", steps, 0)
    return _braid(W_arr, *_f32_errors(W_arr, np.linalg.norm(W_arr, axis=1)), b_arr, ks_arr, steps)[0]


# ------------------------------------------------------------------------------------- public API
@dataclass
class Detection:
    """The result of :func:`detect`: a verdict and its proof for each class asked about."""

    classes: np.ndarray
    verdict: np.ndarray  # ARGMAXABLE, UNARGMAXABLE or UNDECIDED, one per entry of classes
    fast_margin: np.ndarray  # float32 ŝ_k − max_i ŝ_i at x = w_k (see detect)
    survivors: np.ndarray  # classes for which x = fl32(f w_k) is not a certified witness
    rescale: float  # f: 1, or the power of two applied to W and b when their entries lie beyond 2^±64
    witnesses: dict[int, np.ndarray] = field(default_factory=dict)  # of the argmaxable survivors
    certificates: dict[int, np.ndarray] = field(default_factory=dict)
    distances: dict[int, float] = field(default_factory=dict)  # of the undecided classes

    @property
    def unargmaxable(self) -> np.ndarray:
        return self.classes[self.verdict == UNARGMAXABLE]

    @property
    def undecided(self) -> np.ndarray:
        return self.classes[self.verdict == UNDECIDED]


def detect(
    W: ArrayLike, b: ArrayLike | None = None, *, classes: ArrayLike | None = None, reflections: int = 10
) -> Detection:
    """Return a :class:`Detection`: every class of W x + b (or of ``classes``) with a verdict and its proof.

    Implements Eqs. (unargmax-strict), (unargmax-margin) and (unargmax-cert). Fast path: x = w_k for all k
    at once, float32 logits accepted when they clear the rounding bound of :func:`_scan32`. Without bias
    only competitors with ‖w_i‖ ≥ ‖w_k‖(1 − 1e-9) − 2‖w_k − fl32(w_k)‖ are scanned: by Cauchy–Schwarz the
    others lose at x = w_k. ``fast_margin[j]`` is ŝ_k − max over the scanned competitors. Survivors get
    x = w_k in float64, then ``reflections`` braid reflections (:func:`braid_reflect`), then the exact
    search (a non-negative least-squares cone fit by constraint generation); it never raises.
    """
    W_arr, b_arr = _validate(W, b)
    n = W_arr.shape[0]
    ks = np.arange(n) if classes is None else _class_indices("classes", classes, n)
    valid.integer("reflections", reflections, 0)
    W_arr, b_arr, f = _rescaled(W_arr, b_arr)
    norms = np.linalg.norm(W_arr, axis=1)
    W32, err = _f32_errors(W_arr, norms)
    # fast path, classes in order of norm so that each block of rows scans only the longer columns
    order = np.argsort(norms, kind="stable") if b_arr is None else np.arange(n)
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    perm = np.argsort(pos[ks], kind="stable")
    first = np.zeros(len(ks), dtype=np.int64)
    if b_arr is None:
        need = norms[ks[perm]] * (1 - 1e-9) - 2.0 * np.linalg.norm(W_arr[ks[perm]] - W32[ks[perm]], axis=1)
        first = np.minimum(np.searchsorted(norms[order], need, side="left"), pos[ks[perm]])
    b_ord = None if b_arr is None else b_arr[order]
    scan = _scan32(W32[order], err[order], b_ord, W32[ks[perm]], pos[ks[perm]], first)
    back = np.argsort(perm)
    margin, ok, rivals = scan[0][back], scan[1][back], [scan[3][i] for i in back]
    det = Detection(ks, np.where(ok, ARGMAXABLE, UNDECIDED), margin / f, np.sort(ks[~ok]), f)
    with threadpool_limits(limits=1):  # survivors: x = w_k in float64, reflections, exact search
        failed = np.nonzero(~ok)[0]
        settled = np.array([j for j in failed if _proves(W_arr, norms, b_arr, W_arr[ks[j]], ks[j])])
        for j in settled:
            det.verdict[j], det.witnesses[int(ks[j])] = ARGMAXABLE, W_arr[ks[j]].copy()
        rest = np.setdiff1d(failed, settled).astype(np.int64)
        found, X = _braid(W_arr, W32, err, b_arr, ks[rest], reflections)
        for j, x in zip(rest[found], X[found], strict=True):
            det.verdict[j], det.witnesses[int(ks[j])] = ARGMAXABLE, x
        for j in rest[~found]:
            k = int(ks[j])
            det.verdict[j], x, alpha, dist = _decide(W_arr, norms, b_arr, k, order[rivals[j]])
            if x is not None:
                det.witnesses[k] = x
            if alpha is not None:
                det.certificates[k] = alpha
            if det.verdict[j] == UNDECIDED:
                det.distances[k] = dist / f
    return det


def _rescaled(W: np.ndarray, b: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None, float]:
    """(f W, f b, f): f = 1, or for entries beyond 2^±64 the power of two bringing them into [1/2, 1)."""
    top = _scale(W, b)
    if top <= 2.0**-1022 or 2.0**-64 <= top <= 2.0**64:
        return W, b, 1.0
    f = 2.0 ** -float(np.frexp(top)[1])
    return W * f, None if b is None else b * f, f


def unargmaxable_classes(W: ArrayLike, b: ArrayLike | None = None) -> np.ndarray:
    """Return the sorted classes that no x makes the strict argmax of W x + b (Eq. (unargmax-strict)).

    Each comes with a certificate checked by :func:`certificate_error` (see :func:`detect`, whose
    undecided classes, if any, are not included).
    """
    return detect(W, b).unargmaxable


# The baselines, references and data of the chapter's experiments live in .reference; re-exported here, after
# the detector they use is defined.
from kexue_utils.unargmax.reference import (  # noqa: E402
    argmax_grid,
    box_lp_argmaxable,
    count_curve,
    facet_problem,
    frank_wolfe_min_norm,
    hull_interior,
    load_minilm_embeddings,
    load_minilm_vocab,
    min_norm_point,
    random_softmax,
)
