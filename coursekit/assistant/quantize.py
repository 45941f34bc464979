"""Serving cost: int8 weights for the MiniLM encoder, by hand and with PyTorch's own path.

**By hand** (:func:`quantize_per_channel`): every output channel (row) ``w`` of a Linear
weight gets its own scale ``s = max|w| / 127``; the stored weight is ``q = round(w / s)``,
int8 in ``[-127, 127]``, and ``dequantize(q, s) = q * s`` is within ``s / 2`` of ``w``.
A row of zeros gets ``s = 1`` (no division by zero). 4 bytes per weight become 1, plus one
scale per row. :func:`quantize_linears_by_hand` puts the dequantized weights back into a copy
of the encoder, to measure what the rounding does to retrieval (speed is unchanged: the
matrix products still run in float32).

**Library** (:func:`quantize_dynamic_int8`): :func:`torch.ao.quantization.quantize_dynamic`
stores the Linear weights in int8 and runs int8 matrix products on the CPU (fbgemm/x86
kernels, activations quantized on the fly). It ships with PyTorch, so nothing new to
install; torchao is its announced successor but is a separate package with CPU kernels that
vary by version, which this course can't pin for every learner. PyTorch marks the
``torch.ao.quantization`` namespace deprecated, and :func:`quantize_dynamic_int8` silences
exactly that notice (and says so in its docstring).
"""

from __future__ import annotations

import copy
import io
import time
from collections.abc import Sequence
from typing import Any

import numpy as np


def _check_weight(weight: Any) -> Any:
    import torch

    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"weight should be a torch.Tensor, got {type(weight).__name__}")
    if weight.ndim != 2:
        raise ValueError(
            f"weight should be 2-D (out_features, in_features), got shape {tuple(weight.shape)}"
        )
    if not torch.is_floating_point(weight):
        raise TypeError(f"weight should be floating point, got {weight.dtype}")
    return weight


def quantize_per_channel(weight: Any) -> tuple[Any, Any]:
    """``(q, scale)``: int8 ``q`` of ``weight``'s shape and one float32 scale per row (absmax)."""
    import torch

    w = _check_weight(weight).detach().float()
    absmax = w.abs().amax(dim=1)
    scale = torch.where(absmax > 0, absmax / 127.0, torch.ones_like(absmax))
    q = torch.round(w / scale[:, None]).clamp(-127, 127).to(torch.int8)
    return q, scale


def dequantize(q: Any, scale: Any) -> Any:
    """``q * scale`` per row, in float32."""
    import torch

    if not isinstance(q, torch.Tensor) or q.dtype != torch.int8:
        raise TypeError("q should be an int8 torch.Tensor (from quantize_per_channel)")
    if scale.ndim != 1 or scale.shape[0] != q.shape[0]:
        raise ValueError(
            f"need one scale per row: q has {q.shape[0]} rows, scale {tuple(scale.shape)}"
        )
    return q.float() * scale[:, None].float()


def quantize_linears_by_hand(model: Any, quantizer: Any = None) -> tuple[Any, int]:
    """A copy of ``model`` whose Linear weights went through int8 and back; and its int8 size
    in bytes (int8 Linear weights + float32 scales + every other parameter in float32).

    ``quantizer(weight) -> (q, scale)`` defaults to :func:`quantize_per_channel`.
    """
    import torch

    quantizer = quantize_per_channel if quantizer is None else quantizer
    qmodel = copy.deepcopy(model).eval()
    size = 0
    with torch.no_grad():
        for module in qmodel.modules():
            if isinstance(module, torch.nn.Linear):
                q, scale = quantizer(module.weight)
                module.weight.copy_(dequantize(q, scale))
                size += q.numel() + 4 * scale.numel()
        linear_weights = {id(m.weight) for m in qmodel.modules() if isinstance(m, torch.nn.Linear)}
        size += sum(4 * p.numel() for p in qmodel.parameters() if id(p) not in linear_weights)
    return qmodel, size


def quantize_dynamic_int8(model: Any, per_channel: bool = True) -> Any:
    """PyTorch's dynamic int8 quantization of every Linear (a copy; CPU only).

    ``per_channel=True`` gives each output channel its own weight scale, as by hand
    (``per_channel_dynamic_qconfig``); ``False`` is PyTorch's default, one scale per matrix.
    Silences only PyTorch's deprecation notices for the ``torch.ao.quantization`` namespace.
    """
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantize_per_.*", category=UserWarning)
        from torch.ao.quantization import (
            default_dynamic_qconfig,
            per_channel_dynamic_qconfig,
            quantize_dynamic,
        )

        qconfig = per_channel_dynamic_qconfig if per_channel else default_dynamic_qconfig
        return quantize_dynamic(copy.deepcopy(model).eval(), {torch.nn.Linear: qconfig})


def serialized_size(model: Any) -> int:
    """Bytes of ``torch.save(model.state_dict())``: what the weights cost on disk."""
    import torch

    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return buf.getbuffer().nbytes


def embed_with(encoder: Any, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """:func:`coursekit.retrieval.embed` with a given encoder (the course's tokenizer)."""
    import torch

    from coursekit.retrieval import MAX_LENGTH, load_encoder, mean_pool

    tokenizer, _ = load_encoder()
    texts = list(texts)
    out = np.empty((len(texts), int(encoder.config.hidden_size)), dtype=np.float32)
    order = np.argsort([-len(t) for t in texts], kind="stable")  # little padding per batch
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            chunk = [texts[i] for i in idx]
            batch = tokenizer(
                chunk, padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="pt"
            )
            pooled = mean_pool(encoder(**batch).last_hidden_state, batch["attention_mask"])
            out[idx] = torch.nn.functional.normalize(pooled, dim=1).numpy()
    return out


def top1(encoder: Any, questions: Sequence[str], documents: Sequence[str]) -> np.ndarray:
    """The index of the best document for each question, both embedded by ``encoder``."""
    q, d = embed_with(encoder, questions), embed_with(encoder, documents)
    return np.argmax(q @ d.T, axis=1)


def queries_per_second(encoder: Any, questions: Sequence[str], repeats: int = 1) -> float:
    """Questions embedded per second (batches of 64), best of ``repeats`` runs."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        embed_with(encoder, questions)
        best = min(best, time.perf_counter() - started)
    return len(questions) / best


__all__ = [
    "dequantize",
    "embed_with",
    "quantize_dynamic_int8",
    "quantize_linears_by_hand",
    "quantize_per_channel",
    "queries_per_second",
    "serialized_size",
    "top1",
]
