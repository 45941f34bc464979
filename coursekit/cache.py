"""Build-once artifacts (tokenizers, trained models, indexes) in the git-ignored cache.

Notebooks never depend on an earlier notebook having run: they ask for an
artifact, and it is built the first time and reused afterwards.

>>> path = get_or_build("shop-bpe", build_tokenizer, version="1")

Builds happen in a temporary folder that is renamed into place only when
complete, so an interrupted build never leaves a half-written artifact behind.
The completion marker lists every file's size and SHA-256, so a damaged artifact (a
truncated ``model.safetensors``, a file deleted by hand, a disk error) is detected when it
is next asked for: :func:`get_or_build` says so in one line and rebuilds it, and
:func:`is_built` reports it as not built.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

from coursekit.paths import cache_dir

_DONE = ".complete"


def artifact_path(name: str, version: str = "1") -> Path:
    """Where artifact ``name`` at ``version`` lives (whether or not it is built yet)."""
    return cache_dir() / f"{name}-v{version}"


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _manifest(folder: Path) -> dict[str, dict[str, int | str]]:
    """Size and SHA-256 of every file under ``folder`` (the completion marker excluded)."""
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != _DONE):
        rel = path.relative_to(folder).as_posix()
        files[rel] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
    return files


def damage(name: str, version: str = "1") -> str | None:
    """What is wrong with the built artifact, or None when it is intact (or not built).

    Compares every file with the sizes and digests recorded when the build completed.
    Artifacts built before the course recorded them (a plain-text marker) are trusted.
    """
    marker = artifact_path(name, version) / _DONE
    if not marker.exists():
        return None
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))["files"]
    except (ValueError, KeyError, TypeError):
        return None  # an older marker without a manifest
    folder = marker.parent
    for rel, want in recorded.items():
        path = folder / rel
        if not path.is_file():
            return f"{rel} is missing"
        size = path.stat().st_size
        if size != want["bytes"]:
            return f"{rel} has {size:,} bytes, {want['bytes']:,} expected"
        if _sha256(path) != want["sha256"]:
            return f"{rel} does not match its recorded SHA-256"
    return None


def _warn_damaged(name: str, version: str, problem: str, then: str) -> None:
    warnings.warn(
        f"cached artifact {artifact_path(name, version)} is damaged ({problem}): {then}",
        RuntimeWarning,
        stacklevel=3,
    )


def is_built(name: str, version: str = "1") -> bool:
    """Whether a complete, undamaged copy of the artifact is in the cache."""
    if not (artifact_path(name, version) / _DONE).exists():
        return False
    problem = damage(name, version)
    if problem:
        _warn_damaged(name, version, problem, "it will be rebuilt when next built")
        return False
    return True


def get_or_build(
    name: str, build: Callable[[Path], None], version: str = "1", rebuild: bool = False
) -> Path:
    """Return the folder of artifact ``name``, calling ``build(folder)`` first if needed.

    ``build`` writes its files into the folder it is given. Bump ``version``
    when the recipe changes so stale caches are not reused.
    """
    final = artifact_path(name, version)
    if (final / _DONE).exists() and not rebuild:
        problem = damage(name, version)
        if problem is None:
            return final
        _warn_damaged(name, version, problem, "rebuilding it")
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache_dir()))
    try:
        build(tmp)
        marker = {"name": name, "version": version, "files": _manifest(tmp)}
        (tmp / _DONE).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")
        if final.exists():
            old = final.with_name(final.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(final, old)
            shutil.rmtree(old, ignore_errors=True)
        try:
            os.replace(tmp, final)
        except OSError:  # someone else finished the same build first: use theirs
            if not (final / _DONE).exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
