"""Serving recorded audio (voicemails, call recordings): only a file inside its folder, never cached."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

__all__ = ["audio_response", "servable"]


def servable(file_path: str, folder: Path) -> tuple[Path | None, str]:
    """The file if it may be served (inside ``folder`` once links are resolved, and there), else None and
    why not."""
    path = Path(file_path).resolve()
    if not path.is_relative_to(folder.resolve()):
        return None, "is not in the recordings folder"
    if not path.is_file():
        return None, "file is missing"
    return path, ""


def audio_response(path: Path) -> web.FileResponse:
    """The WAV file for a page's audio element; the browser keeps no copy."""
    return web.FileResponse(path, headers={"Content-Type": "audio/wav", "Cache-Control": "no-store"})
