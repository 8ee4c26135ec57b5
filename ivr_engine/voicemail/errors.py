"""What the voicemail inbox refuses."""

from __future__ import annotations

__all__ = ["NoSuchVoicemail", "VoicemailError"]


class VoicemailError(Exception):
    """An inbox operation refused, with a sentence for the person who asked."""


class NoSuchVoicemail(VoicemailError):
    def __init__(self, voicemail_id: int) -> None:
        super().__init__(f"no voicemail {voicemail_id} (see `ivr voicemail list`)")
        self.voicemail_id = voicemail_id
