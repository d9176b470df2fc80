"""Property-based tests and bad-input fuzzing for kexue_utils.skip_tuning (chapter: skip-tuning).

Properties are consequences of the chapter's definitions, derived independently of the code: the EDM
preconditioning identities (unit second moment of the network input and target for data of second moment σd²,
c_skip as the minimiser of the target's second moment), the shape of the Karras schedule (uniform in σ^{1/κ},
from σ_max down to σ_min, then 0), the linear skip scales, the evaluation count of Euler/Heun, the exact
probability-flow ODE of Gaussian data, the high-frequency share (Parseval, invariances), the interpolation of
the equivalent NFE, and the batch independence of the U-Net. The fuzzing feeds every public function of every
module wrong kinds, shapes, NaN/inf, out-of-range numbers and malformed parameter dicts; each must raise
ValueError/TypeError naming the argument. Anything running the U-Net takes a few examples.
"""

from __future__ import annotations

import itertools
import math

import jax
import matplotlib
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kexue_utils.skip_tuning import checkpoints, classifier, digits, edm, experiment, train, unet

from fuzzing import BAD_ARRAYS, BAD_TYPES, assert_named_error, bad_int, bad_positive, public_functions

matplotlib.use("Agg")
import matplotlib.pyplot as plt

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NET = settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PARAMS = checkpoints.load_unet()
CLF = checkpoints.load_classifier()
log_uniform = lambda lo, hi: st.floats(math.log10(lo), math.log10(hi)).map(lambda e: 10.0**e)  # noqa: E731
sigmas_ = log_uniform(1e-4, 1e4)
sigma_datas = log_uniform(1e-2, 1e2)


# ---------------------------------------------------------------------------------------------
# 1. properties: EDM preconditioning, schedule, skip scales, NFE
# ---------------------------------------------------------------------------------------------


@FAST
@given(s=sigmas_, sd=sigma_datas)
def test_preconditioning_identities(s, sd):
    c_skip, c_out, c_in, c_noise = edm.preconditioning(s, sd)
    approx = lambda v: pytest.approx(v, rel=1e-12)  # noqa: E731
    assert c_skip == approx(sd**2 / (s**2 + sd**2))
    assert c_out**2 == approx(s**2 * sd**2 / (s**2 + sd**2))
    assert c_in**2 * (s**2 + sd**2) == approx(1.0)  # unit second moment of the input c_in (y + σ n)
    assert c_noise == pytest.approx(math.log(s) / 4, rel=1e-12, abs=1e-15)
    assert c_skip + c_out**2 / sd**2 == approx(1.0)
    # E[F_target²] = ((1 − c_skip)² σd² + c_skip² σ²)/c_out² = 1, and c_skip is its stationary point in c
    assert (1 - c_skip) ** 2 * sd**2 + c_skip**2 * s**2 == approx(c_out**2)
    assert -(1 - c_skip) * sd**2 + c_skip * s**2 == pytest.approx(0.0, abs=1e-12 * (sd**2 + s**2))
    assert 0 < c_skip < 1 and c_out > 0 and c_in > 0


@FAST
@given(s=hnp.arrays(float, st.integers(1, 6), elements=sigmas_), sd=sigma_datas)
def test_preconditioning_is_elementwise_and_agrees_with_jax(s, sd):
    vec = edm.preconditioning(s, sd)
    for i, v in enumerate(s):
        for a, b in zip(vec, edm.preconditioning(float(v), sd), strict=True):
            assert a[i] == b
    traced = edm.preconditioning(jax.numpy.asarray(s, jax.numpy.float32), sd)  # the path inside jit
    for a, b in zip(vec, traced, strict=True):
        np.testing.assert_allclose(np.asarray(b), a, rtol=1e-5, atol=1e-6)


@FAST
@given(s=sigmas_, sd=sigma_datas, y=st.floats(-10, 10), n=st.floats(-10, 10))
def test_training_target_is_unit_variance_for_data_of_second_moment_sigma_data_squared(s, sd, y, n):
    """The target is a y + b n; for E y² = σd², E n² = 1, y ⊥ n, its second moment a²σd² + b² is 1."""
    a = float(edm.training_target(np.array([1.0]), np.array([0.0]), s, sd)[0])
    b = float(edm.training_target(np.array([0.0]), np.array([1.0]), s, sd)[0])
    assert a**2 * sd**2 + b**2 == pytest.approx(1.0, rel=1e-10)
    t = float(edm.training_target(np.array([y]), np.array([n]), s, sd)[0])
    c_skip, c_out, _, _ = edm.preconditioning(s, sd)
    assert t == pytest.approx(a * y + b * n, rel=1e-9, abs=1e-13 * (abs(y) + abs(s * n)) / c_out)
    # solving D = c_skip x + c_out F for F: the target makes the denoiser return y exactly
    assert c_skip * (y + s * n) + c_out * t == pytest.approx(y, rel=1e-9, abs=1e-9 * (1 + abs(s * n)))


