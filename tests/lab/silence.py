"""What callers heard, read from Asterisk's full log: the gaps of silence between the files played."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ivr_engine.ari.lengths import MediaLengths

_PLAYING = re.compile(
    r"^\[(?P<at>[0-9-]+ [0-9:.]+)\] VERBOSE\[[^]]*\]\[[^]]*\] file\.c: <(?P<channel>[^>]+)> "
    r"Playing '(?P<file>[^']+)'",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Gap:
    channel: str
    after: str
    seconds: float


async def silences(full_log: Path, offset: int, core_sounds: Path) -> dict[str, list[Gap]]:
    """Per channel name, the silence between the end of each file played and the start of the next
    (the end is its start plus the file's length). Needs ``dateformat = %F %T.%3q`` (the lab's)."""
    with full_log.open("rb") as log:
        log.seek(offset)
        text = log.read().decode(errors="replace")
    lengths = MediaLengths(core_sounds)
    played: dict[str, list[tuple[datetime, str]]] = {}
    for match in _PLAYING.finditer(text):
        at = datetime.strptime(match["at"], "%Y-%m-%d %H:%M:%S.%f")
        played.setdefault(match["channel"], []).append((at, match["file"]))
    gaps: dict[str, list[Gap]] = {}
    for channel, files in played.items():
        gaps[channel] = []
        for (at, name), (next_at, _) in itertools.pairwise(files):
            stem = name.rsplit(".", 1)[0]
            length = await lengths.seconds([f"sound:{stem}"])
            gaps[channel].append(Gap(channel, name, (next_at - at).total_seconds() - length))
    return gaps
