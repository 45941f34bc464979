"""``coursekit train``: fine-tune a classifier with ``coursekit.train.fit``, on 1 or N processes.

    coursekit train --out runs/minilm                  # MiniLM on 768 reviews, about a minute
    coursekit train --data toy --model tiny --out runs/toy                      # seconds
    torchrun --nproc_per_node 2 -m coursekit train --data toy --model tiny --out runs/ddp

Options left out take the course's recipes: with ``--data reviews`` the sentiment
recipe (:class:`coursekit.sentiment.TrainConfig`: learning rate, batch, length, warm-up,
weight decay, precision chosen by the hardware), with ``--data toy`` the settings of the
toy task (fp32, so that 1 and N processes agree to 1e-5). The first line printed says
which settings were used.

Under ``torchrun`` every process runs this same command: it joins the process
group (gloo on CPU, nccl on GPU), reads its shard of each global batch, and
trains a ``DistributedDataParallel`` copy of the model; rank 0 alone prints,
logs and saves. ``--batch-size`` is the *global* batch, split over processes,
so 1 and N processes train on the same batches and end with the same weights
(up to floating-point summation order).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="fine-tune a classifier with coursekit.train (works under torchrun)",
        description=(
            "Fine-tune a 3-class classifier with coursekit.train.fit, on 1 process or, "
            "under torchrun, on N (DistributedDataParallel).\n\nExamples:\n"
            + __doc__.split("\n\n")[1]
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(p)
    p.set_defaults(func=main)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``coursekit train`` (shared with the benchmark script)."""
    p.add_argument("--data", choices=["toy", "reviews"], default="reviews", help="training data")
    p.add_argument(
        "--model",
        choices=["tiny", "minilm"],
        default="minilm",
        help="tiny: 2-layer BERT from a config; minilm: the pretrained all-MiniLM-L6-v2",
    )
    recipe = "default: the recipe of --data (see the first line printed)"
    p.add_argument("--n-train", type=int, default=768, help="training examples (default 768)")
    p.add_argument("--n-val", type=int, default=256, help="validation examples (default 256)")
    p.add_argument("--epochs", type=int, default=None, help=recipe)
    p.add_argument("--batch-size", type=int, default=None, help=f"global batch; {recipe}")
    p.add_argument("--grad-accum", type=int, default=1, help="gradient accumulation steps")
    p.add_argument("--lr", type=float, default=None, help=f"peak learning rate; {recipe}")
    p.add_argument(
        "--precision", choices=["fp32", "bf16", "fp16", "auto"], default=None, help=recipe
    )
    p.add_argument("--max-length", type=int, default=None, help=f"tokens per text; {recipe}")
    p.add_argument("--no-group-by-length", action="store_true", help="random batches")
    p.add_argument("--patience", type=int, default=None, help="early-stopping patience (epochs)")
    p.add_argument("--out", type=Path, default=None, help="checkpoints and result.json go here")
    p.add_argument("--log-dir", type=Path, default=None, help="TensorBoard logs")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.safetensors")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default=None, help="cpu / cuda (default: best available)")
    p.add_argument(
        "--threads", type=int, default=None, help="CPU threads per process (default 2 / N)"
    )
    p.add_argument(
        "--no-dropout",
        action="store_true",
        help="dropout off (1 vs N processes then match exactly)",
    )
    p.add_argument("--progress", action="store_true", help="show a progress bar (rank 0)")


#: the toy task's settings (a 13-token vocabulary; fp32 so that 1 and N processes agree)
TOY_RECIPE = {"epochs": 2, "batch_size": 32, "lr": 3e-3, "max_length": 64, "precision": "fp32"}


def recipe(args: argparse.Namespace) -> dict[str, Any]:
    """The training settings: the options given, the rest from the recipe of ``--data``.

    ``--data reviews`` takes :class:`coursekit.sentiment.TrainConfig` (the course's
    sentiment fine-tune), so the CLI, the notebooks and the cached model share one recipe.
    """
    if args.data == "toy":
        defaults = {**TOY_RECIPE, "weight_decay": 0.01, "warmup_ratio": 0.1}
    else:
        from coursekit.sentiment import TrainConfig

        cfg = TrainConfig()
        defaults = {
            "epochs": cfg.epochs,
            "batch_size": cfg.batch_size,
            "lr": cfg.lr,
            "max_length": cfg.max_length,
            "precision": cfg.precision,
            "weight_decay": cfg.weight_decay,
            "warmup_ratio": cfg.warmup_ratio,
        }
    given = {k: getattr(args, k, None) for k in defaults}
    return {k: defaults[k] if given[k] is None else given[k] for k in defaults}


