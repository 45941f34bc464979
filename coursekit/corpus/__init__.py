"""The deterministic generator of the shop corpus (``coursekit data build``).

There is no open e-commerce data set we may ship, so the course writes its own:
a seed gives byte-identical files (``random.Random`` per section, sorted keys,
``\\n`` line endings). The text is *composed*, not sampled from a handful of
sentences: a review is an opener, aspect clauses drawn from many templates per
aspect and polarity, optional contrast ("…, but …": the clause after *but*
decides), sarcasm, negation, comparisons and context sentences, then its surface
is perturbed (typos, elongation, emoji, HTML remnants, prices, sizes, model
numbers, fake PII). About 3% of ratings disagree with their text, as real ones do.

Honest splits: products are split 70/10/20 into train/validation/test, reviews
follow their product, and every template pool keeps some items (every sixth) for
validation/test reviews only, so a held-out score measures generalisation.

The vocabularies live in :mod:`coursekit.corpus_products`, :mod:`coursekit.corpus_reviews`
and :mod:`coursekit.corpus_faq`; this module composes them.

The code lives in submodules, one per section of the generator; every name is re-exported
here, so ``from coursekit import corpus; corpus.build(out_dir)`` is the way to use them:

* :mod:`~coursekit.corpus.helpers`: the per-section random streams (:func:`_rng`), held-out
  pools (:func:`pool_for`), formatting, and the defaults :data:`DEFAULT_SEED`, :data:`N_REVIEWS`;
* :mod:`~coursekit.corpus.products`: the catalogue, its splits and marketing copy;
* :mod:`~coursekit.corpus.review_writer`: the review writer, clause templates and surface noise;
* :mod:`~coursekit.corpus.reviews`: composed and plain-voice reviews, dates, labels and trends;
* :mod:`~coursekit.corpus.faq`: the FAQ with its paraphrases, and the A/B campaign logs;
* :mod:`~coursekit.corpus.shoppers`: shoppers with profiles, their dated views and purchases,
  and the products' launch dates;
* :mod:`~coursekit.corpus.out_of_scope`: questions the FAQ does not answer (for the hand-off rule);
* :mod:`~coursekit.corpus.stopwords`: the English stopword list in NLTK's layout;
* :mod:`~coursekit.corpus.files`: every file as text, the manifest and :func:`build`.

The data schema (:data:`ASPECTS`, :data:`LABELS`, ...) comes from :mod:`coursekit.schema`.
"""

# Every name of the former single module is re-exported, the private ones too.
# ruff: noqa: F401

from __future__ import annotations

from coursekit import corpus_faq as F
from coursekit import corpus_products as P
from coursekit import corpus_reviews as R
from coursekit import product_copy as PC
from coursekit.corpus.faq import (
    CAMPAIGN_DAYS,
    CAMPAIGNS,
    _binomial,
    generate_campaigns,
    generate_faq,
    generate_faq_train,
)
from coursekit.corpus.files import (
    FILES,
    MANIFEST,
    build,
    generate,
    manifest_text,
    product_row,
    sha256,
)
from coursekit.corpus.helpers import (
    DEFAULT_SEED,
    HELDOUT_EVERY,
    N_REVIEWS,
    _cap,
    _jsonl,
    _money,
    _rng,
    pool_for,
)
from coursekit.corpus.out_of_scope import fill, generate_faq_out_of_scope, in_scope_windows
from coursekit.corpus.products import (
    _CATEGORY_QUALITY,
    PRODUCTS_PER_CATEGORY,
    _assign_product_splits,
    attributes_of,
    generate_products,
    write_copy,
)
from coursekit.corpus.review_writer import (
    _CATEGORY_CODES,
    _COMPARISON,
    _NEGATION,
    _perturb,
    _ReviewWriter,
    _Slots,
    _templates,
)
from coursekit.corpus.reviews import (
    _OPPOSITE,
    _STRUCTURES,
    CONCEDABLE_ASPECTS,
    LABEL_NOISE,
    MAJOR_ASPECTS,
    MINOR_ASPECTS,
    N_DAYS,
    PLAIN_SHARE,
    SHIPPING_SPIKE,
    SMELL_COMPLAINTS,
    START_DATE,
    _accumulate,
    _date_weights,
    _label_of,
    _label_probs,
    _length_plan,
    _review_rows,
    compose_plain_review,
    compose_review,
    generate_reviews,
    plain_pool,
)
from coursekit.corpus.shoppers import (
    CONSUMABLES,
    N_SHOPPERS,
    SEGMENTS,
    TYPE_CATEGORY,
    generate_launches,
    generate_shoppers,
    launch_rows,
    product_type,
)
from coursekit.corpus.stopwords import STOPWORDS, STOPWORDS_README
from coursekit.schema import ASPECTS, CATEGORIES, LABELS, PHENOMENA, PRODUCT_COLUMNS, SPLITS