@FAST
@given(
    n=st.integers(1, 300),
    sigma_min=log_uniform(1e-4, 1.0),
    ratio=log_uniform(2.0, 1e5),
    kappa=st.floats(1.0, 10.0),
)
def test_karras_schedule_shape(n, sigma_min, ratio, kappa):
    sigma_max = sigma_min * ratio
    sig = edm.karras_sigmas(n, sigma_min, sigma_max, kappa)
    assert sig.shape == (n + 1,) and sig[-1] == 0.0
    assert np.all(np.diff(sig) < 0) and np.all(sig[:-1] > 0)
    assert sig[0] == pytest.approx(sigma_max, rel=1e-12)
    if n > 1:
        assert sig[-2] == pytest.approx(sigma_min, rel=1e-10)
        root = sig[:-1] ** (1 / kappa)  # uniform steps in σ^{1/κ}
        np.testing.assert_allclose(np.diff(root), np.diff(root).mean(), rtol=1e-8, atol=1e-12 * root[0])


@FAST
@given(rb=st.floats(-10, 10), rt=st.floats(-10, 10), k=st.integers(2, 40))
def test_skip_scales_linear_between_the_ends(rb, rt, k):
    rho = unet.skip_scales(rb, rho_top=rt, n_skips=k)
    tol = 1e-12 * (1 + abs(rb) + abs(rt))
    assert rho.shape == (k,) and rho[0] == rt and abs(rho[-1] - rb) <= tol
    assert np.all(rho >= min(rb, rt) - tol) and np.all(rho <= max(rb, rt) + tol)
    np.testing.assert_allclose(np.diff(rho, 2), 0.0, atol=4 * tol)  # linear in depth
    np.testing.assert_allclose(unet.skip_scales(rt, rho_top=rb, n_skips=k), rho[::-1], rtol=0, atol=tol)


@FAST
@given(n=st.integers(1, 10**6))
def test_nfe_formula(n):
    assert edm.nfe(n, "euler") == n and edm.nfe(n, "heun") == 2 * n - 1
    assert edm.nfe(n + 1, "heun") - edm.nfe(n, "heun") == 2  # every extra step is a full Heun step


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 25), method=st.sampled_from(["euler", "heun"]))
def test_nfe_equals_counted_denoiser_calls(n, method):
    assert edm.count_nfe(n, method) == edm.nfe(n, method)


# ---------------------------------------------------------------------------------------------
# properties: samplers on Gaussian data (exact denoiser, exact flow)
# ---------------------------------------------------------------------------------------------


class GaussianDenoiser:
    """D(x; σ) = x σd²/(σ² + σd²): the exact denoiser of N(0, σd²) data."""

    def __init__(self, sd: float):
        self.s2 = sd * sd

    def __call__(self, x, s):
        return self.s2 / (s**2 + self.s2) * x


@settings(max_examples=8, deadline=None)
@given(
    sd=st.floats(0.2, 2.0),
    z=hnp.arrays(np.float64, 3, elements=st.floats(0.1, 3.0)),
    sign=st.sampled_from([1.0, -1.0]),
)
def test_samplers_converge_to_the_exact_flow_heun_beats_euler(sd, z, sign):
    """x(σ) = x_T √(σ²+σd²)/√(σ_max²+σd²) solves dx/dσ = (x − D)/σ; at σ = 0 it is x_T σd/√(σ_max²+σd²)."""
    den = GaussianDenoiser(sd)
    x_T = sign * z * edm.SIGMA_MAX
    exact = x_T * sd / math.sqrt(edm.SIGMA_MAX**2 + sd**2)
    ns = (4, 8, 16, 32, 64)
    err = {
        (m, n): np.max(np.abs(edm.sample(x_T, edm.karras_sigmas(n), m, denoiser=den) - exact))
        / np.max(np.abs(exact))
        for m in ("euler", "heun")
        for n in ns
    }
    for m in ("euler", "heun"):
        assert all(err[m, a] > err[m, b] for a, b in itertools.pairwise(ns))  # converges as N grows
    # second order wins once the steps resolve the flow; with 4-8 Karras steps Heun can overshoot
    assert all(err["heun", n] < err["euler", n] for n in (16, 32, 64))
    assert err["euler", 64] < 0.06 and err["heun", 64] < 6e-3


@settings(max_examples=8, deadline=None)
@given(
    sd=st.floats(0.2, 2.0),
    s=st.floats(0.01, 100.0),
    x=hnp.arrays(np.float64, 2, elements=st.floats(-100, 100)),
    method=st.sampled_from(["euler", "heun"]),
)
def test_last_step_to_zero_returns_the_denoiser_output(sd, s, x, method):
    """An Euler step to σ = 0 is x − σ (x − D)/σ = D; Heun also takes an Euler step there."""
    den = GaussianDenoiser(sd)
    out = edm.sample(x, [s, 0.0], method, denoiser=den)
    expected = den(x.astype(np.float32), np.float32(s))
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6 * (1 + np.max(np.abs(x))))


# ---------------------------------------------------------------------------------------------
# properties: measurements
# ---------------------------------------------------------------------------------------------

