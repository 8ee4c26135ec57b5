"""Call recordings on the web pages, mounted after the web routes.

=========================================  ===============================================================
``GET /web/recordings``                    supervisors: the newest recordings, any call
``GET /web/calls/{call_id}/recordings``    a call's recordings: its agent (the one who answered it) or a
                                           supervisor
``GET /web/recordings/{id}/audio``         the audio (wav): the agent on that recording's call, or a
                                           supervisor. Only files inside the call-recordings folder are
                                           served
=========================================  ===============================================================

Every other signed-in user gets 403; nobody signed in, 401.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from ivr_engine.logs import fields
from ivr_engine.recordings import store
from ivr_engine.recordings.store import RecordingItem
from ivr_engine.web.audio_files import audio_response, servable
from ivr_engine.web.context import WEB_KEY, refuse, require_user
from ivr_engine.web.ownership import own_call
from ivr_engine.web.users import Role

__all__ = ["CALL_RECORDINGS_KEY", "add_recording_routes"]

log = logging.getLogger(__name__)

CALL_RECORDINGS_KEY = web.AppKey("recordings.folder", Path)
_MAX_LISTED = 100


def add_recording_routes(app: web.Application, folder: Path) -> None:
    """``folder``: where kept call recordings are (``Settings.call_recordings_dir``)."""
    if WEB_KEY not in app:
        raise ValueError("add_recording_routes needs the web routes (add_web_routes) first")
    app[CALL_RECORDINGS_KEY] = folder.resolve()
    app.router.add_get("/web/recordings", _recent)
    app.router.add_get("/web/calls/{call_id}/recordings", _of_call)
    app.router.add_get("/web/recordings/{recording_id:\\d{1,12}}/audio", _audio)


async def _recent(request: web.Request) -> web.Response:
    require_user(request, Role.SUPERVISOR)
    items = await _read(request, lambda s: store.recent_recordings(s, _MAX_LISTED))
    return web.json_response({"recordings": [_public(i) for i in items]})


async def _of_call(request: web.Request) -> web.Response:
    user = require_user(request)
    if user.role is Role.SUPERVISOR:
        call_id = request.match_info["call_id"]
    else:
        _, _, call_id = await own_call(request)
    items = await _read(request, lambda s: store.recordings_of_call(s, call_id))
    return web.json_response({"call_id": call_id, "recordings": [_public(i) for i in items]})


async def _audio(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    recording_id = int(request.match_info["recording_id"])
    item = await _read(request, lambda s: store.recording(s, recording_id))
    if item is None:
        raise refuse(404, f"no recording {recording_id}")
    if user.role is not Role.SUPERVISOR and item.agent_id != user.agent_id:
        log.warning(fields("web.recording_refused", recording=recording_id, user=user.name))
        raise refuse(403, f"recording {recording_id} is of a call agent {user.agent_id} did not take")
    path, problem = await asyncio.to_thread(servable, item.file_path, request.app[CALL_RECORDINGS_KEY])
    if path is None:
        log.warning(fields("web.recording_audio_refused", recording=recording_id, why=problem))
        raise refuse(404, f"recording {recording_id}'s audio {problem}")
    log.info(fields("web.recording_played", recording=recording_id, call=item.call_id, user=user.name))
    return audio_response(path)


async def _read(request: web.Request, work: store.Work[store.T]) -> store.T:
    try:
        return await request.app[WEB_KEY].database.run(work)
    except SQLAlchemyError as exc:
        raise refuse(503, f"recordings are unavailable ({type(exc).__name__}); try again") from None


def _public(item: RecordingItem) -> dict[str, object]:
    """What a page gets: no server file path (the audio has its own URL)."""
    data = item.to_json()
    del data["file"]
    return data | {"audio": f"/web/recordings/{item.id}/audio"}
