"""``coursekit data``: build the shop corpus deterministically, or verify the shipped files."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "data",
        help="build or verify the shop corpus (data/shop) and its checksums",
        description="Build the generated shop corpus, or check the shipped files against data/MANIFEST.sha256.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    b = actions.add_parser("build", help="generate the corpus (same seed -> byte-identical files)")
    b.add_argument(
        "--seed", type=int, default=None, help="random seed (default: the shipped corpus's seed, 0)"
    )
    b.add_argument(
        "--out", default=None, help="data folder to write (default: data/ or $COURSEKIT_DATA)"
    )
    b.add_argument("--n-reviews", type=int, default=None, help=argparse.SUPPRESS)
    b.set_defaults(func=_build)
    v = actions.add_parser("verify", help="check every file against the checksum manifest")
    v.add_argument(
        "--data-dir", default=None, help="data folder to check (default: data/ or $COURSEKIT_DATA)"
    )
    v.set_defaults(func=_verify)
    p.set_defaults(func=lambda args: (p.print_help(), 0)[1])


def _build(args: argparse.Namespace) -> int:
    import time

    from coursekit import corpus, paths

    out = args.out or str(paths.data_dir())
    seed = corpus.DEFAULT_SEED if args.seed is None else args.seed
    n = args.n_reviews or corpus.N_REVIEWS
    if n < 100:
        raise ValueError(f"--n-reviews must be at least 100, got {n}")
    started = time.perf_counter()
    written = corpus.build(out, seed=seed, n_reviews=n)
    print(
        f"wrote {len(written)} files to {out} (seed {seed}) in {time.perf_counter() - started:.1f} s"
    )
    return 0


def _verify(args: argparse.Namespace) -> int:
    import sys

    from coursekit import corpus
    from coursekit.data import verify

    problems = verify(args.data_dir)
    if problems:
        for line in problems:
            print(line, file=sys.stderr)
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    print(f"all {len(corpus.FILES)} files OK")
    return 0
