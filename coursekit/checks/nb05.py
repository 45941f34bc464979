"""Checks for notebook 05 (fine-tuning): the warm-up schedule, freezing for a linear
probe, the training step (gradient accumulation, clipping, schedule, autocast) and the
memory of AdamW training."""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from coursekit.checks import (
    CheckFailed,
    UsedReference,
    call,
    call_own,
    exercise,
    expect,
    hint,  # noqa: F401 (check.hint("NN.k") in a notebook)
    own_or_reference,  # noqa: F401 (the cells after exercise 05.3 use the learner's step)
)

#: (total_steps, warmup_steps) cases for exercise 05.1
SCHEDULE_CASES = [(10, 2), (100, 10), (7, 0), (30, 29)]
#: ready-made schedules exercise 05.1 may not call (§3 plots `train.lr_factor`)
SCHEDULE_FORBID = [
    "coursekit.train.lr_factor",
    "coursekit.train.make_scheduler",
    "transformers.get_linear_schedule_with_warmup",
]


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
    for step in (1, 5):  # one call in the warm-up, one in the decay: neither may use a library's
        call_own(fn, step, 10, 2, peak, forbid=SCHEDULE_FORBID, name="warmup_lr")
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


# --------------------------------------------------------------------------- 05.3


def reference_train_steps(
    model: Any,
    optimizer: Any,
    scheduler: Any,
    micro_batches: Any,
    accumulation: int,
    max_grad_norm: float | None,
    precision: str,
    device: str,
) -> list[float]:
    """coursekit's answer to exercise 05.3: the optimizer steps of :func:`coursekit.train.fit`.

    One step per group of ``accumulation`` micro-batches (the last group may be shorter);
    returns each step's loss. For the cells after the check (through ``own_or_reference``);
    the check does not accept an answer that calls it.
    """
    return _train_steps(
        model, optimizer, scheduler, micro_batches, accumulation, max_grad_norm, precision, device
    )


def _join(batches: list[dict[str, Any]]) -> dict[str, Any]:
    """One batch from several: 2-D tensors padded with 0 to the widest, then concatenated."""
    import torch

    width = max(int(b["input_ids"].shape[1]) for b in batches)
    joined = {}
    for key in batches[0]:
        parts = [b[key] for b in batches]
        if parts[0].ndim == 2:
            parts = [torch.nn.functional.pad(p, (0, width - p.shape[1])) for p in parts]
        joined[key] = torch.cat(parts)
    return joined


def _train_steps(
    model: Any,
    optimizer: Any,
    scheduler: Any,
    micro_batches: Any,
    accumulation: int,
    max_grad_norm: float | None,
    precision: str,
    device: str,
    mistake: str | None = None,
) -> list[float]:
    """The reference loop (the same operations, in the same order, as ``train.fit``).

    ``mistake`` runs one of the plausible wrong versions instead (see :data:`_MISTAKES`), so
    the check can tell which one a learner's weights match.
    """
    import torch

    from coursekit.train import autocast

    device_type = torch.device(device).type
    model.to(device)
    model.train()
    clip = torch.nn.utils.clip_grad_norm_
    losses = []
    for start in range(0, len(micro_batches), accumulation):
        group = list(micro_batches[start : start + accumulation])
        if mistake == "joined":
            group = [_join(group)]
        divisor = {"no_divide": 1, "divide_by_accumulation": accumulation}.get(mistake, len(group))
        step_loss = 0.0
        for batch in group:
            if mistake == "zero_each":
                optimizer.zero_grad(set_to_none=True)
            batch = {k: v.to(device) for k, v in batch.items()}
            with autocast(device_type, precision):
                loss = model(**batch).loss
            (loss / divisor).backward()
            step_loss += float(loss.detach()) / len(group)
            if mistake == "clip_each" and max_grad_norm:
                clip(model.parameters(), max_grad_norm)
        if max_grad_norm and mistake not in ("no_clip", "clip_each"):
            clip(model.parameters(), max_grad_norm)
        optimizer.step()
        scheduler.step()
        if mistake != "no_zero":
            optimizer.zero_grad(set_to_none=True)
        losses.append(step_loss)
    return losses


