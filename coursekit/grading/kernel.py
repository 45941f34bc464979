"""The grader's side inside a learner's kernel: run one course check, report what was tampered with.

The grading notebook (built by :mod:`coursekit.grading.engine`) replaces each check cell with
two cells of its own. The first drops every ``coursekit.checks`` module from ``sys.modules``,
imports this module afresh and calls :func:`run_check`: the course's check, from the files on
disk, evaluates the learner's answer, and its verdict is kept, not printed. The second cell,
which holds a key made for this one check of this one run and runs no learner code, passes
the verdict to :func:`emit`, which publishes it under its own MIME type. The grader reads
verdicts only from there: whatever the learner's code prints (a fake "✅ … passed." line
included) is never read as a verdict.

This module is imported into the learner's kernel, so it imports nothing heavy.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import re
import sys
import time
import types
from collections.abc import Callable
from typing import Any

MIME = "application/vnd.coursekit.verdict+json"
CHECK_MODULES = ("coursekit.checks", "coursekit.grading")
_VERDICT_LINE = re.compile(r"(✅|❌|⏳) Exercise \d\d\.\d+ ")


def forget_check_modules() -> dict[str, Any]:
    """Remove the checks (and this grader) from ``sys.modules``; return what was there."""
    before = {
        name: module
        for name, module in sys.modules.items()
        if any(name == m or name.startswith(m + ".") for m in CHECK_MODULES)
    }
    for name in before:
        del sys.modules[name]
    return before


def _fingerprint(obj: Any) -> Any:
    """What a function or class *does*: its byte code and constants, not its identity."""
    obj = getattr(obj, "__wrapped__", obj)
    code = getattr(obj, "__code__", None)
    if code is not None:
        consts = tuple(c for c in code.co_consts if not isinstance(c, types.CodeType))
        return ("function", code.co_code, code.co_names, repr(consts))
    if isinstance(obj, type):
        members = []
        for key, value in vars(obj).items():
            value = getattr(value, "fget", None) or getattr(value, "__func__", value)
            if callable(value):
                members.append((key, _fingerprint(value)))
        return ("class", tuple(sorted(members)))
    return ("value", type(obj).__name__)


def tampering(module: str | None, before: dict[str, Any], user_check: Any) -> list[str]:
    """How the learner's kernel differs from the course's checks on disk (empty: untouched)."""
    if module is None:
        return []
    found = []
    if user_check is not None and getattr(user_check, "__name__", None) != module:
        found.append(
            f"`check` was rebound to a {type(user_check).__name__} of the notebook's own "
            "(the course's check was run instead)"
        )
    olds = [(module, before.get(module)), ("coursekit.checks", before.get("coursekit.checks"))]
    if isinstance(user_check, types.ModuleType) and user_check.__name__ == module:
        olds.append((module, user_check))
    for name, old_module in olds:
        if old_module is None:
            continue
        fresh = importlib.import_module(name)
        for attr, value in vars(fresh).items():
            if attr.startswith("_") or getattr(value, "__module__", None) != fresh.__name__:
                continue
            if not callable(value):
                continue
            if _fingerprint(getattr(old_module, attr, None)) != _fingerprint(value):
                note = (
                    f"`{name}.{attr}` was replaced in the notebook (the course's version was run)"
                )
                if note not in found:
                    found.append(note)
    return found


def run_check(
    module: str | None,
    name: str,
    arguments: Callable[[], tuple[tuple[Any, ...], dict[str, Any]]],
    before: dict[str, Any],
    user_check: Any,
) -> dict[str, Any]:
    """Evaluate check ``name`` of ``module`` (freshly imported) on the learner's answer.

    ``arguments`` evaluates the check call's arguments in the learner's namespace.
    ``module=None`` (a notebook that defines its own checks) uses ``user_check``'s function.
    Returns the verdict as a plain dict; prints nothing.
    """
    start = time.perf_counter()
    found = tampering(module, before, user_check)
    if module is not None:
        check = getattr(importlib.import_module(module), name)
    else:
        check = getattr(user_check, name)
    printed = io.StringIO()
    try:
        args, kwargs = arguments()
    except NameError as err:
        state = _state(check, "not yet", f"the check's input is missing ({err})")
    else:
        with contextlib.redirect_stdout(printed):
            verdict = check.evaluate(*args, **kwargs)
        state = _state(check, verdict.status, verdict.message, verdict.hint)
        state["exercise"], state["title"] = verdict.exercise, verdict.title
    if _VERDICT_LINE.search(printed.getvalue()):
        found.append("the learner's code printed a verdict line of its own during the check")
    state["tampering"] = found
    state["seconds"] = round(time.perf_counter() - start, 3)
    return state


def _state(check: Any, status: str, message: str, hint: str | None = None) -> dict[str, Any]:
    return {
        "exercise": str(getattr(check, "exercise_id", "")),
        "title": str(getattr(check, "title", "")),
        "status": str(status),
        "message": str(message),
        "hint": str(hint if hint is not None else getattr(check, "hint", "")),
    }


def emit(state: dict[str, Any], key: str) -> None:
    """Publish ``state`` with this check's ``key``; the grader reads nothing else."""
    from IPython.display import display

    display({MIME: {**state, "key": key}}, raw=True)
