"""Tests of the claims helper every chapter uses to assert its derivation."""

import json
import math

import numpy as np
import pytest

from kexue_utils.claims import (
    ROBUSTNESS_ENV,
    ROBUSTNESS_SEEDS,
    ROUNDING_LEVEL,
    WIDTH,
    ClaimError,
    check,
    check_bound,
    format_error,
    parse_claims,
)


def _one(text: str):
    claims = list(parse_claims(text))
    assert len(claims) == 1, text
    return claims[0]


def test_check_passes_and_prints_a_parseable_claim(capsys):
    result = check(
        "demo-cov", [1.01, 2.0], [1.0, 2.0], kind="independent", rtol=0.03, statement="two sides agree"
    )
    out = capsys.readouterr().out
    assert (
        out
        == "✓ demo-cov · independent · rel. error 1.0e-02 (tol 3.0e-02) · margin 66%\n    two sides agree\n"
    )
    assert result is None  # nothing for a notebook to echo as Out[...]
    claim = _one(out)
    assert claim.passed and claim.label == "demo-cov" and claim.kind == "independent"
    assert claim.statement == "two sides agree" and claim.margin == 0.66 and claim.seeds is None


@pytest.mark.parametrize(
    ("actual", "expected", "kwargs"),
    [
        (1.1, 1.0, {"rtol": 0.05}),  # 10 % off, 5 % allowed
        ([1.0, 2.5], [1.0, 2.0], {"atol": 0.1}),
        (np.nan, 1.0, {"rtol": 1.0}),  # NaN never passes
        (1.0, np.inf, {"rtol": 1.0}),
        (3.0, 1.0, {"atol": 0.5, "rtol": 0.5}),  # |3-1| = 2 > 0.5 + 0.5
        ([], [5.0], {"atol": 0.5}),  # an empty result is a failed claim, not a crash
        ([1.0, 2.0, 3.0], [1.0, 2.0], {"atol": 0.5}),  # shapes that do not broadcast
    ],
)
def test_check_fails_loudly_and_prints_a_cross(actual, expected, kwargs, capsys):
    with pytest.raises(ClaimError, match="demo-fail"):
        check("demo-fail", actual, expected, kind="identity", statement="must fail", **kwargs)
    out = capsys.readouterr().out
    assert out.startswith("✗ demo-fail")
    claim = _one(out)
    assert not claim.passed and claim.margin is None


def test_check_is_elementwise_not_on_average():
    with pytest.raises(ClaimError):
        check(
            "demo-elem", [1, 1, 1, 2], [1, 1, 1, 1], kind="identity", rtol=0.3, statement="one element is off"
        )


def test_check_with_both_tolerances_reports_the_ratio(capsys):
    check(
        "demo-both", 1.05, 1.0, kind="identity", rtol=0.05, atol=0.05, statement="within combined tolerance"
    )
    out = capsys.readouterr().out
    assert "error/tolerance 5.0e-01" in out and "margin 50%" in out


def test_exact_agreement_prints_the_floor(capsys):
    check("demo-exact", 0.1 + 0.2, 0.3, kind="identity", rtol=1e-12, statement="rounding-level agreement")
    check("demo-large", 1e6 + 1e-7, 1e6, kind="identity", atol=1e-3, statement="rounding level, relative")
    check("demo-ratio", 1.0 + 3e-16, 1.0, kind="identity", atol=1e-14, rtol=1e-10, statement="both")
    claims = list(parse_claims(capsys.readouterr().out))
    assert len(claims) == 3
    assert all(c.measure == ROUNDING_LEVEL and c.margin == 1.0 for c in claims)


def test_small_but_not_rounding_level_errors_are_printed(capsys):
    check("demo-small", 1.0 + 5e-10, 1.0, kind="identity", rtol=1e-9, statement="above the rounding floor")
    assert "rel. error 5.0e-10" in capsys.readouterr().out