#: the wrong versions the check recognises by their weights, and what each message says
_MISTAKES = {
    "no_divide": "each micro-batch's loss went into backward() undivided, so a step of k "
    "micro-batches moved k times too far: divide each loss by the size of its group",
    "divide_by_accumulation": "the last, shorter group divided its losses by `accumulation` "
    "instead of by its own size: with {last} micro-batches left, divide by {last}",
    "zero_each": "the gradients were cleared before every micro-batch, so each step used only "
    "its last micro-batch: clear them once per optimizer step, after optimizer.step()",
    "no_zero": "the gradients were never cleared, so every step also carried all the earlier "
    "steps' gradients: optimizer.zero_grad(set_to_none=True) after each step",
    "clip_each": "you clipped after every micro-batch: clip once per step, the global norm of "
    "the summed gradients, after the group's last backward()",
    "no_clip": "the update was not clipped (max_grad_norm={max_grad_norm}): clip the global norm "
    "of the group's gradients after its last backward() and before optimizer.step()",
    "joined": "you joined each group into one batch: accumulation exists because the whole "
    "group does not fit in memory, and with micro-batches of different sizes one joined "
    "mean weights the examples differently: one forward and backward per micro-batch",
}


@dataclass(frozen=True)
class _StepCase:
    """One run of exercise 05.3: a tiny seeded BERT, toy micro-batches, a recipe."""

    label: str
    sizes: tuple[int, ...]  # examples per micro-batch
    accumulation: int
    max_grad_norm: float | None
    optimizer: str = "adamw"  # fit's AdamW (weight decay on matrices) or plain "sgd"
    lr: float = 1e-2
    schedule: str = "linear"
    warmup_ratio: float = 0.1
    hidden: int = 32
    layers: int = 2
    seed: int = 0
    data_seed: int = 7
    width: int | None = None  # pad every micro-batch to this width (None: to its longest)
    precision: str | None = None  # None: bf16 on a CPU with native bf16, else fp32
    autocast_only: bool = False  # compare only steps, schedule and autocast, not the weights

    @property
    def total_steps(self) -> int:
        return math.ceil(len(self.sizes) / self.accumulation)

    def resolved_precision(self) -> str:
        from coursekit.env import cpu_supports_bf16

        return self.precision or ("bf16" if cpu_supports_bf16() else "fp32")

    def micro_batches(self) -> list[dict[str, Any]]:
        from coursekit.train_utils import PadCollator, toy_rows

        rows = toy_rows(sum(self.sizes), seed=self.data_seed)
        collate, batches, start = PadCollator(pad_to=self.width), [], 0
        for size in self.sizes:
            batches.append(collate(rows[start : start + size]))
            start += size
        return batches

    def model(self) -> Any:
        import torch
        from transformers import BertConfig, BertForSequenceClassification

        config = BertConfig(
            vocab_size=64,
            hidden_size=self.hidden,
            num_hidden_layers=self.layers,
            num_attention_heads=2,
            intermediate_size=2 * self.hidden,
            max_position_embeddings=64,
            num_labels=3,
            hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0,
        )
        torch.manual_seed(self.seed)
        return BertForSequenceClassification(config)

    def optimizer_and_scheduler(self, model: Any) -> tuple[Any, Any]:
        """The optimizer and schedule ``train.fit`` would build for this recipe."""
        import torch

        from coursekit.train import make_scheduler, param_groups

        if self.optimizer == "sgd":
            opt = torch.optim.SGD(model.parameters(), lr=self.lr)
        else:
            opt = torch.optim.AdamW(param_groups(model, 0.01), lr=self.lr)
        return opt, make_scheduler(opt, self.total_steps, self.warmup_ratio, self.schedule)

    def expected_lrs(self) -> list[float]:
        from coursekit.train import lr_factor, warmup_steps_for

        warm = warmup_steps_for(self.total_steps, self.warmup_ratio)
        return [
            self.lr * lr_factor(s, self.total_steps, warm, self.schedule)
            for s in range(self.total_steps)
        ]


