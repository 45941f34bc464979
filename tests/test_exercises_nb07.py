"""Exercise 07.1, the build-it sampler: the reference passes, shortcuts and mistakes do not.

The reference solution is the notebook's own solution cells (run here as they stand). Each
plausible wrong solution below gets its own message; the check's hidden inputs (random
batches, small random GPT-2 models built inside the check) catch what the visible example
cannot.
"""

from __future__ import annotations

import math

import nbformat
import pytest
import torch
from check_helpers import assert_verdict, blank

from coursekit import paths
from coursekit.checks import NOT_ATTEMPTED, NOT_YET, PASSED
from coursekit.checks import nb07 as check


def _solution() -> dict:
    """``filter_logits`` and ``generate_cached`` from the solution notebook's cells."""
    nb = nbformat.read(paths.notebooks_dir() / "07_copywriting.ipynb", as_version=4)
    space: dict = {"torch": torch}
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith(
            ("def filter_logits", "def generate_cached")
        ):
            exec(cell.source, space)
    assert {"filter_logits", "generate_cached"} <= set(space)
    return space


SOLUTION = _solution()
filter_logits = SOLUTION["filter_logits"]
generate_cached = SOLUTION["generate_cached"]


def verdict(filter_fn=None, loop_fn=None):
    return check.sampler.evaluate(filter_fn or filter_logits, loop_fn or generate_cached)


# ---------------------------------------------------------------- the right answers


def test_the_notebook_solution_passes_and_leaves_the_global_seed_alone():
    state = torch.get_rng_state()
    assert_verdict(verdict(), PASSED, "seed for seed")
    assert torch.equal(state, torch.get_rng_state())


def _top_p_like_transformers(scores, top_p):  # ascending sort, as TopPLogitsWarper
    sorted_scores, order = torch.sort(scores, dim=-1)
    drop = sorted_scores.softmax(-1).cumsum(-1) <= 1 - top_p
    drop[..., -1] = False
    return scores.masked_fill(drop.scatter(-1, order, drop), -math.inf)


def other_filter(logits, temperature, top_k, top_p):
    """Another correct filter: sorted top-k, transformers' ascending top-p."""
    scores = logits / temperature
    if top_k:
        sorted_scores = scores.sort(dim=-1, descending=True).values
        kth = sorted_scores[..., min(top_k, scores.shape[-1]) - 1 : min(top_k, scores.shape[-1])]
        scores = torch.where(scores >= kth, scores, torch.full_like(scores, -math.inf))
    if top_p < 1.0:
        scores = _top_p_like_transformers(scores, top_p)
    return scores


def other_loop(model, input_ids, max_new_tokens, temperature, top_k, top_p, generator):
    """Another correct loop: the old name past_key_values, no extra forward at the end."""
    out = model(input_ids=input_ids, use_cache=True)
    ids = input_ids
    for step in range(max_new_tokens):
        probs = other_filter(out.logits[:, -1], temperature, top_k, top_p).softmax(-1)
        new = torch.multinomial(probs, num_samples=1, generator=generator)
        ids = torch.cat([ids, new], dim=1)
        if step < max_new_tokens - 1:
            out = model(input_ids=new, past_key_values=out.past_key_values, use_cache=True)
    return ids


def test_other_correct_solutions_pass():
    assert_verdict(check.sampler.evaluate(other_filter, other_loop), PASSED)


def test_coursekit_references_match_transformers_but_do_not_pass_as_answers():
    logits = torch.randn(3, 50, generator=torch.Generator().manual_seed(1)) * 3
    for setting in ((0.7, 10, 0.8), (1.3, 0, 0.9), (1.0, 60, 1.0)):
        want = check._hf_filter(logits, *setting)
        assert torch.equal(check.reference_filter(logits, *setting), want)
        assert torch.equal(filter_logits(logits, *setting), want)
    v = check.sampler.evaluate(check.reference_filter, check.reference_sampler)
    assert_verdict(v, NOT_YET, "`process_logits`")
    assert "write your own" in v.message


def test_the_greedy_edge_cases_are_greedy_in_transformers_too():
    model = check._tiny_gpt2(303)
    ids = torch.randint(
        1, model.config.vocab_size, (2, 4), generator=torch.Generator().manual_seed(0)
    )
    greedy = check._hf_generate(model, ids, 8, 1.0, 0, 1.0, None)
    assert torch.equal(check._hf_generate(model, ids, 8, 1.0, 1, 1.0, 5), greedy)
    assert torch.equal(check._hf_generate(model, ids, 8, 1.0, 0, 0.001, 5), greedy)


# ---------------------------------------------------------------- blank, shortcuts


def test_blank_is_not_attempted_without_a_hint():
    assert_verdict(check.sampler.evaluate(blank, blank), NOT_ATTEMPTED)
    assert_verdict(check.sampler.evaluate(None, None), NOT_ATTEMPTED)


