"""LoRA by hand: a frozen linear layer plus a trainable low-rank update ``B·A`` scaled by ``α/r``.

For a frozen weight ``W`` (``out × in``), LoRA learns ``A`` (``r × in``) and ``B`` (``out × r``)::

    y = x Wᵀ + b + (α / r) · x Aᵀ Bᵀ          B starts at zero, so training starts from W

Only ``r · (in + out)`` numbers per layer train (and need AdamW's two state tensors), and
:meth:`LoRALinear.merge` folds the update into one ordinary ``nn.Linear`` (``W + (α/r)·B A``)
that runs exactly as fast as the original. :func:`add_lora` wraps the named layers of a model
(MiniLM's attention ``query``/``value``, as ``peft``'s ``LoraConfig(target_modules=...)``
does) and freezes everything else; :func:`merge_lora` undoes the wrapping;
:func:`lora_state_dict` is what must be saved (the adapter).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn


class LoRALinear(nn.Module):
    """``base(x) + (alpha / r) · dropout(x) @ A.T @ B.T`` with ``base`` frozen.

    ``A`` starts like ``nn.Linear``'s weight (Kaiming-uniform, as ``peft`` does) and ``B`` at
    zero, so the wrapped layer first computes exactly what ``base`` did.
    """

    def __init__(self, base: nn.Linear, r: int = 8, alpha: float = 16, dropout: float = 0.0):
        super().__init__()
        if not isinstance(base, nn.Linear):
            raise TypeError(f"LoRALinear wraps an nn.Linear, got {type(base).__name__}")
        if not isinstance(r, int) or r <= 0:
            raise ValueError(f"r must be a positive int (the rank, e.g. 8), got {r!r}")
        if alpha <= 0:
            raise ValueError(f"alpha must be > 0 (e.g. 2 * r), got {alpha!r}")
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)
        self.r, self.alpha = r, float(alpha)
        self.scaling = self.alpha / r
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features, dtype=base.weight.dtype))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r, dtype=base.weight.dtype))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    @property
    def in_features(self) -> int:
        return self.base.in_features

    @property
    def out_features(self) -> int:
        return self.base.out_features

    def delta_weight(self) -> torch.Tensor:
        """The update LoRA adds to ``W``: ``(alpha / r) · B @ A`` (``out × in``)."""
        return self.scaling * (self.lora_B @ self.lora_A)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        update = self.dropout(x) @ self.lora_A.T @ self.lora_B.T
        return self.base(x) + self.scaling * update

    def merge(self) -> nn.Linear:
        """A plain ``nn.Linear`` with ``W + (alpha / r) · B A``: same outputs, no extra cost."""
        merged = nn.Linear(self.in_features, self.out_features, bias=self.base.bias is not None).to(
            self.base.weight.device, self.base.weight.dtype
        )
        with torch.no_grad():
            merged.weight.copy_(self.base.weight + self.delta_weight())
            if self.base.bias is not None:
                merged.bias.copy_(self.base.bias)
        return merged

    def extra_repr(self) -> str:
        return f"r={self.r}, alpha={self.alpha:g}, scaling={self.scaling:g}"


def _matches(name: str, targets: Sequence[str]) -> bool:
    """``peft``'s rule for a list of targets: the module's name is a target or ends with ``.target``."""
    return any(name == t or name.endswith("." + t) for t in targets)


def add_lora(
    model: nn.Module,
    targets: Sequence[str] = ("query", "value"),
    r: int = 8,
    alpha: float = 16,
    dropout: float = 0.0,
    *,
    train_also: Sequence[str] = (),
) -> nn.Module:
    """Wrap every ``nn.Linear`` named by ``targets`` in a :class:`LoRALinear`, freeze the rest.

    ``targets`` are module-name suffixes (``"query"`` matches
    ``encoder.layer.0.attention.self.query``), as ``peft``'s ``target_modules``. Parameters
    whose name contains one of ``train_also`` (e.g. ``"classifier"``, the new head) stay
    trainable, as ``peft``'s ``modules_to_save``. Changes ``model`` in place and returns it.
    """
    if isinstance(targets, str):
        targets = (targets,)
    if not targets:
        raise ValueError("targets is empty: name the layers to adapt, e.g. ('query', 'value')")
    if not isinstance(r, int) or r <= 0:
        raise ValueError(f"r must be a positive int (the rank, e.g. 8), got {r!r}")
    for p in model.parameters():
        p.requires_grad_(False)
    names = [n for n, m in model.named_modules() if n and _matches(n, targets)]
    linear = [n for n in names if isinstance(model.get_submodule(n), nn.Linear)]
    if not linear:
        found = sorted(
            {n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, nn.Linear)}
        )
        raise ValueError(
            f"no nn.Linear named {list(targets)} in {type(model).__name__}; "
            f"its linear layers are called {found}"
        )
    for name in linear:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, LoRALinear(getattr(parent, child), r, alpha, dropout))
    for name, p in model.named_parameters():
        if any(t in name for t in train_also):
            p.requires_grad_(True)
    return model


def lora_layers(model: nn.Module) -> dict[str, LoRALinear]:
    """The :class:`LoRALinear` modules of ``model``, by name."""
    return {n: m for n, m in model.named_modules() if isinstance(m, LoRALinear)}


def merge_lora(model: nn.Module) -> nn.Module:
    """Replace every :class:`LoRALinear` by its :meth:`~LoRALinear.merge` (in place); returns ``model``."""
    layers = lora_layers(model)
    if not layers:
        raise ValueError("the model has no LoRALinear layers to merge; call add_lora first")
    for name, layer in layers.items():
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, layer.merge())
    return model


def lora_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """What must be saved to rebuild the fine-tuned model from the base: the trainable tensors."""
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def state_bytes(state: dict[str, Any]) -> int:
    """Bytes of the tensors in ``state`` (a state dict): the size of a checkpoint, roughly."""
    return sum(t.numel() * t.element_size() for t in state.values() if torch.is_tensor(t))


def adam_state_bytes(model: nn.Module) -> int:
    """AdamW's state for ``model``'s trainable parameters: two fp32 tensors (m and v) per parameter."""
    return sum(2 * p.numel() * 4 for p in model.parameters() if p.requires_grad)


__all__ = [
    "LoRALinear",
    "adam_state_bytes",
    "add_lora",
    "lora_layers",
    "lora_state_dict",
    "merge_lora",
    "state_bytes",
]
