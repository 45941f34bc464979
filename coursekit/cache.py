"""Build-once artifacts (tokenizers, trained models, indexes) in the git-ignored cache.

Notebooks never depend on an earlier notebook having run: they ask for an
artifact, and it is built the first time and reused afterwards.

>>> path = get_or_build("shop-bpe", build_tokenizer, version="1")

Builds happen in a temporary folder that is renamed into place only when
complete, so an interrupted build never leaves a half-written artifact behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from coursekit.paths import cache_dir

_DONE = ".complete"


def artifact_path(name: str, version: str = "1") -> Path:
    """Where artifact ``name`` at ``version`` lives (whether or not it is built yet)."""
    return cache_dir() / f"{name}-v{version}"


def is_built(name: str, version: str = "1") -> bool:
    """Whether a complete copy of the artifact is in the cache."""
    return (artifact_path(name, version) / _DONE).exists()


def get_or_build(
    name: str, build: Callable[[Path], None], version: str = "1", rebuild: bool = False
) -> Path:
    """Return the folder of artifact ``name``, calling ``build(folder)`` first if needed.

    ``build`` writes its files into the folder it is given. Bump ``version``
    when the recipe changes so stale caches are not reused.
    """
    final = artifact_path(name, version)
    if is_built(name, version) and not rebuild:
        return final
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache_dir()))
    try:
        build(tmp)
        (tmp / _DONE).write_text(f"{name} v{version}\n")
        if final.exists():
            old = final.with_name(final.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(final, old)
            shutil.rmtree(old, ignore_errors=True)
        try:
            os.replace(tmp, final)
        except OSError:  # someone else finished the same build first: use theirs
            if not is_built(name, version):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
