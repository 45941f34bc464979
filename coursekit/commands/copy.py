"""``coursekit copy``: write product copy from attributes with the course's copywriter.

    coursekit copy --train                                  # once, about half a minute on a CPU
    coursekit copy --attr category=sports --attr "name=Peakline Trail Tent" --attr price=189.5 \
        --attr "features=waterproof, sets up in 5 minutes" --voice concise
    coursekit copy --attr category=pets --n 5 --strategy top_k --json

Prints the candidates best first, each with its grounding: attribute coverage,
hallucinated attributes, banned claims and price consistency (notebook 07).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

STRATEGY_NAMES = ("top_p", "top_k", "temperature", "beam", "greedy")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "copy",
        help="write product copy from attributes (the notebook-07 copywriter)",
        description=(
            "Generate marketing copy for a product from its attributes with the course's small "
            "GPT copywriter; candidates are reranked by grounding (coverage, hallucinations, "
            "banned claims, price)."
        ),
    )
    p.add_argument(
        "--attr",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="one attribute, e.g. --attr colour=red (repeat it; features as a comma list)",
    )
    p.add_argument("--n", type=int, default=3, help="number of candidates (default 3)")
    p.add_argument(
        "--strategy",
        default="top_p",
        choices=STRATEGY_NAMES,
        help="decoding strategy (default top_p; greedy and beam give fewer distinct texts)",
    )
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    p.add_argument(
        "--voice",
        default="warm",
        choices=("warm", "concise", "technical"),
        help="the copy's voice (default warm)",
    )
    p.add_argument(
        "--no-ground",
        action="store_true",
        help="allow what the product lacks while decoding (default: forbidden)",
    )
    p.add_argument("--model", type=Path, help="copywriter folder (default: the cached one)")
    p.add_argument("--json", action="store_true", help="print one JSON object per candidate")
    p.add_argument(
        "--train",
        action="store_true",
        help="train the copywriter into the cache (about half a minute), then exit unless --attr is given",
    )
    p.set_defaults(func=_copy)


def parse_attributes(items: list[str]) -> dict[str, Any]:
    """``["colour=red", "price=19.99", "features=a, b"]`` → ``{"colour": "red", "price": 19.99, ...}``."""
    from coursekit.cli import UserError

    attrs: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            raise UserError(f"--attr {item!r} is not NAME=VALUE; try: --attr colour=red")
        if name in attrs:
            raise UserError(f"attribute {name!r} is given twice")
        if name == "price":
            try:
                attrs[name] = float(value.lstrip("$").replace(",", ""))
            except ValueError:
                raise UserError(
                    f"price must be a number, e.g. --attr price=59.99; got {value!r}"
                ) from None
        elif name == "features":  # a comma list; a comma between digits (3,000) stays
            attrs[name] = [f.strip() for f in re.split(r"(?<!\d),|,(?!\d)", value) if f.strip()]
        else:
            attrs[name] = value
    return attrs


def _copy(args: argparse.Namespace) -> int:
    from coursekit.cli import UserError

    attrs = parse_attributes(args.attr)
    if args.n < 1:
        raise UserError(f"--n must be at least 1, got {args.n}")
    import coursekit
    from coursekit import copywriter

    coursekit.setup(seed=0)
    if args.train:
        if args.model is not None:
            raise UserError("--train builds the cached copywriter; leave out --model")
        writer = copywriter.load_copywriter(build=True)
        print(
            f"copywriter ready: {writer.meta['n_params']:,} parameters, "
            f"trained on {writer.meta['n_train']} products"
        )
        if not attrs:
            return 0
    if not attrs:
        raise UserError(
            "no attributes given; try: coursekit copy --attr category=sports --attr colour=red"
        )
    writer = copywriter.load_copywriter(args.model, build=False)
    try:
        writer.check_attributes(attrs)
    except (TypeError, ValueError) as err:
        raise UserError(str(err)) from None
    cands = writer.generate(
        attrs,
        n=args.n,
        strategy=args.strategy,
        seed=args.seed,
        ground=not args.no_ground,
        voice=args.voice,
    )
    for rank, cand in enumerate(cands, start=1):
        row = cand.as_row()
        if args.json:
            g = cand.grounding
            row.update(
                rank=rank,
                missing=[f"{n}={v}" for n, v in g.missing],
                hallucinated=[f"{k}={v}" for k, v in g.hallucinated],
                banned=g.banned,
            )
            print(json.dumps(row, ensure_ascii=False))
            continue
        g = cand.grounding
        print(
            f"#{rank}  score {row['score']:.2f} | coverage {g.coverage:.0%}"
            f" | hallucinated {len(g.hallucinated)} | banned {len(g.banned)}"
            f" | price {'ok' if g.price_ok else 'WRONG'}"
        )
        print(cand.text)
        if g.missing:
            print("  missing: " + ", ".join(f"{n}={v}" for n, v in g.missing))
        if g.hallucinated:
            print("  not in the attributes: " + ", ".join(f"{k}={v}" for k, v in g.hallucinated))
        if g.banned:
            print("  banned claims: " + ", ".join(g.banned))
        print()
    return 0
