"""Exercise checks that give one friendly verdict line, never a traceback.

A check is a small function decorated with :func:`exercise`. Inside it, call
the learner's code through :func:`call` and state expectations with the
``expect_*`` helpers; each raises :class:`CheckFailed` with a specific message.
The decorator turns every outcome into one printed line::

    ✅ Exercise 01.1 · negation-safe stopword filter: passed.
    ❌ Exercise 01.1 · negation-safe stopword filter: not yet. 'not' was removed. Hint 1 of 2: ...
    ⏳ Exercise 01.1 · negation-safe stopword filter: not attempted yet.

Hints are **staged**: none before an attempt; the first failed run shows the first hint (a
nudge, no code), each further failed run (or ``check.hint("01.1")``) the next one; the last
hint still leaves the code to write. No hint is the solution.

In a notebook::

    from coursekit.checks import nb01 as check
    check.stopword_filter(remove_stopwords)

Per-notebook checks live in ``coursekit/checks/nbNN.py``. Each decorated check
also has ``.evaluate(...)`` which returns the :class:`Verdict` without printing and
without moving the hint ladder (its hint is the first one; the tests use it to prove that
every check can fail).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import math
import sys
import types
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

PASSED, NOT_YET, NOT_ATTEMPTED = "passed", "not yet", "not attempted"
_ICONS = {PASSED: "✅", NOT_YET: "❌", NOT_ATTEMPTED: "⏳"}

#: every exercise check defined in ``coursekit.checks.nbNN``, by exercise id
REGISTRY: dict[str, Callable[..., None]] = {}
#: how far up its hint ladder each exercise is in this kernel (failed runs + ``hint()`` calls)
_HINT_LEVEL: Counter[str] = Counter()
#: the exercises whose check passed in this kernel (for :func:`own_or_reference`)
_PASSED: set[str] = set()


class CheckFailed(Exception):
    """The answer is wrong in a way the message explains."""


class NotAttempted(Exception):
    """The exercise still holds its placeholder."""


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check."""

    exercise: str
    title: str
    status: str  # PASSED, NOT_YET or NOT_ATTEMPTED
    message: str = ""
    hint: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def line(self) -> str:
        head = f"{_ICONS[self.status]} Exercise {self.exercise} · {self.title}:"
        if self.passed:
            return f"{head} passed." + (f" {self.message}" if self.message else "")
        if self.status == NOT_ATTEMPTED:
            return f"{head} not attempted yet."
        body = f"not yet. {self.message}".rstrip()
        if not body.endswith((".", "!", "?")):
            body += "."
        return f"{head} {body}" + (f" {self.hint}" if self.hint else "")


def _hints(hint: str | Sequence[str]) -> tuple[str, ...]:
    return tuple(h for h in ((hint,) if isinstance(hint, str) else tuple(hint)) if h)


def _hint_text(hints: tuple[str, ...], level: int) -> str:
    """``"Hint 2 of 3: ..."`` for ``level`` (1-based, capped at the last hint)."""
    if not hints:
        return ""
    level = max(1, min(level, len(hints)))
    label = "Hint:" if len(hints) == 1 else f"Hint {level} of {len(hints)}:"
    return f"{label} {hints[level - 1]}"


def hint(ex_id: str) -> None:
    """Print the next hint of exercise ``ex_id`` (``check.hint("03.2")`` in a notebook)."""
    ex_id = str(ex_id)
    if ex_id not in REGISTRY:
        known = ", ".join(sorted(REGISTRY)) or "none loaded"
        print(f"There is no exercise {ex_id!r}; exercises with checks: {known}.")
        return
    check = REGISTRY[ex_id]
    hints = check.hints  # type: ignore[attr-defined]
    if not hints:
        print(f"Exercise {ex_id} has no hints: read the text above it once more.")
        return
    _HINT_LEVEL[ex_id] = min(len(hints), _HINT_LEVEL[ex_id] + 1)
    text = _hint_text(hints, _HINT_LEVEL[ex_id])
    last = _HINT_LEVEL[ex_id] == len(hints)
    print(
        f"💡 Exercise {ex_id} · {check.title}: {text}"  # type: ignore[attr-defined]
        + (
            " (That is the last hint: the rest is yours to write.)"
            if last and len(hints) > 1
            else ""
        )
    )


