"""Checks for notebook 07 (copy generation): top-p filtering, attribute coverage, a KV-cached step, distinct-n."""

from __future__ import annotations

import math
from typing import Any

from coursekit.checks import (
    CheckFailed,
    call,
    exercise,
    expect,
    expect_close,
    expect_shape,
    hint,  # noqa: F401 (check.hint("NN.k") in a notebook)
)


def _reference_top_p(logits: Any, p: float) -> Any:
    import torch

    sorted_logits, order = torch.sort(logits, descending=True)
    probs = sorted_logits.softmax(-1)
    remove_sorted = probs.cumsum(-1) - probs >= p
    remove_sorted[0] = False
    remove = torch.zeros_like(remove_sorted).scatter(0, order, remove_sorted)
    return logits.masked_fill(remove, -math.inf)


def _kept(values: Any) -> list[bool]:
    return [not math.isinf(float(v)) for v in values]


@exercise(
    "07.1",
    "top-p (nucleus) filtering",
    hint=(
        "Keep the smallest set of most likely tokens whose probabilities reach p and remove the rest; the token that crosses p stays.",
        "Sort the logits high to low, softmax, and compare the probability mass *before* each token with p; put the keep/drop decisions back in the original order and set the dropped logits to -inf.",
    ),
)
def top_p(fn: Any) -> None:
    import torch

    probs = torch.tensor([0.05, 0.5, 0.15, 0.3])
    logits = probs.log()
    got = call(fn, logits.clone(), 0.7, name="top_p_filter")
    expect(
        isinstance(got, torch.Tensor),
        f"`top_p_filter` should return a tensor of logits, got a {type(got).__name__}",
    )
    expect_shape(got, (4,), "top_p_filter(logits, 0.7)")
    kept = _kept(got)
    if kept == [False, True, False, False]:
        raise CheckFailed(
            "with probabilities [0.05, 0.5, 0.15, 0.3] and p=0.7 you kept only 0.5: keep the "
            "token that crosses p too (0.5 + 0.3 ≥ 0.7), so the kept mass is at least p"
        )
    if kept == [True, True, True, False]:
        raise CheckFailed(
            "you summed probabilities in vocabulary order; sort them from most to least likely first"
        )
    if torch.allclose(got[~torch.isinf(got)].exp().sum(), torch.tensor(1.0)) and not torch.allclose(
        got[~torch.isinf(got)], logits[~torch.isinf(got)]
    ):
        raise CheckFailed(
            "return the original logits of the kept tokens (and -inf elsewhere), "
            "not renormalised probabilities: the softmax comes later"
        )
    expect(
        kept == [False, True, False, True],
        f"with probabilities [0.05, 0.5, 0.15, 0.3] and p=0.7 the kept tokens should be "
        f"[False, True, False, True], got {kept}",
    )
    expect(
        bool((got[torch.tensor(kept)] == logits[torch.tensor(kept)]).all()),
        "kept logits must keep their values; only the removed ones become -inf",
    )
    gen = torch.Generator().manual_seed(7)
    for p in (0.3, 0.9, 0.99):
        logits = torch.randn(40, generator=gen) * 2
        got = call(fn, logits.clone(), p, name="top_p_filter")
        want = _reference_top_p(logits, p)
        expect(
            _kept(got) == _kept(want),
            f"on 40 random logits with p={p} you kept {sum(_kept(got))} tokens, "
            f"expected {sum(_kept(want))}",
        )
    one = call(fn, torch.tensor([5.0, 0.0, -1.0]), 0.01, name="top_p_filter")
    expect(_kept(one) == [True, False, False], "a tiny p must still keep the single best token")


def _reference_coverage(text: str, attributes: dict[str, str]) -> float:
    import re

    low = text.lower()
    hits = [
        bool(re.search(rf"(?<![a-z0-9]){re.escape(str(v).lower())}(?![a-z0-9])", low))
        for v in attributes.values()
    ]
    return sum(hits) / len(hits)


@exercise(
    "07.2",
    "attribute coverage",
    hint=(
        "Coverage is the share of the attribute values that the text mentions as whole words, ignoring case.",
        "Lower-case both, escape each value for a regex and require that no letter or digit touches it on either side; divide the number found by the number of attributes.",
    ),
)
def coverage(fn: Any) -> None:
    cases = [
        ("A Navy Rain Jacket in nylon.", {"colour": "navy", "material": "nylon"}, 1.0),
        ("A red jacket, reduced!", {"colour": "red", "material": "nylon"}, 0.5),
        ("Tanned and stands tall.", {"colour": "tan"}, 0.0),
        (
            "Stainless steel kettle, 1.7 l, in sage green.",
            {
                "material": "stainless steel",
                "size": "1.7 l",
                "colour": "sage green",
                "brand": "Hearthly",
            },
            0.75,
        ),
    ]
    for text, attrs, want in cases:
        got = call(fn, text, dict(attrs), name="coverage")
        expect(
            isinstance(got, (int, float)) and not isinstance(got, bool),
            f"`coverage` should return a number between 0 and 1, got a {type(got).__name__}",
        )
        if want == 1.0 and math.isclose(got, 0.5):
            raise CheckFailed(
                "matching is case-sensitive: 'Navy' in the text should count for 'navy'"
            )
        if text.startswith("Tanned") and math.isclose(got, 1.0):
            raise CheckFailed(
                "'tan' was found inside 'Tanned': match whole words only, not substrings"
            )
        if text.startswith("A red") and math.isclose(got, 1.0):
            raise CheckFailed("'nylon' is not in 'A red jacket, reduced!': check every attribute")
        if got > 1.0 and got == round(got):
            raise CheckFailed(
                f"`coverage` returned {got}: divide the number mentioned by the number of attributes"
            )
        expect_close(got, want, f"coverage({text!r}, {attrs})", atol=1e-9)
    return "Coverage is the first half of grounding; hallucinations are the second."


