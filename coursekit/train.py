"""A correct, fast, measured fine-tuning loop (notebook 05), the same on 1 or N processes.

>>> loader = make_loader(texts, labels, tokenizer, batch_size=32)
>>> result = fit(model, loader, val_loader, epochs=3, lr=5e-5, precision="auto",
...              metrics=my_metrics, monitor="macro_f1", mode="max", patience=1)
>>> result.history          # one dict per epoch: losses, metrics, samples/s
>>> result.model            # with the best epoch's weights loaded

What one optimizer step does (the core of :func:`fit`)::

    for each micro-batch of the accumulation group:
        with autocast(bf16 | fp16):  loss = model(**batch).loss    # HF models return the loss
        (loss / group_size).backward()                           # grads add up = bigger batch
    unscale (fp16), clip ||g|| <= max_grad_norm, AdamW step, scheduler step, zero grads

* AdamW with weight decay on weight matrices only (not biases, not LayerNorm);
* learning rate: linear warm-up from 0 over ``warmup_ratio`` of the steps, then
  linear decay to 0 (the same values as ``transformers.get_linear_schedule_with_warmup``),
  or ``schedule="cosine"``: half a cosine down to 10 % of the peak;
* precision: ``"auto"`` picks bf16 on CPUs with native bf16 and on GPUs of compute
  capability >= 8.0, fp16 + ``GradScaler`` on older GPUs (see :func:`resolve_precision`);
* every epoch: evaluation, early stopping on ``monitor``, the best weights saved
  as safetensors (atomic, checksummed; see ``coursekit.train_utils``), the state
  for ``resume=True`` saved too, TensorBoard scalars written;
* under ``torchrun`` the model is wrapped in ``DistributedDataParallel`` and only
  rank 0 shows progress, logs and saves (see ``coursekit.distributed``).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coursekit import distributed
from coursekit.env import PRECISIONS, cpu_supports_bf16, resolve_precision
from coursekit.train_utils import (
    CheckpointError,
    load_checkpoint,
    make_loader,
    read_checkpoint,
    read_tensorboard,
    save_checkpoint,
)

BEST_FILE, LAST_FILE = "best.safetensors", "last.safetensors"


@dataclass
class FitResult:
    """What :func:`fit` returns; ``model`` holds the best epoch's weights."""

    history: list[dict[str, Any]]
    best_metric: float | None
    best_epoch: int | None
    model: Any
    checkpoint_path: Path | None = None
    precision: str = "fp32"
    device: str = "cpu"
    global_step: int = 0
    stopped_early: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def frame(self) -> Any:
        """The history as a pandas DataFrame (one row per epoch)."""
        import pandas as pd

        return pd.DataFrame(self.history)


# --------------------------------------------------------------------------- precision


def autocast(device_type: str, precision: str) -> Any:
    """``torch.autocast`` for bf16/fp16 (matmuls in half precision, sums in fp32); fp32: no-op."""
    import torch

    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device_type, dtype=dtype)


# --------------------------------------------------------------------------- optimizer, schedule


