"""The voicemail inbox on the web pages (agents and supervisors), mounted after the web routes.

=====================================  ==================================================================
``GET  /web/voicemails``               the messages not closed yet, newest first (signed in)
``GET  /web/voicemails/{id}/audio``    the message's audio (wav); marks it heard. Only files inside the
                                       recordings folder are served
``POST /web/voicemails/{id}/close``    ``{}``: closed by the signed-in user
=====================================  ==================================================================
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from ivr_engine.control.app import CLOCK_KEY
from ivr_engine.logs import fields
from ivr_engine.voicemail import inbox
from ivr_engine.voicemail.errors import NoSuchVoicemail, VoicemailError
from ivr_engine.web.audio_files import audio_response, servable
from ivr_engine.web.context import WEB_KEY, json_body, refuse, require_user

__all__ = ["RECORDINGS_KEY", "add_voicemail_routes"]

log = logging.getLogger(__name__)

RECORDINGS_KEY = web.AppKey("voicemail.recordings", Path)
_MAX_LISTED = 100


def add_voicemail_routes(app: web.Application, recordings: Path) -> None:
    """``recordings``: the folder the audio files must be in (Asterisk's recording spool)."""
    if WEB_KEY not in app:
        raise ValueError("add_voicemail_routes needs the web routes (add_web_routes) first")
    app[RECORDINGS_KEY] = recordings.resolve()
    app.router.add_get("/web/voicemails", _list)
    app.router.add_get("/web/voicemails/{voicemail_id:\\d{1,12}}/audio", _audio)
    app.router.add_post("/web/voicemails/{voicemail_id:\\d{1,12}}/close", _close)


async def _list(request: web.Request) -> web.Response:
    require_user(request)
    which = inbox.InboxFilter(limit=_MAX_LISTED)
    items = await _unit(request, lambda s: inbox.list_voicemails(s, which))
    return web.json_response({"voicemails": [_public(i.to_json()) for i in items]})


async def _audio(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    voicemail_id = int(request.match_info["voicemail_id"])
    item = await _unit(request, lambda s: inbox.mark_heard(s, voicemail_id))
    path, problem = await asyncio.to_thread(servable, item.file_path, request.app[RECORDINGS_KEY])
    if path is None:
        log.warning(fields("web.voicemail_audio_refused", voicemail=voicemail_id, user=user.name,
                           why=problem))
        raise refuse(404, f"voicemail {voicemail_id}'s audio {problem}")
    return audio_response(path)


async def _close(request: web.Request) -> web.Response:
    user = require_user(request)
    await json_body(request)
    voicemail_id = int(request.match_info["voicemail_id"])
    now = datetime.fromtimestamp(request.app[CLOCK_KEY](), UTC)
    item = await _unit(request, lambda s: inbox.close(s, voicemail_id, user.name, now))
    return web.json_response(_public(item.to_json()))


async def _unit(request: web.Request, work: inbox.Work[inbox.T]) -> inbox.T:
    try:
        return await request.app[WEB_KEY].database.run(work)
    except NoSuchVoicemail as exc:
        raise refuse(404, str(exc)) from None
    except VoicemailError as exc:
        raise refuse(409, str(exc)) from None
    except SQLAlchemyError as exc:
        raise refuse(503, f"the voicemail inbox is unavailable ({type(exc).__name__}); try again") from None


def _public(data: dict[str, object]) -> dict[str, object]:
    """What a page gets: no server file path (the audio has its own URL)."""
    return {k: v for k, v in data.items() if k != "file"} | {"audio": f"/web/voicemails/{data['id']}/audio"}
