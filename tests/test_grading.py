"""`coursekit grade` on a room of crafted submissions, and `coursekit check` on tampered ones.

The course here is notebook 00's exercise section (its real cells, ids and checks) in a
temporary course folder, so every submission runs in a few seconds. Each crafted submission
is graded as what its code really does.
"""

from __future__ import annotations

import csv
import json
import os

import nbformat
import pytest

from coursekit import learner, paths
from coursekit.cli import main
from coursekit.grading import similarity
from coursekit.grading.engine import build_plan, grade_notebook

NAME = "00_setup_and_tour.ipynb"
KEEP = ["3cac2a10", "02edef06", "698126ae", "5005965d", "2f5066c5", "30645002"]
KEEP += ["6f7f8f90", "40fef0db", "c55e00ef", "f5749a1b"]
SHARES, WORST = "5005965d", "6f7f8f90"  # the two exercise cells
CHECK_SHARES, CHECK_WORST = "2f5066c5", "40fef0db"
SOLVED_SHARES = (
    "from coursekit.checks import nb00 as check\n\n"
    "train = reviews[reviews.split == 'train']\n"
    "counts = train['label'].value_counts()\n"
    "total = counts.sum()\n"
    "label_shares = {label: count / total for label, count in counts.items()}"
)
COPIED_SHARES = (  # the same solution with other names and spacing
    "from coursekit.checks import nb00 as check\n\n"
    "tr = reviews[reviews.split=='train']\n"
    "c = tr['label'].value_counts()   # counts\n"
    "n = c.sum()\n"
    "label_shares = {lab: k / n for lab, k in c.items()}"
)
OTHER_SHARES = {  # honest learners: the same answer, written each their own way
    "alice": "label_shares = reviews.loc[reviews.split == 'train', 'label'].value_counts(normalize=True).to_dict()",
    "carol": "sub = reviews[reviews.split == 'train']\nlabel_shares = {lab: (sub.label == lab).mean() for lab in sub.label.unique()}",
    "erin": "label_shares = dict(reviews[reviews.split == 'train'].label.value_counts(normalize=True))",
    "ivan": "train = reviews.query(\"split == 'train'\")\nlabel_shares = train.label.value_counts() / len(train)",
    "oscar": "label_shares = reviews[reviews['split'].eq('train')]['label'].value_counts(normalize=True)",
    "peggy": "t = reviews[reviews.split == 'train']\nlabel_shares = (t.groupby('label').size() / len(t)).to_dict()",
}
IMPORT = "from coursekit.checks import nb00 as check\n\n"
SOLVED_WORST = "worst_category = reviews.groupby('category')['rating'].mean().idxmin()"
FAKE = "✅ Exercise 00.1 · label shares in the training split: passed."


def _course(root):
    real = nbformat.read(paths.notebooks_dir() / NAME, as_version=4)
    nb = nbformat.from_dict(real)
    nb.cells = [c for c in real.cells if c.get("id") in KEEP]
    load = nbformat.v4.new_code_cell("from coursekit import data\n\nreviews = data.load_reviews()")
    load.id = "load-reviews"
    nb.cells.insert(2, load)
    (root / "notebooks").mkdir()
    nbformat.write(nb, root / "notebooks" / NAME)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    saved = {k: os.environ.get(k) for k in ("COURSEKIT_ROOT", "COURSEKIT_DATA")}
    data_dir = paths.data_dir()
    _course(root)
    os.environ["COURSEKIT_ROOT"], os.environ["COURSEKIT_DATA"] = str(root), str(data_dir)
    assert main(["learner"]) == 0
    yield root
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _blank(course):
    return nbformat.read(course / "notebooks" / "learner" / NAME, as_version=4)


def _cell(nb, cell_id):
    return next(c for c in nb.cells if c.get("id") == cell_id)


def _submission(course, **sources):
    """The blank learner notebook with the given cells' sources replaced (by cell id)."""
    nb = _blank(course)
    for cell_id, source in sources.items():
        _cell(nb, cell_id.strip("_")).source = source
    return nb


def _insert_before(nb, cell_id, source):
    index = next(i for i, c in enumerate(nb.cells) if c.get("id") == cell_id)
    nb.cells.insert(index, nbformat.v4.new_code_cell(source))
    return nb


