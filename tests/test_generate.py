"""Decoding by hand (coursekit.generate) against transformers' own logits processors and generate()."""

from __future__ import annotations

import math

import pytest
import torch
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    NoBadWordsLogitsProcessor,
    NoRepeatNGramLogitsProcessor,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from coursekit import generate as G

VOCAB = 50


@pytest.fixture(scope="module")
def model() -> GPT2LMHeadModel:
    torch.manual_seed(0)
    cfg = GPT2Config(
        vocab_size=VOCAB,
        n_positions=300,
        n_embd=32,
        n_layer=2,
        n_head=4,
        bos_token_id=0,
        eos_token_id=0,
        pad_token_id=0,
    )
    return GPT2LMHeadModel(cfg).eval()


def _logits(seed: int, batch: int = 4, vocab: int = VOCAB, scale: float = 3.0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, vocab, generator=gen) * scale


def _ids(seed: int, batch: int = 4, length: int = 30, vocab: int = 8) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, vocab, (batch, length), generator=gen)


# --------------------------------------------------------------------------- filters vs HF


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9, 0.95, 1.0])
def test_top_p_equals_hf(seed: int, p: float) -> None:
    logits = _logits(seed)
    ids = _ids(seed)
    want = TopPLogitsWarper(top_p=p)(ids, logits.clone())
    got = G.top_p_filter(logits, p)
    assert torch.equal(torch.isinf(got), torch.isinf(want))
    assert torch.allclose(got[~torch.isinf(got)], want[~torch.isinf(want)])


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("k", [1, 5, 20, VOCAB, 500])
def test_top_k_equals_hf(seed: int, k: int) -> None:
    logits = _logits(seed)
    want = TopKLogitsWarper(top_k=k)(_ids(seed), logits.clone())
    assert torch.equal(G.top_k_filter(logits, k), want)
    assert int((~torch.isinf(G.top_k_filter(logits, k))).sum(-1)[0]) == min(k, VOCAB)


@pytest.mark.parametrize("t", [0.3, 1.0, 2.5])
def test_temperature_equals_hf_and_keeps_argmax(t: float) -> None:
    logits = _logits(1)
    want = TemperatureLogitsWarper(temperature=t)(_ids(1), logits.clone())
    got = G.apply_temperature(logits, t)
    assert torch.allclose(got, want)
    assert torch.equal(got.argmax(-1), logits.argmax(-1))  # greedy ignores temperature


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("penalty", [0.7, 1.3, 2.0])
def test_repetition_penalty_equals_hf(seed: int, penalty: float) -> None:
    logits = _logits(seed)
    ids = _ids(seed, vocab=VOCAB)
    want = RepetitionPenaltyLogitsProcessor(penalty=penalty)(ids, logits.clone())
    got = G.repetition_penalty(logits, ids, penalty)
    assert torch.allclose(got, want)
    assert not torch.equal(got, logits)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n", [1, 2, 3])
def test_no_repeat_ngram_equals_hf(seed: int, n: int) -> None:
    logits = _logits(seed)
    ids = _ids(seed, vocab=6)  # a small vocabulary so n-grams repeat
    want = NoRepeatNGramLogitsProcessor(n)(ids, logits.clone())
    got = G.no_repeat_ngram_filter(logits, ids, n)
    assert torch.equal(torch.isinf(got), torch.isinf(want))
    assert torch.isinf(got).any()


def test_banned_ngram_tokens_small_example() -> None:
    assert G.banned_ngram_tokens([5, 7, 9, 5], 2) == [7]
    assert G.banned_ngram_tokens([5, 7, 9, 5, 7], 3) == [9]
    assert G.banned_ngram_tokens([1, 2], 3) == []
    assert G.banned_ngram_tokens([1, 2, 1], 1) == [1, 2]


