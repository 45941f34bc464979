"""Time budget of the whole course: every solution notebook executed headless, one fresh kernel each.

    python benchmarks/course_time.py               # all notebooks, with the cache as it is
    python benchmarks/course_time.py --cold        # empty cache first (cached models rebuilt)
    python benchmarks/course_time.py --only 05 06
    python benchmarks/course_time.py --alone --only 10 11   # each from its own empty cache

Prints one row per notebook (seconds, the course map's budget, the hard 3-minute cap) and
the total against the 15-minute target (20 under the AVX2 kernels). Notebooks are executed
into a temporary folder, so the stored outputs are never touched. The first run on a fresh clone also builds the cached
artifacts (BPE, tiny GPT, copywriter, sentiment model, answer index); ``--cold`` measures that
case on purpose, by pointing ``COURSEKIT_CACHE`` at an empty folder. With ``--cold`` the later
notebooks reuse what the earlier ones built (the course run top to bottom); ``--alone`` gives
every notebook its own empty cache, the first run of a learner who opens that notebook first.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import pandas as pd

#: The course map's per-notebook budget, in minutes on a 2-core CPU (COURSE_MAP.md).
BUDGET_MIN = {
    "00": 0.3,
    "01": 1.0,
    "02": 1.0,
    "03": 1.0,
    "04": 2.0,
    "05": 2.5,
    "06": 2.0,
    "07": 1.5,
    "08": 2.0,
    "09": 0.3,
    "10": 2.0,
    "11": 1.5,
    "12": 1.0,
}
CAP_S = 180.0  # no notebook over 3 minutes
#: the whole course from a fresh clone: 15 minutes, 20 under an ordinary laptop's AVX2 kernels
TOTAL_CAP_S = 15 * 60.0
TOTAL_CAP_AVX2_S = 20 * 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="NN", help="only these notebooks")
    parser.add_argument("--cold", action="store_true", help="start from an empty cache")
    parser.add_argument(
        "--alone",
        action="store_true",
        help="each notebook from its own empty cache (implies --cold)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        if args.cold:
            os.environ["COURSEKIT_CACHE"] = str(Path(tmp) / "cache")
        os.environ.setdefault("TQDM_DISABLE", "1")
        from coursekit import learner, runner

        paths = learner.solution_notebooks(args.only)
        rows = []
        for path in paths:
            if args.alone:
                os.environ["COURSEKIT_CACHE"] = str(Path(tmp) / f"cache-{path.stem}")
            print(f"running {path.name} ...", flush=True)
            result = runner.run_notebook(path, out_dir=Path(tmp) / "out")
            nn = path.name[:2]
            rows.append(
                {
                    "notebook": path.stem,
                    "status": "ok" if result.ok else "FAILED",
                    "seconds": round(result.seconds, 1),
                    "minutes": round(result.seconds / 60, 2),
                    "budget (min)": BUDGET_MIN.get(nn, float("nan")),
                    "within budget": result.seconds <= 60 * BUDGET_MIN.get(nn, 3.0),
                    "under 3 min": result.seconds <= CAP_S,
                }
            )
    table = pd.DataFrame(rows)
    total = float(table["seconds"].sum())
    print()
    print(table.to_markdown(index=False))
    print()
    avx2 = os.environ.get("ATEN_CPU_CAPABILITY", "").lower() == "avx2"
    cap = TOTAL_CAP_AVX2_S if avx2 else TOTAL_CAP_S
    print(f"whole course: {total:.0f} s = {total / 60:.1f} min (target <= {cap / 60:.0f} min)")
    ok = bool(table["status"].eq("ok").all() and table["under 3 min"].all())
    ok = ok and (args.only is not None or args.alone or total <= cap)
    print("targets met" if ok else "targets NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
