"""The build manifest: which prompt wavs in a language folder we built, from which content hash.

It sits next to the audio (``<sounds_dir>/<lang>/manifest.json``) and is git-ignored with it. Only
prompts listed here are ever deleted as stale, so hand-placed recordings in the folder are safe.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from ivr_engine.prompts.errors import PromptError

__all__ = ["MANIFEST_NAME", "read_manifest", "write_manifest"]

MANIFEST_NAME = "manifest.json"
_VERSION = 1


def read_manifest(lang_dir: Path) -> dict[str, str]:
    """Prompt id -> content hash of its built wav; empty when nothing was built yet."""
    path = lang_dir / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise PromptError(f"{path}: unreadable build manifest ({exc}); delete it to rebuild") from exc
    prompts = data.get("prompts") if isinstance(data, dict) else None
    if not isinstance(prompts, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in prompts.items()
    ):
        raise PromptError(f"{path}: malformed build manifest; delete it to rebuild")
    return dict(prompts)


def write_manifest(lang_dir: Path, hashes: Mapping[str, str]) -> None:
    """Replace the manifest atomically, so an interrupted build never leaves half a file."""
    lang_dir.mkdir(parents=True, exist_ok=True)
    path = lang_dir / MANIFEST_NAME
    staged = path.with_name(f".{MANIFEST_NAME}.{os.getpid()}.tmp")
    body = {"version": _VERSION, "prompts": dict(sorted(hashes.items()))}
    staged.write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")
    os.replace(staged, path)
