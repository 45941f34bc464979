"""benchmarks/gpu_check.py: a clear exit without a GPU, and its code path run for real on the CPU."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent


def _load():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_a_gpu_it_says_nothing_was_measured(monkeypatch, capsys):
    gpu_check = _load()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_check.main([]) == gpu_check.NOT_MEASURED
    out = capsys.readouterr().out
    assert "No CUDA GPU on this machine: nothing measured" in out and "--device cpu" in out


def test_the_memory_estimate_is_notebook_05s_arithmetic():
    from transformers import BertConfig, BertForSequenceClassification

    gpu_check = _load()
    config = BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, vocab_size=100)  # fmt: skip
    model = BertForSequenceClassification(config)
    n = sum(p.numel() for p in model.parameters())
    no_activations = gpu_check.estimate_mib(model, batch=0, seq=0)
    assert no_activations == pytest.approx(16 * n / 2**20)  # 4 + 4 + 8 bytes per parameter
    act = 2 * 64 * 16 * 32 * (34 + 5 * 2 * 64 / 32) / 2**20  # layers * s * b * h * (...) bytes
    assert gpu_check.estimate_mib(model, batch=16, seq=64) == pytest.approx(16 * n / 2**20 + act)


def test_quick_cpu_run_trains_both_paths_and_prints_the_table(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_PRECISION", "fp32")
    gpu_check = _load()
    monkeypatch.setattr(gpu_check, "precisions_for", lambda device: ["fp32"])
    assert gpu_check.main(["--device", "cpu", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "| 05 loop (train.fit, MiniLM)" in out and "| sentiment recipe" in out
    # the generators train through the same loop on the chosen device (issue 17)
    assert "| small GPT, 10 steps (lm.train_tiny_gpt)" in out
    assert "| copywriter, 24 products, 1 epoch" in out
