"""Scaled dot-product attention, built by hand and checked against PyTorch and a real BERT.

The whole idea fits in one line::

    Attention(Q, K, V) = softmax(Q Kᵀ / √d_k) V

* ``Q`` (queries, ``(..., n_q, d_k)``): what each position is looking for;
* ``K`` (keys, ``(..., n_k, d_k)``): what each position offers to be found by;
* ``V`` (values, ``(..., n_k, d_v)``): what each position hands over when it is found.

``Q Kᵀ`` scores every query against every key (an ``n_q × n_k`` table), dividing by
``√d_k`` keeps the scores' variance near 1 whatever the head size (otherwise softmax
saturates into a one-hot and its gradients vanish), softmax turns each row into weights
that sum to 1, and the output is the weighted average of the values.

Masks say which keys a query may look at. Convention here (the same as
``torch.nn.functional.scaled_dot_product_attention``): a **boolean** mask is ``True``
where attention is *allowed*; a **float** mask is *added* to the scores (0 = allowed,
``-inf`` or a large negative number = blocked), which is what BERT does internally.

Multi-head attention runs ``h`` attentions side by side on ``d_model / h``-sized slices
(split → attend → merge → output projection). Everything here is tested against
``F.scaled_dot_product_attention``, ``nn.MultiheadAttention`` and MiniLM's own
attention probabilities (max abs difference ≤ 1e-5).
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from coursekit.train import count_parameters  # re-exported: A.count_parameters(mha)

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping


# --------------------------------------------------------------------------- building blocks


def stable_softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Softmax that never overflows: ``exp(x - max(x)) / sum(exp(x - max(x)))``.

    Subtracting the row maximum changes nothing mathematically (it cancels in the
    ratio) but keeps every exponent ≤ 0, so ``exp`` cannot overflow to ``inf``.
    A row that is entirely ``-inf`` (every key masked) gives zeros instead of NaN.
    """
    _check_tensor(x, "x")
    if not x.is_floating_point():
        x = x.float()
    top = x.amax(dim=dim, keepdim=True)
    top = torch.where(torch.isfinite(top), top, torch.zeros_like(top)).detach()
    e = torch.exp(x - top)
    total = e.sum(dim=dim, keepdim=True)
    return e / torch.where(total > 0, total, torch.ones_like(total))


def attention_scores(q: torch.Tensor, k: torch.Tensor, scale: float | None = None) -> torch.Tensor:
    """Raw scores ``Q Kᵀ · scale`` with shape ``(..., n_q, n_k)``; ``scale`` defaults to ``1/√d_k``."""
    _check_tensor(q, "q")
    _check_tensor(k, "k")
    if q.dim() < 2 or k.dim() < 2:
        raise ValueError(
            f"q and k need at least 2 dimensions (..., seq, d_k); got q {tuple(q.shape)}, "
            f"k {tuple(k.shape)}"
        )
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q and k must have the same last dimension d_k; got q {tuple(q.shape)} and "
            f"k {tuple(k.shape)}"
        )
    if q.shape[:-2] != k.shape[:-2]:
        raise ValueError(
            f"q and k must have the same batch/head dimensions; got q {tuple(q.shape)} and "
            f"k {tuple(k.shape)}"
        )
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    return (q @ k.transpose(-2, -1)) * scale


def causal_mask(n: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Boolean ``(n, n)`` mask, ``True`` on and below the diagonal: position i sees 0..i only.

    >>> causal_mask(3).int()
    tensor([[1, 0, 0],
            [1, 1, 0],
            [1, 1, 1]], dtype=torch.int32)
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"causal_mask needs a positive int sequence length, got {n!r}")
    return torch.ones(n, n, dtype=torch.bool, device=device).tril()


def padding_mask(attention_mask: torch.Tensor, heads: bool = False) -> torch.Tensor:
    """Turn a tokenizer's ``attention_mask`` ``(batch, seq)`` (1 = token, 0 = padding) into a key mask.

    Returns a boolean mask ``(batch, 1, seq)`` that broadcasts over the queries of
    ``(batch, n_q, n_k)`` scores, or ``(batch, 1, 1, seq)`` with ``heads=True`` for
    ``(batch, heads, n_q, n_k)`` scores. ``True`` = this key is a real token.
    Only *keys* are masked: padded queries still produce (ignored) outputs.
    """
    _check_tensor(attention_mask, "attention_mask")
    if attention_mask.dim() != 2:
        raise ValueError(
            f"attention_mask should be (batch, seq), got shape {tuple(attention_mask.shape)}"
        )
    mask = attention_mask.bool()
    return mask[:, None, None, :] if heads else mask[:, None, :]


