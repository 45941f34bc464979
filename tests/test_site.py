"""The course website: staged sources, the docs pages' content and links, and a real build.

The build needs the optional ``docs`` extra (sphinx, myst-nb, sphinx-book-theme); without it
those tests are skipped with the install command. It renders the notebooks' stored outputs
(nothing is executed), so it takes seconds, not the course's minutes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from coursekit import site

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
LINK = re.compile(r"\]\(([^)\s]+)\)")
NOTEBOOK_LINK = re.compile(r"\]\(\.\./notebooks/(\d\d_[a-z0-9_]+)\.ipynb\)")


def _notebook(path: Path, title: str, kernel: bool = True) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {title}\n\nA formula: $p = e^{{z}}$."),
        nbformat.v4.new_code_cell(
            "print('stored output')",
            execution_count=1,
            outputs=[nbformat.v4.new_output("stream", name="stdout", text="stored output\n")],
        ),
    ]
    if kernel:
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture
def toy_repo(tmp_path: Path) -> Path:
    """A repository with the real docs/ and two toy notebooks (one with a learner version)."""
    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)
    for page in DOCS.iterdir():
        if page.is_file():
            (repo / "docs" / page.name).write_bytes(page.read_bytes())
    (repo / "README.md").write_text("# Course\n\n[first](notebooks/01_first.ipynb)\n")
    _notebook(repo / "notebooks" / "01_first.ipynb", "First")
    _notebook(repo / "notebooks" / "02_second.ipynb", "Second", kernel=False)  # as jupytext saves
    _notebook(repo / "notebooks" / "learner" / "01_first.ipynb", "First (learner)")
    (repo / "notebooks" / "figures").mkdir()
    (repo / "notebooks" / "figures" / "shop.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (repo / "notebooks" / "sanitize.cfg").write_text("[x]\n")
    return repo


# --------------------------------------------------------------------------- staging (no sphinx)


def test_stage_mirrors_the_repository(toy_repo, tmp_path):
    stage = tmp_path / "stage"
    docnames = site.stage_sources(stage, toy_repo)
    assert docnames == ["notebooks/01_first", "notebooks/02_second"]
    assert (stage / "conf.py").exists() and (stage / "docs" / "index.md").exists()
    assert not (stage / "docs" / "conf.py").exists()
    assert (stage / "README.md").exists()
    assert (stage / "notebooks" / "figures" / "shop.png").exists(), "images the markdown shows"
    assert not (stage / "notebooks" / "learner").exists(), "learner versions are no pages"
    assert (stage / "_extra" / "learner" / "01_first.ipynb").exists(), "but they are downloads"
    assert not (stage / "notebooks" / "sanitize.cfg").exists()
    staged = json.loads((stage / "notebooks" / "02_second.ipynb").read_text())
    assert staged["metadata"]["language_info"]["pygments_lexer"] == "ipython3", "highlighted"
    original = json.loads((toy_repo / "notebooks" / "02_second.ipynb").read_text())
    assert "kernelspec" not in original["metadata"], "the repository's notebook is untouched"


def test_stage_needs_the_docs_sources(tmp_path):
    with pytest.raises(site.SiteError, match="conf.py and index.md"):
        site.stage_sources(tmp_path / "stage", tmp_path)


def test_output_folder_is_never_wiped_unless_it_is_a_site(tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(site.SiteError, match="not empty"):
        site._prepare_out(precious)
    assert (precious / "thesis.tex").exists()
    old_site = tmp_path / "old"
    old_site.mkdir()
    (old_site / site.MARKER).write_text("")
    (old_site / "stale.html").write_text("")
    site._prepare_out(old_site)
    assert old_site.is_dir() and not any(old_site.iterdir())


def test_missing_build_tools_give_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setattr(site.importlib.util, "find_spec", lambda name: None)
    assert site.missing_packages() == ["sphinx", "myst-nb", "sphinx-book-theme"]
    with pytest.raises(site.SiteError, match=r'pip install -e "\.\[docs\]"'):
        site.build_site(tmp_path / "out")


# --------------------------------------------------------------------------- the docs pages


def test_docs_pages_exist():
    for page in ("index.md", "start_here.md", "glossary.md", "instructor_guide.md", "conf.py"):
        assert (DOCS / page).exists(), page


def test_local_links_in_docs_point_to_existing_files():
    broken = []
    for page in DOCS.glob("*.md"):
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "#", "mailto:")):
                continue
            path = (page.parent / target.split("#")[0]).resolve()
            if not path.exists():
                broken.append(f"{page.name}: {target}")
    assert not broken, "broken links: " + ", ".join(sorted(set(broken)))


def test_glossary_has_forty_terms_each_linked_to_a_notebook():
    text = (DOCS / "glossary.md").read_text(encoding="utf-8")
    terms = re.findall(r"^### (.+)$", text, flags=re.M)
    assert len(terms) >= 40, len(terms)
    for term in ("Attention", "BPE", "Perplexity", "Thompson sampling", "Negation scope", "ECE"):
        assert any(t.startswith(term) for t in terms), term
    entries = re.split(r"^### ", text, flags=re.M)[1:]
    unlinked = [e.splitlines()[0] for e in entries if not NOTEBOOK_LINK.search(e)]
    assert not unlinked, "terms without a link to the notebook that teaches them: " + str(unlinked)


def test_instructor_guide_has_both_plans_and_the_timings_placeholder():
    text = (DOCS / "instructor_guide.md").read_text(encoding="utf-8")
    assert text.count("<!-- timings -->") >= 1
    assert "One-day workshop" in text and "Two-day workshop" in text
    assert "coursekit prepare" in text and "COURSEKIT_CACHE" in text
    for nn in [f"{i:02d}" for i in range(10)]:
        assert re.search(rf"^### {nn} ", text, flags=re.M), f"common mistakes of notebook {nn}"


def test_start_here_walks_through_the_first_session():
    text = (DOCS / "start_here.md").read_text(encoding="utf-8")
    for needle in (
        "coursekit doctor",
        "jupyter lab",
        "notebooks/learner/00_setup_and_tour.ipynb",
        "coursekit check",
        "Colab",
        "Binder",
    ):
        assert needle in text, needle


# --------------------------------------------------------------------------- a real build

needs_sphinx = pytest.mark.skipif(
    bool(site.missing_packages()),
    reason=f"site build tools not installed ({', '.join(site.missing_packages())}): "
    f"{site.INSTALL_HINT}",
)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> site.SiteReport:
    return site.build_site(tmp_path_factory.mktemp("site") / "out")


@needs_sphinx
def test_every_solution_notebook_has_a_page(built):
    notebooks = site.solution_notebooks()
    assert [f"notebooks/{p.stem}.html" for p in notebooks] == built.notebooks
    assert built.ok, f"no page for: {built.missing}"
    for path, page in zip(notebooks, built.notebooks, strict=True):
        nb = json.loads(path.read_text(encoding="utf-8"))
        with_outputs = sum(1 for c in nb["cells"] if c.get("outputs"))
        html = (built.out / page).read_text(encoding="utf-8")
        shown = html.count('class="cell_output')
        assert shown == with_outputs, f"{page}: {shown} of {with_outputs} stored outputs shown"


@needs_sphinx
def test_docs_pages_and_home_are_built(built):
    for page in ("docs/index.html", "docs/glossary.html", "docs/instructor_guide.html"):
        assert page in built.pages, page
    assert "docs/start_here.html" in built.pages
    home = built.index.read_text(encoding="utf-8")
    assert "docs/index.html" in home, "the site root redirects to the home page"


@needs_sphinx
def test_learner_versions_are_downloadable(built):
    for path in sorted((ROOT / "notebooks" / "learner").glob("[0-9][0-9]_*.ipynb")):
        copy = built.out / "learner" / path.name
        assert copy.exists(), path.name
        assert json.loads(copy.read_text(encoding="utf-8"))["cells"]


@needs_sphinx
def test_no_warnings_from_the_docs_pages(built):
    """Broken links or markup in docs/ are ours to fix; notebook warnings are reported by the CLI."""
    ours = [w for w in built.warnings if w.startswith("docs/")]
    assert not ours, "\n".join(ours)


@needs_sphinx
def test_the_site_uses_no_remote_scripts_or_styles(built):
    remote = re.compile(r"<(?:script|link)[^>]+(?:src|href)=\"https?://", re.I)
    for page in (
        "docs/index.html",
        built.notebooks[0] if built.notebooks else "docs/glossary.html",
    ):
        html = (built.out / page).read_text(encoding="utf-8")
        assert not remote.search(html), f"{page} loads a remote asset"


@needs_sphinx
def test_toy_build_renders_stored_outputs_and_launch_links(toy_repo, tmp_path):
    report = site.build_site(tmp_path / "toy-site", root=toy_repo)
    assert not [w for w in report.warnings if "lexer" in w], report.warnings
    assert report.ok and report.notebooks == ["notebooks/01_first.html", "notebooks/02_second.html"]
    html = (report.out / "notebooks" / "01_first.html").read_text(encoding="utf-8")
    assert "stored output" in html, "the stored output is shown, not re-executed"
    assert "learner/01_first.ipynb" in html, "download button for the learner version"
    assert "colab.research.google.com/github/" in html and "mybinder.org/v2/gh/" in html
    assert (report.out / "learner" / "01_first.ipynb").exists()
    second = (report.out / "notebooks" / "02_second.html").read_text(encoding="utf-8")
    assert "learner/02_second.ipynb" not in second, "no learner links when it is missing"
    assert "blob/main/notebooks/02_second.ipynb" in second, "launch the solution instead"
