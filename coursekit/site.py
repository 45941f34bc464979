"""The course as a browsable static website: the solution notebooks as executed, plus ``docs/``.

``coursekit site build [--out DIR]`` runs Sphinx with myst-nb and sphinx-book-theme. Notebooks
are **not** re-executed (``nb_execution_mode = "off"``): each page shows the outputs stored in
the notebook, the very outputs that nbval checks in CI, so the site is built in seconds and
never differs from what the course promises.

The sources are first copied into a staging folder that mirrors the repository, so a relative
link written for GitHub (``docs/glossary.md`` -> ``../notebooks/03_attention.ipynb``) works on
the site too::

    <stage>/conf.py                      <- docs/conf.py
    <stage>/docs/*.md                    <- docs/ (the home page is docs/index.md)
    <stage>/notebooks/NN_name.ipynb      <- solution notebooks (one page each) and their images
    <stage>/_extra/learner/NN_name.ipynb <- learner versions (downloads, not pages)
    <stage>/README.md, CONTRIBUTING.md, data/README.md

Everything the build needs is local (no intersphinx, no remote theme assets), so it works
offline. The tools come from the optional extra: ``pip install -e ".[docs]"``.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from coursekit import paths

#: Import names of the packages the build needs (the ``docs`` extra).
REQUIRED = {"sphinx": "sphinx", "myst_nb": "myst-nb", "sphinx_book_theme": "sphinx-book-theme"}
INSTALL_HINT = 'pip install -e ".[docs]"'
NOTEBOOK_NAME = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")
ASSET_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".csv", ".json"}
#: Top-level pages staged from the repository when they exist (GitHub-relative links keep working).
REPO_PAGES = ("README.md", "CONTRIBUTING.md", "data/README.md")
MARKER = ".coursekit-site"
HOME = "docs/index.html"


class SiteError(RuntimeError):
    """The site could not be built; the message says why and what to do."""


@dataclass
class SiteReport:
    """What :func:`build_site` produced."""

    out: Path
    notebooks: list[
        str
    ]  # notebook pages, relative to ``out`` (``notebooks/01_text_cleaning.html``)
    pages: list[str]  # every HTML page, relative to ``out``
    warnings: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # notebooks that got no page
    seconds: float = 0.0

    @property
    def index(self) -> Path:
        """The page to open in a browser."""
        return self.out / "index.html"

    @property
    def ok(self) -> bool:
        return not self.missing


def missing_packages() -> list[str]:
    """The pip names of the site's build tools that are not installed (empty when ready)."""
    return [pip for mod, pip in REQUIRED.items() if importlib.util.find_spec(mod) is None]


def solution_notebooks(folder: Path | None = None) -> list[Path]:
    """The solution notebooks ``NN_name.ipynb`` in ``folder`` (default ``notebooks/``), sorted."""
    folder = folder or paths.notebooks_dir()
    return sorted(p for p in folder.glob("*.ipynb") if NOTEBOOK_NAME.match(p.name))


def _copy_assets(src: Path, dst: Path) -> None:
    """Images and small data files the notebooks' markdown may reference (not ``learner/``)."""
    for path in src.rglob("*"):
        rel = path.relative_to(src)
        if rel.parts[0] in {"learner", ".ipynb_checkpoints", "_build"} or not path.is_file():
            continue
        if path.suffix.lower() in ASSET_SUFFIXES:
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dst / rel)


#: What a notebook saved without kernel metadata (e.g. by jupytext) is shown as.
DEFAULT_METADATA = {
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python", "pygments_lexer": "ipython3"},
}


def _copy_notebook(src: Path, dst: Path) -> None:
    """Copy a notebook; one without kernel metadata gets Python's, so its code is highlighted."""
    nb = json.loads(src.read_text(encoding="utf-8"))
    metadata = nb.setdefault("metadata", {})
    missing = [key for key in DEFAULT_METADATA if not metadata.get(key)]
    if not missing:
        shutil.copy2(src, dst)
        return
    for key in missing:
        metadata[key] = DEFAULT_METADATA[key]
    dst.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def stage_sources(stage: Path, root: Path | None = None) -> list[str]:
    """Copy everything the site is built from into ``stage``; return the notebook docnames.

    Pure file copying (no Sphinx needed), so it is cheap to test.
    """
    root = Path(root) if root else paths.repo_root()
    docs = root / "docs"
    if not (docs / "conf.py").exists() or not (docs / "index.md").exists():
        raise SiteError(f"{docs} must hold conf.py and index.md (the site's sources)")
    stage.mkdir(parents=True, exist_ok=True)
    shutil.copy2(docs / "conf.py", stage / "conf.py")
    shutil.copytree(
        docs,
        stage / "docs",
        ignore=shutil.ignore_patterns("conf.py", "_build", "__pycache__", ".ipynb_checkpoints"),
        dirs_exist_ok=True,
    )
    for page in REPO_PAGES:
        if (root / page).exists():
            (stage / page).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / page, stage / page)
    nb_src, nb_dst = root / "notebooks", stage / "notebooks"
    nb_dst.mkdir(parents=True, exist_ok=True)
    docnames = []
    for nb in solution_notebooks(nb_src):
        _copy_notebook(nb, nb_dst / nb.name)
        docnames.append(f"notebooks/{nb.stem}")
    if nb_src.is_dir():
        _copy_assets(nb_src, nb_dst)
    learner_dst = stage / "_extra" / "learner"
    learner_dst.mkdir(parents=True, exist_ok=True)
    for nb in solution_notebooks(nb_src / "learner"):
        shutil.copy2(nb, learner_dst / nb.name)
    return docnames


