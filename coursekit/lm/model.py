"""The tiny GPT: a small ``GPT2Config`` (:func:`tiny_gpt_config`, :func:`config_for`) and its model.

About 1M parameters with the course's 4k BPE vocabulary, tied embeddings and the
tokenizer's special ids; :func:`tiny_gpt` initialises a ``GPT2LMHeadModel`` from a seed, so
the same configuration always gives the same weights.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from coursekit.lm.data import _bos_eos

if TYPE_CHECKING:  # pragma: no cover
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerBase


def tiny_gpt_config(
    vocab_size: int,
    n_positions: int = 128,
    n_embd: int = 128,
    n_layer: int = 4,
    n_head: int = 4,
    *,
    dropout: float = 0.1,
    bos_token_id: int = 0,
    eos_token_id: int = 0,
    pad_token_id: int = 0,
    **kw: Any,
) -> GPT2Config:
    """A small GPT-2 configuration (≈ 1M parameters with a 4k vocabulary at the defaults).

    Tied input/output embeddings, the same ``dropout`` on embeddings, residuals and
    attention, and the special-token ids of the course's BPE (``<|endoftext|>`` is id 0).
    Extra keyword arguments go to ``GPT2Config``.
    """
    from transformers import GPT2Config

    if vocab_size < 2:
        raise ValueError(f"vocab_size must be at least 2, got {vocab_size}")
    if n_embd % n_head:
        raise ValueError(f"n_embd={n_embd} is not divisible by n_head={n_head}")
    params = dict(
        vocab_size=vocab_size,
        n_positions=n_positions,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=n_head,
        n_inner=4 * n_embd,
        resid_pdrop=dropout,
        embd_pdrop=dropout,
        attn_pdrop=dropout,
        bos_token_id=bos_token_id,
        eos_token_id=eos_token_id,
        pad_token_id=pad_token_id,
        tie_word_embeddings=True,
    )
    params.update(kw)
    return GPT2Config(**params)


def tiny_gpt(config: GPT2Config, seed: int = 0) -> GPT2LMHeadModel:
    """A freshly initialised ``GPT2LMHeadModel`` (seeded, so the same config gives the same weights)."""
    from transformers import GPT2LMHeadModel

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return GPT2LMHeadModel(config)


def config_for(tokenizer: PreTrainedTokenizerBase, **kw: Any) -> GPT2Config:
    """:func:`tiny_gpt_config` with the vocabulary size and special ids of ``tokenizer``."""
    bos, eos = _bos_eos(tokenizer)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    kw.setdefault("bos_token_id", bos)
    kw.setdefault("eos_token_id", eos)
    kw.setdefault("pad_token_id", pad)
    return tiny_gpt_config(len(tokenizer), **kw)


__all__ = ["config_for", "tiny_gpt", "tiny_gpt_config"]
