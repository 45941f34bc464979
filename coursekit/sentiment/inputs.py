"""Input checks shared by every sentiment model: :func:`check_texts`."""

from __future__ import annotations

from collections.abc import Iterable


def check_texts(texts: str | Iterable[str], name: str = "texts") -> list[str]:
    """Validate a batch of review texts; a single ``str`` counts as a batch of one.

    Raises ``TypeError`` for a non-string item (``None``, a number, NaN) and
    ``ValueError`` for an empty or whitespace-only text, naming its position.
    """
    if isinstance(texts, str):
        texts = [texts]
    elif isinstance(texts, (bytes, dict)) or not isinstance(texts, Iterable):
        raise TypeError(f"{name} must be a str or a list of str, got {type(texts).__name__}")
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise TypeError(
                f"{name}[{i}] is a {type(t).__name__} ({t!r:.40}), not a str; "
                "drop missing reviews (e.g. df.dropna(subset=['text'])) first"
            )
        if not t.strip():
            raise ValueError(f"{name}[{i}] is empty; there is nothing to classify")
    return out


__all__ = ["check_texts"]
