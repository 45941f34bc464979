"""Learner versions: solutions stripped, placeholders that don't crash later cells, kept in sync."""

import nbformat
import pytest

from coursekit import learner


def test_strip_inside_a_function_raises_not_implemented():
    src = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n"
    out = learner.strip_solutions(src)
    assert "return x + 1" not in out
    assert "    # YOUR CODE HERE" in out
    assert "    raise NotImplementedError" in out
    ns = {}
    exec(out, ns)  # the learner cell itself runs
    with pytest.raises(NotImplementedError):
        ns["f"](1)


def test_strip_at_top_level_leaves_the_variable_initialised():
    src = "answer = None\n### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION\nprint(answer)"
    out = learner.strip_solutions(src)
    assert "42" not in out and "raise" not in out
    ns = {}
    exec(out, ns)
    assert ns["answer"] is None


@pytest.mark.parametrize(
    "src",
    [
        "### BEGIN SOLUTION\nx = 1\n",
        "x = 1\n### END SOLUTION\n",
        "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n",
    ],
)
def test_unbalanced_markers_are_reported(src):
    with pytest.raises(learner.SolutionMarkerError):
        learner.strip_solutions(src)


def test_check_cells_are_recognised():
    cell = nbformat.v4.new_code_cell
    assert learner.is_check_cell(cell("check.softmax(my_softmax)"))
    assert learner.is_check_cell(cell("# grade it\ncheck.mask(build_mask)  # uses your function"))
    assert not learner.is_check_cell(cell("x = check.softmax(f)"))
    assert not learner.is_check_cell(cell("print(1)\ncheck.a(b)"))
    assert not learner.is_check_cell(nbformat.v4.new_markdown_cell("check.a(b)"))


def test_learner_notebook_has_no_outputs_and_a_banner():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell(
            "x = None\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION",
            outputs=[nbformat.v4.new_output("stream", text="1\n")],
            execution_count=1,
        ),
    ]
    out = learner.make_learner_notebook(nb, "01_demo.ipynb")
    assert out.cells[1].cell_type == "markdown" and "Learner version" in out.cells[1].source
    code = out.cells[2]
    assert code.outputs == [] and code.execution_count is None and "x = 1" not in code.source
    assert nb.cells[1].outputs, "the solution notebook itself is not modified"


def test_shipped_learner_versions_are_up_to_date():
    stale = learner.generate(check=True)
    assert stale == [], f"run `coursekit learner`: out of date: {[p.name for p in stale]}"
