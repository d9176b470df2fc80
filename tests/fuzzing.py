"""Shared pieces of the bad-input fuzz tests (imported by tests/test_*_properties.py).

Each chapter's property test file lists, per public function, one valid call and, per argument, a hypothesis
strategy of bad values. :func:`assert_named_error` then checks the contract of ``kexue_utils``: a bad
argument raises ``ValueError`` or ``TypeError`` itself (not a subclass thrown from deep inside numpy or
scipy), the message names the argument, and no numpy warning is emitted on the way (a warning means the bad
value reached numpy).
"""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

#: hypothesis settings of the cheap property tests (FAST) and of those that run a small simulation (SLOW)
FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: values of the wrong kind for any numeric argument
BAD_TYPES: list[Any] = [None, "3", b"3", 1 + 2j, [1, "a"], {"a": 1}, object(), True, False]

#: arrays that no numeric-array argument should accept
BAD_ARRAYS: list[Any] = [
    np.array([True, False]),
    np.array(["1", "2"]),
    np.array([1.0, None], dtype=object),
    np.array([1 + 1j, 2]),
    [[1, 2], [3]],
    None,
    "12",
]

#: the entries that make an otherwise good float array not finite
NONFINITE = st.sampled_from([np.nan, np.inf, -np.inf])


def public_functions(module: types.ModuleType) -> list[str]:
    """Names of the functions defined (not imported) in ``module`` without a leading underscore."""
    return sorted(
        name
        for name, obj in vars(module).items()
        if callable(obj)
        and not isinstance(obj, type)
        and not name.startswith("_")
        and getattr(obj, "__module__", None) == module.__name__
    )


def assert_named_error(
    fn: Callable[..., Any], kwargs: dict[str, Any], arg: str, value: Any, *, aliases: Sequence[str] = ()
) -> None:
    """Call ``fn(**kwargs)`` with ``kwargs[arg]`` replaced by ``value``; it must raise a clean, named error.

    The message must name ``arg`` or one of its ``aliases`` (a name the function reports it under).
    """
    names = "|".join([arg, *aliases])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises((ValueError, TypeError), match=rf"\b({names})\b") as info:
            fn(**(kwargs | {arg: value}))
    assert type(info.value) in (ValueError, TypeError), type(info.value)


def bad_int(minimum: int = 1) -> st.SearchStrategy[Any]:
    """Values that are not integers ≥ ``minimum``."""
    return st.one_of(
        st.integers(max_value=minimum - 1),
        st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not float(v).is_integer()),
        st.floats(min_value=minimum, max_value=1e6).map(lambda v: float(math.floor(v)) + 0.5),
        st.sampled_from([*BAD_TYPES, float("nan"), float("inf"), np.float64(3.0), [3], np.array([3])]),
    )


def bad_positive(
    upper: float | None = None, *, zero_ok: bool = False, upper_ok: bool = True
) -> st.SearchStrategy[Any]:
    """Values that are not finite reals > 0 (≥ 0 if ``zero_ok``) and ≤ ``upper`` (< ``upper`` unless
    ``upper_ok``) when an upper bound is given."""
    bad = [*BAD_TYPES, float("nan"), float("inf"), -float("inf"), [0.5], np.array([0.5])]
    if not zero_ok:
        bad += [0.0, 0]
    parts = [st.floats(max_value=0.0, exclude_max=zero_ok, allow_nan=False), st.sampled_from(bad)]
    if upper is not None:
        parts.append(st.floats(min_value=upper, exclude_min=upper_ok, allow_nan=False, allow_infinity=False))
    return st.one_of(*parts)


def wrong_kind_arrays(shape: tuple[int, ...]) -> list[Any]:
    """Values laid out like a real array of ``shape`` that hold no real numbers.

    String, bool, complex (with and without an imaginary part) and object arrays of that very shape, so that
    only the dtype check can reject them, one object array with a ``None``, and a ragged nesting of lists.
    """
    ones = np.ones(shape)
    with_none = ones.astype(object)
    with_none.flat[0] = None
    ragged = [[1.0], [1.0, 2.0]] if len(shape) <= 1 else [[1.0] * shape[-1], [1.0] * (shape[-1] + 1)]
    return [ones.astype(str), ones.astype(bool), ones.astype(complex), ones * (1 + 1j), with_none, ragged]


