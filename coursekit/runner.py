"""Run the course headless, and grade one learner notebook.

* :func:`run_notebook` executes one notebook in a fresh kernel (nbclient) and
  counts the exercise verdicts it printed; ``coursekit run`` does it for all.
* :func:`check_notebook` grades a learner notebook (``coursekit check``): the
  learner's code, the course's checks (:mod:`coursekit.grading.engine`, the same
  engine ``coursekit grade`` uses for a room).
"""

from __future__ import annotations

import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from coursekit import learner, paths

VERDICT = re.compile(
    r"^(✅|❌|⏳) Exercise (\d\d\.\d+) · (.*?): (passed\.|not yet|not attempted yet)(.*)$"
)
QUIET_ENV = {
    "TQDM_DISABLE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "PYTHONWARNINGS": "ignore::DeprecationWarning",
}


@contextmanager
def quiet_env():
    """Environment for headless runs: no progress bars, no tokenizer fork chatter."""
    saved = {k: os.environ.get(k) for k in QUIET_ENV}
    os.environ.update(QUIET_ENV)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _stdout_text(outputs: list[Any]) -> str:
    return "".join(
        o.get("text", "")
        for o in outputs
        if o.get("output_type") == "stream" and o.get("name") == "stdout"
    )


def verdicts_in(nb: nbformat.NotebookNode) -> list[re.Match[str]]:
    """The exercise verdict lines printed in a notebook's stored outputs, in order."""
    found = []
    for cell in nb.cells:
        if learner.is_check_cell(cell):
            for line in _stdout_text(cell.get("outputs", [])).splitlines():
                match = VERDICT.match(line.strip())
                if match:
                    found.append(match)
    return found


@dataclass
class RunResult:
    notebook: str
    ok: bool
    seconds: float
    passed: int = 0
    exercises: int = 0
    error: str = ""


def run_notebook(
    path: Path, inplace: bool = False, timeout: int = 600, out_dir: Path | None = None
) -> RunResult:
    """Execute ``path`` top to bottom in a fresh kernel; never raises for a failing cell."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = nbformat.read(path, as_version=4)
    current: dict[str, Any] = {}

    def on_cell_start(cell: Any, cell_index: int) -> None:
        current["cell"], current["index"] = cell, cell_index

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no kernel transport chatter
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_start=on_cell_start,
    )
    start = time.perf_counter()
    error = ""
    with quiet_env():
        try:
            client.execute()
        except CellTimeoutError:
            error = _timeout_message(
                current.get("index"), current.get("cell"), timeout, len(nb.cells)
            )
        except CellExecutionError as err:
            error = _first_error_line(str(err))
        except Exception as err:  # kernel died, missing kernel spec, ...
            error = f"{type(err).__name__}: {err}".splitlines()[0]
    seconds = time.perf_counter() - start
    checks = [c for c in nb.cells if learner.is_check_cell(c)]
    passed = sum(1 for m in verdicts_in(nb) if m.group(4) == "passed.")
    if inplace and not error:
        nbformat.write(nb, path)
    elif out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out_dir / path.name)
    return RunResult(path.name, not error, seconds, passed, len(checks), error)


def _timeout_message(index: int | None, cell: Any, timeout: int, total: int) -> str:
    """Which cell (1-based, markdown cells counted) ran past the per-cell limit, and the fixes."""
    if index is None or cell is None:
        where = "a cell"
    else:
        lines = [ln.strip() for ln in str(cell.get("source", "")).splitlines() if ln.strip()]
        first = lines[0] if lines else "(empty)"
        if len(first) > 60:
            first = first[:57] + "..."
        where = f"cell {index + 1} of {total} (`{first}`)"
    return (
        f"CellTimeoutError: {where} was still running after the {timeout} s limit per cell. "
        "A cell that trains or loads a model is slow when its cached model is missing: run "
        "`coursekit prepare` first to build the cached models, or raise the limit with "
        "`coursekit run --timeout SECONDS`."
    )


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _first_error_line(text: str) -> str:
    text = ANSI.sub("", text)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for line in reversed(lines):
        if re.match(r"^[A-Za-z_.]*(Error|Exception|Interrupt)\b", line):
            return line[:200]
    return (lines[-1] if lines else "cell failed")[:200]


# --------------------------------------------------------------------------- check


@dataclass
class ExerciseResult:
    exercise: str
    title: str
    passed: bool
    said: str  # the course's verdict line for the learner's answer


@dataclass
class CheckReport:
    notebook: str
    results: list[ExerciseResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    tampering: list[str] = field(default_factory=list)

    @property
    def all_passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)


def reference_for(path: Path) -> Path:
    """The solution notebook that a learner notebook was generated from."""
    ref = paths.notebooks_dir() / path.name
    if not ref.exists() or not learner.NOTEBOOK_NAME.match(path.name):
        names = ", ".join(p.name for p in learner.solution_notebooks()) or "none"
        raise FileNotFoundError(
            f"{path.name!r} is not a course notebook, so there is nothing to compare it with; "
            f"keep the learner file's name (one of: {names})"
        )
    return ref


def check_notebook(path: Path, timeout: int = 600) -> CheckReport:
    """Grade the learner notebook at ``path`` with the course's own checks.

    The learner's code runs in a fresh kernel; each check comes from the solution notebook
    and the checks package on disk, so what the notebook prints cannot change the verdict
    (see :mod:`coursekit.grading.engine`).
    """
    from coursekit.checks import Verdict
    from coursekit.grading.engine import grade_notebook

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist; learner notebooks are in {paths.learner_dir()} "
            "(create them with `coursekit learner`)"
        )
    ref_path = reference_for(path)
    try:
        nbformat.read(path, as_version=4)
    except Exception as err:
        raise ValueError(
            f"{path} is not a readable notebook ({type(err).__name__}); restore it from notebooks/learner/"
        ) from err
    grade = grade_notebook(
        path, ref_path, cell_timeout=timeout, notebook_timeout=max(timeout, 3600)
    )
    report = CheckReport(path.name, errors=list(grade.errors), tampering=list(grade.tampering))
    for e in grade.exercises:
        line = Verdict(e.exercise, e.title, e.status, e.message, e.hint).line()
        report.results.append(ExerciseResult(e.exercise, e.title, e.passed, line))
    return report


def format_check_report(report: CheckReport) -> str:
    """A table: exercise, result, and the learner's own verdict line with its hint."""
    lines = [f"Checking {report.notebook}", ""]
    width = max([len(r.exercise) for r in report.results] + [8])
    lines.append(f"{'exercise':<{width}}  {'result':<8}  what your check said")
    lines.append(f"{'-' * width}  {'-' * 8}  {'-' * 20}")
    for r in report.results:
        said = r.said
        said = re.sub(r"^(✅|❌|⏳) Exercise \d\d\.\d+ · ", "", said)
        lines.append(f"{r.exercise:<{width}}  {'passed' if r.passed else 'not yet':<8}  {said}")
    passed = sum(r.passed for r in report.results)
    lines.append("")
    lines.append(f"{passed}/{len(report.results)} exercises passed.")
    if report.errors:
        lines.append(
            "Cells that raised an error (fix these first; later cells may depend on them):"
        )
        lines.extend(f"  {e}" for e in report.errors[:10])
    if report.tampering:
        lines.append("Noted while grading (the course's checks were used):")
        lines.extend(f"  {t}" for t in report.tampering)
    return "\n".join(lines)
