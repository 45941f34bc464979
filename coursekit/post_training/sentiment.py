"""LoRA vs full fine-tuning of MiniLM on review sentiment, same data and budget, and a learning curve.

:func:`finetune_sentiment` trains the pretrained MiniLM (``coursekit.env.minilm_path()``) for the
3 sentiment labels in one of two ways, through the course's one loop ``coursekit.train.fit``:

* ``"full"``: every weight trains (AdamW keeps two more numbers per weight);
* ``"lora"``: :func:`~coursekit.post_training.lora.add_lora` on the attention's ``query`` and
  ``value`` (rank 8, α 16), with the new classification head and MiniLM's pooler (the dense
  layer under the head, never trained for sentence embeddings) trained in full; the rest is
  frozen.

It returns what the comparison needs (trainable parameters, AdamW state bytes, seconds, what must
be saved, and the predictions on validation, test and the hand-written reviews).
:func:`sentiment_results` runs the notebook's comparison and learning curve once and caches it.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

from coursekit.post_training.lora import adam_state_bytes, add_lora, lora_state_dict, state_bytes
from coursekit.schema import LABELS

METHODS = ("lora", "full")
#: the LoRA learning rates compared on the validation split (never on the hand-written set);
#: validation macro-F1 under the AVX2 kernels, 480 reviews, 60 steps, query/value + pooler + head:
#: 0.46, 0.63, 0.67, 0.67, so 5e-3 (the smaller of the two best)
LORA_LR_SWEEP = (1e-3, 2e-3, 5e-3, 1e-2)
RESULTS_RECIPE = "2"  # bump when the recipe below changes


@dataclass
class SentimentBudget:
    """The shared budget of the comparison (the same for both methods, chosen for a 2-core CPU)."""

    n_train: int = 480  # balanced training reviews
    min_steps: int = 60  # small sets are repeated (more epochs) until at least this many steps
    batch_size: int = 16
    max_length: int = 32
    lr_full: float = 2e-4
    lr_lora: float = 5e-3  # the best on validation of LORA_LR_SWEEP (see the module's docstring)
    r: int = 8
    alpha: float = 16
    targets: tuple[str, ...] = ("query", "value")
    train_also: tuple[str, ...] = ("classifier", "pooler")  # trained in full next to the adapters
    n_val: int = 300
    n_test: int = 500
    precision: str = "auto"
    seed: int = 0


def _eval_sets(budget: SentimentBudget) -> dict[str, Any]:
    import pandas as pd

    from coursekit import data, paths

    val = data.load_reviews("validation").sample(n=budget.n_val, random_state=budget.seed)
    test = data.load_reviews("test").sample(n=budget.n_test, random_state=budget.seed)
    hand = pd.read_json(
        paths.repo_root() / "tests" / "fixtures" / "handwritten_reviews.jsonl", lines=True
    )
    return {"validation": val, "test": test, "hand-written": hand}


def finetune_sentiment(
    method: str,
    n_train: int | None = None,
    budget: SentimentBudget | None = None,
    splits: tuple[str, ...] = ("validation", "test", "hand-written"),
) -> dict[str, Any]:
    """Fine-tune MiniLM with ``method`` (``"lora"`` or ``"full"``) on ``n_train`` balanced reviews.

    Returns ``{"method", "n_train", "steps", "trainable", "total", "adam_bytes", "saved_bytes",
    "seconds", "train_flops", "predictions": {split: [labels]}, "labels": {split: [labels]}}``;
    ``train_flops`` is the usual estimate 6 · parameters · tokens (forward + backward).
    ``splits`` are the evaluation sets scored (validation, test, hand-written).
    """
    from coursekit import data, env, train
    from coursekit.sentiment import SentimentClassifier
    from coursekit.sentiment.classifier import balanced_subset, minilm_for_labels

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    budget = budget or SentimentBudget()
    n_train = n_train or budget.n_train
    if n_train < len(LABELS):
        raise ValueError(
            f"n_train must be at least {len(LABELS)} (one review per label), got {n_train}"
        )
    subset = balanced_subset(
        data.load_reviews("train"), math.ceil(n_train / len(LABELS)), budget.seed
    ).head(n_train)
    env.seed_everything(budget.seed)
    tokenizer, model = minilm_for_labels()
    if method == "lora":
        add_lora(
            model, budget.targets, r=budget.r, alpha=budget.alpha, train_also=budget.train_also
        )
    loader = train.make_loader(
        subset["text"].tolist(),
        [LABELS.index(lab) for lab in subset["label"]],
        tokenizer,
        batch_size=budget.batch_size,
        max_length=budget.max_length,
        shuffle=True,
        seed=budget.seed,
    )
    epochs = max(1, math.ceil(budget.min_steps / len(loader)))
    n_tokens = (
        sum(
            min(budget.max_length, len(ids))
            for ids in tokenizer(subset["text"].tolist())["input_ids"]
        )
        * epochs
    )
    total = sum(p.numel() for p in model.parameters())
    start = time.perf_counter()
    result = train.fit(
        model,
        loader,
        epochs=epochs,
        lr=budget.lr_lora if method == "lora" else budget.lr_full,
        weight_decay=0.01,
        warmup_ratio=0.1,
        precision=budget.precision,
        progress=False,
        seed=budget.seed,
    )
    seconds = time.perf_counter() - start
    saved = lora_state_dict(model) if method == "lora" else model.state_dict()
    clf = SentimentClassifier(
        model, tokenizer, max_length=budget.max_length, precision=budget.precision
    )
    sets = {k: v for k, v in _eval_sets(budget).items() if k in splits}
    return {
        "method": method,
        "n_train": n_train,
        "steps": result.global_step,
        "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "total": total,
        "adam_bytes": adam_state_bytes(model),
        "saved_bytes": state_bytes(saved),
        "seconds": round(seconds, 1),
        "train_flops": 6 * total * n_tokens,
        "predictions": {k: clf.predict(df["text"].tolist()) for k, df in sets.items()},
        "labels": {k: df["label"].tolist() for k, df in sets.items()},
    }


def scores(run: dict[str, Any], n_boot: int = 1000) -> dict[str, Any]:
    """Macro-F1 with its bootstrap interval (``coursekit.metrics.bootstrap_ci``) per split of a run."""
    from coursekit import metrics

    out = {}
    for split, truth in run["labels"].items():
        ci = metrics.bootstrap_ci(
            truth, run["predictions"][split], "macro_f1", n_boot=n_boot, labels=LABELS
        )
        out[split] = ci
    return out


def results_version(budget: SentimentBudget, curve: tuple[int, ...]) -> str:
    """The cache key of :func:`sentiment_results` (recipe, budget, curve, data, base model)."""
    from coursekit import data, env, paths
    from coursekit.cache import folder_digest, recipe_key

    digest = (data._manifest(paths.data_dir()) or {}).get("shop/reviews.jsonl", "unknown")
    return recipe_key(
        {"post_training_sentiment": RESULTS_RECIPE, "budget": asdict(budget), "curve": list(curve)},
        data=[digest],
        upstream=[folder_digest(env.minilm_path())],
    )


def sentiment_results(
    curve: tuple[int, ...] = (),
    budget: SentimentBudget | None = None,
    rebuild: bool = False,
) -> dict[str, Any]:
    """The notebook's runs, cached: ``{"full": run, "lora": run, "curve": [lora runs]}``.

    ``curve`` lists the training-set sizes of a LoRA learning curve (none by default: the
    notebook's three-minute budget has room for the comparison only; the benchmark's
    ``--curve`` runs it); the size equal to ``budget.n_train`` reuses the comparison's LoRA run.
    """
    import json

    from coursekit.cache import get_or_build

    budget = budget or SentimentBudget()

    def build(folder: Any) -> None:
        runs = {m: finetune_sentiment(m, budget=budget) for m in ("full", "lora")}
        runs["curve"] = [
            runs["lora"]
            if n == budget.n_train
            else finetune_sentiment("lora", n, budget, ("validation",))
            for n in curve
        ]
        (folder / "results.json").write_text(json.dumps(runs), encoding="utf-8")

    folder = get_or_build(
        "post-training-sentiment", build, version=results_version(budget, curve), rebuild=rebuild
    )
    return json.loads((folder / "results.json").read_text(encoding="utf-8"))


__all__ = [
    "LORA_LR_SWEEP",
    "METHODS",
    "SentimentBudget",
    "finetune_sentiment",
    "results_version",
    "scores",
    "sentiment_results",
]
