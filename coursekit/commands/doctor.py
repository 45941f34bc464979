"""``coursekit doctor``: check the set-up and say how to fix each problem."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "doctor",
        help="check packages, data, model and device; print a fix for each problem",
        description="Check that this machine is ready for the course. Exits 1 if anything needs fixing.",
    )
    p.add_argument("--fast", action="store_true", help="skip loading the MiniLM model")
    p.set_defaults(func=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    from coursekit.doctor import diagnose, format_findings

    findings = diagnose(load_model=not args.fast)
    print(format_findings(findings))
    return 0 if all(f.ok for f in findings) else 1