def exercise(
    ex_id: str, title: str, hint: str | Sequence[str] = ""
) -> Callable[[Callable[..., Any]], Any]:
    """Turn a check function into one that prints a single verdict line.

    The check function raises :class:`CheckFailed` (wrong), :class:`NotAttempted`
    (placeholder still there) or returns normally (passed; a returned string is
    appended as praise). Any other exception inside the checker is reported as a
    verdict too, never as a traceback. ``hint`` is one hint or a sequence of staged hints,
    from a nudge to the most specific (see the module docstring).
    """
    hints = _hints(hint)

    def decorate(check: Callable[..., Any]) -> Callable[..., None]:
        def evaluate(*args: Any, **kwargs: Any) -> Verdict:
            first = _hint_text(hints, 1)
            try:
                extra = check(*args, **kwargs)
            except NotAttempted as err:
                return Verdict(ex_id, title, NOT_ATTEMPTED, str(err))
            except CheckFailed as err:
                return Verdict(ex_id, title, NOT_YET, str(err), first)
            except Exception as err:  # the checker itself could not cope: still a verdict
                msg = f"the checker could not use your answer ({type(err).__name__}: {err})"
                return Verdict(ex_id, title, NOT_YET, _short(msg), first)
            return Verdict(ex_id, title, PASSED, extra if isinstance(extra, str) else "")

        @functools.wraps(check)
        def run(*args: Any, **kwargs: Any) -> None:
            verdict = evaluate(*args, **kwargs)
            if verdict.passed:
                _PASSED.add(ex_id)
            else:
                _PASSED.discard(ex_id)
            if verdict.status == NOT_YET:  # each failed run climbs one step of the ladder
                _HINT_LEVEL[ex_id] = min(max(1, len(hints)), _HINT_LEVEL[ex_id] + 1)
                verdict = replace(verdict, hint=_hint_text(hints, _HINT_LEVEL[ex_id]))
            print(verdict.line())

        run.evaluate = evaluate  # type: ignore[attr-defined]
        run.exercise_id = ex_id  # type: ignore[attr-defined]
        run.title = title  # type: ignore[attr-defined]
        run.hints = hints  # type: ignore[attr-defined]
        run.hint = _hint_text(hints, 1)  # type: ignore[attr-defined]
        REGISTRY[ex_id] = run
        return run

    return decorate


def passed(ex_id: str) -> bool:
    """Whether exercise ``ex_id``'s check passed on its latest run in this kernel."""
    return str(ex_id) in _PASSED


def own_or_reference(own: Any, reference: Any, ex_id: str, what: str) -> Any:
    """The learner's piece if exercise ``ex_id`` passed, else the course's, saying so.

    Later cells build on the learner's code (their attention inside their GPT block, their
    sampler on the copywriter); while the exercise is not passed, they use ``reference``
    instead and print one line, so "Run All" still reaches the end.
    """
    if passed(ex_id):
        print(f"Using your {what} (exercise {ex_id} passed).")
        return own
    print(f"Using coursekit's {what}: exercise {ex_id} is not passed yet, so yours is not used.")
    return reference


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_placeholder(value: Any) -> bool:
    return value is None or value is Ellipsis


def require_attempted(value: Any, name: str) -> Any:
    """Raise :class:`NotAttempted` while ``value`` is still ``None`` or ``...``."""
    if _is_placeholder(value):
        raise NotAttempted(f"`{name}` is still {value!r}")
    return value


def call(fn: Any, *args: Any, name: str | None = None, **kwargs: Any) -> Any:
    """Call the learner's function; turn its exceptions into verdicts.

    ``NotImplementedError`` (the learner placeholder) means not attempted; any
    other exception is reported with its type and message.
    """
    label = name or getattr(fn, "__name__", "your function")
    if _is_placeholder(fn):
        raise NotAttempted(f"`{label}` is still {fn!r}")
    if not callable(fn):
        raise CheckFailed(f"`{label}` should be a function, but it is a {type(fn).__name__}")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise NotAttempted(f"`{label}` still raises NotImplementedError") from None
    except Exception as err:
        raise CheckFailed(_short(f"`{label}` raised {type(err).__name__}: {err}")) from None


