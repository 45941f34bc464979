"""coursekit.report: claims printed the same on every machine, and the nbval sanitizer."""

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from nbval.plugin import get_sanitize_patterns

from coursekit import report

SANITIZE = Path(__file__).resolve().parent.parent / "notebooks" / "sanitize.cfg"


def test_within_prints_value_range_and_a_check_mark():
    claim = report.within(0.9163, 0.89, 0.94)
    assert str(claim) == "0.916 (expected 0.890–0.940 ✓)"
    assert f"test macro-F1 {claim}" == "test macro-F1 0.916 (expected 0.890–0.940 ✓)"
    assert bool(claim) and claim.ok
    assert str(report.within(0.5, 0.5, 0.5, fmt=".2f")) == "0.50 (expected 0.50–0.50 ✓)"


def test_at_least_and_at_most():
    assert str(report.at_least(0.947, 0.90, fmt=".2f")) == "0.95 (≥ 0.90 ✓)"
    assert str(report.at_most(0.031, 0.05)) == "0.031 (≤ 0.050 ✓)"
    assert str(report.at_least(0.9, 0.9)).endswith("✓)"), "the bound itself passes"
    assert not report.at_most(0.06, 0.05)


def test_outside_the_range_prints_a_cross_and_the_fix():
    for claim in (
        report.within(0.85, 0.89, 0.94),
        report.within(0.95, 0.89, 0.94),
        report.at_least(0.8, 0.9),
        report.at_most(0.2, 0.1),
        report.within(float("nan"), 0.0, 1.0),
    ):
        text = str(claim)
        assert not claim and "✗ outside the stated range" in text and "✓" not in text
        assert "coursekit prepare" in text
    assert str(report.within(0.85, 0.89, 0.94)).startswith("0.850 (expected 0.890–0.940 ✗")


def test_counts_and_percents():
    assert str(report.within(1234, 1000, 1500, fmt=",d")) == "1,234 (expected 1,000–1,500 ✓)"
    assert str(report.at_least(1234.4, 1000, fmt=",d")) == "1,234 (≥ 1,000 ✓)"
    assert str(report.within(np.int64(12), 10, 14, fmt="d")) == "12 (expected 10–14 ✓)"
    assert str(report.at_least(0.916, 0.9, fmt=".1%")) == "91.6% (≥ 90.0% ✓)"
    assert f"{report.at_most(3, 5, fmt='d'):>12}" == "3 (≤ 5 ✓)".rjust(12)


def test_numpy_and_torch_values_are_accepted():
    assert str(report.within(np.float32(0.5), 0, 1, fmt=".1f")) == "0.5 (expected 0.0–1.0 ✓)"
    assert str(report.within(torch.tensor(0.25), 0, 1, fmt=".2f")) == "0.25 (expected 0.00–1.00 ✓)"


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match="lo=0.9 is above hi=0.8; swap them"):
        report.within(0.85, 0.9, 0.8)
    with pytest.raises(TypeError, match="value must be a number, not str"):
        report.within("high", 0, 1)
    with pytest.raises(TypeError, match="threshold must be a number, not NoneType"):
        report.at_least(0.5, None)
    with pytest.raises(TypeError, match="hi must be a number, not list"):
        report.within(0.5, 0, [1])


def test_close_says_identical_instead_of_float_noise():
    assert str(report.close(1.0000004, 1.0)) == "identical (difference < 1e-05 ✓)"
    assert report.close(1.0000004, 1.0)
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert str(report.close(a, a.numpy() + 8.8e-7)) == "identical (difference < 1e-05 ✓)"
    far = report.close([1.0, 2.0], [1.0, 2.5], tol=1e-3)
    assert not far and str(far) == "different: difference 5.00e-01 ≥ 1e-03 ✗"
    assert str(report.close([], [])) == "identical (difference < 1e-05 ✓)"
    with pytest.raises(ValueError, match=r"shapes differ, \(2,\) vs \(3,\)"):
        report.close([1, 2], [1, 2, 3])


def test_takeaway_is_markdown_and_plain_text():
    t = report.takeaway(f"The classifier reaches {report.at_least(0.93, 0.9, fmt='.2f')}.")
    assert t._repr_markdown_() == "The classifier reaches 0.93 (≥ 0.90 ✓)."
    assert repr(t) == t._repr_markdown_()


def _sanitize(text: str) -> str:
    patterns = get_sanitize_patterns(SANITIZE.read_text(encoding="utf-8"))
    assert patterns, "sanitize.cfg parses"
    for regex, replace in patterns:
        text = re.sub(regex, replace, text)
    return text


@pytest.mark.parametrize(
    "claim",
    [
        report.within(0.9163, 0.89, 0.94),
        report.within(-0.12, -0.2, 0.0),
        report.at_least(0.947, 0.90, fmt=".2f"),
        report.at_most(0.031, 0.05),
        report.within(1234, 1000, 1500, fmt=",d"),
        report.at_least(0.916, 0.9, fmt=".1%"),
        report.within(0.012, -0.15, 0.03, fmt="+.3f"),
        report.within(-0.012, -0.15, 0.03, fmt="+.3f"),
    ],
    ids=str,
)
def test_sanitizer_masks_the_value_of_a_passing_claim(claim):
    line = f"test macro-F1 {claim}"
    masked = _sanitize(line)
    assert masked == line.replace(claim._show(claim.value), "<claimed>", 1)
    assert masked.startswith("test macro-F1 <claimed> (")


def test_two_machines_with_different_values_agree_after_sanitizing():
    here = f"F1 {report.within(0.9163, 0.89, 0.94)}, n {report.within(1234, 1000, 1500, fmt=',d')}"
    there = f"F1 {report.within(0.9021, 0.89, 0.94)}, n {report.within(1302, 1000, 1500, fmt=',d')}"
    assert here != there and _sanitize(here) == _sanitize(there)


def test_a_signed_value_masks_alike_on_either_side_of_zero():
    plus = f"lead {report.within(0.012, -0.15, 0.03, fmt='+.3f')}"
    minus = f"lead {report.within(-0.012, -0.15, 0.03, fmt='+.3f')}"
    assert plus != minus and _sanitize(plus) == _sanitize(minus)


def test_sanitizer_leaves_a_failing_claim_unmasked():
    line = f"test macro-F1 {report.within(0.85, 0.89, 0.94)}"
    assert _sanitize(line).startswith("test macro-F1 0.850 (expected 0.890–0.940 ✗")
    assert _sanitize(f"{report.at_least(0.8, 0.9)}").startswith("0.800 (≥ 0.900 ✗")
    passing = _sanitize(f"{report.within(0.9, 0.89, 0.94)}")
    failing = _sanitize(f"{report.within(0.95, 0.89, 0.94)}")
    assert passing != failing, "nbval sees a regression"


def test_sanitizer_leaves_ordinary_numbers_alone():
    for text in ("accuracy 0.916", "0.916 (expected by the shop)", "12 (≥ 10 in the table)"):
        assert _sanitize(text) == text
