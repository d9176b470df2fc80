"""Unit tests for kexue_utils.quanta (chapter book/quanta.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from kexue_utils import quanta


def reference_tail(n: int, gamma: float, cut: int = 20_000) -> float:
    """Σ_{k>n} k^-(γ+1)/ζ(γ+1) by brute force: an exact sum to ``cut`` plus an Euler–Maclaurin remainder.

    Independent of the Hurwitz zeta: math.fsum of the terms n+1..cut, then the remainder
    Σ_{k>cut} k^-s = cut^-(s-1)/(s-1) − cut^-s/2 + s cut^-(s+1)/12 − s(s+1)(s+2) cut^-(s+3)/720,
    whose neglected term is O(cut^-(s+5)), far below double precision here.
    """
    s = gamma + 1.0
    head = math.fsum(k ** (-s) for k in range(n + 1, cut + 1))
    c = float(cut)
    rest = (
        c ** (1 - s) / (s - 1)
        - c ** (-s) / 2
        + s * c ** (-s - 1) / 12
        - s * (s + 1) * (s + 2) * c ** (-s - 3) / 720
    )
    return (head + rest) / float(special.zeta(s))


@pytest.mark.parametrize("gamma", [0.1, 0.5, 1.0, 2.5])
@pytest.mark.parametrize("n", [0, 1, 7, 300])
def test_tail_mass_matches_brute_force(n: int, gamma: float) -> None:
    got = float(quanta.tail_mass(n, gamma))
    assert got == pytest.approx(reference_tail(n, gamma), rel=1e-12)


def test_tail_mass_is_vectorised_and_keeps_shape() -> None:
    n = np.array([[0, 1], [10, 1000]])
    out = quanta.tail_mass(n, 0.7)
    assert out.shape == (2, 2)
    assert out[0, 0] == pytest.approx(1.0, rel=1e-14)
    np.testing.assert_allclose(out.ravel(), [quanta.tail_mass(int(k), 0.7) for k in n.ravel()], rtol=1e-15)


def test_tail_mass_recursion_and_monotonicity() -> None:
    n = np.arange(0, 200)
    g = 0.4
    T = quanta.tail_mass(n, g)
    np.testing.assert_allclose(T[:-1] - T[1:], quanta.zipf_frequencies(n[1:], g), rtol=1e-9)
    assert np.all(np.diff(T) < 0)


def test_zipf_frequencies_sum_to_one() -> None:
    p = quanta.zipf_frequencies(np.arange(1, 100_001), 1.0)
    assert p.sum() + float(quanta.tail_mass(100_000, 1.0)) == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("gamma", [0.3, 1.0, 2.0])
def test_euler_maclaurin_error_orders(gamma: float) -> None:
    n = np.array([1000, 2000])
    exact = quanta.tail_mass(n, gamma)
    rel1 = quanta.tail_asymptote(n, gamma, terms=1) / exact - 1
    rel2 = quanta.tail_asymptote(n, gamma, terms=2) / exact - 1
    rel4 = quanta.tail_asymptote(n, gamma, terms=4) / exact - 1
    np.testing.assert_allclose(n * rel1, gamma / 2, rtol=2e-3)
    np.testing.assert_allclose(n**2 * rel2, -gamma * (gamma + 1) / 12, rtol=2e-3)
    assert np.all(np.abs(rel4) < 1e-13)


def test_truncated_tail_mass_reaches_zero_and_renormalises() -> None:
    K, g = 50, 0.5
    n = np.arange(0, 60)
    got = quanta.truncated_tail_mass(n, g, K)
    k = np.arange(1, K + 1)
    w = k ** (-(g + 1))
    direct = np.array([w[k > m].sum() for m in n]) / w.sum()
    np.testing.assert_allclose(got, direct, rtol=1e-12, atol=1e-15)
    assert got[0] == pytest.approx(1.0)
    assert np.all(got[K:] == 0.0)


def test_geometric_tail_is_r_power_n() -> None:
    r = 0.8
    k = np.arange(1, 400)
    p = (1 - r) * r ** (k - 1)
    for n in (0, 3, 20):
        assert float(quanta.geometric_tail_mass(n, r)) == pytest.approx(p[k > n].sum(), rel=1e-10)


def test_predicted_exponents_keys_and_values() -> None:
    e = quanta.predicted_exponents(1.0)
    assert set(e) == {"N", "D", "S"}
    assert e == {"N": 1.0, "D": 0.5, "S": 0.5}
    assert quanta.implied_gamma(e["D"], "D") == pytest.approx(1.0)
    assert quanta.implied_gamma(0.3, "N") == 0.3


@settings(max_examples=40, deadline=None)
@given(
    alpha=st.floats(0.01, 3.0),
    c=st.floats(0.01, 100.0),
)
def test_fit_power_law_recovers_exact_power_laws(alpha: float, c: float) -> None:
    x = np.logspace(0, 4, 9)
    a, cc = quanta.fit_power_law(x, c * x ** (-alpha))
    assert a == pytest.approx(alpha, rel=1e-9, abs=1e-12)
    assert cc == pytest.approx(c, rel=1e-9)


def test_simulated_parameter_law_matches_tail_mass() -> None:
    n = np.array([1, 10, 100])
    sim = quanta.simulate_parameter_law(n, 0.5, n_test=400_000, seed=0)
    exact = quanta.tail_mass(n, 0.5)
    # binomial standard error of each estimate, 5 sigma
    se = np.sqrt(exact * (1 - exact) / 400_000)
    assert np.all(np.abs(sim - exact) < 5 * se)


def test_data_law_simulation_matches_expectation_and_exponent() -> None:
    D = np.array([20_000, 80_000, 320_000])
    sim = quanta.simulate_data_law(D, 0.5, tau=10, seed=3, max_quanta=20_000)
    mean, sd = quanta.data_law_moments(D, 0.5, tau=10, max_quanta=20_000)
    assert np.all(np.abs(sim - mean) < 5 * sd)
    alpha, _ = quanta.fit_power_law(D, mean)
    assert alpha == pytest.approx(0.5 / 1.5, abs=0.002)


def test_data_law_sd_matches_the_spread_of_simulations() -> None:
    """The independent-counts sd of Eq. (quanta-dexact) against 60 simulated data sets (sd of sd ≈ 9 %)."""
    D = np.array([5_000, 50_000])
    sims = np.array([quanta.simulate_data_law(D, 0.6, tau=5, seed=s, max_quanta=5_000) for s in range(60)])
    mean, sd = quanta.data_law_moments(D, 0.6, tau=5, max_quanta=5_000)
    np.testing.assert_allclose(sims.mean(axis=0), mean, atol=4 * sd.max() / np.sqrt(60))
    np.testing.assert_allclose(sims.std(axis=0, ddof=1), sd, rtol=0.35)


def test_quanta_learned_threshold() -> None:
    g, tau = 0.5, 10.0
    n = quanta.quanta_learned([1e6], g, tau)[0]
    # the quantum n* has exactly τ expected samples in D = 1e6 draws
    assert 1e6 * n ** (-(g + 1)) / special.zeta(g + 1) == pytest.approx(tau, rel=1e-12)


def test_sparse_parity_tasks_are_distinct_subsets() -> None:
    m = quanta.make_sparse_parity_tasks(5, 8, 3, seed=0)
    assert m.shape == (5, 8)
    assert np.all(m.sum(axis=1) == 3)
    every = quanta.make_sparse_parity_tasks(10, 5, 3, seed=1)  # all C(5, 3) = 10 subsets, each once
    assert len({tuple(row) for row in every}) == 10
    with pytest.raises(ValueError, match="n_tasks"):
        quanta.make_sparse_parity_tasks(11, 5, 3, seed=1)


def _censored_sample(beta: float, S0: float, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Learning steps S0 + c p^-β with log-normal noise (σ = 0.2) for 400 Zipf tasks, cut at a horizon."""
    p = np.arange(1, 401, dtype=float) ** -1.4
    p /= p.sum()
    rng = np.random.default_rng(seed)
    S = S0 + 50.0 * p**-beta * np.exp(0.2 * rng.standard_normal(p.size))
    horizon = float(np.quantile(S, 0.6))
    return p, np.where(S <= horizon, S, np.nan), horizon


