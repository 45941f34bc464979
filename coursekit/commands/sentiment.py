"""``coursekit sentiment train`` and ``coursekit sentiment predict``: the review classifier.

coursekit sentiment train                      # a few minutes on a laptop CPU, into the cache
coursekit sentiment predict "Love it!" "Broke after a day."
coursekit sentiment predict --file reviews.jsonl   # one {"text": ...} per line
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sentiment",
        help="train the review sentiment classifier or label reviews with it",
        description="Review sentiment (negative / neutral / positive) with fine-tuned MiniLM.",
    )
    inner = p.add_subparsers(dest="sentiment_command", metavar="ACTION")

    train = inner.add_parser(
        "train",
        help="fine-tune MiniLM on the shop's reviews (a few minutes on a CPU)",
        description=(
            "Fine-tune MiniLM for 3-class review sentiment and save it (safetensors) into the "
            "artifact cache, where notebook 06 and `coursekit sentiment predict` find it."
        ),
    )
    train.add_argument(
        "--force", action="store_true", help="retrain even if a trained model is cached"
    )
    train.add_argument(
        "--out", type=Path, help="save to this folder instead of the cache (load with --model)"
    )
    train.set_defaults(func=_train)

    predict = inner.add_parser(
        "predict",
        help="print label and confidence for each review text",
        description="Label reviews given as arguments or in a JSON-lines file.",
    )
    predict.add_argument("texts", nargs="*", help="review texts (quote each one)")
    predict.add_argument(
        "--file",
        type=Path,
        help='JSON-lines file with one {"text": ...} object (or JSON string) per line',
    )
    predict.add_argument("--model", type=Path, help="model folder (default: the cached model)")
    predict.add_argument("--json", action="store_true", help="print one JSON object per line")
    predict.set_defaults(func=_predict)
    p.set_defaults(func=lambda args: _help(p))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


def _train(args: argparse.Namespace) -> int:
    import time

    from coursekit import cache, env, sentiment

    env.set_threads(2)
    env.quiet_libraries()
    start = time.perf_counter()
    if args.out is not None:
        clf = sentiment.train_classifier(args.out, progress=True)
        path = args.out
    else:
        if cache.is_built(sentiment.MODEL_NAME, sentiment.cache_version()) and not args.force:
            path = sentiment.default_model_path()
            print(f"already trained: {path} (use --force to retrain)")
            return 0
        path = cache.get_or_build(
            sentiment.MODEL_NAME,
            sentiment.build_default_classifier,
            sentiment.cache_version(),
            rebuild=args.force,
        )
        clf = sentiment.load_classifier(path)
    info = clf.info
    print(
        f"trained on {info.get('n_train')} reviews in {info.get('train_seconds')} s "
        f"(total {time.perf_counter() - start:.0f} s); validation macro-F1 "
        f"{info.get('val_macro_f1', float('nan')):.3f}, temperature {clf.temperature:.2f}"
    )
    print(f"saved to {path}")
    return 0


def read_jsonl_texts(path: Path) -> list[str]:
    """Texts from a JSON-lines file: each line an object with a ``text`` field, or a string."""
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    texts = []
    with path.open(encoding="utf-8") as handle:
        for n, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{n}: not valid JSON ({err.msg})") from None
            if isinstance(item, dict):
                if "text" not in item:
                    raise ValueError(f'{path}:{n}: object has no "text" field')
                item = item["text"]
            if not isinstance(item, str):
                raise ValueError(f"{path}:{n}: text must be a string, got {type(item).__name__}")
            texts.append(item)
    if not texts:
        raise ValueError(f"{path} holds no reviews")
    return texts


def _predict(args: argparse.Namespace) -> int:
    from coursekit import env, sentiment

    texts = list(args.texts)
    if args.file is not None:
        texts += read_jsonl_texts(args.file)
    if not texts:
        raise ValueError(
            'give review texts, e.g. `coursekit sentiment predict "Love it!"`, or --file'
        )
    texts = sentiment.check_texts(texts)
    env.set_threads(2)
    env.quiet_libraries()
    clf = sentiment.load_classifier(args.model)
    probs = clf.predict_proba(texts)
    for text, p in zip(texts, probs, strict=True):
        label = clf.labels[int(p.argmax())]
        if args.json:
            record = {"label": label, "confidence": round(float(p.max()), 4), "text": text}
            record["probs"] = {
                lab: round(float(x), 4) for lab, x in zip(clf.labels, p, strict=True)
            }
            print(json.dumps(record, ensure_ascii=False))
        else:
            short = text if len(text) <= 70 else text[:69] + "…"
            print(f"{label:<8}  {p.max():.2f}  {short}")
    sys.stdout.flush()
    return 0
