"""Training the tiny GPT: :func:`train_tiny_gpt` through the course's one loop, ``train.fit``.

Random packed blocks (:class:`RandomBlocks`, seeded), AdamW with warm-up and cosine decay,
the validation loss and greedy samples (:func:`sample_text`) every ``eval_every`` steps,
all recorded in a :class:`TrainHistory`; deterministic on one machine for a fixed seed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from coursekit.lm.data import _bos_eos, pack_texts
from coursekit.lm.evaluation import mean_nll
from coursekit.lm.model import config_for, tiny_gpt

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerBase


@dataclass
class TrainHistory:
    """What happened during :func:`train_tiny_gpt`: losses per step, evaluations, samples."""

    steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    eval_loss: list[float] = field(default_factory=list)
    samples: dict[int, list[str]] = field(default_factory=dict)
    seconds: float = 0.0
    n_params: int = 0
    n_train_tokens: int = 0

    def frame(self, smooth: int = 1) -> pd.DataFrame:
        """Long table (step, split, loss) for seaborn; ``smooth`` averages the train loss."""
        import pandas as pd

        train = pd.Series(self.train_loss).rolling(max(1, smooth), min_periods=1).mean()
        rows = [
            {"step": s, "split": "train", "loss": float(v)}
            for s, v in zip(self.steps, train, strict=True)
        ]
        rows += [
            {"step": s, "split": "validation", "loss": v}
            for s, v in zip(self.eval_steps, self.eval_loss, strict=True)
        ]
        return pd.DataFrame(rows)

    def to_json(self) -> str:
        """Serialise (sample keys become strings in JSON)."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> TrainHistory:
        """Inverse of :meth:`to_json`."""
        data = json.loads(text)
        data["samples"] = {int(k): v for k, v in data.get("samples", {}).items()}
        return cls(**data)


def sample_text(
    model: Any,
    tokenizer: PreTrainedTokenizerBase,
    prompt: str = "",
    max_new_tokens: int = 30,
    greedy: bool = True,
    seed: int = 0,
) -> str:
    """Continue ``prompt`` (after an ``<|endoftext|>`` start marker) and return only the new text."""
    bos, eos = _bos_eos(tokenizer)
    ids = [bos, *tokenizer(prompt, add_special_tokens=False)["input_ids"]]
    device = next(model.parameters()).device
    x = torch.tensor([ids], device=device)
    was_training = model.training
    model.eval()
    gen = torch.Generator(device="cpu").manual_seed(seed)
    new: list[int] = []
    limit = int(getattr(model.config, "n_positions", 1024))
    with torch.no_grad():
        for _ in range(max_new_tokens):
            window = x[:, -limit:]
            logits = model(input_ids=window, attention_mask=torch.ones_like(window)).logits
            logits = logits[0, -1].float().cpu()
            if greedy:
                nxt = int(logits.argmax())
            else:
                nxt = int(torch.multinomial(torch.softmax(logits, -1), 1, generator=gen))
            if nxt == eos:
                break
            new.append(nxt)
            x = torch.cat([x, torch.tensor([[nxt]], device=device)], dim=1)
    model.train(was_training)
    return tokenizer.decode(new)


class RandomBlocks:
    """A loader of ``steps`` batches of ``batch_size`` blocks drawn at random (with a seed).

    What :func:`train_tiny_gpt` feeds :func:`coursekit.train.fit`: each batch is
    ``{"input_ids", "attention_mask", "labels"}`` with the labels equal to the ids (a causal LM
    shifts them itself); every pass over it draws the same batches.
    """

    def __init__(self, blocks: torch.Tensor, batch_size: int, steps: int, seed: int = 0):
        self.blocks, self.batch_size, self.steps, self.seed = blocks, batch_size, steps, seed

    def __len__(self) -> int:
        return self.steps

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        gen = torch.Generator().manual_seed(self.seed)
        for _ in range(self.steps):
            batch = self.blocks[torch.randint(len(self.blocks), (self.batch_size,), generator=gen)]
            yield {"input_ids": batch, "attention_mask": torch.ones_like(batch), "labels": batch}