images_ = hnp.arrays(
    float, st.tuples(st.integers(1, 5), st.just(8), st.just(8), st.just(1)), elements=st.floats(-1, 1)
)


@FAST
@given(x=images_, c=st.floats(-5, 5), k=st.integers(0, 7), a=st.floats(0.1, 5))
def test_high_freq_share_is_a_share_invariant_to_offset_scale_and_shift(x, c, k, a):
    share = experiment.high_freq_share(x)
    assert np.all((share >= 0) & (share <= 1 + 1e-12))
    np.testing.assert_allclose(experiment.high_freq_share(a * x + c), share, atol=1e-9)
    np.testing.assert_allclose(experiment.high_freq_share(np.roll(x, k, axis=(1, 2))), share, atol=1e-9)
    np.testing.assert_allclose(experiment.high_freq_share(np.swapaxes(x, 1, 2)), share, atol=1e-9)


@FAST
@given(
    grid=hnp.arrays(float, st.integers(2, 6), elements=st.floats(1, 100), unique=True).map(np.sort),
    data=st.data(),
)
def test_equivalent_nfe_inverts_the_interpolated_curve(grid, data):
    curve = np.sort(data.draw(hnp.arrays(float, len(grid), elements=st.floats(0.5, 10), unique=True)))[::-1]
    i = data.draw(st.integers(1, len(grid) - 1))
    w = data.draw(st.floats(0, 1))
    fd = (1 - w) * curve[i - 1] + w * curve[i]
    expected = np.exp((1 - w) * np.log(grid[i - 1]) + w * np.log(grid[i]))
    assert experiment.equivalent_nfe(grid, curve, fd) == pytest.approx(expected, rel=1e-9)
    assert math.isnan(experiment.equivalent_nfe(grid, curve, curve[-1] - 1))


@FAST
@given(rows=st.integers(1, 4), cols=st.integers(1, 4), data=st.data())
def test_tile_round_trip(rows, cols, data):
    x = data.draw(hnp.arrays(float, (rows * cols, 8, 8, 1), elements=st.floats(-1, 1)))
    img = digits.tile(x, rows)
    assert img.shape == (10 * rows, 10 * cols)
    tiles = img.reshape(rows, 10, cols, 10).transpose(0, 2, 1, 3).reshape(rows * cols, 10, 10)
    np.testing.assert_array_equal(-tiles[:, 1:9, 1:9, None], x)  # images drawn inverted (dark ink on white)
    border = np.ones((10, 10), bool)
    border[1:9, 1:9] = False
    assert np.all(tiles[:, border] == 1.0)


@settings(max_examples=10, deadline=None)
@given(n=st.sampled_from([1, 6]), data=st.data())  # few shapes: few compilations
def test_classifier_features_bounded_and_permutation_equivariant(n, data):
    x = data.draw(hnp.arrays(np.float32, (n, 8, 8, 1), elements=st.floats(-1, 1, width=32)))
    perm = np.array(data.draw(st.permutations(range(n))))
    f = classifier.features(CLF, x)
    assert f.shape == (n, classifier.N_FEATURES) and f.dtype == np.float64 and np.all(np.abs(f) <= 1.0)
    np.testing.assert_allclose(classifier.features(CLF, x[perm]), f[perm], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(classifier.features(CLF, x.reshape(n, 64)), f)  # any 64-pixel layout
    y = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, 9)))
    acc = classifier.accuracy(CLF, x, y)
    assert 0.0 <= acc <= 1.0 and acc * n == pytest.approx(round(acc * n))


@settings(max_examples=5, deadline=None)
@given(test_size=st.integers(1, 1796), seed=st.integers(0, 2**32))
def test_digit_split_is_a_partition(test_size, seed):
    x_tr, y_tr, x_te, y_te = digits.load_split(test_size, seed)
    assert len(x_te) == len(y_te) == test_size and len(x_tr) + test_size == 1797
    both = np.concatenate([x_tr, x_te])
    assert both.min() >= -1 and both.max() <= 1 and np.all(((both + 1) * 8) % 1 == 0)  # v/8 − 1, v ∈ 0..16
    np.testing.assert_array_equal(digits.load_split(test_size, seed)[2], x_te)
    ref = digits.load_split(360, 0)

    def rows(x, y):
        r = np.column_stack([x.reshape(len(x), -1), y])
        return r[np.lexsort(r.T[::-1])]

    np.testing.assert_array_equal(
        rows(both, np.concatenate([y_tr, y_te])),
        rows(np.concatenate([ref[0], ref[2]]), np.concatenate([ref[1], ref[3]])),
    )


# ---------------------------------------------------------------------------------------------
# properties: the trained U-Net (a few examples only)
# ---------------------------------------------------------------------------------------------

_X4 = digits.load_split()[2][:4]


