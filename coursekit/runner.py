"""Run the course headless, and grade a learner notebook through nbval.

* :func:`run_notebook` executes one notebook in a fresh kernel (nbclient) and
  counts the exercise verdicts it printed; ``coursekit run`` does it for all.
* :func:`check_notebook` grades a learner notebook: it takes the learner's
  code, the *reference* verdicts from the solution notebook's check cells
  (comparing a notebook with its own saved outputs would prove nothing), and
  lets nbval execute and compare; other cells only have to run.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest

from coursekit import learner, paths

VERDICT = re.compile(r"^(✅|❌|⏳) Exercise (\d\d\.\d+) · (.*?): (passed\.|not yet)(.*)$")
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
    said: str  # what the learner's check printed (or the error)


@dataclass
class CheckReport:
    notebook: str
    results: list[ExerciseResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

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


def build_check_notebook(
    mine: nbformat.NotebookNode, ref: nbformat.NotebookNode
) -> tuple[nbformat.NotebookNode, list[int]]:
    """The learner's cells, with the reference verdicts on the check cells.

    Returns the notebook and, for each check cell, its index among code cells.
    """
    ref_checks = [c for c in ref.cells if learner.is_check_cell(c)]
    test = nbformat.from_dict(mine)
    check_positions = []
    code_index = -1
    n_check = 0
    for cell in test.cells:
        if cell.cell_type != "code":
            continue
        code_index += 1
        if learner.is_check_cell(cell):
            if n_check >= len(ref_checks):
                raise ValueError(
                    "your notebook has more check cells than the course notebook; "
                    "regenerate it with `coursekit learner` or restore the deleted cells"
                )
            cell.outputs = [
                o
                for o in ref_checks[n_check].get("outputs", [])
                if o.get("output_type") == "stream"
            ]
            cell.execution_count = code_index + 1
            check_positions.append(code_index)
            n_check += 1
        else:
            cell.outputs = []
            cell.execution_count = code_index + 1
            tags = list(cell.metadata.get("tags", []))
            if "nbval-ignore-output" not in tags and "NBVAL_RAISES_EXCEPTION" not in cell.source:
                tags.append("nbval-ignore-output")
            cell.metadata["tags"] = tags
    if n_check != len(ref_checks):
        raise ValueError(
            f"your notebook has {n_check} check cells but the course notebook has "
            f"{len(ref_checks)}; restore the missing `check.…(...)` cells "
            "(or regenerate the learner version with `coursekit learner`)"
        )
    return test, check_positions


class _Collector:
    """A pytest plugin that keeps, per notebook cell, its outcome and its actual stdout."""

    def __init__(self) -> None:
        self.outcomes: dict[int, tuple[bool, str]] = {}
        self.actual: dict[int, str] = {}

    def pytest_runtest_logreport(self, report: Any) -> None:
        match = re.search(r"Cell (\d+)", report.nodeid)
        if report.when != "call" or not match:
            return
        detail = _first_error_line(str(report.longrepr)) if report.failed else ""
        self.outcomes[int(match.group(1))] = (report.passed, detail)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: Any, call: Any) -> Any:
        outcome = yield
        if call.when == "call" and getattr(item, "test_outputs", None) is not None:
            self.actual[item.cell_num] = _stdout_text(item.test_outputs)
        return outcome


def check_notebook(path: Path, timeout: int = 600) -> CheckReport:
    """Grade the learner notebook at ``path`` against the course's reference verdicts."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist; learner notebooks are in {paths.learner_dir()} "
            "(create them with `coursekit learner`)"
        )
    ref_path = reference_for(path)
    try:
        mine = nbformat.read(path, as_version=4)
    except Exception as err:
        raise ValueError(
            f"{path} is not a readable notebook ({type(err).__name__}); restore it from notebooks/learner/"
        ) from err
    ref = nbformat.read(ref_path, as_version=4)
    test, positions = build_check_notebook(mine, ref)
    expected = verdicts_in(ref)

    collector = _Collector()
    with tempfile.TemporaryDirectory(prefix="coursekit-check-") as tmp, quiet_env():
        nb_path = Path(tmp) / path.name
        nbformat.write(test, nb_path)
        (Path(tmp) / "pytest.ini").write_text("[pytest]\n")
        sanitize = paths.notebooks_dir() / "sanitize.cfg"
        args = [
            str(nb_path),
            "-q",
            "-p",
            "no:cacheprovider",
            "--nbval",
            "--nbval-current-env",
            f"--nbval-cell-timeout={timeout}",
            "--rootdir",
            tmp,
            "-c",
            str(Path(tmp) / "pytest.ini"),
            "--no-header",
            "--tb=no",
            "-rN",
        ]
        if sanitize.exists():
            args.append(f"--nbval-sanitize-with={sanitize}")
        with open(os.devnull, "w") as devnull, _redirect_stdout(devnull):
            pytest.main(args, plugins=[collector])

    report = CheckReport(path.name)
    for number, position in enumerate(positions):
        ok, detail = collector.outcomes.get(position, (False, "the cell did not run"))
        said_lines = [
            ln
            for ln in collector.actual.get(position, "").splitlines()
            if VERDICT.match(ln.strip())
        ]
        ref_match = expected[number] if number < len(expected) else None
        ex_id = ref_match.group(2) if ref_match else f"#{number + 1}"
        title = ref_match.group(3) if ref_match else ""
        said = said_lines[0].strip() if said_lines else (detail or "no verdict printed")
        report.results.append(ExerciseResult(ex_id, title, ok, said))
    for position, (ok, detail) in sorted(collector.outcomes.items()):
        if not ok and position not in positions:
            report.errors.append(f"cell {position + 1}: {detail or 'failed'}")
    return report


@contextmanager
def _redirect_stdout(stream: Any):
    import contextlib

    with contextlib.redirect_stdout(stream):
        yield


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
    return "\n".join(lines)
