"""The build-once cache: atomic builds, and damaged artifacts detected and rebuilt."""

from __future__ import annotations

import json
import warnings

import pytest

from coursekit import cache


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("COURSEKIT_CACHE", str(folder))
    return folder


class Builder:
    """A fake artifact: a 'weights' file and a small JSON, counting its builds."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, folder) -> None:
        self.calls += 1
        (folder / "model.safetensors").write_bytes(bytes(range(256)) * 40)
        (folder / "sub").mkdir()
        (folder / "sub" / "meta.json").write_text('{"ok": true}')


def _build(builder: Builder):
    return cache.get_or_build("thing", builder, version="3")


def test_built_once_then_reused_and_the_marker_lists_every_file(cache_dir):
    builder = Builder()
    folder = _build(builder)
    assert _build(builder) == folder and builder.calls == 1
    marker = json.loads((folder / ".complete").read_text())
    assert set(marker["files"]) == {"model.safetensors", "sub/meta.json"}
    assert marker["files"]["model.safetensors"]["bytes"] == 256 * 40
    assert cache.is_built("thing", "3") and cache.damage("thing", "3") is None


def test_a_truncated_file_is_reported_in_one_line_and_rebuilt(cache_dir):
    builder = Builder()
    weights = _build(builder) / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])  # an interrupted copy, a full disk
    with pytest.warns(RuntimeWarning) as caught:
        folder = _build(builder)
    (message,) = [str(w.message) for w in caught]
    assert "\n" not in message
    assert "damaged (model.safetensors has 100 bytes, 10,240 expected): rebuilding" in message
    assert builder.calls == 2
    assert (folder / "model.safetensors").stat().st_size == 256 * 40
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # intact again: no warning
        assert cache.is_built("thing", "3")


def test_a_changed_byte_and_a_missing_file_are_damage_too(cache_dir):
    builder = Builder()
    folder = _build(builder)
    data = bytearray((folder / "model.safetensors").read_bytes())
    data[5] ^= 0xFF  # same size, different content
    (folder / "model.safetensors").write_bytes(bytes(data))
    assert "does not match its recorded SHA-256" in cache.damage("thing", "3")
    with pytest.warns(RuntimeWarning, match="it will be rebuilt"):
        assert not cache.is_built("thing", "3")  # loaders then say how to build it
    with pytest.warns(RuntimeWarning, match="rebuilding it"):
        _build(builder)
    (folder / "sub" / "meta.json").unlink()
    assert cache.damage("thing", "3") == "sub/meta.json is missing"


def test_a_marker_from_an_older_course_version_is_trusted(cache_dir):
    folder = cache.artifact_path("old", "1")
    folder.mkdir(parents=True)
    (folder / "weights.bin").write_bytes(b"x")
    (folder / ".complete").write_text("old v1\n")
    assert cache.is_built("old", "1") and cache.damage("old", "1") is None
    assert cache.damage("never-built", "1") is None and not cache.is_built("never-built", "1")


def test_a_failed_build_leaves_nothing_behind(cache_dir):
    def broken(folder) -> None:
        (folder / "half.bin").write_bytes(b"partial")
        raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError, match="out of memory"):
        cache.get_or_build("broken", broken)
    assert not cache.is_built("broken") and list(cache_dir.iterdir()) == []


def test_a_damaged_real_tokenizer_is_rebuilt_and_loads(cache_dir):
    from coursekit.tokenization import load_shop_bpe

    tok = load_shop_bpe(vocab_size=300)
    ids = tok("A sturdy kettle")["input_ids"]
    (folder,) = cache_dir.glob("shop-bpe-300-v*")
    (folder / "tokenizer.json").write_text("{")  # truncated: raw JSON error without the check
    with pytest.warns(RuntimeWarning, match="tokenizer.json has 1 bytes"):
        again = load_shop_bpe(vocab_size=300)
    assert again("A sturdy kettle")["input_ids"] == ids


# --------------------------------------------------------------------- one cache-key rule


def _perturbed(value):
    """A different value of the same kind, for every kind a recipe field holds."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 2 + 1e-3
    if isinstance(value, str):
        return value + "x"
    if value is None:
        return 1
    if isinstance(value, dict):
        return {**value, "extra": 1}
    if isinstance(value, (list, tuple)):
        return type(value)([*value, "extra"])
    raise AssertionError(f"no perturbation for {type(value).__name__}")


