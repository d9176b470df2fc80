"""Property-based tests and bad-input fuzzing for kexue_utils.mad (issue 9, items 1 and 2).

Properties are consequences of the Gaussian chain's laws, derived independently of the code: the law
of total variance (Cov μ_{t+1} = Cov μ_t + E C_t / n), the Wishart/χ² moments, the large-n expansions
ψ(x) = ln x − 1/(2x) + …, the metric axioms of W₂, affine equivariance of the sample moments, and the
set-inclusion structure of k-NN precision/recall. The fuzzing feeds every public function wrong shapes,
dtypes, NaN/inf, negative or zero sizes, non-integer counts, empty arrays and booleans; each must raise
ValueError/TypeError naming the argument.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.mixture import GaussianMixture

from kexue_utils import mad, metrics

from fuzzing import (
    BAD_ARRAYS,
    BAD_TYPES,
    FAST,
    NONFINITE,
    SLOW,
    bad_int,
    bad_positive,
    public_functions,
    spec_fuzz_test,
    wrong_kind_arrays,
)

lams = st.floats(0.05, 1.0)
ns = st.integers(2, 1000)
ts = st.integers(0, 200)
elements = st.floats(-2.0, 2.0)


@st.composite
def spd(draw, max_d: int = 3):
    """A random symmetric positive-definite d×d matrix A Aᵀ + 0.1 I."""
    d = draw(st.integers(1, max_d))
    a = draw(hnp.arrays(float, (d, d), elements=elements))
    return a @ a.T + 0.1 * np.eye(d)


def is_psd(m: np.ndarray, tol: float = 1e-12) -> bool:
    return bool(
        np.allclose(m, m.T, rtol=0, atol=tol) and np.linalg.eigvalsh(m).min() >= -tol * (1 + np.abs(m).max())
    )


# ---------------------------------------------------------------------------------------------
# 1. properties: closed forms
# ---------------------------------------------------------------------------------------------


@FAST
@given(s=spd(), n=ns, lam=lams, t=ts, c=st.floats(0.01, 100.0))
def test_mean_covariance_psd_linear_in_sigma0_and_total_variance(s, n, lam, t, c):
    m = mad.mean_covariance(s, n, lam, t)
    assert is_psd(m)
    np.testing.assert_allclose(mad.mean_covariance(c * s, n, lam, t), c * m, rtol=1e-12, atol=1e-300)
    # law of total variance: Cov μ_{t+1} = Cov μ_t + E[C_t]/n, E[C_t] = λ^t Σ₀; so increasing in t (Loewner)
    step = mad.mean_covariance(s, n, lam, t + 1) - m
    # the step is a difference of matrices of size ~‖m‖: compare it to the rounding of ‖m‖
    scale = 1e-13 * np.abs(m).max()
    np.testing.assert_allclose(step, mad.expected_sampling_covariance(s, lam, t) / n, rtol=1e-9, atol=scale)
    assert is_psd(step, tol=1e-10)
    np.testing.assert_allclose(mad.mean_covariance(s, n, lam, t, bias_generation0=True), lam * m, rtol=1e-12)
    assert np.array_equal(mad.mean_covariance(s, n, lam, 0), np.zeros_like(s))


@FAST
@given(s=spd(), n=ns, t=ts, lam=st.floats(0.05, 0.9))
def test_mean_covariance_at_lambda_one_and_geometric_limit(s, n, t, lam):
    np.testing.assert_allclose(mad.mean_covariance(s, n, 1.0, t), t / n * s, rtol=1e-13, atol=1e-300)
    limit = s / (n * (1 - lam))  # Σ_s λ^s = 1/(1 − λ)
    big_t = math.ceil(math.log(1e-14) / math.log(lam))
    np.testing.assert_allclose(mad.mean_covariance(s, n, lam, big_t), limit, rtol=1e-12)
    assert is_psd(limit - mad.mean_covariance(s, n, lam, t), tol=1e-10)  # approached from below


@FAST
@given(s=spd(), lam=lams, t=ts, u=ts)
def test_expected_sampling_covariance_semigroup(s, lam, t, u):
    a = mad.expected_sampling_covariance(s, lam, t)
    assert is_psd(a) and np.array_equal(mad.expected_sampling_covariance(s, lam, 0), (s + s.T) / 2)
    np.testing.assert_allclose(
        mad.expected_sampling_covariance(s, lam, t + u), lam**u * a, rtol=1e-10, atol=1e-300
    )


@FAST
@given(d=st.integers(1, 6), extra=st.integers(0, 200), lam=lams)
def test_logdet_drift_negative_additive_in_log_lambda_and_monotone(d, extra, lam):
    n = d + 1 + extra
    k1 = mad.logdet_drift(d, n)
    assert k1 < 0  # Jensen: E log det(W/m) < log det E(W/m) = 0
    assert mad.logdet_drift(d, n, lam) == pytest.approx(k1 + d * math.log(lam), rel=1e-12, abs=1e-12)
    assert mad.logdet_drift(d, n + 1) > k1  # ψ(x) − ln x increases towards 0
    if n - 1 >= d + 1:
        assert mad.logdet_drift(d + 1, n) < k1  # every extra dimension adds a negative term
    v = mad.logdet_step_variance(d, n)
    assert v > 0 and (n - 1 < d + 1 or mad.logdet_step_variance(d + 1, n) > v)


@FAST
@given(d=st.integers(1, 5), m=st.integers(10**5, 10**7))
def test_logdet_large_n_expansions(d, m):
    """ψ(x) ≈ ln x − 1/(2x), ψ'(x) ≈ 1/x give m·κ → −d(d+1)/2 and m·Var → 2d."""
    assert m * mad.logdet_drift(d, m + 1) == pytest.approx(-d * (d + 1) / 2, rel=1e-4 * d)
    assert m * mad.logdet_step_variance(d, m + 1) == pytest.approx(2 * d, rel=1e-4 * d)
    if d == 1:
        assert mad.halving_generations(m + 1) / m == pytest.approx(math.log(2), rel=1e-4)


