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
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from nltk.tokenize.punkt import PunktSentenceTokenizer

# --------------------------------------------------------------------------- word lists

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


# --------------------------------------------------------------------------- the naive cleaner

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


# --------------------------------------------------------------------------- text -> text steps

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u02bc": "'",
        "\u0060": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\ufe0f": None,  # emoji variation selector
        "\u200d": None,  # zero-width joiner
        "\u200b": None,  # zero-width space
    }
)


def normalize_unicode(text: str, form: str = "NFKC") -> str:
    """Unicode normalisation (NFKC by default) plus straight quotes.

    NFKC folds look-alikes to one code point: full-width ``ＸＬ`` -> ``XL``,
    ligature ``ﬁ`` -> ``fi``, non-breaking space -> space. Curly apostrophes
    become ``'`` so "don’t" and "don't" are the same word.
    """
    _check_str(text)
    return unicodedata.normalize(form, text).translate(_QUOTES)


_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^<>]*>")
_BREAK_TAG = re.compile(r"<\s*(?:br|/p|p|/div|div|li|/li)\b[^<>]*>", re.IGNORECASE)


def strip_html(text: str) -> str:
    """Unescape HTML entities (``&amp;`` -> ``&``) and replace tags with spaces.

    Block tags (``<br>``, ``<p>``, ``<li>``) become ``". "``-free spaces too; a tag is
    ``<`` + letter ... ``>``, so "<3" and "a < b" survive.
    """
    _check_str(text)
    if "<" in text:
        text = _BREAK_TAG.sub(" ", text)
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
        if "<" in text:  # entities can hide tags: "&lt;b&gt;"
            text = _TAG.sub(" ", text)
    return text


URL_TOKEN, EMAIL_TOKEN, PHONE_TOKEN = "<url>", "<email>", "<phone>"
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}\b")
_PHONE = re.compile(
    r"(?<![\w$€£.,-])"  # not glued to a word, price, decimal or model number
    r"(?:"
    r"(?:\+\d{1,3}[\s.-]?)?"  # country code
    r"(?:\(\d{2,4}\)\s?|\d{2,4}[\s.-])"  # area code
    r"\d{3,4}[\s.-]?\d{3,4}"
    r"|\d{3}[.-]\d{4}"  # local number: 555-0123, 555.0123
    r")"
    r"(?![\w.,-]?\d)"
)


def scrub_pii(text: str) -> str:
    """Replace URLs, e-mail addresses and phone numbers with ``<url>``, ``<email>``, ``<phone>``.

    Reviews are shared with models, vendors and logs: personal data should not be.
    Prices (``$19.99``), sizes (``10.5``) and model numbers (``XR-200``) are kept.
    """
    _check_str(text)
    if "@" in text:
        text = _EMAIL.sub(EMAIL_TOKEN, text)
    if "www" in text or "http" in text or "WWW" in text or "HTTP" in text:
        text = _URL.sub(URL_TOKEN, text)
    return _PHONE.sub(PHONE_TOKEN, text)


_ELONGATED = re.compile(r"([^\W\d_])\1{2,}")
_REPEATED_PUNCT = re.compile(r"([!?.])\1{2,}")


_ELONGATED_WORD = re.compile(r"[^\W\d_]*([^\W\d_])\1{2,}[^\W\d_]*")


def squeeze_elongations(text: str, vocabulary: Container[str] | None = None) -> str:
    """Shorten letters repeated 3+ times to two, and punctuation runs to two.

    "soooo goooood!!!!" -> "soo good!!". Two letters are kept because English
    has real double letters ("good", "too"); digits are never touched ("1000").
    With a ``vocabulary`` (lowercase words), an elongated word whose two-letter
    form is unknown but whose one-letter form is known gets the latter:
    "sloooow" -> "slow", "loooove" -> "love".
    """
    _check_str(text)
    if vocabulary is None:
        text = _ELONGATED.sub(r"\1\1", text)
    else:

        def fix(match: re.Match[str]) -> str:
            two = _ELONGATED.sub(r"\1\1", match.group())
            if two.lower() in vocabulary:
                return two
            one = _ELONGATED.sub(r"\1", match.group())
            return one if one.lower() in vocabulary else two

        text = _ELONGATED_WORD.sub(fix, text)
    return _REPEATED_PUNCT.sub(r"\1\1", text)


