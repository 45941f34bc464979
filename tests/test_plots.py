"""The course's plotting helpers."""

import pytest

from coursekit import plots


def test_show_texts_size_depends_only_on_the_count() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    short = plots.show_texts(["a b c", "d"], ["one", "two"], "t")
    long = plots.show_texts(["word " * 200, "x"], ["one", "two"], "t")
    assert tuple(short.get_size_inches()) == tuple(long.get_size_inches())
    plt.close("all")
    with pytest.raises(ValueError, match="one label per text"):
        plots.show_texts(["a"], ["one", "two"], "t")
    with pytest.raises(TypeError, match="list of texts"):
        plots.show_texts("a", ["one"], "t")


def test_show_texts_names_the_emoji_its_font_cannot_draw() -> None:
    import warnings

    import matplotlib

    matplotlib.use("agg")
    assert plots.drawable("love it 😍 – 5★ café") == (
        "love it [smiling face with heart-shaped eyes] – 5★ café"
    )
    assert plots.drawable("🤷\u200d♀️ meh") == "[shrug]♀ meh"  # joiner and selector dropped
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph would warn on stderr (nbval fails)
        fig = plots.show_texts(["broke in a week 🤬👎"], ["review"], "errors")
        fig.canvas.draw()
    drawn = [t.get_text() for t in fig.axes[0].texts]
    assert "broke in a week [serious face with symbols covering mouth][thumbs down sign]" in drawn