def _reference_step(q: Any, k_new: Any, v_new: Any, cache_k: Any, cache_v: Any) -> tuple:
    import torch

    k = torch.cat([cache_k, k_new], dim=-2)
    v = torch.cat([cache_v, v_new], dim=-2)
    w = (q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])).softmax(-1)
    return w @ v, k, v


@exercise(
    "07.3",
    "one KV-cached attention step",
    hint=(
        "With a KV cache, the new token's key and value join the cached ones, and only the new query attends.",
        "Concatenate along the sequence axis (dim=-2), then scaled dot-product attention of the one query over all the keys; no mask is needed, since it may see every cached position. Return the output and both grown caches.",
    ),
)
def kv_step(fn: Any) -> None:
    import torch

    gen = torch.Generator().manual_seed(3)
    heads, past, d = 2, 5, 4
    q, k_new, v_new = (torch.randn(heads, 1, d, generator=gen) for _ in range(3))
    cache_k, cache_v = (torch.randn(heads, past, d, generator=gen) for _ in range(2))
    got = call(
        fn,
        q.clone(),
        k_new.clone(),
        v_new.clone(),
        cache_k.clone(),
        cache_v.clone(),
        name="attention_step",
    )
    expect(
        isinstance(got, tuple) and len(got) == 3,
        "`attention_step` should return a tuple (output, keys, values)",
    )
    out, keys, values = got
    want_out, want_k, want_v = _reference_step(q, k_new, v_new, cache_k, cache_v)
    expect_shape(keys, (heads, past + 1, d), "keys (the grown cache)")
    expect_shape(values, (heads, past + 1, d), "values (the grown cache)")
    expect_close(keys, want_k, "keys: the old cache followed by the new key")
    expect_close(values, want_v, "values: the old cache followed by the new value")
    expect_shape(out, (heads, 1, d), "output")
    w_noscale = (q @ want_k.transpose(-1, -2)).softmax(-1) @ want_v
    if torch.allclose(out, w_noscale, atol=1e-5):
        raise CheckFailed("the scores are not scaled: divide q·k by sqrt(head_dim)")
    only_past = (q @ cache_k.transpose(-1, -2) / math.sqrt(d)).softmax(-1) @ cache_v
    if torch.allclose(out, only_past, atol=1e-5):
        raise CheckFailed("the new token must attend to itself too: append before attending")
    expect_close(out, want_out, "output", atol=1e-5)
    return "That is all a KV cache is: keep K and V, compute only the new row."


def _reference_distinct(texts: list[str], n: int) -> float:
    grams = []
    for text in texts:
        toks = text.lower().split()
        grams.extend(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))
    return len(set(grams)) / len(grams) if grams else 0.0


@exercise(
    "07.4",
    "distinct-n",
    hint=(
        "distinct-n is the share of n-grams that are unique, pooled over all the texts.",
        "Lower-case and split each text into words, collect every run of n consecutive words in one list, and divide the number of distinct ones by the total (0.0 when there are none).",
    ),
)
def distinct(fn: Any) -> None:
    cases = [
        (["a red mug", "a red mug"], 1, 0.5),
        (["a red mug", "a red mug"], 2, 0.5),
        (["the mug the mug"], 2, 2 / 3),
        (["A red mug", "a blue mug"], 1, 4 / 6),
        (["one"], 2, 0.0),
    ]
    for texts, n, want in cases:
        got = call(fn, list(texts), n, name="distinct_n")
        expect(
            isinstance(got, (int, float)) and not isinstance(got, bool),
            f"`distinct_n` should return a number, got a {type(got).__name__}",
        )
        if texts == ["a red mug", "a red mug"] and n == 1 and math.isclose(got, 1.0):
            raise CheckFailed(
                "pool the n-grams of all texts before counting: the second text repeats the first"
            )
        if texts == ["A red mug", "a blue mug"] and math.isclose(got, 5 / 6):
            raise CheckFailed("lower-case the words first: 'A' and 'a' are the same word")
        expect_close(got, want, f"distinct_n({texts}, {n})", atol=1e-9)
