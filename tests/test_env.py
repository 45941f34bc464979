"""Device choice, seeding, threads, offline detection and the doctor."""

import random
import time

import numpy as np
import pytest
import torch

from coursekit import doctor, env
from coursekit.cli import main


def test_seed_everything_repeats_python_numpy_and_torch():
    env.seed_everything(123)
    a = (random.random(), np.random.rand(), torch.rand(3))
    env.seed_everything(123)
    b = (random.random(), np.random.rand(), torch.rand(3))
    assert a[0] == b[0] and a[1] == b[1] and torch.equal(a[2], b[2])
    env.seed_everything(124)
    c = torch.rand(3)
    assert not torch.equal(c, a[2])


def test_set_threads_is_clamped_to_the_machine():
    assert env.set_threads(1) == 1
    assert env.set_threads(10_000) >= 1
    assert env.set_threads(None) == torch.get_num_threads()
    env.set_threads(2)


def test_get_device_defaults_to_the_best_available(monkeypatch):
    monkeypatch.delenv(env.DEVICE_ENV, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(env, "_mps_available", lambda: False)
    assert env.get_device() == "cpu"
    monkeypatch.setattr(env, "_mps_available", lambda: True)
    assert env.get_device() == "mps"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert env.get_device() == "cuda"


def test_get_device_override_and_a_missing_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv(env.DEVICE_ENV, "cpu")
    assert env.get_device() == "cpu"
    monkeypatch.setenv(env.DEVICE_ENV, "cuda")
    with pytest.raises(env.DeviceError, match="no CUDA GPU is visible; unset COURSEKIT_DEVICE"):
        env.get_device()
    with pytest.raises(env.DeviceError, match="unknown device"):
        env.get_device("tpu")


def test_offline_check_answers_fast_and_respects_the_offline_flag(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    assert env.is_online() is False
    assert time.perf_counter() - start < 0.1
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("COURSEKIT_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    start = time.perf_counter()
    env.is_online(host="10.255.255.1", timeout=0.3)  # unroutable: must not hang
    assert time.perf_counter() - start < 2.0


def test_require_online_names_the_fix(monkeypatch):
    monkeypatch.setenv("COURSEKIT_OFFLINE", "1")
    with pytest.raises(env.OfflineError, match="offline. Use the course's local default"):
        env.require_online("the model 'gpt2'")


def test_minilm_is_installed_locally():
    from pathlib import Path

    assert (Path(env.minilm_path()) / "config.json").exists()


def test_doctor_reports_problems_with_fixes(monkeypatch, capsys):
    monkeypatch.setenv(env.DEVICE_ENV, "cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    finding = doctor.check_device()
    assert not finding.ok and "unset COURSEKIT_DEVICE" in finding.fix
    monkeypatch.setattr(doctor, "_version", lambda name: None if name == "nbval" else "1.0")
    bad = [f for f in doctor.check_packages() if not f.ok]
    assert [f.name for f in bad] == ["nbval"] and 'pip install -e ".[dev]"' in bad[0].fix
    text = doctor.format_findings([*doctor.check_packages(), finding])
    assert "2 problem(s) to fix" in text and "-> unset COURSEKIT_DEVICE" in text


def test_doctor_cli_exit_code(capsys, monkeypatch):
    monkeypatch.setenv(env.DEVICE_ENV, "cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["doctor", "--fast"]) == 1
    assert "FIX  device" in capsys.readouterr().out


def test_expected_error_prints_the_error_and_lets_the_notebook_go_on(capsys):
    import coursekit

    with coursekit.expected_error(RuntimeError):
        raise RuntimeError("Expected target size [1, 4000], got [1, 9]\nmore detail")
    assert capsys.readouterr().out == "RuntimeError: Expected target size [1, 4000], got [1, 9]\n"

    with coursekit.expected_error(ImportError):
        pass
    assert "no error" in capsys.readouterr().out

    with pytest.raises(KeyError), coursekit.expected_error(RuntimeError):
        raise KeyError("a different error is not swallowed")


def test_expected_error_drops_machine_specific_paths(capsys):
    import coursekit

    with coursekit.expected_error(ImportError):
        raise ImportError(
            "cannot import name 'AdamW' from 'transformers' (/x/site-packages/transformers/__init__.py)"
        )
    assert (
        capsys.readouterr().out == "ImportError: cannot import name 'AdamW' from 'transformers'\n"
    )


def test_threads_env_overrides_the_argument(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv(env.THREADS_ENV, "1")
        assert env.set_threads(2) == 1 and torch.get_num_threads() == 1
        assert env.set_threads(None) == 1, "the override applies even to 'leave the default'"
        monkeypatch.setenv(env.THREADS_ENV, " 1 ")
        assert env.set_threads(4) == 1
        monkeypatch.setenv(env.THREADS_ENV, "")
        assert env.set_threads(1) == 1
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize(
    ("value", "message"),
    [("two", "'two' is not a whole number"), ("1.5", "is not a whole number"), ("0", "at least 1")],
)
def test_a_bad_threads_value_says_how_to_fix_it(monkeypatch, value, message):
    monkeypatch.setenv(env.THREADS_ENV, value)
    with pytest.raises(ValueError, match=message) as info:
        env.set_threads(2)
    assert "COURSEKIT_THREADS" in str(info.value) and "unset it" in str(info.value)


def test_resolve_precision_on_the_cpu_follows_native_bf16(monkeypatch):
    monkeypatch.delenv(env.PRECISION_ENV, raising=False)
    assert env.resolve_precision("auto", "cpu", cpu_bf16=True) == "bf16"
    assert env.resolve_precision("auto", "cpu", cpu_bf16=False) == "fp32"
    assert env.resolve_precision("bf16", "cpu", cpu_bf16=False) == "bf16", "explicit wins"
    assert env.resolve_precision("fp32", "cpu", cpu_bf16=True) == "fp32"
    monkeypatch.setattr(env, "cpu_supports_bf16", lambda: False)
    assert env.resolve_precision("auto", "cpu") == "fp32", "detection is used when not given"
    monkeypatch.setattr(env, "cpu_supports_bf16", lambda: True)
    assert env.resolve_precision("auto", "cpu") == "bf16"
    with pytest.raises(ValueError, match="fp16 autocast needs a CUDA GPU"):
        env.resolve_precision("fp16", "cpu")
    with pytest.raises(ValueError, match="precision must be one of"):
        env.resolve_precision("fp64", "cpu")


def test_resolve_precision_on_gpus(monkeypatch):
    monkeypatch.delenv(env.PRECISION_ENV, raising=False)
    assert env.resolve_precision("auto", "cuda", cuda_capability=(8, 0)) == "bf16"
    assert env.resolve_precision("auto", "cuda:0", cuda_capability=(7, 5)) == "fp16"
    with pytest.raises(ValueError, match=r"compute capability 7.0\) has no fast bf16"):
        env.resolve_precision("bf16", "cuda", cuda_capability=(7, 0))
    assert env.resolve_precision("auto", "mps") == "fp32"


def test_precision_env_replaces_auto_only(monkeypatch):
    monkeypatch.setenv(env.PRECISION_ENV, "fp32")
    assert env.resolve_precision("auto", "cpu", cpu_bf16=True) == "fp32"
    monkeypatch.setenv(env.PRECISION_ENV, " BF16 ")
    assert env.resolve_precision("auto", "cpu", cpu_bf16=False) == "bf16"
    assert env.resolve_precision("fp32", "cpu", cpu_bf16=True) == "fp32", "explicit wins"
    monkeypatch.setenv(env.PRECISION_ENV, "double")
    with pytest.raises(ValueError, match="COURSEKIT_PRECISION='double' is not one of"):
        env.resolve_precision("auto", "cpu")


def test_describe_precision_says_why(monkeypatch):
    monkeypatch.delenv(env.PRECISION_ENV, raising=False)
    monkeypatch.setattr(env, "cpu_supports_bf16", lambda: False)
    text = env.describe_precision("cpu")
    assert text.startswith("fp32 (no native bf16 on this CPU (")
    assert torch.backends.cpu.get_cpu_capability() in text
    assert "override with COURSEKIT_PRECISION=fp32|bf16|fp16" in text
    monkeypatch.setattr(env, "cpu_supports_bf16", lambda: True)
    assert env.describe_precision("cpu").startswith("bf16 (this CPU computes bf16 natively;")
    monkeypatch.setenv(env.PRECISION_ENV, "fp32")
    assert env.describe_precision("cpu").startswith("fp32 (set by COURSEKIT_PRECISION;")
    monkeypatch.setenv(env.PRECISION_ENV, "auto")
    assert "set by" not in env.describe_precision("cpu"), "auto is the hardware's choice"


@pytest.mark.parametrize(
    ("machine", "onednn", "avx512_bf16", "amx", "expected"),
    [
        ("x86_64", True, False, False, False),  # AVX-512 without bf16: oneDNN emulates it
        ("x86_64", True, True, False, True),  # e.g. Cooper Lake, Zen 4
        ("x86_64", True, False, True, True),  # AMX: Sapphire Rapids and later
        ("AMD64", True, True, False, True),  # Windows spells it so
        ("x86_64", False, True, True, False),  # ONEDNN_MAX_CPU_ISA=AVX2 caps it
        ("arm64", True, False, False, True),  # ARM: oneDNN checks the BF16 extension itself
        ("aarch64", False, False, False, False),
    ],
)
def test_cpu_bf16_is_native_only_with_the_instructions(
    monkeypatch, machine, onednn, avx512_bf16, amx, expected
):
    import platform

    monkeypatch.setattr(platform, "machine", lambda: machine)
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: onednn)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    assert env.cpu_supports_bf16() is expected


def test_cpu_bf16_matches_this_machine():
    """The probe agrees with the CPU's own flags (Linux x86 only: /proc/cpuinfo)."""
    import os
    import platform
    from pathlib import Path

    cpuinfo = Path("/proc/cpuinfo")
    if platform.machine() != "x86_64" or not cpuinfo.exists():
        pytest.skip("reads /proc/cpuinfo's x86 flags")
    flags = set(cpuinfo.read_text().split("flags", 2)[1].splitlines()[0].split())
    native = bool({"avx512_bf16", "amx_bf16"} & flags)
    capped = os.environ.get("ONEDNN_MAX_CPU_ISA", "").upper().startswith(("AVX2", "SSE"))
    assert env.cpu_supports_bf16() is (native and not capped)
