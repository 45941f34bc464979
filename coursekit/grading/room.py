"""Grade a room: every notebook in a folder, in parallel, and the room's summary tables.

``coursekit grade SUBMISSIONS/`` calls :func:`grade_folder`, then
:func:`coursekit.grading.reports.write_reports` (the CSV files, feedback pages and summary).

Layouts: ``SUBMISSIONS/<learner>/<any name>.ipynb`` (nested) or
``SUBMISSIONS/<learner>_NN_name.ipynb`` / ``NN_name-<learner>.ipynb`` (flat). Which course
notebook a file is comes from its name when it contains one, else from its cells' ids (a
renamed copy is still recognised). Folders whose name starts with ``.`` or ``_`` are skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat

from coursekit import learner
from coursekit.grading.engine import NotebookGrade, grade_notebook

GRADES_COLUMNS = [
    "learner",
    "notebook",
    "exercise",
    "title",
    "passed",
    "status",
    "message",
    "seconds",
    "file",
]


@dataclass
class Submission:
    """One file to grade: who handed it in and which course notebook it is."""

    path: Path
    learner: str
    notebook: str  # the course notebook's file name, "" when none matches
    digest: str


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def identify(path: Path, references: Sequence[Path]) -> str:
    """The course notebook ``path`` is a copy of: by file name, else by shared cell ids."""
    for ref in references:
        if ref.stem in path.stem:
            return ref.name
    number = re.search(r"(?<!\d)(\d\d)_", path.name)
    if number:
        for ref in references:
            if ref.name.startswith(number.group(1) + "_"):
                return ref.name
    try:
        ids = {c.get("id") for c in nbformat.read(path, as_version=4).cells} - {None}
    except Exception:
        return ""
    best, overlap = "", 0.0
    for ref in references:
        ref_ids = {c.get("id") for c in nbformat.read(ref, as_version=4).cells} - {None}
        share = len(ids & ref_ids) / max(1, len(ref_ids))
        if share > overlap:
            best, overlap = ref.name, share
    return best if overlap >= 0.5 else ""


def find_submissions(folder: Path, references: Sequence[Path]) -> list[Submission]:
    """Every ``.ipynb`` under ``folder`` (checkpoints and the grader's output skipped)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder; pass the folder of submitted notebooks")
    found = []
    for path in sorted(folder.rglob("*.ipynb")):
        rel = path.relative_to(folder)
        if any(part.startswith((".", "_")) for part in rel.parts[:-1]):
            continue
        notebook = identify(path, references)
        if len(rel.parts) > 1:
            name = rel.parts[0]
        else:
            stem = path.stem
            if notebook:
                stem = stem.replace(Path(notebook).stem, "")
            name = re.sub(r"^[\W_]+|[\W_]+$", "", stem) or path.stem
        found.append(Submission(path, name, notebook, _digest(path)))
    return found


def grade_folder(
    folder: Path,
    *,
    jobs: int | None = None,
    cell_timeout: int = 120,
    notebook_timeout: int = 600,
    previous: dict[str, NotebookGrade] | None = None,
    progress: Callable[[NotebookGrade], None] | None = None,
) -> list[NotebookGrade]:
    """Grade every submission in ``folder``; never stops on a broken one.

    ``previous`` maps a file's digest to an earlier grade: unchanged files are not re-run.
    Each notebook runs in a fresh kernel; ``jobs`` of them at a time (default: one per core),
    each kernel on ``cores // jobs`` threads.
    """
    references = learner.solution_notebooks()
    submissions = find_submissions(folder, references)
    ref_by_name = {r.name: r for r in references}
    previous = previous or {}
    jobs = max(1, jobs or os.cpu_count() or 1)
    saved = os.environ.get("COURSEKIT_THREADS")
    if saved is None:
        os.environ["COURSEKIT_THREADS"] = str(max(1, (os.cpu_count() or 1) // jobs))

    course = _course_digest(references)

    def one(sub: Submission) -> NotebookGrade:
        key = f"{sub.digest}:{sub.notebook}:{course}"
        if key in previous:
            grade = previous[key]
            grade.learner, grade.file = sub.learner, str(sub.path)
        elif not sub.notebook:
            names = ", ".join(r.name for r in references)
            grade = NotebookGrade(sub.learner, "", str(sub.path))
            grade.errors.append(f"not a course notebook (none of: {names}); nothing was run")
        else:
            grade = grade_notebook(
                sub.path,
                ref_by_name[sub.notebook],
                learner_name=sub.learner,
                cell_timeout=cell_timeout,
                notebook_timeout=notebook_timeout,
            )
        grade.digest = key
        if progress:
            progress(grade)
        return grade

    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            grades = list(pool.map(one, submissions))
    finally:
        if saved is None:
            os.environ.pop("COURSEKIT_THREADS", None)
    return _newest_per_learner(grades)


def _course_digest(references: Sequence[Path]) -> str:
    """Changes when a reference notebook or a check changes (then everything is regraded)."""
    from coursekit import checks

    digest = hashlib.sha256()
    for path in [*references, *sorted(Path(checks.__file__).parent.glob("*.py"))]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _newest_per_learner(grades: list[NotebookGrade]) -> list[NotebookGrade]:
    """One grade per learner and notebook: the most recently changed file counts."""
    chosen: dict[tuple[str, str], NotebookGrade] = {}
    for grade in grades:
        key = (grade.learner, grade.notebook or grade.file)
        other = chosen.get(key)
        if other is None or Path(grade.file).stat().st_mtime > Path(other.file).stat().st_mtime:
            if other is not None:
                grade.notes.append(f"{Path(other.file).name} was also handed in; the newest counts")
            chosen[key] = grade
        else:
            other.notes.append(f"{Path(grade.file).name} was also handed in; the newest counts")
    return sorted(chosen.values(), key=lambda g: (g.notebook, g.learner))


# --------------------------------------------------------------------------- tables


def grade_rows(grades: Sequence[NotebookGrade]) -> list[dict[str, object]]:
    """``grades.csv``: one row per learner, notebook and exercise."""
    rows = []
    for g in grades:
        for e in g.exercises:
            rows.append(
                {
                    "learner": g.learner,
                    "notebook": g.notebook,
                    "exercise": e.exercise,
                    "title": e.title,
                    "passed": e.passed,
                    "status": e.status,
                    "message": e.message,
                    "seconds": round(e.seconds, 2),
                    "file": g.file,
                }
            )
    return rows


def submission_rows(grades: Sequence[NotebookGrade]) -> list[dict[str, object]]:
    return [
        {
            "learner": g.learner,
            "notebook": g.notebook,
            "passed": g.passed,
            "exercises": len(g.exercises),
            "errors": " | ".join(g.errors),
            "tampering": " | ".join(g.tampering),
            "notes": " | ".join(g.notes),
            "seconds": g.seconds,
            "file": g.file,
        }
        for g in grades
    ]


def room_summary(grades: Sequence[NotebookGrade]) -> dict[str, list[dict[str, object]]]:
    """Pass rate per exercise, the commonest failure messages, and who is stuck where.

    A learner is *stuck* on the first exercise of a notebook they tried and have not passed
    (a wrong answer or an error), while at least one exercise before or after it was
    attempted; never-attempted exercises are "not started", not stuck.
    """
    per_exercise: dict[tuple[str, str], list] = {}
    failures: Counter[tuple[str, str, str]] = Counter()
    stuck = []
    for g in grades:
        for e in g.exercises:
            per_exercise.setdefault((g.notebook, e.exercise), [e.title, 0, 0, 0])
            entry = per_exercise[(g.notebook, e.exercise)]
            entry[1] += 1
            entry[2] += e.passed
            entry[3] += e.status == "not attempted"
            if e.status == "not yet":
                failures[(g.notebook, e.exercise, e.message)] += 1
        first = next((e for e in g.exercises if e.status == "not yet"), None)
        if first is not None:
            stuck.append(
                {
                    "learner": g.learner,
                    "notebook": g.notebook,
                    "exercise": first.exercise,
                    "message": first.message,
                }
            )
        elif g.errors and not g.exercises:
            stuck.append(
                {
                    "learner": g.learner,
                    "notebook": g.notebook,
                    "exercise": "",
                    "message": g.errors[0],
                }
            )
    exercises = [
        {
            "notebook": nb,
            "exercise": ex,
            "title": title,
            "learners": n,
            "passed": p,
            "not attempted": na,
            "pass rate": round(p / n, 2) if n else 0.0,
        }
        for (nb, ex), (title, n, p, na) in sorted(per_exercise.items())
    ]
    common = [
        {"notebook": nb, "exercise": ex, "message": msg, "learners": count}
        for (nb, ex, msg), count in failures.most_common(10)
    ]
    return {"exercises": exercises, "failures": common, "stuck": stuck}


def format_table(rows: Sequence[dict[str, object]], columns: Sequence[str] | None = None) -> str:
    """A plain-text table (no extra dependency); long cells are shortened."""
    if not rows:
        return "(none)"
    columns = list(columns or rows[0].keys())

    def cell(value: object) -> str:
        text = " ".join(str(value).split())
        return text if len(text) <= 70 else text[:69] + "…"

    widths = [max(len(c), *(len(cell(r.get(c, ""))) for r in rows)) for c in columns]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append(
            "  ".join(
                cell(r.get(c, "")).ljust(w) for c, w in zip(columns, widths, strict=True)
            ).rstrip()
        )
    return "\n".join(lines)


def format_summary(grades: Sequence[NotebookGrade], pairs: Sequence[dict[str, object]]) -> str:
    summary = room_summary(grades)
    learners = len({g.learner for g in grades})
    tampered = [g for g in grades if g.tampering]
    parts = [
        f"Graded {len(grades)} notebook(s) of {learners} learner(s).",
        "",
        "Pass rate per exercise",
        format_table(summary["exercises"]),
        "",
        "Most common failure messages",
        format_table(summary["failures"]),
        "",
        "Stuck (first exercise tried and not passed)",
        format_table(summary["stuck"]),
        "",
        f"Submissions with tampering noted: {len(tampered)}"
        + (
            " (" + ", ".join(f"{g.learner}/{g.notebook}" for g in tampered) + ")"
            if tampered
            else ""
        ),
        f"Pairs with near-identical solutions (to look at, not a verdict): {len(pairs)}",
    ]
    if pairs:
        parts.append(format_table(pairs))
    return "\n".join(parts)


def load_previous(out: Path) -> dict[str, NotebookGrade]:
    """Grades from an earlier run in ``out`` (for ``--watch``), keyed by file digest."""
    path = Path(out) / "grades.json"
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {g["digest"]: NotebookGrade.from_dict(g) for g in data if g.get("digest")}
    except (ValueError, TypeError, KeyError):
        return {}
