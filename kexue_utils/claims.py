"""Numerical claims: assert one step of a derivation and print a short, deterministic verdict.

Every chapter checks its derivation with :func:`check` (two computations agree within a
tolerance) or :func:`check_bound` (a quantity lies on the stated side of a bound). Each call
prints a header line and the statement, indented, on the next line(s)::

    ✓ mad-cov · independent · rel. error 1.1e-02 (tol 3.0e-02) · margin 63%
        Cov(μ_t) = λ(1−λ^t)/(n(1−λ)) Σ₀

and raises :class:`ClaimError` (an ``AssertionError``) when the claim does not hold, so a
derivation that stops holding fails both ``make test`` (nbval) and ``make book``.

Every claim declares what kind of evidence it is (:data:`KINDS`):

``identity``
    exact algebra checked in floating point;
``independent``
    two different computations agree (Monte Carlo vs closed form, autodiff vs a hand formula,
    exact sum vs asymptote, a library vs our code);
``experiment``
    a measured finding over ``seeds`` random seeds;
``demonstration``
    an example built to show a point; it cannot fail by design and is not counted as evidence.

A claim whose value depends on random draws passes ``rerun``: a function of a seed that
recomputes the claim's inputs from a fresh draw. Notebooks use seeds below
:data:`FIRST_ROBUSTNESS_SEED`; the robustness run (``make robustness``) sets the environment
variable ``KEXUE_ROBUSTNESS_OUT`` and every such claim is then re-evaluated on
:data:`ROBUSTNESS_SEEDS`, which the notebooks never use, and its pass fraction recorded.

The *margin* says how far inside its tolerance or bound the value is, as a fraction: for a
tolerance ``1 − error/tol``; for a one-sided bound ``|value − bound| / max(|value|, |bound|)``;
for a band, the distance to the nearer end over the half-width. It is computed from the printed
(rounded) numbers, so it is as reproducible as they are. The Verification page is assembled from
the printed lines by :func:`parse_claims`.
"""

from __future__ import annotations

import json
import math
import os
import re
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "FIRST_ROBUSTNESS_SEED",
    "KINDS",
    "ROBUSTNESS_SEEDS",
    "Claim",
    "ClaimError",
    "check",
    "check_bound",
    "format_error",
    "parse_claims",
]

KINDS = ("identity", "independent", "experiment", "demonstration")
PASS_MARK = "✓"
FAIL_MARK = "✗"
DOT = " · "
INDENT = "    "
#: statements are wrapped to this many characters (plus the indent): the page must not scroll sideways
WRAP = 80
#: the seeds of the robustness run; a notebook's own literal seeds stay below the first of them
FIRST_ROBUSTNESS_SEED = 10_000
ROBUSTNESS_SEEDS = tuple(range(FIRST_ROBUSTNESS_SEED, FIRST_ROBUSTNESS_SEED + 10))
ROBUSTNESS_ENV = "KEXUE_ROBUSTNESS_OUT"

_LABEL_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)+$")
_MAX_LABEL = 32
#: a printed line never exceeds this many characters
WIDTH = 88
_HEAD = r"(?P<mark>[✓✗]) (?P<label>[a-z][a-z0-9-]*) · (?P<kind>[a-z]+)(?: over (?P<seeds>\d+) seeds?)?"
_VERDICT = r"(?P<measure>.+?) \((?P<tol>[^()]*)\)(?: · margin (?P<margin>\d+)%)?"
_HEADER_RE = re.compile(rf"^{_HEAD}(?: · {_VERDICT})?$")
_VERDICT_RE = re.compile(rf"^{_VERDICT}$")
# Errors at rounding level are not printed digit by digit: their exact digits depend on BLAS
# threading and summation order, so printing them would make the stored outputs non-reproducible.
# An agreement is at rounding level when |actual − expected| ≤ ERROR_FLOOR · max(|expected|, 1)
# for every element; it is then printed as "rounding-level error".
ERROR_FLOOR = 1e-11
ROUNDING_LEVEL = "rounding-level error"


class ClaimError(AssertionError):
    """A numerical claim of the book does not hold."""