@FAST
@given(s=spd(), n=st.integers(5, 500), lam=lams, t=ts, c=st.floats(0.1, 10.0))
def test_expected_logdet_linear_in_t_and_log_scale(s, n, lam, t, c):
    d = s.shape[0]
    assert n - 1 >= d
    e = mad.expected_logdet(s, n, lam, t)
    assert mad.expected_logdet(s, n, lam, t + 1) - e == pytest.approx(mad.logdet_drift(d, n, lam), abs=1e-9)
    assert mad.expected_logdet(c * s, n, lam, t) - e == pytest.approx(d * math.log(c), abs=1e-9)
    assert mad.expected_logdet(s, n, lam, t, bias_generation0=True) - e == pytest.approx(
        d * math.log(lam), abs=1e-9
    )


@FAST
@given(s2=st.floats(0.01, 100.0), n=st.integers(2, 1000), lam=lams, t=st.integers(0, 50))
def test_sampling_variance_moments_chi_square(s2, n, lam, t):
    mean, var = mad.sampling_variance_moments(s2, n, lam, t)
    assert mean == pytest.approx(lam**t * s2, rel=1e-12) and var >= -1e-12 * mean**2
    assert mad.sampling_variance_moments(s2, n, lam, 0) == (s2, 0.0)
    # c_1 = λσ² χ²_m/m: Var = λ²σ⁴ · 2/m
    assert mad.sampling_variance_moments(s2, n, lam, 1)[1] == pytest.approx(
        lam**2 * s2**2 * 2 / (n - 1), rel=1e-9
    )
    m2, v2 = mad.sampling_variance_moments(2 * s2, n, lam, t)
    assert m2 == pytest.approx(2 * mean, rel=1e-12) and v2 == pytest.approx(4 * var, rel=1e-9, abs=1e-12)


@FAST
@given(n=st.integers(2, 1000), lam=lams, t=st.integers(1, 60))
def test_mean_excess_kurtosis_scale_mixture(n, lam, t):
    """μ_t is Gaussian given the variance path, so its excess kurtosis is 3 Var(V)/E[V]² ≥ 0."""
    assert mad.mean_excess_kurtosis(n, lam, 1) == pytest.approx(0.0, abs=1e-12)
    assert mad.mean_excess_kurtosis(n, lam, t) >= -1e-12
    # t = 2: V = (σ² + c_1)/n, c_1 = λσ²χ²_m/m ⇒ 3 Var V/(E V)² = 6λ²/(m(1 + λ)²)
    m = n - 1
    assert mad.mean_excess_kurtosis(n, lam, 2) == pytest.approx(6 * lam**2 / (m * (1 + lam) ** 2), rel=1e-9)


