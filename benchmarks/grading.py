"""Benchmark: what grading a room costs (``coursekit grade``), so an instructor can plan.

    python benchmarks/grading.py                      # 30 submissions of notebook 00
    python benchmarks/grading.py --room 60 --notebook 03 --jobs 2

Builds a room of learner submissions from the course's own notebook (a third solved, a third
half-done, a third blank, each solved one written with other variable names), grades it with
``coursekit.grading.room.grade_folder`` and prints one table: submissions, parallel jobs, wall
seconds for the room, seconds per notebook (mean of each kernel's own run) and the room's
throughput. Grading runs each learner's *whole* notebook, so the cost per submission is about
the notebook's run time in the course map; a room of N learners on a machine with C cores takes
about N x that / C.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def build_room(folder: Path, notebook: Path, size: int) -> None:
    """``size`` learner folders: solved, half-done and blank copies of ``notebook``."""
    import nbformat

    from coursekit import learner

    solution = nbformat.read(notebook, as_version=4)
    blank = learner.make_learner_notebook(solution, notebook.name)
    exercise_ids = [c.get("id") for c in solution.cells if learner.has_solution(c.source)]
    for i in range(size):
        nb = nbformat.from_dict(blank)
        solved = exercise_ids if i % 3 == 0 else exercise_ids[: len(exercise_ids) // 2]
        if i % 3 == 2:
            solved = []
        by_id = {c.get("id"): c for c in solution.cells}
        for cell in nb.cells:
            if cell.get("id") in solved:
                cell.source = by_id[cell.get("id")].source + f"\n_learner_{i} = {i}"
        target = folder / f"learner{i:02d}"
        target.mkdir()
        nbformat.write(nb, target / notebook.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--room", type=int, default=30, help="number of submissions")
    parser.add_argument("--notebook", default="00", help="course notebook number")
    parser.add_argument("--jobs", type=int, default=None, help="parallel kernels (default: cores)")
    args = parser.parse_args(argv)

    from tabulate import tabulate

    from coursekit import learner
    from coursekit.grading import room

    (notebook,) = learner.solution_notebooks([args.notebook])
    jobs = args.jobs or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="coursekit-room-") as tmp:
        folder = Path(tmp) / "submissions"
        folder.mkdir()
        build_room(folder, notebook, args.room)
        start = time.perf_counter()
        grades = room.grade_folder(folder, jobs=jobs)
        wall = time.perf_counter() - start
    per = sum(g.seconds for g in grades) / max(1, len(grades))
    passed = sum(g.passed for g in grades)
    total = sum(len(g.exercises) for g in grades)
    rows = [
        [
            notebook.name,
            len(grades),
            jobs,
            f"{wall:.0f}",
            f"{per:.1f}",
            f"{len(grades) / wall * 60:.1f}",
            f"{passed}/{total}",
        ]
    ]
    headers = ["notebook", "submissions", "jobs", "room (s)", "per notebook (s)", "per minute"]
    print(tabulate(rows, headers=[*headers, "exercises passed"]))
    errors = [g for g in grades if g.errors and g.notebook]
    if errors:
        print(f"{len(errors)} submission(s) with cell errors, e.g. {errors[0].errors[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
