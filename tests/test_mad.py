"""Unit tests for kexue_utils.mad (chapter book/mad.md: self-consuming generative models)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import special, stats
from sklearn.mixture import GaussianMixture

from kexue_utils import mad, metrics

SIGMA0 = np.array([[2.0, 0.6], [0.6, 1.0]])
MU0 = np.array([1.0, -0.5])


# ---------------------------------------------------------------- closed forms


def test_mean_covariance_closed_form_and_limits():
    assert np.array_equal(mad.mean_covariance(SIGMA0, 10, 0.7, 0), np.zeros((2, 2)))
    np.testing.assert_allclose(mad.mean_covariance(SIGMA0, 10, 1.0, 7), 0.7 * SIGMA0, rtol=1e-14)
    lam, n, t = 0.8, 20, 6
    direct = sum(lam**s for s in range(t)) / n * SIGMA0
    np.testing.assert_allclose(mad.mean_covariance(SIGMA0, n, lam, t), direct, rtol=1e-13)
    np.testing.assert_allclose(
        mad.mean_covariance(SIGMA0, n, lam, t, bias_generation0=True), lam * direct, rtol=1e-13
    )
    # continuity at λ → 1
    np.testing.assert_allclose(
        mad.mean_covariance(SIGMA0, n, 1 - 1e-9, t), mad.mean_covariance(SIGMA0, n, 1.0, t), rtol=1e-7
    )
    # a scalar Σ0 is a 1×1 matrix
    assert mad.mean_covariance(2.0, 4, 1.0, 2).shape == (1, 1)


@pytest.mark.parametrize(
    ("kwargs", "name", "error"),
    [
        ({"n": 1}, "n", ValueError),
        ({"n": 2.5}, "n", TypeError),  # wrong kind: not an int
        ({"n": True}, "n", TypeError),
        ({"lam": 0.0}, "lam", ValueError),
        ({"lam": 1.2}, "lam", ValueError),
        ({"lam": float("nan")}, "lam", ValueError),
        ({"lam": "0.5"}, "lam", TypeError),
        ({"t": -1}, "t", ValueError),
        ({"sigma0": np.ones((2, 3))}, "sigma0", ValueError),
        ({"sigma0": np.array([[1.0, 2.0], [0.0, 1.0]])}, "sigma0", ValueError),
        ({"sigma0": np.array([[1.0, 2.0], [2.0, 1.0]])}, "sigma0", ValueError),
        ({"sigma0": np.array([[np.nan, 0.0], [0.0, 1.0]])}, "sigma0", ValueError),
        ({"sigma0": np.ones((2, 2, 2))}, "sigma0", ValueError),
    ],
)
def test_mean_covariance_rejects_bad_arguments(kwargs, name, error):
    args = {"sigma0": SIGMA0, "n": 10, "lam": 0.8, "t": 3} | kwargs
    with pytest.raises(error, match=name):
        mad.mean_covariance(**args)


def test_expected_sampling_covariance_and_logdet():
    np.testing.assert_allclose(mad.expected_sampling_covariance(SIGMA0, 0.5, 3), SIGMA0 / 8)
    # 1-d drift is ψ(m/2) − ln(m/2) + ln λ and is negative
    for n in (3, 10, 100):
        m = n - 1
        expected = special.digamma(m / 2) - math.log(m / 2) + math.log(0.9)
        assert mad.logdet_drift(1, n, 0.9) == pytest.approx(expected, rel=1e-13)
        assert mad.logdet_drift(3, n + 3) < 0
    ld0 = np.linalg.slogdet(SIGMA0)[1]
    assert mad.expected_logdet(SIGMA0, 20, 0.8, 5) == pytest.approx(ld0 + 5 * mad.logdet_drift(2, 20, 0.8))
    assert mad.expected_logdet(SIGMA0, 20, 0.8, 5, bias_generation0=True) == pytest.approx(
        ld0 + 2 * math.log(0.8) + 5 * mad.logdet_drift(2, 20, 0.8)
    )
    assert mad.logdet_step_variance(1, 11) == pytest.approx(special.polygamma(1, 5.0))
    with pytest.raises(ValueError, match="n"):
        mad.logdet_drift(3, 3)
    with pytest.raises(ValueError, match="sigma0"):
        mad.expected_logdet(np.zeros((2, 2)), 10, 1.0, 1)


def test_logdet_step_variance_matches_the_variance_of_log_chi_square():
    """Var ln χ²_k = ψ'(k/2): compare with a numerical integral of the χ² density."""
    k = 7
    mean = special.digamma(k / 2) + math.log(2)
    second = stats.chi2(k).expect(lambda x: (math.log(x) - mean) ** 2)
    assert mad.logdet_step_variance(1, k + 1) == pytest.approx(second, rel=1e-7)


