"""``coursekit grade SUBMISSIONS/``: grade a room's notebooks and write the instructor's reports."""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    grade = sub.add_parser(
        "grade",
        help="grade a folder of learner notebooks (instructors): grades.csv, feedback, summary",
        description=(
            "Grade every notebook under SUBMISSIONS (SUBMISSIONS/<learner>/*.ipynb, or flat "
            "files named like alice_01_text_cleaning.ipynb), each in a fresh kernel, with the "
            "course's own checks. Writes grades.csv, submissions.csv, similarity.csv, "
            "feedback/<learner>.html and summary.html into --out, and prints the room summary."
        ),
    )
    grade.add_argument("submissions", help="folder of submitted notebooks")
    grade.add_argument("--out", default="grades", help="folder for the reports (default: grades)")
    grade.add_argument(
        "--jobs", type=int, default=None, help="notebooks graded at once (default: one per core)"
    )
    grade.add_argument(
        "--timeout", type=int, default=120, help="seconds allowed per cell (default 120)"
    )
    grade.add_argument(
        "--notebook-timeout",
        type=int,
        default=600,
        help="seconds allowed per notebook (default 600)",
    )
    grade.add_argument(
        "--export", metavar="CSV", help="also write a gradebook CSV (one row per learner)"
    )
    grade.add_argument(
        "--watch",
        type=float,
        metavar="MINUTES",
        help="regrade every MINUTES (only changed files are re-run); Ctrl-C stops",
    )
    grade.add_argument("--rounds", type=int, default=None, help=argparse.SUPPRESS)  # tests
    grade.set_defaults(func=_grade)


def _grade(args: argparse.Namespace) -> int:
    from coursekit.grading import reports, room, similarity

    folder, out = Path(args.submissions), Path(args.out)
    if out.resolve().is_relative_to(folder.resolve()) and not out.name.startswith(("_", ".")):
        raise ValueError(
            f"--out {out} is inside the submissions folder; choose a folder outside it "
            "(or one whose name starts with '_', which grading skips)"
        )
    rounds = 0
    while True:
        previous = room.load_previous(out) if args.watch is not None else {}
        start = time.perf_counter()
        fresh = []

        def progress(grade, fresh=fresh) -> None:
            fresh.append(grade)
            print(
                f"  {grade.learner:<16} {grade.notebook or grade.file:<32} "
                f"{grade.passed}/{len(grade.exercises)} passed ({grade.seconds:.0f} s)",
                flush=True,
            )

        grades = room.grade_folder(
            folder,
            jobs=args.jobs,
            cell_timeout=args.timeout,
            notebook_timeout=args.notebook_timeout,
            previous=previous,
            progress=progress,
        )
        pairs = similarity.similar_pairs(grades)
        export = Path(args.export) if args.export else None
        files = reports.write_reports(grades, out, export, pairs)
        print()
        print(room.format_summary(grades, pairs))
        print()
        print(
            f"{len(grades)} notebook(s) in {time.perf_counter() - start:.0f} s; reports in "
            f"{out}/ ({files['grades'].name}, {files['summary'].name}, feedback/)"
        )
        rounds += 1
        if args.watch is None or (args.rounds is not None and rounds >= args.rounds):
            return 0
        try:
            print(f"next round in {args.watch:g} min (Ctrl-C stops)", flush=True)
            time.sleep(max(0.0, args.watch * 60))
        except KeyboardInterrupt:
            return 0
