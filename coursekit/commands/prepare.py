"""``coursekit prepare``: pre-build everything a workshop room needs, so it works offline."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "prepare",
        help="pre-build every artifact (tokenizer, models, FAQ index) for an offline room",
        description=(
            "Verify the shop data, then build (or load) every artifact the notebooks use into "
            "the artifact cache, and print a table: step, ok / built / failed, seconds. "
            "Set COURSEKIT_CACHE to build into a folder a whole room shares. Exits 1 if a step failed."
        ),
    )
    p.add_argument("--list", action="store_true", help="show what would be built, build nothing")
    p.add_argument("--only", nargs="+", metavar="NAME", help="only these artifacts (see --list)")
    p.set_defaults(func=_prepare)


def _prepare(args: argparse.Namespace) -> int:
    from coursekit import prepare

    artifacts = prepare.select(args.only)
    if args.list:
        print(prepare.format_list(artifacts))
        return 0
    results = prepare.prepare(
        [a.name for a in artifacts], progress=lambda name: print(f"... {name}", flush=True)
    )
    print()
    print(prepare.format_results(results))
    missing = [r.name for r in results if r.status == prepare.UNAVAILABLE]
    if missing:
        print(
            f"\nnot available in this version of coursekit: {', '.join(missing)} "
            "(the notebooks that need them build what they use on first run)"
        )
    print()
    print(prepare.cache_hint())
    return 1 if any(r.status in (prepare.FAILED, prepare.SKIPPED) for r in results) else 0
