"""Grade one learner notebook on what its code really does.

:func:`grade_notebook` runs the learner's code cells, in the learner's order, in a fresh
kernel; but every check comes from the *reference* (solution) notebook, matched by the check
it calls (one check function per exercise id), never by position:

* an edited check cell runs the course's check instead (the learner's other code in that cell
  still runs), a deleted one is put back after the cell it followed, and both are reported;
* before each check, ``coursekit.checks`` is dropped from ``sys.modules`` and imported afresh
  from disk, so a rebound ``check`` or a monkeypatched checks module changes nothing (and is
  reported, see :mod:`coursekit.grading.kernel`);
* the verdict travels as a display output under its own MIME type, from a cell that holds a
  random key made for that one check of that one run and runs no learner code; printed
  verdict lines are never read.

Every learner cell runs even after one fails (``allow_errors``), a cell that runs too long is
interrupted (per-cell and per-notebook limits), and a kernel that dies ends the run with a
verdict for every check that did not get to run. Nothing here raises for a broken submission.
"""

from __future__ import annotations

import ast
import logging
import re
import secrets
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from coursekit import learner
from coursekit.checks import NOT_ATTEMPTED, NOT_YET, PASSED
from coursekit.grading.kernel import MIME

CHECKS_IMPORT = re.compile(r"^\s*from\s+coursekit\.checks\s+import\s+(nb\d\d)\s+as\s+(\w+)", re.M)
_GRADER_TAG = "coursekit-grader"
_VERDICT = re.compile(r"(✅|❌|⏳) Exercise \d\d\.\d+ ")
_QUIET = logging.getLogger("coursekit.grading.nbclient")  # timeouts are reported in our words
_QUIET.setLevel(logging.CRITICAL)


@dataclass
class ExerciseGrade:
    """One exercise's verdict, as the course's check gave it."""

    exercise: str
    title: str
    status: str  # PASSED, NOT_YET or NOT_ATTEMPTED
    message: str = ""
    hint: str = ""
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == PASSED


@dataclass
class NotebookGrade:
    """Everything the grader found in one submission."""

    learner: str
    notebook: str  # the course notebook it was graded against ("" if none matched)
    file: str
    exercises: list[ExerciseGrade] = field(default_factory=list)
    tampering: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "cell N: SomeError: ..." (learner cells)
    notes: list[str] = field(default_factory=list)
    solutions: dict[str, str] = field(default_factory=dict)  # exercise -> the learner's own lines
    seconds: float = 0.0
    digest: str = ""

    @property
    def passed(self) -> int:
        return sum(e.passed for e in self.exercises)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NotebookGrade:
        data = dict(data)
        data["exercises"] = [ExerciseGrade(**e) for e in data.get("exercises", [])]
        return cls(**data)


# --------------------------------------------------------------------------- the plan


@dataclass
class CheckCall:
    """One ``check.<name>(...)`` call of a reference check cell."""

    name: str
    arguments: str  # source of the call's arguments
    exercise: str  # its exercise id, where the checks module is importable ("" otherwise)
    title: str
    key: str = field(default_factory=lambda: secrets.token_hex(16))


def checks_module(ref: nbformat.NotebookNode) -> tuple[str | None, str]:
    """The checks module a notebook imports (``coursekit.checks.nb01``) and its local name."""
    for cell in ref.cells:
        if cell.cell_type == "code":
            match = CHECKS_IMPORT.search(cell.source)
            if match:
                return f"coursekit.checks.{match.group(1)}", match.group(2)
    return None, "check"


def check_calls(source: str, module: str | None) -> list[CheckCall]:
    """The check calls of a check cell, with their exercise ids when ``module`` imports."""
    import importlib

    checks = importlib.import_module(module) if module else None
    calls = []
    for node in ast.parse(source).body:
        call = node.value if isinstance(node, ast.Expr) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
            continue
        parts = [ast.unparse(a) for a in call.args]
        parts += [
            f"{k.arg}={ast.unparse(k.value)}" if k.arg else f"**{ast.unparse(k.value)}"
            for k in call.keywords
        ]
        fn = getattr(checks, call.func.attr, None) if checks else None
        calls.append(
            CheckCall(
                call.func.attr,
                ", ".join(parts),
                str(getattr(fn, "exercise_id", "")),
                str(getattr(fn, "title", "")),
            )
        )
    return calls


