"""Unit tests for kexue_utils.skip_tuning (chapter: Skip-tuning in diffusion sampling)."""

from __future__ import annotations

import hashlib

import jax
import numpy as np
import pytest

from kexue_utils import skip_tuning as st


@pytest.fixture(scope="module")
def params():
    return st.load_checkpoint()  # fast; the hash check is part of the contract


def test_digit_split_shapes_and_range():
    x_tr, y_tr, x_te, y_te = st.load_digit_split()
    assert x_tr.shape == (1437, 8, 8, 1) and x_te.shape == (360, 8, 8, 1)
    assert x_tr.min() == -1.0 and x_tr.max() == 1.0
    assert set(np.unique(y_tr)) == set(range(10)) and len(y_te) == 360
    with pytest.raises(ValueError, match="test_size"):
        st.load_digit_split(test_size=0)


def test_preconditioning_formulas():
    c_skip, c_out, c_in, c_noise = st.edm_preconditioning(np.array([0.5, 2.0]), sigma_data=0.5)
    np.testing.assert_allclose(c_skip, [0.5, 0.25 / 4.25])
    np.testing.assert_allclose(c_out, [0.5 * 0.5 / np.sqrt(0.5), 1.0 / np.sqrt(4.25)])
    np.testing.assert_allclose(c_in, [1 / np.sqrt(0.5), 1 / np.sqrt(4.25)])
    np.testing.assert_allclose(c_noise, np.log([0.5, 2.0]) / 4)
    # c_skip² σ² + (1 − c_skip)² σd² = c_out² (unit-variance target)
    s, sd = 1.7, 0.85
    cs, co, _, _ = st.edm_preconditioning(s, sd)
    assert np.isclose(cs**2 * s**2 + (1 - cs) ** 2 * sd**2, co**2)
    with pytest.raises(ValueError, match="sigma"):
        st.edm_preconditioning(-1.0)
    with pytest.raises(ValueError, match="sigma"):
        st.edm_preconditioning(np.nan)


def test_training_target_has_unit_second_moment():
    rng = np.random.default_rng(0)
    x0 = st.SIGMA_DATA * rng.choice([-1.0, 1.0], size=200_000)  # second moment σd²
    n = rng.standard_normal(x0.shape)
    for s in (0.01, 0.5, 5.0, 50.0):
        t = st.edm_training_target(x0, n, s)
        assert abs(np.mean(t**2) - 1) < 0.02


def test_karras_schedule():
    sig = st.karras_sigmas(18)
    assert sig.shape == (19,) and sig[-1] == 0.0
    assert np.isclose(sig[0], st.SIGMA_MAX) and np.isclose(sig[-2], st.SIGMA_MIN)
    root = sig[:-1] ** (1 / 7)
    assert np.allclose(np.diff(root), np.diff(root)[0])
    assert np.all(np.diff(sig) < 0)
    np.testing.assert_array_equal(st.karras_sigmas(1), [st.SIGMA_MAX, 0.0])
    for bad in (0, -2):
        with pytest.raises(ValueError, match="n_steps"):
            st.karras_sigmas(bad)
    for bad in (2.5, True):  # the wrong kind: TypeError (kexue_utils convention)
        with pytest.raises(TypeError, match="n_steps"):
            st.karras_sigmas(bad)
    with pytest.raises(ValueError, match="sigma_min"):
        st.karras_sigmas(5, sigma_min=10.0, sigma_max=1.0)


def test_nfe_formula_matches_counted_calls():
    for n in (1, 2, 3, 7, 18):
        assert st.count_nfe(n, "euler") == st.nfe(n, "euler") == n
        assert st.count_nfe(n, "heun") == st.nfe(n, "heun") == 2 * n - 1
    assert st.nfe(18, "heun") == 35
    with pytest.raises(ValueError, match="method"):
        st.nfe(3, "rk4")


def test_skip_scales_linear():
    np.testing.assert_allclose(st.skip_scales(0.6), [1.0, 0.8, 0.6])
    np.testing.assert_allclose(st.skip_scales(0.5, rho_top=0.9, n_skips=5), np.linspace(0.9, 0.5, 5))
    with pytest.raises(ValueError, match="rho_bottom"):
        st.skip_scales(float("nan"))
    with pytest.raises(ValueError, match="n_skips"):
        st.skip_scales(0.5, n_skips=1)


