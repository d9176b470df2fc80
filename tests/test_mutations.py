"""Mutation tests: break one formula in ``kexue_utils`` and the chapter's claims must catch it.

Each case executes a chapter in memory (nothing on disk changes) with a first cell that replaces
one helper by a subtly wrong version, and asserts that the notebook stops with a ``ClaimError``
at a claim of that chapter. Execution stops at the first failing claim, so each case costs only
the cells up to that point. If a case ever passes, the chapter's checks could not detect that
error — the book's promise would be empty.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

BOOK = Path(__file__).resolve().parents[1] / "book"

# Deselected by `make test` (pyproject's addopts) and run by `make mutations` (CI runs both).
pytestmark = pytest.mark.mutation

# (chapter, module, function, wrapper): the wrapper receives the original function and returns the wrong one.
MUTATIONS = [
    # Eq. (gp-identity) and the bound: double the left side of the inequality.
    (
        "grad_penalty",
        "kexue_utils.grad_penalty",
        "inequality_sides",
        "lambda f: lambda *a, **k: (lambda r: (2 * r[0], r[1]))(f(*a, **k))",
    ),
    # The explicit backward pass: a 1 % error in the input gradient.
    (
        "grad_penalty",
        "kexue_utils.grad_penalty",
        "backprop",
        "lambda f: lambda *a, **k: (lambda r: type(r)(r.h, r.delta, r.jac, 1.01 * r.grad_x))(f(*a, **k))",
    ),
    # Eq. (gp-baiyin): spectral norms of the initial weights 10 % too small.
    (
        "grad_penalty",
        "kexue_utils.grad_penalty",
        "init_spectral_norms",
        "lambda f: lambda *a, **k: 0.9 * f(*a, **k)",
    ),
    # Eq. (gp-igr): the leading constant of a GD step against the flow of L as ‖H∇L‖, not ‖H∇L‖/2.
    (
        "grad_penalty",
        "kexue_utils.grad_penalty",
        "backward_error",
        "lambda f: lambda *a, **k: (lambda r: (r[0], r[1], 2 * r[2]))(f(*a, **k))",
    ),
    # The detector forgetting one unargmaxable class (the article's class 5).
    ("unargmax", "kexue_utils.unargmax", "unargmaxable_classes", "lambda f: lambda *a, **k: f(*a, **k)[:-1]"),
    # Eq. (unargmax-margin) without its rounding bound: an exact tie would pass as a win.
    (
        "unargmax",
        "kexue_utils.unargmax",
        "_gaps",
        "lambda f: lambda *a, **k: (lambda g: (g[0], 0 * g[1]))(f(*a, **k))",
    ),
    # The cone fit's residual taken as y − Aα, without re-orthogonalisation: near the hull it is noise.
    (
        "unargmax",
        "kexue_utils.unargmax",
        "_cone_fit",
        "lambda f: lambda A, y: (lambda r: (r[0], y - A @ r[0], r[2]))(f(A, y))",
    ),
    # The Hurwitz-zeta tail with the sum starting one quantum too late (the article's upper-limit slip).
    ("quanta", "kexue_utils.quanta", "tail_mass", "lambda f: lambda n, gamma: f(n + 1, gamma)"),
    # The data exponent without the 1/(γ + 1).
    (
        "quanta",
        "kexue_utils.quanta",
        "predicted_exponents",
        "lambda f: lambda gamma: {**f(gamma), 'D': gamma}",
    ),
    # Eq. (quanta-ctau): the closed-form constant C_τ with τ off by one.
    (
        "quanta",
        "kexue_utils.quanta",
        "data_law_asymptote",
        "lambda f: lambda samples, gamma, *, tau: f(samples, gamma, tau=tau + 1)",
    ),
    # Eq. (quanta-finite): K quanta normalised as if there were K + 1.
    (
        "quanta",
        "kexue_utils.quanta",
        "truncated_tail_mass",
        "lambda f: lambda n, gamma, n_quanta: f(n, gamma, n_quanta + 1)",
    ),
    # Eq. (mad-cov): Cov(μ_t) 20 % too small.
    ("mad", "kexue_utils.mad", "mean_covariance", "lambda f: lambda *a, **k: f(*a, **k) * 0.8"),
    # Eq. (mad-logdet): the digamma drift with an off-by-one sample size.
    ("mad", "kexue_utils.mad", "logdet_drift", "lambda f: lambda d, n, lam=1.0: f(d, n + 1, lam)"),
    # Eq. (mad-fresh) without the gap term δδᵀ between the real and the synthetic mean.
    (
        "mad",
        "kexue_utils.mad",
        "fresh_steady_state",
        "lambda f: lambda nr, ns, lam: (lam * nr / (nr + ns * (1 - lam)), f(nr, ns, lam)[1])",
    ),
    # Eq. (mad-reward): the naive guess that keeping a share p of the samples keeps p of the variance.
    ("mad", "kexue_utils.mad", "selection_bias", "lambda f: lambda d, keep: keep"),
    # Eq. (skip-precond): c_in 5 % too large, so the network input no longer has unit second moment.
    (
        "skip_tuning",
        "kexue_utils.skip_tuning.edm",
        "preconditioning",
        "lambda f: lambda *a, **k: (lambda c: (c[0], c[1], 1.05 * c[2], c[3]))(f(*a, **k))",
    ),
    # Eq. (skip-heun): Heun's corrector dropped (every step an Euler step): second order is lost.
    ("skip_tuning", "kexue_utils.skip_tuning.edm", "_heun_step", "lambda f: _mut_mod._euler_step"),
    # Eq. (skip-hf): the high-frequency band starting at 0.3 instead of a quarter cycle per pixel.
    (
        "skip_tuning",
        "kexue_utils.skip_tuning.experiment",
        "high_freq_share",
        "lambda f: lambda x, cutoff=0.25: f(x, cutoff=0.3)",
    ),
]


def _run_with_patch(chapter: str, module: str, function: str, wrapper: str) -> None:
    nb = jupytext.read(BOOK / f"{chapter}.md")
    patch = (
        f"import {module} as _mut_mod\n"
        f"_mut_wrap = {wrapper}\n"
        f"setattr(_mut_mod, {function!r}, _mut_wrap(getattr(_mut_mod, {function!r})))\n"
    )
    nb.cells.insert(0, nbformat.v4.new_code_cell(patch))
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(BOOK)}}
    )
    client.execute()


def _assert_caught(chapter: str, module: str, function: str, wrapper: str) -> None:
    with pytest.raises(CellExecutionError) as info:
        _run_with_patch(chapter, module, function, wrapper)
    message = str(info.value)
    assert "ClaimError" in message, f"the chapter failed, but not at a claim:\n{message[-2000:]}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Give each chapter's class the cases of its chapter."""
    chapter = getattr(metafunc.cls, "chapter", None)
    if chapter is not None:
        cases = [case[1:] for case in MUTATIONS if case[0] == chapter]
        metafunc.parametrize(("module", "function", "wrapper"), cases, ids=lambda v: str(v)[:40])


class _Chapter:
    """One class per chapter: pytest-xdist (--dist loadscope) hands each class to a worker as one unit, so
    the chapters' mutation runs spread over the workers."""

    chapter: str

    def test_a_wrong_formula_fails_the_chapter(self, module, function, wrapper):
        _assert_caught(self.chapter, module, function, wrapper)


class TestGradPenalty(_Chapter):
    chapter = "grad_penalty"


class TestUnargmax(_Chapter):
    chapter = "unargmax"


class TestQuanta(_Chapter):
    chapter = "quanta"


class TestMad(_Chapter):
    chapter = "mad"


class TestSkipTuning(_Chapter):
    chapter = "skip_tuning"


def test_every_mutated_chapter_has_its_class():
    assert {case[0] for case in MUTATIONS} == {cls.chapter for cls in _Chapter.__subclasses__()}