def test_moments_of_the_sampling_variance():
    mean, var = mad.sampling_variance_moments(2.0, 11, 1.0, 4)
    assert mean == pytest.approx(2.0)
    assert var == pytest.approx(4.0 * ((12 / 10) ** 4 - 1))
    mean, var = mad.sampling_variance_moments(1.0, 11, 0.5, 2)
    assert mean == pytest.approx(0.25)
    assert var == pytest.approx(0.5**4 * ((12 / 10) ** 2 - 1))
    with pytest.raises(ValueError, match="sigma0_sq"):
        mad.sampling_variance_moments(-1.0, 11, 1.0, 2)


def test_excess_kurtosis_recursion_matches_hand_computation():
    assert mad.mean_excess_kurtosis(7, 0.6, 1) == pytest.approx(0.0, abs=1e-14)
    for n in (3, 5, 20):  # at λ = 1 and t = 2 the recursion gives 1.5/(n − 1)
        assert mad.mean_excess_kurtosis(n, 1.0, 2) == pytest.approx(1.5 / (n - 1), rel=1e-12)
    values = [mad.mean_excess_kurtosis(5, 1.0, t) for t in range(2, 8)]
    assert all(b > a > 0 for a, b in itertools.pairwise(values))
    with pytest.raises(ValueError, match="t"):
        mad.mean_excess_kurtosis(5, 1.0, 0)


def test_halving_generations_is_about_n_minus_one_ln2_and_the_median_lags():
    for n in (50, 200):
        assert mad.halving_generations(n) == pytest.approx((n - 1) * math.log(2), rel=0.02)
    assert mad.halving_generations(20, 0.9) < mad.halving_generations(20, 1.0)
    # δ = −ψ''(m/2)/(6ψ'(m/2)) > 0 and ≈ 1/(3m) for large m, so the median is later by ≈ 1/3 generation
    for n in (10, 100, 1000):
        lag = mad.halving_generations(n, median=True) - mad.halving_generations(n)
        assert lag > 0
    assert lag == pytest.approx(1 / 3, rel=0.01)


def test_median_offset_against_a_simulated_median():
    """The median of a sum of t i.i.d. ln(χ²_m/m) is tκ + δ (Cornish–Fisher), not tκ."""
    m, t = 9, 8
    kappa = mad.logdet_drift(1, m + 1)
    delta = mad.halving_generations(m + 1, median=True) * abs(kappa) - math.log(2)
    sums = np.log(np.random.default_rng(0).chisquare(m, size=(400_000, t)) / m).sum(axis=1)
    se = 1.2533 * sums.std() / math.sqrt(len(sums))  # standard error of a median, ≈ 0.003
    assert abs(np.median(sums) - (t * kappa + delta)) < 5 * se
    assert abs(np.median(sums) - t * kappa) > 5 * se