#: the example the notebook's text describes: 10 micro-batches of 4, groups of 4, 4 and 2
VISIBLE_STEP_CASE = _StepCase(
    "the example of the text (10 micro-batches of 4, accumulation 4, clipping at 1.0)",
    sizes=(4,) * 10,
    accumulation=4,
    max_grad_norm=1.0,
)


def _hidden_step_cases() -> list[_StepCase]:
    """Seeded cases the notebook never shows: other sizes, partial groups, clipping that bites."""
    import random

    from coursekit.env import cpu_supports_bf16

    rng = random.Random(503)

    def sizes(n: int) -> tuple[int, ...]:
        return tuple(rng.randint(1, 6) for _ in range(n))

    cases = [
        _StepCase(
            "a hidden case (SGD, 7 micro-batches of different sizes, accumulation 3, "
            "no clipping: max_grad_norm=None)",
            sizes=(3, 6, 1, 5, 2, 4, 2),
            accumulation=3,
            max_grad_norm=None,
            optimizer="sgd",
            lr=0.5,
            schedule="cosine",
            warmup_ratio=0.25,
            hidden=16,
            layers=1,
            seed=11,
            data_seed=rng.randint(100, 999),
            width=24,
        ),
        _StepCase(
            "a hidden case (SGD, 9 micro-batches, accumulation 2, clipping at 0.05)",
            sizes=sizes(9),
            accumulation=2,
            max_grad_norm=0.05,
            optimizer="sgd",
            lr=0.5,
            warmup_ratio=0.0,
            hidden=24,
            layers=2,
            seed=5,
            data_seed=rng.randint(100, 999),
        ),
        _StepCase(
            "a hidden case (SGD, 3 micro-batches, accumulation 5: one short group)",
            sizes=sizes(3),
            accumulation=5,
            max_grad_norm=10.0,
            optimizer="sgd",
            lr=0.5,
            schedule="cosine",
            warmup_ratio=0.0,
            hidden=48,
            layers=1,
            seed=3,
            data_seed=rng.randint(100, 999),
        ),
        _StepCase(
            "a hidden case (AdamW, 5 micro-batches, accumulation 1: a step after each)",
            sizes=sizes(5),
            accumulation=1,
            max_grad_norm=1.0,
            lr=3e-3,
            hidden=16,
            layers=3,
            seed=8,
            data_seed=rng.randint(100, 999),
        ),
    ]
    if not cpu_supports_bf16():  # bf16 is emulated (slow) here: a tiny run for autocast only
        cases.append(
            _StepCase(
                "a hidden case with precision='bf16' (2 micro-batches, accumulation 2)",
                sizes=(2, 3),
                accumulation=2,
                max_grad_norm=1.0,
                hidden=8,
                layers=1,
                seed=2,
                precision="bf16",
                autocast_only=True,
            )
        )
    return cases


@dataclass
class _Run:
    """What one run of a training loop did, as the check saw it."""

    result: Any
    weights: dict[str, Any]
    lrs: list[float]  # the learning rate of every optimizer.step() call
    schedule_steps: int  # scheduler.step() calls
    forwards: list[tuple[bool, Any]]  # (autocast on?, its dtype) at every forward pass
    clips: list[tuple[int, int, bool]]  # (forwards so far, steps so far, any gradient?)