def param_groups(model: Any, weight_decay: float) -> list[dict[str, Any]]:
    """Trainable parameters split for AdamW: decay on matrices, none on biases and norms.

    Biases and LayerNorm weights are 1-D; shrinking them towards 0 only hurts.
    Frozen parameters (``requires_grad=False``) are left out.
    """
    decay, no_decay = [], []
    for _, p in model.named_parameters():
        if p.requires_grad:
            (decay if p.ndim >= 2 else no_decay).append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def count_parameters(model: Any, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def warmup_steps_for(total_steps: int, warmup_ratio: float) -> int:
    """Warm-up length: ``ceil(warmup_ratio * total_steps)`` (as Hugging Face does)."""
    return math.ceil(warmup_ratio * total_steps)


SCHEDULES = ("linear", "cosine")
COSINE_FLOOR = 0.1  # the cosine schedule ends at 10 % of the peak rate (as nanoGPT's does)


def lr_factor(step: int, total_steps: int, warmup_steps: int, schedule: str = "linear") -> float:
    """Learning-rate multiplier at optimizer ``step`` (0-based): warm-up, then decay.

    Warm-up: ``step / warmup``. Then ``"linear"`` decays to 0,
    ``(total - step) / (total - warmup)``; ``"cosine"`` follows half a cosine from 1 down to
    :data:`COSINE_FLOOR` (the tiny GPT of notebook 04 trains with it).
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, not {schedule!r}")
    if step < warmup_steps:
        return step / max(1, warmup_steps)
    if schedule == "cosine":
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return COSINE_FLOOR + (1 - COSINE_FLOOR) * 0.5 * (1 + math.cos(math.pi * progress))
    return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))


def make_scheduler(
    optimizer: Any, total_steps: int, warmup_ratio: float = 0.1, schedule: str = "linear"
) -> Any:
    """A ``LambdaLR`` with :func:`lr_factor`: warm-up over ``warmup_ratio`` of the steps, then decay."""
    import functools

    from torch.optim.lr_scheduler import LambdaLR

    warm = warmup_steps_for(total_steps, warmup_ratio)
    factor = functools.partial(
        lr_factor, total_steps=total_steps, warmup_steps=warm, schedule=schedule
    )
    return LambdaLR(optimizer, factor)


# --------------------------------------------------------------------------- data


def _to_device(batch: dict[str, Any], device: Any) -> dict[str, Any]:
    # non_blocking overlaps the copy with compute when the batch is in pinned memory
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


# --------------------------------------------------------------------------- evaluation


def predict(
    model: Any, loader: Any, device: Any = None, precision: str = "fp32"
) -> tuple[Any, Any, float]:
    """``(logits, labels, mean_loss)`` over ``loader`` in eval mode, without gradients."""
    import numpy as np
    import torch

    from coursekit import env

    device = torch.device(device or env.get_device())
    model = model.module if hasattr(model, "module") else model
    was_training = model.training
    model.eval()
    logits, labels, loss_sum, n = [], [], 0.0, 0
    with torch.no_grad():
        for batch in loader:
            batch = _to_device(batch, device)
            with autocast(device.type, precision):
                out = model(**batch)
            size = len(batch["labels"])
            loss_sum += float(out.loss) * size
            n += size
            logits.append(out.logits.float().cpu().numpy())
            labels.append(batch["labels"].cpu().numpy())
    model.train(was_training)
    return np.concatenate(logits), np.concatenate(labels), loss_sum / max(1, n)


def evaluate(
    model: Any,
    loader: Any,
    *,
    metrics: Callable[[Any, Any], dict[str, float]] | None = None,
    device: Any = None,
    precision: str = "fp32",
) -> dict[str, float]:
    """``{"val_loss": ..., **metrics(logits, labels)}`` on ``loader``."""
    logits, labels, loss = predict(model, loader, device, precision)
    out = {"val_loss": loss}
    if metrics is not None:
        out.update({k: float(v) for k, v in metrics(logits, labels).items()})
    return out


# --------------------------------------------------------------------------- the loop


def fit(
    model: Any,
    train_loader: Any,
    val_loader: Any = None,
    *,
    epochs: int = 1,
    lr: float = 5e-5,
    weight_decay: float = 0.01,
    warmup_ratio: float = 0.1,
    grad_accum_steps: int = 1,
    max_grad_norm: float | None = 1.0,
    precision: str = "fp32",
    metrics: Callable[[Any, Any], dict[str, float]] | None = None,
    monitor: str = "loss",
    mode: str = "min",
    patience: int | None = None,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    log_dir: str | Path | None = None,
    device: str | None = None,
    progress: bool = True,
    seed: int = 0,
    max_steps: int | None = None,
    schedule: str = "linear",
    betas: tuple[float, float] = (0.9, 0.999),
    on_step: Callable[[int, float], None] | None = None,
) -> FitResult:
    """Train ``model`` (``model(**batch)`` returns ``.loss`` and ``.logits``); see the module doc.

    ``monitor`` is ``"loss"`` (validation loss, or training loss without a
    validation loader) or a key returned by ``metrics``; ``mode`` is ``"min"``
    or ``"max"``. ``patience``: stop after that many epochs without improvement.
    With ``checkpoint_dir`` the best weights go to ``best.safetensors`` and the
    full state to ``last.safetensors``; ``resume=True`` continues from the latter.
    ``max_steps`` caps the optimizer steps (the schedule then spans ``max_steps``).
    ``schedule`` is ``"linear"`` or ``"cosine"`` (see :func:`lr_factor`); ``betas`` are AdamW's.
    ``on_step(step, loss)`` is called after every optimizer step (the model is in ``train()``
    mode and must be left so): a hook for per-step logging or evaluation, e.g. the tiny GPT's
    validation loss every 50 steps (:func:`coursekit.lm.train_tiny_gpt`).
    """
    import torch
    from tqdm.auto import tqdm

    from coursekit import env

    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', not {mode!r}")
    if grad_accum_steps < 1 or epochs < 1:
        raise ValueError("epochs and grad_accum_steps must be >= 1")
    if resume and checkpoint_dir is None:
        raise ValueError("resume=True needs checkpoint_dir (where last.safetensors is)")
    env.seed_everything(seed)
    dev = torch.device(device or env.get_device())
    precision = resolve_precision(precision, str(dev))
    rank, world = distributed.rank_world()
    main = rank == 0
    model.to(dev)
    net = distributed.wrap(model, dev)  # DistributedDataParallel when under torchrun
    optimizer = torch.optim.AdamW(
        param_groups(model, weight_decay), lr=lr, betas=betas, fused=dev.type == "cuda" or None
    )
    n_batches = len(train_loader)
    steps_per_epoch = math.ceil(n_batches / grad_accum_steps)
    total_steps = max_steps or steps_per_epoch * epochs
    scheduler = make_scheduler(optimizer, total_steps, warmup_ratio, schedule)
    scaler = torch.amp.GradScaler(dev.type, enabled=precision == "fp16")
    ckpt = Path(checkpoint_dir) if checkpoint_dir is not None else None
    writer = _writer(log_dir) if (log_dir is not None and main) else None

    s = {"epoch": 0, "step": 0, "best": None, "best_epoch": None, "bad": 0, "history": []}
    if resume and ckpt is not None and (ckpt / LAST_FILE).exists():
        s.update(
            load_checkpoint(
                ckpt / LAST_FILE,
                model,
                optimizer=optimizer,
                scheduler=scheduler,
                scaler=scaler,
                rng=True,
            )
        )
    best_state = None
    sign = 1.0 if mode == "min" else -1.0
    stopped = False
    for epoch in range(s["epoch"], epochs):
        if s["step"] >= total_steps or stopped:
            break
        for obj in (
            getattr(train_loader, "batch_sampler", None),
            getattr(train_loader, "sampler", None),
        ):
            if hasattr(obj, "set_epoch"):
                obj.set_epoch(epoch)
        net.train()
        start, loss_sum, n_seen, step_loss = time.perf_counter(), 0.0, 0, 0.0
        # `disable` is passed only to switch the bar off: left out, tqdm reads TQDM_DISABLE=1
        quiet = {} if (progress and main) else {"disable": True}
        bar = tqdm(train_loader, desc=f"epoch {epoch + 1}/{epochs}", leave=False, **quiet)
        for i, batch in enumerate(bar):
            batch = _to_device(batch, dev)
            group_start = (i // grad_accum_steps) * grad_accum_steps
            group_size = min(grad_accum_steps, n_batches - group_start)
            last_micro = i - group_start == group_size - 1
            sync = net.no_sync() if (world > 1 and not last_micro) else contextlib.nullcontext()
            with sync:
                with autocast(dev.type, precision):
                    loss = net(**batch).loss
                scaler.scale(loss / group_size).backward()
            loss_value = float(loss.detach())
            loss_sum += loss_value * len(batch["labels"])
            n_seen += len(batch["labels"])
            step_loss += loss_value / group_size
            if not last_micro:
                continue
            scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
            if max_grad_norm:
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
            scaler.step(optimizer)  # skipped by the scaler if fp16 gradients overflowed
            scaler.update()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            s["step"] += 1
            if writer is not None:
                writer.add_scalar("train/loss", step_loss, s["step"])
                writer.add_scalar("train/lr", scheduler.get_last_lr()[0], s["step"])
            bar.set_postfix(loss=f"{step_loss:.3f}")
            if on_step is not None:
                on_step(s["step"], step_loss)
            step_loss = 0.0
            if s["step"] >= total_steps:
                break
        seconds = time.perf_counter() - start
        loss_sum, n_seen = distributed.all_reduce_sum([loss_sum, float(n_seen)])
        record: dict[str, Any] = {"epoch": epoch + 1, "train_loss": loss_sum / max(1.0, n_seen)}
        if val_loader is not None:
            record.update(
                evaluate(model, val_loader, metrics=metrics, device=dev, precision=precision)
            )
        record.update(
            samples_per_s=n_seen / seconds, seconds=seconds, lr=scheduler.get_last_lr()[0]
        )
        s["history"].append(record)
        value = _monitored(record, monitor, val_loader is not None)
        if s["best"] is None or sign * value < sign * s["best"]:
            s.update(best=value, best_epoch=epoch + 1, bad=0)
            if ckpt is not None and main:
                save_checkpoint(ckpt / BEST_FILE, model, meta={"epoch": epoch + 1, monitor: value})
            elif ckpt is None:
                best_state = {
                    k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()
                }
        else:
            s["bad"] += 1
        stopped = patience is not None and s["bad"] >= patience
        s["epoch"] = epoch + 1
        if ckpt is not None and main:
            save_checkpoint(
                ckpt / LAST_FILE,
                model,
                optimizer=optimizer,
                scheduler=scheduler,
                scaler=scaler,
                meta=s,
                rng=True,
            )
        if writer is not None:
            _log_epoch(writer, record, s["step"])
    distributed.barrier()
    if writer is not None:
        writer.close()
    if s["best_epoch"] is not None and s["best_epoch"] != s["epoch"]:
        if ckpt is not None:
            load_checkpoint(ckpt / BEST_FILE, model)
        elif best_state is not None:
            model.load_state_dict(best_state)
    model.eval()
    return FitResult(
        history=s["history"],
        best_metric=s["best"],
        best_epoch=s["best_epoch"],
        model=model,
        checkpoint_path=(ckpt / BEST_FILE) if ckpt is not None else None,
        precision=precision,
        device=str(dev),
        global_step=s["step"],
        stopped_early=stopped,
    )


def _monitored(record: dict[str, Any], monitor: str, has_val: bool) -> float:
    key = ("val_loss" if has_val else "train_loss") if monitor == "loss" else monitor
    if key not in record:
        raise KeyError(
            f"cannot monitor {monitor!r}: the epoch record has {sorted(record)}; "
            "pass metrics=... that returns it, or monitor='loss'"
        )
    return float(record[key])


def _writer(log_dir: str | Path) -> Any:
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(log_dir=str(log_dir))


def _log_epoch(writer: Any, record: dict[str, Any], step: int) -> None:
    for key, value in record.items():
        if key in ("epoch", "lr", "seconds"):
            continue
        tag = {"train_loss": "epoch/train_loss", "val_loss": "epoch/val_loss"}.get(key)
        tag = tag or ("speed/samples_per_s" if key == "samples_per_s" else f"epoch/{key}")
        writer.add_scalar(tag, float(value), step)
    writer.flush()


__all__ = [
    "BEST_FILE",
    "LAST_FILE",
    "PRECISIONS",
    "CheckpointError",
    "FitResult",
    "autocast",
    "count_parameters",
    "cpu_supports_bf16",
    "evaluate",
    "fit",
    "load_checkpoint",
    "lr_factor",
    "make_loader",
    "make_scheduler",
    "param_groups",
    "predict",
    "read_checkpoint",
    "read_tensorboard",
    "resolve_precision",
    "save_checkpoint",
    "warmup_steps_for",
]
