"""Training the copywriter: :class:`TrainConfig` and :func:`train_copywriter`.

The model is a GPT-2-architecture network (``GPT2LMHeadModel``) trained *from
scratch* on the training products' attribute → copy pairs, with the loss on the copy
tokens only (the attributes are given, not predicted). It reuses the shop's byte-level
BPE (:func:`coursekit.tokenization.load_shop_bpe`) plus the special tokens, and trains
deterministically in under a minute on a laptop CPU. ``train_copywriter(base_model="gpt2")``
fine-tunes the real GPT-2 instead when online (never the default).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coursekit import product_copy
from coursekit.copywriter.grounding_checks import attribute_lexicon
from coursekit.copywriter.prompts import (
    ATTRS_TOKEN,
    COPY_TOKEN,
    _batches,
    _loader,
    ordered_names,
    training_examples,
)
from coursekit.copywriter.writer import Copywriter, save_copywriter

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import torch

#: the recipe of :func:`load_copywriter`'s cached model; bump it when training changes
RECIPE = "6"


@dataclass
class TrainConfig:
    """Size of the copywriter and how it is trained (the defaults take ~30 s on 2 CPU cores).

    Two epochs: measured on the validation products, a third one changed neither the
    perplexity (1.25) nor coverage, hallucinations or well-formed sentences, and cost half
    as much time again (``benchmarks/copywriting.py --recipes``).
    """

    n_embd: int = 128
    n_layer: int = 4
    n_head: int = 4
    n_positions: int = 512
    dropout: float = 0.0
    max_length: int = 192
    batch_size: int = 16
    epochs: int = 2
    lr: float = 3e-3
    warmup: float = 0.05
    weight_decay: float = 0.01
    seed: int = 0
    threads: int = 2
    #: ``"fp32"``, ``"bf16"`` or ``"auto"`` (what the device does natively: :mod:`coursekit.env`)
    precision: str = "fp32"
    #: the model reads and writes slot tokens instead of values (see the module docstring)
    delexicalise: bool = True
    #: training copies per product and voice, each with other attributes left out
    variants: int = 2
    #: the chance that :func:`training_examples` leaves out each optional attribute
    drop: float = 0.15
    #: synthetic catalogues added to the training products (:func:`synthetic_products`)
    extra_catalogues: int = 0


# --------------------------------------------------------------------------- training


def add_prompt_tokens(tokenizer: Any) -> Any:
    """Add ``<|attrs|>``, ``<|copy|>`` and the slot tokens as special tokens (and a pad token)."""
    from tokenizers import AddedToken

    # a slot token swallows the space before it: "for <price>" is two tokens, not three
    slots = [
        AddedToken(t, lstrip=True, special=True, normalized=False) for t in product_copy.SLOT_TOKENS
    ]
    tokenizer.add_special_tokens({"additional_special_tokens": [ATTRS_TOKEN, COPY_TOKEN, *slots]})
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _model_and_tokenizer(base_model: str | None, config: TrainConfig) -> tuple[Any, Any]:
    from transformers import AutoTokenizer, GPT2LMHeadModel

    if base_model is None:
        from coursekit.lm import tiny_gpt_config
        from coursekit.tokenization import load_shop_bpe

        tokenizer = add_prompt_tokens(load_shop_bpe())
        cfg = tiny_gpt_config(
            vocab_size=len(tokenizer),
            n_positions=config.n_positions,
            n_embd=config.n_embd,
            n_layer=config.n_layer,
            n_head=config.n_head,
            dropout=config.dropout,
            # GPT-2's tanh GELU as one fused kernel, not gelu_new's five elementwise ops:
            # the same function (to float rounding), a sixth less training time
            activation_function="gelu_pytorch_tanh",
        )
        for key in ("bos_token_id", "eos_token_id", "pad_token_id"):
            setattr(cfg, key, tokenizer.eos_token_id)
        return GPT2LMHeadModel(cfg), tokenizer
    if not Path(base_model).is_dir():
        from coursekit.env import require_online

        require_online(f"base_model={base_model!r}")
    tokenizer = add_prompt_tokens(AutoTokenizer.from_pretrained(base_model))
    model = GPT2LMHeadModel.from_pretrained(base_model)
    model.resize_token_embeddings(len(tokenizer))
    model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def synthetic_products(
    n_catalogues: int, exclude_names: Iterable[str] = (), seed: int = 1000
) -> pd.DataFrame:
    """Extra training products: the shop's catalogue generator run with other seeds.

    A small model trained on a few hundred products memorises their copy; to learn to
    *copy* facts from the prompt it must see many more combinations of names, colours,
    sizes, features and prices. ``n_catalogues`` catalogues (480 products each) from
    :func:`coursekit.corpus.generate_products` with seeds ``seed + 1 … seed + n`` give
    them. Products whose name is in ``exclude_names`` (pass the validation and test
    products' names) are dropped, so held-out products stay unseen. Every row has
    ``split == "train"`` and a ``product_id`` starting with ``S``.
    """
    import pandas as pd

    from coursekit import corpus

    if not isinstance(n_catalogues, int) or n_catalogues < 0:
        raise ValueError(f"n_catalogues must be an int >= 0, got {n_catalogues!r}")
    excluded = set(exclude_names)
    rows = []
    for k in range(1, n_catalogues + 1):
        for product in corpus.generate_products(seed=seed + k):
            if product["name"] in excluded:
                continue
            row = corpus.product_row(product)
            row.update(product_id=f"S{k}-{product['product_id']}", split="train")
            rows.append(row)
    return pd.DataFrame(rows, columns=list(corpus.PRODUCT_COLUMNS))


def train_copywriter(
    products: pd.DataFrame | None = None,
    config: TrainConfig | None = None,
    base_model: str | None = None,
    out_dir: str | os.PathLike | None = None,
    lexicon_products: pd.DataFrame | None = None,
) -> Copywriter:
    """Train a copywriter on the ``split == "train"`` products' attribute → copy pairs.

    * ``base_model=None`` (default): a tiny GPT-2 from scratch on the shop BPE;
    * ``base_model="gpt2"`` (or a local folder): fine-tune that pretrained model, after
      checking that the hub is reachable (``coursekit.env.require_online``).

    ``config.extra_catalogues`` synthetic catalogues (:func:`synthetic_products`) join
    the training products, minus any product named like one of ``products``' held-out
    (non-train) products. Deterministic for a fixed ``config`` (seeded init and
    shuffling, fixed threads). Saves to ``out_dir`` (safetensors) when given. Takes
    about two minutes on a CPU with the default config.
    """
    import torch

    from coursekit import env

    if products is None:
        from coursekit import data

        products = data.load_products()
    config = config or TrainConfig()
    train = products[products["split"] == "train"] if "split" in products else products
    if len(train) == 0:
        raise ValueError("no training products (split == 'train')")
    n_shop = len(train)
    if config.extra_catalogues:
        import pandas as pd

        named = "split" in products and "name" in products
        held = products.loc[products["split"] != "train", "name"] if named else []
        extra = synthetic_products(config.extra_catalogues, exclude_names=held)
        train = pd.concat([train, extra[[c for c in train.columns if c in extra]]])
    previous_threads = torch.get_num_threads()
    env.set_threads(config.threads)
    env.seed_everything(config.seed)
    started = time.perf_counter()
    try:
        model, tokenizer = _model_and_tokenizer(base_model, config)
        pairs = training_examples(
            train, config.variants, config.drop, config.delexicalise, seed=config.seed
        )
        batches = _batches(tokenizer, pairs, config.max_length)
        losses = _train_loop(model, batches, config)
    finally:
        torch.set_num_threads(previous_threads)
    # the same copies in slots (one rng, so the same phrasing): the shapes reranking knows
    slot_pairs = (
        pairs
        if config.delexicalise
        else training_examples(train, config.variants, config.drop, True, seed=config.seed)
    )
    model.eval()
    names = sorted({k for attrs in train["attributes"] for k in attrs})
    writer = Copywriter(
        model=model,
        tokenizer=tokenizer,
        attribute_names=ordered_names(names),
        lexicon=attribute_lexicon(products if lexicon_products is None else lexicon_products),
        meta={
            "recipe": RECIPE,
            "base_model": base_model,
            "config": asdict(config),
            "n_train": len(train),
            "n_examples": len(batches["input_ids"]),
            "n_shop_products": n_shop,
            "n_params": sum(p.numel() for p in model.parameters()),
            "train_seconds": round(time.perf_counter() - started, 1),
            "losses": losses,
            "sentence_shapes": sorted(
                {shape for _, copy in slot_pairs for shape in product_copy.sentence_shapes(copy)}
            ),
        },
    )
    if out_dir is not None:
        save_copywriter(writer, out_dir)
    return writer


def copy_loss(
    model: Any, ids: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
    """Mean next-token cross-entropy over the copy tokens only.

    Equal to ``model(..., labels=labels).loss``, but the output layer (the biggest
    matrix of a tiny model) is applied only where a label exists: the prompt and the
    padding never go through it, which saves about a fifth of the training time.
    """
    import torch

    hidden = model.transformer(input_ids=ids, attention_mask=mask).last_hidden_state
    target = labels[:, 1:]
    keep = target != -100
    logits = model.lm_head(hidden[:, :-1][keep])
    return torch.nn.functional.cross_entropy(logits, target[keep])


def _train_loop(model: Any, batches: dict, config: TrainConfig) -> list[float]:
    """:func:`coursekit.train.fit` on :func:`copy_loss`; returns the mean loss of every 10 steps.

    The course's one training loop: AdamW with decay on matrices only, warm-up then linear
    decay, clipped gradients, on the best device there is (the model comes back on the CPU,
    where generation of a model this small is fastest). Batches are shuffled, not grouped by
    length: grouping would save about a seventh of the time, but make each batch one voice.
    """
    import types

    import torch

    from coursekit import train

    class Objective(torch.nn.Module):
        """``objective(**batch).loss`` for ``fit``; keeps every training step's loss."""

        def __init__(self, lm: Any):
            super().__init__()
            self.lm = lm
            self.step_losses: list[float] = []

        def forward(self, input_ids: Any, attention_mask: Any, labels: Any) -> Any:
            loss = copy_loss(self.lm, input_ids, attention_mask, labels)
            if self.training:
                self.step_losses.append(float(loss.detach()))
            return types.SimpleNamespace(loss=loss)

    loader = _loader(batches, config.batch_size, shuffle=True, seed=config.seed)
    objective = Objective(model)
    train.fit(
        objective,
        loader,
        epochs=config.epochs,
        lr=config.lr,
        weight_decay=config.weight_decay,
        warmup_ratio=config.warmup,
        precision=config.precision,
        progress=False,
        seed=config.seed,
    )
    model.to("cpu")
    steps = objective.step_losses
    return [round(sum(steps[i : i + 10]) / 10, 4) for i in range(0, len(steps) - 9, 10)]


__all__ = [
    "RECIPE",
    "TrainConfig",
    "add_prompt_tokens",
    "copy_loss",
    "synthetic_products",
    "train_copywriter",
]