def _called_checks(source: str) -> set[str]:
    return set(re.findall(r"^\s*check\.(\w+)\(", source, re.M))


def _normalise(source: str) -> str:
    return "\n".join(ln.rstrip() for ln in source.strip().splitlines() if ln.strip())


def _without_check_lines(source: str) -> str:
    return "\n".join(ln for ln in source.splitlines() if not learner.CHECK_LINE.match(ln.strip()))


def _grader_cells(call: CheckCall, module: str | None, check_name: str) -> list[Any]:
    """The two cells that run one course check in the learner's kernel."""
    target = "None" if module is None else repr(module)
    evaluate = (
        f"# coursekit grade: the course's check {call.exercise or call.name}, imported afresh\n"
        "__ck_mod = __import__('sys').modules\n"
        "__ck_before = {n: m for n, m in list(__ck_mod.items())"
        " if n.split('.')[:2] in (['coursekit', 'checks'], ['coursekit', 'grading'])}\n"
        "for __ck_n in __ck_before:\n"
        "    del __ck_mod[__ck_n]\n"
        "__ck_state = __import__('coursekit.grading.kernel', fromlist=['run_check']).run_check(\n"
        f"    {target}, {call.name!r}, lambda: (lambda *a, **k: (a, k))({call.arguments}),\n"
        f"    __ck_before, globals().get({check_name!r}))\n"
        "del __ck_mod, __ck_before"
    )
    emit = (
        "__ck_mod = __import__('sys').modules\n"
        "for __ck_n in [n for n in list(__ck_mod) if n.startswith('coursekit.grading')]:\n"
        "    del __ck_mod[__ck_n]\n"
        "__import__('coursekit.grading.kernel', fromlist=['emit']).emit(\n"
        f"    __ck_state, {call.key!r})\n"
        "del __ck_mod, __ck_state"
    )
    cells = [nbformat.v4.new_code_cell(evaluate), nbformat.v4.new_code_cell(emit)]
    for cell in cells:
        cell.metadata["tags"] = [_GRADER_TAG]
    return cells


@dataclass
class Plan:
    """The notebook to execute, and where each check's verdict will come from."""

    notebook: nbformat.NotebookNode
    calls: list[CheckCall]
    emit_cells: list[int]  # index in ``notebook.cells`` of each call's emit cell
    learner_cells: dict[int, int]  # index in ``notebook.cells`` -> learner's cell number
    tampering: list[str]


def build_plan(mine: nbformat.NotebookNode, ref: nbformat.NotebookNode) -> Plan:
    """The learner's code cells, in their order, with the course's checks in place of theirs."""
    module, check_name = checks_module(ref)
    ref_checks = [(i, c) for i, c in enumerate(ref.cells) if learner.is_check_cell(c)]
    ref_ids = {c.get("id"): i for i, c in enumerate(ref.cells) if c.get("id")}
    by_id = {c.get("id"): (i, c) for i, c in ref_checks if c.get("id")}
    by_call: dict[str, tuple[int, Any]] = {}
    for i, c in ref_checks:
        for name in _called_checks(c.source):
            by_call.setdefault(name, (i, c))

    tampering: list[str] = []
    placed: dict[int, int] = {}  # reference check cell index -> learner cell index
    for j, cell in enumerate(mine.cells):
        if cell.cell_type != "code":
            continue
        match = by_id.get(cell.get("id"))
        if match is None and learner.is_check_cell(cell):
            names = _called_checks(cell.source)
            match = next((by_call[n] for n in names if n in by_call), None)
        if match is None or match[0] in placed:
            continue
        placed[match[0]] = j
        if _normalise(cell.source) != _normalise(match[1].source):
            label = _label(match[1], module)
            tampering.append(
                f"the check cell of {label} (cell {j + 1}) was edited: the course's check ran "
                "in its place"
            )

    # a deleted check cell goes back after the learner's copy of the cell it followed
    insert_after: dict[int, list[int]] = {}
    mine_ids = {c.get("id"): j for j, c in enumerate(mine.cells) if c.get("id")}
    for i, cell in ref_checks:
        if i in placed:
            continue
        before = [
            mine_ids[c.get("id")]
            for c in ref.cells[:i]
            if c.get("id") in mine_ids and mine_ids[c.get("id")] not in placed.values()
        ]
        anchor = before[-1] if before else len(mine.cells) - 1
        insert_after.setdefault(anchor, []).append(i)
        tampering.append(
            f"the check cell of {_label(cell, module)} was missing: the course's check ran "
            "where it stood"
        )

    order = [ref_ids[c.get("id")] for c in mine.cells if c.get("id") in ref_ids]
    moved = sum(1 for a, b in zip(order, order[1:], strict=False) if b < a)
    if moved:
        tampering.append(
            f"cells were moved out of the course's order ({moved} place(s)); graded in the "
            "learner's order"
        )

    out = nbformat.v4.new_notebook(metadata=ref.metadata)
    calls: list[CheckCall] = []
    emit_cells: list[int] = []
    learner_cells: dict[int, int] = {}
    ref_for = {j: i for i, j in placed.items()}

    def add_checks(ref_index: int) -> None:
        for call in check_calls(ref.cells[ref_index].source, module):
            out.cells.extend(_grader_cells(call, module, check_name))
            calls.append(call)
            emit_cells.append(len(out.cells) - 1)

    for j, cell in enumerate(mine.cells):
        if cell.cell_type == "code":
            source = cell.source
            if j in ref_for:
                source = _without_check_lines(source)
            if source.strip():
                learner_cells[len(out.cells)] = j + 1
                out.cells.append(nbformat.v4.new_code_cell(source))
            if j in ref_for:
                add_checks(ref_for[j])
        for ref_index in insert_after.get(j, []):
            add_checks(ref_index)
    return Plan(out, calls, emit_cells, learner_cells, tampering)


