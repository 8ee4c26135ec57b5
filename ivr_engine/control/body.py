"""Request bodies: the one place a JSON body is read, decoded and parsed, for the control API and the pages.

:func:`read_json_object` reads the whole body (however many TCP segments it arrives in) up to
``MAX_BODY_BYTES``, requires ``Content-Type: application/json`` (UTF-8: no other ``charset``) for a
non-empty body, decodes it as strict UTF-8 and parses it with limits a hostile client cannot push past:
nesting depth, digits per number, no NaN/Infinity, no lone surrogate or NUL in any text. Every failure is
a :class:`~ivr_engine.control.http_errors.Refusal`: 413 too large, 415 not JSON or not UTF-8, 400
malformed. An empty body is an empty object.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import hdrs, web

from ivr_engine.control.http_errors import Refusal

__all__ = ["MAX_BODY_BYTES", "MAX_DEPTH", "MAX_NUMBER_CHARS", "parse_json_object", "read_json_object"]

MAX_BODY_BYTES = 16 * 1024
MAX_DEPTH = 32
"""Arrays and objects nested deeper than this are refused (the stdlib parser recurses per level)."""
MAX_NUMBER_CHARS = 64
"""Longer numbers are refused (Python refuses int-from-text past 4300 digits with a ValueError)."""

_JSON_TYPE = "application/json"
_UTF8 = frozenset({"utf-8", "utf8"})
_SPECIAL = re.compile(r'["\\\[\]{}]')


async def read_json_object(request: web.Request, *, max_bytes: int = MAX_BODY_BYTES) -> Mapping[str, Any]:
    """The body's JSON object (``{}`` for an empty body); raises :class:`Refusal` (400/413/415)."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise _too_large(max_bytes)
    raw = await _read_capped(request, max_bytes)
    if not raw.strip():
        return {}
    _check_type(request)
    return parse_json_object(raw)


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """``raw`` (UTF-8 JSON) as an object, within the limits above; raises :class:`Refusal` (400)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refusal(400, f"the request body is not valid UTF-8 (byte {exc.start})") from None
    if _depth(text) > MAX_DEPTH:
        raise Refusal(400, f"the request body nests arrays or objects deeper than {MAX_DEPTH} levels")
    try:
        data = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise Refusal(400, f"the request body is not valid JSON: {exc.msg} at line {exc.lineno} "
                           f"column {exc.colno}") from None
    if not isinstance(data, dict):
        raise Refusal(400, "the request body must be a JSON object")
    _check_text(data)
    return data


async def _read_capped(request: web.Request, max_bytes: int) -> bytes:
    """Every byte of the body, reading until its end; 413 once it passes ``max_bytes``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(max_bytes + 1 - size)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)


def _too_large(max_bytes: int) -> Refusal:
    return Refusal(413, f"the request body is larger than {max_bytes} bytes")


def _check_type(request: web.Request) -> None:
    if hdrs.CONTENT_TYPE not in request.headers or request.content_type != _JSON_TYPE:
        raise Refusal(415, "send the request body as JSON (Content-Type: application/json)")
    charset = request.charset
    if charset is not None and charset.lower() not in _UTF8:
        raise Refusal(415, "the request body must be UTF-8 JSON (no other charset)")


def _depth(text: str) -> int:
    """How deeply arrays and objects nest in ``text`` (brackets inside strings not counted); one pass,
    stopping as soon as the limit is passed."""
    depth = deepest = 0
    in_string = False
    escaped = -1  # the index of the character after a backslash inside a string
    for match in _SPECIAL.finditer(text):
        char, at = match.group(), match.start()
        if in_string:
            if at == escaped:
                continue
            if char == "\\":
                escaped = at + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    break
        else:
            depth -= 1
    return deepest


def _number_text(text: str) -> str:
    if len(text) > MAX_NUMBER_CHARS:
        raise Refusal(400, f"a number in the request body is longer than {MAX_NUMBER_CHARS} characters")
    return text


def _int(text: str) -> int:
    return int(_number_text(text))


def _float(text: str) -> float:
    value = float(_number_text(text))
    if not math.isfinite(value):
        raise Refusal(400, f"the number {text} in the request body is out of range")
    return value


def _constant(name: str) -> float:
    raise Refusal(400, f"{name} is not JSON; send a number or null")


def _check_text(value: object) -> None:
    """Refuse text no store can keep: a lone surrogate (``"\\ud800"``) or a NUL character."""
    if isinstance(value, str):
        if "\x00" in value:
            raise Refusal(400, "text in the request body holds a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Refusal(400, "text in the request body holds a lone surrogate (\\ud800-\\udfff)") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)
