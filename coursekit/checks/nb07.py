"""Checks for notebook 07 (copy generation): your own sampler and KV-cached loop, attribute
coverage, distinct-n, one KV-cached attention step."""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator
from typing import Any

from coursekit.checks import (
    CheckFailed,
    NotAttempted,
    UsedReference,
    call,
    call_own,
    exercise,
    expect,
    expect_close,
    expect_shape,
    hint,  # noqa: F401 (check.hint("NN.k") in a notebook)
    own_or_reference,  # noqa: F401 (the cells after exercise 07.1 use the learner's sampler)
)

# --------------------------------------------------------------------------- 07.1 the sampler

#: the ready-made versions of what exercise 07.1 asks for (the learner's code may not call them)
SAMPLER_FORBID = [
    "coursekit.generate.apply_temperature",
    "coursekit.generate.top_k_filter",
    "coursekit.generate.top_p_filter",
    "coursekit.generate.process_logits",
    "coursekit.generate.sample_cached",
    "coursekit.generate.greedy_cached",
    "coursekit.generate.greedy_uncached",
    "coursekit.generate.gpt2_forward",
    "coursekit.generate.cached_attention",
    "transformers.generation.logits_process.TemperatureLogitsWarper",
    "transformers.generation.logits_process.TopKLogitsWarper",
    "transformers.generation.logits_process.TopPLogitsWarper",
]


def reference_filter(logits: Any, temperature: float, top_k: int, top_p: float) -> Any:
    """coursekit's answer to ``filter_logits``: :func:`coursekit.generate.process_logits`."""
    from coursekit import generate

    return generate.process_logits(logits, None, temperature, top_k or None, top_p)


def reference_sampler(
    model: Any,
    input_ids: Any,
    max_new_tokens: int,
    temperature: float,
    top_k: int,
    top_p: float,
    generator: Any,
) -> Any:
    """coursekit's answer to ``generate_cached``: :func:`coursekit.generate.sample_cached`."""
    from coursekit import generate

    return generate.sample_cached(
        model, input_ids, max_new_tokens, temperature, top_k or None, top_p, generator=generator
    )


def _hf_filter(logits: Any, temperature: float, top_k: int, top_p: float) -> Any:
    """What ``generate(do_sample=True, ...)`` samples from: its warpers, in its order."""
    from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    scores = logits.clone()
    if temperature != 1.0:
        scores = TemperatureLogitsWarper(temperature)(None, scores)
    if top_k:
        scores = TopKLogitsWarper(top_k)(None, scores)
    if top_p < 1.0:
        scores = TopPLogitsWarper(top_p)(None, scores)
    return scores


def _setting(temperature: float, top_k: int, top_p: float) -> str:
    return f"temperature={temperature:g}, top_k={top_k}, top_p={top_p:g}"


def _filter(
    fn: Any, logits: Any, temperature: float, top_k: int, top_p: float, where: str = ""
) -> Any:
    """The learner's ``filter_logits`` on a copy of ``logits``; its result must be a tensor of scores."""
    import torch

    got = call_own(
        fn, logits.clone(), temperature, top_k, top_p, forbid=SAMPLER_FORBID, name="filter_logits"
    )
    expect(
        isinstance(got, torch.Tensor),
        f"`filter_logits` should return a tensor of scores, got a {type(got).__name__}",
    )
    expect_shape(
        got, tuple(logits.shape), f"filter_logits(logits, {_setting(temperature, top_k, top_p)})"
    )
    got = got.detach().float()
    expect(
        not bool(got.isnan().any()),
        f"`filter_logits` returned NaN ({_setting(temperature, top_k, top_p)})",
    )
    if not bool(torch.isinf(got).any()) and bool((got >= 0).all()):
        if torch.allclose(got.sum(-1), torch.ones(got.shape[0]), atol=1e-4):
            raise CheckFailed(
                "`filter_logits` returned probabilities; return the scores instead (the logits "
                "divided by the temperature, -inf where a token is removed): generate() takes "
                "the softmax itself"
            )
    expect(
        bool(torch.isfinite(got).any(-1).all()),
        f"{where}with {_setting(temperature, top_k, top_p)} a row lost every token: the best token "
        "must always survive",
    )
    return got


def _kept(scores: Any) -> list[list[bool]]:
    import torch

    return torch.isfinite(scores).tolist()


