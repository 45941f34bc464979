"""``coursekit site build``: the course as a static website (notebooks with stored outputs + docs)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    site = sub.add_parser(
        "site",
        help="build the course website (notebooks as executed, glossary, guides)",
        description=(
            "Build a browsable HTML site from the solution notebooks, with the outputs stored in "
            "them (nothing is re-executed), plus the pages in docs/. Needs the docs extra: "
            'pip install -e ".[docs]".'
        ),
    )
    actions = site.add_subparsers(dest="action", metavar="ACTION")
    build = actions.add_parser(
        "build",
        help="build the site (default: build/site/index.html)",
        description="Build the site with Sphinx, myst-nb and sphinx-book-theme, offline.",
    )
    build.add_argument("--out", metavar="DIR", help="output folder (default: build/site)")
    build.add_argument(
        "--strict", action="store_true", help="fail on any Sphinx warning (maintainers)"
    )
    build.add_argument("-j", "--jobs", type=int, default=1, help="parallel Sphinx workers")
    build.set_defaults(func=_build)
    site.set_defaults(func=lambda args: site.print_help() or 0)


def _build(args: argparse.Namespace) -> int:
    from coursekit.site import build_site, format_report

    report = build_site(args.out, strict=args.strict, jobs=args.jobs)
    print(format_report(report))
    return 0 if report.ok else 1
