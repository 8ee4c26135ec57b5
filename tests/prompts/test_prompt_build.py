from __future__ import annotations

import json
from pathlib import Path

import pytest

from ivr_engine.prompts import (
    EspeakSynthesizer,
    PromptBuilder,
    PromptEntry,
    SynthesizerUnavailable,
    WavInfo,
    content_hash,
    inspect_wav,
    load_catalogue,
    plan_build,
)

from .conftest import CatalogueWriter, FakeSynthesizer

TWO = """\
en:
  welcome: "Welcome."
  goodbye: "Goodbye."
"""


def build(path: Path, synth: FakeSynthesizer | EspeakSynthesizer, force: bool = False) -> PromptBuilder:
    builder = PromptBuilder(load_catalogue(path), synth)
    for lang in builder.languages():
        builder.execute(builder.plan(lang, force=force))
    return builder


def test_build_writes_asterisk_playable_speech(
    write_catalogue: CatalogueWriter, sounds_dir: Path, espeak: EspeakSynthesizer
) -> None:
    path = write_catalogue('en:\n  welcome: "Welcome to the account balance service."\n')
    builder = PromptBuilder(load_catalogue(path), espeak)
    report = builder.execute(builder.plan("en"))
    assert report.built == ("welcome",)
    info = inspect_wav(sounds_dir / "en" / "welcome.wav")
    assert (info.rate, info.channels, info.sample_width) == (8000, 1, 2)
    assert info.seconds > 1.0
    assert info.rms > 300, "the prompt is (nearly) silent"


def test_espeak_speaks_other_languages_and_refuses_unknown_ones(
    tmp_path: Path, espeak: EspeakSynthesizer
) -> None:
    info = espeak.synthesize("Bienvenido al servicio.", "es", tmp_path / "es.wav")
    assert info.playable_by_asterisk
    assert info.rms > 300
    from ivr_engine.prompts import SynthesisError

    with pytest.raises(SynthesisError, match="no voice for language 'qq'"):
        espeak.synthesize("hello", "qq", tmp_path / "qq.wav")
    assert not (tmp_path / "qq.wav").exists()


def test_second_build_skips_unchanged(write_catalogue: CatalogueWriter, fake_synth: FakeSynthesizer) -> None:
    path = write_catalogue(TWO)
    build(path, fake_synth)
    assert sorted(fake_synth.texts()) == ["Goodbye.", "Welcome."]
    builder = PromptBuilder(load_catalogue(path), fake_synth)
    report = builder.execute(builder.plan("en"))
    assert report.built == ()
    assert report.unchanged == ("welcome", "goodbye")
    assert len(fake_synth.calls) == 2
    assert report.summary() == "0 built, 2 unchanged, 0 failed"


def test_changed_text_rebuilds_only_that_prompt(
    write_catalogue: CatalogueWriter, fake_synth: FakeSynthesizer
) -> None:
    path = write_catalogue(TWO)
    build(path, fake_synth)
    write_catalogue(TWO.replace("Goodbye.", "Goodbye, and thank you."))
    builder = PromptBuilder(load_catalogue(path), fake_synth)
    report = builder.execute(builder.plan("en"))
    assert report.built == ("goodbye",)
    assert report.unchanged == ("welcome",)
    assert fake_synth.texts()[-1] == "Goodbye, and thank you."
    assert len(fake_synth.calls) == 3


def test_deleted_wav_and_force_rebuild(
    write_catalogue: CatalogueWriter, sounds_dir: Path, fake_synth: FakeSynthesizer
) -> None:
    path = write_catalogue(TWO)
    build(path, fake_synth)
    (sounds_dir / "en" / "welcome.wav").unlink()
    builder = PromptBuilder(load_catalogue(path), fake_synth)
    assert [e.id for e in builder.plan("en").to_build] == ["welcome"]
    assert [e.id for e in builder.plan("en", force=True).to_build] == ["welcome", "goodbye"]


def test_removed_prompt_loses_its_wav_but_foreign_files_stay(
    write_catalogue: CatalogueWriter, sounds_dir: Path, fake_synth: FakeSynthesizer
) -> None:
    path = write_catalogue(TWO)
    build(path, fake_synth)
    hand_made = sounds_dir / "en" / "studio_recording.wav"
    hand_made.write_bytes(b"RIFF")
    write_catalogue('en:\n  welcome: "Welcome."\n')
    builder = PromptBuilder(load_catalogue(path), fake_synth)
    report = builder.execute(builder.plan("en"))
    assert report.removed == ("goodbye",)
    assert "removed 1 stale: goodbye" in report.summary()
    assert not (sounds_dir / "en" / "goodbye.wav").exists()
    assert (sounds_dir / "en" / "welcome.wav").exists()
    assert hand_made.exists()
    manifest = json.loads((sounds_dir / "en" / "manifest.json").read_text())
    assert list(manifest["prompts"]) == ["welcome"]


def test_language_dropped_from_catalogue_is_cleaned_up(
    write_catalogue: CatalogueWriter, sounds_dir: Path, fake_synth: FakeSynthesizer
) -> None:
    path = write_catalogue(TWO + 'es:\n  welcome: "Bienvenido."\n')
    build(path, fake_synth)
    assert (sounds_dir / "es" / "welcome.wav").exists()
    write_catalogue(TWO)
    builder = build(path, fake_synth)
    assert builder.languages() == ["en"]
    assert not (sounds_dir / "es").exists()


def test_failed_prompt_is_reported_and_retried_next_build(
    write_catalogue: CatalogueWriter, sounds_dir: Path
) -> None:
    path = write_catalogue(TWO)
    failing = FakeSynthesizer(fail_on="Goodbye")
    builder = PromptBuilder(load_catalogue(path), failing)
    report = builder.execute(builder.plan("en"))
    assert report.built == ("welcome",)
    assert [(f.prompt_id, f.lang) for f in report.failed] == [("goodbye", "en")]
    assert "fake failure" in report.failed[0].reason
    assert report.summary() == "1 built, 0 unchanged, 1 failed"
    healthy = FakeSynthesizer()
    builder = PromptBuilder(load_catalogue(path), healthy)
    assert builder.execute(builder.plan("en")).built == ("goodbye",)
    assert healthy.texts() == ["Goodbye."]


def test_unavailable_synthesiser_stops_the_build(write_catalogue: CatalogueWriter) -> None:
    class Missing(FakeSynthesizer):
        def synthesize(self, text: str, lang: str, target: Path) -> WavInfo:
            raise SynthesizerUnavailable("pyttsx3 cannot start espeak-ng: run sip-lab/install")

    builder = PromptBuilder(load_catalogue(write_catalogue(TWO)), Missing())
    with pytest.raises(SynthesizerUnavailable, match="run sip-lab/install"):
        builder.execute(builder.plan("en"))


def test_plan_is_pure_and_hash_covers_text_lang_and_voice() -> None:
    entries = [PromptEntry("a", "en", "Hello.", 2), PromptEntry("b", "en", "Bye.", 3)]
    manifest = {"a": content_hash("Hello.", "en", "v1"), "b": content_hash("Bye.", "en", "v1"), "old": "x"}
    plan = plan_build(entries, "en", manifest, {"a", "b"}, "v1")
    assert (plan.to_build, plan.unchanged, plan.stale) == ((), ("a", "b"), ("old",))
    revoiced = plan_build(entries, "en", manifest, {"a", "b"}, "v2")
    assert [e.id for e in revoiced.to_build] == ["a", "b"]
    assert content_hash("Hello.", "en", "v1") != content_hash("Hello.", "es", "v1")
