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
    if status == NOT_YET:
        assert verdict.line().endswith("Hint: use +")
    else:  # a blank exercise says only that, and no hint before an attempt
        assert verdict.line() == "⏳ Exercise 99.1 · add two numbers: not attempted yet."


def test_not_implemented_means_not_attempted():
    def add(a, b):
        raise NotImplementedError

    verdict = check_add.evaluate(add)
    assert verdict.status == NOT_ATTEMPTED
    assert "NotImplementedError" in verdict.message and "Hint" not in verdict.line()


@exercise("99.4", "staged", hint=("a nudge", "more specific", "most specific"))
def check_staged(value):
    require_attempted(value, "value")
    expect_equal(value, 7, "value")


def test_hints_are_staged_one_level_per_failed_run_and_per_request(capsys):
    from coursekit.checks import _HINT_LEVEL, hint

    _HINT_LEVEL.pop("99.4", None)
    check_staged(None)  # not attempted: no hint, and the ladder does not move
    check_staged(1)
    check_staged(2)
    hint("99.4")
    hint("99.4")  # already at the top: the last hint again, never more
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "⏳ Exercise 99.4 · staged: not attempted yet."
    assert lines[1].endswith("`value` is 1, expected 7. Hint 1 of 3: a nudge")
    assert lines[2].endswith("Hint 2 of 3: more specific")
    assert "Hint 3 of 3: most specific" in lines[3] and "last hint" in lines[3]
    assert "Hint 3 of 3" in lines[4]
    assert check_staged.evaluate(3).hint == "Hint 1 of 3: a nudge"  # evaluate never climbs
    check_staged(7)
    assert capsys.readouterr().out.startswith("✅")
    hint("98.7")
    assert "There is no exercise '98.7'" in capsys.readouterr().out


def test_no_hint_of_a_course_exercise_gives_its_solution_away():
    """Every line of every reference solution (of some length) is absent from its hints."""
    import re

    import nbformat

    from coursekit import learner
    from coursekit.checks import REGISTRY
    from coursekit.grading.engine import build_plan, exercise_code

    def squash(text):
        return re.sub(r"\s+", "", text)

    checked = 0
    for path in learner.solution_notebooks():
        ref = nbformat.read(path, as_version=4)
        for ex, code in exercise_code(build_plan(ref, ref), ref).items():
            hints = squash(" ".join(REGISTRY[ex].hints))
            assert len(REGISTRY[ex].hints) >= 2, f"{ex}: one hint only; stage them"
            for line in code.splitlines():
                line = squash(line)
                if len(line) >= 12 and not line.startswith("#"):
                    assert line not in hints, f"{ex}: a hint contains the solution line {line!r}"
            checked += 1
    assert checked >= 30


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


# ----------------------------------------------------------------- your own work


def test_call_own_catches_the_reference_however_it_is_reached():
    """Module attribute, imported name, captured name, or the reference itself: all caught;
    the learner's own code passes, and the references are restored afterwards."""
    import coursekit.tokenization as tk
    from coursekit.checks import UsedReference, call_own
    from coursekit.tokenization import merge_pair

    forbid = ["coursekit.tokenization.merge_pair"]
    words = {("a", "b"): 2}

    def via_module(w):
        return tk.merge_pair(w, ("a", "b"))

    def via_import(w):
        return merge_pair(w, ("a", "b"))

    captured = merge_pair

    def via_closure(w):
        return captured(w, ("a", "b"))

    for cheat in (via_module, via_import, via_closure, merge_pair):
        with pytest.raises(UsedReference, match="merge_pair"):
            call_own(cheat, words, ("a", "b"), forbid=forbid) if cheat is merge_pair else call_own(
                cheat, words, forbid=forbid
            )
    assert call_own(lambda w: {("ab",): 2}, words, forbid=forbid) == {("ab",): 2}
    assert tk.merge_pair is merge_pair and captured is merge_pair


def test_call_own_catches_a_forbidden_class_and_library_function():
    from coursekit.checks import UsedReference, call_own

    class Mine(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = torch.nn.MultiheadAttention(8, 2)

    with pytest.raises(UsedReference, match="MultiheadAttention"):
        call_own(Mine, forbid=["torch.nn.MultiheadAttention"])
    q = torch.randn(1, 2, 3)
    with pytest.raises(UsedReference, match="scaled_dot_product_attention"):
        call_own(
            lambda x: torch.nn.functional.scaled_dot_product_attention(x, x, x),
            q,
            forbid=["torch.nn.functional.scaled_dot_product_attention"],
        )
    assert call_own(lambda x: x.softmax(-1), q, forbid=["torch.nn.MultiheadAttention"]).shape == (
        1,
        2,
        3,
    )


def test_own_or_reference_follows_the_latest_verdict(capsys):
    from coursekit.checks import own_or_reference, passed

    def mine(a, b):
        return a + b

    check_add(None)  # not attempted
    assert not passed("99.1")
    assert own_or_reference(mine, sum, "99.1", "adder") is sum
    assert "not passed yet" in capsys.readouterr().out.splitlines()[-1]
    check_add(mine)
    assert passed("99.1")
    assert own_or_reference(mine, sum, "99.1", "adder") is mine
    assert "Using your adder" in capsys.readouterr().out.splitlines()[-1]
    check_add(lambda a, b: a - b)  # a later wrong attempt: back to the reference
    assert own_or_reference(mine, sum, "99.1", "adder") is sum