def test_a_filter_without_a_loop_is_told_to_write_the_loop():
    assert_verdict(check.sampler.evaluate(filter_logits, blank), NOT_YET, "write the loop next")


def test_calling_coursekit_or_transformers_is_caught():
    from transformers import TopKLogitsWarper

    from coursekit import generate as gen

    def via_coursekit(logits, temperature, top_k, top_p):
        return gen.process_logits(logits, None, temperature, top_k or None, top_p)

    assert_verdict(verdict(via_coursekit), NOT_YET, "write your own")

    def via_warper(logits, temperature, top_k, top_p):
        scores = logits / temperature
        if top_k:
            scores = TopKLogitsWarper(top_k)(None, scores)
        return _top_p_like_transformers(scores, top_p) if top_p < 1.0 else scores

    assert_verdict(verdict(via_warper), NOT_YET, "`TopKLogitsWarper`")

    def via_sample_cached(model, input_ids, n, temperature, top_k, top_p, generator):
        return gen.sample_cached(model, input_ids, n, temperature, top_k or None, top_p,
                                 generator=generator)  # fmt: skip

    assert_verdict(verdict(loop_fn=via_sample_cached), NOT_YET, "`sample_cached`")

    def via_generate(model, input_ids, n, temperature, top_k, top_p, generator):
        return model.generate(input_ids, do_sample=True, temperature=temperature, top_k=top_k,
                              top_p=top_p, max_new_tokens=n, pad_token_id=0)  # fmt: skip

    assert_verdict(verdict(loop_fn=via_generate), NOT_YET, "your loop calls `model.generate`")


# ---------------------------------------------------------------- wrong filters


def top_p_without_the_crossing_token(logits, temperature, top_k, top_p):
    scores = logits / temperature
    sorted_scores, order = torch.sort(scores, dim=-1, descending=True)
    drop = sorted_scores.softmax(-1).cumsum(-1) > top_p
    drop[..., 0] = False
    return scores.masked_fill(drop.scatter(-1, order, drop), -math.inf)


def temperature_after_filtering(logits, temperature, top_k, top_p):
    return filter_logits(logits, 1.0, top_k, top_p) / temperature


def top_k_one_too_many(logits, temperature, top_k, top_p):
    scores = logits / temperature
    if top_k:
        kth = scores.sort(dim=-1, descending=True).values[..., min(top_k, scores.shape[-1] - 1)]
        scores = scores.masked_fill(scores < kth[..., None], -math.inf)
    return filter_logits(scores, 1.0, 0, top_p)


def top_k_exactly_k(logits, temperature, top_k, top_p):
    scores = logits / temperature
    if top_k:
        keep = torch.topk(scores, min(top_k, scores.shape[-1]), dim=-1).indices
        mask = torch.ones_like(scores, dtype=torch.bool).scatter(-1, keep, False)
        scores = scores.masked_fill(mask, -math.inf)
    return filter_logits(scores, 1.0, 0, top_p)


def top_k_unclipped(logits, temperature, top_k, top_p):
    scores = logits / temperature
    if top_k:
        kth = torch.topk(scores, top_k, dim=-1).values[..., -1:]
        scores = scores.masked_fill(scores < kth, -math.inf)
    return filter_logits(scores, 1.0, 0, top_p)


def top_p_always_on(logits, temperature, top_k, top_p):
    scores = filter_logits(logits, temperature, top_k, 1.0)
    sorted_scores, order = torch.sort(scores, dim=-1, descending=True)
    probs = sorted_scores.softmax(-1)
    drop = probs.cumsum(-1) - probs >= top_p
    return scores.masked_fill(drop.scatter(-1, order, drop), -math.inf)


def top_p_keeps_all_ties(logits, temperature, top_k, top_p):
    scores = filter_logits(logits, temperature, top_k, top_p)
    boundary = scores.masked_fill(torch.isinf(scores), math.inf).min(-1, keepdim=True).values
    return torch.where(logits / temperature >= boundary, logits / temperature, scores)


def top_p_unsorted(logits, temperature, top_k, top_p):
    scores = filter_logits(logits, temperature, top_k, 1.0)
    if top_p < 1.0:
        probs = scores.softmax(-1)
        scores = scores.masked_fill(probs.cumsum(-1) - probs >= top_p, -math.inf)
    return scores


def probabilities(logits, temperature, top_k, top_p):
    return filter_logits(logits, temperature, top_k, top_p).softmax(-1)


def one_distribution_for_the_whole_batch(logits, temperature, top_k, top_p):
    """Right on one row; on a batch it sorts all rows as one distribution."""
    scores = filter_logits(logits, temperature, top_k, 1.0)
    if top_p < 1.0:
        flat = scores.flatten()
        sorted_scores, order = torch.sort(flat, descending=True)
        probs = sorted_scores.softmax(-1)
        drop = probs.cumsum(-1) - probs >= top_p
        drop[0] = False
        scores = flat.masked_fill(drop.scatter(0, order, drop), -math.inf).view_as(scores)
    return scores