def test_fresh_steady_state_solves_the_two_recursions():
    for nr, ns, lam in ((25, 25, 1.0), (25, 25, 0.8), (5, 45, 0.9), (40, 10, 0.6)):
        gamma, eta = mad.fresh_steady_state(nr, ns, lam)
        n, a, b = nr + ns, nr / (nr + ns), ns / (nr + ns)
        g_t, e_t = lam, 1 / n  # generation 1: E C_1 = λΣ0, Cov μ_1 = Σ0/n
        for _ in range(2000):  # the recursions of the chapter, iterated from generation 1
            g_t, e_t = (
                lam * ((a + b * g_t) + nr * ns / (n * (n - 1)) * e_t),
                (a + b * g_t) / n + b**2 * e_t,
            )
        assert (g_t, e_t) == pytest.approx((gamma, eta), rel=1e-12)
        assert gamma >= lam * nr / (nr + ns * (1 - lam))  # the gap between the two means adds spread
    # the chapter's case n_r = n_s = 25: the gap term adds 1.4 % at λ = 1
    assert mad.fresh_steady_state(25, 25, 1.0)[0] == pytest.approx(1 + 1 / 73, rel=1e-12)


def test_selection_bias_closed_form_and_monte_carlo():
    for p in (0.3, 0.9):  # d = 2: χ²_2 is exponential, q = −2 ln(1 − p), P(χ²_4 ≤ q) = 1 − (1 − p)(1 + q/2)
        q = -2 * math.log(1 - p)
        assert mad.selection_bias(2, p) == pytest.approx((1 - (1 - p) * (1 + q / 2)) / p, rel=1e-12)
    assert mad.selection_bias(3, 1.0) == pytest.approx(1.0)
    z = np.random.default_rng(0).standard_normal((400_000, 3))
    kept = z[np.sum(z**2, axis=1) <= stats.chi2.ppf(0.7, 3)]
    np.testing.assert_allclose(np.cov(kept.T), mad.selection_bias(3, 0.7) * np.eye(3), atol=0.01)
    # in higher dimension the same filter removes less
    assert mad.selection_bias(2, 0.9) < mad.selection_bias(10, 0.9) < mad.selection_bias(64, 0.9) < 1


def test_identity_by_descent_recursion_and_limits():
    n = 20
    assert mad.identity_by_descent(0, n, 7) == pytest.approx(1 - (1 - 1 / n) ** 7, rel=1e-12)
    assert mad.identity_by_descent(0, n) == pytest.approx(1.0)
    f, q = 0.0, 15 * 14 / (n * (n - 1))
    for t in range(1, 30):
        f = q * (1 / n + (1 - 1 / n) * f)
        assert mad.identity_by_descent(5, 15, t) == pytest.approx(f, rel=1e-12)
    # the infinite-alleles approximation 1/(1 + 2nu) for small u
    assert mad.identity_by_descent(1, 999) == pytest.approx(1 / 3, rel=0.01)


def test_memorising_loop_matches_the_recursion():
    assert np.all(mad.memorising_loop(3, 7, generations=0, trials=5, seed=0) == 0)
    assert np.all(mad.memorising_loop(0, 10, generations=400, trials=20, seed=1) == 1)  # fixation
    f = mad.memorising_loop(2, 18, generations=60, trials=6000, seed=2)
    assert np.all((f >= 0) & (f <= 1))
    assert f.mean() == pytest.approx(mad.identity_by_descent(2, 18, 60), abs=5 * f.std() / math.sqrt(6000))


def test_gaussian_w2_special_cases():
    """Eq. (mad-w2), computed by the shared kexue_utils.metrics (moved there from mad)."""
    assert metrics.gaussian_w2(MU0, SIGMA0, MU0, SIGMA0) == pytest.approx(0.0, abs=1e-12)
    a, b = np.diag([4.0, 1.0]), np.diag([1.0, 9.0])  # commuting: ‖√A − √B‖_F²
    assert metrics.gaussian_w2([0, 0], a, [3, 4], b) == pytest.approx(25 + 1 + 4)
    batch = metrics.gaussian_w2(np.zeros((5, 2)), np.broadcast_to(a, (5, 2, 2)), [0, 0], b)
    assert batch.shape == (5,)
    with pytest.raises(ValueError, match="mu1"):
        metrics.gaussian_w2(np.zeros(3), a, [0, 0], b)
    with pytest.raises(ValueError, match="cov2"):
        metrics.gaussian_w2(np.zeros(2), a, [0, 0], -b)


