"""Unit tests for kexue_utils.grad_penalty (chapter book/grad_penalty.md)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from kexue_utils import grad_penalty as gp

JAX_ACT = {
    "tanh": jnp.tanh,
    "gelu": lambda z: jax.nn.gelu(z, approximate=False),
    "softplus": jax.nn.softplus,
    "relu": jax.nn.relu,
    "identity": lambda z: z,
}


def _jax_grads(layers, x, u, act):
    """Autodiff reference: (∇_x f, [(∇_W f, ∇_b f)], [∂h^t/∂x]) for f = u · h^{(l+1)}, in one jitted call."""

    def hidden(params, x):
        hs = [x]
        for W, b in params:
            hs.append(JAX_ACT[act](W @ hs[-1] + b))
        return hs

    def f(params, x):
        return u @ hidden(params, x)[-1]

    @jax.jit
    def everything(params, x):
        gth, gx = jax.grad(f, argnums=(0, 1))(params, x)
        return gx, gth, jax.jacfwd(lambda x: hidden(params, x)[:-1])(x)

    params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in layers]
    gx, gth, jacs = everything(params, x)
    return np.asarray(gx), [(np.asarray(a), np.asarray(b)) for a, b in gth], [np.asarray(j) for j in jacs]


@pytest.mark.parametrize("act", ["tanh", "gelu", "softplus", "relu"])
def test_backprop_matches_jax_autodiff(act):
    rng = np.random.default_rng(3)
    layers = gp.random_mlp([5, 7, 4, 3], seed=11)
    x, u = rng.normal(size=5), rng.normal(size=3)
    with jax.enable_x64(True):
        gx, gth, jacs = _jax_grads(layers, jnp.asarray(x), jnp.asarray(u), act)
    bp = gp.backprop(layers, x[None], u[None], act)
    np.testing.assert_allclose(bp.grad_x[0], gx, rtol=1e-10, atol=1e-13)
    for t in range(3):
        np.testing.assert_allclose(bp.grad_W[t][0], gth[t][0], rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(bp.grad_b[t][0], gth[t][1], rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(bp.jac[t][0], jacs[t], rtol=1e-10, atol=1e-13)


def test_inequality_sides_matches_a_direct_computation():
    rng = np.random.default_rng(0)
    layers = gp.random_mlp([4, 6, 5], seed=2)
    x, u = rng.normal(size=4), rng.normal(size=5)
    with jax.enable_x64(True):
        gx, gth, jacs = _jax_grads(layers, jnp.asarray(x), jnp.asarray(u), "tanh")
    rhs = sum(np.sum(a**2) + np.sum(b**2) for a, b in gth)
    hs = [x, np.tanh(layers[0][0] @ x + layers[0][1])]
    for norm, ordr in (("spectral", 2), ("frobenius", "fro")):
        coef = sum(
            (1 + hs[t] @ hs[t])
            / (np.linalg.norm(layers[t][0], ordr) ** 2 * np.linalg.norm(jacs[t], ordr) ** 2)
            for t in range(2)
        )
        lhs_ref = (gx @ gx) * coef
        lhs, rhs_got = gp.inequality_sides(layers, x, u, "tanh", norm)
        assert lhs == pytest.approx(lhs_ref, rel=1e-10)
        assert rhs_got == pytest.approx(rhs, rel=1e-10)
        assert lhs <= rhs_got


def test_per_layer_identity_and_bound():
    rng = np.random.default_rng(1)
    layers = gp.random_mlp([6, 8, 8, 8, 2], seed=5)
    X, U = rng.normal(size=(30, 6)), rng.normal(size=(30, 2))
    T = gp.inequality_terms(layers, X, U, "softplus")
    np.testing.assert_allclose(T.param_sq, T.delta_sq * (1 + T.h_sq), rtol=1e-12)
    bound = T.W_norm[None, :] ** 2 * T.jac_norm**2 * T.delta_sq
    assert np.all(T.grad_x_sq[:, None] <= bound * (1 + 1e-12))
    assert np.all(T.lhs_terms <= T.param_sq * (1 + 1e-12))


@pytest.mark.parametrize("act", ["tanh", "gelu", "softplus", "relu"])
def test_inequality_holds_and_frobenius_is_weaker(act):
    rng = np.random.default_rng(7)
    for depth in (1, 2, 4):
        layers = gp.random_mlp([5] + [9] * (depth - 1) + [3], seed=depth, weight_gain=1.5)
        X, U = rng.normal(size=(40, 5)), rng.normal(size=(40, 3))
        lhs_s, rhs = gp.inequality_sides(layers, X, U, act, "spectral")
        lhs_f, rhs_f = gp.inequality_sides(layers, X, U, act, "frobenius")
        np.testing.assert_array_equal(rhs, rhs_f)
        assert np.all(lhs_s <= rhs * (1 + 1e-12))
        assert np.all(lhs_f <= lhs_s * (1 + 1e-12))
        live = rhs > 0  # a ReLU net can be dead for an input: then both sides are 0
        assert np.all(lhs_s[~live] == 0.0)
        assert np.max(lhs_s[live] / rhs[live]) > 0.01  # not trivially zero


def test_bound_is_attained_for_one_layer():
    rng = np.random.default_rng(4)
    W, b = rng.normal(size=(4, 6)), rng.normal(size=4)
    x = rng.normal(size=6)
    left = np.linalg.svd(W)[0][:, 0]
    u = left / (1 - np.tanh(W @ x + b) ** 2)  # makes δ the top left singular vector of W
    lhs, rhs = gp.inequality_sides([(W, b)], x, u)
    assert lhs == pytest.approx(rhs, rel=1e-12)
    lhs2, rhs2 = gp.inequality_sides([(W, b)], x, rng.normal(size=4))
    assert lhs2 < 0.999 * rhs2


def test_dead_relu_layer_convention():
    layers = gp.random_mlp([3, 5, 4, 2], seed=0)
    W1, b1 = layers[1]
    layers[1] = (W1, b1 - 100.0)  # every unit of the second layer is dead
    layers[2] = (layers[2][0], np.abs(layers[2][1]) + 0.5)  # last layer active, so its bias has a gradient
    x, u = np.array([0.3, -0.2, 0.5]), np.array([1.0, -2.0])
    T = gp.inequality_terms(layers, x[None], u[None], "relu")
    assert T.jac_norm[0, 2] == 0.0 and T.grad_x_sq[0] == 0.0
    assert np.isinf(T.coef[0, 2])
    lhs, rhs = gp.inequality_sides(layers, x, u, "relu")
    assert lhs == 0.0 and rhs == pytest.approx(5.0)  # ‖∇_b f‖² = ‖u‖² for the last layer only
    with jax.enable_x64(True):
        gx, _, _ = _jax_grads(layers, jnp.asarray(x), jnp.asarray(u), "relu")
    assert np.all(gx == 0.0)


def test_per_layer_activation_and_loss_linearisation():
    rng = np.random.default_rng(2)
    layers = gp.random_mlp([6, 8, 4], seed=9)
    X, y = rng.normal(size=(5, 6)), np.array([0, 3, 1, 2, 3])
    U = gp.loss_gradient_u(layers, X, y)
    names = ["tanh", "identity"]

    def loss(p, x, label):
        z = p[1][0] @ jnp.tanh(p[0][0] @ x + p[0][1]) + p[1][1]
        return -jax.nn.log_softmax(z)[label]

    with jax.enable_x64(True):
        params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in layers]
        ref = np.stack(
            [np.asarray(jax.grad(loss, argnums=1)(params, jnp.asarray(X[i]), int(y[i]))) for i in range(5)]
        )
        per_sample = [jax.grad(loss)(params, jnp.asarray(X[i]), int(y[i])) for i in range(5)]
        mean_grad = jax.tree.map(lambda *g: sum(g) / 5, *per_sample)
    np.testing.assert_allclose(gp.backprop(layers, X, U, names).grad_x, ref, rtol=1e-10, atol=1e-14)
    # ‖∇_θ L‖² of the mean loss and the mean of the per-sample ‖∇_θ ℓ_n‖²
    sq = lambda tree: float(sum(np.sum(np.asarray(a) ** 2) for a in jax.tree.leaves(tree)))  # noqa: E731
    batch, sample = gp._grad_norms(layers, X, y)
    assert batch == pytest.approx(sq(mean_grad), rel=1e-10)
    assert sample == pytest.approx(np.mean([sq(g) for g in per_sample]), rel=1e-10)


def test_init_spectral_norms():
    norms = gp.init_spectral_norms([(256, 256), (64, 256)], "lecun_normal", draws=2, seed=0)
    assert norms.shape == (2, 2)
    # Bai–Yin edge σ(√m + √n) with σ² = 1/256: 2 for the square layer, 1.5 for the 64 × 256 one
    np.testing.assert_allclose(norms, [[2.0, 2.0], [1.5, 1.5]], rtol=0.05)
    orth = gp.init_spectral_norms([(64, 64), (10, 30)], "orthogonal", draws=2, seed=0)
    np.testing.assert_allclose(orth, 1.0, rtol=1e-12)
    Q = gp.init_weight(3, 7, "orthogonal", np.random.default_rng(0))
    np.testing.assert_allclose(Q @ Q.T, np.eye(3), atol=1e-12)


@pytest.mark.parametrize("scheme", ["glorot_uniform", "he_normal", "lecun_normal", "torch_default"])
def test_init_weight_has_the_scheme_variance(scheme):
    W = gp.init_weight(300, 500, scheme, np.random.default_rng(1))
    variance = gp.INIT_SCHEMES[scheme][1](300, 500)
    assert np.var(W) == pytest.approx(variance, rel=0.02)  # 150 000 entries: s.e. of the variance < 0.4 %
    assert abs(np.mean(W)) < 4 * np.sqrt(variance / W.size)


def test_geometric_complexity_of_a_linear_map():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(3, 4))
    layers = [(np.eye(4) * 1e-8, np.zeros(4)), (W, np.zeros(3))]  # tanh ≈ identity near 0: f ≈ 1e-8 W x
    gc = gp._geometric_complexity(layers, rng.normal(size=(5, 4)) * 1e-3)
    assert gc == pytest.approx(1e-16 * np.sum(W**2), rel=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x": np.ones(4)}, "x"),
        ({"u": np.ones(2)}, "u"),
        ({"x": np.array([1.0, np.nan, 0.0])}, "x"),
        ({"u": np.array([np.inf, 0.0, 0.0])}, "u"),
        ({"activation": "sigmoid"}, "activation"),
        ({"activation": ["tanh"]}, "activation"),
        ({"norm": "nuclear"}, "norm"),
        ({"x": np.ones((2, 3))}, "x"),
        ({"layers": []}, "layers"),
        ({"layers": [(np.ones((4, 3)), np.ones(3))]}, "layers"),
        ({"layers": [(np.ones((4, 3)), np.ones(4)), (np.ones((3, 5)), np.ones(3))]}, "layers"),
        ({"layers": [(np.full((3, 3), np.nan), np.ones(3))]}, "layers"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(kwargs, match):
    args = {
        "layers": [(np.eye(3), np.zeros(3)), (np.ones((3, 3)), np.zeros(3))],
        "x": np.ones(3),
        "u": np.ones(3),
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        gp.inequality_sides(**args)


def test_other_validation():
    with pytest.raises(ValueError, match="scheme"):
        gp.init_weight(3, 3, "xavier_magic", np.random.default_rng(0))
    with pytest.raises(ValueError, match="widths"):
        gp.random_mlp([3], seed=0)
    with pytest.raises(ValueError, match="norm"):
        gp.matrix_norm(np.eye(2), "max")
    with pytest.raises(TypeError, match="x"):
        gp.inequality_sides([(np.eye(2), np.zeros(2))], "abc", np.ones(2))


def _dense_hessian_and_grad(layers, X, y):
    params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in layers]
    theta, unravel = ravel_pytree(params)
    loss = lambda th: gp._mean_loss(unravel(th), jnp.asarray(X), jnp.asarray(y))  # noqa: E731
    return np.asarray(jax.hessian(loss)(theta)), np.asarray(jax.grad(loss)(theta))


def test_sharpness_is_the_top_eigenvalue_of_the_dense_hessian():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(12, 5)), rng.integers(0, 3, 12)
    layers = gp.random_mlp([5, 4, 3], seed=1, weight_gain=2.0)
    with jax.enable_x64(True):
        H, _ = _dense_hessian_and_grad(layers, X, y)
        assert gp._sharpness(layers, X, y) == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-8)


def test_backward_error_orders_and_constant():
    rng = np.random.default_rng(0)
    X, y = rng.uniform(size=(30, 64)), rng.integers(0, 10, 30)
    with jax.enable_x64(True):
        e_flow, e_mod, c = gp.backward_error(X, y, [64, 8, 10], [0.2, 0.1], seed=0, substeps=32)
        H, g = _dense_hessian_and_grad(gp._to_numpy(gp._glorot_params([64, 8, 10], 0)), X, y)
    assert 3.0 < e_flow[0] / e_flow[1] < 5.0  # O(h²): halving h divides the error by ~4
    assert 6.0 < e_mod[0] / e_mod[1] < 10.0  # O(h³): by ~8
    assert np.all(e_mod < e_flow)
    assert c == pytest.approx(np.linalg.norm(H @ g) / 2, rel=1e-10)
    assert e_flow[1] / 0.1**2 == pytest.approx(c, rel=0.1)  # err/h² → ‖H∇L‖/2


def test_gradient_descent_lands_exactly_on_the_target_loss():
    rng = np.random.default_rng(1)
    X, y = rng.uniform(size=(40, 64)), rng.integers(0, 10, 40)
    with jax.enable_x64(True):
        init = gp._glorot_params([64, 16, 10], 0)
        params, steps, rise = gp._gd_to_loss(init, jnp.asarray(X), jnp.asarray(y), 0.5, 1.0, 2000)
        loss = float(gp._mean_loss(params, jnp.asarray(X), jnp.asarray(y)))
        out = gp.igr_sweep(
            (X, y, X[:5], y[:5]), [64, 16, 10], [0.5], [0], target_loss=1.0, max_steps=2000, hessian=False
        )
        missed = gp.igr_sweep(
            (X, y, X[:5], y[:5]), [64, 16, 10], [0.5], [0], target_loss=1.0, max_steps=3, hessian=False
        )
    assert loss == pytest.approx(1.0, abs=1e-12)
    k = int(np.ceil(float(steps)))  # the target is crossed during the k-th step
    with jax.enable_x64(True):
        p, losses = init, [float(gp._mean_loss(init, X, y))]
        for _ in range(k):
            p = jax.tree.map(lambda a, g: a - 0.5 * g, p, jax.grad(gp._mean_loss)(p, X, y))
            losses.append(float(gp._mean_loss(p, X, y)))
    assert losses[-2] > 1.0 >= losses[-1]
    ratios = np.array(losses[1:]) / np.minimum.accumulate(losses)[:-1]  # loss over its running minimum
    assert float(rise) == pytest.approx(ratios.max(), rel=1e-12)
    assert out["steps"][0, 0] == pytest.approx(float(steps))
    assert np.isnan(missed["gc"][0, 0]) and np.isnan(missed["steps"][0, 0])
