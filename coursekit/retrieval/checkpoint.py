"""Saving and loading a fine-tuned MiniLM: one folder, safetensors only.

The fine-tuned bi-encoder (:mod:`~coursekit.retrieval.finetune`) and the cross-encoder
re-ranker (:mod:`~coursekit.retrieval.rerank`) both save the same way: the encoder and its
tokenizer as a Hugging Face folder, any extra modules (the re-ranker's head) as
``<name>.safetensors``, and the recipe as ``recipe.json``. :func:`save_finetuned` writes such
a folder and :func:`load_finetuned` reads it back (``torch.load`` is never used).
"""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any


def save_finetuned(
    folder: str | Path,
    encoder: Any,
    tokenizer: Any,
    recipe: Any,
    modules: dict[str, Any] | None = None,
) -> Path:
    """Write ``encoder`` + ``tokenizer`` (Hugging Face folder, safetensors), each of ``modules``
    as ``<name>.safetensors`` and ``recipe`` (a dataclass) as ``recipe.json``; returns ``folder``."""
    from safetensors.torch import save_file

    if not is_dataclass(recipe) or isinstance(recipe, type):
        raise TypeError(f"recipe should be a dataclass instance, got {type(recipe).__name__}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    encoder.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    for name, module in (modules or {}).items():
        state = {k: v.contiguous() for k, v in module.state_dict().items()}
        save_file(state, folder / f"{name}.safetensors")
    (folder / "recipe.json").write_text(json.dumps(asdict(recipe)), encoding="utf-8")
    return folder


def load_finetuned(folder: str | Path, modules: dict[str, Any] | None = None) -> tuple[Any, Any]:
    """``(tokenizer, encoder)`` of a folder written by :func:`save_finetuned`, the encoder in
    eval mode; each of ``modules`` (already built, the right shapes) gets its saved weights."""
    from safetensors.torch import load_file
    from transformers import AutoModel, AutoTokenizer

    folder = Path(folder)
    for name in modules or {}:
        if not (folder / f"{name}.safetensors").exists():
            raise FileNotFoundError(
                f"{folder} holds no {name}.safetensors; build the model that saves it first"
            )
    encoder = AutoModel.from_pretrained(folder).eval()
    for name, module in (modules or {}).items():
        module.load_state_dict(load_file(folder / f"{name}.safetensors"))
    return AutoTokenizer.from_pretrained(folder), encoder


__all__ = ["load_finetuned", "save_finetuned"]