# ---------------------------------------------------------------- simulators


def test_simulate_chain_shapes_and_seed():
    mus, sigmas = mad.simulate_chain(MU0, SIGMA0, n=5, lam=0.9, generations=3, trials=7, seed=0)
    assert mus.shape == (4, 7, 2) and sigmas.shape == (4, 7, 2, 2)
    np.testing.assert_array_equal(mus[0], np.broadcast_to(MU0, (7, 2)))
    again, _ = mad.simulate_chain(MU0, SIGMA0, n=5, lam=0.9, generations=3, trials=7, seed=0)
    other, _ = mad.simulate_chain(MU0, SIGMA0, n=5, lam=0.9, generations=3, trials=7, seed=1)
    np.testing.assert_array_equal(mus, again)
    assert not np.allclose(mus[1:], other[1:])
    np.testing.assert_allclose(sigmas, np.swapaxes(sigmas, -1, -2))


@pytest.mark.parametrize("d", [1, 2])
def test_samples_and_statistics_simulators_agree(d):
    s0 = SIGMA0[:d, :d]
    kw = {"n": 6, "lam": 0.9, "generations": 3, "trials": 40_000}
    mu_a, s_a = mad.simulate_chain(MU0[:d], s0, method="samples", seed=1, **kw)
    mu_b, s_b = mad.simulate_chain(MU0[:d], s0, method="statistics", seed=2, **kw)
    for t in (1, 3):
        np.testing.assert_allclose(s_a[t].mean(0), s_b[t].mean(0), rtol=0.05, atol=0.02)
        np.testing.assert_allclose(s_a[t].var(0), s_b[t].var(0), rtol=0.12, atol=0.01)
        np.testing.assert_allclose(
            np.cov(mu_a[t].T).reshape(d, d), np.cov(mu_b[t].T).reshape(d, d), rtol=0.05, atol=0.01
        )
    np.testing.assert_allclose(np.cov(mu_b[3].T).reshape(d, d), mad.mean_covariance(s0, 6, 0.9, 3), rtol=0.05)


def test_reward_filter_acts_like_a_sampling_bias():
    lam_p = mad.selection_bias(2, 0.8)
    kw = {"n": 10, "generations": 3, "trials": 40_000}
    _, s = mad.simulate_chain(MU0, SIGMA0, lam=1.0, keep=0.8, seed=3, **kw)
    for t in (1, 2, 3):
        np.testing.assert_allclose(s[t].mean(0), lam_p ** (t - 1) * SIGMA0, rtol=0.03, atol=0.01)
    _, s_data = mad.simulate_chain(MU0, SIGMA0, lam=1.0, keep=0.8, seed=4, bias_generation0=True, **kw)
    np.testing.assert_allclose(s_data[1].mean(0), lam_p * SIGMA0, rtol=0.03, atol=0.01)  # curated data
    with pytest.raises(ValueError, match="keep"):
        mad.simulate_chain(MU0, SIGMA0, lam=1.0, keep=0.8, seed=0, method="statistics", **kw)


def test_sampler_root_is_cholesky_and_survives_a_singular_covariance():
    c = np.stack([SIGMA0, np.outer([1.0, 2.0], [1.0, 2.0])])  # the second one has rank 1
    root = mad._root(c)
    np.testing.assert_allclose(root @ np.swapaxes(root, -1, -2), c, atol=1e-10)
    assert np.allclose(np.triu(root[0], 1), 0)  # lower triangular: no eigenvector signs involved
    np.testing.assert_allclose(mad._root(SIGMA0[None]), np.linalg.cholesky(SIGMA0)[None])


