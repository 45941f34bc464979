"""`coursekit prepare`: the --list path, ok / built / failed / not-available reporting.

The real builders train models for minutes; here every builder is replaced by a fake
module that writes (or does not write) an artifact folder into a temporary cache.
"""

import sys
import types

import pytest

from coursekit import prepare
from coursekit.cli import main


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("COURSEKIT_CACHE", str(folder))
    return folder


def _fake_module(monkeypatch, name: str, **functions) -> None:
    module = types.ModuleType(name)
    for fn_name, fn in functions.items():
        setattr(module, fn_name, fn)
    monkeypatch.setitem(sys.modules, name, module)


def _builder(cache_folder, artifact: str):
    """A fake loader: builds ``artifact`` into the cache the first time, then just loads."""
    calls = []

    def load(**kwargs):
        calls.append(kwargs)
        folder = cache_folder / f"{artifact}-v1"
        if not (folder / ".complete").exists():
            folder.mkdir(parents=True)
            (folder / ".complete").write_text("done\n")
        return object()

    load.calls = calls
    return load


@pytest.fixture
def fakes(cache, monkeypatch):
    """Every artifact module faked: bpe and faq build, gpt raises, copywriter is missing."""
    builders = {
        "bpe": _builder(cache, "shop-bpe-4000"),
        "clf": _builder(cache, "sentiment-minilm"),
        "faq": _builder(cache, "faq-index"),
        "writer": _builder(cache, "reply-writer"),
    }

    def broken_gpt():
        raise RuntimeError("out of memory while training\nsecond line of detail")

    _fake_module(monkeypatch, "coursekit.data", verify=lambda: [])
    _fake_module(monkeypatch, "coursekit.tokenization", load_shop_bpe=builders["bpe"])
    _fake_module(monkeypatch, "coursekit.lm", load_shop_gpt=broken_gpt)
    _fake_module(monkeypatch, "coursekit.sentiment", load_classifier=builders["clf"])
    _fake_module(monkeypatch, "coursekit.retrieval", load_faq_index=builders["faq"])
    _fake_module(monkeypatch, "coursekit.assistant", load_reply_writer=builders["writer"])
    # a module that does not exist in this version of the course
    monkeypatch.setitem(sys.modules, "coursekit.copywriter", None)
    monkeypatch.setitem(sys.modules, "coursekit.post_training", None)  # notebook 10's runs: slow
    return builders


def _by_name(results):
    return {r.name: r for r in results}


def test_every_artifact_named_in_the_brief_is_prepared_in_order():
    calls = [f"{a.module}.{a.function}" for a in prepare.ARTIFACTS]
    assert calls == [
        "coursekit.tokenization.load_shop_bpe",
        "coursekit.lm.load_shop_gpt",
        "coursekit.sentiment.load_classifier",
        "coursekit.copywriter.load_copywriter",
        "coursekit.copywriter.load_words_copywriter",
        "coursekit.retrieval.load_faq_encoder",
        "coursekit.retrieval.load_cross_encoder",
        "coursekit.post_training.sentiment_results",
        "coursekit.post_training.load_assistants",
        "coursekit.post_training.dpo_results",
        "coursekit.retrieval.load_faq_index",
        "coursekit.assistant.load_reply_writer",
    ]
    clf = next(a for a in prepare.ARTIFACTS if a.name == "sentiment")
    assert clf.kwargs == {"build": True}, "the classifier is trained when missing"


def test_reports_built_then_ok_failed_and_unavailable(fakes):
    first = _by_name(prepare.prepare())
    assert first["shop data"].status == "ok"
    assert first["shop-bpe"].status == "built"
    assert "shop-bpe-4000-v1" in first["shop-bpe"].detail
    assert first["sentiment"].status == "built"
    assert fakes["clf"].calls == [{"build": True}]
    assert first["shop-gpt"].status == "failed"
    assert first["shop-gpt"].detail == (
        "coursekit.lm.load_shop_gpt(): RuntimeError: out of memory while training"
    )
    assert first["copywriter"].status == "not available"
    assert "not available in this version" in first["copywriter"].detail
    assert first["faq-index"].status == "built"
    assert first["reply-writer"].status == "built"
    assert all(r.seconds >= 0 for r in first.values())

    second = _by_name(prepare.prepare())
    assert second["shop-bpe"].status == "ok", "already in the cache: loaded, not rebuilt"
    assert second["faq-index"].status == "ok"


def test_a_failed_data_check_skips_the_builds(fakes, monkeypatch):
    _fake_module(monkeypatch, "coursekit.data", verify=lambda: ["reviews.jsonl: checksum", "x"])
    results = prepare.prepare()
    assert results[0].status == "failed"
    assert "reviews.jsonl: checksum (+1 more)" in results[0].detail
    assert "coursekit data build" in results[0].detail
    assert {r.status for r in results[1:]} == {"skipped"}
    assert fakes["bpe"].calls == [], "nothing is trained on damaged data"


def test_a_missing_dependency_inside_a_module_is_a_failure_not_unavailable(
    cache, tmp_path, monkeypatch
):
    (tmp_path / "fake_builder_module.py").write_text("import somelib_that_is_not_installed\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    artifact = prepare.Artifact("fake", "fake_builder_module", "load", "a fake", ("00",))
    result = prepare.build_one(artifact)
    assert result.status == "failed"
    assert (
        "ModuleNotFoundError" in result.detail and "somelib_that_is_not_installed" in result.detail
    )


def test_only_and_unknown_names(fakes):
    results = prepare.prepare(["faq-index"], check_data=False)
    assert [r.name for r in results] == ["faq-index"]
    with pytest.raises(ValueError, match="unknown artifact 'gpt2'; choose from: shop-bpe"):
        prepare.select(["gpt2"])


def test_cli_list_builds_nothing_and_shows_the_shared_cache_hint(fakes, cache, capsys):
    assert main(["prepare", "--list"]) == 0
    out = capsys.readouterr().out
    assert "coursekit.tokenization.load_shop_bpe()" in out
    assert "coursekit.sentiment.load_classifier(build=True)" in out
    line = next(ln for ln in out.splitlines() if "load_copywriter" in ln)
    assert "not available in this version" in line
    assert "COURSEKIT_CACHE" in out and str(cache) in out
    assert fakes["bpe"].calls == [] and not list(cache.glob("*-v1"))


def test_cli_prepare_prints_the_table_and_fails_when_a_step_failed(fakes, capsys):
    assert main(["prepare"]) == 1  # shop-gpt fails in the fakes
    out = capsys.readouterr().out
    assert "| shop-bpe " in out and "| built " in out and "| failed " in out
    assert "not available in this version of coursekit: copywriter" in out
    assert "export COURSEKIT_CACHE=" in out


def test_cli_prepare_succeeds_when_nothing_failed(fakes, capsys):
    assert main(["prepare", "--only", "shop-bpe", "faq-index"]) == 0
    assert main(["prepare", "--only", "nonsense"]) == 2
    assert "unknown artifact 'nonsense'" in capsys.readouterr().err
