"""Decoding by hand: how a language model's next-token scores become text.

A causal LM gives, at every step, one score (logit) per vocabulary token. Decoding
turns those scores into a choice, then appends it and asks again:

* **greedy**: take ``argmax``; deterministic, often repetitive;
* **temperature** ``T``: divide the logits by ``T`` before the softmax
  (``p_i ∝ exp(z_i / T)``); ``T < 1`` sharpens, ``T > 1`` flattens. It changes
  *nothing* under greedy decoding, since ``argmax(z / T) = argmax(z)``: it only
  matters when you *sample* (``do_sample=True`` in ``transformers``);
* **top-k**: keep the ``k`` highest logits, set the rest to ``-inf``;
* **top-p** (nucleus): keep the smallest set of most likely tokens whose probability
  adds up to at least ``p``;
* **repetition penalty** ``r``: for every token already in the sequence, divide a
  positive logit by ``r`` (multiply a negative one by ``r``);
* **no-repeat n-gram** ``n``: forbid any token that would complete an n-gram
  already present in the sequence.

Each filter here equals the matching ``transformers`` logits processor on the same
logits (tested). :func:`gpt2_forward` re-implements a ``GPT2LMHeadModel`` forward
pass with an explicit key/value cache, so :func:`greedy_cached` decodes one new
token per step without recomputing the prefix (the same tokens as
``model.generate(use_cache=True)``). :func:`distinct_n` and :func:`self_bleu`
measure how diverse a set of generated texts is.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: a layer's cache: keys and values of every position so far, ``(batch, heads, seq, head_dim)``
LayerCache = tuple["torch.Tensor", "torch.Tensor"]


# --------------------------------------------------------------------------- logits filters


def _check_logits(logits: Any) -> None:
    import torch

    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"logits must be a torch.Tensor, got {type(logits).__name__}")
    if logits.dim() != 2:
        raise ValueError(f"logits must have shape (batch, vocab), got {tuple(logits.shape)}")


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Divide the logits by ``temperature`` (> 0); the ranking of tokens does not change."""
    _check_logits(logits)
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    return logits / temperature


def top_k_filter(logits: torch.Tensor, k: int, filter_value: float = -math.inf) -> torch.Tensor:
    """Keep the ``k`` largest logits per row (ties with the k-th are kept), the rest become ``filter_value``."""
    import torch

    _check_logits(logits)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    k = min(k, logits.shape[-1])
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, filter_value)


def top_p_filter(
    logits: torch.Tensor, p: float, filter_value: float = -math.inf, min_tokens_to_keep: int = 1
) -> torch.Tensor:
    """Nucleus filter: keep the most likely tokens until their probabilities add up to ``p``.

    Sorted from most to least likely, a token is kept while the probability mass of the
    tokens *before* it is still below ``p``; so the token that crosses ``p`` is kept too.
    """
    import torch

    _check_logits(logits)
    if not 0 < p <= 1:
        raise ValueError(f"p must be in (0, 1], got {p}")
    if p == 1.0:  # everything is kept (and rounding in the running sum cannot drop a token)
        return logits.clone()
    sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
    probs = sorted_logits.softmax(dim=-1)
    mass_before = probs.cumsum(dim=-1) - probs
    remove_sorted = mass_before >= p
    remove_sorted[..., :min_tokens_to_keep] = False
    remove = torch.zeros_like(remove_sorted).scatter(-1, order, remove_sorted)
    return logits.masked_fill(remove, filter_value)


def repetition_penalty(
    logits: torch.Tensor, input_ids: torch.Tensor, penalty: float
) -> torch.Tensor:
    """Make every token already in ``input_ids`` less likely (``penalty`` > 1) or more (< 1).

    A positive logit is divided by ``penalty``, a negative one multiplied, so both move
    down; each token is penalised once however often it occurred.
    """
    import torch

    _check_logits(logits)
    if not penalty > 0:
        raise ValueError(f"penalty must be > 0, got {penalty}")
    out = logits.clone()
    for row in range(out.shape[0]):
        seen = input_ids[row].unique()
        seen = seen[seen < out.shape[-1]]
        scores = out[row, seen]
        out[row, seen] = torch.where(scores < 0, scores * penalty, scores / penalty)
    return out


