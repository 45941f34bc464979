"""Sentence embeddings: the MiniLM encoder, mean pooling over the mask, unit length.

:func:`load_encoder` loads the course's local MiniLM once per process; :func:`embed` runs
it on texts sorted by length, mean-pools the real tokens (:func:`mean_pool`) and normalises
(:func:`normalize`), so a dot product is a cosine (:func:`cosine_similarity`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: the encoder's token limit used by sentence-transformers for all-MiniLM-L6-v2
MAX_LENGTH = 256


@functools.lru_cache(maxsize=2)
def load_encoder(model: str | None = None) -> tuple[Any, Any]:
    """The (tokenizer, model) pair, loaded once per process, in eval mode on the CPU.

    ``model=None`` is the course's local MiniLM (:func:`coursekit.env.minilm_path`);
    a Hugging Face hub id is allowed only when the machine is online.
    """
    from transformers import AutoModel, AutoTokenizer

    from coursekit import env

    if model is None:
        source = env.minilm_path()
    else:
        if not isinstance(model, str) or not model.strip():
            raise TypeError("model should be a hub id or a local folder (a non-empty str)")
        source = model
        if not Path(model).expanduser().exists():
            env.require_online(f"the encoder {model!r}")
    tokenizer = AutoTokenizer.from_pretrained(source)
    encoder = AutoModel.from_pretrained(source)
    encoder.eval()
    return tokenizer, encoder


def mean_pool(token_embeddings: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average the token vectors of each text, counting only real tokens (mask == 1).

    ``token_embeddings`` is ``(batch, seq, dim)``, ``attention_mask`` is ``(batch, seq)``;
    the result is ``(batch, dim)``. Padding positions get weight 0.
    """
    mask = attention_mask.unsqueeze(-1).to(token_embeddings.dtype)  # (batch, seq, 1)
    summed = (token_embeddings * mask).sum(dim=1)
    counts = mask.sum(dim=1).clamp(min=1e-9)
    return summed / counts


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Scale each row to unit length (rows of zeros stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """All pairwise cosine similarities between the rows of ``a`` (n, d) and ``b`` (m, d)."""
    a2, b2 = np.atleast_2d(a), np.atleast_2d(b)
    if a2.shape[-1] != b2.shape[-1]:
        raise ValueError(
            f"embedding sizes differ: {a2.shape[-1]} vs {b2.shape[-1]}; "
            "embed both sides with the same model"
        )
    return normalize(a2) @ normalize(b2).T


def _check_texts(texts: Sequence[str] | str) -> list[str]:
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, Sequence) and not hasattr(texts, "__iter__"):
        raise TypeError(f"texts should be a list of str, not {type(texts).__name__}")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] is a {type(text).__name__}; every text must be a str")
    return texts


def embed(
    texts: Sequence[str] | str,
    model: str | None = None,
    batch_size: int = 64,
    normalize_output: bool = True,
    max_length: int = MAX_LENGTH,
) -> np.ndarray:
    """Sentence embeddings, ``(len(texts), 384)`` float32, unit length by default.

    Tokenize (truncate at ``max_length`` tokens; the model's own limit by default),
    run the encoder, mean-pool over the attention mask, normalise. Texts are sorted
    by length before batching, so each batch pads little (the output keeps the input
    order). The cost grows with the number of tokens: truncating long texts is the
    cheapest speed-up.
    """
    import torch

    texts = _check_texts(texts)
    if batch_size < 1 or max_length < 2:
        raise ValueError(
            f"need batch_size >= 1 and max_length >= 2, got {batch_size}, {max_length}"
        )
    tokenizer, encoder = load_encoder(model)
    dim = int(encoder.config.hidden_size)
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    order = np.argsort([-len(t) for t in texts], kind="stable")
    out = np.empty((len(texts), dim), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            batch = tokenizer(
                [texts[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=min(int(max_length), MAX_LENGTH),
                return_tensors="pt",
            )
            hidden = encoder(**batch).last_hidden_state
            pooled = mean_pool(hidden, batch["attention_mask"])
            if normalize_output:
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
            out[idx] = pooled.float().numpy()
    return out


__all__ = ["MAX_LENGTH", "cosine_similarity", "embed", "load_encoder", "mean_pool", "normalize"]