@FAST
@given(n=st.integers(2, 10**5), lam=st.floats(0.05, 0.999))
def test_halving_generations_positive_and_shortened_by_truncation(n, lam):
    h = mad.halving_generations(n)
    assert h > 0 and mad.halving_generations(n + 1) > h
    assert mad.halving_generations(n, lam) < h


@FAST
@given(nr=st.integers(1, 300), ns=st.integers(1, 300), lam=lams, c=st.integers(2, 50))
def test_fresh_steady_state_bounds_monotonicity_and_large_n_limit(nr, ns, lam, c):
    gamma, eta = mad.fresh_steady_state(nr, ns, lam)
    approx = lam * nr / (nr + ns * (1 - lam))  # the gap term dropped
    assert 0 < approx <= gamma < math.inf and eta > 0  # the gap between the group means adds spread
    big = mad.fresh_steady_state(c * 1000 * nr, c * 1000 * ns, lam)[0]
    assert big == pytest.approx(approx, rel=2e-3)


@FAST
@given(d=st.integers(1, 80), keep=st.floats(0.01, 0.99))
def test_selection_bias_is_a_shrinkage_growing_with_keep_and_dimension(d, keep):
    lam = mad.selection_bias(d, keep)
    assert 0 < lam < 1
    assert mad.selection_bias(d, min(keep + 0.01, 1.0)) >= lam - 1e-12
    assert mad.selection_bias(d + 1, keep) >= lam - 1e-12


@FAST
@given(nr=st.integers(0, 30), ns=st.integers(2, 60), t=st.integers(0, 300))
def test_identity_by_descent_is_a_probability_rising_to_its_limit(nr, ns, t):
    f, limit = mad.identity_by_descent(nr, ns, t), mad.identity_by_descent(nr, ns)
    assert 0 <= f <= limit + 1e-15 <= 1 + 1e-12
    assert mad.identity_by_descent(nr, ns, t + 1) >= f - 1e-15
    if nr > 0:  # more fresh points, less identity
        assert mad.identity_by_descent(nr + 1, ns) <= limit + 1e-15


@st.composite
def gaussians(draw, d: int):
    a = draw(hnp.arrays(float, (d, d), elements=elements))
    return draw(hnp.arrays(float, d, elements=st.floats(-5, 5))), a @ a.T + 0.01 * np.eye(d)


@FAST
@given(d=st.integers(1, 3), data=st.data(), shift=st.floats(-5, 5), scale=st.floats(0.1, 10))
def test_gaussian_w2_is_a_squared_metric(d, data, shift, scale):
    """Eq. (mad-w2), now kexue_utils.metrics.gaussian_w2: the metric axioms of W₂ (moved from mad)."""
    w2 = metrics.gaussian_w2
    (m1, c1), (m2, c2), (m3, c3) = (data.draw(gaussians(d)) for _ in range(3))
    w = float(w2(m1, c1, m2, c2))
    assert w >= 0 and float(w2(m1, c1, m1, c1)) == pytest.approx(0.0, abs=1e-8 * (1 + np.trace(c1)))
    assert float(w2(m2, c2, m1, c1)) == pytest.approx(w, rel=1e-6, abs=1e-8)
    w13, w32 = float(w2(m1, c1, m3, c3)), float(w2(m3, c3, m2, c2))
    assert math.sqrt(w) <= math.sqrt(w13) + math.sqrt(w32) + 1e-6  # triangle inequality of W₂
    assert float(w2(m1 + shift, c1, m2 + shift, c2)) == pytest.approx(w, rel=1e-9, abs=1e-9)
    assert float(w2(scale * m1, scale**2 * c1, scale * m2, scale**2 * c2)) == pytest.approx(
        scale**2 * w, rel=1e-6, abs=1e-8
    )
    # commuting (diagonal) covariances: ‖m1 − m2‖² + ‖√C1 − √C2‖_F²
    v1, v2 = np.diag(c1), np.diag(c2)
    expected = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(v1) - np.sqrt(v2)) ** 2)
    assert float(w2(m1, np.diag(v1), m2, np.diag(v2))) == pytest.approx(expected, rel=1e-9, abs=1e-9)


