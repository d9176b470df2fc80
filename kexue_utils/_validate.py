"""Argument checks shared by the chapter helpers.

One convention throughout: a value of the wrong *kind* (a string where a number belongs, a bool, a complex
or object array, a ragged list) raises ``TypeError``; a value of the right kind that is out of range, of the
wrong shape, empty or not finite raises ``ValueError``. Every message starts with the argument's name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "choice",
    "finite_array",
    "integer",
    "integer_array",
    "integers",
    "numeric_array",
    "real_array",
    "real_number",
    "sequence",
]

#: what an array of each accepted combination of dtype kinds holds, for the messages
_HOLDS = {"iuf": "real numbers (int or float)", "iu": "ints", "biuf": "numbers (bool, int or float)"}


def numeric_array(name: str, value: Any, kinds: str = "iuf") -> np.ndarray:
    """Return ``np.asarray(value)`` unconverted; ``TypeError`` if ragged or of a dtype kind not in ``kinds``.

    ``kinds`` is a string of numpy dtype kinds: ``"iuf"`` (ints and floats), ``"iu"`` (ints) or ``"biuf"``
    (bools too). Strings, complex numbers and objects (``None`` included) are never numbers here.
    """
    holds = _HOLDS.get(kinds, f"values of dtype kind {kinds!r}")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nesting
        raise TypeError(f"{name} must be an array of {holds}") from exc
    if raw.dtype.kind not in kinds:
        raise TypeError(f"{name} must hold {holds}, got dtype {raw.dtype}")
    return raw


def real_array(name: str, value: Any) -> np.ndarray:
    """Return ``value`` as a float64 array; ``TypeError`` unless it holds ints or floats.

    Bool, complex, string and object arrays, and ragged nesting, are of the wrong kind.
    """
    return numeric_array(name, value, "iuf").astype(np.float64, copy=False)


def integer_array(name: str, value: Any) -> np.ndarray:
    """Return ``value`` as an int64 array; ``TypeError`` unless it holds ints (not bool/float/str).

    An empty array is accepted whatever its dtype: numpy makes ``[]`` a float array.
    """
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError):
        raw = None  # ragged: numeric_array below reports it
    if raw is None or raw.size > 0:
        raw = numeric_array(name, value, "iu")
    return raw.astype(np.int64)


def finite_array(
    name: str, value: Any, ndim: int | Sequence[int] | None = None, *, nonempty: bool = False
) -> np.ndarray:
    """:func:`real_array`, then ``ValueError`` on NaN/inf, on a dimension not in ``ndim`` or on no entries.

    The last check only with ``nonempty=True``; ``ndim`` is one number of dimensions or several.
    """
    arr = real_array(name, value)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            dims = " or ".join(map(str, allowed))
            raise ValueError(f"{name} must have {dims} dimension(s), got shape {arr.shape}")
    if nonempty and arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (got NaN or inf)")
    return arr


def integer(name: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an int; ``TypeError`` unless a (numpy) integer, ``ValueError`` out of range."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be ≥ {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be ≤ {maximum}, got {value}")
    return int(value)


def sequence(name: str, values: Any, min_len: int = 1, *, of: str = "") -> list[Any]:
    """Return a list, tuple or 1-D array as a list; ``ValueError`` if it has fewer than ``min_len`` entries.

    Anything else (a string, a scalar, ``None``, a 2-D array) is of the wrong kind: ``TypeError``. ``of``
    says what the entries should be, for the message.
    """
    if isinstance(values, np.ndarray) and values.ndim == 1:
        values = values.tolist()
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        what = f"a sequence of {of}" if of else "a sequence"
        raise TypeError(f"{name} must be {what}, got {type(values).__name__}")
    if len(values) < min_len:
        raise ValueError(f"{name} must have at least {min_len} entries, got {len(values)}")
    return list(values)


def integers(name: str, values: Any, minimum: int | None = None, min_len: int = 1) -> list[int]:
    """Return a sequence of ints (list, tuple or 1-D integer array) with at least ``min_len`` entries."""
    return [
        integer(f"{name}[{i}]", v, minimum) for i, v in enumerate(sequence(name, values, min_len, of="ints"))
    ]


def real_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return a finite real scalar as float; ``TypeError`` unless int/float, ``ValueError`` off the interval.

    The interval runs from ``low`` to ``high`` (either may be ``None``), each end closed unless ``*_open``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    too_low = low is not None and (v <= low if low_open else v < low)
    too_high = high is not None and (v >= high if high_open else v > high)
    if too_low or too_high:
        left = "(" if low_open or low is None else "["
        right = ")" if high_open or high is None else "]"
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise ValueError(f"{name} must lie in {left}{lo}, {hi}{right}, got {v:g}")
    return v


def choice(name: str, value: Any, options: Sequence[str]) -> str:
    """Return ``value`` if it is one of the string ``options``; ``ValueError`` naming the choices otherwise.

    A value that is not a string at all (``None``, a number, a list) is of the wrong kind: ``TypeError``.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {', '.join(map(repr, options))}; got {type(value).__name__}")
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return value
