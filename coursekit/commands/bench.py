"""``coursekit bench``: run the benchmarks in benchmarks/ (each prints a table)."""

from __future__ import annotations

import argparse
import subprocess
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="run benchmarks (speed and quality targets) and print their tables",
        description="Run benchmarks/<name>.py; without a name, list them.",
    )
    p.add_argument(
        "names", nargs="*", help="benchmark names (file names in benchmarks/ without .py), or 'all'"
    )
    p.set_defaults(func=_bench)


def _bench(args: argparse.Namespace) -> int:
    from coursekit.paths import repo_root

    folder = repo_root() / "benchmarks"
    available = sorted(p.stem for p in folder.glob("*.py") if not p.name.startswith("_"))
    if not args.names:
        print("benchmarks: " + ", ".join(available))
        print("run one with: coursekit bench NAME   (or: coursekit bench all)")
        return 0
    names = available if args.names == ["all"] else args.names
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ValueError(f"unknown benchmark {unknown[0]!r}; choose from: {', '.join(available)}")
    code = 0
    for name in names:
        print(f"## {name}", flush=True)
        code |= subprocess.call([sys.executable, str(folder / f"{name}.py")])
    return code
