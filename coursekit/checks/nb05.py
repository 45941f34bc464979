"""Checks for notebook 05 (fine-tuning): the warm-up schedule, freezing for a linear
probe, one training step with gradient accumulation, and the memory of AdamW training."""

from __future__ import annotations

import math
from typing import Any

from coursekit.checks import (
    CheckFailed,
    NotAttempted,
    call,
    exercise,
    expect,
    hint,  # noqa: F401 (check.hint("NN.k") in a notebook)
)

#: (total_steps, warmup_steps) cases for exercise 05.1
SCHEDULE_CASES = [(10, 2), (100, 10), (7, 0), (30, 29)]


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or value is None:
        raise CheckFailed(f"`{name}` should be a number, but it is {value!r}")
    if hasattr(value, "item"):
        value = value.item()
    if not isinstance(value, (int, float)):
        raise CheckFailed(f"`{name}` should be a number, but it is a {type(value).__name__}")
    expect(not math.isnan(value), f"`{name}` is NaN")
    return float(value)


@exercise(
    "05.1",
    "warm-up then linear decay",
    hint=(
        "Two phases: the rate climbs linearly from 0 to the peak during warm-up, then falls linearly to 0 at the last step.",
        "Before warmup_steps, scale peak_lr by the share of the warm-up done; after it, by the share of the decay phase still left; never return a negative rate.",
    ),
)
def warmup_schedule(fn: Any) -> None:
    from coursekit.train import lr_factor

    peak = 1e-4
    for total, warm in SCHEDULE_CASES:
        for step in range(total + 2):
            got = _number(
                call(fn, step, total, warm, peak, name="warmup_lr"),
                f"warmup_lr({step}, {total}, {warm}, peak_lr)",
            )
            want = peak * lr_factor(step, total, warm)
            if math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-12):
                continue
            where = f"at step {step} of {total} (warm-up {warm})"
            if step < warm and math.isclose(got, peak * (step + 1) / warm, rel_tol=1e-6):
                raise CheckFailed(
                    f"{where} you give {got:.3g}, one step ahead: step 0 should have lr 0 "
                    "(use step / warmup_steps)"
                )
            if step < warm and math.isclose(got, peak, rel_tol=1e-6):
                raise CheckFailed(f"{where} the learning rate should still be warming up")
            if step >= total and got < 0:
                raise CheckFailed(f"{where} the learning rate went negative ({got:.3g}); clip at 0")
            raise CheckFailed(f"{where} expected {want:.4g}, got {got:.4g}")
    return "Same values as transformers.get_linear_schedule_with_warmup."


def _tiny_model() -> Any:
    from coursekit.train_utils import tiny_bert

    return tiny_bert(seed=0)


@exercise(
    "05.2",
    "freeze the encoder for a linear probe",
    hint=(
        "A linear probe trains only the classification head: the pretrained encoder must receive no gradient.",
        "The encoder is model.base_model: switch off requires_grad on its parameters, then count the elements of the parameters that still require gradients.",
    ),
)
def freeze_encoder(fn: Any) -> None:
    model = _tiny_model()
    got = call(fn, model, name="freeze_encoder")
    head = sum(p.numel() for p in model.classifier.parameters())
    encoder_trainable = [n for n, p in model.base_model.named_parameters() if p.requires_grad]
    head_frozen = [n for n, p in model.classifier.named_parameters() if not p.requires_grad]
    expect(not head_frozen, "the classifier head is frozen too: nothing would learn")
    if encoder_trainable:
        raise CheckFailed(
            f"{len(encoder_trainable)} encoder tensors still require gradients, e.g. "
            f"{encoder_trainable[0]!r}"
        )
    count = _number(got, "freeze_encoder(model)")
    total = sum(p.numel() for p in model.parameters())
    if count == total:
        raise CheckFailed(
            f"you returned all {total} parameters; count only those with requires_grad=True"
        )
    expect(count == head, f"you returned {count:.0f} trainable parameters, expected {head}")
    return f"{head} of {total} parameters train ({head / total:.1%})."


