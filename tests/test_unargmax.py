"""Unit tests of kexue_utils.unargmax (chapter book/unargmax.md): every verdict, its proof, and bad input."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.spatial import ConvexHull

from kexue_utils import unargmax as ua

ARTICLE_W = np.array([[1.0, 2.0], [2.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])


def _random_W(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """Gaussian directions with very unequal norms, so that many classes are unargmaxable."""
    return rng.standard_normal((n, d)) * rng.exponential(1.0, (n, 1))


def exact_strict_argmax(W: np.ndarray, x: np.ndarray, k: int, b: np.ndarray | None = None) -> bool:
    """Exact rational arithmetic: is k the strict argmax of W x + b? (floats are exact rationals)."""
    xs = [Fraction(float(v)) for v in x]
    logits = [
        sum((Fraction(float(w)) * v for w, v in zip(row, xs, strict=True)), Fraction(0))
        + (Fraction(0) if b is None else Fraction(float(b[i])))
        for i, row in enumerate(W)
    ]
    return all(logits[k] > s for i, s in enumerate(logits) if i != k)


def witness(det: ua.Detection, W: np.ndarray, k: int) -> np.ndarray:
    """The witness behind an argmaxable verdict: found by the search, or x = w_k rounded to float32."""
    return det.witnesses.get(k, (det.rescale * W[k]).astype(np.float32).astype(np.float64))


def assert_proofs(W: np.ndarray, b: np.ndarray | None = None) -> ua.Detection:
    """Every verdict of detect() carries a proof that an independent check accepts; none is undecided."""
    det = ua.detect(W, b)
    assert det.undecided.size == 0
    scale = max(np.abs(W).max(), 0.0 if b is None else np.abs(b).max())
    for k in range(W.shape[0]):
        if det.verdict[k] == ua.UNARGMAXABLE:
            alpha = det.certificates[k]
            assert ua.certificate_error(W, k, alpha, b) <= 1.0
            assert alpha.min() >= -ua.CERT_TOL and abs(alpha.sum() - 1) <= ua.CERT_TOL
            np.testing.assert_allclose(alpha @ W, W[k], rtol=0, atol=ua.CERT_TOL * scale)
        else:
            assert exact_strict_argmax(W, witness(det, W, k), k, b)
    return det


def test_article_example_class_five_is_unargmaxable():
    det = assert_proofs(ARTICLE_W)
    assert det.unargmaxable.tolist() == [4]
    assert det.verdict.tolist() == [1, 1, 1, 1, -1]


def test_a_bias_rescues_the_interior_class_exactly_above_its_threshold():
    # α = (p, q, p, q) with p + q = 1/2 are the only convex weights giving w_5, so with b = (1, 0, 0, 0, b_5)
    # the largest Σ α_i b_i is 1/2: class 5 is unargmaxable iff b_5 ≤ 1/2
    for b5, bad in [(0.4, True), (0.5, True), (0.5 + 1e-12, False), (0.6, False)]:
        b = np.array([1.0, 0.0, 0.0, 0.0, b5])
        det = assert_proofs(ARTICLE_W, b)
        assert (4 in det.unargmaxable) == bad, b5
    assert ua.unargmaxable_classes(ARTICLE_W, np.zeros(5)).tolist() == [4]


@pytest.mark.parametrize(("d", "n"), [(2, 40), (3, 60), (4, 80), (6, 80)])
def test_agrees_with_qhull_without_bias(d: int, n: int):
    rng = np.random.default_rng(d)
    for _ in range(2):
        W = _random_W(rng, n, d)
        hull_interior = np.setdiff1d(np.arange(n), ConvexHull(W).vertices)
        assert np.array_equal(assert_proofs(W).unargmaxable, hull_interior)


def test_agrees_with_qhull_across_several_blocks(monkeypatch):
    # blocks of 16 rows, so the norm pruning across blocks of the float32 Gram product is exercised
    monkeypatch.setattr(ua, "_BLOCK", 16)
    W = _random_W(np.random.default_rng(7), 200, 4)
    hull_interior = np.setdiff1d(np.arange(200), ConvexHull(W).vertices)
    assert np.array_equal(assert_proofs(W).unargmaxable, hull_interior)
    assert 0 < len(hull_interior) < 200


def test_bias_case_matches_a_direct_feasibility_lp():
    rng = np.random.default_rng(3)
    n, d = 60, 3
    W, b = _random_W(rng, n, d), rng.standard_normal(n)
    expected = []
    for k in range(n):
        S = np.delete(np.arange(n), k)
        A_eq = np.vstack([W[S].T, np.ones(n - 1)])
        res = linprog(np.zeros(n - 1), -b[S][None, :], [-b[k]], A_eq, np.r_[W[k], 1.0], bounds=(0, None))
        expected += [k] if res.status == 0 else []
    assert assert_proofs(W, b).unargmaxable.tolist() == expected
    assert 0 < len(expected) < n


EPSILONS = [10.0**-e for e in range(3, 13)]


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("d", [2, 3, 5, 8, 20])
def test_classes_a_hair_off_a_facet_are_decided_correctly_on_both_sides(d: int, bias: bool):
    """ε = 1e-3 … 1e-12 outside a facet: argmaxable with an exact witness; inside: a certificate."""
    for i, eps in enumerate(EPSILONS):
        for side in (1.0, -1.0):
            W, b = ua.facet_problem(d, 4 * d + 4, side * eps, seed=100 * d + i, bias=bias)
            k = len(W) - 1
            det = ua.detect(W, b, classes=[k])
            if side > 0:
                assert det.verdict[0] == ua.ARGMAXABLE, (d, eps, bias)
                assert exact_strict_argmax(W, witness(det, W, k), k, b)
            else:
                assert det.verdict[0] == ua.UNARGMAXABLE, (d, eps, bias)
                assert ua.certificate_error(W, k, det.certificates[k], b) <= 1.0


def test_rounding_level_boundary_is_reported_undecided_when_no_tolerance_is_allowed(monkeypatch):
    # w_4 = (0.4, 0.65) is the midpoint of the edge [w_1, w_2] in decimal but not in binary (0.4 differs
    # from (0.6 + 0.2)/2 by 2^-55): no float64 witness is found, and the convex weights (1/2, 1/2) hold
    # only to rounding — accepted within CERT_TOL, undecided when no tolerance at all is allowed
    W = np.array([[0.6, 0.8], [0.2, 0.5], [-1.4, 3.05], [0.4, 0.65]])
    assert Fraction(0.4) - (Fraction(0.6) + Fraction(0.2)) / 2 == Fraction(1, 2**55)
    assert ua.detect(W).verdict.tolist() == [1, 1, 1, -1]
    monkeypatch.setattr(ua, "CERT_TOL", 0.0)
    det = ua.detect(W, classes=[3])
    assert det.verdict.tolist() == [ua.UNDECIDED] and det.undecided.tolist() == [3]
    assert 0 < det.distances[3] < 1e-15


def test_never_raises_on_degenerate_or_extreme_input():
    rng = np.random.default_rng(0)
    W = _random_W(rng, 30, 3)
    base = ua.detect(W).unargmaxable
    for c in (1e300, 1e-300, 2.0**70):  # uniform rescaling changes no verdict
        assert np.array_equal(ua.detect(c * W).unargmaxable, base)
    assert ua.detect(np.zeros((4, 3))).unargmaxable.tolist() == [0, 1, 2, 3]  # all tie everywhere
    assert ua.detect(np.ones((5, 2)), np.arange(5.0)).unargmaxable.tolist() == [0, 1, 2, 3]
    assert ua.detect(np.ones((1, 3))).verdict.tolist() == [ua.ARGMAXABLE]


def test_a_subset_of_classes_gets_the_same_verdicts():
    W = _random_W(np.random.default_rng(4), 120, 4)
    full = ua.detect(W)
    ks = np.array([7, 3, 99, 3, 50])
    part = ua.detect(W, classes=ks)
    assert part.classes.tolist() == ks.tolist()
    assert np.array_equal(part.verdict, full.verdict[ks])
    assert np.array_equal(part.fast_margin, full.fast_margin[ks])


def test_prevention_recipes_leave_no_unargmaxable_class():
    W = _random_W(np.random.default_rng(11), 200, 3)
    assert ua.unargmaxable_classes(W).size > 50
    unit = W / np.linalg.norm(W, axis=1, keepdims=True)
    assert ua.unargmaxable_classes(unit).size == 0
    assert ua.unargmaxable_classes(W, -0.5 * np.sum(W * W, axis=1)).size == 0


def test_one_dimension_has_exactly_two_argmaxable_classes():
    w = np.random.default_rng(5).standard_normal((25, 1))
    assert ua.unargmaxable_classes(w).tolist() == sorted(set(range(25)) - {int(w.argmin()), int(w.argmax())})


def test_duplicates_boundary_points_and_single_class():
    W = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [-1.0, -1.0]])
    # rows 0 and 1 tie everywhere; row 3 is the midpoint of an edge of the hull (boundary, not a vertex)
    assert assert_proofs(W).unargmaxable.tolist() == [0, 1, 3]
    assert ua.unargmaxable_classes(np.ones((1, 3))).size == 0


def test_far_away_region_is_found_but_the_box_lp_misses_it():
    W = np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, 1e-3]])
    b = np.array([0.0, 0.0, -1.0])  # class 2 wins only where x_2 > (1 + |x_1|) / 1e-3 ≥ 1000
    det = assert_proofs(W, b)
    assert det.verdict[2] == ua.ARGMAXABLE and det.witnesses[2][1] > 1000
    assert not ua.box_lp_argmaxable(W, 2, b, box=100.0)
    assert ua.box_lp_argmaxable(W, 2, b, box=1e4)


def test_braid_reflect_never_claims_an_unargmaxable_class():
    W = _random_W(np.random.default_rng(2), 150, 3)
    bad = ua.unargmaxable_classes(W)
    found = ua.braid_reflect(W, np.arange(150), steps=20)
    assert not found[bad].any() and found.sum() > 0


def test_frank_wolfe_norm_decreases_within_the_o1t_bound():
    D = ARTICLE_W[4] - ARTICLE_W[:4]  # 0 is in conv(D): the min norm is 0
    norms, _ = ua.frank_wolfe_min_norm(D, 200)
    assert np.all(np.diff(norms) <= 1e-15)
    diam = max(np.linalg.norm(p - q) for p in D for q in D)
    assert np.all(norms <= 2 * diam / np.sqrt(np.arange(len(norms)) + 2))


def test_margin_rule_rejects_a_tie_and_accepts_a_clear_win():
    W = np.eye(2)
    assert ua.strict_argmax_margin(W, np.array([1.0, 1.0]), 0) < 0
    assert not ua.is_strict_argmax(W, np.array([1.0, 1.0]), 0)
    assert ua.is_strict_argmax(W, np.array([1.0, 0.999]), 0)
    # a gap of one unit in the last place: below the rounding bound, yet exact arithmetic proves it
    x = np.array([1.0, np.nextafter(1.0, 0.0)])
    assert ua.strict_argmax_margin(W, x, 0) < 0 and ua.is_strict_argmax(W, x, 0)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((np.array([1.0, 2.0]),), "W"),
        ((np.ones((2, 2, 2)),), "W"),
        ((np.array([[1.0, np.nan], [0.0, 1.0]]),), "W"),
        ((np.array([[1.0, np.inf], [0.0, 1.0]]),), "W"),
        ((np.eye(3), np.zeros(2)), "b"),
        ((np.eye(3), np.array([0.0, np.nan, 0.0])), "b"),
        ((np.eye(3), np.zeros((3, 1))), "b"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(args, match):
    with pytest.raises(ValueError, match=match):
        ua.detect(*args)


def test_bad_class_index():
    with pytest.raises(ValueError, match="k"):
        ua.is_strict_argmax(np.eye(3), np.ones(3), 3)
    with pytest.raises(TypeError, match="k"):
        ua.strict_argmax_margin(np.eye(3), np.ones(3), True)
    with pytest.raises(ValueError, match="x"):
        ua.strict_argmax_margin(np.eye(3), np.ones(2), 0)
    with pytest.raises(ValueError, match="alpha"):
        ua.certificate_error(np.eye(3), 0, np.ones(2))
    with pytest.raises(ValueError, match="classes"):
        ua.detect(np.eye(3), classes=[3])


def test_a_wrong_certificate_or_witness_is_rejected():
    alpha = ua.detect(ARTICLE_W).certificates[4]
    shifted = alpha.copy()
    shifted[[0, 1]] += [-0.01, 0.01]  # still convex, but no longer reproduces w_5
    assert ua.certificate_error(ARTICLE_W, 4, shifted) > 1.0
    with_self = np.zeros(5)
    with_self[4] = 1.0  # α_k = 1 is not allowed
    assert ua.certificate_error(ARTICLE_W, 4, with_self) > 1.0
    # a bias certificate needs Σ α_i b_i ≥ b_k
    assert ua.certificate_error(ARTICLE_W, 4, alpha, np.array([0, 0, 0, 0, 1.0])) > 1.0
    assert not ua.is_strict_argmax(ARTICLE_W, ARTICLE_W[0], 1)


def test_survivor_witnesses_are_exact():
    W = _random_W(np.random.default_rng(9), 120, 4)
    det = ua.detect(W)
    assert len(det.survivors) > len(det.unargmaxable)  # some survivors needed a search
    assert det.witnesses and all(exact_strict_argmax(W, x, k) for k, x in det.witnesses.items())


def test_float64_input_that_float32_cannot_represent():
    # rows differ only below float32 resolution: the fast path must not trust float32 logits here
    W = np.array([[1.0, 0.0], [1.0 + 1e-12, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    det = assert_proofs(W)
    assert det.unargmaxable.tolist() == [0] and 1 in det.survivors
