"""The notebook's cached post-training runs on the shop GPT: SFT both ways, then DPO.

* :func:`load_assistants`: the shop GPT (:func:`coursekit.lm.load_shop_gpt`) with the chat tokens,
  instruction-tuned twice on the same data and budget, loss on the assistant's tokens only
  (``"masked"``) and on every token (``"unmasked"``), with their held-out task scores;
* :func:`preference_pairs`: for each training product, candidates sampled from the assistant and
  judged by the grounding checker: a candidate that passes is *chosen*, one that names an
  attribute the product lacks is *rejected*;
* :func:`dpo_results`: DPO on those pairs, and hallucination / coverage before and after on the
  held-out products (validation, test and the hand-written ones).

Everything is built once into the artifact cache (``coursekit.cache.get_or_build``).
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from coursekit.post_training.chat import add_chat_tokens, masked_labels
from coursekit.post_training.sft import (
    MAX_LENGTH,
    chat_model,
    copy_chat,
    copy_grades,
    generate,
    instruction_data,
    left_padded,
    task_scores,
    train_sft,
)

RECIPE = "1"  # bump when the recipes below change
VARIANTS = ("masked", "unmasked")


@dataclass
class AssistantRecipe:
    """SFT and DPO settings (small: the notebook's whole budget is three minutes on 2 cores)."""

    sft_steps: int = 100
    sft_batch_size: int = 16
    sft_lr: float = 3e-3
    n_reviews: int = 400
    n_eval_reviews: int = 300
    n_eval_faq: int = 120
    candidates: int = 4
    temperature: float = 1.0
    dpo_beta: float = 0.1
    dpo_epochs: int = 3
    dpo_lr: float = 3e-4
    seed: int = 0


def handwritten_products() -> list[dict[str, Any]]:
    """The attributes of the hand-written products (``tests/fixtures/handwritten_products.jsonl``)."""
    from coursekit import paths

    path = paths.repo_root() / "tests" / "fixtures" / "handwritten_products.jsonl"
    with path.open(encoding="utf-8") as f:
        return [json.loads(line)["attributes"] for line in f if line.strip()]


def _held_out(recipe: AssistantRecipe) -> dict[str, Any]:
    held = instruction_data("test", n_reviews=recipe.n_eval_reviews, seed=recipe.seed)
    held["faq"] = random.Random(recipe.seed).sample(
        held["faq"], min(recipe.n_eval_faq, len(held["faq"]))
    )
    return held


def _version(recipe: AssistantRecipe, part: str) -> str:
    from coursekit import data, paths
    from coursekit.cache import recipe_key
    from coursekit.tokenization import shop_bpe_version

    manifest = data._manifest(paths.data_dir()) or {}
    return recipe_key(
        {"post_training": RECIPE, "part": part, "recipe": asdict(recipe)},
        data=[json.dumps(manifest, sort_keys=True)],
        upstream=[shop_bpe_version()],
    )


def _base() -> tuple[Any, Any]:
    from coursekit.lm import load_shop_gpt
    from coursekit.tokenization import load_shop_bpe

    tokenizer = add_chat_tokens(load_shop_bpe())
    return chat_model(load_shop_gpt(), tokenizer), tokenizer


def load_assistants(recipe: AssistantRecipe | None = None, rebuild: bool = False) -> dict[str, Any]:
    """``{"masked": model, "unmasked": model, "tokenizer": ..., "scores": {...}, "losses": {...}}`` (cached)."""
    from transformers import GPT2LMHeadModel, PreTrainedTokenizerFast

    from coursekit.cache import get_or_build

    recipe = recipe or AssistantRecipe()

    def build(folder: Path) -> None:
        train = instruction_data("train", n_reviews=recipe.n_reviews, seed=recipe.seed)
        convs = [c for task in train.values() for c, _ in task]
        held = _held_out(recipe)
        meta: dict[str, Any] = {
            "scores": {},
            "losses": {},
            "n_train": {k: len(v) for k, v in train.items()},
        }
        for variant in VARIANTS:
            model, tokenizer = _base()
            model, losses = train_sft(
                model,
                tokenizer,
                convs,
                masked=variant == "masked",
                steps=recipe.sft_steps,
                batch_size=recipe.sft_batch_size,
                lr=recipe.sft_lr,
                seed=recipe.seed,
            )
            meta["losses"][variant] = [round(x, 4) for x in losses]
            meta["scores"][variant] = task_scores(model, tokenizer, held)
            model.save_pretrained(str(folder / variant), safe_serialization=True)
        tokenizer.save_pretrained(str(folder / "tokenizer"))
        (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")

    folder = get_or_build(
        "post-training-assistant", build, version=_version(recipe, "sft"), rebuild=rebuild
    )
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    out = {v: GPT2LMHeadModel.from_pretrained(str(folder / v)).eval() for v in VARIANTS}
    out["tokenizer"] = PreTrainedTokenizerFast.from_pretrained(str(folder / "tokenizer"))
    out.update(meta)
    return out


def sample_candidates(
    model: Any,
    tokenizer: Any,
    attributes: Sequence[Mapping[str, Any]],
    n: int = 4,
    temperature: float = 1.0,
    seed: int = 0,
    batch_size: int = 16,
) -> list[list[str]]:
    """``n`` sampled copies per product (seeded), from the copy instruction."""
    from coursekit.post_training.chat import END_TOKEN, render

    end = tokenizer.convert_tokens_to_ids(END_TOKEN)
    out: list[list[str]] = []
    n_pos = int(model.config.n_positions)
    torch.manual_seed(seed)
    for start in range(0, len(attributes), batch_size):
        chunk = attributes[start : start + batch_size]
        texts = [
            render(tokenizer, copy_chat(a, answer=False), add_generation_prompt=True) for a in chunk
        ]
        enc = left_padded(tokenizer, texts, n_pos - 64)
        with torch.no_grad():
            ids = model.generate(
                **enc,
                max_new_tokens=64,
                do_sample=True,
                temperature=temperature,
                top_k=0,
                num_return_sequences=n,
                eos_token_id=end,
                pad_token_id=tokenizer.pad_token_id,
            )
        new = ids[:, enc["input_ids"].shape[1] :]
        decoded = [
            tokenizer.decode(
                [t for t in row.tolist() if t != end], skip_special_tokens=True
            ).strip()
            for row in new
        ]
        out += [decoded[i * n : (i + 1) * n] for i in range(len(chunk))]
    return out


def preference_pairs(
    candidates: Sequence[Sequence[str]],
    attributes: Sequence[Mapping[str, Any]],
    lexicon: Mapping[str, Sequence[str]],
) -> list[dict[str, Any]]:
    """One pair per product that has both: chosen passes the checker (best coverage), rejected hallucinates."""
    pairs = []
    for texts, attrs in zip(candidates, attributes, strict=True):
        grades = copy_grades(list(texts), [attrs] * len(texts), lexicon)
        good = [g for g in grades if not g["hallucinated"]]
        bad = [g for g in grades if g["hallucinated"]]
        if good and bad:
            best = max(good, key=lambda g: g["coverage"])
            pairs.append({"attributes": attrs, "chosen": best["text"], "rejected": bad[0]["text"]})
    return pairs


def _encode_pair(
    tokenizer: Any, pair: Mapping[str, Any]
) -> tuple[tuple[list[int], list[int]], tuple[list[int], list[int]]]:
    prompt = copy_chat(pair["attributes"], answer=False)
    chosen = masked_labels(tokenizer, [*prompt, {"role": "assistant", "content": pair["chosen"]}])
    rejected = masked_labels(
        tokenizer, [*prompt, {"role": "assistant", "content": pair["rejected"]}]
    )
    # the shop GPT reads at most MAX_LENGTH tokens: longer pairs are cut, as SFT's examples are
    return (
        (chosen[0][:MAX_LENGTH], chosen[1][:MAX_LENGTH]),
        (rejected[0][:MAX_LENGTH], rejected[1][:MAX_LENGTH]),
    )


def copy_metrics(
    model: Any,
    tokenizer: Any,
    attributes: Sequence[Mapping[str, Any]],
    lexicon: Mapping[str, Sequence[str]],
) -> dict[str, float]:
    """Greedy copy for each product, graded: ``hallucination rate`` and mean ``coverage``."""
    convs = [copy_chat(a, answer=False) for a in attributes]
    grades = copy_grades(generate(model, tokenizer, convs, max_new_tokens=64), attributes, lexicon)
    return {
        "hallucination rate": sum(g["hallucinated"] for g in grades) / len(grades),
        "coverage": sum(g["coverage"] for g in grades) / len(grades),
    }


def dpo_before_after(
    policy: Any,
    tokenizer: Any,
    pairs: Sequence[Mapping[str, Any]],
    sets: Mapping[str, Sequence[Mapping[str, Any]]],
    lexicon: Mapping[str, Sequence[str]],
    recipe: AssistantRecipe,
) -> tuple[Any, list[float], dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Copy metrics on every set, DPO on ``pairs`` with the recipe's settings, the metrics again.

    Returns ``(policy, losses, before, after)``; whatever rule built the pairs, the DPO run and
    its measurement are this one.
    """
    from coursekit.post_training.dpo import train_dpo

    before = {k: copy_metrics(policy, tokenizer, v, lexicon) for k, v in sets.items()}
    encoded = [_encode_pair(tokenizer, p) for p in pairs]
    policy, losses = train_dpo(
        policy,
        encoded,
        tokenizer.pad_token_id,
        beta=recipe.dpo_beta,
        epochs=recipe.dpo_epochs,
        lr=recipe.dpo_lr,
        seed=recipe.seed,
    )
    after = {k: copy_metrics(policy, tokenizer, v, lexicon) for k, v in sets.items()}
    return policy, losses, before, after


def dpo_results(recipe: AssistantRecipe | None = None, rebuild: bool = False) -> dict[str, Any]:
    """DPO on the masked assistant (cached): pairs, losses, and before/after copy metrics per set."""
    from transformers import GPT2LMHeadModel

    from coursekit import copywriter, data
    from coursekit.cache import get_or_build

    recipe = recipe or AssistantRecipe()
    sft = load_assistants(recipe)
    tokenizer = sft["tokenizer"]
    products = data.load_products()
    lexicon = copywriter.attribute_lexicon(products)
    sets = {
        split: list(products[products["split"] == split].sort_values("product_id")["attributes"])
        for split in ("validation", "test")
    }
    sets["hand-written"] = handwritten_products()

    def build(folder: Path) -> None:
        policy = sft["masked"]
        train_attrs = sets_train = list(
            products[products["split"] == "train"].sort_values("product_id")["attributes"]
        )
        cands = sample_candidates(
            policy, tokenizer, sets_train, recipe.candidates, recipe.temperature, recipe.seed
        )
        pairs = preference_pairs(cands, train_attrs, lexicon)
        policy, losses, before, after = dpo_before_after(
            policy, tokenizer, pairs, sets, lexicon, recipe
        )
        policy.save_pretrained(str(folder / "dpo"), safe_serialization=True)
        meta = {
            "pairs": pairs,
            "losses": [round(x, 4) for x in losses],
            "before": before,
            "after": after,
            "n_products": len(train_attrs),
        }
        (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")

    folder = get_or_build(
        "post-training-dpo", build, version=_version(recipe, "dpo"), rebuild=rebuild
    )
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    meta["model"] = GPT2LMHeadModel.from_pretrained(str(folder / "dpo")).eval()
    meta["tokenizer"] = tokenizer
    meta["sets"] = sets
    meta["lexicon"] = lexicon
    return meta


__all__ = [
    "AssistantRecipe",
    "copy_metrics",
    "dpo_before_after",
    "dpo_results",
    "handwritten_products",
    "load_assistants",
    "preference_pairs",
    "sample_candidates",
]