@contextlib.contextmanager
def _clip_watch(learner: Any, model: Any, run: _Run) -> Iterator[None]:
    """While inside, every ``clip_grad_norm_`` call (through torch or the learner's own global
    name for it) is noted in ``run.clips``: how many forwards and steps had run, and whether
    any gradient was there to clip."""
    import torch

    original = torch.nn.utils.clip_grad_norm_

    @functools.wraps(original)
    def watched(*args: Any, **kwargs: Any) -> Any:
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        run.clips.append((len(run.forwards), len(run.lrs), any(bool(g.any()) for g in grads)))
        return original(*args, **kwargs)

    spaces: list[Any] = [vars(torch.nn.utils), vars(torch.nn.utils.clip_grad)]
    namespace = getattr(getattr(learner, "__func__", learner), "__globals__", None)
    if isinstance(namespace, dict):
        spaces.append(namespace)
    patched = [
        (space, name) for space in spaces for name, v in list(space.items()) if v is original
    ]
    try:
        for space, name in patched:
            space[name] = watched
        yield
    finally:
        for space, name in patched:
            space[name] = original


def _run_steps(fn: Any, case: _StepCase, *, learner: bool) -> _Run:
    """Run ``fn`` (the learner's function, or a reference) on ``case`` and record what it did."""
    import warnings

    import torch

    model = case.model()
    optimizer, scheduler = case.optimizer_and_scheduler(model)
    run = _Run(None, {}, [], 0, [], [])
    hooks = [
        optimizer.register_step_pre_hook(
            lambda opt, args, kwargs: run.lrs.append(float(opt.param_groups[0]["lr"]))
        ),
        model.register_forward_pre_hook(
            lambda module, args: run.forwards.append(
                (torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu"))
            )
        ),
    ]
    watch = _clip_watch(fn, model, run) if learner else contextlib.nullcontext()
    args = (
        model,
        optimizer,
        scheduler,
        case.micro_batches(),
        case.accumulation,
        case.max_grad_norm,
        case.resolved_precision(),
        "cpu",
    )
    try:
        with watch, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "lr_scheduler.step() before optimizer.step()"
            if learner:
                run.result = call_own(fn, *args, forbid=STEP_FORBID, name="train_steps")
            else:
                run.result = fn(*args)
    finally:
        for hook in hooks:
            hook.remove()
    run.schedule_steps = int(scheduler.last_epoch)
    run.weights = {k: v.detach().float().clone() for k, v in model.state_dict().items()}
    return run


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """PyTorch on one CPU thread while inside: for tiny models, faster than several (the
    threads would spend longer meeting than multiplying 32-wide matrices)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@functools.lru_cache(maxsize=64)
def _reference_run(case: _StepCase, precision: str, mistake: str | None = None) -> _Run:
    """The reference loop on ``case`` (or one ``mistake`` of it; ``"untrained"``: the start
    weights), kept: a learner runs the check again and again. ``precision`` is in the key
    because ``case`` resolves it from the hardware."""
    if mistake == "untrained":
        weights = {k: v.detach().float().clone() for k, v in case.model().state_dict().items()}
        return _Run(None, weights, [], 0, [], [])
    steps = functools.partial(_train_steps, mistake=mistake)
    return _run_steps(steps, case, learner=False)


#: what exercise 05.3 may not call: the ready-made loop and this module's answer
STEP_FORBID = ["coursekit.train.fit", "coursekit.checks.nb05.reference_train_steps"]


def _max_diff(a: dict[str, Any], b: dict[str, Any]) -> tuple[float, str]:
    worst, where = 0.0, ""
    for key, value in a.items():
        diff = float((value - b[key]).abs().max())
        if not math.isfinite(diff):  # NaN weights are as far off as weights get
            return math.inf, key
        if diff > worst:
            worst, where = diff, key
    return worst, where


def _tolerance(case: _StepCase, start: dict[str, Any], want: dict[str, Any]) -> float:
    """How far correct weights may lie from the reference's: rounding noise, not a mistake.

    fp32: the same operations give the same numbers to float rounding. bf16: a correct loop
    written slightly differently (``loss * (1 / k)`` instead of ``loss / k``) rounds its
    16-bit matrix products differently: 1 % of how far the weights moved (measured: < 0.1 %).
    """
    moved, _ = _max_diff(want, start)
    share = 1e-2 if case.resolved_precision() == "bf16" else 1e-4
    return 1e-6 + share * moved


def _steps_verdict(case: _StepCase, got: _Run, want: _Run) -> None:
    """Raise :class:`CheckFailed` with the most specific diagnosis of ``got`` vs ``want``."""
    import torch

    n, k = len(case.sizes), case.accumulation
    where = f"On {case.label}"
    steps, expected = len(got.lrs), case.total_steps
    if steps != expected:
        if steps == 0:
            raise CheckFailed(
                f"{where}, optimizer.step() was never called on the optimizer passed in: "
                "the weights did not move"
            )
        if steps == n and k > 1:
            raise CheckFailed(
                f"{where}, optimizer.step() ran after every micro-batch ({n} times): take one "
                f"step per group of {k}, {expected} steps in all"
            )
        if steps == n // k and n % k:
            raise CheckFailed(
                f"{where}, the last, shorter group ({n % k} micro-batches) took no step: it "
                f"still takes one, its losses divided by {n % k} ({expected} steps in all)"
            )
        raise CheckFailed(
            f"{where}, optimizer.step() ran {steps} times; {n} micro-batches in groups of {k} "
            f"make {expected} steps"
        )
    if got.schedule_steps != expected:
        if got.schedule_steps == 0:
            raise CheckFailed(
                f"{where}, scheduler.step() was never called: the learning rate stayed at its "
                "first value; step the scheduler once after each optimizer step"
            )
        if got.schedule_steps == n and k > 1:
            raise CheckFailed(
                f"{where}, scheduler.step() ran after every micro-batch ({n} times): the "
                "schedule counts optimizer steps, so step it once per group, after "
                "optimizer.step()"
            )
        raise CheckFailed(
            f"{where}, scheduler.step() ran {got.schedule_steps} times for {expected} "
            "optimizer steps: once after each optimizer.step()"
        )
    for i, (lr, lr_want) in enumerate(zip(got.lrs, want.lrs, strict=True)):
        if not math.isclose(lr, lr_want, rel_tol=1e-6, abs_tol=1e-12):
            if i == 0 and got.lrs[:-1] == want.lrs[1:]:
                raise CheckFailed(
                    f"{where}, optimizer step 1 ran at lr {lr:.3g} instead of {lr_want:.3g}: "
                    "every step ran one schedule step ahead; call scheduler.step() after "
                    "optimizer.step()"
                )
            raise CheckFailed(
                f"{where}, optimizer step {i + 1} ran at lr {lr:.3g}, expected {lr_want:.3g} "
                "from the scheduler passed in"
            )
    groups = len(got.forwards)  # 0 if the model's forward() was called directly (no hooks)
    if groups and groups != n:
        if groups == expected and k > 1:
            raise CheckFailed(
                f"{where}, the model ran {groups} forward passes for {n} "
                f"micro-batches: {_MISTAKES['joined']}"
            )
        raise CheckFailed(
            f"{where}, the model ran {groups} forward passes for {n} micro-batches: one per "
            "micro-batch"
        )
    precision = case.resolved_precision()
    if precision == "bf16" and not all(
        on and dtype == torch.bfloat16 for on, dtype in got.forwards
    ):
        raise CheckFailed(
            f"{where}, precision is 'bf16' but the forward pass ran without bf16 autocast: "
            "run the model (and its loss) inside the autocast context for `precision`"
        )
    if precision == "fp32" and any(on for on, _ in got.forwards):
        raise CheckFailed(
            f"{where}, precision is 'fp32' but the forward pass ran under autocast: "
            "autocast only for bf16 (train.autocast(..., 'fp32') does nothing)"
        )
    if case.autocast_only:
        return
    start = _reference_run(case, case.resolved_precision(), "untrained").weights
    tol = _tolerance(case, start, want.weights)
    diff, name = _max_diff(got.weights, want.weights)
    if diff > tol:
        _diagnose_weights(case, got, want, tol, where)
        raise CheckFailed(
            f"{where}, after {expected} steps the weights differ from the reference loop's by "
            f"up to {diff:.2g} (in {name})"
        )
    _check_losses(case, got.result, want.result, where)


def _diagnose_weights(case: _StepCase, got: _Run, want: _Run, tol: float, where: str) -> None:
    n, k = len(case.sizes), case.accumulation
    if case.max_grad_norm and got.clips:
        if k > 1 and len(got.clips) == n:
            raise CheckFailed(f"{where}, {_MISTAKES['clip_each']}")
        if not any(has_grad for _, _, has_grad in got.clips):
            raise CheckFailed(
                f"{where}, clip_grad_norm_ ran before backward(), when there is nothing to clip "
                "yet: clip after the group's last backward(), before optimizer.step()"
            )
    last = n % k or k
    for mistake, message in _MISTAKES.items():
        variant = _run_steps(functools.partial(_train_steps, mistake=mistake), case, learner=False)
        if _max_diff(variant.weights, want.weights)[0] <= tol:
            continue  # this mistake makes no difference on this case
        if _max_diff(got.weights, variant.weights)[0] <= tol:
            text = message.format(last=last, max_grad_norm=case.max_grad_norm)
            raise CheckFailed(f"{where}, {text}")


def _check_losses(case: _StepCase, result: Any, want: list[float], where: str) -> None:
    if result is None:
        raise CheckFailed(f"{where}, `train_steps` returned None: return the list of step losses")
    try:
        losses = [float(x) for x in result]
    except (TypeError, ValueError):
        raise CheckFailed(
            f"{where}, `train_steps` returned a {type(result).__name__}: return a list with "
            "one loss (a float) per optimizer step"
        ) from None
    if len(losses) != len(want):
        raise CheckFailed(
            f"{where}, `train_steps` returned {len(losses)} losses for {len(want)} optimizer "
            "steps: one per step"
        )
    rel = 5e-3 if case.resolved_precision() == "bf16" else 1e-4
    for i, (value, expected) in enumerate(zip(losses, want, strict=True)):
        if not math.isclose(value, expected, rel_tol=rel, abs_tol=1e-6):
            size = min(case.accumulation, len(case.sizes) - i * case.accumulation)
            if size > 1 and math.isclose(value, expected * size, rel_tol=rel):
                raise CheckFailed(
                    f"{where}, the loss of step {i + 1} is {value:.4f}, the sum of its "
                    f"{size} micro-batch losses: return their mean ({expected:.4f})"
                )
            raise CheckFailed(
                f"{where}, the loss of step {i + 1} is {value:.4f}; expected {expected:.4f}, "
                "the mean of its micro-batches' losses"
            )


@exercise(
    "05.3",
    "the training step: accumulation, clipping, schedule, autocast",
    hint=(
        "Gradients from successive backward() calls add up in .grad. So the micro-batches of "
        "a group must add up to one average, and whatever uses the finished gradient acts "
        "once per group, after the group's last backward.",
        "Two loops' worth of work: per micro-batch, the forward pass under autocast and the "
        "backward pass of a loss scaled by the size of its own group (the last group may be "
        "shorter); per group, everything that reads or clears the summed gradient.",
        "Per group, in this order: clipping (it needs the complete gradient), the optimizer, "
        "the scheduler (it follows the optimizer, so the first step runs at the warm-up's first "
        "rate, 0), then clearing the gradients so that nothing leaks into the next step. A "
        "step's loss: the mean of its micro-batches' losses, as floats.",
    ),
)
def training_step(fn: Any) -> None:
    with one_thread():
        for case in [VISIBLE_STEP_CASE, *_hidden_step_cases()]:
            try:
                got = _run_steps(fn, case, learner=True)
            except UsedReference:
                raise
            except CheckFailed as err:  # it raised: say on which case
                raise CheckFailed(f"On {case.label}, {err}") from None
            _steps_verdict(case, got, _reference_run(case, case.resolved_precision()))
    return (
        "Your loop ends on the same weights and learning rates as coursekit.train.fit, on the "
        "example and on hidden cases (shorter last groups, clipping that bites, SGD and AdamW)."
    )


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
