"""Prepare a room for a workshop without internet: verify the data, pre-build every artifact.

The notebooks build what they need on first use (a tokenizer, the tiny GPT, the fine-tuned
classifier, the FAQ index) into the artifact cache. That costs minutes the first time, which
is fine alone at home and painful for thirty laptops at 9 a.m. ``coursekit prepare`` builds
them all once, ahead of time; then every notebook loads them in seconds.

Each artifact is built by the function the notebooks themselves call (imported lazily, so a
module that is missing in this version of the course is reported, not fatal). Whether a step
*built* something or found it ready is read from the cache: a new complete artifact folder
means it was built.

To share one cache with a room, build it once and point every learner at it::

    COURSEKIT_CACHE=/srv/course-cache coursekit prepare
    export COURSEKIT_CACHE=/srv/course-cache      # in each learner's environment
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from coursekit import paths

OK, BUILT, FAILED, UNAVAILABLE, SKIPPED = "ok", "built", "failed", "not available", "skipped"


@dataclass(frozen=True)
class Artifact:
    """One thing a room needs, and the coursekit function that builds (or loads) it."""

    name: str
    module: str
    function: str
    what: str
    notebooks: tuple[str, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def call(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"{self.module}.{self.function}({args})"


#: In build order: later artifacts reuse earlier ones (the GPT and the copywriter use the BPE).
ARTIFACTS: tuple[Artifact, ...] = (
    Artifact(
        "shop-bpe",
        "coursekit.tokenization",
        "load_shop_bpe",
        "byte-level BPE tokenizer trained on the shop's text",
        ("02", "04", "07"),
    ),
    Artifact(
        "shop-gpt",
        "coursekit.lm",
        "load_shop_gpt",
        "tiny GPT language model trained on the shop's text",
        ("04",),
    ),
    Artifact(
        "sentiment",
        "coursekit.sentiment",
        "load_classifier",
        "MiniLM review-sentiment classifier, fine-tuned",
        ("06",),
        {"build": True},
    ),
    Artifact(
        "copywriter",
        "coursekit.copywriter",
        "load_copywriter",
        "small GPT that writes product copy from attributes, in slots",
        ("07",),
    ),
    Artifact(
        "copywriter-words",
        "coursekit.copywriter",
        "load_words_copywriter",
        "the same copywriter reading and writing words (notebook 07's comparison)",
        ("07",),
    ),
    Artifact(
        "faq-encoder",
        "coursekit.retrieval",
        "load_faq_encoder",
        "MiniLM fine-tuned on the shop's training paraphrases (in-batch negatives)",
        ("08",),
    ),
    Artifact(
        "faq-reranker",
        "coursekit.retrieval",
        "load_cross_encoder",
        "MiniLM cross-encoder re-ranking the FAQ search's top 5 (hard negatives)",
        ("08",),
    ),
    Artifact(
        "post-training-sentiment",
        "coursekit.post_training",
        "sentiment_results",
        "LoRA vs full fine-tuning of MiniLM and a LoRA learning curve (predictions, costs)",
        ("10",),
    ),
    Artifact(
        "post-training-assistant",
        "coursekit.post_training",
        "load_assistants",
        "the shop GPT instruction-tuned twice (loss on the answer only / on every token)",
        ("10",),
    ),
    Artifact(
        "post-training-dpo",
        "coursekit.post_training",
        "dpo_results",
        "preference pairs from the grounding checker, DPO, copy metrics before and after",
        ("10",),
    ),
    Artifact(
        "faq-index",
        "coursekit.retrieval",
        "load_faq_index",
        "FAQ embedding index (each entry's question and question + answer) with its hand-off rule",
        ("08", "11"),
    ),
    Artifact(
        "reply-writer",
        "coursekit.assistant",
        "load_reply_writer",
        "tiny GPT that writes the shop assistant's replies from an FAQ passage",
        ("11",),
    ),
)


@dataclass
class StepResult:
    """The outcome of one step of :func:`prepare`."""

    name: str
    status: str  # ok / built / failed / not available / skipped
    seconds: float = 0.0
    detail: str = ""


def resolve(artifact: Artifact) -> Callable[..., Any] | None:
    """The builder function, or ``None`` when this version of the course does not have it."""
    try:
        module = importlib.import_module(artifact.module)
    except ModuleNotFoundError as err:
        if err.name == artifact.module:  # the module itself is missing
            return None
        raise  # the module exists but one of its own imports is missing: a real failure
    return getattr(module, artifact.function, None)


def select(names: Sequence[str] | None = None) -> list[Artifact]:
    """The artifacts named (all of them by default); an unknown name is a ``ValueError``."""
    if not names:
        return list(ARTIFACTS)
    known = {a.name: a for a in ARTIFACTS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown artifact {unknown[0]!r}; choose from: {', '.join(known)}")
    return [a for a in ARTIFACTS if a.name in names]


def complete_artifacts() -> set[str]:
    """Names of the complete artifact folders in the cache right now."""
    root = paths.cache_dir()
    return {p.name for p in root.iterdir() if p.is_dir() and (p / ".complete").exists()}


def verify_data() -> StepResult:
    """Check the shop corpus against its checksums (``coursekit.data.verify``)."""
    started = time.perf_counter()
    try:
        data = importlib.import_module("coursekit.data")
        problems = data.verify()
    except Exception as err:  # noqa: BLE001 - reported, never raised
        return StepResult(
            "shop data", FAILED, time.perf_counter() - started, _one_line(err, "coursekit.data")
        )
    seconds = time.perf_counter() - started
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        fix = "run `coursekit data verify`; restore with `git checkout data/` or `coursekit data build`"
        return StepResult("shop data", FAILED, seconds, f"{problems[0]}{more}; {fix}")
    return StepResult("shop data", OK, seconds, "all files present, checksums valid")


def build_one(artifact: Artifact) -> StepResult:
    """Call one builder; never raises. ``built`` when a new artifact appeared in the cache."""
    started = time.perf_counter()
    try:
        fn = resolve(artifact)
        if fn is None:
            return StepResult(
                artifact.name, UNAVAILABLE, 0.0, f"{artifact.call} is not available in this version"
            )
        before = complete_artifacts()
        fn(**artifact.kwargs)
        new = sorted(complete_artifacts() - before)
    except Exception as err:  # noqa: BLE001 - reported, never raised
        return StepResult(
            artifact.name, FAILED, time.perf_counter() - started, _one_line(err, artifact.call)
        )
    seconds = time.perf_counter() - started
    if new:
        return StepResult(artifact.name, BUILT, seconds, "new in cache: " + ", ".join(new))
    return StepResult(artifact.name, OK, seconds, "ready in the cache")


def prepare(
    names: Sequence[str] | None = None,
    check_data: bool = True,
    progress: Callable[[str], None] | None = None,
) -> list[StepResult]:
    """Verify the data, then build (or load) each artifact in order; report every step.

    A failed data check skips the builds: artifacts trained on damaged data are worse
    than none. ``progress`` (e.g. ``print``) is told each step's name as it starts.
    """
    artifacts = select(names)
    results: list[StepResult] = []
    if check_data:
        if progress:
            progress("shop data")
        results.append(verify_data())
        if results[-1].status == FAILED:
            return results + [
                StepResult(a.name, SKIPPED, 0.0, "the data check failed") for a in artifacts
            ]
    for artifact in artifacts:
        if progress:
            progress(artifact.name)
        results.append(build_one(artifact))
    return results


def _one_line(err: BaseException, where: str) -> str:
    first = (str(err).strip().splitlines() or [""])[0][:200]
    return f"{where}: {type(err).__name__}: {first}".rstrip(": ")


def format_results(results: Sequence[StepResult]) -> str:
    """A markdown table of the steps, with the total time."""
    width = max([len(r.name) for r in results] + [4])
    lines = [
        f"| {'step':<{width}} | status        | seconds | detail",
        f"|{'-' * (width + 2)}|---------------|---------|-------",
    ]
    for r in results:
        lines.append(f"| {r.name:<{width}} | {r.status:<13} | {r.seconds:>7.1f} | {r.detail}")
    total = sum(r.seconds for r in results)
    lines.append(f"| {'total':<{width}} | {'':<13} | {total:>7.1f} |")
    return "\n".join(lines)


def format_list(artifacts: Sequence[Artifact]) -> str:
    """What ``coursekit prepare`` would build, with the function each step calls."""
    lines = ["coursekit prepare would, in order:", "  0. verify the shop data (checksums)"]
    for i, a in enumerate(artifacts, start=1):
        try:
            available = resolve(a) is not None
        except Exception as err:  # noqa: BLE001 - a broken module is shown, not raised
            available = False
            note = f"  [import fails: {type(err).__name__}]"
        else:
            note = "" if available else "  [not available in this version]"
        used = ", ".join(a.notebooks)
        lines.append(f"  {i}. {a.name:<11} {a.what} (notebooks {used})")
        lines.append(f"     {'':<11} {a.call}{note}")
    lines.append("")
    lines.append(cache_hint())
    return "\n".join(lines)


def cache_size(path: os.PathLike | str | None = None) -> int:
    """Bytes in the artifact cache (or ``path``)."""
    root = paths.cache_dir() if path is None else os.fspath(path)
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(folder, name))
            except OSError:
                pass
    return total


def cache_hint() -> str:
    """Where the cache is, and how to point a whole room at one shared copy."""
    where = paths.cache_dir()
    source = "COURSEKIT_CACHE" if os.environ.get("COURSEKIT_CACHE") else "default location"
    return "\n".join(
        [
            f"artifact cache: {where} ({source}, {cache_size(where) / 1e6:.1f} MB)",
            "share it with a room: build once into a shared folder, then point every learner at it",
            "  COURSEKIT_CACHE=/srv/course-cache coursekit prepare",
            "  export COURSEKIT_CACHE=/srv/course-cache   # each learner (JupyterHub: Spawner.environment)",
            "or copy the folder into each laptop's checkout as .cache/coursekit/ (no variable needed).",
        ]
    )
