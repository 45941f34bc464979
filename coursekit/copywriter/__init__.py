"""The shop's copywriter: a small GPT that writes product copy from attributes, and its grounding checks.

**Prompt format.** The voice and the attributes are serialised in a fixed order between
two special tokens, and the copy follows::

    <|attrs|>voice: warm | category: shoes | brand: Trailfox | price: $59.99<|copy|>Meet …<|endoftext|>

The model is a GPT-2-architecture network (``GPT2LMHeadModel``) trained *from
scratch* on the training products' attribute → copy pairs (the shop's copy templates of
:mod:`coursekit.product_copy`, three voices, attributes randomly left out), with the
loss on the copy tokens only (the attributes are given, not predicted).

**Slots.** A small model trained on 336 products learns their brands, names and prices:
given a product it has never seen, it writes the ones it knows. So by default
(``TrainConfig.delexicalise``) it never sees a value: the prompt lists slot tokens
(``brand: <brand> | price: <price>``), the model writes ``"… for <price>."``, and
:func:`coursekit.product_copy.fill_slots` puts the values back after decoding; a value
cannot be misspelt or replaced by a catalogue habit. ``delexicalise=False`` trains the
same model on the words themselves, the comparison notebook 07 measures.

It reuses the shop's byte-level BPE (:func:`coursekit.tokenization.load_shop_bpe`) plus
the special tokens, and trains deterministically in under a minute on a laptop CPU.
:func:`load_copywriter` builds it once into the artifact cache (safetensors) and
loads it from there afterwards. ``train_copywriter(base_model="gpt2")`` fine-tunes
the real GPT-2 instead when online (never the default).

**Grounding.** Generated copy can be fluent and wrong. For a text and the
attributes it was written from:

* *coverage*: the share of given attribute values the text mentions;
* *hallucinations*: brands, colours, materials, sizes or feature claims from the
  catalogue that the text mentions although the product does not have them;
* *banned claims*: "guaranteed", medical promises and the like;
* *price consistency*: every price in the text equals the product's price.

:func:`generate` samples several candidates and reranks them by these scores.

The code lives in submodules, one per topic; every name is re-exported here, so
``from coursekit import copywriter; copywriter.load_copywriter()`` is the way to use them:

* :mod:`~coursekit.copywriter.prompts`: the prompt format and the training pairs;
* :mod:`~coursekit.copywriter.grounding_checks`: coverage, hallucinations, banned
  claims, prices (:func:`grounding`) and the ban lists for decoding;
* :mod:`~coursekit.copywriter.writer`: :class:`Copywriter` and :class:`Candidate`,
  generation and reranking, saving and reading;
* :mod:`~coursekit.copywriter.training`: :class:`TrainConfig` and :func:`train_copywriter`;
* :mod:`~coursekit.copywriter.scoring`: :func:`score_copy`, grading written copy;
* :mod:`~coursekit.copywriter.loading`: the cached course copywriter
  (:func:`load_copywriter`, :func:`load_words_copywriter`) and :func:`generate`.
"""

# Every name of the former single module is re-exported, the ones __all__ leaves out too.
# ruff: noqa: F401

from __future__ import annotations

from coursekit.copywriter.grounding_checks import (
    _ALNUM,
    _FORM_IDS,
    _PRICE,
    BANNED_CLAIMS,
    HALLUCINATION_KINDS,
    Grounding,
    _check_text,
    _encode_forms,
    _norm,
    _pieces,
    _value_pattern,
    _values,
    attribute_coverage,
    attribute_items,
    attribute_lexicon,
    banned_claims,
    grounded_bad_words,
    grounding,
    hallucinated_attributes,
    mentions,
    missing_attributes,
    price_consistent,
    prices_in,
    repeated_features,
)
from coursekit.copywriter.loading import (
    _DEFAULT,
    WORDS_EPOCHS,
    _cache_version,
    _fingerprint,
    generate,
    is_cached,
    load_copywriter,
    load_words_copywriter,
)
from coursekit.copywriter.prompts import (
    ATTRIBUTE_ORDER,
    ATTRS_TOKEN,
    COPY_TOKEN,
    OPTIONAL_ATTRIBUTES,
    _attributes_of,
    _batches,
    _loader,
    copy_text,
    example_pair,
    examples_from_products,
    format_prompt,
    format_value,
    ordered_names,
    serialise_attributes,
    training_examples,
)
from coursekit.copywriter.scoring import (
    grade_copy,
    score_copy,
    shop_copy_style,
)
from coursekit.copywriter.training import (
    RECIPE,
    TrainConfig,
    _model_and_tokenizer,
    _train_loop,
    add_prompt_tokens,
    copy_loss,
    synthetic_products,
    train_copywriter,
)
from coursekit.copywriter.writer import (
    _META,
    STRATEGIES,
    Candidate,
    Copywriter,
    _mean_logprobs,
    read_copywriter,
    rerank_candidates,
    save_copywriter,
)

__all__ = [
    "ATTRS_TOKEN",
    "BANNED_CLAIMS",
    "COPY_TOKEN",
    "STRATEGIES",
    "Candidate",
    "Copywriter",
    "Grounding",
    "TrainConfig",
    "attribute_coverage",
    "attribute_items",
    "attribute_lexicon",
    "banned_claims",
    "copy_text",
    "example_pair",
    "examples_from_products",
    "format_prompt",
    "generate",
    "grade_copy",
    "grounded_bad_words",
    "grounding",
    "hallucinated_attributes",
    "load_copywriter",
    "load_words_copywriter",
    "mentions",
    "missing_attributes",
    "price_consistent",
    "prices_in",
    "read_copywriter",
    "repeated_features",
    "score_copy",
    "shop_copy_style",
    "rerank_candidates",
    "save_copywriter",
    "serialise_attributes",
    "synthetic_products",
    "train_copywriter",
    "training_examples",
]
