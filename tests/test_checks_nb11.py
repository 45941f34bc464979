"""Every exercise check of notebook 11 passes the reference, and names each plausible mistake.

The reference solutions are the solution notebook's own cells, executed here; a blank answer
is "not attempted" with no hint; calling coursekit's version is caught.
"""

from __future__ import annotations

import re

import pytest
import torch
from check_helpers import COMMON, assert_verdict, blank

from coursekit import assistant as ka
from coursekit import paths
from coursekit.checks import NOT_ATTEMPTED, NOT_YET, PASSED, nb11

NOTEBOOK = paths.notebooks_dir() / "11_shop_assistant.ipynb"


def _solution(defines: str) -> dict:
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and f"def {defines}(" in c.source)
    namespace: dict = {"torch": torch, "re": re}
    exec(cell.source, namespace)
    return namespace


def assert_fails(check, answer, *words):
    verdict = check.evaluate(answer)
    assert verdict.status == NOT_YET, verdict.line()
    for word in words:
        assert word in verdict.message, verdict.message


@pytest.mark.parametrize("check", [nb11.rrf, nb11.unsupported_numbers, nb11.quantize_rows])
@pytest.mark.parametrize(("answer", "status", "fragment"), COMMON)
def test_common_answers(check, answer, status, fragment):
    assert_verdict(check.evaluate(answer), status, fragment)


# ----------------------------------------------------------------- 11.1 rrf


def test_11_1_reference_passes_and_coursekit_is_caught():
    assert nb11.rrf.evaluate(_solution("rrf")["rrf"]).status == PASSED
    assert_fails(nb11.rrf, ka.reciprocal_rank_fusion, "itself")
    assert_fails(nb11.rrf, lambda r, k=60: ka.reciprocal_rank_fusion(r, k), "ready-made")


def _rrf_with(start=1, use_k=True, reverse=False, dedupe=True):
    def rrf(rankings, k=60):
        scores = {}
        for ranking in rankings:
            for rank, doc in enumerate(ranking, start=start):
                scores[doc] = scores.get(doc, 0.0) + 1.0 / ((k if use_k else 0) + rank or 1)
        order = sorted(scores, key=lambda d: (-scores[d], d))
        return order[::-1] if reverse else order

    return rrf


def test_11_1_wrong_answers_get_their_own_message():
    assert_fails(nb11.rrf, _rrf_with(start=0), "counted from 0")
    assert_fails(nb11.rrf, _rrf_with(use_k=False), "k is added")
    assert_fails(nb11.rrf, _rrf_with(reverse=True), "reversed")
    assert_fails(
        nb11.rrf, lambda rankings, k=60: [d for r in rankings for d in r], "more than once"
    )
    assert_fails(
        nb11.rrf,
        lambda rankings, k=60: list(dict.fromkeys(d for r in rankings for d in r)),
        "first list wins",
    )


# ----------------------------------------------------------------- 11.2 numbers


def test_11_2_reference_passes_and_coursekit_is_caught():
    assert (
        nb11.unsupported_numbers.evaluate(
            _solution("unsupported_numbers")["unsupported_numbers"]
        ).status
        == PASSED
    )

    def via_coursekit(reply, passage):
        return [
            f.split()[1] for f in ka.unsupported_facts(reply, passage) if f.startswith("number")
        ]

    assert_fails(nb11.unsupported_numbers, via_coursekit, "ready-made")


_NUM = re.compile(r"\d+(?:[.,:]\d+)*")


def test_11_2_wrong_answers_get_their_own_message():
    def reversed_direction(reply, passage):
        have = set(_NUM.findall(reply))
        return list(dict.fromkeys(n for n in _NUM.findall(passage) if n not in have))

    def substring(reply, passage):
        return list(dict.fromkeys(n for n in _NUM.findall(reply) if n not in passage))

    def with_signs(reply, passage):
        words = reply.split()
        return [w for w in words if any(c.isdigit() for c in w) and w not in passage.split()]

    def repeats(reply, passage):
        have = set(_NUM.findall(passage))
        return [n for n in _NUM.findall(reply) if n not in have]

    assert_fails(nb11.unsupported_numbers, reversed_direction, "direction is reversed")
    assert_fails(nb11.unsupported_numbers, substring, "substring")
    assert_fails(nb11.unsupported_numbers, with_signs, "currency sign")
    assert_fails(nb11.unsupported_numbers, repeats, "once")
    assert_fails(nb11.unsupported_numbers, lambda r, p: "4.99", "list of str")


# ----------------------------------------------------------------- 11.3 int8


def test_11_3_reference_passes_and_coursekit_is_caught():
    assert nb11.quantize_rows.evaluate(_solution("quantize_rows")["quantize_rows"]).status == PASSED
    assert_fails(nb11.quantize_rows, ka.quantize_per_channel, "itself")
    assert_fails(nb11.quantize_rows, lambda w: ka.quantize_per_channel(w), "ready-made")


def _quant(scale_fn, cast=torch.round, zero_guard=True):
    def quantize_rows(w):
        scale = scale_fn(w)
        if zero_guard:
            scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        q = cast(w / (scale[:, None] if scale.ndim else scale)).clamp(-127, 127).to(torch.int8)
        return q, scale

    return quantize_rows


def test_11_3_wrong_answers_get_their_own_message():
    assert_fails(nb11.quantize_rows, _quant(lambda w: w.abs().max() / 127), "one scale")
    assert_fails(nb11.quantize_rows, _quant(lambda w: w.abs().amax(1) / 128), "wrong range")
    assert_fails(nb11.quantize_rows, _quant(lambda w: w.amax(1) / 127), "abs()")
    assert_fails(
        nb11.quantize_rows, _quant(lambda w: w.abs().amax(1) / 127, cast=torch.trunc), "truncated"
    )
    assert_fails(
        nb11.quantize_rows,
        _quant(lambda w: w.abs().amax(1) / 127, zero_guard=False),
        "row of zeros",
    )
    assert_fails(nb11.quantize_rows, lambda w: (w, w.abs().amax(1)), "torch.int8")


def test_checks_print_one_line(capsys):
    for check in (nb11.rrf, nb11.unsupported_numbers, nb11.quantize_rows):
        check(None)
    assert len(capsys.readouterr().out.strip().splitlines()) == 3


def test_blank_is_not_attempted():
    assert nb11.rrf.evaluate(blank).status == NOT_ATTEMPTED
