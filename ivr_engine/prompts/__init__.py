"""Prompts: the catalogue of prompt texts, building them into Asterisk audio, and runtime TTS."""

from __future__ import annotations

from pathlib import Path

from ivr_engine.prompts.audio import WavInfo, convert_for_asterisk, inspect_wav
from ivr_engine.prompts.build import BuildFailure, BuildPlan, BuildReport, PromptBuilder, plan_build
from ivr_engine.prompts.catalogue import PromptCatalogue, PromptEntry, load_catalogue
from ivr_engine.prompts.errors import (
    CatalogueError,
    PromptError,
    SynthesisError,
    SynthesizerUnavailable,
    UnknownPrompt,
)
from ivr_engine.prompts.synth import EspeakSynthesizer, Synthesizer, VoiceSettings, content_hash
from ivr_engine.prompts.tts import TtsCache, default_cache_dir, sound_uri

__all__ = [
    "CATALOGUE_NAME",
    "BuildFailure",
    "BuildPlan",
    "BuildReport",
    "CatalogueError",
    "EspeakSynthesizer",
    "PromptBuilder",
    "PromptCatalogue",
    "PromptEntry",
    "PromptError",
    "SynthesisError",
    "Synthesizer",
    "SynthesizerUnavailable",
    "TtsCache",
    "UnknownPrompt",
    "VoiceSettings",
    "WavInfo",
    "catalogue_path",
    "content_hash",
    "convert_for_asterisk",
    "default_cache_dir",
    "inspect_wav",
    "load_catalogue",
    "plan_build",
    "sound_uri",
]

CATALOGUE_NAME = "prompts.yaml"


def catalogue_path(sounds_dir: Path) -> Path:
    """The catalogue file inside a sounds folder: ``<sounds_dir>/prompts.yaml``."""
    return sounds_dir / CATALOGUE_NAME