@NET
@given(s=log_uniform(0.01, 50.0), seed=st.integers(0, 2**31))
def test_denoiser_is_the_preconditioned_network_and_batch_independent(s, seed):
    g = np.random.default_rng(seed)
    x = (_X4 + s * g.standard_normal(_X4.shape)).astype(np.float32)
    c_skip, c_out, c_in, c_noise = edm.preconditioning(s)
    rho = np.array([1.0, 0.8, 0.6])
    f = unet.apply(PARAMS, c_in * x, np.full(4, c_noise), rho)
    d = edm.denoise(PARAMS, x, s, rho)
    np.testing.assert_allclose(d, c_skip * x + c_out * f, rtol=1e-4, atol=1e-4 * (1 + c_out))
    perm = g.permutation(4)
    np.testing.assert_allclose(edm.denoise(PARAMS, x[perm], s, rho), d[perm], rtol=1e-4, atol=1e-5)
    per_image = edm.denoise(PARAMS, x, np.full(4, s), np.tile(rho, (4, 1)))  # one σ and ρ row per image
    np.testing.assert_allclose(per_image, d, rtol=1e-4, atol=1e-5)


@NET
@given(rho=st.floats(0.3, 3.0), seed=st.integers(0, 2**31))
def test_gn_first_branch_ignores_any_positive_skip_scale(rho, seed):
    g = np.random.default_rng(seed)
    h, s = g.standard_normal((2, 8, 8, 32)), g.standard_normal((2, 8, 8, 16))
    (a, short_a), (b, short_b) = (unet.gn_first_block(PARAMS, h, s, r) for r in (rho, 1.0))
    assert np.max(np.abs(a - b)) < 1e-3 * max(1.0, np.max(np.abs(b)))
    # the shortcut is linear in the concatenation: short(ρ) − short(1) = (ρ − 1)(short(2) − short(1))
    short_2 = unet.gn_first_block(PARAMS, h, s, 2.0)[1]
    np.testing.assert_allclose(short_a - short_b, (rho - 1) * (short_2 - short_b), atol=1e-4)


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_checkpoint_round_trip_is_exact_and_deterministic(seed, tmp_path_factory):
    g = np.random.default_rng(seed)
    params = jax.tree.map(lambda a: (np.asarray(a) + g.standard_normal(a.shape)).astype(np.float32), PARAMS)
    d = tmp_path_factory.mktemp("ck")
    h1, h2 = checkpoints.save(params, d / "a.npz"), checkpoints.save(params, d / "b.npz")
    assert h1 == h2  # the file is a function of the parameters only
    loaded = checkpoints.load_unet(d / "a.npz", sha256=h1)
    flat = jax.tree_util.tree_leaves_with_path
    for (pa, va), (pb, vb) in zip(flat(params), flat(loaded), strict=True):
        assert pa == pb
        np.testing.assert_array_equal(np.asarray(va), np.asarray(vb))


# ---------------------------------------------------------------------------------------------
# 2. bad-input fuzzing
# ---------------------------------------------------------------------------------------------


