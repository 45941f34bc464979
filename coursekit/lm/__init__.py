"""Causal language modelling: shifted cross-entropy, perplexity, count baselines, a tiny GPT.

A causal language model reads tokens ``x_1 … x_{t}`` and predicts ``x_{t+1}``. Its
logits have shape ``(batch, seq, vocab)``: the row at position ``t`` is a guess about
the token at ``t + 1``. So the loss compares ``logits[:, :-1]`` with ``input_ids[:, 1:]``
(**shift by one**), flattened to ``(batch·(seq-1), vocab)`` vs ``(batch·(seq-1),)``::

    loss = -(1/N) Σ_t log p(x_{t+1} | x_1..x_t)      perplexity = exp(loss)

Padding positions get the label ``-100`` (``ignore_index``) and do not count.
A model that guesses uniformly over ``V`` tokens has loss ``log V`` and perplexity ``V``.

Evaluation protocol used everywhere in this module (so the numbers are comparable):
every text is encoded as ``<|endoftext|> text <|endoftext|>`` (:func:`encode_texts`);
the first token is context only, every other token (the text and the final end marker)
is predicted once. The count baselines (:class:`UnigramLM`, :class:`BigramLM`) and
:func:`perplexity` all score exactly those tokens.

:func:`train_tiny_gpt` trains a ``GPT2LMHeadModel`` built from :func:`tiny_gpt_config`
on packed blocks of text, deterministically on the CPU; :func:`load_shop_gpt` trains
the course's model on the shop's product copy once and caches it.

The code lives in submodules, one per topic; every name is re-exported here, so
``from coursekit import lm; lm.perplexity(model, texts, tokenizer)`` is the way to use them:

* :mod:`~coursekit.lm.loss`: :func:`shifted_cross_entropy`, :func:`labels_from` and
  :data:`IGNORE_INDEX`;
* :mod:`~coursekit.lm.data`: :func:`encode_texts` (the protocol), :func:`causal_lm_collator`
  and :func:`pack_texts`;
* :mod:`~coursekit.lm.model`: :func:`tiny_gpt_config`, :func:`config_for` and :func:`tiny_gpt`;
* :mod:`~coursekit.lm.evaluation`: :func:`mean_nll` and :func:`perplexity` of a model;
* :mod:`~coursekit.lm.baselines`: the count models :class:`UnigramLM` and :class:`BigramLM`;
* :mod:`~coursekit.lm.training`: :func:`train_tiny_gpt`, :class:`TrainHistory`, :func:`sample_text`;
* :mod:`~coursekit.lm.shop`: the shop's cached model (:func:`load_shop_gpt`) and its recipe.
"""

# Every name of the former single module is re-exported, the ones __all__ leaves out too.
# ruff: noqa: F401

from __future__ import annotations

from coursekit.lm.baselines import BigramLM, UnigramLM, _as_sequences, _CountLM
from coursekit.lm.data import _bos_eos, causal_lm_collator, encode_texts, pack_texts
from coursekit.lm.evaluation import _mean_nll_of_batches, mean_nll, perplexity
from coursekit.lm.loss import IGNORE_INDEX, _check_tensor, labels_from, shifted_cross_entropy
from coursekit.lm.model import config_for, tiny_gpt, tiny_gpt_config
from coursekit.lm.shop import (
    SHOP_GPT_PROMPTS,
    SHOP_GPT_RECIPE,
    SHOP_GPT_SETTINGS,
    _shop_gpt_folder,
    load_shop_gpt,
    load_shop_gpt_history,
    product_copy_texts,
)
from coursekit.lm.training import RandomBlocks, TrainHistory, sample_text, train_tiny_gpt

__all__ = [
    "IGNORE_INDEX",
    "BigramLM",
    "TrainHistory",
    "UnigramLM",
    "causal_lm_collator",
    "config_for",
    "encode_texts",
    "labels_from",
    "load_shop_gpt",
    "load_shop_gpt_history",
    "mean_nll",
    "pack_texts",
    "perplexity",
    "product_copy_texts",
    "sample_text",
    "shifted_cross_entropy",
    "tiny_gpt",
    "tiny_gpt_config",
    "train_tiny_gpt",
]