def expect(condition: bool, message: str) -> None:
    """Fail with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(message)


def expect_type(value: Any, types: type | tuple[type, ...], name: str) -> None:
    """``value`` must be an instance of ``types``."""
    if not isinstance(value, types):
        wanted = (
            " or ".join(t.__name__ for t in types) if isinstance(types, tuple) else types.__name__
        )
        raise CheckFailed(f"`{name}` should be a {wanted}, but it is a {type(value).__name__}")


def expect_number_map(value: Any, name: str) -> dict[str, float]:
    """``value`` (a dict or a pandas Series) must map labels to numbers; returns ``{str: float}``."""
    if hasattr(value, "to_dict"):
        value = value.to_dict()
    expect_type(value, dict, name)
    try:
        return {str(k): float(v) for k, v in value.items()}
    except (TypeError, ValueError):
        raise CheckFailed(f"`{name}` should map each label to a number") from None


def _shape_of(value: Any) -> tuple[int, ...] | None:
    shape = getattr(value, "shape", None)
    return tuple(int(s) for s in shape) if shape is not None else None


def expect_shape(value: Any, shape: Sequence[int], name: str) -> None:
    """``value`` (tensor or array) must have exactly ``shape``."""
    got = _shape_of(value)
    if got is None:
        raise CheckFailed(
            f"`{name}` should be a tensor or array of shape {tuple(shape)}, "
            f"but it is a {type(value).__name__}"
        )
    if got != tuple(shape):
        raise CheckFailed(f"`{name}` has shape {got}, expected {tuple(shape)}")


def _to_numpy(value: Any) -> Any:
    import numpy as np

    if hasattr(value, "detach"):
        value = value.detach().cpu()
        if hasattr(value, "float") and str(value.dtype).startswith(
            ("torch.bfloat16", "torch.float16")
        ):
            value = value.float()
        return value.numpy()
    return np.asarray(value)


def expect_close(
    actual: Any, expected: Any, name: str, atol: float = 1e-5, rtol: float = 1e-4
) -> None:
    """Numbers, arrays or tensors must match ``expected`` within tolerance.

    The message says the shape mismatch, or the largest difference and where.
    """
    import numpy as np

    if _is_placeholder(actual):
        raise NotAttempted(f"`{name}` is still {actual!r}")
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        try:
            value = float(_to_numpy(actual))
        except (TypeError, ValueError):
            raise CheckFailed(
                f"`{name}` should be a number, but it is a {type(actual).__name__}"
            ) from None
        if math.isnan(value) or not math.isclose(value, expected, rel_tol=rtol, abs_tol=atol):
            raise CheckFailed(f"`{name}` is {value:.6g}, expected about {expected:.6g}")
        return
    try:
        got = np.asarray(_to_numpy(actual), dtype=float)
    except (TypeError, ValueError):
        raise CheckFailed(
            f"`{name}` should be numeric, but it is a {type(actual).__name__}"
        ) from None
    want = np.asarray(_to_numpy(expected), dtype=float)
    if got.shape != want.shape:
        raise CheckFailed(f"`{name}` has shape {tuple(got.shape)}, expected {tuple(want.shape)}")
    if np.isnan(got).any():
        raise CheckFailed(f"`{name}` contains NaN")
    diff = np.abs(got - want)
    if not np.all(diff <= atol + rtol * np.abs(want)):
        where = tuple(int(i) for i in np.unravel_index(int(diff.argmax()), diff.shape))
        raise CheckFailed(
            f"`{name}` is off by up to {float(diff.max()):.3g} (at index {where}: "
            f"got {float(got[where]):.4g}, expected {float(want[where]):.4g})"
        )


def expect_equal(actual: Any, expected: Any, name: str) -> None:
    """``actual == expected``; the message shows both (shortened)."""
    if _is_placeholder(actual) and not _is_placeholder(expected):
        raise NotAttempted(f"`{name}` is still {actual!r}")
    if actual != expected:
        raise CheckFailed(_short(f"`{name}` is {actual!r}, expected {expected!r}"))


# --------------------------------------------------------------------------- your own work


class UsedReference(CheckFailed):
    """The learner's code called the implementation the exercise asks them to write."""


def _owner(path: str) -> Any:
    """The module or class that holds the last name of ``path`` (``pkg.mod.f``, ``pkg.Class.m``)."""
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            with warnings.catch_warnings():  # a library's deprecated alias module, tried in passing
                warnings.simplefilter("ignore", DeprecationWarning)
                owner = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for part in parts[cut:-1]:
                owner = getattr(owner, part)
        except AttributeError:
            continue
        if not hasattr(owner, parts[-1]):
            continue
        if isinstance(owner, type):  # the class that defines it, not a subclass inheriting it
            owner = next(k for k in owner.__mro__ if parts[-1] in vars(k))
        return owner
    raise ImportError(f"cannot find `{path}`: check the forbid list's spelling")


def _resolve(path: str) -> Any:
    return getattr(_owner(path), path.rpartition(".")[2])