@FAST
@given(
    x=hnp.arrays(float, st.tuples(st.integers(2, 30), st.integers(1, 3)), elements=st.floats(-10, 10)),
    data=st.data(),
)
def test_fit_gaussian_matches_numpy_and_is_affine_equivariant(x, data):
    d = x.shape[1]
    a = data.draw(hnp.arrays(float, (d, d), elements=elements))
    b = data.draw(hnp.arrays(float, d, elements=elements))
    mu, cov = mad.fit_gaussian(x)
    np.testing.assert_allclose(mu, x.mean(0), atol=1e-12)
    np.testing.assert_allclose(cov, np.cov(x.T).reshape(d, d), atol=1e-10)
    assert is_psd(cov, tol=1e-9)
    mu2, cov2 = mad.fit_gaussian(x @ a.T + b)
    np.testing.assert_allclose(mu2, a @ mu + b, atol=1e-9)
    np.testing.assert_allclose(cov2, a @ cov @ a.T, atol=1e-8 * (1 + np.abs(cov).max()))
    perm = data.draw(st.permutations(range(x.shape[0])))
    np.testing.assert_allclose(mad.fit_gaussian(x[list(perm)])[1], cov, atol=1e-10)


# ---------------------------------------------------------------------------------------------
# properties: simulators and metrics
# ---------------------------------------------------------------------------------------------


@SLOW
@given(
    s=spd(),
    n=st.integers(2, 8),
    lam=lams,
    g=st.integers(0, 4),
    method=st.sampled_from(["samples", "statistics"]),
    seed=st.integers(0, 2**31),
)
def test_simulate_chain_shapes_psd_and_seeded(s, n, lam, g, method, seed):
    d = s.shape[0]
    if n - 1 < d:  # a singular fit (and, for the Bartlett draw, a singular Wishart) is refused
        with pytest.raises(ValueError, match="n"):
            mad.simulate_chain(np.zeros(d), s, n=n, lam=lam, generations=1, trials=2, seed=0, method=method)
        n = d + 1
    mu0 = np.arange(d, dtype=float)
    kw = {"n": n, "lam": lam, "generations": g, "trials": 5, "seed": seed, "method": method}
    mus, sig = mad.simulate_chain(mu0, s, **kw)
    assert mus.shape == (g + 1, 5, d) and sig.shape == (g + 1, 5, d, d)
    assert np.all(np.isfinite(mus)) and np.all(np.isfinite(sig))
    np.testing.assert_array_equal(mus[0], np.broadcast_to(mu0, (5, d)))
    for m in sig.reshape(-1, d, d):
        assert is_psd(m, tol=1e-9)
    again = mad.simulate_chain(mu0, s, **kw)
    np.testing.assert_array_equal(mus, again[0])
    np.testing.assert_array_equal(sig, again[1])


@SLOW
@given(
    s=spd(2),
    loop=st.sampled_from(mad.LOOPS),
    nr=st.integers(0, 6),
    ns_=st.integers(1, 6),
    lam=lams,
    seed=st.integers(0, 2**31),
)
def test_simulate_loop_shapes_psd_and_generation_one_is_the_data_fit(s, loop, nr, ns_, lam, seed):
    d = s.shape[0]
    if nr + ns_ < d + 1:  # n − 1 ≥ d for a non-singular fit
        with pytest.raises(ValueError, match="n_real"):
            mad.simulate_loop(
                np.zeros(d), s, loop=loop, n_real=nr, n_synth=ns_, lam=lam, generations=1, trials=2, seed=0
            )
        ns_ = d + 1
    mus, sig = mad.simulate_loop(
        np.zeros(d), s, loop=loop, n_real=nr, n_synth=ns_, lam=lam, generations=3, trials=4, seed=seed
    )
    assert mus.shape == (4, 4, d) and sig.shape == (4, 4, d, d) and np.all(np.isfinite(sig))
    for m in sig.reshape(-1, d, d):
        assert is_psd(m, tol=1e-9)
    # generation 1 fits data only, so it cannot depend on the loop type
    other = mad.simulate_loop(
        np.zeros(d), s, loop="fresh", n_real=nr, n_synth=ns_, lam=lam, generations=1, trials=4, seed=seed
    )
    np.testing.assert_array_equal(mus[1], other[0][1])