@pytest.fixture(scope="module")
def room(course, tmp_path_factory):
    """A folder of crafted submissions, graded once with `coursekit grade`."""
    folder = tmp_path_factory.mktemp("submissions")
    solved = {f"_{SHARES}": SOLVED_SHARES, f"_{WORST}": SOLVED_WORST}

    def own(name, worst=SOLVED_WORST):
        sources = {f"_{SHARES}": IMPORT + OTHER_SHARES[name]}
        if worst:
            sources[f"_{WORST}"] = worst
        return _submission(course, **sources)

    rooms = {
        "alice": own("alice"),
        "bob": _blank(course),
        "carol": own("carol", worst=None),
        "dave": _submission(
            course,
            **{f"_{SHARES}": "label_shares = {'positive': 0.5,,}", f"_{WORST}": SOLVED_WORST},
        ),
        "erin": own("erin", worst="while True:\n    pass"),
        # the repro: a class that prints the success line, bound to `check`
        "frank": _insert_before(
            _submission(course, **{f"_{SHARES}": f"label_shares = None\nprint({FAKE!r})"}),
            CHECK_SHARES,
            "class Fake:\n    def __getattr__(self, name):\n"
            f"        return lambda *a, **k: print({FAKE!r})\ncheck = Fake()",
        ),
        "grace": _submission(
            course, **{f"_{CHECK_SHARES}": f"print({FAKE!r})", f"_{WORST}": SOLVED_WORST}
        ),
        "heidi": _insert_before(
            _blank(course),
            CHECK_SHARES,
            "import coursekit.checks as base\nimport coursekit.checks.nb00 as m\n"
            f"m.label_shares = lambda *a: print({FAKE!r})\n"
            "base.Verdict.passed = property(lambda self: True)",
        ),
        "judy": _submission(course, **solved),
        "mallory": _submission(course, **{f"_{SHARES}": COPIED_SHARES, f"_{WORST}": SOLVED_WORST}),
    }
    for name, nb in rooms.items():
        (folder / name).mkdir()
        nbformat.write(nb, folder / name / NAME)
    peggy = own("peggy")  # deleted the second check cell
    peggy.cells = [c for c in peggy.cells if c.get("id") != CHECK_WORST]
    (folder / "peggy").mkdir()
    nbformat.write(peggy, folder / "peggy" / NAME)
    ivan = own("ivan")  # renamed file
    (folder / "ivan").mkdir()
    nbformat.write(ivan, folder / "ivan" / "Untitled (1).ipynb")
    nbformat.write(own("oscar"), folder / f"oscar_{NAME}")  # flat layout
    (folder / "trent").mkdir()
    (folder / "trent" / NAME).write_text("{ this is not a notebook")

    out = tmp_path_factory.mktemp("grades")
    export = out / "gradebook.csv"
    args = ["grade", str(folder), "--out", str(out), "--export", str(export), "--timeout", "10"]
    assert main([*args, "--jobs", "2"]) == 0
    with open(out / "grades.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with open(out / "submissions.csv", encoding="utf-8") as fh:
        subs = {r["learner"]: r for r in csv.DictReader(fh)}
    return {"folder": folder, "out": out, "rows": rows, "subs": subs, "export": export}


def _passed(room, name):
    return {r["exercise"]: r["passed"] == "True" for r in room["rows"] if r["learner"] == name}


EXPECTED = {
    "alice": (True, True),
    "bob": (False, False),
    "carol": (True, False),
    "dave": (False, True),
    "erin": (True, False),
    "frank": (False, False),
    "grace": (False, True),
    "heidi": (False, False),
    "ivan": (True, True),
    "judy": (True, True),
    "mallory": (True, True),
    "oscar": (True, True),
    "peggy": (True, True),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_submission_is_graded_as_what_its_code_does(room, name):
    assert _passed(room, name) == dict(zip(["00.1", "00.2"], EXPECTED[name], strict=True))


def test_tampering_is_reported_and_honest_work_is_not_flagged(room):
    subs = room["subs"]
    for name in ("alice", "bob", "carol", "ivan", "judy", "mallory", "oscar"):
        assert subs[name]["tampering"] == "", (name, subs[name]["tampering"])
    assert "`check` was rebound to a Fake" in subs["frank"]["tampering"]
    assert "verdict lines printed by the learner's own code" in subs["frank"]["tampering"]
    assert "check cell of exercise 00.1 (cell" in subs["grace"]["tampering"]
    assert "was edited" in subs["grace"]["tampering"]
    assert "`coursekit.checks.nb00.label_shares` was replaced" in subs["heidi"]["tampering"]
    assert "`coursekit.checks.Verdict` was replaced" in subs["heidi"]["tampering"]
    assert "check cell of exercise 00.2 was missing" in subs["peggy"]["tampering"]


def test_broken_slow_and_unreadable_submissions_say_what_happened(room):
    subs, rows = room["subs"], room["rows"]
    assert "SyntaxError" in subs["dave"]["errors"]
    erin = next(r for r in rows if r["learner"] == "erin" and r["exercise"] == "00.2")
    assert "stopped after 10 s" in subs["erin"]["errors"]
    assert "not attempted" not in erin["status"] or "worst_category" in erin["message"]
    assert "not a readable notebook" in subs["trent"]["errors"]
    assert not [r for r in rows if r["learner"] == "trent"]  # nothing was run
    assert "not defined" in next(
        r["message"] for r in rows if r["learner"] == "dave" and r["exercise"] == "00.1"
    )


def test_learners_are_named_by_folder_or_file_and_renamed_files_are_recognised(room):
    learners = {r["learner"] for r in room["rows"]}
    assert {"ivan", "oscar"} <= learners and f"oscar_{NAME}" not in learners
    ivan = room["subs"]["ivan"]
    assert ivan["notebook"] == NAME and ivan["file"].endswith("Untitled (1).ipynb")


def test_similarity_report_lists_the_copied_pair_and_not_honest_work(room):
    with open(room["out"] / "similarity.csv", encoding="utf-8") as fh:
        pairs = {(r["learner_a"], r["learner_b"], r["exercise"]) for r in csv.DictReader(fh)}
    assert ("judy", "mallory", "00.1") in pairs  # mallory renamed judy's names
    assert ("alice", "(course solution)", "00.1") in pairs  # alice handed in the course's
    honest = {"carol", "erin", "ivan", "oscar", "peggy", "bob"}
    assert not [p for p in pairs if honest & set(p[:2])], pairs
    assert not any(ex == "00.2" for *_, ex in pairs)  # most of the room writes the same line


def test_reports_feedback_summary_and_export(room):
    out = room["out"]
    alice = (out / "feedback" / "alice.html").read_text(encoding="utf-8")
    bob = (out / "feedback" / "bob.html").read_text(encoding="utf-8")
    assert "2/2 exercises passed" in alice and "0/2 exercises passed" in bob
    dave = (out / "feedback" / "dave.html").read_text(encoding="utf-8")
    assert "Hint 1 of 2: Only the training split counts" in dave  # a wrong attempt: first hint
    assert "Hint" not in bob  # blank: no hint before an attempt
    summary = (out / "summary.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in summary and "Stuck" in summary and "dave" in summary
    with open(room["export"], encoding="utf-8") as fh:
        book = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert book["alice"]["00"] == "2" and book["bob"]["00"] == "0" and book["carol"]["total"] == "1"
    assert book["alice"]["max"] == "2" and "trent" not in book or book["trent"]["total"] == "0"


def test_room_summary_counts_pass_rates_and_stuck_learners(room):
    from coursekit.grading import room as room_mod
    from coursekit.grading.engine import NotebookGrade

    data = json.loads((room["out"] / "grades.json").read_text(encoding="utf-8"))
    grades = [NotebookGrade.from_dict(g) for g in data]
    summary = room_mod.room_summary(grades)
    rate = {e["exercise"]: e for e in summary["exercises"]}
    graded = [g for g in grades if g.exercises]
    assert rate["00.1"]["learners"] == len(graded)
    assert rate["00.1"]["passed"] == sum(EXPECTED[g.learner][0] for g in graded)
    stuck = {(s["learner"], s["exercise"]) for s in summary["stuck"]}
    assert ("dave", "00.1") in stuck and ("erin", "00.2") in stuck
    assert not any(name == "bob" for name, _ in stuck)  # not started is not stuck


def test_watch_regrades_only_changed_files(room, course, capsys):
    out, folder = room["out"], room["folder"]
    before = {g["learner"]: g for g in json.loads((out / "grades.json").read_text())}
    nbformat.write(_submission(course, **{f"_{SHARES}": SOLVED_SHARES}), folder / "bob" / NAME)
    args = ["grade", str(folder), "--out", str(out), "--watch", "0", "--rounds", "1"]
    assert main([*args, "--timeout", "10"]) == 0
    after = {g["learner"]: g for g in json.loads((out / "grades.json").read_text())}
    assert after["alice"]["digest"] == before["alice"]["digest"], (
        before["alice"]["digest"],
        after["alice"]["digest"],
    )
    assert after["alice"]["seconds"] == before["alice"]["seconds"]  # reused, not re-run
    assert [e["status"] for e in after["bob"]["exercises"]] == ["passed", "not attempted"]


def test_grade_refuses_an_output_folder_inside_the_submissions(room, capsys):
    assert main(["grade", str(room["folder"]), "--out", str(room["folder"] / "grades")]) == 2
    assert "inside the submissions folder" in capsys.readouterr().err


def test_check_command_uses_the_courses_checks_not_the_notebooks(course, tmp_path, capsys):
    nb = _insert_before(
        _blank(course),
        CHECK_SHARES,
        "class Fake:\n    def __getattr__(self, name):\n"
        f"        return lambda *a, **k: print({FAKE!r})\ncheck = Fake()",
    )
    path = course / "notebooks" / "learner" / "fake" / NAME
    path.parent.mkdir(exist_ok=True)
    nbformat.write(nb, path)
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "0/2 exercises passed" in out and "`check` was rebound" in out


def test_plan_matches_checks_by_exercise_not_position(course):
    """A moved check cell still runs its own check, after the cells that come before it."""
    ref = nbformat.read(course / "notebooks" / NAME, as_version=4)
    nb = _submission(course, **{f"_{SHARES}": SOLVED_SHARES, f"_{WORST}": SOLVED_WORST})
    a = next(i for i, c in enumerate(nb.cells) if c.get("id") == CHECK_SHARES)
    b = next(i for i, c in enumerate(nb.cells) if c.get("id") == CHECK_WORST)
    nb.cells[a], nb.cells[b] = nb.cells[b], nb.cells[a]  # the two check cells swapped
    plan = build_plan(nb, ref)
    assert [c.exercise for c in plan.calls] == ["00.2", "00.1"]
    assert any("moved out of the course's order" in t for t in plan.tampering)
    assert len({c.key for c in plan.calls}) == 2  # a fresh key per check
    assert all(c.key not in "".join(x.source for x in nb.cells) for c in plan.calls)
    path = course / "swapped.ipynb"
    nbformat.write(nb, path)
    grade = grade_notebook(path, course / "notebooks" / NAME, cell_timeout=30)
    # graded in the learner's order: 00.2's check now runs before its answer is written
    assert [(e.exercise, e.status) for e in grade.exercises] == [
        ("00.2", "not yet"),
        ("00.1", "passed"),
    ]
    assert "worst_category" in grade.exercises[0].message


def test_a_forged_verdict_output_is_ignored(course, tmp_path):
    forge = (
        "from IPython.display import display\n"
        "display({'application/vnd.coursekit.verdict+json': {'exercise': '00.1', 'status': "
        "'passed', 'key': 'guess'}}, raw=True)"
    )
    nb = _insert_before(_blank(course), CHECK_SHARES, forge)
    path = tmp_path / NAME
    nbformat.write(nb, path)
    grade = grade_notebook(path, course / "notebooks" / NAME, cell_timeout=30)
    assert [e.status for e in grade.exercises] == ["not attempted", "not attempted"]
    assert any("verdict format" in t for t in grade.tampering)


def test_normalised_similarity_ignores_names_spacing_and_comments():
    a = similarity.normalise("total = sum(x * 2 for x in values)  # doubled")
    b = similarity.normalise("s=sum(v*3 for v in vals)")
    c = similarity.normalise("total = max(values)")
    assert a == b and a != c
    assert similarity.jaccard(similarity.shingles(a), similarity.shingles(b)) == 1.0


def test_blank_learner_notebook_of_the_course_has_no_solution_code():
    ref = nbformat.read(paths.notebooks_dir() / NAME, as_version=4)
    blank = learner.make_learner_notebook(ref, NAME)
    from coursekit.grading.engine import exercise_code

    assert all(code == "" for code in exercise_code(build_plan(blank, ref), ref).values())
    solved = exercise_code(build_plan(ref, ref), ref)
    assert "value_counts(normalize=True)" in solved["00.1"]
