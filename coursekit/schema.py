"""The shop corpus's data schema: labels, aspects, phenomena, splits, categories and columns.

One definition of each, shared by the generator (:mod:`coursekit.corpus`), the loaders
(:mod:`coursekit.data`) and the models (:mod:`coursekit.sentiment`). The old names still
work: ``coursekit.data.LABELS``, ``coursekit.corpus.LABELS`` and ``coursekit.sentiment.LABELS``
are these objects.

======================  =====================================================================
name                    what it is
======================  =====================================================================
``LABELS``              a review's sentiment label (from its rating: 1-2, 3, 4-5 stars)
``ASPECTS``             what a review's clauses talk about (``aspects`` column, one polarity each)
``PHENOMENA``           the tags of what the generator put into a review (``phenomena`` column)
``SPLITS``              the splits of products and their reviews (70/10/20)
``CATEGORIES``          the catalogue's categories: the keys of ``corpus_products.BRANDS``, defined there
``*_COLUMNS``           the columns of each file in ``data/shop/``, as the loaders order them
======================  =====================================================================

The generator draws labels and categories in the order given here, so reordering them
changes the shop data (``coursekit data verify`` would say so).
"""

from __future__ import annotations

from coursekit.corpus_products import CATEGORIES

#: review sentiment, in this order everywhere (the classifiers' class ids 0, 1, 2)
LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")

#: the aspects a review can discuss (per category: ``coursekit.corpus_reviews.CATEGORY_ASPECTS``)
ASPECTS: tuple[str, ...] = (
    "quality",
    "price",
    "shipping",
    "customer_service",
    "durability",
    "packaging",
    "size_fit",
    "comfort",
    "appearance",
    "battery",
    "performance",
    "ease_of_use",
    "smell",
    "taste",
    "freshness",
    "effectiveness",
    "pet_approval",
)

#: the tags of a review's ``phenomena`` (``label_noise``: the rating disagrees with the text;
#: ``plain``: a plain-voice review); the error slices of notebook 06 are built from them
PHENOMENA: tuple[str, ...] = (
    "negation",
    "contrast",
    "sarcasm",
    "intensifier",
    "comparison",
    "emoji",
    "typo",
    "elongation",
    "html",
    "pii",
    "price",
    "size",
    "model_number",
    "label_noise",
    "plain",
)

#: the splits, of products and of the reviews that follow their product
SPLITS: tuple[str, ...] = ("train", "validation", "test")

#: The public columns of ``shop/products.jsonl``, in file order.
PRODUCT_COLUMNS = [
    "product_id",
    "category",
    "brand",
    "name",
    "material",
    "colour",
    "size",
    "price",
    "features",
    "attributes",
    "title",
    "bullets",
    "paragraph",
    "split",
]
#: the columns of ``shop/reviews.jsonl`` as :func:`coursekit.data.load_reviews` returns them
REVIEW_COLUMNS = [
    "review_id",
    "product_id",
    "category",
    "brand",
    "date",
    "rating",
    "label",
    "text",
    "aspects",
    "phenomena",
    "split",
]
#: the columns of ``shop/faq.jsonl``
FAQ_COLUMNS = ["faq_id", "topic", "question", "answer"]
#: the columns of ``shop/faq_paraphrases.jsonl``
PARAPHRASE_COLUMNS = ["faq_id", "text", "split"]
#: columns of the out-of-scope questions (``shop/faq_out_of_scope.jsonl``)
OUT_OF_SCOPE_COLUMNS = ["kind", "split", "template", "text"]
#: the columns of ``shop/campaigns.jsonl``
CAMPAIGN_COLUMNS = [
    "campaign_id",
    "campaign",
    "variant",
    "headline",
    "day",
    "date",
    "impressions",
    "clicks",
    "true_ctr",
]

__all__ = [
    "ASPECTS",
    "CAMPAIGN_COLUMNS",
    "CATEGORIES",
    "FAQ_COLUMNS",
    "LABELS",
    "OUT_OF_SCOPE_COLUMNS",
    "PARAPHRASE_COLUMNS",
    "PHENOMENA",
    "PRODUCT_COLUMNS",
    "REVIEW_COLUMNS",
    "SPLITS",
]