def _learner_globals(fn: Any) -> list[dict[str, Any]]:
    """The global namespaces the learner's code runs in (a function's, a class's methods')."""
    seen: list[dict[str, Any]] = []
    targets = [fn] if not isinstance(fn, type) else list(vars(fn).values())
    if not isinstance(fn, (type, types.FunctionType)) and hasattr(type(fn), "__dict__"):
        targets += list(vars(type(fn)).values())  # an instance: its class's methods
    for target in targets:
        target = getattr(target, "__func__", target)
        namespace = getattr(target, "__globals__", None)
        if isinstance(namespace, dict) and all(namespace is not g for g in seen):
            seen.append(namespace)
    return seen


def _closure_cells(fn: Any) -> list[Any]:
    cells = []
    targets = [fn] if not isinstance(fn, type) else list(vars(fn).values())
    for target in targets:
        target = getattr(target, "__func__", target)
        for cell in getattr(target, "__closure__", None) or ():
            try:
                cell.cell_contents  # noqa: B018 (an empty cell raises)
            except ValueError:
                continue
            cells.append(cell)
    return cells


def _wired(label: str, original: Any, used: list[str]) -> Any:
    if isinstance(original, type):  # a class: a subclass that records its construction

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            used.append(label)
            original.__init__(self, *args, **kwargs)

        return type(original.__name__, (original,), {"__init__": __init__})

    @functools.wraps(original)
    def wired(*args: Any, **kwargs: Any) -> Any:
        used.append(label)
        return original(*args, **kwargs)

    return wired


@contextlib.contextmanager
def tripwires(learner: Any, forbid: Sequence[str]) -> Iterator[list[str]]:
    """While inside, every ``forbid`` path (``"coursekit.tokenization.train_bpe"``) records a call.

    The reference stays reachable and still works (the learner's code runs as written); the
    yielded list names each forbidden thing it used. Patched: the defining module, every
    ``coursekit`` module and every module the learner's namespace holds, and the learner's own
    global names (``from coursekit.tokenization import train_bpe`` is caught too).
    """
    used: list[str] = []
    patches: list[tuple[Any, str, Any]] = []
    spaces = _learner_globals(learner)
    modules = [m for n, m in list(sys.modules.items()) if n.split(".")[0] == "coursekit"]
    modules += [v for g in spaces for v in g.values() if isinstance(v, types.ModuleType)]
    try:
        for path in forbid:
            original = _resolve(path)
            owner = _owner(path)
            label = path.rpartition(".")[2]
            if isinstance(owner, type):  # a method: say whose (``SentenceTransformer.encode``)
                label = f"{owner.__name__}.{label}"
            wire = _wired(label, original, used)
            owners = [owner, *modules]
            for owner in owners:
                for name, value in list(vars(owner).items()):
                    if value is original:
                        patches.append((owner, name, value))
                        setattr(owner, name, wire)
            for space in spaces:
                for name, value in list(space.items()):
                    if value is original:
                        patches.append((space, name, value))
                        space[name] = wire
            for cell in _closure_cells(learner):  # a name captured from an enclosing function
                if cell.cell_contents is original:
                    patches.append((cell, "cell_contents", original))
                    cell.cell_contents = wire
        yield used
    finally:
        for owner, name, value in reversed(patches):
            if isinstance(owner, dict):
                owner[name] = value
            else:
                setattr(owner, name, value)


def call_own(
    fn: Any, *args: Any, forbid: Sequence[str] = (), name: str | None = None, **kwargs: Any
) -> Any:
    """:func:`call`, failing kindly if the learner's code used a ``forbid`` implementation.

    The exercise asks the learner to write the thing; calling the course's (or a library's)
    version of it does not pass: the message says which one, and to write their own.
    """
    for (
        path
    ) in forbid:  # the answer IS the ready-made function (``thompson_step = ex.thompson_choose``)
        if fn is _resolve(path):
            raise UsedReference(
                f"`{name or getattr(fn, '__name__', 'your function')}` is coursekit's (or the "
                f"library's) `{path.rpartition('.')[2]}` itself: write your own, then run the "
                "check again"
            )
    with tripwires(fn, forbid) as used:
        result = call(fn, *args, name=name, **kwargs)
    if used:  # the first one is what the learner called (the rest are its own calls)
        raise UsedReference(
            f"your code calls `{used[0]}`, the ready-made version of what this exercise asks "
            "you to build: write your own, then run the check again"
        )
    return result


__all__ = [
    "NOT_ATTEMPTED",
    "NOT_YET",
    "PASSED",
    "REGISTRY",
    "CheckFailed",
    "NotAttempted",
    "Verdict",
    "UsedReference",
    "call",
    "call_own",
    "exercise",
    "expect",
    "expect_close",
    "expect_equal",
    "expect_shape",
    "expect_type",
    "hint",
    "own_or_reference",
    "passed",
    "require_attempted",
    "tripwires",
]
