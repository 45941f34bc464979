"""The course's supervised fine-tuning through ``trl``'s ``SFTTrainer``, for a side-by-side run.

:func:`train_sft_trl` trains what :func:`~coursekit.post_training.sft.train_sft` trains, with
``trl.SFTTrainer`` (a ``transformers.Trainer``) instead of the course's loop ``coursekit.train.fit``,
so that ``python benchmarks/post_training.py --trl`` can compare the two on the same budget:

* **the same conversations in the same order**: the rows the course's ``RandomBatches`` draws (with
  replacement, seeded) are written out in that order and read sequentially
  (``train_sampling_strategy="sequential"``), :func:`course_order`;
* **the same labels**: ``assistant_only_loss=True`` makes trl read the template's
  ``{% generation %}`` marks, which cover exactly the tokens
  :func:`~coursekit.post_training.chat.masked_labels` keeps (``tests/test_post_training_trl.py``);
  truncation to the same ``max_length`` (keep the start);
* **the same optimisation** (:func:`sft_config`): AdamW with weight decay 0.01 (``Trainer`` exempts
  biases and LayerNorms, ``fit`` every 1-D tensor: the same tensors for a GPT-2), 5 % warm-up,
  cosine down to ``COSINE_FLOOR`` of the peak (``cosine_with_min_lr``), clipping at 1.0, fp32,
  no gradient checkpointing (trl's default is on), no packing;
* **the same dropout masks**: the global RNG is re-seeded just before the first step, as ``fit``
  seeds it just before its first batch (``Trainer`` draws from it in between: without the re-seed
  the first step's loss already differs).

What still differs, read in trl 1.16's and transformers' source: trl computes the loss with its
fused LM head (``trl.trainer.utils.add_fused_lm_head``: log-probabilities of the labelled
positions only, summed, divided by the batch's number of labelled tokens), the course with
``GPT2LMHeadModel``'s cross-entropy (the mean over the same tokens): equal in exact arithmetic,
not in the last bits, and the difference grows over the steps. trl drops a conversation that
truncation leaves without a labelled token (the course keeps it: it takes a batch slot and adds
nothing), which shifts the batches after it: :func:`fully_truncated` counts them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

from coursekit.post_training.sft import MAX_LENGTH, RandomBatches, encode


def course_order(
    conversations: Sequence[Sequence[Mapping[str, str]]], batch_size: int, steps: int, seed: int = 0
) -> list[Sequence[Mapping[str, str]]]:
    """The conversations in the order the course's loop trains on them (``steps × batch_size``)."""
    if batch_size < 1 or steps < 1:
        raise ValueError(f"batch_size and steps must be >= 1, got {batch_size} and {steps}")
    if not conversations:
        raise ValueError("no conversations to train on; pass a non-empty list")
    batches = RandomBatches(list(conversations), 0, batch_size, steps, seed)
    return [conversations[i] for pick in batches.picks() for i in pick]


def fully_truncated(
    tokenizer: Any,
    conversations: Sequence[Sequence[Mapping[str, str]]],
    max_length: int = MAX_LENGTH,
) -> int:
    """How many conversations keep no labelled token once cut to ``max_length`` (trl drops them)."""
    rows = encode(tokenizer, conversations, masked=True, max_length=max_length)
    return sum(all(label == -100 for label in labels) for _, labels in rows)