@pytest.mark.parametrize("seed", range(5))
def test_banned_sequences_equal_hf_bad_words_for_one_prompt(seed: int) -> None:
    ids = _ids(seed, vocab=6)  # small vocabulary: the prefixes of banned sequences occur
    gen = torch.Generator().manual_seed(seed)
    bad = [torch.randint(0, 6, (int(n),), generator=gen).tolist() for n in [1, 2, 2, 3, 3, 4]]
    bad = [seq for seq in bad if seq != [0]]  # HF refuses to ban the eos token alone
    logits = _logits(seed)
    want = NoBadWordsLogitsProcessor(bad, eos_token_id=0)(ids, logits.clone())
    got = G.BannedSequences([bad])(ids, logits)
    assert torch.equal(torch.isinf(got), torch.isinf(want))
    assert torch.equal(got[~torch.isinf(got)], logits[~torch.isinf(got)])  # the rest untouched


def test_banned_sequences_belong_to_their_own_prompt() -> None:
    # rows 0-1 are prompt 0's two samples, rows 2-3 prompt 1's: each bans only its own list
    ids = torch.tensor([[3, 4], [3, 5], [3, 4], [3, 5]])
    banned = G.BannedSequences([[[7], [4, 9]], [[8]]])
    out = banned(ids, torch.zeros(4, 12))
    hit = {(int(r), int(t)) for r, t in torch.isinf(out).nonzero()}
    assert hit == {(0, 7), (0, 9), (1, 7), (2, 8), (3, 8)}  # [4, 9] only after a 4
    empty = G.BannedSequences([[], []])(ids, torch.zeros(4, 12))
    assert not torch.isinf(empty).any()
    with pytest.raises(ValueError, match="3 rows cannot belong to 2 prompts"):
        banned(ids[:3], torch.zeros(3, 12))
    with pytest.raises(ValueError, match="one list of sequences per prompt"):
        G.BannedSequences([])


def test_filters_reject_bad_input() -> None:
    logits = _logits(0)
    with pytest.raises(ValueError, match="p must be"):
        G.top_p_filter(logits, 0.0)
    with pytest.raises(ValueError, match="k must be"):
        G.top_k_filter(logits, 0)
    with pytest.raises(ValueError, match="temperature"):
        G.apply_temperature(logits, 0)
    with pytest.raises(TypeError, match="torch.Tensor"):
        G.top_p_filter([[1.0, 2.0]], 0.5)
    with pytest.raises(ValueError, match="batch, vocab"):
        G.top_k_filter(logits[0], 3)


def test_top_p_keeps_the_token_that_crosses_p() -> None:
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    kept = ~torch.isinf(G.top_p_filter(probs.log(), 0.7))
    assert kept.tolist() == [[True, True, False, False]]
    kept = ~torch.isinf(G.top_p_filter(probs.log(), 0.5))
    assert kept.tolist() == [[True, False, False, False]]


# --------------------------------------------------------------------------- KV cache vs HF


def test_hand_forward_equals_hf_logits(model: GPT2LMHeadModel) -> None:
    ids = _ids(3, batch=2, length=12, vocab=VOCAB)
    with torch.no_grad():
        want = model(ids).logits
        got, cache = G.gpt2_forward(model, ids)
        assert torch.allclose(got, want, atol=1e-5)
        assert len(cache) == 2 and cache[0][0].shape == (2, 4, 12, 8)
        # the last position computed from the cache of the first 11 equals the full pass
        _, cache11 = G.gpt2_forward(model, ids[:, :11])
        step, _ = G.gpt2_forward(model, ids[:, 11:], cache11)
    assert torch.allclose(step[:, 0], want[:, -1], atol=1e-5)


def test_greedy_cached_equals_hf_use_cache(model: GPT2LMHeadModel) -> None:
    ids = _ids(4, batch=1, length=6, vocab=VOCAB)
    hf = model.generate(
        ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=40,
        do_sample=False,
        use_cache=True,
        pad_token_id=0,
        eos_token_id=None,
    )
    cached = G.greedy_cached(model, ids, 40)
    uncached = G.greedy_uncached(model, ids, 40)
    assert cached.shape == (1, 46)
    assert torch.equal(cached, hf)
    assert torch.equal(uncached, hf)


