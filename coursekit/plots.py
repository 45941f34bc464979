"""One plotting style for the whole course, and a helper that makes every figure readable.

Every figure in the course has a title, labelled axes and a one-line takeaway:

>>> ax = sns.histplot(df, x="n_words")
>>> plots.finish(ax, "Review length", "words", "reviews",
...              takeaway="Most reviews are short; a few run past 100 words.")
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from typing import Any

#: one colour per sentiment label, used by every plot in the course
LABEL_PALETTE = {"negative": "#c0392b", "neutral": "#95a5a6", "positive": "#27ae60"}


def set_style() -> None:
    """Seaborn's whitegrid theme at notebook size, non-interactive-safe."""
    import matplotlib
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    matplotlib.rcParams.update(
        {"figure.figsize": (7.0, 4.0), "figure.dpi": 80, "axes.titleweight": "bold"}
    )


def finish(ax: Any, title: str, xlabel: str, ylabel: str, takeaway: str | None = None) -> Any:
    """Set title and axis labels; print the takeaway under the figure's cell.

    The takeaway is printed (not drawn) so it is searchable text that nbval compares.
    """
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if takeaway:
        print(f"Takeaway: {takeaway}")
    return ax


def show_texts(
    texts: Sequence[str], labels: Sequence[str], title: str, width: int = 100, lines: int = 3
) -> Any:
    """Draw generated ``texts`` (each under its label) as a figure and return it.

    Sampled copy is what a learner wants to read, but a model retrained on another
    processor samples other words: as a figure it is shown without being a stored text
    output that must match on every machine. Each text is wrapped at ``width`` characters
    and cut to ``lines`` lines; the figure's size depends only on how many texts there are.
    A character the font cannot draw (most emoji) is written as its name, ``[thumbs down
    sign]``, instead of an empty box and a warning.
    """
    import textwrap

    import matplotlib.pyplot as plt

    if isinstance(texts, str):
        raise TypeError("show_texts expects a list of texts, not one str")
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels; give one label per text")
    row = 0.25 * (lines + 2)  # the label's line, the text's lines, a gap
    fig, ax = plt.subplots(figsize=(10, 0.5 + row * max(1, len(texts))))
    ax.axis("off")
    ax.set_title(title, loc="left")
    for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
        wrapped = textwrap.wrap(" ".join(drawable(str(text)).split()), width) or [""]
        if len(wrapped) > lines:
            wrapped = wrapped[: lines - 1] + [wrapped[lines - 1][: width - 2] + " …"]
        y = 1 - i / max(1, len(texts))
        ax.text(0, y, label, weight="bold", va="top", fontsize=9, transform=ax.transAxes)
        ax.text(  # under the label, which can be as long as the text is wide
            0.02,
            y - 0.9 / ((lines + 2) * max(1, len(texts))),
            "\n".join(wrapped),
            va="top",
            fontsize=9,
            family="monospace",
            transform=ax.transAxes,
        )
    return fig


@functools.lru_cache(maxsize=1)
def _monospace_charmap() -> frozenset[int]:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    path = font_manager.findfont(font_manager.FontProperties(family="monospace"))
    return frozenset(FT2Font(path).get_charmap())


def drawable(text: str) -> str:
    """``text`` with each character the figures' monospace font lacks replaced by its name.

    ``"love it 😍"`` → ``"love it [smiling face with heart-shaped eyes]"``; joiners and
    variation selectors, which only shape the emoji around them, are dropped.
    """
    known = _monospace_charmap()
    out = []
    for ch in text:
        if ord(ch) in known or ch in "\n\t":
            out.append(ch)
        elif unicodedata.category(ch) in ("Mn", "Cf") or 0xFE00 <= ord(ch) <= 0xFE0F:
            continue
        else:
            out.append(f"[{unicodedata.name(ch, 'unknown character').lower()}]")
    return "".join(out)