def sft_config(
    output_dir: str,
    *,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int = 0,
    max_length: int = MAX_LENGTH,
) -> Any:
    """An ``SFTConfig`` with the course's SFT recipe (``train_sft`` + ``train.fit``), offline, on CPU."""
    import dataclasses

    from transformers import TrainingArguments
    from trl import SFTConfig

    from coursekit.train import COSINE_FLOOR

    # trl turns checkpointing on by default; newer transformers call it activation checkpointing
    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    key = (
        "activation_checkpointing"
        if "activation_checkpointing" in names
        else "gradient_checkpointing"
    )
    return SFTConfig(
        **{key: False},
        output_dir=output_dir,
        max_steps=steps,
        per_device_train_batch_size=batch_size,
        gradient_accumulation_steps=1,
        learning_rate=lr,
        weight_decay=0.01,
        warmup_steps=0.05,  # a fraction of max_steps, rounded up (as fit's warmup_ratio)
        lr_scheduler_type="cosine_with_min_lr",
        lr_scheduler_kwargs={"min_lr_rate": COSINE_FLOOR},
        optim="adamw_torch",
        adam_beta1=0.9,
        adam_beta2=0.999,
        max_grad_norm=1.0,
        max_length=max_length,
        truncation_mode="keep_start",
        assistant_only_loss=True,
        packing=False,
        padding_free=False,
        train_sampling_strategy="sequential",
        seed=seed,
        bf16=False,
        fp16=False,
        use_cpu=True,
        report_to="none",
        save_strategy="no",
        logging_steps=1,
        disable_tqdm=True,
        dataloader_num_workers=0,
        push_to_hub=False,
    )


def _seed_before_first_step(seed: int) -> Any:
    from transformers import TrainerCallback

    from coursekit import env

    class SeedBeforeFirstStep(TrainerCallback):
        """Re-seed the global RNG right before step 1, so dropout draws what ``fit``'s does."""

        def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if state.global_step == 0:
                env.seed_everything(seed)

    return SeedBeforeFirstStep()


class _LossLog:
    """Collects the per-step training loss ``Trainer`` logs (``logging_steps=1``)."""

    def __init__(self) -> None:
        from transformers import TrainerCallback

        log = self

        class Callback(TrainerCallback):
            def on_log(
                self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any
            ) -> None:
                if logs and "loss" in logs:
                    log.losses.append(float(logs["loss"]))

        self.losses: list[float] = []
        self.callback = Callback()


def sft_trainer(
    model: Any,
    tokenizer: Any,
    conversations: Sequence[Sequence[Mapping[str, str]]],
    output_dir: str,
    *,
    steps: int = 300,
    batch_size: int = 16,
    lr: float = 2e-3,
    seed: int = 0,
    max_length: int = MAX_LENGTH,
) -> Any:
    """A ``trl.SFTTrainer`` set up as :func:`train_sft_trl` describes (not trained yet)."""
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import SFTTrainer

    from coursekit.post_training.chat import check_template

    check_template(getattr(tokenizer, "chat_template", None) or "")
    ordered = course_order(conversations, batch_size, steps, seed)
    dataset = Dataset.from_list([{"messages": [dict(m) for m in conv]} for conv in ordered])
    trainer = SFTTrainer(
        model=model,
        args=sft_config(
            output_dir, steps=steps, batch_size=batch_size, lr=lr, seed=seed, max_length=max_length
        ),
        train_dataset=dataset,
        processing_class=tokenizer,
        callbacks=[_seed_before_first_step(seed)],
    )
    trainer.remove_callback(PrinterCallback)  # it prints every logged step (progress, not results)
    return trainer


def train_sft_trl(
    model: Any,
    tokenizer: Any,
    conversations: Sequence[Sequence[Mapping[str, str]]],
    *,
    steps: int = 300,
    batch_size: int = 16,
    lr: float = 2e-3,
    seed: int = 0,
    cpu_seconds: dict[str, float] | None = None,
) -> tuple[Any, list[float]]:
    """:func:`~coursekit.post_training.sft.train_sft` with ``trl``; returns ``(model, per-step losses)``.

    ``cpu_seconds``, if given, receives the CPU seconds of ``"preparation"`` (building the trainer:
    trl tokenises and labels the dataset) and ``"training"`` (``trainer.train()``).
    """
    import time

    log = _LossLog()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.process_time()
        trainer = sft_trainer(
            model,
            tokenizer,
            conversations,
            tmp,
            steps=steps,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
        )
        trainer.add_callback(log.callback)
        prepared = time.process_time()
        trainer.train()
        if cpu_seconds is not None:
            cpu_seconds["preparation"] = prepared - start
            cpu_seconds["training"] = time.process_time() - prepared
    model = trainer.model.to("cpu").eval()
    return model, log.losses


__all__ = ["course_order", "fully_truncated", "sft_config", "sft_trainer", "train_sft_trl"]
