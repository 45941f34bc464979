"""The shop corpus: loaders, verification and the offline NLTK resources.

The course's data is generated (see :mod:`coursekit.corpus`) and shipped in
``data/shop/`` with a SHA-256 manifest (``data/MANIFEST.sha256``):

==============================  ============================================================
loader                          what it returns
==============================  ============================================================
``load_products()``             catalogue with attributes and marketing copy (title, bullets, paragraph)
``load_reviews(split=None)``    10,500 reviews: rating, label, text, aspects, phenomena, split
``load_reviews_dataset()``      the same reviews as a ``datasets.DatasetDict`` (train/validation/test)
``load_faq()``                  FAQ questions and answers
``load_faq_paraphrases()``      rewordings of the FAQ questions (train/validation/test)
``load_faq_out_of_scope()``     questions the FAQ does not answer (train/validation/test)
``load_campaigns()``            daily impressions and clicks of ad copy variants, with the true CTR
``load_shoppers()``             2,000 shoppers: segment, joined, region, sizes, pets, kids, cooking, sport, price band
``load_events()``               their dated views and purchases (shopper_id, product_id, kind, date)
``load_launches()``             each product's launch date (72 of 480 launch during the two years)
==============================  ============================================================

Loaders parse each file once per process and hand out copies, so notebooks can
call them freely. A missing or corrupted file raises :class:`DataError` with the fix.

The schema (labels, aspects, phenomena, splits, columns) is defined in
:mod:`coursekit.schema`; its names are importable from here as well.

Importing this module registers ``data/nltk_data`` with NLTK, so
``nltk.corpus.stopwords.words("english")`` works offline.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from coursekit import paths
from coursekit.corpus import FILES, MANIFEST
from coursekit.schema import (
    ASPECTS,
    CAMPAIGN_COLUMNS,
    CATEGORIES,
    FAQ_COLUMNS,
    LABELS,
    OUT_OF_SCOPE_COLUMNS,
    PARAPHRASE_COLUMNS,
    PHENOMENA,
    PRODUCT_COLUMNS,
    REVIEW_COLUMNS,
    SPLITS,
)

__all__ = [
    "ASPECTS",
    "CATEGORIES",
    "LABELS",
    "PHENOMENA",
    "SPLITS",
    "DataError",
    "load_campaigns",
    "load_faq",
    "load_faq_out_of_scope",
    "load_faq_paraphrases",
    "load_products",
    "load_reviews",
    "load_reviews_dataset",
    "load_shoppers",
    "load_events",
    "load_launches",
    "register_nltk_data",
    "verify",
]

RESTORE = "restore it with `git checkout data/` or rebuild with `coursekit data build`"


class DataError(FileNotFoundError):
    """A corpus file is missing or corrupted; the message names the fix."""


# --------------------------------------------------------------------------- NLTK


def register_nltk_data() -> str:
    """Put the course's ``data/nltk_data`` on ``nltk.data.path`` (once); returns that path."""
    import nltk

    path = str(paths.nltk_data_dir())
    if path not in nltk.data.path:
        nltk.data.path.append(path)
    return path


def _register_lazily() -> None:
    """At import: register without importing NLTK (slow) when it is not loaded yet.

    NLTK reads ``$NLTK_DATA`` when it is first imported, so adding the folder there is
    enough; if NLTK is already loaded, its search path is extended directly.
    """
    if "nltk" in sys.modules:
        register_nltk_data()
        return
    path = str(paths.nltk_data_dir())
    current = [p for p in os.environ.get("NLTK_DATA", "").split(os.pathsep) if p]
    if path not in current:
        os.environ["NLTK_DATA"] = os.pathsep.join([*current, path])


_register_lazily()


# --------------------------------------------------------------------------- files and checks


def _manifest(data_dir: Path) -> dict[str, str] | None:
    path = data_dir / MANIFEST
    if not path.exists():
        return None
    entries = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            entries[name.strip()] = digest
    return entries