def _same_scores(got: Any, want: Any) -> bool:
    import torch

    return _kept(got) == _kept(want) and torch.allclose(
        got[torch.isfinite(want)], want[torch.isfinite(want)], rtol=1e-5, atol=1e-5
    )


def _safe_p(scores: Any, p: float) -> float:
    """``p``, moved a little where some row's running mass lands too close to it to call."""

    probs = scores.double().softmax(-1).sort(-1, descending=True).values
    before = probs.cumsum(-1) - probs
    while bool(((before - p).abs() < 1e-4).any()):
        p = round(p + 0.0137, 4)
    return p


def _check_filter(fn: Any) -> None:
    import torch

    # the example of the notebook's text: probabilities 0.05, 0.5, 0.15, 0.3 and top_p = 0.7
    probs = torch.tensor([[0.05, 0.5, 0.15, 0.3]])
    got = _filter(fn, probs.log(), 1.0, 0, 0.7)
    kept = _kept(got)[0]
    if kept == [False, True, False, False]:
        raise CheckFailed(
            "with probabilities [0.05, 0.5, 0.15, 0.3] and top_p=0.7 you kept only 0.5: the "
            "token that crosses top_p stays too (0.5 + 0.3 ≥ 0.7), so the kept mass reaches top_p"
        )
    if kept == [True, True, True, False]:
        raise CheckFailed(
            "you added up the probabilities in vocabulary order; sort them from most to least "
            "likely first"
        )
    expect(
        kept == [False, True, False, True],
        "with probabilities [0.05, 0.5, 0.15, 0.3] and top_p=0.7 the kept tokens should be "
        f"[False, True, False, True], got {kept}",
    )
    expect(
        _same_scores(got, _hf_filter(probs.log(), 1.0, 0, 0.7)),
        "kept scores must keep their values (the logits divided by the temperature); only the "
        "removed ones become -inf",
    )

    # temperature first: at T = 2 top-p sees a flatter distribution and keeps one token more
    logits = torch.tensor([[0.5, 0.3, 0.15, 0.05]]).log()
    got = _filter(fn, logits, 2.0, 0, 0.75)
    want = _hf_filter(logits, 2.0, 0, 0.75)
    if not _same_scores(got, want):
        filtered = _hf_filter(logits, 1.0, 0, 0.75)
        if _same_scores(got, filtered / 2.0):
            raise CheckFailed(
                "you apply the temperature after filtering: divide by it first, as generate() "
                "does, since top-p must judge the distribution you will sample from (at T=2 "
                "probabilities [0.5, 0.3, 0.15, 0.05] flatten and top_p=0.75 keeps 3 tokens, not 2)"
            )
        if _same_scores(got, filtered) or _same_scores(got, logits):
            raise CheckFailed(
                "the temperature is missing: divide the logits by it (the kept scores at T=2 "
                "are half the logits)"
            )
        raise CheckFailed(
            f"at T=2, top_p=0.75 on probabilities [0.5, 0.3, 0.15, 0.05] you kept "
            f"{_kept(got)[0]}, generate() keeps {_kept(want)[0]}"
        )

    # top-k: the k-th highest score and everything tied with it stay
    logits = torch.tensor([[4.0, 1.0, 3.0, 0.0, 2.0]])
    got = _filter(fn, logits, 1.0, 2, 1.0)
    count = sum(_kept(got)[0])
    if count == 3:
        raise CheckFailed(
            "top_k=2 kept 3 tokens: the k-th highest score sits at index k - 1 of the sorted "
            "scores, so you keep one too many"
        )
    expect(
        _kept(got)[0] == [True, False, True, False, False],
        f"top_k=2 on logits [4, 1, 3, 0, 2] should keep the 4 and the 3, got {_kept(got)[0]}",
    )
    ties = torch.tensor([[3.0, 1.0, 3.0, 3.0, 0.0]])
    got = _filter(fn, ties, 1.0, 2, 1.0)
    if sum(_kept(got)[0]) == 2:
        raise CheckFailed(
            "top_k=2 on logits [3, 1, 3, 3, 0] kept only two of the three tied 3s: like "
            "transformers, keep every token whose score is at least the k-th highest (ties "
            "can keep more than k)"
        )
    expect(
        _kept(got)[0] == [True, False, True, True, False],
        f"top_k=2 on logits [3, 1, 3, 3, 0] should keep the three 3s, got {_kept(got)[0]}",
    )
    big = torch.randn(2, 6, generator=torch.Generator().manual_seed(11))
    try:
        got = _filter(fn, big, 1.0, 10, 1.0)
    except UsedReference:
        raise
    except CheckFailed as err:
        if "raised" not in str(err):
            raise
        raise CheckFailed(
            f"top_k=10 with a vocabulary of 6 tokens failed ({err}): a k larger than the "
            "vocabulary keeps every token (clip it, as transformers does)"
        ) from None
    expect(
        all(all(row) for row in _kept(got)),
        "top_k=10 with a vocabulary of 6 tokens must keep every token",
    )

    # top-p: tiny p keeps the best token only; top_p=1.0 is no filter at all
    got = _filter(fn, torch.tensor([[5.0, 0.0, -1.0]]), 1.0, 0, 0.001)
    expect(
        _kept(got)[0] == [True, False, False], "a tiny top_p must still keep the single best token"
    )
    wide = torch.randn(2, 500, generator=torch.Generator().manual_seed(5)) * 4
    got = _filter(fn, wide, 1.0, 0, 1.0)
    lost = 1000 - sum(map(sum, _kept(got)))
    expect(
        lost == 0,
        f"top_p=1.0 dropped {lost} of 1,000 tokens: 1.0 switches top-p off (keep every token; "
        "the running sum rounds up to 1.0 before the least likely tokens)",
    )
    # ties at the top-p boundary: as many as the rule needs, whichever of the tied ones
    for row, p in (([2.0, 1.0, 1.0, 0.0], 0.6), ([0.0] + [1.0] * 8, 0.3)):
        logits = torch.tensor([row])
        got, want = _filter(fn, logits, 1.0, 0, p), _hf_filter(logits, 1.0, 0, p)
        n_got, n_want = sum(_kept(got)[0]), sum(_kept(want)[0])
        boundary = float(logits[torch.isfinite(want)].min())
        strict = [(v > boundary, v < boundary) for v in row]
        fair = all(
            k if above else (not k) if below else True
            for k, (above, below) in zip(_kept(got)[0], strict, strict=True)
        )
        if n_got > n_want and fair:
            raise CheckFailed(
                f"logits {row} with top_p={p}: you kept every token tied at the boundary "
                f"({n_got}); like transformers, keep only as many as the mass needs ({n_want}), "
                "whichever of the tied tokens your sort puts first"
            )
        expect(
            n_got == n_want and fair,
            f"logits {row} with top_p={p}: you kept {_kept(got)[0]}, generate() keeps "
            f"{n_want} (the best, then tied tokens until the mass reaches top_p)",
        )

    # hidden: random batches, vocabularies and settings (the notebook never shows them)
    gen = torch.Generator().manual_seed(2024)
    for case in range(8):
        vocab = int(torch.randint(30, 200, (1,), generator=gen))
        scale = 0.5 + 4 * float(torch.rand(1, generator=gen))
        logits = torch.randn(4, vocab, generator=gen) * scale
        temperature = round(0.4 + 1.2 * float(torch.rand(1, generator=gen)), 2)
        top_k = (0, int(torch.randint(2, vocab, (1,), generator=gen)), vocab + 7)[case % 3]
        top_p = 1.0 if case % 4 == 3 else round(0.2 + 0.75 * float(torch.rand(1, generator=gen)), 2)
        if top_p < 1.0:
            top_p = _safe_p(_hf_filter(logits, temperature, top_k, 1.0), top_p)
        where = f"on hidden random logits (4 rows of {vocab} tokens) "
        got = _filter(fn, logits, temperature, top_k, top_p, where)
        want = _hf_filter(logits, temperature, top_k, top_p)
        for r in range(4):
            n_got, n_want = sum(_kept(got)[r]), sum(_kept(want)[r])
            expect(
                _kept(got)[r] == _kept(want)[r],
                f"on hidden random logits (4 rows of {vocab} tokens, "
                f"{_setting(temperature, top_k, top_p)}) row {r}: you kept {n_got} tokens, "
                f"generate() keeps {n_want}" + (" other ones" if n_got == n_want else ""),
            )
        expect_close(
            got.softmax(-1),
            want.softmax(-1),
            f"the distribution you sample from (hidden logits, {_setting(temperature, top_k, top_p)})",
            atol=1e-6,
        )


