"""Every exercise check of notebooks 08 and 09 passes on the solution and fails on mistakes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from coursekit.checks import NOT_ATTEMPTED, NOT_YET, PASSED, nb08, nb09


def _not_implemented(*args, **kwargs):
    raise NotImplementedError("replace this line with your solution")


def _raises(*args, **kwargs):
    raise ValueError("boom")


def assert_fails(check, answer, *words):
    verdict = check.evaluate(answer)
    assert verdict.status == NOT_YET, verdict.line()
    for word in words:
        assert word in verdict.message, verdict.message


def assert_common_failures(check, wrong_type):
    assert check.evaluate(None).status == NOT_ATTEMPTED
    assert check.evaluate(_not_implemented).status == NOT_ATTEMPTED
    assert_fails(check, _raises, "raised ValueError: boom")
    assert_fails(check, wrong_type)


# ----------------------------------------------------------------- notebook 08


def mrr_solution(scores, gold):
    scores = np.asarray(scores)
    target = scores[np.arange(len(gold)), gold]
    ranks = (scores > target[:, None]).sum(axis=1) + 1
    return float(np.mean(1 / ranks))


def test_08_2_mean_reciprocal_rank():
    assert nb08.mean_reciprocal_rank.evaluate(mrr_solution).status == PASSED
    assert_common_failures(nb08.mean_reciprocal_rank, lambda s, g: "mrr")
    top1 = lambda s, g: float(np.mean(np.asarray(s).argmax(1) == g))  # noqa: E731
    assert_fails(nb08.mean_reciprocal_rank, top1, "top-1 accuracy")

    def reversed_ranks(s, g):
        target = s[np.arange(len(g)), g]
        return float(np.mean(1 / ((s < target[:, None]).sum(1) + 1)))

    assert_fails(nb08.mean_reciprocal_rank, reversed_ranks, "reversed")

    def zero_based(s, g):
        target = s[np.arange(len(g)), g]
        with np.errstate(divide="ignore"):
            return float(np.mean(1 / (s > target[:, None]).sum(1)))

    assert_fails(nb08.mean_reciprocal_rank, zero_based, "0-based")


def similar_solution(emb, i, k):
    emb = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    sims = emb @ emb[i]
    sims[i] = -np.inf
    return np.argsort(-sims)[:k]


def test_08_4_most_similar():
    assert nb08.most_similar.evaluate(similar_solution).status == PASSED
    from coursekit.retrieval import most_similar

    # coursekit's own function is the answer the exercise asks the learner to write
    assert_fails(nb08.most_similar, most_similar, "write your own")
    assert_common_failures(nb08.most_similar, lambda e, i, k: "items")

    def with_self(emb, i, k):
        emb = emb / np.linalg.norm(emb, axis=1, keepdims=True)
        return np.argsort(-(emb @ emb[i]))[:k]

    assert_fails(nb08.most_similar, with_self, "its own list")

    def dot_product(emb, i, k):
        sims = emb @ emb[i]
        sims[i] = -np.inf
        return np.argsort(-sims)[:k]

    assert_fails(nb08.most_similar, dot_product, "normalise")

    def ascending(emb, i, k):
        emb = emb / np.linalg.norm(emb, axis=1, keepdims=True)
        sims = emb @ emb[i]
        sims[i] = np.inf
        return np.argsort(sims)[:k]

    assert_fails(nb08.most_similar, ascending, "LEAST similar")


# ----------------------------------------------------------------- notebook 09


def z_solution(x_a, n_a, x_b, n_b):
    p = (x_a + x_b) / (n_a + n_b)
    return (x_b / n_b - x_a / n_a) / math.sqrt(p * (1 - p) * (1 / n_a + 1 / n_b))


def test_09_1_z_statistic():
    assert nb09.z_statistic.evaluate(z_solution).status == PASSED
    assert_common_failures(nb09.z_statistic, lambda *a: "z")
    assert_fails(nb09.z_statistic, lambda *a: -z_solution(*a), "sign is flipped")

    def unpooled(x_a, n_a, x_b, n_b):
        p_a, p_b = x_a / n_a, x_b / n_b
        return (p_b - p_a) / math.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)

    assert_fails(nb09.z_statistic, unpooled, "unpooled")
    assert_fails(nb09.z_statistic, lambda x_a, n_a, x_b, n_b: float(x_b - x_a), "expected about")


def size_solution(p_a, p_b, alpha, power):
    p_bar = (p_a + p_b) / 2
    z_a, z_b = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    num = z_a * math.sqrt(2 * p_bar * (1 - p_bar)) + z_b * math.sqrt(
        p_a * (1 - p_a) + p_b * (1 - p_b)
    )
    return math.ceil(num**2 / (p_b - p_a) ** 2)


def test_09_3_sample_size():
    assert nb09.sample_size.evaluate(size_solution).status == PASSED
    assert_common_failures(nb09.sample_size, lambda *a: "many")
    assert_fails(nb09.sample_size, lambda *a: 2 * size_solution(*a), "both arms")
    assert_fails(
        nb09.sample_size,
        lambda p_a, p_b, alpha, power: size_solution(p_a, p_b, 2 * alpha, power),
        "one-sided",
    )
    assert_fails(
        nb09.sample_size,
        lambda *a: size_solution(*a) + 0.5,
        "whole number",
    )
    no_square = lambda p_a, p_b, alpha, power: math.ceil(  # noqa: E731
        (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) / abs(p_b - p_a)
    )
    assert_fails(nb09.sample_size, no_square, "expected about")
    from coursekit.experiments import sample_size_per_arm

    assert_fails(nb09.sample_size, lambda *a: sample_size_per_arm(*a), "calls")
    # right on the two visible designs only: the hidden ones catch it
    visible = {(0.03, 0.036): size_solution(0.03, 0.036, 0.05, 0.8)}
    visible[(0.10, 0.12)] = size_solution(0.10, 0.12, 0.01, 0.9)
    assert_fails(nb09.sample_size, lambda p_a, p_b, *_: visible.get((p_a, p_b), 1000), "expected")


def thompson_solution(successes, failures, rng):
    return int(np.argmax(rng.beta(1 + successes, 1 + failures)))


def test_09_4_thompson_step():
    assert nb09.thompson_step.evaluate(thompson_solution).status == PASSED
    from coursekit.experiments import thompson_choose

    assert_fails(nb09.thompson_step, thompson_choose, "`thompson_choose` itself")
    assert_fails(nb09.thompson_step, lambda s, f, rng: int(thompson_choose(s, f, rng)), "calls")
    assert_common_failures(nb09.thompson_step, lambda s, f, rng: [0.3, 0.2, 0.5])
    greedy = lambda s, f, rng: int(np.argmax((s + 1) / (s + f + 2)))  # noqa: E731
    assert_fails(nb09.thompson_step, greedy, "greedy")
    swapped = lambda s, f, rng: int(np.argmax(rng.beta(1 + f, 1 + s)))  # noqa: E731
    assert_fails(nb09.thompson_step, swapped, "swapped")
    pulls = lambda s, f, rng: int(np.argmax(rng.beta(1 + s, 1 + s + f)))  # noqa: E731
    assert_fails(nb09.thompson_step, pulls, "1 + failures")
    no_prior = lambda s, f, rng: int(np.argmax(rng.beta(s, f)))  # noqa: E731
    assert_fails(nb09.thompson_step, no_prior, "raised ValueError")


@pytest.mark.parametrize("check", [nb08.mean_reciprocal_rank, nb09.z_statistic])
def test_checks_print_one_line(check, capsys):
    check(None)
    assert len(capsys.readouterr().out.strip().splitlines()) == 1
