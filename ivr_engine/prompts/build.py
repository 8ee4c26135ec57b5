"""Building the prompt catalogue into audio: plan what changed (pure), then synthesise it.

A prompt is rebuilt when its content hash (text, language, voice settings) differs from the manifest's,
when its wav is gone, or when forced; prompts that left the catalogue have their wav removed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ivr_engine.prompts.catalogue import PromptCatalogue, PromptEntry
from ivr_engine.prompts.errors import PromptError, SynthesizerUnavailable
from ivr_engine.prompts.manifest import MANIFEST_NAME, read_manifest, write_manifest
from ivr_engine.prompts.synth import Synthesizer, content_hash

__all__ = ["BuildFailure", "BuildPlan", "BuildReport", "PromptBuilder", "plan_build"]


@dataclass(frozen=True)
class BuildPlan:
    """What one language's build will do."""

    lang: str
    to_build: tuple[PromptEntry, ...]
    unchanged: tuple[str, ...]
    stale: tuple[str, ...]
    hashes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildFailure:
    prompt_id: str
    lang: str
    reason: str


@dataclass(frozen=True)
class BuildReport:
    """What a build did, for the summary line."""

    built: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    failed: tuple[BuildFailure, ...] = ()
    removed: tuple[str, ...] = ()

    def __add__(self, other: BuildReport) -> BuildReport:
        return BuildReport(
            self.built + other.built,
            self.unchanged + other.unchanged,
            self.failed + other.failed,
            self.removed + other.removed,
        )

    def summary(self) -> str:
        line = f"{len(self.built)} built, {len(self.unchanged)} unchanged, {len(self.failed)} failed"
        if self.removed:
            line += f"; removed {len(self.removed)} stale: {', '.join(self.removed)}"
        return line


def plan_build(
    entries: Sequence[PromptEntry],
    lang: str,
    manifest: Mapping[str, str],
    present: Collection[str],
    voice_key: str,
    force: bool = False,
) -> BuildPlan:
    """Decide, without touching disk, which prompts to synthesise, keep, and remove.

    ``manifest`` is id -> hash of what was built; ``present`` the ids whose wav exists now.
    """
    hashes = {e.id: content_hash(e.text, lang, voice_key) for e in entries}
    to_build = tuple(
        e for e in entries if force or e.id not in present or manifest.get(e.id) != hashes[e.id]
    )
    rebuilding = {e.id for e in to_build}
    unchanged = tuple(e.id for e in entries if e.id not in rebuilding)
    stale = tuple(sorted(pid for pid in manifest if pid not in hashes))
    return BuildPlan(lang, to_build, unchanged, stale, hashes)


class PromptBuilder:
    """Synthesises a catalogue into ``<sounds_dir>/<lang>/<id>.wav`` with a manifest per language."""

    def __init__(self, catalogue: PromptCatalogue, synthesizer: Synthesizer) -> None:
        self.catalogue = catalogue
        self.synthesizer = synthesizer

    def languages(self) -> list[str]:
        """Catalogue languages, then built languages that left the catalogue (their audio is stale)."""
        langs = self.catalogue.languages()
        if self.catalogue.sounds_dir.is_dir():
            for manifest in sorted(self.catalogue.sounds_dir.glob(f"*/{MANIFEST_NAME}")):
                lang = manifest.parent.name
                if lang not in langs:
                    langs.append(lang)
        return langs

    def plan(self, lang: str, force: bool = False) -> BuildPlan:
        lang_dir = self.catalogue.lang_dir(lang)
        entries = self.catalogue.entries(lang)
        present = {e.id for e in entries if self.catalogue.wav_path(e.id, lang).is_file()}
        voice_key = self.synthesizer.voice_key(lang) if entries else ""
        return plan_build(entries, lang, read_manifest(lang_dir), present, voice_key, force)

    def execute(
        self, plan: BuildPlan, on_prompt: Callable[[PromptEntry], None] | None = None
    ) -> BuildReport:
        """Remove stale audio, synthesise what the plan says; the manifest is saved even if interrupted."""
        lang_dir = self.catalogue.lang_dir(plan.lang)
        kept = dict(read_manifest(lang_dir))
        for prompt_id in plan.stale:
            self._wav(prompt_id, plan.lang).unlink(missing_ok=True)
            kept.pop(prompt_id, None)
        built: list[str] = []
        failed: list[BuildFailure] = []
        try:
            for entry in plan.to_build:
                kept.pop(entry.id, None)
                try:
                    self.synthesizer.synthesize(entry.text, plan.lang, self._wav(entry.id, plan.lang))
                except SynthesizerUnavailable:
                    raise
                except PromptError as exc:
                    failed.append(BuildFailure(entry.id, plan.lang, str(exc)))
                else:
                    kept[entry.id] = plan.hashes[entry.id]
                    built.append(entry.id)
                if on_prompt is not None:
                    on_prompt(entry)
        finally:
            self._save(lang_dir, plan.lang, kept)
        return BuildReport(tuple(built), plan.unchanged, tuple(failed), plan.stale)

    def _wav(self, prompt_id: str, lang: str) -> Path:
        return self.catalogue.wav_path(prompt_id, lang)

    def _save(self, lang_dir: Path, lang: str, hashes: Mapping[str, str]) -> None:
        if hashes or lang in self.catalogue.prompts:
            write_manifest(lang_dir, hashes)
            return
        (lang_dir / MANIFEST_NAME).unlink(missing_ok=True)
        if lang_dir.is_dir() and not any(lang_dir.iterdir()):
            lang_dir.rmdir()