def test_check_bound_and_its_margins(capsys):
    check_bound("demo-pos", 0.7312, kind="demonstration", lower=0.0, statement="positive")
    check_bound("demo-band", 0.5, kind="identity", lower=0.4, upper=0.6, statement="in a band", digits=2)
    check_bound("demo-exp", -6.0, kind="experiment", seeds=10, upper=-4.0, statement="a t-statistic")
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "✓ demo-pos · demonstration · value 0.7312 (bound > 0) · margin 100%",
        "    positive",
        "✓ demo-band · identity · value 0.5 (bound > 0.4 and < 0.6) · margin 100%",
        "    in a band",
        "✓ demo-exp · experiment over 10 seeds · value -6 (bound < -4) · margin 33%",
        "    a t-statistic",
    ]
    assert [c.margin for c in parse_claims(out)] == [1.0, 1.0, 0.33]
    assert [c.seeds for c in parse_claims(out)] == [None, None, 10]
    with pytest.raises(ClaimError):
        check_bound("demo-neg", -1e-9, kind="identity", lower=0.0, statement="strictly positive")
    with pytest.raises(ClaimError):
        check_bound("demo-nan", math.nan, kind="identity", upper=1.0, statement="NaN is not below anything")


def test_margin_is_computed_from_the_printed_value(capsys):
    """Digits beyond the printed ones cannot move the margin: it is as reproducible as the line."""
    check_bound("demo-m", 1.2000000001, kind="identity", lower=1.0, statement="s", digits=3)
    check_bound("demo-n", 1.1999999999, kind="identity", lower=1.0, statement="s", digits=3)
    assert [c.margin for c in parse_claims(capsys.readouterr().out)] == [0.16, 0.16]


def test_long_lines_are_wrapped_and_parse_back(capsys):
    statement = "a long statement " * 12
    check(
        "demo-wrapped-label-of-some-len",
        1.0,
        1.02,
        kind="independent",
        rtol=1e-2,
        atol=1e-2,
        statement=statement,
    )
    out = capsys.readouterr().out
    assert max(map(len, out.splitlines())) <= WIDTH
    claim = _one(out + "an ordinary line after it\n")
    assert claim.statement == statement.strip() and claim.measure.startswith("error/tolerance")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"label": "NoPrefix"}, ValueError, "label"),
        ({"label": "nodash"}, ValueError, "label"),
        ({"label": "a-" + "x" * 40}, ValueError, "label"),
        ({"label": 3}, ValueError, "label"),
        ({"statement": ""}, ValueError, "statement"),
        ({"statement": "two\rlines"}, ValueError, "statement"),
        ({"statement": "two\u2028lines"}, ValueError, "statement"),
        ({"rtol": -1.0}, ValueError, "rtol"),
        ({"atol": math.nan}, ValueError, "atol"),
        ({"rtol": 0.0, "atol": 0.0}, ValueError, "tolerance"),
        ({"expected": []}, ValueError, "expected"),
        ({"kind": "proof"}, ValueError, "kind"),
        ({"kind": "experiment"}, ValueError, "seeds"),
        ({"kind": "experiment", "seeds": 0}, ValueError, "seeds"),
        ({"kind": "experiment", "seeds": True}, ValueError, "seeds"),
        ({"rerun": 3}, TypeError, "rerun"),
    ],
)
def test_check_rejects_bad_arguments(kwargs, error, match):
    args = {
        "label": "demo-x",
        "actual": [1.0, 2.0],
        "expected": [1.0, 2.0],
        "kind": "identity",
        "statement": "s",
        "rtol": 0.1,
    }
    args.update(kwargs)
    with pytest.raises(error, match=match):
        check(args.pop("label"), args.pop("actual"), args.pop("expected"), **args)