def combine_masks(*masks: torch.Tensor | None) -> torch.Tensor | None:
    """Logical AND of boolean masks (broadcast); ``None`` entries are skipped."""
    out: torch.Tensor | None = None
    for m in masks:
        if m is None:
            continue
        m = m.bool()
        out = m if out is None else out & m
    return out


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    scale: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``softmax(Q Kᵀ/√d_k + mask) V``; returns ``(output, weights)``.

    Shapes: ``q (..., n_q, d_k)``, ``k (..., n_k, d_k)``, ``v (..., n_k, d_v)`` →
    output ``(..., n_q, d_v)``, weights ``(..., n_q, n_k)``. ``mask`` must broadcast to
    the weights' shape: boolean (``True`` = may attend) or float (added to the scores).
    Bad shapes raise a ``ValueError`` that names them.
    """
    _check_tensor(v, "v")
    if v.dim() < 2:
        raise ValueError(f"v needs at least 2 dimensions (..., seq, d_v); got {tuple(v.shape)}")
    scores = attention_scores(q, k, scale)
    if v.shape[:-2] != k.shape[:-2] or v.shape[-2] != k.shape[-2]:
        raise ValueError(
            f"k and v must have the same batch dimensions and sequence length; got "
            f"k {tuple(k.shape)} and v {tuple(v.shape)}"
        )
    if mask is not None:
        scores = apply_mask(scores, mask)
    weights = stable_softmax(scores, dim=-1)
    return weights @ v, weights


def apply_mask(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Block masked positions of ``scores``: boolean → ``-inf`` where ``False``; float → added."""
    _check_tensor(mask, "mask")
    try:
        shape = torch.broadcast_shapes(mask.shape, scores.shape)
    except RuntimeError:
        shape = None
    if shape != scores.shape:
        raise ValueError(
            f"mask of shape {tuple(mask.shape)} does not broadcast to the attention scores "
            f"of shape {tuple(scores.shape)} (..., n_q, n_k); build it with causal_mask(n) "
            "or padding_mask(attention_mask)"
        )
    if mask.dtype == torch.bool:
        return scores.masked_fill(~mask, float("-inf"))
    if not mask.is_floating_point():
        raise ValueError(
            f"mask must be bool (True = attend) or float (added to scores), got {mask.dtype}"
        )
    return scores + mask.to(scores.dtype)


# --------------------------------------------------------------------------- multi-head