def _gaussian_denoiser(s2: float):
    return lambda x, s: s2 / (s**2 + s2) * x


def test_samplers_converge_with_orders_one_and_two():
    s2 = 0.3**2
    x_T = np.array([[1.3, -0.4]]) * st.SIGMA_MAX
    errs = {}
    den = _gaussian_denoiser(s2)
    for method in ("euler", "heun"):
        e = []
        for n in (16, 32, 64):
            sig = st.karras_sigmas(n)
            out = st.sample(x_T, sig, method, denoiser=den)
            exact = x_T * np.sqrt(s2) / np.sqrt(st.SIGMA_MAX**2 + s2)
            e.append(np.max(np.abs(out - exact)))
        errs[method] = np.log2(np.array(e[:-1]) / np.array(e[1:]))
    assert np.all(np.abs(errs["euler"] - 1) < 0.35)
    assert np.all(np.abs(errs["heun"] - 2) < 0.5)


def test_sample_validation(params):
    x = np.zeros((2, 8, 8, 1))
    with pytest.raises(ValueError, match="method"):
        st.sample(x, [1.0, 0.0], "rk4", params=params)
    with pytest.raises(ValueError, match="sigmas"):
        st.sample(x, [1.0, 2.0], "euler", params=params)
    with pytest.raises(ValueError, match="params"):
        st.sample(x, [1.0, 0.0], "euler")
    with pytest.raises(ValueError, match="x_T"):
        st.sample(np.full((2, 8, 8, 1), np.nan), [1.0, 0.0], "euler", params=params)


def test_unet_shapes_and_rho_matters(params):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 8, 8, 1)).astype(np.float32)
    d1 = st.denoise(params, x, 1.0, (1.0, 1.0, 1.0))
    d2 = st.denoise(params, x, 1.0, (1.0, 0.8, 0.6))
    assert d1.shape == (4, 8, 8, 1) and np.all(np.isfinite(d1))
    assert np.max(np.abs(d1 - d2)) > 1e-4
    with pytest.raises(ValueError, match="x must"):
        st.denoise(params, x[:, :4], 1.0)
    with pytest.raises(ValueError, match="rho"):
        st.denoise(params, x, 1.0, (1.0, 1.0))
    with pytest.raises(ValueError, match="sigma"):
        st.denoise(params, x, 0.0)


def test_prenorm_layout_normalises_rho_away(params):
    rng = np.random.default_rng(2)
    h = rng.standard_normal((3, 8, 8, 32)).astype(np.float32)
    s = rng.standard_normal((3, 8, 8, 16)).astype(np.float32)
    a = np.asarray(st.prenorm_skip_branch(params, h, s, 1.0))
    b = np.asarray(st.prenorm_skip_branch(params, h, s, 0.6))
    assert np.max(np.abs(a - b)) < 1e-3
    with pytest.raises(ValueError, match="multiples"):
        st.prenorm_skip_branch(params, h, s[..., :5], 1.0)


def test_edm_loss_equals_denoising_error(params):
    rng = np.random.default_rng(3)
    x0 = rng.uniform(-1, 1, (5, 8, 8, 1)).astype(np.float32)
    n = rng.standard_normal(x0.shape).astype(np.float32)
    s = 0.7
    _, c_out, c_in, c_noise = st.edm_preconditioning(s)
    rho = np.ones(3, np.float32)
    f = np.asarray(st.apply_unet(params, c_in * (x0 + s * n), np.full(5, c_noise, np.float32), rho))
    lhs = np.mean((f - st.edm_training_target(x0, n, s)) ** 2) * c_out**2
    rhs = np.mean((st.denoise(params, x0 + s * n, s) - x0) ** 2)
    assert np.isclose(lhs, rhs, rtol=1e-4)


