"""Property-based tests (hypothesis) and bad-input fuzzing of kexue_utils.unargmax (issue 9, items 1–2).

The properties are derived from the definition, not from the implementation: class k is argmaxable iff
some x makes it the strict argmax of W x + b; without bias that is "w_k is a vertex of conv(W)" (checked
against Qhull); a certificate α proves s_k = Σ α_i s_i ≤ max_{i≠k} s_i for every x; verdicts are
invariant under relabelling, positive scaling and a common shift of the logits.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import ConvexHull
from test_unargmax import exact_strict_argmax, witness

from kexue_utils import unargmax as ua

from fuzzing import (
    argument_fuzz_tests,
    assert_named_error,
    bad_array,
    bad_int,
    bad_positive,
    public_functions,
)

SETTINGS = settings(max_examples=40, deadline=None)
FUZZ = settings(max_examples=40, deadline=None)


# --------------------------------------------------------------------------------------------- inputs
def _random_W(seed: int, n: int, d: int, spread: float) -> np.ndarray:
    """Gaussian directions with log-normal norms: in general position with probability 1."""
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((n, d))
    return G * np.exp(spread * rng.standard_normal((n, 1)))


@st.composite
def problems(draw, with_bias: bool | None = None, d_min: int = 2, d_max: int = 4, n_max: int = 14):
    d = draw(st.integers(d_min, d_max))
    n = draw(st.integers(d + 2, n_max))
    seed = draw(st.integers(0, 2**32 - 1))
    W = _random_W(seed, n, d, draw(st.floats(0.0, 1.5)))
    bias = draw(st.booleans()) if with_bias is None else with_bias
    b = np.random.default_rng(seed + 1).standard_normal(n) * draw(st.floats(0.01, 2.0)) if bias else None
    return W, b


def _certificate_holds(W: np.ndarray, k: int, alpha: np.ndarray, b: np.ndarray | None) -> None:
    """Independent check of Eq. (unargmax-cert) with the documented tolerance."""
    tol = ua.CERT_TOL * max(np.abs(W).max(), 0.0 if b is None else np.abs(b).max())
    assert alpha.shape == (W.shape[0],)
    assert alpha.min() >= -ua.CERT_TOL and abs(alpha[k]) <= ua.CERT_TOL
    assert abs(alpha.sum() - 1.0) <= ua.CERT_TOL
    assert np.abs(alpha @ W - W[k]).max() <= tol
    if b is not None:
        assert alpha @ b >= b[k] - tol
    assert ua.certificate_error(W, k, alpha, b) <= 1.0


# ----------------------------------------------------------------------------------------- properties
@SETTINGS
@given(problems(with_bias=False))
def test_bias_free_verdicts_equal_qhull_non_vertices(prob):
    """Theorem: without bias, k is unargmaxable iff w_k is not a vertex of conv(W) (general position)."""
    W, _ = prob
    expected = np.setdiff1d(np.arange(len(W)), ConvexHull(W).vertices)
    got = ua.unargmaxable_classes(W)
    assert np.array_equal(got, expected)
    assert np.array_equal(ua.hull_interior(W), expected)


@SETTINGS
@given(problems())
def test_every_verdict_has_a_proof_and_every_witness_is_an_exact_strict_argmax(prob):
    W, b = prob
    det = ua.detect(W, b)
    assert det.undecided.size == 0 and np.array_equal(det.unargmaxable, ua.unargmaxable_classes(W, b))
    for k in range(len(W)):
        if det.verdict[k] == ua.UNARGMAXABLE:
            _certificate_holds(W, k, det.certificates[k], b)
        else:
            x = witness(det, W, k)
            assert np.all(np.isfinite(x)) and exact_strict_argmax(W, x, k, b)
            assert ua.is_strict_argmax(W, x, k, b)


@SETTINGS
@given(problems(), st.integers(0, 2**32 - 1))
def test_no_random_point_is_won_by_an_unargmaxable_class(prob, seed):
    """A certificate gives s_k ≤ Σ α_i s_i ≤ max_{i≠k} s_i at every x, so k never wins clearly."""
    W, b = prob
    bad = ua.unargmaxable_classes(W, b)
    X = np.random.default_rng(seed).standard_normal((200, W.shape[1])) * 10.0
    S = X @ W.T + (0.0 if b is None else b)
    top2 = np.sort(S, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 1e-8 * (1.0 + np.abs(S).max())
    assert not np.isin(S.argmax(axis=1)[clear], bad).any()


@SETTINGS
@given(problems(), st.integers(0, 2**32 - 1))
def test_permuting_rows_permutes_the_verdicts(prob, seed):
    W, b = prob
    p = np.random.default_rng(seed).permutation(len(W))
    bad = ua.unargmaxable_classes(W, b)
    got = ua.unargmaxable_classes(W[p], None if b is None else b[p])
    assert np.array_equal(got, np.sort(np.nonzero(np.isin(p, bad))[0]))


@SETTINGS
@given(problems(), st.floats(1e-2, 1e2), st.integers(0, 2**32 - 1), st.floats(-3.0, 3.0))
def test_scaling_and_common_shift_leave_the_verdicts_unchanged(prob, c, seed, shift):
    """c(Wx + b) has the same argmax for c > 0; adding v to every row adds v·x to every logit; so does a
    common constant added to b."""
    W, b = prob
    bad = ua.unargmaxable_classes(W, b)
    assert np.array_equal(ua.unargmaxable_classes(c * W, None if b is None else c * b), bad)
    v = np.random.default_rng(seed).standard_normal(W.shape[1]) * 2.0
    assert np.array_equal(ua.unargmaxable_classes(W + v, b), bad)
    if b is not None:
        assert np.array_equal(ua.unargmaxable_classes(W, b + shift), bad)


@SETTINGS
@given(problems(), st.integers(0, 2**32 - 1))
def test_adding_a_class_never_rescues_an_old_one(prob, seed):
    """The region where k wins can only shrink when a competitor is added."""
    W, b = prob
    rng = np.random.default_rng(seed)
    W2 = np.vstack([W, rng.standard_normal(W.shape[1]) * 2.0])
    b2 = None if b is None else np.r_[b, rng.standard_normal()]
    old = ua.unargmaxable_classes(W, b)
    new = ua.unargmaxable_classes(W2, b2)
    assert set(old.tolist()) <= set(new.tolist())


@SETTINGS
@given(st.integers(2, 5), st.integers(2, 30), st.integers(0, 2**32 - 1), st.floats(1e-3, 1e3))
def test_equal_norm_distinct_rows_are_all_argmaxable(d, n, seed, r):
    """‖w_i‖ = ‖w_k‖, w_i ≠ w_k ⇒ w_i·w_k < w_k·w_k (strict Cauchy–Schwarz): x = w_k is a witness."""
    G = np.random.default_rng(seed).standard_normal((n, d))
    W = r * G / np.linalg.norm(G, axis=1, keepdims=True)
    assert ua.unargmaxable_classes(W).size == 0
    # the Voronoi bias b_i = −‖w_i‖²/2 rescues every distinct row of an arbitrary W as well
    V = G * np.exp(np.random.default_rng(seed + 1).standard_normal((n, 1)))
    assert ua.unargmaxable_classes(V, -0.5 * np.sum(V * V, axis=1)).size == 0


@SETTINGS
@given(problems(with_bias=False, n_max=10), st.integers(0, 2**32 - 1))
def test_a_planted_strict_convex_combination_is_unargmaxable(prob, seed):
    W, _ = prob
    alpha = np.random.default_rng(seed).dirichlet(np.ones(len(W))) * 0.9 + 0.1 / len(W)
    W2 = np.vstack([W, alpha @ W])
    k = len(W)
    det = ua.detect(W2, classes=[k])
    assert det.unargmaxable.tolist() == [k] and k not in det.witnesses
    assert ua.certificate_error(W2, k, np.r_[alpha, 0.0]) <= 1.0


@SETTINGS
@given(st.integers(2, 30), st.integers(0, 2**32 - 1))
def test_one_dimension_only_the_extremes_are_argmaxable(n, seed):
    w = np.random.default_rng(seed).standard_normal((n, 1))
    expected = sorted(set(range(n)) - {int(w.argmin()), int(w.argmax())})
    assert ua.unargmaxable_classes(w).tolist() == expected


@SETTINGS
@given(problems(), st.integers(0, 2**32 - 1))
def test_a_positive_margin_is_a_sound_proof(prob, seed):
    W, b = prob
    X = np.random.default_rng(seed).standard_normal((8, W.shape[1]))
    for x in X:
        k = int(np.argmax(W @ x + (0.0 if b is None else b)))
        m = ua.strict_argmax_margin(W, x, k, b)
        assert ua.is_strict_argmax(W, x, k, b) == exact_strict_argmax(W, x, k, b)
        if m > 0:
            assert exact_strict_argmax(W, x, k, b)
        # a class that is not the argmax never gets a positive margin
        assert ua.strict_argmax_margin(W, x, (k + 1) % len(W), b) <= 0


@SETTINGS
@given(
    st.integers(2, 8),
    st.booleans(),
    st.integers(3, 13),
    st.sampled_from([1.0, -1.0]),
    st.integers(0, 2**31),
)
def test_a_class_off_a_facet_by_eps_is_decided_by_its_side(d, bias, e, side, seed):
    """Outside a facet by ε ≥ 1e-13 a witness exists and is found; inside, a certificate."""
    W, b = ua.facet_problem(d, 3 * d + 4, side * 10.0**-e, seed, bias=bias)
    k = len(W) - 1
    det = ua.detect(W, b, classes=[k])
    assert det.verdict[0] == (ua.ARGMAXABLE if side > 0 else ua.UNARGMAXABLE)
    if side > 0:
        assert exact_strict_argmax(W, witness(det, W, k), k, b)


@SETTINGS
@given(problems(), st.integers(0, 20))
def test_braid_reflect_never_claims_an_unargmaxable_class(prob, steps):
    W, b = prob
    found = ua.braid_reflect(W, np.arange(len(W)), b, steps=steps)
    assert not found[ua.unargmaxable_classes(W, b)].any()


@SETTINGS
@given(problems(with_bias=True), st.integers(0, 3))
def test_box_lp_true_implies_argmaxable(prob, k):
    """The box LP may miss far regions (with bias) but never invents one."""
    W, b = prob
    if ua.box_lp_argmaxable(W, k, b, box=10.0):
        assert k not in ua.unargmaxable_classes(W, b).tolist()


@SETTINGS
@given(st.integers(1, 12), st.integers(1, 4), st.integers(0, 2**32 - 1), st.integers(0, 60))
def test_min_norm_point_and_frank_wolfe(m, d, seed, steps):
    """u* = Σ α_i d_i on the simplex satisfies the projection condition u*·(d_i − u*) ≥ 0 ∀i, and the
    Frank–Wolfe norms decrease monotonically towards (never below) ‖u*‖."""
    D = np.random.default_rng(seed).standard_normal((m, d))
    u, alpha = ua.min_norm_point(D)
    assert alpha.min() >= 0 and abs(alpha.sum() - 1) < 1e-12
    np.testing.assert_allclose(u, alpha @ D, atol=1e-12)
    assert np.all(D @ u - u @ u >= -1e-6)
    norms, u_fw = ua.frank_wolfe_min_norm(D, steps)
    assert norms.shape == (steps + 1,) and np.all(np.diff(norms) <= 1e-12)
    assert norms[-1] >= np.linalg.norm(u) - 1e-6
    assert norms[-1] == pytest.approx(np.linalg.norm(u_fw))


@SETTINGS
@given(problems(d_min=2, d_max=2), st.integers(3, 25), st.floats(0.5, 5.0))
def test_argmax_grid_matches_direct_logits(prob, size, lim):
    W, b = prob
    grid = ua.argmax_grid(W, b, lim=lim, size=size)
    t = np.linspace(-lim, lim, size)
    X1, X2 = np.meshgrid(t, t)
    direct = np.array(
        [
            [np.argmax(W @ np.array([a, c]) + (0 if b is None else b)) for a, c in zip(r1, r2, strict=True)]
            for r1, r2 in zip(X1, X2, strict=True)
        ]
    )
    assert grid.shape == (size, size)
    # equal up to float ties: wherever they differ the two logits must be within rounding of each other
    diff = grid != direct
    for i, j in zip(*np.nonzero(diff), strict=True):
        s = W @ np.array([X1[i, j], X2[i, j]]) + (0 if b is None else b)
        assert abs(s[grid[i, j]] - s[direct[i, j]]) <= 1e-12 * (1 + np.abs(s).max())


@SETTINGS
@given(st.integers(1, 30), st.integers(1, 6), st.integers(0, 2**32 - 1), st.floats(0.0, 3.0))
def test_random_softmax_is_seeded_and_well_formed(n, d, seed, spread):
    W = ua.random_softmax(n, d, seed, spread=spread)
    assert W.shape == (n, d) and np.all(np.isfinite(W)) and np.all(np.linalg.norm(W, axis=1) > 0)
    np.testing.assert_array_equal(W, ua.random_softmax(n, d, seed, spread=spread))
    if spread == 0:
        np.testing.assert_allclose(np.linalg.norm(W, axis=1), 1.0, rtol=1e-12)


@settings(max_examples=5, deadline=None)
@given(st.integers(6, 15), st.integers(0, 1000))
def test_count_curve_agrees_with_qhull(n, seed):
    ours, qhull, mismatches = ua.count_curve(n, [2, 3], trials=1, seed=seed)
    assert ours.shape == qhull.shape == (2, 1)
    assert mismatches == 0 and np.array_equal(ours, qhull)


# ------------------------------------------------------------------------------------------ fuzzing
W3 = np.array([[1.0, 2.0, 0.5], [2.0, 1.0, 0.0], [1.0, 0.0, -1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.2]])
N3, D3 = W3.shape
B3 = np.zeros(N3)

# function -> valid keyword arguments (small and fast)
VALID: dict[str, dict] = {
    "strict_argmax_margin": {"W": W3, "x": np.ones(D3), "k": 0, "b": B3},
    "is_strict_argmax": {"W": W3, "x": np.ones(D3), "k": 0, "b": B3},
    "certificate_error": {"W": W3, "k": 0, "alpha": np.full(N3, 0.2), "b": B3},
    "detect": {"W": W3, "b": B3, "classes": np.array([0, 1]), "reflections": 2},
    "unargmaxable_classes": {"W": W3, "b": B3},
    "box_lp_argmaxable": {"W": W3, "k": 0, "b": B3, "box": 10.0},
    "braid_reflect": {"W": W3, "ks": np.array([0, 1]), "b": B3, "steps": 2},
    "frank_wolfe_min_norm": {"D": W3, "steps": 3},
    "min_norm_point": {"D": W3},
    "argmax_grid": {"W": W3[:, :2], "b": B3, "lim": 2.0, "size": 5},
    "random_softmax": {"n": 4, "d": 2, "seed": 0, "spread": 1.0},
    "facet_problem": {"d": 2, "n": 6, "eps": 1e-3, "seed": 0},
    "hull_interior": {"W": W3},
    "count_curve": {"n": 6, "dims": [2], "trials": 1, "seed": 0},
}

ARRAY_ARGS = {"W", "b", "x", "X", "alpha", "D"}
INT_ARGS = {"reflections", "steps", "size", "n", "d", "seed", "trials"}
CASES = sorted((fn, arg) for fn, kw in VALID.items() for arg in kw)
BAD_INDICES = st.one_of(
    st.just(np.array([0.5])),
    st.just(np.array([True])),
    st.just(np.array(["a"])),
    st.just([[0], [1, 2]]),
    st.just(np.zeros((1, 1), dtype=int)),
    st.integers(max_value=-1).map(lambda i: np.array([i])),
    st.integers(min_value=N3, max_value=10**12).map(lambda i: np.array([i])),
)


def test_every_public_function_is_fuzzed():
    no_args = {"load_minilm_embeddings", "load_minilm_vocab"}  # nothing to pass
    defined = set(public_functions(ua)) | set(public_functions(ua.reference))
    assert defined - no_args == set(VALID)


def _bad_value(fn: str, arg: str, data, kwargs: dict):
    """Draw a bad value for one argument (may adjust kwargs so that the error concerns this argument)."""
    if arg in ARRAY_ARGS:
        shape = np.shape(VALID[fn][arg])
        # W and D may have any number of rows and columns; the other arrays' shapes follow from W
        strategy = bad_array(shape, (lambda s: len(s) == 2) if arg in ("W", "D") else None)
        if arg == "b":  # b=None is the valid bias-free case
            strategy = strategy.filter(lambda v: v is not None)
        elif arg == "W" and "b" in kwargs:
            kwargs["b"] = None  # a W of another shape would otherwise be reported through b
        return data.draw(strategy, label=arg)
    if arg == "k":
        return data.draw(st.one_of(bad_int(0), st.integers(min_value=N3)), label=arg)
    if arg in ("ks", "dims", "classes"):
        value = data.draw(BAD_INDICES, label=arg)
        if arg == "dims" and isinstance(value, np.ndarray) and value.dtype.kind == "i" and value.max() > 0:
            value = np.array([0])  # large dims are valid (just slow): use 0 instead
        return value
    if arg in ("box", "lim"):
        return data.draw(bad_positive(), label=arg)
    if arg == "spread":
        return data.draw(bad_positive(10.0, zero_ok=True), label=arg)
    if arg == "eps":
        return data.draw(bad_positive(0.1, zero_ok=True).filter(_not_small_negative), label=arg)
    assert arg in INT_ARGS, arg
    if arg == "n" and fn == "facet_problem":
        return data.draw(bad_int(VALID[fn]["d"] + 2), label=arg)
    return data.draw(bad_int(0 if arg in ("seed", "steps", "reflections") else 1), label=arg)


def _not_small_negative(v) -> bool:
    """eps may be negative down to −0.1: a float in [−0.1, 0) is a valid value, not a bad one."""
    return not (isinstance(v, float) and -0.1 <= v < 0)


def _assert_rejected(case: tuple[str, str], data) -> None:
    fn, arg = case
    kwargs = dict(VALID[fn])
    value = _bad_value(fn, arg, data, kwargs)
    assert_named_error(getattr(ua, fn), kwargs, arg, value)


# 40 random (function, argument) cases, and a sweep that gives every case a few bad values
test_bad_input_raises_an_error_naming_the_argument, test_every_argument_rejects_its_bad_values = (
    argument_fuzz_tests(CASES, _assert_rejected, max_examples=40)
)


@FUZZ
@given(d=st.integers(2, 4), extra=st.integers(0, 1), degenerate=st.booleans())
def test_hull_interior_rejects_too_few_or_degenerate_rows(d, extra, degenerate):
    if degenerate:  # d + 2 points on a hyperplane
        W = np.hstack([np.random.default_rng(d).standard_normal((d + 2, d - 1)), np.zeros((d + 2, 1))])
    else:
        W = np.ones((d - extra, d)) + np.eye(d)[: d - extra]
    with pytest.raises(ValueError, match=r"\bW\b"):
        ua.hull_interior(W)
