"""The causal LM loss: :func:`shifted_cross_entropy` and the ``labels=`` of :func:`labels_from`.

Position ``t`` predicts token ``t + 1``, so the loss compares ``logits[:, :-1]`` with
``input_ids[:, 1:]``; padding gets the label :data:`IGNORE_INDEX` (-100) and does not count.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

IGNORE_INDEX = -100


def shifted_cross_entropy(
    logits: torch.Tensor,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None = None,
    ignore_index: int = IGNORE_INDEX,
) -> torch.Tensor:
    """Mean next-token cross-entropy: position ``t`` predicts token ``t + 1``.

    ``logits`` ``(batch, seq, vocab)``, ``input_ids`` ``(batch, seq)`` (may already hold
    ``ignore_index`` as labels do), ``attention_mask`` ``(batch, seq)`` with 0 on padding.
    Equals the loss ``GPT2LMHeadModel`` returns for ``labels=`` the same ids with -100 on padding.
    """
    _check_tensor(logits, "logits")
    _check_tensor(input_ids, "input_ids")
    if logits.dim() != 3:
        raise ValueError(f"logits should be (batch, seq, vocab), got shape {tuple(logits.shape)}")
    if tuple(input_ids.shape) != tuple(logits.shape[:2]):
        raise ValueError(
            f"input_ids shape {tuple(input_ids.shape)} does not match logits "
            f"{tuple(logits.shape)}: expected (batch, seq) = {tuple(logits.shape[:2])}"
        )
    labels = input_ids.long().clone()
    if attention_mask is not None:
        _check_tensor(attention_mask, "attention_mask")
        if attention_mask.shape != input_ids.shape:
            raise ValueError(
                f"attention_mask shape {tuple(attention_mask.shape)} does not match "
                f"input_ids {tuple(input_ids.shape)}"
            )
        labels = labels.masked_fill(attention_mask == 0, ignore_index)
    shift_logits = logits[:, :-1, :].float()
    shift_labels = labels[:, 1:]
    return F.cross_entropy(
        shift_logits.reshape(-1, shift_logits.shape[-1]),
        shift_labels.reshape(-1),
        ignore_index=ignore_index,
    )


def labels_from(
    input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None
) -> torch.Tensor:
    """The ``labels=`` a Hugging Face causal LM wants: the ids themselves, -100 on padding.

    No shift here: the model shifts internally.
    """
    labels = input_ids.clone()
    if attention_mask is not None:
        labels[attention_mask == 0] = IGNORE_INDEX
    return labels


def _check_tensor(x: Any, name: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} should be a torch.Tensor, got {type(x).__name__}")


__all__ = ["IGNORE_INDEX", "labels_from", "shifted_cross_entropy"]
