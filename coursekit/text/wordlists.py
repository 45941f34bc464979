"""Word lists: negations, scope breakers, clause punctuation and NLTK's English stopwords.

:data:`NEGATIONS` and :func:`is_negation` say which words negate what follows;
:func:`english_stopwords` reads NLTK's list, shipped with the course in ``data/nltk_data``
(registered with NLTK by ``_register_nltk_data``: nothing is downloaded), once, as a set;
:func:`safe_stopwords` is that list minus every negation.
"""

from __future__ import annotations

import functools

#: negation words a sentiment model must see (kept by the safe stopword filter).
NEGATIONS: frozenset[str] = frozenset(
    """not no nor never none nobody nothing nowhere neither cannot without n't
    ain aren couldn didn doesn don hadn hasn haven isn mightn mustn needn shan shouldn
    wasn weren wouldn dont didnt doesnt isnt wasnt werent arent cant couldnt
    wouldnt shouldnt wont havent hasnt hadnt aint""".split()
)
#: words that end a negation's scope ("not cheap but sturdy": "sturdy" is not negated).
SCOPE_BREAKERS: frozenset[str] = frozenset({"but", "however", "although", "though", "yet"})
#: punctuation tokens the tokenizer keeps so negation scope can end at a clause boundary.
CLAUSE_PUNCT: frozenset[str] = frozenset({".", ",", ";", ":", "!", "?", "..", "!!", "??"})


def is_negation(token: str) -> bool:
    """Whether ``token`` negates what follows: *not, no, never, don't, didnt, can't, ...*."""
    t = token.lower()
    return t in NEGATIONS or t.endswith("n't")


@functools.lru_cache(maxsize=1)
def english_stopwords() -> frozenset[str]:
    """NLTK's English stopword list (shipped with the course in ``data/nltk_data``), as a set."""
    return frozenset(_nltk_stopword_list())


def safe_stopwords() -> frozenset[str]:
    """The English stopwords minus every negation: the list a sentiment model can afford to drop."""
    return frozenset(w for w in english_stopwords() if not is_negation(w))


def _nltk_stopword_list() -> list[str]:
    _register_nltk_data()
    from nltk.corpus import stopwords

    return stopwords.words("english")


def _register_nltk_data() -> None:
    try:
        import coursekit.data  # noqa: F401  (registers data/nltk_data with NLTK)
    except ImportError:  # pragma: no cover - the data module is part of the course
        pass
    import nltk

    from coursekit.paths import nltk_data_dir

    path = str(nltk_data_dir())
    if path not in nltk.data.path:
        nltk.data.path.append(path)


__all__ = [
    "CLAUSE_PUNCT",
    "NEGATIONS",
    "SCOPE_BREAKERS",
    "english_stopwords",
    "is_negation",
    "safe_stopwords",
]