def _tiny_gpt2(seed: int) -> Any:
    """A small random GPT-2 with peaked next-token distributions, built from ``seed``."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    gen = torch.Generator().manual_seed(seed)
    pick = lambda lo, hi: int(torch.randint(lo, hi + 1, (1,), generator=gen))  # noqa: E731
    config = GPT2Config(
        vocab_size=pick(40, 120),
        n_positions=64,
        n_embd=16 * pick(1, 2),
        n_layer=pick(1, 2),
        n_head=2,
        bos_token_id=0,
        eos_token_id=0,
        initializer_range=0.3 + 0.1 * pick(0, 5),
    )
    torch.manual_seed(seed)
    return GPT2LMHeadModel(config).eval()


def _hf_generate(model: Any, ids: Any, n: int, temperature: float, top_k: int, top_p: float,
                 seed: int | None) -> Any:  # fmt: skip
    """``model.generate`` sampling with the global seed ``seed`` (greedy when ``seed`` is None)."""
    import torch

    sampling = {"do_sample": False}
    if seed is not None:
        torch.manual_seed(seed)
        sampling = {"do_sample": True, "temperature": temperature, "top_k": top_k, "top_p": top_p}
    return model.generate(
        ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=n,
        pad_token_id=0,
        eos_token_id=None,
        **sampling,
    )


@contextlib.contextmanager
def _watched(model: Any) -> Iterator[tuple[list[tuple[int, int]], list[str]]]:
    """Record what reaches the model's transformer (new tokens, cached positions) and
    whether ``model.generate`` is called, on this instance only."""
    inner = model.transformer
    forward, generate = inner.forward, model.generate
    calls: list[tuple[int, int]] = []
    used: list[str] = []

    def watched_forward(*args: Any, **kwargs: Any) -> Any:
        ids = kwargs.get("input_ids", args[0] if args else None)
        cache = kwargs.get("cache", kwargs.get("past_key_values"))
        cache = args[1] if cache is None and len(args) > 1 else cache
        past = int(cache.get_seq_length()) if hasattr(cache, "get_seq_length") else 0
        calls.append((int(ids.shape[1]) if hasattr(ids, "shape") else -1, past))
        return forward(*args, **kwargs)

    def watched_generate(*args: Any, **kwargs: Any) -> Any:
        used.append("model.generate")
        return generate(*args, **kwargs)

    inner.forward, model.generate = watched_forward, watched_generate
    try:
        yield calls, used
    finally:
        del inner.forward, model.generate


def _diagnose_calls(
    calls: list[tuple[int, int]], prompt_len: int, n: int, finished: bool = True
) -> None:
    """Fail with what the loop fed the model, unless it is: the prompt once, then one new
    token at a time with a cache that holds everything before it."""
    expect(bool(calls), "`generate_cached` never called the model: run it on the prompt first")
    first, rest = calls[0], calls[1:]
    expect(
        first == (prompt_len, 0),
        f"the first call to the model should get the whole prompt ({prompt_len} tokens, no "
        f"cache yet), it got {first[0]} tokens with {first[1]} cached positions",
    )
    for step, (new, past) in enumerate(rest, start=1):
        if past == 0 and new > 1:
            raise CheckFailed(
                f"your loop runs the whole text through the model at every step (call {step + 1} "
                f"got {new} tokens and no cache): the tokens can come out right, but that is "
                "the slow loop the cache exists to avoid; pass the cache of the previous call "
                "with cache= and only the new token"
            )
        if past > 0 and new > 1:
            raise CheckFailed(
                f"call {step + 1} got {new} tokens together with a cache of {past} positions: "
                "with the cache, feed only the new token, or the model reads the text twice at "
                "the wrong positions"
            )
        if past == 0:
            raise CheckFailed(
                f"call {step + 1} got the new token but no cache: the model then sees one token "
                "at position 0 and forgets the text; pass the cache of the previous call with "
                "cache="
            )
        expect(
            past == prompt_len + step - 1,
            f"call {step + 1} got a cache of {past} positions, expected "
            f"{prompt_len + step - 1}: pass the cache of the latest call",
        )
    expect(
        not finished or len(rest) in (n - 1, n),
        f"{len(calls)} calls to the model for {n} new tokens: one for the prompt, then one per "
        "new token",
    )


def _loop_cases() -> list[tuple[int, int, int, int, float, int, float, str]]:
    """(model seed, batch, prompt length, new tokens, temperature, top_k, top_p, what) cases."""
    return [
        (101, 1, 4, 10, 0.9, 0, 0.9, "top-p sampling"),
        (101, 3, 6, 8, 1.3, 25, 1.0, "top-k sampling of a batch"),
        (202, 2, 3, 10, 0.7, 10, 0.8, "temperature, top-k and top-p together"),
        (202, 2, 5, 6, 1.0, 1, 1.0, "top_k=1, which is greedy decoding"),
        (303, 2, 4, 6, 1.0, 0, 0.001, "a top_p so small that only the best token survives"),
        (303, 1, 5, 6, 0.0001, 0, 1.0, "a temperature of 0.0001"),
        (303, 3, 3, 6, 1.1, 500, 0.95, "a top_k larger than the vocabulary"),
    ]


def _check_loop(fn: Any) -> None:
    import torch

    models: dict[int, Any] = {}
    for seed, batch, length, n, temperature, top_k, top_p, what in _loop_cases():
        model = models.setdefault(seed, _tiny_gpt2(seed))
        vocab = model.config.vocab_size
        gen = torch.Generator().manual_seed(seed + length)
        ids = torch.randint(1, vocab, (batch, length), generator=gen)
        sample_seed = seed + 17 * length
        want = _hf_generate(model, ids, n, temperature, top_k, top_p, sample_seed)
        setting = f"{what} ({_setting(temperature, top_k, top_p)}, batch {batch})"
        torch.manual_seed(sample_seed + 1)  # not the generator's seed: use the generator
        error: CheckFailed | None = None
        got = None
        with _watched(model) as (calls, used):
            try:
                got = call_own(
                    fn,
                    model,
                    ids.clone(),
                    n,
                    temperature,
                    top_k,
                    top_p,
                    torch.Generator().manual_seed(sample_seed),
                    forbid=SAMPLER_FORBID,
                    name="generate_cached",
                )
            except NotAttempted:
                raise
            except CheckFailed as err:
                error = err
        if used:
            raise UsedReference(
                "your loop calls `model.generate`, the ready-made version of what this exercise "
                "asks you to build: call the model itself, one step at a time"
            )
        if isinstance(error, UsedReference):
            raise error
        _diagnose_calls(calls, length, n, finished=error is None)
        if error is not None:
            if "probability tensor" in str(error) and temperature < 0.01:
                raise CheckFailed(
                    f"with {setting} your probabilities overflowed ({error}): take the softmax "
                    "of the filtered scores, which stays finite however large they get"
                )
            raise error
        expect(
            isinstance(got, torch.Tensor) and not got.is_floating_point(),
            f"`generate_cached` should return a tensor of token ids, got {type(got).__name__}"
            + (f" of {got.dtype}" if isinstance(got, torch.Tensor) else ""),
        )
        expect_shape(
            got,
            (batch, length + n),
            f"generate_cached(...) for {batch} prompts of {length} tokens and {n} new ones",
        )
        got = got.long()
        expect(
            torch.equal(got[:, :length], ids),
            "the result must start with the prompt, followed by the new tokens",
        )
        if torch.equal(got, want):
            continue
        if torch.equal(got, _hf_generate(model, ids, n, 1.0, 0, 1.0, None)):
            raise CheckFailed(
                f"{setting}: you wrote the most likely token every time: sample it from the "
                "softmax of the filtered scores with torch.multinomial"
            )
        torch.manual_seed(sample_seed)  # as generate() had it: does the learner's draw follow it?
        again = call(fn, model, ids.clone(), n, temperature, top_k, top_p,
                     torch.Generator().manual_seed(sample_seed), name="generate_cached")  # fmt: skip
        if isinstance(again, torch.Tensor) and torch.equal(again.long(), want):
            raise CheckFailed(
                "your draws ignore the `generator` (they follow torch's global seed): pass "
                "generator=generator to torch.multinomial, so the same seed gives the same text"
            )
        row, step = (got[:, length:] != want[:, length:]).nonzero()[0].tolist()
        raise CheckFailed(
            f"{setting}, on a small random GPT-2 the check built: row {row} differs from "
            f"model.generate(do_sample=True) with the same seed at new token {step + 1} "
            f"(you drew {int(got[row, length + step])}, generate drew "
            f"{int(want[row, length + step])}); draw one token per row per step with one "
            "torch.multinomial call on the softmax of filter_logits' scores"
        )


@exercise(
    "07.1",
    "your own sampler: temperature, top-k, top-p and a KV-cached loop",
    hint=(
        "Follow generate()'s order: the temperature reshapes the distribution first, then "
        "top-k and top-p cut its tail. In the loop the prompt goes through the model once; "
        "after that only the newest token does, together with the cache the model gave back.",
        "Top-k: a token stays when its score is at least the k-th highest of its row (ties "
        "stay, a k above the vocabulary keeps all). Top-p: sorted from best to worst, a token "
        "stays while the probability of the tokens before it is still below top_p; 1.0 means "
        "no filter at all.",
        "Each model call returns .logits (the last position scores the next token) and "
        ".cache (hand it to the next call with cache=, along with a (batch, 1) tensor of the "
        "new ids). Draw with torch.multinomial on the softmax, passing the generator, once "
        "per step for the whole batch, and concatenate along the sequence axis.",
    ),
)
def sampler(filter_fn: Any, generate_fn: Any) -> str:
    """Exercise 07.1: ``filter_logits`` and ``generate_cached``, held to ``generate()``.

    ``filter_logits`` must give exactly the scores of transformers' Temperature, TopK and
    TopP warpers in generate()'s order (at a tie on the top-p boundary: the same number of
    tokens, any of the tied ones), on the notebook's example, on edge cases and on hidden
    random batches. ``generate_cached`` runs on small random GPT-2 models built here, and
    must draw, token for token, what ``torch.manual_seed(s); model.generate(do_sample=True,
    ...)`` draws, with a ``torch.Generator`` seeded with the same ``s``: the two agree because
    both take one ``torch.multinomial`` sample per step for the whole batch from the same
    probabilities (verified on random models, batches and settings; greedy ``generate`` is
    the reference for the edge cases top_k=1 and a tiny top_p). What reaches the model is
    watched too: the prompt once, then one new token per call with the cache.
    """
    import torch
    import transformers

    level, threads = transformers.logging.get_verbosity(), torch.get_num_threads()
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(1)  # tiny models: one thread is several times faster than two
    try:
        with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _check_filter(filter_fn)
            try:
                _check_loop(generate_fn)
            except NotAttempted:
                raise CheckFailed(
                    "`filter_logits` gives generate()'s scores on every test; `generate_cached` "
                    "still raises NotImplementedError: write the loop next"
                ) from None
    finally:
        transformers.logging.set_verbosity(level)
        torch.set_num_threads(threads)
    return (
        "Your sampler draws generate()'s tokens, seed for seed, and feeds the model one "
        "token per step."
    )


# --------------------------------------------------------------------------- 07.2 coverage


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
        "Ask one yes/no question per attribute value: does the text mention it? Coverage is "
        "the share of yes answers.",
        "Two traps in the examples: 'Navy' in the text counts for 'navy', but 'tan' must not be "
        "found inside 'Tanned': a mention is a whole word (or words), whatever the case.",
        "A plain `in` test finds pieces of words; a regular expression can also demand that no "
        "letter or digit stands right before or right after the value. Values such as '1.7 l' "
        "hold characters that mean something in a regex: the re module can make them literal.",
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
        got = call_own(
            fn,
            text,
            dict(attrs),
            forbid=("coursekit.copywriter.attribute_coverage",),
            name="coverage",
        )
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


def _reference_distinct(texts: list[str], n: int) -> float:
    grams = []
    for text in texts:
        toks = text.lower().split()
        grams.extend(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))
    return len(set(grams)) / len(grams) if grams else 0.0


@exercise(
    "07.3",
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
        got = call_own(
            fn, list(texts), n, forbid=("coursekit.generate.distinct_n",), name="distinct_n"
        )
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


def _reference_step(q: Any, k_new: Any, v_new: Any, cache_k: Any, cache_v: Any) -> tuple:
    import torch

    k = torch.cat([cache_k, k_new], dim=-2)
    v = torch.cat([cache_v, v_new], dim=-2)
    w = (q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])).softmax(-1)
    return w @ v, k, v


@exercise(
    "07.4",
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
    got = call_own(
        fn,
        q.clone(),
        k_new.clone(),
        v_new.clone(),
        cache_k.clone(),
        cache_v.clone(),
        forbid=["coursekit.generate.cached_attention"],
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