def test_censored_fit_recovers_beta_where_the_naive_fit_is_biased() -> None:
    p, S, horizon = _censored_sample(1.0, 0.0, seed=0)
    fit = quanta.fit_learning_steps(p, S, horizon)
    assert fit["beta"] == pytest.approx(1.0, abs=0.03)
    assert fit["sigma"] == pytest.approx(0.2, rel=0.15)
    learned = np.isfinite(S)
    assert quanta.fit_power_law(p[learned], S[learned])[0] < min(0.98, fit["beta"] - 0.01)  # the bias


def test_offset_fit_recovers_the_delay() -> None:
    p, S, horizon = _censored_sample(1.0, 300.0, seed=1)
    plain, offset = (quanta.fit_learning_steps(p, S, horizon, offset=o) for o in (False, True))
    assert offset["beta"] == pytest.approx(1.0, abs=0.05)
    assert offset["S0"] == pytest.approx(300.0, rel=0.3)
    assert plain["beta"] < 0.97  # a delay ignored looks like sublinear learning
    assert 2 * (offset["loglik"] - plain["loglik"]) > 3.84  # and the likelihood sees it


def test_learning_steps() -> None:
    steps = np.array([10, 20, 30])
    loss = np.array([[0.5, 0.7], [0.05, 0.6], [0.01, 0.6]])
    out = quanta.learning_steps(steps, loss, 0.1)
    assert out[0] == 20 and np.isnan(out[1])