def main(args: argparse.Namespace) -> int:
    """Entry point of ``coursekit train``; prints one summary line per epoch on rank 0."""
    result = run(args)
    if result["rank"] == 0:
        for h in result["history"]:
            extra = f" macro-F1 {h['macro_f1']:.3f}" if "macro_f1" in h else ""
            print(
                f"epoch {h['epoch']}: train loss {h['train_loss']:.4f}, "
                f"val loss {h.get('val_loss', float('nan')):.4f}{extra}, "
                f"{h['samples_per_s']:.1f} samples/s"
            )
        print(
            f"{result['world_size']} process(es), {result['precision']} on {result['device']}, "
            f"{result['seconds']:.1f} s; weights sha256 {result['weights_sha256'][:12]}"
        )
        if result.get("out"):
            print(f"saved to {result['out']}")
    return 0


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Train as ``args`` says (in this process, or as one torchrun worker); return a summary."""
    from coursekit import distributed, env, train
    from coursekit.train_utils import tensor_digest

    settings = recipe(args)
    args = argparse.Namespace(**{**vars(args), **settings})
    device = distributed.init(args.device)
    rank, world = distributed.rank_world()
    env.set_threads(args.threads or max(1, 2 // world))
    env.quiet_libraries()
    if args.batch_size % world:
        raise ValueError(f"--batch-size {args.batch_size} must be divisible by {world} processes")
    if rank == 0:
        shown = ", ".join(f"{k.replace('_', ' ')} {v:g}" if isinstance(v, float) else
                          f"{k.replace('_', ' ')} {v}" for k, v in settings.items())  # fmt: skip
        print(f"{args.data} recipe: {shown}; {args.n_train} train / {args.n_val} validation")
    try:
        model, tokenizer, train_rows, val_rows = _setup(args)
        loader = train.make_loader(
            train_rows,
            tokenizer=tokenizer,
            batch_size=args.batch_size // world,
            max_length=args.max_length,
            group_by_length=not args.no_group_by_length,
            seed=args.seed,
        )
        val_loader = train.make_loader(
            val_rows, tokenizer=tokenizer, batch_size=64, max_length=args.max_length, shuffle=False
        )
        start = time.perf_counter()
        result = train.fit(
            model,
            loader,
            val_loader,
            epochs=args.epochs,
            lr=args.lr,
            weight_decay=args.weight_decay,
            warmup_ratio=args.warmup_ratio,
            grad_accum_steps=args.grad_accum,
            precision=args.precision,
            metrics=macro_f1_metrics,
            monitor="loss",
            patience=args.patience,
            checkpoint_dir=args.out,
            resume=args.resume,
            log_dir=args.log_dir,
            device=device,
            progress=args.progress,
            seed=args.seed,
        )
        seconds = time.perf_counter() - start
        weights = {k: v.detach().cpu() for k, v in result.model.state_dict().items()}
        summary = {
            "rank": rank,
            "world_size": world,
            "device": result.device,
            "precision": result.precision,
            "settings": settings,
            "history": result.history,
            "best_epoch": result.best_epoch,
            "seconds": seconds,
            "weights_sha256": tensor_digest(weights),
            "out": str(args.out) if args.out else None,
        }
        if args.out is not None and rank == 0:
            Path(args.out).mkdir(parents=True, exist_ok=True)
            (Path(args.out) / "result.json").write_text(json.dumps(summary, indent=1))
        return summary
    finally:
        distributed.cleanup()


def macro_f1_metrics(logits: Any, labels: Any) -> dict[str, float]:
    """Accuracy and macro-F1 from logits (the metrics ``coursekit train`` reports)."""
    from sklearn.metrics import f1_score

    pred = logits.argmax(1)
    return {
        "accuracy": float((pred == labels).mean()),
        "macro_f1": float(f1_score(labels, pred, average="macro", zero_division=0)),
    }


def _setup(args: argparse.Namespace) -> tuple[Any, Any, Any, Any]:
    """Model, tokenizer and the train / validation rows that ``args`` ask for."""
    from coursekit.train_utils import tiny_bert, toy_rows

    if args.data == "toy":
        if args.model != "tiny":
            raise ValueError("--data toy has its own 13-token vocabulary: use --model tiny")
        return (
            tiny_bert(seed=args.seed),
            None,
            toy_rows(args.n_train, args.seed),
            toy_rows(args.n_val, args.seed + 1),
        )
    from transformers import AutoModelForSequenceClassification

    from coursekit import data, env

    tokenizer, train_rows, val_rows = review_rows(
        args.n_train, args.n_val, args.max_length, args.seed
    )
    env.seed_everything(args.seed)  # the classifier head is initialised at random
    if args.model == "minilm":
        no_dropout = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
        model = AutoModelForSequenceClassification.from_pretrained(
            env.minilm_path(),
            num_labels=len(data.LABELS),
            **(no_dropout if args.no_dropout else {}),
        )
    else:
        model = tiny_bert(
            vocab_size=tokenizer.vocab_size,
            seed=args.seed,
            max_positions=args.max_length,
            dropout=0.0 if args.no_dropout else 0.1,
        )
    return model, tokenizer, train_rows, val_rows


def review_rows(
    n_train: int, n_val: int, max_length: int, seed: int = 0
) -> tuple[Any, list[dict[str, Any]], list[dict[str, Any]]]:
    """The MiniLM tokenizer and tokenised rows of a seeded sample of the train and validation
    reviews (``coursekit train`` and ``benchmarks/training.py`` train on the same ones)."""
    from transformers import AutoTokenizer

    from coursekit import data, env

    tokenizer = AutoTokenizer.from_pretrained(env.minilm_path())
    frames = []
    for split, n in (("train", n_train), ("validation", n_val)):
        df = data.load_reviews(split)
        df = df.sample(n=min(n, len(df)), random_state=seed)
        enc = tokenizer(df["text"].tolist(), truncation=True, max_length=max_length)
        labels = [data.LABELS.index(lab) for lab in df["label"]]
        frames.append(
            [
                {"input_ids": i, "attention_mask": m, "labels": y}
                for i, m, y in zip(enc["input_ids"], enc["attention_mask"], labels, strict=True)
            ]
        )
    return tokenizer, frames[0], frames[1]