@pytest.mark.parametrize("module", ["copywriter", "sentiment"])
def test_changing_any_recipe_field_changes_the_key(module):
    import dataclasses
    import importlib

    config_cls = importlib.import_module(f"coursekit.{module}").TrainConfig
    base = config_cls()
    key = cache.recipe_key({"recipe": "1", "config": base})
    assert key == cache.recipe_key({"recipe": "1", "config": config_cls()})
    fields = dataclasses.fields(base)
    assert len(fields) >= 5
    seen = {key}
    for f in fields:
        changed = dataclasses.replace(base, **{f.name: _perturbed(getattr(base, f.name))})
        new = cache.recipe_key({"recipe": "1", "config": changed})
        assert new not in seen, f"changing {f.name} did not change the key"
        seen.add(new)
    assert cache.recipe_key({"recipe": "2", "config": base}) != key


def test_data_upstream_and_library_versions_are_in_the_key(monkeypatch):
    key = cache.recipe_key({"a": 1}, data=["text one"], upstream=["bpe-123"])
    assert len(key) == 12 and int(key, 16) >= 0
    assert cache.recipe_key({"a": 1}, data=["text one!"], upstream=["bpe-123"]) != key
    assert cache.recipe_key({"a": 1}, data=["text one"], upstream=["bpe-124"]) != key
    assert cache.recipe_key({"a": 1}, data=["text one"]) != key
    # dict order does not matter, a value's type does
    assert cache.recipe_key({"a": 1, "b": 2}) == cache.recipe_key({"b": 2, "a": 1})
    assert cache.recipe_key({"a": 1}) != cache.recipe_key({"a": "1"})
    real = cache._library_version
    monkeypatch.setattr(
        cache, "_library_version", lambda name: "99.0" if name == "torch" else real(name)
    )
    assert cache.recipe_key({"a": 1}, data=["text one"], upstream=["bpe-123"]) != key


def test_a_recipe_that_cannot_be_fingerprinted_is_refused():
    with pytest.raises(TypeError, match="cannot fingerprint a value of type object"):
        cache.recipe_key({"model": object()})


def test_folder_digest_sees_a_changed_config_and_a_changed_weight_size(tmp_path):
    (tmp_path / "config.json").write_text('{"hidden": 384}')
    (tmp_path / "model.safetensors").write_bytes(b"\0" * 4096)
    digest = cache.folder_digest(tmp_path, small=1024)
    assert cache.folder_digest(tmp_path, small=1024) == digest
    (tmp_path / "model.safetensors").write_bytes(b"\1" * 4096)  # large: name and size only
    assert cache.folder_digest(tmp_path, small=1024) == digest
    (tmp_path / "model.safetensors").write_bytes(b"\1" * 4097)
    assert cache.folder_digest(tmp_path, small=1024) != digest
    digest = cache.folder_digest(tmp_path, small=1024)
    (tmp_path / "config.json").write_text('{"hidden": 768}')
    assert cache.folder_digest(tmp_path, small=1024) != digest
    with pytest.raises(FileNotFoundError, match="no such model folder"):
        cache.folder_digest(tmp_path / "missing")


def test_the_sentiment_and_copywriter_keys_follow_their_recipes():
    import dataclasses

    from coursekit import copywriter, data, sentiment

    default = sentiment.cache_version()
    assert sentiment.cache_version(sentiment.TrainConfig()) == default
    assert sentiment.cache_version(sentiment.TrainConfig(lr=1e-4)) != default
    assert sentiment.default_model_path().name.endswith(default)
    products = data.load_products()
    products = products[products["split"] == "train"].head(30)
    key = copywriter._cache_version(products)
    assert copywriter._cache_version(products.head(29)) != key  # the training data counts
    slow = dataclasses.replace(copywriter.TrainConfig(), epochs=5)
    assert copywriter._cache_version(products, slow) != key
