"""Every notebook-05 check passes on the reference answer and fails, specifically, otherwise."""

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


def accumulation_step(model, batches, optimizer):
    optimizer.zero_grad()
    total = 0.0
    for batch in batches:
        loss = model(**batch).loss / len(batches)
        loss.backward()
        total += loss.item()
    optimizer.step()
    return total


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
def test_accumulation_passes_and_fails():
    assert status(check.accumulation_step, accumulation_step).status == PASSED
    assert status(check.accumulation_step, None).status == NOT_ATTEMPTED
    assert status(check.accumulation_step, _blank).status == NOT_ATTEMPTED
    assert status(check.accumulation_step, [1, 2]).status == NOT_YET
    assert "ZeroDivisionError" in status(check.accumulation_step, _boom).message

    def no_division(model, batches, optimizer):
        optimizer.zero_grad()
        for batch in batches:
            model(**batch).loss.backward()
        optimizer.step()
        return 1.0

    assert "4x too big" in status(check.accumulation_step, no_division).message

    def no_zero_grad(model, batches, optimizer):
        for batch in batches:
            (model(**batch).loss / len(batches)).backward()
        optimizer.step()
        return 1.0

    assert "zero_grad" in status(check.accumulation_step, no_zero_grad).message

    def step_each_time(model, batches, optimizer):
        for batch in batches:
            optimizer.zero_grad()
            (model(**batch).loss / len(batches)).backward()
            optimizer.step()
        return 1.0

    assert "step once" in status(check.accumulation_step, step_each_time).message

    def no_step(model, batches, optimizer):
        optimizer.zero_grad()
        for batch in batches:
            (model(**batch).loss / len(batches)).backward()
        return 1.0

    assert "did not change" in status(check.accumulation_step, no_step).message

    def wrong_loss(model, batches, optimizer):
        accumulation_step(model, batches, optimizer)
        return 123.0

    assert "mean micro-batch loss" in status(check.accumulation_step, wrong_loss).message


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