def verify(data_dir: str | Path | None = None) -> list[str]:
    """Check every corpus file against the manifest; returns the problems (empty when all is well).

    Each problem is one human-readable line that names the file and the fix.
    """
    root = Path(data_dir) if data_dir is not None else paths.data_dir()
    manifest = _manifest(root)
    if manifest is None:
        return [
            f"{MANIFEST} is missing in {root}: run `coursekit data build` (or `git checkout data/`)"
        ]
    problems = []
    for name in sorted(set(manifest) | set(FILES)):
        path = root / name
        if not path.exists():
            problems.append(
                f"{name} is missing: run `coursekit data build` or restore it with `git checkout data/`"
            )
        elif name not in manifest:
            problems.append(
                f"{name} is not in {MANIFEST}: run `coursekit data build` to refresh the manifest"
            )
        elif hashlib.sha256(path.read_bytes()).hexdigest() != manifest[name]:
            problems.append(f"{name} does not match its checksum (changed or corrupted): {RESTORE}")
    return problems


def _path(name: str) -> Path:
    return paths.data_dir() / "shop" / name


def _stamp(path: Path) -> tuple[str, int, int]:
    if not path.exists():
        raise DataError(
            f"{path} is missing: run `coursekit data build` or restore it with `git checkout data/`"
        )
    st = path.stat()
    return str(path), st.st_mtime_ns, st.st_size


