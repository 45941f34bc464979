"""The real course notebooks, through the learner's tools.

nbval (run by `python -m pytest` on `notebooks/`) proves the solution notebooks reproduce
their stored outputs. These tests prove the learner side: a blank learner notebook runs to
the end and reports "not yet" for every exercise, and `coursekit check` passes a solved one.
"""

import pytest

from coursekit import learner, paths, runner
from coursekit.cli import main

NOTEBOOKS = [p.name for p in learner.solution_notebooks()]


def test_every_course_notebook_has_exercises_with_checks():
    import nbformat

    for name in NOTEBOOKS:
        nb = nbformat.read(paths.notebooks_dir() / name, as_version=4)
        checks = [c for c in nb.cells if learner.is_check_cell(c)]
        verdicts = runner.verdicts_in(nb)
        minimum = 2 if name.startswith("00_") else 3
        assert len(checks) >= minimum, f"{name}: {len(checks)} exercises, expected >= {minimum}"
        assert len(verdicts) == len(checks), f"{name}: every check cell prints one stored verdict"
        assert all(m.group(4) == "passed." for m in verdicts), (
            f"{name}: the solutions pass their checks"
        )


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_blank_learner_notebook_says_not_attempted_and_runs_to_the_end(name):
    report = runner.check_notebook(paths.learner_dir() / name)
    assert report.results, f"{name}: no exercises found"
    passed = [r.exercise for r in report.results if r.passed]
    assert not passed, f"{name}: exercises pass without an answer: {passed}"
    for r in report.results:  # every exercise, blank, says so, and no hint comes before a try
        assert "Exercise" in r.said and "not attempted yet" in r.said, (
            f"{name} {r.exercise}: {r.said}"
        )
        assert "Hint" not in r.said, f"{name} {r.exercise}: a hint before an attempt: {r.said}"
    assert report.errors == [], f"{name}: an unsolved exercise crashed later cells: {report.errors}"


def test_coursekit_check_passes_the_solved_notebook_00(capsys):
    solved = paths.notebooks_dir() / NOTEBOOKS[0]
    assert main(["check", str(solved)]) == 0
    out = capsys.readouterr().out
    assert "exercises passed" in out and "not yet" not in out


def test_coursekit_run_only_00(capsys):
    assert main(["run", "--only", "00"]) == 0
    out = capsys.readouterr().out
    assert "00_setup_and_tour.ipynb" in out and "| ok" in out
