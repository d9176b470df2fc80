"""Property-based tests of the claims helper (hypothesis)."""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kexue_utils.claims import KINDS, WIDTH, ClaimError, check, check_bound, parse_claims

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
tolerance = st.floats(min_value=1e-9, max_value=10.0)


def _printed(fn, *args, **kwargs) -> tuple[str, bool]:
    """Run a check, capturing its lines; return (output, passed)."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        try:
            fn(*args, **kwargs)
            passed = True
        except ClaimError:
            passed = False
    return buffer.getvalue(), passed


arrays = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=4), elements=finite)


@settings(max_examples=150, deadline=None)
@given(a=arrays, shift=finite, rtol=tolerance, atol=tolerance, mode=st.sampled_from(["rel", "abs", "both"]))
def test_check_agrees_with_numpy_isclose(a, shift, rtol, atol, mode):
    """The verdict is exactly numpy's elementwise |a − e| ≤ atol + rtol·|e| rule."""
    e = a + shift * (np.arange(a.size).reshape(a.shape) % 2)
    r, t = {"rel": (rtol, 0.0), "abs": (0.0, atol), "both": (rtol, atol)}[mode]
    expected_pass = bool(np.all(np.abs(a - e) <= t + r * np.abs(e)))
    out, passed = _printed(check, "prop-x", a, e, kind="identity", rtol=r, atol=t, statement="property")
    (claim,) = parse_claims(out)
    assert claim.passed == passed == expected_pass
    # A passing claim has a margin in [0, 1]; a failing one none.
    assert (claim.margin is not None and 0 <= claim.margin <= 1) if passed else claim.margin is None


@settings(max_examples=100, deadline=None)
@given(value=finite, lower=finite, width=st.floats(min_value=1e-6, max_value=1e6))
def test_check_bound_is_strict_interval_membership(value, lower, width):
    upper = lower + width
    out, passed = _printed(
        check_bound, "prop-b", value, kind="identity", lower=lower, upper=upper, statement="in"
    )
    assert passed == (lower < value < upper)
    (claim,) = parse_claims(out)
    assert claim.passed == passed


def _one_line(s: str) -> bool:
    return bool(s.strip()) and len(s.strip().splitlines()) == 1 and "\t" not in s


@settings(max_examples=100, deadline=None)
@given(
    statement=st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
        min_size=1,
        max_size=300,
    ).filter(_one_line),
    kind=st.sampled_from(KINDS),
    seeds=st.none() | st.integers(1, 10_000),
)
def test_any_one_line_statement_round_trips_within_the_page_width(statement, kind, seeds):
    if kind == "experiment" and seeds is None:
        seeds = 3
    out, passed = _printed(check, "prop-s", 1.0, 1.0, kind=kind, seeds=seeds, atol=1.0, statement=statement)
    (claim,) = parse_claims(out)
    assert passed and claim.kind == kind and claim.seeds == seeds
    assert claim.statement == re.sub(" +", " ", statement.strip())
    assert all(len(line) <= WIDTH for line in out.splitlines() if " " in line.strip())