def _sgd_step_reference(micro_batches: list[dict[str, Any]]) -> dict[str, Any]:
    """Weights after one SGD step on all micro-batches joined into one batch."""
    import torch

    from coursekit.train_utils import PadCollator

    model = _tiny_model()
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    rows = [r for b in micro_batches for r in b]
    model(**PadCollator()(rows)).loss.backward()
    opt.step()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@exercise(
    "05.3",
    "one optimizer step with gradient accumulation",
    hint=(
        "k micro-batches must give the same update as one batch k times larger: gradients add up across backward calls, so scale each loss.",
        "Clear the gradients once, backpropagate each micro-batch's loss divided by k, take a single optimizer step at the end, and return the mean loss.",
    ),
)
def accumulation_step(fn: Any) -> None:
    import torch

    from coursekit.train_utils import PadCollator, toy_rows

    rows = toy_rows(16, 7)
    micro = [rows[i : i + 4] for i in range(0, 16, 4)]
    want = _sgd_step_reference(micro)
    model = _tiny_model()
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for p in model.parameters():  # stale gradients from "the previous step"
        p.grad = torch.ones_like(p)
    batches = [PadCollator()(b) for b in micro]
    loss = call(fn, model, batches, opt, name="accumulation_step")
    if loss is None:
        raise NotAttempted("`accumulation_step` returned None; return the mean loss")
    got = {k: v.detach() for k, v in model.state_dict().items()}
    diff = max(float((got[k] - want[k]).abs().max()) for k in want)
    if diff > 1e-5:
        start = _tiny_model().state_dict()
        moved = max(float((got[k] - start[k]).abs().max()) for k in want)
        expect(moved > 0, "the weights did not change: call optimizer.step() once at the end")
        ref_move = max(float((want[k] - start[k]).abs().max()) for k in want)
        stale = max(float((got[k] - want[k] + 0.5).abs().max()) for k in want if k.endswith("bias"))
        if stale < 1e-4:
            raise CheckFailed(
                "old gradients leaked into the step: call optimizer.zero_grad() first"
            )
        if math.isclose(moved, 4 * ref_move, rel_tol=0.05):
            raise CheckFailed(
                "the step is 4x too big: divide each loss by the number of micro-batches"
            )
        raise CheckFailed(
            f"the weights differ from one step on the joined batch by up to {diff:.2g}: "
            "accumulate all gradients, then step once"
        )
    joined_losses = []
    with torch.no_grad():
        fresh = _tiny_model()
        fresh.train()
        joined_losses = [float(fresh(**b).loss) for b in batches]
    value = _number(loss, "the returned loss")
    expected = sum(joined_losses) / len(joined_losses)
    expect(
        math.isclose(value, expected, rel_tol=1e-4),
        f"the returned loss is {value:.4f}; expected the mean micro-batch loss {expected:.4f}",
    )
    return "Four micro-batches of 4 = one batch of 16."


@exercise(
    "05.4",
    "memory of fp32 training with AdamW",
    hint=(
        "Count the bytes each parameter needs while training in fp32 with AdamW: the weight, its gradient, and the optimizer's state.",
        "4 bytes of weight, 4 of gradient, and AdamW keeps two moments of 4 bytes each.",
    ),
)
def adamw_memory(fn: Any) -> None:
    for n in (1, 1_000, 22_713_216, 7_000_000_000):
        got = _number(call(fn, n, name="adamw_training_bytes"), f"adamw_training_bytes({n})")
        if math.isclose(got, 16 * n):
            continue
        for per, what in (
            (4, "only the weights"),
            (8, "weights and gradients only"),
            (12, "only one of AdamW's two moments"),
        ):
            if math.isclose(got, per * n):
                raise CheckFailed(f"you counted {what} ({per} bytes per parameter)")
        raise CheckFailed(f"for {n} parameters expected {16 * n} bytes, got {got:.0f}")
    return "A 7B-parameter model needs 112 GB before any activation."