def exercise_code(plan: Plan, ref: nbformat.NotebookNode) -> dict[str, str]:
    """Per exercise, the lines the learner wrote: lines of the cells before its check that are
    in no cell of the learner version (so the given code and placeholders do not count)."""
    given = {
        line.strip()
        for cell in ref.cells
        if cell.cell_type == "code"
        for line in learner.strip_solutions(cell.source).splitlines()
    }
    code: dict[str, str] = {}
    lines: list[str] = []
    emits = dict(zip(plan.emit_cells, plan.calls, strict=True))
    for index, cell in enumerate(plan.notebook.cells):
        if index in plan.learner_cells:
            lines += [
                ln for ln in cell.source.splitlines() if ln.strip() and ln.strip() not in given
            ]
        elif index in emits:
            call = emits[index]
            code[call.exercise or call.name] = "\n".join(lines)
            lines = []
    return code


def _label(cell: Any, module: str | None) -> str:
    calls = check_calls(cell.source, module)
    ids = [c.exercise or c.name for c in calls]
    return "exercise " + ", ".join(ids) if ids else "a check"


# --------------------------------------------------------------------------- running


def grade_notebook(
    path: Path,
    reference: Path,
    *,
    learner_name: str = "",
    cell_timeout: int = 120,
    notebook_timeout: int = 600,
) -> NotebookGrade:
    """Grade the notebook at ``path`` against the solution notebook ``reference``."""
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    from coursekit.runner import quiet_env

    grade = NotebookGrade(learner_name or path.stem, reference.name, str(path))
    start = time.perf_counter()
    try:
        mine = nbformat.read(path, as_version=4)
    except Exception as err:
        grade.errors.append(f"not a readable notebook ({type(err).__name__}): nothing was run")
        return grade
    ref = nbformat.read(reference, as_version=4)
    plan = build_plan(mine, ref)
    grade.tampering.extend(plan.tampering)
    grade.solutions = exercise_code(plan, ref)

    deadline = time.monotonic() + notebook_timeout
    durations: dict[int, float] = {}
    started: dict[str, float] = {}

    def timeout_for(cell: Any) -> int:
        return int(max(1, min(cell_timeout, deadline - time.monotonic())))

    def on_start(cell: Any, cell_index: int) -> None:
        started["t"] = time.monotonic()

    def on_executed(cell: Any, cell_index: int, execute_reply: Any) -> None:
        durations[cell_index] = time.monotonic() - started.get("t", time.monotonic())

    died = ""
    with tempfile.TemporaryDirectory(prefix="coursekit-grade-") as tmp, quiet_env():
        client = NotebookClient(
            plan.notebook,
            timeout_func=timeout_for,
            allow_errors=True,
            interrupt_on_timeout=True,
            kernel_name="python3",
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
            resources={"metadata": {"path": tmp}},
            on_cell_start=on_start,
            on_cell_executed=on_executed,
            log=_QUIET,
        )
        try:
            client.execute()
        except DeadKernelError:
            died = "the kernel died (did the code call exit() or run out of memory?)"
        except Exception as err:  # e.g. the kernel could not start
            died = f"{type(err).__name__}: {err}".splitlines()[0][:200]
    cells = plan.notebook.cells
    for index, number in plan.learner_cells.items():
        error = _error_of(cells[index], cell_timeout, deadline)
        if error:
            grade.errors.append(f"cell {number}: {error}")
    if died:
        grade.errors.append(died)
    for call, index in zip(plan.calls, plan.emit_cells, strict=True):
        state = _verdict(cells[index], call.key)
        if state is None:
            state = _missing_verdict(cells[index - 1], durations.get(index - 1), cell_timeout, died)
            state.setdefault("exercise", call.exercise)
            state.setdefault("title", call.title)
        for note in state.pop("tampering", []):
            if note not in grade.tampering:
                grade.tampering.append(note)
        grade.exercises.append(
            ExerciseGrade(
                state.get("exercise") or call.exercise or call.name,
                state.get("title") or call.title,
                state.get("status", NOT_YET),
                state.get("message", ""),
                state.get("hint", ""),
                float(state.get("seconds", 0.0)),
            )
        )
    forged = [
        index
        for index in plan.learner_cells
        if any(MIME in o.get("data", {}) for o in cells[index].get("outputs", []))
    ]
    if forged:
        grade.tampering.append(
            "a learner cell published something in the grader's verdict format (ignored)"
        )
    course_cells = {c.get("id"): _normalise(c.source) for c in ref.cells if c.get("id")}
    printed = [
        n
        for index, n in plan.learner_cells.items()
        if any(_VERDICT.search(o.get("text", "")) for o in cells[index].get("outputs", []))
        and course_cells.get(mine.cells[n - 1].get("id")) != _normalise(mine.cells[n - 1].source)
    ]
    if printed:
        grade.tampering.append(
            "verdict lines printed by the learner's own code (cell "
            + ", ".join(map(str, printed))
            + ") were ignored"
        )
    grade.seconds = round(time.perf_counter() - start, 2)
    return grade


