"""``coursekit run``, ``coursekit learner`` and ``coursekit check``: the notebook commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser(
        "run",
        help="execute notebooks headless (fresh kernel each) and print a summary",
        description=(
            "Execute every solution notebook top to bottom in a fresh kernel and print a table "
            "(notebook, status, seconds, exercises passed). Exits 1 if any notebook fails."
        ),
    )
    run.add_argument(
        "--only", nargs="+", metavar="NN", help="run only these notebooks (e.g. --only 00 03)"
    )
    run.add_argument(
        "--inplace",
        action="store_true",
        help="store the new outputs in the notebooks (maintainers)",
    )
    run.add_argument(
        "--timeout", type=int, default=600, help="seconds allowed per cell (default 600)"
    )
    run.set_defaults(func=_run)

    learner = sub.add_parser(
        "learner",
        help="generate the learner versions (solutions removed) into notebooks/learner/",
        description="Regenerate notebooks/learner/ from the solution notebooks.",
    )
    learner.add_argument("--only", nargs="+", metavar="NN", help="only these notebooks")
    learner.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if any learner version is out of date",
    )
    learner.set_defaults(func=_learner)

    check = sub.add_parser(
        "check",
        help="grade a learner notebook: exercise -> passed / not yet, with hints",
        description=(
            "Run your learner notebook in a fresh kernel and compare each check cell with the "
            "course's expected verdict (through nbval). Exits 0 when every exercise passes."
        ),
    )
    check.add_argument(
        "notebook",
        help="path to your notebook, e.g. notebooks/learner/01_text_cleaning.ipynb, or just 01",
    )
    check.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    check.set_defaults(func=_check)


def _run(args: argparse.Namespace) -> int:
    from coursekit import learner, paths
    from coursekit.runner import run_notebook

    notebooks = learner.solution_notebooks(args.only)
    results = []
    total = len(notebooks)
    for i, path in enumerate(notebooks, start=1):
        print(f"[{i}/{total}] {path.name} ...", end=" ", flush=True)
        result = run_notebook(
            path,
            inplace=args.inplace,
            timeout=args.timeout,
            out_dir=paths.repo_root() / "build" / "executed",
        )
        print(f"{'ok' if result.ok else 'FAILED'} ({result.seconds:.0f} s)", flush=True)
        results.append(result)
    print()
    print(format_run_table(results))
    return 0 if all(r.ok for r in results) else 1


def format_run_table(results: list) -> str:
    width = max([len(r.notebook) for r in results] + [8])
    lines = [
        f"| {'notebook':<{width}} | status | seconds | exercises passed |",
        f"|{'-' * (width + 2)}|--------|---------|------------------|",
    ]
    for r in results:
        ex = f"{r.passed}/{r.exercises}"
        lines.append(
            f"| {r.notebook:<{width}} | {'ok' if r.ok else 'FAILED':<6} | {r.seconds:>7.1f} | {ex:>16} |"
        )
    total = sum(r.seconds for r in results)
    lines.append(
        f"| {'total':<{width}} | {'ok' if all(r.ok for r in results) else 'FAILED':<6} | {total:>7.1f} | {'':>16} |"
    )
    for r in results:
        if not r.ok:
            lines.append(f"{r.notebook}: {r.error}")
    return "\n".join(lines)


def _learner(args: argparse.Namespace) -> int:
    from coursekit import learner, paths

    changed = learner.generate(args.only, check=args.check)
    root = paths.repo_root()
    names = [str(p.relative_to(root)) if p.is_relative_to(root) else str(p) for p in changed]
    if args.check:
        if changed:
            print("out of date (run `coursekit learner`): " + ", ".join(names), file=sys.stderr)
            return 1
        print("learner versions are up to date")
        return 0
    print(
        f"wrote {len(changed)} learner notebook(s)"
        + (": " + ", ".join(names) if names else " (all up to date)")
    )
    return 0


def _check(args: argparse.Namespace) -> int:
    from coursekit import paths
    from coursekit.runner import check_notebook, format_check_report

    target = Path(args.notebook)
    if not target.exists() and len(args.notebook) == 2 and args.notebook.isdigit():
        matches = sorted(paths.learner_dir().glob(f"{args.notebook}_*.ipynb"))
        if matches:
            target = matches[0]
    report = check_notebook(target, timeout=args.timeout)
    print(format_check_report(report))
    return 0 if report.all_passed else 1
