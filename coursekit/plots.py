"""One plotting style for the whole course, and a helper that makes every figure readable.

Every figure in the course has a title, labelled axes and a one-line takeaway:

>>> ax = sns.histplot(df, x="n_words")
>>> plots.finish(ax, "Review length", "words", "reviews",
...              takeaway="Most reviews are short; a few run past 100 words.")
"""

from __future__ import annotations

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