small_points = hnp.arrays(
    np.int64, st.tuples(st.integers(5, 25), st.just(2)), elements=st.integers(-20, 20)
).map(lambda a: a.astype(float))


@FAST
@given(
    real=small_points,
    fake=small_points,
    k=st.integers(1, 3),
    v=st.tuples(st.integers(-50, 50), st.integers(-50, 50)),
)
def test_precision_recall_range_symmetry_monotone_in_k_and_translation(real, fake, k, v):
    p, r = metrics.precision_recall(real, fake, k=k)
    assert 0 <= p <= 1 and 0 <= r <= 1
    assert metrics.precision_recall(real, real, k=k) == (1.0, 1.0)
    assert metrics.precision_recall(fake, real, k=k) == (r, p)  # the roles of the two sets swap
    p2, r2 = metrics.precision_recall(real, fake, k=k + 1)  # larger k: larger balls, larger unions
    assert p2 >= p and r2 >= r
    shift = np.array(v, dtype=float)  # integer coordinates: distances stay exact
    assert metrics.precision_recall(real + shift, fake + shift, k=k) == (p, r)


@FAST
@given(
    a=hnp.arrays(float, st.tuples(st.integers(2, 30), st.just(2)), elements=st.floats(-10, 10)),
    b=hnp.arrays(float, st.tuples(st.integers(2, 30), st.just(2)), elements=st.floats(-10, 10)),
    v=hnp.arrays(float, 2, elements=st.floats(-10, 10)),
)
def test_frechet_distance_nonnegative_symmetric_and_shift(a, b, v):
    f = metrics.frechet_distance(a, b)
    tol = {"rel": 1e-6, "abs": 1e-4}  # near-singular covariances: the matrix square root loses √eps
    assert f >= 0 and metrics.frechet_distance(b, a) == pytest.approx(f, **tol)
    assert metrics.frechet_distance(a, a + v) == pytest.approx(float(v @ v), **tol)
    assert metrics.frechet_distance(a + v, b + v) == pytest.approx(f, **tol)


_GM = GaussianMixture(1, covariance_type="full", random_state=0).fit(
    np.random.default_rng(0).multivariate_normal([1.0, -1.0], [[2.0, 0.5], [0.5, 1.0]], size=200)
)


@FAST
@given(size=st.integers(1, 200), lam=lams, seed=st.integers(0, 2**31))
def test_sample_gmm_shrinks_by_sqrt_lambda_around_the_mean(size, lam, seed):
    """Same seed, same z: the points for λ are the mean plus √λ times the points for λ = 1."""
    full = mad.sample_gmm(_GM, size, 1.0, seed)
    part = mad.sample_gmm(_GM, size, lam, seed)
    assert full.shape == (size, 2)
    np.testing.assert_allclose(part - _GM.means_[0], math.sqrt(lam) * (full - _GM.means_[0]), atol=1e-12)


class _Identity:
    def transform(self, z):
        return z


_POOL = np.concatenate(
    [np.random.default_rng(1).standard_normal((30, 2)), np.random.default_rng(2).standard_normal((30, 2)) + 4]
)


@settings(max_examples=4, deadline=None)
@given(loop=st.sampled_from(mad.LOOPS), lam=lams, seed=st.integers(0, 2**31))
def test_gmm_loop_shape_determinism_and_metrics(loop, lam, seed):
    kw = {
        "loop": loop,
        "lam": lam,
        "generations": 2,
        "n_real": 10,
        "n_synth": 10,
        "n_samples": 12,
        "n_components": 2,
        "seed": seed,
    }
    out = mad.gmm_loop(_POOL, **kw)
    assert out.shape == (2, 12, 2) and np.all(np.isfinite(out))
    np.testing.assert_array_equal(out, mad.gmm_loop(_POOL, **kw))
    m = mad.loop_metrics(_POOL, out, _Identity(), k=3)
    for g in range(2):  # loop_metrics is precision/recall and the Fréchet distance, generation by generation
        assert tuple(m[g, :2]) == metrics.precision_recall(_POOL, out[g], k=3)
        assert m[g, 2] == pytest.approx(metrics.frechet_distance(_POOL, out[g]), rel=1e-9)
    assert np.all((m[:, :2] >= 0) & (m[:, :2] <= 1)) and np.all(m[:, 2] >= 0)


