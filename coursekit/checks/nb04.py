"""Checks for notebook 04 (language modelling): shifted loss, corpus perplexity, a training step, argmax."""

from __future__ import annotations

import math
from typing import Any

from coursekit.checks import (
    CheckFailed,
    call,
    exercise,
    expect,
    expect_close,
    expect_shape,
    hint,  # noqa: F401 (check.hint("NN.k") in a notebook)
    require_attempted,
)


def _batch(seed: int = 0) -> tuple[Any, Any]:
    """Random logits (2, 6, 11) and labels with -100 on the padding of the second row."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(2, 6, 11, generator=gen) * 2
    labels = torch.randint(0, 11, (2, 6), generator=gen)
    labels[1, 4:] = -100
    return logits, labels


@exercise(
    "04.1",
    "the shifted next-token loss",
    hint=(
        "Position t predicts token t + 1: shift the logits and the labels against each other before taking the loss.",
        "Drop the last position of the logits and the first of the labels, flatten both, and use a cross-entropy that ignores the label -100.",
    ),
)
def shifted_loss(fn: Any) -> None:
    import torch
    import torch.nn.functional as F

    logits, labels = _batch()
    got = call(fn, logits.clone(), labels.clone(), name="next_token_loss")
    expect(
        isinstance(got, torch.Tensor) and got.dim() == 0,
        f"`next_token_loss` should return a 0-dim tensor (a scalar loss), got {_describe(got)}",
    )
    v = logits.shape[-1]
    want = F.cross_entropy(logits[:, :-1].reshape(-1, v), labels[:, 1:].reshape(-1))
    wrong = {
        "without the shift (the model would learn to copy its input)": F.cross_entropy(
            logits.reshape(-1, v), labels.reshape(-1)
        ),
        "shifted the wrong way (logits[:, 1:] vs labels[:, :-1])": F.cross_entropy(
            logits[:, 1:].reshape(-1, v), labels[:, :-1].reshape(-1)
        ),
        "summed instead of averaged over tokens": F.cross_entropy(
            logits[:, :-1].reshape(-1, v), labels[:, 1:].reshape(-1), reduction="sum"
        ),
    }
    for what, value in wrong.items():
        if math.isclose(float(got), float(value), rel_tol=1e-5):
            raise CheckFailed(f"your loss is {float(got):.4f}: you {what}")
    expect_close(got, float(want), "next_token_loss(logits, labels)")


def _describe(value: Any) -> str:
    shape = getattr(value, "shape", None)
    return f"a {type(value).__name__}" + (f" of shape {tuple(shape)}" if shape is not None else "")


BATCH_LOSSES = [2.0, 3.0, 2.5]
BATCH_TOKENS = [100, 20, 80]


@exercise(
    "04.2",
    "corpus perplexity from batch losses",
    hint=(
        "A batch's mean loss hides how many tokens it had: perplexity averages over the corpus's tokens, not over its batches.",
        "Turn each mean back into a total (mean × its token count), add the totals, divide by the total token count, then exponentiate.",
    ),
)
def corpus_perplexity(fn: Any) -> None:
    got = call(fn, list(BATCH_LOSSES), list(BATCH_TOKENS), name="corpus_perplexity")
    try:
        got = float(got)
    except (TypeError, ValueError):
        raise CheckFailed(
            f"`corpus_perplexity` should return a number, got {_describe(got)}"
        ) from None
    weighted = sum(loss * n for loss, n in zip(BATCH_LOSSES, BATCH_TOKENS, strict=True))
    want = math.exp(weighted / sum(BATCH_TOKENS))
    plain = math.exp(sum(BATCH_LOSSES) / len(BATCH_LOSSES))
    mean_of_exps = sum(math.exp(x) for x in BATCH_LOSSES) / len(BATCH_LOSSES)
    if math.isclose(got, plain, rel_tol=1e-6):
        raise CheckFailed(
            "you averaged the batch losses equally; a batch with 100 tokens must count 5x "
            "more than one with 20: weight by tokens"
        )
    if math.isclose(got, mean_of_exps, rel_tol=1e-6):
        raise CheckFailed("you averaged per-batch perplexities; average the losses, then exp")
    if math.isclose(got, weighted / sum(BATCH_TOKENS), rel_tol=1e-6):
        raise CheckFailed("that is the mean loss; perplexity is exp(mean loss)")
    expect_close(got, want, "corpus_perplexity(losses, tokens)", rtol=1e-6)
    one = call(fn, [math.log(50.0)], [7], name="corpus_perplexity")
    expect_close(float(one), 50.0, "corpus_perplexity([log 50], [7])", rtol=1e-6)


def _step_setup(seed: int = 0) -> tuple[Any, Any, Any]:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        cfg = GPT2Config(
            vocab_size=20,
            n_positions=8,
            n_embd=8,
            n_layer=1,
            n_head=2,
            resid_pdrop=0.0,
            embd_pdrop=0.0,
            attn_pdrop=0.0,
            bos_token_id=0,
            eos_token_id=0,
            pad_token_id=0,
        )
        model = GPT2LMHeadModel(cfg)
        ids = torch.randint(1, 20, (2, 6))
    ids[1, 4:] = 0
    mask = torch.ones_like(ids)
    mask[1, 4:] = 0
    labels = ids.masked_fill(mask == 0, -100)
    batch = {"input_ids": ids, "attention_mask": mask, "labels": labels}
    # stale gradients from an earlier step: a loop that forgets zero_grad() adds them in
    for p in model.parameters():
        p.grad = torch.full_like(p, 0.5)
    return model, batch, torch.optim.SGD(model.parameters(), lr=0.1)


@exercise(
    "04.3",
    "a correct training step",
    hint=(
        "A step is: forward pass, clear the old gradients, backward pass, update; the model returns its loss when the batch has labels.",
        "Clear the gradients before backward (not between backward and step), then step, and return the loss as a plain Python number.",
    ),
)
def train_step(fn: Any) -> None:
    import torch

    model, batch, opt = _step_setup()
    model.eval()  # the step itself must switch to training mode
    got = call(fn, model, {k: v.clone() for k, v in batch.items()}, opt, name="train_step")
    ref_model, ref_batch, ref_opt = _step_setup()
    ref_model.train()
    loss = ref_model(**ref_batch).loss
    ref_opt.zero_grad()
    loss.backward()
    ref_opt.step()
    expect(
        isinstance(got, float),
        f"`train_step` should return the loss as a Python float (loss.item()), got {_describe(got)}",
    )
    expect(model.training, "the model is still in eval mode: call model.train() in the step")
    moved = any(
        not torch.equal(a, b)
        for a, b in zip(model.parameters(), _step_setup()[0].parameters(), strict=True)
    )
    expect(
        moved,
        "the weights did not change: call optimizer.step() after loss.backward() "
        "(and zero_grad() before backward, not between backward and step)",
    )
    if not math.isclose(got, loss.item(), rel_tol=1e-5):
        unmasked = _step_setup()[0](
            input_ids=batch["input_ids"], labels=batch["input_ids"]
        ).loss.item()
        if math.isclose(got, unmasked, rel_tol=1e-5):
            raise CheckFailed(
                "your loss counts the padding: pass attention_mask and labels with -100 on "
                "padding (the batch's 'labels')"
            )
        raise CheckFailed(f"the returned loss is {got:.4f}, expected {loss.item():.4f}")
    for a, b in zip(model.parameters(), ref_model.parameters(), strict=True):
        if not torch.allclose(a, b, atol=1e-6):
            raise CheckFailed(
                "the updated weights differ from a correct step: zero the old gradients "
                "(optimizer.zero_grad()) before loss.backward()"
            )


@exercise(
    "04.4",
    "greedy next-token predictions",
    hint=(
        "At each position the prediction is the vocabulary entry with the highest score: which axis of the logits is the vocabulary?",
        "Take the argmax over the last axis; the result has shape (batch, seq).",
    ),
)
def next_token_ids(value: Any, logits: Any) -> None:
    require_attempted(value, "predicted")
    if isinstance(value, tuple) and hasattr(value, "indices"):
        raise CheckFailed(
            "`predicted` is a (values, indices) pair from torch.max; keep the indices, "
            "or use logits.argmax(dim=-1)"
        )
    want = logits.argmax(dim=-1)
    if getattr(value, "shape", None) is not None and tuple(value.shape) == tuple(
        logits.argmax(dim=1).shape
    ) != tuple(want.shape):
        raise CheckFailed(
            f"`predicted` has shape {tuple(value.shape)}: that is the max over the sequence axis "
            "(torch.max(logits, 1), the articles' bug); take it over the vocabulary, dim=-1"
        )
    expect_shape(value, tuple(want.shape), "predicted")
    if hasattr(value, "tolist") and value.tolist() != want.tolist():
        raise CheckFailed("`predicted` is not the argmax over the vocabulary at each position")
