"""Server-sent events as a test reads them: each event's name and its JSON data, in order."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

Heard = tuple[str, dict[str, Any]]
"""One server-sent event: its name and its JSON data."""


async def sse_events(response: aiohttp.ClientResponse) -> AsyncIterator[Heard]:
    """Every event of ``response``'s stream as it comes (comments and keep-alives skipped)."""
    name, data = "", ""
    async for raw in response.content:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = line.removeprefix("data: ")
        elif not line and data:
            yield name, json.loads(data)
            name, data = "", ""
