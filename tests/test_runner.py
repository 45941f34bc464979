"""`coursekit run`, `learner` and `check` end to end, on a toy course in a temporary folder."""

import json

import nbformat
import pytest

from coursekit import runner
from coursekit.cli import main

SETUP = """\
import types
from coursekit.checks import call, exercise, expect_equal
check = types.SimpleNamespace()

@exercise("98.1", "add", hint="use +")
def _add(fn):
    expect_equal(call(fn, 2, 3), 5, "add(2, 3)")

@exercise("98.2", "the answer", hint="it is 42")
def _answer(value):
    from coursekit.checks import require_attempted
    expect_equal(require_attempted(value, "answer"), 42, "answer")

check.add, check.answer = _add, _answer"""


def toy_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Toy"),
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_code_cell(
            "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION"
        ),
        nbformat.v4.new_code_cell("check.add(add)"),
        nbformat.v4.new_code_cell(
            "answer = None\n### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"
        ),
        nbformat.v4.new_code_cell("check.answer(answer)"),
        nbformat.v4.new_code_cell("print('after the exercises', 1 + 1)"),
    ]
    return nb


@pytest.fixture
def course(tmp_path, monkeypatch):
    (tmp_path / "notebooks").mkdir()
    nbformat.write(toy_notebook(), tmp_path / "notebooks" / "98_toy.ipynb")
    monkeypatch.setenv("COURSEKIT_ROOT", str(tmp_path))
    monkeypatch.setenv("COURSEKIT_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_run_learner_and_check_round_trip(course, capsys):
    # run: executes the solution, counts verdicts, stores outputs in place
    assert main(["run", "--only", "98", "--inplace"]) == 0
    out = capsys.readouterr().out
    assert "98_toy.ipynb" in out and "2/2" in out and "| ok" in out
    solved = nbformat.read(course / "notebooks" / "98_toy.ipynb", as_version=4)
    assert [m.group(4) for m in runner.verdicts_in(solved)] == ["passed.", "passed."]

    # learner: generated, then up to date; a stale copy is detected
    assert main(["learner"]) == 0
    assert main(["learner", "--check"]) == 0
    blank_path = course / "notebooks" / "learner" / "98_toy.ipynb"
    assert "return a + b" not in blank_path.read_text()

    # check: a blank learner notebook is "not yet" for every exercise, and runs to the end
    report = runner.check_notebook(blank_path)
    assert [r.passed for r in report.results] == [False, False]
    assert report.results[0].said.endswith("not attempted yet.")
    assert "Hint" not in report.results[0].said  # no hint before an attempt
    assert report.errors == []
    assert main(["check", str(blank_path)]) == 1
    table = capsys.readouterr().out
    assert "0/2 exercises passed" in table and "not yet" in table

    # a wrong answer is reported with what is wrong; a right one passes
    nb = nbformat.read(blank_path, as_version=4)
    nb.cells[3].source = "def add(a, b):\n    return a - b"
    nb.cells[5].source = "answer = None\nanswer = 42"
    nbformat.write(nb, blank_path)
    report = runner.check_notebook(blank_path)
    assert [r.passed for r in report.results] == [False, True]
    assert "`add(2, 3)` is -1, expected 5" in report.results[0].said

    nb.cells[3].source = "def add(a, b):\n    return b + a"
    nbformat.write(nb, blank_path)
    assert main(["check", str(blank_path)]) == 0
    assert "2/2 exercises passed" in capsys.readouterr().out

    # editing a solution notebook makes the learner version stale
    sol = nbformat.read(course / "notebooks" / "98_toy.ipynb", as_version=4)
    sol.cells[0].source = "# Toy, edited"
    nbformat.write(sol, course / "notebooks" / "98_toy.ipynb")
    assert main(["learner", "--check"]) == 1


def test_run_reports_a_failing_notebook(course, capsys):
    nb = toy_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("raise ValueError('boom')"))
    nbformat.write(nb, course / "notebooks" / "98_toy.ipynb")
    assert main(["run", "--only", "98"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "ValueError: boom" in out


def test_unknown_notebook_names_the_choices(course, capsys):
    assert main(["run", "--only", "42"]) == 2
    err = capsys.readouterr().err
    assert "no notebook called '42'" in err and "98" in err
    assert main(["check", str(course / "nope.ipynb")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_check_restores_a_deleted_check_cell_and_says_so(course, capsys):
    main(["learner"])
    path = course / "notebooks" / "learner" / "98_toy.ipynb"
    nb = json.loads(path.read_text())
    nb["cells"] = [c for c in nb["cells"] if "".join(c["source"]) != "check.answer(answer)"]
    path.write_text(json.dumps(nb))
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "0/2 exercises passed" in out and "not attempted yet" in out
    assert "the check cell of exercise answer was missing" in out  # its check function


def test_run_names_the_cell_that_timed_out_and_the_fix(course, capsys):
    nb = toy_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Slow"),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("import time; time.sleep(5)\nprint('never')"),
        nbformat.v4.new_code_cell("print('after')"),
    ]
    nbformat.write(nb, course / "notebooks" / "98_toy.ipynb")
    result = runner.run_notebook(course / "notebooks" / "98_toy.ipynb", timeout=1)
    assert not result.ok
    assert result.error.startswith("CellTimeoutError: cell 3 of 4 (`import time; time.sleep(5)`)")
    assert "after the 1 s limit per cell" in result.error
    assert "coursekit prepare" in result.error and "--timeout SECONDS" in result.error

    assert main(["run", "--only", "98", "--timeout", "1"]) == 1
    out = capsys.readouterr().out
    assert "98_toy.ipynb: CellTimeoutError: cell 3 of 4" in out
    assert "98_toy.ipynb: ---" not in out
