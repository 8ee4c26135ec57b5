"""Writes as JSON lines, for the write journal and the dead letters (times in ISO 8601)."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

import orjson

from ivr_engine.flow.ports import CallRecord, NodeEntry, NodeEvent
from ivr_engine.storage.writes import CallEnded, CallStarted, SurveyAnswer, VoicemailLeft, Write

__all__ = ["decode_write", "encode_write"]

_KINDS: dict[str, type[Any]] = {
    cls.__name__: cls for cls in (NodeEvent, NodeEntry, CallStarted, CallEnded, SurveyAnswer, VoicemailLeft)
}
_DATETIME_TYPES = ("datetime", "datetime | None")


def encode_write(write: Write) -> str:
    """One write as a JSON line: ``kind`` plus its fields (times in ISO 8601), in ASCII."""
    body = {**_fields(write.call), "node": write.node} if isinstance(write, CallStarted) else _fields(write)
    data = {"kind": type(write).__name__, **body}
    # orjson first (every call step is one write: json.dumps was 4.5% of the service's samples); its
    # datetimes are ISO 8601 as ``isoformat`` writes them. Only an ASCII line is taken: orjson writes other
    # characters as UTF-8, and a journal line must survive a UTF-8 file read back with ``splitlines``
    # (U+2028, U+0085 split it) and a caller id with a lone surrogate (orjson refuses it), which the
    # ASCII escapes of json.dumps do.
    try:
        line = orjson.dumps(data)
    except TypeError:  # orjson.JSONEncodeError
        line = None
    if line is not None and line.isascii():
        return line.decode("ascii")
    return json.dumps(data, default=_iso)


def _fields(write: Any) -> dict[str, Any]:
    """A write's fields, shallow (``dataclasses.asdict`` deep-copies every value: a hot spot under load);
    every field of a write is a str, int, None or datetime."""
    names = _FIELD_NAMES.get(type(write))
    if names is None:
        names = _FIELD_NAMES[type(write)] = tuple(f.name for f in dataclasses.fields(write))
    return {name: getattr(write, name) for name in names}


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {}


def decode_write(line: str) -> Write:
    """The write ``encode_write`` made; ValueError (or KeyError, TypeError) for anything else."""
    data = json.loads(line)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    kind = _KINDS[data.pop("kind")]
    if kind is CallStarted:
        node = data.pop("node", None)  # absent in spools written before calls.node
        return CallStarted(CallRecord(**_values(CallRecord, data)), node if isinstance(node, str) else None)
    write: Write = kind(**_values(kind, data))
    return write


def _values(target: type[Any], data: dict[str, Any]) -> dict[str, Any]:
    return {f.name: _parse(f, data[f.name]) for f in dataclasses.fields(target)}


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot spool a {type(value).__name__}")


def _parse(field: dataclasses.Field[Any], value: Any) -> Any:
    if isinstance(value, str) and (field.type is datetime or field.type in _DATETIME_TYPES):
        return datetime.fromisoformat(value)
    return value