def train_tiny_gpt(
    texts: Sequence[str],
    tokenizer: PreTrainedTokenizerBase,
    steps: int = 300,
    batch_size: int = 16,
    block_size: int = 128,
    lr: float = 3e-3,
    warmup: int = 30,
    weight_decay: float = 0.1,
    eval_texts: Sequence[str] | None = None,
    eval_every: int = 50,
    sample_prompts: Sequence[str] = (),
    sample_every: int | None = None,
    config: GPT2Config | None = None,
    seed: int = 0,
    threads: int | None = 2,
    log: Callable[[str], None] | None = None,
    **config_kw: Any,
) -> tuple[GPT2LMHeadModel, TrainHistory]:
    """Train a tiny GPT on ``texts`` packed into ``block_size`` blocks; return ``(model, history)``.

    The course's one loop, :func:`coursekit.train.fit`, on random blocks
    (:class:`RandomBlocks`, a seeded generator; ``labels=`` the ids, the model shifts them):
    AdamW (betas 0.9/0.95, weight decay on matrices only), warm-up then cosine decay to 10 %,
    gradient clipping at 1.0, the device from :func:`coursekit.env.get_device`; every
    ``eval_every`` steps (its ``on_step`` hook) the validation loss on ``eval_texts`` in
    ``eval()`` mode without gradients (same protocol as :func:`perplexity`). Returned on the
    CPU in ``eval()`` mode. Deterministic on one machine for a fixed ``seed`` and thread count.
    """
    from coursekit.env import set_threads

    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if isinstance(texts, str):
        raise TypeError("texts should be a list of strings, not a single str")
    previous_threads = torch.get_num_threads()
    if threads is not None:
        set_threads(threads)
    # dropout and batch sampling draw from the global RNG: seed it, and restore it afterwards
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        try:
            config = config or config_for(tokenizer, n_positions=block_size, **config_kw)
            if config.n_positions < block_size:
                raise ValueError(
                    f"block_size {block_size} exceeds n_positions {config.n_positions}"
                )
            model = tiny_gpt(config, seed=seed)
            blocks = pack_texts(texts, tokenizer, block_size)
            history = TrainHistory(
                n_params=sum(p.numel() for p in model.parameters()), n_train_tokens=blocks.numel()
            )
            from coursekit import train

            sample_every = sample_every or eval_every
            start = time.perf_counter()

            def evaluate(step: int) -> None:
                if eval_texts:
                    loss = mean_nll(model, eval_texts, tokenizer, max_length=config.n_positions)
                    history.eval_steps.append(step)
                    history.eval_loss.append(loss)
                    if log:
                        log(f"step {step:4d}  validation loss {loss:.3f}")
                if sample_prompts and (step % sample_every == 0 or step == steps):
                    history.samples[step] = [
                        sample_text(model, tokenizer, p) for p in sample_prompts
                    ]

            def on_step(step: int, loss: float) -> None:
                history.steps.append(step)
                history.train_loss.append(loss)
                if step % eval_every == 0 or step == steps:
                    evaluate(step)  # mean_nll and sample_text restore train() mode

            evaluate(0)
            train.fit(
                model,
                RandomBlocks(blocks, batch_size, steps, seed=seed),
                epochs=1,
                lr=lr,
                weight_decay=weight_decay,
                warmup_ratio=warmup / steps,
                schedule="cosine",
                betas=(0.9, 0.95),
                max_grad_norm=1.0,
                progress=False,
                seed=seed,
                on_step=on_step,
            )
            history.seconds = time.perf_counter() - start
            model.to("cpu").eval()
            return model, history
        finally:
            torch.set_num_threads(previous_threads)


__all__ = ["RandomBlocks", "TrainHistory", "sample_text", "train_tiny_gpt"]