def split_heads(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    """``(batch, seq, d_model)`` → ``(batch, heads, seq, d_model / heads)``."""
    _check_tensor(x, "x")
    if x.dim() != 3:
        raise ValueError(f"split_heads expects (batch, seq, d_model), got {tuple(x.shape)}")
    b, n, d = x.shape
    if d % n_heads:
        raise ValueError(f"d_model={d} is not divisible by n_heads={n_heads}")
    return x.view(b, n, n_heads, d // n_heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """``(batch, heads, seq, d_head)`` → ``(batch, seq, heads * d_head)`` (inverse of split)."""
    _check_tensor(x, "x")
    if x.dim() != 4:
        raise ValueError(f"merge_heads expects (batch, heads, seq, d_head), got {tuple(x.shape)}")
    b, h, n, d = x.shape
    return x.transpose(1, 2).reshape(b, n, h * d)


class MultiHeadAttention(nn.Module):
    """Multi-head attention written out: project, split, attend, merge, project.

    ``d_model`` is split into ``n_heads`` heads of size ``d_model // n_heads``; the
    parameters are four ``d_model × d_model`` linear maps (Q, K, V, output), so
    ``4·d_model² + 4·d_model`` with biases whatever the number of heads.
    """

    def __init__(self, d_model: int, n_heads: int, bias: bool = True) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} is not divisible by n_heads={n_heads}")
        self.d_model, self.n_heads, self.d_head = d_model, n_heads, d_model // n_heads
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor | None = None,
        value: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        causal: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Self-attention when ``key``/``value`` are omitted. Returns ``(output, weights)``.

        ``attention_mask`` is the tokenizer's ``(batch, n_k)`` 0/1 mask (padding keys
        are ignored); ``causal=True`` also hides future positions. Weights are
        per head: ``(batch, heads, n_q, n_k)``.
        """
        key = query if key is None else key
        value = key if value is None else value
        for name, t in (("query", query), ("key", key), ("value", value)):
            _check_tensor(t, name)
            if t.dim() != 3 or t.shape[-1] != self.d_model:
                raise ValueError(
                    f"{name} should be (batch, seq, {self.d_model}), got {tuple(t.shape)}"
                )
        if key.shape[:2] != value.shape[:2] or query.shape[0] != key.shape[0]:
            raise ValueError(
                f"batch/sequence sizes disagree: query {tuple(query.shape)}, "
                f"key {tuple(key.shape)}, value {tuple(value.shape)}"
            )
        q = split_heads(self.q_proj(query), self.n_heads)
        k = split_heads(self.k_proj(key), self.n_heads)
        v = split_heads(self.v_proj(value), self.n_heads)
        mask = None
        if attention_mask is not None:
            if tuple(attention_mask.shape) != (key.shape[0], key.shape[1]):
                raise ValueError(
                    f"attention_mask should be (batch, n_k) = {(key.shape[0], key.shape[1])}, "
                    f"got {tuple(attention_mask.shape)}"
                )
            mask = padding_mask(attention_mask, heads=True)
        if causal:
            mask = combine_masks(mask, causal_mask_like(q, k))
        out, weights = scaled_dot_product_attention(q, k, v, mask)
        return self.out_proj(merge_heads(out)), weights

    @classmethod
    def from_torch(cls, mha: nn.MultiheadAttention) -> MultiHeadAttention:
        """Copy the weights of a ``torch.nn.MultiheadAttention`` (packed ``in_proj``) into a new module."""
        if not isinstance(mha, nn.MultiheadAttention):
            raise TypeError(f"expected nn.MultiheadAttention, got {type(mha).__name__}")
        if mha.in_proj_weight is None:
            raise ValueError("only nn.MultiheadAttention with equal q/k/v sizes is supported")
        d = mha.embed_dim
        bias = mha.in_proj_bias is not None
        out = cls(d, mha.num_heads, bias=bias).to(mha.in_proj_weight.dtype)
        with torch.no_grad():
            wq, wk, wv = mha.in_proj_weight.split(d)
            out.q_proj.weight.copy_(wq)
            out.k_proj.weight.copy_(wk)
            out.v_proj.weight.copy_(wv)
            out.out_proj.weight.copy_(mha.out_proj.weight)
            if bias:
                bq, bk, bv = mha.in_proj_bias.split(d)
                out.q_proj.bias.copy_(bq)
                out.k_proj.bias.copy_(bk)
                out.v_proj.bias.copy_(bv)
                out.out_proj.bias.copy_(mha.out_proj.bias)
        return out


def causal_mask_like(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """A causal mask for ``n_q`` queries over ``n_k`` keys (the queries are the *last* ``n_q``)."""
    n_q, n_k = q.shape[-2], k.shape[-2]
    return torch.ones(n_q, n_k, dtype=torch.bool, device=q.device).tril(diagonal=n_k - n_q)


# --------------------------------------------------------------------------- a real BERT


def _bert_layers(model: Any) -> Any:
    base = getattr(model, "base_model", model)
    encoder = getattr(base, "encoder", None)
    if encoder is None or not hasattr(encoder, "layer"):
        raise TypeError(
            f"expected a BERT-style model with .encoder.layer, got {type(model).__name__}"
        )
    return encoder.layer


def bert_attention_probs(
    model: Any, inputs: Mapping[str, torch.Tensor], layer: int = 0
) -> torch.Tensor:
    """Recompute a BERT layer's attention probabilities from its own Q/K weights.

    Runs ``model`` once to get the hidden states that *enter* ``layer``, then
    applies that layer's query and key projections, splits into heads and computes
    ``softmax(Q Kᵀ/√d_head + padding mask)`` with :func:`scaled_dot_product_attention`.
    Returns ``(batch, heads, seq, seq)``, to compare with the model's
    ``output_attentions`` (load it with ``attn_implementation="eager"``).
    """
    layers = _bert_layers(model)
    if not -len(layers) <= layer < len(layers):
        raise ValueError(f"layer {layer} out of range: the model has {len(layers)} layers")
    layer = layer % len(layers)
    if "input_ids" not in inputs:
        raise ValueError("inputs must be a tokenizer output with 'input_ids' (return_tensors='pt')")
    model.eval()
    with torch.no_grad():
        out = model(**inputs, output_hidden_states=True)
        hidden = out.hidden_states[layer]  # the input of encoder layer `layer`
        self_attn = layers[layer].attention.self
        n_heads = self_attn.num_attention_heads
        q = split_heads(self_attn.query(hidden), n_heads)
        k = split_heads(self_attn.key(hidden), n_heads)
        v = split_heads(self_attn.value(hidden), n_heads)
        mask = inputs.get("attention_mask")
        key_mask = padding_mask(mask, heads=True) if mask is not None else None
        _, weights = scaled_dot_product_attention(q, k, v, key_mask)
    return weights


# --------------------------------------------------------------------------- cost


def time_attention(
    seq_len: int,
    d_model: int = 256,
    n_heads: int = 4,
    batch: int = 1,
    repeats: int = 3,
    impl: str = "hand",
    dtype: torch.dtype = torch.float32,
) -> float:
    """Best-of-``repeats`` seconds for one causal attention call at ``seq_len``.

    ``impl="hand"`` is :func:`scaled_dot_product_attention` (materialises the
    ``seq × seq`` weights); ``impl="sdpa"`` is PyTorch's fused kernel.
    """
    if impl not in {"hand", "sdpa"}:
        raise ValueError(f"impl must be 'hand' or 'sdpa', got {impl!r}")
    gen = torch.Generator().manual_seed(0)
    shape = (batch, n_heads, seq_len, d_model // n_heads)
    q, k, v = (torch.randn(shape, generator=gen, dtype=dtype) for _ in range(3))
    mask = causal_mask(seq_len)
    best = math.inf
    with torch.no_grad():
        for _ in range(max(1, repeats)):
            start = time.perf_counter()
            if impl == "hand":
                scaled_dot_product_attention(q, k, v, mask)
            else:
                torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            best = min(best, time.perf_counter() - start)
    return best


def attention_memory(
    seq_len: int,
    d_model: int = 256,
    n_heads: int = 4,
    batch: int = 1,
    impl: str = "hand",
) -> int:
    """Bytes of all tensors created *during* one causal attention call (inputs excluded).

    Measured by intercepting every PyTorch operation (a ``TorchDispatchMode``) and adding
    up the sizes of the tensors it returns. The hand version creates several
    ``batch × heads × seq × seq`` tables (scores, masked scores, exponentials, weights):
    quadratic in ``seq``. The fused kernel returns only the output and a per-row buffer: linear.
    """
    from torch.utils._python_dispatch import TorchDispatchMode

    if impl not in {"hand", "sdpa"}:
        raise ValueError(f"impl must be 'hand' or 'sdpa', got {impl!r}")
    gen = torch.Generator().manual_seed(0)
    shape = (batch, n_heads, seq_len, d_model // n_heads)
    q, k, v = (torch.randn(shape, generator=gen) for _ in range(3))
    mask = causal_mask(seq_len)
    total = 0

    class _Count(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[override]
            nonlocal total
            out = func(*args, **(kwargs or {}))
            results = out if isinstance(out, (tuple, list)) else (out,)
            for r in results:
                if isinstance(r, torch.Tensor) and not r._is_view():
                    total += r.numel() * r.element_size()
            return out

    with torch.no_grad(), _Count():
        if impl == "hand":
            scaled_dot_product_attention(q, k, v, mask)
        else:
            torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    return total


def _check_tensor(x: Any, name: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} should be a torch.Tensor, got {type(x).__name__}")


__all__ = [
    "MultiHeadAttention",
    "apply_mask",
    "attention_memory",
    "attention_scores",
    "bert_attention_probs",
    "causal_mask",
    "causal_mask_like",
    "combine_masks",
    "count_parameters",
    "merge_heads",
    "padding_mask",
    "scaled_dot_product_attention",
    "split_heads",
    "stable_softmax",
    "time_attention",
]
