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