def _nan_at(a: np.ndarray, value: float = np.nan) -> np.ndarray:
    b = np.array(a, dtype=float)
    b.flat[b.size // 2] = value
    return b


def _without(tree: dict, *path: str) -> dict:
    out = dict(tree)
    if len(path) == 1:
        del out[path[0]]
    else:
        out[path[0]] = _without(tree[path[0]], *path[1:])
    return out


def _replace(tree: dict, value, *path: str) -> dict:
    out = dict(tree)
    out[path[0]] = value if len(path) == 1 else _replace(tree[path[0]], value, *path[1:])
    return out


IMAGES = _X4.astype(np.float64)  # the shape of the property tests above: their compiled U-Net is reused
bad_params = st.sampled_from(
    [
        None,
        "params",
        3,
        [],
        {},
        {"a": 1},
        CLF,
        _without(PARAMS, "mid"),
        _without(PARAMS, "enc0", "conv_a", "b"),
        PARAMS | {"extra": np.zeros(3, np.float32)},
        _replace(PARAMS, np.zeros((3, 3, 1, 8), np.float32), "conv_in", "w"),
        _replace(PARAMS, "w", "conv_in", "w"),
        _replace(PARAMS, [[0.0]], "conv_out", "b"),
        _replace(PARAMS, np.zeros(1, np.int32), "conv_out", "b"),
        _replace(PARAMS, np.zeros(16, np.float32), "dec0"),
    ]
)
bad_clf = st.sampled_from(
    [
        None,
        "clf",
        [],
        {},
        PARAMS,
        _without(CLF, "b3"),
        CLF | {"w4": CLF["w3"]},
        CLF | {"w1": CLF["w1"][:10]},
        CLF | {"b2": CLF["b2"][:2]},
        CLF | {"w3": np.asarray(CLF["w3"]).astype(str)},
        CLF | {"w3": CLF["w3"][:, :9]},
    ]
)
bad_images = st.sampled_from(
    [
        *BAD_ARRAYS,
        5.0,
        np.zeros((0, 8, 8, 1)),
        np.zeros((2, 8, 8)),
        np.zeros((2, 4, 4, 1)),
        np.zeros((2, 8, 8, 2)),
        _nan_at(IMAGES),
        _nan_at(IMAGES, np.inf),
        _nan_at(IMAGES, 1e39),
        IMAGES.astype(complex),
        IMAGES > 0,
    ]
)
bad_rho3 = st.sampled_from(
    [
        *BAD_ARRAYS,
        [],
        [1.0, 1.0],
        [1.0] * 4,
        np.ones((3, 3)),
        np.ones((2, 2, 3)),
        [np.nan, 1, 1],
        [1, 1e39, 1],
        1.0,
    ]
)
bad_method = st.one_of(
    st.sampled_from([None, "", "Euler", "rk4", 1, True, b"euler", ["euler"]]),
    st.text(max_size=6).filter(lambda t: t not in ("euler", "heun")),
)
bad_real = st.sampled_from([*BAD_TYPES, float("nan"), float("inf"), -float("inf"), [0.5], np.array([0.5])])
bad_sigma = st.one_of(
    st.floats(max_value=1e-7, allow_nan=False),
    st.floats(min_value=1.1e6, allow_nan=False),
    st.sampled_from(
        [*BAD_ARRAYS, float("nan"), [1.0, 0.0], [1.0, -2.0], np.array([np.nan]), [[1.0], [1.0, 2.0]]]
    ),
)
bad_labels = st.sampled_from(
    [*BAD_ARRAYS, [0.0, 1.0], np.array([0, 10]), np.array([-1, 3]), np.array([1]), np.array([[1, 2]]), 3]
)
bad_features = st.sampled_from(
    [
        *BAD_ARRAYS,
        [],
        np.zeros((0, 16)),
        np.ones((5, 16)),
        np.ones(16),
        np.ones((10, 15)),
        _nan_at(np.ones((10, 16))),
    ]
)
bad_path = st.sampled_from([None, 3, b"ck.npz", "", object(), ["a"], checkpoints.DATA])
X_TRAIN, Y_TRAIN = digits.load_split()[:2]
REAL = classifier.features(CLF, X_TRAIN[:40])
RESULTS = {("ρ = 1", "euler", 2): np.ones((3, 4)), ("x", "euler", 2): np.zeros((3, 4))}
SMALL_SWEEP = {
    "params": PARAMS,
    "clf": CLF,
    "real_features": REAL,
    "settings": {"ρ = 1": np.ones(3)},
    "budgets": [("euler", 1)],
    "seeds": [0],
    "n_samples": 6,
    "with_pr": False,
}

# (module, function) → (valid keyword arguments, {argument: strategy of bad values})
SPECS = {
    (digits, "load_split"): (
        {"test_size": 100, "seed": 1},
        {"test_size": st.one_of(bad_int(1), st.integers(min_value=1797)), "seed": bad_int(0)},
    ),
    (digits, "bounded"): (
        {"name": "value", "value": np.ones(3)},
        {"value": st.sampled_from([*BAD_ARRAYS, [], [np.nan], [1e7], np.full((2, 2), -2e6)])},
    ),
    (digits, "images"): ({"name": "value", "value": IMAGES}, {"value": bad_images}),
    (digits, "tile"): (
        {"x": np.zeros((4, 8, 8, 1)), "n_rows": 2},
        {"x": bad_images, "n_rows": st.one_of(bad_int(1), st.sampled_from([3, 5, 8]))},
    ),
    (edm, "preconditioning"): (
        {"sigma": np.array([0.5, 2.0]), "sigma_data": 0.5},
        {
            "sigma": bad_sigma,
            "sigma_data": st.one_of(bad_positive(), st.floats(1e3, 1e300, exclude_min=True)),
        },
    ),
    (edm, "training_target"): (
        {"y": np.ones((3, 4)), "noise": np.zeros((3, 4)), "sigma": 1.5, "sigma_data": 0.5},
        {
            "y": st.sampled_from([*BAD_ARRAYS, _nan_at(np.ones((3, 4))), np.full((3, 4), 1.7e308)]),
            "noise": st.sampled_from([*BAD_ARRAYS, np.ones((4, 3)), np.full((3, 4), 1.7e308)]),
            "sigma": st.one_of(bad_sigma, st.sampled_from([np.ones(5), np.ones((2, 3, 4))])),
            "sigma_data": bad_positive(),
        },
    ),
    (edm, "karras_sigmas"): (
        {"n_steps": 5, "sigma_min": 0.002, "sigma_max": 80.0, "kappa": 7.0},
        {
            "n_steps": st.one_of(bad_int(1), st.just(10**7)),
            "sigma_min": st.one_of(bad_positive(), st.sampled_from([80.0, 100.0, 1e-9])),
            "sigma_max": st.one_of(bad_positive(), st.sampled_from([0.002, 0.001, 1e9])),
            "kappa": st.one_of(bad_positive(), st.sampled_from([1e-3, 0.4, 21.0, 1e300])),
        },
    ),
    (edm, "nfe"): ({"n_steps": 5, "method": "heun"}, {"n_steps": bad_int(1), "method": bad_method}),
    (edm, "denoise"): (
        {"params": PARAMS, "x": IMAGES, "sigma": 1.0, "rho": (1.0, 0.8, 0.6)},
        {
            "params": bad_params,
            "x": bad_images,
            "sigma": st.one_of(bad_sigma, st.sampled_from([np.ones(3), np.ones((2, 2))])),
            "rho": bad_rho3,
        },
    ),
    (edm, "sample"): (
        {"x_T": IMAGES, "sigmas": [80.0, 0.0], "method": "euler", "params": PARAMS, "rho": (1.0, 1.0, 0.6)},
        {
            "x_T": bad_images,
            "sigmas": st.sampled_from(
                [
                    *BAD_ARRAYS,
                    [],
                    [1.0],
                    [1.0, 2.0],
                    [1.0, 1.0, 0.0],
                    [1.0, -0.5],
                    [0.0, 0.0],
                    [1.0, 1e-50, 0.0],
                    [np.nan, 0.0],
                    [1e39, 0.0],
                    np.ones((2, 2)),
                    1.0,
                ]
            ),
            "method": bad_method,
            "params": st.one_of(bad_params.filter(lambda p: p is not None), st.just(None)),
            "rho": st.one_of(bad_rho3, st.just(lambda s: [1.0, 1.0])),
            "denoiser": st.sampled_from([3, "f", object(), GaussianDenoiser(1.0)]),
        },
    ),
    (edm, "count_nfe"): (
        {"n_steps": 3, "method": "heun"},
        {"n_steps": st.one_of(bad_int(1), st.just(10**7)), "method": bad_method},
    ),
    (unet, "skip_scales"): (
        {"rho_bottom": 0.6, "rho_top": 1.0, "n_skips": 3},
        {"rho_bottom": bad_real, "rho_top": st.one_of(bad_real, st.just(1e7)), "n_skips": bad_int(2)},
    ),
    (unet, "init"): ({"seed": 1}, {"seed": st.one_of(bad_int(0), st.sampled_from([2**63, 2**64]))}),
    (unet, "param_shapes"): ({}, {}),
    (unet, "check_params"): ({"params": PARAMS}, {"params": bad_params}),
    (unet, "skip_rows"): ({"name": "rho", "rho": np.ones(3), "n": 4}, {"rho": bad_rho3}),
    (unet, "apply"): (
        {"params": PARAMS, "x_in": IMAGES, "c_noise": np.zeros(4), "rho": np.ones(3)},
        {
            "params": bad_params,
            "x_in": bad_images,
            "c_noise": st.sampled_from(
                [*BAD_ARRAYS, 0.0, np.zeros(3), np.zeros((2, 1)), [0.0, np.nan], [0.0, 1e39]]
            ),
            "rho": bad_rho3,
        },
    ),
    (unet, "gn_first_block"): (
        {"params": PARAMS, "backbone": np.ones((1, 4, 4, 32)), "skip": np.ones((1, 4, 4, 16)), "rho": 0.6},
        {
            "params": bad_params,
            "backbone": st.sampled_from(
                [
                    *BAD_ARRAYS,
                    np.ones((4, 4, 32)),
                    np.ones((1, 4, 4, 12)),
                    np.ones((2, 4, 4, 32)),
                    _nan_at(np.ones((1, 4, 4, 32))),
                ]
            ),
            "skip": st.sampled_from(
                [*BAD_ARRAYS, np.ones((1, 4, 4, 5)), np.ones((1, 2, 4, 16)), np.ones((1, 4, 4, 16)) * 1e39]
            ),
            "rho": st.one_of(bad_real, st.just(1e39)),
            "group_size": st.one_of(bad_int(1), st.sampled_from([5, 7, 49])),
        },
    ),
    (unet, "draw"): (
        {"ax": None, "rho": [1.0, 0.8, 0.6]},  # ax: a fresh Axes is put in by the tests
        {"ax": st.sampled_from([None, 3, "ax", object(), plt.figure]), "rho": bad_rho3},
    ),
    (classifier, "check_params"): ({"clf": CLF}, {"clf": bad_clf}),
    (classifier, "train"): (
        {"x": X_TRAIN[:30], "y": Y_TRAIN[:30], "seed": 0, "steps": 2},
        {
            "x": st.sampled_from(
                [*BAD_ARRAYS, np.zeros((30, 63)), np.zeros(64), np.zeros((0, 64)), _nan_at(X_TRAIN[:30])]
            ),
            "y": bad_labels,
            "seed": st.one_of(bad_int(0), st.just(2**63)),
            "steps": st.one_of(bad_int(1), st.just(10**7)),
        },
    ),
    (classifier, "features"): (
        {"clf": CLF, "x": IMAGES},
        {
            "clf": bad_clf,
            "x": st.sampled_from([*BAD_ARRAYS, 5.0, np.ones(64), np.zeros((2, 4, 4, 1)), _nan_at(IMAGES)]),
        },
    ),
    (classifier, "accuracy"): (
        {"clf": CLF, "x": IMAGES, "y": np.array([3, 1, 4, 1])},
        {
            "clf": bad_clf,
            "x": st.sampled_from([*BAD_ARRAYS, np.ones((2, 63)), _nan_at(IMAGES)]),
            "y": bad_labels,
        },
    ),
    (checkpoints, "save"): (
        {"params": PARAMS, "path": "/nonexistent-dir/never-written.npz"},
        {"params": bad_params.filter(lambda p: p is not CLF), "path": bad_path},
    ),
    (checkpoints, "load_unet"): (
        {"path": checkpoints.UNET_PATH, "sha256": checkpoints.UNET_SHA256},
        {
            "path": st.one_of(bad_path, st.sampled_from([checkpoints.CLASSIFIER_PATH, __file__])),
            "sha256": st.sampled_from([3, b"ab", "", "abc", "0" * 63, "g" * 64, "0" * 64, ["0" * 64]]),
        },
    ),
    (checkpoints, "load_classifier"): (
        {"path": checkpoints.CLASSIFIER_PATH, "sha256": checkpoints.CLASSIFIER_SHA256},
        {"path": bad_path, "sha256": st.sampled_from([3, "abc", "0" * 64, checkpoints.UNET_SHA256])},
    ),
    (experiment, "high_freq_share"): (
        {"x": IMAGES, "cutoff": 0.25},
        {"x": bad_images, "cutoff": st.one_of(bad_positive(), st.sampled_from([0.51, 2.0]))},
    ),
    (experiment, "sweep"): (
        SMALL_SWEEP,
        {
            "params": bad_params,
            "clf": bad_clf,
            "real_features": bad_features,
            "settings": st.sampled_from([None, {}, [np.ones(3)], {"a": [1.0, 1.0]}, {"a": lambda s: None}]),
            "budgets": st.sampled_from([None, [], "euler", [("rk4", 1)], [("euler", 0)], [("euler", 1.5)]]),
            "seeds": st.sampled_from([None, 3, "0", [], [-1], [1.5], [True], [[0]]]),
            "n_samples": bad_int(6),
        },
    ),
    (experiment, "paired"): (
        {"results": RESULTS, "cell": ("x", "euler", 2), "base": "ρ = 1", "metric": 0},
        {
            "results": st.sampled_from([None, {}, {("x", "euler", 2): np.ones((3, 4))}]),
            "cell": st.sampled_from([("y", "euler", 2), ("x", "heun", 2)]),
            "base": st.sampled_from(["z", ("ρ = 1", "euler", 3)]),
            "metric": st.one_of(bad_int(0), st.just(4)),
        },
    ),
    (experiment, "table"): (
        {"results": RESULTS, "method": "euler", "steps": [2], "names": ["x"]},
        {"method": bad_method, "steps": st.sampled_from([None, [0], [1.5], "2"])},
    ),
    (experiment, "equivalent_nfe"): (
        {"nfe_grid": [3, 5, 7], "fd_curve": [5.0, 2.5, 2.0], "fd": 3.0},
        {
            "nfe_grid": st.sampled_from([*BAD_ARRAYS, [3, 5], [5, 3, 7], [0, 5, 7], [3, 5, np.nan]]),
            "fd_curve": st.sampled_from([*BAD_ARRAYS, [5.0, 2.5], [5.0, np.inf, 2.0]]),
            "fd": bad_real,
        },
    ),
    (experiment, "denoising_errors"): (
        {"params": PARAMS, "clf": CLF, "y": IMAGES, "sigmas": [0.1, 1.0], "rho": np.ones(3), "seed": 0},
        {
            "params": bad_params,
            "clf": bad_clf,
            "y": bad_images,
            "sigmas": st.sampled_from(
                [*BAD_ARRAYS, [], [0.0], [-1.0, 1.0], [np.nan], 1.0, [1e-50], np.ones((2, 2))]
            ),
            "rho": bad_rho3,
            "seed": bad_int(0),
        },
    ),
    (train, "train_unet"): (
        {"seed": 0, "steps": 2, "batch": 8, "lr": 1e-3, "ema": 0.9, "verbose": False},
        {
            "seed": st.one_of(bad_int(0), st.just(2**63)),
            "steps": bad_int(2),
            "batch": st.one_of(bad_int(2), st.integers(min_value=1438)),
            "lr": st.one_of(bad_positive(upper=1.0), st.just(1.0)),
            "ema": st.one_of(bad_real, st.floats(max_value=0.0, exclude_max=True), st.floats(min_value=1.0)),
            "verbose": st.sampled_from([None, 1, 0, "yes", 1.0, [True]]),
        },
    ),
    (train, "compare_models"): (
        {"reference": (PARAMS, CLF), "candidate": (PARAMS, CLF), "seeds": range(2)},
        {
            "reference": st.sampled_from([None, (PARAMS,), (CLF, PARAMS)]),
            "seeds": st.sampled_from([None, [0], "01"]),
        },
    ),
}
#: valid calls covered by tests/test_skip_tuning.py or too slow to repeat (a training run, a sweep)
EXPENSIVE = {"train_unet", "init", "compare_models", "sweep", "train"}
#: unchecked internals exposed for the package's own modules: ``forward`` (the jitted network; the checked
#: entry point is ``apply``) and ``main`` (the command line, tested through its sub-commands)
UNCHECKED = {(unet, "forward"), (train, "main")}
MODULES = (digits, edm, unet, classifier, checkpoints, experiment, train)


def _baseline(module, name: str, tmp_path=None) -> dict:
    kwargs = dict(SPECS[module, name][0])
    if name == "draw":
        kwargs["ax"] = plt.figure().add_subplot()
    if name == "save" and tmp_path is not None:
        kwargs["path"] = tmp_path / "ck.npz"
    return kwargs


def test_every_public_function_is_fuzzed():
    for module in MODULES:
        listed = sorted(n for m, n in SPECS if m is module)
        assert listed == sorted(set(public_functions(module)) - {n for m, n in UNCHECKED if m is module}), (
            module
        )


def test_valid_baselines_run(tmp_path):
    """The fuzz below perturbs one argument of these calls; the unperturbed calls themselves succeed."""
    for module, name in SPECS:
        if name not in EXPENSIVE:
            getattr(module, name)(**_baseline(module, name, tmp_path))
    plt.close("all")


@pytest.mark.parametrize(
    "key",
    sorted(SPECS, key=lambda k: (k[0].__name__, k[1])),
    ids=lambda k: f"{k[0].__name__.split('.')[-1]}.{k[1]}",
)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_bad_inputs_raise_naming_the_argument(key, data):
    module, name = key
    bad = SPECS[key][1]
    if not bad:
        return
    arg = data.draw(st.sampled_from(sorted(bad)), label="argument")
    value = data.draw(bad[arg], label="value")
    if value is plt.figure:  # a Figure is not an Axes
        value = plt.figure()
    aliases = ("params", "clf") if name == "compare_models" else ()  # names of the pair's parts
    assert_named_error(getattr(module, name), _baseline(module, name), arg, value, aliases=aliases)
    plt.close("all")


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: edm.preconditioning(np.float32(-1.0)), "sigma"),  # numpy scalars skipped the check: NaN
        (lambda: edm.preconditioning("3"), "sigma"),  # TypeError from ** not naming sigma
        (lambda: edm.preconditioning(1e200), "sigma"),  # σ² overflowed: c_out = 0 and a RuntimeWarning
        (lambda: edm.training_target(np.full(3, 1.7e308), np.zeros(3), 1.5, 0.5), "y"),  # inf target
        (lambda: edm.karras_sigmas(5, kappa=1e-3), "kappa"),  # OverflowError from float ** (1/κ)
        (lambda: edm.karras_sigmas(5, kappa=1e300), "kappa"),  # σ^{1/κ} rounds to 1: a constant "schedule"
        (lambda: unet.skip_scales(-1e308, rho_top=1e308), "rho_top"),  # linspace overflowed to NaN
        (lambda: edm.denoise(PARAMS, IMAGES, 1e-46), "sigma"),  # float32(σ) = 0: ln 0 in c_noise, NaN output
        (lambda: edm.denoise(PARAMS, _nan_at(IMAGES), 1.0), "x"),  # NaN images were accepted
        (lambda: edm.sample(IMAGES, [1.0, 1e-50, 0.0], "euler", params=PARAMS), "sigmas"),  # division by 0
        (lambda: unet.apply(PARAMS, IMAGES, np.zeros(4), [1.0, 1.0]), "rho"),  # reshape error inside jit
        (lambda: unet.apply({}, IMAGES, np.zeros(4), np.ones(3)), "params"),  # KeyError inside jit
        (lambda: train.train_unet(batch=5000), "batch"),  # jax.random.choice without replacement failed
        (lambda: classifier.accuracy(CLF, IMAGES, [1]), "y"),  # broadcast to a wrong accuracy
        (lambda: classifier.features(CLF, np.zeros((0, 8, 8, 1))), "x"),  # IndexError
        (lambda: digits.tile(np.zeros((4, 8, 8, 1)), 0), "n_rows"),  # ZeroDivisionError
        (lambda: edm.sample(np.ones(2), [1.0, 0.0], "euler", denoiser=3), "denoiser"),  # 'int' not callable
        (lambda: unet.draw(None, [1.0, 1.0, 1.0]), "ax"),  # AttributeError
        (lambda: checkpoints.save(PARAMS, checkpoints.DATA), "path"),  # IsADirectoryError
        (lambda: classifier.train(IMAGES, [1.0, 2.0], steps=1), "y"),  # TypeError deep inside optax
        (lambda: digits.load_split(seed=-1), "seed"),  # numpy's "expected non-negative integer"
        (lambda: checkpoints.load_unet(__file__, sha256=None), "path"),  # np.load's pickle error
        (lambda: checkpoints.load_unet(checkpoints.CLASSIFIER_PATH, sha256=None), "path"),  # wrong network
        (lambda: unet.init(2**64), "seed"),  # OverflowError in jax.random.key
    ],
)
def test_regressions_found_by_the_fuzzing(call, name):
    with pytest.raises((ValueError, TypeError), match=rf"\b{name}\b"):
        call()