def word_vocabulary(texts: Iterable[str], min_count: int = 2) -> frozenset[str]:
    """Lowercase words seen at least ``min_count`` times, without elongations: for squeezing."""
    from collections import Counter

    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(w.lower() for w in _WORD.findall(_check_str(text)))
    return frozenset(w for w, n in counts.items() if n >= min_count and not _ELONGATED.search(w))


_WORD = re.compile(r"[^\W\d_]+")

# --------------------------------------------------------------------------- tokenization

_EMOJI_CLASS = "\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff"
_TOKEN_PATTERN = "|".join(
    [
        r"<(?:url|email|phone)>",  # privacy placeholders
        r"[$€£]\s?\d+(?:[.,]\d+)*",  # prices: $19.99, € 5,00
        r"\d+(?:[.,/]\d+)+%?",  # decimals, fractions, dates: 10.5, 1/2
        r"[^\W_]+(?:['\-][^\W_]+)*(?:')?%?",  # words, with inner ' or - : don't, 5-star, XR-200
        r"(?:[:;=][\-^']?[()\[\]dDpP/\\|*]|<3)",  # emoticons
        rf"[{_EMOJI_CLASS}]",  # one emoji per token
        r"[!?.]{1,2}|[,;:]",  # punctuation that matters for scope and tone
    ]
)
_TOKEN_RE = re.compile(_TOKEN_PATTERN)
_TWEET: Any = None


def tokenize(text: str, method: str = "regexp") -> list[str]:
    """Split a review into tokens, keeping what carries meaning in reviews.

    ``"regexp"`` (default, fast) keeps prices, decimals, model numbers, contractions,
    emoticons, emoji and clause punctuation as single tokens. ``"tweet"`` uses
    NLTK's ``TweetTokenizer`` (also review-aware, slower).
    """
    _check_str(text)
    if method == "regexp":
        return _TOKEN_RE.findall(text)
    if method == "tweet":
        global _TWEET
        if _TWEET is None:
            from nltk.tokenize import TweetTokenizer

            _TWEET = TweetTokenizer(preserve_case=True)
        return _TWEET.tokenize(text)
    raise ValueError(f"unknown tokenize method {method!r}; use 'regexp' or 'tweet'")


# --------------------------------------------------------------------------- token steps


def fold_case(tokens: Sequence[str], keep_emphasis: bool = False) -> list[str]:
    """Lowercase every token; with ``keep_emphasis`` ALL-CAPS words (3+ letters) stay shouted.

    "This is TERRIBLE" -> ``["this", "is", "TERRIBLE"]``: shouting is a sentiment signal.
    """
    if keep_emphasis:
        return [t if len(t) >= 3 and t.isupper() and t.isalpha() else t.lower() for t in tokens]
    return [t.lower() for t in tokens]


def remove_stopwords(
    tokens: Sequence[str],
    keep_negations: bool = True,
    stopwords: Iterable[str] | None = None,
) -> list[str]:
    """Drop stopwords with one set lookup per token.

    ``keep_negations=True`` (the default) keeps *not, no, never, don't, ...* even though
    NLTK's list contains them. ``stopwords`` overrides the list (default: NLTK English).
    """
    if isinstance(tokens, str):
        raise TypeError("remove_stopwords expects a list of tokens, not a str: tokenize first")
    if stopwords is None:
        stop = safe_stopwords() if keep_negations else english_stopwords()
    else:
        stop = frozenset(stopwords)
        if keep_negations:
            stop = frozenset(w for w in stop if not is_negation(w))
    return [t for t in tokens if t.lower() not in stop]