def banned_ngram_tokens(tokens: Sequence[int], n: int) -> list[int]:
    """Tokens that would repeat an n-gram of ``tokens`` if they came next.

    The last ``n - 1`` tokens are the prefix; every earlier occurrence of that prefix
    bans the token that followed it. With ``n = 2`` and ``[5, 7, 9, 5]``: ``[7]``.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    tokens = [int(t) for t in tokens]
    if len(tokens) < n:
        return []
    prefix = tuple(tokens[len(tokens) - n + 1 :]) if n > 1 else ()
    banned = []
    for start in range(len(tokens) - n + 1):
        if tuple(tokens[start : start + n - 1]) == prefix:
            banned.append(tokens[start + n - 1])
    return sorted(set(banned))


def no_repeat_ngram_filter(logits: torch.Tensor, input_ids: torch.Tensor, n: int) -> torch.Tensor:
    """Set to ``-inf`` every token that would complete an n-gram already in ``input_ids``."""
    _check_logits(logits)
    out = logits.clone()
    for row in range(out.shape[0]):
        banned = banned_ngram_tokens(input_ids[row].tolist(), n)
        banned = [t for t in banned if t < out.shape[-1]]
        if banned:
            out[row, banned] = -math.inf
    return out


class BannedSequences:
    """Forbid token sequences, a list of its own for every prompt of a batch.

    ``transformers``' ``bad_words_ids`` holds one list for the whole batch; grounded copy
    needs one per product (each product lacks other values). ``banned[b]`` lists the token
    sequences prompt ``b`` must never complete: a sequence is banned by setting its last
    token to ``-inf`` whenever the text so far ends with the rest of it. ``generate``
    repeats each prompt for its samples or beams, so row ``r`` of a call belongs to prompt
    ``r // (rows // len(banned))``. Use it as a ``transformers`` logits processor
    (``logits_processor=LogitsProcessorList([BannedSequences(banned)])``); with one prompt
    it bans exactly what ``bad_words_ids=banned[0]`` bans (tested).
    """

    def __init__(self, banned: Sequence[Sequence[Sequence[int]]]):
        import torch

        if not banned:
            raise ValueError("banned needs one list of sequences per prompt, got none")
        self.n_prompts = len(banned)
        per_prompt = [{tuple(int(t) for t in seq) for seq in rows if len(seq)} for rows in banned]
        unique = sorted(set().union(*per_prompt))
        #: per sequence length: (sequences ``(S, L)``, which prompt bans which ``(prompts, S)``)
        self.tables: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        column: dict[tuple[int, ...], int] = {}
        chosen: dict[int, list[tuple[int, ...]]] = {}
        for seq in unique:
            column[seq] = len(chosen.setdefault(len(seq), []))
            chosen[len(seq)].append(seq)
        for length, seqs in chosen.items():
            pairs = [(b, column[seq]) for b, rows in enumerate(per_prompt) for seq in rows
                     if len(seq) == length]  # fmt: skip
            mask = torch.zeros(self.n_prompts, len(seqs), dtype=torch.bool)
            if pairs:
                mask[torch.tensor(pairs).T.unbind()] = True
            self.tables[length] = (torch.tensor(seqs, dtype=torch.long), mask)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        rows = input_ids.shape[0]
        if rows % self.n_prompts:
            raise ValueError(f"{rows} rows cannot belong to {self.n_prompts} prompts")
        scores = scores.clone()
        for length, (seqs, mask) in self.tables.items():
            hits = mask.repeat_interleave(rows // self.n_prompts, dim=0)
            if length > 1:
                if input_ids.shape[1] < length - 1:
                    continue
                tail = input_ids[:, -(length - 1) :]
                hits = hits & (tail[:, None, :] == seqs[None, :, :-1]).all(-1)
            row, seq = hits.nonzero(as_tuple=True)
            last = seqs[seq, -1]
            keep = last < scores.shape[-1]
            scores[row[keep], last[keep]] = -math.inf
        return scores


def process_logits(
    logits: torch.Tensor,
    input_ids: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    repetition: float = 1.0,
    no_repeat_ngram_size: int = 0,
) -> torch.Tensor:
    """All filters in ``transformers``' order: penalties first, then temperature, top-k, top-p."""
    if repetition != 1.0:
        logits = repetition_penalty(logits, input_ids, repetition)
    if no_repeat_ngram_size:
        logits = no_repeat_ngram_filter(logits, input_ids, no_repeat_ngram_size)
    if temperature != 1.0:
        logits = apply_temperature(logits, temperature)
    if top_k:
        logits = top_k_filter(logits, top_k)
    if top_p is not None and top_p < 1.0:
        logits = top_p_filter(logits, top_p)
    return logits


