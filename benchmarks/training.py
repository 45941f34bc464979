"""Training benchmark: the coursekit loop vs HF Trainer, padding, bf16, and 1 vs 2 processes.

    python benchmarks/training.py              # about 5 minutes on an idle 2-core CPU
    python benchmarks/training.py --quick      # fewer examples: a smoke test (F1 meaningless)
    python benchmarks/training.py --skip-ddp   # leave out the torchrun runs

Every run fine-tunes the pretrained MiniLM (3-class review sentiment) for one
epoch on the same 768 reviews, batch 16 (48 steps), AdamW lr 2e-4, warm-up 10 %,
then scores macro-F1 on the same validation reviews. Fewer steps leave every run at
the majority class (macro-F1 0.247 for 384 reviews in batches of 32, at lr 5e-5 or
2e-4), which would make the "equal macro-F1" check vacuous. Dropout is off in every
run, so runs over the same batches (padded differently, or split over 2 processes)
reach the same macro-F1. Speeds are training samples per second
(wall clock of the training epoch, evaluation excluded), 2 torch threads in
total (2 processes get 1 thread each). On a shared machine the speeds are noisy:
read ratios, not absolute numbers. On a CUDA machine the same runs use the GPU.

Targets (issue 6): loop/Trainer speed >= 1.0 with equal macro-F1 (within noise);
dynamic padding + length grouping >= 1.5x pad-to-max-length; bf16 vs fp32 and
1 vs 2 processes reported as measured; 2 processes match 1 process.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def reviews(n_train: int, n_val: int, max_length: int, seed: int = 0) -> tuple[Any, list, list]:
    """MiniLM tokenizer and tokenised train / validation rows (the sample `coursekit train` uses)."""
    from coursekit.commands.train import review_rows

    return review_rows(n_train, n_val, max_length, seed)


def minilm(seed: int = 0) -> Any:
    from transformers import AutoModelForSequenceClassification

    from coursekit import env

    env.seed_everything(seed)
    # dropout off, as `coursekit train --no-dropout`: dropout masks depend on the padded
    # shape, so with it on, two runs over the same batches differ only by padding noise
    return AutoModelForSequenceClassification.from_pretrained(
        env.minilm_path(), num_labels=3, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0
    )


def macro_f1(logits: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import f1_score

    return {"macro_f1": float(f1_score(labels, logits.argmax(1), average="macro"))}


def run_loop(tok, train_rows, val_rows, args, **loader_kw) -> dict[str, Any]:
    """One epoch with coursekit.train.fit; returns samples/s and validation macro-F1."""
    from coursekit import train

    precision = loader_kw.pop("precision", "fp32")
    loader = train.make_loader(
        train_rows,
        tokenizer=tok,
        batch_size=args.batch_size,
        max_length=args.max_length,
        **loader_kw,
    )
    val = train.make_loader(val_rows, tokenizer=tok, batch_size=64, shuffle=False)
    model = minilm()
    result = train.fit(
        model, loader, epochs=1, lr=args.lr, precision=precision, progress=False, seed=0
    )
    f1 = train.evaluate(model, val, metrics=macro_f1, precision=precision)["macro_f1"]
    return {"samples_per_s": result.history[0]["samples_per_s"], "macro_f1": f1}


def run_trainer(tok, train_rows, val_rows, args) -> dict[str, Any]:
    """The same epoch with transformers.Trainer (its defaults: random batches, dynamic padding)."""
    import torch
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    from coursekit import env, train

    model = minilm()
    with tempfile.TemporaryDirectory() as out:
        targs = TrainingArguments(
            output_dir=out,
            per_device_train_batch_size=args.batch_size,
            num_train_epochs=1,
            learning_rate=args.lr,
            weight_decay=0.01,
            warmup_steps=0.1,
            lr_scheduler_type="linear",
            max_grad_norm=1.0,
            eval_strategy="no",
            save_strategy="no",
            logging_strategy="no",
            report_to="none",
            disable_tqdm=True,
            seed=0,
            use_cpu=not torch.cuda.is_available(),
        )
        trainer = Trainer(
            model=model,
            args=targs,
            train_dataset=train_rows,
            data_collator=DataCollatorWithPadding(tok),
        )
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # Trainer prints its summary dict
            trainer.train()
        seconds = time.perf_counter() - start
    val = train.make_loader(val_rows, tokenizer=tok, batch_size=64, shuffle=False)
    env.set_threads(2)
    f1 = train.evaluate(model, val, metrics=macro_f1)["macro_f1"]
    return {"samples_per_s": len(train_rows) / seconds, "macro_f1": f1}


def run_command(n_procs: int, args, out: Path) -> dict[str, Any]:
    """`coursekit train` on MiniLM (dropout off) with 1 process or torchrun N processes."""
    opts = [
        "train", "--data", "reviews", "--model", "minilm", "--epochs", "1", "--no-dropout",
        "--n-train", str(args.n_train), "--n-val", str(args.n_val), "--lr", str(args.lr),
        "--batch-size", str(args.batch_size), "--max-length", str(args.max_length),
        "--out", str(out), "--threads", str(max(1, 2 // n_procs)),
    ]  # fmt: skip
    if n_procs == 1:
        cmd = [sys.executable, "-m", "coursekit", *opts]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node", str(n_procs), "-m", "coursekit", *opts]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": str(max(1, 2 // n_procs)), "TQDM_DISABLE": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    result = json.loads((out / "result.json").read_text())
    h = result["history"][0]
    return {"samples_per_s": h["samples_per_s"], "macro_f1": h["macro_f1"], "dir": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=768)
    parser.add_argument("--n-val", type=int, default=192)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-4, help="peak learning rate (default 2e-4)")
    parser.add_argument("--quick", action="store_true", help="128 train / 64 validation reviews")
    parser.add_argument("--skip-ddp", action="store_true", help="no torchrun runs")
    args = parser.parse_args()
    if args.quick:
        args.n_train, args.n_val = 128, 64

    import coursekit
    from coursekit import train
    from coursekit.train_utils import read_checkpoint

    coursekit.setup(seed=0)
    tok, train_rows, val_rows = reviews(args.n_train, args.n_val, args.max_length)
    lengths = [len(r["input_ids"]) for r in train_rows]
    print(
        f"{len(train_rows)} train / {len(val_rows)} validation reviews, batch {args.batch_size}, "
        f"1 epoch, lr {args.lr:g}; tokens per review: median {int(np.median(lengths))}, max {max(lengths)}; "
        f"device {coursekit.env.get_device()}, torch threads {coursekit.env.set_threads(2)}\n",
        flush=True,
    )
    results: dict[str, dict[str, Any]] = {}
    plan = [
        ("loop: dynamic + grouped, fp32", lambda: run_loop(tok, train_rows, val_rows, args)),
        ("loop: dynamic, random batches", lambda: run_loop(
            tok, train_rows, val_rows, args, group_by_length=False)),
        ("loop: pad to max_length", lambda: run_loop(
            tok, train_rows, val_rows, args, group_by_length=False, pad_to_max_length=True)),
        ("HF Trainer (dynamic, random)", lambda: run_trainer(tok, train_rows, val_rows, args)),
        ("loop: dynamic + grouped, bf16", lambda: run_loop(
            tok, train_rows, val_rows, args, precision="bf16")),
    ]  # fmt: skip
    for name, fn in plan:
        start = time.perf_counter()
        results[name] = fn()
        print(f"  ran {name:<32} in {time.perf_counter() - start:5.1f} s", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-train-"))
    if not args.skip_ddp:
        for n in (1, 2):
            name = f"coursekit train, {n} process{'es' if n > 1 else ''}"
            start = time.perf_counter()
            results[name] = run_command(n, args, tmp / f"p{n}")
            print(f"  ran {name:<32} in {time.perf_counter() - start:5.1f} s", flush=True)

    print("\n| run | samples/s | val macro-F1 |\n|---|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['samples_per_s']:.1f} | {r['macro_f1']:.3f} |")

    def ratio(a: str, b: str) -> float:
        return results[a]["samples_per_s"] / results[b]["samples_per_s"]

    def df1(a: str, b: str) -> float:
        return results[a]["macro_f1"] - results[b]["macro_f1"]

    base, trainer = "loop: dynamic + grouped, fp32", "HF Trainer (dynamic, random)"
    rows = [
        ("loop / HF Trainer speed", ratio(base, trainer), ">= 1.0", df1(base, trainer)),
        ("loop (random batches) / HF Trainer", ratio("loop: dynamic, random batches", trainer),
         "(same batching)", df1("loop: dynamic, random batches", trainer)),
        ("dynamic + grouped / pad-to-max", ratio(base, "loop: pad to max_length"), ">= 1.5",
         df1(base, "loop: pad to max_length")),
        ("bf16 / fp32 (CPU autocast)", ratio("loop: dynamic + grouped, bf16", base), "report",
         df1("loop: dynamic + grouped, bf16", base)),
    ]  # fmt: skip
    if not args.skip_ddp:
        one, two = "coursekit train, 1 process", "coursekit train, 2 processes"
        rows.append(("2 processes / 1 (gloo, DDP)", ratio(two, one), "report", df1(two, one)))
    print("\n| comparison | speed ratio | target | macro-F1 change |\n|---|---:|---|---:|")
    for name, value, target, change in rows:
        ok = "" if not target.startswith(">=") else (" ✅" if value >= float(target[3:]) else " ❌")
        print(f"| {name} | {value:.2f} | {target}{ok} | {change:+.3f} |")
    if not args.skip_ddp:
        w1, _ = read_checkpoint(results[one]["dir"] / train.LAST_FILE)
        w2, _ = read_checkpoint(results[two]["dir"] / train.LAST_FILE)
        diff = max(float((w1[k] - w2[k]).abs().max()) for k in w1 if k.startswith("model/"))
        same = "identical within 1e-4" if diff < 1e-4 else "NOT identical"
        print(f"\n1 vs 2 processes, final weights: max |difference| {diff:.2e} ({same}).")


if __name__ == "__main__":
    main()
