"""The safe cleaning pipeline: :class:`CleanerConfig`, :class:`Cleaner`, :func:`make_cleaner`.

A :class:`CleanerConfig` says which steps run (every field is a keyword of :func:`clean`);
:func:`make_cleaner` builds the :class:`Cleaner` for it once (cached per configuration), and
the cleaner runs the steps of :mod:`coursekit.text.steps` and :mod:`coursekit.text.tokens`
in the module's order on every text it is given.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from coursekit.text.inputs import _check_str
from coursekit.text.steps import normalize_unicode, scrub_pii, squeeze_elongations, strip_html
from coursekit.text.tokens import _TOKEN_RE, _stemmer, fold_case, mark_negation, stem, tokenize
from coursekit.text.wordlists import CLAUSE_PUNCT, english_stopwords, safe_stopwords


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


__all__ = ["Cleaner", "CleanerConfig", "clean", "make_cleaner"]