def _error_of(cell: Any, cell_timeout: int, deadline: float) -> str:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            name, value = out.get("ename", "Error"), str(out.get("evalue", ""))
            if name == "KeyboardInterrupt":
                limit = (
                    "the notebook's time limit"
                    if time.monotonic() >= deadline
                    else (f"{cell_timeout} s")
                )
                return f"stopped after {limit} (an endless loop, or a very slow cell?)"
            return f"{name}: {value}".splitlines()[0][:200]
    return ""


def _verdict(cell: Any, key: str) -> dict[str, Any] | None:
    for out in cell.get("outputs", []):
        data = out.get("data", {}).get(MIME) if out.get("output_type") == "display_data" else None
        if isinstance(data, dict) and data.get("key") == key:
            return {k: v for k, v in data.items() if k != "key"}
    return None


def _missing_verdict(
    evaluate_cell: Any, seconds: float | None, cell_timeout: int, died: str
) -> dict[str, Any]:
    """A verdict for a check whose result never arrived: why, in the learner's terms."""
    if died:
        return {"status": NOT_YET, "message": f"the check did not run: {died}"}
    error = ""
    for out in evaluate_cell.get("outputs", []):
        if out.get("output_type") == "error":
            error = out.get("ename", "")
    if error == "KeyboardInterrupt":
        return {
            "status": NOT_YET,
            "message": "the check was stopped: your code ran too long (an endless loop?)",
            "seconds": float(seconds or cell_timeout),
        }
    if not evaluate_cell.get("outputs") and seconds is None:
        return {"status": NOT_YET, "message": "the check did not run (out of time)"}
    return {"status": NOT_YET, "message": f"the check could not run ({error or 'no verdict'})"}


__all__ = [
    "NOT_ATTEMPTED",
    "NOT_YET",
    "PASSED",
    "ExerciseGrade",
    "NotebookGrade",
    "build_plan",
    "grade_notebook",
]