# ---------------------------------------------------------------------------------------------
# 2. bad-input fuzzing
# ---------------------------------------------------------------------------------------------

bad_lam = st.one_of(bad_positive(upper=1.0), st.just("0.5"))  # λ ∈ (0, 1]; "0.5" must not be parsed


@st.composite
def bad_cov(draw):
    """Not a finite symmetric PSD 2×2 matrix of real numbers."""
    good = np.array([[2.0, 0.5], [0.5, 1.0]])
    fixed = [
        *BAD_TYPES,
        [],
        np.zeros((0, 0)),
        np.ones((2, 3)),
        np.ones((2, 2, 2)),
        np.array([[1.0, 2.0], [0.0, 1.0]]),
        np.array([[1.0, 2.0], [2.0, 1.0]]),
        -good,
        np.where(good > 1, np.nan, good),
        np.where(good > 1, np.inf, good),
        *wrong_kind_arrays(good.shape),
    ]
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return draw(st.sampled_from(fixed))
    x, y = draw(st.floats(0.0, 1e3)), draw(st.floats(1e-4, 1e3))
    if kind == 1:  # indefinite
        return np.diag([x, -y * max(x, 1.0)])
    return np.array([[x, y], [0.0, x]])  # non-symmetric


@st.composite
def bad_points(draw, features: int = 2, batch_ok: bool = False):
    """Not a non-empty finite 2-d array of real numbers (points × features)."""
    good = np.arange(10.0 * features).reshape(10, features)
    fixed = [
        *BAD_TYPES,
        [],
        np.zeros((0, features)),
        np.zeros((5, 0)),
        np.ones(5),
        *([] if batch_ok else [np.ones((2, 5, features))]),
        *wrong_kind_arrays(good.shape),
    ]
    kind = draw(st.integers(0, 1))
    if kind == 0:
        return draw(st.sampled_from(fixed))
    bad = good.copy()
    bad[draw(st.integers(0, 9)), draw(st.integers(0, features - 1))] = draw(NONFINITE)
    return bad


bad_vector2 = st.sampled_from(
    [*BAD_ARRAYS, *wrong_kind_arrays((2,)), [], [0.0], [0.0, 0.0, 0.0], [np.nan, 0.0], [0.0, np.inf]]
)
bad_model = st.sampled_from(
    [None, "gmm", 3, object(), GaussianMixture(2), GaussianMixture(2, covariance_type="diag")]
)
bad_loop = st.one_of(st.sampled_from([None, "", "mixed", 1, "Fresh", True]), st.text(max_size=5))
bad_projection = st.sampled_from([None, "pca", 3, object(), np.eye(2)])
bad_reg_covar = bad_positive(zero_ok=True)

SIGMA0 = np.array([[2.0, 0.5], [0.5, 1.0]])
MU0 = np.array([1.0, -1.0])
SAMPLES = np.stack([_POOL[:10], _POOL[10:20]])
_NAN, _INF = SAMPLES.copy(), SAMPLES.copy()
_NAN[1, 3, 0], _INF[0, 2, 1] = np.nan, -np.inf