def mark_negation(tokens: Sequence[str], prefix: str = "not_", window: int | None = 3) -> list[str]:
    """Prefix the words in a negation's scope: ``["not", "good"]`` -> ``["not", "not_good"]``.

    The scope starts after a negation word and ends at clause punctuation, at
    *but/however/...*, at another negation, or after ``window`` words (``None``: no limit).
    A bag-of-words model then sees "not_good" as its own feature, far from "good".
    """
    if isinstance(tokens, str):
        raise TypeError("mark_negation expects a list of tokens, not a str: tokenize first")
    out: list[str] = []
    left = 0  # words of scope still to mark
    for tok in tokens:
        low = tok.lower()
        if is_negation(low):
            out.append(tok)
            left = window if window is not None else 10**9
        elif low in CLAUSE_PUNCT or low in SCOPE_BREAKERS:
            out.append(tok)
            left = 0
        elif left > 0 and tok[:1].isalnum():
            out.append(prefix + tok)
            left -= 1
        else:
            out.append(tok)
    return out


def drop_punctuation(
    tokens: Sequence[str], keep: Iterable[str] = ("!", "?", "!!", "??")
) -> list[str]:
    """Remove clause punctuation tokens, keeping the ones in ``keep`` (tone: "!" and "?")."""
    keep = frozenset(keep)
    return [t for t in tokens if t in keep or t not in CLAUSE_PUNCT]


@functools.lru_cache(maxsize=4)
def _stemmer(algorithm: str) -> Any:
    from nltk.stem import PorterStemmer, SnowballStemmer

    if algorithm == "porter":
        return PorterStemmer()
    if algorithm == "snowball":
        return SnowballStemmer("english")
    raise ValueError(f"unknown stemmer {algorithm!r}; use 'porter' or 'snowball'")


@functools.lru_cache(maxsize=200_000)
def _stem_word(word: str, algorithm: str) -> str:
    return _stemmer(algorithm).stem(word)


def stem(tokens: Sequence[str], algorithm: str = "porter") -> list[str]:
    """Reduce words to stems with NLTK's Porter or Snowball stemmer (cached per word).

    Only alphabetic words are stemmed, so prices, emoji and placeholders pass through.
    Pitfalls: stems are not words ("battery" -> "batteri"), unrelated words collide
    ("university", "universe" -> "univers") and negation prefixes survive ("not_fit").
    """
    if isinstance(tokens, str):
        raise TypeError("stem expects a list of tokens, not a str: tokenize first")
    _stemmer(algorithm)  # validate early
    return [_stem_word(t, algorithm) if t.isalpha() else t for t in tokens]


# --------------------------------------------------------------------------- the pipeline


@dataclass(frozen=True)
class CleanerConfig:
    """Which steps :func:`make_cleaner` runs. Every field is a keyword of :func:`clean`."""

    unicode: bool = True  # NFKC + straight quotes
    html: bool = True  # unescape entities, drop tags
    pii: bool = True  # URLs, e-mails, phones -> placeholders
    squeeze: bool = True  # "soooo" -> "soo"
    vocabulary: frozenset[str] | None = (
        None  # known words: "sloooow" -> "slow" (see word_vocabulary)
    )
    lowercase: bool = True
    keep_emphasis: bool = False  # keep ALL-CAPS words as they are
    tokenizer: str = "regexp"  # or "tweet"
    stopwords: bool = True  # drop stopwords
    keep_negations: bool = True  # ... but never not/no/never/n't
    negation_scope: bool = False  # "not good" -> "not not_good"
    negation_window: int | None = 3
    keep_punct: tuple[str, ...] = ("!", "?", "!!", "??")
    stemmer: str | None = None  # "porter" or "snowball"
    output: str = "text"  # "text" (space-joined) or "tokens"


