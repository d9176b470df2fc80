"""Property-based tests (hypothesis) and bad-input fuzzing of kexue_utils.grad_penalty (issue 9, items 1–2).

Derived properties: per layer ∇_x f = (∂h^t/∂x)ᵀ (W^t)ᵀ δ^t gives ‖∇_x f‖ ≤ ‖W^t‖‖∂h^t/∂x‖‖δ^t‖ and
‖∇_{W^t} f‖² + ‖∇_{b^t} f‖² = ‖δ^t‖²(1 + ‖h^t‖²), hence lhs ≤ rhs for every activation; ‖·‖_F ≥ ‖·‖_2
makes the Frobenius lhs smaller; f is linear in u (both sides scale by c²); relabelling hidden units
changes nothing; the explicit backward pass equals JAX autodiff.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kexue_utils import grad_penalty as gp

from fuzzing import (
    argument_fuzz_tests,
    assert_named_error,
    bad_array,
    bad_int,
    bad_positive,
    public_functions,
)
from test_grad_penalty import JAX_ACT  # the same JAX activations as the unit tests

SETTINGS = settings(max_examples=40, deadline=None)
REL = 1e-10  # relative tolerance of the inequality (rounding only)

SMOOTH = ["tanh", "softplus", "gelu"]
SIZES = st.integers(1, 6)


@st.composite
def nets(draw, acts=(*SMOOTH, "relu"), max_depth: int = 4, sizes=SIZES):
    """(layers, X, U, activation names): a random MLP with a batch of inputs and output weights."""
    depth = draw(st.integers(1, max_depth))
    widths = [draw(sizes) for _ in range(depth + 1)]
    seed = draw(st.integers(0, 2**32 - 1))
    layers = gp.random_mlp(
        widths, seed, weight_gain=draw(st.floats(0.2, 3.0)), bias_std=draw(st.floats(0.0, 1.0))
    )
    if draw(st.booleans()):
        names = draw(st.lists(st.sampled_from(acts), min_size=depth, max_size=depth))
    else:
        names = [draw(st.sampled_from(acts))] * depth
    rng = np.random.default_rng(seed + 1)
    n = draw(st.integers(1, 6))
    X = rng.normal(size=(n, widths[0])) * draw(st.floats(0.1, 3.0))
    U = rng.normal(size=(n, widths[-1]))
    return layers, X, U, names


# ----------------------------------------------------------------------------------------- properties
@SETTINGS
@given(nets())
def test_inequality_holds_per_layer_and_in_total(net):
    layers, X, U, names = net
    T = gp.inequality_terms(layers, X, U, names, "spectral")
    np.testing.assert_allclose(T.param_sq, T.delta_sq * (1 + T.h_sq), rtol=1e-12, atol=1e-300)
    bound = T.W_norm[None, :] ** 2 * T.jac_norm**2 * T.delta_sq
    assert np.all(T.grad_x_sq[:, None] <= bound * (1 + REL) + 1e-300)
    assert np.all(T.lhs_terms <= T.param_sq * (1 + REL) + 1e-300)
    assert np.all(T.lhs <= T.rhs * (1 + REL) + 1e-300)
    assert np.all(T.lhs >= 0) and np.all(np.isfinite(T.lhs)) and np.all(np.isfinite(T.rhs))
    # dead-layer convention (ReLU): ∇_x f = 0 ⇒ lhs = 0; an infinite coefficient forces ∇_x f = 0
    assert np.all(T.lhs[T.grad_x_sq == 0] == 0)
    assert np.all(T.grad_x_sq[np.isinf(T.coef).any(axis=1)] == 0)


@SETTINGS
@given(nets(), st.floats(1e-3, 1e3))
def test_frobenius_is_weaker_and_both_sides_scale_with_u_squared(net, c):
    layers, X, U, names = net
    lhs_s, rhs = gp.inequality_sides(layers, X, U, names, "spectral")
    lhs_f, rhs_f = gp.inequality_sides(layers, X, U, names, "frobenius")
    np.testing.assert_array_equal(rhs, rhs_f)
    assert np.all(lhs_f <= lhs_s * (1 + REL))
    assert np.all(lhs_f <= rhs * (1 + REL) + 1e-300)
    lhs_c, rhs_c = gp.inequality_sides(layers, X, c * U, names, "spectral")
    np.testing.assert_allclose(lhs_c, c**2 * lhs_s, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(rhs_c, c**2 * rhs, rtol=1e-9, atol=1e-300)
    # one sample at a time gives the same floats as the batch
    for i in range(len(X)):
        single = gp.inequality_sides(layers, X[i], U[i], names, "spectral")
        assert single == pytest.approx((lhs_s[i], rhs[i]), rel=1e-10, abs=1e-300)


@SETTINGS
@given(nets(max_depth=3), st.integers(0, 2**32 - 1))
def test_relabelling_hidden_units_changes_nothing(net, seed):
    layers, X, U, names = net
    if len(layers) < 2:
        return
    t = int(np.random.default_rng(seed).integers(0, len(layers) - 1))
    p = np.random.default_rng(seed + 1).permutation(layers[t][0].shape[0])
    permuted = list(layers)
    permuted[t] = (layers[t][0][p], layers[t][1][p])
    permuted[t + 1] = (layers[t + 1][0][:, p], layers[t + 1][1])
    for norm in gp.NORMS:
        a = gp.inequality_sides(layers, X, U, names, norm)
        b = gp.inequality_sides(permuted, X, U, names, norm)
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-300)


def _jax_reference(layers, x, u, names):
    def hidden(params, x):
        hs = [x]
        for (W, b), name in zip(params, names, strict=True):
            hs.append(JAX_ACT[name](W @ hs[-1] + b))
        return hs

    params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in layers]
    gth, gx = jax.grad(lambda p, x: u @ hidden(p, x)[-1], argnums=(0, 1))(params, x)
    jacs = jax.jacfwd(lambda x: hidden(params, x)[:-1])(x)
    return np.asarray(gx), [(np.asarray(a), np.asarray(b)) for a, b in gth], [np.asarray(j) for j in jacs]


@settings(max_examples=20, deadline=None)
# few distinct layer shapes: eager JAX compiles every new operand shape once, which dominates the runtime
@given(nets(acts=(*SMOOTH, "relu", "identity"), max_depth=3, sizes=st.sampled_from([2, 3])))
def test_explicit_backward_pass_equals_jax_autodiff(net):
    layers, X, U, names = net
    x, u = X[0], U[0]
    with jax.enable_x64(True):
        gx, gth, jacs = _jax_reference(layers, jnp.asarray(x), jnp.asarray(u), names)
    bp = gp.backprop(layers, x[None], u[None], names)
    np.testing.assert_allclose(bp.grad_x[0], gx, rtol=1e-9, atol=1e-12)
    for t in range(len(layers)):
        np.testing.assert_allclose(bp.grad_W[t][0], gth[t][0], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(bp.grad_b[t][0], gth[t][1], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(bp.jac[t][0], jacs[t], rtol=1e-9, atol=1e-12)


@SETTINGS
@given(
    hnp.arrays(  # entries whose squares neither underflow nor overflow: the plain √Σa² is then accurate
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=3, max_side=5),
        elements=st.floats(-1e3, 1e3).filter(lambda v: v == 0 or abs(v) > 1e-100),
    ),
    st.floats(-1e3, 1e3),
)
def test_matrix_norm_orders_and_homogeneity(A, c):
    spec, frob = gp.matrix_norm(A, "spectral"), gp.matrix_norm(A, "frobenius")
    rank = min(A.shape[-2:])
    assert np.all(spec <= frob * (1 + 1e-12) + 1e-300)
    assert np.all(frob <= np.sqrt(rank) * spec * (1 + 1e-12) + 1e-300)
    np.testing.assert_allclose(gp.matrix_norm(c * A), abs(c) * spec, rtol=1e-10, atol=1e-300)
    flat = A.reshape(-1, *A.shape[-2:])
    np.testing.assert_allclose(
        spec.reshape(-1), [np.linalg.norm(M, 2) for M in flat], rtol=1e-12, atol=1e-300
    )


@SETTINGS
@given(
    st.lists(st.integers(1, 6), min_size=2, max_size=5),
    st.integers(0, 2**32 - 1),
    st.floats(0.1, 3.0),
    st.floats(0.0, 1.0),
)
def test_random_mlp_shapes_and_seeding(widths, seed, gain, bias_std):
    layers = gp.random_mlp(widths, seed, gain, bias_std)
    assert [W.shape for W, _ in layers] == [(o, i) for i, o in itertools.pairwise(widths)]
    assert all(b.shape == (W.shape[0],) for W, b in layers)
    again = gp.random_mlp(widths, seed, gain, bias_std)
    assert all(
        np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(layers, again, strict=True)
    )


@SETTINGS
@given(
    st.integers(1, 12), st.integers(1, 12), st.sampled_from(tuple(gp.INIT_SCHEMES)), st.integers(0, 2**32 - 1)
)
def test_init_weight_shapes_and_scheme_laws(n_out, n_in, scheme, seed):
    W = gp.init_weight(n_out, n_in, scheme, np.random.default_rng(seed))
    assert W.shape == (n_out, n_in) and np.all(np.isfinite(W))
    if scheme == "orthogonal":  # orthonormal rows or columns: all singular values are 1
        np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False), 1.0, rtol=1e-12)
    if scheme == "glorot_uniform":
        assert np.abs(W).max() <= np.sqrt(6.0 / (n_in + n_out))
    if scheme == "torch_default":
        assert np.abs(W).max() <= 1.0 / np.sqrt(n_in)


@SETTINGS
@given(nets(acts=("tanh",), max_depth=3), st.integers(0, 2**32 - 1), st.floats(0.1, 10.0))
def test_loss_linearisation_and_geometric_complexity_scaling(net, seed, c):
    layers, X, _, _ = net
    m = layers[-1][0].shape[0]
    y = np.random.default_rng(seed).integers(0, m, len(X))
    U = gp.loss_gradient_u(layers, X, y)
    # softmax − onehot: rows sum to 0, the true class in (−1, 0], the others in [0, 1) — in floating point
    # the ends are reached: p_y − 1 rounds to −1 once p_y < 2**-54 (a far-off logit), found by hypothesis
    np.testing.assert_allclose(U.sum(axis=1), 0.0, atol=1e-12)
    assert np.all(U[np.arange(len(y)), y] <= 0) and np.all(U[np.arange(len(y)), y] >= -1)
    batch, sample = gp._grad_norms(layers, X, y)
    assert 0 <= batch <= sample * (1 + 1e-12)  # ‖mean of gradients‖² ≤ mean of ‖gradient‖² (Jensen)
    # scaling the output layer by c scales the logit Jacobian by c: GC by c²
    scaled = [*layers[:-1], (c * layers[-1][0], c * layers[-1][1])]
    assert gp._geometric_complexity(scaled, X) == pytest.approx(c**2 * gp._geometric_complexity(layers, X))


@settings(max_examples=5, deadline=None)
@given(st.integers(0, 1000))
def test_tightness_sweep_ratios_never_exceed_one(seed):
    out = gp.tightness_sweep(["tanh", "relu"], [1, 3], [3], nets=1, inputs=4, seed=seed)
    for norm in gp.NORMS:
        r = out[norm][np.isfinite(out[norm])]
        assert np.all((r >= 0) & (r <= 1 + REL))
    s, f = out["spectral"], out["frobenius"]
    live = np.isfinite(s)
    assert np.array_equal(live, np.isfinite(f)) and np.all(f[live] <= s[live] * (1 + REL))
    assert np.array_equal(s == 0, f == 0)  # ∇_x f = 0 makes both left sides 0


@settings(max_examples=5, deadline=None)
@given(st.integers(1, 1796), st.integers(0, 1000))
def test_load_digits_split_partitions_the_data(n_train, seed):
    Xtr, ytr, Xte, yte = gp.load_digits_split(n_train, seed)
    assert len(Xtr) == len(ytr) == n_train and len(Xtr) + len(Xte) == 1797 and len(yte) == len(Xte)
    assert Xtr.min() >= 0 and max(Xtr.max(), Xte.max()) <= 1


# ------------------------------------------------------------------------------------------ fuzzing
# the names some arguments are reported under: backprop reports its X and U as x and u (the names of
# inequality_sides), tightness_sweep an unknown name in ``activations`` as an unknown ``activation``
ALIASES = {"X": ("x",), "U": ("u",), "acts": ("activation",)}

L_OK = [(np.ones((4, 3)) * 0.1, np.zeros(4)), (np.ones((2, 4)) * 0.1, np.zeros(2))]
D_IN, M_OUT, N_ROWS = 3, 2, 5
X_OK = np.linspace(-1, 1, N_ROWS * D_IN).reshape(N_ROWS, D_IN)
U_OK = np.ones((N_ROWS, M_OUT))
Y_OK = np.array([0, 1, 0, 1, 1])
W_OK = [D_IN, 4, M_OUT]

VALID: dict[str, dict] = {
    "backprop": {"layers": L_OK, "X": X_OK, "U": U_OK, "activation": "tanh"},
    "matrix_norm": {"A": np.eye(3), "norm": "spectral"},
    "inequality_terms": {"layers": L_OK, "X": X_OK, "U": U_OK, "activation": "tanh", "norm": "spectral"},
    "inequality_sides": {
        "layers": L_OK,
        "x": X_OK[0],
        "u": U_OK[0],
        "activation": "tanh",
        "norm": "spectral",
    },
    "random_mlp": {"widths": W_OK, "seed": 0, "weight_gain": 1.0, "bias_std": 0.1},
    "init_weight": {"n_out": 3, "n_in": 2, "scheme": "orthogonal", "rng": np.random.default_rng(0)},
    "init_spectral_norms": {"shapes": [(3, 2)], "scheme": "orthogonal", "draws": 1, "seed": 0},
    "load_digits_split": {"n_train": 100, "seed": 0},
    "train_adam": {
        "X": X_OK,
        "y": Y_OK,
        "widths": W_OK,
        "steps": 2,
        "lr": 0.01,
        "batch_size": 2,
        "n_checkpoints": 2,
        "seed": 0,
    },
    "loss_gradient_u": {"layers": L_OK, "X": X_OK, "y": Y_OK},
    "tightness_sweep": {
        "acts": ["tanh"],
        "depths": [1],
        "widths": [3],
        "nets": 1,
        "inputs": 2,
        "seed": 0,
        "gain": 1.0,
    },
    "training_diagnostics": {"checkpoints": [L_OK], "X": X_OK, "y": Y_OK, "norm": "spectral"},
    "igr_sweep": {
        "data": (X_OK, Y_OK, X_OK, Y_OK),
        "widths": W_OK,
        "lrs": [0.1],
        "seeds": [0],
        "target_loss": 0.5,
        "max_steps": 2,
        "jitter": (0.0, 0),
        "hessian": False,
    },
    "backward_error": {"X": X_OK, "y": Y_OK, "widths": W_OK, "hs": [0.1], "seed": 0, "substeps": 2},
}
NOT_FUZZED = {("backprop", "jacobians"), ("igr_sweep", "hessian")}  # any truthy/falsy value is a valid flag


def test_every_public_function_is_fuzzed():
    assert public_functions(gp) == sorted(VALID)  # not the result dataclasses Backprop, InequalityTerms


BAD_NAME = st.one_of(st.text(max_size=8).filter(lambda s: s not in gp.ACTIVATIONS), st.none(), st.integers())
BAD_INT_LIST = st.one_of(
    st.just([]), st.just("abc"), st.none(), st.just([3, 0]), st.just([3, -1]), st.just([3, 2.5]),
    st.just([3, True]), st.just([[3], 2]), st.just(np.array([3.0, 2.0])),
)  # fmt: skip
BAD_LABELS = st.one_of(
    st.just(Y_OK.astype(float)), st.just(Y_OK[:-1]), st.just(Y_OK[None]), st.just(np.array(["a"] * N_ROWS)),
    st.just(Y_OK.astype(bool)), st.just(np.r_[Y_OK[:-1], M_OUT]), st.just(np.r_[Y_OK[:-1], -1]), st.none(),
)  # fmt: skip


def _bad_layers():
    W1, b1 = L_OK[0]
    W2, b2 = L_OK[1]
    return st.sampled_from(
        [
            [],
            "abc",
            None,
            [(W1,)],
            [W1, b1],
            [(W1, np.zeros(3)), (W2, b2)],
            [(W1, b1), (np.ones((2, 5)), b2)],
            [(W1 * np.nan, b1), (W2, b2)],
            [(W1, b1), (W2, np.r_[np.inf, 0.0])],
            [(W1.astype(complex), b1), (W2, b2)],
            [(W1.astype(str), b1), (W2, b2)],
            [(np.ones((0, 3)), np.zeros(0)), (np.ones((2, 0)), b2)],
            [(W1, b1[None]), (W2, b2)],
            [(b1, b1), (W2, b2)],
        ]
    )


def _bad_value(fn: str, arg: str, data):
    valid = VALID[fn][arg]
    if arg == "layers":
        return data.draw(_bad_layers())
    if arg == "checkpoints":
        return data.draw(
            st.one_of(st.sampled_from([[], "abc", None]), _bad_layers().map(lambda L: [L_OK, L]))
        )
    if arg in ("X", "X_test", "x", "U", "u", "A"):
        shape = np.shape(valid)

        def shape_ok(s: tuple[int, ...]) -> bool:
            if arg in ("X", "X_test"):  # any number of rows
                return len(s) == 2 and s[1:] == shape[1:]
            if arg == "A":  # a matrix or a stack of matrices
                return len(s) >= 2
            return s == shape

        return data.draw(bad_array(shape, shape_ok, max_side=6))
    if arg in ("y", "y_test"):
        return data.draw(BAD_LABELS)
    if arg == "data":  # (X, y, X_test, y_test) with one bad member, or not a 4-tuple
        bad = data.draw(st.sampled_from([None, "abc", (X_OK, Y_OK), (X_OK, Y_OK[:-1], X_OK, Y_OK)]))
        return bad
    if arg in ("activation", "acts"):
        alts = [BAD_NAME, st.just(["tanh"] * 3), st.lists(BAD_NAME, min_size=1, max_size=2)]
        if arg == "acts":
            alts = [st.sampled_from([[], "tanh", None]), st.lists(BAD_NAME, min_size=1, max_size=2)]
        return data.draw(st.one_of(*alts))
    if arg in ("norm", "scheme"):
        names = (*gp.NORMS, *gp.INIT_SCHEMES)
        return data.draw(
            st.one_of(
                st.text(max_size=8).filter(lambda v: v not in names),
                st.none(),
                st.integers(),
                st.just(["spectral"]),
            )
        )
    if arg == "rng":
        return data.draw(st.sampled_from([None, 0, "abc", np.random.RandomState(0)]))
    if arg in ("widths", "depths"):
        return data.draw(BAD_INT_LIST)
    if arg == "seeds":
        return data.draw(
            st.one_of(
                BAD_INT_LIST.filter(lambda v: not (isinstance(v, list) and v == [3, 0])), st.just([0, -1])
            )
        )
    if arg in ("hs", "lrs"):
        return data.draw(
            st.one_of(st.sampled_from([[], "abc", None]), bad_positive().map(lambda v: [0.1, v]))
        )
    if arg in ("weight_gain", "gain", "lr", "target_loss"):
        return data.draw(bad_positive())
    if arg == "bias_std":
        return data.draw(bad_positive(zero_ok=True))
    if arg == "jitter":  # (scale ≥ 0, seed ≥ 0)
        return data.draw(
            st.sampled_from([None, "ab", 0.1, (0.1,), (-1.0, 0), (np.nan, 0), (0.1, -1), (0.1, 1.5)])
        )
    if arg == "shapes":
        return data.draw(st.sampled_from([[], "abc", None, [(3, 0)], [(3,)], [(3, 2, 1)], [(3, 2.5)], [3]]))
    if arg == "n_train":
        return data.draw(st.one_of(bad_int(1), st.integers(1797, 10**6)))
    if arg == "seed":
        return data.draw(bad_int(0))
    # positive ints: n_out, n_in, draws, steps, batch_size, n_checkpoints, max_steps, nets, inputs, substeps
    return data.draw(bad_int(2 if arg == "n_checkpoints" else 1))


CASES = sorted((fn, arg) for fn, kw in VALID.items() for arg in kw if (fn, arg) not in NOT_FUZZED)


def _assert_rejected(case: tuple[str, str], data) -> None:
    fn, arg = case
    assert_named_error(
        getattr(gp, fn), VALID[fn], arg, _bad_value(fn, arg, data), aliases=ALIASES.get(arg, ())
    )


# 40 random (function, argument) cases, and a sweep that gives every case a few bad values (hypothesis alone
# might not reach every pair with 40 examples)
test_bad_input_raises_an_error_naming_the_argument, test_every_argument_rejects_its_bad_values = (
    argument_fuzz_tests(CASES, _assert_rejected, max_examples=40)
)


@pytest.mark.filterwarnings("error::RuntimeWarning")  # overflow is a ValueError, never a numpy warning
@settings(max_examples=20, deadline=None)
@given(st.floats(1e150, 1e300), st.sampled_from(["x", "layers", "u"]), st.sampled_from([*SMOOTH, "relu"]))
def test_overflow_raises_instead_of_returning_nan(scale, which, act):
    layers = [(W * (scale if which == "layers" else 1.0), b) for W, b in L_OK]
    x = X_OK[0] * (scale if which == "x" else 1.0) + 1.0
    u = U_OK[0] * (scale if which == "u" else 1.0)
    try:
        lhs, rhs = gp.inequality_sides(layers, x, u, act)
    except ValueError as exc:
        assert "overflow" in str(exc)
    else:
        assert np.isfinite(lhs) and np.isfinite(rhs) and lhs <= rhs * (1 + REL)