def test_simulate_chain_rejects_bad_arguments():
    with pytest.raises(ValueError, match="mu0"):
        mad.simulate_chain([0.0, 0.0, 0.0], SIGMA0, n=5, lam=1.0, generations=2, trials=3, seed=0)
    with pytest.raises(ValueError, match="method"):
        mad.simulate_chain(MU0, SIGMA0, n=5, lam=1.0, generations=2, trials=3, seed=0, method="exact")
    with pytest.raises(ValueError, match="trials"):
        mad.simulate_chain(MU0, SIGMA0, n=5, lam=1.0, generations=2, trials=0, seed=0)
    with pytest.raises(ValueError, match="mu0"):
        mad.simulate_chain([np.nan, 0.0], SIGMA0, n=5, lam=1.0, generations=2, trials=3, seed=0)
    with pytest.raises(ValueError, match="sigma0"):  # a sampler needs a positive-definite Σ0
        mad.simulate_chain(MU0, np.zeros((2, 2)), n=5, lam=1.0, generations=2, trials=3, seed=0)
    with pytest.raises(ValueError, match="n"):  # n − 1 ≥ d for a non-singular fit
        mad.simulate_chain(MU0, SIGMA0, n=2, lam=1.0, generations=2, trials=3, seed=0)


def test_simulate_loop_behaviour():
    kw = {"n_real": 20, "n_synth": 20, "generations": 30, "trials": 300, "seed": 3}
    _, s_fresh = mad.simulate_loop(MU0, SIGMA0, loop="fresh", lam=0.8, **kw)
    steady = 0.8 * s_fresh[15:].mean(axis=(0, 1))
    np.testing.assert_allclose(steady, mad.fresh_steady_state(20, 20, 0.8)[0] * SIGMA0, rtol=0.06)
    _, s_full = mad.simulate_loop(MU0, SIGMA0, loop="fully-synthetic", lam=0.8, **kw)
    assert np.trace(s_full[-1].mean(0)) < 0.05 * np.trace(SIGMA0)
    # augmentation reuses the same real points: with n_synth tiny and λ small it stays near the fixed set
    mu_aug, _ = mad.simulate_loop(
        MU0, SIGMA0, loop="augmentation", n_real=30, n_synth=1, lam=0.01, generations=5, trials=4, seed=4
    )
    assert np.max(np.abs(mu_aug[5] - mu_aug[2])) < 0.2
    with pytest.raises(ValueError, match="loop"):
        mad.simulate_loop(MU0, SIGMA0, loop="mixed", lam=1.0, **kw)
    with pytest.raises(ValueError, match="n_synth"):
        mad.simulate_loop(
            MU0, SIGMA0, loop="fresh", n_real=5, n_synth=0, lam=1.0, generations=2, trials=2, seed=0
        )


# ---------------------------------------------------------------- the digits metrics (kexue_utils.metrics)


def _precision_recall_reference(real, fake, k):
    def radii(x):
        dist = np.linalg.norm(x[:, None] - x[None], axis=-1)
        return np.sort(dist, axis=1)[:, k]  # column 0 is the point itself

    def share(points, centres, r):
        dist = np.linalg.norm(points[:, None] - centres[None], axis=-1)
        return np.mean(np.any(dist <= r[None], axis=1))

    return share(fake, real, radii(real)), share(real, fake, radii(fake))


def test_precision_recall_matches_a_brute_force_reference():
    rng = np.random.default_rng(0)
    real = rng.standard_normal((120, 3))
    fake = 0.6 * rng.standard_normal((90, 3)) + 0.5
    got = metrics.precision_recall(real, fake, k=5)
    np.testing.assert_allclose(got, _precision_recall_reference(real, fake, 5), atol=1e-12)
    assert metrics.precision_recall(real, real, k=3) == (1.0, 1.0)
    assert metrics.precision_recall(real, real + 100.0, k=3) == (0.0, 0.0)
    # a collapsed fake set has high precision and low recall
    p, r = metrics.precision_recall(real, 0.05 * rng.standard_normal((120, 3)), k=5)
    assert p > 0.9 and r < 0.3


