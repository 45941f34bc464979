"""Where the course keeps things: the repository, its data, and the artifact cache.

Every path can be overridden by an environment variable, so an instructor can
point a whole room at a shared, pre-built cache:

* ``COURSEKIT_ROOT``: the course checkout (default: the folder above this package).
* ``COURSEKIT_DATA``: the shop corpus (default: ``<root>/data``).
* ``COURSEKIT_CACHE``: built artifacts such as tokenizers and models
  (default: ``<root>/.cache/coursekit``, git-ignored).
"""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The course checkout: the folder that holds ``coursekit/``, ``data/`` and ``notebooks/``."""
    env = os.environ.get("COURSEKIT_ROOT")
    if env:
        return Path(env).expanduser().resolve()
    return Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """The shipped shop corpus and NLTK resources."""
    env = os.environ.get("COURSEKIT_DATA")
    return Path(env).expanduser().resolve() if env else repo_root() / "data"


def nltk_data_dir() -> Path:
    """NLTK resources shipped with the course, in NLTK's own directory layout."""
    return data_dir() / "nltk_data"


def notebooks_dir() -> Path:
    """The solution notebooks (``NN_name.ipynb``)."""
    return repo_root() / "notebooks"


def learner_dir() -> Path:
    """The generated learner versions of the notebooks."""
    return notebooks_dir() / "learner"


def cache_dir(*parts: str) -> Path:
    """The git-ignored artifact cache (created on first use), or a sub-folder of it."""
    env = os.environ.get("COURSEKIT_CACHE")
    base = Path(env).expanduser().resolve() if env else repo_root() / ".cache" / "coursekit"
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
