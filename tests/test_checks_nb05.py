"""Every notebook-05 check passes on the reference answer and fails, specifically, otherwise.

Exercise 05.3 (the training step) has its own file, tests/test_exercises_nb05.py."""

from __future__ import annotations

import pytest
import torch

from coursekit.checks import NOT_ATTEMPTED, NOT_YET, PASSED
from coursekit.checks import nb05 as check


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ---------------------------------------------------------------- reference answers
def warmup_lr(step, total_steps, warmup_steps, peak_lr):
    if step < warmup_steps:
        return peak_lr * step / warmup_steps
    return peak_lr * max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))


def freeze_encoder(model):
    for p in model.base_model.parameters():
        p.requires_grad = False
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def adamw_training_bytes(n_params):
    return 16 * n_params


def _blank(*args, **kwargs):
    raise NotImplementedError


def _boom(*args, **kwargs):
    raise ZeroDivisionError("oops")


def status(check_fn, *args):
    return check_fn.evaluate(*args)


# ---------------------------------------------------------------- 05.1
def test_schedule_passes_and_fails():
    assert status(check.warmup_schedule, warmup_lr).status == PASSED
    assert status(check.warmup_schedule, None).status == NOT_ATTEMPTED
    assert status(check.warmup_schedule, _blank).status == NOT_ATTEMPTED
    assert status(check.warmup_schedule, "warmup").status == NOT_YET
    v = status(check.warmup_schedule, _boom)
    assert v.status == NOT_YET and "ZeroDivisionError" in v.message

    def ahead(step, total, warm, peak):
        return (
            peak * min((step + 1) / warm, 1.0)
            if step < warm
            else warmup_lr(step, total, warm, peak)
        )

    assert "one step ahead" in status(check.warmup_schedule, ahead).message

    def negative(step, total, warm, peak):
        return peak * step / warm if step < warm else peak * (total - step) / (total - warm)

    assert "negative" in status(check.warmup_schedule, negative).message

    def no_warmup(step, total, warm, peak):
        return peak * max(0.0, (total - step) / total)

    assert status(check.warmup_schedule, no_warmup).status == NOT_YET
    assert status(check.warmup_schedule, lambda *a: "0.1").message.endswith("str")


def test_schedule_does_not_pass_on_a_ready_made_one():
    from coursekit import train

    def with_lr_factor(step, total, warm, peak):
        return peak * train.lr_factor(step, total, warm)

    def with_scheduler(step, total, warm, peak):
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=peak)
        sched = train.make_scheduler(opt, total, warm / total if total else 0.0)
        for _ in range(step):
            opt.step()
            sched.step()
        return opt.param_groups[0]["lr"]

    for answer in (with_lr_factor, with_scheduler):
        verdict = status(check.warmup_schedule, answer)
        assert verdict.status == NOT_YET and "write your own" in verdict.message


# ---------------------------------------------------------------- 05.2
def test_freeze_passes_and_fails():
    v = status(check.freeze_encoder, freeze_encoder)
    assert v.status == PASSED and "parameters train" in v.message
    assert status(check.freeze_encoder, None).status == NOT_ATTEMPTED
    assert status(check.freeze_encoder, _blank).status == NOT_ATTEMPTED
    assert status(check.freeze_encoder, 3).status == NOT_YET
    assert "ZeroDivisionError" in status(check.freeze_encoder, _boom).message

    def freeze_all(model):
        for p in model.parameters():
            p.requires_grad = False
        return 0

    assert "head is frozen" in status(check.freeze_encoder, freeze_all).message

    def count_all(model):
        freeze_encoder(model)
        return sum(p.numel() for p in model.parameters())

    assert "requires_grad=True" in status(check.freeze_encoder, count_all).message

    def embeddings_only(model):
        for p in model.base_model.embeddings.parameters():
            p.requires_grad = False
        return sum(p.numel() for p in model.parameters() if p.requires_grad)

    assert "still require gradients" in status(check.freeze_encoder, embeddings_only).message


# ---------------------------------------------------------------- 05.3
# the training step, a build-it exercise: tests/test_exercises_nb05.py


# ---------------------------------------------------------------- 05.4
def test_memory_passes_and_fails():
    v = status(check.adamw_memory, adamw_training_bytes)
    assert v.status == PASSED and "112 GB" in v.message
    assert status(check.adamw_memory, None).status == NOT_ATTEMPTED
    assert status(check.adamw_memory, _blank).status == NOT_ATTEMPTED
    assert status(check.adamw_memory, {}).status == NOT_YET
    assert "ZeroDivisionError" in status(check.adamw_memory, _boom).message
    assert "one of AdamW" in status(check.adamw_memory, lambda n: 12 * n).message
    assert "gradients only" in status(check.adamw_memory, lambda n: 8 * n).message
    assert status(check.adamw_memory, lambda n: 16 * n + 1).status == NOT_YET