def test_precision_recall_rejects_bad_arguments():
    x = np.zeros((10, 2)) + np.arange(10)[:, None]
    with pytest.raises(ValueError, match="columns"):
        metrics.precision_recall(x, np.zeros((10, 3)))
    with pytest.raises(ValueError, match="k"):
        metrics.precision_recall(x, x, k=10)
    with pytest.raises(ValueError, match="k"):
        metrics.precision_recall(x, x, k=0)
    with pytest.raises(ValueError, match="fake"):
        metrics.precision_recall(x, np.full((10, 2), np.nan))
    with pytest.raises(ValueError, match="real"):
        metrics.precision_recall(np.zeros(5), x)


def test_frechet_distance_is_w2_of_fitted_gaussians():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((200, 3)), 2 * rng.standard_normal((150, 3)) + 1
    ma, ca = mad.fit_gaussian(a)
    mb, cb = mad.fit_gaussian(b)
    np.testing.assert_allclose(ca, np.cov(a.T))
    assert metrics.frechet_distance(a, b) == pytest.approx(float(metrics.gaussian_w2(mb, cb, ma, ca)))
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)


# ---------------------------------------------------------------- Gaussian-mixture loop


def test_sample_gmm_scales_covariance_by_lambda():
    rng = np.random.default_rng(2)
    x = rng.multivariate_normal([0, 0], SIGMA0, size=2000)
    gm = GaussianMixture(1, covariance_type="full", random_state=0).fit(x)
    s = mad.sample_gmm(gm, 40_000, 0.5, seed=3)
    np.testing.assert_allclose(np.cov(s.T), 0.5 * gm.covariances_[0], rtol=0.05, atol=0.02)
    with pytest.raises(TypeError, match="model"):
        mad.sample_gmm(object(), 10, 1.0, seed=0)
    with pytest.raises(ValueError, match="model"):  # the right kind, but not a full-covariance mixture
        mad.sample_gmm(GaussianMixture(1, covariance_type="diag").fit(x), 10, 1.0, seed=0)
    with pytest.raises(ValueError, match="lam"):
        mad.sample_gmm(gm, 10, 0.0, seed=0)


def test_gmm_loop_and_metrics_are_deterministic():
    rng = np.random.default_rng(5)
    pool = np.concatenate([rng.standard_normal((100, 4)), rng.standard_normal((100, 4)) + 5])
    kw = {
        "lam": 0.8,
        "generations": 2,
        "n_real": 50,
        "n_synth": 50,
        "n_samples": 60,
        "n_components": 2,
        "seed": 1,
    }
    a = mad.gmm_loop(pool, loop="fresh", **kw)
    b = mad.gmm_loop(pool, loop="fresh", **kw)
    assert a.shape == (2, 60, 4)
    np.testing.assert_array_equal(a, b)

    class Identity:
        def transform(self, z):
            return z

    m = mad.loop_metrics(pool, a, Identity(), k=3)
    assert m.shape == (2, 3) and np.all((m[:, :2] >= 0) & (m[:, :2] <= 1)) and np.all(m[:, 2] >= 0)
    for g in range(2):  # loop_metrics is the shared metrics, generation by generation
        assert tuple(m[g, :2]) == metrics.precision_recall(pool, a[g], k=3)
        assert m[g, 2] == pytest.approx(metrics.frechet_distance(pool, a[g]), rel=1e-12)
    with pytest.raises(ValueError, match="loop"):
        mad.gmm_loop(pool, loop="other", **kw)
    with pytest.raises(ValueError, match="n_real"):
        mad.gmm_loop(pool, loop="fresh", **(kw | {"n_real": 300}))
    with pytest.raises(TypeError, match="projection"):
        mad.loop_metrics(pool, a, object())