@dataclass(frozen=True)
class Claim:
    """One checked claim, as printed by :func:`check` / :func:`check_bound` and parsed back."""

    label: str
    kind: str
    statement: str
    measure: str  # e.g. "rel. error 1.1e-02" or "value 0.7310"
    tolerance: str  # e.g. "tol 3.0e-02" or "bound > 0"
    passed: bool
    margin: float | None = None  # fraction in [0, 1] when passed; None when not defined
    seeds: int | None = None  # for experiments: how many seeds the value aggregates
    stochastic: bool = False  # True when the claim can be re-run on fresh seeds (robustness run)

    def lines(self) -> list[str]:
        """The lines printed for this claim: the verdict (one line, or two when long), then the statement."""
        mark = PASS_MARK if self.passed else FAIL_MARK
        head = f"{mark} {self.label}{DOT}{self.kind}"
        if self.seeds is not None:
            head += f" over {self.seeds} seed{'s' if self.seeds != 1 else ''}"
        verdict = f"{self.measure} ({self.tolerance})"
        if self.margin is not None:
            verdict += f"{DOT}margin {math.floor(100 * self.margin):d}%"
        top = [head + DOT + verdict] if len(head + DOT + verdict) <= WIDTH else [head, INDENT + verdict]
        body = textwrap.wrap(self.statement, WRAP, break_long_words=False, break_on_hyphens=False)
        return [*top, *(INDENT + part for part in body)]


def format_error(err: float) -> str:
    """Format a non-negative error with two significant digits, floored at ``ERROR_FLOOR``."""
    if not math.isfinite(err):
        return str(err)
    if err < ERROR_FLOOR:
        return f"< {ERROR_FLOOR:.0e}"
    return f"{err:.1e}"


def _validate_common(label: object, statement: object, kind: object, seeds: object, rerun: object) -> None:
    if not isinstance(label, str) or not _LABEL_RE.match(label) or len(label) > _MAX_LABEL:
        raise ValueError(
            f"label must be a lowercase 'chapter-name' string of at most {_MAX_LABEL} characters"
            f" such as 'mad-cov', got {label!r}"
        )
    if not isinstance(statement, str) or not statement.strip():
        raise ValueError("statement must be a non-empty string saying what is claimed")
    if len(statement.strip().splitlines()) != 1 or "\t" in statement:
        raise ValueError("statement must be one line")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    if seeds is not None and (isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1):
        raise ValueError(f"seeds must be a positive int or None, got {seeds!r}")
    if kind == "experiment" and seeds is None:
        raise ValueError("seeds: an experiment must say over how many seeds its value is measured")
    if rerun is not None and not callable(rerun):
        raise TypeError(f"rerun must be a function of a seed, got {type(rerun).__name__}")


def _normalise(statement: str) -> str:
    """The statement as printed: stripped, runs of spaces made one (so that wrapping round-trips)."""
    return re.sub(" +", " ", statement.strip())


def _as_float_array(name: str, value: ArrayLike) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a number or an array of numbers") from exc
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    return arr


# --- the two checks ---------------------------------------------------------------------------


def _tolerance_text(rtol: float, atol: float) -> str:
    if atol == 0:
        return f"tol {rtol:.1e}"
    if rtol == 0:
        return f"tol {atol:.1e}"
    return f"tol {atol:.1e} + {rtol:.1e}·|expected|"


