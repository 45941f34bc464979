"""The instructor's reports for a graded room (``coursekit grade`` writes them into ``--out``).

* ``grades.csv``: one row per learner, notebook and exercise (learner, notebook, exercise,
  title, passed, status, message, seconds, file);
* ``submissions.csv``: one row per graded file (exercises passed, errors, what was tampered
  with, seconds);
* ``feedback/<learner>.html``: each exercise's verdict and hint, for the learner;
* ``summary.html``: pass rate per exercise with a chart, the most common failure messages,
  who is stuck where, tampering, near-identical solutions;
* ``similarity.csv``: pairs of submissions with near-identical solutions, to look at;
* ``grades.json``: everything, for ``--watch`` to reuse unchanged submissions' grades;
* with ``--export``, a gradebook CSV (one row per learner) for an LMS or a spreadsheet.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
import time
from collections.abc import Sequence
from pathlib import Path

from coursekit.grading import similarity
from coursekit.grading.engine import NotebookGrade
from coursekit.grading.room import (
    GRADES_COLUMNS,
    grade_rows,
    room_summary,
    submission_rows,
)

#: the gradebook export's id column (see docs/instructor_guide.md)
EXPORT_ID = "student_id"


def _write_csv(path: Path, rows: Sequence[dict[str, object]], columns: Sequence[str]) -> None:
    import csv

    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)


def _html_table(rows: Sequence[dict[str, object]]) -> str:
    if not rows:
        return "<p>(none)</p>"
    columns = list(rows[0].keys())
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse;margin:1rem 0}}td,th{{border:1px solid #ccc;padding:.3rem .5rem;
text-align:left;vertical-align:top}}.passed{{color:#1a7f37}}.not-yet{{color:#b35900}}</style>
</head><body><h1>{title}</h1>{body}</body></html>"""

_ICON = {"passed": "✅", "not yet": "❌", "not attempted": "⏳"}


def feedback_page(learner_name: str, grades: Sequence[NotebookGrade]) -> str:
    """The learner's page: per notebook, each exercise's verdict, message and hint."""
    body = []
    for g in grades:
        body.append(f"<h2>{html.escape(g.notebook or Path(g.file).name)}</h2>")
        body.append(f"<p>{g.passed}/{len(g.exercises)} exercises passed.</p>")
        rows = "".join(
            f"<tr class='{e.status.replace(' ', '-')}'><td>{html.escape(e.exercise)}</td>"
            f"<td>{html.escape(e.title)}</td><td>{_ICON.get(e.status, '')} {html.escape(e.status)}"
            f"</td><td>{html.escape(e.message)}</td><td>{html.escape(e.hint)}</td></tr>"
            for e in g.exercises
        )
        body.append(
            "<table><thead><tr><th>exercise</th><th>title</th><th>result</th><th>what the check "
            f"found</th><th>hint</th></tr></thead><tbody>{rows}</tbody></table>"
        )
        for heading, items in (
            ("Cells that raised an error", g.errors),
            ("Noted by the grader", g.tampering + g.notes),
        ):
            if items:
                body.append(f"<h3>{heading}</h3><ul>")
                body.extend(f"<li>{html.escape(i)}</li>" for i in items)
                body.append("</ul>")
    return _PAGE.format(title=f"Feedback for {html.escape(learner_name)}", body="".join(body))


def _chart(exercises: Sequence[dict[str, object]]) -> str:
    """Pass rate per exercise as an inline PNG (seaborn, the course's style)."""
    if not exercises:
        return ""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd
    import seaborn as sns

    frame = pd.DataFrame(exercises)
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(frame) + 1.2))
    sns.barplot(data=frame, y="exercise", x="pass rate", hue="notebook", ax=ax, dodge=False)
    ax.set_xlim(0, 1)
    ax.set_title("Share of the room that passed each exercise")
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return f"<img alt='pass rate per exercise' src='data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}'>"


def write_reports(
    grades: Sequence[NotebookGrade],
    out: Path,
    export: Path | None = None,
    pairs: Sequence[dict[str, object]] | None = None,
) -> dict[str, Path]:
    """Write every report into ``out``; returns their paths by name."""
    out = Path(out)
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    pairs = similarity.similar_pairs(grades) if pairs is None else pairs
    files = {
        "grades": out / "grades.csv",
        "submissions": out / "submissions.csv",
        "similarity": out / "similarity.csv",
        "summary": out / "summary.html",
    }
    _write_csv(files["grades"], grade_rows(grades), GRADES_COLUMNS)
    subs = submission_rows(grades)
    _write_csv(files["submissions"], subs, list(subs[0]) if subs else ["learner"])
    _write_csv(files["similarity"], pairs, similarity.COLUMNS)
    by_learner: dict[str, list[NotebookGrade]] = {}
    for g in grades:
        by_learner.setdefault(g.learner, []).append(g)
    for name, own in by_learner.items():
        page = out / "feedback" / f"{_safe(name)}.html"
        page.write_text(feedback_page(name, own), encoding="utf-8")
        files[f"feedback:{name}"] = page
    summary = room_summary(grades)
    body = (
        f"<p>{len(grades)} notebook(s) of {len(by_learner)} learner(s), graded "
        f"{time.strftime('%Y-%m-%d %H:%M')}.</p>"
        + _chart(summary["exercises"])
        + "<h2>Pass rate per exercise</h2>"
        + _html_table(summary["exercises"])
        + "<h2>Most common failure messages</h2>"
        + _html_table(summary["failures"])
        + "<h2>Stuck (first exercise tried and not passed)</h2>"
        + _html_table(summary["stuck"])
        + "<h2>Tampering noted by the grader</h2>"
        + _html_table(
            [
                {"learner": g.learner, "notebook": g.notebook, "what": t}
                for g in grades
                for t in g.tampering
            ]
        )
        + "<h2>Near-identical solutions (to look at, not a verdict)</h2>"
        + _html_table(pairs)
    )
    files["summary"].write_text(_PAGE.format(title="Room summary", body=body), encoding="utf-8")
    if export is not None:
        export_gradebook(grades, Path(export))
        files["export"] = Path(export)
    (out / "grades.json").write_text(
        json.dumps([g.to_dict() for g in grades], indent=1), encoding="utf-8"
    )
    return files


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "learner"


def export_gradebook(grades: Sequence[NotebookGrade], path: Path) -> None:
    """One row per learner: ``student_id``, exercises passed per notebook, ``total``, ``max``.

    The notebook columns are named by their number (``00``, ``01``…): map each to a gradebook
    column on import (Canvas, Moodle and Blackboard all import a CSV keyed by a student id).
    """
    notebooks = sorted({g.notebook for g in grades if g.notebook})
    maxima = {nb: max(len(g.exercises) for g in grades if g.notebook == nb) for nb in notebooks}
    rows = []
    for name in sorted({g.learner for g in grades}):
        row: dict[str, object] = {EXPORT_ID: name}
        for nb in notebooks:
            own = [g for g in grades if g.learner == name and g.notebook == nb]
            row[nb[:2]] = own[0].passed if own else 0
        row["total"] = sum(int(row[nb[:2]]) for nb in notebooks)  # type: ignore[call-overload]
        row["max"] = sum(maxima.values())
        rows.append(row)
    _write_csv(path, rows, [EXPORT_ID, *(nb[:2] for nb in notebooks), "total", "max"])
