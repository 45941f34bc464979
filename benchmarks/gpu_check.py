"""GPU check: the course's training paths on CUDA, in fp32, bf16 and fp16, with their memory.

    python benchmarks/gpu_check.py                     # on a CUDA machine: about 2 minutes
    python benchmarks/gpu_check.py --device cpu --quick  # the same code on the CPU (a smoke test)

For each precision the device supports it runs

* notebook 05's loop: ``coursekit.train.fit`` fine-tuning MiniLM (3-class review sentiment,
  balanced train subset, one epoch) and scoring validation macro-F1; on CUDA it compares
  ``torch.cuda.max_memory_allocated()`` with notebook 05's memory arithmetic (16 bytes per
  parameter for fp32 weights, gradients and AdamW moments, plus activations after Korthikanti
  et al., 2022);
* the sentiment recipe (``coursekit.sentiment.train_classifier``), which takes its device from
  ``coursekit.env.get_device()``, on a small subset;

and prints one table: precision, run, seconds, samples/s, macro-F1, peak and estimated MiB.
fp16 must train (GradScaler) and reach a macro-F1 close to bf16/fp32's; the peak memory must
stay below the estimate plus the CUDA context's working space (the estimate is an upper
bound: autocast keeps fewer activations than the formula's 16-bit count assumes only when
layers are recomputed, so a peak far above it means a leak).

* the small GPT of notebook 04 (``coursekit.lm.train_tiny_gpt``) and the copywriter of notebook
  07 (``coursekit.copywriter.train_copywriter``), which train through the same ``train.fit``
  and take their device from ``coursekit.env`` (``$COURSEKIT_DEVICE`` is set to ``--device``
  for them), in their recipes' fp32, on a short run.

With 2 or more GPUs, ``torchrun`` runs ``coursekit train`` with nccl.
Without a CUDA GPU (and without ``--device cpu``) it says so and exits with status 2:
nothing was measured.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

NOT_MEASURED = 2  # exit status: no GPU, nothing measured


def estimate_mib(model: Any, batch: int, seq: int, activation_bytes: int = 2) -> float:
    """Notebook 05's arithmetic: weights + gradients + AdamW moments (fp32) + activations."""
    cfg = model.config
    n = sum(p.numel() for p in model.parameters())
    h, a, layers = cfg.hidden_size, cfg.num_attention_heads, cfg.num_hidden_layers
    act = layers * seq * batch * h * (34 + 5 * a * seq / h) * activation_bytes / 2
    return (16 * n + act) / 2**20


def precisions_for(device: str) -> list[str]:
    """fp32 always; bf16 where the device computes it (CUDA ≥ 8.0, or a native-bf16 CPU); fp16 on CUDA."""
    import torch

    from coursekit import env

    out = ["fp32"]
    if device == "cuda":
        if torch.cuda.is_bf16_supported():
            out.append("bf16")
        out.append("fp16")
    elif env.cpu_supports_bf16():
        out.append("bf16")
    return out


def loop_run(device: str, precision: str, n_per_class: int, n_val: int) -> dict[str, Any]:
    """Notebook 05's full fine-tune with ``train.fit``: time, macro-F1, peak memory."""
    import numpy as np
    import torch
    from sklearn.metrics import f1_score
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from coursekit import data, env, train

    labels = list(data.LABELS)
    tokenizer = AutoTokenizer.from_pretrained(env.minilm_path())
    reviews = data.load_reviews("train").groupby("label").sample(n=n_per_class, random_state=0)
    val = data.load_reviews("validation").sample(n=n_val, random_state=0)
    ids = [labels.index(x) for x in reviews["label"]]
    loader = train.make_loader(reviews.text.tolist(), ids, tokenizer, batch_size=16, max_length=64)
    val_loader = train.make_loader(
        val.text.tolist(),
        [labels.index(x) for x in val["label"]],
        tokenizer,
        batch_size=64,
        max_length=64,
        shuffle=False,
    )
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(env.minilm_path(), num_labels=3)
    if device == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()

    def scores(logits: np.ndarray, y: np.ndarray) -> dict[str, float]:
        return {"macro_f1": float(f1_score(y, logits.argmax(1), average="macro"))}

    start = time.perf_counter()
    result = train.fit(
        model,
        loader,
        val_loader,
        epochs=1,
        lr=1e-4,
        precision=precision,
        metrics=scores,
        device=device,
        progress=False,
    )
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else float("nan")
    return {
        "run": "05 loop (train.fit, MiniLM)",
        "seconds": round(seconds, 1),
        "samples/s": round(result.history[-1]["samples_per_s"], 1),
        "val macro-F1": round(result.history[-1]["macro_f1"], 3),
        "peak MiB": peak if peak != peak else round(peak),  # NaN on the CPU
        "estimate MiB": round(estimate_mib(model, batch=16, seq=64)),
    }