def _evaluate_check(
    actual: ArrayLike, expected: ArrayLike, rtol: float, atol: float
) -> tuple[str, bool, float]:
    """Return (measure, passed, margin) of ``|actual − expected| ≤ atol + rtol·|expected|``."""
    e = _as_float_array("expected", expected)
    try:
        a = np.asarray(actual, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError("actual must be a number or an array of numbers") from exc
    try:
        if a.size == 0:
            raise ValueError("empty")
        a, e = np.broadcast_arrays(a, e)
    except ValueError:
        # A result of the wrong shape (e.g. an empty list of classes) is a failed claim, not a usage error.
        return f"shape {a.shape} ≠ expected {e.shape}", False, math.nan
    diff = np.abs(a - e)
    finite = bool(np.all(np.isfinite(a)) and np.all(np.isfinite(e)))
    if not finite:
        return "non-finite value", False, math.nan
    if atol == 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(diff == 0, 0.0, diff / np.abs(e))
        err, tol, name = float(np.max(rel)), rtol, "rel. error"
    elif rtol == 0:
        err, tol, name = float(np.max(diff)), atol, "abs. error"
    else:
        err, tol, name = float(np.max(diff / (atol + rtol * np.abs(e)))), 1.0, "error/tolerance"
    passed = bool(err <= tol)
    if passed and bool(np.all(diff <= ERROR_FLOOR * np.maximum(np.abs(e), 1.0))):
        return ROUNDING_LEVEL, True, 1.0
    printed = format_error(err)
    shown = ERROR_FLOOR if printed.startswith("<") else float(printed)
    return f"{name} {printed}", passed, float(1.0 - shown / tol)


def _evaluate_bound(
    value: Any, lower: float | None, upper: float | None, digits: int
) -> tuple[str, bool, float]:
    arr = _as_float_array("value", value)
    if arr.size != 1:
        raise ValueError(f"value must be a scalar, got shape {arr.shape}")
    v = float(arr.reshape(()))
    passed = bool(not math.isnan(v) and (lower is None or v > lower) and (upper is None or v < upper))
    shown = float(f"{v:.{digits}g}") if math.isfinite(v) else v
    if not math.isfinite(shown):
        margin = math.nan
    elif lower is not None and upper is not None:
        margin = min(shown - lower, upper - shown) / ((upper - lower) / 2)
    else:
        bound = lower if lower is not None else upper
        assert bound is not None
        gap = shown - bound if lower is not None else bound - shown
        scale = max(abs(shown), abs(bound))
        margin = gap / scale if scale > 0 else 0.0
    return f"value {v:.{digits}g}", passed, float(margin)


def check(
    label: str,
    actual: ArrayLike,
    expected: ArrayLike,
    *,
    kind: str,
    statement: str,
    rtol: float = 0.0,
    atol: float = 0.0,
    seeds: int | None = None,
    rerun: Callable[[int], tuple[ArrayLike, ArrayLike]] | None = None,
) -> None:
    """Assert that ``actual`` equals ``expected`` elementwise within tolerance, and print the claim.

    The claim holds when ``|actual − expected| ≤ atol + rtol·|expected|`` for every element
    (the rule of :func:`numpy.isclose`); NaN anywhere fails it. With only ``rtol`` the printed
    measure is the maximum relative error, with only ``atol`` the maximum absolute error, with
    both the maximum of ``|actual − expected| / (atol + rtol·|expected|)`` (which must be ≤ 1).
    ``kind`` is one of :data:`KINDS`; ``seeds`` says over how many seeds an experiment's value is
    measured; ``rerun(seed)`` returns a fresh ``(actual, expected)`` for the robustness run.
    Raises :class:`ClaimError` when the claim fails.
    """
    _validate_common(label, statement, kind, seeds, rerun)
    statement = _normalise(statement)
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not math.isfinite(tol) or tol < 0:
            raise ValueError(f"{name} must be a finite number ≥ 0, got {tol!r}")
    if rtol == 0 and atol == 0:
        raise ValueError("give a tolerance: rtol > 0 or atol > 0")
    measure, passed, margin = _evaluate_check(actual, expected, rtol, atol)
    claim = Claim(
        label,
        kind,
        statement.strip(),
        measure,
        _tolerance_text(rtol, atol),
        passed,
        max(margin, 0.0) if passed else None,  # rounding the printed value can cross the bound
        seeds,
        rerun is not None,
    )
    _report(claim, rerun and (lambda s: _evaluate_check(*_pair(rerun(s)), rtol, atol)))


def check_bound(
    label: str,
    value: float,
    *,
    kind: str,
    statement: str,
    lower: float | None = None,
    upper: float | None = None,
    digits: int = 4,
    seeds: int | None = None,
    rerun: Callable[[int], float] | None = None,
) -> None:
    """Assert that ``lower < value < upper`` (strict; give at least one bound), and print the claim.

    Use it for inequalities and measured findings (a kurtosis is positive, a ratio is at most 1,
    a fitted exponent lies in a band). ``value`` is printed with ``digits`` significant digits.
    ``kind``, ``seeds`` and ``rerun`` are as for :func:`check`; ``rerun(seed)`` returns a fresh value.
    Raises :class:`ClaimError` when the bound fails or ``value`` is NaN.
    """
    _validate_common(label, statement, kind, seeds, rerun)
    statement = _normalise(statement)
    if lower is None and upper is None:
        raise ValueError("give lower, upper or both")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 12:
        raise ValueError(f"digits must be an int in [1, 12], got {digits!r}")
    for name, bound in (("lower", lower), ("upper", upper)):
        if bound is not None and (
            isinstance(bound, bool) or not isinstance(bound, (int, float)) or not math.isfinite(bound)
        ):
            raise ValueError(f"{name} must be a finite number or None, got {bound!r}")
    if lower is not None and upper is not None and not lower < upper:
        raise ValueError(f"lower ({lower}) must be below upper ({upper})")
    measure, passed, margin = _evaluate_bound(value, lower, upper, digits)
    parts = [f"> {lower:.{digits}g}"] if lower is not None else []
    parts += [f"< {upper:.{digits}g}"] if upper is not None else []
    claim = Claim(
        label,
        kind,
        statement.strip(),
        measure,
        "bound " + " and ".join(parts),
        passed,
        max(margin, 0.0) if passed else None,  # rounding the printed value can cross the bound
        seeds,
        rerun is not None,
    )
    _report(claim, rerun and (lambda s: _evaluate_bound(rerun(s), lower, upper, digits)))


def _pair(result: Any) -> tuple[Any, Any]:
    if not (isinstance(result, tuple) and len(result) == 2):
        raise TypeError("rerun of a check must return the pair (actual, expected)")
    return result


def _report(claim: Claim, evaluate: Callable[[int], tuple[str, bool, float]] | None) -> None:
    print("\n".join(claim.lines()))
    if not claim.passed:
        raise ClaimError(
            f"claim {claim.label!r} failed: {claim.statement} — {claim.measure} ({claim.tolerance})"
        )
    out = os.environ.get(ROBUSTNESS_ENV)
    if out:
        _record_robustness(out, claim, evaluate)


# --- the robustness run -----------------------------------------------------------------------


def _record_robustness(
    path: str, claim: Claim, evaluate: Callable[[int], tuple[str, bool, float]] | None
) -> None:
    """Re-evaluate a stochastic claim on every robustness seed and append one JSON line to ``path``."""
    record: dict[str, Any] = {"label": claim.label, "kind": claim.kind, "stochastic": evaluate is not None}
    if evaluate is not None:
        start = time.perf_counter()
        runs = []
        for seed in ROBUSTNESS_SEEDS:
            try:
                measure, passed, margin = evaluate(seed)
                runs.append({"seed": seed, "passed": passed, "measure": measure, "margin": margin})
            except Exception as exc:  # a crash on a fresh seed is a failed re-run, reported, not raised
                runs.append({"seed": seed, "passed": False, "measure": f"{type(exc).__name__}: {exc}"[:200]})
        record["runs"] = runs
        record["seconds"] = round(time.perf_counter() - start, 2)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, allow_nan=True) + "\n")


# --- parsing the printed lines back -----------------------------------------------------------


def parse_claims(text: str) -> Iterator[Claim]:
    """Yield every :class:`Claim` printed in ``text`` (header line plus its indented statement)."""
    if not isinstance(text, str):
        raise TypeError("text must be a str")
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = _HEADER_RE.match(lines[i].rstrip())
        i += 1
        if m is None:
            continue
        verdict: re.Match[str] | None = m
        if m["measure"] is None:
            verdict = _VERDICT_RE.match(lines[i].strip()) if i < len(lines) else None
            if verdict is None:
                continue
            i += 1
        assert verdict is not None
        body = []
        while i < len(lines) and lines[i].startswith(INDENT) and lines[i].strip():
            body.append(lines[i].strip())
            i += 1
        yield Claim(
            label=m["label"],
            kind=m["kind"],
            statement=" ".join(body),
            measure=verdict["measure"],
            tolerance=verdict["tol"],
            passed=m["mark"] == PASS_MARK,
            margin=int(verdict["margin"]) / 100 if verdict["margin"] is not None else None,
            seeds=int(m["seeds"]) if m["seeds"] is not None else None,
        )