def test_train_sparse_parity_short_run_is_deterministic() -> None:
    m = quanta.make_sparse_parity_tasks(3, 6, 2, seed=0)
    a, b = (
        quanta.train_sparse_parity(
            m, 0.5, width=16, batch=32, eval_steps=[10, 40], learning_rate=1e-2, n_eval=16, seed=0
        )
        for _ in range(2)
    )
    assert a["task_loss"].shape == (2, 3)
    np.testing.assert_array_equal(a["steps"], [10, 40])
    np.testing.assert_array_equal(a["task_loss"], b["task_loss"])
    assert np.all(np.abs(a["task_loss"][0] - np.log(2)) < 0.3)  # near chance after 10 steps
    assert a["p"].sum() == pytest.approx(1.0)
    assert np.all(np.diff(a["p"]) < 0)


def test_train_sparse_parity_learns_a_single_frequent_task() -> None:
    m = quanta.make_sparse_parity_tasks(2, 4, 2, seed=0)
    run = quanta.train_sparse_parity(
        m, 3.0, width=32, batch=64, eval_steps=[500], learning_rate=1e-2, n_eval=64, seed=0
    )
    assert run["task_loss"][0, 0] < 0.1  # p_1 ≈ 0.94: the parity of 2 of 4 bits is learned


# ---------------------------------------------------------------------------------------------
# argument validation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [-1, [0, -3]])
def test_negative_n_raises(bad: object) -> None:
    with pytest.raises(ValueError, match="n"):
        quanta.tail_mass(bad, 0.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [2.5, [1, 1.5]])
def test_non_integer_n_raises(bad: object) -> None:
    with pytest.raises(ValueError, match="n must hold integers"):
        quanta.tail_mass(bad, 0.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [float("nan"), [1, float("nan")]])
def test_nan_n_raises(bad: object) -> None:
    with pytest.raises(ValueError, match="n must be finite"):
        quanta.tail_mass(bad, 0.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0.0, -0.5, float("nan"), float("inf")])
def test_bad_gamma_raises(bad: float) -> None:
    with pytest.raises(ValueError, match="gamma"):
        quanta.tail_mass(3, bad)
    with pytest.raises(ValueError, match="gamma"):
        quanta.predicted_exponents(bad)


def test_type_errors() -> None:
    with pytest.raises(TypeError, match="gamma"):
        quanta.tail_mass(3, "0.5")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="n"):
        quanta.tail_mass(True, 0.5)  # type: ignore[arg-type]


def test_fit_power_law_validation() -> None:
    with pytest.raises(ValueError, match="y"):
        quanta.fit_power_law([1, 2, 3], [1, 0, 2])
    with pytest.raises(ValueError, match="x"):
        quanta.fit_power_law([1, np.nan], [1, 2])
    with pytest.raises(ValueError, match="same shape"):
        quanta.fit_power_law([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="two distinct"):
        quanta.fit_power_law([2, 2], [1, 2])


def test_other_validation() -> None:
    with pytest.raises(ValueError, match="terms"):
        quanta.tail_asymptote(5, 0.5, terms=5)
    with pytest.raises(ValueError, match="n"):
        quanta.tail_asymptote(0, 0.5)
    with pytest.raises(ValueError, match="ratio"):
        quanta.geometric_tail_mass(3, 1.0)
    with pytest.raises(ValueError, match="n_quanta"):
        quanta.truncated_tail_mass(3, 0.5, 0)
    with pytest.raises(ValueError, match="alpha"):
        quanta.implied_gamma(1.2, "D")
    with pytest.raises(ValueError, match="kind"):
        quanta.implied_gamma(0.2, "X")
    with pytest.raises(ValueError, match="subset_size"):
        quanta.make_sparse_parity_tasks(2, 3, 4, seed=0)
    with pytest.raises(ValueError, match="eval_steps"):
        m = quanta.make_sparse_parity_tasks(2, 4, 2, seed=0)
        quanta.train_sparse_parity(
            m, 0.5, width=4, batch=4, eval_steps=[15], learning_rate=0.1, n_eval=4, seed=0
        )
    with pytest.raises(ValueError, match="threshold"):
        quanta.learning_steps([1], [[0.1]], -1.0)


@pytest.mark.parametrize("gamma", [0.3, 1.0])
def test_data_law_asymptote_is_the_large_d_limit(gamma: float) -> None:
    D = np.array([10**6])
    exact = quanta.data_law_moments(D, gamma, tau=5, max_quanta=100_000)[0]
    np.testing.assert_allclose(exact, quanta.data_law_asymptote(D, gamma, tau=5), rtol=1e-4)
    with pytest.raises(ValueError, match="tau"):
        quanta.data_law_asymptote(D, gamma, tau=0)


@pytest.mark.parametrize("tau", [1, 3, 40])
def test_data_law_constant_closed_form_equals_the_sum(tau: int) -> None:
    """Eq. (quanta-ctau): C_τ from Σ_{j<τ} Γ(j+α)/j!, by math.fsum, against the closed form in the code."""
    g = 0.7
    a, s = g / (g + 1), g + 1
    series = math.fsum(math.gamma(j + a) / math.factorial(j) for j in range(tau))
    c_tau = special.zeta(s) ** (-1 / s) / s * series
    assert float(quanta.data_law_asymptote(1.0, g, tau=tau)[0]) == pytest.approx(c_tau, rel=1e-12)
