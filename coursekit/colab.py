"""Launch anywhere: the set-up cell for Colab (or any machine without the course), and launch links.

On your own machine ``import coursekit`` just works after ``pip install -e .``. On Google
Colab (or a fresh JupyterHub) a notebook opened straight from GitHub finds no course: the
cell in :data:`SETUP_CELL` clones the repository (the shop data, the notebooks and the
package travel together), installs it, and moves into ``notebooks/`` so relative paths work.
Where ``coursekit`` is already importable it does nothing and prints nothing, so it is safe
in every notebook and under nbval.

>>> from coursekit import colab
>>> print(colab.setup_cell())                      # paste as the first code cell
>>> colab.colab_url("01_text_cleaning")             # open the learner version in Colab
>>> colab.binder_url("00_setup_and_tour")           # JupyterLab on Binder

``python -m coursekit.colab`` prints the cell and the README badges.
"""

from __future__ import annotations

import os
from urllib.parse import quote

#: The public GitHub repository of the course (``owner/name``). CI sites built by GitHub
#: Actions use ``$GITHUB_REPOSITORY`` instead, so forks get links to themselves.
REPOSITORY = "llm-ecommerce-course/llm-ecommerce-course"
#: The branch that learners launch.
BRANCH = "main"
#: Where the set-up cell clones the course (relative to the notebook server's working folder).
CLONE_DIR = "llm-ecommerce-course"

_SETUP_TEMPLATE = """\
# Set-up. On Colab (or any machine without the course) this installs it first: ~2 minutes.
try:
    import coursekit
except ModuleNotFoundError:
    import os
    import subprocess
    import sys

    repo = "https://github.com/{repository}"
    folder = "{clone_dir}"
    if not os.path.isdir(folder):
        subprocess.run(["git", "clone", "-q", "--depth", "1", repo, folder], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", folder], check=True)
    sys.path.insert(0, os.path.abspath(folder))  # importable now, without a restart
    os.chdir(os.path.join(folder, "notebooks"))
    import coursekit

coursekit.setup(seed=0)  # seeds, 2 CPU threads, quiet library logs, plot style
"""


def repository_name() -> str:
    """The ``owner/name`` used in links: ``$GITHUB_REPOSITORY`` in GitHub Actions, else :data:`REPOSITORY`."""
    return os.environ.get("GITHUB_REPOSITORY", "").strip() or REPOSITORY


def setup_cell(repository: str | None = None, clone_dir: str = CLONE_DIR) -> str:
    """The first code cell of a notebook that also runs on Colab.

    It replaces the plain ``import coursekit; coursekit.setup(seed=0)`` cell: identical (and
    silent) where the course is installed; elsewhere it clones ``repository`` (default branch)
    into ``clone_dir``, installs it with ``pip install -e`` and changes into its ``notebooks/``
    folder. The cell is ruff-clean, so ``ruff format`` leaves it as it is.
    """
    repo = repository or REPOSITORY
    if repo.count("/") != 1 or " " in repo:
        raise ValueError(f"repository must look like 'owner/name', got {repo!r}")
    return _SETUP_TEMPLATE.format(repository=repo, clone_dir=clone_dir).rstrip()


#: The cell for the course's own repository (what ``python -m coursekit.colab`` prints).
SETUP_CELL = setup_cell()


def _notebook_path(notebook: str, learner: bool) -> str:
    name = notebook if notebook.endswith(".ipynb") else f"{notebook}.ipynb"
    name = name.rsplit("/", 1)[-1]
    return f"notebooks/learner/{name}" if learner else f"notebooks/{name}"


def colab_url(
    notebook: str, learner: bool = True, repository: str | None = None, branch: str = BRANCH
) -> str:
    """Open a notebook from GitHub in Colab (the learner version unless ``learner=False``)."""
    repo = repository or repository_name()
    path = _notebook_path(notebook, learner)
    return f"https://colab.research.google.com/github/{repo}/blob/{branch}/{path}"


def binder_url(
    notebook: str | None = "00_setup_and_tour",
    learner: bool = True,
    repository: str | None = None,
    branch: str = BRANCH,
) -> str:
    """JupyterLab on mybinder.org, opened at a notebook (the whole course is there)."""
    repo = repository or repository_name()
    url = f"https://mybinder.org/v2/gh/{repo}/{branch}"
    if notebook:
        url += "?urlpath=" + quote(f"lab/tree/{_notebook_path(notebook, learner)}", safe="")
    return url


def badges(repository: str | None = None, branch: str = BRANCH) -> str:
    """Markdown badges for the README: Binder, Colab and the CI workflow."""
    repo = repository or repository_name()
    ci = f"https://github.com/{repo}/actions/workflows/ci.yml"
    return "\n".join(
        [
            f"[![Binder](https://mybinder.org/badge_logo.svg)]({binder_url(repository=repo, branch=branch)})",
            f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({colab_url('00_setup_and_tour', repository=repo, branch=branch)})",
            f"[![CI]({ci}/badge.svg)]({ci})",
        ]
    )


def main() -> None:
    """Print the set-up cell and the README badges."""
    print("# First code cell of each notebook (works locally, on Colab and on Binder):\n")
    print(SETUP_CELL)
    print("# README badges:\n")
    print(badges())


if __name__ == "__main__":  # pragma: no cover
    main()
