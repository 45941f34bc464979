"""How much each cached model's headline numbers depend on the processor and thread count.

    python benchmarks/artifact_spread.py                    # all settings, fresh caches in a temp dir
    python benchmarks/artifact_spread.py --cache-root DIR   # reuse DIR/<setting>/ caches (builds what is missing)
    python benchmarks/artifact_spread.py --settings default avx2

Every artifact the notebooks load (the small GPT, the sentiment MiniLM, the copywriter, the
FAQ index) is rebuilt on each learner's machine, so its bits differ from ours. This builds
each one under three settings, each in its own process with its own empty cache:

* ``default``: this machine's kernels (AVX-512 / native bf16 here), 2 threads;
* ``avx2``: ``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2``, an ordinary laptop's
  kernels (no native bf16, so the precision chosen is fp32), 2 threads;
* ``threads1``: this machine's kernels, ``COURSEKIT_THREADS=1``;

and prints one row per headline number with its value under each setting and the spread
(max - min). The notebooks' claims (``coursekit.report.within``) must hold for all of them:
their stated ranges should be several times wider than this spread.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SETTINGS: dict[str, dict[str, str]] = {
    "default": {},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "threads1": {"COURSEKIT_THREADS": "1"},
}


def measure() -> dict[str, float | str]:
    """Build (or load) every artifact in this process's cache and compute its headline numbers."""
    import numpy as np
    import pandas as pd
    import torch

    import coursekit
    from coursekit import copywriter, data, env, lm, metrics, paths, retrieval, sentiment
    from coursekit.tokenization import load_shop_bpe

    coursekit.setup()
    out: dict[str, float | str] = {
        "kernels": torch.backends.cpu.get_cpu_capability(),
        "precision (auto)": env.resolve_precision("auto", "cpu"),
        "threads": float(torch.get_num_threads()),
    }

    start = time.perf_counter()
    gpt = lm.load_shop_gpt()
    out["small GPT: build/load s"] = round(time.perf_counter() - start, 1)
    tok = load_shop_bpe()
    out["small GPT: validation perplexity"] = lm.perplexity(
        gpt, lm.product_copy_texts("validation"), tok, max_length=128
    )

    start = time.perf_counter()
    clf = sentiment.load_classifier(build=True)
    out["sentiment: build/load s"] = round(time.perf_counter() - start, 1)
    labels = list(sentiment.LABELS)
    test = data.load_reviews("test")
    pred = clf.predict(test["text"].tolist())
    out["sentiment: test macro-F1"] = metrics.macro_f1(test["label"], pred, labels)
    out["sentiment: test errors"] = float(np.sum(np.asarray(pred) != test["label"].to_numpy()))
    hand = pd.read_json(paths.repo_root() / "tests/fixtures/handwritten_reviews.jsonl", lines=True)
    hand_pred = clf.predict(hand["text"].tolist())
    out["sentiment: hand-written macro-F1"] = metrics.macro_f1(hand["label"], hand_pred, labels)

    start = time.perf_counter()
    writer = copywriter.load_copywriter()
    out["copywriter: build/load s"] = round(time.perf_counter() - start, 1)
    products = data.load_products()
    held_out = products[products["split"] == "test"].sort_values("product_id").head(48)
    sets = {"test (48)": list(held_out["attributes"])}
    fixture = paths.repo_root() / "tests/fixtures/handwritten_products.jsonl"
    sets["hand-written"] = list(pd.read_json(fixture, lines=True)["attributes"])
    for name, attrs in sets.items():
        scored = copywriter.score_copy(writer, attrs)
        out[f"copywriter: {name} coverage"] = float(scored["coverage"].mean())
        out[f"copywriter: {name} texts with a hallucination"] = float(scored["hallucinated"].mean())

    start = time.perf_counter()
    index = retrieval.load_faq_index()
    out["FAQ index: build/load s"] = round(time.perf_counter() - start, 1)
    para = data.load_faq_paraphrases("test")
    hits = index.search(para["text"].tolist(), k=1)
    top1 = [h[0].id == str(g) if h else False for h, g in zip(hits, para["faq_id"], strict=True)]
    out["FAQ index: test top-1"] = float(np.mean(top1))
    out["FAQ index: hand-off min_score"] = float(index.meta.get("min_score", float("nan")))
    return out


def run_setting(name: str, cache_root: Path) -> dict[str, float | str]:
    cache = cache_root / name
    cache.mkdir(parents=True, exist_ok=True)
    environ = {**os.environ, **SETTINGS[name], "COURSEKIT_CACHE": str(cache)}
    for key in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "COURSEKIT_THREADS"):
        if key not in SETTINGS[name]:
            environ.pop(key, None)
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        result_file = Path(fh.name)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, __file__, "--measure-into", str(result_file)], env=environ, check=True
    )
    result = json.loads(result_file.read_text())
    result["wall s (whole setting)"] = round(time.perf_counter() - start, 1)
    result_file.unlink()
    return result


def table(results: dict[str, dict[str, float | str]]) -> str:
    from tabulate import tabulate

    names = list(results)
    keys = list(dict.fromkeys(k for r in results.values() for k in r))
    rows = []
    for key in keys:
        values = [results[n].get(key, "") for n in names]
        numbers = [v for v in values if isinstance(v, float)]
        timing = key.endswith(" s") or key.endswith("s (whole setting)")
        spread = "" if timing or len(numbers) < 2 else f"{max(numbers) - min(numbers):.4f}"
        shown = [f"{v:.4f}" if isinstance(v, float) and not timing else v for v in values]
        rows.append([key, *shown, spread])
    return tabulate(rows, headers=["headline number", *names, "spread"], tablefmt="github")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--cache-root", type=Path, help="keep the caches here (default: temp)")
    parser.add_argument("--measure-into", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure_into:
        args.measure_into.write_text(json.dumps(measure()))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        root = args.cache_root or Path(tmp)
        results = {}
        for name in args.settings:
            print(f"building and measuring under {name} ...", flush=True)
            results[name] = run_setting(name, root)
        print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