@st.composite
def bad_array(
    draw: st.DrawFn,
    shape: tuple[int, ...],
    shape_ok: Callable[[tuple[int, ...]], bool] | None = None,
    max_side: int = 4,
) -> Any:
    """A value that is not a finite real array of ``shape``.

    One of: a value of the wrong kind (:func:`wrong_kind_arrays` of that shape or :data:`BAD_TYPES`), the
    array with one entry NaN or ±inf, the array with one axis emptied, or an array of ones of another shape
    (at most ``max_side`` long per axis). ``shape_ok`` says which other shapes the argument accepts
    (default: only ``shape`` itself).
    """
    kind = draw(st.sampled_from(["dtype", "nonfinite", "shape", "empty"]))
    if kind == "dtype":
        return draw(st.sampled_from([*wrong_kind_arrays(shape), *BAD_TYPES]))
    if kind == "nonfinite":
        a = np.ones(shape)
        a.flat[draw(st.integers(0, a.size - 1))] = draw(NONFINITE)
        return a
    if kind == "empty":
        s = list(shape)
        s[draw(st.integers(0, len(s) - 1))] = 0
        return np.ones(s)
    ok = shape_ok or (lambda s: s == shape)
    return np.ones(
        draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=max_side).filter(lambda s: not ok(s)))
    )


def spec_fuzz_test(
    module: types.ModuleType, specs: dict[str, tuple[dict[str, Any], dict[str, Any]]], test_settings: settings
) -> Callable[..., None]:
    """The fuzz test over ``specs``, for a test module to bind to a test name.

    ``specs`` maps each function name of ``module`` to (valid keyword arguments, {argument: strategy of bad
    values}); every example replaces one argument, drawn at random, by a bad value and checks the call with
    :func:`assert_named_error`. One test per function, each with the examples of ``test_settings``.
    """

    @pytest.mark.parametrize("name", sorted(specs))
    @test_settings
    @given(data=st.data())
    def test_bad_inputs_raise_naming_the_argument(name: str, data: Any) -> None:
        kwargs, bad = specs[name]
        arg = data.draw(st.sampled_from(sorted(bad)), label="argument")
        assert_named_error(getattr(module, name), kwargs, arg, data.draw(bad[arg], label="value"))

    return test_bad_inputs_raise_naming_the_argument


def argument_fuzz_tests(
    cases: Sequence[tuple[str, str]],
    assert_rejected: Callable[[tuple[str, str], Any], None],
    max_examples: int,
) -> tuple[Callable[..., None], Callable[..., None]]:
    """The two fuzz tests over (function name, argument name) cases, for a test module to bind to test names.

    ``assert_rejected(case, data)`` draws a bad value for the case's argument from ``data`` (hypothesis's
    ``st.data()``) and checks that the call fails cleanly, typically with :func:`assert_named_error`. The
    first test tries ``max_examples`` cases drawn at random; the second sweeps every case with 4 bad values,
    since a random sample alone may miss some.
    """

    @settings(max_examples=max_examples, deadline=None)
    @given(case=st.sampled_from(cases), data=st.data())
    def test_bad_input_raises_an_error_naming_the_argument(case: tuple[str, str], data: Any) -> None:
        assert_rejected(case, data)

    @pytest.mark.parametrize("case", cases, ids=[f"{fn}-{arg}" for fn, arg in cases])
    @settings(max_examples=4, deadline=None)
    @given(data=st.data())
    def test_every_argument_rejects_its_bad_values(case: tuple[str, str], data: Any) -> None:
        assert_rejected(case, data)

    return test_bad_input_raises_an_error_naming_the_argument, test_every_argument_rejects_its_bad_values
