"""The naive cleaner most tutorials show, reproduced faithfully: :func:`naive_clean`.

Letters only, lowercase, tokenize, drop every word of NLTK's English stopword list (read
again for every word): it loses *not*, prices and emoji, and it is slow. The course keeps it
to measure what the safe pipeline (:mod:`coursekit.text.pipeline`) fixes.
"""

from __future__ import annotations

import re
from typing import Any

from coursekit.text.inputs import _check_str
from coursekit.text.wordlists import _register_nltk_data, english_stopwords

_NAIVE_WORD_TOKENIZER: Any = None


def _naive_tokenizer() -> Any:
    # nltk.word_tokenize = Punkt sentence split + NLTKWordTokenizer per sentence. After
    # re.sub('[^a-zA-Z]', ' ', ...) no punctuation is left, so there is a single sentence and
    # NLTKWordTokenizer alone gives word_tokenize's result, without the Punkt download.
    global _NAIVE_WORD_TOKENIZER
    if _NAIVE_WORD_TOKENIZER is None:
        from nltk.tokenize import NLTKWordTokenizer

        _NAIVE_WORD_TOKENIZER = NLTKWordTokenizer()
    return _NAIVE_WORD_TOKENIZER


def naive_clean(text: str, hoist_stopwords: bool = False) -> str:
    """The articles' cleaner, reproduced faithfully (bugs included).

    ``re.sub('[^a-zA-Z]', ' ', text)``, lowercase, tokenize, drop words found in
    ``stopwords.words('english')`` (called again for every word), join with spaces.
    ``NLTKWordTokenizer`` stands in for ``word_tokenize``, which needs a Punkt download;
    on letters-only text both give the same tokens.

    ``hoist_stopwords=True`` builds the stopword *set* once instead: identical output,
    only faster (used to clean a whole corpus in reasonable time).
    """
    _check_str(text)
    _register_nltk_data()
    from nltk.corpus import stopwords

    text = re.sub("[^a-zA-Z]", " ", text)
    text = text.lower()
    words = _naive_tokenizer().tokenize(text)
    if hoist_stopwords:
        stop = english_stopwords()
        words = [w for w in words if w not in stop]
    else:
        words = [w for w in words if w not in stopwords.words("english")]
    return " ".join(words)


__all__ = ["naive_clean"]