@pytest.mark.parametrize(
    "wrong, fragment",
    [
        (top_p_without_the_crossing_token, "the token that crosses top_p stays too"),
        (temperature_after_filtering, "you apply the temperature after filtering"),
        (lambda logits, t, k, p: filter_logits(logits, 1.0, k, p), "the temperature is missing"),
        (top_k_one_too_many, "you keep one too many"),
        (top_k_exactly_k, "kept only two of the three tied 3s"),
        (top_k_unclipped, "a k larger than the vocabulary keeps every token"),
        (top_p_always_on, "1.0 switches top-p off"),
        (top_p_keeps_all_ties, "you kept every token tied at the boundary"),
        (top_p_unsorted, "sort them from most to least likely"),
        (probabilities, "returned probabilities"),
        (one_distribution_for_the_whole_batch, "on hidden random logits"),
    ],
)
def test_wrong_filters_get_their_own_message(wrong, fragment):
    assert_verdict(verdict(wrong), NOT_YET, fragment)


# ---------------------------------------------------------------- wrong loops


def no_cache(model, input_ids, n, temperature, top_k, top_p, generator):
    ids = input_ids
    for _ in range(n):
        scores = filter_logits(model(ids).logits[:, -1], temperature, top_k, top_p)
        ids = torch.cat([ids, torch.multinomial(scores.softmax(-1), 1, generator=generator)], 1)
    return ids


def whole_text_with_the_cache(model, input_ids, n, temperature, top_k, top_p, generator):
    out, ids = model(input_ids, use_cache=True), input_ids
    for _ in range(n):
        scores = filter_logits(out.logits[:, -1], temperature, top_k, top_p)
        ids = torch.cat([ids, torch.multinomial(scores.softmax(-1), 1, generator=generator)], 1)
        out = model(ids, cache=out.cache, use_cache=True)
    return ids


def new_token_without_the_cache(model, input_ids, n, temperature, top_k, top_p, generator):
    out, ids = model(input_ids), input_ids
    for _ in range(n):
        scores = filter_logits(out.logits[:, -1], temperature, top_k, top_p)
        new = torch.multinomial(scores.softmax(-1), 1, generator=generator)
        ids, out = torch.cat([ids, new], 1), model(new)
    return ids


def global_seed(model, input_ids, n, temperature, top_k, top_p, generator):
    out, ids = model(input_ids, use_cache=True), input_ids
    for _ in range(n):
        new = torch.multinomial(filter_logits(out.logits[:, -1], temperature, top_k, top_p)
                                .softmax(-1), 1)  # fmt: skip
        ids, out = torch.cat([ids, new], 1), model(new, cache=out.cache)
    return ids


def argmax(model, input_ids, n, temperature, top_k, top_p, generator):
    out, ids = model(input_ids, use_cache=True), input_ids
    for _ in range(n):
        new = filter_logits(out.logits[:, -1], temperature, top_k, top_p).argmax(-1, keepdim=True)
        ids, out = torch.cat([ids, new], 1), model(new, cache=out.cache)
    return ids


def manual_softmax(model, input_ids, n, temperature, top_k, top_p, generator):
    out, ids = model(input_ids, use_cache=True), input_ids
    for _ in range(n):
        weights = filter_logits(out.logits[:, -1], temperature, top_k, top_p).exp()
        new = torch.multinomial(weights / weights.sum(-1, keepdim=True), 1, generator=generator)
        ids, out = torch.cat([ids, new], 1), model(new, cache=out.cache)
    return ids


def new_tokens_only(model, input_ids, n, temperature, top_k, top_p, generator):
    return generate_cached(model, input_ids, n, temperature, top_k, top_p, generator)[
        :, input_ids.shape[1] :
    ]


@pytest.mark.parametrize(
    "wrong, fragment",
    [
        (no_cache, "runs the whole text through the model at every step"),
        (whole_text_with_the_cache, "feed only the new token"),
        (new_token_without_the_cache, "got the new token but no cache"),
        (global_seed, "your draws ignore the `generator`"),
        (argmax, "you wrote the most likely token every time"),
        (manual_softmax, "your probabilities overflowed"),
        (new_tokens_only, "has shape"),
    ],
)
def test_wrong_loops_get_their_own_message(wrong, fragment):
    assert_verdict(verdict(loop_fn=wrong), NOT_YET, fragment)


def test_hints_are_staged_and_the_first_is_a_nudge():
    hints = check.sampler.hints
    assert len(hints) == 3
    assert not any(mark in hints[0] for mark in ("torch", "=", "[", "cache="))
