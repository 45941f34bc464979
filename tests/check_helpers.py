"""Shared stand-ins for the exercise-check tests: a blank answer, a crashing one, an assertion."""

from __future__ import annotations

from coursekit.checks import NOT_ATTEMPTED, NOT_YET


def blank(*args, **kwargs):
    """A learner's untouched exercise: the placeholder still raises."""
    raise NotImplementedError("replace this line with your solution")


def crash(*args, **kwargs):
    """An attempt that fails inside the learner's own code."""
    raise KeyError("oops")


def assert_verdict(verdict, status, fragment=""):
    """The verdict has ``status`` and its message or line contains ``fragment``."""
    assert verdict.status == status, verdict.line()
    assert fragment in f"{verdict.message} {verdict.line()}", verdict.line()
    if status == NOT_ATTEMPTED:  # a blank exercise says only that: no hint before an attempt
        assert verdict.line().endswith("not attempted yet."), verdict.line()


#: (answer, expected status, fragment of the message) every function exercise must handle
COMMON = [
    (None, NOT_ATTEMPTED, "still None"),
    (blank, NOT_ATTEMPTED, "NotImplementedError"),
    (crash, NOT_YET, "raised KeyError"),
    ("not a function", NOT_YET, "should be a function"),
]


def solution_and_learner_verdicts(notebook, marker, name, check, space):
    """The verdicts of ``check`` on the function ``name`` of the solution notebook's cell that
    contains ``marker``, as stored and as the learner version ships it (solution stripped)."""
    import nbformat

    from coursekit import learner, paths

    nb = nbformat.read(paths.notebooks_dir() / notebook, as_version=4)
    source = next(c.source for c in nb.cells if marker in c.source)
    verdicts = []
    for code in (source, learner.strip_solutions(source)):
        namespace = dict(space)
        exec(code, namespace)
        verdicts.append(check.evaluate(namespace[name]))
    return verdicts
