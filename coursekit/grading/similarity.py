"""Near-identical exercise solutions across a room, for the instructor to look at.

Each solution (the lines a learner wrote for one exercise) is reduced to a token sequence in
which variable names are numbered by first use (``total``/``s`` both become ``v0``), strings
and numbers are placeholders and comments and whitespace are gone; attribute and function
names stay, since they are what the solution *does*. Two solutions are compared by the
Jaccard overlap of their 4-token shingles. A high overlap is a reason to look, not a verdict:
short exercises have few ways to be right, so solutions shorter than :data:`MIN_TOKENS` tokens
are never compared, and shingles that more than half of the room wrote (in a room of four or
more) are left out, as plagiarism detectors such as MOSS leave out common code: what remains
is what a pair shares and the room does not. The course's own solution takes part as
"(course solution)".
"""

from __future__ import annotations

import builtins
import io
import keyword
import tokenize
from collections import Counter
from collections.abc import Sequence
from itertools import combinations
from typing import Any

SHINGLE = 4
MIN_TOKENS = 12
THRESHOLD = 0.8
COURSE = "(course solution)"
COLUMNS = ["notebook", "exercise", "learner_a", "learner_b", "similarity"]
_KEEP = set(keyword.kwlist) | set(dir(builtins))


def normalise(code: str) -> list[str]:
    """The token sequence two copies of one solution share, whatever the names and spacing."""
    names: dict[str, str] = {}
    out: list[str] = []
    previous = ""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code + "\n").readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return code.split()
    for tok in tokens:
        if tok.type in (
            tokenize.COMMENT,
            tokenize.NL,
            tokenize.NEWLINE,
            tokenize.INDENT,
            tokenize.DEDENT,
            tokenize.ENDMARKER,
        ):
            continue
        if tok.type == tokenize.NAME and tok.string not in _KEEP and previous != ".":
            text = names.setdefault(tok.string, f"v{len(names)}")
        elif tok.type == tokenize.STRING:
            text = "S"
        elif tok.type == tokenize.NUMBER:
            text = "N"
        else:
            text = tok.string
        out.append(text)
        previous = tok.string
    return out


def shingles(tokens: Sequence[str], size: int = SHINGLE) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + size]) for i in range(max(1, len(tokens) - size + 1))}


def jaccard(a: set[Any], b: set[Any]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def similar_pairs(grades: Sequence[Any], threshold: float = THRESHOLD) -> list[dict[str, object]]:
    """Pairs of learners (and learner vs the course solution) per notebook and exercise."""
    import nbformat

    from coursekit import paths
    from coursekit.grading.engine import build_plan, exercise_code

    by_exercise: dict[tuple[str, str], dict[str, set[tuple[str, ...]]]] = {}
    for g in grades:
        for exercise, code in g.solutions.items():
            tokens = normalise(code)
            if len(tokens) >= MIN_TOKENS:
                by_exercise.setdefault((g.notebook, exercise), {})[g.learner] = shingles(tokens)
    references: dict[str, dict[str, str]] = {}
    rows = []
    for (notebook, exercise), learners in sorted(by_exercise.items()):
        common: set[tuple[str, ...]] = set()
        if len(learners) >= 4:
            counts = Counter(s for shingle_set in learners.values() for s in shingle_set)
            common = {s for s, n in counts.items() if n > len(learners) / 2}
        if notebook not in references:
            ref_path = paths.notebooks_dir() / notebook
            ref = nbformat.read(ref_path, as_version=4) if ref_path.exists() else None
            references[notebook] = exercise_code(build_plan(ref, ref), ref) if ref else {}
        course = normalise(references[notebook].get(exercise, ""))
        candidates = {name: sets - common for name, sets in learners.items() if sets - common}
        if len(course) >= MIN_TOKENS and shingles(course) - common:
            candidates[COURSE] = shingles(course) - common
        for a, b in combinations(sorted(candidates), 2):
            score = jaccard(candidates[a], candidates[b])
            if score >= threshold:
                first, second = (b, a) if a == COURSE else (a, b)
                rows.append(
                    {
                        "notebook": notebook,
                        "exercise": exercise,
                        "learner_a": first,
                        "learner_b": second,
                        "similarity": round(score, 2),
                    }
                )
    return sorted(rows, key=lambda r: (-float(r["similarity"]), r["notebook"], r["exercise"]))
