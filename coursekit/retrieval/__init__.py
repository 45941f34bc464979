"""Answer search: sentence embeddings, an answer index, keyword baselines, and knowing when to stop.

A shopper types *"where's my parcel??"*; the shop has an FAQ entry *"How do I
track my order?"*. No word is shared, yet they mean the same thing. The recipe:

1. **Embed** every text into one vector. Run the pretrained MiniLM encoder to
   get one vector per token, then take the **mean over the real tokens**
   (the attention mask says which ones; padding must not count)::

       e = sum_t mask_t * h_t / sum_t mask_t          # (batch, 384)

   and scale it to length 1, so that a dot product *is* the cosine similarity
   (:func:`mean_pool`, :func:`embed`; equal to ``sentence-transformers`` on the
   same model to within 1e-5, tested).
2. **Index** the FAQ questions once (:class:`AnswerIndex`: a float32 matrix
   plus ids and payloads, saved as safetensors + JSON). A batch of queries is
   answered with one matrix product ``Q @ E.T`` and a partial sort for the top k.
3. **Compare** with keyword search: TF-IDF (:class:`TfidfRetriever`) and
   Okapi BM25 (:class:`BM25`), scored by top-1 accuracy and mean reciprocal
   rank (:func:`rank_metrics`).
4. **Abstain** when unsure: when the best score is low (the question is about
   something else) or barely ahead of the runner-up (two entries fit), the
   shopper is handed to a person (:data:`HANDOFF_MESSAGE`). Both thresholds are
   chosen on validation questions (:func:`coverage_precision`,
   :func:`choose_threshold`, :func:`fit_abstain_rule`): the score floor separates the
   answerable paraphrases from generated out-of-scope questions (:func:`fit_handoff_floor`).

:func:`load_faq_index` builds the shop's FAQ index (and its threshold) once
into the artifact cache; ``coursekit ask "where is my order?"`` uses it.

The code lives in submodules, one per topic; every name is re-exported here, so
``from coursekit import retrieval; retrieval.load_faq_index()`` is the way to use them:

* :mod:`~coursekit.retrieval.embeddings`: :func:`load_encoder`, :func:`mean_pool`, :func:`embed`;
* :mod:`~coursekit.retrieval.index`: :class:`AnswerIndex` and :class:`Hit`;
* :mod:`~coursekit.retrieval.keywords`: the keyword baselines :class:`TfidfRetriever` and
  :class:`BM25`;
* :mod:`~coursekit.retrieval.evaluation`: :func:`ranks_of` and :func:`rank_metrics` (top-1,
  top-3, MRR);
* :mod:`~coursekit.retrieval.abstain`: thresholds, :class:`AbstainRule` and
  :func:`answer_or_handoff`;
* :mod:`~coursekit.retrieval.recommend`: :func:`most_similar` and :func:`group_mean`;
* :mod:`~coursekit.retrieval.hybrid`: BM25 through ``bm25s`` (:class:`KeywordIndex`) and
  reciprocal-rank fusion (:func:`reciprocal_rank_fusion`);
* :mod:`~coursekit.retrieval.finetune`: MiniLM fine-tuned on the shop's training paraphrases
  with in-batch negatives (:func:`in_batch_negatives_loss`, :func:`load_faq_encoder`);
* :mod:`~coursekit.retrieval.checkpoint`: saving and loading a fine-tuned MiniLM
  (:func:`save_finetuned`, :func:`load_finetuned`), shared by the two modules around it;
* :mod:`~coursekit.retrieval.rerank`: a cross-encoder re-ranker (MiniLM reading question and
  entry together, trained with hard negatives; :func:`load_cross_encoder`, :func:`rerank_top_k`);
* :mod:`~coursekit.retrieval.variants`: search variants compared on validation, test and the
  hand-written questions (:func:`compare_variants`);
* :mod:`~coursekit.retrieval.faq`: the shop's cached FAQ index (:func:`load_faq_index`) and its
  rule, searched as :data:`SHIPPED_VARIANT` says.
"""

