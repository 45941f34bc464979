"""Cleaning review text without destroying what it means.

The cleaner most tutorials show (:func:`naive_clean`) keeps only ``[a-zA-Z]``,
lowercases, tokenizes and drops every word in NLTK's English stopword list.
On shop reviews that is wrong twice over:

* **meaning**: the stopword list contains *not, no, nor, don't*, so "not good"
  becomes "good"; prices, sizes, model numbers, emoji and apostrophes are erased;
* **speed**: ``stopwords.words("english")`` re-reads the list for *every word*,
  and ``w not in list`` is a linear scan, where a ``frozenset`` lookup is O(1).

This module is the replacement: small steps that each do one thing, composed
by :func:`make_cleaner` (or :func:`clean` for one text)::

    normalize_unicode -> strip_html -> scrub_pii -> squeeze_elongations
      -> tokenize -> fold_case -> remove_stopwords(keep_negations=True)
      -> mark_negation (optional) -> drop punctuation -> stem (optional)

Every step is a pure function on ``str`` or ``list[str]``; regexes are compiled
once. Non-string input raises ``TypeError``; empty or whitespace-only text
gives ``""`` (or ``[]`` for token lists). :func:`split_sentences` uses a Punkt
model trained on the shop's own reviews (NLTK's ``PunktTrainer``), so nothing
has to be downloaded.

The code lives in submodules, one per topic; every name is re-exported here, so
``from coursekit import text; text.clean(review)`` is the way to use them:

* :mod:`~coursekit.text.inputs`: ``_check_str``, the input check every step uses;
* :mod:`~coursekit.text.wordlists`: negations, clause punctuation and NLTK's stopwords, as sets;
* :mod:`~coursekit.text.naive`: :func:`naive_clean`, the articles' cleaner, bugs included;
* :mod:`~coursekit.text.steps`: the text -> text steps (Unicode, HTML, personal data, elongations);
* :mod:`~coursekit.text.tokens`: :func:`tokenize` and the token steps (case, stopwords,
  negation, stems);
* :mod:`~coursekit.text.pipeline`: :class:`CleanerConfig`, :class:`Cleaner`,
  :func:`make_cleaner` and :func:`clean`;
* :mod:`~coursekit.text.sentences`: the Punkt sentence splitter trained on the shop's reviews;
* :mod:`~coursekit.text.measure`: measuring a cleaner (speed, downstream macro-F1, negation pairs);
* :mod:`~coursekit.text.keywords`: :func:`keyword_tokens`, the words keyword search sees.
"""

# Every name of the former single module is re-exported, the ones __all__ leaves out too,
# except the lazily built tokenizers _NAIVE_WORD_TOKENIZER (naive) and _TWEET (tokens): their
# functions rebind them, so a copy here would stay None.
# ruff: noqa: F401

from __future__ import annotations

from coursekit.text.inputs import _check_str
from coursekit.text.keywords import KEYWORD_STOPWORDS, keyword_tokens
from coursekit.text.measure import (
    NEGATION_PAIRS,
    CleanerComparison,
    bag_of_words_model,
    downstream_scores,
    throughput,
)
from coursekit.text.naive import _naive_tokenizer, naive_clean
from coursekit.text.pipeline import Cleaner, CleanerConfig, _cached_cleaner, clean, make_cleaner
from coursekit.text.sentences import (
    _ELLIPSIS_BREAK,
    abbreviations_continuing,
    default_sentence_splitter,
    learned_abbreviations,
    prune_abbreviations,
    split_sentences,
    train_sentence_splitter,
)
from coursekit.text.steps import (
    _BREAK_TAG,
    _ELONGATED,
    _ELONGATED_WORD,
    _EMAIL,
    _PHONE,
    _QUOTES,
    _REPEATED_PUNCT,
    _TAG,
    _URL,
    _WORD,
    EMAIL_TOKEN,
    PHONE_TOKEN,
    URL_TOKEN,
    normalize_unicode,
    scrub_pii,
    squeeze_elongations,
    strip_html,
    word_vocabulary,
)
from coursekit.text.tokens import (
    _EMOJI_CLASS,
    _TOKEN_PATTERN,
    _TOKEN_RE,
    _stem_word,
    _stemmer,
    drop_punctuation,
    fold_case,
    mark_negation,
    remove_stopwords,
    stem,
    tokenize,
)
from coursekit.text.wordlists import (
    CLAUSE_PUNCT,
    NEGATIONS,
    SCOPE_BREAKERS,
    _nltk_stopword_list,
    _register_nltk_data,
    english_stopwords,
    is_negation,
    safe_stopwords,
)

__all__ = [
    "KEYWORD_STOPWORDS",
    "NEGATIONS",
    "NEGATION_PAIRS",
    "Cleaner",
    "CleanerComparison",
    "abbreviations_continuing",
    "learned_abbreviations",
    "prune_abbreviations",
    "bag_of_words_model",
    "CleanerConfig",
    "clean",
    "default_sentence_splitter",
    "downstream_scores",
    "drop_punctuation",
    "english_stopwords",
    "fold_case",
    "is_negation",
    "keyword_tokens",
    "make_cleaner",
    "mark_negation",
    "naive_clean",
    "normalize_unicode",
    "remove_stopwords",
    "safe_stopwords",
    "scrub_pii",
    "split_sentences",
    "squeeze_elongations",
    "stem",
    "strip_html",
    "throughput",
    "tokenize",
    "train_sentence_splitter",
    "word_vocabulary",
]
