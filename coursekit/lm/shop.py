"""The shop's model: the tiny GPT trained once on the product copy, cached (:func:`load_shop_gpt`).

Its cache key is :func:`coursekit.cache.recipe_key` over :data:`SHOP_GPT_RECIPE`, the
settings (:data:`SHOP_GPT_SETTINGS`) and sample prompts, the train and validation copy
(:func:`product_copy_texts`) and the shop BPE's key; the training history is saved with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from coursekit.lm.training import TrainHistory, train_tiny_gpt

if TYPE_CHECKING:  # pragma: no cover
    from transformers import GPT2LMHeadModel

#: the version of the recipe in :func:`load_shop_gpt`; bump it when the recipe changes.
SHOP_GPT_RECIPE = "2"  # 2: trained by train.fit (the course's one loop)


def product_copy_texts(split: str = "train") -> list[str]:
    """The shop's product copy of one split, one text per product (title, bullets, paragraph).

    Sorted by product id, so the order (and any model trained on it) is reproducible.
    """
    from coursekit import data

    products = data.load_products()
    if split not in set(products["split"]):
        raise ValueError(f"unknown split {split!r}; use one of {sorted(set(products['split']))}")
    products = products[products["split"] == split].sort_values("product_id")
    return [
        "\n".join([str(r.title), *(f"- {b}" for b in r.bullets), str(r.paragraph)])
        for r in products.itertuples(index=False)
    ]


#: the recipe of :func:`load_shop_gpt` (also used by the benchmark)
SHOP_GPT_SETTINGS: dict[str, Any] = {
    "steps": 300,
    "batch_size": 8,
    "block_size": 128,
    "lr": 3e-3,
    "eval_every": 50,
}
#: greedy samples are recorded for these prompts at every evaluation
SHOP_GPT_PROMPTS = ("Stridewell", "Meet the")


def load_shop_gpt(rebuild: bool = False) -> GPT2LMHeadModel:
    """The course's tiny GPT trained on the shop's training-split product copy (cached).

    Built once with :func:`train_tiny_gpt` (settings in :data:`SHOP_GPT_SETTINGS`, the
    shop BPE from :func:`coursekit.tokenization.load_shop_bpe`), saved with
    ``save_pretrained(safe_serialization=True)`` together with its training history
    (``history.json``, see :func:`load_shop_gpt_history`); later calls only load it.
    Returned in ``eval()`` mode; use it with ``load_shop_bpe()``.
    """
    from transformers import GPT2LMHeadModel

    folder = _shop_gpt_folder(rebuild)
    return GPT2LMHeadModel.from_pretrained(str(folder)).eval()


def load_shop_gpt_history(rebuild: bool = False) -> TrainHistory:
    """The training history saved with :func:`load_shop_gpt` (building the model if needed)."""
    folder = _shop_gpt_folder(rebuild)
    return TrainHistory.from_json((folder / "history.json").read_text())


def _shop_gpt_folder(rebuild: bool = False) -> Path:
    from coursekit.cache import get_or_build, recipe_key
    from coursekit.tokenization import load_shop_bpe, shop_bpe_version

    tokenizer = load_shop_bpe()
    train = product_copy_texts("train")
    valid = product_copy_texts("validation")
    version = recipe_key(
        {"shop_gpt": SHOP_GPT_RECIPE, "settings": SHOP_GPT_SETTINGS, "prompts": SHOP_GPT_PROMPTS},
        data=["\x00".join(train), "\x00".join(valid)],
        upstream=[shop_bpe_version()],
    )

    def build(folder: Path) -> None:
        model, history = train_tiny_gpt(
            train, tokenizer, eval_texts=valid, sample_prompts=SHOP_GPT_PROMPTS, **SHOP_GPT_SETTINGS
        )
        model.save_pretrained(str(folder), safe_serialization=True)
        (folder / "history.json").write_text(history.to_json())

    return get_or_build("shop-gpt", build, version=version, rebuild=rebuild)


__all__ = [
    "SHOP_GPT_PROMPTS",
    "SHOP_GPT_RECIPE",
    "SHOP_GPT_SETTINGS",
    "load_shop_gpt",
    "load_shop_gpt_history",
    "product_copy_texts",
]
