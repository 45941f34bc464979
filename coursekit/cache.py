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

Every artifact's ``version`` comes from one rule, :func:`recipe_key`: a digest of its
recipe (every setting), its training data, the keys of the artifacts it is built from
(tokenizer, base model) and the versions of the libraries that compute it. Change any of
them and the next call builds a fresh artifact instead of reusing a stale one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, is_dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from coursekit.paths import cache_dir

_DONE = ".complete"

#: distributions whose installed version is part of every artifact's key (a new release
#: may compute different weights or files from the same recipe)
KEY_LIBRARIES = ("torch", "transformers", "tokenizers")


def _canonical(value: Any) -> Any:
    """``value`` as plain JSON data, with the same result for equal recipes."""
    if is_dataclass(value) and not isinstance(value, type):
        return {"__recipe__": type(value).__qualname__, **_canonical(asdict(value))}
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_canonical(v) for v in value)
    if isinstance(value, Path):
        return value.as_posix()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(
        f"recipe_key() cannot fingerprint a value of type {type(value).__name__}; "
        "pass its settings as numbers, strings, lists, dicts or a dataclass"
    )


def _library_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def recipe_key(
    recipe: Any,
    *,
    data: Iterable[str] = (),
    upstream: Iterable[str] = (),
    libraries: Iterable[str] = KEY_LIBRARIES,
) -> str:
    """The cache ``version`` of an artifact: 12 hex digits of SHA-256 over all it depends on.

    ``recipe``: every setting (a dataclass, a mapping, a list or a scalar; nested freely);
    ``data``: the training data as strings, or digests of it; ``upstream``: the keys (or
    digests) of what it is built from, such as its tokenizer or base model; ``libraries``:
    distributions whose installed version counts. Equal inputs give equal keys on every
    machine; changing any field, byte of data, upstream key or library version gives a
    new key.

    >>> recipe_key({"epochs": 2}) == recipe_key({"epochs": 2}) != recipe_key({"epochs": 3})
    True
    """
    payload = {
        "recipe": _canonical(recipe),
        "data": [hashlib.sha256(str(d).encode("utf-8")).hexdigest() for d in data],
        "upstream": [str(u) for u in upstream],
        "libraries": {name: _library_version(name) for name in sorted(libraries)},
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


def folder_digest(folder: str | os.PathLike[str], small: int = 2**20) -> str:
    """A digest of a model folder (e.g. the pretrained MiniLM), cheap enough to take often.

    Covers every file's name and size, and the bytes of files under ``small`` bytes
    (configs, vocabularies); large weight files are identified by name and size.
    """
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"no such model folder: {root}")
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        size = path.stat().st_size
        h.update(f"{path.relative_to(root).as_posix()}|{size}\n".encode())
        if size < small:
            h.update(path.read_bytes())
    return h.hexdigest()[:12]


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

    ``build`` writes its files into the folder it is given. ``version`` is the
    artifact's :func:`recipe_key`, so a changed recipe, data or library gets a new build.
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