class Cleaner:
    """A configured cleaning pipeline: ``cleaner(text) -> str`` (or ``list[str]``)."""

    def __init__(self, config: CleanerConfig) -> None:
        if config.output not in {"text", "tokens"}:
            raise ValueError(f"output must be 'text' or 'tokens', got {config.output!r}")
        if config.tokenizer not in {"regexp", "tweet"}:
            raise ValueError(f"unknown tokenizer {config.tokenizer!r}; use 'regexp' or 'tweet'")
        if config.stemmer is not None:
            _stemmer(config.stemmer)
        self.config = config
        if config.stopwords:
            self._stop = safe_stopwords() if config.keep_negations else english_stopwords()
        else:
            self._stop = frozenset()

    def __repr__(self) -> str:
        changed = {k: v for k, v in asdict(self.config).items() if v != getattr(CleanerConfig, k)}
        args = ", ".join(
            f"{k}=<{len(v)} words>" if k == "vocabulary" else f"{k}={v!r}"
            for k, v in changed.items()
        )
        return f"Cleaner({args})"

    def tokens(self, text: str) -> list[str]:
        """Run the pipeline and return the token list."""
        c = self.config
        _check_str(text)
        if not text or text.isspace():
            return []
        if c.unicode:
            text = normalize_unicode(text)
        if c.html:
            text = strip_html(text)
        if c.pii:
            text = scrub_pii(text)
        if c.squeeze:
            text = squeeze_elongations(text, c.vocabulary)
        if c.lowercase and not c.keep_emphasis:
            text = text.lower()
        toks = _TOKEN_RE.findall(text) if c.tokenizer == "regexp" else tokenize(text, "tweet")
        if c.lowercase and c.keep_emphasis:
            toks = fold_case(toks, keep_emphasis=True)
        if self._stop:
            stop = self._stop
            toks = (
                [t for t in toks if t not in stop]
                if c.lowercase
                else [t for t in toks if t.lower() not in stop]
            )
        if c.negation_scope:
            toks = mark_negation(toks, window=c.negation_window)
        keep = c.keep_punct
        toks = [t for t in toks if t not in CLAUSE_PUNCT or t in keep]
        if c.stemmer is not None:
            toks = stem(toks, c.stemmer)
        return toks

    def __call__(self, text: str) -> str | list[str]:
        toks = self.tokens(text)
        return toks if self.config.output == "tokens" else " ".join(toks)

    def map(self, texts: Iterable[str]) -> list[str | list[str]]:
        """Clean many texts."""
        return [self(t) for t in texts]


@functools.lru_cache(maxsize=64)
def _cached_cleaner(config: CleanerConfig) -> Cleaner:
    return Cleaner(config)


def make_cleaner(**options: Any) -> Cleaner:
    """Build a cleaning pipeline once; call it on many texts.

    Options are the fields of :class:`CleanerConfig`, e.g.
    ``make_cleaner(negation_scope=True, stemmer="snowball")``. Unknown options
    raise ``TypeError`` naming the valid ones.
    """
    valid = set(CleanerConfig.__dataclass_fields__)
    unknown = set(options) - valid
    if unknown:
        raise TypeError(f"unknown cleaner option(s) {sorted(unknown)}; valid: {sorted(valid)}")
    if "keep_punct" in options:
        options["keep_punct"] = tuple(options["keep_punct"])
    if options.get("vocabulary") is not None:
        options["vocabulary"] = frozenset(options["vocabulary"])
    return _cached_cleaner(CleanerConfig(**options))


def clean(text: str, **options: Any) -> str | list[str]:
    """Clean one review with the safe pipeline (see :class:`CleanerConfig` for options).

    >>> clean("NOT good!!! Don't buy: $19.99 <br>email me at a@b.com 😡")
    "not good !! don't buy $19.99 <email> 😡"
    """
    return make_cleaner(**options)(text)


# --------------------------------------------------------------------------- sentences