def test_check_rejects_non_numeric():
    with pytest.raises(TypeError, match="actual"):
        check("demo-x", "abc", 1.0, kind="identity", rtol=0.1, statement="s")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "lower, upper"),
        ({"lower": 1.0, "upper": 0.0}, "lower"),
        ({"lower": math.nan}, "lower"),
        ({"upper": math.inf}, "upper"),
        ({"lower": 0.0, "digits": 0}, "digits"),
        ({"lower": 0.0, "value": [1.0, 2.0]}, "scalar"),
    ],
)
def test_check_bound_rejects_bad_arguments(kwargs, match):
    value = kwargs.pop("value", 1.0)
    with pytest.raises(ValueError, match=match):
        check_bound("demo-x", value, kind="identity", statement="s", **kwargs)


def test_format_error_and_parse_edge_cases():
    assert format_error(0.0) == "< 1e-11"
    assert format_error(0.01234) == "1.2e-02"
    assert format_error(math.inf) == "inf"
    assert list(parse_claims("just some output")) == []
    assert list(parse_claims("✓ notalabel output")) == []
    with pytest.raises(TypeError):
        list(parse_claims(None))  # type: ignore[arg-type]


def test_robustness_mode_reruns_stochastic_claims_on_fresh_seeds(tmp_path, monkeypatch, capsys):
    out = tmp_path / "claims.jsonl"
    monkeypatch.setenv(ROBUSTNESS_ENV, str(out))
    seen = []

    def draw_mean(seed: int) -> float:
        seen.append(seed)
        return float(np.random.default_rng(seed).normal(size=400).mean())

    check_bound(
        "demo-mc",
        draw_mean(0),
        kind="independent",
        lower=np.float64(-0.2),
        upper=0.2,
        statement="mean",
        rerun=draw_mean,
    )
    check("demo-pair", 1.0, 1.0, kind="identity", rtol=0.1, statement="pair", rerun=lambda s: (s % 2, 0.5))
    check("demo-det", 1.0, 1.0, kind="identity", rtol=0.1, statement="deterministic")
    printed = capsys.readouterr().out
    assert "demo-mc" in printed and "fresh" not in printed  # the notebook's own lines do not change
    assert seen == [0, *ROBUSTNESS_SEEDS]
    mc, pair, det = (json.loads(line) for line in out.read_text().splitlines())
    assert mc["stochastic"] and [r["seed"] for r in mc["runs"]] == list(ROBUSTNESS_SEEDS)
    assert all(r["passed"] for r in mc["runs"])
    assert [r["passed"] for r in pair["runs"]] == [False] * 10  # |0 or 1 − 0.5| = 0.5 > 0.05
    assert det == {"label": "demo-det", "kind": "identity", "stochastic": False}


def test_a_crash_on_a_fresh_seed_is_a_failed_rerun(tmp_path, monkeypatch, capsys):
    out = tmp_path / "claims.jsonl"
    monkeypatch.setenv(ROBUSTNESS_ENV, str(out))

    def fragile(seed: int) -> float:
        raise np.linalg.LinAlgError("singular")

    check_bound("demo-crash", 1.0, kind="independent", lower=0.0, statement="s", rerun=fragile)
    record = json.loads(out.read_text())
    assert not any(r["passed"] for r in record["runs"]) and "LinAlgError" in record["runs"][0]["measure"]


def test_no_rerun_happens_outside_the_robustness_run(monkeypatch, capsys):
    monkeypatch.delenv(ROBUSTNESS_ENV, raising=False)
    calls = []
    check_bound("demo-lazy", 1.0, kind="independent", lower=0.0, statement="s", rerun=calls.append)
    assert calls == []


def test_a_value_rounded_across_its_bound_still_parses_with_margin_zero(capsys):
    """75386 < 75387 holds, but printed with 4 digits it reads 7.539e+04: the margin is 0, not negative."""
    check_bound("demo-edge", 75386.0, kind="identity", lower=0.0, upper=75387.0, statement="inside, barely")
    assert _one(capsys.readouterr().out).margin == 0.0
