"""What the fake ARI was told to do to one caller's audio, in order (for the hold tests)."""

from __future__ import annotations

from ivr_engine.ari.fake import FakeAri

MUSIC_ON, MUSIC_OFF, BRIDGED = "music on", "music off", "bridged"


def timeline(fake: FakeAri, channel_id: str) -> list[str]:
    """Each playback's media, ``MUSIC_ON`` (class default) / ``MUSIC_OFF``, and ``BRIDGED`` when the
    channel was added to a bridge, in request order."""
    steps: list[str] = []
    for r in fake.requests:
        if r.method == "POST" and r.path.startswith(f"/channels/{channel_id}/play/"):
            steps.append(r.params["media"])
        elif r.path == f"/channels/{channel_id}/moh":
            if r.method == "DELETE":
                steps.append(MUSIC_OFF)
            else:
                steps.append(MUSIC_ON if r.params.get("mohClass") == "default" else f"moh {r.params}")
        elif r.path.endswith("/addChannel") and channel_id in r.params["channel"].split(","):
            steps.append(BRIDGED)
    return steps


def music_during_prompts(steps: list[str]) -> list[str]:
    """Every step that started while the music was still on (the hold loop allows none)."""
    music, clashes = False, []
    for step in steps:
        if step in (MUSIC_ON, MUSIC_OFF):
            music = step == MUSIC_ON
        elif music:
            clashes.append(step)
    return clashes