def train_sentence_splitter(texts: Iterable[str], prune: bool = True) -> PunktSentenceTokenizer:
    """Train NLTK's unsupervised Punkt sentence splitter on ``texts``.

    Punkt learns abbreviations ("approx.", "vs."), collocations and sentence
    starters from raw text: no labels, no download. On repetitive text it also
    learns false abbreviations: a stock phrase such as "Couldn't be happier." makes
    "happier" look like a word that always carries a period. With ``prune=True``
    an abbreviation is kept only if, in the training text, it is mostly followed by
    a lowercase word or a digit (it continues the sentence), as real ones are.
    """
    from nltk.tokenize.punkt import PunktSentenceTokenizer, PunktTrainer

    if isinstance(texts, str):
        raise TypeError("train_sentence_splitter expects an iterable of texts, not one str")
    body = "\n\n".join(_check_str(t) for t in texts)
    if not body.strip():
        raise ValueError("train_sentence_splitter needs some non-empty text")
    trainer = PunktTrainer()
    trainer.INCLUDE_ALL_COLLOCS = False
    trainer.train(body, finalize=True)
    splitter = PunktSentenceTokenizer(trainer.get_params())
    return prune_abbreviations(splitter, body) if prune else splitter


def learned_abbreviations(splitter: PunktSentenceTokenizer) -> list[str]:
    """The abbreviations a Punkt splitter knows (lowercase, without the final period)."""
    return sorted(splitter._params.abbrev_types)


def prune_abbreviations(splitter: PunktSentenceTokenizer, text: str) -> PunktSentenceTokenizer:
    """A copy of ``splitter`` keeping only the abbreviations ``text`` continues after.

    See :func:`abbreviations_continuing`; the splitter passed in is not changed.
    """
    import copy

    from nltk.tokenize.punkt import PunktSentenceTokenizer

    params = copy.deepcopy(splitter._params)
    params.abbrev_types = set(abbreviations_continuing(text, params.abbrev_types))
    return PunktSentenceTokenizer(params)


def abbreviations_continuing(
    text: str, candidates: Iterable[str], min_share: float = 0.5
) -> list[str]:
    """The ``candidates`` (lowercase, no final period) that ``text`` mostly continues after.

    For every ``word.`` whose ``word`` is a candidate, look at the next token: a
    lowercase letter or a digit means the sentence goes on ("approx. 5 cm"),
    anything else (capital, emoji, end of text) means it probably ended.
    """
    wanted = {c.lower() for c in candidates}
    seen: dict[str, int] = dict.fromkeys(wanted, 0)
    goes_on: dict[str, int] = dict.fromkeys(wanted, 0)
    tokens = text.split()
    for tok, nxt in zip(tokens, tokens[1:] + [""], strict=True):
        if not tok.endswith("."):
            continue
        word = tok[:-1].lower().lstrip("(\"'")
        if word in seen:
            seen[word] += 1
            if nxt[:1].islower() or nxt[:1].isdigit():
                goes_on[word] += 1
    return sorted(w for w in wanted if seen[w] and goes_on[w] / seen[w] >= min_share)


@functools.lru_cache(maxsize=1)
def default_sentence_splitter() -> PunktSentenceTokenizer:
    """The Punkt splitter trained on the shop's train-split reviews (built once per process)."""
    from coursekit import data

    reviews = data.load_reviews(split="train").sort_values("review_id")
    return train_sentence_splitter(strip_html(normalize_unicode(t)) for t in reviews["text"])


def split_sentences(text: str, splitter: PunktSentenceTokenizer | None = None) -> list[str]:
    """Split a review into sentences with a corpus-trained Punkt model.

    ``splitter`` defaults to :func:`default_sentence_splitter`. HTML is stripped and
    Unicode normalised first; an ellipsis followed by a capital also ends a sentence
    ("It charges fast... Would buy again!" is two). Empty or whitespace-only text gives ``[]``.
    """
    _check_str(text)
    if not text.strip():
        return []
    model = splitter if splitter is not None else default_sentence_splitter()
    text = " ".join(strip_html(normalize_unicode(text)).split())
    out: list[str] = []
    for sent in model.tokenize(text):
        out.extend(s for s in _ELLIPSIS_BREAK.split(sent) if s.strip())
    return out


# Punkt never ends a sentence at "..." on its own; in reviews "... Next" almost always does.
_ELLIPSIS_BREAK = re.compile(r"(?<=\.\.\.)\s+(?=[A-Z])")


# --------------------------------------------------------------------------- measuring a cleaner