SPECS = {
    "mean_covariance": (
        {"sigma0": SIGMA0, "n": 5, "lam": 0.8, "t": 3},
        {"sigma0": bad_cov(), "n": bad_int(2), "lam": bad_lam, "t": bad_int(0)},
    ),
    "expected_sampling_covariance": (
        {"sigma0": SIGMA0, "lam": 0.8, "t": 3},
        {"sigma0": bad_cov(), "lam": bad_lam, "t": bad_int(0)},
    ),
    "logdet_drift": (
        {"d": 2, "n": 5, "lam": 0.8},
        {"d": bad_int(1), "n": st.one_of(bad_int(2), st.sampled_from([2, 2**60])), "lam": bad_lam},
    ),
    "logdet_step_variance": (
        {"d": 2, "n": 5},
        {"d": bad_int(1), "n": st.one_of(bad_int(2), st.sampled_from([2, 2**60]))},
    ),
    "expected_logdet": (
        {"sigma0": SIGMA0, "n": 5, "lam": 0.8, "t": 3},
        {
            "sigma0": st.one_of(bad_cov(), st.just(np.zeros((2, 2))), st.just(np.ones((2, 2)))),
            "n": st.one_of(bad_int(2), st.just(2)),
            "lam": bad_lam,
            "t": bad_int(0),
        },
    ),
    "sampling_variance_moments": (
        {"sigma0_sq": 2.0, "n": 5, "lam": 0.8, "t": 3},
        {"sigma0_sq": bad_positive(), "n": bad_int(2), "lam": bad_lam, "t": bad_int(0)},
    ),
    "mean_excess_kurtosis": (
        {"n": 5, "lam": 0.8, "t": 3},
        {"n": bad_int(2), "lam": bad_lam, "t": bad_int(1)},
    ),
    "halving_generations": (
        {"n": 5, "lam": 0.8},
        {"n": st.one_of(bad_int(2), st.just(2**60)), "lam": bad_lam},
    ),
    "fit_gaussian": (
        {"x": _POOL},
        {
            "x": st.one_of(
                bad_points(batch_ok=True), st.sampled_from([np.ones((1, 2)), np.ones((3, 1, 2)), 5.0])
            )
        },
    ),
    "simulate_chain": (
        {"mu0": MU0, "sigma0": SIGMA0, "n": 4, "lam": 0.8, "generations": 2, "trials": 3, "seed": 0},
        {
            "mu0": bad_vector2,
            "sigma0": bad_cov(),
            "n": bad_int(2),
            "lam": bad_lam,
            "generations": bad_int(0),
            "trials": bad_int(1),
            "seed": bad_int(0),
            "method": st.sampled_from([None, "", "exact", 1, True]),
            "keep": bad_lam,
        },
    ),
    "simulate_loop": (
        {
            "mu0": MU0,
            "sigma0": SIGMA0,
            "loop": "fresh",
            "n_real": 2,
            "n_synth": 2,
            "lam": 0.8,
            "generations": 2,
            "trials": 3,
            "seed": 0,
        },
        {
            "mu0": bad_vector2,
            "sigma0": bad_cov(),
            "loop": bad_loop,
            "n_real": bad_int(0),
            "n_synth": bad_int(1),
            "lam": bad_lam,
            "generations": bad_int(0),
            "trials": bad_int(1),
            "seed": bad_int(0),
        },
    ),
    "fresh_steady_state": (
        {"n_real": 5, "n_synth": 5, "lam": 0.8},
        {"n_real": bad_int(1), "n_synth": bad_int(1), "lam": bad_lam},
    ),
    "selection_bias": ({"d": 2, "keep": 0.9}, {"d": bad_int(1), "keep": bad_lam}),
    "identity_by_descent": (
        {"n_real": 1, "n_synth": 9, "t": 5},
        {
            "n_real": bad_int(0),
            "n_synth": bad_int(1),
            "t": bad_int(0).filter(lambda v: v is not None),  # None asks for the limit F*
        },
    ),
    "memorising_loop": (
        {"n_real": 1, "n_synth": 9, "generations": 3, "trials": 4, "seed": 0},
        {
            "n_real": bad_int(0),
            "n_synth": bad_int(1),
            "generations": bad_int(0),
            "trials": bad_int(1),
            "seed": bad_int(0),
        },
    ),
    "sample_gmm": (
        {"model": _GM, "size": 5, "lam": 0.8, "seed": 0},
        {"model": bad_model, "size": bad_int(1), "lam": bad_lam, "seed": bad_int(0)},
    ),
    "gmm_loop": (
        {
            "pool": _POOL,
            "loop": "fresh",
            "lam": 0.8,
            "generations": 1,
            "n_real": 5,
            "n_synth": 5,
            "n_samples": 5,
            "n_components": 1,
            "seed": 0,
        },
        {
            "pool": bad_points(),
            "loop": bad_loop,
            "lam": bad_lam,
            "generations": bad_int(1),
            "n_real": st.one_of(bad_int(0), st.just(1000)),
            "n_synth": bad_int(1),
            "n_samples": bad_int(1),
            "n_components": bad_int(1),
            "seed": bad_int(0),
            "reg_covar": bad_reg_covar,
        },
    ),
    "loop_metrics": (
        {"reference": _POOL, "samples": SAMPLES, "projection": _Identity(), "k": 3},
        {
            "reference": bad_points(),
            "samples": st.sampled_from(
                [
                    None,
                    "s",
                    [],
                    SAMPLES[0],
                    SAMPLES[:0],
                    SAMPLES[:, :0],
                    SAMPLES[..., :1],
                    SAMPLES.astype(str),
                    SAMPLES.astype(complex),
                    SAMPLES > 0,
                    _NAN,
                    _INF,
                    SAMPLES.astype(object),
                ]
            ),
            "projection": bad_projection,
            "k": st.one_of(bad_int(1), st.integers(10, 1000)),
        },
    ),
}


