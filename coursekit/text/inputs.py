"""The input check every cleaning step uses: ``_check_str`` (a ``str``, else ``TypeError``).

Each step calls it first, so a ``None`` or a number fails at once with a message that
names its type, instead of deep inside a regular expression.
"""

from __future__ import annotations


def _check_str(text: object) -> str:
    if not isinstance(text, str):
        raise TypeError(f"expected a str, got {type(text).__name__}")
    return text