def test_greedy_stops_at_eos(model: GPT2LMHeadModel) -> None:
    ids = _ids(4, batch=1, length=6, vocab=VOCAB)
    full = G.greedy_cached(model, ids, 40)
    first = int(full[0, 6])
    stopped = G.greedy_cached(model, ids, 40, eos_token_id=first)
    assert stopped.shape == (1, 7)


def test_sampling_equals_hf_generate_with_same_seed(model: GPT2LMHeadModel) -> None:
    ids = _ids(5, batch=1, length=5, vocab=VOCAB)
    kwargs = dict(temperature=0.8, top_k=20, top_p=0.9)
    torch.manual_seed(7)
    hf = model.generate(
        ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=30,
        do_sample=True,
        repetition_penalty=1.2,
        no_repeat_ngram_size=2,
        pad_token_id=0,
        eos_token_id=None,
        **kwargs,
    )
    torch.manual_seed(7)
    mine = G.sample_cached(model, ids, 30, repetition=1.2, no_repeat_ngram_size=2, **kwargs)
    assert torch.equal(mine, hf)


def test_sampling_is_seeded(model: GPT2LMHeadModel) -> None:
    ids = _ids(5, batch=3, length=5, vocab=VOCAB)
    a = G.sample_cached(model, ids, 20, generator=torch.Generator().manual_seed(1))
    b = G.sample_cached(model, ids, 20, generator=torch.Generator().manual_seed(1))
    c = G.sample_cached(model, ids, 20, generator=torch.Generator().manual_seed(2))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_cached_attention_masks_the_future() -> None:
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, 2, 5, 4, generator=gen) for _ in range(3))
    full, (kc, vc) = G.cached_attention(q, k, v)
    assert kc.shape == (1, 2, 5, 4)
    want = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert torch.allclose(full, want, atol=1e-6)
    # two steps: 3 positions, then 2 more with the cache
    first, cache = G.cached_attention(q[:, :, :3], k[:, :, :3], v[:, :, :3])
    second, cache = G.cached_attention(q[:, :, 3:], k[:, :, 3:], v[:, :, 3:], cache)
    assert torch.allclose(torch.cat([first, second], dim=2), want, atol=1e-6)
    assert cache[0].shape == (1, 2, 5, 4)


def test_decoders_reject_bad_input(model: GPT2LMHeadModel) -> None:
    with pytest.raises(TypeError, match="2-D"):
        G.greedy_cached(model, [1, 2, 3], 5)
    with pytest.raises(ValueError, match="empty"):
        G.greedy_cached(model, torch.zeros(1, 0, dtype=torch.long), 5)
    with pytest.raises(ValueError, match="n_positions"):
        G.gpt2_forward(model, torch.zeros(1, 301, dtype=torch.long))


# --------------------------------------------------------------------------- diversity


def test_distinct_n() -> None:
    assert G.distinct_n(["a b c d"], 1) == 1.0
    assert G.distinct_n(["a a a a"], 1) == 0.25
    assert G.distinct_n(["red shoe", "red shoe"], 2) == 0.5
    assert G.distinct_n([""], 2) == 0.0
    with pytest.raises(TypeError):
        G.distinct_n("a b c", 1)


def test_self_bleu() -> None:
    same = ["the red running shoe is light and soft"] * 3
    diverse = ["the red running shoe", "a warm wool scarf for winter", "blue cotton socks pack"]
    assert math.isclose(G.self_bleu(same), 1.0)
    assert G.self_bleu(diverse) < 0.2
    with pytest.raises(ValueError, match="two texts"):
        G.self_bleu(["only one"])


def test_words_keeps_prices() -> None:
    assert G.words("Only $19.99, in Red!") == ["only", "$19.99", ",", "in", "red", "!"]
