"""Evaluating a language model: token-weighted :func:`mean_nll` and :func:`perplexity`.

Texts are encoded with the module's protocol (:func:`coursekit.lm.data.encode_texts`) and
scored in batches without gradients; the mean is over predicted tokens, not over batches,
so the numbers are comparable with the count baselines of :mod:`coursekit.lm.baselines`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

from coursekit.lm.data import causal_lm_collator, encode_texts
from coursekit.lm.loss import IGNORE_INDEX, labels_from

if TYPE_CHECKING:  # pragma: no cover
    from transformers import PreTrainedTokenizerBase


def _mean_nll_of_batches(
    model: Any, batches: Iterable[Mapping[str, torch.Tensor]]
) -> tuple[float, int]:
    device = next(model.parameters()).device
    total, count = 0.0, 0
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for batch in batches:
                ids = batch["input_ids"].to(device)
                mask = batch.get("attention_mask")
                mask = mask.to(device) if mask is not None else torch.ones_like(ids)
                labels = batch.get("labels")
                labels = labels.to(device) if labels is not None else labels_from(ids, mask)
                logits = model(input_ids=ids, attention_mask=mask).logits
                targets = labels[:, 1:].reshape(-1)
                nll = F.cross_entropy(
                    logits[:, :-1].float().reshape(-1, logits.shape[-1]),
                    targets,
                    ignore_index=IGNORE_INDEX,
                    reduction="sum",
                )
                total += float(nll)
                count += int((targets != IGNORE_INDEX).sum())
    finally:
        model.train(was_training)
    return total, count


def mean_nll(
    model: Any,
    texts_or_batches: Iterable[Any],
    tokenizer: PreTrainedTokenizerBase | None = None,
    batch_size: int = 16,
    max_length: int | None = None,
) -> float:
    """Token-weighted mean negative log-likelihood (nats per predicted token).

    ``texts_or_batches`` is a list of texts (needs ``tokenizer``; encoded with
    :func:`encode_texts`), or an iterable of batches (dicts with ``input_ids``,
    optional ``attention_mask``/``labels``) such as a ``DataLoader`` with
    :func:`causal_lm_collator`. Averages over tokens, not over batches.
    """
    items = list(texts_or_batches) if not isinstance(texts_or_batches, str) else None
    if items is None:
        raise TypeError("pass a list of texts, not a single str")
    if not items:
        raise ValueError("nothing to evaluate: no texts or batches")
    if isinstance(items[0], str):
        if tokenizer is None:
            raise ValueError("texts need a tokenizer= to be encoded")
        limit = max_length or int(getattr(model.config, "n_positions", 1024))
        collate = causal_lm_collator(tokenizer, max_length=limit)
        # longest first: fewer padded positions per batch, same result
        encoded = sorted(encode_texts(items, tokenizer, limit), key=len, reverse=True)
        batches = (collate(encoded[i : i + batch_size]) for i in range(0, len(encoded), batch_size))
    else:
        batches = iter(items)
    total, count = _mean_nll_of_batches(model, batches)
    if count == 0:
        raise ValueError("no token to predict: every label is padding")
    return total / count


def perplexity(
    model: Any,
    texts_or_batches: Iterable[Any],
    tokenizer: PreTrainedTokenizerBase | None = None,
    batch_size: int = 16,
    max_length: int | None = None,
) -> float:
    """``exp(mean NLL per predicted token)``: the effective number of tokens the model hesitates between.

    Same inputs as :func:`mean_nll`. A uniform model over ``V`` tokens scores ``V``;
    a model certain of every next token scores 1.
    """
    return math.exp(mean_nll(model, texts_or_batches, tokenizer, batch_size, max_length))


__all__ = ["mean_nll", "perplexity"]