def sentiment_run(precision: str, n_per_class: int, n_val: int) -> dict[str, Any]:
    """The sentiment recipe on a small subset; its device comes from ``coursekit.env``."""
    from coursekit import sentiment

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        clf = sentiment.train_classifier(
            Path(tmp) / "model", n_per_class=n_per_class, precision=precision, n_val=n_val
        )
        seconds = time.perf_counter() - start
    info = getattr(clf, "info", {}) or {}
    return {
        "run": "sentiment recipe",
        "seconds": round(seconds, 1),
        "samples/s": round(3 * n_per_class / seconds, 1),
        "val macro-F1": round(float(info.get("val_macro_f1", float("nan"))), 3),
        "peak MiB": float("nan"),
        "estimate MiB": float("nan"),
    }


def generator_runs(device: str, quick: bool) -> list[dict[str, Any]]:
    """The tiny GPT and the copywriter, each a short run on ``device`` (fp32, their recipe)."""
    import math

    from coursekit import copywriter, data, lm
    from coursekit.tokenization import load_shop_bpe

    saved = os.environ.get("COURSEKIT_DEVICE")
    os.environ["COURSEKIT_DEVICE"] = device
    rows = []
    try:
        steps = 10 if quick else 300
        start = time.perf_counter()
        settings = {**lm.SHOP_GPT_SETTINGS, "steps": steps, "eval_every": steps}
        _, history = lm.train_tiny_gpt(
            lm.product_copy_texts("train"),
            load_shop_bpe(),
            eval_texts=lm.product_copy_texts("validation")[:64],
            **settings,
        )
        rows.append(
            {
                "precision": "fp32",
                "run": f"small GPT, {steps} steps (lm.train_tiny_gpt)",
                "seconds": round(time.perf_counter() - start, 1),
                "val ppl": round(math.exp(history.eval_loss[-1]), 2),
            }
        )
        products = data.load_products()
        train_products = products[products["split"] == "train"].head(24 if quick else 400)
        config = copywriter.TrainConfig(epochs=1)
        start = time.perf_counter()
        copywriter.train_copywriter(train_products, config)
        rows.append(
            {
                "precision": config.precision,
                "run": f"copywriter, {len(train_products)} products, 1 epoch",
                "seconds": round(time.perf_counter() - start, 1),
            }
        )
    finally:
        if saved is None:
            os.environ.pop("COURSEKIT_DEVICE", None)
        else:
            os.environ["COURSEKIT_DEVICE"] = saved
    return rows


def ddp_row() -> dict[str, Any]:
    """``torchrun`` with 2 processes (nccl) on the toy task, when 2 GPUs exist."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
        command += ["--nproc_per_node=2", "-m", "coursekit", "train", "--data", "toy"]
        command += ["--model", "tiny", "--epochs", "1", "--n-train", "256", "--out", tmp]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ))
        ok = done.returncode == 0
    return {
        "run": "torchrun 2 processes (nccl)" + ("" if ok else f": FAILED {done.stderr[-200:]}"),
        "seconds": round(time.perf_counter() - start, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--quick", action="store_true", help="tiny subsets (F1 meaningless)")
    args = parser.parse_args(argv)

    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print(
            "No CUDA GPU on this machine: nothing measured. Run this on a GPU machine "
            "(or `--device cpu --quick` to test the script itself)."
        )
        return NOT_MEASURED

    import pandas as pd

    import coursekit

    coursekit.setup(seed=0)
    n_loop, n_val, n_sent = (16, 32, 16) if args.quick else (256, 300, 400)
    if args.device == "cuda":
        print(f"GPU: {torch.cuda.get_device_name()}, compute capability "
              f"{'.'.join(map(str, torch.cuda.get_device_capability()))}")  # fmt: skip
    rows = []
    for precision in precisions_for(args.device):
        rows.append({"precision": precision, **loop_run(args.device, precision, n_loop, n_val)})
        if args.device == "cuda" or precision == "fp32":  # the recipe picks its own device
            rows.append({"precision": precision, **sentiment_run(precision, n_sent, n_val)})
    rows.extend(generator_runs(args.device, args.quick))
    if args.device == "cuda" and torch.cuda.device_count() >= 2:
        rows.append({"precision": "fp32", **ddp_row()})
    table = pd.DataFrame(rows)
    print(table.to_markdown(index=False))
    loop = table[table["run"].str.startswith("05 loop")]
    if args.device == "cuda":
        over = loop[loop["peak MiB"] > 1.5 * loop["estimate MiB"] + 512]
        print("peak memory within the estimate (+ 50 % and 512 MiB of CUDA working space):",
              over.empty)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
