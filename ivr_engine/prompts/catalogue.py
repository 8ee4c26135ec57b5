"""The prompt catalogue: ``sounds/prompts.yaml`` maps each language to its prompt ids and texts.

Format::

    en:
      welcome: "Welcome to the service."
      main_menu: "For your balance, press 1."

Built audio for a prompt lives at ``<sounds_dir>/<lang>/<prompt_id>.wav`` (``sounds_dir`` defaults to
the catalogue's own folder).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import yaml

from ivr_engine.prompts.errors import CatalogueError, UnknownPrompt

__all__ = ["LANG_PATTERN", "PROMPT_ID_PATTERN", "PromptCatalogue", "PromptEntry", "load_catalogue"]

PROMPT_ID_PATTERN = re.compile(r"[a-z0-9_]+")
LANG_PATTERN = re.compile(r"[a-z]{2,3}(?:[-_][a-z0-9]{2,8})*")


@dataclass(frozen=True)
class PromptEntry:
    """One prompt text in one language, with the catalogue line it came from."""

    id: str
    lang: str
    text: str
    line: int


@dataclass(frozen=True)
class PromptCatalogue:
    """Prompt texts by language and id, in catalogue order; read-only."""

    path: Path
    sounds_dir: Path
    prompts: Mapping[str, Mapping[str, PromptEntry]]

    def languages(self) -> list[str]:
        return list(self.prompts)

    def ids(self, lang: str) -> list[str]:
        return list(self.prompts.get(lang, {}))

    def entries(self, lang: str) -> list[PromptEntry]:
        return list(self.prompts.get(lang, {}).values())

    def has(self, prompt_id: str, lang: str) -> bool:
        return prompt_id in self.prompts.get(lang, {})

    def entry(self, prompt_id: str, lang: str) -> PromptEntry:
        try:
            return self.prompts[lang][prompt_id]
        except KeyError:
            raise UnknownPrompt(prompt_id, lang) from None

    def text(self, prompt_id: str, lang: str) -> str:
        return self.entry(prompt_id, lang).text

    def lang_dir(self, lang: str) -> Path:
        if not LANG_PATTERN.fullmatch(lang):
            raise UnknownPrompt("*", lang)
        return self.sounds_dir / lang

    def wav_path(self, prompt_id: str, lang: str) -> Path:
        """Where the built audio for this prompt lives (whether or not it has been built)."""
        if not PROMPT_ID_PATTERN.fullmatch(prompt_id):
            raise UnknownPrompt(prompt_id, lang)
        return self.lang_dir(lang) / f"{prompt_id}.wav"

    def missing_audio(self, lang: str) -> list[str]:
        """Catalogue ids in ``lang`` whose wav has not been built."""
        return [pid for pid in self.ids(lang) if not self.wav_path(pid, lang).is_file()]


def load_catalogue(path: Path, sounds_dir: Path | None = None) -> PromptCatalogue:
    """Read and check a catalogue file; raises ``CatalogueError`` naming file:line on any fault."""
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogueError(path, "prompt catalogue not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(path, f"cannot read: {exc}") from None
    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogueError(path, f"not valid YAML: {problem}", line) from None
    prompts: dict[str, Mapping[str, PromptEntry]] = {}
    if root is None:
        return PromptCatalogue(path, sounds_dir or path.parent, MappingProxyType(prompts))
    if not isinstance(root, yaml.MappingNode):
        raise CatalogueError(path, "expected a mapping of language -> {prompt_id: text}", _line(root))
    for lang_node, body in root.value:
        lang = _key(path, lang_node, "language code")
        if not LANG_PATTERN.fullmatch(lang):
            raise CatalogueError(
                path, f"language {lang!r} is not a language code such as 'en' or 'pt_br'", _line(lang_node)
            )
        if lang in prompts:
            raise CatalogueError(path, f"language {lang!r} appears twice", _line(lang_node))
        prompts[lang] = MappingProxyType(_prompts(path, lang, body))
    return PromptCatalogue(path, sounds_dir or path.parent, MappingProxyType(prompts))


def _prompts(path: Path, lang: str, body: yaml.Node) -> dict[str, PromptEntry]:
    if not isinstance(body, yaml.MappingNode):
        raise CatalogueError(path, f"language {lang!r}: expected a mapping of prompt_id -> text", _line(body))
    entries: dict[str, PromptEntry] = {}
    for id_node, text_node in body.value:
        prompt_id = _key(path, id_node, "prompt id")
        line = _line(id_node)
        if not PROMPT_ID_PATTERN.fullmatch(prompt_id):
            raise CatalogueError(
                path, f"prompt id {prompt_id!r} may use only a-z, 0-9 and _ (it names a file)", line
            )
        if prompt_id in entries:
            raise CatalogueError(path, f"prompt {prompt_id!r} appears twice in {lang!r}", line)
        if not isinstance(text_node, yaml.ScalarNode) or text_node.tag.endswith(":null"):
            raise CatalogueError(path, f"prompt {prompt_id!r}: the text must be a single string", line)
        text = " ".join(str(text_node.value).split())
        if not text:
            raise CatalogueError(path, f"prompt {prompt_id!r} has no text", line)
        entries[prompt_id] = PromptEntry(prompt_id, lang, text, line)
    return entries


def _key(path: Path, node: yaml.Node, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise CatalogueError(path, f"a {what} must be a plain name", _line(node))
    return str(node.value)


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1