@functools.lru_cache(maxsize=16)
def _read_jsonl(path_str: str, mtime_ns: int, size: int) -> pd.DataFrame:
    path = Path(path_str)
    raw = path.read_bytes()
    rel = f"shop/{path.name}"
    manifest = _manifest(path.parent.parent)
    if (
        manifest is not None
        and rel in manifest
        and hashlib.sha256(raw).hexdigest() != manifest[rel]
    ):
        raise DataError(f"{path} does not match its checksum (changed or corrupted): {RESTORE}")
    try:
        rows = [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(f"{path} is corrupted ({type(err).__name__}): {RESTORE}") from None
    return pd.DataFrame(rows)


def _load(name: str, columns: list[str]) -> pd.DataFrame:
    df = _read_jsonl(*_stamp(_path(name)))
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(
            f"{_path(name)} lacks the columns {missing} (an old or foreign file): {RESTORE}"
        )
    return df[columns].copy()


def _check_split(split: str | None, allowed: tuple[str, ...] = SPLITS) -> None:
    if split is not None and split not in allowed:
        raise ValueError(f"split must be one of {allowed} or None (all rows), got {split!r}")


# --------------------------------------------------------------------------- loaders


def load_products() -> pd.DataFrame:
    """The catalogue, one row per product, sorted by ``product_id``.

    Columns: product_id, category, brand, name, material, colour, size, price (float),
    features (list[str]), attributes (dict the copy is grounded in), title, bullets
    (list[str]), paragraph, split (the split of the product's reviews). ``material`` and
    ``colour`` are missing (NaN) where they do not apply (groceries have no colour).
    """
    return _load("products.jsonl", PRODUCT_COLUMNS)


def load_reviews(split: str | None = None) -> pd.DataFrame:
    """The reviews, sorted by ``review_id`` (which follows the date); one split or all.

    Columns: review_id, product_id, category, brand, date ("YYYY-MM-DD"), rating (1-5),
    label ("negative" 1-2, "neutral" 3, "positive" 4-5), text, aspects (list of
    ``{"aspect", "polarity"}``), phenomena (list of tags, see :data:`PHENOMENA`), split.
    """
    _check_split(split)
    df = _load("reviews.jsonl", REVIEW_COLUMNS)
    if split is not None:
        df = df[df["split"] == split].reset_index(drop=True)
    return df


def load_reviews_dataset(source: str | None = None, **kwargs: Any) -> Any:
    """The reviews as a ``datasets.DatasetDict`` with train/validation/test, loaded offline.

    ``label`` is a ``ClassLabel`` (0 negative, 1 neutral, 2 positive; names in
    ``features["label"].names``). ``source="amazon_polarity"`` (or another hub data set)
    loads that public data set instead, after checking the machine is online.
    """
    import datasets

    if source is not None:
        from coursekit import env

        env.require_online(f"load_reviews_dataset(source={source!r})")
        return datasets.load_dataset(source, **kwargs)
    path = _path("reviews.jsonl")
    _read_jsonl(*_stamp(path))  # presence and checksum, with the one-line error
    files = _split_files()
    ds = datasets.load_dataset("json", data_files=files, cache_dir=str(paths.cache_dir("datasets")))
    return ds.cast_column("label", datasets.ClassLabel(names=list(LABELS)))


def _split_files() -> dict[str, str]:
    """One JSONL file per split in the cache (``datasets`` reads per-split files)."""
    df = load_reviews()
    stamp = hashlib.sha256(_path("reviews.jsonl").read_bytes()).hexdigest()[:12]
    folder = paths.cache_dir("reviews_splits", stamp)
    files = {}
    for split in SPLITS:
        target = folder / f"{split}.jsonl"
        if not target.exists():
            part = df[df["split"] == split]
            text = "".join(
                json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n"
                for r in part.to_dict("records")
            )
            tmp = target.with_suffix(".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(target)
        files[split] = str(target)
    return files


def load_faq() -> pd.DataFrame:
    """The shop's FAQ: faq_id, topic, question, answer."""
    return _load("faq.jsonl", FAQ_COLUMNS)


def load_faq_paraphrases(split: str | None = None) -> pd.DataFrame:
    """Customer rewordings of FAQ questions (few shared words): faq_id, text, split.

    ``None`` (all rows), ``"validation"`` and ``"test"`` are the hand-written held-out
    rewordings; ``"train"`` is the generated training split (``faq_paraphrases_train.jsonl``,
    templates and vocabulary disjoint from the held-out ones; it has a ``kind`` column too).
    """
    _check_split(split, ("train", "validation", "test"))
    if split == "train":
        return _load("faq_paraphrases_train.jsonl", [*PARAPHRASE_COLUMNS, "kind"])
    df = _load("faq_paraphrases.jsonl", PARAPHRASE_COLUMNS)
    if split is not None:
        df = df[df["split"] == split].reset_index(drop=True)
    return df


def load_faq_out_of_scope(split: str | None = None) -> pd.DataFrame:
    """Generated questions the FAQ does NOT answer (a shop's inbox): kind, split, template, text.

    Kinds: product details, other shops, the company, services not offered, chit-chat,
    remarks without a question, unrelated requests. Each split has its own templates
    (:mod:`coursekit.corpus_faq_out_of_scope`): fit a hand-off rule on ``"validation"``,
    report it on ``"test"`` (and on the hand-written questions).
    """
    _check_split(split, ("train", "validation", "test"))
    df = _load("faq_out_of_scope.jsonl", OUT_OF_SCOPE_COLUMNS)
    if split is not None:
        df = df[df["split"] == split].reset_index(drop=True)
    return df


def load_campaigns() -> pd.DataFrame:
    """Daily ad logs: campaign_id, campaign, variant, headline, day (1-30), date,
    impressions, clicks, true_ctr (the click-through rate the clicks were drawn from)."""
    return _load("campaigns.jsonl", CAMPAIGN_COLUMNS)


SHOPPER_COLUMNS = [
    "shopper_id",
    "segment",
    "joined",
    "region",
    "top_size",
    "shoe_size",
    "pets",
    "kids",
    "cooking",
    "sport",
    "price_band",
]


def load_shoppers() -> pd.DataFrame:
    """The shop's shoppers, one row each, sorted by ``shopper_id``.

    Columns: shopper_id, segment, joined ("YYYY-MM-DD"), region, top_size, shoe_size,
    pets (list: "dog", "cat"), kids (bool), cooking ("keen", "basic", "none"), sport (list),
    price_band ("budget", "mid", "premium"): the profile the generator drew their tastes from.
    """
    df = _load("shoppers.jsonl", ["shopper_id", "segment", "joined", "profile"])
    prof = pd.DataFrame(df.pop("profile").tolist())
    sizes = pd.DataFrame(prof.pop("sizes").tolist())
    df["top_size"], df["shoe_size"] = sizes["top"], sizes["shoe"]
    for col in ("region", "pets", "kids", "cooking", "sport", "price_band"):
        df[col] = prof[col]
    return df[SHOPPER_COLUMNS]


def load_events() -> pd.DataFrame:
    """The shoppers' dated views and purchases, sorted by shopper then date.

    Columns: shopper_id, product_id, kind ("view" or "purchase"), date ("YYYY-MM-DD"). A
    purchase's same-day views are of alternatives of the same type.
    """
    return _load("events.jsonl", ["shopper_id", "product_id", "kind", "date"])


def load_launches() -> pd.DataFrame:
    """Each product's launch date: product_id, launch_date (nothing is sold before it)."""
    return _load("product_launches.jsonl", ["product_id", "launch_date"])
