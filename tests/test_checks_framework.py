"""The verdict machinery every exercise check is built on."""

import numpy as np
import pytest
import torch

from coursekit.checks import (
    NOT_ATTEMPTED,
    NOT_YET,
    PASSED,
    call,
    exercise,
    expect_close,
    expect_equal,
    expect_shape,
    expect_type,
    require_attempted,
)


@exercise("99.1", "add two numbers", hint="use +")
def check_add(fn):
    expect_equal(call(fn, 2, 3), 5, "add(2, 3)")


@exercise("99.2", "a probability vector", hint="softmax")
def check_probs(probs):
    require_attempted(probs, "probs")
    expect_shape(probs, (3,), "probs")
    expect_close(probs, np.array([0.2, 0.3, 0.5]), "probs", atol=1e-6)


def test_passes_on_the_right_answer(capsys):
    check_add(lambda a, b: a + b)
    assert capsys.readouterr().out == "✅ Exercise 99.1 · add two numbers: passed.\n"


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (None, NOT_ATTEMPTED, "still None"),
        (..., NOT_ATTEMPTED, "still Ellipsis"),
        (lambda a, b: a * b, NOT_YET, "is 6, expected 5"),
        (lambda a, b: 1 / 0, NOT_YET, "raised ZeroDivisionError"),
        (42, NOT_YET, "should be a function"),
    ],
)
def test_fails_with_a_specific_message(answer, status, fragment):
    verdict = check_add.evaluate(answer)
    assert verdict.status == status
    assert fragment in verdict.message
    assert "Hint: use +" in verdict.line()


def test_not_implemented_means_not_attempted():
    def add(a, b):
        raise NotImplementedError

    verdict = check_add.evaluate(add)
    assert verdict.status == NOT_ATTEMPTED
    assert "NotImplementedError" in verdict.line()


def test_prints_exactly_one_line_and_never_raises(capsys):
    check_probs("not an array")
    check_probs(torch.tensor([0.2, 0.3]))
    check_probs(torch.tensor([0.2, 0.3, 0.6]))
    check_probs(np.array([0.2, 0.3, 0.5]))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert "should be a tensor or array" in lines[0]
    assert "has shape (2,), expected (3,)" in lines[1]
    assert "off by up to 0.1" in lines[2] and "index (2,)" in lines[2]
    assert lines[3].startswith("✅")


def test_a_broken_checker_still_gives_a_verdict():
    @exercise("99.3", "broken", hint="h")
    def broken(x):
        return {}[x]  # KeyError inside the checker itself

    verdict = broken.evaluate("missing")
    assert verdict.status == NOT_YET
    assert "checker could not use your answer" in verdict.message


def test_expect_helpers():
    expect_type(3, int, "n")
    with pytest.raises(Exception, match="should be a str"):
        expect_type(3, str, "n")
    expect_close(1.0000001, 1.0, "x")
    with pytest.raises(Exception, match="expected about 2"):
        expect_close(1.0, 2.0, "x")
    with pytest.raises(Exception, match="NaN"):
        expect_close(np.array([np.nan]), np.array([1.0]), "x")
    assert check_add.evaluate(lambda a, b: a + b).status == PASSED


def test_expect_number_map_accepts_dicts_and_series_and_rejects_the_rest():
    import pandas as pd

    from coursekit.checks import CheckFailed, expect_number_map

    assert expect_number_map({"pos": 1, "neg": "0.5"}, "x") == {"pos": 1.0, "neg": 0.5}
    assert expect_number_map(pd.Series({"pos": 2}), "x") == {"pos": 2.0}
    for bad, words in [([1, 2], "dict"), ({"pos": "many"}, "number")]:
        with pytest.raises(CheckFailed, match=words):
            expect_number_map(bad, "x")