def test_every_public_function_is_fuzzed():
    assert sorted(SPECS) == public_functions(mad)


def test_valid_baselines_run():
    """The fuzz below perturbs one argument of these calls; the unperturbed calls themselves succeed."""
    for name, (kwargs, _) in SPECS.items():
        getattr(mad, name)(**kwargs)


# per function, 50 calls with one argument replaced by a bad value: each must raise a clean, named error
test_bad_inputs_raise_naming_the_argument = spec_fuzz_test(mad, SPECS, FAST)


@FAST
@given(t=st.integers(2000, 10**6), n=st.integers(2, 5), s2=st.sampled_from([1.0, 1e200]))
def test_sampling_variance_moments_overflow_is_a_named_error(t, n, s2):
    """((n+1)/(n−1))^t or σ₀⁴ overflowing used to raise a bare OverflowError from float pow (bug found)."""
    with pytest.raises(ValueError, match="sigma0_sq"):
        mad.sampling_variance_moments(s2, n, 1.0, t)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: mad.mean_covariance("2", 5, 0.8, 1), "sigma0"),  # a string used to be parsed as 2.0
        (lambda: mad.mean_covariance([[True]], 5, 0.8, 1), "sigma0"),  # a bool matrix used to be 1.0
        (lambda: mad.mean_covariance(np.array([[1 + 1j]]), 5, 0.8, 1), "sigma0"),  # imaginary part dropped
        (lambda: mad.fit_gaussian(np.ones((1, 2))), "x"),  # division by n − 1 = 0: a NaN covariance
        (lambda: mad.fit_gaussian("ab"), "x"),  # AttributeError deep inside
        (lambda: metrics.gaussian_w2([0.0], [[-1.0]], [0.0], [[1.0]]), "cov1"),  # silently clipped to 0
        (lambda: mad.halving_generations(2**64), "n"),  # OverflowError converting n to int64
        (lambda: mad.sampling_variance_moments(1e200, 5, 1.0, 1), "sigma0_sq"),  # OverflowError
        (
            lambda: mad.simulate_chain(
                [0, 0], np.eye(2), n=2, lam=1.0, generations=1, trials=1, seed=0, method="statistics"
            ),
            "n",
        ),  # numpy "df <= 0" from the Bartlett draw
        (lambda: mad.loop_metrics(_POOL, _NAN, _Identity()), "samples"),  # was reported as "fake"
        (lambda: mad.loop_metrics(_POOL, SAMPLES[:0], _Identity()), "samples"),  # empty result, no error
        (
            lambda: mad.gmm_loop(
                _POOL,
                loop="fresh",
                lam=1.0,
                generations=1,
                n_real=5,
                n_synth=5,
                n_samples=5,
                n_components=1,
                seed=0,
                reg_covar=True,
            ),
            "reg_covar",
        ),  # bool accepted
    ],
)
def test_regressions_found_by_the_fuzzing(call, name):
    with pytest.raises((ValueError, TypeError), match=rf"\b{name}\b"):
        call()