def test_frechet_distance_gaussians():
    rng = np.random.default_rng(4)
    a = rng.standard_normal((40_000, 2)) * [1.0, 2.0]
    b = rng.standard_normal((40_000, 2)) * [3.0, 2.0] + [1.0, 0.0]
    expected = 1.0 + (1 - 3) ** 2 + 0.0
    assert abs(st.frechet_distance(a, b) - expected) < 0.1
    assert abs(st.frechet_distance(a, a)) < 1e-8
    with pytest.raises(ValueError, match="f1 and f2"):
        st.frechet_distance(a, b[:, :1])


def test_precision_recall():
    rng = np.random.default_rng(5)
    real = rng.standard_normal((300, 3))
    p, r = st.precision_recall(real, real.copy(), k=5)
    assert p == 1.0 and r == 1.0
    p, r = st.precision_recall(real, real + 100.0, k=5)
    assert p == 0.0 and r == 0.0
    # a generator collapsed onto a small region: high precision, low recall
    fake = real[np.linalg.norm(real, axis=1) < 0.8][:60] * 0.5
    p, r = st.precision_recall(real, fake, k=5)
    assert p > 0.9 and r < 0.5
    with pytest.raises(ValueError, match="k must"):
        st.precision_recall(real, fake, k=0)


def test_classifier_learns_digits():
    x_tr, y_tr, x_te, y_te = st.load_digit_split()
    clf = st.train_classifier(x_tr, y_tr, steps=100)
    assert st.classifier_accuracy(clf, x_te, y_te) > 0.85
    assert st.classifier_features(clf, x_te[:7]).shape == (7, 16)
    with pytest.raises(ValueError, match="y must"):
        st.train_classifier(x_tr, y_tr + 10, steps=1)


def test_checkpoint_roundtrip_and_hash(params, tmp_path):
    path = tmp_path / "ck.npz"
    digest = st.save_checkpoint(params, path)
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    loaded = st.load_checkpoint(path, sha256=digest)
    x = np.zeros((1, 8, 8, 1), np.float32)
    np.testing.assert_array_equal(st.denoise(loaded, x, 1.0), st.denoise(params, x, 1.0))
    with pytest.raises(ValueError, match="sha256"):
        st.load_checkpoint(path, sha256="0" * 64)
    with pytest.raises(ValueError, match="does not exist"):
        st.load_checkpoint(tmp_path / "missing.npz")


def test_committed_checkpoint_matches_hash():
    assert st.CHECKPOINT_PATH.stat().st_size <= 2_000_000
    params = st.load_checkpoint()
    shapes = jax.eval_shape(lambda: st.init_unet(0))
    assert set(params) == set(shapes)
    assert params["dec0"]["conv_a"]["w"].shape == shapes["dec0"]["conv_a"]["w"].shape == (3, 3, 48, 16)


def test_checkpoint_comparison_accepts_itself_and_rejects_a_damaged_net(params):
    """The check behind `python -m kexue_utils.skip_tuning reproduce` can pass and can fail."""
    few = {"euler": [3], "heun": [2]}
    lines, ok = st._compare_checkpoints(params, params, steps=few)
    assert ok and all(line.endswith("| 0.00") for line in lines[1:3]), lines
    damaged = jax.tree.map(lambda w: 0.7 * w, params)  # every weight 30 % too small
    lines, ok = st._compare_checkpoints(params, damaged, steps=few)
    assert not ok, lines


def test_command_line_training_writes_a_loadable_checkpoint(tmp_path, capsys):
    # Bit-for-bit determinism of the full run is checked by `make reproduce` (run by CI); here one short run
    # of the training command must report a finite loss and write a checkpoint of the right structure.
    out = tmp_path / "ck.npz"
    assert st._main(["train", "--steps", "2", "--seed", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert np.isfinite(float(printed.split("final loss ")[1].split(";")[0]))
    digest = printed.split("sha256 ")[1].strip()
    p = st.load_checkpoint(out, sha256=digest)
    assert jax.tree.map(np.shape, p) == jax.tree.map(np.shape, st.load_checkpoint())
    with pytest.raises(ValueError, match="steps"):
        st.train(steps=0)
    with pytest.raises(ValueError, match="lr"):
        st.train(lr=2.0)
