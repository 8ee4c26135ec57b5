"""An on-disk spool for the writes a stopping service could not get into the database.

When the write-behind queue closes during a database outage, what is still queued (node events, call
starts and ends, survey answers, voicemails) is saved here as JSON lines instead of being lost; the next
``WriteBehind`` on the same database loads it in front of its own writes and removes the file once those
writes are stored. One spool per database URL, so writes never land in another database. A service
killed between storing the spooled writes and removing the file stores them again on its next start:
calls are deduplicated by id, node events would appear twice.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from ivr_engine.flow.ports import CallRecord, NodeEvent
from ivr_engine.privatefiles import write_private
from ivr_engine.storage.writer import CallEnded, CallStarted, SurveyAnswer, VoicemailLeft, Write

__all__ = ["WriteSpool", "decode_write", "encode_write", "spool_for"]

log = logging.getLogger(__name__)

_KINDS: dict[str, type[Any]] = {
    cls.__name__: cls for cls in (NodeEvent, CallStarted, CallEnded, SurveyAnswer, VoicemailLeft)
}
_DATETIME_TYPES = ("datetime", "datetime | None")


def encode_write(write: Write) -> str:
    """One write as a JSON line: ``kind`` plus its fields (times in ISO 8601)."""
    if isinstance(write, CallStarted):
        body = {**dataclasses.asdict(write.call), "node": write.node}
    else:
        body = dataclasses.asdict(write)
    return json.dumps({"kind": type(write).__name__, **body}, default=_iso, ensure_ascii=False)


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


class WriteSpool:
    """The spool file at ``path``: ``save`` replaces it atomically, ``load`` reads it back."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> list[Write]:
        """The spooled writes in order ([] without a file); a damaged line is logged and skipped."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        writes: list[Write] = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                writes.append(decode_write(line))
            except (ValueError, KeyError, TypeError) as exc:
                log.error("%s:%d: not a spooled write, skipped (%s)", self.path, number, exc)
        return writes

    def save(self, writes: Sequence[Write]) -> None:
        """Replace the spool with ``writes`` (no file when there are none); OSError if it cannot."""
        if not writes:
            self.clear()
            return
        write_private(self.path, "".join(encode_write(write) + "\n" for write in writes))

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def spool_for(state_dir: Path, url: URL) -> WriteSpool:
    """The spool of the database at ``url`` in ``state_dir``/spool (named by a hash of the URL)."""
    key = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:12]
    return WriteSpool(state_dir / "spool" / f"writes-{url.get_backend_name()}-{key}.jsonl")
