"""The corpus files: every file as text (:func:`generate`), the manifest and :func:`build`."""

from __future__ import annotations

import hashlib
from pathlib import Path

from coursekit.corpus.faq import generate_campaigns, generate_faq, generate_faq_train
from coursekit.corpus.helpers import DEFAULT_SEED, N_REVIEWS, _jsonl
from coursekit.corpus.out_of_scope import generate_faq_out_of_scope
from coursekit.corpus.products import generate_products
from coursekit.corpus.reviews import generate_reviews
from coursekit.corpus.shoppers import generate_shoppers, launch_rows
from coursekit.corpus.stopwords import STOPWORDS, STOPWORDS_README
from coursekit.schema import PRODUCT_COLUMNS

FILES = (
    "shop/products.jsonl",
    "shop/reviews.jsonl",
    "shop/faq.jsonl",
    "shop/faq_paraphrases.jsonl",
    "shop/faq_paraphrases_train.jsonl",
    "shop/faq_out_of_scope.jsonl",
    "shop/campaigns.jsonl",
    "shop/shoppers.jsonl",
    "shop/events.jsonl",
    "shop/product_launches.jsonl",
    "nltk_data/corpora/stopwords/english",
    "nltk_data/corpora/stopwords/README",
)
MANIFEST = "MANIFEST.sha256"


def product_row(p: dict) -> dict:
    """The public columns of a product (latent popularity/quality stay inside the generator)."""
    return {k: p[k] for k in PRODUCT_COLUMNS}


def generate(seed: int = DEFAULT_SEED, n_reviews: int = N_REVIEWS) -> dict[str, str]:
    """Every file of the corpus as text, keyed by its path relative to the data folder."""
    products = generate_products(seed)
    reviews = generate_reviews(products, seed, n_reviews)
    faq, paraphrases = generate_faq(seed)
    shoppers, events, launches = generate_shoppers(products, seed)
    return {
        "shop/products.jsonl": _jsonl(
            [product_row(p) for p in sorted(products, key=lambda p: p["product_id"])]
        ),
        "shop/reviews.jsonl": _jsonl(reviews),
        "shop/faq.jsonl": _jsonl(faq),
        "shop/faq_paraphrases.jsonl": _jsonl(paraphrases),
        "shop/faq_paraphrases_train.jsonl": _jsonl(generate_faq_train(seed)),
        "shop/faq_out_of_scope.jsonl": _jsonl(generate_faq_out_of_scope(seed)),
        "shop/campaigns.jsonl": _jsonl(generate_campaigns(seed)),
        "shop/shoppers.jsonl": _jsonl(shoppers),
        "shop/events.jsonl": _jsonl(events),
        "shop/product_launches.jsonl": _jsonl(launch_rows(launches)),
        "nltk_data/corpora/stopwords/english": "".join(w + "\n" for w in STOPWORDS),
        "nltk_data/corpora/stopwords/README": STOPWORDS_README,
    }


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest_text(files: dict[str, bytes]) -> str:
    """``sha256sum``-compatible manifest: ``<hex>  <relative path>`` per line, sorted."""
    return "".join(
        f"{hashlib.sha256(b).hexdigest()}  {name}\n" for name, b in sorted(files.items())
    )


def build(out_dir: str | Path, seed: int = DEFAULT_SEED, n_reviews: int = N_REVIEWS) -> list[Path]:
    """Generate the corpus and write it under ``out_dir``; returns the written paths.

    Files are written to a temporary folder first and moved into place only when
    all are complete, then the manifest is refreshed, so an interrupted build never
    leaves a half-written corpus behind.
    """
    import os
    import shutil
    import tempfile

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    payload = {k: v.encode("utf-8") for k, v in generate(seed, n_reviews).items()}
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=out))
    try:
        for rel, data in payload.items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as fh:
                fh.write(data)
        (tmp / MANIFEST).write_bytes(manifest_text(payload).encode())
        written = []
        for rel in [*payload, MANIFEST]:
            final = out / rel
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp / rel, final)
            written.append(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return written