def _prepare_out(out: Path) -> None:
    """Empty ``out`` if it is a previous site (or empty); refuse to wipe anything else."""
    if out.exists():
        if not out.is_dir():
            raise SiteError(f"{out} is a file; choose a folder with --out")
        if any(out.iterdir()) and not (out / MARKER).exists():
            raise SiteError(
                f"{out} is not empty and holds no previous site; choose another --out folder"
            )
        shutil.rmtree(out)
    out.mkdir(parents=True)


def _write_redirect(out: Path) -> None:
    (out / "index.html").write_text(
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<meta http-equiv='refresh' content='0; url={HOME}'>"
        "<title>LLMs for e-commerce marketing</title></head>"
        f"<body><a href='{HOME}'>Open the course</a></body></html>\n",
        encoding="utf-8",
    )
    (out / ".nojekyll").write_text("")  # GitHub Pages: serve _static/ as is
    (out / MARKER).write_text("built by `coursekit site build`\n")


def build_site(
    out: str | Path | None = None,
    *,
    root: str | Path | None = None,
    strict: bool = False,
    jobs: int = 1,
) -> SiteReport:
    """Build the HTML site into ``out`` (default ``build/site``) and check every notebook's page.

    ``strict`` turns Sphinx warnings into errors (maintainers, before a release). Raises
    :class:`SiteError` when the build tools are missing or Sphinx fails; a notebook without a
    page is listed in :attr:`SiteReport.missing`.
    """
    missing = missing_packages()
    if missing:
        raise SiteError(f"the site needs {', '.join(missing)}: {INSTALL_HINT}")
    root = Path(root).resolve() if root else paths.repo_root()
    out = Path(out).expanduser().resolve() if out else root / "build" / "site"
    started = time.perf_counter()
    _prepare_out(out)
    with tempfile.TemporaryDirectory(prefix="coursekit-site-") as tmp:
        stage = Path(tmp) / "src"
        docnames = stage_sources(stage, root)
        warnfile = Path(tmp) / "warnings.txt"
        cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-j", str(jobs)]
        cmd += ["-d", str(Path(tmp) / "doctrees"), "-w", str(warnfile)]
        if strict:
            cmd += ["-W", "--keep-going"]
        proc = subprocess.run(
            [*cmd, str(stage), str(out)], capture_output=True, text=True, check=False
        )
        warnings = _clean_warnings(warnfile, stage)
        if proc.returncode != 0:
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
            raise SiteError(f"sphinx failed (exit {proc.returncode}):\n{tail}")
    _write_redirect(out)
    pages = sorted(str(p.relative_to(out)) for p in out.rglob("*.html"))
    notebooks = [f"{d}.html" for d in docnames]
    return SiteReport(
        out=out,
        notebooks=notebooks,
        pages=pages,
        warnings=warnings,
        missing=[n for n in notebooks if not (out / n).exists()],
        seconds=time.perf_counter() - started,
    )


def _clean_warnings(warnfile: Path, stage: Path) -> list[str]:
    """Sphinx's warnings, one per line, with the staging folder shown as repository paths."""
    if not warnfile.exists():
        return []
    text = warnfile.read_text(encoding="utf-8", errors="replace").replace(f"{stage}/", "")
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)  # colour codes
    return [line for line in text.splitlines() if line.strip()]


def format_report(report: SiteReport, show_warnings: int = 10) -> str:
    """The summary ``coursekit site build`` prints."""
    lines = [
        f"built {len(report.pages)} pages ({len(report.notebooks)} notebooks) "
        f"in {report.seconds:.0f} s -> {report.out}",
    ]
    if report.warnings:
        lines.append(f"{len(report.warnings)} warning(s):")
        lines += [f"  {w}" for w in report.warnings[:show_warnings]]
        if len(report.warnings) > show_warnings:
            lines.append(f"  ... {len(report.warnings) - show_warnings} more")
    if report.missing:
        lines.append("notebooks without a page: " + ", ".join(report.missing))
    lines.append(f"open {report.index} in a browser (or: python -m http.server -d {report.out})")
    return "\n".join(lines)