# --------------------------------------------------------------------------- GPT-2 with a KV cache


def cached_attention(
    q: torch.Tensor,
    k_new: torch.Tensor,
    v_new: torch.Tensor,
    past: LayerCache | None = None,
    scale: float | None = None,
) -> tuple[torch.Tensor, LayerCache]:
    """Causal attention for the new positions, reusing the keys and values of the old ones.

    ``q``, ``k_new``, ``v_new``: ``(batch, heads, new, head_dim)``; ``past``: the cached
    ``(K, V)`` of the earlier positions or ``None``. The new keys and values are appended
    to the cache; query ``i`` (absolute position ``past_len + i``) sees keys ``0 … past_len + i``.
    Returns the attention output ``(batch, heads, new, head_dim)`` and the grown cache.
    """
    import torch

    if past is not None:
        k = torch.cat([past[0], k_new], dim=2)
        v = torch.cat([past[1], v_new], dim=2)
    else:
        k, v = k_new, v_new
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    scores = (q @ k.transpose(-1, -2)) * scale
    n_new, n_all = q.shape[-2], k.shape[-2]
    if n_new > 1:  # a single new query may see everything: no mask needed
        allowed = torch.ones(n_new, n_all, dtype=torch.bool, device=q.device).tril(n_all - n_new)
        scores = scores.masked_fill(~allowed, -math.inf)
    return scores.softmax(dim=-1) @ v, (k, v)


def gpt2_forward(
    model: Any, input_ids: torch.Tensor, cache: list[LayerCache] | None = None
) -> tuple[torch.Tensor, list[LayerCache]]:
    """A ``GPT2LMHeadModel`` forward pass written out, with an explicit key/value cache.

    ``input_ids`` holds only the tokens *not yet* in ``cache`` (the whole prompt on the
    first call, then one token per step). Returns logits ``(batch, new, vocab)`` and the
    cache with one ``(K, V)`` per layer. No padding: every row has the same length.
    """
    import torch

    from coursekit.attention import merge_heads, split_heads

    cfg = model.config
    tr = model.transformer
    past_len = cache[0][0].shape[2] if cache else 0
    if past_len + input_ids.shape[1] > cfg.n_positions:
        raise ValueError(
            f"sequence of {past_len + input_ids.shape[1]} tokens is longer than the model's "
            f"n_positions={cfg.n_positions}"
        )
    positions = torch.arange(past_len, past_len + input_ids.shape[1], device=input_ids.device)
    h = tr.wte(input_ids) + tr.wpe(positions)
    new_cache: list[LayerCache] = []
    head_dim = cfg.n_embd // cfg.n_head
    for layer, block in enumerate(tr.h):
        scale = head_dim**-0.5 if cfg.scale_attn_weights else 1.0
        if cfg.scale_attn_by_inverse_layer_idx:
            scale /= layer + 1
        x = block.ln_1(h)
        q, k, v = block.attn.c_attn(x).split(cfg.n_embd, dim=2)
        q, k, v = (split_heads(t, cfg.n_head) for t in (q, k, v))
        out, kv = cached_attention(q, k, v, cache[layer] if cache else None, scale=scale)
        h = h + block.attn.c_proj(merge_heads(out))
        h = h + block.mlp(block.ln_2(h))
        new_cache.append(kv)
    return model.lm_head(tr.ln_f(h)), new_cache


def greedy_cached(
    model: Any, input_ids: torch.Tensor, max_new_tokens: int, eos_token_id: int | None = None
) -> torch.Tensor:
    """Greedy decoding with the hand-written KV cache: the prompt once, then one token per step."""
    import torch

    _check_ids(input_ids)
    with torch.no_grad():
        logits, cache = gpt2_forward(model, input_ids)
        out = input_ids
        for _ in range(max_new_tokens):
            nxt = logits[:, -1, :].argmax(dim=-1, keepdim=True)
            out = torch.cat([out, nxt], dim=1)
            if eos_token_id is not None and bool((nxt == eos_token_id).all()):
                break
            logits, cache = gpt2_forward(model, nxt, cache)
    return out


