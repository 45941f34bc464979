"""Notebook-07 checks 07.2-07.4 pass on the reference answer and fail, specifically, otherwise.

Exercise 07.1 (the build-it sampler) has its own file, tests/test_exercises_nb07.py.
"""

from __future__ import annotations

import math
import re

import torch

from coursekit.checks import NOT_ATTEMPTED, NOT_YET, PASSED
from coursekit.checks import nb07 as check


def _blank(*args, **kwargs):
    raise NotImplementedError


def _boom(*args, **kwargs):
    raise RuntimeError("boom")


# ---------------------------------------------------------------- 07.2 coverage


def coverage(text, attributes):
    low = text.lower()
    hits = [
        bool(re.search(rf"(?<![a-z0-9]){re.escape(v.lower())}(?![a-z0-9])", low))
        for v in attributes.values()
    ]
    return sum(hits) / len(hits)


def test_coverage_passes_on_solution():
    assert check.coverage.evaluate(coverage).status == PASSED


def test_coverage_matches_coursekit_metric():
    from coursekit.copywriter import attribute_coverage

    text = "Stainless steel kettle, 1.7 l, in sage green."
    attrs = {"material": "stainless steel", "size": "1.7 l", "colour": "sage green", "brand": "X"}
    assert math.isclose(attribute_coverage(text, attrs), coverage(text, attrs))


def test_coverage_blank_wrong_type_raising():
    assert check.coverage.evaluate(_blank).status == NOT_ATTEMPTED
    v = check.coverage.evaluate(lambda t, a: "1.0")
    assert v.status == NOT_YET and "number" in v.message
    assert check.coverage.evaluate(_boom).status == NOT_YET


def test_coverage_plausible_mistakes():
    def substring(t, a):
        return sum(v.lower() in t.lower() for v in a.values()) / len(a)

    v = check.coverage.evaluate(substring)
    assert v.status == NOT_YET and "whole words" in v.message

    def case_sensitive(t, a):
        return sum(bool(re.search(rf"\b{re.escape(v)}\b", t)) for v in a.values()) / len(a)

    v = check.coverage.evaluate(case_sensitive)
    assert v.status == NOT_YET and "case" in v.message

    def count(t, a):
        return float(sum(bool(re.search(rf"\b{v}\b", t.lower())) for v in a.values()))

    assert check.coverage.evaluate(count).status == NOT_YET


# ---------------------------------------------------------------- 07.3 distinct-n


def distinct_n(texts, n):
    grams = []
    for text in texts:
        toks = text.lower().split()
        grams += [tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def test_distinct_passes_on_solution():
    assert check.distinct.evaluate(distinct_n).status == PASSED


def test_distinct_blank_wrong_type_raising():
    assert check.distinct.evaluate(_blank).status == NOT_ATTEMPTED
    v = check.distinct.evaluate(lambda t, n: {"x"})
    assert v.status == NOT_YET and "number" in v.message
    assert check.distinct.evaluate(_boom).status == NOT_YET


def test_distinct_plausible_mistakes():
    def per_text(texts, n):
        scores = []
        for text in texts:
            toks = text.lower().split()
            grams = [tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)]
            scores.append(len(set(grams)) / len(grams) if grams else 0.0)
        return sum(scores) / len(scores)

    v = check.distinct.evaluate(per_text)
    assert v.status == NOT_YET and "pool" in v.message

    def cased(texts, n):
        grams = []
        for text in texts:
            toks = text.split()
            grams += [tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)]
        return len(set(grams)) / len(grams) if grams else 0.0

    v = check.distinct.evaluate(cased)
    assert v.status == NOT_YET and "lower-case" in v.message

    def crash_on_empty(texts, n):
        grams = []
        for text in texts:
            toks = text.lower().split()
            grams += [tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)]
        return len(set(grams)) / len(grams)

    v = check.distinct.evaluate(crash_on_empty)
    assert v.status == NOT_YET and "ZeroDivisionError" in v.message


def test_distinct_reference_matches_coursekit_on_plain_words():
    from coursekit.generate import distinct_n as ck

    texts = ["a red mug for tea", "a red mug for coffee", "blue mug"]
    for n in (1, 2, 3):
        assert math.isclose(ck(texts, n), distinct_n(texts, n))


# ---------------------------------------------------------------- 07.4 KV step


def attention_step(q, k_new, v_new, cache_k, cache_v):
    k = torch.cat([cache_k, k_new], dim=-2)
    v = torch.cat([cache_v, v_new], dim=-2)
    w = (q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])).softmax(-1)
    return w @ v, k, v


def test_kv_step_passes_on_solution():
    assert check.kv_step.evaluate(attention_step).status == PASSED


def test_kv_step_matches_coursekit_cached_attention():
    from coursekit.generate import cached_attention

    gen = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(1, 2, 1, 4, generator=gen) for _ in range(3))
    past = tuple(torch.randn(1, 2, 3, 4, generator=gen) for _ in range(2))
    out, (kk, vv) = cached_attention(q, k, v, past)
    mine = attention_step(q[0], k[0], v[0], past[0][0], past[1][0])
    assert torch.allclose(out[0], mine[0], atol=1e-6) and torch.equal(kk[0], mine[1])


def test_kv_step_blank_wrong_type_raising():
    assert check.kv_step.evaluate(_blank).status == NOT_ATTEMPTED
    v = check.kv_step.evaluate(lambda *a: a[0])
    assert v.status == NOT_YET and "tuple" in v.message
    assert check.kv_step.evaluate(_boom).status == NOT_YET


def test_kv_step_plausible_mistakes():
    def no_scale(q, k_new, v_new, ck, cv):
        k, v = torch.cat([ck, k_new], -2), torch.cat([cv, v_new], -2)
        return (q @ k.transpose(-1, -2)).softmax(-1) @ v, k, v

    v = check.kv_step.evaluate(no_scale)
    assert v.status == NOT_YET and "sqrt" in v.message

    def attend_past_only(q, k_new, v_new, ck, cv):
        out = (q @ ck.transpose(-1, -2) / math.sqrt(q.shape[-1])).softmax(-1) @ cv
        return out, torch.cat([ck, k_new], -2), torch.cat([cv, v_new], -2)

    v = check.kv_step.evaluate(attend_past_only)
    assert v.status == NOT_YET and "itself" in v.message

    def new_first(q, k_new, v_new, ck, cv):
        k, v = torch.cat([k_new, ck], -2), torch.cat([v_new, cv], -2)
        return (q @ k.transpose(-1, -2) / 2.0).softmax(-1) @ v, k, v

    v = check.kv_step.evaluate(new_first)
    assert v.status == NOT_YET and "keys" in v.message

    def cache_not_grown(q, k_new, v_new, ck, cv):
        return (q @ k_new.transpose(-1, -2)).softmax(-1) @ v_new, k_new, v_new

    v = check.kv_step.evaluate(cache_not_grown)
    assert v.status == NOT_YET and "shape" in v.message


def test_kv_step_calling_coursekit_is_caught():
    from coursekit import generate as gen

    def via_coursekit(q, k_new, v_new, ck, cv):
        out, (k, v) = gen.cached_attention(q[None], k_new[None], v_new[None], (ck[None], cv[None]))
        return out[0], k[0], v[0]

    v = check.kv_step.evaluate(via_coursekit)
    assert v.status == NOT_YET and "write your own" in v.message


def test_coverage_hints_are_staged_and_give_no_regex():
    hints = check.coverage.hints
    assert len(hints) == 3 and "(?<" not in " ".join(hints) and "re.escape" not in " ".join(hints)