# Every name of the former single module is re-exported, the ones __all__ leaves out too.
# ruff: noqa: F401

from __future__ import annotations

from coursekit.retrieval.abstain import (
    HANDOFF_MESSAGE,
    MAX_IN_SCOPE_HANDOFF,
    AbstainRule,
    answer_or_handoff,
    choose_threshold,
    coverage_precision,
    fit_abstain_rule,
    fit_handoff_floor,
)
from coursekit.retrieval.checkpoint import load_finetuned, save_finetuned
from coursekit.retrieval.embeddings import (
    MAX_LENGTH,
    _check_texts,
    cosine_similarity,
    embed,
    load_encoder,
    mean_pool,
    normalize,
)
from coursekit.retrieval.evaluation import rank_metrics, ranks_of
from coursekit.retrieval.faq import (
    FAQ_INDEX_RECIPE,
    FAQ_TARGET_PRECISION,
    SHIPPED_VARIANT,
    _faq_fingerprint,
    build_faq_index,
    faq_documents,
    faq_rule,
    load_faq_index,
)
from coursekit.retrieval.finetune import (
    FAQ_ENCODER_RECIPE,
    EncoderRecipe,
    faq_entry_texts,
    in_batch_negatives_loss,
    load_faq_encoder,
    out_of_scope_loss,
    train_faq_encoder,
)
from coursekit.retrieval.hybrid import (
    RRF_K,
    KeywordIndex,
    ranks_from_scores,
    reciprocal_rank_fusion,
)
from coursekit.retrieval.index import AnswerIndex, Hit
from coursekit.retrieval.keywords import (
    _WORD,
    BM25,
    KEYWORD_STOPWORDS,
    TfidfRetriever,
    keyword_tokens,
)
from coursekit.retrieval.recommend import group_mean, most_similar
from coursekit.retrieval.rerank import (
    CROSS_ENCODER_RECIPE,
    RERANK_TOP_K,
    CrossEncoderRecipe,
    hard_negatives,
    load_cross_encoder,
    load_rerank_rule,
    pair_texts,
    rerank_hits,
    rerank_scores,
    rerank_top_k,
    train_cross_encoder,
)
from coursekit.retrieval.variants import (
    SearchVariant,
    compare_variants,
    load_handwritten_questions,
    variant_scores,
)

__all__ = [
    "CrossEncoderRecipe",
    "load_cross_encoder",
    "load_rerank_rule",
    "rerank_hits",
    "rerank_top_k",
    "rerank_scores",
    "train_cross_encoder",
    "BM25",
    "RRF_K",
    "SHIPPED_VARIANT",
    "EncoderRecipe",
    "KeywordIndex",
    "SearchVariant",
    "compare_variants",
    "in_batch_negatives_loss",
    "load_faq_encoder",
    "load_handwritten_questions",
    "ranks_from_scores",
    "reciprocal_rank_fusion",
    "out_of_scope_loss",
    "train_faq_encoder",
    "variant_scores",
    "FAQ_TARGET_PRECISION",
    "HANDOFF_MESSAGE",
    "MAX_IN_SCOPE_HANDOFF",
    "MAX_LENGTH",
    "AbstainRule",
    "AnswerIndex",
    "Hit",
    "TfidfRetriever",
    "answer_or_handoff",
    "build_faq_index",
    "choose_threshold",
    "cosine_similarity",
    "coverage_precision",
    "embed",
    "faq_documents",
    "faq_rule",
    "fit_abstain_rule",
    "fit_handoff_floor",
    "group_mean",
    "keyword_tokens",
    "load_encoder",
    "load_faq_index",
    "load_finetuned",
    "mean_pool",
    "most_similar",
    "normalize",
    "rank_metrics",
    "save_finetuned",
    "ranks_of",
]
