"""Language-modelling data: texts as ``<|endoftext|> text <|endoftext|>`` ids, padded or packed.

:func:`encode_texts` is the evaluation protocol of :mod:`coursekit.lm`;
:func:`causal_lm_collator` pads a batch (mask from the lengths, labels -100 on padding) and
:func:`pack_texts` cuts one long stream into full blocks for training.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import torch

from coursekit.lm.loss import labels_from

if TYPE_CHECKING:  # pragma: no cover
    from transformers import PreTrainedTokenizerBase


def encode_texts(
    texts: Iterable[str], tokenizer: PreTrainedTokenizerBase, max_length: int | None = None
) -> list[list[int]]:
    """``<|endoftext|> text <|endoftext|>`` as id lists, truncated to ``max_length`` ids.

    The leading end-of-text works as a beginning-of-sequence marker, so the first
    word is predicted too. This is the evaluation protocol of the module.
    """
    if isinstance(texts, str):
        raise TypeError("encode_texts expects a list of texts, not a single str")
    bos, eos = _bos_eos(tokenizer)
    out = []
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"texts must be str, got {type(text).__name__}")
        ids = [bos, *tokenizer(text, add_special_tokens=False)["input_ids"], eos]
        out.append(ids[:max_length] if max_length else ids)
    return out


def _bos_eos(tokenizer: Any) -> tuple[int, int]:
    eos = tokenizer.eos_token_id
    bos = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else eos
    if eos is None or bos is None:
        raise ValueError("the tokenizer needs an eos token (e.g. <|endoftext|>)")
    return int(bos), int(eos)


def causal_lm_collator(
    tokenizer: PreTrainedTokenizerBase, max_length: int = 128
) -> Callable[[Sequence[Any]], dict[str, torch.Tensor]]:
    """A ``DataLoader`` ``collate_fn`` that turns texts (or id lists) into a padded LM batch.

    Each item is a ``str`` (encoded as in :func:`encode_texts`), a list of ids, or a dict
    with ``"input_ids"``. Returns ``input_ids``, ``attention_mask`` (from the lengths,
    never by comparing with the pad id, which is also the end-of-text id) and
    ``labels`` (the ids with -100 on padding), right-padded to the longest item.
    """
    if max_length < 2:
        raise ValueError(f"max_length must be at least 2, got {max_length}")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else _bos_eos(tokenizer)[1]

    def collate(items: Sequence[Any]) -> dict[str, torch.Tensor]:
        rows: list[list[int]] = []
        for item in items:
            if isinstance(item, str):
                rows.extend(encode_texts([item], tokenizer, max_length))
            elif isinstance(item, Mapping):
                rows.append([int(i) for i in item["input_ids"]][:max_length])
            else:
                rows.append([int(i) for i in item][:max_length])
        if not rows:
            raise ValueError("cannot collate an empty batch")
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), int(pad), dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
            mask[i, : len(r)] = 1
        return {"input_ids": ids, "attention_mask": mask, "labels": labels_from(ids, mask)}

    return collate


def pack_texts(
    texts: Iterable[str], tokenizer: PreTrainedTokenizerBase, block_size: int = 128
) -> torch.Tensor:
    """Concatenate ``text <|endoftext|> text <|endoftext|> …`` and cut it into full blocks.

    Returns ``(n_blocks, block_size)`` ids; the ragged tail is dropped. Packing wastes
    no compute on padding: every position of every block is a training target.
    """
    if block_size < 2:
        raise ValueError(f"block_size must be at least 2, got {block_size}")
    _, eos = _bos_eos(tokenizer)
    stream: list[int] = [eos]
    for ids in encode_texts(texts, tokenizer):
        stream.extend(ids[1:])  # each text already ends with eos, which starts the next
    n = len(stream) // block_size
    if n == 0:
        raise ValueError(
            f"the texts give only {len(stream)} tokens, fewer than one block of {block_size}"
        )
    return torch.tensor(stream[: n * block_size], dtype=torch.long).view(n, block_size)


__all__ = ["causal_lm_collator", "encode_texts", "pack_texts"]
