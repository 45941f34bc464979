"""The Colab set-up cell and the launch links (coursekit/colab.py)."""

from __future__ import annotations

import builtins
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coursekit import colab

ROOT = Path(__file__).resolve().parent.parent


def _run_cell(cell: str, monkeypatch, *, installed: bool) -> tuple[list[list[str]], list[dict]]:
    """Execute the set-up cell with subprocess.run and coursekit.setup recorded, not run."""
    import coursekit

    commands: list[list[str]] = []
    setups: list[dict] = []

    def fake_run(cmd, check=False, **kwargs):
        commands.append(list(cmd))
        if cmd[:2] == ["git", "clone"]:
            Path(cmd[-1], "notebooks").mkdir(parents=True)
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setattr(coursekit, "setup", lambda **kw: setups.append(kw))
    monkeypatch.setattr(sys, "path", list(sys.path))
    if not installed:
        real_import = builtins.__import__
        refused = []

        def first_import_fails(name, *args, **kwargs):
            if name == "coursekit" and not refused:
                refused.append(name)
                raise ModuleNotFoundError("No module named 'coursekit'", name="coursekit")
            return real_import(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", first_import_fails)
    exec(compile(cell, "<setup cell>", "exec"), {})
    return commands, setups


def test_setup_cell_is_a_silent_no_op_where_the_course_is_installed(monkeypatch, capsys):
    commands, setups = _run_cell(colab.SETUP_CELL, monkeypatch, installed=True)
    assert commands == [], "nothing is installed when coursekit imports"
    assert setups == [{"seed": 0}]
    assert capsys.readouterr() == ("", ""), "silent, so nbval compares nothing"


def test_setup_cell_clones_installs_and_enters_notebooks_when_missing(
    monkeypatch, tmp_path, capsys
):
    monkeypatch.chdir(tmp_path)
    cell = colab.setup_cell("someone/their-fork", clone_dir="course")
    commands, setups = _run_cell(cell, monkeypatch, installed=False)
    assert commands[0][:2] == ["git", "clone"]
    assert commands[0][-2:] == ["https://github.com/someone/their-fork", "course"]
    assert commands[1][1:] == ["-m", "pip", "install", "-q", "-e", "course"]
    assert commands[1][0] == sys.executable
    assert Path.cwd() == tmp_path / "course" / "notebooks"
    assert str(tmp_path / "course") in sys.path, "importable without restarting the kernel"
    assert setups == [{"seed": 0}]
    # run again in the same folder (a second notebook): no second clone
    monkeypatch.chdir(tmp_path)
    commands, _ = _run_cell(cell, monkeypatch, installed=False)
    assert [c[:2] for c in commands] == [[sys.executable, "-m"]]


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff (the dev extra) is not installed")
def test_setup_cell_is_ruff_clean_so_notebook_formatting_keeps_it(tmp_path):
    path = tmp_path / "cell.py"
    path.write_text(colab.SETUP_CELL + "\n")
    config = ["--config", str(ROOT / "pyproject.toml")]
    check = subprocess.run(["ruff", "check", *config, str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    fmt = subprocess.run(
        ["ruff", "format", "--diff", *config, str(path)], capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout


def test_setup_cell_rejects_a_malformed_repository():
    with pytest.raises(ValueError, match="owner/name"):
        colab.setup_cell("https://github.com/a/b")


def test_launch_links(monkeypatch):
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    repo = colab.REPOSITORY
    assert colab.colab_url("01_text_cleaning") == (
        f"https://colab.research.google.com/github/{repo}/blob/main/"
        "notebooks/learner/01_text_cleaning.ipynb"
    )
    assert colab.colab_url("01_text_cleaning.ipynb", learner=False).endswith(
        "/blob/main/notebooks/01_text_cleaning.ipynb"
    )
    assert colab.binder_url("00_setup_and_tour") == (
        f"https://mybinder.org/v2/gh/{repo}/main?urlpath="
        "lab%2Ftree%2Fnotebooks%2Flearner%2F00_setup_and_tour.ipynb"
    )
    monkeypatch.setenv("GITHUB_REPOSITORY", "fork/course")
    assert "/github/fork/course/" in colab.colab_url("02_tokenization")
    badges = colab.badges()
    assert badges.count("[![") == 3 and "fork/course/actions/workflows/ci.yml" in badges


def test_every_notebook_starts_with_the_setup_cell():
    """Solution and learner notebooks open on Colab: their first code cell is SETUP_CELL."""
    import nbformat

    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    notebooks += sorted((ROOT / "notebooks" / "learner").glob("[0-9][0-9]_*.ipynb"))
    assert notebooks
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        first = next(c for c in nb.cells if c.cell_type == "code")
        assert first.source.strip() == colab.SETUP_CELL.strip(), (
            f"{path.name}: first code cell should be coursekit.colab.SETUP_CELL"
        )