def throughput(fn: Callable[[str], Any], texts: Sequence[str]) -> float:
    """Texts per second of ``fn`` over one pass of ``texts`` (wall clock)."""
    import time

    if not texts:
        raise ValueError("throughput needs at least one text")
    start = time.perf_counter()
    for t in texts:
        fn(t)
    return len(texts) / max(time.perf_counter() - start, 1e-9)


def bag_of_words_model(C: float = 4.0) -> Any:
    """The sentiment model used to compare cleaners: word 1-2-gram TF-IDF + logistic regression.

    Its input is already-cleaned text: tokens are split on whitespace only and not
    lowercased again, so what the cleaner kept ("not", "$19.99", "😡") is what the model sees.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return Pipeline(
        [
            (
                "tfidf",
                TfidfVectorizer(
                    tokenizer=str.split,
                    token_pattern=None,
                    lowercase=False,
                    ngram_range=(1, 2),
                    min_df=2,
                    sublinear_tf=True,
                ),
            ),
            # newton-cg: exact and deterministic, and ~20x faster than lbfgs on these features
            ("clf", LogisticRegression(C=C, solver="newton-cg", max_iter=1000)),
        ]
    )


#: minimal pairs: the same review with and without a negation
NEGATION_PAIRS: tuple[tuple[str, str], ...] = (
    ("Good quality.", "Not good quality."),
    ("Worth the money.", "Not worth the money."),
    ("Happy with it.", "Not happy with it."),
    ("Buy it.", "Don't buy it."),
    ("I would recommend it.", "I would not recommend it."),
    ("It works.", "It doesn't work."),
    ("Bad.", "Not bad."),
)


@dataclass
class CleanerComparison:
    """What :func:`downstream_scores` measured, per cleaner."""

    table: Any  # pandas DataFrame, one row per cleaner
    predictions: dict[str, list[str]]  # test-set predictions
    models: dict[str, Any]  # the fitted pipelines


def downstream_scores(
    cleaners: dict[str, Callable[[str], str]],
    train: Any,
    test: Any,
    slice_tag: str = "negation",
    pairs: Sequence[tuple[str, str]] = NEGATION_PAIRS,
) -> CleanerComparison:
    """Train :func:`bag_of_words_model` on each cleaner's output; score it on ``test``.

    ``train``/``test`` are review DataFrames (``text``, ``label``, ``phenomena``).
    The table has, per cleaner: macro-F1 overall and on the reviews tagged
    ``slice_tag``, how many minimal ``pairs`` (text, negated text) get different
    labels, and the vocabulary size.
    """
    import pandas as pd
    from sklearn.metrics import f1_score

    in_slice = test["phenomena"].map(lambda tags: slice_tag in tags).to_numpy()
    y_test = test["label"].tolist()
    rows, predictions, models = [], {}, {}
    for name, fn in cleaners.items():
        model = bag_of_words_model().fit([fn(t) for t in train["text"]], train["label"].tolist())
        pred = model.predict([fn(t) for t in test["text"]]).tolist()
        plain = model.predict([fn(a) for a, _ in pairs])
        negated = model.predict([fn(b) for _, b in pairs])
        predictions[name], models[name] = pred, model
        sliced_true = [y for y, m in zip(y_test, in_slice, strict=True) if m]
        sliced_pred = [p for p, m in zip(pred, in_slice, strict=True) if m]
        rows.append(
            {
                "cleaner": name,
                "macro_f1": f1_score(y_test, pred, average="macro"),
                f"macro_f1_{slice_tag}": f1_score(sliced_true, sliced_pred, average="macro"),
                "pairs_told_apart": f"{int((plain != negated).sum())}/{len(pairs)}",
                "vocabulary": len(model.named_steps["tfidf"].vocabulary_),
            }
        )
    return CleanerComparison(pd.DataFrame(rows).set_index("cleaner"), predictions, models)


def _check_str(text: object) -> str:
    if not isinstance(text, str):
        raise TypeError(f"expected a str, got {type(text).__name__}")
    return text


__all__ = [
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