def greedy_uncached(
    model: Any, input_ids: torch.Tensor, max_new_tokens: int, eos_token_id: int | None = None
) -> torch.Tensor:
    """Greedy decoding that recomputes the whole sequence at every step (no cache)."""
    import torch

    _check_ids(input_ids)
    out = input_ids
    with torch.no_grad():
        for _ in range(max_new_tokens):
            logits, _ = gpt2_forward(model, out)
            nxt = logits[:, -1, :].argmax(dim=-1, keepdim=True)
            out = torch.cat([out, nxt], dim=1)
            if eos_token_id is not None and bool((nxt == eos_token_id).all()):
                break
    return out


def sample_cached(
    model: Any,
    input_ids: torch.Tensor,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    repetition: float = 1.0,
    no_repeat_ngram_size: int = 0,
    eos_token_id: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Sampling with the filters of :func:`process_logits` and the hand-written KV cache.

    Draws from ``softmax(filtered logits)`` with ``torch.multinomial``; pass a seeded
    ``generator`` for repeatable text. Rows that produced ``eos_token_id`` keep getting it.
    """
    import torch

    _check_ids(input_ids)
    with torch.no_grad():
        logits, cache = gpt2_forward(model, input_ids)
        out = input_ids
        done = torch.zeros(input_ids.shape[0], dtype=torch.bool)
        for _ in range(max_new_tokens):
            scores = process_logits(
                logits[:, -1, :], out, temperature, top_k, top_p, repetition, no_repeat_ngram_size
            )
            nxt = torch.multinomial(scores.softmax(dim=-1), 1, generator=generator)
            if eos_token_id is not None:
                nxt = nxt.masked_fill(done.unsqueeze(1), eos_token_id)
                done |= nxt.squeeze(1) == eos_token_id
            out = torch.cat([out, nxt], dim=1)
            if bool(done.all()):
                break
            logits, cache = gpt2_forward(model, nxt, cache)
    return out


def _check_ids(input_ids: Any) -> None:
    import torch

    if not isinstance(input_ids, torch.Tensor) or input_ids.dim() != 2:
        raise TypeError("input_ids must be a 2-D torch.Tensor of token ids (batch, seq)")
    if input_ids.shape[1] == 0:
        raise ValueError("input_ids is empty: give at least one prompt token")


# --------------------------------------------------------------------------- diversity


_WORD = re.compile(r"[a-z0-9$.']+|[^\sa-z0-9]", re.IGNORECASE)


def words(text: str) -> list[str]:
    """Lower-cased words, numbers (``$19.99`` stays whole) and punctuation marks."""
    if not isinstance(text, str):
        raise TypeError(f"expected a str, got {type(text).__name__}")
    return [w.strip(".") or w for w in _WORD.findall(text.lower())]


def distinct_n(texts: Sequence[str], n: int = 1) -> float:
    """Distinct-n: unique n-grams divided by all n-grams, over all ``texts`` together.

    1.0 means no n-gram ever repeats; near 0 means the same phrases over and over.
    """
    if isinstance(texts, str):
        raise TypeError("distinct_n expects a list of texts, not one str")
    grams: Counter[tuple[str, ...]] = Counter()
    for text in texts:
        toks = words(text)
        grams.update(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))
    total = sum(grams.values())
    return len(grams) / total if total else 0.0


def self_bleu(texts: Sequence[str], max_n: int = 4) -> float:
    """Mean BLEU of each text against all the others as references (NLTK, smoothed).

    High self-BLEU (near 1) means the candidates are near copies of one another;
    a diverse set scores low. Needs at least two texts.
    """
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    if isinstance(texts, str) or len(texts) < 2:
        raise ValueError("self_bleu needs a list of at least two texts")
    tokenized = [words(t) for t in texts]
    weights = tuple([1.0 / max_n] * max_n)
    smooth = SmoothingFunction().method1
    scores = []
    for i, hyp in enumerate(tokenized):
        refs = [t for j, t in enumerate(tokenized) if j != i]
        scores.append(sentence_bleu(refs, hyp, weights=weights, smoothing_function=smooth))
    return float(sum(scores) / len(scores))


__all__ = [
    "apply_temperature",
    "BannedSequences",
    "banned_ngram_tokens",
    "cached_attention",
    "distinct_n",
    "gpt2_forward",
    "greedy_cached",
    "greedy_uncached",
    "no_repeat_ngram_filter",
    "process_logits",
    "repetition_penalty",
    "sample_cached",
    "self_bleu",
    "top_k_filter",
    "top_p_filter",
    "words",
]
