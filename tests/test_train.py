"""Tests of coursekit.train: schedule, precision choice, batching, accumulation,
checkpoints (round trip, resume, corruption, crash mid-save), early stopping, DDP.

All on a 2-layer, 32-wide BERT and a toy task; the whole file runs in well under a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from coursekit import train
from coursekit.train_utils import (
    CheckpointError,
    DistributedBatchSampler,
    LengthGroupedBatchSampler,
    PadCollator,
    read_checkpoint,
    tiny_bert,
    toy_rows,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _one_thread():
    # tiny models gain nothing from threads, and one thread is robust on a busy machine
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def accuracy(logits, labels):
    return {"accuracy": float((logits.argmax(1) == labels).mean())}


def weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def max_diff(a, b):
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)


def quick_fit(model=None, n=96, batch_size=16, **kwargs):
    model = model or tiny_bert(seed=0)
    loader = train.make_loader(toy_rows(n, 0), batch_size=batch_size, seed=0)
    val = train.make_loader(toy_rows(48, 1), batch_size=48, shuffle=False)
    kwargs.setdefault("lr", 3e-3)
    kwargs.setdefault("progress", False)
    return train.fit(model, loader, val, device="cpu", **kwargs)


# --------------------------------------------------------------------------- schedule


def test_schedule_values_by_hand():
    total, warm = 10, train.warmup_steps_for(10, 0.2)
    assert warm == 2
    got = [train.lr_factor(s, total, warm) for s in range(12)]
    want = [0.0, 0.5, 1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125, 0.0, 0.0]
    assert got == pytest.approx(want)
    assert train.warmup_steps_for(7, 0.1) == 1  # ceil, like Hugging Face


def test_cosine_schedule_values_by_hand():
    total, warm = 10, 2
    got = [train.lr_factor(s, total, warm, schedule="cosine") for s in range(12)]
    assert got[:3] == pytest.approx([0.0, 0.5, 1.0])  # the same warm-up
    assert got[6] == pytest.approx(0.1 + 0.9 * 0.5)  # half-way down: cos(pi/2) = 0
    assert got[10] == pytest.approx(train.COSINE_FLOOR) and got[11] == got[10]  # floor, not 0
    assert all(a >= b for a, b in zip(got[2:], got[3:], strict=False))
    with pytest.raises(ValueError, match="schedule must be one of"):
        train.lr_factor(0, 10, 2, schedule="step")


def test_on_step_hook_sees_every_optimizer_step_in_train_mode():
    model = tiny_bert(seed=0)
    seen = []
    result = quick_fit(
        model,
        epochs=2,
        grad_accum_steps=2,
        on_step=lambda step, loss: seen.append((step, loss, model.training)),
    )
    assert [s for s, _, _ in seen] == list(range(1, result.global_step + 1))
    assert all(isinstance(loss, float) and loss > 0 for _, loss, _ in seen)
    assert all(training for *_, training in seen)


def test_there_is_one_optimiser_loop_in_the_package():
    """Every model in coursekit trains through train.fit: no other file steps an optimiser.

    (coursekit/checks/ may: a check takes one reference step to compare with the learner's.)
    """
    import re
    from pathlib import Path

    import coursekit

    root = Path(coursekit.__file__).parent
    stepping = re.compile(r"^[^#]*\b\w*(opt|optimizer|optimiser)\w*\.step\(")
    found = []
    for path in root.rglob("*.py"):
        if "checks" in path.relative_to(root).parts or path.name == "train.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if stepping.search(line) or re.search(r"^[^#]*\.backward\(\)", line):
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert not found, found
    assert re.search(r"optimizer\.zero_grad", (root / "train.py").read_text())


def test_schedule_matches_transformers():
    from transformers import get_linear_schedule_with_warmup

    def lrs(make):
        opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
        sched = make(opt)
        out = []
        for _ in range(25):
            out.append(sched.get_last_lr()[0])
            opt.step()
            sched.step()
        return out

    ours = lrs(lambda o: train.make_scheduler(o, 23, 0.1))
    theirs = lrs(lambda o: get_linear_schedule_with_warmup(o, 3, 23))
    assert ours == pytest.approx(theirs)


def test_fit_follows_the_schedule():
    result = quick_fit(epochs=2, warmup_ratio=0.5, lr=1e-3)
    assert result.global_step == 2 * 6  # 96 examples / batch 16, two epochs
    # warm-up over ceil(0.5 * 12) = 6 steps: the peak is reached exactly after epoch 1
    assert result.history[0]["lr"] == pytest.approx(1e-3)
    assert result.history[1]["lr"] == pytest.approx(0.0)


# --------------------------------------------------------------------------- optimizer groups


def test_param_groups_skip_bias_and_layernorm_and_frozen():
    model = tiny_bert()
    for p in model.bert.embeddings.parameters():
        p.requires_grad_(False)
    decay, no_decay = train.param_groups(model, 0.01)
    names = {id(p): n for n, p in model.named_parameters()}
    decayed = {names[id(p)] for p in decay["params"]}
    not_decayed = {names[id(p)] for p in no_decay["params"]}
    assert decay["weight_decay"] == 0.01 and no_decay["weight_decay"] == 0.0
    assert all(n.endswith("weight") and "LayerNorm" not in n for n in decayed)
    assert any("LayerNorm" in n for n in not_decayed) and any(
        n.endswith("bias") for n in not_decayed
    )
    assert not any("embeddings" in n for n in decayed | not_decayed)
    assert train.count_parameters(model) == sum(
        p.numel() for p in decay["params"] + no_decay["params"]
    )
    assert train.count_parameters(model, trainable_only=False) > train.count_parameters(model)


# --------------------------------------------------------------------------- precision


@pytest.mark.parametrize(
    ("precision", "capability", "expected"),
    [
        ("auto", (7, 0), "fp16"),  # V100
        ("auto", (7, 5), "fp16"),  # T4
        ("auto", (8, 0), "bf16"),  # A100
        ("auto", (9, 0), "bf16"),  # H100
        ("fp16", (9, 0), "fp16"),
        ("bf16", (8, 6), "bf16"),
        ("fp32", (7, 0), "fp32"),
    ],
)
def test_precision_on_fake_gpus(precision, capability, expected):
    assert train.resolve_precision(precision, "cuda:0", cuda_capability=capability) == expected


def test_precision_refusals_name_the_fix():
    with pytest.raises(ValueError, match="fp16"):
        train.resolve_precision("bf16", "cuda", cuda_capability=(7, 5))
    with pytest.raises(ValueError, match="bf16"):
        train.resolve_precision("fp16", "cpu")
    with pytest.raises(ValueError, match="one of"):
        train.resolve_precision("half", "cpu")
    assert train.resolve_precision("auto", "cpu", cpu_bf16=True) == "bf16"
    assert train.resolve_precision("auto", "cpu", cpu_bf16=False) == "fp32"
    assert train.resolve_precision("auto", "mps") == "fp32"


def test_bf16_autocast_trains_on_cpu():
    result = quick_fit(epochs=1, precision="bf16")
    assert result.precision == "bf16"
    assert np.isfinite(result.history[0]["train_loss"])
    assert all(p.dtype == torch.float32 for p in result.model.parameters())  # master weights fp32


# --------------------------------------------------------------------------- batching


def test_dynamic_padding_and_length_grouping():
    rows = toy_rows(400, 0)
    grouped = train.make_loader(rows, batch_size=16, seed=0)
    plain = train.make_loader(rows, batch_size=16, seed=0, group_by_length=False)
    padded = train.make_loader(rows, batch_size=16, max_length=32, pad_to_max_length=True)

    def pad_fraction(loader):
        total = real = 0
        for batch in loader:
            total += batch["attention_mask"].numel()
            real += int(batch["attention_mask"].sum())
            assert batch["input_ids"].shape == batch["attention_mask"].shape
            assert (batch["attention_mask"].sum(1).max() == batch["input_ids"].shape[1]) or (
                loader is padded
            )
        return 1 - real / total

    assert {b["input_ids"].shape[1] for b in padded} == {32}
    assert pad_fraction(grouped) < 0.1 < pad_fraction(plain) < pad_fraction(padded)
    seen = sorted(i for b in grouped.batch_sampler for i in b)
    assert seen == list(range(400))  # every example once per epoch


def test_loader_from_texts_and_bad_input():
    from transformers import AutoTokenizer

    from coursekit import env

    tok = AutoTokenizer.from_pretrained(env.minilm_path())
    loader = train.make_loader(
        ["great shoes", "the zip broke after a week, not happy"], [2, 0], tok, batch_size=2
    )
    batch = next(iter(loader))
    assert set(batch) == {"input_ids", "token_type_ids", "attention_mask", "labels"}
    assert batch["labels"].tolist() in ([2, 0], [0, 2])
    assert (batch["input_ids"] == tok.pad_token_id).sum() == (batch["attention_mask"] == 0).sum()
    with pytest.raises(TypeError, match="ints"):
        train.make_loader(["a", "b"], ["positive", "negative"], tok)
    with pytest.raises(ValueError, match="tokenizer"):
        train.make_loader(["a", "b"], [0, 1])
    with pytest.raises(ValueError, match="2 examples but 3 labels"):
        train.make_loader(["a", "b"], [0, 1, 2], tok)


@pytest.mark.parametrize("grouped", [True, False])
def test_shards_of_two_processes_make_the_global_batches(grouped):
    lengths = [len(r["input_ids"]) for r in toy_rows(64, 0)]

    def sampler(rank, world, batch):
        if grouped:
            return LengthGroupedBatchSampler(lengths, batch, True, 3, rank, world)
        return DistributedBatchSampler(len(lengths), batch, True, 3, rank, world)

    for epoch in (0, 1):
        single, r0, r1 = sampler(0, 1, 8), sampler(0, 2, 4), sampler(1, 2, 4)
        for s in (single, r0, r1):
            s.set_epoch(epoch)
        joined = [sorted(a + b) for a, b in zip(r0, r1, strict=True)]
        assert joined == [sorted(b) for b in single]
        assert len(single) == len(r0) == 8


# --------------------------------------------------------------------------- accumulation


def test_accumulation_equals_a_bigger_batch():
    def run(batch_size, accum):
        loader = train.make_loader(
            toy_rows(100, 0), batch_size=batch_size, seed=0, group_by_length=False
        )
        model = tiny_bert(seed=0)
        train.fit(
            model, loader, epochs=2, lr=1e-3, grad_accum_steps=accum, progress=False, device="cpu"
        )
        return weights(model)

    big, accumulated, wrong = run(16, 1), run(8, 2), run(8, 1)
    assert max_diff(big, accumulated) < 1e-5
    assert max_diff(big, wrong) > 1e-3  # the check can fail: 8-batches without accumulation differ


# --------------------------------------------------------------------------- checkpoints


def test_checkpoint_round_trip_with_optimizer(tmp_path):
    model = tiny_bert(seed=1)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    batch = PadCollator()(toy_rows(8, 0))
    model(**batch).loss.backward()
    opt.step()
    train.save_checkpoint(tmp_path / "c.safetensors", model, optimizer=opt, meta={"epoch": 3})
    model2 = tiny_bert(seed=2)
    opt2 = torch.optim.AdamW(model2.parameters(), lr=1e-3)
    meta = train.load_checkpoint(tmp_path / "c.safetensors", model2, optimizer=opt2)
    assert meta == {"epoch": 3}
    assert max_diff(weights(model), weights(model2)) == 0.0
    s1, s2 = opt.state_dict()["state"], opt2.state_dict()["state"]
    assert s1.keys() == s2.keys()
    assert all(torch.equal(s1[i]["exp_avg_sq"], s2[i]["exp_avg_sq"]) for i in s1)
    assert list(tmp_path.iterdir()) == [tmp_path / "c.safetensors"]  # no temp file left


def test_resume_continues_exactly(tmp_path):
    straight = quick_fit(tiny_bert(seed=0, dropout=0.1), epochs=3)

    def crash_in_epoch_two(logits, labels, calls=[]):  # noqa: B006 - counts calls on purpose
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("the laptop lid was closed")
        return {}

    with pytest.raises(KeyboardInterrupt):
        quick_fit(
            tiny_bert(seed=0, dropout=0.1),
            epochs=3,
            metrics=crash_in_epoch_two,
            checkpoint_dir=tmp_path,
        )
    assert read_checkpoint(tmp_path / train.LAST_FILE)[1]["meta"]["epoch"] == 1
    # a fresh model (other init): continues after epoch 1, schedule and dropout RNG included
    resumed = quick_fit(
        tiny_bert(seed=5, dropout=0.1), epochs=3, checkpoint_dir=tmp_path, resume=True
    )
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3]
    for a, b in zip(straight.history, resumed.history, strict=True):
        assert a["train_loss"] == pytest.approx(b["train_loss"], abs=1e-6)
        assert a["val_loss"] == pytest.approx(b["val_loss"], abs=1e-6)
    assert resumed.best_epoch == straight.best_epoch


def test_schedule_spans_first_run_when_resuming(tmp_path):
    quick_fit(epochs=1, checkpoint_dir=tmp_path)
    _, info = read_checkpoint(tmp_path / train.LAST_FILE)
    assert info["meta"]["epoch"] == 1 and info["meta"]["step"] == 6
    assert info["scheduler"]["last_epoch"] == 6


def test_truncated_and_corrupted_checkpoints_are_refused(tmp_path):
    model = tiny_bert(seed=0)
    path = train.save_checkpoint(tmp_path / "best.safetensors", model)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        train.load_checkpoint(path, tiny_bert())
    flipped = bytearray(data)
    flipped[-10] ^= 0xFF  # one byte of tensor data
    path.write_bytes(bytes(flipped))
    target = tiny_bert(seed=3)
    before = weights(target)
    with pytest.raises(CheckpointError, match="checksum"):
        train.load_checkpoint(path, target)
    assert max_diff(before, weights(target)) == 0.0  # the model was not touched
    with pytest.raises(CheckpointError, match="no checkpoint"):
        train.load_checkpoint(tmp_path / "missing.safetensors", target)


def test_crash_while_saving_keeps_the_previous_best(tmp_path, monkeypatch):
    import safetensors.torch

    good = tiny_bert(seed=0)
    path = train.save_checkpoint(tmp_path / "best.safetensors", good, meta={"epoch": 1})

    def crash(tensors, filename, metadata=None):
        Path(filename).write_bytes(b"half a file")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(safetensors.torch, "save_file", crash)
    with pytest.raises(KeyboardInterrupt):
        train.save_checkpoint(path, tiny_bert(seed=9), meta={"epoch": 2})
    monkeypatch.undo()
    restored = tiny_bert(seed=4)
    assert train.load_checkpoint(path, restored) == {"epoch": 1}
    assert max_diff(weights(good), weights(restored)) == 0.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.safetensors"]


def test_resume_from_a_truncated_checkpoint_fails_clearly(tmp_path):
    quick_fit(epochs=1, checkpoint_dir=tmp_path)
    last = tmp_path / train.LAST_FILE
    last.write_bytes(last.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="truncated"):
        quick_fit(epochs=2, checkpoint_dir=tmp_path, resume=True)
    assert train.load_checkpoint(tmp_path / train.BEST_FILE, tiny_bert())["epoch"] == 1


# --------------------------------------------------------------------------- early stopping


def test_early_stopping_triggers_and_restores_the_best(tmp_path):
    calls = []

    def worse_each_epoch(logits, labels):
        calls.append(1)
        return {"score": 1.0 / len(calls)}

    result = quick_fit(
        epochs=10,
        metrics=worse_each_epoch,
        monitor="score",
        mode="max",
        patience=2,
        checkpoint_dir=tmp_path,
    )
    assert result.stopped_early and len(result.history) == 3
    assert result.best_epoch == 1 and result.best_metric == pytest.approx(1.0)
    best = tiny_bert()
    train.load_checkpoint(result.checkpoint_path, best)
    assert max_diff(weights(best), weights(result.model)) == 0.0


def test_best_weights_restored_without_checkpoint_dir():
    calls = []

    def peak_at_two(logits, labels):
        calls.append(1)
        return {"score": [0.1, 0.9, 0.2][len(calls) - 1]}

    result = quick_fit(epochs=3, metrics=peak_at_two, monitor="score", mode="max")
    assert result.best_epoch == 2 and not result.stopped_early
    val = train.make_loader(toy_rows(48, 1), batch_size=48, shuffle=False)
    now = train.evaluate(result.model, val, device="cpu")["val_loss"]
    assert now == pytest.approx(result.history[1]["val_loss"], abs=1e-6)  # epoch 2's weights
    assert now != pytest.approx(result.history[2]["val_loss"], abs=1e-6)


def test_unknown_monitor_and_bad_arguments():
    with pytest.raises(KeyError, match="macro_f1"):
        quick_fit(epochs=1, monitor="macro_f1")
    with pytest.raises(ValueError, match="mode"):
        quick_fit(mode="up")
    with pytest.raises(ValueError, match="checkpoint_dir"):
        quick_fit(resume=True)


# --------------------------------------------------------------------------- TensorBoard


def test_tensorboard_scalars_written(tmp_path):
    result = quick_fit(epochs=2, metrics=accuracy, log_dir=tmp_path / "tb")
    frame = train.read_tensorboard(tmp_path / "tb")
    counts = frame.groupby("tag").size()
    assert counts["train/loss"] == result.global_step == counts["train/lr"]
    assert counts["epoch/val_loss"] == 2 and counts["epoch/accuracy"] == 2
    val = frame[frame.tag == "epoch/val_loss"]["value"].tolist()
    assert val == pytest.approx([h["val_loss"] for h in result.history], rel=1e-6)


# --------------------------------------------------------------------------- DDP


def test_ddp_two_processes_match_one(tmp_path):
    """torchrun with 2 gloo processes, global batch 32 = 2 x 16: same weights as 1 x 32.

    Tolerance: 1e-5 absolute on every weight (only the all-reduce's summation order differs).
    """
    from coursekit.commands import train as command

    opts = "--data toy --model tiny --epochs 2 --n-train 192 --n-val 64 --batch-size 32 --lr 3e-3 --threads 1"
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    single = command.run(parser.parse_args([*opts.split(), "--out", str(tmp_path / "one")]))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            "-m",
            "coursekit",
            "train",
            *opts.split(),
            "--out",
            str(tmp_path / "two"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "2 process(es)" in proc.stdout
    double = json.loads((tmp_path / "two" / "result.json").read_text())
    assert double["world_size"] == 2 and single["world_size"] == 1
    for a, b in zip(single["history"], double["history"], strict=True):
        assert a["train_loss"] == pytest.approx(b["train_loss"], abs=1e-5)
        assert a["val_loss"] == pytest.approx(b["val_loss"], abs=1e-5)
    w1, _ = read_checkpoint(tmp_path / "one" / train.LAST_FILE)
    w2, _ = read_checkpoint(tmp_path / "two" / train.LAST_FILE)
    model_keys = [k for k in w1 if k.startswith("model/")]
    assert max(float((w1[k] - w2[k]).abs().max()) for k in model_keys) < 1e-5


def test_progress_bar_leaves_tqdm_disable_to_the_environment(monkeypatch):
    """tqdm reads TQDM_DISABLE=1 only for arguments not passed: fit must not pass `disable`."""
    import tqdm.auto

    calls = []

    def recorder(iterable, **kwargs):
        calls.append(kwargs)
        return tqdm.std.tqdm(iterable, disable=True)

    first, second = tiny_bert(), tiny_bert()  # import transformers before patching tqdm
    monkeypatch.setattr(tqdm.auto, "tqdm", recorder)
    quick_fit(first, epochs=1, progress=True)
    quick_fit(second, epochs=1, progress=False)
    assert "disable" not in calls[0] and calls[1]["disable"] is True


def test_coursekit_train_takes_unset_options_from_the_recipe_of_its_data():
    """`coursekit train --data reviews` trains with the sentiment recipe unless told otherwise."""
    from coursekit import sentiment
    from coursekit.commands import train as command

    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    cfg = sentiment.TrainConfig()
    settings = command.recipe(parser.parse_args([]))
    assert settings == {
        "epochs": cfg.epochs,
        "batch_size": cfg.batch_size,
        "lr": cfg.lr,
        "max_length": cfg.max_length,
        "precision": cfg.precision,
        "weight_decay": cfg.weight_decay,
        "warmup_ratio": cfg.warmup_ratio,
    }
    given = command.recipe(parser.parse_args(["--lr", "1e-5", "--epochs", "3"]))
    assert given["lr"] == 1e-5 and given["epochs"] == 3 and given["batch_size"] == cfg.batch_size
    toy = command.recipe(parser.parse_args(["--data", "toy", "--model", "tiny"]))
    assert toy["precision"] == "fp32" and toy == {
        **command.TOY_RECIPE,
        "weight_decay": 0.01,
        "warmup_ratio": 0.1,
    }
