"""The course's copywriter from the artifact cache, and :func:`generate` with it.

:func:`load_copywriter` builds it once into the artifact cache (safetensors) and loads it
from there afterwards, under a key (``_cache_version``) made of the recipe, the training
data and every training setting; :func:`load_words_copywriter` is notebook 07's
comparison model that reads and writes words.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coursekit.copywriter.prompts import examples_from_products
from coursekit.copywriter.training import RECIPE, TrainConfig, train_copywriter
from coursekit.copywriter.writer import Copywriter, read_copywriter

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from coursekit.copywriter.writer import Candidate

# --------------------------------------------------------------------------- the cached model


def _fingerprint(products: pd.DataFrame) -> str:
    text = "\x00".join(p + c for p, c in examples_from_products(products))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def _cache_version(products: pd.DataFrame, config: TrainConfig | None = None) -> str:
    """The cache key: recipe, training data, every training setting and the tokenizer."""
    from coursekit.cache import recipe_key
    from coursekit.tokenization import shop_bpe_version

    return recipe_key(
        {"copywriter": RECIPE, "config": config or TrainConfig()},
        data=[_fingerprint(products[products["split"] == "train"])],
        upstream=[shop_bpe_version()],
    )


def is_cached(config: TrainConfig | None = None) -> bool:
    """Whether the course copywriter for the current corpus is already in the cache."""
    from coursekit import data
    from coursekit.cache import is_built

    return is_built("copywriter", _cache_version(data.load_products(), config))


def load_copywriter(
    path: str | os.PathLike | None = None,
    build: bool = True,
    rebuild: bool = False,
    config: TrainConfig | None = None,
) -> Copywriter:
    """The course's copywriter: from ``path``, or from the cache (trained there if missing).

    ``config`` picks another recipe (e.g. ``TrainConfig(delexicalise=False)``, the model
    that writes words), cached under its own key. The cache version includes a
    fingerprint of the training data and every setting, so a regenerated corpus or a
    changed default gets a freshly trained model. With ``build=False`` a missing model
    is a ``FileNotFoundError`` that says how to train it, instead of a minute of training.
    """
    if path is not None:
        return read_copywriter(path)
    from coursekit import data
    from coursekit.cache import get_or_build, is_built

    products = data.load_products()
    version = _cache_version(products, config)
    if not build and not is_built("copywriter", version):
        raise FileNotFoundError(
            "the copywriter is not trained yet; train it once with `coursekit copy --train` "
            "or `coursekit.copywriter.load_copywriter()` (about a minute on a CPU)"
        )

    def build_into(folder: Path) -> None:
        train_copywriter(products, config=config, out_dir=folder)

    return read_copywriter(get_or_build("copywriter", build_into, version, rebuild=rebuild))


#: epochs of :func:`load_words_copywriter`'s model (the slot model's default is 2)
WORDS_EPOCHS = 3


def load_words_copywriter(build: bool = True, rebuild: bool = False) -> Copywriter:
    """The comparison model of notebook 07: the default recipe, reading and writing words.

    ``load_copywriter(config=TrainConfig(delexicalise=False, epochs=3))``, cached under its
    own key. It gets one epoch more than the slot model: spelling the catalogue's values
    takes longer to learn than writing slots (validation coverage 0.12 after two epochs,
    0.58 after three: ``benchmarks/copywriting.py --recipes``), and the comparison should not be won by
    undertraining the loser.
    """
    config = TrainConfig(delexicalise=False, epochs=WORDS_EPOCHS)
    return load_copywriter(build=build, rebuild=rebuild, config=config)


_DEFAULT: dict[str, Copywriter] = {}


def generate(
    attributes: Mapping[str, Any],
    n: int = 3,
    strategy: str = "top_p",
    seed: int = 0,
    copywriter: Copywriter | None = None,
    **kwargs: Any,
) -> list[Candidate]:
    """Write ``n`` candidate copies for ``attributes``, reranked by grounding (best first).

    Uses the cached course copywriter unless one is given. See :meth:`Copywriter.generate`.
    """
    if copywriter is None:
        if "default" not in _DEFAULT:
            _DEFAULT["default"] = load_copywriter()
        copywriter = _DEFAULT["default"]
    return copywriter.generate(attributes, n=n, strategy=strategy, seed=seed, **kwargs)


__all__ = [
    "WORDS_EPOCHS",
    "generate",
    "is_cached",
    "load_copywriter",
    "load_words_copywriter",
]
